//! T32: a credential of tenant A never reaches tenant B's data, on any route family.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn tenant_a_credentials_never_reach_tenant_b_on_any_route_family() {
    let app = TestApp::spawn().await;
    let a = app.site("tenant-a");
    let b = app.site("tenant-b");
    app.install(&a).await;
    app.install(&b).await;
    let (_a_token_id, a_token) = app.create_api_token(&a, "admin-a").await;
    let (b_token_id, b_token) = app.create_api_token(&b, "admin-b").await;
    let a_ctx = format!("JWT {}", app.context_token(&a, "admin-a"));

    // API: identity, lists and mutations see only A.
    for auth in [a_ctx.clone(), format!("Bearer {a_token}")] {
        let me: Value = app
            .api(Method::GET, "/api/me", &auth, None)
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(me["site"], a.base_url.as_str());
        let tokens = app
            .api(Method::GET, "/api/tokens", &auth, None)
            .await
            .text()
            .await
            .expect("tokens");
        assert!(!tokens.contains(&b_token_id), "A listed B's token");
        let audit = app
            .api(Method::GET, "/api/audit", &auth, None)
            .await
            .text()
            .await
            .expect("audit");
        assert!(
            !audit.contains("admin-b") && !audit.contains(&b.base_url),
            "A read B's audit log"
        );
        let r = app
            .api(
                Method::DELETE,
                &format!("/api/tokens/{b_token_id}"),
                &auth,
                None,
            )
            .await;
        assert_eq!(r.status(), 404, "A could touch B's token");
    }
    assert_eq!(
        app.api(Method::GET, "/api/me", &format!("Bearer {b_token}"), None)
            .await
            .status(),
        200,
        "B's token was revoked by A"
    );

    // Pages: A's page token shows A's site, never B's.
    let page = app.page_token(&a, "admin-a", "GET", "/pages/admin");
    let html = app
        .page("/pages/admin", &page)
        .await
        .text()
        .await
        .expect("html");
    assert!(html.contains(&a.base_url) && !html.contains(&b.base_url));

    // Lifecycle: A's token cannot disable B by naming B in the body.
    let qsh = ferry::connect::qsh::qsh("POST", "/lifecycle/disabled", "", None).expect("q");
    let a_signed = app.hs256(&a, json!({ "qsh": qsh }));
    let r = app
        .lifecycle("disabled", Some(&a_signed), &app.install_body(&b))
        .await;
    assert_eq!(r.status(), 401);
    assert_eq!(app.store.tenant(&b.client_key).await.expect("b").enabled, 1);

    // Webhooks: authenticated as the token's issuer only; B's secret is needed for B.
    let hook_qsh =
        ferry::connect::qsh::qsh("POST", "/webhooks/issue-deleted", "", None).expect("q");
    let forged = Site {
        client_key: b.client_key.clone(),
        ..a.clone()
    };
    let r = app
        .http
        .post(format!("{}/webhooks/issue-deleted", app.address))
        .header(
            "Authorization",
            format!("JWT {}", app.hs256(&forged, json!({ "qsh": hook_qsh }))),
        )
        .json(&json!({ "webhookEvent": "jira:issue_deleted", "issue": { "id": "10001" } }))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 401);
}
