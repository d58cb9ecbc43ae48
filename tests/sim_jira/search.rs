//! `search/jql`: bounded JQL, paging, properties, and the eventually consistent index.

use std::time::Duration;

use ferry::sim::jira::JiraSimOptions;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{options, spawn, spawn_with};

#[tokio::test]
async fn an_issue_is_invisible_to_search_until_the_index_lag_passes_except_when_reconciled() {
    let jira = spawn_with(JiraSimOptions {
        index_lag: Duration::from_millis(400),
        ..options()
    })
    .await;
    let key = jira
        .create_story("fresh", json!({ "labels": ["ado-id-1"] }))
        .await;
    let (_, issue) = jira
        .get(&format!("/rest/api/3/issue/{key}?fields=id"))
        .await;
    let id: u64 = issue["id"].as_str().expect("id").parse().expect("numeric");
    let query = json!({ "jql": "labels = ado-id-1", "fields": ["key"] });
    let (_, early) = jira.post("/rest/api/3/search/jql", query.clone()).await;
    assert_eq!(early["issues"], json!([]), "not indexed yet");
    let (_, reconciled) = jira
        .post(
            "/rest/api/3/search/jql",
            json!({ "jql": "labels = ado-id-1", "reconcileIssues": [id] }),
        )
        .await;
    assert_eq!(reconciled["issues"][0]["key"], key.as_str());
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (_, late) = jira.post("/rest/api/3/search/jql", query).await;
    assert_eq!(late["issues"][0]["key"], key.as_str());
}

#[tokio::test]
async fn unbounded_jql_and_unknown_projects_are_refused_and_old_search_is_gone() {
    let jira = spawn().await;
    let (status, body) = jira
        .get("/rest/api/3/search/jql?jql=order%20by%20key")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["errorMessages"][0]
            .as_str()
            .is_some_and(|m| m.contains("Unbounded"))
    );
    assert_eq!(
        jira.get("/rest/api/3/search/jql?jql=project%3DNOPE")
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        jira.get("/rest/api/3/search?jql=project%3DSCRUM").await.0,
        StatusCode::GONE
    );
    let (status, _) = jira
        .post(
            "/rest/api/3/search/jql",
            json!({ "jql": "project = SCRUM", "properties": ["a", "b", "c", "d", "e", "f"] }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let many: Vec<u64> = (0..51).collect();
    let (status, _) = jira
        .post(
            "/rest/api/3/search/jql",
            json!({ "jql": "project = SCRUM", "reconcileIssues": many }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn pages_follow_next_page_token_in_key_order_until_the_last_page() {
    let jira = spawn().await;
    for i in 0..5 {
        jira.create_story(&format!("s{i}"), json!({})).await;
    }
    let mut keys = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut body = json!({ "jql": "project = SCRUM ORDER BY key DESC", "maxResults": 2, "fields": ["key"] });
        if let Some(t) = &token {
            body["nextPageToken"] = json!(t);
        }
        let (status, page) = jira.post("/rest/api/3/search/jql", body).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        keys.extend(
            page["issues"]
                .as_array()
                .expect("issues")
                .iter()
                .map(|i| i["key"].as_str().unwrap_or("").to_owned()),
        );
        match page["nextPageToken"].as_str() {
            Some(t) => token = Some(t.to_owned()),
            None => {
                assert_eq!(page["isLast"], true);
                break;
            }
        }
    }
    assert_eq!(
        keys,
        vec!["SCRUM-5", "SCRUM-4", "SCRUM-3", "SCRUM-2", "SCRUM-1"]
    );
}

#[tokio::test]
async fn issue_property_and_key_clauses_find_the_mapped_issue() {
    let jira = spawn().await;
    let a = jira.create_story("a", json!({ "labels": ["x"] })).await;
    let b = jira.create_story("b", json!({ "labels": ["x"] })).await;
    jira.put(
        &format!("/rest/api/3/issue/{b}/properties/ferry.ado"),
        json!({ "id": 77, "url": "u" }),
    )
    .await;
    let (_, found) = jira.get("/rest/api/3/search/jql?jql=project%20%3D%20SCRUM%20AND%20issue.property%5Bferry.ado%5D.id%20%3D%2077&properties=ferry.ado&fields=summary").await;
    assert_eq!(found["issues"].as_array().map(Vec::len), Some(1));
    assert_eq!(found["issues"][0]["key"], b.as_str());
    assert_eq!(found["issues"][0]["properties"]["ferry.ado"]["id"], 77);
    let (_, by_key) = jira
        .post(
            "/rest/api/3/search/jql",
            json!({ "jql": format!("key in ({a}, {b}) AND labels = x"), "fields": ["key"] }),
        )
        .await;
    assert_eq!(by_key["issues"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn max_results_is_capped_at_100_with_fields_and_5000_for_ids_only() {
    let jira = spawn().await;
    for batch in 0..3 {
        let updates: Vec<serde_json::Value> = (0..50).map(|i| json!({ "fields": crate::helpers::story_fields(&format!("b{batch}-{i}"), json!({})) })).collect();
        assert_eq!(
            jira.post("/rest/api/3/issue/bulk", json!({ "issueUpdates": updates }))
                .await
                .0,
            StatusCode::CREATED
        );
    }
    let (_, with_fields) = jira
        .post(
            "/rest/api/3/search/jql",
            json!({ "jql": "project = SCRUM", "maxResults": 5000, "fields": ["summary"] }),
        )
        .await;
    assert_eq!(with_fields["issues"].as_array().map(Vec::len), Some(100));
    assert!(with_fields["nextPageToken"].is_string());
    let (_, ids) = jira
        .post(
            "/rest/api/3/search/jql",
            json!({ "jql": "project = SCRUM", "maxResults": 5000 }),
        )
        .await;
    assert_eq!(ids["issues"].as_array().map(Vec::len), Some(150));
    assert_eq!(ids["isLast"], true);
}
