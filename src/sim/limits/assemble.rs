//! Assembly: the order in which a simulator's router is wrapped, in one place.
//!
//! Outermost first: the request log (sees every outcome, including faults), then faults
//! (a storm or 5xx costs no points, a lost write was metered), then the limiter, then the
//! simulator's routes. The log's own `/_sim/requests` and `/_sim/reset` are merged outside
//! every layer so that reading the log never counts against a limit.

use std::sync::Arc;

use axum::Router;

use super::{ado::AdoLimiter, jira::JiraLimiter};
use crate::sim::{faults::Faults, reqlog::RequestLog};

/// Wraps the Jira simulator's routes with its limiter, faults and request log.
///
/// `POST /_sim/reset` then also resets the limiter's usage and the fault RNG.
pub fn jira_layers(
    router: Router,
    limiter: Option<JiraLimiter>,
    faults: Option<Faults>,
    log: RequestLog,
) -> Router {
    let mut router = router;
    if let Some(limiter) = limiter {
        router = router.layer(limiter.layer());
        log.on_reset(Arc::new(move || limiter.reset()));
    }
    finish(router, faults, log)
}

/// Wraps the ADO simulator's routes with its TSTU limiter, faults and request log.
pub fn ado_layers(
    router: Router,
    limiter: Option<AdoLimiter>,
    faults: Option<Faults>,
    log: RequestLog,
) -> Router {
    let mut router = router;
    if let Some(limiter) = limiter {
        router = router.layer(limiter.layer());
        log.on_reset(Arc::new(move || limiter.reset()));
    }
    finish(router, faults, log)
}

fn finish(mut router: Router, faults: Option<Faults>, log: RequestLog) -> Router {
    if let Some(faults) = faults {
        router = router.layer(faults.layer());
        log.on_reset(Arc::new(move || faults.reset()));
    }
    router.layer(log.layer()).merge(log.router())
}
