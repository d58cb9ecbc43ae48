//! Each limit the simulator enforces, shown biting.

use ferry::sim::jira::{JiraLimits, JiraSimOptions};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::{EMAIL, TOKEN, adf, options, spawn, spawn_with, story_fields};

#[tokio::test]
async fn a_bulk_create_of_51_issues_is_refused_with_400() {
    let jira = spawn().await;
    let updates: Vec<Value> = (0..51)
        .map(|i| json!({ "fields": story_fields(&format!("s{i}"), json!({})) }))
        .collect();
    let (status, _) = jira
        .post("/rest/api/3/issue/bulk", json!({ "issueUpdates": updates }))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(jira.sim.issue_count(), 0);
}

#[tokio::test]
async fn a_partly_invalid_bulk_create_returns_201_with_failed_element_numbers() {
    let jira = spawn().await;
    let (status, body) = jira
        .post(
            "/rest/api/3/issue/bulk",
            json!({ "issueUpdates": [
                { "fields": story_fields("ok", json!({})) },
                { "fields": { "project": { "key": "SCRUM" }, "issuetype": { "id": "10002" } } },
                { "fields": story_fields("ok too", json!({})) },
            ]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(body["issues"].as_array().map(Vec::len), Some(2));
    assert_eq!(body["errors"][0]["failedElementNumber"], 1);
    assert_eq!(
        body["errors"][0]["elementErrors"]["errors"]["summary"],
        "You must specify a summary of the issue."
    );
}

#[tokio::test]
async fn a_bulk_create_where_every_element_fails_returns_400() {
    let jira = spawn().await;
    let (status, body) = jira
        .post("/rest/api/3/issue/bulk", json!({ "issueUpdates": [{ "fields": { "project": { "key": "SCRUM" }, "issuetype": { "id": "10005" }, "summary": "orphan" } }] }))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["errors"][0]["elementErrors"]["errors"]["parent"],
        "Parent is required."
    );
}

#[tokio::test]
async fn a_description_that_is_not_adf_is_refused_with_400() {
    let jira = spawn().await;
    let (status, body) = jira
        .post(
            "/rest/api/3/issue",
            json!({ "fields": story_fields("x", json!({ "description": "<p>html</p>" })) }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errorMessages"], json!([]));
    assert!(
        body["errors"]["description"]
            .as_str()
            .is_some_and(|m| m.contains("Atlassian Document"))
    );
    let (status, _) = jira.post("/rest/api/3/issue", json!({ "fields": story_fields("x", json!({ "customfield_10030": { "type": "doc", "version": 1, "content": [{ "type": "bogus" }] } })) })).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "textarea custom fields are ADF too"
    );
}

#[tokio::test]
async fn a_label_with_a_space_is_refused_with_400() {
    let jira = spawn().await;
    let (status, body) = jira
        .post(
            "/rest/api/3/issue",
            json!({ "fields": story_fields("x", json!({ "labels": ["two words"] })) }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["errors"]["labels"]
            .as_str()
            .is_some_and(|m| m.contains("two words"))
    );
}

#[tokio::test]
async fn fields_off_the_screen_and_values_outside_allowed_values_are_refused() {
    let jira = spawn().await;
    let (status, body) = jira
        .post(
            "/rest/api/3/issue",
            json!({ "fields": story_fields("x", json!({ "environment": adf("prod") })) }),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "environment is only on the Bug screen"
    );
    assert!(
        body["errors"]["environment"]
            .as_str()
            .is_some_and(|m| m.contains("cannot be set"))
    );
    let (status, body) = jira
        .post(
            "/rest/api/3/issue",
            json!({ "fields": story_fields("x", json!({ "priority": { "name": "Urgent" } })) }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["errors"]["priority"].is_string());
}

#[tokio::test]
async fn the_comment_cap_gives_413() {
    let jira = spawn_with(JiraSimOptions {
        limits: JiraLimits {
            comments_per_issue: 2,
            ..JiraLimits::default()
        },
        ..options()
    })
    .await;
    let key = jira.create_story("hot", json!({})).await;
    let path = format!("/rest/api/3/issue/{key}/comment");
    for _ in 0..2 {
        assert_eq!(
            jira.post(&path, json!({ "body": adf("c") })).await.0,
            StatusCode::CREATED
        );
    }
    let (status, body) = jira
        .post(&path, json!({ "body": adf("one too many") }))
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        body["errorMessages"][0]
            .as_str()
            .is_some_and(|m| m.contains("limit"))
    );
}

#[tokio::test]
async fn a_comment_body_that_is_not_adf_is_refused() {
    let jira = spawn().await;
    let key = jira.create_story("s", json!({})).await;
    let (status, _) = jira
        .post(
            &format!("/rest/api/3/issue/{key}/comment"),
            json!({ "body": "plain text" }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

fn multipart(files: &[(&str, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "----ferry-test-boundary";
    let mut body = Vec::new();
    for (name, bytes) in files {
        body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: text/plain\r\n\r\n").as_bytes());
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test]
async fn attachments_need_the_xsrf_header_respect_size_caps_and_keep_only_digests() {
    let limits = JiraLimits {
        attachment_max_bytes: 10,
        attachments_per_issue: 2,
        ..JiraLimits::default()
    };
    let jira = spawn_with(JiraSimOptions {
        limits,
        ..options()
    })
    .await;
    let key = jira.create_story("files", json!({})).await;
    let url = format!("{}/rest/api/3/issue/{key}/attachments", jira.base);
    let send = |files: &[(&str, &[u8])], token: bool| {
        let (ct, body) = multipart(files);
        let mut req = jira
            .client
            .post(&url)
            .basic_auth(EMAIL, Some(TOKEN))
            .header("Content-Type", ct)
            .body(body);
        if token {
            req = req.header("X-Atlassian-Token", "no-check");
        }
        req.send()
    };
    assert_eq!(
        send(&[("a.txt", b"hello")], false)
            .await
            .expect("send")
            .status(),
        StatusCode::FORBIDDEN
    );
    let ok = send(&[("a.txt", b"hello")], true).await.expect("send");
    assert_eq!(ok.status(), StatusCode::OK);
    let created: Value = ok.json().await.expect("json");
    assert_eq!(created[0]["size"], 5);
    let stored = jira.sim.attachments_of(&key);
    assert_eq!(stored[0].filename, "a.txt");
    assert_eq!(stored[0].sha256, hex::encode(Sha256::digest(b"hello")));
    assert_eq!(
        send(&[("big.txt", b"01234567890")], true)
            .await
            .expect("send")
            .status(),
        StatusCode::PAYLOAD_TOO_LARGE
    );
    assert_eq!(
        send(&[("b.txt", b"b"), ("c.txt", b"c")], true)
            .await
            .expect("send")
            .status(),
        StatusCode::PAYLOAD_TOO_LARGE
    );
    let id = created[0]["id"].as_str().expect("id");
    let (status, meta) = jira.get(&format!("/rest/api/3/attachment/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    crate::helpers::assert_schema("AttachmentMetadata", &meta);
}

#[tokio::test]
async fn issue_links_are_idempotent_and_capped() {
    let jira = spawn_with(JiraSimOptions {
        limits: JiraLimits {
            links_per_issue: 1,
            ..JiraLimits::default()
        },
        ..options()
    })
    .await;
    let a = jira.create_story("a", json!({})).await;
    let b = jira.create_story("b", json!({})).await;
    let c = jira.create_story("c", json!({})).await;
    let link = |x: &str, y: &str| json!({ "type": { "name": "Blocks" }, "inwardIssue": { "key": x }, "outwardIssue": { "key": y } });
    assert_eq!(
        jira.post("/rest/api/3/issueLink", link(&a, &b)).await.0,
        StatusCode::CREATED
    );
    assert_eq!(
        jira.post("/rest/api/3/issueLink", link(&a, &b)).await.0,
        StatusCode::CREATED,
        "a repeat is accepted"
    );
    let (_, issue) = jira
        .get(&format!("/rest/api/3/issue/{a}?fields=issuelinks"))
        .await;
    assert_eq!(
        issue["fields"]["issuelinks"].as_array().map(Vec::len),
        Some(1),
        "and not duplicated"
    );
    assert_eq!(
        jira.post("/rest/api/3/issueLink", link(&a, &c)).await.0,
        StatusCode::PAYLOAD_TOO_LARGE
    );
}

#[tokio::test]
async fn remote_links_are_upserted_by_global_id() {
    let jira = spawn().await;
    let key = jira.create_story("r", json!({})).await;
    let path = format!("/rest/api/3/issue/{key}/remotelink");
    let body = |title: &str| json!({ "globalId": "ado:1", "object": { "url": "https://dev.azure.com/x/1", "title": title } });
    let (first, one) = jira.post(&path, body("v1")).await;
    let (second, two) = jira.post(&path, body("v2")).await;
    assert_eq!((first, second), (StatusCode::CREATED, StatusCode::OK));
    assert_eq!(one["id"], two["id"]);
    let (_, list) = jira.get(&path).await;
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    assert_eq!(list[0]["object"]["title"], "v2");
}
