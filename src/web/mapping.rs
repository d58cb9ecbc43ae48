//! Mapping and dry-run API: draft a mapping for a catalog and a Jira project, edit it (with the
//! version the admin saw), import and export it, approve it, dry-run it, and read the results
//! and one item's preview. Every call needs Jira admin rights; changes are audited.

use std::collections::HashMap;

use axum::{
    Json, Router,
    extract::{Path, Query, State},
    http::{StatusCode, header},
    response::IntoResponse,
    routing::{get, post},
};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{
    app::AppState,
    connect::{extract::ApiAuth, permissions::Right},
    dryrun::{context::tenant_jira, preview::preview},
    error::{AppError, Result},
    mapping::{
        draft::draft,
        model::{Mapping, UserMatch},
        problem::Code,
        source::{Source, SourcePerson},
        suggest::suggest,
        validate::validate,
    },
    store::MappingRow,
    target::jira::{TargetMeta, load::load_target, users::resolve_users},
};

/// The mapping and dry-run routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/catalogs/{id}/mappings", get(list).post(create))
        .route("/api/mappings/{id}", get(one).put(edit))
        .route("/api/mappings/{id}/export", get(export))
        .route("/api/mappings/{id}/approve", post(approve))
        .route("/api/mappings/{id}/dry-runs", post(start_dry_run))
        .route("/api/mappings/{id}/preview/{ado_id}", get(item_preview))
        .route("/api/dry-runs/{id}", get(dry_run))
        .route("/api/dry-runs/{id}/problems/{code}", get(problem_items))
}

async fn admin(state: &AppState, auth: &ApiAuth) -> Result<()> {
    state
        .require(&auth.tenant, &auth.principal, Right::Admin)
        .await
}

fn upstream(what: &str, e: impl std::fmt::Display) -> AppError {
    tracing::warn!(error = %e, "{what}");
    AppError::Upstream(format!("{what}: {e}"))
}

fn view(row: &MappingRow) -> Result<Value> {
    let mapping: Value =
        serde_json::from_str(&row.body).map_err(|e| AppError::Internal(e.into()))?;
    let target: Value =
        serde_json::from_str(&row.target).map_err(|e| AppError::Internal(e.into()))?;
    Ok(
        json!({ "id": row.id, "catalogId": row.catalog_id, "projectKey": row.project_key, "version": row.version,
        "status": row.status, "approvedVersion": row.approved_version, "approvedBy": row.approved_by, "approvedAt": row.approved_at,
        "updatedBy": row.updated_by, "updatedAt": row.updated_at, "mapping": mapping, "target": target }),
    )
}

async fn list(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    admin(&state, &auth).await?;
    let rows = state
        .store
        .mappings_of(&auth.tenant.client_key, &id)
        .await?;
    Ok(Json(json!(rows)))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewMapping {
    project_key: String,
}

#[tracing::instrument(skip_all, fields(tenant = %auth.tenant.client_key))]
async fn create(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
    Json(body): Json<NewMapping>,
) -> Result<(StatusCode, Json<Value>)> {
    admin(&state, &auth).await?;
    let ck = &auth.tenant.client_key;
    let key = body.project_key.trim();
    if key.is_empty()
        || key.len() > 64
        || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err(AppError::BadRequest(
            "projectKey must be a Jira project key".into(),
        ));
    }
    let catalog = state.store.catalog(ck, &id).await?;
    let scanned = state
        .store
        .latest_scan(ck, &id)
        .await
        .ok()
        .is_some_and(|s| s.status == "completed");
    if !scanned {
        return Err(AppError::Conflict(
            "scan the project to the end before drafting a mapping".into(),
        ));
    }
    let client = tenant_jira(&state, ck)
        .await
        .map_err(|e| upstream("cannot reach Jira", e))?;
    let target = load_target(&client, key)
        .await
        .map_err(|e| upstream("cannot read the Jira project", format!("{e:#}")))?;
    let mut source =
        Source::from_structure(&serde_json::from_str(&catalog.structure).unwrap_or_default());
    for f in state.store.catalog_fields(ck, &id).await? {
        if let Some(sf) = source.fields.iter_mut().find(|s| s.reference == f.field) {
            sf.filled = f.filled;
        }
    }
    for v in state.store.catalog_values(ck, &id).await? {
        source
            .values
            .entry(v.field)
            .or_default()
            .push((v.value, v.items));
    }
    let identities = state.store.catalog_identities(ck, &id).await?;
    source.people = identities
        .iter()
        .map(|i| SourcePerson {
            key: i.identity_key.clone(),
            display_name: i.display_name.clone(),
            unique_name: i.unique_name.clone(),
        })
        .collect();
    let triples: Vec<(String, String, String)> = source
        .people
        .iter()
        .map(|p| (p.key.clone(), p.display_name.clone(), p.unique_name.clone()))
        .collect();
    let found = resolve_users(&client, &triples)
        .await
        .map_err(|e| upstream("cannot look up Jira users", format!("{e:#}")))?;
    let people: HashMap<String, (String, UserMatch)> = source
        .people
        .iter()
        .filter_map(|p| {
            let user = found.get(&p.key)?.as_ref()?;
            let by_email = user
                .email
                .as_deref()
                .is_some_and(|e| e.eq_ignore_ascii_case(&p.unique_name));
            Some((
                p.key.clone(),
                (
                    user.account_id.clone(),
                    if by_email {
                        UserMatch::Email
                    } else {
                        UserMatch::Name
                    },
                ),
            ))
        })
        .collect();
    let mut mapping = draft(&source, &target, &people);
    // The model only fills what the draft left open, and only with schema metadata; when it
    // fails, the deterministic draft is saved as it is and the response says why.
    let llm = match &state.llm {
        Some(client) => Some(suggest(client, &mut mapping, &source, &target).await),
        None => None,
    };
    let body = serde_json::to_string(&mapping).map_err(|e| AppError::Internal(e.into()))?;
    let snapshot = serde_json::to_string(&target).map_err(|e| AppError::Internal(e.into()))?;
    let actor = auth.principal.actor();
    let row = state
        .store
        .save_draft(ck, &id, key, &body, &snapshot, &actor)
        .await?;
    let mut response = view(&row)?;
    if let Some(report) = llm {
        let mut detail = json!({ "mappingId": row.id, "version": row.version });
        detail["llm"] = json!(report);
        state
            .store
            .audit(ck, &actor, "mapping.suggested", detail)
            .await?;
        response["llm"] = json!(report);
    }
    Ok((StatusCode::CREATED, Json(response)))
}

async fn one(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    admin(&state, &auth).await?;
    let row = state.store.mapping(&auth.tenant.client_key, &id).await?;
    let mut v = view(&row)?;
    v["latestDryRun"] = json!(
        state
            .store
            .latest_dry_run(&auth.tenant.client_key, &id)
            .await
            .ok()
    );
    Ok(Json(v))
}

#[derive(Deserialize)]
struct Edit {
    version: i64,
    mapping: Value,
}

/// Saves an edited or imported mapping, checked against the target snapshot first.
async fn edit(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
    Json(body): Json<Edit>,
) -> Result<Json<Value>> {
    admin(&state, &auth).await?;
    let ck = &auth.tenant.client_key;
    let row = state.store.mapping(ck, &id).await?;
    let mapping = Mapping::from_json(&body.mapping.to_string()).map_err(AppError::BadRequest)?;
    let target: TargetMeta =
        serde_json::from_str(&row.target).map_err(|e| AppError::Internal(e.into()))?;
    let errors = validate(&mapping, &target);
    if !errors.is_empty() {
        return Err(AppError::BadRequest(format!(
            "the mapping does not fit {}: {}",
            target.project.key,
            errors.join("; ")
        )));
    }
    if mapping.comments_as_author && auth.tenant.auth == "basic" {
        // Impersonation is a Connect grant signed with the app's shared secret; an API-token
        // (headless) site has neither, so the option would silently do nothing.
        return Err(AppError::BadRequest(
            "commentsAsAuthor needs Connect user impersonation, which a site connected with an \
             API token (ferry migrate) cannot do: leave it off"
                .into(),
        ));
    }
    let was = Mapping::from_json(&row.body)
        .map(|m| m.comments_as_author)
        .unwrap_or(false);
    let text = serde_json::to_string(&mapping).map_err(|e| AppError::Internal(e.into()))?;
    let actor = auth.principal.actor();
    let row = state
        .store
        .edit_mapping(ck, &id, body.version, &text, &actor)
        .await?;
    if was != mapping.comments_as_author {
        state
            .store
            .audit(
                ck,
                &actor,
                "mapping.comments_as_author",
                json!({ "mappingId": id, "version": row.version, "on": mapping.comments_as_author }),
            )
            .await?;
    }
    Ok(Json(view(&row)?))
}

async fn export(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
) -> Result<impl IntoResponse> {
    admin(&state, &auth).await?;
    let row = state.store.mapping(&auth.tenant.client_key, &id).await?;
    let name = format!(
        "attachment; filename=\"ferry-mapping-{}-v{}.json\"",
        row.project_key, row.version
    );
    Ok((
        [
            (header::CONTENT_TYPE, "application/json".to_owned()),
            (header::CONTENT_DISPOSITION, name),
        ],
        row.body,
    ))
}

#[derive(Deserialize)]
struct Seen {
    version: i64,
}

async fn approve(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
    Json(body): Json<Seen>,
) -> Result<Json<Value>> {
    admin(&state, &auth).await?;
    let row = state
        .store
        .approve_mapping(
            &auth.tenant.client_key,
            &id,
            body.version,
            &auth.principal.actor(),
        )
        .await?;
    Ok(Json(view(&row)?))
}

async fn start_dry_run(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Value>)> {
    admin(&state, &auth).await?;
    let ck = &auth.tenant.client_key;
    let row = state.store.mapping(ck, &id).await?;
    let run = state
        .store
        .queue_dry_run(ck, &id, row.version, &auth.principal.actor())
        .await?;
    state.dry_run_wakeup.notify_waiters();
    Ok((StatusCode::ACCEPTED, Json(json!(run))))
}

async fn dry_run(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    admin(&state, &auth).await?;
    let ck = &auth.tenant.client_key;
    let run = state.store.dry_run(ck, &id).await?;
    let outcomes = state.store.dry_run_outcomes(ck, &id).await?;
    let sum = |o: &str| {
        outcomes
            .iter()
            .filter(|c| c.outcome == o)
            .map(|c| c.items)
            .sum::<i64>()
    };
    let problems: Vec<Value> = state
        .store
        .dry_run_problem_counts(ck, &id)
        .await?
        .into_iter()
        .map(|p| {
            let explain = CODES
                .iter()
                .find(|c| c.as_str() == p.code)
                .map_or("", |c| c.explain());
            json!({ "code": p.code, "severity": p.severity, "items": p.items, "explain": explain })
        })
        .collect();
    Ok(Json(json!({
        "dryRun": run, "outcomes": outcomes, "problems": problems,
        "totals": { "create": sum("create"), "skip": sum("skip"), "fail": sum("fail"),
                    "warned": outcomes.iter().map(|c| c.warned).sum::<i64>() },
    })))
}

/// Every code, for explanations.
const CODES: [Code; 22] = [
    Code::TypeExcluded,
    Code::TypeNotMapped,
    Code::StateNotMapped,
    Code::NoTransitionPath,
    Code::MissingRequired,
    Code::ValueNotAllowed,
    Code::ValueKeptInDescription,
    Code::UnmappedUser,
    Code::ClosedSprint,
    Code::TooManyComments,
    Code::TooManyAttachments,
    Code::TooManyLinks,
    Code::AttachmentTooLarge,
    Code::AttachmentsDisabled,
    Code::TextSplit,
    Code::SummaryShortened,
    Code::ParentOutside,
    Code::ParentLevel,
    Code::TypeFallback,
    Code::ParentFails,
    Code::AlreadyInJira,
    Code::BadValue,
];

#[derive(Deserialize)]
struct Page {
    after: Option<i64>,
    limit: Option<i64>,
}

async fn problem_items(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path((id, code)): Path<(String, String)>,
    Query(page): Query<Page>,
) -> Result<Json<Value>> {
    admin(&state, &auth).await?;
    let ck = &auth.tenant.client_key;
    state.store.dry_run(ck, &id).await?;
    let limit = page.limit.unwrap_or(100).clamp(1, 1000);
    let items = state
        .store
        .dry_run_problem_items(ck, &id, &code, page.after.unwrap_or(0), limit)
        .await?;
    let next = (items.len() as i64 == limit)
        .then(|| items.last().map(|i| i.ado_id))
        .flatten();
    Ok(Json(
        json!({ "code": code, "items": items, "nextAfter": next }),
    ))
}

async fn item_preview(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path((id, ado_id)): Path<(String, i64)>,
) -> Result<Json<Value>> {
    admin(&state, &auth).await?;
    let ck = &auth.tenant.client_key;
    state.store.mapping(ck, &id).await?;
    match preview(&state, ck, &id, ado_id).await {
        Ok(Some(v)) => Ok(Json(v)),
        Ok(None) => Err(AppError::NotFound),
        Err(e) => Err(upstream("cannot preview the item", format!("{e:#}"))),
    }
}
