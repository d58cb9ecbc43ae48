//! Simulated Azure DevOps and Jira Cloud, faithful to the official specs in `shared/specs`.
//!
//! Tests, benchmarks and `ferry demo` run against these; `ferry sim …` serves them alone.
pub mod faults;
pub mod host;
pub mod limits;
pub mod reqlog;
