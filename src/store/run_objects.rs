//! What a run's preflight found or made in Jira (components, sprints), the accounts of its user
//! map that Jira no longer has, and the sprints phase's checkpoint per sprint. Ids only: names
//! are configuration and stay in the mapping. Every write is fenced by the run's lease.

use serde::Serialize;

use super::{Store, StoreResult, dispatch, now_ms};
use crate::store::{Run, RunItem, runs::fenced_tx_guard};

/// One object of a run.
#[derive(Debug, Clone, sqlx::FromRow, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct RunObject {
    /// `component`, `sprint` or `account`.
    pub kind: String,
    /// The Jira id (an accountId for accounts).
    pub jira_id: String,
    /// `created` (by this run), `found` (already there) or `unresolved` (an account Jira no
    /// longer has, or that is inactive: the fallback user stands in).
    pub origin: String,
    /// Sprints: how far the sprints phase got (`filled`, `started`, `closed`, `held`).
    pub stage: Option<String>,
}

impl Store {
    /// Records objects (kind, Jira id, origin); an object already recorded keeps its first
    /// origin, so a preflight run again after a crash reports what it really created.
    pub async fn record_run_objects(
        &self,
        run: &Run,
        objects: &[(&str, String, &str)],
    ) -> StoreResult<()> {
        let now = now_ms();
        dispatch!(self, p => {
            let mut tx = p.begin().await?;
            fenced_tx_guard!(tx, run, now);
            for (kind, id, origin) in objects {
                sqlx::query(
                    "insert into run_objects (client_key, run_id, kind, jira_id, origin) values ($1, $2, $3, $4, $5) \
                     on conflict (run_id, kind, jira_id) do nothing")
                    .bind(&run.client_key).bind(&run.id).bind(*kind).bind(id).bind(*origin)
                    .execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// The run's objects, by kind then id.
    pub async fn run_objects(&self, run: &Run) -> StoreResult<Vec<RunObject>> {
        Ok(dispatch!(self, p => sqlx::query_as::<_, RunObject>(
            "select kind, jira_id, origin, stage from run_objects where run_id = $1 order by kind, jira_id")
            .bind(&run.id).fetch_all(p).await)?)
    }

    /// Sets a sprint's stage (recording the sprint as found if it was not recorded yet).
    pub async fn set_sprint_stage(
        &self,
        run: &Run,
        sprint_id: &str,
        stage: &str,
    ) -> StoreResult<()> {
        let now = now_ms();
        dispatch!(self, p => {
            let mut tx = p.begin().await?;
            fenced_tx_guard!(tx, run, now);
            sqlx::query(
                "insert into run_objects (client_key, run_id, kind, jira_id, origin, stage) values ($1, $2, 'sprint', $3, 'found', $4) \
                 on conflict (run_id, kind, jira_id) do update set stage = $4")
                .bind(&run.client_key).bind(&run.id).bind(sprint_id).bind(stage)
                .execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Created items with an ADO id above `after`, by ADO id; at most `limit`.
    pub async fn created_items_after(
        &self,
        run: &Run,
        after: i64,
        limit: i64,
    ) -> StoreResult<Vec<RunItem>> {
        Ok(dispatch!(self, p => sqlx::query_as::<_, RunItem>(
            "select ado_id, wave, state, attempts, jira_id, jira_key, error_code, error_field from run_items \
             where run_id = $1 and state = 'created' and ado_id > $2 order by ado_id limit $3")
            .bind(&run.id).bind(after).bind(limit).fetch_all(p).await)?)
    }

    /// Items of a catalog over Jira's per-issue caps: more than `comments` comments,
    /// `attachments` attachments or `links` links.
    pub async fn catalog_items_over_caps(
        &self,
        client_key: &str,
        catalog_id: &str,
        (comments, attachments, links): (i64, i64, i64),
    ) -> StoreResult<i64> {
        let (n,): (i64,) = dispatch!(self, p => sqlx::query_as(
            "select count(*) from catalog_items where client_key = $1 and catalog_id = $2 \
             and (comments > $3 or attachments > $4 or links > $5)")
            .bind(client_key).bind(catalog_id).bind(comments).bind(attachments).bind(links)
            .fetch_one(p).await)?;
        Ok(n)
    }
}
