//! Reading a Jira project back through Jira's standard REST API: search with paging, each issue
//! with its fields and origin, comments, remote links, link types, sprints.

use std::collections::BTreeMap;

use ferry::{
    connect::outbound::{HostClient, TenantCredentials},
    sim::jira::JiraSim,
    target::jira::{JiraAuth, JiraClient},
};
use futures_util::{StreamExt as _, TryStreamExt as _};
use secrecy::SecretString;
use serde_json::{Value, json};

use crate::{helpers::APP_KEY, mapping::World};

/// Reads run in parallel, as many as this; the simulators answer in microseconds.
const PARALLEL: usize = 16;

/// A Jira site as the verifier reads it: a REST client, and the simulator only for what its
/// REST API cannot give (the SHA-256 of an attachment's bytes: the simulator keeps digests,
/// not files, so it serves no attachment content).
pub(crate) struct Jira {
    pub client: JiraClient,
    pub sim: JiraSim,
    pub project: String,
}

impl Jira {
    /// Signed as the installed app, the way Ferry itself reads a Connect site.
    pub(crate) fn connect(w: &World) -> Self {
        let tenant = TenantCredentials {
            base_url: w.site.base_url.parse().expect("url"),
            shared_secret: SecretString::from(w.site.secret.clone()),
        };
        let client = JiraClient::new(JiraAuth::Connect {
            host: HostClient::new(APP_KEY, std::time::Duration::from_secs(30)),
            tenant,
        })
        .expect("client");
        Self::with(client, w.jira.clone())
    }

    /// As a user with an API token (`ferry migrate`'s target).
    pub(crate) fn api_token(site: &str, email: &str, token: &str, sim: JiraSim) -> Self {
        let client = JiraClient::new(JiraAuth::Basic {
            site: site.parse().expect("url"),
            email: email.to_owned(),
            token: SecretString::from(token.to_owned()),
        })
        .expect("client");
        Self::with(client, sim)
    }

    fn with(client: JiraClient, sim: JiraSim) -> Self {
        Self {
            client,
            sim,
            project: "SCRUM".into(),
        }
    }

    pub(crate) async fn get(&self, path: &str) -> Value {
        self.client
            .get_json(path)
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }

    /// Every issue of the project as the search lists it, with `fields` and its origin.
    pub(crate) async fn search(&self, fields: &[&str]) -> Vec<Value> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut body = json!({ "jql": format!("project = {} ORDER BY id", self.project),
                "fields": fields, "properties": ["ferry-origin"], "maxResults": 100 });
            if let Some(t) = &token {
                body["nextPageToken"] = json!(t);
            }
            let page: Value = self
                .client
                .post_json_idempotent("/rest/api/3/search/jql", &body)
                .await
                .expect("search");
            out.extend(page["issues"].as_array().expect("issues").iter().cloned());
            match page["nextPageToken"].as_str() {
                Some(t) => token = Some(t.to_owned()),
                None => return out,
            }
        }
    }

    /// Each issue itself (not the search's view, which may lag), with its comments and remote
    /// links, by issue id.
    pub(crate) async fn issues(&self, ids: Vec<String>) -> BTreeMap<String, Full> {
        futures_util::stream::iter(ids)
            .map(|id| async move {
                let issue = self
                    .get(&format!(
                        "/rest/api/3/issue/{id}?fields=parent,status,issuetype,components,labels,issuelinks,attachment&properties=ferry-origin"
                    ))
                    .await;
                let comments = self.comments(&id).await;
                let remote = self.get(&format!("/rest/api/3/issue/{id}/remotelink")).await;
                Ok::<_, ()>((id, Full { issue, comments, remote }))
            })
            .buffer_unordered(PARALLEL)
            .try_collect()
            .await
            .expect("issues")
    }

    /// An issue's comments, oldest first, with their properties.
    pub(crate) async fn comments(&self, issue: &str) -> Vec<Value> {
        let mut out = Vec::new();
        loop {
            let page = self
                .get(&format!(
                    "/rest/api/3/issue/{issue}/comment?startAt={}&maxResults=100&expand=properties",
                    out.len()
                ))
                .await;
            let list = page["comments"].as_array().expect("comments").clone();
            let total = page["total"].as_u64().expect("total") as usize;
            let empty = list.is_empty();
            out.extend(list);
            if empty || out.len() >= total {
                return out;
            }
        }
    }

    /// The board's sprints: name → ids of the sprints bearing it (one, unless duplicated).
    pub(crate) async fn sprints(&self, board: i64) -> BTreeMap<String, Vec<i64>> {
        let mut out: BTreeMap<String, Vec<i64>> = BTreeMap::new();
        let mut start = 0;
        loop {
            let page = self
                .get(&format!(
                    "/rest/agile/1.0/board/{board}/sprint?startAt={start}&maxResults=50"
                ))
                .await;
            let values = page["values"].as_array().expect("values").clone();
            for s in &values {
                out.entry(s["name"].as_str().expect("name").to_owned())
                    .or_default()
                    .push(s["id"].as_i64().expect("id"));
            }
            start += values.len();
            if values.is_empty() || page["isLast"] == true {
                return out;
            }
        }
    }

    /// The keys of the issues in a sprint, as Jira's Agile API lists them.
    pub(crate) async fn sprint_issues(&self, sprint: i64) -> Vec<String> {
        let mut out = Vec::new();
        loop {
            let page = self
                .get(&format!(
                    "/rest/agile/1.0/sprint/{sprint}/issue?startAt={}&maxResults=100&fields=summary",
                    out.len()
                ))
                .await;
            let issues = page["issues"].as_array().expect("issues").clone();
            let empty = issues.is_empty();
            out.extend(
                issues
                    .iter()
                    .filter_map(|i| i["key"].as_str().map(str::to_owned)),
            );
            if empty || out.len() as i64 >= page["total"].as_i64().unwrap_or(0) {
                return out;
            }
        }
    }
}

/// One issue read back whole.
pub(crate) struct Full {
    pub issue: Value,
    pub comments: Vec<Value>,
    pub remote: Value,
}

/// The `ferry-origin` ADO id of an issue (search result or issue).
pub(crate) fn origin(issue: &Value) -> Option<i64> {
    issue["properties"]["ferry-origin"]["adoId"].as_i64()
}
