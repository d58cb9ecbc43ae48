//! The `ferry` command line. Each subcommand is a thin call into the library.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::{app, config::Config, telemetry};

/// Moves Azure DevOps projects into Jira Cloud.
#[derive(Debug, Parser)]
#[command(name = "ferry", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the Connect app: pages, API, lifecycle and webhooks (configured by FERRY_* env).
    Serve,
    /// Run only the background workers (scans, dry runs, migrations) against the same store,
    /// for more replicas next to `ferry serve` (PostgreSQL).
    Worker,
    /// Try Ferry: the app, an ADO simulator with a generated organization and a Jira simulator
    /// hosting Ferry (a real signed install), on 127.0.0.1; prints the page to open.
    Demo {
        /// Work items in the generated Azure DevOps project.
        #[arg(long, default_value_t = 2000)]
        items: usize,
        /// Generator seed.
        #[arg(long, default_value_t = 7)]
        seed: u64,
        /// Ferry's port (0 = any free port).
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// The ADO simulator's port.
        #[arg(long, default_value_t = 8081)]
        ado_port: u16,
        /// The Jira simulator's port (the page to open is served there).
        #[arg(long, default_value_t = 8082)]
        jira_port: u16,
        /// The Jira simulator's rate-limit profile: `unlimited`, `jira-cloud-2026`,
        /// `jira-cloud-2026-ci` (docs/sim-limits.md).
        #[arg(long, default_value = "unlimited")]
        jira_profile: String,
        /// Faults on the Jira simulator, e.g. `latency=40ms` to watch a slower run.
        #[arg(long)]
        jira_faults: Option<String>,
    },
    /// Migrate from a plan file without Jira's UI (exit codes: 0 done, 1 failed, 2 bad plan or
    /// mapping, 3 mapping drafted for review, 4 paused by Ctrl-C, 5 done with failed items).
    Migrate {
        /// The plan (TOML): source, target, mapping file and state database.
        #[arg(long)]
        plan: std::path::PathBuf,
        /// Only the dry run: what would be created, skipped or refused, and why.
        #[arg(long)]
        dry_run: bool,
        /// Approve the drafted mapping without a review.
        #[arg(long)]
        accept_draft: bool,
    },
    /// Run a simulator (Azure DevOps, …) or generate a dataset for one.
    Sim {
        #[command(subcommand)]
        command: crate::sim::cli::SimCommand,
    },
}

/// Parses the command line, runs the subcommand and reports how it ended.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ferry: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Command::Migrate {
        plan,
        dry_run,
        accept_draft,
    } = &cli.command
    {
        telemetry::init(&std::env::var("FERRY_LOG").unwrap_or_else(|_| "warn".into()));
        let args = crate::headless::Args {
            plan: plan.clone(),
            dry_run: *dry_run,
            accept_draft: *accept_draft,
        };
        return runtime.block_on(crate::headless::migrate(args)).into();
    }
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Serve => {
                // Logging first, so warnings raised while loading the config are seen.
                telemetry::init(&std::env::var("FERRY_LOG").unwrap_or_else(|_| "info".into()));
                app::serve(Config::from_env()?).await
            }
            Command::Worker => {
                telemetry::init(&std::env::var("FERRY_LOG").unwrap_or_else(|_| "info".into()));
                app::work(Config::from_env()?).await
            }
            Command::Demo {
                items,
                seed,
                port,
                ado_port,
                jira_port,
                jira_profile,
                jira_faults,
            } => {
                telemetry::init(&std::env::var("FERRY_LOG").unwrap_or_else(|_| "warn".into()));
                crate::demo::run(crate::demo::DemoOptions {
                    items,
                    seed,
                    ports: (port, ado_port, jira_port),
                    jira_profile,
                    jira_faults,
                    prefill: true,
                })
                .await
            }
            Command::Sim { command } => crate::sim::cli::run(command).await,
            Command::Migrate { .. } => unreachable!("handled above"),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ferry: {e:#}");
            ExitCode::FAILURE
        }
    }
}
