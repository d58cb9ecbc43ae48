//! HTTP hygiene: security headers on every response, request ids, body limits, webhooks that
//! tolerate redelivery, health, and no secret in any log line or error body (T35, T37, T38).

use std::{
    io::Write,
    sync::{Arc, Mutex, OnceLock},
};

use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

#[derive(Clone)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Every log line of this test binary, at debug level and above.
pub(crate) fn captured_logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let writer = Capture(buf.clone());
        let _ = tracing_subscriber::fmt()
            .with_env_filter("debug,hyper=info,h2=info,sqlx=info,reqwest=info")
            .with_writer(move || writer.clone())
            .try_init();
        buf
    })
    .clone()
}

#[tokio::test]
async fn no_secret_or_token_reaches_a_log_line_or_an_error_body() {
    // T37
    let logs = captured_logs();
    let app = TestApp::spawn().await;
    let site = app.site("logs");
    app.install(&site).await;
    let (_, api_token) = app.create_api_token(&site, "admin-log").await;
    let page = app.page_token(&site, "admin-log", "GET", "/pages/admin");
    let ctx = app.context_token(&site, "admin-log");
    let mut bodies = String::new();
    bodies += &app
        .page("/pages/admin", &page)
        .await
        .text()
        .await
        .expect("b");
    bodies += &app
        .page("/pages/admin?x=1", &page)
        .await
        .text()
        .await
        .expect("b"); // qsh mismatch
    bodies += &app
        .api(Method::GET, "/api/me", &format!("JWT {ctx}"), None)
        .await
        .text()
        .await
        .expect("b");
    bodies += &app
        .api(
            Method::GET,
            "/api/me?jwt=abc",
            &format!("Bearer {api_token}"),
            None,
        )
        .await
        .text()
        .await
        .expect("b");
    bodies += &app
        .api(
            Method::GET,
            "/api/tokens",
            &format!("Bearer {api_token}x"),
            None,
        )
        .await
        .text()
        .await
        .expect("b");
    let token = app.install_token(&site, "/lifecycle/installed", |c, _| {
        c["aud"] = json!("https://wrong.example")
    });
    bodies += &app
        .lifecycle("installed", Some(&token), &app.install_body(&site))
        .await
        .text()
        .await
        .expect("b");
    let logs = String::from_utf8(logs.lock().expect("logs").clone()).expect("utf8");
    assert!(
        logs.contains("request"),
        "nothing was captured: the check would prove nothing"
    );
    for secret in [
        site.secret.as_str(),
        api_token.as_str(),
        page.as_str(),
        ctx.as_str(),
        token.as_str(),
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
    ] {
        assert!(!logs.contains(secret), "a secret or token reached the logs");
        assert!(
            !bodies.contains(secret),
            "a secret or token reached an error body"
        );
    }
    assert!(
        !logs.contains("jwt="),
        "a query string with a jwt was logged"
    );
}

#[tokio::test]
async fn every_response_carries_hsts_nosniff_no_referrer_and_a_request_id() {
    // T38 (headers)
    let app = TestApp::spawn().await;
    for path in [
        "/healthz",
        "/atlassian-connect.json",
        "/pages/admin",
        "/api/me",
        "/nowhere",
    ] {
        let r = app
            .http
            .get(format!("{}{path}", app.address))
            .send()
            .await
            .expect("send");
        let h = r.headers();
        assert_eq!(
            h["strict-transport-security"], "max-age=31536000; includeSubDomains",
            "{path}"
        );
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
        assert!(!h["x-request-id"].is_empty(), "{path}");
    }
    let r = app
        .http
        .get(format!("{}/healthz", app.address))
        .send()
        .await
        .expect("send");
    assert_eq!(
        r.headers()["content-security-policy"],
        "frame-ancestors 'none'"
    );
}

#[tokio::test]
async fn production_refuses_requests_that_arrived_over_plain_http() {
    // T38 (transport)
    let app = TestApp::spawn_with(&[
        ("FERRY_ENV", "production"),
        ("FERRY_BASE_URL", "https://ferry.example.com"),
    ])
    .await;
    let plain = app
        .http
        .get(format!("{}/healthz", app.address))
        .header("X-Forwarded-Proto", "http")
        .send()
        .await
        .expect("send");
    assert_eq!(plain.status(), 403);
    let tls = app
        .http
        .get(format!("{}/healthz", app.address))
        .header("X-Forwarded-Proto", "https")
        .send()
        .await
        .expect("send");
    assert_eq!(tls.status(), 200);
}

#[tokio::test]
async fn health_reports_the_database() {
    let app = TestApp::spawn().await;
    let body: serde_json::Value = app
        .http
        .get(format!("{}/healthz", app.address))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(body, json!({ "status": "ok", "database": "sqlite" }));
}

#[tokio::test]
async fn oversized_api_bodies_are_413() {
    let app = TestApp::spawn().await;
    let site = app.site("big");
    app.install(&site).await;
    app.make_admin("admin-big");
    let auth = format!("JWT {}", app.context_token(&site, "admin-big"));
    let r = app
        .api(
            Method::POST,
            "/api/tokens",
            &auth,
            Some(json!({ "name": "x".repeat(2 * 1024 * 1024) })),
        )
        .await;
    assert_eq!(r.status(), 413);
}

#[tokio::test]
async fn webhooks_need_the_computed_qsh_and_tolerate_redelivery() {
    // T22 (webhook), T35
    let app = TestApp::spawn().await;
    let site = app.site("hooks");
    app.install(&site).await;
    let body =
        json!({ "webhookEvent": "jira:issue_deleted", "issue": { "id": "10001", "key": "FAB-1" } });
    let send = |token: String, retry: Option<&'static str>| {
        let mut req = app
            .http
            .post(format!("{}/webhooks/issue-deleted", app.address))
            .header("Authorization", format!("JWT {token}"))
            .json(&body);
        if let Some(n) = retry {
            req = req.header("X-Atlassian-Webhook-Retry", n);
        }
        req.send()
    };
    let qsh = ferry::connect::qsh::qsh("POST", "/webhooks/issue-deleted", "", None).expect("q");
    assert_eq!(
        send(app.context_token(&site, "u"), None)
            .await
            .expect("send")
            .status(),
        401
    );
    assert_eq!(
        send(app.hs256(&site, json!({ "qsh": null })), None)
            .await
            .expect("send")
            .status(),
        401
    );
    assert_eq!(
        send(app.hs256(&site, json!({ "qsh": qsh })), None)
            .await
            .expect("send")
            .status(),
        204
    );
    assert_eq!(
        send(app.hs256(&site, json!({ "qsh": qsh })), Some("1"))
            .await
            .expect("send")
            .status(),
        204
    );
}
