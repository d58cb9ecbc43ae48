//! Webhooks from Jira about migrated issues (`jira:issue_deleted`, `jira:issue_updated`).
//!
//! Each delivery is authenticated like a page (HS256, tenant secret, qsh of this request);
//! deliveries are at-least-once and may be retried (`X-Atlassian-Webhook-Retry`), so handling
//! is idempotent. A deleted issue is marked in every run's id map that made it (the run's
//! report lists it); a new run over the same target then recreates it, since its existence
//! check looks the item up in Jira by its origin property and no longer finds it. An update
//! needs nothing: Ferry keeps no copy of an issue to reconcile. Either is acknowledged at once,
//! as Atlassian advises, so Jira does not count Ferry's endpoint as failing.

use axum::{Json, Router, extract::State, http::StatusCode, routing::post};
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
async fn issue_event(
    State(state): State<AppState>,
    auth: HostCallAuth,
    body: Json<serde_json::Value>,
) -> Result<StatusCode> {
    let event: IssueEvent = serde_json::from_value(body.0)
        .map_err(|_| AppError::BadRequest("not an issue event".into()))?;
    if event.webhook_event == "jira:issue_deleted" {
        let marked = state
            .store
            .mark_jira_deleted(&auth.0.tenant.client_key, &event.issue.id)
            .await?;
        tracing::info!(issue = %event.issue.id, runs = marked, "migrated issue deleted in Jira");
    } else {
        tracing::debug!(event = %event.webhook_event, issue = %event.issue.id, "issue webhook");
    }
    Ok(StatusCode::NO_CONTENT)
}
