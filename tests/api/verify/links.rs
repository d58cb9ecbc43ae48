//! Issue links: the ones the dataset's relations make under the mapping's link rules, and the
//! ones Jira has, both as (link type, outward ADO id, inward ADO id).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::Value;

use super::read::Jira;
use crate::mapping::items;

/// (Jira link type id, outward ADO id, inward ADO id); symmetric types with the lower id first.
pub(crate) type Key = (String, i64, i64);

/// One end of a link as an issue lists it: (link id, type id, other issue id, this issue is
/// the outward end).
pub(crate) type End = (String, String, String, bool);

/// The links an issue lists in `fields.issuelinks`.
pub(crate) fn ends(issue: &Value) -> Vec<End> {
    let mut out = Vec::new();
    for l in issue["fields"]["issuelinks"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let lid = l["id"].as_str().expect("link id").to_owned();
        let ty = l["type"]["id"].as_str().expect("type").to_owned();
        if let Some(o) = l["inwardIssue"]["id"].as_str() {
            out.push((lid.clone(), ty.clone(), o.to_owned(), true));
        }
        if let Some(o) = l["outwardIssue"]["id"].as_str() {
            out.push((lid, ty, o.to_owned(), false));
        }
    }
    out
}

/// Jira's links by link id, in ADO ids, from every issue's ends (issue id → (ADO id, ends));
/// symmetric types with the lower id outward. The second list says what does not add up: a
/// link to an issue outside the project, or one whose two ends disagree.
pub(crate) fn links_in_jira(
    issues: &BTreeMap<String, (i64, &[End])>,
    symmetric: &BTreeSet<String>,
) -> (Vec<Key>, Vec<String>) {
    let mut by_id: BTreeMap<String, Key> = BTreeMap::new();
    let mut wrong = Vec::new();
    for (ado, links) in issues.values() {
        for (lid, ty, other, outward) in links.iter() {
            let Some((other, _)) = issues.get(other) else {
                wrong.push(format!(
                    "ADO {ado}: link {lid} to issue {other}, not one of the run's"
                ));
                continue;
            };
            let (from, to) = if *outward {
                (*ado, *other)
            } else {
                (*other, *ado)
            };
            let (from, to) = if symmetric.contains(ty) {
                (from.min(to), from.max(to))
            } else {
                (from, to)
            };
            let key = (ty.clone(), from, to);
            if let Some(seen) = by_id.insert(lid.clone(), key.clone())
                && seen != key
            {
                wrong.push(format!(
                    "link {lid} looks different from its two ends: {seen:?} {key:?}"
                ));
            }
        }
    }
    (by_id.into_values().collect(), wrong)
}

/// The Jira link types that read the same both ways.
pub(crate) async fn symmetric_types(jira: &Jira) -> BTreeSet<String> {
    jira.get("/rest/api/3/issueLinkType").await["issueLinkTypes"]
        .as_array()
        .expect("types")
        .iter()
        .filter(|t| t["inward"] == t["outward"])
        .filter_map(|t| t["id"].as_str().map(str::to_owned))
        .collect()
}

/// The links the dataset's relations make under `mapping`'s link rules, once each: a forward
/// relation's holder is the outward end; a relation without direction, or a Jira type that
/// reads the same both ways, puts the lower id first.
pub(crate) fn expected_links(
    dataset: &Value,
    mapping: &Value,
    symmetric: &BTreeSet<String>,
) -> BTreeSet<Key> {
    let rules: HashMap<&str, &str> = mapping["links"]
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
