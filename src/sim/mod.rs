//! Simulated Azure DevOps and Jira Cloud, faithful to the official specs in `shared/specs`.
//!
//! Tests, benchmarks and `ferry demo` run against these; `ferry sim …` serves them alone.

/// The Azure DevOps simulator.
pub mod ado;
/// The `ferry sim …` subcommands.
pub mod cli;
/// The deterministic dataset generator.
pub mod r#gen;
