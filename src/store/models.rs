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
    /// `connect` (an installed app) or `basic` (a headless site reached with an API token).
    pub auth: String,
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
#[serde(rename_all = "camelCase")]
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
#[serde(rename_all = "camelCase")]
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

/// An Azure DevOps organization a tenant connected (the PAT stays sealed in the store).
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Connection {
    /// Public id.
    pub id: String,
    /// Owning tenant.
    #[serde(skip)]
    pub client_key: String,
    /// Organization or collection URL.
    pub org_url: String,
    /// accountId of the admin who added it.
    pub created_by: String,
    /// When the PAT last proved itself (unix ms).
    pub verified_at: i64,
    /// Unix ms.
    pub created_at: i64,
}

/// What a catalog covers: one project of a connection, under a scope filter.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Catalog {
    /// Public id.
    pub id: String,
    /// Owning tenant.
    #[serde(skip)]
    pub client_key: String,
    /// The connection scanned.
    pub connection_id: String,
    /// ADO project name.
    pub project: String,
    /// JSON scope filter.
    pub scope: String,
    /// JSON: types and states, fields, area and iteration trees.
    pub structure: String,
    /// Unix ms of the last change.
    pub updated_at: i64,
}

/// A catalog scan: a background job with progress and a lease.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Scan {
    /// Public id.
    pub id: String,
    /// Owning tenant.
    #[serde(skip)]
    pub client_key: String,
    /// The catalog it fills.
    pub catalog_id: String,
    /// `queued`, `running`, `completed` or `failed`.
    pub status: String,
    /// Marks the catalog rows this scan saw; older ones are swept at the end.
    #[serde(skip)]
    pub generation: i64,
    /// Items in scope, once counted.
    pub items_total: Option<i64>,
    /// Items catalogued so far.
    pub items_done: i64,
    /// Checkpoint: every id up to this one is catalogued.
    #[serde(skip)]
    pub last_id: i64,
    /// Why it failed (Ferry's words).
    pub error: Option<String>,
    /// Fencing token of the current lease.
    #[serde(skip)]
    pub lease_token: i64,
    /// Who queued it.
    pub started_by: String,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub finished_at: Option<i64>,
}

/// Metadata of one work item, as the catalog keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogItem {
    /// ADO id.
    pub ado_id: i64,
    /// Work item type.
    pub item_type: String,
    /// State.
    pub state: String,
    /// Parent's ADO id.
    pub parent_id: Option<i64>,
    /// Area path.
    pub area_path: Option<String>,
    /// Iteration path.
    pub iteration_path: Option<String>,
    /// Revision.
    pub rev: i64,
    /// Comment count.
    pub comments: i64,
    /// Attachment count.
    pub attachments: i64,
    /// Attachment bytes.
    pub attachment_bytes: i64,
    /// Non-hierarchy links.
    pub links: i64,
}

/// One identity seen in a project.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SeenIdentity {
    /// ADO identity id, or uniqueName when absent.
    pub identity_key: String,
    /// Name in ADO.
    pub display_name: String,
    /// E-mail or account name.
    pub unique_name: String,
    /// How many field values named it.
    pub seen: i64,
}

/// What one checkpointed batch of a scan adds to its catalog.
#[derive(Debug, Clone, Default)]
pub struct ScanBatch {
    /// Items of the batch.
    pub items: Vec<CatalogItem>,
    /// Field reference name → how many items of the batch fill it.
    pub fields: std::collections::HashMap<String, i64>,
    /// (enumerated field, value) → items of the batch using it.
    pub values: std::collections::HashMap<(String, String), i64>,
    /// Identities named in the batch.
    pub identities: Vec<SeenIdentity>,
    /// The highest id of the batch: the new checkpoint.
    pub last_id: i64,
}
