//! A Jira Cloud simulator: the REST surface a migration uses, in the shapes of the official spec.
//!
//! Why it exists: Ferry's engine, its tests and the benchmarks need a Jira that enforces what the
//! real one enforces (bulk caps, createmeta required fields, workflows, ADF, per-issue caps,
//! eventually consistent search, Connect JWT + qsh) without a network or a tenant. Everything is
//! in memory behind one `Arc`; the site (projects, types, fields, workflows, users) comes from a
//! site file in Jira's own REST shapes, so a real site's answers can be pasted in.
//! `docs/sim-jira.md` documents the site format, the defaults and the auth rules.

mod adf;
mod agile;
mod attachments;
mod auth;
mod bulk;
mod clock;
mod comments;
mod delete;
mod error;
mod fields;
mod index;
mod issues;
mod jql;
mod links;
mod meta;
mod oauth;
mod params;
mod properties;
mod render;
mod schemes;
mod search;
mod site;
mod store;
mod transitions;
mod update;
mod users;

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
    time::Duration,
};

use axum::{Router, extract::DefaultBodyLimit, middleware};
use parking_lot::{Mutex, RwLock};

pub use crate::sim::reqlog::CallerTag;
pub use error::JiraError;
pub use site::{Site, Workflow, WorkflowTransition};

use index::SearchIndex;
use site::Catalog;
use store::Data;

/// Per-issue and per-request caps, configurable so tests can hit them in a few calls.
#[derive(Debug, Clone)]
pub struct JiraLimits {
    /// Comments per issue (Jira: 5,000).
    pub comments_per_issue: usize,
    /// Attachments per issue (Jira: 2,000).
    pub attachments_per_issue: usize,
    /// Issue links per issue (Jira: 2,000).
    pub links_per_issue: usize,
    /// Remote links per issue (Jira: 2,000).
    pub remote_links_per_issue: usize,
    /// Largest accepted file (Jira default: 1 GB).
    pub attachment_max_bytes: u64,
}

impl Default for JiraLimits {
    fn default() -> Self {
        Self {
            comments_per_issue: 5_000,
            attachments_per_issue: 2_000,
            links_per_issue: 2_000,
            remote_links_per_issue: 2_000,
            attachment_max_bytes: 1 << 30,
        }
    }
}

/// How the simulator behaves beyond what the site file says.
#[derive(Debug, Clone)]
pub struct JiraSimOptions {
    /// `email:api-token` accepted as Basic auth (an API-token caller), if any.
    pub api_user: Option<(String, String)>,
    /// How long a write stays invisible to `search/jql` (Jira's index is eventually consistent).
    pub index_lag: Duration,
    /// The tenant's clientKey, reported in [`CallerTag`] for the request log.
    pub client_key: String,
    /// Per-issue data caps.
    pub limits: JiraLimits,
    /// Keep rich-text bodies (comments, description and other ADF fields) only as a digest:
    /// a one-line document holding the SHA-256 and length of the body as sent. Benchmarks at
    /// 100,000 items set it, because the full documents would not fit in memory; a verifier
    /// that reads bodies back needs it off.
    pub digest_bodies: bool,
}

impl Default for JiraSimOptions {
    fn default() -> Self {
        Self {
            api_user: None,
            index_lag: Duration::ZERO,
            client_key: "jira-sim-client".to_owned(),
            limits: JiraLimits::default(),
            digest_bodies: false,
        }
    }
}

/// What a simulator that digests bodies keeps of an ADF document: a valid one-paragraph
/// document whose text is `sha256:<hex> bytes:<n>` of the document's JSON as received.
pub fn digest_doc(doc: &serde_json::Value) -> serde_json::Value {
    use sha2::{Digest, Sha256};
    let bytes = serde_json::to_vec(doc).unwrap_or_default();
    let text = format!("sha256:{:x} bytes:{}", Sha256::digest(&bytes), bytes.len());
    serde_json::json!({
        "type": "doc",
        "version": 1,
        "content": [{ "type": "paragraph", "content": [{ "type": "text", "text": text }] }]
    })
}

/// The simulator: cheap to clone, all state shared.
#[derive(Clone)]
pub struct JiraSim(Arc<Inner>);

impl std::fmt::Debug for JiraSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JiraSim")
            .field("base", &self.0.base)
            .field("client_key", &self.0.options.client_key)
            .finish_non_exhaustive()
    }
}

struct Inner {
    site: Site,
    catalog: Catalog,
    /// Base URL without a trailing slash, used in every `self` link.
    base: String,
    /// Path of the base URL, the qsh context path.
    context_path: String,
    options: JiraSimOptions,
    apps: RwLock<HashMap<String, String>>,
    /// `oauthClientId` → shared secret, for the authorization server ([`oauth`]).
    oauth_clients: RwLock<HashMap<String, String>>,
    /// Impersonation tokens issued, by token.
    tokens: RwLock<HashMap<String, oauth::Issued>>,
    /// Users deactivated while the simulator runs.
    deactivated: RwLock<HashSet<String>>,
    /// Where `jira:issue_deleted` webhooks go, if an app asked for them.
    hooks: RwLock<Option<delete::HookTarget>>,
    /// `jira-administrators` membership changed since the site file was loaded.
    admins: RwLock<HashMap<String, bool>>,
    data: RwLock<Data>,
    index: Mutex<SearchIndex>,
    adf: adf::AdfValidator,
}

impl JiraSim {
    /// What to store of a valid ADF body received: the document, or its digest.
    fn keep_doc(&self, doc: &serde_json::Value) -> serde_json::Value {
        if self.0.options.digest_bodies {
            digest_doc(doc)
        } else {
            doc.clone()
        }
    }

    /// Builds a simulator serving `site` at `base_url` (every `self` link points there).
    pub fn new(site: Site, base_url: url::Url, options: JiraSimOptions) -> Self {
        let base = base_url.as_str().trim_end_matches('/').to_owned();
        let site = site.rebased(&base);
        let catalog = Catalog::new(&site);
        let data = Data::new(&site);
        let index = SearchIndex::new(options.index_lag);
        Self(Arc::new(Inner {
            context_path: base_url.path().to_owned(),
            base,
            catalog,
            data: RwLock::new(data),
            index: Mutex::new(index),
            apps: RwLock::new(HashMap::new()),
            oauth_clients: RwLock::new(HashMap::new()),
            tokens: RwLock::new(HashMap::new()),
            deactivated: RwLock::new(HashSet::new()),
            hooks: RwLock::new(None),
            admins: RwLock::new(HashMap::new()),
            adf: adf::AdfValidator::new(),
            options,
            site,
        }))
    }

    /// Accepts Connect JWTs whose `iss` is `app_key`, signed with `shared_secret`.
    pub fn register_app(&self, app_key: &str, shared_secret: &str) {
        self.0
            .apps
            .write()
            .insert(app_key.to_owned(), shared_secret.to_owned());
    }

    /// Stops accepting JWTs from `app_key` (as after an uninstall).
    pub fn unregister_app(&self, app_key: &str) {
        self.0.apps.write().remove(app_key);
    }

    /// Adds `account_id` to `jira-administrators` or removes it (as a site admin would), so
    /// tests can grant and revoke what `permissions/check` answers.
    pub fn set_admin(&self, account_id: &str, admin: bool) {
        self.0.admins.write().insert(account_id.to_owned(), admin);
    }

    /// Back to the loaded site: no issues, sprints/components/versions as in the file.
    pub fn reset(&self) {
        let mut data = self.0.data.write();
        *data = Data::new(&self.0.site);
        *self.0.index.lock() = SearchIndex::new(self.0.options.index_lag);
    }

    /// Queues `id` for the search index (immediately when there is no lag).
    fn touch(&self, data: &Data, id: u64) {
        let key = |i: usize| self.project_key(i);
        self.0.index.lock().touch(data, &key, id);
    }

    /// The base URL every `self` link uses, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.0.base
    }

    /// How many issues exist now (for benchmarks' final-state checks).
    pub fn issue_count(&self) -> usize {
        self.0.data.read().issues.len()
    }
}

/// The simulator's HTTP surface with its state applied; every `/rest` route requires auth.
pub fn router(sim: JiraSim) -> Router {
    let attach_limit = usize::try_from(sim.0.options.limits.attachment_max_bytes)
        .unwrap_or(usize::MAX)
        .saturating_mul(2)
        .saturating_add(1 << 20);
    Router::new()
        .merge(issues::router())
        .merge(delete::router())
        .merge(transitions::router())
        .merge(comments::router())
        .merge(links::router())
        .merge(attachments::router(attach_limit))
        .merge(agile::router())
        .merge(meta::router())
        .merge(schemes::router())
        .merge(users::router())
        .merge(search::router())
        .merge(bulk::router())
        .route_layer(middleware::from_fn_with_state(
            sim.clone(),
            auth::authenticate,
        ))
        .layer(DefaultBodyLimit::max(64 << 20))
        .fallback(error::not_found)
        .with_state(sim)
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use serde_json::json;

    use super::{JiraSim, JiraSimOptions, Site, auth::Caller};

    /// 100,000 issues: creation and a label lookup stay fast because both go through indexes.
    #[test]
    fn a_hundred_thousand_issues_are_created_and_found_by_label_quickly() {
        let sim = JiraSim::new(
            Site::default_scrum(),
            url::Url::parse("http://jira.test").expect("url"),
            JiraSimOptions::default(),
        );
        let caller = Caller {
            connect: false,
            account_id: "712020:0001-admin".into(),
        };
        let started = Instant::now();
        {
            let mut data = sim.0.data.write();
            for n in 0..100_000 {
                let element = json!({ "fields": {
                    "project": { "key": "SCRUM" }, "issuetype": { "id": "10002" }, "summary": "s", "labels": [format!("ado-id-{n}")],
                }});
                sim.create_one(&mut data, &caller, &element)
                    .expect("created");
            }
        }
        let created = started.elapsed();
        let started = Instant::now();
        for n in [0, 50_000, 99_999] {
            let found = sim
                .search(super::search::Request::jql(&format!(
                    "project = SCRUM AND labels = ado-id-{n}"
                )))
                .expect("search");
            assert_eq!(found["issues"].as_array().map(Vec::len), Some(1));
        }
        let searched = started.elapsed();
        eprintln!("100k creates: {created:?}; 3 label searches: {searched:?}");
        assert!(
            searched.as_secs() < 5,
            "label search scanned instead of using the index: {searched:?}"
        );
    }
}
