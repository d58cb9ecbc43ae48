//! The JSON API under `/api`: who am I, tenant API tokens, the audit log.
//! Every handler takes [`ApiAuth`]; the tenant comes from the verified credentials only.

use axum::{
    Json, Router,
    extract::{Path, Query, State},
    http::StatusCode,
    routing::{delete, get},
};
use base64::Engine as _;
use rand::RngCore;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{
    app::AppState,
    connect::{
        extract::{ApiAuth, Principal, hash_api_token},
        permissions::Right,
    },
    error::{AppError, Result},
    store::{ApiToken, AuditEntry},
};

/// The API routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/me", get(me))
        .route("/api/tokens", get(list_tokens).post(create_token))
        .route("/api/tokens/{id}", delete(revoke_token))
        .route("/api/audit", get(audit))
}

async fn me(auth: ApiAuth) -> Json<Value> {
    let principal = match &auth.principal {
        Principal::User(account) => json!({ "kind": "user", "accountId": account }),
        Principal::Token { id, .. } => json!({ "kind": "token", "tokenId": id }),
    };
    Json(json!({ "site": auth.tenant.base_url, "principal": principal }))
}

async fn list_tokens(State(state): State<AppState>, auth: ApiAuth) -> Result<Json<Vec<ApiToken>>> {
    state
        .require(&auth.tenant, &auth.principal, Right::Admin)
        .await?;
    Ok(Json(state.store.api_tokens(&auth.tenant.client_key).await?))
}

#[derive(Deserialize)]
struct NewToken {
    name: String,
}

#[tracing::instrument(skip_all, fields(tenant = %auth.tenant.client_key))]
async fn create_token(
    State(state): State<AppState>,
    auth: ApiAuth,
    Json(body): Json<NewToken>,
) -> Result<(StatusCode, Json<Value>)> {
    // Tokens are minted by people: a token cannot mint another and outlive its own revocation.
    let Principal::User(account) = &auth.principal else {
        return Err(AppError::Forbidden(
            "API tokens are created from Ferry's admin page",
        ));
    };
    state
        .require(&auth.tenant, &auth.principal, Right::Admin)
        .await?;
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::BadRequest(
            "name must be 1 to 100 characters".into(),
        ));
    }
    let mut raw = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    let token = format!(
        "ferry_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
    );
    let row = state
        .store
        .create_api_token(
            &auth.tenant.client_key,
            name,
            &hash_api_token(&token),
            account,
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(
            json!({ "id": row.id, "name": row.name, "token": token, "createdAt": row.created_at }),
        ),
    ))
}

#[tracing::instrument(skip_all, fields(tenant = %auth.tenant.client_key))]
async fn revoke_token(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    state
        .require(&auth.tenant, &auth.principal, Right::Admin)
        .await?;
    state
        .store
        .revoke_api_token(&auth.tenant.client_key, &id, &auth.principal.actor())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct AuditQuery {
    before: Option<i64>,
    limit: Option<i64>,
}

async fn audit(
    State(state): State<AppState>,
    auth: ApiAuth,
    Query(q): Query<AuditQuery>,
) -> Result<Json<Vec<AuditEntry>>> {
    state
        .require(&auth.tenant, &auth.principal, Right::Admin)
        .await?;
    Ok(Json(
        state
            .store
            .audit_entries(&auth.tenant.client_key, q.before, q.limit.unwrap_or(100))
            .await?,
    ))
}
