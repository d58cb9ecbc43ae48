//! Runs through the public API against both simulators: every item created exactly once with
//! its parent and origin, read back through Jira's own REST API; a second run over the same
//! target creates nothing; pause, resume and cancel follow their rules and are audited.

use std::collections::{BTreeSet, HashMap};

use ferry::{
    connect::outbound::{HostClient, TenantCredentials},
    target::jira::{JiraAuth, JiraClient},
};
use reqwest::Method;
use secrecy::SecretString;
use serde_json::{Value, json};

use crate::{
    helpers::*,
    mapping::{World, draft, items, trouble, wait_for, world, world_with},
};

/// A Jira client signed as Ferry, to read what the run wrote through Jira's standard API.
pub(crate) fn jira_reader(w: &World) -> JiraClient {
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

/// Every issue of SCRUM: ADO id (from the origin property) → (key, parent key).
async fn issues_in_jira(w: &World) -> HashMap<i64, Vec<(String, Option<String>)>> {
    let client = jira_reader(w);
    let mut out: HashMap<i64, Vec<(String, Option<String>)>> = HashMap::new();
    let mut token: Option<String> = None;
    loop {
        let mut body = json!({ "jql": "project = SCRUM ORDER BY id", "fields": ["parent"], "properties": ["ferry-origin"], "maxResults": 100 });
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
                .expect("every issue carries its origin");
            let parent = i["fields"]["parent"]["key"].as_str().map(str::to_owned);
            out.entry(ado)
                .or_default()
                .push((i["key"].as_str().expect("key").to_owned(), parent));
        }
        match page["nextPageToken"].as_str() {
            Some(t) => token = Some(t.to_owned()),
            None => return out,
        }
    }
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

#[tokio::test]
async fn a_run_creates_every_item_once_with_its_parent_and_a_second_run_creates_nothing() {
    let w = world(300).await;
    let mapping = approved(&w).await;
    let run = start(&w, &mapping).await;
    let done = wait_for(
        &w.app,
        &w.auth,
        &format!("/api/migrations/{run}"),
        "/run/status",
    )
    .await;
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

    let in_jira = issues_in_jira(&w).await;
    let dupes: Vec<_> = in_jira.iter().filter(|(_, v)| v.len() > 1).collect();
    assert!(dupes.is_empty(), "duplicates: {dupes:?}");
    let failed = trouble(&w.dataset, "retired_severity");
    let expected: BTreeSet<i64> = items(&w.dataset)
        .iter()
        .filter_map(|i| i["id"].as_i64())
        .filter(|id| !failed.contains(id))
        .collect();
    assert_eq!(
        in_jira.keys().copied().collect::<BTreeSet<_>>(),
        expected,
        "every item but the bad ones, nothing else"
    );
    let count = |s: &str| counts.get(s).copied().unwrap_or(0);
    assert_eq!(
        (
            count("created"),
            count("failed"),
            count("pending"),
            count("sent")
        ),
        (expected.len() as i64, failed.len() as i64, 0, 0),
        "{done}"
    );
    // Parents as ADO has them, wherever the hierarchy lets Jira hold them.
    let key_of = |id: i64| in_jira.get(&id).map(|v| v[0].0.clone());
    let mut with_parent = 0;
    for i in items(&w.dataset) {
        let (id, parent) = (
            i["id"].as_i64().expect("id"),
            i["fields"]["System.Parent"].as_i64(),
        );
        let Some(issue) = in_jira.get(&id) else {
            continue;
        };
        if let (Some(p), Some(actual)) = (parent, &issue[0].1) {
            assert_eq!(Some(actual.clone()), key_of(p), "item {id}'s parent");
            with_parent += 1;
        }
    }
    assert!(
        with_parent > 200,
        "most items carry their parent: {with_parent}"
    );

    // A new run over the same target finds everything and creates nothing.
    let before = w.jira.issue_count();
    let again = start(&w, &mapping).await;
    wait_for(
        &w.app,
        &w.auth,
        &format!("/api/migrations/{again}"),
        "/run/status",
    )
    .await;
    assert_eq!(
        w.jira.issue_count(),
        before,
        "a second run writes no issue twice"
    );
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
    let run = start(&w, &mapping).await;
    wait_for(
        &w.app,
        &w.auth,
        &format!("/api/migrations/{run}"),
        "/run/status",
    )
    .await;
    let in_jira = issues_in_jira(&w).await;
    let dupes: Vec<_> = in_jira.iter().filter(|(_, v)| v.len() > 1).collect();
    assert!(dupes.is_empty(), "duplicates: {dupes:?}");
    let failed = trouble(&w.dataset, "retired_severity");
    let expected: BTreeSet<i64> = items(&w.dataset)
        .iter()
        .filter_map(|i| i["id"].as_i64())
        .filter(|id| !failed.contains(id))
        .collect();
    assert_eq!(
        in_jira.keys().copied().collect::<BTreeSet<_>>(),
        expected,
        "nothing missing"
    );
    assert_eq!(w.jira.issue_count(), expected.len());
}
