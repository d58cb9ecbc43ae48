//! A parent outside a run's scope that an earlier run migrated is set as the parent; one that
//! no run migrated leaves the issue without a parent and fails nothing.

use std::collections::{BTreeSet, HashMap};

use super::{assert_links, mapping_of, run, scoped_catalog, steps};
use crate::mapping::{items, world};

#[tokio::test]
async fn parents_migrated_by_an_earlier_run_are_set_on_children_of_a_narrower_run() {
    let w = world(160).await;
    let type_of: HashMap<i64, String> = items(&w.dataset)
        .iter()
        .filter_map(|i| {
            let ty = i["fields"]["System.WorkItemType"].as_str()?;
            Some((i["id"].as_i64()?, ty.to_owned()))
        })
        .collect();
    let upper: BTreeSet<i64> = type_of
        .iter()
        .filter(|(_, t)| matches!(t.as_str(), "Epic" | "Feature"))
        .map(|(id, _)| *id)
        .collect();

    // Run 1: Epics and Features. Run 2: the backlog below them, whose parents are outside it.
    let first = scoped_catalog(&w, &["Epic", "Feature"]).await;
    run(&w, &mapping_of(&w, &first).await, false).await;
    let second = scoped_catalog(&w, &["User Story", "Task", "Bug"]).await;
    let m2 = mapping_of(&w, &second).await;
    let r2 = run(&w, &m2, false).await;
    assert_eq!(r2["run"]["status"], "completed", "{r2}");

    let issues = super::read::jira_issues(&w).await;
    let key_of: HashMap<i64, &str> = issues.values().map(|i| (i.ado, i.key.as_str())).collect();
    let parent_of: HashMap<i64, Option<&str>> = issues
        .values()
        .map(|i| (i.ado, i.parent.as_deref()))
        .collect();
    let under_upper: Vec<(i64, i64)> = items(&w.dataset)
        .iter()
        .filter_map(|i| Some((i["id"].as_i64()?, i["fields"]["System.Parent"].as_i64()?)))
        .filter(|(child, parent)| !upper.contains(child) && upper.contains(parent))
        .collect();
    assert!(under_upper.len() > 10, "{}", under_upper.len());
    for (child, parent) in &under_upper {
        assert_eq!(
            parent_of[child],
            Some(key_of[parent]),
            "item {child} ({}) under {parent}, migrated by run 1",
            type_of[child]
        );
    }
    assert!(
        steps(&r2, "parent", "done") >= under_upper.len() as i64,
        "{r2}"
    );
    assert_eq!(steps(&r2, "parent", "failed"), 0, "{r2}");
    // Setting parents adds no links.
    let full = mapping_of(&w, &w.catalog).await;
    assert_links(&w, &full).await;
}
