//! Atlassian Connect: the descriptor, lifecycle callbacks, and every JWT in and out.
//!
//! The rules here follow `shared/reference/connect-and-security.md`; each attack in its §8
//! catalogue that concerns the app's surface has a test under `tests/api/`.

pub mod act_as;
pub mod descriptor;
pub mod extract;
pub mod hosts;
pub mod install_keys;
pub mod jwt;
pub mod lifecycle;
pub mod outbound;
pub mod permissions;
pub mod qsh;
pub mod session;
