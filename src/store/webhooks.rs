//! The tenant's outbound webhook: where Ferry posts run state changes, and the secret it signs
//! them with (sealed, bound to the tenant; shown to the admin once). Changes are audited.

use super::{Store, StoreResult, audit::INSERT_AUDIT, dispatch, now_ms};

/// A tenant's webhook.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WebhookRow {
    /// Where deliveries go.
    pub url: String,
    /// The signing secret, sealed with the tenant's clientKey as associated data.
    pub secret: Vec<u8>,
    /// Who configured it.
    pub created_by: String,
    /// Unix ms.
    pub updated_at: i64,
}

impl Store {
    /// Sets (or replaces) the webhook; audited with the URL's host only.
    pub async fn set_webhook(
        &self,
        client_key: &str,
        url: &str,
        sealed_secret: &[u8],
        actor: &str,
    ) -> StoreResult<()> {
        let now = now_ms();
        let host = url::Url::parse(url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_default();
        dispatch!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query(
                "insert into webhook_settings (client_key, url, secret, created_by, created_at, updated_at) \
                 values ($1, $2, $3, $4, $5, $5) \
                 on conflict (client_key) do update set url = $2, secret = $3, created_by = $4, updated_at = $5")
                .bind(client_key).bind(url).bind(sealed_secret).bind(actor).bind(now)
                .execute(&mut *tx).await?;
            sqlx::query(INSERT_AUDIT).bind(client_key).bind(actor).bind("webhook.set")
                .bind(serde_json::json!({ "host": host }).to_string()).bind(now)
                .execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// The tenant's webhook, if any.
    pub async fn webhook(&self, client_key: &str) -> StoreResult<Option<WebhookRow>> {
        Ok(dispatch!(self, p => sqlx::query_as::<_, WebhookRow>(
            "select url, secret, created_by, updated_at from webhook_settings where client_key = $1")
            .bind(client_key).fetch_optional(p).await)?)
    }

    /// Removes the webhook; `false` when there was none. Audited.
    pub async fn delete_webhook(&self, client_key: &str, actor: &str) -> StoreResult<bool> {
        let now = now_ms();
        dispatch!(self, p => {
            let mut tx = p.begin().await?;
            let gone = sqlx::query("delete from webhook_settings where client_key = $1")
                .bind(client_key).execute(&mut *tx).await?.rows_affected() > 0;
            if gone {
                sqlx::query(INSERT_AUDIT).bind(client_key).bind(actor).bind("webhook.deleted")
                    .bind("{}").bind(now).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(gone)
        })
    }
}
