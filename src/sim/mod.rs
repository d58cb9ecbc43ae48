//! Simulated Azure DevOps and Jira Cloud, faithful to the official specs in `shared/specs`.
//!
//! Tests, benchmarks and `ferry demo` run against these; `ferry sim …` serves them alone.

/// The Jira Cloud simulator: REST surface, site file, auth.
pub mod jira;
