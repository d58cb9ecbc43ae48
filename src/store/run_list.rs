//! The migrations list: a tenant's runs, newest first, with the counts its table shows.
//! Read-only; the run page reads one run in full through [`Store::run`].

use serde::Serialize;

use super::{Store, StoreResult, dispatch};

/// One row of the migrations list.
#[derive(Debug, Clone, sqlx::FromRow, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct RunSummary {
    /// Public id.
    pub id: String,
    /// The mapping.
    pub mapping_id: String,
    /// The Jira project it writes to.
    pub project_key: String,
    /// Run state.
    pub status: String,
    /// Current phase.
    pub phase: String,
    /// Items in scope, once seeded.
    pub items_total: Option<i64>,
    /// Items created in Jira.
    pub items_created: i64,
    /// Items Jira refused.
    pub items_failed: i64,
    /// Who started it.
    pub started_by: String,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub finished_at: Option<i64>,
}

impl Store {
    /// The tenant's runs, newest first, at most `limit` (1 to 200), started before `before`
    /// (unix ms) when given.
    pub async fn tenant_runs(
        &self,
        client_key: &str,
        before: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<RunSummary>> {
        let before = before.unwrap_or(i64::MAX);
        Ok(dispatch!(self, p => sqlx::query_as::<_, RunSummary>(
            "select r.id, r.mapping_id, m.project_key, r.status, r.phase, r.items_total, r.started_by, r.created_at, r.finished_at, \
             (select count(*) from run_items i where i.run_id = r.id and i.state = 'created') as items_created, \
             (select count(*) from run_items i where i.run_id = r.id and i.state = 'failed') as items_failed \
             from runs r join mappings m on m.id = r.mapping_id and m.client_key = r.client_key \
             where r.client_key = $1 and r.created_at < $2 order by r.created_at desc, r.id limit $3")
            .bind(client_key).bind(before).bind(limit.clamp(1, 200))
            .fetch_all(p).await)?)
    }
}
