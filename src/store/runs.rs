//! Runs and their id map. A run is claimed by a lease whose fencing token guards every write,
//! so a worker that lost its run (paused, partitioned, presumed dead) cannot record anything
//! after another took over. Before a create call the items it carries are marked `sent` (an
//! intent written ahead); its outcome and the id map commit together afterwards. An item left
//! `sent` by a crash or a lost answer is reconciled against Jira before it is sent again.

use serde::Serialize;

use super::{Store, StoreError, StoreResult, audit::INSERT_AUDIT, dispatch, not_found, now_ms};

/// A run row.
#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Run {
    /// Public id.
    pub id: String,
    /// Owning tenant.
    #[serde(skip)]
    pub client_key: String,
    /// The mapping.
    pub mapping_id: String,
    /// Its approved version.
    pub mapping_version: i64,
    /// `queued`, `running`, `paused`, `completed`, `failed` or `cancelled`.
    pub status: String,
    /// `preflight`, `create` or `done`.
    pub phase: String,
    /// `pause` or `cancel` when asked for and not acted on yet.
    pub control: Option<String>,
    /// Items in scope.
    pub items_total: Option<i64>,
    /// Why it failed (Ferry's words).
    pub error: Option<String>,
    /// Fencing token.
    #[serde(skip)]
    pub lease_token: i64,
    /// Who started it.
    pub started_by: String,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
    /// Unix ms.
    pub finished_at: Option<i64>,
}

/// Items per state of a run.
#[derive(Debug, Clone, sqlx::FromRow, Serialize, PartialEq, Eq)]
pub struct StateCount {
    /// State.
    pub state: String,
    /// Items.
    pub items: i64,
}

/// One id-map row.
#[derive(Debug, Clone, sqlx::FromRow, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct RunItem {
    /// ADO id.
    pub ado_id: i64,
    /// Create wave.
    pub wave: i64,
    /// State.
    pub state: String,
    /// Create calls that carried it.
    pub attempts: i64,
    /// Jira issue id.
    pub jira_id: Option<String>,
    /// Jira issue key.
    pub jira_key: Option<String>,
    /// Why it failed.
    pub error_code: Option<String>,
    /// The field concerned.
    pub error_field: Option<String>,
}

/// What happened to one item of a create call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemOutcome {
    /// Created (or found already created) as this Jira issue.
    Created {
        /// Jira id.
        id: String,
        /// Jira key.
        key: String,
    },
    /// Not created, and safe to send again (refused as a whole, or not found after a lost
    /// answer was reconciled).
    Pending,
    /// Refused, with a code and the field concerned.
    Failed {
        /// Problem code.
        code: String,
        /// Field.
        field: Option<String>,
    },
}

pub(super) fn lost() -> StoreError {
    StoreError::Conflict("run lease lost".into())
}

/// Guards a write by the run's lease; run inside the write's transaction.
pub(super) const FENCE: &str = "update runs set updated_at = $3, retries = 0 where id = $1 and lease_token = $2 and status = 'running'";

/// Returns `Conflict` from the enclosing function unless the run's lease is still this
/// worker's: the first statement of every write transaction of a run, so a worker that lost
/// its lease cannot write.
macro_rules! fenced_tx_guard {
    ($tx:ident, $run:expr, $now:expr) => {
        if sqlx::query($crate::store::runs::FENCE)
            .bind(&$run.id)
            .bind($run.lease_token)
            .bind($now)
            .execute(&mut *$tx)
            .await?
            .rows_affected()
            == 0
        {
            return Err($crate::store::runs::lost());
        }
    };
}
pub(super) use fenced_tx_guard;

impl Store {
    /// Queues a run of an approved mapping version; refused while another run of the mapping
    /// is unfinished, or when the version is not the approved one.
    pub async fn queue_run(
        &self,
        client_key: &str,
        mapping_id: &str,
        actor: &str,
    ) -> StoreResult<Run> {
        let mapping = self.mapping(client_key, mapping_id).await?;
        let version = match mapping.approved_version {
            Some(v) if v == mapping.version && mapping.status == "approved" => v,
            _ => {
                return Err(StoreError::Conflict(
                    "approve the mapping before starting a run".into(),
                ));
            }
        };
        let now = now_ms();
        let id = uuid::Uuid::new_v4().to_string();
        let busy = || StoreError::Conflict("a run of this mapping is not finished yet".into());
        dispatch!(self, p => {
            let mut tx = p.begin().await?;
            let inserted = sqlx::query(
                "insert into runs (id, client_key, mapping_id, mapping_version, status, phase, started_by, created_at, updated_at) \
                 select $1, $2, $3, $4, 'queued', 'preflight', $5, $6, $6 \
                 where not exists (select 1 from runs where mapping_id = $3 and status in ('queued', 'running', 'paused'))")
                .bind(&id).bind(client_key).bind(mapping_id).bind(version).bind(actor).bind(now)
                .execute(&mut *tx).await;
            match inserted {
                Ok(r) if r.rows_affected() == 0 => return Err(busy()),
                Err(sqlx::Error::Database(e)) if e.is_unique_violation() => return Err(busy()),
                other => { other?; }
            }
            sqlx::query(INSERT_AUDIT).bind(client_key).bind(actor).bind("run.started")
                .bind(serde_json::json!({ "runId": id, "mappingId": mapping_id, "version": version }).to_string()).bind(now)
                .execute(&mut *tx).await?;
            tx.commit().await?;
        });
        self.run(client_key, &id).await
    }

    /// One run of this tenant.
    pub async fn run(&self, client_key: &str, id: &str) -> StoreResult<Run> {
        dispatch!(self, p => sqlx::query_as::<_, Run>(
            "select id, client_key, mapping_id, mapping_version, status, phase, control, items_total, error, lease_token, started_by, created_at, updated_at, finished_at \
             from runs where client_key = $1 and id = $2")
            .bind(client_key).bind(id).fetch_one(p).await).map_err(not_found)
    }

    /// Asks a run to pause, resume or cancel; audited. Pause and cancel of a running run take
    /// effect at its next checkpoint; a paused or queued run is changed at once.
    pub async fn control_run(
        &self,
        client_key: &str,
        id: &str,
        action: &str,
        actor: &str,
    ) -> StoreResult<Run> {
        let now = now_ms();
        let sql = match action {
            "pause" => {
                "update runs set control = 'pause', updated_at = $3 where client_key = $1 and id = $2 and status in ('queued', 'running') and (control is null or control = 'pause')"
            }
            "resume" => {
                "update runs set status = 'queued', control = null, updated_at = $3 where client_key = $1 and id = $2 and (status = 'paused' or (status in ('queued', 'running') and control = 'pause'))"
            }
            "cancel" => {
                "update runs set control = 'cancel', updated_at = $3 where client_key = $1 and id = $2 and status in ('queued', 'running', 'paused')"
            }
            _ => return Err(StoreError::Conflict(format!("unknown action {action}"))),
        };
        dispatch!(self, p => {
            let mut tx = p.begin().await?;
            let changed = sqlx::query(sql).bind(client_key).bind(id).bind(now).execute(&mut *tx).await?.rows_affected();
            if changed == 0 {
                let exists: Option<(String,)> = sqlx::query_as("select status from runs where client_key = $1 and id = $2")
                    .bind(client_key).bind(id).fetch_optional(&mut *tx).await?;
                return Err(match exists {
                    None => StoreError::NotFound,
                    Some((status,)) => StoreError::Conflict(format!("a {status} run cannot {action}")),
                });
            }
            if action == "cancel" {
                // A run no worker holds is final at once; a running one at its next checkpoint.
                sqlx::query("update runs set status = 'cancelled', control = null, finished_at = $3 where client_key = $1 and id = $2 \
                             and (status in ('queued', 'paused') or (status = 'running' and lease_expires_at < $3))")
                    .bind(client_key).bind(id).bind(now).execute(&mut *tx).await?;
            }
            sqlx::query(INSERT_AUDIT).bind(client_key).bind(actor).bind(format!("run.{action}"))
                .bind(serde_json::json!({ "runId": id }).to_string()).bind(now).execute(&mut *tx).await?;
            tx.commit().await?;
        });
        self.run(client_key, id).await
    }

    /// Puts a running run back in the queue after a transient error, with the reason, unless
    /// `max` turns in a row already ended so (progress resets the count); returns the count,
    /// or `None` when the run was not requeued (too many turns, or the lease is gone).
    pub async fn requeue_run(&self, run: &Run, why: &str, max: i64) -> StoreResult<Option<i64>> {
        let now = now_ms();
        let row: Option<(i64,)> = dispatch!(self, p => sqlx::query_as(
            "update runs set status = 'queued', retries = retries + 1, error = $3, lease_owner = null, lease_expires_at = null, updated_at = $4 \
             where id = $1 and lease_token = $2 and status = 'running' and retries < $5 returning retries")
            .bind(&run.id).bind(run.lease_token).bind(why).bind(now).bind(max).fetch_optional(p).await)?;
        Ok(row.map(|(n,)| n))
    }

    /// The runs of a mapping, newest first.
    pub async fn runs_of(&self, client_key: &str, mapping_id: &str) -> StoreResult<Vec<Run>> {
        Ok(dispatch!(self, p => sqlx::query_as::<_, Run>(
            "select id, client_key, mapping_id, mapping_version, status, phase, control, items_total, error, lease_token, started_by, created_at, updated_at, finished_at \
             from runs where client_key = $1 and mapping_id = $2 order by created_at desc, id")
            .bind(client_key).bind(mapping_id).fetch_all(p).await)?)
    }

    /// Claims the oldest queued run, or a running one whose lease expired.
    pub async fn claim_run(&self, owner: &str, lease_ms: i64) -> StoreResult<Option<Run>> {
        let now = now_ms();
        let sql = "update runs set status = 'running', lease_owner = $1, lease_token = lease_token + 1, lease_expires_at = $2, updated_at = $3 \
                   where id = (select id from runs where status = 'queued' or (status = 'running' and lease_expires_at < $3) order by created_at limit 1) \
                     and (status = 'queued' or (status = 'running' and lease_expires_at < $3)) \
                   returning id, client_key, mapping_id, mapping_version, status, phase, control, items_total, error, lease_token, started_by, created_at, updated_at, finished_at";
        Ok(
            dispatch!(self, p => sqlx::query_as::<_, Run>(sql).bind(owner).bind(now + lease_ms).bind(now).fetch_optional(p).await)?,
        )
    }

    /// Extends the lease and reads the control word; `Conflict` if the lease was lost.
    pub async fn heartbeat_run(&self, run: &Run, lease_ms: i64) -> StoreResult<Option<String>> {
        let now = now_ms();
        let row: Option<(Option<String>,)> = dispatch!(self, p => sqlx::query_as(
            "update runs set lease_expires_at = $3, updated_at = $4 where id = $1 and lease_token = $2 and status = 'running' returning control")
            .bind(&run.id).bind(run.lease_token).bind(now + lease_ms).bind(now).fetch_optional(p).await)?;
        row.map(|(c,)| c).ok_or_else(lost)
    }

    /// Seeds the id map with every item in scope and its wave (idempotent), and moves to the
    /// create phase.
    pub async fn seed_run(&self, run: &Run, items: &[(i64, i64)]) -> StoreResult<()> {
        let now = now_ms();
        dispatch!(self, p => {
            let mut tx = p.begin().await?;
            fenced_tx_guard!(tx, run, now);
            for chunk in items.chunks(500) {
                let mut q = sqlx::QueryBuilder::new("insert into run_items (client_key, run_id, ado_id, wave, state) ");
                q.push_values(chunk, |mut b, (id, wave)| {
                    b.push_bind(&run.client_key).push_bind(&run.id).push_bind(*id).push_bind(*wave).push_bind("pending");
                });
                q.push(" on conflict (run_id, ado_id) do nothing");
                q.build().execute(&mut *tx).await?;
            }
            sqlx::query("update runs set phase = 'create', items_total = $2 where id = $1")
                .bind(&run.id).bind(items.len() as i64).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Items of a run in `state`, lowest wave first, then by id; at most `limit`.
    pub async fn run_items_in(
        &self,
        run: &Run,
        state: &str,
        limit: i64,
    ) -> StoreResult<Vec<RunItem>> {
        Ok(dispatch!(self, p => sqlx::query_as::<_, RunItem>(
            "select ado_id, wave, state, attempts, jira_id, jira_key, error_code, error_field from run_items \
             where run_id = $1 and state = $2 order by wave, ado_id limit $3")
            .bind(&run.id).bind(state).bind(limit).fetch_all(p).await)?)
    }

    /// The id map's created rows for `ids` (parents' keys for a batch).
    pub async fn run_keys(&self, run: &Run, ids: &[i64]) -> StoreResult<Vec<RunItem>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let marks: Vec<String> = (0..ids.len()).map(|n| format!("${}", n + 2)).collect();
        let sql = format!(
            "select ado_id, wave, state, attempts, jira_id, jira_key, error_code, error_field from run_items \
             where run_id = $1 and state = 'created' and ado_id in ({})",
            marks.join(", ")
        );
        Ok(dispatch!(self, p => {
            let mut q = sqlx::query_as::<_, RunItem>(&sql).bind(&run.id);
            for id in ids {
                q = q.bind(*id);
            }
            q.fetch_all(p).await
        })?)
    }

    /// Marks items as carried by a create call about to be sent (the intent, written first).
    pub async fn mark_sent(&self, run: &Run, ids: &[i64]) -> StoreResult<()> {
        self.record(run, ids.iter().map(|id| (*id, None)).collect(), true)
            .await
    }

    /// Records the outcome of items (created with their ids, or failed with a code).
    pub async fn record_outcomes(
        &self,
        run: &Run,
        outcomes: Vec<(i64, ItemOutcome)>,
    ) -> StoreResult<()> {
        self.record(
            run,
            outcomes.into_iter().map(|(id, o)| (id, Some(o))).collect(),
            false,
        )
        .await
    }

    async fn record(
        &self,
        run: &Run,
        rows: Vec<(i64, Option<ItemOutcome>)>,
        sending: bool,
    ) -> StoreResult<()> {
        let now = now_ms();
        dispatch!(self, p => {
            let mut tx = p.begin().await?;
            fenced_tx_guard!(tx, run, now);
            for (id, outcome) in &rows {
                let q = match outcome {
                    None if sending => sqlx::query("update run_items set state = 'sent', attempts = attempts + 1 where run_id = $1 and ado_id = $2").bind(&run.id).bind(*id),
                    None => continue,
                    Some(ItemOutcome::Created { id: jira_id, key }) => sqlx::query(
                        "update run_items set state = 'created', jira_id = $3, jira_key = $4, error_code = null, error_field = null where run_id = $1 and ado_id = $2")
                        .bind(&run.id).bind(*id).bind(jira_id).bind(key),
                    Some(ItemOutcome::Pending) => sqlx::query("update run_items set state = 'pending' where run_id = $1 and ado_id = $2")
                        .bind(&run.id).bind(*id),
                    Some(ItemOutcome::Failed { code, field }) => sqlx::query(
                        "update run_items set state = 'failed', error_code = $3, error_field = $4 where run_id = $1 and ado_id = $2")
                        .bind(&run.id).bind(*id).bind(code).bind(field),
                };
                q.execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// Items per state.
    pub async fn run_counts(&self, client_key: &str, id: &str) -> StoreResult<Vec<StateCount>> {
        Ok(dispatch!(self, p => sqlx::query_as::<_, StateCount>(
            "select state, count(*) as items from run_items where client_key = $1 and run_id = $2 group by state order by state")
            .bind(client_key).bind(id).fetch_all(p).await)?)
    }

    /// Ends a run's turn with this worker: `paused`, `cancelled`, `completed` or `failed`.
    pub async fn finish_run(
        &self,
        run: &Run,
        status: &str,
        error: Option<&str>,
    ) -> StoreResult<()> {
        let now = now_ms();
        let finished = (status != "paused").then_some(now);
        dispatch!(self, p => {
            let mut tx = p.begin().await?;
            let changed = sqlx::query("update runs set status = $3, error = $4, finished_at = $5, control = null, lease_owner = null, lease_expires_at = null, \
                                       phase = case when $3 = 'completed' then 'done' else phase end, updated_at = $6 \
                                       where id = $1 and lease_token = $2 and status = 'running'")
                .bind(&run.id).bind(run.lease_token).bind(status).bind(error).bind(finished).bind(now)
                .execute(&mut *tx).await?.rows_affected();
            if changed == 0 {
                return Err(lost());
            }
            sqlx::query(INSERT_AUDIT).bind(&run.client_key).bind("ferry").bind(format!("run.{status}"))
                .bind(serde_json::json!({ "runId": run.id }).to_string()).bind(now).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(())
        })
    }
}
