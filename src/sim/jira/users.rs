//! Users and permissions: user search (identity mapping by email or name), `myself` for Basic
//! callers, and `permissions/check`.
//!
//! Identity mapping is the migration's most expensive read, and users without a visible email
//! are the normal case in Jira Cloud, so `emailAddress` is simply absent for them. Permission
//! rules are deliberately small: `jira-administrators` members administer everything, a
//! project's lead administers it, every active user has the ordinary issue permissions.
//! <https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-permissions/#api-rest-api-3-permissions-check-post>

use axum::{
    Extension, Json, Router,
    body::Bytes,
    extract::{RawQuery, State},
    routing::{get, post},
};
use serde_json::{Value, json};

use super::{
    JiraSim,
    auth::Caller,
    error::{JiraError, JiraResult, parse_body},
    params::Params,
    site::text,
};

/// Permissions every active user holds on every project (a default permission scheme).
const USER_PROJECT_PERMISSIONS: &[&str] = &[
    "BROWSE_PROJECTS",
    "CREATE_ISSUES",
    "EDIT_ISSUES",
    "TRANSITION_ISSUES",
    "ADD_COMMENTS",
    "CREATE_ATTACHMENTS",
    "LINK_ISSUES",
    "ASSIGN_ISSUES",
    "ASSIGNABLE_USER",
    "RESOLVE_ISSUES",
    "SCHEDULE_ISSUES",
    "WORK_ON_ISSUES",
];

pub fn router() -> Router<JiraSim> {
    Router::new()
        .route("/rest/api/3/user/search", get(search))
        .route("/rest/api/3/user", get(one))
        .route("/rest/api/3/myself", get(myself))
        .route("/rest/api/3/permissions/check", post(check))
}

impl JiraSim {
    /// The site user JSON with `groups` removed (it is an expand in Jira).
    fn public_user(&self, u: &Value) -> Value {
        text(u, "accountId").map_or(Value::Null, |id| self.user_json(&id))
    }

    fn is_admin(&self, account_id: &str) -> bool {
        if let Some(admin) = self.0.admins.read().get(account_id) {
            return *admin;
        }
        self.0
            .catalog
            .users_by_id
            .get(account_id)
            .is_some_and(|&i| {
                self.0.site.users[i]["groups"]["items"]
                    .as_array()
                    .is_some_and(|g| g.iter().any(|g| g["name"] == "jira-administrators"))
            })
    }

    pub(super) fn is_active(&self, account_id: &str) -> bool {
        if self.0.deactivated.read().contains(account_id) {
            return false;
        }
        account_id.starts_with("addon_")
            || self
                .0
                .catalog
                .users_by_id
                .get(account_id)
                .is_some_and(|&i| self.0.site.users[i]["active"] != false)
    }

    /// Whether `account_id` holds project permission `perm` on project `idx`.
    fn has_project_permission(&self, account_id: &str, idx: usize, perm: &str) -> bool {
        if self.is_admin(account_id) {
            return true;
        }
        let lead =
            text(&self.0.site.projects[idx]["lead"], "accountId").is_some_and(|l| l == account_id);
        match perm {
            "ADMINISTER_PROJECTS" => lead,
            p => self.is_active(account_id) && USER_PROJECT_PERMISSIONS.contains(&p),
        }
    }
}

async fn search(State(sim): State<JiraSim>, RawQuery(q): RawQuery) -> JiraResult<Json<Value>> {
    let params = Params::parse(q.as_deref());
    let query = params.one("query").map(str::to_lowercase);
    let account = params.one("accountId");
    if query.is_none() && account.is_none() {
        return Err(JiraError::bad_request(
            "One of 'query' or 'accountId' query parameters must be provided.",
        ));
    }
    let start = usize::try_from(params.int("startAt", 0)?.max(0)).unwrap_or(0);
    let max = usize::try_from(params.int("maxResults", 50)?.clamp(0, 1000)).unwrap_or(50);
    let hits: Vec<Value> = sim
        .0
        .site
        .users
        .iter()
        .filter(|u| {
            let email = u["emailAddress"].as_str().unwrap_or("").to_lowercase();
            let name = u["displayName"].as_str().unwrap_or("").to_lowercase();
            account.is_none_or(|a| u["accountId"] == a)
                && query.as_ref().is_none_or(|q| {
                    email.starts_with(q.as_str()) || email == *q || name.contains(q.as_str())
                })
        })
        // Jira returns at most 1,000 matches (not: searches only the first 1,000 users).
        .take(1000)
        .skip(start)
        .take(max)
        .map(|u| sim.public_user(u))
        .collect();
    Ok(Json(Value::Array(hits)))
}

async fn one(State(sim): State<JiraSim>, RawQuery(q): RawQuery) -> JiraResult<Json<Value>> {
    let params = Params::parse(q.as_deref());
    let id = params.one("accountId").ok_or_else(|| {
        JiraError::bad_request("The accountId query parameter needs to be provided.")
    })?;
    let &i = sim.0.catalog.users_by_id.get(id).ok_or_else(|| {
        JiraError::not_found(
            "Specified user does not exist or you do not have required permissions",
        )
    })?;
    Ok(Json(sim.public_user(&sim.0.site.users[i])))
}

async fn myself(State(sim): State<JiraSim>, Extension(caller): Extension<Caller>) -> Json<Value> {
    Json(sim.user_json(&caller.account_id))
}

/// `BulkPermissionsRequestBean` → `BulkPermissionGrants`.
async fn check(
    State(sim): State<JiraSim>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> JiraResult<Json<Value>> {
    let body: Value = parse_body(&body)?;
    let who = body["accountId"]
        .as_str()
        .map_or(caller.account_id.clone(), str::to_owned);
    let global: Vec<String> = body["globalPermissions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter(|p| match *p {
            "ADMINISTER"
            | "ADMINISTER_PROJECTS"
            | "SYSTEM_ADMIN"
            | "CREATE_SHARED_OBJECTS"
            | "BULK_CHANGE" => sim.is_admin(&who),
            "USER_PICKER" | "BROWSE_USERS" => sim.is_active(&who),
            _ => false,
        })
        .map(str::to_owned)
        .collect();
    let data = sim.0.data.read();
    let mut grants = Vec::new();
    for req in body["projectPermissions"].as_array().into_iter().flatten() {
        let projects: Vec<i64> = req["projects"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_i64)
            .collect();
        let issues: Vec<i64> = req["issues"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_i64)
            .collect();
        for perm in req["permissions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            let p_ok: Vec<i64> = projects
                .iter()
                .copied()
                .filter(|p| {
                    sim.project_idx(&p.to_string())
                        .is_some_and(|i| sim.has_project_permission(&who, i, perm))
                })
                .collect();
            let i_ok: Vec<i64> = issues
                .iter()
                .copied()
                .filter(|i| {
                    u64::try_from(*i)
                        .ok()
                        .and_then(|i| data.issues.get(&i))
                        .is_some_and(|i| sim.has_project_permission(&who, i.project, perm))
                })
                .collect();
            if !p_ok.is_empty() || !i_ok.is_empty() {
                grants.push(json!({ "permission": perm, "projects": p_ok, "issues": i_ok }));
            }
        }
    }
    Ok(Json(
        json!({ "globalPermissions": global, "projectPermissions": grants }),
    ))
}
