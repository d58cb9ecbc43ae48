//! Simulator infrastructure over real HTTP: limiters, faults, the request log, the host role.
//!
//! Every test serves a small router of its own on 127.0.0.1:0 behind the layers under test and
//! talks to it with reqwest, so what is asserted is what a client on the wire observes.

mod ado_limits;
mod faults;
mod helpers;
mod host;
mod jira_limits;
mod reqlog;
