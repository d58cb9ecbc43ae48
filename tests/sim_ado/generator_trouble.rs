//! Planted trouble (`GenOptions::with_trouble`): recorded exactly in `_generator.expected`,
//! deterministic by seed, changing nothing else, and served consistently by the ADO simulator.
//! Also: `gen::people` lists exactly the dataset's identities.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::OnceLock;

use ferry::sim::ado::Dataset;
use ferry::sim::r#gen::{self, Expected, GenOptions, OUTSIDE_BASE, RETIRED_SEVERITY};
use serde_json::Value;

use crate::helpers::{spawn, workload_s};

/// Workload S (1,000 items, seed 42) with trouble, generated once per test run.
fn troubled_s() -> &'static (String, Expected) {
    static S: OnceLock<(String, Expected)> = OnceLock::new();
    S.get_or_init(|| {
        r#gen::generate_string(&GenOptions::new(1_000, 42).with_trouble()).expect("generate")
    })
}

fn items(text: &str) -> BTreeMap<i64, Value> {
    let doc: Value = serde_json::from_str(text).expect("json");
    doc["projects"][0]["workItems"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| (i["id"].as_i64().expect("id"), i.clone()))
        .collect()
}

fn ty(item: &Value) -> &str {
    item["fields"]["System.WorkItemType"]
        .as_str()
        .expect("type")
}

/// The ids an item's relations of kind `rel` point at.
fn related(item: &Value, rel: &str) -> Vec<i64> {
    item["relations"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["rel"] == rel)
        .filter_map(|r| r["url"].as_str()?.rsplit('/').next()?.parse().ok())
        .collect()
}

fn ids(list: &[u64]) -> BTreeSet<i64> {
    list.iter().map(|i| *i as i64).collect()
}

#[test]
fn without_trouble_every_kind_is_listed_empty_and_no_retired_value_appears() {
    let (text, expected) = workload_s();
    let kinds: Vec<&str> = expected.trouble.keys().map(String::as_str).collect();
    assert_eq!(
        kinds,
        ["outside_parent", "retired_severity", "skip_level_parent"]
    );
    assert!(expected.trouble.values().all(Vec::is_empty));
    assert!(!text.contains(RETIRED_SEVERITY));
}

#[test]
fn planted_trouble_is_recorded_exactly_with_consistent_fields_and_relations() {
    let (text, expected) = troubled_s();
    let doc: Value = serde_json::from_str(text).expect("json");
    let recorded: Expected =
        serde_json::from_value(doc["_generator"]["expected"].clone()).expect("expected");
    assert_eq!(&recorded, expected);
    let all = items(text);
    let t = &expected.trouble;
    let (retired, skipped, outside) = (
        ids(&t["retired_severity"]),
        ids(&t["skip_level_parent"]),
        ids(&t["outside_parent"]),
    );
    assert_eq!((retired.len(), skipped.len(), outside.len()), (2, 3, 1));

    for (id, item) in &all {
        let severity = item["fields"]["Microsoft.VSTS.Common.Severity"].as_str();
        assert_eq!(
            severity == Some(RETIRED_SEVERITY),
            retired.contains(id),
            "{id}"
        );
        if retired.contains(id) {
            assert_eq!(ty(item), "Bug");
        }
        let Some(parent) = item["fields"]["System.Parent"].as_i64() else {
            continue;
        };
        assert_eq!(
            related(item, "System.LinkTypes.Hierarchy-Reverse"),
            [parent]
        );
        match all.get(&parent) {
            None => {
                assert!(outside.contains(id), "{id}'s parent {parent} is outside");
                assert_eq!(ty(item), "User Story");
                assert!(parent > OUTSIDE_BASE as i64 && parent > all.len() as i64);
            }
            Some(p) => {
                let forward = related(p, "System.LinkTypes.Hierarchy-Forward");
                assert!(forward.contains(id), "{parent} lists child {id}");
                let skip = ty(item) == "Task" && ty(p) == "Feature";
                assert_eq!(skip, skipped.contains(id), "{id} under {}", ty(p));
            }
        }
    }
    // Every forward link names a child that names its parent back.
    for (id, item) in &all {
        for child in related(item, "System.LinkTypes.Hierarchy-Forward") {
            assert_eq!(all[&child]["fields"]["System.Parent"].as_i64(), Some(*id));
        }
    }
    // No pair is linked twice, hierarchy included.
    let mut pairs = HashSet::new();
    for (id, item) in &all {
        for r in item["relations"].as_array().into_iter().flatten() {
            let rel = r["rel"].as_str().expect("rel");
            if rel.starts_with("System.LinkTypes") || rel.starts_with("Microsoft.VSTS") {
                let other = related(&serde_json::json!({ "relations": [r] }), rel)[0];
                pairs.insert((
                    rel.contains("Hierarchy"),
                    (*id).min(other),
                    (*id).max(other),
                ));
            }
        }
    }
    let unordered: HashSet<(i64, i64)> = pairs.iter().map(|(_, a, b)| (*a, *b)).collect();
    assert_eq!(unordered.len(), pairs.len());
}

#[test]
fn planting_trouble_changes_no_other_value_or_count() {
    let (clean, clean_expected) = workload_s();
    let (troubled, expected) = troubled_s();
    assert_eq!(
        &Expected {
            trouble: clean_expected.trouble.clone(),
            ..expected.clone()
        },
        clean_expected
    );
    let (a, b) = (items(clean), items(troubled));
    let t = &expected.trouble;
    let moved: BTreeSet<i64> = ids(&t["skip_level_parent"])
        .union(&ids(&t["outside_parent"]))
        .copied()
        .collect();
    let mut parents_touched = BTreeSet::new();
    for id in &moved {
        for side in [&a, &b] {
            parents_touched.extend(side[id]["fields"]["System.Parent"].as_i64());
        }
    }
    for (id, before) in &a {
        let after = &b[id];
        let mut fields = before["fields"].clone();
        if moved.contains(id) {
            fields["System.Parent"] = after["fields"]["System.Parent"].clone();
        }
        if ids(&t["retired_severity"]).contains(id) {
            fields["Microsoft.VSTS.Common.Severity"] = RETIRED_SEVERITY.into();
        }
        assert_eq!(fields, after["fields"], "fields of {id}");
        if !moved.contains(id) && !parents_touched.contains(id) {
            assert_eq!(before["relations"], after["relations"], "relations of {id}");
        }
    }
    let strip = |text: &str| {
        let mut doc: Value = serde_json::from_str(text).expect("json");
        doc["_generator"] = Value::Null;
        doc["projects"][0]["workItems"] = Value::Null;
        doc
    };
    assert!(
        strip(clean) == strip(troubled),
        "comments, updates, files, people unchanged"
    );
}

#[test]
fn trouble_is_the_same_for_a_seed_and_differs_between_seeds() {
    let run = |seed| {
        r#gen::generate_string(&GenOptions::new(600, seed).with_trouble())
            .expect("generate")
            .1
            .trouble
    };
    let (a, b, c) = (run(5), run(5), run(6));
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert_eq!(
        a.values().map(Vec::len).collect::<Vec<_>>(),
        [1, 1, 2],
        "0.1 %, 0.2 %, 0.3 % of 600, rounded"
    );
}

#[tokio::test]
async fn the_ado_simulator_serves_the_planted_parents() {
    let (text, expected) = troubled_s();
    let sim = spawn(Dataset::from_json(text).expect("loads")).await;
    let task = expected.trouble["skip_level_parent"][0];
    let story = expected.trouble["outside_parent"][0];
    let v: Value = sim
        .json(&format!(
            "_apis/wit/workitems?ids={task},{story}&$expand=relations&api-version=7.1"
        ))
        .await;
    let (task, story) = (&v["value"][0], &v["value"][1]);
    let feature = task["fields"]["System.Parent"].as_i64().expect("parent");
    assert_eq!(
        related(task, "System.LinkTypes.Hierarchy-Reverse"),
        [feature]
    );
    let outside = story["fields"]["System.Parent"].as_i64().expect("parent");
    assert_eq!(
        related(story, "System.LinkTypes.Hierarchy-Reverse"),
        [outside]
    );
    let parent: Value = sim
        .json(&format!(
            "_apis/wit/workitems/{feature}?$expand=relations&api-version=7.1"
        ))
        .await;
    assert_eq!(ty(&parent), "Feature");
    assert!(
        related(&parent, "System.LinkTypes.Hierarchy-Forward")
            .contains(&task["id"].as_i64().expect("id"))
    );
    let missing = sim
        .get(&format!("_apis/wit/workitems/{outside}?api-version=7.1"))
        .send()
        .await
        .expect("send");
    assert_eq!(missing.status(), 404);
}

#[test]
fn people_lists_exactly_the_datasets_identities() {
    let (text, _) = workload_s();
    let doc: Value = serde_json::from_str(text).expect("json");
    let listed: Vec<(String, String, String)> = doc["identities"]
        .as_array()
        .expect("identities")
        .iter()
        .map(|p| {
            let s = |k: &str| p[k].as_str().expect(k).to_owned();
            (s("id"), s("displayName"), s("uniqueName"))
        })
        .collect();
    let people: Vec<(String, String, String)> = r#gen::people(&GenOptions::new(1_000, 42))
        .into_iter()
        .map(|p| (p.id, p.name, p.email))
        .collect();
    assert_eq!(people, listed);
    let with_trouble = r#gen::people(&GenOptions::new(1_000, 42).with_trouble());
    assert_eq!(with_trouble.len(), people.len());
}
