//! Rows as the store returns them.

/// A Jira site that installed Ferry.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Tenant {
    /// Atlassian's tenant id: the `iss` of every token Jira signs for this site.
    pub client_key: String,
    /// Where the site's REST API lives (never the display URL).
    pub base_url: String,
    /// The custom domain users see, for links only.
    pub display_url: Option<String>,
    /// For user impersonation (OAuth 2.0 JWT bearer).
    pub oauth_client_id: Option<String>,
    /// Sealed with the secret key, bound to `client_key`.
    #[sqlx(rename = "shared_secret")]
    pub sealed_secret: Vec<u8>,
    /// 0 after `disabled`, 1 after `enabled` or install.
    pub enabled: i64,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

/// What a verified signed install carries into the store.
#[derive(Debug, Clone)]
pub struct InstallRecord {
    /// Tenant id from the install body (equal to the token's `iss`).
    pub client_key: String,
    /// The site's API base URL, already checked against the allowed hosts.
    pub base_url: String,
    /// Custom domain, if any.
    pub display_url: Option<String>,
    /// OAuth client id for impersonation.
    pub oauth_client_id: Option<String>,
    /// The new shared secret, sealed.
    pub sealed_secret: Vec<u8>,
    /// `iat` of the install token: the watermark against replays.
    pub token_iat: i64,
}

/// An admin-created API token (its hash only; the token is shown once).
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct ApiToken {
    /// Public id, used to revoke.
    pub id: String,
    /// Owning tenant.
    #[serde(skip)]
    pub client_key: String,
    /// The admin's label for it.
    pub name: String,
    /// accountId of the admin who made it.
    pub created_by: String,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms of last use.
    pub last_used_at: Option<i64>,
    /// Unix ms; revoked tokens never authenticate.
    pub revoked_at: Option<i64>,
}

/// One audit entry: who did what, when. Never content or secrets.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct AuditEntry {
    /// Monotonic id.
    pub id: i64,
    /// accountId, `atlassian` for lifecycle events, or `token:{id}`.
    pub actor: String,
    /// Dotted action name, e.g. `tenant.installed`.
    pub action: String,
    /// JSON with ids and names only.
    pub detail: String,
    /// Unix ms.
    pub created_at: i64,
}
