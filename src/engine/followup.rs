//! Phases 3–7 for every created item: the parent that could not be set at creation, issue
//! links, the remote link back to ADO, attachments, comments and the transition to the mapped
//! status. Items stream from the id map through a rolling window (`window.rs`): up to
//! `items_in_flight` at once, a new one starting as soon as one finishes; each of an item's
//! sub-items is checkpointed in `run_steps`, and the item is marked `followed` when all are done.
//!
//! Within an item the steps run in order, with the transition last: a workflow may make issues
//! in its final status read-only, and everything else must be written before that.
//! Several items run at once; one item's writes are sequential, which keeps them inside Jira's
//! per-issue write windows (20 per 2 s, 100 per 30 s) in the common case.

use std::{collections::HashMap, sync::Mutex};

use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::{Stop, checkpoint, window::Window};
use crate::{
    app::AppState,
    dryrun::DryContext,
    intake::connect::stored_client,
    mapping::transform::Planned,
    source::ado::{client::AdoClient, models::WorkItem},
    store::{Run, StepKind, StepMark, StepRow},
    target::jira::JiraCallError,
};

/// Items followed at once by default when a governor admits every Jira call (Connect).
const GOVERNED_ITEMS: usize = 64;
/// Items followed at once by default for an API-token client: under Jira's 50 in flight.
const UNGOVERNED_ITEMS: usize = 40;

/// One item's phases 3–7: what was planned for it, where it is in Jira, and its checkpoints.
pub(crate) struct Job<'a> {
    /// The app.
    pub state: &'a AppState,
    /// The run.
    pub run: &'a Run,
    /// Mapping, target and Jira client.
    pub ctx: &'a DryContext,
    /// ADO, for comments and attachment bytes.
    pub ado: &'a AdoClient,
    /// The work item as ADO has it now.
    pub item: &'a WorkItem,
    /// Its plan (the same transform that created it).
    pub plan: &'a Planned,
    /// The Jira issue id.
    pub jira_id: &'a str,
    /// The Jira issue key.
    pub jira_key: &'a str,
    /// Its sub-item checkpoints so far, by (kind, ord).
    pub steps: HashMap<(String, i64), StepRow>,
    /// The issue was in Jira before this run sent it (an earlier run made it): its sub-items
    /// may be there already with no checkpoint in this run, so steps look before writing.
    pub found: bool,
    /// Checkpoints recorded but not written yet (see [`Job::done`]).
    pub marks: Mutex<Vec<Mark>>,
}

/// A sub-item checkpoint waiting to be written.
pub(crate) struct Mark {
    kind: StepKind,
    ord: i64,
    state: &'static str,
    jira_ref: Option<String>,
    code: Option<String>,
}

impl Job<'_> {
    /// The checkpoint of one sub-item, if any.
    pub fn step(&self, kind: StepKind, ord: i64) -> Option<&StepRow> {
        self.steps.get(&(kind.as_str().to_owned(), ord))
    }

    /// True when the sub-item is finished (done, or failed for good).
    pub fn finished(&self, kind: StepKind, ord: i64) -> bool {
        self.step(kind, ord).is_some_and(|s| s.state != "sent")
    }

    /// True when the sub-item's write went out before and its outcome is unknown: check what
    /// the issue has before writing it again.
    pub fn in_doubt(&self, kind: StepKind, ord: i64) -> bool {
        self.step(kind, ord).is_some_and(|s| s.state == "sent")
    }

    /// Records the intent to write a sub-item (before the call). Durable before it returns,
    /// together with the outcomes recorded since the last intent.
    pub async fn sent(&self, kind: StepKind, ord: i64) -> anyhow::Result<()> {
        self.defer(kind, ord, "sent", None, None);
        self.flush().await
    }

    /// Records a sub-item written (or found already written) as `jira_ref`. Written with the
    /// item's next intent or at its end ([`Job::flush`]): lost in a crash, the sub-item is
    /// `sent` (checked against the issue before any write) or absent (checked or written
    /// afresh), never written twice.
    pub async fn done(
        &self,
        kind: StepKind,
        ord: i64,
        jira_ref: Option<&str>,
    ) -> anyhow::Result<()> {
        self.defer(kind, ord, "done", jira_ref, None);
        Ok(())
    }

    /// Records a sub-item Jira refused for good, with a problem code (deferred like `done`).
    pub async fn failed(&self, kind: StepKind, ord: i64, code: &str) -> anyhow::Result<()> {
        tracing::warn!(
            item = self.plan.ado_id,
            kind = kind.as_str(),
            ord,
            code,
            "sub-item failed"
        );
        self.defer(kind, ord, "failed", None, Some(code));
        Ok(())
    }

    fn defer(
        &self,
        kind: StepKind,
        ord: i64,
        state: &'static str,
        jira_ref: Option<&str>,
        code: Option<&str>,
    ) {
        self.marks.lock().expect("not poisoned").push(Mark {
            kind,
            ord,
            state,
            jira_ref: jira_ref.map(str::to_owned),
            code: code.map(str::to_owned),
        });
    }

    /// Writes the checkpoints recorded so far in one transaction.
    pub async fn flush(&self) -> anyhow::Result<()> {
        let marks = std::mem::take(&mut *self.marks.lock().expect("not poisoned"));
        let rows: Vec<(StepKind, i64, StepMark<'_>)> = marks
            .iter()
            .map(|m| {
                let mark = StepMark {
                    state: m.state,
                    jira_ref: m.jira_ref.as_deref(),
                    error_code: m.code.as_deref(),
                };
                (m.kind, m.ord, mark)
            })
            .collect();
        self.state
            .store
            .mark_steps(self.run, self.plan.ado_id, &rows)
            .await?;
        Ok(())
    }

    /// The ADO item's web address.
    pub fn ado_url(&self) -> String {
        format!(
            "{}/_workitems/edit/{}",
            self.ctx.project_url.trim_end_matches('/'),
            self.plan.ado_id
        )
    }
}

/// Follows every created item; `Stop::Done` when none is left.
pub async fn phase(
    state: &AppState,
    run: &Run,
    ctx: &DryContext,
    shutdown: &CancellationToken,
) -> anyhow::Result<Stop> {
    let ado = stored_client(state, &run.client_key, &ctx.connection_id).await?;
    let width = items_in_flight(state, ctx);
    loop {
        if let Some(stop) = checkpoint(state, run, shutdown).await? {
            return Ok(stop);
        }
        if state.store.items_to_follow(run, None, 1).await?.is_empty() {
            return Ok(Stop::Done);
        }
        let window = Window {
            state,
            run,
            ctx,
            ado: &ado,
            width,
            shutdown,
        };
        if let Some(stop) = window.pass().await? {
            return Ok(stop);
        }
    }
}

/// Items followed at once: `FERRY_RUN_ITEMS_IN_FLIGHT` when set; else many for a governed
/// (Connect) client, whose points budget bounds the calls per endpoint class whatever waits
/// in it, and for an API-token client, which nothing governs, fewer than Jira's 50 requests
/// in flight per user (each item has at most one Jira call out, plus the create phase's and
/// other runs' of the same user).
pub(crate) fn items_in_flight(state: &AppState, ctx: &DryContext) -> usize {
    state
        .config
        .run_items_in_flight
        .unwrap_or(if ctx.jira.client.governed() {
            GOVERNED_ITEMS
        } else {
            UNGOVERNED_ITEMS
        })
}

/// One item's sub-items, in order; the transition last; then its deferred checkpoints are
/// written (also after an error, so what was done is not checked again).
pub(crate) async fn follow(job: &Job<'_>) -> anyhow::Result<()> {
    let outcome = steps(job).await;
    let flushed = job.flush().await;
    outcome.and(flushed)
}

async fn steps(job: &Job<'_>) -> anyhow::Result<()> {
    let ends = super::hierarchy::Ends::of(job).await?;
    super::hierarchy::parent(job, &ends).await?;
    super::links::links(job, &ends).await?;
    remote_link(job).await?;
    super::files::files(job).await?;
    let mut pace = super::pace::Pacer::default();
    super::comments::comments(job, &mut pace).await?;
    super::transitions::transition(job, &mut pace).await?;
    Ok(())
}

/// The remote link back to the ADO item. Jira upserts remote links by `globalId`, so writing
/// it again after an unknown outcome cannot make a second one.
async fn remote_link(job: &Job<'_>) -> anyhow::Result<()> {
    if job.finished(StepKind::Remote, 0) {
        return Ok(());
    }
    let url = job.ado_url();
    let body = json!({
        "globalId": format!("ferry:ado:{url}"),
        "application": { "type": "com.microsoft.azure.devops", "name": "Azure DevOps" },
        "relationship": "migrated from",
        "object": { "url": url, "title": format!("ADO #{}", job.plan.ado_id) },
    });
    let path = format!("/rest/api/3/issue/{}/remotelink", job.jira_key);
    match job
        .ctx
        .jira
        .client
        .post_json_idempotent::<_, Value>(&path, &body)
        .await
    {
        Ok(answer) => {
            let id = answer["id"].as_i64().map(|i| i.to_string());
            job.done(StepKind::Remote, 0, id.as_deref()).await
        }
        Err(e) if refused(&e) => job.failed(StepKind::Remote, 0, "remote_link_refused").await,
        Err(e) => Err(anyhow::anyhow!("remote link of {}: {e}", job.jira_key)),
    }
}

/// True when Jira refused a call for good (a 4xx other than 429): retrying cannot help, so the
/// sub-item is recorded as failed and the run goes on. Anything else stops the run's turn, and
/// the sub-item is tried again when it resumes.
pub(crate) fn refused(e: &JiraCallError) -> bool {
    matches!(e, JiraCallError::Http { status, .. } if (400..500).contains(status) && *status != 429)
}
