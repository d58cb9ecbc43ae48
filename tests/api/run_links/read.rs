//! Reading back what a run made through Jira's REST API, with the shared verifier's readers,
//! and what the ADO dataset says it should have made.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::{
    mapping::World,
    verify::{
        Jira,
        links::{self, End},
        read::origin,
    },
};

pub(super) use crate::verify::links::Key;

/// An issue of SCRUM as Jira has it.
pub(super) struct Issue {
    pub ado: i64,
    pub key: String,
    pub parent: Option<String>,
    pub links: Vec<End>,
}

/// Every issue of SCRUM with its parent and links, by issue id; panics on a duplicate issue.
pub(super) async fn jira_issues(w: &World) -> BTreeMap<String, Issue> {
    let jira = Jira::connect(w);
    let listed = jira.search(&["id"]).await;
    let ids = listed
        .iter()
        .filter_map(|i| i["id"].as_str().map(str::to_owned))
        .collect();
    let mut seen = BTreeSet::new();
    let mut out = BTreeMap::new();
    // The issue itself, not the search's view, is what a Jira user sees.
    for (id, full) in jira.issues(ids).await {
        let ado = origin(&full.issue).expect("origin");
        assert!(seen.insert(ado), "item {ado} is in Jira twice");
        let issue = Issue {
            ado,
            key: full.issue["key"].as_str().expect("key").to_owned(),
            parent: full.issue["fields"]["parent"]["key"]
                .as_str()
                .map(str::to_owned),
            links: links::ends(&full.issue),
        };
        out.insert(id, issue);
    }
    out
}

/// Jira's links by link id, in ADO ids; symmetric types with the lower id outward.
pub(super) fn links_in_jira(
    issues: &BTreeMap<String, Issue>,
    symmetric: &BTreeSet<String>,
) -> Vec<Key> {
    let ends: BTreeMap<String, (i64, &[End])> = issues
        .iter()
        .map(|(id, i)| (id.clone(), (i.ado, i.links.as_slice())))
        .collect();
    let (links, wrong) = links::links_in_jira(&ends, symmetric);
    assert!(wrong.is_empty(), "{wrong:#?}");
    links
}

/// The Jira link types that read the same both ways.
pub(super) async fn symmetric_types(w: &World) -> BTreeSet<String> {
    links::symmetric_types(&Jira::connect(w)).await
}

/// The links the dataset's relations make under the mapping's link rules, once each.
pub(super) fn expected_links(
    dataset: &Value,
    mapping: &Value,
    symmetric: &BTreeSet<String>,
) -> BTreeSet<Key> {
    links::expected_links(dataset, &mapping["mapping"], symmetric)
}
