//! `ferry sim …`: the simulators as standalone servers, and the dataset generator.
//!
//! Each variant is a thin call into `sim::ado` or `sim::gen`; `run` is one `match` so the
//! Jira simulator and the rate-limit and fault layers can be added as variants or options.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;

use super::ado::{self, AdoSim, AdoSimOptions, Dataset};
use super::faults::{Faults, parse_faults};
use super::limits::{AdoLimiter, ado_layers, parse_ado_profile};
use super::r#gen::{self, GenOptions};
use super::reqlog::RequestLog;

/// The `ferry sim` subcommands.
#[derive(Debug, Subcommand)]
pub enum SimCommand {
    /// Serve the Azure DevOps simulator over a dataset.
    Ado {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8081")]
        listen: SocketAddr,
        /// Dataset file (see docs/sim-ado.md), e.g. written by `ferry sim gen`.
        #[arg(long)]
        dataset: PathBuf,
        /// The personal access token clients must send as the Basic-auth password.
        #[arg(long, env = "FERRY_SIM_ADO_PAT", hide_env_values = true)]
        pat: String,
        /// TSTU throttling profile: `ado-services-2026`, `ado-services-2026-ci`, `unlimited`,
        /// or a .toml/.json file (docs/sim-limits.md).
        #[arg(long, default_value = "ado-services-2026")]
        profile: String,
        /// Faults to inject, e.g. `latency=50ms,error5xx=0.02,seed=7` (docs/sim-limits.md).
        #[arg(long)]
        faults: Option<String>,
    },
    /// Write a deterministic dataset shaped like benchmark workload S, M or L.
    Gen {
        /// Number of work items (S = 1000, M = 10000, L = 100000).
        #[arg(long)]
        items: usize,
        /// Seed: the same seed and item count always give the same bytes.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Output file.
        #[arg(long)]
        out: PathBuf,
    },
}

/// Runs one `ferry sim` subcommand to completion (servers until Ctrl-C).
pub async fn run(cmd: SimCommand) -> anyhow::Result<()> {
    match cmd {
        SimCommand::Ado {
            listen,
            dataset,
            pat,
            profile,
            faults,
        } => {
            let limiter = AdoLimiter::new(parse_ado_profile(&profile).context("--profile")?);
            let faults = faults
                .map(|spec| parse_faults(&spec).map(Faults::new))
                .transpose()
                .context("--faults")?;
            let data = tokio::task::spawn_blocking(move || Dataset::load(&dataset)).await??;
            let listener = tokio::net::TcpListener::bind(listen)
                .await
                .with_context(|| format!("cannot listen on {listen}"))?;
            let addr = listener.local_addr()?;
            let base = url::Url::parse(&format!("http://{addr}/"))?;
            let items = data.work_item_count();
            let sim = AdoSim::new(data, base, AdoSimOptions { pat });
            println!("ADO simulator: {items} work items at {}", sim.org_url());
            let app = ado_layers(ado::router(sim), Some(limiter), faults, RequestLog::new());
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = tokio::signal::ctrl_c().await;
                })
                .await
                .context("the ADO simulator stopped")
        }
        SimCommand::Gen { items, seed, out } => {
            let started = std::time::Instant::now();
            let options = GenOptions::new(items, seed);
            let expected = tokio::task::spawn_blocking(move || {
                r#gen::generate_to_file(&options, &out).map(|e| (e, out))
            })
            .await??;
            println!(
                "wrote {} ({} items, {} comments, {} attachments) in {:.1?}",
                expected.1.display(),
                expected.0.items,
                expected.0.comments,
                expected.0.attachments,
                started.elapsed()
            );
            Ok(())
        }
    }
}
