//! The Jira limiter as a tower layer: admits or refuses, sleeps the profile's latency, and
//! writes the headers Jira sends (reference §1.2 "Headers", §6.2).
//!
//! State lives behind an `Arc`, so one [`JiraLimiter`] can meter several simulated sites in
//! one process: build one layer per site with [`JiraLimiter::layer_for_site`] and the Tier 1
//! pool (keyed by app) is shared while buckets and issue windows stay per site.

use std::{collections::HashMap, sync::Arc, time::Instant};

use axum::{
    extract::{MatchedPath, Request},
    http::{HeaderMap, Method, StatusCode},
    response::{IntoResponse, Response},
};
use parking_lot::Mutex;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{
    CostHint,
    caller::Caller,
    clock::{Epoch, retry_after_secs},
    issue_in_path,
    jira_cost::{is_user_search, points_for},
    jira_headers::{put, refusal_reason, refusal_response},
    jira_state::{Admitted, Ask, Refusal, State, burst_rate, quota_policy},
    latency::sample_ms,
    middleware::{BoxResponse, Middleware, MiddlewareLayer, Next},
    normalize_template,
    profile::JiraProfile,
};
use crate::sim::reqlog::Metered;

/// Jira's points quota, burst buckets and per-issue windows, shareable across sites.
#[derive(Clone)]
pub struct JiraLimiter {
    inner: Arc<Inner>,
}

struct Inner {
    profile: JiraProfile,
    epoch: Mutex<Epoch>,
    state: Mutex<State>,
    rng: Mutex<ChaCha8Rng>,
    in_flight: Mutex<HashMap<String, u32>>,
}

/// One request in flight for a (tenant, principal); released on drop.
struct InFlight {
    limiter: JiraLimiter,
    key: String,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut counts = self.limiter.inner.in_flight.lock();
        if let Some(n) = counts.get_mut(&self.key) {
            *n = n.saturating_sub(1);
        }
    }
}

/// The layer of one simulated site.
pub type JiraLimitLayer = MiddlewareLayer<SiteLimiter>;

/// A [`JiraLimiter`] bound to one site name (or none: the tenant comes from the token).
#[derive(Clone)]
pub struct SiteLimiter {
    limiter: JiraLimiter,
    site: Option<Arc<str>>,
}

impl JiraLimiter {
    /// A limiter with fresh state; its virtual hour starts now.
    pub fn new(profile: JiraProfile) -> Self {
        let rng = ChaCha8Rng::seed_from_u64(profile.seed);
        Self {
            inner: Arc::new(Inner {
                profile,
                epoch: Mutex::new(Epoch::now()),
                state: Mutex::new(State::default()),
                rng: Mutex::new(rng),
                in_flight: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// The profile in force.
    pub fn profile(&self) -> &JiraProfile {
        &self.inner.profile
    }

    /// A layer where the tenant is read from each request's credentials.
    pub fn layer(&self) -> JiraLimitLayer {
        MiddlewareLayer(SiteLimiter {
            limiter: self.clone(),
            site: None,
        })
    }

    /// A layer for the site `site`: every request through it belongs to that tenant.
    pub fn layer_for_site(&self, site: &str) -> JiraLimitLayer {
        MiddlewareLayer(SiteLimiter {
            limiter: self.clone(),
            site: Some(site.into()),
        })
    }

    /// Forgets all usage and restarts the virtual hour (`POST /_sim/reset`).
    pub fn reset(&self) {
        *self.inner.state.lock() = State::default();
        *self.inner.epoch.lock() = Epoch::now();
    }

    fn now(&self) -> (Epoch, f64) {
        let epoch = *self.inner.epoch.lock();
        (epoch, epoch.elapsed(Instant::now()))
    }
}

impl Middleware for SiteLimiter {
    fn handle(&self, req: Request, next: Next) -> BoxResponse {
        let this = self.clone();
        Box::pin(async move { this.run(req, next).await })
    }
}

impl SiteLimiter {
    async fn run(self, req: Request, next: Next) -> Response {
        let inner = &self.limiter.inner;
        let profile = &inner.profile;
        let template = req
            .extensions()
            .get::<MatchedPath>()
            .map_or_else(|| "(unmatched)".to_owned(), |m| m.as_str().to_owned());
        let method = req.method().clone();
        let caller = Caller::identify(req.headers(), self.site.as_deref());
        let ask = self.ask(&caller, &method, &template, req.uri().path());
        let (epoch, now) = self.limiter.now();
        let key = format!("{}\u{1f}{}", caller.tenant, caller.principal);
        let _in_flight = match self.enter(key) {
            Ok(guard) => Some(guard),
            Err(None) => None,
            Err(Some(max)) => {
                let refusal = Refusal::Concurrent { max };
                let mut metered = Metered::new(caller.kind, &caller.tenant);
                metered.hit = Some(refusal_reason(&refusal));
                let mut resp = refusal_response(&refusal, profile, &epoch, now);
                resp.extensions_mut().insert(metered);
                return resp;
            }
        };
        let decision = inner.state.lock().admit(&ask, now);
        let mut metered = Metered::new(caller.kind, &caller.tenant);
        let admitted = match decision {
            Ok(a) => a,
            Err(refusal) => {
                metered.hit = Some(refusal_reason(&refusal));
                let mut resp = refusal_response(&refusal, profile, &epoch, now);
                resp.extensions_mut().insert(metered);
                return resp;
            }
        };
        metered.points = u64::from(admitted.pool.is_some());

        let (delay_ms, tail_503) = {
            let mut rng = inner.rng.lock();
            let base = sample_ms(
                &profile.latency,
                profile.latency_scale,
                method.as_str(),
                &template,
                &mut *rng,
            );
            let slow = rng.r#gen::<f64>() < profile.slow_tail;
            let tail = if slow {
                rng.gen_range(5_000.0..10_000.0)
            } else {
                0.0
            };
            (base + tail, rng.r#gen::<f64>() < profile.error503)
        };
        if delay_ms > 0.0 {
            tokio::time::sleep(std::time::Duration::from_secs_f64(delay_ms / 1000.0)).await;
        }
        if tail_503 {
            let mut resp =
                (StatusCode::SERVICE_UNAVAILABLE, [("retry-after", "2")]).into_response();
            metered.fault = Some("profile-503");
            resp.extensions_mut().insert(metered);
            return resp;
        }

        let mut resp = next.run(req).await;
        if let Some(pool) = &admitted.pool {
            let total = points_for(
                profile,
                &method,
                &template,
                resp.extensions().get::<CostHint>(),
            );
            inner.state.lock().charge(pool, total.saturating_sub(1));
            metered.points = total;
        }
        self.success_headers(resp.headers_mut(), &admitted);
        resp.extensions_mut().insert(metered);
        resp
    }

    /// Takes an in-flight slot: `Err(None)` when uncapped, `Err(Some(max))` when full.
    fn enter(&self, key: String) -> Result<InFlight, Option<u32>> {
        let max = self.limiter.inner.profile.max_in_flight.ok_or(None)?;
        let mut counts = self.limiter.inner.in_flight.lock();
        let n = counts.entry(key.clone()).or_insert(0);
        if *n >= max {
            return Err(Some(max));
        }
        *n += 1;
        Ok(InFlight {
            limiter: self.limiter.clone(),
            key,
        })
    }

    fn ask<'a>(
        &'a self,
        caller: &Caller,
        method: &Method,
        template: &str,
        raw_path: &str,
    ) -> Ask<'a> {
        let profile = &self.limiter.inner.profile;
        let normalized = normalize_template(template);
        let pays_points = matches!(caller.kind, "jwt" | "bearer") && profile.quota.is_some();
        let pool = pays_points.then(|| match profile.quota.as_ref().map(|q| q.pool) {
            Some(super::profile::Pool::Tenant) => format!("{}\u{1f}{}", caller.app, caller.tenant),
            _ => caller.app.clone(),
        });
        let bucket = profile.burst.as_ref().map(|cfg| {
            let rate = burst_rate(cfg, method.as_str(), &normalized);
            (
                format!(
                    "b\u{1f}{}\u{1f}{}\u{1f}{}",
                    caller.tenant, method, normalized
                ),
                rate,
            )
        });
        let user_search = is_user_search(&normalized).then(|| format!("u\u{1f}{}", caller.tenant));
        let is_write = !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
        let issue = (is_write && !profile.per_issue.is_empty())
            .then(|| issue_in_path(template, raw_path))
            .flatten()
            .map(|i| format!("{}\u{1f}{}", caller.tenant, i));
        Ask {
            pool,
            bucket,
            user_search,
            issue,
            profile,
        }
    }

    fn success_headers(&self, headers: &mut HeaderMap, admitted: &Admitted) {
        let inner = &self.limiter.inner;
        let profile = &inner.profile;
        if let Some((rate, tokens)) = admitted.bucket {
            put(
                headers,
                "x-ratelimit-limit",
                format!("{}", rate.round() as u64),
            );
            put(
                headers,
                "x-ratelimit-remaining",
                format!("{}", tokens.floor() as u64),
            );
        }
        let (Some(pool), Some(q)) = (&admitted.pool, &profile.quota) else {
            return;
        };
        let (_, now) = self.limiter.now();
        let (left, to_reset) = inner.state.lock().remaining(pool, q, now);
        let policy = quota_policy(q.pool);
        let near = (left as f64) < profile.near_limit * q.points_per_hour as f64;
        put(
            headers,
            "beta-ratelimit-policy",
            format!(
                "\"{policy}\";q={};w={}",
                q.points_per_hour,
                q.hour_secs.round() as u64
            ),
        );
        let t = retry_after_secs(to_reset);
        let value = if near {
            format!("\"{policy}\";r={left};t={t}")
        } else {
            format!("\"{policy}\";t={t}")
        };
        put(headers, "beta-ratelimit", value);
        if near {
            put(headers, "x-ratelimit-nearlimit", "true".into());
        }
    }
}
