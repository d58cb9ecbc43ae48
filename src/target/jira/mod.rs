//! Jira Cloud as the target of a migration: what the site looks like ([`meta`]), a client to
//! call it ([`client`]), and the reads that fill the model ([`load`], [`users`]).
//!
//! The model is plain data so the mapping, the dry run and the run phases can share one
//! snapshot of the target instead of asking Jira again for every item.

pub mod client;
mod error;
pub mod load;
pub mod meta;
mod parse;
mod path;
mod retry;
mod upload;
pub mod users;

pub use client::{JiraAuth, JiraClient};
pub use error::JiraCallError;
pub use load::load_target;
pub use meta::{
    AttachmentLimits, CreateField, FieldMeta, FieldSchema, IssueTypeMeta, JiraUser, LinkTypeMeta,
    Named, ProjectRef, SprintMeta, StatusMeta, TargetMeta, TransitionMeta, WorkflowMeta,
};
pub use retry::RetryPolicy;
pub use upload::{Upload, wire_name};
pub use users::resolve_users;
