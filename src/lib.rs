//! Ferry moves Azure DevOps projects into Jira Cloud, from inside Jira.
//!
//! The crate is the whole product; the `ferry` binary only parses its command line.
//! `shared/DESIGN.md` describes how the modules below fit together.

/// Application state, router assembly and the server loop.
pub mod app;
/// Command-line interface: `ferry serve | sim | …`.
pub mod cli;
/// Typed `FERRY_*` configuration.
pub mod config;
/// Atlassian Connect: descriptor, lifecycle, JWTs in and out.
pub mod connect;
/// AES-256-GCM sealing of secrets at rest.
pub mod crypto;
/// `ferry demo`: Ferry with both simulators, installed into the simulated Jira.
pub mod demo;
/// The dry run: every item through the transform, nothing written.
pub mod dryrun;
/// The run engine: claimed runs, phases, checkpoints.
pub mod engine;
/// The HTTP error type and error policy.
pub mod error;
/// `ferry migrate`: the journey without Jira's UI, from a plan file.
pub mod headless;
/// Intake: connecting Azure DevOps, scanning a project into a catalog, quoting.
pub mod intake;
/// The optional model that suggests mapping rules (OpenAI-compatible; schema metadata only).
pub mod llm;
/// Mapping: drafts, the transform and HTML→ADF (pure, no I/O).
pub mod mapping;
/// Simulators of Azure DevOps and Jira Cloud.
pub mod sim;
/// Sources of work items: Azure DevOps.
pub mod source;
/// Persistence over SQLite or PostgreSQL.
pub mod store;
/// The migration target: Jira Cloud (metadata model, REST client).
pub mod target;
/// Tracing setup.
pub mod telemetry;
/// HTTP surfaces: pages, JSON API, webhooks, health.
pub mod web;
