//! Webhooks from Jira about migrated issues (`jira:issue_deleted`, `jira:issue_updated`).
//!
//! Each delivery is authenticated like a page (HS256, tenant secret, qsh of this request);
//! deliveries are at-least-once and may be retried (`X-Atlassian-Webhook-Retry`), so handling
//! must be idempotent. Until the run engine keeps an id map there is nothing to reconcile: the
//! handlers authenticate, check the payload names an issue, and acknowledge at once, as
//! Atlassian advises, so Jira does not count Ferry's endpoint as failing.

use axum::{Json, Router, http::StatusCode, routing::post};
use serde::Deserialize;

use crate::{
    app::AppState,
    connect::extract::HostCallAuth,
    error::{AppError, Result},
};

/// The webhook routes named in the descriptor.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/webhooks/issue-deleted", post(issue_event))
        .route("/webhooks/issue-updated", post(issue_event))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IssueEvent {
    webhook_event: String,
    issue: IssueRef,
}

#[derive(Deserialize)]
struct IssueRef {
    id: String,
}

#[tracing::instrument(skip_all, fields(tenant = %auth.0.tenant.client_key))]
async fn issue_event(auth: HostCallAuth, body: Json<serde_json::Value>) -> Result<StatusCode> {
    let event: IssueEvent = serde_json::from_value(body.0)
        .map_err(|_| AppError::BadRequest("not an issue event".into()))?;
    tracing::debug!(event = %event.webhook_event, issue = %event.issue.id, "issue webhook");
    Ok(StatusCode::NO_CONTENT)
}
