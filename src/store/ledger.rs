//! The id map across a tenant's runs, and the link ledger (phase 4).
//!
//! An issue link needs both ends in Jira. When one end is followed before the other exists
//! (still pending, failed, outside the run's scope), the link waits in `link_ledger` and is
//! written when the other end arrives: in this run, or in a later run over the same ADO
//! connection and Jira project, which finds the first end through the id maps of earlier
//! runs. Ids only; every write of a run is fenced by its lease.

use serde::Serialize;

use super::{Store, StoreResult, dispatch, now_ms};
use crate::store::{Run, runs::fenced_tx_guard};

/// Where an item landed in Jira, in this run or an earlier one.
#[derive(Debug, Clone, sqlx::FromRow, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct MigratedItem {
    /// ADO id.
    pub ado_id: i64,
    /// Jira issue id.
    pub jira_id: Option<String>,
    /// Jira issue key.
    pub jira_key: Option<String>,
    /// Its create wave in the run that holds it.
    pub wave: i64,
    /// Create calls of that run that carried it (0: the run found it already in Jira).
    pub attempts: i64,
    /// 1 when the row is this run's, 0 when it comes from an earlier run.
    pub this_run: i64,
}

/// One link waiting in (or healed from) the ledger, in Jira's direction.
#[derive(Debug, Clone, sqlx::FromRow, Serialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "camelCase")]
pub struct LedgerLink {
    /// The outward end's ADO id.
    pub from_ado_id: i64,
    /// The inward end's ADO id.
    pub to_ado_id: i64,
    /// Jira link type id.
    pub link_type: String,
    /// The end that was not migrated when the link was recorded.
    pub waiting_for: i64,
}

/// The ledger as a run report shows it.
#[derive(Debug, Clone, Default, sqlx::FromRow, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct LedgerCounts {
    /// Links of the run's project still waiting for an end (whichever run recorded them).
    pub waiting: i64,
    /// Links this run recorded as waiting (some may be healed since).
    pub recorded: i64,
    /// Links this run wrote from the ledger.
    pub healed: i64,
}

impl Store {
    /// Where `ids` landed in Jira for this tenant's ADO connection and Jira project: this
    /// run's created rows first, else the newest earlier run's. At most one row per id.
    pub async fn migrated_items(
        &self,
        run: &Run,
        connection_id: &str,
        project_key: &str,
        ids: &[i64],
    ) -> StoreResult<Vec<MigratedItem>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let marks: Vec<String> = (0..ids.len()).map(|n| format!("${}", n + 5)).collect();
        let sql = format!(
            "select ri.ado_id, ri.jira_id, ri.jira_key, ri.wave, ri.attempts, \
                    cast(case when ri.run_id = $1 then 1 else 0 end as bigint) as this_run \
             from run_items ri join runs r on r.id = ri.run_id \
             join mappings m on m.id = r.mapping_id join catalogs c on c.id = m.catalog_id \
             where ri.client_key = $2 and ri.state = 'created' and c.connection_id = $3 \
               and m.project_key = $4 and ri.ado_id in ({}) \
             order by ri.ado_id, this_run desc, r.created_at desc",
            marks.join(", ")
        );
        let rows: Vec<MigratedItem> = dispatch!(self, p => {
            let mut q = sqlx::query_as::<_, MigratedItem>(&sql)
                .bind(&run.id).bind(&run.client_key).bind(connection_id).bind(project_key);
            for id in ids {
                q = q.bind(*id);
            }
            q.fetch_all(p).await
        })?;
        let mut out: Vec<MigratedItem> = Vec::with_capacity(rows.len());
        for row in rows {
            if out.last().is_none_or(|l| l.ado_id != row.ado_id) {
                out.push(row);
            }
        }
        Ok(out)
    }

    /// Records a link waiting for its missing end (idempotent: a link already in the ledger,
    /// waiting or healed, is left as it is).
    pub async fn ledger_wait(
        &self,
        run: &Run,
        connection_id: &str,
        project_key: &str,
        link: &LedgerLink,
    ) -> StoreResult<()> {
        let now = now_ms();
        dispatch!(self, p => {
            let mut tx = p.begin().await?;
            fenced_tx_guard!(tx, run, now);
            sqlx::query(
                "insert into link_ledger (client_key, connection_id, project_key, from_ado_id, to_ado_id, link_type, \
                 waiting_for, state, recorded_run, created_at, updated_at) \
                 values ($1, $2, $3, $4, $5, $6, $7, 'waiting', $8, $9, $9) \
                 on conflict (client_key, connection_id, project_key, from_ado_id, to_ado_id, link_type) do nothing")
                .bind(&run.client_key).bind(connection_id).bind(project_key)
                .bind(link.from_ado_id).bind(link.to_ado_id).bind(&link.link_type)
                .bind(link.waiting_for).bind(&run.id).bind(now)
                .execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// The waiting links one of whose ends is `ado_id`.
    pub async fn ledger_waiting(
        &self,
        client_key: &str,
        connection_id: &str,
        project_key: &str,
        ado_id: i64,
    ) -> StoreResult<Vec<LedgerLink>> {
        Ok(dispatch!(self, p => sqlx::query_as::<_, LedgerLink>(
            "select from_ado_id, to_ado_id, link_type, waiting_for from link_ledger \
             where client_key = $1 and connection_id = $2 and project_key = $3 and state = 'waiting' \
               and (from_ado_id = $4 or to_ado_id = $4) \
             order by from_ado_id, to_ado_id, link_type")
            .bind(client_key).bind(connection_id).bind(project_key).bind(ado_id)
            .fetch_all(p).await)?)
    }

    /// Marks a waiting link as written by this run.
    pub async fn ledger_heal(
        &self,
        run: &Run,
        connection_id: &str,
        project_key: &str,
        link: &LedgerLink,
    ) -> StoreResult<()> {
        let now = now_ms();
        dispatch!(self, p => {
            let mut tx = p.begin().await?;
            fenced_tx_guard!(tx, run, now);
            sqlx::query(
                "update link_ledger set state = 'healed', healed_run = $7, updated_at = $8 \
                 where client_key = $1 and connection_id = $2 and project_key = $3 \
                   and from_ado_id = $4 and to_ado_id = $5 and link_type = $6 and state = 'waiting'")
                .bind(&run.client_key).bind(connection_id).bind(project_key)
                .bind(link.from_ado_id).bind(link.to_ado_id).bind(&link.link_type)
                .bind(&run.id).bind(now)
                .execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// The ledger for a run's report: what still waits in its project, what it recorded and
    /// what it healed.
    pub async fn ledger_counts(&self, client_key: &str, run_id: &str) -> StoreResult<LedgerCounts> {
        Ok(dispatch!(self, p => sqlx::query_as::<_, LedgerCounts>(
            "select coalesce(sum(case when l.state = 'waiting' then 1 else 0 end), 0) as waiting, \
                    coalesce(sum(case when l.recorded_run = $2 then 1 else 0 end), 0) as recorded, \
                    coalesce(sum(case when l.healed_run = $2 then 1 else 0 end), 0) as healed \
             from runs r join mappings m on m.id = r.mapping_id join catalogs c on c.id = m.catalog_id \
             join link_ledger l on l.client_key = r.client_key and l.connection_id = c.connection_id \
                                and l.project_key = m.project_key \
             where r.client_key = $1 and r.id = $2")
            .bind(client_key).bind(run_id).fetch_one(p).await)?)
    }
}
