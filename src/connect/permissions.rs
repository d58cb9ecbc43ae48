//! Server-side permission checks against the tenant's Jira.
//!
//! Descriptor conditions such as `user_is_admin` only hide a page; the endpoint stays
//! reachable by any user with a valid token (reference §1.3, T30–T31). So every page or call
//! that needs rights asks Jira through `POST /rest/api/3/permissions/check` for the token's
//! user, and caches the answer briefly so a page's many calls cost one Jira request.
//!
//! A check is a Jira call paid from the app's points like any other, so it must not hammer a
//! Jira that refuses to answer. While the tenant's pool is walled (the [`Budget`] knows of a
//! quota 429 until its reset) no check is sent at all; after a 429, a 5xx or an unreachable
//! Jira none is sent for that tenant until the `Retry-After` it asked (a few seconds without
//! one). Meanwhile the last answer Jira gave stands in for up to [`STALE`]; with none that
//! recent the call fails closed with a 503: a check that was never answered never grants.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde_json::json;

use super::outbound::{HostClient, TenantCredentials};
use crate::{engine::budget::Budget, error::AppError, store::now_ms};

/// How long a permission answer is trusted while Jira answers.
pub const TTL: Duration = Duration::from_secs(60);
/// How old an answer may be and still be served while Jira refuses to answer. Ten minutes: a
/// quota wall lasts until the top of the hour, so a page polled by an admin keeps working
/// through most of one, while a right revoked in Jira during an outage still takes effect
/// within minutes (and at once when Jira answers again). It is shorter than the 15 minutes a
/// Connect context token is valid, so no request is let through on an answer older than the
/// token that authenticated the page.
pub const STALE: Duration = Duration::from_secs(600);
/// How long no check is sent for a tenant after Jira refused one without a `Retry-After`.
const QUIET: Duration = Duration::from_secs(5);
/// The longest `Retry-After` honoured by going quiet (a quota wall is the budget's to keep).
const MAX_QUIET: Duration = Duration::from_secs(60);
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

/// An answer Jira gave: granted or not, and when.
#[derive(Debug, Clone, Copy)]
struct Answer {
    granted: bool,
    at: Instant,
}

/// Answers by (tenant, accountId, right), and per tenant when checks may be sent again.
#[derive(Default)]
struct Cache {
    answers: HashMap<(String, String, Right), Answer>,
    quiet: HashMap<String, Instant>,
}

/// Why a check got no answer.
enum Refused {
    /// Jira refused for now (429, 5xx, unreachable): the last answer may stand in.
    ForNow {
        /// `Retry-After`, if Jira named one.
        retry_after: Option<Duration>,
        /// A quota 429: the whole pool is walled until `retry_after`.
        quota: bool,
    },
    /// Anything else (Jira rejected our request, or answered nonsense): no stand-in.
    Failed(AppError),
}

/// Asks Jira, with a short cache keyed by tenant, user and right.
pub struct Permissions {
    client: HostClient,
    budget: Budget,
    ttl: Duration,
    stale: Duration,
    cache: Mutex<Cache>,
}

impl Permissions {
    /// Uses `client` to reach the tenants; `budget` says when a tenant's pool is walled.
    pub fn new(client: HostClient, budget: Budget) -> Self {
        Self::with_bounds(client, budget, TTL, STALE)
    }

    /// As [`Permissions::new`] with other bounds (tests shorten them).
    pub fn with_bounds(client: HostClient, budget: Budget, ttl: Duration, stale: Duration) -> Self {
        Self {
            client,
            budget,
            ttl,
            stale: stale.max(ttl),
            cache: Mutex::new(Cache::default()),
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
        let (last, quiet) = {
            let cache = self.cache.lock().expect("cache lock");
            let quiet = cache
                .quiet
                .get(client_key)
                .is_some_and(|t| *t > Instant::now());
            (cache.answers.get(&key).copied(), quiet)
        };
        if let Some(a) = last
            && a.at.elapsed() < self.ttl
        {
            return Ok(a.granted);
        }
        let walled = match self.budget.quota_wall(client_key).await {
            Ok(w) => w.is_some(),
            Err(e) => {
                tracing::warn!(error = %e, "reading the quota wall failed; asking Jira");
                false
            }
        };
        if walled || quiet {
            return self.last_known(last, "Jira refuses calls for now");
        }
        match self.ask(creds, account_id, &right).await {
            Ok(granted) => {
                let mut cache = self.cache.lock().expect("cache lock");
                if cache.answers.len() >= MAX_ENTRIES {
                    let stale = self.stale;
                    cache.answers.retain(|_, a| a.at.elapsed() < stale);
                    if cache.answers.len() >= MAX_ENTRIES {
                        cache.answers.clear();
                    }
                }
                cache.answers.insert(
                    key,
                    Answer {
                        granted,
                        at: Instant::now(),
                    },
                );
                Ok(granted)
            }
            Err(Refused::ForNow { retry_after, quota }) => {
                if quota {
                    let wait = retry_after.unwrap_or(QUIET);
                    let until = now_ms() + i64::try_from(wait.as_millis()).unwrap_or(i64::MAX);
                    self.budget.record_quota_wall(client_key, until).await;
                }
                let quiet = retry_after
                    .unwrap_or(QUIET)
                    .clamp(Duration::from_secs(1), MAX_QUIET);
                self.cache
                    .lock()
                    .expect("cache lock")
                    .quiet
                    .insert(client_key.to_owned(), Instant::now() + quiet);
                self.last_known(last, "Jira refused the check")
            }
            Err(Refused::Failed(e)) => Err(e),
        }
    }

    /// The last answer while Jira gives none, if it is recent enough; else a 503.
    fn last_known(&self, last: Option<Answer>, why: &str) -> Result<bool, AppError> {
        match last {
            Some(a) if a.at.elapsed() < self.stale => {
                tracing::debug!(
                    age_s = a.at.elapsed().as_secs(),
                    "{why}: serving the last permission answer"
                );
                Ok(a.granted)
            }
            _ => Err(AppError::Unavailable(
                "Jira is not answering permission checks for this app right now (rate limit or \
                 outage); try again in a few minutes"
                    .into(),
            )),
        }
    }

    /// One `permissions/check` for `right`.
    async fn ask(
        &self,
        creds: &TenantCredentials,
        account_id: &str,
        right: &Right,
    ) -> Result<bool, Refused> {
        let body = match right {
            Right::Admin => json!({ "accountId": account_id, "globalPermissions": ["ADMINISTER"] }),
            Right::ProjectAdmin(id) => json!({ "accountId": account_id,
                "projectPermissions": [{ "permissions": ["ADMINISTER_PROJECTS"], "projects": [id] }] }),
        };
        let upstream = |what: &str| {
            Refused::Failed(AppError::Upstream(format!(
                "could not check your Jira permissions ({what})"
            )))
        };
        let response = match self
            .client
            .request(creds, Method::POST, "/rest/api/3/permissions/check")
            .map_err(|e| Refused::Failed(AppError::Internal(e.into())))?
            .json(&body)
            .send()
            .await
        {
            Ok(r) => r,
            Err(_) => {
                return Err(Refused::ForNow {
                    retry_after: None,
                    quota: false,
                });
            }
        };
        let status = response.status();
        if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
            let header = |n: &str| response.headers().get(n).and_then(|v| v.to_str().ok());
            let retry_after = header("retry-after")
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            let quota = status == StatusCode::TOO_MANY_REQUESTS
                && header("ratelimit-reason").is_some_and(|r| r.starts_with("jira-quota-"));
            return Err(Refused::ForNow { retry_after, quota });
        }
        if !status.is_success() {
            return Err(upstream(status.as_str()));
        }
        let grants: Grants = response
            .json()
            .await
            .map_err(|_| upstream("unreadable answer"))?;
        Ok(match right {
            Right::Admin => grants.global_permissions.iter().any(|p| p == "ADMINISTER"),
            Right::ProjectAdmin(id) => grants
                .project_permissions
                .iter()
                .any(|g| g.permission == "ADMINISTER_PROJECTS" && g.projects.contains(id)),
        })
    }

    /// Forgets everything cached for a tenant (on uninstall or secret rotation).
    pub fn forget_tenant(&self, client_key: &str) {
        let mut cache = self.cache.lock().expect("cache lock");
        cache.answers.retain(|(t, _, _), _| t != client_key);
        cache.quiet.remove(client_key);
    }
}

#[cfg(test)]
#[path = "permissions_tests.rs"]
mod tests;
