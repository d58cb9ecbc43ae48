//! Intake: connecting Azure DevOps and cataloguing a project before anything is migrated.

pub mod connect;
pub mod quote;
pub mod scan;
pub mod summarize;
