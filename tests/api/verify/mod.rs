//! One verifier for a whole migration (issue 6's first "done when"): given the ADO dataset, the
//! mapping the run used and a Jira site, it reads Jira only through its standard REST API and
//! checks every item: exactly one issue per ADO item (by its `ferry-origin` property), its
//! parent wherever Jira's hierarchy can hold it, its links once each with the right type and
//! direction, its attachments byte-identical (SHA-256), its status the mapped one, its comments
//! in order with their text, its remote link back to ADO, its component and its sprint. It
//! returns every mismatch, so a failure says exactly what is wrong where.

pub(crate) mod comments;
pub(crate) mod files;
pub(crate) mod links;
pub(crate) mod read;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::Value;

pub(crate) use self::read::Jira;
use self::{links::End, read::origin};
use crate::mapping::items;

/// What the verifier compares Jira with.
pub(crate) struct Expected<'a> {
    /// The generated ADO dataset the simulator serves.
    pub dataset: &'a Value,
    /// The mapping document the run used (`types`, `states`, `links`, `areas`, `iterations`).
    pub mapping: &'a Value,
    /// The ADO organization URL and PAT, to read the attachments' bytes.
    pub org: &'a str,
    pub pat: &'a str,
    /// Items that must not be in Jira (the ones the run reports failed, by design).
    pub absent: BTreeSet<i64>,
}

/// What a verification looked at, so a test can tell a clean check from an empty one.
#[derive(Debug, Default)]
pub(crate) struct Counts {
    pub issues: usize,
    pub parents: usize,
    pub links: usize,
    pub files: usize,
    pub comments: usize,
    pub split_comments: usize,
    pub moved: usize,
    pub components: usize,
    pub sprints: usize,
}

/// The verifier's answer: every mismatch found, and what it looked at.
#[derive(Debug, Default)]
pub(crate) struct Verdict {
    pub mismatches: Vec<String>,
    pub counts: Counts,
}

impl Verdict {
    /// Panics with the mismatches (the first 50 and their number; up to 5,000 more go to
    /// stderr) unless there are none.
    pub(crate) fn assert_clean(&self) {
        for m in self.mismatches.iter().skip(50).take(5000) {
            eprintln!("mismatch: {m}");
        }
        let shown: Vec<&String> = self.mismatches.iter().take(50).collect();
        assert!(
            self.mismatches.is_empty(),
            "{} mismatches between Jira and ADO ({:?}):\n{}",
            self.mismatches.len(),
            self.counts,
            shown
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

/// Rule lookups from the mapping document.
fn value_rules(mapping: &Value, list: &str) -> HashMap<String, String> {
    mapping[list]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| {
            Some((
                r["ado"].as_str()?.to_owned(),
                r["jira"].as_str()?.to_owned(),
            ))
        })
        .collect()
}

/// Whether a field rule carries `ado_field` into Jira.
fn field_mapped(mapping: &Value, ado_field: &str) -> bool {
    mapping["fields"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|f| f["adoField"] == ado_field && f["jiraField"].is_string())
}

/// Checks every item of `want.dataset` against Jira.
pub(crate) async fn verify(jira: &Jira, want: &Expected<'_>) -> Verdict {
    let mut v = Verdict::default();
    let wrong = &mut v.mismatches;

    // Exactly one issue per ADO item, nothing else in the project.
    let listed = jira.search(&["issuetype"]).await;
    let mut by_ado: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for i in &listed {
        let id = i["id"].as_str().expect("id").to_owned();
        match origin(i) {
            Some(ado) => by_ado.entry(ado).or_default().push(id),
            None => wrong.push(format!("{}: an issue without its origin", i["key"])),
        }
    }
    let all: BTreeSet<i64> = items(want.dataset)
        .iter()
        .filter_map(|i| i["id"].as_i64())
        .collect();
    for (ado, ids) in &by_ado {
        if ids.len() > 1 {
            wrong.push(format!("ADO {ado}: {} issues {ids:?}", ids.len()));
        }
        if !all.contains(ado) {
            wrong.push(format!("ADO {ado}: in Jira but not in the dataset"));
        } else if want.absent.contains(ado) {
            wrong.push(format!("ADO {ado}: in Jira, expected absent"));
        }
    }
    for ado in all.iter().filter(|a| !want.absent.contains(a)) {
        if !by_ado.contains_key(ado) {
            wrong.push(format!("ADO {ado}: no issue in Jira"));
        }
    }

    // Each issue whole, as Jira shows it.
    let full = jira
        .issues(
            listed
                .iter()
                .filter_map(|i| i["id"].as_str().map(str::to_owned))
                .collect(),
        )
        .await;
    let issue_of: HashMap<i64, &Value> = by_ado
        .iter()
        .filter_map(|(ado, ids)| Some((*ado, &full.get(&ids[0])?.issue)))
        .collect();
    v.counts.issues = issue_of.len();
    let key_of = |ado: i64| issue_of.get(&ado).and_then(|i| i["key"].as_str());
    let level = |i: &Value| {
        i["fields"]["issuetype"]["hierarchyLevel"]
            .as_i64()
            .unwrap_or(0)
    };
    let states = want.mapping["states"].as_array().expect("state rules");
    let areas = value_rules(want.mapping, "areas");
    let components = field_mapped(want.mapping, "System.AreaPath");
    let in_files = files::ado_files(want.dataset, want.org, want.pat, |id| {
        issue_of.contains_key(&id)
    })
    .await;
    let ado_comments = &want.dataset["projects"][0]["comments"];
    for item in items(want.dataset) {
        let ado = item["id"].as_i64().expect("id");
        let Some(issue) = issue_of.get(&ado) else {
            continue;
        };
        let key = issue["key"].as_str().expect("key");
        let f = &item["fields"];
        let (ty, state) = (
            f["System.WorkItemType"].as_str().unwrap_or(""),
            f["System.State"].as_str().unwrap_or(""),
        );

        // Parent: ADO's, wherever Jira's hierarchy lets the two issues hold it.
        let parent = f["System.Parent"].as_i64().and_then(|p| {
            let pi = issue_of.get(&p)?;
            (level(pi) == level(issue) + 1).then(|| key_of(p).expect("key"))
        });
        let actual = issue["fields"]["parent"]["key"].as_str();
        if actual != parent {
            wrong.push(format!(
                "{key} (ADO {ado}): parent {actual:?}, expected {parent:?}"
            ));
        } else if parent.is_some() {
            v.counts.parents += 1;
        }

        // Status: the one the mapping's state rule names.
        let rule = states
            .iter()
            .find(|r| r["adoType"] == ty && r["adoState"] == state);
        match rule.and_then(|r| r["jiraStatus"].as_str()) {
            Some(s) if issue["fields"]["status"]["id"] != s => wrong.push(format!(
                "{key} (ADO {ado}, {ty} {state}): status {}, expected {s}",
                issue["fields"]["status"]["id"]
            )),
            Some(s) if s != "10000" => v.counts.moved += 1,
            Some(_) => {}
            None => wrong.push(format!("{key}: no state rule for {ty} {state}")),
        }

        // Component: the one the area rule names.
        if components {
            let want_c: BTreeSet<&str> = f["System.AreaPath"]
                .as_str()
                .and_then(|a| areas.get(a))
                .map(String::as_str)
                .into_iter()
                .collect();
            let got: BTreeSet<&str> = issue["fields"]["components"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|c| c["name"].as_str())
                .collect();
            if got != want_c {
                wrong.push(format!(
                    "{key} (ADO {ado}): components {got:?}, expected {want_c:?}"
                ));
            }
            v.counts.components += got.len();
        }

        // Attachments: ADO's files, byte for byte, once each.
        let got = files::jira_files(jira, issue);
        let expected: Vec<_> = in_files[&ado]
            .iter()
            .map(|(n, s, h)| (n.clone(), *s, Some(h.clone())))
            .collect();
        if got != expected {
            wrong.push(format!(
                "{key} (ADO {ado}): attachments {got:?}, expected {expected:?}"
            ));
        }
        v.counts.files += got.len();

        // Remote link: exactly one, back to the ADO item.
        let remote = full[issue["id"].as_str().expect("id")]
            .remote
            .as_array()
            .cloned()
            .unwrap_or_default();
        let back = format!("/_workitems/edit/{ado}");
        if remote.len() != 1
            || !remote[0]["object"]["url"]
                .as_str()
                .unwrap_or("")
                .ends_with(&back)
        {
            wrong.push(format!(
                "{key} (ADO {ado}): remote links {remote:?}, expected one to …{back}"
            ));
        }

        // Comments.
        let t = comments::compare(
            key,
            &ado_comments[ado.to_string()],
            &full[issue["id"].as_str().expect("id")].comments,
            wrong,
        );
        v.counts.comments += t.comments;
        v.counts.split_comments += t.split;
    }

    // Links, once each, with the right type and direction.
    let symmetric = links::symmetric_types(jira).await;
    let ends: Vec<(String, i64, Vec<End>)> = by_ado
        .iter()
        .filter_map(|(ado, ids)| {
            Some((ids[0].clone(), *ado, links::ends(&full.get(&ids[0])?.issue)))
        })
        .collect();
    let ends: BTreeMap<String, (i64, &[End])> = ends
        .iter()
        .map(|(id, ado, e)| (id.clone(), (*ado, e.as_slice())))
        .collect();
    let (in_jira, odd) = links::links_in_jira(&ends, &symmetric);
    wrong.extend(odd);
    let unique: BTreeSet<links::Key> = in_jira.iter().cloned().collect();
    if unique.len() != in_jira.len() {
        wrong.push(format!(
            "{} links are in Jira twice",
            in_jira.len() - unique.len()
        ));
    }
    let expected: BTreeSet<links::Key> =
        links::expected_links(want.dataset, want.mapping, &symmetric)
            .into_iter()
            .filter(|(_, a, b)| issue_of.contains_key(a) && issue_of.contains_key(b))
            .collect();
    for l in expected.difference(&unique) {
        wrong.push(format!(
            "link {l:?} (type, outward ADO, inward ADO) missing"
        ));
    }
    for l in unique.difference(&expected) {
        wrong.push(format!(
            "link {l:?} (type, outward ADO, inward ADO) not in ADO"
        ));
    }
    v.counts.links = unique.len();

    // Sprints: each once, every issue in the sprint its iteration rule names.
    let iterations = value_rules(want.mapping, "iterations");
    if field_mapped(want.mapping, "System.IterationPath") {
        let board = jira.sprints(1).await;
        let mut sprint_of: HashMap<String, String> = HashMap::new();
        for (name, ids) in &board {
            if ids.len() > 1 {
                wrong.push(format!("sprint {name:?} is in Jira {} times", ids.len()));
            }
            for id in ids {
                for k in jira.sprint_issues(*id).await {
                    if let Some(other) = sprint_of.insert(k.clone(), name.clone()) {
                        wrong.push(format!("{k} is in sprints {other:?} and {name:?}"));
                    }
                }
            }
        }
        for item in items(want.dataset) {
            let ado = item["id"].as_i64().expect("id");
            let Some(key) = key_of(ado) else { continue };
            let expected = item["fields"]["System.IterationPath"]
                .as_str()
                .and_then(|p| iterations.get(p));
            let got = sprint_of.get(key);
            if got != expected {
                wrong.push(format!(
                    "{key} (ADO {ado}): sprint {got:?}, expected {expected:?}"
                ));
            } else if got.is_some() {
                v.counts.sprints += 1;
            }
        }
    }
    v
}
