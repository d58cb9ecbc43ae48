//! Authentication: Connect JWT with qsh, Basic API token, and what each caller may use.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{APP_KEY, EMAIL, SECRET, connect_jwt, spawn, story_fields};

#[tokio::test]
async fn a_connect_jwt_bound_to_this_request_is_accepted() {
    let jira = spawn().await;
    let (status, body) = jira.connect_get("/rest/api/3/field?expand=x").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, created) = jira
        .connect_post(
            "/rest/api/3/issue",
            json!({ "fields": story_fields("from app", json!({})) }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
}

#[tokio::test]
async fn a_connect_jwt_with_the_qsh_of_another_request_is_refused_with_401() {
    let jira = spawn().await;
    let token = connect_jwt("GET", "/rest/api/3/priority", SECRET);
    let resp = jira
        .client
        .get(format!("{}/rest/api/3/field", jira.base))
        .header("Authorization", format!("JWT {token}"))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_connect_jwt_signed_with_the_wrong_secret_or_after_unregister_is_refused() {
    let jira = spawn().await;
    let path = "/rest/api/3/field";
    let bad = connect_jwt("GET", path, "not-the-secret-not-the-secret-123");
    let resp = jira
        .client
        .get(format!("{}{path}", jira.base))
        .header("Authorization", format!("JWT {bad}"))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    jira.sim.unregister_app(APP_KEY);
    let (status, _) = jira.connect_get(path).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn basic_auth_with_a_wrong_token_or_no_auth_is_refused_with_401() {
    let jira = spawn().await;
    let url = format!("{}/rest/api/3/myself", jira.base);
    let wrong = jira
        .client
        .get(&url)
        .basic_auth(EMAIL, Some("wrong"))
        .send()
        .await
        .expect("send");
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let body: serde_json::Value = wrong.json().await.expect("json");
    assert!(body["errorMessages"].is_array());
    let none = jira.client.get(&url).send().await.expect("send");
    assert_eq!(none.status(), StatusCode::UNAUTHORIZED);
    let (status, me) = jira.get("/rest/api/3/myself").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["emailAddress"], EMAIL);
}

#[tokio::test]
async fn a_connect_caller_gets_403_on_bulk_transition_and_a_basic_caller_gets_a_task() {
    let jira = spawn().await;
    let key = jira.create_story("bulk", json!({})).await;
    let body = json!({ "bulkTransitionInputs": [{ "selectedIssueIdsOrKeys": [key], "transitionId": "11" }], "sendBulkNotification": false });
    let (status, refused) = jira
        .connect_post("/rest/api/3/bulk/issues/transition", body.clone())
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(refused["errorMessages"][0].is_string());
    let (status, offered) = jira
        .get(&format!(
            "/rest/api/3/bulk/issues/transition?issueIdsOrKeys={key}"
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{offered}");
    crate::helpers::assert_schema("BulkTransitionGetAvailableTransitions", &offered);
    assert_eq!(
        offered["availableTransitions"][0]["transitions"][0]["transitionId"],
        11
    );
    let (status, _) = jira
        .connect_get(&format!(
            "/rest/api/3/bulk/issues/transition?issueIdsOrKeys={key}"
        ))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, task) = jira.post("/rest/api/3/bulk/issues/transition", body).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, progress) = jira
        .get(&format!(
            "/rest/api/3/bulk/queue/{}",
            task["taskId"].as_str().expect("task")
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    crate::helpers::assert_schema("BulkOperationProgress", &progress);
    assert_eq!(progress["status"], "COMPLETE");
    let (_, issue) = jira
        .get(&format!("/rest/api/3/issue/{key}?fields=status"))
        .await;
    assert_eq!(issue["fields"]["status"]["name"], "In Progress");
}

#[tokio::test]
async fn responses_carry_the_caller_kind_and_tenant_for_the_request_log() {
    use ferry::sim::jira::{CallerTag, JiraSim, Site, router};
    use tower::ServiceExt;
    let sim = JiraSim::new(
        Site::default_scrum(),
        url::Url::parse("http://jira.test").expect("url"),
        crate::helpers::options(),
    );
    let req = axum::http::Request::get("/rest/api/3/priority")
        .header("Authorization", format!("Basic {}", base64_pair()))
        .body(axum::body::Body::empty())
        .expect("request");
    let resp = router(sim.clone()).oneshot(req).await.expect("response");
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        resp.extensions().get::<CallerTag>(),
        Some(&CallerTag {
            kind: "basic",
            tenant: "jira-sim-client".into()
        })
    );
    let anonymous = axum::http::Request::get("/rest/api/3/priority")
        .body(axum::body::Body::empty())
        .expect("request");
    let refused = router(sim).oneshot(anonymous).await.expect("response");
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        refused.extensions().get::<CallerTag>().map(|c| c.kind),
        Some("anonymous")
    );
}

fn base64_pair() -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("{EMAIL}:{}", crate::helpers::TOKEN))
}
