//! `POST /lifecycle/{installed,uninstalled,enabled,disabled}`.
//!
//! Installs and uninstalls are accepted only as RS256 signed installs, verified exactly as
//! reference §2.3 lists (kid checked before any fetch, key by kid, `aud` = our base URL,
//! `iss` = body clientKey, qsh of this request, expiry), then the body is checked (our app
//! key, an allowed baseUrl). A rejected call changes nothing. `enabled`/`disabled` are HS256
//! with the tenant's secret. Every accepted event is in the audit log (uninstall deletes the
//! tenant's data, its audit log included).

use axum::{
    Router,
    body::Bytes,
    extract::{DefaultBodyLimit, State},
    http::{HeaderMap, Method, StatusCode, Uri},
    routing::post,
};
use serde::Deserialize;

use super::{extract::HostCallAuth, install_keys::KeyError, jwt, qsh};
use crate::{
    app::AppState,
    error::AppError,
    store::{InstallRecord, Installed, StoreError},
};

/// Lifecycle payloads are small; anything larger is refused with 413.
const MAX_LIFECYCLE_BODY: usize = 64 * 1024;

/// The lifecycle routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/lifecycle/installed", post(installed))
        .route("/lifecycle/uninstalled", post(uninstalled))
        .route("/lifecycle/enabled", post(enabled))
        .route("/lifecycle/disabled", post(disabled))
        .layer(DefaultBodyLimit::max(MAX_LIFECYCLE_BODY))
}

/// The lifecycle payload (reference §2.1). Unknown fields are ignored.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Payload {
    key: String,
    client_key: String,
    #[serde(default)]
    shared_secret: Option<String>,
    base_url: String,
    #[serde(default)]
    display_url: Option<String>,
    #[serde(default)]
    oauth_client_id: Option<String>,
}

fn payload(body: &[u8], state: &AppState) -> Result<Payload, AppError> {
    let p: Payload = serde_json::from_slice(body)
        .map_err(|_| AppError::BadRequest("lifecycle body is not a valid payload".into()))?;
    if p.key != state.config.app_key {
        return Err(AppError::BadRequest("payload key is not this app".into()));
    }
    if p.client_key.is_empty() || p.client_key.len() > 255 {
        return Err(AppError::BadRequest("clientKey missing or too long".into()));
    }
    Ok(p)
}

/// Verifies a signed install or uninstall, before its body is read, and returns its claims.
async fn verify_signed(
    state: &AppState,
    headers: &HeaderMap,
    method: &Method,
    uri: &Uri,
) -> Result<jwt::Claims, AppError> {
    let token = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("JWT "))
        .ok_or(AppError::Unauthorized("lifecycle call without JWT"))?;
    let kid = jwt::install_key_id(token)
        .map_err(|_| AppError::Unauthorized("not a signed install token"))?;
    let key = state.install_keys.key(&kid).await.map_err(|e| match e {
        KeyError::Unavailable(why) => {
            AppError::Upstream(format!("install key service unavailable: {why}"))
        }
        KeyError::Unknown(_) | KeyError::Invalid => AppError::Unauthorized("unknown install key"),
    })?;
    let expected = qsh::qsh(
        method.as_str(),
        uri.path(),
        state.config.base_url.path(),
        uri.query(),
    )
    .map_err(|_| AppError::Unauthorized("undecodable query string"))?;
    let claims = jwt::verify_rs256(
        token,
        &key,
        state.config.base_url.as_str(),
        crate::store::now_ms() / 1000,
        &expected,
    )
    .map_err(|e| {
        tracing::warn!(reason = %e, "signed install refused");
        AppError::Unauthorized("signed install refused")
    })?;
    Ok(claims)
}

/// The body of a verified signed call, which must name the token's issuer as its tenant.
fn signed_payload(
    state: &AppState,
    claims: &jwt::Claims,
    body: &[u8],
) -> Result<Payload, AppError> {
    let payload = payload(body, state)?;
    if claims.iss != payload.client_key {
        return Err(AppError::Unauthorized(
            "token issuer is not the body's clientKey",
        ));
    }
    Ok(payload)
}

#[tracing::instrument(skip_all)]
async fn installed(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, AppError> {
    let claims = verify_signed(&state, &headers, &method, &uri).await?;
    let claimed = signed_payload(&state, &claims, &body)?;
    let base_url = state
        .config
        .allowed_hosts
        .check(&claimed.base_url)
        .map_err(|e| AppError::BadRequest(e.to_string()))?;
    let secret = claimed
        .shared_secret
        .filter(|s| s.len() >= 16 && s.len() <= 512)
        .ok_or_else(|| AppError::BadRequest("sharedSecret missing or malformed".into()))?;
    let record = InstallRecord {
        sealed_secret: state
            .config
            .secret_key
            .seal(secret.as_bytes(), claimed.client_key.as_bytes()),
        client_key: claimed.client_key,
        base_url: base_url.as_str().trim_end_matches('/').to_owned(),
        display_url: claimed.display_url,
        oauth_client_id: claimed.oauth_client_id,
        token_iat: claims.iat,
    };
    let outcome = state.store.install_tenant(&record).await;
    if outcome.is_ok() {
        // A (re)installed site starts with no cached answers about its users' rights.
        state.permissions.forget_tenant(&record.client_key);
    }
    match outcome {
        Ok(Installed::New) => tracing::info!(tenant = %record.client_key, "installed"),
        Ok(Installed::Rotated) => {
            tracing::info!(tenant = %record.client_key, "reinstalled; shared secret rotated")
        }
        Err(StoreError::Conflict(_)) => {
            return Err(AppError::Conflict("an older install was replayed".into()));
        }
        Err(e) => return Err(e.into()),
    }
    Ok(StatusCode::NO_CONTENT)
}

#[tracing::instrument(skip_all)]
async fn uninstalled(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, AppError> {
    let claims = verify_signed(&state, &headers, &method, &uri).await?;
    let claimed = signed_payload(&state, &claims, &body)?;
    match state
        .store
        .uninstall_tenant(&claimed.client_key, claims.iat)
        .await
    {
        Ok(()) => {
            state.permissions.forget_tenant(&claimed.client_key);
            tracing::info!(tenant = %claimed.client_key, "uninstalled; tenant data deleted")
        }
        Err(StoreError::Conflict(_)) => {
            return Err(AppError::Conflict("an older uninstall was replayed".into()));
        }
        Err(e) => return Err(e.into()),
    }
    Ok(StatusCode::NO_CONTENT)
}

async fn set_enabled(
    state: &AppState,
    auth: &HostCallAuth,
    body: &[u8],
    enabled: bool,
) -> Result<StatusCode, AppError> {
    let claimed = payload(body, state)?;
    let tenant = &auth.0.tenant;
    if claimed.client_key != tenant.client_key {
        return Err(AppError::Unauthorized(
            "token issuer is not the body's clientKey",
        ));
    }
    state.store.set_enabled(&tenant.client_key, enabled).await?;
    let action = if enabled {
        "tenant.enabled"
    } else {
        "tenant.disabled"
    };
    state
        .store
        .audit(
            &tenant.client_key,
            "atlassian",
            action,
            serde_json::json!({}),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn enabled(
    State(state): State<AppState>,
    auth: HostCallAuth,
    body: Bytes,
) -> Result<StatusCode, AppError> {
    set_enabled(&state, &auth, &body, true).await
}

async fn disabled(
    State(state): State<AppState>,
    auth: HostCallAuth,
    body: Bytes,
) -> Result<StatusCode, AppError> {
    set_enabled(&state, &auth, &body, false).await
}
