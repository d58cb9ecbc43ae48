//! Writing scan batches into a catalog and reading its summary. Each batch, its tallies and
//! its checkpoint commit together, under the scan's fencing token.

use serde::Serialize;

use super::{
    Scan, ScanBatch, SeenIdentity, Store, StoreError, StoreResult, audit::INSERT_AUDIT, dispatch,
    now_ms,
};

/// Counts of one (type, state) pair.
#[derive(Debug, Clone, sqlx::FromRow, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct TypeStateCount {
    /// Work item type.
    pub item_type: String,
    /// State.
    pub state: String,
    /// Items.
    pub items: i64,
}

/// Volumes over the whole catalog.
#[derive(Debug, Clone, Default, sqlx::FromRow, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Volumes {
    /// Work items.
    pub items: i64,
    /// Items with a parent.
    pub with_parent: i64,
    /// Comments.
    pub comments: i64,
    /// Attachments.
    pub attachments: i64,
    /// Attachment bytes.
    pub attachment_bytes: i64,
    /// Non-hierarchy links.
    pub links: i64,
    /// Revisions.
    pub revisions: i64,
    /// Items with at least one attachment (one upload call each).
    pub items_with_attachments: i64,
    /// Items with at least one comment (comment paging starts per item).
    pub items_with_comments: i64,
}

/// How many items fill a field.
#[derive(Debug, Clone, sqlx::FromRow, Serialize, PartialEq, Eq)]
pub struct FieldUse {
    /// Field reference name.
    pub field: String,
    /// Items with a value.
    pub filled: i64,
}

impl Store {
    /// Writes one batch, moves the checkpoint past it and extends the lease by `lease_ms`, all in
    /// one transaction; `Conflict` if the lease was lost.
    pub async fn write_scan_batch(
        &self,
        scan: &Scan,
        batch: &ScanBatch,
        lease_ms: i64,
    ) -> StoreResult<()> {
        let now = now_ms();
        let n = batch.items.len() as i64;
        dispatch!(self, p => {
            let mut tx = p.begin().await?;
            let changed = sqlx::query("update scans set items_done = items_done + $3, last_id = $4, updated_at = $5, lease_expires_at = $6 \
                                       where id = $1 and lease_token = $2 and status = 'running'")
                .bind(&scan.id).bind(scan.lease_token).bind(n).bind(batch.last_id).bind(now).bind(now + lease_ms)
                .execute(&mut *tx).await?.rows_affected();
            if changed == 0 {
                return Err(StoreError::Conflict("scan lease lost".into()));
            }
            if !batch.items.is_empty() {
                let mut q = sqlx::QueryBuilder::new("insert into catalog_items (client_key, catalog_id, ado_id, item_type, state, parent_id, area_path, iteration_path, rev, comments, attachments, attachment_bytes, links, generation) ");
                q.push_values(&batch.items, |mut b, i| {
                    b.push_bind(&scan.client_key).push_bind(&scan.catalog_id).push_bind(i.ado_id).push_bind(&i.item_type)
                        .push_bind(&i.state).push_bind(i.parent_id).push_bind(&i.area_path).push_bind(&i.iteration_path)
                        .push_bind(i.rev).push_bind(i.comments).push_bind(i.attachments).push_bind(i.attachment_bytes)
                        .push_bind(i.links).push_bind(scan.generation);
                });
                q.push(" on conflict (catalog_id, ado_id) do update set item_type = excluded.item_type, state = excluded.state, \
                         parent_id = excluded.parent_id, area_path = excluded.area_path, iteration_path = excluded.iteration_path, \
                         rev = excluded.rev, comments = excluded.comments, attachments = excluded.attachments, \
                         attachment_bytes = excluded.attachment_bytes, links = excluded.links, generation = excluded.generation");
                q.build().execute(&mut *tx).await?;
            }
            for (field, filled) in &batch.fields {
                sqlx::query("insert into catalog_fields (client_key, catalog_id, field, filled) values ($1, $2, $3, $4) \
                             on conflict (catalog_id, field) do update set filled = catalog_fields.filled + excluded.filled")
                    .bind(&scan.client_key).bind(&scan.catalog_id).bind(field).bind(filled).execute(&mut *tx).await?;
            }
            for ((field, value), items) in &batch.values {
                sqlx::query("insert into catalog_values (client_key, catalog_id, field, value, items) values ($1, $2, $3, $4, $5) \
                             on conflict (catalog_id, field, value) do update set items = catalog_values.items + excluded.items")
                    .bind(&scan.client_key).bind(&scan.catalog_id).bind(field).bind(value).bind(items).execute(&mut *tx).await?;
            }
            for who in &batch.identities {
                sqlx::query("insert into catalog_identities (client_key, catalog_id, identity_key, display_name, unique_name, seen) values ($1, $2, $3, $4, $5, $6) \
                             on conflict (catalog_id, identity_key) do update set seen = catalog_identities.seen + excluded.seen")
                    .bind(&scan.client_key).bind(&scan.catalog_id).bind(&who.identity_key).bind(&who.display_name)
                    .bind(&who.unique_name).bind(who.seen).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// Finishes a scan: items it did not see (deleted in ADO, or out of scope now) are swept.
    pub async fn complete_scan(&self, scan: &Scan) -> StoreResult<()> {
        self.finish_scan(scan, None).await
    }

    /// Marks a scan failed with Ferry's own description of why.
    pub async fn fail_scan(&self, scan: &Scan, why: &str) -> StoreResult<()> {
        self.finish_scan(scan, Some(why)).await
    }

    async fn finish_scan(&self, scan: &Scan, error: Option<&str>) -> StoreResult<()> {
        let now = now_ms();
        let (status, action) = if error.is_some() {
            ("failed", "scan.failed")
        } else {
            ("completed", "scan.completed")
        };
        dispatch!(self, p => {
            let mut tx = p.begin().await?;
            let changed = sqlx::query("update scans set status = $3, error = $4, finished_at = $5, updated_at = $5, lease_owner = null, lease_expires_at = null \
                                       where id = $1 and lease_token = $2 and status = 'running'")
                .bind(&scan.id).bind(scan.lease_token).bind(status).bind(error).bind(now)
                .execute(&mut *tx).await?.rows_affected();
            if changed == 0 {
                return Err(StoreError::Conflict("scan lease lost".into()));
            }
            if error.is_none() {
                sqlx::query("delete from catalog_items where catalog_id = $1 and generation < $2")
                    .bind(&scan.catalog_id).bind(scan.generation).execute(&mut *tx).await?;
            }
            sqlx::query(INSERT_AUDIT).bind(&scan.client_key).bind("ferry").bind(action)
                .bind(serde_json::json!({ "scanId": scan.id }).to_string()).bind(now).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Items per (type, state).
    pub async fn catalog_counts(
        &self,
        client_key: &str,
        catalog_id: &str,
    ) -> StoreResult<Vec<TypeStateCount>> {
        Ok(dispatch!(self, p => sqlx::query_as::<_, TypeStateCount>(
            "select item_type, state, count(*) as items from catalog_items where client_key = $1 and catalog_id = $2 \
             group by item_type, state order by item_type, state")
            .bind(client_key).bind(catalog_id).fetch_all(p).await)?)
    }

    /// Whole-catalog volumes.
    pub async fn catalog_volumes(
        &self,
        client_key: &str,
        catalog_id: &str,
    ) -> StoreResult<Volumes> {
        Ok(dispatch!(self, p => sqlx::query_as::<_, Volumes>(
            "select count(*) as items, count(parent_id) as with_parent, coalesce(sum(comments), 0) as comments, \
             coalesce(sum(attachments), 0) as attachments, coalesce(sum(attachment_bytes), 0) as attachment_bytes, \
             coalesce(sum(links), 0) as links, coalesce(sum(rev), 0) as revisions, \
             coalesce(sum(case when attachments > 0 then 1 else 0 end), 0) as items_with_attachments, \
             coalesce(sum(case when comments > 0 then 1 else 0 end), 0) as items_with_comments \
             from catalog_items where client_key = $1 and catalog_id = $2")
            .bind(client_key).bind(catalog_id).fetch_one(p).await)?)
    }

    /// Fields with how many items fill them, most used first.
    pub async fn catalog_fields(
        &self,
        client_key: &str,
        catalog_id: &str,
    ) -> StoreResult<Vec<FieldUse>> {
        Ok(dispatch!(self, p => sqlx::query_as::<_, FieldUse>(
            "select field, filled from catalog_fields where client_key = $1 and catalog_id = $2 order by filled desc, field")
            .bind(client_key).bind(catalog_id).fetch_all(p).await)?)
    }

    /// Every item's id and type: the scope of a dry run or a run.
    pub async fn catalog_item_types(
        &self,
        client_key: &str,
        catalog_id: &str,
    ) -> StoreResult<Vec<(i64, String)>> {
        Ok(dispatch!(self, p => sqlx::query_as::<_, (i64, String)>(
            "select ado_id, item_type from catalog_items where client_key = $1 and catalog_id = $2 order by ado_id")
            .bind(client_key).bind(catalog_id).fetch_all(p).await)?)
    }

    /// Identities seen, most frequent first.
    pub async fn catalog_identities(
        &self,
        client_key: &str,
        catalog_id: &str,
    ) -> StoreResult<Vec<SeenIdentity>> {
        Ok(dispatch!(self, p => sqlx::query_as::<_, SeenIdentity>(
            "select identity_key, display_name, unique_name, seen from catalog_identities where client_key = $1 and catalog_id = $2 \
             order by seen desc, identity_key")
            .bind(client_key).bind(catalog_id).fetch_all(p).await)?)
    }
}
