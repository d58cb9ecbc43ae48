//! Progress, report, webhooks and what a finished run leaves behind, through the public API
//! against both simulators over real HTTP: the progress stream of a real run, the report and
//! its CSV against the id map and the dataset's planted trouble, the outbound webhook (every
//! state change, signed; private addresses refused), an issue deleted in Jira (its webhook
//! marks the id map, and a second run recreates exactly it), and no ticket content anywhere
//! in the database once the run is over.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{body::Bytes, http::HeaderMap, routing::post};
use ferry::{
    connect::outbound::{HostClient, TenantCredentials},
    engine::notify::sign,
};
use futures_util::StreamExt as _;
use reqwest::Method;
use secrecy::SecretString;
use serde_json::{Value, json};

use crate::{
    mapping::{World, items, trouble, wait_for, world},
    runs::{approved, start},
};

/// Reads the run's event stream to its end: the `data` of every `progress` event.
async fn read_events(w: &World, run: &str) -> Vec<Value> {
    let r = w
        .app
        .http
        .get(format!("{}/api/migrations/{run}/events", w.app.address))
        .header("Authorization", &w.auth)
        .send()
        .await
        .expect("events");
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap_or("")
            .starts_with("text/event-stream")
    );
    let mut body = r.bytes_stream();
    let mut buf = String::new();
    let mut out = Vec::new();
    let read = async {
        while let Some(chunk) = body.next().await {
            buf.push_str(&String::from_utf8_lossy(&chunk.expect("chunk")));
            while let Some(end) = buf.find("\n\n") {
                let event: String = buf.drain(..end + 2).collect();
                if let Some(data) = event.lines().find_map(|l| l.strip_prefix("data: ")) {
                    out.push(serde_json::from_str::<Value>(data).expect("event json"));
                }
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(300), read)
        .await
        .expect("the stream ends when the run does");
    out
}

async fn get(w: &World, path: &str) -> Value {
    let r = w.app.api(Method::GET, path, &w.auth, None).await;
    assert_eq!(r.status(), 200, "{path}");
    r.json().await.expect("json")
}

fn ids_of(list: &Value) -> BTreeSet<i64> {
    list.as_array()
        .expect("list")
        .iter()
        .filter_map(|f| f["adoId"].as_i64())
        .collect()
}

#[tokio::test]
async fn progress_streams_to_completion_and_the_report_and_csv_say_what_the_id_map_says() {
    let w = world(300).await;
    let mapping = approved(&w).await;
    let run = start(&w, &mapping).await;
    for path in ["events", "report", "report.csv"] {
        let r = w
            .app
            .http
            .get(format!("{}/api/migrations/{run}/{path}", w.app.address))
            .send()
            .await
            .expect("request");
        assert_eq!(r.status(), 401, "{path} needs credentials");
    }
    let r = w
        .app
        .api(
            Method::GET,
            "/api/migrations/no-such-run/events",
            &w.auth,
            None,
        )
        .await;
    assert_eq!(r.status(), 404);
    let events = read_events(&w, &run).await;

    // Events arrive, their counts never go back, and the last says completed.
    assert!(events.len() >= 2, "{events:?}");
    let count = |e: &Value, phase: &str, n: &str| e["phases"][phase][n].as_i64().unwrap_or(0);
    for pair in events.windows(2) {
        for (phase, n) in [
            ("create", "done"),
            ("create", "failed"),
            ("followup", "done"),
        ] {
            assert!(
                count(&pair[0], phase, n) <= count(&pair[1], phase, n),
                "{phase}.{n} went back: {pair:?}"
            );
        }
    }
    let last = events.last().expect("last");
    assert_eq!(last["status"], "completed", "{last}");
    let failed = trouble(&w.dataset, "retired_severity");
    assert!(!failed.is_empty(), "the dataset plants failures");
    let total = items(&w.dataset).len() as i64;
    assert_eq!(count(last, "create", "total"), total);
    assert_eq!(count(last, "create", "failed"), failed.len() as i64);
    assert_eq!(count(last, "create", "done"), total - failed.len() as i64);
    assert_eq!(
        count(last, "followup", "done"),
        count(last, "create", "done")
    );
    // A client that connects again gets the current state at once (and the stream ends).
    let again = read_events(&w, &run).await;
    assert_eq!(again.len(), 1);
    assert_eq!(again[0]["phases"], last["phases"]);

    // The report's failures are exactly the id map's, which are the dataset's bad items.
    let report = get(&w, &format!("/api/migrations/{run}/report")).await;
    let ck = &w.site.client_key;
    let row = w.app.store.run(ck, &run).await.expect("run");
    let map_failed = w
        .app
        .store
        .run_items_in(&row, "failed", 100_000)
        .await
        .expect("failed");
    let create_failures: Vec<&Value> = report["failures"]
        .as_array()
        .expect("failures")
        .iter()
        .filter(|f| f["phase"] == "create")
        .collect();
    assert_eq!(create_failures.len(), map_failed.len());
    for (f, m) in create_failures.iter().zip(&map_failed) {
        assert_eq!(f["adoId"], m.ado_id);
        assert_eq!(f["code"].as_str(), m.error_code.as_deref());
        assert_eq!(f["field"].as_str(), m.error_field.as_deref());
        assert_eq!(f["code"], "value_not_allowed");
    }
    assert_eq!(ids_of(&report["failures"]), failed, "{report}");
    assert_eq!(report["phases"]["create"]["failed"], failed.len() as i64);

    // Hierarchy changes: the dry run's planted type fallbacks and parents outside the run.
    let h = &report["hierarchy"];
    assert!(!trouble(&w.dataset, "skip_level_parent").is_empty());
    assert_eq!(
        ids_of(&h["type_fallback"]),
        &trouble(&w.dataset, "skip_level_parent") - &failed
    );
    assert_eq!(
        ids_of(&h["parent_outside"]),
        &trouble(&w.dataset, "outside_parent") - &failed
    );
    // User resolution counts the mapping's people by how they were matched.
    let m = get(&w, &format!("/api/mappings/{mapping}")).await;
    let mut by: BTreeMap<String, i64> = BTreeMap::new();
    for u in m["mapping"]["users"].as_array().expect("users") {
        *by.entry(u["matchedBy"].as_str().unwrap_or("").to_owned())
            .or_default() += 1;
    }
    let users = &report["users"];
    let n = |k: &str| by.get(k).copied().unwrap_or(0);
    assert_eq!(users["byEmail"], n("email"), "{users} {by:?}");
    assert_eq!(users["byName"], n("name"));
    assert_eq!(users["fallback"], n("unresolved"));
    assert!(
        users["fallback"].as_i64() > Some(0),
        "the dataset has unknown people"
    );
    // Who did what.
    let actions: Vec<(&str, &str)> = report["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .map(|a| {
            (
                a["action"].as_str().unwrap_or(""),
                a["actor"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(actions.first().map(|a| a.0), Some("run.started"));
    assert_ne!(actions[0].1, "ferry");
    assert_eq!(actions.last(), Some(&("run.completed", "ferry")));

    // The CSV: a header and one RFC 4180 row per failure, as the JSON says.
    let r = w
        .app
        .api(
            Method::GET,
            &format!("/api/migrations/{run}/report.csv"),
            &w.auth,
            None,
        )
        .await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap_or("")
            .starts_with("text/csv")
    );
    let text = r.text().await.expect("csv");
    let lines: Vec<&str> = text.split_terminator("\r\n").collect();
    assert_eq!(
        lines[0],
        "ado_id,jira_key,phase,kind,ord,problem_code,field"
    );
    let rows: Vec<Vec<&str>> = lines[1..].iter().map(|l| l.split(',').collect()).collect();
    let json_failures = report["failures"].as_array().expect("failures");
    assert_eq!(rows.len(), json_failures.len());
    for (row, f) in rows.iter().zip(json_failures) {
        assert_eq!(row[0], f["adoId"].to_string());
        assert_eq!(row[2], f["phase"].as_str().unwrap_or(""));
        assert_eq!(row[5], f["code"].as_str().unwrap_or(""));
        assert_eq!(row[6], f["field"].as_str().unwrap_or(""));
    }
}

/// What the test's webhook receiver got: (signature header, body), the first (failed) one aside.
type Received = Arc<Mutex<Vec<(String, Bytes)>>>;

async fn receiver(w: &World) -> (String, Received) {
    let got: Received = Arc::default();
    let sink = got.clone();
    let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let app = axum::Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: Bytes| {
            let sink = sink.clone();
            let calls = calls.clone();
            async move {
                // The first delivery fails: it must be tried again.
                if calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
                    return axum::http::StatusCode::INTERNAL_SERVER_ERROR;
                }
                let sig = headers
                    .get("x-ferry-signature")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned();
                sink.lock().expect("lock").push((sig, body));
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    w.app.serve_router(app, listener);
    (url, got)
}

/// The statuses received for `run`, in order, each checked against its signature.
fn statuses(got: &Received, secret: &str, run: &str) -> Vec<String> {
    got.lock()
        .expect("lock")
        .iter()
        .filter_map(|(sig, body)| {
            assert_eq!(sig, &sign(secret.as_bytes(), body), "a valid signature");
            let v: Value = serde_json::from_slice(body).expect("json");
            (v["runId"] == run).then(|| v["status"].as_str().unwrap_or("").to_owned())
        })
        .collect()
}

async fn until_status(got: &Received, secret: &str, run: &str, last: &str) -> Vec<String> {
    for _ in 0..200 {
        let s = statuses(got, secret, run);
        if s.last().map(String::as_str) == Some(last) {
            return s;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no {last} delivery: {:?}", statuses(got, secret, run));
}

#[tokio::test]
async fn the_webhook_gets_every_state_change_signed_and_a_deleted_issue_is_marked_and_recreated() {
    let w = world(80).await;
    // Private and plain-http addresses are refused; the receiver (allowed for tests) is taken.
    for bad in [
        "https://10.1.2.3/hook",
        "https://192.168.10.5/hook",
        "http://10.0.0.7/hook",
        "https://[fd00::1]/hook",
    ] {
        let r = w
            .app
            .api(
                Method::PUT,
                "/api/settings/webhook",
                &w.auth,
                Some(json!({ "url": bad })),
            )
            .await;
        assert_eq!(r.status(), 400, "{bad}");
    }
    let (url, got) = receiver(&w).await;
    let r = w
        .app
        .api(
            Method::PUT,
            "/api/settings/webhook",
            &w.auth,
            Some(json!({ "url": url })),
        )
        .await;
    assert_eq!(r.status(), 200);
    let secret = r.json::<Value>().await.expect("json")["secret"]
        .as_str()
        .expect("secret shown once")
        .to_owned();
    let shown = get(&w, "/api/settings/webhook").await;
    assert_eq!(shown["url"], url);
    assert!(shown.get("secret").is_none(), "{shown}");
    assert!(
        !w.app
            .database_bytes()
            .windows(secret.len())
            .any(|x| x == secret.as_bytes())
    );

    // A run paused and resumed: every change is posted, in order.
    let mapping = approved(&w).await;
    let run = start(&w, &mapping).await;
    let r = w
        .app
        .api(
            Method::POST,
            &format!("/api/migrations/{run}/pause"),
            &w.auth,
            None,
        )
        .await;
    let paused = r.status() == 200;
    if paused {
        for _ in 0..300 {
            let v = get(&w, &format!("/api/migrations/{run}")).await;
            if v["run"]["status"] == "paused" || v["run"]["status"] == "completed" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _ = w
            .app
            .api(
                Method::POST,
                &format!("/api/migrations/{run}/resume"),
                &w.auth,
                None,
            )
            .await;
    }
    wait_for(
        &w.app,
        &w.auth,
        &format!("/api/migrations/{run}"),
        "/run/status",
    )
    .await;
    let seen = until_status(&got, &secret, &run, "completed").await;
    let audit = get(&w, &format!("/api/migrations/{run}/report")).await["actions"].clone();
    let was_paused = audit
        .as_array()
        .expect("actions")
        .iter()
        .any(|a| a["action"] == "run.paused");
    let expected: Vec<&str> = if was_paused {
        vec![
            "queued",
            "running",
            "paused",
            "queued",
            "running",
            "completed",
        ]
    } else {
        vec!["queued", "running", "completed"]
    };
    assert_eq!(seen, expected, "paused asked: {paused}");

    // Jira deletes one migrated issue (a leaf): its webhook marks the id map and the report.
    let report = get(&w, &format!("/api/migrations/{run}/report")).await;
    assert_eq!(report["deletedInJira"], json!([]));
    let parents: BTreeSet<i64> = items(&w.dataset)
        .iter()
        .filter_map(|i| i["fields"]["System.Parent"].as_i64())
        .collect();
    let row = w
        .app
        .store
        .run(&w.site.client_key, &run)
        .await
        .expect("run");
    let victim = w
        .app
        .store
        .run_items_in(&row, "created", 100_000)
        .await
        .expect("created")
        .into_iter()
        .find(|i| !parents.contains(&i.ado_id))
        .expect("a leaf");
    let old_key = victim.jira_key.clone().expect("key");
    w.jira
        .send_webhooks(&w.app.address, &w.site.client_key, &w.site.secret);
    let tenant = TenantCredentials {
        base_url: w.site.base_url.parse().expect("url"),
        shared_secret: SecretString::from(w.site.secret.clone()),
    };
    let r = HostClient::new(crate::helpers::APP_KEY, Duration::from_secs(30))
        .request(
            &tenant,
            Method::DELETE,
            &format!("/rest/api/3/issue/{old_key}"),
        )
        .expect("request")
        .send()
        .await
        .expect("delete");
    assert_eq!(r.status(), 204);
    let before = w.jira.issue_count();
    let mut deleted = Value::Null;
    for _ in 0..200 {
        deleted = get(&w, &format!("/api/migrations/{run}/report")).await["deletedInJira"].clone();
        if deleted.as_array().is_some_and(|d| !d.is_empty()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        ids_of(&deleted),
        BTreeSet::from([victim.ado_id]),
        "{deleted}"
    );
    assert_eq!(deleted[0]["jiraKey"], old_key);

    // A second run over the same target recreates exactly the deleted one.
    let second = start(&w, &mapping).await;
    wait_for(
        &w.app,
        &w.auth,
        &format!("/api/migrations/{second}"),
        "/run/status",
    )
    .await;
    assert_eq!(
        w.jira.issue_count(),
        before + 1,
        "exactly one issue made again"
    );
    let row2 = w
        .app
        .store
        .run(&w.site.client_key, &second)
        .await
        .expect("run");
    let again = w
        .app
        .store
        .run_keys(&row2, &[victim.ado_id])
        .await
        .expect("keys");
    assert_eq!(again.len(), 1);
    assert_ne!(
        again[0].jira_key.as_deref(),
        Some(old_key.as_str()),
        "a new issue"
    );
    until_status(&got, &secret, &second, "completed").await;

    // The webhook can be removed (audited), and then nothing is posted.
    let r = w
        .app
        .api(Method::DELETE, "/api/settings/webhook", &w.auth, None)
        .await;
    assert_eq!(r.status(), 204);
    let r = w
        .app
        .api(Method::GET, "/api/settings/webhook", &w.auth, None)
        .await;
    assert_eq!(r.status(), 404);
    let audit = get(&w, "/api/audit").await;
    let acts: Vec<&str> = audit
        .as_array()
        .expect("audit")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(
        acts.contains(&"webhook.set") && acts.contains(&"webhook.deleted"),
        "{acts:?}"
    );
}

#[tokio::test]
async fn once_a_run_is_over_no_ticket_content_is_left_in_the_database() {
    let w = world(150).await;
    let mapping = approved(&w).await;
    let run = start(&w, &mapping).await;
    wait_for(
        &w.app,
        &w.auth,
        &format!("/api/migrations/{run}"),
        "/run/status",
    )
    .await;
    // The report was read too: reading it stores nothing.
    get(&w, &format!("/api/migrations/{run}/report")).await;

    let mut needles: BTreeSet<String> = BTreeSet::new();
    let prefix = |s: &str, n: usize| s.chars().take(n).collect::<String>();
    for i in items(&w.dataset) {
        if let Some(t) = i["fields"]["System.Title"].as_str() {
            needles.insert(t.to_owned());
        }
        if let Some(d) = i["fields"]["System.Description"]
            .as_str()
            .filter(|d| d.len() > 40)
        {
            needles.insert(prefix(d, 40));
        }
        for r in i["relations"].as_array().into_iter().flatten() {
            if r["rel"] == "AttachedFile"
                && let Some(name) = r["attributes"]["name"].as_str()
            {
                needles.insert(name.to_owned());
            }
        }
    }
    let comments = &w.dataset["projects"][0]["comments"];
    for list in comments.as_object().into_iter().flat_map(|m| m.values()) {
        for c in list.as_array().into_iter().flatten() {
            if let Some(t) = c["text"].as_str().filter(|t| t.len() > 30) {
                needles.insert(prefix(t, 30));
            }
        }
    }
    let files = needles.iter().filter(|n| n.contains('.')).count();
    assert!(
        needles.len() > 300 && files > 5,
        "too few samples: {} ({files} with a dot)",
        needles.len()
    );
    let bytes = w.app.database_bytes();
    let found = |n: &[u8]| bytes.windows(n.len()).any(|x| x == n);
    // The search reads what is stored: the target project's key and the run's id are there.
    assert!(
        found(b"SCRUM") && found(run.as_bytes()),
        "the probe must see stored data"
    );
    let leaked: Vec<&String> = needles.iter().filter(|n| found(n.as_bytes())).collect();
    assert!(
        leaked.is_empty(),
        "ticket content in the database: {leaked:?}"
    );
}
