//! Phases 3 and 4 through the public API against both simulators: a run ends with exactly the
//! Jira links the dataset's relations make under the mapping's link rules, once each, read back
//! through Jira's REST API (`fields.issuelinks`); lost answers on `POST issueLink` change
//! nothing; links to items outside a run's scope wait in the ledger and are healed by the run
//! that migrates the other end; a parent migrated by a later run is set on the child then.

mod outside;
mod read;

use std::collections::{BTreeSet, HashMap};

use reqwest::Method;
use serde_json::{Value, json};

use self::read::{Key, expected_links, jira_issues, links_in_jira, symmetric_types};
use crate::mapping::{World, items, wait_for, world, world_faults_on};

async fn mapping_of(w: &World, catalog: &str) -> Value {
    let r = w
        .app
        .api(
            Method::POST,
            &format!("/api/catalogs/{catalog}/mappings"),
            &w.auth,
            Some(json!({ "projectKey": "SCRUM" })),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
    let m: Value = r.json().await.expect("json");
    let r = w
        .app
        .api(
            Method::POST,
            &format!("/api/mappings/{}/approve", m["id"].as_str().expect("id")),
            &w.auth,
            Some(json!({ "version": m["version"] })),
        )
        .await;
    assert_eq!(r.status(), 200);
    m
}

/// Runs a mapping to completion; pauses it once in the follow-up phase and resumes it when
/// `pause` is set. Returns the finished run's report, with `resumed` when it was paused.
async fn run(w: &World, mapping: &Value, pause: bool) -> Value {
    let id = mapping["id"].as_str().expect("id");
    let r = w
        .app
        .api(
            Method::POST,
            &format!("/api/mappings/{id}/migrations"),
            &w.auth,
            None,
        )
        .await;
    assert_eq!(r.status(), 202, "{}", r.text().await.unwrap_or_default());
    let started: Value = r.json().await.expect("json");
    let path = format!("/api/migrations/{}", started["id"].as_str().expect("id"));
    let mut paused = !pause;
    let mut resumed = false;
    for _ in 0..3000 {
        let v: Value = w
            .app
            .api(Method::GET, &path, &w.auth, None)
            .await
            .json()
            .await
            .expect("json");
        match (v["run"]["status"].as_str(), v["run"]["phase"].as_str()) {
            (Some("completed" | "failed"), _) => break,
            (Some("running"), Some("followup")) if !paused => {
                let r = w
                    .app
                    .api(Method::POST, &format!("{path}/pause"), &w.auth, None)
                    .await;
                paused = r.status() == 200;
            }
            (Some("paused"), _) => {
                let r = w
                    .app
                    .api(Method::POST, &format!("{path}/resume"), &w.auth, None)
                    .await;
                assert_eq!(r.status(), 200);
                resumed = true;
            }
            _ => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
        }
    }
    let mut report = wait_for(&w.app, &w.auth, &path, "/run/status").await;
    report["resumed"] = json!(resumed);
    report
}

/// Sub-items of a run in `kind` and `state`.
fn steps(report: &Value, kind: &str, state: &str) -> i64 {
    report["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter(|s| s["kind"] == kind && s["state"] == state)
        .map(|s| s["items"].as_i64().unwrap_or(0))
        .sum()
}

/// Jira's links compared with the dataset's: exactly the expected ones among migrated items,
/// each once. Returns the expected links with one end missing from Jira.
async fn assert_links(w: &World, mapping: &Value) -> (BTreeSet<Key>, usize) {
    let symmetric = symmetric_types(w).await;
    let issues = jira_issues(w).await;
    let in_jira = links_in_jira(&issues, &symmetric);
    let unique: BTreeSet<Key> = in_jira.iter().cloned().collect();
    assert_eq!(unique.len(), in_jira.len(), "a link is in Jira twice");
    let migrated: BTreeSet<i64> = issues.values().map(|i| i.ado).collect();
    let expected = expected_links(&w.dataset, mapping, &symmetric);
    let (both, one_missing): (BTreeSet<Key>, BTreeSet<Key>) = expected
        .into_iter()
        .filter(|(_, a, b)| migrated.contains(a) || migrated.contains(b))
        .partition(|(_, a, b)| migrated.contains(a) && migrated.contains(b));
    let missing: Vec<_> = both.difference(&unique).collect();
    let extra: Vec<_> = unique.difference(&both).collect();
    assert!(
        missing.is_empty(),
        "{} links missing: {missing:?}",
        missing.len()
    );
    assert!(
        extra.is_empty(),
        "{} links not in ADO: {extra:?}",
        extra.len()
    );
    (one_missing, unique.len())
}

#[tokio::test]
async fn a_run_makes_every_link_once_across_a_pause_and_a_second_run_adds_none() {
    let w = world(300).await;
    let mapping = mapping_of(&w, &w.catalog).await;
    let report = run(&w, &mapping, true).await;
    assert_eq!(report["resumed"], true, "paused in the follow-up phase");
    let (waiting, made) = assert_links(&w, &mapping).await;
    assert!(made > 50, "the workload has links: {made}");
    assert_eq!(
        report["ledger"]["waiting"].as_u64(),
        Some(waiting.len() as u64),
        "links to the items that failed wait in the ledger: {report}"
    );
    assert!(
        !waiting.is_empty(),
        "the planted trouble fails items that have links"
    );
    assert_eq!(
        (
            steps(&report, "link", "sent"),
            steps(&report, "link", "failed")
        ),
        (0, 0)
    );

    let again = run(&w, &mapping, false).await;
    let (_, made_again) = assert_links(&w, &mapping).await;
    assert_eq!(
        made_again, made,
        "a second run over the same target adds no link"
    );
    assert_eq!(again["ledger"]["waiting"], report["ledger"]["waiting"]);
}

#[tokio::test]
async fn lost_answers_on_issue_links_make_no_duplicate_and_lose_none() {
    // 40% of the link writes are applied but their answer is lost; 20% fail with a 5xx and
    // are not applied.
    let w = world_faults_on(
        200,
        Some("lost=0.4,error5xx=0.2,seed=9"),
        "/rest/api/3/issueLink",
        &[],
    )
    .await;
    let mapping = mapping_of(&w, &w.catalog).await;
    let report = run(&w, &mapping, false).await;
    let (waiting, made) = assert_links(&w, &mapping).await;
    assert!(made > 50, "{made}");
    assert_eq!(
        report["ledger"]["waiting"].as_u64(),
        Some(waiting.len() as u64)
    );
    assert_eq!(
        (
            steps(&report, "link", "sent"),
            steps(&report, "link", "failed")
        ),
        (0, 0),
        "{report}"
    );
}

async fn scoped_catalog(w: &World, types: &[&str]) -> String {
    let catalog: Value = w
        .app
        .api(
            Method::GET,
            &format!("/api/catalogs/{}", w.catalog),
            &w.auth,
            None,
        )
        .await
        .json()
        .await
        .expect("json");
    let r = w
        .app
        .api(
            Method::POST,
            "/api/scans",
            &w.auth,
            Some(json!({ "connectionId": catalog["connectionId"], "project": "Contoso", "scope": { "types": types } })),
        )
        .await;
    assert_eq!(r.status(), 202);
    let started: Value = r.json().await.expect("json");
    let scan = started["scan"]["id"].as_str().expect("id");
    wait_for(&w.app, &w.auth, &format!("/api/scans/{scan}"), "status").await;
    started["catalogId"].as_str().expect("catalog").to_owned()
}

#[tokio::test]
async fn links_outside_a_run_wait_in_the_ledger_and_later_runs_heal_them_and_set_late_parents() {
    let w = world(160).await;
    let of_type = |ty: &str| -> BTreeSet<i64> {
        items(&w.dataset)
            .iter()
            .filter(|i| i["fields"]["System.WorkItemType"] == ty)
            .filter_map(|i| i["id"].as_i64())
            .collect()
    };
    let features = of_type("Feature");

    // Run 1: the backlog without Epics and Features.
    let lower = scoped_catalog(&w, &["User Story", "Task", "Bug"]).await;
    let m1 = mapping_of(&w, &lower).await;
    let r1 = run(&w, &m1, false).await;
    let (waiting1, _) = assert_links(&w, &m1).await;
    let crossing = waiting1
        .iter()
        .filter(|(_, a, b)| {
            of_type("Epic").contains(a)
                || features.contains(a)
                || of_type("Epic").contains(b)
                || features.contains(b)
        })
        .count();
    assert!(crossing > 5, "links to Epics and Features wait: {crossing}");
    assert_eq!(
        r1["ledger"]["waiting"].as_u64(),
        Some(waiting1.len() as u64),
        "{r1}"
    );
    assert_eq!(r1["ledger"]["recorded"], r1["ledger"]["waiting"]);

    // Run 2: Epics and Features only. Links to run 1's items are written from this side.
    let upper = scoped_catalog(&w, &["Epic", "Feature"]).await;
    let m2 = mapping_of(&w, &upper).await;
    let r2 = run(&w, &m2, false).await;
    let full = mapping_of(&w, &w.catalog).await;
    let (waiting2, _) = assert_links(&w, &full).await;
    assert_eq!(
        r2["ledger"]["waiting"].as_u64(),
        Some(waiting2.len() as u64),
        "{r2}"
    );
    assert!(
        r2["ledger"]["healed"].as_u64().unwrap_or(0) >= crossing as u64,
        "run 2 healed the links that waited for its items: {r2}"
    );
    let issues = jira_issues(&w).await;
    let key_of: HashMap<i64, &str> = issues.values().map(|i| (i.ado, i.key.as_str())).collect();
    let parent_of: HashMap<i64, Option<&str>> = issues
        .values()
        .map(|i| (i.ado, i.parent.as_deref()))
        .collect();
    let stories_under_features: Vec<(i64, i64)> = items(&w.dataset)
        .iter()
        .filter(|i| i["fields"]["System.WorkItemType"] == "User Story")
        .filter_map(|i| Some((i["id"].as_i64()?, i["fields"]["System.Parent"].as_i64()?)))
        .filter(|(s, p)| features.contains(p) && key_of.contains_key(s) && key_of.contains_key(p))
        .collect();
    assert!(
        stories_under_features.len() > 10,
        "{}",
        stories_under_features.len()
    );
    assert!(
        stories_under_features
            .iter()
            .all(|(s, _)| parent_of[s].is_none()),
        "run 1 could not set parents outside its scope"
    );

    // Run 3: everything. The stories are already in Jira; their parents are set now.
    let r3 = run(&w, &full, false).await;
    let issues = jira_issues(&w).await;
    let parent_of: HashMap<i64, Option<String>> =
        issues.values().map(|i| (i.ado, i.parent.clone())).collect();
    for (story, feature) in &stories_under_features {
        assert_eq!(
            parent_of[story].as_deref(),
            Some(key_of[feature]),
            "story {story}'s parent, set after creation"
        );
    }
    assert!(
        steps(&r3, "parent", "done") >= stories_under_features.len() as i64,
        "{r3}"
    );
    assert_eq!(steps(&r3, "parent", "sent"), 0);
    let (waiting3, _) = assert_links(&w, &full).await;
    assert_eq!(waiting3, waiting2, "nothing new waits");
    assert_eq!(
        r3["ledger"]["waiting"].as_u64(),
        Some(waiting3.len() as u64)
    );
}
