//! The follow-up phase's rolling window: created items stream from the id map, up to `width`
//! of them followed at once, and a new one starts as soon as any finishes, so one slow item
//! (a large attachment, many comments) holds only its own slot, never a whole batch.
//!
//! The id map is paged by a keyset cursor (items being followed are not marked yet), the next
//! page read from ADO and transformed while the window runs. Each item is marked `followed` as
//! it finishes. Pause, cancel, shutdown and the lease are checked between items (at most every
//! `CHECK_EVERY`); once one asks to stop, no item starts and the ones in flight finish.
//!
//! Every store write of the window runs inside a future the window polls (an item's, the page
//! read's, the check's), never awaited beside them: SQLite's write lock is held across a
//! transaction's awaits, so a write awaited outside would wait on an item it stops polling.

use std::{
    collections::{HashMap, HashSet, VecDeque},
    time::{Duration, Instant},
};

use anyhow::Context as _;
use futures_util::{StreamExt as _, future::BoxFuture, stream::FuturesUnordered};
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
/// Items with more comments than Jira's shortest per-issue write window holds (20 per 2 s)
/// are followed first, most first: their comments are paced, so their time does not shrink
/// with the window's width, and one started last would be the whole run's tail.
const HEAVY_COMMENTS: i64 = 21;
/// Heavy items put first at most (the rest come in id-map order).
const HEAVY_FIRST: i64 = 1_000;

/// An item ready to follow: its id-map row, the work item, its plan and its checkpoints.
struct Ready {
    row: RunItem,
    item: WorkItem,
    plan: Planned,
    steps: HashMap<(String, i64), StepRow>,
}

/// A page of the id map: the items ADO still has, ready; the ids it no longer has (marked
/// followed at once with nothing to do: their issue exists already); the cursor after it
/// (`None`: the end), unless the page is of heavy items, read outside the id-map order.
struct Page {
    ready: Vec<Ready>,
    gone: Vec<i64>,
    last: Option<(i64, i64)>,
    heavy: bool,
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
    /// Follows every item not followed yet, the heavy ones first, then in id-map order;
    /// `Some` when asked to stop. An item's error ends the pass (the items in flight are
    /// dropped: their sub-items are checkpointed).
    pub async fn pass(&self) -> anyhow::Result<Option<Stop>> {
        // Nothing is in flight yet, so this read may be awaited here.
        let mut heavy: VecDeque<RunItem> = self
            .state
            .store
            .heavy_items_to_follow(self.run, HEAVY_COMMENTS, HEAVY_FIRST)
            .await?
            .into();
        let heavy_ids: HashSet<i64> = heavy.iter().map(|r| r.ado_id).collect();
        let mut cursor: Option<(i64, i64)> = None;
        let mut exhausted = false;
        let mut stop: Option<Stop> = None;
        let mut queue: VecDeque<Ready> = VecDeque::new();
        let mut reading: Option<BoxFuture<'_, anyhow::Result<Page>>> = None;
        let mut running: FuturesUnordered<BoxFuture<'a, anyhow::Result<i64>>> =
            FuturesUnordered::new();
        let mut checking: Option<BoxFuture<'_, anyhow::Result<Option<Stop>>>> = None;
        let mut checked = Instant::now();
        loop {
            if stop.is_none() && reading.is_none() && queue.len() < self.width {
                if !heavy.is_empty() {
                    let rows = heavy.drain(..heavy.len().min(PAGE as usize)).collect();
                    reading = Some(Box::pin(self.prepare(rows, true)));
                } else if !exhausted {
                    reading = Some(Box::pin(self.read(cursor, &heavy_ids)));
                }
            }
            if stop.is_none()
                && checking.is_none()
                && !queue.is_empty()
                && (self.shutdown.is_cancelled() || checked.elapsed() >= CHECK_EVERY)
            {
                checked = Instant::now();
                checking = Some(Box::pin(checkpoint(self.state, self.run, self.shutdown)));
            }
            while stop.is_none() && checking.is_none() && running.len() < self.width {
                let Some(ready) = queue.pop_front() else {
                    break;
                };
                running.push(self.follow(ready));
            }
            if running.is_empty() && reading.is_none() && checking.is_none() && queue.is_empty() {
                return Ok(stop);
            }
            // Nothing here awaits the store outside the select: an item's transaction waits for
            // this task to poll it, so a write awaited beside it would wait on its lock.
            tokio::select! {
                Some(done) = running.next(), if !running.is_empty() => {
                    done?;
                }
                page = async { reading.as_mut().expect("guarded").await }, if reading.is_some() => {
                    reading = None;
                    let page = page?;
                    if !page.heavy {
                        exhausted = page.last.is_none();
                        cursor = page.last.or(cursor);
                    }
                    queue.extend(page.ready);
                }
                check = async { checking.as_mut().expect("guarded").await }, if checking.is_some() => {
                    checking = None;
                    stop = check?;
                    if stop.is_some() {
                        queue.clear();
                        reading = None;
                    }
                }
            }
        }
    }

    /// Reads the page after `after` in id-map order, leaving out the `heavy` items (read
    /// first, on their own).
    async fn read(&self, after: Option<(i64, i64)>, heavy: &HashSet<i64>) -> anyhow::Result<Page> {
        let mut rows = self
            .state
            .store
            .items_to_follow(self.run, after, PAGE)
            .await?;
        let last = rows.last().map(|r| (r.wave, r.ado_id));
        rows.retain(|r| !heavy.contains(&r.ado_id));
        let mut page = self.prepare(rows, false).await?;
        page.last = last;
        Ok(page)
    }

    /// Reads `rows`' work items from ADO, their plans and checkpoints.
    async fn prepare(&self, rows: Vec<RunItem>, heavy: bool) -> anyhow::Result<Page> {
        if rows.is_empty() {
            return Ok(Page {
                ready: Vec::new(),
                gone: Vec::new(),
                last: None,
                heavy,
            });
        }
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
        let mut page = Page {
            ready: Vec::with_capacity(rows.len()),
            gone: Vec::new(),
            last: None,
            heavy,
        };
        {
            let links = self.ctx.resolver();
            let tctx = self.ctx.transform_context(&links);
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
        }
        if !page.gone.is_empty() {
            self.state.store.mark_followed(self.run, &page.gone).await?;
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
                found: row.attempts == 0,
            };
            follow(&job).await?;
            state.store.mark_followed(run, &[row.ado_id]).await?;
            Ok(row.ado_id)
        })
    }
}
