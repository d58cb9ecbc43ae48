//! The fault layer: draws per request, then delays, fails, cuts or loses the response.
//!
//! A cut is a response whose body stream fails before its first byte: hyper then aborts the
//! connection without writing the head, so a client such as reqwest sees a transport error
//! from `send()` (tested in `tests/sim_infra/faults.rs`), exactly like a reset.

use std::{sync::Arc, time::Instant};

use axum::{
    body::Body,
    extract::Request,
    http::{Method, StatusCode},
    response::{IntoResponse, Response},
};
use parking_lot::Mutex;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::FaultSpec;
use crate::sim::{
    limits::{
        clock::retry_after_secs,
        middleware::{BoxResponse, Middleware, MiddlewareLayer, Next},
    },
    reqlog::FaultTag,
};

/// Fault injection state; clones share the RNG and the current storm.
#[derive(Clone)]
pub struct Faults {
    inner: Arc<Inner>,
}

struct Inner {
    spec: FaultSpec,
    state: Mutex<State>,
}

struct State {
    rng: ChaCha8Rng,
    storm_until: Option<Instant>,
}

/// The layer type.
pub type FaultLayer = MiddlewareLayer<Faults>;

/// What the dice said for one request.
struct Draw {
    storm_wait: Option<f64>,
    error: Option<StatusCode>,
    reset: bool,
    lost: bool,
}

impl Faults {
    /// Faults following `spec`, RNG seeded from it.
    pub fn new(spec: FaultSpec) -> Self {
        let rng = ChaCha8Rng::seed_from_u64(spec.seed);
        Self {
            inner: Arc::new(Inner {
                spec,
                state: Mutex::new(State {
                    rng,
                    storm_until: None,
                }),
            }),
        }
    }

    /// The spec in force.
    pub fn spec(&self) -> &FaultSpec {
        &self.inner.spec
    }

    /// The layer to put on a simulator's router.
    pub fn layer(&self) -> FaultLayer {
        MiddlewareLayer(self.clone())
    }

    /// Reseeds the RNG and ends any storm, so a reset replays the same fault sequence.
    pub fn reset(&self) {
        let mut s = self.inner.state.lock();
        s.rng = ChaCha8Rng::seed_from_u64(self.inner.spec.seed);
        s.storm_until = None;
    }

    fn draw(&self, method: &Method) -> Draw {
        let spec = &self.inner.spec;
        let mut s = self.inner.state.lock();
        // Always five draws, whatever applies, so outcomes depend only on request order.
        let (u_storm, u_err, u_code, u_reset, u_lost): (f64, f64, f64, f64, f64) = (
            s.rng.r#gen(),
            s.rng.r#gen(),
            s.rng.r#gen(),
            s.rng.r#gen(),
            s.rng.r#gen(),
        );
        let now = Instant::now();
        if s.storm_until.is_some_and(|until| until <= now) {
            s.storm_until = None;
        }
        if s.storm_until.is_none()
            && let Some((p, len)) = spec.storm429
            && u_storm < p
        {
            s.storm_until = Some(now + len);
        }
        let storm_wait = s
            .storm_until
            .map(|until| until.saturating_duration_since(now).as_secs_f64());
        let error = (u_err < spec.error5xx).then_some(match (u_code * 3.0) as u32 {
            0 => StatusCode::INTERNAL_SERVER_ERROR,
            1 => StatusCode::BAD_GATEWAY,
            _ => StatusCode::SERVICE_UNAVAILABLE,
        });
        let is_read = matches!(*method, Method::GET | Method::HEAD);
        Draw {
            storm_wait,
            error,
            reset: u_reset < spec.reset,
            lost: u_lost < spec.lost && (spec.lost_reads || !is_read),
        }
    }
}

impl Middleware for Faults {
    fn handle(&self, req: Request, next: Next) -> BoxResponse {
        let this = self.clone();
        Box::pin(async move {
            let draw = this.draw(req.method());
            let latency = this.inner.spec.latency;
            if !latency.is_zero() {
                tokio::time::sleep(latency).await;
            }
            if let Some(wait) = draw.storm_wait {
                let retry = retry_after_secs(wait).to_string();
                let resp = (
                    StatusCode::TOO_MANY_REQUESTS,
                    [("retry-after", retry)],
                    "storm",
                )
                    .into_response();
                return tagged(
                    resp,
                    FaultTag {
                        name: "storm429",
                        cut: false,
                        applied_status: None,
                    },
                );
            }
            if let Some(code) = draw.error {
                let resp = if code == StatusCode::SERVICE_UNAVAILABLE {
                    (code, [("retry-after", "2")], "injected").into_response()
                } else {
                    (code, "injected").into_response()
                };
                return tagged(
                    resp,
                    FaultTag {
                        name: "error5xx",
                        cut: false,
                        applied_status: None,
                    },
                );
            }
            if draw.reset {
                return cut(
                    Response::new(Body::empty()),
                    FaultTag {
                        name: "reset",
                        cut: true,
                        applied_status: None,
                    },
                );
            }
            let resp = next.run(req).await;
            if draw.lost {
                let status = resp.status().as_u16();
                return cut(
                    resp,
                    FaultTag {
                        name: "lost",
                        cut: true,
                        applied_status: Some(status),
                    },
                );
            }
            resp
        })
    }
}

fn tagged(mut resp: Response, tag: FaultTag) -> Response {
    resp.extensions_mut().insert(tag);
    resp
}

/// Keeps the extensions (the log reads them) but replaces the body by one that fails at once.
fn cut(resp: Response, tag: FaultTag) -> Response {
    let (parts, _) = resp.into_parts();
    let failing = futures_util::stream::once(async {
        Err::<axum::body::Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "injected fault",
        ))
    });
    let mut out = Response::new(Body::from_stream(failing));
    *out.extensions_mut() = parts.extensions;
    tagged(out, tag)
}
