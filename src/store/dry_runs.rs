//! Dry runs: a background job per mapping version, claimed by a lease with a fencing token like
//! a scan. Each batch's outcomes and its checkpoint commit together, so a crash resumes after
//! the last batch. Outcomes and problem codes only: nothing of the items' content.

use serde::Serialize;

use super::{Store, StoreError, StoreResult, audit::INSERT_AUDIT, dispatch, not_found, now_ms};

/// A dry run row.
#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DryRun {
    /// Public id.
    pub id: String,
    /// Owning tenant.
    #[serde(skip)]
    pub client_key: String,
    /// The mapping.
    pub mapping_id: String,
    /// The version it checks.
    pub mapping_version: i64,
    /// `queued`, `running`, `completed` or `failed`.
    pub status: String,
    /// Items in scope.
    pub items_total: Option<i64>,
    /// Items checked.
    pub items_done: i64,
    /// Checkpoint.
    #[serde(skip)]
    pub last_id: i64,
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

/// One item's outcome, as the dry run stores it.
#[derive(Debug, Clone)]
pub struct DryItem {
    /// ADO id.
    pub ado_id: i64,
    /// ADO type.
    pub item_type: String,
    /// Jira type id.
    pub jira_type: Option<String>,
    /// `create`, `skip` or `fail`.
    pub outcome: &'static str,
    /// Its problems.
    pub problems: Vec<ProblemRow>,
}

/// One stored problem of an item.
#[derive(Debug, Clone)]
pub struct ProblemRow {
    /// Problem code.
    pub code: &'static str,
    /// `error`, `warning` or `info`.
    pub severity: &'static str,
    /// The field concerned.
    pub field: Option<String>,
    /// A value, a name or a number; never free text.
    pub detail: Option<String>,
}

/// Items per (type, outcome).
#[derive(Debug, Clone, sqlx::FromRow, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct OutcomeCount {
    /// ADO type.
    pub item_type: String,
    /// Outcome.
    pub outcome: String,
    /// Items.
    pub items: i64,
    /// Of them, with at least one warning.
    pub warned: i64,
}

/// Items per problem code.
#[derive(Debug, Clone, sqlx::FromRow, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ProblemCount {
    /// Code.
    pub code: String,
    /// Severity.
    pub severity: String,
    /// Distinct items.
    pub items: i64,
}

/// One affected item of a problem.
#[derive(Debug, Clone, sqlx::FromRow, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ProblemItem {
    /// ADO id.
    pub ado_id: i64,
    /// Field.
    pub field: Option<String>,
    /// Detail.
    pub detail: Option<String>,
}

fn lost() -> StoreError {
    StoreError::Conflict("dry run lease lost".into())
}

impl Store {
    /// Queues a dry run of a mapping's current version; refused while one is under way.
    pub async fn queue_dry_run(
        &self,
        client_key: &str,
        mapping_id: &str,
        version: i64,
        actor: &str,
    ) -> StoreResult<DryRun> {
        let now = now_ms();
        let id = uuid::Uuid::new_v4().to_string();
        let busy = || StoreError::Conflict("a dry run of this mapping is already under way".into());
        dispatch!(self, p => {
            let mut tx = p.begin().await?;
            let inserted = sqlx::query(
                "insert into dry_runs (id, client_key, mapping_id, mapping_version, status, started_by, created_at, updated_at) \
                 select $1, $2, $3, $4, 'queued', $5, $6, $6 \
                 where not exists (select 1 from dry_runs where mapping_id = $3 and status in ('queued', 'running'))")
                .bind(&id).bind(client_key).bind(mapping_id).bind(version).bind(actor).bind(now)
                .execute(&mut *tx).await;
            match inserted {
                Ok(r) if r.rows_affected() == 0 => return Err(busy()),
                Err(sqlx::Error::Database(e)) if e.is_unique_violation() => return Err(busy()),
                other => { other?; }
            }
            sqlx::query(INSERT_AUDIT).bind(client_key).bind(actor).bind("dry_run.queued")
                .bind(serde_json::json!({ "dryRunId": id, "mappingId": mapping_id, "version": version }).to_string()).bind(now)
                .execute(&mut *tx).await?;
            tx.commit().await?;
        });
        self.dry_run(client_key, &id).await
    }

    /// One dry run of this tenant.
    pub async fn dry_run(&self, client_key: &str, id: &str) -> StoreResult<DryRun> {
        dispatch!(self, p => sqlx::query_as::<_, DryRun>("select * from dry_runs where client_key = $1 and id = $2")
            .bind(client_key).bind(id).fetch_one(p).await).map_err(not_found)
    }

    /// The newest dry run of a mapping.
    pub async fn latest_dry_run(&self, client_key: &str, mapping_id: &str) -> StoreResult<DryRun> {
        dispatch!(self, p => sqlx::query_as::<_, DryRun>(
            "select * from dry_runs where client_key = $1 and mapping_id = $2 order by created_at desc limit 1")
            .bind(client_key).bind(mapping_id).fetch_one(p).await).map_err(not_found)
    }

    /// Claims the oldest queued dry run, or a running one whose lease expired.
    pub async fn claim_dry_run(&self, owner: &str, lease_ms: i64) -> StoreResult<Option<DryRun>> {
        let now = now_ms();
        let sql = "update dry_runs set status = 'running', lease_owner = $1, lease_token = lease_token + 1, \
                   lease_expires_at = $2, updated_at = $3 \
                   where id = (select id from dry_runs where status = 'queued' or (status = 'running' and lease_expires_at < $3) \
                               order by created_at limit 1) \
                     and (status = 'queued' or (status = 'running' and lease_expires_at < $3)) \
                   returning *";
        Ok(
            dispatch!(self, p => sqlx::query_as::<_, DryRun>(sql).bind(owner).bind(now + lease_ms).bind(now).fetch_optional(p).await)?,
        )
    }

    /// Records the total; a run starting from zero forgets outcomes of an earlier attempt.
    pub async fn begin_dry_run(&self, run: &DryRun, total: i64) -> StoreResult<()> {
        let now = now_ms();
        dispatch!(self, p => {
            let mut tx = p.begin().await?;
            let changed = sqlx::query("update dry_runs set items_total = $3, updated_at = $4 where id = $1 and lease_token = $2 and status = 'running'")
                .bind(&run.id).bind(run.lease_token).bind(total).bind(now).execute(&mut *tx).await?.rows_affected();
            if changed == 0 {
                return Err(lost());
            }
            if run.last_id == 0 {
                sqlx::query("delete from dry_run_problems where dry_run_id = $1").bind(&run.id).execute(&mut *tx).await?;
                sqlx::query("delete from dry_run_items where dry_run_id = $1").bind(&run.id).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// Writes one batch's outcomes, moves the checkpoint to `last_id` and extends the lease.
    pub async fn write_dry_run_batch(
        &self,
        run: &DryRun,
        items: &[DryItem],
        last_id: i64,
        lease_ms: i64,
    ) -> StoreResult<()> {
        let now = now_ms();
        dispatch!(self, p => {
            let mut tx = p.begin().await?;
            let changed = sqlx::query("update dry_runs set items_done = items_done + $3, last_id = $4, updated_at = $5, lease_expires_at = $6 \
                                       where id = $1 and lease_token = $2 and status = 'running'")
                .bind(&run.id).bind(run.lease_token).bind(items.len() as i64).bind(last_id).bind(now).bind(now + lease_ms)
                .execute(&mut *tx).await?.rows_affected();
            if changed == 0 {
                return Err(lost());
            }
            if !items.is_empty() {
                let mut q = sqlx::QueryBuilder::new("insert into dry_run_items (client_key, dry_run_id, ado_id, item_type, jira_type, outcome, warnings) ");
                q.push_values(items, |mut b, i| {
                    let warnings = i.problems.iter().filter(|p| p.severity == "warning").count() as i64;
                    b.push_bind(&run.client_key).push_bind(&run.id).push_bind(i.ado_id).push_bind(&i.item_type)
                        .push_bind(&i.jira_type).push_bind(i.outcome).push_bind(warnings);
                });
                q.build().execute(&mut *tx).await?;
            }
            let problems: Vec<(i64, &ProblemRow)> =
                items.iter().flat_map(|i| i.problems.iter().map(move |p| (i.ado_id, p))).collect();
            for chunk in problems.chunks(500) {
                let mut q = sqlx::QueryBuilder::new("insert into dry_run_problems (client_key, dry_run_id, ado_id, code, severity, field, detail) ");
                q.push_values(chunk, |mut b, (id, p)| {
                    b.push_bind(&run.client_key).push_bind(&run.id).push_bind(*id).push_bind(p.code).push_bind(p.severity)
                        .push_bind(p.field.as_deref()).push_bind(p.detail.as_deref());
                });
                q.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// Completes a dry run. Items created under a parent that fails are found now that every
    /// outcome is known (a parent may come after its child in id order) and get a warning.
    pub async fn complete_dry_run(&self, run: &DryRun, catalog_id: &str) -> StoreResult<()> {
        dispatch!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query("delete from dry_run_problems where dry_run_id = $1 and code = 'parent_fails'")
                .bind(&run.id).execute(&mut *tx).await?;
            sqlx::query(
                "insert into dry_run_problems (client_key, dry_run_id, ado_id, code, severity, field, detail) \
                 select c.client_key, $1, c.ado_id, 'parent_fails', 'warning', null, cast(c.parent_id as text) \
                 from catalog_items c \
                 join dry_run_items child on child.dry_run_id = $1 and child.ado_id = c.ado_id and child.outcome = 'create' \
                 join dry_run_items parent on parent.dry_run_id = $1 and parent.ado_id = c.parent_id and parent.outcome = 'fail' \
                 where c.catalog_id = $2")
                .bind(&run.id).bind(catalog_id).execute(&mut *tx).await?;
            sqlx::query(
                "update dry_run_items set warnings = (select count(*) from dry_run_problems p \
                   where p.dry_run_id = dry_run_items.dry_run_id and p.ado_id = dry_run_items.ado_id and p.severity = 'warning') \
                 where dry_run_id = $1")
                .bind(&run.id).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok::<(), StoreError>(())
        })?;
        self.finish_dry_run(run, None).await
    }

    /// Ends a dry run, completed or failed with Ferry's own words.
    pub async fn finish_dry_run(&self, run: &DryRun, error: Option<&str>) -> StoreResult<()> {
        let now = now_ms();
        let (status, action) = if error.is_some() {
            ("failed", "dry_run.failed")
        } else {
            ("completed", "dry_run.completed")
        };
        dispatch!(self, p => {
            let mut tx = p.begin().await?;
            let changed = sqlx::query("update dry_runs set status = $3, error = $4, finished_at = $5, updated_at = $5, lease_owner = null, lease_expires_at = null \
                                       where id = $1 and lease_token = $2 and status = 'running'")
                .bind(&run.id).bind(run.lease_token).bind(status).bind(error).bind(now).execute(&mut *tx).await?.rows_affected();
            if changed == 0 {
                return Err(lost());
            }
            sqlx::query(INSERT_AUDIT).bind(&run.client_key).bind("ferry").bind(action)
                .bind(serde_json::json!({ "dryRunId": run.id }).to_string()).bind(now).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Items per (type, outcome).
    pub async fn dry_run_outcomes(
        &self,
        client_key: &str,
        id: &str,
    ) -> StoreResult<Vec<OutcomeCount>> {
        Ok(dispatch!(self, p => sqlx::query_as::<_, OutcomeCount>(
            "select item_type, outcome, count(*) as items, coalesce(sum(case when warnings > 0 then 1 else 0 end), 0) as warned \
             from dry_run_items where client_key = $1 and dry_run_id = $2 group by item_type, outcome order by item_type, outcome")
            .bind(client_key).bind(id).fetch_all(p).await)?)
    }

    /// Distinct items per problem code.
    pub async fn dry_run_problem_counts(
        &self,
        client_key: &str,
        id: &str,
    ) -> StoreResult<Vec<ProblemCount>> {
        Ok(dispatch!(self, p => sqlx::query_as::<_, ProblemCount>(
            "select code, severity, count(distinct ado_id) as items from dry_run_problems where client_key = $1 and dry_run_id = $2 \
             group by code, severity order by severity, items desc, code")
            .bind(client_key).bind(id).fetch_all(p).await)?)
    }

    /// Items with a problem code, in id order after `after`, at most `limit`.
    pub async fn dry_run_problem_items(
        &self,
        client_key: &str,
        id: &str,
        code: &str,
        after: i64,
        limit: i64,
    ) -> StoreResult<Vec<ProblemItem>> {
        Ok(dispatch!(self, p => sqlx::query_as::<_, ProblemItem>(
            "select ado_id, field, detail from dry_run_problems where client_key = $1 and dry_run_id = $2 and code = $3 and ado_id > $4 \
             order by ado_id, field, detail limit $5")
            .bind(client_key).bind(id).bind(code).bind(after).bind(limit).fetch_all(p).await)?)
    }
}
