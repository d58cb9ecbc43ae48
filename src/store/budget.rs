//! The Jira points budget in the database, so every worker of every replica draws from one
//! pool (migration 0010). A reservation is one short transaction: the tenant's fair share is
//! checked and then the window's capacity, each by a conditional `update` that can never push
//! `reserved` past its bound, however many replicas reserve at once.
//!
//! Both dialects evaluate every `set` expression against the row as it was, so `last_grant` and
//! `reserved` are computed from the same old value; the grant is read back with `returning`.

use serde::Serialize;

use super::{Store, StoreResult, detached, dispatch, now_ms};

/// What a reservation got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reservation {
    /// Points granted (0 when the window or the tenant's share is spent).
    pub granted: i64,
    /// Until when (unix ms) Jira refused the pool for its quota, if that is still ahead.
    pub wait_until: Option<i64>,
}

/// One reservation request.
#[derive(Debug, Clone)]
pub struct Reserve<'a> {
    /// The pool: the app (Tier 1) or the app and tenant (Tier 2).
    pub pool: &'a str,
    /// The window's start, unix ms.
    pub window_start: i64,
    /// The pool's points per window.
    pub capacity: i64,
    /// The tenant reserving.
    pub client_key: &'a str,
    /// True when the pool is shared by tenants (Tier 1): each tenant with a running run gets an
    /// equal share; false when it is the tenant's own (Tier 2).
    pub shared: bool,
    /// Points wanted.
    pub want: i64,
    /// Points spent since the last report, in this window.
    pub spent: i64,
}

/// A tenant's view of its pool's current window, for progress.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct BudgetUsage {
    /// The pool.
    pub pool: String,
    /// Window start, unix ms.
    pub window_start: i64,
    /// Points per window.
    pub capacity: i64,
    /// Points handed out to workers (of every tenant).
    pub reserved: i64,
    /// Points reported spent (of every tenant).
    pub spent: i64,
    /// This tenant's fair share now.
    pub share: i64,
    /// Points this tenant reserved.
    pub tenant_reserved: i64,
    /// Points this tenant spent.
    pub tenant_spent: i64,
    /// Until when Jira refused the pool (an exhausted quota), unix ms.
    pub quota_wait_until: Option<i64>,
}

impl Store {
    /// Reserves up to `r.want` points (fewer when the window or the tenant's share has less
    /// left) and records `r.spent`. The transaction runs to its commit whatever the caller's
    /// future does (`store::detached`): callers wait in streams and windows that may stop polling
    /// them.
    pub async fn reserve_points(&self, r: &Reserve<'_>) -> StoreResult<Reservation> {
        let store = self.clone();
        let (pool, client_key) = (r.pool.to_owned(), r.client_key.to_owned());
        let (window_start, capacity, shared, want, spent) =
            (r.window_start, r.capacity, r.shared, r.want, r.spent);
        detached(async move {
            store
                .reserve_now(&Reserve {
                    pool: &pool,
                    window_start,
                    capacity,
                    client_key: &client_key,
                    shared,
                    want,
                    spent,
                })
                .await
        })
        .await
    }

    async fn reserve_now(&self, r: &Reserve<'_>) -> StoreResult<Reservation> {
        let now = now_ms();
        dispatch!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query("insert into budget_windows (pool, window_start, capacity) values ($1, $2, $3) on conflict (pool, window_start) do nothing")
                .bind(r.pool).bind(r.window_start).bind(r.capacity).execute(&mut *tx).await?;
            sqlx::query("insert into budget_tenants (pool, window_start, client_key) values ($1, $2, $3) on conflict (pool, window_start, client_key) do nothing")
                .bind(r.pool).bind(r.window_start).bind(r.client_key).execute(&mut *tx).await?;
            let (others,): (i64,) = sqlx::query_as(
                "select count(distinct client_key) from runs where status = 'running' and client_key <> $1")
                .bind(r.client_key).fetch_one(&mut *tx).await?;
            let share = share_of(r.capacity, r.shared, others);
            let (asked,): (i64,) = sqlx::query_as(
                "update budget_tenants set \
                   last_grant = case when reserved + $4 <= $5 then $4 when reserved < $5 then $5 - reserved else 0 end, \
                   reserved = case when reserved + $4 <= $5 then reserved + $4 when reserved < $5 then $5 else reserved end, \
                   spent = spent + $6 \
                 where pool = $1 and window_start = $2 and client_key = $3 returning last_grant")
                .bind(r.pool).bind(r.window_start).bind(r.client_key).bind(r.want.max(0)).bind(share).bind(r.spent)
                .fetch_one(&mut *tx).await?;
            let (granted,): (i64,) = sqlx::query_as(
                "update budget_windows set capacity = $3, \
                   last_grant = case when reserved + $4 <= $3 then $4 when reserved < $3 then $3 - reserved else 0 end, \
                   reserved = case when reserved + $4 <= $3 then reserved + $4 when reserved < $3 then $3 else reserved end, \
                   spent = spent + $5 \
                 where pool = $1 and window_start = $2 returning last_grant")
                .bind(r.pool).bind(r.window_start).bind(r.capacity).bind(asked).bind(r.spent)
                .fetch_one(&mut *tx).await?;
            if granted < asked {
                sqlx::query("update budget_tenants set reserved = reserved - $4 where pool = $1 and window_start = $2 and client_key = $3")
                    .bind(r.pool).bind(r.window_start).bind(r.client_key).bind(asked - granted)
                    .execute(&mut *tx).await?;
            }
            let wait: Option<(i64,)> = sqlx::query_as("select until_ms from budget_waits where pool = $1")
                .bind(r.pool).fetch_optional(&mut *tx).await?;
            tx.commit().await?;
            Ok(Reservation { granted, wait_until: wait.map(|(u,)| u).filter(|u| *u > now) })
        })
    }

    /// Records that Jira refused `pool` for its quota until `until_ms` (a later wait already
    /// recorded stays).
    pub async fn record_budget_wait(
        &self,
        pool: &str,
        until_ms: i64,
        reason: &str,
    ) -> StoreResult<()> {
        let now = now_ms();
        dispatch!(self, p => sqlx::query(
            "insert into budget_waits (pool, until_ms, reason, updated_at) values ($1, $2, $3, $4) \
             on conflict (pool) do update set \
               reason = case when excluded.until_ms > budget_waits.until_ms then excluded.reason else budget_waits.reason end, \
               until_ms = case when excluded.until_ms > budget_waits.until_ms then excluded.until_ms else budget_waits.until_ms end, \
               updated_at = excluded.updated_at")
            .bind(pool).bind(until_ms).bind(reason).bind(now).execute(p).await.map(|_| ()))?;
        Ok(())
    }

    /// Until when (unix ms) the pool is refused, if that is still ahead.
    pub async fn budget_wait(&self, pool: &str) -> StoreResult<Option<i64>> {
        let now = now_ms();
        let row: Option<(i64,)> = dispatch!(self, p => sqlx::query_as("select until_ms from budget_waits where pool = $1")
            .bind(pool).fetch_optional(p).await)?;
        Ok(row.map(|(u,)| u).filter(|u| *u > now))
    }

    /// Jira says `remaining` points are left in the pool: what others spent outside this budget
    /// (another app component, a script with the app's credentials) counts as reserved. A
    /// transaction, detached like a reservation.
    pub async fn note_points_remaining(
        &self,
        pool: &str,
        window_start: i64,
        capacity: i64,
        remaining: i64,
    ) -> StoreResult<()> {
        let (store, pool) = (self.clone(), pool.to_owned());
        detached(async move {
            store
                .note_remaining_now(&pool, window_start, capacity, remaining)
                .await
        })
        .await
    }

    async fn note_remaining_now(
        &self,
        pool: &str,
        window_start: i64,
        capacity: i64,
        remaining: i64,
    ) -> StoreResult<()> {
        let used = (capacity - remaining).max(0);
        dispatch!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query("insert into budget_windows (pool, window_start, capacity) values ($1, $2, $3) on conflict (pool, window_start) do nothing")
                .bind(pool).bind(window_start).bind(capacity).execute(&mut *tx).await?;
            sqlx::query("update budget_windows set reserved = case when reserved < $3 then $3 else reserved end where pool = $1 and window_start = $2")
                .bind(pool).bind(window_start).bind(used).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok::<(), sqlx::Error>(())
        })?;
        Ok(())
    }

    /// A tenant's view of its pool's window (zeros before anything was reserved in it).
    pub async fn budget_usage(
        &self,
        pool: &str,
        window_start: i64,
        capacity: i64,
        client_key: &str,
        shared: bool,
    ) -> StoreResult<BudgetUsage> {
        let (window, tenant, others, wait) = dispatch!(self, p => {
            let window: Option<(i64, i64, i64)> = sqlx::query_as(
                "select capacity, reserved, spent from budget_windows where pool = $1 and window_start = $2")
                .bind(pool).bind(window_start).fetch_optional(p).await?;
            let tenant: Option<(i64, i64)> = sqlx::query_as(
                "select reserved, spent from budget_tenants where pool = $1 and window_start = $2 and client_key = $3")
                .bind(pool).bind(window_start).bind(client_key).fetch_optional(p).await?;
            let (others,): (i64,) = sqlx::query_as(
                "select count(distinct client_key) from runs where status = 'running' and client_key <> $1")
                .bind(client_key).fetch_one(p).await?;
            Ok::<_, sqlx::Error>((window, tenant, others, self.budget_wait(pool).await.ok().flatten()))
        })?;
        let (capacity, reserved, spent) = window.unwrap_or((capacity, 0, 0));
        let (tenant_reserved, tenant_spent) = tenant.unwrap_or((0, 0));
        Ok(BudgetUsage {
            pool: pool.to_owned(),
            window_start,
            capacity,
            reserved,
            spent,
            share: share_of(capacity, shared, others),
            tenant_reserved,
            tenant_spent,
            quota_wait_until: wait,
        })
    }
}

/// A tenant's fair share of `capacity` when `others` other tenants have runs: equal parts on a
/// shared pool (all of it when alone), the whole of a tenant's own pool.
pub fn share_of(capacity: i64, shared: bool, others: i64) -> i64 {
    if shared {
        capacity / (others.max(0) + 1)
    } else {
        capacity
    }
}
