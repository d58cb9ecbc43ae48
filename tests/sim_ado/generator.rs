//! The generator is deterministic and produces workload S in the proportions of §6.1.

use std::collections::{BTreeMap, HashSet};

use ferry::sim::r#gen::{self, Expected, GenOptions, UNRESOLVABLE_DOMAIN};
use serde_json::Value;

use crate::helpers::workload_s;

#[test]
fn the_same_seed_and_size_give_identical_bytes_and_another_seed_does_not() {
    let (a, _) = r#gen::generate_string(&GenOptions::new(300, 9)).expect("a");
    let (b, _) = r#gen::generate_string(&GenOptions::new(300, 9)).expect("b");
    let (c, _) = r#gen::generate_string(&GenOptions::new(300, 10)).expect("c");
    assert!(a.len() > 100_000, "a 300-item dataset has real content");
    assert!(a == b, "same seed, same bytes");
    assert!(a != c, "different seed, different bytes");
}

#[test]
fn writing_to_a_file_streams_the_same_bytes_as_writing_to_memory() {
    let dir = std::env::temp_dir().join(format!("ferry-sim-ado-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("d.json");
    let options = GenOptions::new(120, 3);
    let expected = r#gen::generate_to_file(&options, &path).expect("file");
    let (text, in_memory) = r#gen::generate_string(&options).expect("memory");
    assert_eq!(std::fs::read_to_string(&path).expect("read"), text);
    assert_eq!(expected, in_memory);
    std::fs::remove_dir_all(&dir).ok();
}

fn count<'a>(it: impl Iterator<Item = &'a str>) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for k in it {
        *m.entry(k.to_string()).or_insert(0) += 1;
    }
    m
}

#[test]
fn workload_s_counts_match_its_expected_block_and_the_benchmark_proportions() {
    let (text, returned) = workload_s();
    let doc: Value = serde_json::from_str(text).expect("json");
    let expected: Expected =
        serde_json::from_value(doc["_generator"]["expected"].clone()).expect("expected block");
    assert_eq!(&expected, returned);
    let p = &doc["projects"][0];
    let items = p["workItems"].as_array().expect("items");
    let field = |i: &Value, f: &str| i["fields"][f].as_str().map(str::to_string);

    // Types and states, counted from the items themselves.
    let types: Vec<String> = items
        .iter()
        .filter_map(|i| field(i, "System.WorkItemType"))
        .collect();
    assert_eq!(count(types.iter().map(String::as_str)), expected.by_type);
    let want: BTreeMap<String, usize> = [
        ("Epic", 20),
        ("Feature", 80),
        ("User Story", 400),
        ("Task", 350),
        ("Bug", 150),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    assert_eq!(expected.by_type, want, "2/8/40/35/15 %");
    let states: Vec<String> = items
        .iter()
        .filter_map(|i| field(i, "System.State"))
        .collect();
    assert_eq!(count(states.iter().map(String::as_str)), expected.by_state);
    assert_eq!(expected.by_state["New"], 300);
    assert_eq!(expected.by_state["Closed"], 400);
    assert_eq!(expected.transitions, 1_100, "11,000 steps at M, scaled");

    // Hierarchy: Feature→Epic 100%, Story→Feature 90%, Task→Story 100%, Bug→Story 50%.
    let by_id: BTreeMap<i64, &Value> = items
        .iter()
        .map(|i| (i["id"].as_i64().expect("id"), i))
        .collect();
    let mut with_parent = BTreeMap::new();
    for i in items {
        let Some(parent) = i["fields"]["System.Parent"].as_i64() else {
            continue;
        };
        let child_type = field(i, "System.WorkItemType").expect("type");
        let parent_type = field(by_id[&parent], "System.WorkItemType").expect("parent type");
        let allowed = match child_type.as_str() {
            "Feature" => "Epic",
            "User Story" => "Feature",
            _ => "User Story",
        };
        assert_eq!(parent_type, allowed, "{child_type} under {parent_type}");
        let reverse = i["relations"]
            .as_array()
            .expect("relations")
            .iter()
            .any(|r| {
                r["rel"] == "System.LinkTypes.Hierarchy-Reverse"
                    && r["url"]
                        .as_str()
                        .is_some_and(|u| u.ends_with(&format!("/{parent}")))
            });
        assert!(reverse, "item {} carries its parent link", i["id"]);
        *with_parent.entry(child_type).or_insert(0) += 1;
    }
    assert_eq!(with_parent, expected.with_parent);
    assert_eq!(expected.with_parent["Feature"], 80);
    assert_eq!(expected.with_parent["User Story"], 360);
    assert_eq!(expected.with_parent["Task"], 350);
    assert_eq!(expected.with_parent["Bug"], 75);

    // Links: 750 with the stated split, never two between the same pair.
    let mut pairs = HashSet::new();
    let mut links = BTreeMap::new();
    let (mut hyperlinks, mut artifacts, mut files, mut bytes) = (0, 0, 0, 0u64);
    for i in items {
        let id = i["id"].as_i64().expect("id");
        for r in i["relations"].as_array().expect("relations") {
            let rel = r["rel"].as_str().expect("rel");
            let other = r["url"]
                .as_str()
                .and_then(|u| u.rsplit('/').next())
                .and_then(|s| s.parse::<i64>().ok());
            match rel {
                "Hyperlink" => hyperlinks += 1,
                "ArtifactLink" => artifacts += 1,
                "AttachedFile" => {
                    files += 1;
                    bytes += r["attributes"]["resourceSize"].as_u64().expect("size");
                }
                _ => {
                    let other = other.expect("work item link");
                    if rel.ends_with("-Forward") && !rel.contains("Hierarchy")
                        || (rel == "System.LinkTypes.Related" && id < other)
                    {
                        *links.entry(rel.to_string()).or_insert(0) += 1;
                    }
                    pairs.insert((id.min(other), id.max(other), rel.contains("Hierarchy")));
                }
            }
        }
    }
    assert_eq!(links, expected.links);
    assert_eq!(links.values().sum::<usize>(), 750);
    assert_eq!(links["System.LinkTypes.Related"], 450);
    let unordered: HashSet<(i64, i64)> = pairs.iter().map(|(a, b, _)| (*a, *b)).collect();
    assert_eq!(unordered.len(), pairs.len(), "no pair is linked twice");
    assert_eq!(
        unordered.len(),
        750 + 865,
        "links plus parent links, each pair once"
    );
    assert_eq!(
        (hyperlinks, artifacts),
        (expected.hyperlinks, expected.artifact_links)
    );
    assert!(hyperlinks > 0 && artifacts > 0);

    // Attachments: 200 files on 100 items, sizes capped, no 50 MB files at S.
    assert_eq!(
        (files, bytes),
        (expected.attachments, expected.attachment_bytes)
    );
    assert_eq!(
        (
            expected.attachments,
            expected.attachment_items,
            expected.large_attachments
        ),
        (200, 100, 0)
    );
    let attachments = doc["attachments"].as_object().expect("attachments");
    assert_eq!(
        attachments.len(),
        expected.attachments + expected.inline_images
    );
    assert!(attachments.values().all(|a| {
        a["synthetic"]["size"]
            .as_u64()
            .is_some_and(|s| s <= 60 * 1024 * 1024)
    }));

    // Comments: 3,000 visible, 45% of items with none, one hot item of 250.
    let comments = p["comments"].as_object().expect("comments");
    let visible = |c: &Value| !c["isDeleted"].as_bool().expect("isDeleted");
    let per_item: BTreeMap<i64, usize> = comments
        .iter()
        .map(|(k, v)| {
            (
                k.parse().expect("id key"),
                v.as_array()
                    .expect("list")
                    .iter()
                    .filter(|c| visible(c))
                    .count(),
            )
        })
        .collect();
    assert_eq!(per_item.values().sum::<usize>(), 3_000);
    let deleted: usize = comments
        .values()
        .map(|v| {
            v.as_array()
                .expect("list")
                .iter()
                .filter(|c| !visible(c))
                .count()
        })
        .sum();
    assert_eq!(deleted, expected.deleted_comments);
    assert!(deleted > 0);
    assert_eq!(per_item.values().filter(|c| **c > 0).count(), 550);
    assert_eq!(expected.hot_items.len(), 1);
    assert_eq!(per_item[&(expected.hot_items[0].0 as i64)], 250);
    assert!(
        per_item
            .iter()
            .all(|(id, c)| *c <= 200 || *id == expected.hot_items[0].0 as i64)
    );
    for i in items {
        let id = i["id"].as_i64().expect("id");
        assert_eq!(
            i["fields"]["System.CommentCount"].as_u64().expect("count") as usize,
            per_item.get(&id).copied().unwrap_or(0)
        );
    }

    // Iterations: 6 sprints (4 closed, 1 active, 1 future), 600 items in sprints.
    let sprints = p["iterations"]["children"].as_array().expect("sprints");
    assert_eq!(sprints.len(), 6);
    assert_eq!(
        count(
            sprints
                .iter()
                .filter_map(|s| s["attributes"]["timeFrame"].as_str())
        ),
        count(["past", "past", "past", "past", "current", "future"].into_iter())
    );
    assert!(
        sprints
            .iter()
            .all(|s| s["attributes"]["startDate"].is_string()
                && s["attributes"]["finishDate"].is_string())
    );
    let in_sprint = items
        .iter()
        .filter(|i| field(i, "System.IterationPath").is_some_and(|p| p.contains("\\Sprint ")))
        .count();
    assert_eq!(in_sprint, 600);

    // People: 25 at S, a fifth of them without a Jira account (by mail domain).
    let people = doc["identities"].as_array().expect("identities");
    assert_eq!(people.len(), expected.identities);
    let foreign = people
        .iter()
        .filter(|p| {
            p["uniqueName"]
                .as_str()
                .is_some_and(|m| m.ends_with(UNRESOLVABLE_DOMAIN))
        })
        .count();
    assert_eq!(foreign, expected.unresolvable_identities);
    assert_eq!(foreign * 5, people.len());

    // Updates: one list per item whose length is the item's rev.
    let updates = p["updates"].as_object().expect("updates");
    for i in items {
        let list = updates[&i["id"].to_string()].as_array().expect("updates");
        assert_eq!(list.len() as i64, i["rev"].as_i64().expect("rev"));
    }
}

#[test]
fn descriptions_hold_every_html_construct_a_converter_must_handle() {
    let (text, _) = workload_s();
    let doc: Value = serde_json::from_str(text).expect("json");
    let items = doc["projects"][0]["workItems"].as_array().expect("items");
    let html: String = items
        .iter()
        .filter_map(|i| {
            i["fields"]["System.Description"]
                .as_str()
                .or(i["fields"]["Microsoft.VSTS.TCM.ReproSteps"].as_str())
        })
        .collect();
    for needle in [
        "<h1>",
        "<h2>",
        "<ul>",
        "<ol>",
        "<table>",
        "<pre><code>",
        "data-vss-mention=\"version:2.0,",
        "See #",
        "<img src=\"https://dev.azure.com/contoso/_apis/wit/attachments/",
    ] {
        assert!(
            html.contains(needle),
            "some description contains {needle:?}"
        );
    }
    // A nested list opens right after its parent item's text.
    assert!(
        html.contains(". <ul>") || html.contains(". <ol>"),
        "lists nest"
    );
    // Every inline image points at an attachment the dataset can serve.
    let attachments = doc["attachments"].as_object().expect("attachments");
    for part in html.split("/_apis/wit/attachments/").skip(1) {
        let guid = &part[..36];
        assert!(
            attachments.contains_key(guid),
            "inline image {guid} is served"
        );
    }
    let sizes: Vec<usize> = items
        .iter()
        .filter_map(|i| i["fields"]["System.Description"].as_str())
        .map(str::len)
        .collect();
    let mut sorted = sizes.clone();
    sorted.sort_unstable();
    let median = sorted[sorted.len() / 2];
    assert!(
        (1_000..4_000).contains(&median),
        "description median {median} B is near 2 KB"
    );
}
