//! Deterministic ADO datasets shaped like the benchmark workloads S, M and L.
//!
//! `ferry sim gen --items N --seed S --out FILE` writes a [`crate::sim::ado::Dataset`] with N
//! work items in the proportions of workload M (`reference/api-limits-and-benchmark.md` §6.1)
//! scaled by N / 10,000: S = 1,000, M = 10,000, L = 100,000. The same seed and N always give the
//! same bytes (ChaCha8 streams, a fixed "today", no clock, no hash-map order). The file is
//! streamed item by item; a `_generator` block states the exact counts for tests.

pub mod calendar;
mod emit;
mod plan;
mod process;
mod rng;
mod text;
mod trouble;
mod write;

pub use plan::{
    LARGE_ATTACHMENT, MAX_ATTACHMENT, Person, RESOLVABLE_DOMAIN, UNRESOLVABLE_DOMAIN, type_counts,
};
pub use trouble::{OUTSIDE_BASE, RETIRED_SEVERITY};
pub use write::{Expected, generate_to_file, write_dataset};

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct GenOptions {
    /// Number of work items.
    pub items: usize,
    /// Seed of every random choice.
    pub seed: u64,
    /// The day (days since 1970-01-01) the dataset treats as today: the active sprint holds
    /// it. Fixed by default so output does not depend on the clock.
    pub today: i64,
    /// Whether to plant trouble (retired values, skip-level and outside parents; see
    /// `docs/sim-ado.md`). Off by default: the hierarchy of a dataset without trouble is clean,
    /// which the proportion tests and benchmarks rely on.
    pub trouble: bool,
}

impl GenOptions {
    /// `items` and `seed`, with today = 2026-11-23.
    pub fn new(items: usize, seed: u64) -> Self {
        Self {
            items,
            seed,
            today: calendar::days_from_civil(2026, 11, 23),
            trouble: false,
        }
    }

    /// The same options with trouble planted.
    pub fn with_trouble(self) -> Self {
        Self {
            trouble: true,
            ..self
        }
    }
}

/// The organization URL written into generated datasets.
pub const BASE_URL: &str = "https://dev.azure.com/contoso";
/// The generated project's name.
pub const PROJECT: &str = "Contoso";

/// The dataset's people, exactly as the dataset lists them (the plan without any text), so a
/// simulated Jira site can be given accounts for them (`Site::with_people`).
pub fn people(options: &GenOptions) -> Vec<Person> {
    plan::plan(options.items, options.seed, options.today).people
}

/// Generates a dataset into memory (for tests and small sizes).
pub fn generate_string(options: &GenOptions) -> anyhow::Result<(String, Expected)> {
    let mut buf = Vec::new();
    let expected = write_dataset(options, &mut buf)?;
    Ok((String::from_utf8(buf)?, expected))
}
