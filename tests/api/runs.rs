//! Runs through the public API against both simulators: the whole journey on a small workload,
//! every item read back through Jira's own REST API by the shared verifier and compared with
//! the ADO dataset; a second run over the same target creates nothing; pause, resume and
//! cancel follow their rules and are audited.

use std::collections::HashMap;

use ferry::target::jira::JiraClient;
use reqwest::Method;
use serde_json::{Value, json};

use crate::{
    mapping::{PAT, World, draft, items, trouble, wait_for, world, world_with},
    verify::{Expected, Jira, Verdict, verify},
};

/// A Jira client signed as Ferry, to read what the run wrote through Jira's standard API.
pub(crate) fn jira_reader(w: &World) -> JiraClient {
    Jira::connect(w).client
}

/// The mapping document of mapping `id` (its rules), as a run reads it.
pub(crate) async fn mapping_doc(w: &World, id: &str) -> Value {
    let m: Value = w
        .app
        .api(Method::GET, &format!("/api/mappings/{id}"), &w.auth, None)
        .await
        .json()
        .await
        .expect("mapping");
    m["mapping"].clone()
}

/// What the runs of `w` left in Jira, item by item, against the ADO dataset and `mapping`'s
/// rules; the planted `retired_severity` Bugs are the items no run can create.
pub(crate) async fn verify_world(w: &World, mapping: &str) -> Verdict {
    let doc = mapping_doc(w, mapping).await;
    let expected = Expected {
        dataset: &w.dataset,
        mapping: &doc,
        org: &w.org,
        pat: PAT,
        absent: trouble(&w.dataset, "retired_severity"),
    };
    verify(&Jira::connect(w), &expected).await
}

pub(crate) async fn approved(w: &World) -> String {
    let m = draft(w).await;
    let id = m["id"].as_str().expect("id").to_owned();
    let r = w
        .app
        .api(
            Method::POST,
            &format!("/api/mappings/{id}/approve"),
            &w.auth,
            Some(json!({ "version": m["version"] })),
        )
        .await;
    assert_eq!(r.status(), 200);
    id
}

pub(crate) async fn start(w: &World, mapping: &str) -> String {
    let r = w
        .app
        .api(
            Method::POST,
            &format!("/api/mappings/{mapping}/migrations"),
            &w.auth,
            None,
        )
        .await;
    assert_eq!(r.status(), 202, "{}", r.text().await.unwrap_or_default());
    let run: Value = r.json().await.expect("json");
    run["id"].as_str().expect("id").to_owned()
}

/// Starts a run of `mapping` and waits until it is over; the run's view.
pub(crate) async fn run_until_done(w: &World, mapping: &str) -> Value {
    let run = start(w, mapping).await;
    wait_for(
        &w.app,
        &w.auth,
        &format!("/api/migrations/{run}"),
        "/run/status",
    )
    .await
}

/// The whole journey on a small workload (trouble planted): scan, draft, approve, run; then
/// every item checked in Jira by the shared verifier, and the run's own counts agree.
#[tokio::test]
async fn a_run_migrates_every_item_as_ado_has_it_and_a_second_run_creates_nothing() {
    let w = world(120).await;
    let mapping = approved(&w).await;
    let done = run_until_done(&w, &mapping).await;
    let counts: HashMap<String, i64> = done["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|c| {
            (
                c["state"].as_str().unwrap_or("").to_owned(),
                c["items"].as_i64().unwrap_or(0),
            )
        })
        .collect();
    let verdict = verify_world(&w, &mapping).await;
    eprintln!("{:?}", verdict.counts);
    verdict.assert_clean();
    let failed = trouble(&w.dataset, "retired_severity");
    let expected = items(&w.dataset).len() - failed.len();
    let count = |s: &str| counts.get(s).copied().unwrap_or(0);
    assert_eq!(
        (
            count("created"),
            count("failed"),
            count("pending"),
            count("sent")
        ),
        (expected as i64, failed.len() as i64, 0, 0),
        "{done}"
    );
    let c = &verdict.counts;
    assert_eq!(c.issues, expected, "{c:?}");
    // A check that looked at nothing would pass too: the workload has all of these.
    assert!(
        c.parents > 60 && c.links > 20 && c.files > 10 && c.comments > 100 && c.moved > 20,
        "{c:?}"
    );

    // The verifier can fail: what someone does to Jira afterwards shows as mismatches.
    let jira = Jira::connect(&w);
    let listed = jira.search(&[]).await;
    let (a, b) = (&listed[0]["key"], &listed[listed.len() - 1]["key"]);
    let ty = &jira.get("/rest/api/3/issueLinkType").await["issueLinkTypes"][0]["id"];
    let wrote = |path: &str, body: Value| {
        let client = jira.client.clone();
        let path = path.to_owned();
        async move {
            client
                .post_json::<_, Value>(&path, &body)
                .await
                .expect("write")
        }
    };
    wrote(
        &format!("/rest/api/3/issue/{}/comment", a.as_str().expect("key")),
        json!({ "body": { "type": "doc", "version": 1, "content": [{ "type": "paragraph", "content": [{ "type": "text", "text": "later" }] }] } }),
    )
    .await;
    wrote(
        "/rest/api/3/issueLink",
        json!({ "type": { "id": ty }, "inwardIssue": { "key": a }, "outwardIssue": { "key": b } }),
    )
    .await;
    wrote(
        &format!("/rest/api/3/issue/{}/remotelink", b.as_str().expect("key")),
        json!({ "object": { "url": "https://example.com/elsewhere", "title": "elsewhere" } }),
    )
    .await;
    let after = verify_world(&w, &mapping).await.mismatches;
    for want in ["nor the overflow note", "not in ADO", "remote links"] {
        assert!(
            after.iter().any(|m| m.contains(want)),
            "{want:?} not among {after:#?}"
        );
    }
    assert_eq!(after.len(), 3, "{after:#?}");

    // A new run over the same target finds every issue and creates none.
    let before = w.jira.issue_count();
    run_until_done(&w, &mapping).await;
    assert_eq!(
        w.jira.issue_count(),
        before,
        "a second run writes no issue twice"
    );
}

/// A new run over a target a run completed adds nothing: no issue, link, file or comment twice.
#[tokio::test]
async fn a_second_run_over_a_migrated_target_changes_nothing() {
    let w = world(120).await;
    let mapping = approved(&w).await;
    for _ in 0..2 {
        run_until_done(&w, &mapping).await;
    }
    verify_world(&w, &mapping).await.assert_clean();
}

#[tokio::test]
async fn pause_resume_and_cancel_follow_their_rules_and_are_audited() {
    let w = world(60).await;
    let mapping = w
        .app
        .api(
            Method::POST,
            &format!("/api/catalogs/{}/mappings", w.catalog),
            &w.auth,
            Some(json!({ "projectKey": "SCRUM" })),
        )
        .await;
    let mapping: Value = mapping.json().await.expect("json");
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
    assert_eq!(
        r.status(),
        409,
        "a run starts only from an approved mapping"
    );
    let id = approved(&w).await;
    let run = start(&w, &id).await;
    let r = w
        .app
        .api(
            Method::POST,
            &format!("/api/mappings/{id}/migrations"),
            &w.auth,
            None,
        )
        .await;
    assert_eq!(r.status(), 409, "one unfinished run per mapping");
    let r = w
        .app
        .api(
            Method::POST,
            &format!("/api/migrations/{run}/pause"),
            &w.auth,
            None,
        )
        .await;
    assert!(
        r.status() == 200 || r.status() == 409,
        "pause answers (409 only if already finished)"
    );
    // Whether it paused first or finished first, resuming leads to completion.
    for _ in 0..300 {
        let v: Value = w
            .app
            .api(
                Method::GET,
                &format!("/api/migrations/{run}"),
                &w.auth,
                None,
            )
            .await
            .json()
            .await
            .expect("json");
        match v["run"]["status"].as_str() {
            Some("paused") => {
                let r = w
                    .app
                    .api(
                        Method::POST,
                        &format!("/api/migrations/{run}/resume"),
                        &w.auth,
                        None,
                    )
                    .await;
                assert_eq!(r.status(), 200);
            }
            Some("completed") => break,
            _ => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
        }
    }
    let v = wait_for(
        &w.app,
        &w.auth,
        &format!("/api/migrations/{run}"),
        "/run/status",
    )
    .await;
    assert_eq!(v["run"]["status"], "completed");
    for action in ["pause", "resume", "cancel"] {
        let r = w
            .app
            .api(
                Method::POST,
                &format!("/api/migrations/{run}/{action}"),
                &w.auth,
                None,
            )
            .await;
        assert_eq!(r.status(), 409, "{action} of a completed run");
    }
    let r = w
        .app
        .api(
            Method::POST,
            &format!("/api/migrations/{run}/explode"),
            &w.auth,
            None,
        )
        .await;
    assert_eq!(r.status(), 404);
    // Cancel is final: a cancelled run stays cancelled, and a new run can start.
    let second = start(&w, &id).await;
    let r = w
        .app
        .api(
            Method::POST,
            &format!("/api/migrations/{second}/cancel"),
            &w.auth,
            None,
        )
        .await;
    assert_eq!(r.status(), 200);
    let mut status = String::new();
    for _ in 0..300 {
        let v: Value = w
            .app
            .api(
                Method::GET,
                &format!("/api/migrations/{second}"),
                &w.auth,
                None,
            )
            .await
            .json()
            .await
            .expect("json");
        status = v["run"]["status"].as_str().unwrap_or("").to_owned();
        if status == "cancelled" || status == "completed" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(status == "cancelled" || status == "completed", "{status}");
    let r = w
        .app
        .api(
            Method::POST,
            &format!("/api/migrations/{second}/resume"),
            &w.auth,
            None,
        )
        .await;
    assert_eq!(r.status(), 409, "a finished run does not resume");
    let audit: Value = w
        .app
        .api(Method::GET, "/api/audit", &w.auth, None)
        .await
        .json()
        .await
        .expect("json");
    let actions: Vec<&str> = audit
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["action"].as_str()).collect())
        .unwrap_or_default();
    for a in ["run.started", "run.pause", "run.cancel"] {
        assert!(actions.contains(&a), "{a} missing from {actions:?}");
    }
}

#[tokio::test]
async fn lost_answers_and_server_errors_on_create_never_make_a_duplicate() {
    // 40% of create calls are applied but their answer is lost; 20% fail with a 5xx.
    let w = world_with(200, Some("lost=0.4,error5xx=0.2,seed=5")).await;
    let mapping = approved(&w).await;
    run_until_done(&w, &mapping).await;
    verify_world(&w, &mapping).await.assert_clean();
    let expected = items(&w.dataset).len() - trouble(&w.dataset, "retired_severity").len();
    assert_eq!(w.jira.issue_count(), expected);
}
