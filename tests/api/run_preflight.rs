//! Phase 1 (preflight) and the sprints phase, through the public API against both simulators:
//! the components and sprints a run needs exist once each (a second run, or calls whose answer
//! was lost, make none twice), every issue is in the sprint of its ADO iteration as Jira's Agile
//! API reads it back, past iterations are closed sprints and the current one is active; and a
//! mapping that names a link type or a fallback user Jira no longer has fails the run in
//! preflight, before anything is created.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use ferry::{
    connect::outbound::{HostClient, TenantCredentials},
    target::jira::{JiraAuth, JiraClient},
};
use reqwest::Method;
use secrecy::SecretString;
use serde_json::{Value, json};

use crate::{
    helpers::*,
    mapping::{World, draft, items, trouble, wait_for, world, world_faulty},
};

fn reader(w: &World) -> JiraClient {
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

async fn get(w: &World, path: &str) -> Value {
    reader(w).get_json(path).await.expect(path)
}

async fn approve(w: &World, id: &str, version: &Value) {
    let r = w
        .app
        .api(
            Method::POST,
            &format!("/api/mappings/{id}/approve"),
            &w.auth,
            Some(json!({ "version": version })),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
}

async fn start(w: &World, mapping: &str) -> String {
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

/// Waits until the run is finished; its `run` object.
async fn finished(w: &World, run: &str) -> Value {
    for _ in 0..3000 {
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
        if matches!(
            v["run"]["status"].as_str(),
            Some("completed" | "failed" | "cancelled")
        ) {
            return v["run"].clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("run {run} did not finish");
}

/// The board's sprints: name → (id, state), and how many sprints bear each name.
async fn sprints(w: &World) -> (BTreeMap<String, (i64, String)>, BTreeMap<String, usize>) {
    let (mut out, mut count) = (BTreeMap::new(), BTreeMap::new());
    let mut start = 0;
    loop {
        let page = get(
            w,
            &format!("/rest/agile/1.0/board/1/sprint?startAt={start}&maxResults=50"),
        )
        .await;
        let values = page["values"].as_array().expect("values").clone();
        for s in &values {
            let name = s["name"].as_str().expect("name").to_owned();
            *count.entry(name.clone()).or_insert(0) += 1;
            out.insert(
                name,
                (
                    s["id"].as_i64().expect("id"),
                    s["state"].as_str().expect("state").to_owned(),
                ),
            );
        }
        start += values.len();
        if values.is_empty() || page["isLast"] == true {
            return (out, count);
        }
    }
}

/// The project's component names, with how many components bear each.
async fn components(w: &World) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for c in get(w, "/rest/api/3/project/SCRUM/components")
        .await
        .as_array()
        .expect("components")
    {
        *out.entry(c["name"].as_str().expect("name").to_owned())
            .or_insert(0) += 1;
    }
    out
}

/// Issue key → ADO id, from the origin property every migrated issue carries.
async fn origins(w: &World) -> HashMap<String, i64> {
    let mut out = HashMap::new();
    let mut token: Option<String> = None;
    loop {
        let mut body = json!({ "jql": "project = SCRUM ORDER BY id", "fields": ["id"], "properties": ["ferry-origin"], "maxResults": 100 });
        if let Some(t) = &token {
            body["nextPageToken"] = json!(t);
        }
        let page: Value = reader(w)
            .post_json_idempotent("/rest/api/3/search/jql", &body)
            .await
            .expect("search");
        for i in page["issues"].as_array().expect("issues") {
            out.insert(
                i["key"].as_str().expect("key").to_owned(),
                i["properties"]["ferry-origin"]["adoId"]
                    .as_i64()
                    .expect("origin"),
            );
        }
        match page["nextPageToken"].as_str() {
            Some(t) => token = Some(t.to_owned()),
            None => return out,
        }
    }
}

/// ADO id → the sprint Jira's Agile API says its issue is in.
async fn sprint_of_each(
    w: &World,
    board: &BTreeMap<String, (i64, String)>,
) -> HashMap<i64, String> {
    let keys = origins(w).await;
    let mut out = HashMap::new();
    for (name, (id, _)) in board {
        let mut start = 0;
        loop {
            let page = get(
                w,
                &format!("/rest/agile/1.0/sprint/{id}/issue?startAt={start}&maxResults=100&fields=summary"),
            )
            .await;
            let issues = page["issues"].as_array().expect("issues").clone();
            for i in &issues {
                let ado = keys[i["key"].as_str().expect("key")];
                assert!(
                    out.insert(ado, name.clone()).is_none(),
                    "issue of {ado} in two sprints"
                );
            }
            start += issues.len();
            if issues.is_empty() || start as i64 >= page["total"].as_i64().unwrap_or(0) {
                break;
            }
        }
    }
    out
}

/// The dataset's iterations: name → ADO time frame.
fn frames(w: &World) -> BTreeMap<String, String> {
    w.dataset["projects"][0]["iterations"]["children"]
        .as_array()
        .expect("iterations")
        .iter()
        .map(|n| {
            (
                n["name"].as_str().expect("name").to_owned(),
                n["attributes"]["timeFrame"]
                    .as_str()
                    .expect("frame")
                    .to_owned(),
            )
        })
        .collect()
}

/// Checks what a completed run left in Jira: each component and sprint once, every migrated
/// issue in the sprint of its iteration, sprints in the state of their iteration.
async fn check_jira(w: &World, mapping: &Value) {
    let comps = components(w).await;
    assert!(
        comps.values().all(|n| *n == 1),
        "components twice: {comps:?}"
    );
    let (board, count) = sprints(w).await;
    assert!(count.values().all(|n| *n == 1), "sprints twice: {count:?}");
    let frames = frames(w);
    for (name, frame) in &frames {
        let (_, state) = board
            .get(name)
            .unwrap_or_else(|| panic!("sprint {name} missing"));
        let want = match frame.as_str() {
            "past" => "closed",
            "current" => "active",
            _ => "future",
        };
        assert_eq!(state, want, "sprint {name} of a {frame} iteration");
    }
    let failed = trouble(&w.dataset, "retired_severity");
    let actual = sprint_of_each(w, &board).await;
    let mut expected = HashMap::new();
    let areas: BTreeSet<&str> = mapping["areas"]
        .as_array()
        .expect("area rules")
        .iter()
        .filter_map(|a| a["jira"].as_str())
        .collect();
    assert!(areas.len() > 3, "the workload has areas: {areas:?}");
    for i in items(&w.dataset) {
        let id = i["id"].as_i64().expect("id");
        if failed.contains(&id) {
            continue;
        }
        let path = i["fields"]["System.IterationPath"].as_str().unwrap_or("");
        if let Some((_, sprint)) = path.split_once('\\') {
            expected.insert(id, sprint.to_owned());
        }
    }
    assert!(expected.len() > 50, "the workload puts items in sprints");
    assert_eq!(
        actual, expected,
        "every issue in the sprint of its iteration"
    );
    for a in &areas {
        assert!(comps.contains_key(*a), "component {a} missing: {comps:?}");
    }
}

/// The admin closes the site's own active sprint first: without parallel sprints, past
/// iterations can only be replayed as closed sprints on a board with no active sprint.
async fn close_site_sprint(w: &World) {
    reader(w)
        .post_json::<_, Value>("/rest/agile/1.0/sprint/2", &json!({ "state": "closed" }))
        .await
        .expect("close sprint 2");
}

async fn audits(w: &World, action: &str) -> Vec<Value> {
    let all: Value = w
        .app
        .api(Method::GET, "/api/audit", &w.auth, None)
        .await
        .json()
        .await
        .expect("json");
    all.as_array()
        .expect("audit")
        .iter()
        .filter(|e| e["action"] == action)
        .map(|e| {
            serde_json::from_str(e["detail"].as_str().unwrap_or("{}"))
                .unwrap_or(e["detail"].clone())
        })
        .collect()
}

#[tokio::test]
async fn a_run_puts_every_issue_in_its_sprint_closes_past_sprints_and_a_second_run_creates_none() {
    let w = world(200).await;
    close_site_sprint(&w).await;
    let m = draft(&w).await;
    let id = m["id"].as_str().expect("id").to_owned();
    approve(&w, &id, &m["version"]).await;
    let run = start(&w, &id).await;
    wait_for(
        &w.app,
        &w.auth,
        &format!("/api/migrations/{run}"),
        "/run/status",
    )
    .await;
    check_jira(&w, &m["mapping"]).await;
    let first = audits(&w, "run.preflight").await;
    assert_eq!(first.len(), 1);
    assert!(
        first[0]["sprintsCreated"]
            .as_array()
            .is_some_and(|s| s.len() == frames(&w).len()),
        "{first:?}"
    );

    let (before_sprints, before_comps) = (sprints(&w).await.1, components(&w).await);
    let again = start(&w, &id).await;
    wait_for(
        &w.app,
        &w.auth,
        &format!("/api/migrations/{again}"),
        "/run/status",
    )
    .await;
    assert_eq!(
        sprints(&w).await.1,
        before_sprints,
        "a second run makes no sprint"
    );
    assert_eq!(
        components(&w).await,
        before_comps,
        "a second run makes no component"
    );
    let second = audits(&w, "run.preflight").await;
    let latest = second
        .iter()
        .find(|d| d["runId"] == again.as_str())
        .expect("audited");
    assert_eq!(
        (&latest["componentsCreated"], &latest["sprintsCreated"]),
        (&json!([]), &json!([]))
    );
    check_jira(&w, &m["mapping"]).await;
}

#[tokio::test]
async fn lost_answers_and_server_errors_on_component_and_sprint_writes_make_nothing_twice() {
    // Half the component and sprint creations are applied with their answer lost (as in a
    // crash between the write and its record), a fifth fail with a 5xx.
    let w = world_faulty(
        150,
        Some("lost=0.5,error5xx=0.2,seed=9"),
        &["/rest/api/3/component", "/rest/agile/1.0/sprint"],
    )
    .await;
    close_site_sprint(&w).await;
    let m = draft(&w).await;
    let id = m["id"].as_str().expect("id").to_owned();
    approve(&w, &id, &m["version"]).await;
    let run = start(&w, &id).await;
    let done = finished(&w, &run).await;
    assert_eq!(done["status"], "completed", "{done}");
    check_jira(&w, &m["mapping"]).await;
    // Sprints whose create answer was lost were found on the board, not made again.
    let audit = audits(&w, "run.preflight").await;
    let made = audit[0]["sprintsCreated"].as_array().map_or(0, Vec::len);
    assert!(
        made < frames(&w).len(),
        "answers were lost: {made} of {} reported as created",
        frames(&w).len()
    );
}

#[tokio::test]
async fn a_mapping_naming_a_vanished_link_type_or_fallback_user_fails_in_preflight_and_creates_nothing()
 {
    let w = world(60).await;
    let m = draft(&w).await;
    let id = m["id"].as_str().expect("id").to_owned();
    approve(&w, &id, &m["version"]).await;
    let link_type = m["mapping"]["links"]
        .as_array()
        .expect("links")
        .iter()
        .find_map(|l| l["jiraLinkType"].as_str())
        .expect("a mapped link type")
        .to_owned();
    let (sprints_before, comps_before) = (sprints(&w).await.1, components(&w).await);

    // Someone deletes the link type in Jira after the mapping was approved.
    delete_link_type(&w, &link_type).await;
    let run = start(&w, &id).await;
    let done = finished(&w, &run).await;
    assert_eq!(done["status"], "failed");
    let why = done["error"].as_str().unwrap_or("");
    assert!(
        why.contains("preflight") && why.contains(&format!("link type {link_type}")),
        "{why}"
    );
    assert_eq!(w.jira.issue_count(), 0, "no issue created");
    assert_eq!(sprints(&w).await.1, sprints_before, "no sprint created");
    assert_eq!(components(&w).await, comps_before, "no component created");

    // The admin drops that link rule but names a fallback user Jira does not have.
    let mut mapping = m["mapping"].clone();
    for l in mapping["links"].as_array_mut().expect("links") {
        if l["jiraLinkType"] == link_type.as_str() {
            l["jiraLinkType"] = Value::Null;
        }
    }
    mapping["fallbackUser"] = json!("712020:left-the-company");
    let r = w
        .app
        .api(
            Method::PUT,
            &format!("/api/mappings/{id}"),
            &w.auth,
            Some(json!({ "version": m["version"], "mapping": mapping })),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
    let edited: Value = r.json().await.expect("json");
    approve(&w, &id, &edited["version"]).await;
    let run = start(&w, &id).await;
    let done = finished(&w, &run).await;
    assert_eq!(done["status"], "failed");
    let why = done["error"].as_str().unwrap_or("");
    assert!(
        why.contains("fallback user 712020:left-the-company"),
        "{why}"
    );
    assert_eq!(w.jira.issue_count(), 0, "no issue created");
    assert_eq!(sprints(&w).await.1, sprints_before, "no sprint created");
    assert_eq!(components(&w).await, comps_before, "no component created");
}

/// `DELETE /rest/api/3/issueLinkType/{id}` on the site, as its admin.
async fn delete_link_type(w: &World, id: &str) {
    let host = HostClient::new(APP_KEY, std::time::Duration::from_secs(30));
    let tenant = TenantCredentials {
        base_url: w.site.base_url.parse().expect("url"),
        shared_secret: SecretString::from(w.site.secret.clone()),
    };
    let r = host
        .request(
            &tenant,
            Method::DELETE,
            &format!("/rest/api/3/issueLinkType/{id}"),
        )
        .expect("request")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 204);
}
