//! Comments posted as their original author (Connect user impersonation), end to end: Ferry
//! installed into the Jira simulator with an `oauthClientId`, the simulator's authorization
//! server verifying every assertion, and the comments read back through Jira's REST API.
//!
//! With `commentsAsAuthor` on, each comment whose author maps to an active account is Jira's
//! comment *of that account*, in ADO's order, its header keeping the date; an author
//! deactivated in Jira falls back to the app with the author named, and the report lists the
//! item. When the authorization server refuses every grant the run still completes, as the
//! app. Off, every comment is the app's. No token reaches a log line, the database or the
//! report.

use std::collections::{BTreeSet, HashMap};

use reqwest::Method;
use serde_json::{Value, json};

use crate::{
    hygiene::captured_logs,
    mapping::{World, draft, items, wait_for, world_troubled},
    runs::{jira_reader, start},
};

/// Ferry and the simulators, the install carrying `oauthClientId`; the authorization server
/// is served (and knows the app) when `serve_oauth`.
async fn world(items: usize, serve_oauth: bool) -> World {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let server = format!("http://{}/_sim/oauth", listener.local_addr().expect("addr"));
    let w = world_troubled(items, None, &[("FERRY_OAUTH_URL", &server)]).await;
    if serve_oauth {
        w.jira
            .register_oauth_client(&crate::helpers::oauth_client_id(&w.site), &w.site.secret);
    }
    w.app.serve_router(w.jira.oauth_router(&server), listener);
    w
}

/// Drafts the mapping, sets `commentsAsAuthor`, approves; returns (id, mapping document).
async fn mapping(w: &World, as_author: bool) -> (String, Value) {
    let m = draft(w).await;
    let id = m["id"].as_str().expect("id").to_owned();
    let mut doc = m["mapping"].clone();
    doc["commentsAsAuthor"] = json!(as_author);
    let r = w
        .app
        .api(
            Method::PUT,
            &format!("/api/mappings/{id}"),
            &w.auth,
            Some(json!({ "version": m["version"], "mapping": doc })),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
    let saved: Value = r.json().await.expect("json");
    let r = w
        .app
        .api(
            Method::POST,
            &format!("/api/mappings/{id}/approve"),
            &w.auth,
            Some(json!({ "version": saved["version"] })),
        )
        .await;
    assert_eq!(r.status(), 200);
    (id, saved["mapping"].clone())
}

async fn run(w: &World, mapping: &str) -> (String, Value) {
    let run = start(w, mapping).await;
    wait_for(
        &w.app,
        &w.auth,
        &format!("/api/migrations/{run}"),
        "/run/status",
    )
    .await;
    let report: Value = w
        .app
        .api(
            Method::GET,
            &format!("/api/migrations/{run}/report"),
            &w.auth,
            None,
        )
        .await
        .json()
        .await
        .expect("report");
    (run, report)
}

/// ADO id → the comments (oldest first) that came from ADO comments.
async fn posted(w: &World) -> HashMap<i64, Vec<Value>> {
    let client = jira_reader(w);
    let page: Value = client
        .post_json_idempotent(
            "/rest/api/3/search/jql",
            &json!({ "jql": "project = SCRUM ORDER BY id", "properties": ["ferry-origin"], "maxResults": 5000 }),
        )
        .await
        .expect("search");
    let mut out = HashMap::new();
    for i in page["issues"].as_array().expect("issues") {
        let ado = i["properties"]["ferry-origin"]["adoId"]
            .as_i64()
            .expect("origin");
        let key = i["key"].as_str().expect("key");
        let mut from_ado: Vec<Value> = Vec::new();
        let mut start = 0;
        loop {
            let page: Value = client
                .get_json(&format!(
                    "/rest/api/3/issue/{key}/comment?startAt={start}&maxResults=100&expand=properties"
                ))
                .await
                .expect("comments");
            let list = page["comments"].as_array().expect("comments");
            start += list.len();
            from_ado.extend(list.iter().filter(|c| origin(c).is_some()).cloned());
            if list.is_empty() || start as u64 >= page["total"].as_u64().expect("total") {
                break;
            }
        }
        out.insert(ado, from_ado);
    }
    out
}

/// `(adoCommentId, part)` of a comment Ferry posted for an ADO comment.
fn origin(c: &Value) -> Option<(i64, u64)> {
    let v = &c["properties"]
        .as_array()?
        .iter()
        .find(|p| p["key"] == "ferry-origin")?["value"];
    Some((v["adoCommentId"].as_i64()?, v["part"].as_u64().unwrap_or(0)))
}

/// The mapped account of an ADO identity, as the transform keys people.
fn account(mapping: &Value, who: &Value) -> Option<String> {
    let key = ["id", "uniqueName", "displayName"]
        .iter()
        .find_map(|k| who[*k].as_str().filter(|s| !s.is_empty()))?;
    mapping["users"]
        .as_array()?
        .iter()
        .find(|u| u["adoIdentity"] == key)?["accountId"]
        .as_str()
        .map(str::to_owned)
}

fn header(c: &Value) -> String {
    ferry::mapping::adf::adf_text(&c["body"]["content"][0])
}

/// Checks every item's comments: author and header as `expect_author` says, ADO's order;
/// returns (comments by their author, comments by the app, items with an app-posted comment
/// whose author was mapped or not).
fn check(
    w: &World,
    mapping: &Value,
    posted: &HashMap<i64, Vec<Value>>,
    expect_author: impl Fn(Option<&str>) -> bool,
) -> (usize, usize, BTreeSet<i64>) {
    let (mut mine, mut app, mut fell_back) = (0, 0, BTreeSet::new());
    for item in items(&w.dataset) {
        let id = item["id"].as_i64().expect("id");
        let Some(jira) = posted.get(&id) else {
            continue;
        };
        let ado: Vec<&Value> = w.dataset["projects"][0]["comments"][id.to_string()]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|c| c["isDeleted"] != true)
            .collect();
        // The first part of each ADO comment (a long one is split), in the order posted.
        let firsts: Vec<(i64, &Value)> = jira
            .iter()
            .filter_map(|c| {
                origin(c)
                    .filter(|(_, part)| *part == 0)
                    .map(|(a, _)| (a, c))
            })
            .collect();
        let order: Vec<i64> = firsts.iter().map(|(a, _)| *a).collect();
        let want: Vec<i64> = ado.iter().filter_map(|c| c["id"].as_i64()).collect();
        assert_eq!(order, want, "item {id}: ADO's comments in order, once each");
        for (c, (_, posted)) in ado.iter().zip(&firsts) {
            let acct = account(mapping, &c["createdBy"]);
            let date = c["createdDate"].as_str().expect("date");
            let when = format!("{} {} UTC", &date[..10], &date[11..16]);
            let author = posted["author"]["accountId"].as_str().expect("author");
            let head = header(posted);
            assert!(head.contains(&when), "item {id}: the date stays: {head:?}");
            if expect_author(acct.as_deref()) {
                assert_eq!(
                    Some(author),
                    acct.as_deref(),
                    "item {id}: posted as its author"
                );
                assert!(
                    head.starts_with("Originally posted on"),
                    "item {id}: {head:?}"
                );
                mine += 1;
            } else {
                assert!(
                    author.starts_with("addon_"),
                    "item {id}: posted as the app, not {author}"
                );
                let name = c["createdBy"]["displayName"].as_str().expect("name");
                assert!(
                    head.contains(&format!("Originally posted by {name}")),
                    "item {id}: the app names the author: {head:?}"
                );
                app += 1;
                fell_back.insert(id);
            }
        }
    }
    (mine, app, fell_back)
}

fn fallback_items(report: &Value) -> BTreeSet<i64> {
    report["comments"]["authorFallback"]
        .as_array()
        .expect("comments.authorFallback")
        .iter()
        .map(|e| e["adoId"].as_i64().expect("adoId"))
        .collect()
}

#[tokio::test]
async fn comments_are_posted_as_their_active_authors_and_a_deactivated_one_falls_back() {
    let logs = captured_logs();
    let w = world(60, true).await;
    let (id, doc) = mapping(&w, true).await;
    // The turning on is audited.
    let audit: Value = w
        .app
        .api(Method::GET, "/api/audit", &w.auth, None)
        .await
        .json()
        .await
        .expect("audit");
    assert!(
        audit
            .as_array()
            .expect("entries")
            .iter()
            .any(|e| e["action"] == "mapping.comments_as_author"
                && e["detail"]
                    .as_str()
                    .is_some_and(|d| d.contains(&id) && d.contains("true"))),
        "{audit}"
    );
    // The most prolific mapped comment author leaves the company before the run.
    let mut counts: HashMap<String, usize> = HashMap::new();
    for list in w.dataset["projects"][0]["comments"]
        .as_object()
        .expect("comments")
        .values()
    {
        for c in list.as_array().expect("list") {
            if let Some(a) = account(&doc, &c["createdBy"]) {
                *counts.entry(a).or_default() += 1;
            }
        }
    }
    let gone = counts
        .iter()
        .max_by_key(|(_, n)| **n)
        .map(|(a, _)| a.clone())
        .expect("a mapped comment author");
    w.jira.deactivate_user(&gone);

    let (_, report) = run(&w, &id).await;
    let posted = posted(&w).await;
    let (mine, app, fell_back) = check(&w, &doc, &posted, |a| a.is_some_and(|a| a != gone));
    eprintln!(
        "as their author: {mine}, as the app: {app}, items falling back: {}",
        fell_back.len()
    );
    assert!(mine > 20 && app > 0, "mine {mine}, app {app}");
    assert_eq!(
        fallback_items(&report),
        fell_back,
        "the report lists exactly those items"
    );

    // No token in a log line, the database or the report.
    let tokens = w.jira.issued_tokens();
    assert!(
        !tokens.is_empty(),
        "no token was issued: the check would prove nothing"
    );
    // The capture is the process's global subscriber, installed before the run: a line
    // logged now must be in it (which lines the run itself logs depends on what it met, and
    // other tests share the buffer, so no particular run line is asserted).
    tracing::info!("run_authors: reading the captured logs");
    let logs = String::from_utf8(logs.lock().expect("logs").clone()).expect("utf8");
    assert!(
        logs.contains("run_authors: reading the captured logs"),
        "the log capture is not this process's subscriber ({} bytes captured)",
        logs.len()
    );
    let db = w.app.database_bytes();
    let report = report.to_string();
    for t in &tokens {
        assert!(!logs.contains(t.as_str()), "a user token reached the logs");
        assert!(
            !report.contains(t.as_str()),
            "a user token reached the report"
        );
        assert!(
            !db.windows(t.len()).any(|win| win == t.as_bytes()),
            "a user token reached the database"
        );
    }
}

#[tokio::test]
async fn a_refused_grant_posts_as_the_app_and_the_run_completes() {
    // The authorization server does not know the app: every grant is refused.
    let w = world(30, false).await;
    let (id, doc) = mapping(&w, true).await;
    let (_, report) = run(&w, &id).await;
    let posted = posted(&w).await;
    let (mine, app, fell_back) = check(&w, &doc, &posted, |_| false);
    assert!(mine == 0 && app > 10, "mine {mine}, app {app}");
    assert_eq!(fallback_items(&report), fell_back);
    assert!(w.jira.issued_tokens().is_empty());
}

#[tokio::test]
async fn with_the_option_off_every_comment_is_the_apps_and_nothing_is_reported() {
    let w = world(30, true).await;
    let (id, doc) = mapping(&w, false).await;
    assert!(
        doc.get("commentsAsAuthor").is_none(),
        "off stays out of the document"
    );
    let (_, report) = run(&w, &id).await;
    let posted = posted(&w).await;
    let (mine, app, _) = check(&w, &doc, &posted, |_| false);
    assert!(mine == 0 && app > 10, "mine {mine}, app {app}");
    assert!(fallback_items(&report).is_empty());
    assert!(w.jira.issued_tokens().is_empty(), "no grant was asked for");
}
