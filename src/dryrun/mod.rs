//! The dry run: every item in scope through the full transform against the target's current
//! metadata, with nothing written to Jira and nothing of the items kept. A background job,
//! claimed by lease and checkpointed per batch of 200 like a scan; the stored result per item
//! is its outcome and problem codes only.

pub mod context;
pub mod preview;

use std::{collections::HashSet, sync::Arc, time::Duration};

use anyhow::Context as _;
use futures_util::{StreamExt as _, future::BoxFuture};
use tokio_util::sync::CancellationToken;

pub use context::{DryContext, load_context};

use crate::{
    app::AppState,
    intake::connect::stored_client,
    mapping::{
        problem::{Code, Problem, Severity},
        transform::transform,
    },
    source::ado::{extract::BATCH, models::WorkItem},
    store::{DryItem, DryRun, ProblemRow, StoreError},
};

/// How long a claimed dry run is ours without a renewal.
pub const LEASE_MS: i64 = 30_000;
/// Batches read and transformed at once, ahead of the in-order writes.
const IN_FLIGHT: usize = 4;
/// How often an idle worker looks for queued dry runs (it is also woken on new ones).
const IDLE_POLL: Duration = Duration::from_secs(2);

/// Runs dry runs until `shutdown`; wakes on `state.dry_run_wakeup` or every few seconds.
pub async fn worker(state: AppState, owner: String, shutdown: CancellationToken) {
    loop {
        match state.store.claim_dry_run(&owner, LEASE_MS).await {
            Ok(Some(run)) => {
                let id = run.id.clone();
                if let Err(e) = run_one(&state, run, &shutdown).await {
                    tracing::error!(dry_run = %id, error = %format!("{e:#}"), "dry run stopped");
                }
                continue;
            }
            Ok(None) => {}
            Err(e) => tracing::error!(error = %e, "claiming a dry run failed"),
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = state.dry_run_wakeup.notified() => {}
            () = tokio::time::sleep(IDLE_POLL) => {}
        }
    }
}

/// Checks one claimed dry run to the end, or until the lease is lost or shutdown.
#[tracing::instrument(skip_all, fields(tenant = %run.client_key, dry_run = %run.id))]
pub async fn run_one(
    state: &AppState,
    run: DryRun,
    shutdown: &CancellationToken,
) -> anyhow::Result<()> {
    let ctx = match load_context(
        state,
        &run.client_key,
        &run.mapping_id,
        Some(run.mapping_version),
    )
    .await
    {
        Ok(c) => c,
        Err(e) => return fail(state, &run, &format!("{e:#}")).await,
    };
    let ctx = Arc::new(ctx);
    let outcome = walk(state, &run, &ctx, shutdown).await;
    match outcome {
        Ok(true) => state
            .store
            .complete_dry_run(&run, &ctx.catalog_id)
            .await
            .context("completing the dry run")?,
        Ok(false) => tracing::info!("dry run interrupted; it resumes from its checkpoint"),
        Err(e)
            if matches!(
                e.downcast_ref::<StoreError>(),
                Some(StoreError::Conflict(_))
            ) =>
        {
            tracing::warn!("dry run lease lost; another worker continues");
        }
        Err(e) => return fail(state, &run, &format!("{e:#}")).await,
    }
    Ok(())
}

async fn fail(state: &AppState, run: &DryRun, why: &str) -> anyhow::Result<()> {
    tracing::warn!(reason = %why, "dry run failed");
    state
        .store
        .finish_dry_run(run, Some(why))
        .await
        .context("recording the failure")?;
    Ok(())
}

/// A batch's rows and its last id (the checkpoint once it is written).
type Checked = (Vec<DryItem>, i64);

/// `Ok(true)` when every item was checked, `Ok(false)` on shutdown.
///
/// A pipeline: up to [`IN_FLIGHT`] batches are read from ADO and Jira at once and transformed
/// on the blocking pool (the transform is CPU work: HTML parsing and ADF building), while
/// their results are written strictly in order, so the checkpoint (`last_id`) only moves past
/// batches that are stored.
async fn walk(
    state: &AppState,
    run: &DryRun,
    ctx: &Arc<DryContext>,
    shutdown: &CancellationToken,
) -> anyhow::Result<bool> {
    let ado = stored_client(state, &run.client_key, &ctx.connection_id).await?;
    state
        .store
        .begin_dry_run(run, ctx.scope.len() as i64)
        .await?;
    let mut ids: Vec<i64> = ctx
        .scope
        .keys()
        .copied()
        .filter(|id| *id > run.last_id)
        .collect();
    ids.sort_unstable();
    let ado = &ado;
    // Boxed, owning their batch: a stream of unboxed borrowing futures trips the compiler's
    // higher-ranked checks when the worker is spawned.
    let batches: Vec<BoxFuture<'_, anyhow::Result<Checked>>> = ids
        .chunks(BATCH)
        .map(<[i64]>::to_vec)
        .map(|chunk| {
            Box::pin(async move {
                let (items, existing) = tokio::try_join!(
                    async {
                        ado.work_items(&ctx.project, &chunk)
                            .await
                            .context("reading work items")
                    },
                    async {
                        ctx.jira
                            .existing(&chunk)
                            .await
                            .context("looking for items already in Jira")
                    },
                )?;
                let shared = Arc::clone(ctx);
                let batch =
                    tokio::task::spawn_blocking(move || check_batch(&shared, &items, &existing))
                        .await
                        .context("transforming a batch")?;
                Ok((batch, *chunk.last().unwrap_or(&0)))
            }) as BoxFuture<'_, _>
        })
        .collect();
    let mut checked = futures_util::stream::iter(batches).buffered(IN_FLIGHT);
    while let Some(result) = checked.next().await {
        if shutdown.is_cancelled() {
            return Ok(false);
        }
        let (batch, last) = result?;
        state
            .store
            .write_dry_run_batch(run, &batch, last, LEASE_MS)
            .await?;
    }
    Ok(true)
}

/// Transforms a batch (no await inside: the resolver is not `Sync`).
pub fn check_batch(ctx: &DryContext, items: &[WorkItem], existing: &HashSet<i64>) -> Vec<DryItem> {
    let links = ctx.resolver();
    let tctx = ctx.transform_context(&links);
    items
        .iter()
        .map(|item| {
            let exists = existing.contains(&item.id);
            let mut plan = transform(item, &tctx);
            if exists {
                plan.problems = vec![Problem::new(Code::AlreadyInJira, Severity::Info)];
            }
            to_row(&plan, exists)
        })
        .collect()
}

/// The stored outcome of a planned item.
pub fn to_row(plan: &crate::mapping::transform::Planned, exists: bool) -> DryItem {
    let outcome = if exists || plan.excluded() {
        "skip"
    } else if plan.fails() {
        "fail"
    } else {
        "create"
    };
    DryItem {
        ado_id: plan.ado_id,
        item_type: plan.ado_type.clone(),
        jira_type: plan.jira_type.clone(),
        outcome,
        problems: plan
            .problems
            .iter()
            .map(|p| ProblemRow {
                code: p.code.as_str(),
                severity: p.severity.as_str(),
                field: p.field.clone(),
                detail: p.detail.clone(),
            })
            .collect(),
    }
}
