//! [`TenantGovernor`]: the budget as the Jira client's [`Governor`] for one tenant. It admits
//! each attempt (issue cooldown, then points, then a slot of the endpoint class, so a wait for
//! one never holds the others) and reacts to each 429 by its reason.

use std::{
    sync::{Arc, atomic::Ordering},
    time::{Duration, Instant},
};

use futures_util::future::BoxFuture;
use reqwest::{Method, header::HeaderMap};

use super::{
    Inner,
    points::{Cost, class, issue_written},
    sleep_ms,
};
use crate::{
    store::now_ms,
    target::jira::{
        JiraCallError,
        govern::{Governor, Settle, Throttle, Ticket},
    },
};

/// How often Jira's "points left" is written to the store, per pool.
const NOTE_EVERY: Duration = Duration::from_secs(1);

/// The governor of one tenant's Jira calls.
pub struct TenantGovernor {
    inner: Arc<Inner>,
    client_key: String,
}

impl TenantGovernor {
    pub(super) fn new(inner: Arc<Inner>, client_key: &str) -> Self {
        Self {
            inner,
            client_key: client_key.to_owned(),
        }
    }

    fn class_key(&self, method: &Method, path: &str) -> String {
        format!("{}\u{1f}{}", self.client_key, class(method, path))
    }

    fn issue_key(&self, method: &Method, path: &str) -> Option<String> {
        issue_written(method, path).map(|i| format!("{}\u{1f}{i}", self.client_key))
    }

    async fn admit_call(&self, method: &Method, path: &str) -> Result<Ticket, JiraCallError> {
        let inner = &self.inner;
        if let Some(issue) = self.issue_key(method, path) {
            loop {
                let until = inner.issues.lock().get(&issue).copied();
                match until {
                    Some(u) if u > Instant::now() => tokio::time::sleep(u - Instant::now()).await,
                    _ => break,
                }
            }
        }
        let cost = Cost::of(method, path);
        let estimate = cost.estimate() as i64;
        let class = self.class_key(method, path);
        let pool = inner.pool(&self.client_key);
        let unavailable =
            |e| JiraCallError::Transport(format!("the points budget is unavailable: {e}"));
        let window = loop {
            let window = inner.window_start(now_ms());
            inner
                .take(&self.client_key, estimate)
                .await
                .map_err(unavailable)?;
            // The window may have turned while waiting: charge the one the points came from.
            let window = window.max(inner.window_start(now_ms()));
            let mut held = Held {
                inner,
                client_key: &self.client_key,
                window,
                estimate,
                class: None,
            };
            loop {
                let wait = inner
                    .classes
                    .lock()
                    .entry(class.clone())
                    .or_default()
                    .try_enter(Instant::now());
                match wait {
                    Ok(()) => break,
                    Err(d) => tokio::time::sleep(d).await,
                }
            }
            held.class = Some(&class);
            // A quota 429 met by another call while this one waited for its slot stops it too.
            let walled = inner.quota_wait(&pool).await;
            if matches!(walled, Ok(None)) {
                held.keep();
                break window;
            }
            // Not going out (walled, or the store could not say): `held` gives slot and points back.
            drop(held);
            walled.map_err(unavailable)?;
        };
        Ok(Ticket::new(Box::new(Charge {
            inner: inner.clone(),
            client_key: self.client_key.clone(),
            class,
            window,
            cost,
            estimate,
        })))
    }

    /// Reads Jira's quota headers: the pool's size (`q=`) and, near the limit, what is left
    /// (`r=`). Unprefixed headers win over `Beta-` ones (enforcement drops the prefix).
    async fn learn(&self, headers: &HeaderMap) {
        let inner = &self.inner;
        let policy_name = if inner.shared() {
            "global-app-quota"
        } else {
            "tenant-app-quota"
        };
        let field = |names: [&str; 2], key: &str| {
            names.iter().find_map(|n| {
                let v = headers.get(*n)?.to_str().ok()?;
                v.contains(policy_name).then(|| param(v, key)).flatten()
            })
        };
        if let Some(q) = field(["ratelimit-policy", "beta-ratelimit-policy"], "q")
            && q > 0
        {
            inner.capacity.store(q, Ordering::Relaxed);
        }
        let Some(r) = field(["ratelimit", "beta-ratelimit"], "r") else {
            return;
        };
        let pool = inner.pool(&self.client_key);
        {
            let mut noted = inner.noted.lock();
            if noted.get(&pool).is_some_and(|t| t.elapsed() < NOTE_EVERY) {
                return;
            }
            noted.insert(pool.clone(), Instant::now());
        }
        let window = inner.window_start(now_ms());
        if let Err(e) = inner
            .store
            .note_points_remaining(&pool, window, inner.capacity(), r)
            .await
        {
            tracing::warn!(error = %e, "recording Jira's points left failed");
        }
    }

    async fn on_throttle(
        &self,
        kind: Throttle,
        method: &Method,
        path: &str,
        wait: Duration,
        headers: &HeaderMap,
    ) {
        let inner = &self.inner;
        let until = Instant::now() + wait;
        match kind {
            Throttle::Quota => {
                let until_ms = now_ms() + wait.as_millis() as i64;
                inner.record_quota_wall(&self.client_key, until_ms).await;
            }
            Throttle::Burst => {
                // The endpoint's steady-state rate, when Jira names it.
                let rate = headers
                    .get("beta-ratelimit-policy")
                    .or_else(|| headers.get("ratelimit-policy"))
                    .and_then(|v| v.to_str().ok())
                    .filter(|v| v.contains("jira-burst-based"))
                    .and_then(|v| param(v, "q"))
                    .or_else(|| {
                        let v = headers.get("x-ratelimit-limit")?.to_str().ok()?;
                        v.split('/').next()?.trim().parse().ok()
                    })
                    .filter(|r| *r > 0);
                let class = self.class_key(method, path);
                inner.classes.lock().entry(class).or_default().burst(
                    Instant::now(),
                    wait,
                    rate.map(|r| r as f64),
                );
            }
            Throttle::PerIssue => {
                if let Some(issue) = self.issue_key(method, path) {
                    let mut issues = inner.issues.lock();
                    issues.retain(|_, t| *t > Instant::now());
                    let at = issues.entry(issue).or_insert(until);
                    *at = (*at).max(until);
                } else {
                    // Not a path with an issue: at least honour Retry-After for this call.
                    sleep_ms(wait.as_millis() as i64).await;
                }
            }
        }
    }
}

/// Parses `key=N` from a structured rate-limit header value (`"policy";q=65000;w=3600`).
fn param(value: &str, key: &str) -> Option<i64> {
    value.split(';').find_map(|part| {
        let (k, v) = part.trim().split_once('=')?;
        (k.trim() == key).then(|| v.trim().parse().ok()).flatten()
    })
}

impl Governor for TenantGovernor {
    fn admit<'a>(
        &'a self,
        method: &'a Method,
        path: &'a str,
    ) -> BoxFuture<'a, Result<Ticket, JiraCallError>> {
        Box::pin(self.admit_call(method, path))
    }

    fn observe<'a>(&'a self, headers: &'a HeaderMap) -> BoxFuture<'a, ()> {
        Box::pin(self.learn(headers))
    }

    fn throttled<'a>(
        &'a self,
        kind: Throttle,
        method: &'a Method,
        path: &'a str,
        retry_after: Duration,
        headers: &'a HeaderMap,
    ) -> BoxFuture<'a, ()> {
        Box::pin(self.on_throttle(kind, method, path, retry_after, headers))
    }
}

/// What an admission holds before its [`Ticket`] exists: the points reserved and, once taken,
/// a slot of the endpoint class. Dropped (the call is not going out, or the admitting future
/// was dropped mid-wait, as a cancelled or paused item's is) it gives both back: a slot kept
/// by nobody is lost to its class for good, and a class that loses them all admits no call
/// again, which stalls every item behind it without an error.
struct Held<'a> {
    inner: &'a Inner,
    client_key: &'a str,
    window: i64,
    estimate: i64,
    class: Option<&'a str>,
}

impl Held<'_> {
    /// The call goes out: its [`Charge`] settles slot and points from here on.
    fn keep(self) {
        std::mem::forget(self);
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        if let Some(class) = self.class
            && let Some(a) = self.inner.classes.lock().get_mut(class)
        {
            a.in_flight = a.in_flight.saturating_sub(1);
        }
        self.inner
            .spend(self.client_key, self.window, self.estimate, 0);
    }
}

/// An admitted call's points and slot.
struct Charge {
    inner: Arc<Inner>,
    client_key: String,
    class: String,
    window: i64,
    cost: Cost,
    estimate: i64,
}

impl Settle for Charge {
    fn settle(self: Box<Self>, points: u64, ok: bool) {
        if let Some(a) = self.inner.classes.lock().get_mut(&self.class) {
            a.leave(ok);
        }
        self.inner
            .spend(&self.client_key, self.window, self.estimate, points as i64);
    }

    fn points_of(&self, body: &[u8]) -> u64 {
        self.cost.points(body)
    }

    fn estimate(&self) -> u64 {
        self.estimate as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limit_parameters_are_read_from_structured_headers() {
        let v = "\"global-app-quota\";q=65000;w=3600";
        assert_eq!(param(v, "q"), Some(65000));
        assert_eq!(param(v, "w"), Some(3600));
        assert_eq!(
            param("\"global-app-quota\";r=11000;t=600", "r"),
            Some(11000)
        );
        assert_eq!(param("\"global-app-quota\";t=600", "r"), None);
    }
}
