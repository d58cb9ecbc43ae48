//! Mappings: one per (catalog, Jira project), versioned. Every change bumps the version and
//! keeps the old body, an edit after approval takes the approval back, and drafting, edits and
//! approvals are audited in the same transaction as the change.

use serde::Serialize;

use super::{Store, StoreError, StoreResult, audit::INSERT_AUDIT, dispatch, not_found, now_ms};

/// A mapping row.
#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MappingRow {
    /// Public id.
    pub id: String,
    /// Owning tenant.
    #[serde(skip)]
    pub client_key: String,
    /// The catalog it maps.
    pub catalog_id: String,
    /// Target project key.
    pub project_key: String,
    /// Bumped by every change.
    pub version: i64,
    /// `draft` or `approved`.
    pub status: String,
    /// The mapping JSON.
    #[serde(skip)]
    pub body: String,
    /// The Jira metadata JSON it was drafted against.
    #[serde(skip)]
    pub target: String,
    /// The version that was approved.
    pub approved_version: Option<i64>,
    /// Who approved it.
    pub approved_by: Option<String>,
    /// When.
    pub approved_at: Option<i64>,
    /// Who last changed it.
    pub updated_by: String,
    /// When.
    pub updated_at: i64,
}

/// A distinct value of an enumerated field and how many items use it.
#[derive(Debug, Clone, sqlx::FromRow, Serialize, PartialEq, Eq)]
pub struct FieldValue {
    /// Field reference name.
    pub field: String,
    /// The value.
    pub value: String,
    /// Items using it.
    pub items: i64,
}

const COLUMNS: &str = "id, client_key, catalog_id, project_key, version, status, body, target, approved_version, approved_by, approved_at, updated_by, updated_at";

impl Store {
    /// Stores a fresh draft for (catalog, project): a new mapping at version 1, or the next
    /// version of the existing one (its approval is taken back).
    pub async fn save_draft(
        &self,
        client_key: &str,
        catalog_id: &str,
        project_key: &str,
        body: &str,
        target: &str,
        actor: &str,
    ) -> StoreResult<MappingRow> {
        let now = now_ms();
        let id = uuid::Uuid::new_v4().to_string();
        dispatch!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query(
                "insert into mappings (id, client_key, catalog_id, project_key, version, status, body, target, created_by, created_at, updated_by, updated_at) \
                 values ($1, $2, $3, $4, 1, 'draft', $5, $6, $7, $8, $7, $8) \
                 on conflict (catalog_id, project_key) do update set version = mappings.version + 1, status = 'draft', body = $5, target = $6, \
                 approved_version = null, approved_by = null, approved_at = null, updated_by = $7, updated_at = $8")
                .bind(&id).bind(client_key).bind(catalog_id).bind(project_key).bind(body).bind(target).bind(actor).bind(now)
                .execute(&mut *tx).await?;
            let (mid, version): (String, i64) = sqlx::query_as("select id, version from mappings where catalog_id = $1 and project_key = $2")
                .bind(catalog_id).bind(project_key).fetch_one(&mut *tx).await?;
            sqlx::query("insert into mapping_versions (client_key, mapping_id, version, body, author, created_at) values ($1, $2, $3, $4, $5, $6)")
                .bind(client_key).bind(&mid).bind(version).bind(body).bind(actor).bind(now).execute(&mut *tx).await?;
            sqlx::query(INSERT_AUDIT).bind(client_key).bind(actor).bind("mapping.drafted")
                .bind(serde_json::json!({ "mappingId": mid, "version": version, "projectKey": project_key }).to_string()).bind(now)
                .execute(&mut *tx).await?;
            tx.commit().await?;
            self.mapping(client_key, &mid).await
        })
    }

    /// One mapping of this tenant.
    pub async fn mapping(&self, client_key: &str, id: &str) -> StoreResult<MappingRow> {
        let sql = format!("select {COLUMNS} from mappings where client_key = $1 and id = $2");
        dispatch!(self, p => sqlx::query_as::<_, MappingRow>(&sql).bind(client_key).bind(id).fetch_one(p).await).map_err(not_found)
    }

    /// The mappings of a catalog.
    pub async fn mappings_of(
        &self,
        client_key: &str,
        catalog_id: &str,
    ) -> StoreResult<Vec<MappingRow>> {
        let sql = format!(
            "select {COLUMNS} from mappings where client_key = $1 and catalog_id = $2 order by updated_at desc"
        );
        Ok(
            dispatch!(self, p => sqlx::query_as::<_, MappingRow>(&sql).bind(client_key).bind(catalog_id).fetch_all(p).await)?,
        )
    }

    /// Replaces the body if the caller saw the current version (`Conflict` otherwise, so two
    /// admins editing at once cannot overwrite each other); the approval is taken back.
    pub async fn edit_mapping(
        &self,
        client_key: &str,
        id: &str,
        seen_version: i64,
        body: &str,
        actor: &str,
    ) -> StoreResult<MappingRow> {
        self.change_mapping(client_key, id, seen_version, actor, Some(body))
            .await
    }

    /// Approves the version the admin reviewed (`Conflict` if it changed since).
    pub async fn approve_mapping(
        &self,
        client_key: &str,
        id: &str,
        seen_version: i64,
        actor: &str,
    ) -> StoreResult<MappingRow> {
        self.change_mapping(client_key, id, seen_version, actor, None)
            .await
    }

    async fn change_mapping(
        &self,
        client_key: &str,
        id: &str,
        seen_version: i64,
        actor: &str,
        body: Option<&str>,
    ) -> StoreResult<MappingRow> {
        let now = now_ms();
        let stale = || {
            StoreError::Conflict(
                "the mapping changed since you loaded it; reload and try again".into(),
            )
        };
        dispatch!(self, p => {
            let mut tx = p.begin().await?;
            let changed = match body {
                Some(body) => sqlx::query(
                    "update mappings set body = $4, version = version + 1, status = 'draft', approved_version = null, approved_by = null, \
                     approved_at = null, updated_by = $5, updated_at = $6 where client_key = $1 and id = $2 and version = $3")
                    .bind(client_key).bind(id).bind(seen_version).bind(body).bind(actor).bind(now),
                None => sqlx::query(
                    "update mappings set status = 'approved', approved_version = version, approved_by = $4, approved_at = $5 \
                     where client_key = $1 and id = $2 and version = $3")
                    .bind(client_key).bind(id).bind(seen_version).bind(actor).bind(now),
            }.execute(&mut *tx).await?.rows_affected();
            if changed == 0 {
                let exists: Option<(i64,)> = sqlx::query_as("select version from mappings where client_key = $1 and id = $2")
                    .bind(client_key).bind(id).fetch_optional(&mut *tx).await?;
                return Err(if exists.is_some() { stale() } else { StoreError::NotFound });
            }
            let version = if body.is_some() { seen_version + 1 } else { seen_version };
            if let Some(body) = body {
                sqlx::query("insert into mapping_versions (client_key, mapping_id, version, body, author, created_at) values ($1, $2, $3, $4, $5, $6)")
                    .bind(client_key).bind(id).bind(version).bind(body).bind(actor).bind(now).execute(&mut *tx).await?;
            }
            let action = if body.is_some() { "mapping.edited" } else { "mapping.approved" };
            sqlx::query(INSERT_AUDIT).bind(client_key).bind(actor).bind(action)
                .bind(serde_json::json!({ "mappingId": id, "version": version }).to_string()).bind(now)
                .execute(&mut *tx).await?;
            tx.commit().await?;
            self.mapping(client_key, id).await
        })
    }

    /// A former version's body.
    pub async fn mapping_version(
        &self,
        client_key: &str,
        id: &str,
        version: i64,
    ) -> StoreResult<String> {
        let (body,): (String,) = dispatch!(self, p => sqlx::query_as(
            "select body from mapping_versions where client_key = $1 and mapping_id = $2 and version = $3")
            .bind(client_key).bind(id).bind(version).fetch_one(p).await).map_err(not_found)?;
        Ok(body)
    }

    /// Values of enumerated fields in a catalog.
    pub async fn catalog_values(
        &self,
        client_key: &str,
        catalog_id: &str,
    ) -> StoreResult<Vec<FieldValue>> {
        Ok(dispatch!(self, p => sqlx::query_as::<_, FieldValue>(
            "select field, value, items from catalog_values where client_key = $1 and catalog_id = $2 order by field, items desc, value")
            .bind(client_key).bind(catalog_id).fetch_all(p).await)?)
    }
}
