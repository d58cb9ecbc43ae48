//! `ferry sim …`: the simulators as standalone servers, and the dataset generator.
//!
//! Each variant is a thin call into `sim::ado`, `sim::serve` or `sim::gen`.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;

use super::ado::{self, AdoSim, AdoSimOptions, Dataset};
use super::faults::{Faults, parse_faults};
use super::r#gen::{self, GenOptions};
use super::host::HostOptions;
use super::jira::{JiraSimOptions, Site};
use super::limits::{AdoLimiter, JiraLimiter, ado_layers, parse_ado_profile, parse_jira_profile};
use super::reqlog::RequestLog;
use super::serve::jira_server;

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
    /// Serve a simulated Jira Cloud site that also plays the Connect host.
    Jira {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8082")]
        listen: SocketAddr,
        /// `EMAIL:TOKEN` accepted as Basic auth (API-token callers, as `ferry migrate` uses).
        #[arg(long, env = "FERRY_SIM_JIRA_API_USER", hide_env_values = true)]
        api_user: Option<String>,
        /// Site file (docs/sim-jira.md); the default scrum site when absent.
        #[arg(long)]
        site: Option<PathBuf>,
        /// Rate-limit profile: `jira-cloud-2026`, `jira-cloud-2026-ci`, `jira-cloud-2026-tier2`,
        /// `jira-api-token`, `unlimited`, or a .toml/.json file (docs/sim-limits.md).
        #[arg(long, default_value = "jira-cloud-2026")]
        profile: String,
        /// Faults to inject, e.g. `lost=0.01,storm429=0.01:5s,seed=7` (docs/sim-limits.md).
        #[arg(long)]
        faults: Option<String>,
        /// Search index lag in milliseconds (writes become searchable after it).
        #[arg(long, default_value_t = 0)]
        index_lag_ms: u64,
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
        /// Plant trouble a migration must report (retired Severity values, skip-level and
        /// outside parents), listed in `_generator.expected.trouble`.
        #[arg(long)]
        trouble: bool,
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
        SimCommand::Jira {
            listen,
            api_user,
            site,
            profile,
            faults,
            index_lag_ms,
        } => {
            let api_user = api_user
                .map(|pair| match pair.split_once(':') {
                    Some((email, token)) if !email.is_empty() && !token.is_empty() => {
                        Ok((email.to_owned(), token.to_owned()))
                    }
                    _ => Err(anyhow::anyhow!("--api-user must be EMAIL:TOKEN")),
                })
                .transpose()?;
            let site = match site {
                Some(path) => {
                    let text = std::fs::read_to_string(&path)
                        .with_context(|| format!("reading {}", path.display()))?;
                    Site::from_json(&text)
                        .with_context(|| format!("site file {}", path.display()))?
                }
                None => Site::default_scrum(),
            };
            let limiter = JiraLimiter::new(parse_jira_profile(&profile).context("--profile")?);
            let faults = faults
                .map(|spec| parse_faults(&spec).map(Faults::new))
                .transpose()
                .context("--faults")?;
            let listener = tokio::net::TcpListener::bind(listen)
                .await
                .with_context(|| format!("cannot listen on {listen}"))?;
            let base = url::Url::parse(&format!("http://{}", listener.local_addr()?))?;
            let options = JiraSimOptions {
                api_user,
                index_lag: std::time::Duration::from_millis(index_lag_ms),
                ..JiraSimOptions::default()
            };
            let server = jira_server(
                base.clone(),
                site,
                options,
                Some(limiter),
                faults,
                HostOptions::default(),
            )?;
            println!(
                "Jira simulator at {base} (profile {profile}); install an app with POST {base}/_sim/install {{\"descriptorUrl\": …}}"
            );
            axum::serve(listener, server.router)
                .with_graceful_shutdown(async {
                    let _ = tokio::signal::ctrl_c().await;
                })
                .await
                .context("the Jira simulator stopped")
        }
        SimCommand::Gen {
            items,
            seed,
            out,
            trouble,
        } => {
            let started = std::time::Instant::now();
            let options = GenOptions {
                trouble,
                ..GenOptions::new(items, seed)
            };
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
