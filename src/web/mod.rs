//! The HTTP surfaces, one mount each, plus the layers every response passes through.

mod api;
mod health;
mod intake;
mod mapping;
mod pages;
mod report;
pub mod run_events;
mod runs;
pub mod security;
mod settings_webhook;
mod webhooks;

use std::time::Duration;

use axum::{
    Json, Router,
    extract::{DefaultBodyLimit, State},
    http::{HeaderName, Request},
    routing::get,
};
use tower_http::{
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    sensitive_headers::SetSensitiveRequestHeadersLayer,
    timeout::TimeoutLayer,
    trace::TraceLayer,
};

use crate::app::AppState;

/// Default request body limit; lifecycle routes set a smaller one.
const MAX_BODY: usize = 1024 * 1024;
const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// All routes with their shared layers.
pub fn router(state: AppState) -> Router {
    Router::new()
        // ---- Connect: descriptor and lifecycle ---------------------------------------
        .route("/atlassian-connect.json", get(descriptor))
        .merge(crate::connect::lifecycle::router())
        // ---- pages inside Jira's iframe -----------------------------------------------
        .merge(pages::router())
        // ---- JSON API --------------------------------------------------------------------
        .merge(api::router())
        .merge(intake::router())
        .merge(mapping::router())
        .merge(runs::router())
        .merge(run_events::router())
        .merge(report::router())
        .merge(settings_webhook::router())
        // ---- webhooks from Jira --------------------------------------------------------
        .merge(webhooks::router())
        // ---- operations -------------------------------------------------------------
        .merge(health::router())
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(axum::middleware::from_fn(crate::error::log_errors))
        .layer(axum::middleware::from_fn_with_state(state.clone(), security::headers))
        .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::SERVICE_UNAVAILABLE, Duration::from_secs(60)))
        // The span names the path only: a query string may carry Jira's `jwt`.
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
            let id = req.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(SetSensitiveRequestHeadersLayer::new([axum::http::header::AUTHORIZATION, axum::http::header::COOKIE]))
        .with_state(state)
}

async fn descriptor(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(state.descriptor.clone())
}
