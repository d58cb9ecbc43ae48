//! Catalogs and their scans. A scan is claimed through a lease whose fencing token guards every
//! write: a worker that lost its lease (paused by GC, partitioned, presumed dead) cannot write
//! a batch or finish the scan after another worker took it over. Each batch and its checkpoint
//! commit in one transaction, so a crash resumes exactly after the last committed batch.

use super::{
    Catalog, Scan, Store, StoreError, StoreResult, audit::INSERT_AUDIT, dispatch, not_found, now_ms,
};

/// The lease was lost: another worker owns the scan now.
fn lost() -> StoreError {
    StoreError::Conflict("scan lease lost".into())
}

impl Store {
    /// The catalog of (connection, project, scope), created on first use.
    pub async fn catalog_for(
        &self,
        client_key: &str,
        connection_id: &str,
        project: &str,
        scope: &str,
    ) -> StoreResult<Catalog> {
        let now = now_ms();
        let id = uuid::Uuid::new_v4().to_string();
        dispatch!(self, p => sqlx::query(
            "insert into catalogs (id, client_key, connection_id, project, scope, created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $6) \
             on conflict (connection_id, project, scope) do nothing")
            .bind(&id).bind(client_key).bind(connection_id).bind(project).bind(scope).bind(now)
            .execute(p).await.map(|r| r.rows_affected()))?;
        dispatch!(self, p => sqlx::query_as::<_, Catalog>(
            "select id, client_key, connection_id, project, scope, structure, updated_at from catalogs \
             where client_key = $1 and connection_id = $2 and project = $3 and scope = $4")
            .bind(client_key).bind(connection_id).bind(project).bind(scope).fetch_one(p).await).map_err(not_found)
    }

    /// One catalog of this tenant.
    pub async fn catalog(&self, client_key: &str, id: &str) -> StoreResult<Catalog> {
        dispatch!(self, p => sqlx::query_as::<_, Catalog>(
            "select id, client_key, connection_id, project, scope, structure, updated_at from catalogs where client_key = $1 and id = $2")
            .bind(client_key).bind(id).fetch_one(p).await).map_err(not_found)
    }

    /// Queues a scan of a catalog; refused while another scan of it is queued or running.
    ///
    /// One write-first statement, so SQLite never has to upgrade a read transaction to a write
    /// (which fails at once when another connection wrote in between); the partial unique index
    /// `scans_one_active` settles races between concurrent requests on PostgreSQL too.
    pub async fn queue_scan(
        &self,
        client_key: &str,
        catalog_id: &str,
        actor: &str,
    ) -> StoreResult<Scan> {
        let now = now_ms();
        let id = uuid::Uuid::new_v4().to_string();
        let busy = || StoreError::Conflict("a scan of this project is already under way".into());
        dispatch!(self, p => {
            let mut tx = p.begin().await?;
            let inserted = sqlx::query(
                "insert into scans (id, client_key, catalog_id, status, generation, started_by, created_at, updated_at) \
                 select $1, $2, $3, 'queued', coalesce((select max(generation) from scans where catalog_id = $3), 0) + 1, $4, $5, $5 \
                 where not exists (select 1 from scans where catalog_id = $3 and status in ('queued', 'running'))")
                .bind(&id).bind(client_key).bind(catalog_id).bind(actor).bind(now)
                .execute(&mut *tx).await;
            match inserted {
                Ok(r) if r.rows_affected() == 0 => return Err(busy()),
                Err(sqlx::Error::Database(e)) if e.is_unique_violation() => return Err(busy()),
                other => { other?; }
            }
            sqlx::query(INSERT_AUDIT).bind(client_key).bind(actor).bind("scan.queued")
                .bind(serde_json::json!({ "scanId": id, "catalogId": catalog_id }).to_string()).bind(now)
                .execute(&mut *tx).await?;
            tx.commit().await?;
        });
        self.scan(client_key, &id).await
    }

    /// One scan of this tenant.
    pub async fn scan(&self, client_key: &str, id: &str) -> StoreResult<Scan> {
        dispatch!(self, p => sqlx::query_as::<_, Scan>("select * from scans where client_key = $1 and id = $2")
            .bind(client_key).bind(id).fetch_one(p).await).map_err(not_found)
    }

    /// The newest scan of a catalog.
    pub async fn latest_scan(&self, client_key: &str, catalog_id: &str) -> StoreResult<Scan> {
        dispatch!(self, p => sqlx::query_as::<_, Scan>(
            "select * from scans where client_key = $1 and catalog_id = $2 order by generation desc limit 1")
            .bind(client_key).bind(catalog_id).fetch_one(p).await).map_err(not_found)
    }

    /// Claims the oldest queued scan, or a running one whose lease expired, for `lease_ms`.
    pub async fn claim_scan(&self, owner: &str, lease_ms: i64) -> StoreResult<Option<Scan>> {
        let now = now_ms();
        let sql = "update scans set status = 'running', lease_owner = $1, lease_token = lease_token + 1, \
                   lease_expires_at = $2, updated_at = $3 \
                   where id = (select id from scans where status = 'queued' or (status = 'running' and lease_expires_at < $3) \
                               order by created_at limit 1) \
                     and (status = 'queued' or (status = 'running' and lease_expires_at < $3)) \
                   returning *";
        Ok(
            dispatch!(self, p => sqlx::query_as::<_, Scan>(sql).bind(owner).bind(now + lease_ms).bind(now).fetch_optional(p).await)?,
        )
    }

    /// Extends the lease; `Conflict` if it was lost.
    pub async fn renew_scan_lease(&self, scan: &Scan, lease_ms: i64) -> StoreResult<()> {
        let now = now_ms();
        let changed = dispatch!(self, p => sqlx::query(
            "update scans set lease_expires_at = $3, updated_at = $4 where id = $1 and lease_token = $2 and status = 'running'")
            .bind(&scan.id).bind(scan.lease_token).bind(now + lease_ms).bind(now)
            .execute(p).await.map(|r| r.rows_affected()))?;
        if changed == 0 { Err(lost()) } else { Ok(()) }
    }

    /// Starts (or restarts from zero) a scan: records the total, and forgets the field, value and
    /// identity tallies of earlier scans, which this scan recounts.
    pub async fn begin_scan(
        &self,
        scan: &Scan,
        items_total: i64,
        structure: &str,
    ) -> StoreResult<()> {
        let now = now_ms();
        dispatch!(self, p => {
            let mut tx = p.begin().await?;
            let changed = sqlx::query("update scans set items_total = $3, updated_at = $4 where id = $1 and lease_token = $2 and status = 'running'")
                .bind(&scan.id).bind(scan.lease_token).bind(items_total).bind(now).execute(&mut *tx).await?.rows_affected();
            if changed == 0 {
                return Err(lost());
            }
            if scan.last_id == 0 {
                sqlx::query("delete from catalog_fields where catalog_id = $1").bind(&scan.catalog_id).execute(&mut *tx).await?;
                sqlx::query("delete from catalog_identities where catalog_id = $1").bind(&scan.catalog_id).execute(&mut *tx).await?;
                sqlx::query("delete from catalog_values where catalog_id = $1").bind(&scan.catalog_id).execute(&mut *tx).await?;
            }
            sqlx::query("update catalogs set structure = $2, updated_at = $3 where id = $1")
                .bind(&scan.catalog_id).bind(structure).bind(now).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(())
        })
    }
}
