//! A run's report: `GET /api/migrations/{id}/report` (JSON) and `/report.csv` (the failures).
//!
//! It says what the id map and the checkpoints say: counts per phase, every failure with its
//! reason (ADO id, Jira key, phase and sub-item kind, problem code, field), how the mapping
//! resolved people (by e-mail, by name, by hand, or the fallback user) and which accounts
//! preflight found gone, the hierarchy changes items were created with, issues deleted in
//! Jira since, and who started, paused, resumed or cancelled the run (from the audit log).
//! Ids and codes only, never ticket content.

use std::collections::BTreeMap;

use axum::{
    Json, Router,
    extract::{Path, State},
    http::header,
    response::IntoResponse,
    routing::get,
};
use serde_json::{Value, json};

use crate::{
    app::AppState,
    connect::{extract::ApiAuth, permissions::Right},
    error::{AppError, Result},
    mapping::model::{Mapping, UserMatch},
    store::Failure,
};

/// The report routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/migrations/{id}/report", get(report))
        .route("/api/migrations/{id}/report.csv", get(csv))
}

async fn admin(state: &AppState, auth: &ApiAuth) -> Result<()> {
    state
        .require(&auth.tenant, &auth.principal, Right::Admin)
        .await
}

#[tracing::instrument(skip_all, fields(tenant = %auth.tenant.client_key, run = %id))]
async fn report(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    admin(&state, &auth).await?;
    let ck = &auth.tenant.client_key;
    let progress = state.store.run_progress(ck, &id).await?;
    let run = &progress.run;
    let failures = state.store.run_failures(ck, &id).await?;
    let notes = state.store.run_notes(ck, &id).await?;
    let deleted = state.store.jira_deleted(ck, &id).await?;
    let audit = state.store.run_audit(ck, &id).await?;
    // Links waiting for an end not migrated yet (recorded by this run, healed by it).
    let ledger = state.store.ledger_counts(ck, &id).await?;
    let body = state
        .store
        .mapping_version(ck, &run.mapping_id, run.mapping_version)
        .await?;
    let mapping: Mapping = serde_json::from_str(&body)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("stored mapping: {e}")))?;

    let mut phases = super::run_events::view(&progress, &mut Default::default())["phases"].take();
    phases["create"]["states"] = json!(progress.items.iter().fold(
        BTreeMap::<&str, i64>::new(),
        |mut m, c| {
            *m.entry(c.state.as_str()).or_default() += c.items;
            m
        }
    ));
    let mut hierarchy: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
    for code in crate::engine::notes::HIERARCHY {
        hierarchy.insert(code.as_str(), Vec::new());
    }
    let mut author_fallback = Vec::new();
    for (ado, key, code) in &notes {
        let entry = json!({ "adoId": ado, "jiraKey": key });
        if code == crate::engine::authors::AUTHOR_FALLBACK {
            author_fallback.push(entry);
        } else {
            hierarchy.entry(code.as_str()).or_default().push(entry);
        }
    }
    // Accounts of the user map preflight found gone or inactive: the fallback user stood in.
    let gone = state
        .store
        .run_objects(run)
        .await?
        .iter()
        .filter(|o| o.kind == "account" && o.origin == "unresolved")
        .count();
    let users = users(&mapping, gone);
    let actions: Vec<Value> = audit
        .iter()
        .map(|a| json!({ "action": a.action, "actor": a.actor, "at": a.created_at }))
        .collect();
    Ok(Json(json!({
        "run": run,
        "phases": phases,
        "failures": failures,
        "users": users,
        "hierarchy": hierarchy,
        "comments": { "authorFallback": author_fallback },
        "deletedInJira": deleted,
        "linkLedger": ledger,
        "actions": actions,
    })))
}

/// How the mapping resolved people: counts per way, and how many preflight found gone.
fn users(mapping: &Mapping, gone: usize) -> Value {
    let count = |m: UserMatch| mapping.users.iter().filter(|u| u.matched_by == m).count();
    json!({
        "total": mapping.users.len(),
        "byEmail": count(UserMatch::Email),
        "byName": count(UserMatch::Name),
        "manual": count(UserMatch::Manual),
        "fallback": count(UserMatch::Unresolved),
        "goneInJira": gone,
        "fallbackUser": mapping.fallback_user.is_some(),
    })
}

/// The failures as CSV (RFC 4180: CRLF lines, a header row, quoted where needed).
#[tracing::instrument(skip_all, fields(tenant = %auth.tenant.client_key, run = %id))]
async fn csv(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
) -> Result<impl IntoResponse> {
    admin(&state, &auth).await?;
    let ck = &auth.tenant.client_key;
    state.store.run(ck, &id).await?;
    let failures = state.store.run_failures(ck, &id).await?;
    let body = failures_csv(&failures);
    let disposition = format!("attachment; filename=\"ferry-run-{id}-failures.csv\"");
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    ))
}

/// The CSV text of `failures`.
pub fn failures_csv(failures: &[Failure]) -> String {
    let mut out = String::from("ado_id,jira_key,phase,kind,ord,problem_code,field\r\n");
    for f in failures {
        let row = [
            f.ado_id.to_string(),
            f.jira_key.clone().unwrap_or_default(),
            f.phase.clone(),
            f.kind.clone().unwrap_or_default(),
            f.ord.map(|o| o.to_string()).unwrap_or_default(),
            f.code.clone().unwrap_or_default(),
            f.field.clone().unwrap_or_default(),
        ];
        let cells: Vec<String> = row.iter().map(|c| quote(c)).collect();
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}

/// RFC 4180 quoting: a cell with a comma, quote, CR or LF is quoted, its quotes doubled.
fn quote(cell: &str) -> String {
    if cell.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", cell.replace('"', "\"\""))
    } else {
        cell.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_quoted_as_rfc_4180_says() {
        assert_eq!(quote("plain"), "plain");
        assert_eq!(quote("a,b"), "\"a,b\"");
        assert_eq!(quote("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(quote("two\r\nlines"), "\"two\r\nlines\"");
        let f = Failure {
            ado_id: 7,
            jira_key: None,
            phase: "create".into(),
            kind: None,
            ord: None,
            code: Some("value_not_allowed".into()),
            field: Some("priority,x".into()),
        };
        assert_eq!(
            failures_csv(&[f]),
            "ado_id,jira_key,phase,kind,ord,problem_code,field\r\n7,,create,,,value_not_allowed,\"priority,x\"\r\n"
        );
    }
}
