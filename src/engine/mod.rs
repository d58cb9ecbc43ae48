//! The run engine: workers claim runs by lease, run their phases from the checkpoint, and stop
//! at the next checkpoint when asked to pause or cancel. The phases: preflight (seeding the id
//! map with create waves), create (bulk create in hierarchy waves, with write-ahead intents and
//! reconciliation) and followup (phases 3–7 per created item, each sub-item checkpointed).

pub(crate) mod authors;
pub mod budget;
mod comments;
mod create;
mod files;
mod followup;
mod hierarchy;
mod links;
pub(crate) mod notes;
pub mod notify;
mod pace;
mod preflight;
mod sprints;
mod transitions;
mod window;

use std::time::Duration;

use anyhow::Context as _;
use tokio_util::sync::CancellationToken;

use crate::{
    app::AppState,
    dryrun::{DryContext, load_context},
    store::{Run, StoreError},
};

/// How often an idle worker looks for queued runs (it is also woken on new ones).
const IDLE_POLL: Duration = Duration::from_secs(2);

/// How a turn of a run ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Stop {
    /// Every phase is done.
    Done,
    /// Asked to pause.
    Paused,
    /// Asked to cancel.
    Cancelled,
    /// This process is shutting down; the run resumes elsewhere after its lease expires.
    Shutdown,
}

/// Runs runs until `shutdown`; wakes on `state.run_wakeup` or every few seconds.
pub async fn worker(state: AppState, owner: String, shutdown: CancellationToken) {
    loop {
        match state.store.claim_run(&owner, lease_ms(&state)).await {
            Ok(Some(run)) => {
                notify::run_changed(&state, &run.client_key, &run.id, "running");
                let id = run.id.clone();
                if let Err(e) = run_one(&state, run, &shutdown).await {
                    tracing::error!(run = %id, error = %format!("{e:#}"), "run stopped");
                }
                continue;
            }
            Ok(None) => {}
            Err(e) => tracing::error!(error = %e, "claiming a run failed"),
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = state.run_wakeup.notified() => {}
            () = tokio::time::sleep(IDLE_POLL) => {}
        }
    }
}

/// Drives one claimed run until it ends, pauses, is cancelled, loses its lease or shutdown.
#[tracing::instrument(skip_all, fields(tenant = %run.client_key, run = %run.id))]
pub async fn run_one(
    state: &AppState,
    run: Run,
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
    // The lease is renewed in the background too, so a long batch (a slow upload, a
    // reconciliation's pauses) does not let it lapse; losing it stops the drive at once.
    let outcome = tokio::select! {
        r = drive(state, &run, &ctx, shutdown) => r,
        e = keep_lease(state, &run) => Err(e),
    };
    if let Err(e) = state.budget.flush().await {
        tracing::warn!(error = %e, "reporting the points spent failed");
    }
    match outcome {
        Ok(Stop::Done) => finish(state, &run, "completed", None)
            .await
            .context("completing the run")?,
        Ok(Stop::Paused) => finish(state, &run, "paused", None)
            .await
            .context("pausing the run")?,
        Ok(Stop::Cancelled) => finish(state, &run, "cancelled", None)
            .await
            .context("cancelling the run")?,
        Ok(Stop::Shutdown) => tracing::info!("run interrupted; it resumes from its checkpoint"),
        Err(e)
            if matches!(
                e.downcast_ref::<StoreError>(),
                Some(StoreError::Conflict(_))
            ) =>
        {
            tracing::warn!("run lease lost; another worker continues");
        }
        Err(e) if e.downcast_ref::<Permanent>().is_none() => {
            // Anything else may pass (a 429 storm outlasting the client's retries, an outage,
            // a network failure): the run goes back to the queue and resumes from its
            // checkpoints, unless too many turns in a row ended so without progress.
            let why = format!("{e:#}");
            match state
                .store
                .requeue_run(&run, &why, MAX_TURNS_WITHOUT_PROGRESS)
                .await?
            {
                Some(turns) => {
                    tracing::warn!(reason = %why, turns, "run turn ended on an error; it resumes from its checkpoint");
                    tokio::time::sleep(Duration::from_secs(1 << turns.clamp(0, 5))).await;
                }
                None => return fail(state, &run, &why).await,
            }
        }
        Err(e) => return fail(state, &run, &format!("{e:#}")).await,
    }
    Ok(())
}

/// A run error that trying again cannot mend (a mapping that no longer fits the site): the run
/// fails at once instead of going back to the queue.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Permanent(pub String);

/// Turns in a row that may end on an error without any progress before the run fails.
const MAX_TURNS_WITHOUT_PROGRESS: i64 = 5;

async fn fail(state: &AppState, run: &Run, why: &str) -> anyhow::Result<()> {
    tracing::warn!(reason = %why, "run failed");
    finish(state, run, "failed", Some(why))
        .await
        .context("recording the failure")?;
    Ok(())
}

/// Ends the run's turn with `status` and posts the change to the tenant's webhook.
async fn finish(
    state: &AppState,
    run: &Run,
    status: &str,
    error: Option<&str>,
) -> anyhow::Result<()> {
    state.store.finish_run(run, status, error).await?;
    notify::run_changed(state, &run.client_key, &run.id, status);
    Ok(())
}

/// The phases, each resuming from the id map.
async fn drive(
    state: &AppState,
    run: &Run,
    ctx: &DryContext,
    shutdown: &CancellationToken,
) -> anyhow::Result<Stop> {
    if let Some(stop) = checkpoint(state, run, shutdown).await? {
        return Ok(stop);
    }
    if run.phase == "preflight" {
        preflight::phase(state, run, ctx).await?;
        state.store.seed_run(run, &waves(ctx)).await?;
    }
    // Accounts preflight found gone are unresolved on every turn: the fallback user stands in.
    let adjusted = preflight::user_map(state, run, ctx).await?;
    let ctx = adjusted.as_ref().unwrap_or(ctx);
    if run.phase != "followup" && run.phase != "sprints" {
        match create::phase(state, run, ctx, shutdown).await? {
            Stop::Done => state.store.set_phase(run, "followup").await?,
            stop => return Ok(stop),
        }
    }
    if run.phase != "sprints" {
        match followup::phase(state, run, ctx, shutdown).await? {
            Stop::Done => state.store.set_phase(run, "sprints").await?,
            stop => return Ok(stop),
        }
    }
    sprints::phase(state, run, ctx, shutdown).await
}

/// The checkpoint between batches: renews the lease and acts on pause, cancel and shutdown.
pub(crate) async fn checkpoint(
    state: &AppState,
    run: &Run,
    shutdown: &CancellationToken,
) -> anyhow::Result<Option<Stop>> {
    let control = state.store.heartbeat_run(run, lease_ms(state)).await?;
    Ok(match control.as_deref() {
        Some("cancel") => Some(Stop::Cancelled),
        Some("pause") => Some(Stop::Paused),
        _ if shutdown.is_cancelled() => Some(Stop::Shutdown),
        _ => None,
    })
}

/// Renews the run's lease every third of its length; returns only when it was lost.
async fn keep_lease(state: &AppState, run: &Run) -> anyhow::Error {
    loop {
        tokio::time::sleep(state.config.run_lease / 3).await;
        match state.store.heartbeat_run(run, lease_ms(state)).await {
            Err(e @ StoreError::Conflict(_)) => return e.into(),
            Err(e) => tracing::warn!(error = %e, "renewing the run lease failed; retrying"),
            Ok(_) => {}
        }
    }
}

fn lease_ms(state: &AppState) -> i64 {
    i64::try_from(state.config.run_lease.as_millis()).unwrap_or(i64::MAX)
}

/// Each item's create wave: 0 for the top of the hierarchy, one more per level down, so a
/// parent is always created in an earlier wave than its children.
fn waves(ctx: &DryContext) -> Vec<(i64, i64)> {
    let level = |ado_type: &str| {
        ctx.mapping
            .type_rule(ado_type)
            .and_then(|r| r.jira_type.as_deref())
            .and_then(|id| ctx.target.issue_type(id))
            .map_or(0, |t| if t.subtask { -1 } else { t.hierarchy_level })
    };
    let top = ctx
        .target
        .issue_types
        .iter()
        .map(|t| t.hierarchy_level)
        .max()
        .unwrap_or(0);
    let mut out: Vec<(i64, i64)> = ctx
        .scope
        .iter()
        .map(|(id, ty)| (*id, i64::from(top - level(ty))))
        .collect();
    out.sort_unstable();
    out
}
