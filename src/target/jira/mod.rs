//! Jira Cloud as the target of a migration: what the site looks like ([`meta`]).
//!
//! The model is plain data so the mapping, the dry run and the run phases can share one
//! snapshot of the target instead of asking Jira again for every item.

pub mod meta;

pub use meta::{
    AttachmentLimits, CreateField, FieldMeta, FieldSchema, IssueTypeMeta, JiraUser, LinkTypeMeta,
    Named, ProjectRef, SprintMeta, StatusMeta, TargetMeta, TransitionMeta, WorkflowMeta,
};
