//! What a run's progress events and its report read: counts per phase in one snapshot, the
//! failures of the id map and of the sub-item checkpoints, the hierarchy changes items were
//! created with, the issues Jira says were deleted since, and who acted on the run. Ids,
//! codes and counts only, never ticket content.

use serde::Serialize;

use super::{AuditEntry, Run, Store, StoreResult, dispatch, not_found, now_ms};
use crate::store::runs::fenced_tx_guard;

/// A run and its counts, read together for one progress event.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    /// The run row.
    pub run: Run,
    /// Items per (state, followed).
    pub items: Vec<ItemCount>,
    /// Sub-items per (kind, state).
    pub steps: Vec<super::StepCount>,
    /// Preflight's objects per (kind, origin or sprint stage).
    pub objects: Vec<ObjectCount>,
}

/// Items of a run per state, and whether phases 3–7 are done for them.
#[derive(Debug, Clone, sqlx::FromRow, Serialize, PartialEq, Eq)]
pub struct ItemCount {
    /// `pending`, `sent`, `created` or `failed`.
    pub state: String,
    /// 1 when followed.
    pub followed: i64,
    /// How many.
    pub items: i64,
}

/// Preflight's objects per kind and where they stand.
#[derive(Debug, Clone, sqlx::FromRow, Serialize, PartialEq, Eq)]
pub struct ObjectCount {
    /// `component`, `sprint` or `account`.
    pub kind: String,
    /// The sprint's stage when it has one, else the origin.
    pub stage: String,
    /// How many.
    pub items: i64,
}

/// One failure: an item not created, or one of its sub-items refused.
#[derive(Debug, Clone, sqlx::FromRow, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Failure {
    /// ADO id.
    pub ado_id: i64,
    /// The Jira key, when the item was created.
    pub jira_key: Option<String>,
    /// `create` or `followup`.
    pub phase: String,
    /// The sub-item kind (followup only).
    pub kind: Option<String>,
    /// Which one of its kind (followup only).
    pub ord: Option<i64>,
    /// Problem code.
    pub code: Option<String>,
    /// The field concerned.
    pub field: Option<String>,
}

/// An item whose Jira issue was deleted after the run made it.
#[derive(Debug, Clone, sqlx::FromRow, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Deleted {
    /// ADO id.
    pub ado_id: i64,
    /// The Jira id it had.
    pub jira_id: Option<String>,
    /// The Jira key it had.
    pub jira_key: Option<String>,
    /// When Jira said so (unix ms).
    pub deleted_at: i64,
}

impl Store {
    /// The run and its counts, for one progress event.
    pub async fn run_progress(&self, client_key: &str, id: &str) -> StoreResult<Progress> {
        let run = self.run(client_key, id).await?;
        let (items, objects) = dispatch!(self, p => {
            let items = sqlx::query_as::<_, ItemCount>(
                "select state, followed, count(*) as items from run_items where run_id = $1 \
                 group by state, followed order by state, followed")
                .bind(id).fetch_all(p).await?;
            let objects = sqlx::query_as::<_, ObjectCount>(
                "select kind, coalesce(stage, origin) as stage, count(*) as items from run_objects \
                 where run_id = $1 group by kind, coalesce(stage, origin) order by kind, stage")
                .bind(id).fetch_all(p).await?;
            (items, objects)
        });
        let steps = self.step_counts(client_key, id).await?;
        Ok(Progress {
            run,
            items,
            steps,
            objects,
        })
    }

    /// Records hierarchy changes of items about to be created (idempotent; fenced).
    pub async fn note_items(&self, run: &Run, notes: &[(i64, &str)]) -> StoreResult<()> {
        if notes.is_empty() {
            return Ok(());
        }
        let now = now_ms();
        dispatch!(self, p => {
            let mut tx = p.begin().await?;
            fenced_tx_guard!(tx, run, now);
            for (id, code) in notes {
                sqlx::query("insert into run_notes (client_key, run_id, ado_id, code) values ($1, $2, $3, $4) \
                             on conflict (run_id, ado_id, code) do nothing")
                    .bind(&run.client_key).bind(&run.id).bind(*id).bind(*code)
                    .execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// Created items with a hierarchy change: (ADO id, Jira key, code), by code then id.
    pub async fn run_notes(
        &self,
        client_key: &str,
        id: &str,
    ) -> StoreResult<Vec<(i64, Option<String>, String)>> {
        Ok(dispatch!(self, p => sqlx::query_as(
            "select n.ado_id, i.jira_key, n.code from run_notes n \
             join run_items i on i.run_id = n.run_id and i.ado_id = n.ado_id \
             where n.client_key = $1 and n.run_id = $2 and i.state = 'created' order by n.code, n.ado_id")
            .bind(client_key).bind(id).fetch_all(p).await)?)
    }

    /// Every failure of a run: items not created, then refused sub-items; by ADO id.
    pub async fn run_failures(&self, client_key: &str, id: &str) -> StoreResult<Vec<Failure>> {
        Ok(dispatch!(self, p => sqlx::query_as::<_, Failure>(
            "select ado_id, jira_key, 'create' as phase, cast(null as text) as kind, cast(null as bigint) as ord, \
                    error_code as code, error_field as field \
             from run_items where client_key = $1 and run_id = $2 and state = 'failed' \
             union all \
             select s.ado_id, i.jira_key, 'followup' as phase, s.kind, s.ord, s.error_code as code, cast(null as text) as field \
             from run_steps s join run_items i on i.run_id = s.run_id and i.ado_id = s.ado_id \
             where s.client_key = $1 and s.run_id = $2 and s.state = 'failed' \
             order by ado_id, phase, kind, ord")
            .bind(client_key).bind(id).fetch_all(p).await)?)
    }

    /// Marks the id map's rows of a Jira issue as deleted in Jira; returns how many runs had
    /// it. Idempotent: a retried webhook changes nothing.
    pub async fn mark_jira_deleted(&self, client_key: &str, jira_id: &str) -> StoreResult<u64> {
        let now = now_ms();
        Ok(dispatch!(self, p => sqlx::query(
            "update run_items set jira_deleted_at = $3 where client_key = $1 and jira_id = $2 and jira_deleted_at is null")
            .bind(client_key).bind(jira_id).bind(now).execute(p).await.map(|r| r.rows_affected()))?)
    }

    /// Items of a run whose issue Jira deleted since, by ADO id.
    pub async fn jira_deleted(&self, client_key: &str, id: &str) -> StoreResult<Vec<Deleted>> {
        Ok(dispatch!(self, p => sqlx::query_as::<_, Deleted>(
            "select ado_id, jira_id, jira_key, jira_deleted_at as deleted_at from run_items \
             where client_key = $1 and run_id = $2 and jira_deleted_at is not null order by ado_id")
            .bind(client_key).bind(id).fetch_all(p).await)?)
    }

    /// The audit entries about one run (started, pause, resume, cancel and how it ended),
    /// oldest first.
    pub async fn run_audit(&self, client_key: &str, id: &str) -> StoreResult<Vec<AuditEntry>> {
        // The detail is JSON written by serde with no spaces; run ids are UUIDs (no wildcards).
        let needle = format!("%\"runId\":\"{id}\"%");
        dispatch!(self, p => sqlx::query_as::<_, AuditEntry>(
            "select id, actor, action, detail, created_at from audit_log \
             where client_key = $1 and action like 'run.%' and detail like $2 order by id")
            .bind(client_key).bind(&needle).fetch_all(p).await)
        .map_err(not_found)
    }
}
