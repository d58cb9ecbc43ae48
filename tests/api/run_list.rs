//! The migrations list (`GET /api/migrations`) the pages open on: the tenant's runs newest
//! first with their project and counts, for Jira admins only, never another tenant's.

use reqwest::Method;
use serde_json::Value;

use crate::{
    mapping::{wait_for, world},
    runs::{approved, start},
};

const MEMBER: &str = "712020:0003";

#[tokio::test]
async fn the_migrations_list_shows_the_tenants_runs_to_admins_only() {
    let w = world(40).await;
    let mapping = approved(&w).await;
    let run = start(&w, &mapping).await;
    wait_for(
        &w.app,
        &w.auth,
        &format!("/api/migrations/{run}"),
        "/run/status",
    )
    .await;

    let r = w
        .app
        .api(Method::GET, "/api/migrations", &w.auth, None)
        .await;
    assert_eq!(r.status(), 200);
    let list: Value = r.json().await.expect("json");
    let rows = list.as_array().expect("array");
    assert_eq!(rows.len(), 1, "{list}");
    assert_eq!(rows[0]["id"], run.as_str());
    assert_eq!(rows[0]["projectKey"], "SCRUM");
    assert_eq!(rows[0]["status"], "completed");
    assert_eq!(rows[0]["itemsTotal"], rows[0]["itemsCreated"], "{list}");
    assert!(rows[0]["itemsCreated"].as_i64().unwrap_or(0) > 0, "{list}");

    // A Jira user without admin rights is refused.
    let member = format!("JWT {}", w.app.context_token(&w.site, MEMBER));
    let r = w
        .app
        .api(Method::GET, "/api/migrations", &member, None)
        .await;
    assert_eq!(r.status(), 403);

    // Another tenant's admin sees none of it.
    let other = w.app.site("other-tenant");
    w.app.install(&other).await;
    let (_, token) = w.app.create_api_token(&other, "admin-other").await;
    let theirs: Value = w
        .app
        .api(
            Method::GET,
            "/api/migrations",
            &format!("Bearer {token}"),
            None,
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(theirs, Value::Array(vec![]));
}
