//! Atlassian Connect: the descriptor, lifecycle callbacks, and every JWT in and out.
//!
//! The rules here follow `shared/reference/connect-and-security.md`; each attack in its §8
//! catalogue has a test under `tests/api/`.

pub mod hosts;
pub mod jwt;
pub mod qsh;
pub mod session;
