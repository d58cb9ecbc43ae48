//! The audit log: who did what, when, per tenant. Details are ids and names, never content.

use super::{AuditEntry, Store, StoreResult, dispatch, now_ms};

/// Appends one audit row; shared by methods that audit inside their own transaction.
pub(super) const INSERT_AUDIT: &str = "insert into audit_log (client_key, actor, action, detail, created_at) values ($1, $2, $3, $4, $5)";

impl Store {
    /// Appends an entry.
    pub async fn audit(
        &self,
        client_key: &str,
        actor: &str,
        action: &str,
        detail: serde_json::Value,
    ) -> StoreResult<()> {
        let detail = detail.to_string();
        dispatch!(self, p => sqlx::query(INSERT_AUDIT)
            .bind(client_key).bind(actor).bind(action).bind(&detail).bind(now_ms())
            .execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The newest entries first, at most `limit`, older than `before` when given.
    pub async fn audit_entries(
        &self,
        client_key: &str,
        before: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<AuditEntry>> {
        let before = before.unwrap_or(i64::MAX);
        Ok(dispatch!(self, p => sqlx::query_as::<_, AuditEntry>(
            "select id, actor, action, detail, created_at from audit_log \
             where client_key = $1 and id < $2 order by id desc limit $3")
            .bind(client_key).bind(before).bind(limit.clamp(1, 500))
            .fetch_all(p).await)?)
    }
}
