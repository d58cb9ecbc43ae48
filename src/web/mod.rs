//! The HTTP surfaces, one mount each, plus the layers every response passes through.

mod health;

use axum::Router;

use crate::app::AppState;

/// All routes with their shared layers.
pub fn router(state: AppState) -> Router {
    Router::new()
        // ---- operations -------------------------------------------------------------
        .merge(health::router())
        .layer(axum::middleware::from_fn(crate::error::log_errors))
        .with_state(state)
}
