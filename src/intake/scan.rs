//! The catalog scan: a background job that walks a project page by page and keeps only
//! metadata. Claimed by lease, checkpointed per batch of 200, resumable after a crash, and
//! bounded in memory (one page of ids and one batch of items at a time).

use std::time::Duration;

use anyhow::Context;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::{connect::stored_client, summarize::summarize};
use crate::{
    app::AppState,
    source::ado::{
        AdoClient, Area, Scope,
        extract::{BATCH, enc},
        models::{ClassificationNode, ListOf, WorkItemField, WorkItemType},
    },
    store::{Scan, StoreError},
};

/// How long a claimed scan is ours without a renewal.
pub const LEASE_MS: i64 = 30_000;
/// How often an idle worker looks for queued scans (it is also woken on new ones).
const IDLE_POLL: Duration = Duration::from_secs(2);

/// Runs scans until `shutdown`; wakes on `state.scan_wakeup` or every few seconds.
pub async fn worker(state: AppState, owner: String, shutdown: CancellationToken) {
    loop {
        match state.store.claim_scan(&owner, LEASE_MS).await {
            Ok(Some(scan)) => {
                let id = scan.id.clone();
                if let Err(e) = run(&state, scan, &shutdown).await {
                    tracing::error!(scan = %id, error = %format!("{e:#}"), "scan stopped");
                }
                continue;
            }
            Ok(None) => {}
            Err(e) => tracing::error!(error = %e, "claiming a scan failed"),
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = state.scan_wakeup.notified() => {}
            () = tokio::time::sleep(IDLE_POLL) => {}
        }
    }
}

/// Scans one claimed scan to the end, or until the lease is lost or shutdown.
#[tracing::instrument(skip_all, fields(tenant = %scan.client_key, scan = %scan.id))]
pub async fn run(state: &AppState, scan: Scan, shutdown: &CancellationToken) -> anyhow::Result<()> {
    let catalog = state
        .store
        .catalog(&scan.client_key, &scan.catalog_id)
        .await?;
    let scope: Scope = serde_json::from_str(&catalog.scope).unwrap_or_default();
    let client = match stored_client(state, &scan.client_key, &catalog.connection_id).await {
        Ok(c) => c,
        Err(e) => return fail(state, &scan, &e.to_string()).await,
    };
    let outcome = walk(state, &scan, &client, &catalog.project, &scope, shutdown).await;
    match outcome {
        Ok(true) => state
            .store
            .complete_scan(&scan)
            .await
            .context("completing the scan")?,
        Ok(false) => tracing::info!("scan interrupted; it resumes from its checkpoint"),
        Err(e) if is_lease_lost(&e) => tracing::warn!("scan lease lost; another worker continues"),
        Err(e) => return fail(state, &scan, &format!("{e:#}")).await,
    }
    Ok(())
}

fn is_lease_lost(e: &anyhow::Error) -> bool {
    matches!(
        e.downcast_ref::<StoreError>(),
        Some(StoreError::Conflict(_))
    )
}

async fn fail(state: &AppState, scan: &Scan, why: &str) -> anyhow::Result<()> {
    tracing::warn!(reason = %why, "scan failed");
    state
        .store
        .fail_scan(scan, why)
        .await
        .context("recording the failure")?;
    Ok(())
}

/// Returns `Ok(true)` when the whole scope was catalogued, `Ok(false)` on shutdown.
async fn walk(
    state: &AppState,
    scan: &Scan,
    client: &AdoClient,
    project: &str,
    scope: &Scope,
    shutdown: &CancellationToken,
) -> anyhow::Result<bool> {
    let structure = structure(client, project).await?;
    let enumerated = enumerated(&structure);
    let total = count(state, scan, client, project, scope).await?;
    state
        .store
        .begin_scan(scan, total, &structure.to_string())
        .await?;
    let mut after = scan.last_id;
    loop {
        let ids = client
            .ids_after(project, scope, after)
            .await
            .context("listing work items")?;
        let Some(&last) = ids.last() else {
            return Ok(true);
        };
        for chunk in ids.chunks(BATCH) {
            if shutdown.is_cancelled() {
                return Ok(false);
            }
            let items = client
                .work_items(project, chunk)
                .await
                .context("reading work items")?;
            let mut batch = summarize(&items, &enumerated);
            batch.last_id = *chunk.last().unwrap_or(&last);
            state.store.write_scan_batch(scan, &batch, LEASE_MS).await?;
        }
        after = last;
    }
}

/// Items in scope: a pass over ids only (10,000 per call), so progress has a denominator.
/// No batch is written during it, so the lease is renewed after each page: a throttled ADO
/// can make this pass longer than one lease.
async fn count(
    state: &AppState,
    scan: &Scan,
    client: &AdoClient,
    project: &str,
    scope: &Scope,
) -> anyhow::Result<i64> {
    let (mut after, mut total) = (0, 0i64);
    loop {
        let ids = client
            .ids_after(project, scope, after)
            .await
            .context("counting work items")?;
        let Some(&last) = ids.last() else {
            return Ok(total);
        };
        total += ids.len() as i64;
        after = last;
        state.store.renew_scan_lease(scan, LEASE_MS).await?;
    }
}

/// Types with states, fields, and the area and iteration trees: project metadata, no content.
async fn structure(client: &AdoClient, project: &str) -> anyhow::Result<Value> {
    let p = enc(project);
    let types: ListOf<WorkItemType> = client
        .get_json(&format!("{p}/_apis/wit/workitemtypes"), Area::General)
        .await
        .context("reading work item types")?;
    let fields: ListOf<WorkItemField> = client
        .get_json(&format!("{p}/_apis/wit/fields"), Area::General)
        .await
        .context("reading fields")?;
    let areas: ClassificationNode = client
        .get_json(
            &format!("{p}/_apis/wit/classificationnodes/Areas?$depth=20"),
            Area::General,
        )
        .await
        .context("reading areas")?;
    let iterations: ClassificationNode = client
        .get_json(
            &format!("{p}/_apis/wit/classificationnodes/Iterations?$depth=20"),
            Area::General,
        )
        .await
        .context("reading iterations")?;
    Ok(json!({
        "types": types.value.iter().map(|t| json!({ "name": t.name, "referenceName": t.reference_name,
            "states": t.states.iter().map(|s| json!({ "name": s.name, "category": s.category })).collect::<Vec<_>>() })).collect::<Vec<_>>(),
        "fields": fields.value.iter().map(|f| json!({ "referenceName": f.reference_name, "name": f.name, "type": f.field_type })).collect::<Vec<_>>(),
        "areas": tree(&areas),
        "iterations": tree(&iterations),
    }))
}

/// Fields whose values the catalog records: picklists, and the standard enumerated fields.
fn enumerated(structure: &Value) -> std::collections::HashSet<String> {
    let mut names: std::collections::HashSet<String> = super::summarize::ENUMERATED
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    for f in structure["fields"].as_array().into_iter().flatten() {
        if f["type"]
            .as_str()
            .is_some_and(|t| t.starts_with("picklist"))
        {
            if let Some(r) = f["referenceName"].as_str() {
                names.insert(r.to_owned());
            }
        }
    }
    names
}

fn tree(node: &ClassificationNode) -> Value {
    json!({
        "name": node.name, "path": node.path,
        "startDate": node.attributes.get("startDate"), "finishDate": node.attributes.get("finishDate"),
        "children": node.children.iter().map(tree).collect::<Vec<_>>(),
    })
}
