//! Migrations (runs) API: start a run of an approved mapping, read its progress, pause, resume
//! and cancel it. Admin rights, with a context JWT or a tenant API token; every action is in
//! the audit log with who did it.

use axum::{
    Json, Router,
    extract::{Path, State},
    http::StatusCode,
    routing::{get, post},
};
use serde_json::{Value, json};

use crate::{
    app::AppState,
    connect::{extract::ApiAuth, permissions::Right},
    engine::notify,
    error::{AppError, Result},
};

/// The run routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/mappings/{id}/migrations", post(start).get(list))
        .route("/api/migrations", get(list_all))
        .route("/api/migrations/{id}", get(one))
        .route("/api/migrations/{id}/{action}", post(control))
}

async fn admin(state: &AppState, auth: &ApiAuth) -> Result<()> {
    state
        .require(&auth.tenant, &auth.principal, Right::Admin)
        .await
}

async fn start(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Value>)> {
    admin(&state, &auth).await?;
    let run = state
        .store
        .queue_run(&auth.tenant.client_key, &id, &auth.principal.actor())
        .await?;
    notify::run_changed(&state, &run.client_key, &run.id, &run.status);
    state.run_wakeup.notify_waiters();
    Ok((StatusCode::ACCEPTED, Json(json!(run))))
}

#[derive(serde::Deserialize)]
struct ListQuery {
    before: Option<i64>,
    limit: Option<i64>,
}

/// The migrations list page's rows: the tenant's runs, newest first.
async fn list_all(
    State(state): State<AppState>,
    auth: ApiAuth,
    axum::extract::Query(q): axum::extract::Query<ListQuery>,
) -> Result<Json<Vec<crate::store::RunSummary>>> {
    admin(&state, &auth).await?;
    Ok(Json(
        state
            .store
            .tenant_runs(&auth.tenant.client_key, q.before, q.limit.unwrap_or(50))
            .await?,
    ))
}

async fn one(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    admin(&state, &auth).await?;
    let ck = &auth.tenant.client_key;
    let run = state.store.run(ck, &id).await?;
    let counts = state.store.run_counts(ck, &id).await?;
    let steps = state.store.step_counts(ck, &id).await?;
    let followed = state.store.followed_count(ck, &id).await?;
    // Links waiting in the ledger for an end not migrated yet (phase 4).
    let ledger = state.store.ledger_counts(ck, &id).await?;
    let budget = state.budget.view(ck).await?;
    Ok(Json(
        json!({ "run": run, "items": counts, "steps": steps, "followed": followed,
                    "ledger": ledger, "budget": budget }),
    ))
}

/// The mapping's runs, newest first.
async fn list(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    admin(&state, &auth).await?;
    let runs = state.store.runs_of(&auth.tenant.client_key, &id).await?;
    Ok(Json(json!(runs)))
}

async fn control(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path((id, action)): Path<(String, String)>,
) -> Result<Json<Value>> {
    admin(&state, &auth).await?;
    if !matches!(action.as_str(), "pause" | "resume" | "cancel") {
        return Err(AppError::NotFound);
    }
    let run = state
        .store
        .control_run(
            &auth.tenant.client_key,
            &id,
            &action,
            &auth.principal.actor(),
        )
        .await?;
    // Resume queues the run; cancel of a run no worker holds ends it at once. Pause, and
    // cancel of a running run, change its status at its next checkpoint (the engine posts).
    if action == "resume" || run.status == "cancelled" {
        notify::run_changed(&state, &run.client_key, &run.id, &run.status);
    }
    if action == "resume" {
        state.run_wakeup.notify_waiters();
    }
    Ok(Json(json!(run)))
}
