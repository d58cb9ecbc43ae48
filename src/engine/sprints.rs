//! The sprints phase, after followup: every created issue goes into the sprint of its ADO
//! iteration, sprint by sprint in date order, and ADO's past iterations end as closed sprints.
//!
//! Jira decides the order: a closed sprint takes no issues, so every sprint is filled first
//! (all of them at once: moves are unordered), and then, in date order, a past sprint is
//! started with its iteration's dates and closed; a board without parallel sprints has one
//! active sprint at a time, so each past sprint is closed before the next one starts. The
//! current iteration's sprint is started, future ones are only filled.
//!
//! Checkpoints: moving an issue into its sprint again is harmless, so a sprint's issues are
//! checkpointed as a whole (`filled`) and start/close read the sprint's state from Jira before
//! they write. A sprint that cannot start because another sprint of the board is active (the
//! customer's own, without parallel sprints) is `held`: it keeps its issues, stays future, and
//! the run says so in the audit log instead of failing.
//! <https://developer.atlassian.com/cloud/jira/software/rest/api-group-sprint/>

use std::collections::{BTreeMap, BTreeSet, HashMap};

use anyhow::Context as _;
use futures_util::{StreamExt as _, future::BoxFuture};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::{Stop, checkpoint, followup::refused};
use crate::{
    app::AppState,
    dryrun::DryContext,
    intake::connect::stored_client,
    mapping::source::item_path,
    sim::r#gen::calendar,
    source::ado::{
        client::{AdoClient, Area},
        extract::enc,
        models::{ClassificationNode, ListOf, WorkItem},
    },
    store::Run,
    target::jira::JiraCallError,
};

/// Issues one sprint move may carry (Jira: 50).
const MOVE: usize = 50;
/// Work items read at a time (`workitemsbatch`: 200).
const READ: usize = 200;
/// Sprints filled at once, and move calls at once per sprint: moves are idempotent and
/// unordered, and one at a time made the phase a string of round trips at the run's end.
const SPRINTS_AT_ONCE: usize = 4;
const MOVES_AT_ONCE: usize = 4;

/// Where an ADO iteration stands in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Frame {
    /// Finished: its sprint ends closed.
    Past,
    /// Running now: its sprint ends active.
    Current,
    /// Not started (or undated): its sprint stays future.
    Future,
}

/// An ADO iteration's dates and time frame.
#[derive(Debug, Clone)]
pub(crate) struct Iteration {
    /// `startDate`, as ADO gives it (ISO 8601).
    pub start: Option<String>,
    /// `finishDate`.
    pub finish: Option<String>,
    /// ADO's `timeFrame` when it says, else the dates against the clock.
    pub frame: Frame,
}

/// A sprint on the board.
#[derive(Debug, Clone)]
pub(crate) struct BoardSprint {
    /// Sprint id.
    pub id: i64,
    /// `future`, `active` or `closed`.
    pub state: String,
}

/// The Jira sprint names the iteration rules name, each once.
pub(crate) fn wanted(ctx: &DryContext) -> BTreeSet<String> {
    ctx.mapping
        .iterations
        .iter()
        .filter_map(|r| r.jira.clone())
        .collect()
}

/// The project's first scrum board (kanban boards have no sprints).
pub(crate) async fn scrum_board(ctx: &DryContext) -> anyhow::Result<Option<i64>> {
    let path = format!(
        "/rest/agile/1.0/board?projectKeyOrId={}&type=scrum",
        enc(&ctx.jira.project_key)
    );
    let page: Value = ctx.jira.client.get_json(&path).await.context("GET board")?;
    Ok(page["values"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|b| b["type"].as_str().is_none_or(|t| t == "scrum"))
        .find_map(|b| b["id"].as_i64()))
}

/// Every sprint of the board by name (the lowest id when two share a name).
pub(crate) async fn board_sprints(
    ctx: &DryContext,
    board: i64,
) -> anyhow::Result<HashMap<String, BoardSprint>> {
    let mut out: HashMap<String, BoardSprint> = HashMap::new();
    let mut start = 0;
    loop {
        let path = format!("/rest/agile/1.0/board/{board}/sprint?startAt={start}&maxResults=50");
        let page: Value = ctx
            .jira
            .client
            .get_json(&path)
            .await
            .context("GET board sprints")?;
        let values = page["values"].as_array().cloned().unwrap_or_default();
        for s in &values {
            let (Some(id), Some(name)) = (s["id"].as_i64(), s["name"].as_str()) else {
                continue;
            };
            let state = s["state"].as_str().unwrap_or("future").to_owned();
            let entry = out.entry(name.to_owned()).or_insert(BoardSprint {
                id,
                state: state.clone(),
            });
            if id < entry.id {
                *entry = BoardSprint { id, state };
            }
        }
        start += values.len();
        if values.is_empty() || page["isLast"].as_bool().unwrap_or(true) {
            return Ok(out);
        }
    }
}

/// The project's iterations, live from ADO (dates may have moved since the scan), keyed by the
/// path work items carry.
pub(crate) async fn iterations(
    ado: &AdoClient,
    project: &str,
) -> anyhow::Result<HashMap<String, Iteration>> {
    let root: ClassificationNode = ado
        .get_json(
            &format!(
                "{}/_apis/wit/classificationnodes/Iterations?$depth=20",
                enc(project)
            ),
            Area::General,
        )
        .await
        .context("reading iterations")?;
    let today = calendar::today();
    let mut out = HashMap::new();
    let mut stack = vec![(&root, 0)];
    while let Some((node, depth)) = stack.pop() {
        let text = |k: &str| {
            node.attributes
                .get(k)
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let (start, finish) = (text("startDate"), text("finishDate"));
        let frame = match text("timeFrame").as_deref() {
            Some("past") => Frame::Past,
            Some("current") => Frame::Current,
            Some("future") => Frame::Future,
            _ => by_dates(start.as_deref(), finish.as_deref(), today),
        };
        out.insert(
            item_path(&node.path),
            Iteration {
                start,
                finish,
                frame,
            },
        );
        if depth < 32 {
            stack.extend(node.children.iter().map(|c| (c, depth + 1)));
        }
    }
    Ok(out)
}

/// The frame from the dates (UTC day numbers): finished before `today` is past, started is
/// current. ADO's finish date is the sprint's last day.
fn by_dates(start: Option<&str>, finish: Option<&str>, today: i64) -> Frame {
    let day = |d: Option<&str>| d.and_then(calendar::parse_date);
    match (day(start), day(finish)) {
        (_, Some(f)) if f < today => Frame::Past,
        (Some(s), _) if s <= today => Frame::Current,
        _ => Frame::Future,
    }
}

/// What the phase did, for the audit log (ids and counts only).
#[derive(Default)]
struct Tally {
    moved: usize,
    refused: usize,
    closed: Vec<i64>,
    started: Vec<i64>,
    held: Vec<i64>,
    closed_before: Vec<i64>,
}

/// Puts every created issue in its sprint; `Stop::Done` when all sprints are where ADO says.
pub async fn phase(
    state: &AppState,
    run: &Run,
    ctx: &DryContext,
    shutdown: &CancellationToken,
) -> anyhow::Result<Stop> {
    if wanted(ctx).is_empty() {
        return Ok(Stop::Done);
    }
    let Some(board) = scrum_board(ctx).await? else {
        // Preflight refuses a run with iteration rules and no scrum board; one deleted since
        // leaves nothing to do here.
        tracing::warn!("no scrum board: sprints skipped");
        return Ok(Stop::Done);
    };
    let ado = stored_client(state, &run.client_key, &ctx.connection_id).await?;
    let dates = iterations(&ado, &ctx.project).await?;
    let members = members(state, run, ctx, &ado).await?;
    let on_board = board_sprints(ctx, board).await?;
    let filled: BTreeSet<String> = state
        .store
        .run_objects(run)
        .await?
        .into_iter()
        .filter(|o| o.kind == "sprint" && o.stage.is_some())
        .map(|o| o.jira_id)
        .collect();
    let order = in_date_order(ctx, &dates);
    if let Some(name) = order
        .iter()
        .map(|o| &o.0)
        .find(|n| !on_board.contains_key(*n))
    {
        anyhow::bail!("sprint {name:?} is no longer on board {board}; run again to recreate it");
    }
    let mut tally = Tally::default();
    if let Some(stop) = checkpoint(state, run, shutdown).await? {
        return Ok(stop);
    }
    // Moves first, every sprint's at once: Jira orders starting and closing sprints, not
    // filling them, and a past sprint takes issues only until it is closed.
    // Boxed as `Send` futures: borrowing closures trip the higher-ranked `Send` check of the
    // spawned worker (as in `window.rs`).
    let mut fills: Vec<BoxFuture<'_, anyhow::Result<(usize, usize)>>> = Vec::new();
    for (name, _) in &order {
        let sprint = &on_board[name];
        let id = sprint.id.to_string();
        if sprint.state == "closed" || filled.contains(&id) {
            continue;
        }
        let issues = members.get(name).map_or(&[][..], Vec::as_slice);
        fills.push(Box::pin(async move {
            let (moved, refused) = fill(ctx, sprint.id, issues).await?;
            state.store.set_sprint_stage(run, &id, "filled").await?;
            Ok((moved, refused))
        }));
    }
    let mut fills = futures_util::stream::iter(fills).buffer_unordered(SPRINTS_AT_ONCE);
    while let Some(done) = fills.next().await {
        let (moved, refused) = done?;
        tally.moved += moved;
        tally.refused += refused;
    }
    for (name, it) in order {
        if let Some(stop) = checkpoint(state, run, shutdown).await? {
            return Ok(stop);
        }
        let sprint = &on_board[&name];
        let id = sprint.id.to_string();
        if sprint.state == "closed" {
            if !filled.contains(&id) {
                tally.closed_before.push(sprint.id);
            }
            continue;
        }
        let frame = it.as_ref().map_or(Frame::Future, |i| i.frame);
        if frame == Frame::Future {
            continue;
        }
        if sprint.state == "future" {
            if !start(ctx, sprint.id, it.as_ref()).await? {
                tally.held.push(sprint.id);
                state.store.set_sprint_stage(run, &id, "held").await?;
                continue;
            }
            tally.started.push(sprint.id);
            state.store.set_sprint_stage(run, &id, "started").await?;
        }
        if frame == Frame::Past {
            close(ctx, sprint.id).await?;
            tally.closed.push(sprint.id);
            state.store.set_sprint_stage(run, &id, "closed").await?;
        }
    }
    state
        .store
        .audit(
            &run.client_key,
            "ferry",
            "run.sprints",
            json!({ "runId": run.id, "moved": tally.moved, "refused": tally.refused,
                    "started": tally.started, "closed": tally.closed, "held": tally.held,
                    "closedBefore": tally.closed_before }),
        )
        .await?;
    Ok(Stop::Done)
}

/// The rules' sprints, each once, in the order of their iterations' start dates (undated last).
fn in_date_order(
    ctx: &DryContext,
    dates: &HashMap<String, Iteration>,
) -> Vec<(String, Option<Iteration>)> {
    let mut by_name: BTreeMap<String, Option<Iteration>> = BTreeMap::new();
    for r in &ctx.mapping.iterations {
        let Some(name) = &r.jira else { continue };
        let it = dates.get(&r.ado).cloned();
        let slot = by_name.entry(name.clone()).or_insert(None);
        if slot.is_none() {
            *slot = it;
        }
    }
    let mut out: Vec<(String, Option<Iteration>)> = by_name.into_iter().collect();
    out.sort_by(|(an, a), (bn, b)| {
        let key = |i: &Option<Iteration>| i.as_ref().and_then(|i| i.start.clone());
        match (key(a), key(b)) {
            (Some(x), Some(y)) => x.cmp(&y).then(an.cmp(bn)),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => an.cmp(bn),
        }
    });
    out
}

/// Created issues by the sprint their item's current ADO iteration maps to (the transform's
/// rule: `System.IterationPath` through the iteration rules). Only the path is read from ADO.
async fn members(
    state: &AppState,
    run: &Run,
    ctx: &DryContext,
    ado: &AdoClient,
) -> anyhow::Result<HashMap<String, Vec<String>>> {
    let rules: HashMap<&str, &str> = ctx
        .mapping
        .iterations
        .iter()
        .filter_map(|r| Some((r.ado.as_str(), r.jira.as_deref()?)))
        .collect();
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    let mut after = 0;
    loop {
        let rows = state
            .store
            .created_items_after(run, after, READ as i64)
            .await?;
        let Some(last) = rows.last() else {
            return Ok(out);
        };
        after = last.ado_id;
        let ids: Vec<i64> = rows.iter().map(|r| r.ado_id).collect();
        let body = json!({ "ids": ids, "fields": ["System.Id", "System.IterationPath"], "errorPolicy": "omit" });
        let items: ListOf<Option<WorkItem>> = ado
            .post_json(
                &format!("{}/_apis/wit/workitemsbatch", enc(&ctx.project)),
                Area::General,
                &body,
            )
            .await
            .context("reading iteration paths")?;
        let paths: HashMap<i64, String> = items
            .value
            .into_iter()
            .flatten()
            .filter_map(|i| Some((i.id, i.str_field("System.IterationPath")?.to_owned())))
            .collect();
        for row in rows {
            let sprint = paths.get(&row.ado_id).and_then(|p| rules.get(p.as_str()));
            if let (Some(sprint), Some(jira_id)) = (sprint, row.jira_id) {
                out.entry((*sprint).to_owned()).or_default().push(jira_id);
            }
        }
    }
}

/// Moves `issues` into the sprint, 50 a call, `MOVES_AT_ONCE` calls at once; the issues moved
/// and refused. A call Jira refuses (an issue deleted since) is retried issue by issue, so one
/// bad issue does not keep the others out.
async fn fill(ctx: &DryContext, sprint: i64, issues: &[String]) -> anyhow::Result<(usize, usize)> {
    let path = format!("/rest/agile/1.0/sprint/{sprint}/issue");
    let path = path.as_str();
    let moves: Vec<BoxFuture<'_, anyhow::Result<(usize, usize)>>> = issues
        .chunks(MOVE)
        .map(|chunk| -> BoxFuture<'_, _> { Box::pin(move_chunk(ctx, sprint, path, chunk)) })
        .collect();
    let mut moves = futures_util::stream::iter(moves).buffer_unordered(MOVES_AT_ONCE);
    let (mut moved, mut refused_all) = (0, 0);
    while let Some(done) = moves.next().await {
        let (m, r) = done?;
        moved += m;
        refused_all += r;
    }
    Ok((moved, refused_all))
}

/// One move call; if Jira refuses it, its issues one by one. The issues moved and refused.
async fn move_chunk(
    ctx: &DryContext,
    sprint: i64,
    path: &str,
    chunk: &[String],
) -> anyhow::Result<(usize, usize)> {
    match move_issues(ctx, path, chunk).await {
        Ok(()) => return Ok((chunk.len(), 0)),
        Err(e) if refused(&e) => {}
        Err(e) => return Err(anyhow::anyhow!("moving issues into sprint {sprint}: {e}")),
    }
    let (mut moved, mut refused_here) = (0, 0);
    for one in chunk {
        match move_issues(ctx, path, std::slice::from_ref(one)).await {
            Ok(()) => moved += 1,
            Err(e) if refused(&e) => {
                tracing::warn!(sprint, issue = %one, status = ?e.status(), "sprint move refused");
                refused_here += 1;
            }
            Err(e) => return Err(anyhow::anyhow!("moving issues into sprint {sprint}: {e}")),
        }
    }
    Ok((moved, refused_here))
}

async fn move_issues(ctx: &DryContext, path: &str, issues: &[String]) -> Result<(), JiraCallError> {
    // Idempotent: an issue already in the sprint stays there.
    ctx.jira
        .client
        .post_json_idempotent::<_, Value>(path, &json!({ "issues": issues }))
        .await
        .map(|_| ())
}

/// The sprint's state as Jira has it now.
async fn sprint_state(ctx: &DryContext, sprint: i64) -> anyhow::Result<String> {
    let v: Value = ctx
        .jira
        .client
        .get_json(&format!("/rest/agile/1.0/sprint/{sprint}"))
        .await
        .with_context(|| format!("GET sprint {sprint}"))?;
    Ok(v["state"].as_str().unwrap_or("future").to_owned())
}

/// Starts a sprint with its iteration's dates; `false` when Jira refuses (another sprint of the
/// board is active). A lost answer is settled by reading the sprint.
async fn start(ctx: &DryContext, sprint: i64, it: Option<&Iteration>) -> anyhow::Result<bool> {
    let now = crate::store::now_ms() / 1000;
    let start = it
        .and_then(|i| i.start.clone())
        .unwrap_or_else(|| calendar::timestamp(now, 0));
    let end = it
        .and_then(|i| i.finish.clone())
        .unwrap_or_else(|| calendar::timestamp(now + 14 * 86_400, 0));
    let body = json!({ "state": "active", "startDate": start, "endDate": end });
    let path = format!("/rest/agile/1.0/sprint/{sprint}");
    // Starting an active sprint again changes nothing, so the call may be repeated.
    match ctx
        .jira
        .client
        .post_json_idempotent::<_, Value>(&path, &body)
        .await
    {
        Ok(_) => Ok(true),
        Err(e) => match sprint_state(ctx, sprint).await?.as_str() {
            "active" | "closed" => Ok(true),
            _ if refused(&e) => {
                tracing::warn!(sprint, status = ?e.status(), "sprint not started");
                Ok(false)
            }
            _ => Err(anyhow::anyhow!("starting sprint {sprint}: {e}")),
        },
    }
}

/// Closes an active sprint. A repeat after a lost answer is refused by Jira (a closed sprint
/// takes no update), so after an error the sprint's state decides.
async fn close(ctx: &DryContext, sprint: i64) -> anyhow::Result<()> {
    let path = format!("/rest/agile/1.0/sprint/{sprint}");
    match ctx
        .jira
        .client
        .post_json_idempotent::<_, Value>(&path, &json!({ "state": "closed" }))
        .await
    {
        Ok(_) => Ok(()),
        Err(e) => match sprint_state(ctx, sprint).await?.as_str() {
            "closed" => Ok(()),
            _ => Err(anyhow::anyhow!("closing sprint {sprint}: {e}")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_frame_follows_the_dates_when_ado_does_not_say() {
        let now = calendar::days_from_civil(2026, 11, 30);
        let f = |s: &str, e: &str| by_dates(Some(s), Some(e), now);
        assert_eq!(
            f("2026-11-01T00:00:00Z", "2026-11-12T00:00:00Z"),
            Frame::Past
        );
        assert_eq!(
            f("2026-11-23T00:00:00Z", "2026-11-30T00:00:00Z"),
            Frame::Current,
            "its last day"
        );
        assert_eq!(
            f("2026-12-07T00:00:00Z", "2026-12-18T00:00:00Z"),
            Frame::Future
        );
        assert_eq!(by_dates(None, None, now), Frame::Future);
    }
}
