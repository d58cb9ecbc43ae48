//! Run progress pushed as server-sent events: `GET /api/migrations/{id}/events`.
//!
//! Every connection first gets the run's current state, then an event whenever a count,
//! the status, the phase or the control word changes, and the current state again at least
//! every [`HEARTBEAT`] (so a page's rate and ETA stay fresh and a dead proxy shows). The
//! stream ends after the event that says the run is over (completed, failed or cancelled).
//!
//! Bounded: one reader per watched run polls the store once per [`TICK`] and shares each
//! snapshot with all of that run's connections through a `watch` channel; it stops when the
//! last connection goes or the run is over. The rate (items per second over the last minute)
//! and ETA come from that reader's own samples, so they start after its first ticks.

use std::{
    collections::{HashMap, VecDeque},
    convert::Infallible,
    sync::Arc,
    time::{Duration, Instant},
};

use axum::{
    Router,
    extract::{Path, State},
    response::sse::{Event, KeepAlive, Sse},
    routing::get,
};
use futures_util::Stream;
use serde_json::{Map, Value, json};
use tokio::sync::watch;

use crate::{
    app::AppState,
    connect::{extract::ApiAuth, permissions::Right},
    error::Result,
    store::Progress,
};

/// How often a watched run is read.
const TICK: Duration = Duration::from_secs(1);
/// The longest gap between two events of a stream.
const HEARTBEAT: Duration = Duration::from_secs(5);
/// The rate's window.
const WINDOW: Duration = Duration::from_secs(60);

/// The event routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/migrations/{id}/events", get(events))
}

type Snapshot = Option<Arc<Value>>;
/// A watched run: (clientKey, run id).
type RunKey = (String, String);

/// The watched runs of this process: (tenant, run) → the channel its reader publishes on.
#[derive(Default)]
pub struct Watchers {
    runs: parking_lot::Mutex<HashMap<RunKey, Arc<watch::Sender<Snapshot>>>>,
}

#[tracing::instrument(skip_all, fields(tenant = %auth.tenant.client_key, run = %id))]
async fn events(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(id): Path<String>,
) -> Result<Sse<impl Stream<Item = std::result::Result<Event, Infallible>>>> {
    state
        .require(&auth.tenant, &auth.principal, Right::Admin)
        .await?;
    let ck = auth.tenant.client_key.clone();
    state.store.run(&ck, &id).await?;
    let rx = subscribe(&state, ck, id);
    Ok(Sse::new(stream(rx)).keep_alive(KeepAlive::default()))
}

/// A receiver of the run's snapshots, starting its reader if none runs.
fn subscribe(state: &AppState, client_key: String, id: String) -> watch::Receiver<Snapshot> {
    let key = (client_key, id);
    let mut runs = state.run_watch.runs.lock();
    if let Some(tx) = runs.get(&key) {
        return tx.subscribe();
    }
    let (tx, rx) = watch::channel(None);
    let tx = Arc::new(tx);
    runs.insert(key.clone(), tx.clone());
    tokio::spawn(read_run(state.clone(), key, tx));
    rx
}

/// Polls the run while someone watches and it is not over; publishes changed snapshots.
async fn read_run(state: AppState, key: RunKey, tx: Arc<watch::Sender<Snapshot>>) {
    let mut samples: VecDeque<(Instant, i64)> = VecDeque::new();
    loop {
        let over = match state.store.run_progress(&key.0, &key.1).await {
            Ok(p) => {
                let mut view = view(&p, &mut samples);
                // The tenant's use of the shared points budget (a store read, like the rest).
                if let Ok(budget) = state.budget.view(&key.0).await {
                    view["budget"] = serde_json::to_value(budget).unwrap_or(Value::Null);
                }
                let over = is_over(&view);
                let view = Arc::new(view);
                tx.send_if_modified(|cur| {
                    let changed = cur
                        .as_ref()
                        .is_none_or(|c| fingerprint(c) != fingerprint(&view));
                    *cur = Some(view.clone());
                    changed
                });
                over
            }
            Err(e) => {
                tracing::warn!(error = %e, "reading run progress failed");
                false
            }
        };
        let mut runs = state.run_watch.runs.lock();
        if over || tx.receiver_count() == 0 {
            runs.remove(&key);
            return;
        }
        drop(runs);
        tokio::time::sleep(TICK).await;
    }
}

/// One connection's events: the current state first, then changes and heartbeats; ends after
/// the run is over.
fn stream(
    rx: watch::Receiver<Snapshot>,
) -> impl Stream<Item = std::result::Result<Event, Infallible>> {
    futures_util::stream::unfold((rx, false, 0u64), |(mut rx, done, seq)| async move {
        if done {
            return None;
        }
        let first = seq == 0;
        let ended = if first {
            // The current state, as soon as the reader has one.
            rx.wait_for(Option::is_some).await.is_err()
        } else {
            match tokio::time::timeout(HEARTBEAT, rx.changed()).await {
                Ok(Ok(())) | Err(_) => false,
                Ok(Err(_)) => true,
            }
        };
        let current = rx.borrow_and_update().clone();
        let view = current?;
        // The reader stopped without saying the run is over: nothing more will come.
        let done = is_over(&view) || ended;
        let event = Event::default()
            .event("progress")
            .id((seq + 1).to_string())
            .json_data(&*view)
            .unwrap_or_else(|_| Event::default().comment("unserializable"));
        Some((Ok(event), (rx, done, seq + 1)))
    })
}

fn is_over(view: &Value) -> bool {
    matches!(
        view["status"].as_str(),
        Some("completed" | "failed" | "cancelled")
    )
}

/// What decides whether a snapshot is news: everything but the clock, rate and ETA.
fn fingerprint(view: &Value) -> (&Value, &Value, &Value, &Value) {
    (
        &view["status"],
        &view["control"],
        &view["phase"],
        &view["phases"],
    )
}

/// The event: per phase done/failed/total, status and control, rate and ETA.
pub fn view(p: &Progress, samples: &mut VecDeque<(Instant, i64)>) -> Value {
    let items = |state: &str, followed: Option<i64>| -> i64 {
        p.items
            .iter()
            .filter(|c| c.state == state && followed.is_none_or(|f| c.followed == f))
            .map(|c| c.items)
            .sum()
    };
    let objects = |kind: &str, stage: &str| -> i64 {
        p.objects
            .iter()
            .filter(|o| o.kind == kind && (stage.is_empty() || o.stage == stage))
            .map(|o| o.items)
            .sum()
    };
    let total = p.run.items_total.unwrap_or(0);
    let (created, failed) = (items("created", None), items("failed", None));
    let followed = items("created", Some(1));
    let mut kinds = Map::new();
    for s in &p.steps {
        let entry = kinds
            .entry(s.kind.clone())
            .or_insert_with(|| json!({ "done": 0, "failed": 0, "sent": 0 }));
        entry[s.state.as_str()] = json!(entry[s.state.as_str()].as_i64().unwrap_or(0) + s.items);
    }
    let failed_steps: i64 = p
        .steps
        .iter()
        .filter(|s| s.state == "failed")
        .map(|s| s.items)
        .sum();
    let sprints_total = objects("sprint", "");
    let sprints_done = objects("sprint", "closed") + objects("sprint", "started");
    let phases = json!({
        "preflight": {
            "done": i64::from(p.run.phase != "preflight"), "failed": 0, "total": 1,
            "components": objects("component", ""), "sprints": sprints_total,
            "unresolvedAccounts": objects("account", "unresolved"),
        },
        "create": { "done": created, "failed": failed, "total": total },
        "followup": { "done": followed, "failed": failed_steps, "total": created, "kinds": kinds },
        "sprints": {
            "done": sprints_done, "failed": objects("sprint", "held"), "total": sprints_total,
            "filled": objects("sprint", "filled"),
        },
    });
    // Progress units: every item is created (or fails) once and followed once.
    let units = created + failed + followed;
    let now = Instant::now();
    samples.push_back((now, units));
    while samples
        .front()
        .is_some_and(|(t, _)| now.duration_since(*t) > WINDOW)
    {
        samples.pop_front();
    }
    let rate = match (samples.front(), samples.back()) {
        (Some((t0, u0)), Some((t1, u1))) if t1.duration_since(*t0) >= Duration::from_secs(1) => {
            (u1 - u0) as f64 / t1.duration_since(*t0).as_secs_f64()
        }
        _ => 0.0,
    };
    let remaining = (total - created - failed).max(0) + (created - followed).max(0);
    let eta =
        (rate > 0.0 && p.run.status == "running").then(|| (remaining as f64 / rate).ceil() as i64);
    json!({
        "runId": p.run.id,
        "status": p.run.status,
        "control": p.run.control,
        "phase": p.run.phase,
        "error": p.run.error,
        "phases": phases,
        "itemsPerSecond": (rate * 100.0).round() / 100.0,
        "etaSeconds": eta,
        // Filled by the reader from the points budget.
        "budget": Value::Null,
        "at": crate::store::now_ms(),
    })
}
