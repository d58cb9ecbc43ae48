//! Tenant API tokens: stored as SHA-256 hashes, looked up by hash, revocable.

use super::{ApiToken, Store, StoreError, StoreResult, dispatch, not_found, now_ms};

/// How often, at most, a token's last use is written.
const LAST_USED_EVERY_MS: i64 = 60_000;

impl Store {
    /// Stores a new token's hash and audits its creation.
    pub async fn create_api_token(
        &self,
        client_key: &str,
        name: &str,
        token_hash: &str,
        created_by: &str,
    ) -> StoreResult<ApiToken> {
        let id = uuid::Uuid::new_v4().to_string();
        let now = now_ms();
        dispatch!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query("insert into api_tokens (id, client_key, name, token_hash, created_by, created_at) values ($1, $2, $3, $4, $5, $6)")
                .bind(&id).bind(client_key).bind(name).bind(token_hash).bind(created_by).bind(now)
                .execute(&mut *tx).await?;
            sqlx::query(super::audit::INSERT_AUDIT)
                .bind(client_key).bind(created_by).bind("token.created")
                .bind(serde_json::json!({ "tokenId": id, "name": name }).to_string()).bind(now)
                .execute(&mut *tx).await?;
            tx.commit().await?;
        });
        self.api_token(client_key, &id).await
    }

    /// One token of this tenant.
    pub async fn api_token(&self, client_key: &str, id: &str) -> StoreResult<ApiToken> {
        dispatch!(self, p => sqlx::query_as::<_, ApiToken>(
            "select id, client_key, name, created_by, created_at, last_used_at, revoked_at from api_tokens where client_key = $1 and id = $2")
            .bind(client_key).bind(id).fetch_one(p).await).map_err(not_found)
    }

    /// The tenant's tokens, newest first.
    pub async fn api_tokens(&self, client_key: &str) -> StoreResult<Vec<ApiToken>> {
        Ok(dispatch!(self, p => sqlx::query_as::<_, ApiToken>(
            "select id, client_key, name, created_by, created_at, last_used_at, revoked_at from api_tokens where client_key = $1 order by created_at desc, id")
            .bind(client_key).fetch_all(p).await)?)
    }

    /// The live (unrevoked) token with this hash, marking it used.
    pub async fn use_api_token(&self, token_hash: &str) -> StoreResult<ApiToken> {
        let token = dispatch!(self, p => sqlx::query_as::<_, ApiToken>(
            "select id, client_key, name, created_by, created_at, last_used_at, revoked_at from api_tokens where token_hash = $1 and revoked_at is null")
            .bind(token_hash).fetch_one(p).await).map_err(not_found)?;
        // When it was last used is for the admin's token list, to the minute: written at most
        // once a minute, and a write that fails (SQLite busy under a run's writes) is logged,
        // never the caller's failure.
        let now = now_ms();
        if token
            .last_used_at
            .is_none_or(|t| now - t >= LAST_USED_EVERY_MS)
        {
            let noted = dispatch!(self, p => sqlx::query("update api_tokens set last_used_at = $2 where id = $1")
                .bind(&token.id).bind(now).execute(p).await.map(|r| r.rows_affected()));
            if let Err(e) = noted {
                tracing::warn!(error = %e, token = %token.id, "recording an API token's last use failed");
            }
        }
        Ok(token)
    }

    /// Revokes a token of this tenant; another tenant's id is `NotFound`.
    pub async fn revoke_api_token(
        &self,
        client_key: &str,
        id: &str,
        actor: &str,
    ) -> StoreResult<()> {
        let now = now_ms();
        dispatch!(self, p => {
            let mut tx = p.begin().await?;
            let changed = sqlx::query("update api_tokens set revoked_at = $3 where client_key = $1 and id = $2 and revoked_at is null")
                .bind(client_key).bind(id).bind(now).execute(&mut *tx).await?.rows_affected();
            if changed == 0 {
                return Err(StoreError::NotFound);
            }
            sqlx::query(super::audit::INSERT_AUDIT)
                .bind(client_key).bind(actor).bind("token.revoked")
                .bind(serde_json::json!({ "tokenId": id }).to_string()).bind(now)
                .execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(())
        })
    }
}
