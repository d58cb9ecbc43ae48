//! Azure DevOps as a source: a guarded, paced REST client and streaming extraction.

pub mod client;
pub mod extract;
pub mod guard;
pub mod models;

pub use client::{AdoClient, AdoError, Area, Flavor};
pub use extract::Scope;
pub use guard::{CheckedUrl, GuardError, SourcePolicy};
