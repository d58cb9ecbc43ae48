//! Simulated Azure DevOps and Jira Cloud, faithful to the official specs in `shared/specs`.
//!
//! Tests, benchmarks and `ferry demo` run against these; `ferry sim …` serves them alone.

/// The Azure DevOps simulator.
pub mod ado;
/// The `ferry sim …` subcommands.
pub mod cli;
/// Fault injection (latency, 5xx, 429 storms, resets, lost responses).
pub mod faults;
/// The deterministic dataset generator.
pub mod r#gen;
/// The Connect host role: signed installs and host pages.
pub mod host;
/// The Jira Cloud simulator: REST surface, site file, auth.
pub mod jira;
/// Jira and ADO rate limiters.
pub mod limits;
/// The request log served at `/_sim/requests`.
pub mod reqlog;
/// Whole simulated sites, assembled the same way everywhere.
pub mod serve;
