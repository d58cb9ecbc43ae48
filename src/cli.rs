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
