//! The follow-up phase's rolling window: created items stream from the id map, up to `width`
//! of them followed at once, and a new one starts as soon as any finishes, so one slow item
//! (a large attachment, many comments) holds only its own slot, never a whole batch.
//!
//! The id map is paged by a keyset cursor (items being followed are not marked yet), the next
//! page read from ADO and transformed while the window runs. Finished items are marked
//! `followed` in small groups: a crash between an item's end and its mark only makes the next
//! turn find every sub-item already checkpointed. Pause, cancel, shutdown and the lease are
//! checked between items (at most every `CHECK_EVERY`); once one asks to stop, no item starts,
//! the ones in flight finish, and their marks are written.

use std::{
    collections::{HashMap, VecDeque},
    time::{Duration, Instant},
};

use anyhow::Context as _;
use futures_util::{
    FutureExt as _, StreamExt as _,
    future::BoxFuture,
    stream::FuturesUnordered,
};
use tokio_util::sync::CancellationToken;

use super::{
    Stop, checkpoint,
    followup::{Job, follow},
};
use crate::{
    app::AppState,
    dryrun::DryContext,
    mapping::transform::{Planned, transform},
    source::ado::{client::AdoClient, models::WorkItem},
    store::{Run, RunItem, StepRow},
};

/// Items read from the id map and ADO at a time.
const PAGE: i64 = 50;
/// How often, at most, the window renews the lease and looks for pause or cancel.
const CHECK_EVERY: Duration = Duration::from_secs(1);
/// Finished items marked `followed` in one transaction, at most.
const MARK_GROUP: usize = 16;

/// An item ready to follow: its id-map row, the work item, its plan and its checkpoints.
struct Ready {
    row: RunItem,
    item: WorkItem,
    plan: Planned,
    steps: HashMap<(String, i64), StepRow>,
}

/// A page of the id map: the items ADO still has, ready; the ids it no longer has (followed
/// with nothing to do: their issue exists already); the cursor after it (`None`: the end).
struct Page {
    ready: Vec<Ready>,
    gone: Vec<i64>,
    last: Option<(i64, i64)>,
}

/// One pass of the window over the id map.
pub(crate) struct Window<'a> {
    /// The app.
    pub state: &'a AppState,
    /// The run.
    pub run: &'a Run,
    /// Mapping, target and Jira client.
    pub ctx: &'a DryContext,
    /// ADO.
    pub ado: &'a AdoClient,
    /// Items in flight at most.
    pub width: usize,
    /// The process's shutdown.
    pub shutdown: &'a CancellationToken,
}

impl<'a> Window<'a> {
    /// Follows every item not followed yet, in id-map order; `Some` when asked to stop. An
    /// item's error ends the pass (the items in flight are dropped: their sub-items are
    /// checkpointed) after the finished ones are marked.
    pub async fn pass(&self) -> anyhow::Result<Option<Stop>> {
        let mut cursor: Option<(i64, i64)> = None;
        let mut exhausted = false;
        let mut stop: Option<Stop> = None;
        let mut queue: VecDeque<Ready> = VecDeque::new();
        let mut reading: Option<BoxFuture<'_, anyhow::Result<Page>>> = None;
        let mut running: FuturesUnordered<BoxFuture<'a, anyhow::Result<i64>>> =
            FuturesUnordered::new();
        let mut finished: Vec<i64> = Vec::new();
        let mut checked = Instant::now();
        loop {
            if stop.is_none() && reading.is_none() && !exhausted && queue.len() < self.width {
                reading = Some(Box::pin(self.read(cursor)));
            }
            while stop.is_none() && running.len() < self.width {
                let Some(ready) = queue.pop_front() else {
                    break;
                };
                if self.shutdown.is_cancelled() || checked.elapsed() >= CHECK_EVERY {
                    checked = Instant::now();
                    stop = checkpoint(self.state, self.run, self.shutdown).await?;
                    if stop.is_some() {
                        queue.clear();
                        reading = None;
                        break;
                    }
                }
                running.push(self.follow(ready));
            }
            if running.is_empty() && reading.is_none() && queue.is_empty() {
                self.mark(&mut finished).await?;
                return Ok(stop);
            }
            let step: anyhow::Result<()> = tokio::select! {
                Some(first) = running.next(), if !running.is_empty() => {
                    // Every other item that is finished too, then one mark for them all.
                    let mut outcome = first.map(|id| finished.push(id));
                    while outcome.is_ok() {
                        match running.next().now_or_never() {
                            Some(Some(more)) => outcome = more.map(|id| finished.push(id)),
                            _ => break,
                        }
                    }
                    outcome
                }
                page = async { reading.as_mut().expect("guarded").await }, if reading.is_some() => {
                    reading = None;
                    page.map(|page| {
                        exhausted = page.last.is_none();
                        cursor = page.last.or(cursor);
                        finished.extend(page.gone);
                        queue.extend(page.ready);
                    })
                }
            };
            if let Err(e) = step {
                // The finished items stay finished; an error marking them is the lesser news.
                if let Err(mark) = self.mark(&mut finished).await {
                    tracing::warn!(error = %mark, "marking followed items failed");
                }
                return Err(e);
            }
            if finished.len() >= MARK_GROUP || running.is_empty() {
                self.mark(&mut finished).await?;
            }
        }
    }

    /// Marks `finished` followed (one fenced transaction) and empties it.
    async fn mark(&self, finished: &mut Vec<i64>) -> anyhow::Result<()> {
        if !finished.is_empty() {
            self.state.store.mark_followed(self.run, finished).await?;
            finished.clear();
        }
        Ok(())
    }

    /// Reads the page after `after`: the id map's rows, the work items, their plans and
    /// checkpoints.
    async fn read(&self, after: Option<(i64, i64)>) -> anyhow::Result<Page> {
        let rows = self
            .state
            .store
            .items_to_follow(self.run, after, PAGE)
            .await?;
        let Some(last) = rows.last().map(|r| (r.wave, r.ado_id)) else {
            return Ok(Page {
                ready: Vec::new(),
                gone: Vec::new(),
                last: None,
            });
        };
        let ids: Vec<i64> = rows.iter().map(|r| r.ado_id).collect();
        let items = self
            .ado
            .work_items(&self.ctx.project, &ids)
            .await
            .context("reading work items")?;
        let mut steps: HashMap<i64, HashMap<(String, i64), StepRow>> = HashMap::new();
        for s in self.state.store.run_steps(self.run, &ids).await? {
            steps
                .entry(s.ado_id)
                .or_default()
                .insert((s.kind.clone(), s.ord), s);
        }
        let mut items: HashMap<i64, WorkItem> = items.into_iter().map(|i| (i.id, i)).collect();
        let links = self.ctx.resolver();
        let tctx = self.ctx.transform_context(&links);
        let mut page = Page {
            ready: Vec::with_capacity(rows.len()),
            gone: Vec::new(),
            last: Some(last),
        };
        for row in rows {
            match items.remove(&row.ado_id) {
                Some(item) => page.ready.push(Ready {
                    plan: transform(&item, &tctx),
                    steps: steps.remove(&row.ado_id).unwrap_or_default(),
                    item,
                    row,
                }),
                None => page.gone.push(row.ado_id),
            }
        }
        Ok(page)
    }

    /// One item's phases 3–7, as a future that ends with its ADO id.
    // Boxed as `Send` futures: an unboxed set of borrowing futures trips the compiler's
    // higher-ranked `Send` check when the worker is spawned.
    fn follow(&self, ready: Ready) -> BoxFuture<'a, anyhow::Result<i64>> {
        let (state, run, ctx, ado) = (self.state, self.run, self.ctx, self.ado);
        Box::pin(async move {
            let Ready {
                row,
                item,
                plan,
                steps,
            } = ready;
            let job = Job {
                state,
                run,
                ctx,
                ado,
                item: &item,
                plan: &plan,
                jira_id: row.jira_id.as_deref().unwrap_or(""),
                jira_key: row.jira_key.as_deref().unwrap_or(""),
                steps,
                marks: std::sync::Mutex::default(),
            };
            follow(&job).await?;
            Ok(row.ado_id)
        })
    }
}
