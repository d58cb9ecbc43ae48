//! The hook through which a [`super::JiraClient`] asks before every attempt and reports after
//! it, so rate limits are handled where the whole app can see them (the engine's points budget,
//! shared across workers and replicas) instead of by one call sleeping blindly.
//!
//! Jira's three limiters answer 429 with a `RateLimit-Reason` each, and each needs its own
//! reaction (reference §1.2, "React by reason"): an exhausted quota pauses *every* call of the
//! pool until the reset, a burst slows *that endpoint*, a per-issue refusal delays writes to
//! *that issue* only. A governor sees the reason and the headers and does the waiting in
//! [`Governor::admit`] of the next attempt; the client just tries again.

use std::time::Duration;

use futures_util::future::BoxFuture;
use reqwest::{Method, header::HeaderMap};

use super::error::JiraCallError;

/// What Jira said about an attempt that was refused for rate (429).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Throttle {
    /// `jira-quota-global-based` or `jira-quota-tenant-based`: the pool is spent until the reset.
    Quota,
    /// `jira-burst-based` (or the concurrency reason): this endpoint is going too fast.
    Burst,
    /// `jira-per-issue-on-write`: this one issue takes no more writes for a while.
    PerIssue,
}

impl Throttle {
    /// The reaction a `RateLimit-Reason` calls for; `None` for a 429 without a known reason (a
    /// gateway), which the client retries on its own with `Retry-After` or backoff.
    pub fn from_reason(reason: Option<&str>) -> Option<Self> {
        match reason? {
            "jira-quota-global-based" | "jira-quota-tenant-based" => Some(Self::Quota),
            "jira-burst-based"
            | "jira-cost-based"
            | "jira-max-concurrent-threads-across-all-instances-per-tenant-per-user" => {
                Some(Self::Burst)
            }
            "jira-per-issue-on-write" => Some(Self::PerIssue),
            _ => None,
        }
    }
}

/// Decides when a Jira call may go, and learns from each answer.
pub trait Governor: Send + Sync {
    /// Waits until the call may be sent (points reserved, a slot free for its endpoint class,
    /// the issue not cooling down, no quota wait in force) and returns its ticket.
    fn admit<'a>(
        &'a self,
        method: &'a Method,
        path: &'a str,
    ) -> BoxFuture<'a, Result<Ticket, JiraCallError>>;

    /// Learns from an answer's headers (the quota left, the pool's size).
    fn observe<'a>(&'a self, headers: &'a HeaderMap) -> BoxFuture<'a, ()>;

    /// Records a 429 of `kind`, asked to wait `retry_after`, so that the next
    /// [`Governor::admit`] of every call it concerns waits that long. `headers` are the
    /// refusal's (a burst names its endpoint's rate).
    fn throttled<'a>(
        &'a self,
        kind: Throttle,
        method: &'a Method,
        path: &'a str,
        retry_after: Duration,
        headers: &'a HeaderMap,
    ) -> BoxFuture<'a, ()>;
}

/// What a ticket does when its call ends: given the points it cost.
pub trait Settle: Send {
    /// The call is over; it cost `points` (0 when Jira refused it for rate).
    fn settle(self: Box<Self>, points: u64, ok: bool);
    /// Points of a call that answered `body` (reads pay per object returned).
    fn points_of(&self, body: &[u8]) -> u64;
    /// Points assumed before the answer is known.
    fn estimate(&self) -> u64;
}

/// One admitted attempt. Dropped without an answer (a lost connection, a 5xx) it is charged
/// its estimate: Jira may have metered it.
pub struct Ticket(Option<Box<dyn Settle>>);

impl Ticket {
    /// A ticket settled by `s`.
    pub fn new(s: Box<dyn Settle>) -> Self {
        Self(Some(s))
    }

    /// Jira refused the attempt for rate: it cost nothing.
    pub fn refused(mut self) {
        if let Some(s) = self.0.take() {
            s.settle(0, false);
        }
    }

    /// The attempt answered `body`.
    pub fn answered(mut self, body: &[u8]) {
        if let Some(s) = self.0.take() {
            let points = s.points_of(body);
            s.settle(points, true);
        }
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        if let Some(s) = self.0.take() {
            let points = s.estimate();
            s.settle(points, false);
        }
    }
}

impl std::fmt::Debug for Ticket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Ticket")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_reason_has_its_reaction_and_unknown_ones_none() {
        assert_eq!(
            Throttle::from_reason(Some("jira-quota-global-based")),
            Some(Throttle::Quota)
        );
        assert_eq!(
            Throttle::from_reason(Some("jira-quota-tenant-based")),
            Some(Throttle::Quota)
        );
        assert_eq!(
            Throttle::from_reason(Some("jira-burst-based")),
            Some(Throttle::Burst)
        );
        assert_eq!(
            Throttle::from_reason(Some("jira-per-issue-on-write")),
            Some(Throttle::PerIssue)
        );
        assert_eq!(Throttle::from_reason(None), None);
        assert_eq!(Throttle::from_reason(Some("gateway")), None);
    }
}
