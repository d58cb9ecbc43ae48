//! The migration target: Jira Cloud.

pub mod jira;
