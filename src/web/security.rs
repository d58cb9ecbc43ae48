//! Headers and rules every response obeys (Marketplace security requirements 3 and 7).
//!
//! - HSTS (one year) and `nosniff` on everything.
//! - `Referrer-Policy: no-referrer`: page URLs carry Jira's `jwt`, which must not leak.
//! - `Cache-Control: no-store` on pages and the API.
//! - Framing: `frame-ancestors 'none'` unless a page handler named the tenant's Jira (see
//!   [`frame_ancestors`]), so Ferry's pages are framable by the tenant's own site only.
//! - In production, a request that reached the proxy over plain HTTP is refused.

use axum::{
    extract::{Request, State},
    http::{HeaderName, HeaderValue, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

use crate::{app::AppState, config::Mode};

const HSTS: &str = "max-age=31536000; includeSubDomains";

/// The CSP a page may be framed under: the tenant's API and display URLs.
pub fn frame_ancestors(base_url: &str, display_url: Option<&str>) -> HeaderValue {
    let origin = |raw: &str| {
        url::Url::parse(raw)
            .ok()
            .map(|u| u.origin().ascii_serialization())
    };
    let mut sources: Vec<String> = [Some(base_url), display_url]
        .into_iter()
        .flatten()
        .filter_map(origin)
        .collect();
    sources.dedup();
    let policy = if sources.is_empty() {
        "frame-ancestors 'none'".to_owned()
    } else {
        format!("frame-ancestors {}", sources.join(" "))
    };
    HeaderValue::from_str(&policy)
        .unwrap_or_else(|_| HeaderValue::from_static("frame-ancestors 'none'"))
}

/// The middleware.
pub async fn headers(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if state.config.mode == Mode::Production
        && request
            .headers()
            .get("x-forwarded-proto")
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"http"))
    {
        return (
            StatusCode::FORBIDDEN,
            axum::Json(serde_json::json!({ "error": "https required" })),
        )
            .into_response();
    }
    let path = request.uri().path().to_owned();
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    h.insert(
        header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static(HSTS),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("frame-ancestors 'none'"),
        );
    }
    if path.starts_with("/pages/") || path.starts_with("/api/") {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    h.remove(HeaderName::from_static("server"));
    response
}
