//! Agile: sprint lifecycle, moves capped at 50, no moves into closed sprints, boards.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::spawn;

#[tokio::test]
async fn a_sprint_is_created_future_started_with_dates_and_closed() {
    let jira = spawn().await;
    let (status, sprint) = jira
        .post(
            "/rest/agile/1.0/sprint",
            json!({ "name": "Iteration 7", "originBoardId": 1 }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(sprint["state"], "future");
    let path = format!("/rest/agile/1.0/sprint/{}", sprint["id"]);
    assert_eq!(
        jira.post(&path, json!({ "state": "active" })).await.0,
        StatusCode::BAD_REQUEST,
        "no dates yet"
    );
    let dates = json!({ "state": "active", "startDate": "2026-01-01T00:00:00.000Z", "endDate": "2026-01-15T00:00:00.000Z" });
    let (status, body) = jira.post(&path, dates.clone()).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "sprint 2 of the default site is active, and the board has no parallel sprints: {body}"
    );
    let (status, _) = jira
        .post("/rest/agile/1.0/sprint/2", json!({ "state": "closed" }))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, active) = jira.post(&path, json!({ "state": "active", "startDate": "2026-01-01T00:00:00.000Z", "endDate": "2026-01-15T00:00:00.000Z" })).await;
    assert_eq!(status, StatusCode::OK, "{active}");
    let (_, closed) = jira.post(&path, json!({ "state": "closed" })).await;
    assert_eq!(closed["state"], "closed");
    assert!(closed["completeDate"].is_string());
    assert_eq!(
        jira.post(&path, json!({ "state": "active" })).await.0,
        StatusCode::BAD_REQUEST,
        "closed is final"
    );
    assert_eq!(
        jira.post(&path, json!({ "name": "renamed" })).await.0,
        StatusCode::BAD_REQUEST,
        "a closed sprint cannot be updated at all"
    );
}

#[tokio::test]
async fn a_deleted_link_type_is_gone_from_the_list_and_refuses_links() {
    let jira = spawn().await;
    let a = jira.create_story("a", json!({})).await;
    let b = jira.create_story("b", json!({})).await;
    let (status, _) = jira.delete("/rest/api/3/issueLinkType/10003").await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, types) = jira.get("/rest/api/3/issueLinkType").await;
    let ids: Vec<&str> = types["issueLinkTypes"]
        .as_array()
        .expect("types")
        .iter()
        .filter_map(|t| t["id"].as_str())
        .collect();
    assert!(!ids.contains(&"10003") && ids.contains(&"10000"), "{ids:?}");
    let (status, _) = jira
        .post(
            "/rest/api/3/issueLink",
            json!({ "type": { "id": "10003" }, "inwardIssue": { "key": a }, "outwardIssue": { "key": b } }),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        jira.delete("/rest/api/3/issueLinkType/10003").await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn moving_51_issues_or_moving_into_a_closed_sprint_is_refused_with_400() {
    let jira = spawn().await;
    let key = jira.create_story("sprinted", json!({})).await;
    let many: Vec<String> = (0..51).map(|_| key.clone()).collect();
    assert_eq!(
        jira.post("/rest/agile/1.0/sprint/2/issue", json!({ "issues": many }))
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    let (status, body) = jira
        .post("/rest/agile/1.0/sprint/1/issue", json!({ "issues": [key] }))
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "sprint 1 of the default site is closed"
    );
    assert!(body["errorMessages"][0].is_string());
    assert_eq!(
        jira.post("/rest/agile/1.0/sprint/2/issue", json!({ "issues": [key] }))
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    let (_, issue) = jira
        .get(&format!("/rest/api/3/issue/{key}?fields=customfield_10020"))
        .await;
    assert_eq!(issue["fields"]["customfield_10020"][0]["id"], 2);
}

#[tokio::test]
async fn boards_and_board_sprints_are_listed() {
    let jira = spawn().await;
    let (_, boards) = jira.get("/rest/agile/1.0/board").await;
    assert_eq!(boards["values"][0]["type"], "scrum");
    let (_, sprints) = jira
        .get("/rest/agile/1.0/board/1/sprint?state=active,future")
        .await;
    assert_eq!(sprints["values"].as_array().map(Vec::len), Some(2));
}
