//! A typed, retrying Jira Cloud REST client, as a Connect app or with an API token.
//!
//! - Connect: every attempt is signed afresh by [`HostClient`] (qsh of exactly that request).
//!   Basic: `base64(email:token)`, the headless `ferry migrate` mode.
//! - 429, and 503 with `Retry-After`, wait as long as Jira asks, up to a cap; a longer wait (an
//!   exhausted hourly quota) or a spent budget comes back as [`JiraCallError::RateLimited`] so
//!   the engine can pause the run instead of holding a call open for an hour.
//!   <https://developer.atlassian.com/cloud/jira/platform/rate-limiting/>
//! - With a [`Governor`] (the engine's points budget) every attempt is admitted by it first,
//!   and a 429 with a known `RateLimit-Reason` is reported to it and tried again once it
//!   admits the call: it waits for the quota reset, slows the endpoint or delays the issue,
//!   for every worker at once, always at least the `Retry-After` Jira asked for.
//! - Other 5xx and transport errors are retried with jittered backoff, but only for calls that
//!   are safe to repeat: a `POST` that may have been applied is returned as an error, because a
//!   write with an unknown outcome must be reconciled against Jira before it is tried again
//!   (DESIGN: idempotency). [`JiraClient::post_json_idempotent`] is for reads over POST.
//! - 4xx come back typed, with Jira's `errorMessages`/`errors` (validation texts about fields).
//!   Neither request bodies nor tokens are logged; logs name the path without its query.

use std::{sync::Arc, time::Duration};

use base64::Engine as _;
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::{Serialize, de::DeserializeOwned};
use url::Url;

use super::{
    error::{JiraCallError, error_from},
    govern::{Governor, Throttle, Ticket},
    retry::{RetryPolicy, backoff, header, retry_after},
};
use crate::connect::outbound::{HostClient, TenantCredentials};

/// How the client proves who it is.
#[derive(Clone)]
pub enum JiraAuth {
    /// As the installed Connect app, for one tenant.
    Connect {
        /// Signs each request with the tenant's shared secret.
        host: HostClient,
        /// The tenant's base URL and shared secret.
        tenant: TenantCredentials,
    },
    /// As one user, with a token the app obtained for them by impersonation
    /// ([`crate::connect::act_as`]); what it writes is that user's.
    Bearer {
        /// The tenant's base URL.
        site: Url,
        /// The user's short-lived access token.
        token: SecretString,
    },
    /// As a user with an API token (the headless mode; may use `/bulk/*`, which Connect may not).
    Basic {
        /// The site's base URL, e.g. `https://acme.atlassian.net`.
        site: Url,
        /// The user's e-mail.
        email: String,
        /// The user's API token.
        token: SecretString,
    },
}

impl std::fmt::Debug for JiraAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Connect { tenant, .. } => f.debug_tuple("Connect").field(tenant).finish(),
            Self::Bearer { site, .. } => f
                .debug_struct("Bearer")
                .field("site", &site.as_str())
                .finish_non_exhaustive(),
            Self::Basic { site, .. } => f
                .debug_struct("Basic")
                .field("site", &site.as_str())
                .finish_non_exhaustive(),
        }
    }
}

/// The client for one Jira site.
#[derive(Clone)]
pub struct JiraClient {
    auth: JiraAuth,
    http: reqwest::Client,
    /// The whole `Authorization` value for Basic and Bearer (Connect signs each request).
    fixed: Option<SecretString>,
    policy: RetryPolicy,
    governor: Option<Arc<dyn Governor>>,
}

/// 429s with a known reason one call is tried again after, each once its governor admits it
/// (quota waits included); a call refused more often than this gives up.
const MAX_GOVERNED_RETRIES: u32 = 60;

impl std::fmt::Debug for JiraClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JiraClient")
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}

/// Whether a call may be sent again after an answer that leaves its effect unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Replay {
    Safe,
    Unsafe,
}

impl JiraClient {
    /// A client with the default retry policy and a 60 s timeout per attempt.
    pub fn new(auth: JiraAuth) -> Result<Self, JiraCallError> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(60))
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| JiraCallError::Transport(e.to_string()))?;
        let fixed = fixed_header(&auth);
        Ok(Self {
            auth,
            http,
            fixed,
            policy: RetryPolicy::default(),
            governor: None,
        })
    }

    /// The same client with another retry policy.
    pub fn with_policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The same client with every attempt admitted by `governor` and its 429s reported to it.
    pub fn with_governor(mut self, governor: Arc<dyn Governor>) -> Self {
        self.governor = Some(governor);
        self
    }

    /// The same client (retry policy, governor, connection pool) acting as the user whose
    /// impersonation `token` is given.
    pub fn acting_as(&self, token: SecretString) -> Self {
        let auth = JiraAuth::Bearer {
            site: self.site().clone(),
            token,
        };
        Self {
            fixed: fixed_header(&auth),
            auth,
            ..self.clone()
        }
    }

    /// True for a client signed as the installed Connect app (the only kind that can
    /// impersonate users).
    pub fn is_connect(&self) -> bool {
        matches!(self.auth, JiraAuth::Connect { .. })
    }

    /// True when a governor admits every attempt (Connect tenants: the points budget bounds
    /// how many calls go at once); false for API-token clients, which only honour Retry-After.
    pub fn governed(&self) -> bool {
        self.governor.is_some()
    }

    /// The site's base URL.
    pub fn site(&self) -> &Url {
        match &self.auth {
            JiraAuth::Connect { tenant, .. } => &tenant.base_url,
            JiraAuth::Basic { site, .. } | JiraAuth::Bearer { site, .. } => site,
        }
    }

    /// GET `path_and_query` (e.g. `/rest/api/3/field`) and decode JSON.
    pub async fn get_json<T: DeserializeOwned>(
        &self,
        path_and_query: &str,
    ) -> Result<T, JiraCallError> {
        self.call(Method::GET, path_and_query, None::<&()>, Replay::Safe)
            .await
    }

    /// POST JSON and decode JSON. Not repeated after a 5xx or a lost answer: the write may
    /// have happened, and the caller must reconcile before trying again.
    pub async fn post_json<B: Serialize, T: DeserializeOwned>(
        &self,
        path_and_query: &str,
        body: &B,
    ) -> Result<T, JiraCallError> {
        self.call(Method::POST, path_and_query, Some(body), Replay::Unsafe)
            .await
    }

    /// POST JSON for a call that is safe to repeat (a search, a permission check, an upsert).
    pub async fn post_json_idempotent<B: Serialize, T: DeserializeOwned>(
        &self,
        path_and_query: &str,
        body: &B,
    ) -> Result<T, JiraCallError> {
        self.call(Method::POST, path_and_query, Some(body), Replay::Safe)
            .await
    }

    /// PUT JSON (idempotent) and decode JSON; an empty answer (204) decodes as JSON `null`.
    pub async fn put_json<B: Serialize, T: DeserializeOwned>(
        &self,
        path_and_query: &str,
        body: &B,
    ) -> Result<T, JiraCallError> {
        self.call(Method::PUT, path_and_query, Some(body), Replay::Safe)
            .await
    }

    #[tracing::instrument(skip_all, fields(method = %method, path = path_and_query.split('?').next().unwrap_or("")))]
    async fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<&B>,
        replay: Replay,
    ) -> Result<T, JiraCallError> {
        let (response, ticket) = self
            .send_governed(method, path_and_query, body, replay)
            .await?;
        let bytes = response
            .bytes()
            .await
            .map_err(|e| JiraCallError::Transport(e.without_url().to_string()))?;
        if let Some(t) = ticket {
            t.answered(&bytes);
        }
        let bytes: &[u8] = if bytes.is_empty() { b"null" } else { &bytes };
        serde_json::from_slice(bytes).map_err(|e| JiraCallError::Shape(e.to_string()))
    }

    pub(super) fn request(
        &self,
        method: Method,
        path_and_query: &str,
    ) -> Result<reqwest::RequestBuilder, JiraCallError> {
        let bad_url = |e: url::ParseError| JiraCallError::Shape(format!("bad request URL: {e}"));
        let request = match &self.auth {
            JiraAuth::Connect { host, tenant } => host
                .request(tenant, method, path_and_query)
                .map_err(bad_url)?,
            JiraAuth::Basic { site, .. } | JiraAuth::Bearer { site, .. } => {
                let base = site.as_str().trim_end_matches('/');
                let url = Url::parse(&format!("{base}{path_and_query}")).map_err(bad_url)?;
                let auth = self.fixed.as_ref().map(ExposeSecret::expose_secret);
                self.http
                    .request(method, url)
                    .header(reqwest::header::AUTHORIZATION, auth.unwrap_or_default())
            }
        };
        Ok(request.header(reqwest::header::ACCEPT, "application/json"))
    }

    /// Sends with retries; the answer's points are charged at their estimate.
    #[allow(dead_code)]
    async fn send<B: Serialize>(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<&B>,
        replay: Replay,
    ) -> Result<reqwest::Response, JiraCallError> {
        let (response, _ticket) = self
            .send_governed(method, path_and_query, body, replay)
            .await?;
        Ok(response)
    }

    /// Sends with retries; returns the successful answer and, when governed, its ticket (to be
    /// settled with the points the answer shows it cost).
    async fn send_governed<B: Serialize>(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<&B>,
        replay: Replay,
    ) -> Result<(reqwest::Response, Option<Ticket>), JiraCallError> {
        let path = path_and_query.split('?').next().unwrap_or("");
        let mut attempt = 0;
        let mut governed = 0;
        let mut waited = Duration::ZERO;
        loop {
            let mut ticket = match &self.governor {
                Some(g) => Some(g.admit(&method, path).await?),
                None => None,
            };
            attempt += 1;
            let mut request = self.request(method.clone(), path_and_query)?;
            if let Some(b) = body {
                request = request.json(b);
            }
            let (wait, failure) = match request.send().await {
                Ok(response) if response.status().is_success() => {
                    if let Some(g) = &self.governor {
                        g.observe(response.headers()).await;
                    }
                    return Ok((response, ticket));
                }
                Ok(response) => {
                    let status = response.status();
                    let asked = retry_after(response.headers());
                    let throttled = status == StatusCode::TOO_MANY_REQUESTS
                        || (status == StatusCode::SERVICE_UNAVAILABLE && asked.is_some());
                    let reason = header(response.headers(), "ratelimit-reason");
                    let kind = (status == StatusCode::TOO_MANY_REQUESTS)
                        .then(|| Throttle::from_reason(reason.as_deref()))
                        .flatten();
                    if let (Some(g), Some(kind)) = (&self.governor, kind) {
                        // Refused for rate: not applied, so even a write may go again, once
                        // the governor admits it (it waits at least `Retry-After`).
                        if let Some(t) = ticket.take() {
                            t.refused();
                        }
                        let wait = asked.unwrap_or(Duration::from_secs(1));
                        g.throttled(kind.clone(), &method, path, wait, response.headers())
                            .await;
                        governed += 1;
                        tracing::debug!(
                            ?kind,
                            wait_ms = wait.as_millis() as u64,
                            governed,
                            "Jira throttled a call"
                        );
                        if governed > MAX_GOVERNED_RETRIES {
                            return Err(JiraCallError::RateLimited {
                                retry_after: asked,
                                reason,
                            });
                        }
                        attempt -= 1;
                        continue;
                    }
                    if throttled {
                        if let Some(t) = ticket.take() {
                            t.refused();
                        }
                        let failure = JiraCallError::RateLimited {
                            retry_after: asked,
                            reason,
                        };
                        match asked {
                            Some(a) if a > self.policy.max_retry_after => return Err(failure),
                            Some(a) => (a, failure),
                            None => (self.backoff(attempt), failure),
                        }
                    } else if status.is_server_error() && replay == Replay::Safe {
                        (self.backoff(attempt), error_from(response).await)
                    } else {
                        return Err(error_from(response).await);
                    }
                }
                Err(e) if e.is_builder() => {
                    return Err(JiraCallError::Shape(e.without_url().to_string()));
                }
                Err(e) => {
                    // A refused connection never reached Jira, so even a write may go again.
                    let unsent = e.is_connect();
                    let failure = JiraCallError::Transport(e.without_url().to_string());
                    if replay == Replay::Unsafe && !unsent {
                        return Err(failure);
                    }
                    (self.backoff(attempt), failure)
                }
            };
            if attempt >= self.policy.max_attempts || waited + wait > self.policy.budget {
                return Err(failure);
            }
            tracing::debug!(
                attempt,
                wait_ms = wait.as_millis() as u64,
                error = %failure,
                "Jira call failed; retrying"
            );
            waited += wait;
            tokio::time::sleep(wait).await;
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        backoff(self.policy.backoff_base, attempt)
    }
}

/// The `Authorization` value of a client whose credential does not change per request.
fn fixed_header(auth: &JiraAuth) -> Option<SecretString> {
    match auth {
        JiraAuth::Basic { email, token, .. } => {
            let raw = format!("{email}:{}", token.expose_secret());
            let b64 = base64::engine::general_purpose::STANDARD.encode(raw);
            Some(SecretString::from(format!("Basic {b64}")))
        }
        JiraAuth::Bearer { token, .. } => Some(SecretString::from(format!(
            "Bearer {}",
            token.expose_secret()
        ))),
        JiraAuth::Connect { .. } => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic() -> JiraClient {
        JiraClient::new(JiraAuth::Basic {
            site: Url::parse("https://acme.atlassian.net").expect("url"),
            email: "bot@acme.example".into(),
            token: SecretString::from("tok3n-value".to_owned()),
        })
        .expect("client")
    }

    #[test]
    fn debug_output_never_shows_the_token_or_the_basic_header() {
        let shown = format!("{:?}", basic());
        assert!(!shown.contains("tok3n"), "{shown}");
        let header =
            base64::engine::general_purpose::STANDARD.encode("bot@acme.example:tok3n-value");
        assert!(!shown.contains(&header), "{shown}");
        assert!(shown.contains("acme.atlassian.net"));
    }
}
