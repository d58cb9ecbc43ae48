//! Reading back what a run made, through Jira's REST API, and what the ADO dataset says it
//! should have made.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use ferry::{
    connect::outbound::{HostClient, TenantCredentials},
    target::jira::{JiraAuth, JiraClient},
};
use secrecy::SecretString;
use serde_json::{Value, json};

use crate::{
    helpers::APP_KEY,
    mapping::{World, items},
};

/// (Jira link type id, outward ADO id, inward ADO id); symmetric types with the lower id first.
pub(super) type Key = (String, i64, i64);

fn jira_reader(w: &World) -> JiraClient {
    let tenant = TenantCredentials {
        base_url: w.site.base_url.parse().expect("url"),
        shared_secret: SecretString::from(w.site.secret.clone()),
    };
    JiraClient::new(JiraAuth::Connect {
        host: HostClient::new(APP_KEY, std::time::Duration::from_secs(30)),
        tenant,
    })
    .expect("client")
}

/// An issue of SCRUM as Jira has it.
pub(super) struct Issue {
    pub ado: i64,
    pub key: String,
    pub parent: Option<String>,
    /// (link id, type id, other issue id, this issue is the outward end).
    pub links: Vec<(String, String, String, bool)>,
}

/// Every issue of SCRUM with its parent and links; panics on a duplicate issue.
pub(super) async fn jira_issues(w: &World) -> BTreeMap<String, Issue> {
    let client = jira_reader(w);
    let mut out = BTreeMap::new();
    let mut seen = BTreeSet::new();
    let mut token: Option<String> = None;
    loop {
        let mut body = json!({ "jql": "project = SCRUM ORDER BY id", "fields": ["parent", "issuelinks"],
            "properties": ["ferry-origin"], "maxResults": 100 });
        if let Some(t) = &token {
            body["nextPageToken"] = json!(t);
        }
        let page: Value = client
            .post_json_idempotent("/rest/api/3/search/jql", &body)
            .await
            .expect("search");
        for i in page["issues"].as_array().expect("issues") {
            let ado = i["properties"]["ferry-origin"]["adoId"]
                .as_i64()
                .expect("origin");
            assert!(seen.insert(ado), "item {ado} is in Jira twice");
            let id = i["id"].as_str().expect("id").to_owned();
            // The issue itself, not the search's view, is what a Jira user sees.
            let full: Value = client
                .get_json(&format!("/rest/api/3/issue/{id}?fields=issuelinks,parent"))
                .await
                .expect("issue");
            let mut links = Vec::new();
            for l in full["fields"]["issuelinks"].as_array().expect("issuelinks") {
                let lid = l["id"].as_str().expect("link id").to_owned();
                let ty = l["type"]["id"].as_str().expect("type").to_owned();
                if let Some(o) = l["inwardIssue"]["id"].as_str() {
                    links.push((lid.clone(), ty.clone(), o.to_owned(), true));
                }
                if let Some(o) = l["outwardIssue"]["id"].as_str() {
                    links.push((lid, ty, o.to_owned(), false));
                }
            }
            let issue = Issue {
                ado,
                key: i["key"].as_str().expect("key").to_owned(),
                parent: full["fields"]["parent"]["key"].as_str().map(str::to_owned),
                links,
            };
            out.insert(id, issue);
        }
        match page["nextPageToken"].as_str() {
            Some(t) => token = Some(t.to_owned()),
            None => return out,
        }
    }
}

/// Jira's links by link id, in ADO ids; symmetric types with the lower id outward.
pub(super) fn links_in_jira(
    issues: &BTreeMap<String, Issue>,
    symmetric: &BTreeSet<String>,
) -> Vec<Key> {
    let mut by_id: BTreeMap<String, Key> = BTreeMap::new();
    for issue in issues.values() {
        for (lid, ty, other, outward) in &issue.links {
            let other = issues
                .get(other)
                .expect("the other end is a SCRUM issue")
                .ado;
            let (from, to) = if *outward {
                (issue.ado, other)
            } else {
                (other, issue.ado)
            };
            let (from, to) = if symmetric.contains(ty) {
                (from.min(to), from.max(to))
            } else {
                (from, to)
            };
            let seen = by_id.insert(lid.clone(), (ty.clone(), from, to));
            assert!(
                seen.is_none_or(|s| s == (ty.clone(), from, to)),
                "link {lid} looks different from its two ends"
            );
        }
    }
    by_id.into_values().collect()
}

/// The Jira link types that read the same both ways.
pub(super) async fn symmetric_types(w: &World) -> BTreeSet<String> {
    let types: Value = jira_reader(w)
        .get_json("/rest/api/3/issueLinkType")
        .await
        .expect("link types");
    types["issueLinkTypes"]
        .as_array()
        .expect("types")
        .iter()
        .filter(|t| t["inward"] == t["outward"])
        .filter_map(|t| t["id"].as_str().map(str::to_owned))
        .collect()
}

/// The links the dataset's relations make under the mapping's link rules, once each: a forward
/// relation's holder is the outward end; a relation without direction, or a Jira type that
/// reads the same both ways, puts the lower id first.
pub(super) fn expected_links(
    dataset: &Value,
    mapping: &Value,
    symmetric: &BTreeSet<String>,
) -> BTreeSet<Key> {
    let rules: HashMap<&str, &str> = mapping["mapping"]["links"]
        .as_array()
        .expect("link rules")
        .iter()
        .filter_map(|r| Some((r["adoRelation"].as_str()?, r["jiraLinkType"].as_str()?)))
        .collect();
    let mut out = BTreeSet::new();
    for item in items(dataset) {
        let me = item["id"].as_i64().expect("id");
        for r in item["relations"].as_array().into_iter().flatten() {
            let (rel, url) = (
                r["rel"].as_str().unwrap_or(""),
                r["url"].as_str().unwrap_or(""),
            );
            if rel.contains("Hierarchy")
                || !url.to_ascii_lowercase().contains("/_apis/wit/workitems/")
            {
                continue;
            }
            let other: i64 = url
                .rsplit('/')
                .next()
                .and_then(|s| s.parse().ok())
                .expect("id");
            let (forward, outward) = match rel.strip_suffix("-Reverse") {
                Some(base) => (format!("{base}-Forward"), false),
                None => (rel.to_owned(), true),
            };
            let Some(lt) = rules.get(forward.as_str()) else {
                continue;
            };
            let undirected = !rel.ends_with("-Forward") && !rel.ends_with("-Reverse");
            let (from, to) = if undirected || symmetric.contains(*lt) {
                (me.min(other), me.max(other))
            } else if outward {
                (me, other)
            } else {
                (other, me)
            };
            out.insert(((*lt).to_owned(), from, to));
        }
    }
    out
}
