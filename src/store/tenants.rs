//! Tenants: install (secret rotation guarded by a watermark), enable/disable, uninstall.

use super::{InstallRecord, Store, StoreError, StoreResult, Tenant, dispatch, not_found, now_ms};

/// What an install did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Installed {
    /// First install of this clientKey.
    New,
    /// A reinstall: the shared secret was rotated.
    Rotated,
}

const ADVANCE_WATERMARK: &str = "insert into install_watermarks (client_key, last_iat, updated_at) \
     values ($1, $2, $3) on conflict (client_key) do update \
     set last_iat = excluded.last_iat, updated_at = excluded.updated_at \
     where install_watermarks.last_iat <= excluded.last_iat";

impl Store {
    /// Stores a verified install. Fails with `Conflict` if a newer install or uninstall of
    /// this clientKey was already accepted: a replayed older token never rolls a secret back.
    #[tracing::instrument(skip_all, fields(tenant = %r.client_key))]
    pub async fn install_tenant(&self, r: &InstallRecord) -> StoreResult<Installed> {
        let now = now_ms();
        dispatch!(self, p => {
            let mut tx = p.begin().await?;
            let advanced = sqlx::query(ADVANCE_WATERMARK)
                .bind(&r.client_key).bind(r.token_iat).bind(now)
                .execute(&mut *tx).await?.rows_affected();
            if advanced == 0 {
                return Err(StoreError::Conflict("a newer lifecycle event was already applied".into()));
            }
            let existed: Option<(String,)> = sqlx::query_as("select client_key from tenants where client_key = $1")
                .bind(&r.client_key).fetch_optional(&mut *tx).await?;
            sqlx::query(
                "insert into tenants (client_key, base_url, display_url, oauth_client_id, shared_secret, enabled, created_at, updated_at) \
                 values ($1, $2, $3, $4, $5, 1, $6, $6) on conflict (client_key) do update set \
                 base_url = excluded.base_url, display_url = excluded.display_url, \
                 oauth_client_id = excluded.oauth_client_id, shared_secret = excluded.shared_secret, \
                 enabled = 1, updated_at = excluded.updated_at, auth = 'connect'")
                .bind(&r.client_key).bind(&r.base_url).bind(&r.display_url)
                .bind(&r.oauth_client_id).bind(&r.sealed_secret).bind(now)
                .execute(&mut *tx).await?;
            let outcome = if existed.is_some() { Installed::Rotated } else { Installed::New };
            let action = if existed.is_some() { "tenant.reinstalled" } else { "tenant.installed" };
            sqlx::query(super::audit::INSERT_AUDIT)
                .bind(&r.client_key).bind("atlassian").bind(action)
                .bind(serde_json::json!({ "baseUrl": r.base_url }).to_string()).bind(now)
                .execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(outcome)
        })
    }

    /// Creates or updates the headless tenant of `ferry migrate`: a site reached with an API
    /// token (`sealed_secret` holds `email:token`, sealed to `client_key`). Never turns an
    /// installed Connect tenant into a headless one.
    pub async fn ensure_cli_tenant(
        &self,
        client_key: &str,
        base_url: &str,
        sealed_secret: &[u8],
    ) -> StoreResult<Tenant> {
        let now = now_ms();
        let changed = dispatch!(self, p => sqlx::query(
            "insert into tenants (client_key, base_url, shared_secret, enabled, created_at, updated_at, auth) \
             values ($1, $2, $3, 1, $4, $4, 'basic') on conflict (client_key) do update set \
             base_url = excluded.base_url, shared_secret = excluded.shared_secret, updated_at = excluded.updated_at \
             where tenants.auth = 'basic'")
            .bind(client_key).bind(base_url).bind(sealed_secret).bind(now)
            .execute(p).await.map(|r| r.rows_affected()))?;
        if changed == 0 {
            return Err(StoreError::Conflict(
                "that client key belongs to an installed Connect app".into(),
            ));
        }
        self.tenant(client_key).await
    }

    /// Deletes everything the tenant owns (rows cascade from `tenants`). The watermark stays,
    /// so an older install replayed after the uninstall is refused too.
    #[tracing::instrument(skip_all, fields(tenant = %client_key))]
    pub async fn uninstall_tenant(&self, client_key: &str, token_iat: i64) -> StoreResult<()> {
        let now = now_ms();
        dispatch!(self, p => {
            let mut tx = p.begin().await?;
            let advanced = sqlx::query(ADVANCE_WATERMARK)
                .bind(client_key).bind(token_iat).bind(now)
                .execute(&mut *tx).await?.rows_affected();
            if advanced == 0 {
                return Err(StoreError::Conflict("a newer lifecycle event was already applied".into()));
            }
            sqlx::query("delete from tenants where client_key = $1")
                .bind(client_key).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// The tenant, if installed.
    pub async fn tenant(&self, client_key: &str) -> StoreResult<Tenant> {
        dispatch!(self, p => sqlx::query_as::<_, Tenant>("select * from tenants where client_key = $1")
            .bind(client_key).fetch_one(p).await).map_err(not_found)
    }

    /// Records `enabled`/`disabled`. Unknown tenants are `NotFound` (an uninstall wins over
    /// a late `disabled`, because the row is gone).
    #[tracing::instrument(skip_all, fields(tenant = %client_key))]
    pub async fn set_enabled(&self, client_key: &str, enabled: bool) -> StoreResult<()> {
        let now = now_ms();
        let changed = dispatch!(self, p => sqlx::query(
            "update tenants set enabled = $2, updated_at = $3 where client_key = $1")
            .bind(client_key).bind(i64::from(enabled)).bind(now)
            .execute(p).await.map(|r| r.rows_affected()))?;
        if changed == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}
