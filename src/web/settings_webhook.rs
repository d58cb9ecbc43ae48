//! The tenant's outbound webhook: `PUT /api/settings/webhook` {url} sets it and answers the
//! signing secret once, `GET` shows the URL (never the secret), `DELETE` removes it. Admin
//! only; every change is audited. The URL passes the same guard as ADO URLs: https only
//! (plain http only for hosts in `FERRY_ALLOWED_SOURCE_HOSTS`) and public addresses only, so
//! a tenant cannot point Ferry's posts into its own network.

use axum::{Json, Router, extract::State, http::StatusCode, routing::put};
use rand::RngCore as _;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{
    app::AppState,
    connect::{extract::ApiAuth, permissions::Right},
    error::{AppError, Result},
    source::ado::guard::GuardError,
};

/// The settings routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/settings/webhook", put(set).get(show).delete(remove))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewWebhook {
    url: String,
}

async fn admin(state: &AppState, auth: &ApiAuth) -> Result<()> {
    state
        .require(&auth.tenant, &auth.principal, Right::Admin)
        .await
}

#[tracing::instrument(skip_all, fields(tenant = %auth.tenant.client_key))]
async fn set(
    State(state): State<AppState>,
    auth: ApiAuth,
    Json(body): Json<NewWebhook>,
) -> Result<Json<Value>> {
    admin(&state, &auth).await?;
    let checked = state.source_policy().check(&body.url).await.map_err(|e| {
        AppError::BadRequest(
            match e {
                GuardError::Invalid => {
                    "not a valid webhook URL (no credentials, query or fragment)"
                }
                GuardError::NotHttps => "the webhook URL must use https",
                GuardError::Unresolvable => "the webhook host name does not resolve",
                GuardError::Internal => {
                    "the webhook host resolves to a private or internal address"
                }
            }
            .into(),
        )
    })?;
    let mut raw = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    let secret = format!("whsec_{}", hex::encode(raw));
    let ck = &auth.tenant.client_key;
    let sealed = state
        .config
        .secret_key
        .seal(secret.as_bytes(), ck.as_bytes());
    let url = checked.url.to_string();
    state
        .store
        .set_webhook(ck, &url, &sealed, &auth.principal.actor())
        .await?;
    Ok(Json(json!({
        "url": url,
        "secret": secret,
        "signature": "X-Ferry-Signature: sha256=<hex of HMAC-SHA256(secret, body)>",
    })))
}

async fn show(State(state): State<AppState>, auth: ApiAuth) -> Result<Json<Value>> {
    admin(&state, &auth).await?;
    let hook = state
        .store
        .webhook(&auth.tenant.client_key)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Json(json!({
        "url": hook.url,
        "createdBy": hook.created_by,
        "updatedAt": hook.updated_at,
    })))
}

async fn remove(State(state): State<AppState>, auth: ApiAuth) -> Result<StatusCode> {
    admin(&state, &auth).await?;
    if state
        .store
        .delete_webhook(&auth.tenant.client_key, &auth.principal.actor())
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(AppError::NotFound)
    }
}
