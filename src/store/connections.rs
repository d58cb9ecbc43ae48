//! Azure DevOps connections: the PAT is stored sealed and never read back out through the API.

use super::{
    Connection, Store, StoreError, StoreResult, audit::INSERT_AUDIT, dispatch, not_found, now_ms,
};

const COLUMNS: &str = "id, client_key, org_url, created_by, verified_at, created_at";

impl Store {
    /// Stores a verified connection and audits it.
    pub async fn create_connection(
        &self,
        client_key: &str,
        id: &str,
        org_url: &str,
        sealed_pat: &[u8],
        actor: &str,
    ) -> StoreResult<Connection> {
        let now = now_ms();
        dispatch!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query("insert into ado_connections (id, client_key, org_url, pat, created_by, verified_at, created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $6, $6)")
                .bind(id).bind(client_key).bind(org_url).bind(sealed_pat).bind(actor).bind(now)
                .execute(&mut *tx).await?;
            sqlx::query(INSERT_AUDIT).bind(client_key).bind(actor).bind("connection.created")
                .bind(serde_json::json!({ "connectionId": id, "orgUrl": org_url }).to_string()).bind(now)
                .execute(&mut *tx).await?;
            tx.commit().await?;
        });
        self.connection(client_key, id).await
    }

    /// One connection of this tenant.
    pub async fn connection(&self, client_key: &str, id: &str) -> StoreResult<Connection> {
        let sql =
            format!("select {COLUMNS} from ado_connections where client_key = $1 and id = $2");
        dispatch!(self, p => sqlx::query_as::<_, Connection>(&sql).bind(client_key).bind(id).fetch_one(p).await).map_err(not_found)
    }

    /// The tenant's connections, newest first.
    pub async fn connections(&self, client_key: &str) -> StoreResult<Vec<Connection>> {
        let sql = format!(
            "select {COLUMNS} from ado_connections where client_key = $1 order by created_at desc, id"
        );
        Ok(
            dispatch!(self, p => sqlx::query_as::<_, Connection>(&sql).bind(client_key).fetch_all(p).await)?,
        )
    }

    /// The sealed PAT of a connection, for the worker that calls ADO.
    pub async fn connection_pat(&self, client_key: &str, id: &str) -> StoreResult<Vec<u8>> {
        let (pat,): (Vec<u8>,) = dispatch!(self, p => sqlx::query_as("select pat from ado_connections where client_key = $1 and id = $2")
            .bind(client_key).bind(id).fetch_one(p).await).map_err(not_found)?;
        Ok(pat)
    }

    /// Replaces a connection's PAT (after it was verified) and audits it.
    pub async fn replace_connection_pat(
        &self,
        client_key: &str,
        id: &str,
        sealed_pat: &[u8],
        actor: &str,
    ) -> StoreResult<()> {
        let now = now_ms();
        dispatch!(self, p => {
            let mut tx = p.begin().await?;
            let changed = sqlx::query("update ado_connections set pat = $3, verified_at = $4, updated_at = $4 where client_key = $1 and id = $2")
                .bind(client_key).bind(id).bind(sealed_pat).bind(now).execute(&mut *tx).await?.rows_affected();
            if changed == 0 {
                return Err(StoreError::NotFound);
            }
            sqlx::query(INSERT_AUDIT).bind(client_key).bind(actor).bind("connection.pat_replaced")
                .bind(serde_json::json!({ "connectionId": id }).to_string()).bind(now).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Deletes a connection with its catalogs and scans, and audits it.
    pub async fn delete_connection(
        &self,
        client_key: &str,
        id: &str,
        actor: &str,
    ) -> StoreResult<()> {
        let now = now_ms();
        dispatch!(self, p => {
            let mut tx = p.begin().await?;
            let changed = sqlx::query("delete from ado_connections where client_key = $1 and id = $2")
                .bind(client_key).bind(id).execute(&mut *tx).await?.rows_affected();
            if changed == 0 {
                return Err(StoreError::NotFound);
            }
            sqlx::query(INSERT_AUDIT).bind(client_key).bind(actor).bind("connection.deleted")
                .bind(serde_json::json!({ "connectionId": id }).to_string()).bind(now).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(())
        })
    }
}
