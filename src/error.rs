//! The HTTP error type and the error policy.
//!
//! Policy: inside the engine and the clients, `anyhow` with `.context(…)` carries the full
//! cause chain; at the HTTP boundary every failure becomes an [`AppError`]. Client errors
//! carry a short message written by us (never an echo of the request, a token, or an
//! upstream body, which may hold ticket content). Internal errors become an opaque 500.
//! `into_response` does not log: it attaches the detail to the response's extensions and
//! [`log_errors`] logs it once, with the request id, at the level the kind deserves.

use axum::{
    Json,
    extract::Request,
    http::StatusCode,
    middleware::Next,
    response::{IntoResponse, Response},
};
use serde_json::json;

/// Everything an HTTP handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Authentication failed. The reason is logged, never returned: every 401 looks alike.
    #[error("unauthorized: {0}")]
    Unauthorized(&'static str),
    /// Authenticated, but not allowed.
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// Not found, or belongs to another tenant (indistinguishable on purpose).
    #[error("not found")]
    NotFound,
    /// The request is malformed; the message says what to fix.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// The request conflicts with the current state.
    #[error("conflict: {0}")]
    Conflict(String),
    /// An upstream service (ADO, Jira, the install-keys CDN) failed or is unreachable.
    #[error("upstream unavailable: {0}")]
    Upstream(String),
    /// Ferry cannot answer safely now (Jira refuses to be asked, and no answer it gave recently
    /// can stand in); the client should retry later. 503.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// Our own fault. The cause chain goes to the log only.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// Convenience alias used throughout the web layer.
pub type Result<T, E = AppError> = std::result::Result<T, E>;

/// Detail of a failure, for [`log_errors`] to log.
#[derive(Clone, Debug)]
struct FailureDetail {
    level: tracing::Level,
    message: String,
}

impl AppError {
    fn status(&self) -> StatusCode {
        match self {
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::Upstream(_) => StatusCode::BAD_GATEWAY,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        let (public, level) = match &self {
            Self::Unauthorized(_) => ("authentication required".to_owned(), tracing::Level::WARN),
            Self::Forbidden(why) => ((*why).to_owned(), tracing::Level::WARN),
            Self::NotFound => ("not found".to_owned(), tracing::Level::DEBUG),
            Self::BadRequest(m) | Self::Conflict(m) => (m.clone(), tracing::Level::DEBUG),
            Self::Upstream(m) | Self::Unavailable(m) => (m.clone(), tracing::Level::WARN),
            Self::Internal(_) => ("internal error".to_owned(), tracing::Level::ERROR),
        };
        let message = match &self {
            Self::Internal(e) => format!("{e:#}"),
            other => other.to_string(),
        };
        let mut response = (status, Json(json!({ "error": public }))).into_response();
        response
            .extensions_mut()
            .insert(FailureDetail { level, message });
        response
    }
}

/// Logs the detail [`AppError::into_response`] attached, once per failed request.
pub async fn log_errors(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    if let Some(detail) = response.extensions().get::<FailureDetail>() {
        let status = response.status().as_u16();
        let m = &detail.message;
        match detail.level {
            tracing::Level::ERROR => {
                tracing::error!(%method, %path, status, error = %m, "request failed")
            }
            tracing::Level::WARN => {
                tracing::warn!(%method, %path, status, error = %m, "request rejected")
            }
            _ => tracing::debug!(%method, %path, status, error = %m, "request rejected"),
        }
    }
    response
}

/// Maps store errors at the boundary: a missing row is a 404, the rest is ours.
impl From<crate::store::StoreError> for AppError {
    fn from(e: crate::store::StoreError) -> Self {
        match e {
            crate::store::StoreError::NotFound => Self::NotFound,
            crate::store::StoreError::Conflict(m) => Self::Conflict(m),
            other => Self::Internal(other.into()),
        }
    }
}
