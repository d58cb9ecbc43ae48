//! Spawning routers on port 0, fake credentials, and header assertions.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use axum::{
    Router,
    http::StatusCode,
    routing::{get, post},
};
use base64::{
    Engine,
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
};

/// Serves `router` on an ephemeral port and returns its base URL.
pub async fn spawn(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        axum::serve(listener, router).await.expect("serve");
    });
    format!("http://{addr}")
}

/// A Connect-style app JWT (unsigned: limiters never verify) for app `iss` and tenant `aud`.
pub fn app_jwt(iss: &str, aud: &str) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let claims = URL_SAFE_NO_PAD
        .encode(serde_json::json!({ "iss": iss, "aud": [aud], "qsh": "x" }).to_string());
    format!("JWT {header}.{claims}.c2lnbmF0dXJl")
}

/// Basic auth for `user:secret`.
pub fn basic(user: &str, secret: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{user}:{secret}")))
}

/// A Jira-shaped router whose write handlers count how often they ran.
pub fn jira_router(writes: Arc<AtomicUsize>) -> Router {
    let w1 = writes.clone();
    let w2 = writes;
    Router::new()
        .route(
            "/rest/api/3/issue",
            post(move || {
                w1.fetch_add(1, Ordering::SeqCst);
                async { (StatusCode::CREATED, "{}") }
            }),
        )
        .route("/rest/api/3/issue/{issueIdOrKey}", get(|| async { "{}" }))
        .route(
            "/rest/api/3/issue/{issueIdOrKey}/comment",
            post(move || {
                w2.fetch_add(1, Ordering::SeqCst);
                async { (StatusCode::CREATED, "{}") }
            }),
        )
        .route("/rest/api/3/project", get(|| async { "[]" }))
}

/// Asserts the headers every 429 of the Jira limiter carries.
pub fn assert_jira_429(resp: &reqwest::Response, reason: &str) {
    assert_eq!(resp.status(), reqwest::StatusCode::TOO_MANY_REQUESTS);
    let h = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("429 lacks {name}"))
            .to_owned()
    };
    assert_eq!(h("ratelimit-reason"), reason);
    assert!(
        h("retry-after")
            .parse::<u64>()
            .expect("numeric Retry-After")
            >= 1
    );
    let reset = h("x-ratelimit-reset");
    assert!(
        reset.len() == 20 && reset.ends_with('Z') && reset.as_bytes()[10] == b'T',
        "ISO reset: {reset}"
    );
    assert_eq!(h("x-ratelimit-remaining"), "0");
    assert!(h("x-ratelimit-limit").parse::<u64>().is_ok());
}

/// A header as a string, or "" when absent.
pub fn header(resp: &reqwest::Response, name: &str) -> String {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

/// A counter shared with handlers.
pub fn counter() -> Arc<AtomicUsize> {
    Arc::new(AtomicUsize::new(0))
}

/// Binds an ephemeral port first, for servers that must know their own URL before routing.
pub async fn bind() -> (tokio::net::TcpListener, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    (listener, url)
}

/// Serves `router` on an already bound listener.
pub fn serve_on(listener: tokio::net::TcpListener, router: Router) {
    tokio::spawn(async move {
        axum::serve(listener, router).await.expect("serve");
    });
}

/// `Ordering` re-exported for brevity in tests.
pub fn count(c: &Arc<AtomicUsize>) -> usize {
    c.load(Ordering::SeqCst)
}
