//! ADO's TSTU throttle as a tower layer (reference §2 and §6.3).
//!
//! Usage is kept per identity (a hash of the credential, never the PAT) in a sliding window.
//! Over the threshold a request is *delayed* by `min(30 s, 0.1 s × overage)` and says so in
//! `X-RateLimit-Delay`; over `block_factor × threshold` it is refused with 429 `TF400733` and
//! `Retry-After`. `X-RateLimit-*` headers appear once usage passes 80 % of the threshold.

use std::{
    collections::{HashMap, VecDeque},
    sync::Arc,
    time::{Duration, Instant},
};

use axum::{
    Json,
    extract::{MatchedPath, Request},
    http::{HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use parking_lot::Mutex;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::{
    TstuHint,
    ado_profile::AdoProfile,
    caller::Caller,
    clock::{Epoch, retry_after_secs},
    latency::sample_ms,
    middleware::{BoxResponse, Middleware, MiddlewareLayer, Next},
};
use crate::sim::reqlog::Metered;

/// The TSTU limiter; clones share state.
#[derive(Clone)]
pub struct AdoLimiter {
    inner: Arc<Inner>,
}

struct Inner {
    profile: AdoProfile,
    epoch: Epoch,
    usage: Mutex<HashMap<String, VecDeque<(f64, f64)>>>,
    rng: Mutex<ChaCha8Rng>,
}

/// The layer type.
pub type AdoLimitLayer = MiddlewareLayer<AdoLimiter>;

/// Usage seen by one request on arrival.
struct Seen {
    usage: f64,
    drained_at: f64,
    retry_at: f64,
}

impl AdoLimiter {
    /// A limiter with an empty window.
    pub fn new(profile: AdoProfile) -> Self {
        let rng = ChaCha8Rng::seed_from_u64(profile.seed);
        Self {
            inner: Arc::new(Inner {
                profile,
                epoch: Epoch::now(),
                usage: Mutex::new(HashMap::new()),
                rng: Mutex::new(rng),
            }),
        }
    }

    /// The layer to put on the ADO router.
    pub fn layer(&self) -> AdoLimitLayer {
        MiddlewareLayer(self.clone())
    }

    /// Forgets all usage.
    pub fn reset(&self) {
        self.inner.usage.lock().clear();
    }

    fn seen(&self, identity: &str, now: f64) -> Seen {
        let p = &self.inner.profile;
        let mut usage = self.inner.usage.lock();
        let q = usage.entry(identity.to_owned()).or_default();
        while q.front().is_some_and(|(t, _)| now - t >= p.window_secs) {
            q.pop_front();
        }
        let total: f64 = q.iter().map(|(_, c)| c).sum();
        let block = p.threshold * p.block_factor;
        // The request is admitted again once enough old usage has left the window.
        let mut left = total;
        let mut retry_at = now;
        for (t, c) in q.iter() {
            if left <= block {
                break;
            }
            left -= c;
            retry_at = t + p.window_secs;
        }
        let drained_at = q.back().map_or(now, |(t, _)| t + p.window_secs);
        Seen {
            usage: total,
            drained_at,
            retry_at,
        }
    }

    fn charge(&self, identity: &str, now: f64, tstu: f64) {
        self.inner
            .usage
            .lock()
            .entry(identity.to_owned())
            .or_default()
            .push_back((now, tstu));
    }
}

impl Middleware for AdoLimiter {
    fn handle(&self, req: Request, next: Next) -> BoxResponse {
        let this = self.clone();
        Box::pin(async move { this.run(req, next).await })
    }
}

impl AdoLimiter {
    async fn run(self, req: Request, next: Next) -> Response {
        let p = &self.inner.profile;
        let template = req
            .extensions()
            .get::<MatchedPath>()
            .map_or_else(|| "(unmatched)".to_owned(), |m| m.as_str().to_owned());
        let method = req.method().to_string();
        let caller = Caller::identify(req.headers(), None);
        let identity = Caller::identity(req.headers());
        let mut metered = Metered::new(caller.kind, &caller.tenant);
        let epoch = self.inner.epoch;
        let now = epoch.elapsed(Instant::now());
        let seen = self.seen(&identity, now);
        let mut headers = HeaderMap::new();

        if p.enabled && seen.usage > p.threshold * p.block_factor {
            let wait = seen.retry_at - now;
            metered.hit = Some("TF400733");
            put(
                &mut headers,
                "retry-after",
                retry_after_secs(wait).to_string(),
            );
            self.rate_headers(&mut headers, &seen, 0.0, &epoch);
            let message = format!(
                "TF400733: The request has been canceled: Request was blocked due to exceeding usage of resource '{}' in namespace 'User'.",
                p.resource
            );
            let body = serde_json::json!({ "$id": "1", "message": message, "typeKey": "RequestBlockedException", "errorCode": 0 });
            let mut resp = (StatusCode::TOO_MANY_REQUESTS, headers, Json(body)).into_response();
            resp.extensions_mut().insert(metered);
            return resp;
        }
        let mut delay = 0.0;
        if p.enabled && seen.usage > p.threshold {
            delay =
                (p.delay_ms_per_tstu * (seen.usage - p.threshold) / 1000.0).min(p.max_delay_secs);
        }
        let service_ms = sample_ms(
            &p.latency,
            p.latency_scale,
            &method,
            &template,
            &mut *self.inner.rng.lock(),
        );
        let estimate = p.cost(&method, &template);
        if p.enabled {
            self.charge(&identity, now, estimate);
        }
        let pause = delay + service_ms / 1000.0;
        if pause > 0.0 {
            tokio::time::sleep(Duration::from_secs_f64(pause)).await;
        }
        let mut resp = next.run(req).await;
        let tstu = resp
            .extensions()
            .get::<TstuHint>()
            .map_or(estimate, |h| h.0);
        if p.enabled && (tstu - estimate).abs() > f64::EPSILON {
            self.charge(&identity, now, tstu - estimate);
        }
        if p.enabled && seen.usage + tstu > p.threshold * p.header_fraction {
            let after = Seen {
                usage: seen.usage + tstu,
                drained_at: now + p.window_secs,
                ..seen
            };
            self.rate_headers(resp.headers_mut(), &after, delay, &epoch);
        }
        metered.tstu = Some(tstu);
        metered.delay_ms = (delay * 1000.0).round();
        resp.extensions_mut().insert(metered);
        resp
    }

    fn rate_headers(&self, headers: &mut HeaderMap, seen: &Seen, delay: f64, epoch: &Epoch) {
        let p = &self.inner.profile;
        let remaining = if delay > 0.0 {
            0.0
        } else {
            (p.threshold - seen.usage).max(0.0)
        };
        put(headers, "x-ratelimit-resource", p.resource.clone());
        put(headers, "x-ratelimit-delay", format!("{delay:.3}"));
        put(
            headers,
            "x-ratelimit-limit",
            format!("{}", p.threshold.round() as u64),
        );
        put(
            headers,
            "x-ratelimit-remaining",
            format!("{}", remaining.floor() as u64),
        );
        put(
            headers,
            "x-ratelimit-reset",
            format!("{}", epoch.wall(seen.drained_at).ceil() as u64),
        );
    }
}

fn put(headers: &mut HeaderMap, name: &'static str, value: String) {
    if let Ok(v) = HeaderValue::from_str(&value) {
        headers.insert(name, v);
    }
}
