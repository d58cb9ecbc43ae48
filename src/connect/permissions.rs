//! Server-side permission checks against the tenant's Jira.
//!
//! Descriptor conditions such as `user_is_admin` only hide a page; the endpoint stays
//! reachable by any user with a valid token (reference §1.3, T30–T31). So every page or call
//! that needs rights asks Jira through `POST /rest/api/3/permissions/check` for the token's
//! user, and caches the answer briefly so a page's many calls cost one Jira request.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use reqwest::Method;
use serde::Deserialize;
use serde_json::json;

use super::outbound::{HostClient, TenantCredentials};
use crate::error::AppError;

/// How long a permission answer is trusted.
const TTL: Duration = Duration::from_secs(60);
const MAX_ENTRIES: usize = 10_000;

/// What Ferry asks about.
#[derive(Debug, Clone, Hash, PartialEq, Eq)]
pub enum Right {
    /// Jira administrator (global `ADMINISTER`).
    Admin,
    /// `ADMINISTER_PROJECTS` on the project with this id.
    ProjectAdmin(i64),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Grants {
    #[serde(default)]
    global_permissions: Vec<String>,
    #[serde(default)]
    project_permissions: Vec<ProjectGrant>,
}

#[derive(Deserialize)]
struct ProjectGrant {
    permission: String,
    #[serde(default)]
    projects: Vec<i64>,
}

/// Cached answers: (tenant, accountId, right) → (granted, when asked).
type Cache = HashMap<(String, String, Right), (bool, Instant)>;

/// Asks Jira, with a short cache keyed by tenant, user and right.
pub struct Permissions {
    client: HostClient,
    cache: Mutex<Cache>,
}

impl Permissions {
    /// Uses `client` to reach the tenants.
    pub fn new(client: HostClient) -> Self {
        Self {
            client,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `account_id` holds `right` in the tenant's Jira.
    #[tracing::instrument(skip(self, creds), fields(tenant = %client_key))]
    pub async fn has(
        &self,
        client_key: &str,
        creds: &TenantCredentials,
        account_id: &str,
        right: Right,
    ) -> Result<bool, AppError> {
        let key = (client_key.to_owned(), account_id.to_owned(), right.clone());
        if let Some((granted, at)) = self.cache.lock().expect("cache lock").get(&key)
            && at.elapsed() < TTL
        {
            return Ok(*granted);
        }
        let body = match &right {
            Right::Admin => json!({ "accountId": account_id, "globalPermissions": ["ADMINISTER"] }),
            Right::ProjectAdmin(id) => json!({ "accountId": account_id,
                "projectPermissions": [{ "permissions": ["ADMINISTER_PROJECTS"], "projects": [id] }] }),
        };
        let upstream = |what: &str| {
            AppError::Upstream(format!("could not check your Jira permissions ({what})"))
        };
        let response = self
            .client
            .request(creds, Method::POST, "/rest/api/3/permissions/check")
            .map_err(|e| AppError::Internal(e.into()))?
            .json(&body)
            .send()
            .await
            .map_err(|_| upstream("unreachable"))?;
        if !response.status().is_success() {
            return Err(upstream(response.status().as_str()));
        }
        let grants: Grants = response
            .json()
            .await
            .map_err(|_| upstream("unreadable answer"))?;
        let granted = match right {
            Right::Admin => grants.global_permissions.iter().any(|p| p == "ADMINISTER"),
            Right::ProjectAdmin(id) => grants
                .project_permissions
                .iter()
                .any(|g| g.permission == "ADMINISTER_PROJECTS" && g.projects.contains(&id)),
        };
        let mut cache = self.cache.lock().expect("cache lock");
        if cache.len() >= MAX_ENTRIES {
            cache.clear();
        }
        cache.insert(key, (granted, Instant::now()));
        Ok(granted)
    }

    /// Forgets everything cached for a tenant (on uninstall or secret rotation).
    pub fn forget_tenant(&self, client_key: &str) {
        self.cache
            .lock()
            .expect("cache lock")
            .retain(|(t, _, _), _| t != client_key);
    }
}
