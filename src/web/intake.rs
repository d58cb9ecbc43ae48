//! Intake API: Azure DevOps connections, scans and catalogs. Every call needs Jira admin
//! rights; a failed verification stores nothing; the PAT is never returned.

use axum::{
    Json, Router,
    extract::{Path, State},
    http::StatusCode,
    routing::{get, post, put},
};
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{
    app::AppState,
    connect::{extract::ApiAuth, permissions::Right},
    error::{AppError, Result},
    intake::{
        connect::{client_for, pat_context, stored_client, verify},
        quote::quote,
    },
    source::ado::Scope,
    store::Connection,
};

/// The intake routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/connections", get(list).post(create))
        .route("/api/connections/{id}", axum::routing::delete(remove))
        .route("/api/connections/{id}/pat", put(replace_pat))
        .route("/api/connections/{id}/projects", get(projects))
        .route("/api/scans", post(start_scan))
        .route("/api/scans/{id}", get(scan))
        .route("/api/catalogs/{id}", get(catalog))
}

#[derive(Deserialize)]
struct NewConnection {
    url: String,
    pat: String,
}

fn pat(raw: &str) -> Result<SecretString> {
    let raw = raw.trim();
    if raw.is_empty() || raw.len() > 512 || raw.chars().any(char::is_control) {
        return Err(AppError::BadRequest(
            "the personal access token is empty or malformed".into(),
        ));
    }
    Ok(SecretString::from(raw.to_owned()))
}

async fn admin(state: &AppState, auth: &ApiAuth) -> Result<()> {
    state
        .require(&auth.tenant, &auth.principal, Right::Admin)
        .await
}

async fn list(State(state): State<AppState>, auth: ApiAuth) -> Result<Json<Vec<Connection>>> {
    admin(&state, &auth).await?;
    Ok(Json(
        state.store.connections(&auth.tenant.client_key).await?,
    ))
}

#[tracing::instrument(skip_all, fields(tenant = %auth.tenant.client_key))]
async fn create(
    State(state): State<AppState>,
    auth: ApiAuth,
    Json(body): Json<NewConnection>,
) -> Result<(StatusCode, Json<Connection>)> {
    admin(&state, &auth).await?;
    let pat = pat(&body.pat)?;
    let client = client_for(&state, &body.url, &pat).await?.interactive();
    verify(&client).await?;
    let id = uuid::Uuid::new_v4().to_string();
    let sealed = state.config.secret_key.seal(
        secrecy::ExposeSecret::expose_secret(&pat).as_bytes(),
        &pat_context(&auth.tenant.client_key, &id),
    );
    let row = state
        .store
        .create_connection(
            &auth.tenant.client_key,
            &id,
            client.base_url().as_str(),
            &sealed,
            &auth.principal.actor(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(row)))
}

#[derive(Deserialize)]
struct NewPat {
    pat: String,
}

async fn replace_pat(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
    Json(body): Json<NewPat>,
) -> Result<StatusCode> {
    admin(&state, &auth).await?;
    let connection = state.store.connection(&auth.tenant.client_key, &id).await?;
    let pat = pat(&body.pat)?;
    verify(
        &client_for(&state, &connection.org_url, &pat)
            .await?
            .interactive(),
    )
    .await?;
    let sealed = state.config.secret_key.seal(
        secrecy::ExposeSecret::expose_secret(&pat).as_bytes(),
        &pat_context(&auth.tenant.client_key, &id),
    );
    state
        .store
        .replace_connection_pat(
            &auth.tenant.client_key,
            &id,
            &sealed,
            &auth.principal.actor(),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn remove(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    admin(&state, &auth).await?;
    state
        .store
        .delete_connection(&auth.tenant.client_key, &id, &auth.principal.actor())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn projects(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    admin(&state, &auth).await?;
    let client = stored_client(&state, &auth.tenant.client_key, &id)
        .await?
        .interactive();
    let projects = verify(&client).await?;
    Ok(Json(json!(
        projects
            .iter()
            .map(|p| json!({ "id": p.id, "name": p.name }))
            .collect::<Vec<_>>()
    )))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewScan {
    connection_id: String,
    project: String,
    #[serde(default)]
    scope: Scope,
}

#[tracing::instrument(skip_all, fields(tenant = %auth.tenant.client_key))]
async fn start_scan(
    State(state): State<AppState>,
    auth: ApiAuth,
    Json(body): Json<NewScan>,
) -> Result<(StatusCode, Json<Value>)> {
    admin(&state, &auth).await?;
    let ck = &auth.tenant.client_key;
    state.store.connection(ck, &body.connection_id).await?;
    let project = body.project.trim();
    if project.is_empty() || project.len() > 256 {
        return Err(AppError::BadRequest("project must be named".into()));
    }
    if body
        .scope
        .wiql_where
        .as_deref()
        .is_some_and(|w| w.len() > 4000)
    {
        return Err(AppError::BadRequest(
            "the WIQL where-clause is longer than 4,000 characters".into(),
        ));
    }
    let scope = serde_json::to_string(&body.scope).map_err(|e| AppError::Internal(e.into()))?;
    let catalog = state
        .store
        .catalog_for(ck, &body.connection_id, project, &scope)
        .await?;
    let scan = state
        .store
        .queue_scan(ck, &catalog.id, &auth.principal.actor())
        .await?;
    state.scan_wakeup.notify_waiters();
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "scan": scan, "catalogId": catalog.id })),
    ))
}

async fn scan(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
) -> Result<Json<crate::store::Scan>> {
    admin(&state, &auth).await?;
    Ok(Json(state.store.scan(&auth.tenant.client_key, &id).await?))
}

async fn catalog(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    admin(&state, &auth).await?;
    let ck = &auth.tenant.client_key;
    let catalog = state.store.catalog(ck, &id).await?;
    let volumes = state.store.catalog_volumes(ck, &id).await?;
    let fields = state.store.catalog_fields(ck, &id).await?;
    let fill: Vec<Value> = fields
        .iter()
        .map(|f| json!({ "field": f.field, "filled": f.filled, "fillRate": if volumes.items > 0 { f.filled as f64 / volumes.items as f64 } else { 0.0 } }))
        .collect();
    Ok(Json(json!({
        "id": catalog.id, "connectionId": catalog.connection_id, "project": catalog.project,
        "scope": serde_json::from_str::<Value>(&catalog.scope).unwrap_or_default(),
        "structure": serde_json::from_str::<Value>(&catalog.structure).unwrap_or_default(),
        "latestScan": state.store.latest_scan(ck, &id).await.ok(),
        "counts": state.store.catalog_counts(ck, &id).await?,
        "volumes": volumes,
        "fields": fill,
        "identities": state.store.catalog_identities(ck, &id).await?,
        "quote": quote(&volumes, &state.config.pricing, state.config.points_per_hour),
    })))
}
