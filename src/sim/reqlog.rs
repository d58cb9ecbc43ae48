//! The request log: one row per request, the ground truth for benchmarks (reference §6.2).
//!
//! Rows carry who called (tenant, auth kind), what (method, path *template*), the outcome
//! (status, points or TSTUs charged, limiter hit, fault injected) and timing, never bodies or
//! credentials, so a benchmark can recompute §6.4's arithmetic (points per item, requests per
//! endpoint, time lost to 429s) from `GET /_sim/requests` (NDJSON). `POST /_sim/reset` clears
//! it and runs the reset hooks the owning simulator registered.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Instant,
};

use axum::{
    Router,
    extract::{MatchedPath, Request, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use parking_lot::Mutex;
use serde::Serialize;

use crate::sim::limits::{
    caller::Caller,
    clock::{Epoch, iso8601},
    middleware::{BoxResponse, Middleware, MiddlewareLayer, Next},
};

/// Who called, as the simulator's own authentication established it; handlers put this in
/// the response extensions and it wins over what the limiter guessed from the header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerTag {
    /// Auth kind, e.g. `jwt`, `api_token`.
    pub kind: &'static str,
    /// Tenant (clientKey or site).
    pub tenant: String,
}

/// What a limiter decided about a request, left in the response extensions for the log.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Metered {
    /// Auth kind the limiter derived.
    pub kind: &'static str,
    /// Tenant the limiter derived.
    pub tenant: String,
    /// Jira points charged.
    pub points: u64,
    /// ADO TSTUs charged.
    pub tstu: Option<f64>,
    /// `RateLimit-Reason` (or `TF400733`) when a limiter refused the request.
    pub hit: Option<&'static str>,
    /// Throttling delay imposed before the handler (ADO `X-RateLimit-Delay`), in ms.
    pub delay_ms: f64,
    /// Fault-like outcome produced by the profile itself (e.g. its 0.1 % 503s).
    pub fault: Option<&'static str>,
}

impl Metered {
    /// A record for an admitted caller, nothing charged yet.
    pub fn new(kind: &'static str, tenant: &str) -> Self {
        Self {
            kind,
            tenant: tenant.to_owned(),
            ..Self::default()
        }
    }
}

/// A fault the fault layer injected, left in the response extensions for the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaultTag {
    /// `latency`, `error5xx`, `storm429`, `reset` or `lost`.
    pub name: &'static str,
    /// The connection was cut: the client saw no status at all.
    pub cut: bool,
    /// For `lost`: the status the handler produced before the response was dropped.
    pub applied_status: Option<u16>,
}

/// One row of the log (one NDJSON line).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LogEntry {
    /// Order of completion, from 1.
    pub seq: u64,
    /// Seconds since the log started (or was reset) when the request arrived.
    pub t: f64,
    /// Wall-clock arrival, ISO 8601.
    pub at: String,
    /// Tenant.
    pub tenant: String,
    /// Auth kind.
    pub auth: &'static str,
    /// HTTP method.
    pub method: String,
    /// Matched path template, e.g. `/rest/api/3/issue/{issueIdOrKey}`.
    pub path: String,
    /// Status the client saw; 0 when the connection was cut.
    pub status: u16,
    /// Jira points charged.
    pub points: u64,
    /// ADO TSTUs charged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tstu: Option<f64>,
    /// Limiter that refused the request (its reason string).
    pub limiter: Option<&'static str>,
    /// Fault injected.
    pub fault: Option<&'static str>,
    /// For `lost`: what the handler answered before the response was lost.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub applied_status: Option<u16>,
    /// Time in the stack, ms.
    pub latency_ms: f64,
    /// Throttling delay included in `latency_ms`, ms.
    pub delay_ms: f64,
}

type Hook = Arc<dyn Fn() + Send + Sync>;

/// The in-memory log, cheap to clone; all clones share rows.
#[derive(Clone)]
pub struct RequestLog {
    inner: Arc<LogInner>,
}

struct LogInner {
    rows: Mutex<Vec<LogEntry>>,
    epoch: Mutex<Epoch>,
    seq: AtomicU64,
    hooks: Mutex<Vec<Hook>>,
}

impl Default for RequestLog {
    fn default() -> Self {
        Self::new()
    }
}

impl RequestLog {
    /// An empty log starting now.
    pub fn new() -> Self {
        Self {
            inner: Arc::new(LogInner {
                rows: Mutex::new(Vec::new()),
                epoch: Mutex::new(Epoch::now()),
                seq: AtomicU64::new(0),
                hooks: Mutex::new(Vec::new()),
            }),
        }
    }

    /// Registers a hook run on every reset (the simulator's data, limiters, faults).
    pub fn on_reset(&self, hook: Arc<dyn Fn() + Send + Sync>) {
        self.inner.hooks.lock().push(hook);
    }

    /// A copy of all rows, in completion order.
    pub fn entries(&self) -> Vec<LogEntry> {
        self.inner.rows.lock().clone()
    }

    /// The rows as NDJSON.
    pub fn to_ndjson(&self) -> String {
        self.inner
            .rows
            .lock()
            .iter()
            .filter_map(|r| serde_json::to_string(r).ok())
            .map(|mut line| {
                line.push('\n');
                line
            })
            .collect()
    }

    /// Clears the rows, restarts the clock and runs the reset hooks.
    pub fn reset(&self) {
        self.inner.rows.lock().clear();
        self.inner.seq.store(0, Ordering::SeqCst);
        *self.inner.epoch.lock() = Epoch::now();
        let hooks = self.inner.hooks.lock().clone();
        for hook in hooks {
            hook();
        }
    }

    /// The layer that records every request passing through it.
    pub fn layer(&self) -> MiddlewareLayer<RequestLog> {
        MiddlewareLayer(self.clone())
    }

    /// `GET /_sim/requests` (NDJSON) and `POST /_sim/reset`.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/_sim/requests", get(list))
            .route("/_sim/reset", post(reset))
            .with_state(self.clone())
    }

    fn record(&self, row: LogEntry) {
        let mut rows = self.inner.rows.lock();
        let seq = self.inner.seq.fetch_add(1, Ordering::SeqCst) + 1;
        rows.push(LogEntry { seq, ..row });
    }
}

async fn list(State(log): State<RequestLog>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/x-ndjson")],
        log.to_ndjson(),
    )
        .into_response()
}

async fn reset(State(log): State<RequestLog>) -> StatusCode {
    log.reset();
    StatusCode::NO_CONTENT
}

impl Middleware for RequestLog {
    fn handle(&self, req: Request, next: Next) -> BoxResponse {
        let log = self.clone();
        Box::pin(async move {
            let started = Instant::now();
            let epoch = *log.inner.epoch.lock();
            let t = epoch.elapsed(started);
            let method = req.method().to_string();
            let path = req
                .extensions()
                .get::<MatchedPath>()
                .map_or_else(|| "(unmatched)".to_owned(), |m| m.as_str().to_owned());
            let guessed = Caller::identify(req.headers(), None);
            let resp = next.run(req).await;
            let ext = resp.extensions();
            let metered = ext.get::<Metered>().cloned().unwrap_or_default();
            let fault = ext.get::<FaultTag>().copied();
            let (auth, tenant) = match (ext.get::<CallerTag>(), metered.kind) {
                (Some(tag), _) => (tag.kind, tag.tenant.clone()),
                (None, "") => (guessed.kind, guessed.tenant),
                (None, kind) => (kind, metered.tenant.clone()),
            };
            log.record(LogEntry {
                seq: 0,
                t: (t * 1000.0).round() / 1000.0,
                at: iso8601(epoch.wall(t)),
                tenant,
                auth,
                method,
                path,
                status: if fault.is_some_and(|f| f.cut) {
                    0
                } else {
                    resp.status().as_u16()
                },
                points: metered.points,
                tstu: metered.tstu.map(|x| (x * 10_000.0).round() / 10_000.0),
                limiter: metered.hit,
                fault: fault.map(|f| f.name).or(metered.fault),
                applied_status: fault.and_then(|f| f.applied_status),
                latency_ms: (started.elapsed().as_secs_f64() * 1e6).round() / 1000.0,
                delay_ms: metered.delay_ms,
            });
            resp
        })
    }
}
