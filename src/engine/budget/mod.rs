//! The Jira points budget and rate-limit governor of this process, one per [`AppState`].
//!
//! Every Jira call of a tenant's client goes through [`TenantGovernor`] (installed on the
//! client by [`Budget::govern`]), so the phases need no code of their own:
//!
//! - **Points.** The pool (the app's on Tier 1, the tenant's on Tier 2) lives in the store, per
//!   window; a worker reserves a small block, spends it call by call (charged as the reference
//!   prices them, the estimate first and the answer's true cost after) and reports what it spent
//!   with its next block. While several tenants have runs each gets an equal share of a Tier 1
//!   window; a tenant alone gets it all. When the share or the window is spent, calls wait for
//!   the next window instead of meeting Jira's wall.
//! - **Quota 429** (`jira-quota-*-based`): the wait until the reset is recorded in the store,
//!   so every worker of every replica waits, and the run shows "waiting for quota until T".
//! - **Burst 429**: that endpoint class halves its calls in flight (AIMD, shared by the
//!   process's workers) and rests for `Retry-After`.
//! - **Per-issue 429**: only writes to that issue wait; other items go on.
//! - What Jira says is left (`RateLimit: …;r=`, sent near the limit) is folded in, so points
//!   spent outside this budget still count.
//!
//! [`AppState`]: crate::app::AppState

mod aimd;
mod governor;
pub mod points;

use std::{
    collections::HashMap,
    sync::{
        Arc,
        atomic::{AtomicI64, Ordering},
    },
    time::{Duration, Instant},
};

use parking_lot::Mutex;
use serde::Serialize;

pub use governor::TenantGovernor;

use crate::{
    config::{Config, PointsTier},
    store::{BudgetUsage, Reserve, Store, StoreError, now_ms},
};

/// How often a worker looks in the store for a quota wait another replica recorded.
const WAIT_CHECK: Duration = Duration::from_secs(2);
/// The longest single sleep while waiting, so a share freed by a finished run is seen soon.
const WAIT_SLICE: Duration = Duration::from_secs(5);

/// The process's budget and governor state (cheap to clone).
#[derive(Clone)]
pub struct Budget {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    store: Store,
    app_key: String,
    tier: PointsTier,
    /// Points per window; Jira's `RateLimit-Policy: …;q=` replaces the configured value.
    capacity: AtomicI64,
    window_ms: i64,
    /// Points reserved but not yet spent, per (pool, tenant).
    local: Mutex<HashMap<(String, String), Local>>,
    /// Quota waits per pool, as last read from the store.
    waits: Mutex<HashMap<String, (i64, Instant)>>,
    /// Adaptive concurrency per (tenant, endpoint class).
    classes: Mutex<HashMap<String, aimd::Aimd>>,
    /// Per-issue cooldowns per (tenant, issue).
    issues: Mutex<HashMap<String, Instant>>,
    /// When Jira's "points left" was last written to the store, per pool.
    noted: Mutex<HashMap<String, Instant>>,
}

/// One (pool, tenant)'s block in this process.
#[derive(Debug, Default)]
struct Local {
    window: i64,
    /// Reserved and not spent (negative: spent more than reserved, owed to the next block).
    left: i64,
    /// Spent and not yet reported, in `window`.
    unreported: i64,
}

/// A tenant's budget, for run progress.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BudgetView {
    /// The window and what was reserved and spent in it.
    #[serde(flatten)]
    pub usage: BudgetUsage,
    /// Window end, unix ms.
    pub window_end: i64,
    /// `quota` (Jira refused the pool until its reset), `budget` (this tenant's share or the
    /// window is spent) or null.
    pub waiting_for: Option<&'static str>,
    /// Until when, unix ms.
    pub waiting_until: Option<i64>,
}

impl Budget {
    /// The budget of `config`'s pool over `store`.
    pub fn new(config: &Config, store: Store) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                app_key: config.app_key.clone(),
                tier: config.points_tier,
                capacity: AtomicI64::new(config.points_per_hour.round() as i64),
                window_ms: (config.points_window.as_millis() as i64).max(1),
                local: Mutex::new(HashMap::new()),
                waits: Mutex::new(HashMap::new()),
                classes: Mutex::new(HashMap::new()),
                issues: Mutex::new(HashMap::new()),
                noted: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// The governor of `client_key`'s Jira calls.
    pub fn govern(&self, client_key: &str) -> Arc<TenantGovernor> {
        Arc::new(TenantGovernor::new(self.inner.clone(), client_key))
    }

    /// Reports every tenant's unreported spending (at the end of a run's turn).
    pub async fn flush(&self) -> Result<(), StoreError> {
        self.inner.flush().await
    }

    /// Until when (unix ms) Jira refuses `client_key`'s pool for its quota, if such a wall is
    /// in force: recorded by any worker of any replica (read from the store every few
    /// seconds). Calls outside the runs (permission checks) use it to stay off the wall too.
    pub async fn quota_wall(&self, client_key: &str) -> Result<Option<i64>, StoreError> {
        let pool = self.inner.pool(client_key);
        self.inner.quota_wait(&pool).await
    }

    /// Jira refused `client_key`'s pool for its quota until `until_ms` (a call outside the
    /// runs met the wall first): every worker waits for the reset.
    pub async fn record_quota_wall(&self, client_key: &str, until_ms: i64) {
        self.inner.record_quota_wall(client_key, until_ms).await;
    }

    /// `client_key`'s view of its pool now.
    pub async fn view(&self, client_key: &str) -> Result<BudgetView, StoreError> {
        let i = &self.inner;
        let now = now_ms();
        let window = i.window_start(now);
        let pool = i.pool(client_key);
        let usage = i
            .store
            .budget_usage(&pool, window, i.capacity(), client_key, i.shared())
            .await?;
        let window_end = window + i.window_ms;
        let spent_share = usage.tenant_reserved >= usage.share || usage.reserved >= usage.capacity;
        let (waiting_for, waiting_until) = match usage.quota_wait_until {
            Some(t) => (Some("quota"), Some(t)),
            None if spent_share && usage.tenant_reserved > 0 => (Some("budget"), Some(window_end)),
            None => (None, None),
        };
        Ok(BudgetView {
            usage,
            window_end,
            waiting_for,
            waiting_until,
        })
    }
}

impl Inner {
    fn capacity(&self) -> i64 {
        self.capacity.load(Ordering::Relaxed)
    }

    fn shared(&self) -> bool {
        self.tier == PointsTier::Global
    }

    fn window_start(&self, now_ms: i64) -> i64 {
        now_ms.div_euclid(self.window_ms) * self.window_ms
    }

    /// The pool a tenant draws from.
    fn pool(&self, client_key: &str) -> String {
        match self.tier {
            PointsTier::Global => self.app_key.clone(),
            PointsTier::Tenant => format!("{}:{client_key}", self.app_key),
        }
    }

    /// Block size: small against the pool so idle workers hold little, but many calls per
    /// database write.
    fn block(&self) -> i64 {
        (self.capacity() / 200).clamp(5, 100)
    }

    /// Waits until `points` are reserved for `client_key` in the current window.
    async fn take(&self, client_key: &str, points: i64) -> Result<(), StoreError> {
        let pool = self.pool(client_key);
        let key = (pool.clone(), client_key.to_owned());
        loop {
            let now = now_ms();
            if let Some(until) = self.quota_wait(&pool).await? {
                sleep_ms(until - now).await;
                continue;
            }
            let window = self.window_start(now);
            let (report, want) = {
                let mut local = self.local.lock();
                let l = local.entry(key.clone()).or_default();
                let mut report = None;
                if l.window != window {
                    if l.unreported > 0 {
                        report = Some((l.window, l.unreported));
                    }
                    *l = Local {
                        window,
                        ..Local::default()
                    };
                }
                if report.is_none() && l.left >= points {
                    l.left -= points;
                    return Ok(());
                }
                let want = (self.block().max(points) - l.left.min(0)).max(points);
                (report, want)
            };
            if let Some((old, spent)) = report {
                self.reserve(&pool, client_key, old, 0, spent).await?;
            }
            let spent = {
                let mut local = self.local.lock();
                let l = local.entry(key.clone()).or_default();
                if l.window == window {
                    std::mem::take(&mut l.unreported)
                } else {
                    0
                }
            };
            let r = self.reserve(&pool, client_key, window, want, spent).await?;
            if let Some(until) = r.wait_until {
                self.waits
                    .lock()
                    .insert(pool.clone(), (until, Instant::now()));
            }
            if r.granted == 0 {
                // This tenant's share, or the window, is spent: wait for the next window.
                sleep_ms(window + self.window_ms - now_ms()).await;
                continue;
            }
            let mut local = self.local.lock();
            let l = local.entry(key.clone()).or_default();
            if l.window == window {
                l.left += r.granted;
            }
        }
    }

    async fn reserve(
        &self,
        pool: &str,
        client_key: &str,
        window: i64,
        want: i64,
        spent: i64,
    ) -> Result<crate::store::Reservation, StoreError> {
        self.store
            .reserve_points(&Reserve {
                pool,
                window_start: window,
                capacity: self.capacity(),
                client_key,
                shared: self.shared(),
                want,
                spent,
            })
            .await
    }

    /// A call of `client_key` ended having cost `points` where `estimate` was taken.
    fn spend(&self, client_key: &str, window: i64, estimate: i64, points: i64) {
        let key = (self.pool(client_key), client_key.to_owned());
        let mut local = self.local.lock();
        let l = local.entry(key).or_default();
        if l.window == window {
            l.left += estimate - points;
            l.unreported += points;
        }
    }

    /// The quota wait in force for `pool` (read from the store every few seconds).
    async fn quota_wait(&self, pool: &str) -> Result<Option<i64>, StoreError> {
        let cached = self.waits.lock().get(pool).copied();
        let until = match cached {
            Some((until, at)) if at.elapsed() < WAIT_CHECK => until,
            _ => {
                let until = self.store.budget_wait(pool).await?.unwrap_or(0);
                self.waits
                    .lock()
                    .insert(pool.to_owned(), (until, Instant::now()));
                until
            }
        };
        Ok((until > now_ms()).then_some(until))
    }

    /// Records a quota wall for `client_key`'s pool, here and in the store for every replica.
    async fn record_quota_wall(&self, client_key: &str, until_ms: i64) {
        let pool = self.pool(client_key);
        self.waits
            .lock()
            .insert(pool.clone(), (until_ms, Instant::now()));
        tracing::info!(pool = %pool, until_ms, "Jira quota spent; every worker waits for the reset");
        if let Err(e) = self
            .store
            .record_budget_wait(&pool, until_ms, "quota")
            .await
        {
            tracing::warn!(error = %e, "recording the quota wait failed");
        }
    }

    async fn flush(&self) -> Result<(), StoreError> {
        let pending: Vec<((String, String), i64, i64)> = {
            let mut local = self.local.lock();
            local
                .iter_mut()
                .filter(|(_, l)| l.unreported > 0)
                .map(|(k, l)| (k.clone(), l.window, std::mem::take(&mut l.unreported)))
                .collect()
        };
        for ((pool, client_key), window, spent) in pending {
            self.reserve(&pool, &client_key, window, 0, spent).await?;
        }
        Ok(())
    }
}

/// Sleeps `ms` (at most [`WAIT_SLICE`], so waits are re-checked).
async fn sleep_ms(ms: i64) {
    let ms = u64::try_from(ms.max(1)).unwrap_or(1);
    tokio::time::sleep(Duration::from_millis(ms).min(WAIT_SLICE)).await;
}

#[cfg(test)]
mod tests;
