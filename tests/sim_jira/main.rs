//! The Jira simulator over real HTTP: contract tests against the official OpenAPI schemas and
//! one test per limit the simulator must enforce.
//!
//! Run with `FERRY_SPECS_DIR=/path/to/shared/specs` when `../shared/specs` is not beside the
//! crate.

mod agile;
mod auth;
mod contract;
mod helpers;
mod issues;
mod limits;
mod oauth;
mod search;
mod target;
