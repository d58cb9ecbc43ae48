//! The Connect host role against a tiny app that verifies every token the way Ferry must.
//!
//! The app fetches the install key from `/_sim/install-keys/{kid}` and checks the RS256
//! signature, `aud`, `iss`, `exp − iat` and `qsh` with jsonwebtoken and with Ferry's own
//! `connect::jwt` verifier; page and lifecycle tokens are checked against
//! `ferry::connect::qsh::qsh` of the exact request received.

use std::{
    sync::{Arc, OnceLock},
    time::Instant,
};

use axum::{
    Json, Router,
    extract::{OriginalUri, State},
    http::{HeaderMap, StatusCode},
    routing::{get, post},
};
use ferry::{
    connect::{jwt, qsh::qsh},
    sim::host::{ConnectHost, HostOptions},
};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use parking_lot::Mutex;
use serde_json::{Value, json};
use url::Url;

use crate::helpers::{bind, count, counter, serve_on, spawn};

#[derive(Default)]
struct Seen {
    secret: Option<String>,
    install: Option<Value>,
    uninstall: Option<Value>,
    enabled: bool,
    pages: Vec<String>,
    errors: Vec<String>,
}

#[derive(Clone)]
struct TestApp {
    base: Arc<OnceLock<String>>,
    sim: String,
    seen: Arc<Mutex<Seen>>,
}

impl TestApp {
    fn base(&self) -> String {
        self.base.get().cloned().unwrap_or_default()
    }
    fn fail(&self, why: String) -> StatusCode {
        self.seen.lock().errors.push(why);
        StatusCode::UNAUTHORIZED
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn bearer(headers: &HeaderMap) -> String {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("JWT "))
        .unwrap_or("")
        .to_owned()
}

async fn descriptor(State(app): State<TestApp>) -> Json<Value> {
    Json(json!({
        "key": "ferry-test",
        "name": "Ferry test app",
        "baseUrl": app.base(),
        "authentication": { "type": "jwt" },
        "apiMigrations": { "signed-install": true, "context-qsh": true },
        "enableLicensing": true,
        "lifecycle": { "installed": "/installed", "uninstalled": "/uninstalled", "enabled": "/enabled" },
        "modules": {
            "adminPages": [{ "key": "admin", "name": { "value": "Ferry" }, "url": "/admin" }],
            "jiraProjectAdminTabPanels": [{ "key": "project", "name": { "value": "Import" },
                "url": "/project-admin?projectKey={project.key}&projectId={project.id}" }]
        }
    }))
}

/// Verifies a signed install or uninstall exactly as reference §2.3 prescribes.
async fn signed(
    app: &TestApp,
    headers: &HeaderMap,
    body: &Value,
    path: &str,
) -> Result<(), String> {
    let token = bearer(headers);
    let header = jsonwebtoken::decode_header(&token).map_err(|e| format!("header: {e}"))?;
    if header.alg != Algorithm::RS256 {
        return Err(format!("alg {:?}", header.alg));
    }
    let kid = header.kid.ok_or("no kid")?;
    let pem = reqwest::get(format!("{}/_sim/install-keys/{kid}", app.sim))
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|e| format!("key fetch: {e}"))?
        .text()
        .await
        .map_err(|e| e.to_string())?;
    let key = DecodingKey::from_rsa_pem(pem.as_bytes()).map_err(|e| format!("pem: {e}"))?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[app.base()]);
    validation.set_required_spec_claims(&["exp", "aud", "iss"]);
    let claims = jsonwebtoken::decode::<Value>(&token, &key, &validation)
        .map_err(|e| format!("verify: {e}"))?
        .claims;
    let expected_qsh = qsh("POST", path, "/app", None).map_err(|e| e.to_string())?;
    if claims["iss"] != body["clientKey"] {
        return Err("iss is not the clientKey".into());
    }
    if claims["qsh"] != expected_qsh.as_str() {
        return Err(format!("qsh {} != {expected_qsh}", claims["qsh"]));
    }
    if claims["exp"]
        .as_i64()
        .zip(claims["iat"].as_i64())
        .map(|(e, i)| e - i)
        != Some(180)
        || claims.get("sub").is_some()
    {
        return Err(format!("claims shape: {claims}"));
    }
    // Ferry's own verifier accepts it too.
    jwt::verify_rs256(&token, &key, &app.base(), now(), &expected_qsh)
        .map_err(|e| format!("ferry: {e}"))?;
    Ok(())
}

async fn installed(
    State(app): State<TestApp>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> StatusCode {
    match signed(&app, &headers, &body, "/app/installed").await {
        Ok(()) => {
            let mut seen = app.seen.lock();
            seen.secret = body["sharedSecret"].as_str().map(str::to_owned);
            seen.install = Some(body);
            StatusCode::NO_CONTENT
        }
        Err(why) => app.fail(why),
    }
}

async fn uninstalled(
    State(app): State<TestApp>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> StatusCode {
    match signed(&app, &headers, &body, "/app/uninstalled").await {
        Ok(()) => {
            app.seen.lock().uninstall = Some(body);
            StatusCode::NO_CONTENT
        }
        Err(why) => app.fail(why),
    }
}

fn hs256_ok(app: &TestApp, token: &str, method: &str, uri: &Url) -> Result<jwt::Claims, String> {
    let secret = app.seen.lock().secret.clone().ok_or("not installed")?;
    let expected = qsh(method, uri.path(), "/app", uri.query()).map_err(|e| e.to_string())?;
    jwt::verify_hs256(
        token,
        secret.as_bytes(),
        now(),
        jwt::QshRule::Computed(&expected),
    )
    .map_err(|e| e.to_string())
}

async fn enabled(
    State(app): State<TestApp>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> StatusCode {
    let url = Url::parse(&format!("http://x{uri}")).expect("uri");
    match hs256_ok(&app, &bearer(&headers), "POST", &url) {
        Ok(_) => {
            app.seen.lock().enabled = true;
            StatusCode::NO_CONTENT
        }
        Err(why) => app.fail(why),
    }
}

async fn page(State(app): State<TestApp>, OriginalUri(uri): OriginalUri) -> (StatusCode, String) {
    let url = Url::parse(&format!("http://x{uri}")).expect("uri");
    let token = url
        .query_pairs()
        .find(|(k, _)| k == "jwt")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    match hs256_ok(&app, &token, "GET", &url) {
        Ok(claims) if claims.sub.as_deref() == Some("acc-1") && claims.exp - claims.iat == 180 => {
            app.seen.lock().pages.push(uri.to_string());
            (StatusCode::OK, "page ok".into())
        }
        Ok(claims) => (app.fail(format!("claims {claims:?}")), String::new()),
        Err(why) => (app.fail(why), String::new()),
    }
}

type Started = (
    ConnectHost,
    String,
    TestApp,
    String,
    Arc<std::sync::atomic::AtomicUsize>,
);

/// The simulator-only key shipped for tests, so most tests skip RSA generation.
const FIXTURE_KEY: &str = include_str!("../fixtures/sim-install-key.pem");

async fn start() -> Started {
    start_with(Some(FIXTURE_KEY)).await
}

async fn start_with(key: Option<&str>) -> Started {
    let (listener, sim) = bind().await;
    let hooks = counter();
    let hook_count = hooks.clone();
    let options = HostOptions {
        on_installed: Some(Arc::new(move |_| {
            hook_count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        })),
        private_key_pem: key.map(str::to_owned),
        ..HostOptions::default()
    };
    let started = Instant::now();
    let host = ConnectHost::new(Url::parse(&sim).expect("url"), options).expect("host");
    if key.is_none() {
        eprintln!("RSA-2048 key generation took {:?}", started.elapsed());
    }
    serve_on(listener, host.router());
    let app = TestApp {
        base: Arc::new(OnceLock::new()),
        sim: sim.clone(),
        seen: Arc::default(),
    };
    let routes = Router::new()
        .route("/app/atlassian-connect.json", get(descriptor))
        .route("/app/installed", post(installed))
        .route("/app/uninstalled", post(uninstalled))
        .route("/app/enabled", post(enabled))
        .route("/app/admin", get(page))
        .route("/app/project-admin", get(page))
        .with_state(app.clone());
    let origin = spawn(routes).await;
    app.base.set(format!("{origin}/app")).expect("once");
    (host, sim, app, origin, hooks)
}

fn iframe_src(html: &str) -> String {
    let start = html.find("src=\"").expect("iframe") + 5;
    let end = start + html[start..].find('"').expect("quote");
    html[start..end].replace("&amp;", "&")
}

#[tokio::test]
async fn install_is_rs256_signed_per_the_reference_and_the_app_accepts_it() {
    // A key generated at start, as `ferry sim jira` does.
    let (host, sim, app, origin, hooks) = start_with(None).await;
    let http = reqwest::Client::new();
    let resp = http
        .post(format!("{sim}/_sim/install"))
        .json(&json!({ "descriptorUrl": format!("{origin}/app/atlassian-connect.json") }))
        .send()
        .await
        .expect("install");
    assert_eq!(
        resp.status(),
        200,
        "app errors: {:?}",
        app.seen.lock().errors
    );
    let installed = host.installed();
    assert_eq!(installed.len(), 1);
    assert_eq!(count(&hooks), 1, "on_installed ran");
    let seen = app.seen.lock();
    let body = seen.install.clone().expect("install body");
    assert_eq!(
        seen.secret.as_deref(),
        Some(installed[0].shared_secret.as_str())
    );
    assert_eq!(body["key"], "ferry-test");
    assert_eq!(body["clientKey"], host.client_key());
    assert_eq!(body["baseUrl"], sim.as_str());
    assert_eq!(
        (body["productType"].as_str(), body["eventType"].as_str()),
        (Some("jira"), Some("installed"))
    );
    for field in [
        "displayUrl",
        "description",
        "serverVersion",
        "pluginsVersion",
        "oauthClientId",
    ] {
        assert!(body[field].is_string(), "payload lacks {field}");
    }
}

#[tokio::test]
async fn each_install_sends_a_fresh_shared_secret() {
    let (host, _, _, origin, _) = start().await;
    let descriptor = format!("{origin}/app/atlassian-connect.json");
    let first = host
        .install(&descriptor)
        .await
        .expect("install")
        .shared_secret;
    let second = host
        .install(&descriptor)
        .await
        .expect("reinstall")
        .shared_secret;
    assert_ne!(first, second);
    assert!(first.len() >= 32);
}

#[tokio::test]
async fn the_host_page_frames_the_module_with_a_jwt_bound_to_that_exact_url() {
    let (host, sim, app, origin, _) = start().await;
    host.install(&format!("{origin}/app/atlassian-connect.json"))
        .await
        .expect("install");
    let http = reqwest::Client::new();
    let html = http
        .get(host.page_url("admin", "acc-1"))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(html.contains("<iframe"), "{html}");
    let src = Url::parse(&iframe_src(&html)).expect("src");
    assert_eq!(src.path(), "/app/admin");
    let params: std::collections::HashMap<String, String> =
        src.query_pairs().into_owned().collect();
    assert_eq!(params.get("xdm_e"), Some(&sim));
    for p in ["xdm_c", "cp", "lic", "loc", "tz", "user_id", "jwt"] {
        assert!(params.contains_key(p), "iframe URL lacks {p}");
    }
    assert_eq!(params["lic"], "active", "enableLicensing → lic=active");
    let claims = jwt::peek(&params["jwt"]).expect("jwt").claims;
    assert_eq!(
        claims.qsh,
        Some(qsh("GET", src.path(), "/app", src.query()).expect("qsh"))
    );
    assert_eq!(
        (claims.iss.as_str(), claims.sub.as_deref()),
        (host.client_key(), Some("acc-1"))
    );

    let framed = http.get(src.as_str()).send().await.expect("iframe load");
    assert_eq!(
        framed.status(),
        200,
        "app errors: {:?}",
        app.seen.lock().errors
    );
}

#[tokio::test]
async fn a_project_panel_binds_context_variables_from_the_host_page_query() {
    let (host, _, app, origin, _) = start().await;
    host.install(&format!("{origin}/app/atlassian-connect.json"))
        .await
        .expect("install");
    let url = format!("{}&project.key=ABC", host.page_url("project", "acc-1"));
    let html = reqwest::get(url)
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    let src = Url::parse(&iframe_src(&html)).expect("src");
    let params: std::collections::HashMap<String, String> =
        src.query_pairs().into_owned().collect();
    assert_eq!(
        (params["projectKey"].as_str(), params["projectId"].as_str()),
        ("ABC", "")
    );
    assert_eq!(
        reqwest::get(src.as_str()).await.expect("load").status(),
        200,
        "{:?}",
        app.seen.lock().errors
    );
}

#[tokio::test]
async fn enabled_is_hs256_signed_and_uninstall_is_rs256_signed() {
    let (host, sim, app, origin, _) = start().await;
    host.install(&format!("{origin}/app/atlassian-connect.json"))
        .await
        .expect("install");
    let http = reqwest::Client::new();
    let enabled = http
        .post(format!("{sim}/_sim/lifecycle/enabled"))
        .send()
        .await
        .expect("enabled");
    assert_eq!(enabled.status(), 204, "{:?}", app.seen.lock().errors);
    assert!(app.seen.lock().enabled);
    let disabled = http
        .post(format!("{sim}/_sim/lifecycle/disabled"))
        .send()
        .await
        .expect("disabled");
    assert_eq!(
        disabled.status(),
        502,
        "the descriptor declares no disabled callback"
    );
    let gone = http
        .post(format!("{sim}/_sim/uninstall"))
        .send()
        .await
        .expect("uninstall");
    assert_eq!(gone.status(), 204, "{:?}", app.seen.lock().errors);
    assert_eq!(
        app.seen
            .lock()
            .uninstall
            .as_ref()
            .map(|b| b["eventType"].clone()),
        Some(json!("uninstalled"))
    );
    assert!(host.installed().is_empty());
}

#[tokio::test]
async fn webhook_tokens_carry_the_qsh_of_the_webhook_url() {
    let (host, _, app, origin, _) = start().await;
    let installed = host
        .install(&format!("{origin}/app/atlassian-connect.json"))
        .await
        .expect("install");
    let token = host
        .sign_hs256_for("ferry-test", "POST", "/webhooks/issue-deleted?user_id=x")
        .expect("sign");
    let expected = qsh(
        "POST",
        "/app/webhooks/issue-deleted",
        "/app",
        Some("user_id=x"),
    )
    .expect("qsh");
    let claims = jwt::verify_hs256(
        &token,
        installed.shared_secret.as_bytes(),
        now(),
        jwt::QshRule::Computed(&expected),
    )
    .expect("verifies");
    assert_eq!(claims.iss, host.client_key());
    assert!(app.seen.lock().errors.is_empty());
}

#[tokio::test]
async fn an_install_the_app_refuses_is_reported_and_not_recorded() {
    let (host, sim, _, _, hooks) = start().await;
    let bad = spawn(Router::new().route(
        "/atlassian-connect.json",
        get(|| async { Json(json!({ "key": "k", "baseUrl": "http://127.0.0.1:9/app", "lifecycle": { "installed": "/i" } })) }),
    ))
    .await;
    let resp = reqwest::Client::new()
        .post(format!("{sim}/_sim/install"))
        .json(&json!({ "descriptorUrl": format!("{bad}/atlassian-connect.json") }))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 502);
    assert!(host.installed().is_empty());
    assert_eq!(count(&hooks), 0);
}

#[tokio::test]
async fn an_unknown_kid_is_404() {
    let (host, sim, _, _, _) = start().await;
    let ok = reqwest::get(format!("{sim}/_sim/install-keys/{}", host.kid()))
        .await
        .expect("key");
    assert!(
        ok.text()
            .await
            .expect("pem")
            .starts_with("-----BEGIN PUBLIC KEY-----")
    );
    assert_eq!(
        reqwest::get(format!("{sim}/_sim/install-keys/other"))
            .await
            .expect("key")
            .status(),
        404
    );
}
