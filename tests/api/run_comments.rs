//! Phases 6 and 7 of a run, end to end: after a run every issue holds its ADO item's comments
//! (not the deleted ones) in order, each once, with the original author and date in a header
//! and all of its text, and every issue is in the status the mapping's state rules name. Read
//! back through Jira's REST API and compared with the ADO dataset. One run meets Jira's
//! per-issue write windows; another loses answers and gets 5xx on comment and transition calls.

use std::collections::{BTreeMap, HashMap};

use ferry::{
    mapping::adf::{adf_text, html_text},
    sim::{
        limits::{JiraLimiter, parse_jira_profile, profile::IssueWindow},
        reqlog::RequestLog,
    },
};
use reqwest::Method;
use serde_json::{Value, json};

use crate::{
    mapping::{Trouble, World, items, wait_for, world_troubled},
    runs::{approved, jira_reader, start},
};

/// What a check looked at.
#[derive(Debug, Default)]
struct Seen {
    issues: usize,
    comments: usize,
    split: usize,
    moved: usize,
}

/// Every issue of SCRUM: ADO id → (key, status id).
async fn issues(w: &World) -> HashMap<i64, (String, String)> {
    let client = jira_reader(w);
    let mut out = HashMap::new();
    let mut token: Option<String> = None;
    loop {
        let mut body = json!({ "jql": "project = SCRUM ORDER BY id", "fields": ["status"],
            "properties": ["ferry-origin"], "maxResults": 100 });
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
                .expect("origin");
            let status = i["fields"]["status"]["id"].as_str().expect("status");
            let key = i["key"].as_str().expect("key");
            assert!(
                out.insert(ado, (key.to_owned(), status.to_owned()))
                    .is_none(),
                "item {ado} twice"
            );
        }
        match page["nextPageToken"].as_str() {
            Some(t) => token = Some(t.to_owned()),
            None => return out,
        }
    }
}

/// An issue's comments, oldest first, with their properties.
async fn comments_of(w: &World, key: &str) -> Vec<Value> {
    let client = jira_reader(w);
    let mut out = Vec::new();
    loop {
        let page: Value = client
            .get_json(&format!(
                "/rest/api/3/issue/{key}/comment?startAt={}&maxResults=100&expand=properties",
                out.len()
            ))
            .await
            .expect("comments");
        let list = page["comments"].as_array().expect("comments").clone();
        let total = page["total"].as_u64().expect("total") as usize;
        let empty = list.is_empty();
        out.extend(list);
        if empty || out.len() >= total {
            return out;
        }
    }
}

fn squeeze(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

fn origin(c: &Value) -> Value {
    c["properties"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["key"] == "ferry-origin")
        .map(|p| p["value"].clone())
        .unwrap_or(Value::Null)
}

/// Compares every migrated issue's comments and status with the dataset and the mapping.
async fn check(w: &World, mapping: &str) -> Seen {
    let m: Value = w
        .app
        .api(
            Method::GET,
            &format!("/api/mappings/{mapping}"),
            &w.auth,
            None,
        )
        .await
        .json()
        .await
        .expect("mapping");
    let states = m["mapping"]["states"].as_array().expect("states");
    let in_jira = issues(w).await;
    let ado_comments = &w.dataset["projects"][0]["comments"];
    let mut seen = Seen::default();
    for item in items(&w.dataset) {
        let id = item["id"].as_i64().expect("id");
        let Some((key, status)) = in_jira.get(&id) else {
            continue;
        };
        seen.issues += 1;
        let (ty, state) = (
            item["fields"]["System.WorkItemType"]
                .as_str()
                .expect("type"),
            item["fields"]["System.State"].as_str().expect("state"),
        );
        let want = states
            .iter()
            .find(|r| r["adoType"] == ty && r["adoState"] == state)
            .and_then(|r| r["jiraStatus"].as_str())
            .expect("a state rule");
        assert_eq!(status, want, "{key} (ADO {id}, {ty} {state})");
        if want != "10000" {
            seen.moved += 1;
        }

        let expected: Vec<&Value> = ado_comments[id.to_string()]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|c| c["isDeleted"] != true)
            .collect();
        let jira = comments_of(w, key).await;
        // Each (origin, part) once; the parts of one ADO comment together, in ADO's order.
        let mut parts: BTreeMap<String, usize> = BTreeMap::new();
        let mut order: Vec<i64> = Vec::new();
        let mut by_ado: HashMap<i64, Vec<&Value>> = HashMap::new();
        for c in &jira {
            let o = origin(c);
            assert!(o.is_object(), "{key}: a comment without its origin: {o}");
            *parts.entry(o.to_string()).or_default() += 1;
            if let Some(ado) = o["adoCommentId"].as_i64() {
                if order.last() != Some(&ado) {
                    order.push(ado);
                }
                by_ado.entry(ado).or_default().push(c);
            }
        }
        let twice: Vec<_> = parts.iter().filter(|(_, n)| **n > 1).collect();
        assert!(twice.is_empty(), "{key}: comments posted twice: {twice:?}");
        let want_order: Vec<i64> = expected
            .iter()
            .map(|c| c["id"].as_i64().expect("id"))
            .collect();
        assert_eq!(order, want_order, "{key}: ADO's comments, in order, once");
        for c in &expected {
            let posted = &by_ado[&c["id"].as_i64().expect("id")];
            seen.comments += 1;
            if posted.len() > 1 {
                seen.split += 1;
            }
            let author = c["createdBy"]["displayName"].as_str().expect("author");
            let date = c["createdDate"].as_str().expect("date");
            let when = format!("{} {} UTC", &date[..10], &date[11..16]);
            let mut body = String::new();
            for p in posted {
                let blocks = p["body"]["content"].as_array().expect("content");
                let header = adf_text(&blocks[0]);
                assert!(
                    header.contains(&format!("Originally posted by {author} on {when}"))
                        && header.contains("Azure DevOps"),
                    "{key}: header {header:?}"
                );
                for b in &blocks[1..] {
                    body.push_str(&adf_text(b));
                }
            }
            let html = c["text"].as_str().expect("text");
            assert_eq!(
                squeeze(&body),
                squeeze(&html_text(html)),
                "{key}: the text of ADO comment {}",
                c["id"]
            );
        }
        let overflow = jira.iter().filter(|c| origin(c)["overflow"].is_u64());
        assert_eq!(
            jira.len() - overflow.count(),
            expected
                .iter()
                .map(|c| by_ado[&c["id"].as_i64().expect("id")].len())
                .sum::<usize>(),
            "{key}: nothing but ADO's comments and the overflow"
        );
    }
    seen
}

/// Per-issue write windows as Jira Cloud has them (20 per 2 s, 100 per 30 s), nothing else.
fn per_issue_windows() -> JiraLimiter {
    let mut profile = parse_jira_profile("unlimited").expect("profile");
    profile.per_issue = vec![
        IssueWindow { max: 20, secs: 2.0 },
        IssueWindow {
            max: 100,
            secs: 30.0,
        },
    ];
    JiraLimiter::new(profile)
}

fn per_issue_refusals(log: &RequestLog) -> usize {
    log.entries()
        .iter()
        .filter(|e| e.limiter == Some("jira-per-issue-on-write"))
        .count()
}

#[tokio::test]
async fn every_issue_gets_its_comments_once_in_order_and_reaches_its_status() {
    // 300 items hold one with 250 comments: past the 100-per-30-s window of one issue.
    let log = RequestLog::new();
    let trouble = Trouble {
        faults: None,
        limiter: Some(per_issue_windows()),
        log: log.clone(),
        applies: |_, _| true,
        paths: &[],
    };
    let w = world_troubled(300, Some(trouble), &[]).await;
    let mapping = approved(&w).await;
    let started = std::time::Instant::now();
    let run = start(&w, &mapping).await;
    let done = wait_for(
        &w.app,
        &w.auth,
        &format!("/api/migrations/{run}"),
        "/run/status",
    )
    .await;
    let took = started.elapsed();
    let seen = check(&w, &mapping).await;
    let refusals = per_issue_refusals(&log);
    eprintln!(
        "run in {took:?}: {seen:?}, per-issue 429s: {refusals}; {}",
        done["steps"]
    );
    assert!(
        seen.issues > 250 && seen.comments > 500 && seen.moved > 50,
        "{seen:?}"
    );
    // Paced below the windows: a few refusals where other writes (the remote link, the
    // transitions) share an issue's window, not one per comment past the wall.
    assert!(refusals < 10, "{refusals} per-issue refusals");
}

#[tokio::test]
async fn lost_answers_and_server_errors_on_comments_and_transitions_make_no_duplicate() {
    // A third of comment and transition writes are applied but their answer is lost; a fifth
    // of those calls (reads too) fail with a 5xx.
    let trouble = Trouble {
        faults: Some("lost=0.3,error5xx=0.2,seed=13".into()),
        limiter: None,
        log: RequestLog::new(),
        applies: |_, path| path.ends_with("/comment") || path.ends_with("/transitions"),
        paths: &[],
    };
    let w = world_troubled(120, Some(trouble), &[]).await;
    let mapping = approved(&w).await;
    let run = start(&w, &mapping).await;
    wait_for(
        &w.app,
        &w.auth,
        &format!("/api/migrations/{run}"),
        "/run/status",
    )
    .await;
    let seen = check(&w, &mapping).await;
    eprintln!("{seen:?}");
    assert!(
        seen.issues > 100 && seen.comments > 150 && seen.moved > 20,
        "{seen:?}"
    );
}
