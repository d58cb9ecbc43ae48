//! The arithmetic of Jira's three limiters, free of HTTP: pools, buckets and issue windows.
//!
//! All checks run and then all charges apply under one lock, so a request refused by one
//! limiter spends nothing at the others. Times are seconds since the limiter's epoch.

use std::collections::{HashMap, VecDeque};

use super::profile::{BurstConfig, IssueWindow, JiraProfile, Pool, QuotaConfig};

/// Why a request was refused, with what the 429 must say.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// The hourly quota is spent until `reset_at`.
    Quota {
        /// `RateLimit-Reason` value.
        reason: &'static str,
        /// Quota size.
        limit: u64,
        /// Elapsed seconds at which the pool resets.
        reset_at: f64,
    },
    /// The endpoint's (or user search's) bucket is empty.
    Burst {
        /// Refill rate (rps).
        rate: f64,
        /// Seconds until one token is back.
        wait: f64,
    },
    /// Too many requests in flight for one (tenant, principal).
    Concurrent {
        /// The cap.
        max: u32,
    },
    /// Too many writes to one issue.
    PerIssue {
        /// The window's allowance.
        max: u32,
        /// Seconds until the oldest write leaves the window.
        wait: f64,
    },
}

/// What an admitted request learned about the quota and its bucket, for the headers.
#[derive(Debug, Clone, Default)]
pub struct Admitted {
    /// Pool key, if the caller is metered by points.
    pub pool: Option<String>,
    /// Bucket (rate, tokens left) if burst limits apply.
    pub bucket: Option<(f64, f64)>,
}

/// Pool usage in the current window.
#[derive(Debug, Default)]
struct PoolState {
    window: i64,
    used: u64,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    last: f64,
}

/// Mutable limiter state.
#[derive(Debug, Default)]
pub struct State {
    pools: HashMap<String, PoolState>,
    buckets: HashMap<String, Bucket>,
    issues: HashMap<String, VecDeque<f64>>,
}

/// One request, as the limiters see it.
pub struct Ask<'a> {
    /// Pool key when the caller pays points.
    pub pool: Option<String>,
    /// Burst bucket key and rate.
    pub bucket: Option<(String, f64)>,
    /// User-search bucket key.
    pub user_search: Option<String>,
    /// Issue key when this is a write to one issue.
    pub issue: Option<String>,
    /// The profile.
    pub profile: &'a JiraProfile,
}

impl State {
    /// Checks every limiter, then charges 1 point, 1 token and 1 issue write.
    pub fn admit(&mut self, ask: &Ask<'_>, now: f64) -> Result<Admitted, Refusal> {
        let mut admitted = Admitted::default();
        if let (Some(key), Some(q)) = (&ask.pool, &ask.profile.quota) {
            let pool = self.pools.entry(key.clone()).or_default();
            roll(pool, q, now);
            if used(pool, q, now) >= q.points_per_hour {
                return Err(Refusal::Quota {
                    reason: quota_reason(q.pool),
                    limit: q.points_per_hour,
                    reset_at: reset_at(q, now),
                });
            }
        }
        let burst = ask.profile.burst.as_ref();
        if let (Some((key, rate)), Some(cfg)) = (&ask.bucket, burst) {
            let tokens = self.refill(key, *rate, rate * cfg.capacity_factor, now);
            if tokens < 1.0 {
                return Err(Refusal::Burst {
                    rate: *rate,
                    wait: (1.0 - tokens) / rate,
                });
            }
        }
        if let (Some(key), Some(us)) = (&ask.user_search, &ask.profile.user_search) {
            let tokens = self.refill(key, us.rps, us.capacity, now);
            if tokens < 1.0 {
                return Err(Refusal::Burst {
                    rate: us.rps,
                    wait: (1.0 - tokens) / us.rps,
                });
            }
        }
        if let Some(issue) = &ask.issue {
            let writes = self.issues.entry(issue.clone()).or_default();
            let longest = ask
                .profile
                .per_issue
                .iter()
                .map(|w| w.secs)
                .fold(0.0, f64::max);
            while writes.front().is_some_and(|t| now - t >= longest) {
                writes.pop_front();
            }
            if let Some(refusal) = window_refusal(writes, &ask.profile.per_issue, now) {
                return Err(refusal);
            }
        }
        // Every limiter said yes: charge them all.
        if let Some(key) = &ask.pool {
            if let Some(pool) = self.pools.get_mut(key) {
                pool.used += 1;
            }
            admitted.pool = Some(key.clone());
        }
        for key in [
            ask.bucket.as_ref().map(|(k, _)| k),
            ask.user_search.as_ref(),
        ]
        .into_iter()
        .flatten()
        {
            if let Some(b) = self.buckets.get_mut(key) {
                b.tokens -= 1.0;
            }
        }
        if let Some((key, rate)) = &ask.bucket {
            admitted.bucket = self.buckets.get(key).map(|b| (*rate, b.tokens.max(0.0)));
        }
        if let Some(issue) = &ask.issue {
            self.issues.entry(issue.clone()).or_default().push_back(now);
        }
        Ok(admitted)
    }

    /// Adds the points learnt after the handler ran (objects returned, bulk items).
    pub fn charge(&mut self, pool: &str, points: u64) {
        if let Some(p) = self.pools.get_mut(pool) {
            p.used += points;
        }
    }

    /// Points left in `pool` and seconds to its reset.
    pub fn remaining(&mut self, pool: &str, q: &QuotaConfig, now: f64) -> (u64, f64) {
        let p = self.pools.entry(pool.to_owned()).or_default();
        roll(p, q, now);
        (
            q.points_per_hour.saturating_sub(used(p, q, now)),
            reset_at(q, now) - now,
        )
    }

    fn refill(&mut self, key: &str, rate: f64, capacity: f64, now: f64) -> f64 {
        let b = self.buckets.entry(key.to_owned()).or_insert(Bucket {
            tokens: capacity,
            last: now,
        });
        b.tokens = (b.tokens + (now - b.last) * rate).min(capacity);
        b.last = now;
        b.tokens
    }
}

/// The burst rate of `method` on a normalised template.
pub fn burst_rate(cfg: &BurstConfig, method: &str, normalized: &str) -> f64 {
    if let Some(o) = cfg.overrides.iter().find(|o| {
        o.method.eq_ignore_ascii_case(method) && super::normalize_template(&o.path) == normalized
    }) {
        return o.rps;
    }
    match method {
        "GET" | "HEAD" => cfg.get,
        "PUT" | "PATCH" => cfg.put,
        "DELETE" => cfg.delete,
        _ => cfg.post,
    }
}

/// `RateLimit-Reason` for an exhausted pool.
pub fn quota_reason(pool: Pool) -> &'static str {
    match pool {
        Pool::Global => "jira-quota-global-based",
        Pool::Tenant => "jira-quota-tenant-based",
    }
}

/// Policy name in `(Beta-)RateLimit-Policy`.
pub fn quota_policy(pool: Pool) -> &'static str {
    match pool {
        Pool::Global => "global-app-quota",
        Pool::Tenant => "tenant-app-quota",
    }
}

fn window_index(q: &QuotaConfig, now: f64) -> i64 {
    ((now + q.start_offset_secs) / q.hour_secs).floor() as i64
}

fn reset_at(q: &QuotaConfig, now: f64) -> f64 {
    (window_index(q, now) + 1) as f64 * q.hour_secs - q.start_offset_secs
}

fn roll(pool: &mut PoolState, q: &QuotaConfig, now: f64) {
    let w = window_index(q, now);
    if pool.window != w {
        pool.window = w;
        pool.used = 0;
    }
}

/// Own usage plus what "other tenants" burnt so far this hour (Tier 1 background burn).
fn used(pool: &PoolState, q: &QuotaConfig, now: f64) -> u64 {
    let into_hour = (now + q.start_offset_secs).rem_euclid(q.hour_secs) / q.hour_secs;
    pool.used + (q.background_burn * q.points_per_hour as f64 * into_hour) as u64
}

fn window_refusal(writes: &VecDeque<f64>, windows: &[IssueWindow], now: f64) -> Option<Refusal> {
    windows.iter().find_map(|w| {
        let inside: Vec<f64> = writes
            .iter()
            .copied()
            .filter(|t| now - t < w.secs)
            .collect();
        (inside.len() >= w.max as usize).then(|| Refusal::PerIssue {
            max: w.max,
            wait: inside
                .get(inside.len().saturating_sub(w.max as usize))
                .map_or(w.secs, |t| t + w.secs - now),
        })
    })
}
