//! A typed, paced, retrying Azure DevOps REST client (PAT over Basic auth).
//!
//! - Reaches only the addresses the [`super::guard`] checked (pinned), never follows redirects.
//! - Retries 429 and 5xx with the delay ADO asks for (`Retry-After`), else exponential
//!   backoff with jitter; slows down on its own when `X-RateLimit-Remaining` runs low, so a
//!   scan stays under TSTU throttling instead of bouncing off it.
//!   <https://learn.microsoft.com/azure/devops/integrate/concepts/rate-limits>
//! - Errors carry ADO's `typeKey` and a short message, never a response body (which may
//!   hold ticket content) and never the PAT.

use std::time::Duration;

use base64::Engine as _;
use reqwest::{Method, StatusCode, header::HeaderMap};
use secrecy::{ExposeSecret, SecretString};
use serde::{Serialize, de::DeserializeOwned};
use url::Url;

use super::guard::CheckedUrl;

/// Why an ADO call failed.
#[derive(Debug, thiserror::Error)]
pub enum AdoError {
    /// The PAT was refused (401) or lacks rights (403).
    #[error("Azure DevOps refused the personal access token (HTTP {0})")]
    Unauthorized(u16),
    /// The organization, project or item does not exist.
    #[error("not found in Azure DevOps")]
    NotFound,
    /// WIQL's 20,000-result cap (VS402337).
    #[error("the query matches more than 20,000 work items")]
    QueryTooLarge,
    /// Any other answer ADO gave.
    #[error("Azure DevOps answered HTTP {status}: {type_key} {message}")]
    Http {
        /// HTTP status.
        status: u16,
        /// ADO's `typeKey`, e.g. `VssServiceException`.
        type_key: String,
        /// The first part of ADO's message.
        message: String,
    },
    /// Unreachable, timed out, or cut off, after retries.
    #[error("Azure DevOps is unreachable: {0}")]
    Transport(String),
    /// The answer did not have the documented shape.
    #[error("unexpected answer from Azure DevOps: {0}")]
    Shape(String),
}

/// Which product answers: api-versions differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// `https://dev.azure.com/{org}` (and legacy `*.visualstudio.com`).
    Services,
    /// An on-premises collection, `https://host/tfs/{collection}` or `https://host/{collection}`;
    /// 6.0 is served by Azure DevOps Server 2020 and later.
    Server,
}

const MAX_ATTEMPTS: u32 = 8;
/// How long one attachment download may take, body included (1 GB at ~1 MB/s).
pub const STREAM_TIMEOUT: Duration = Duration::from_secs(20 * 60);

/// The client for one organization or collection.
#[derive(Clone)]
pub struct AdoClient {
    base: Url,
    http: reqwest::Client,
    auth: SecretString,
    flavor: Flavor,
    max_attempts: u32,
}

impl std::fmt::Debug for AdoClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdoClient")
            .field("base", &self.base.as_str())
            .field("flavor", &self.flavor)
            .finish_non_exhaustive()
    }
}

impl AdoClient {
    /// A client for the checked organization URL, authenticating with `pat`.
    pub fn new(checked: &CheckedUrl, pat: &SecretString) -> Result<Self, AdoError> {
        let host = checked
            .url
            .host_str()
            .ok_or_else(|| AdoError::Shape("URL without host".into()))?;
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(60))
            .connect_timeout(Duration::from_secs(10));
        for addr in &checked.addrs {
            builder = builder.resolve(host, *addr);
        }
        let http = builder
            .build()
            .map_err(|e| AdoError::Transport(e.to_string()))?;
        let basic =
            base64::engine::general_purpose::STANDARD.encode(format!(":{}", pat.expose_secret()));
        // Services lives on these hosts only; anything else is a Server collection, whatever
        // its path (`/tfs/Coll` before 2019, `/Coll` since), and gets Server's api-versions.
        let flavor = if host == "dev.azure.com" || host.ends_with(".visualstudio.com") {
            Flavor::Services
        } else {
            Flavor::Server
        };
        Ok(Self {
            base: checked.url.clone(),
            http,
            auth: SecretString::from(format!("Basic {basic}")),
            flavor,
            max_attempts: MAX_ATTEMPTS,
        })
    }

    /// The same client for a person waiting on an answer (connecting, listing projects): one
    /// retry instead of a background job's patient backoff, so a dead host fails in seconds.
    pub fn interactive(mut self) -> Self {
        self.max_attempts = 2;
        self
    }

    /// The organization or collection URL, as checked by the guard.
    pub fn base_url(&self) -> &Url {
        &self.base
    }

    /// The api-version for an area: GA where there is one, preview where ADO has only that.
    pub fn api_version(&self, area: Area) -> &'static str {
        match (self.flavor, area) {
            (Flavor::Services, Area::General) => "7.1",
            (Flavor::Services, Area::Comments) => "7.1-preview.4",
            (Flavor::Server, Area::General) => "6.0",
            (Flavor::Server, Area::Comments) => "6.0-preview.3",
        }
    }

    /// `{base}/{path}` with `api-version` appended. `path` is already percent-encoded.
    pub fn url(&self, path: &str, area: Area) -> String {
        let sep = if path.contains('?') { '&' } else { '?' };
        format!(
            "{}/{path}{sep}api-version={}",
            self.base.as_str().trim_end_matches('/'),
            self.api_version(area)
        )
    }

    /// GET and decode JSON.
    pub async fn get_json<T: DeserializeOwned>(
        &self,
        path: &str,
        area: Area,
    ) -> Result<T, AdoError> {
        let response = self
            .send(Method::GET, &self.url(path, area), None::<&()>)
            .await?;
        response
            .json()
            .await
            .map_err(|e| AdoError::Shape(e.without_url().to_string()))
    }

    /// POST JSON and decode JSON.
    pub async fn post_json<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        area: Area,
        body: &B,
    ) -> Result<T, AdoError> {
        let response = self
            .send(Method::POST, &self.url(path, area), Some(body))
            .await?;
        response
            .json()
            .await
            .map_err(|e| AdoError::Shape(e.without_url().to_string()))
    }

    /// GET a full URL ADO handed out (an attachment), as a response to stream.
    /// The URL must be under this organization's base URL: a dataset cannot send Ferry elsewhere.
    /// The client's 60 s timeout covers the whole body, which a large file needs longer to
    /// stream: the download gets [`STREAM_TIMEOUT`] instead.
    pub async fn get_stream(&self, url: &str) -> Result<reqwest::Response, AdoError> {
        let parsed = Url::parse(url).map_err(|_| AdoError::Shape("bad attachment URL".into()))?;
        if parsed.origin() != self.base.origin() {
            return Err(AdoError::Shape(
                "attachment URL outside the organization".into(),
            ));
        }
        // Relation and inline-image URLs carry no api-version, which ADO requires.
        let url = if parsed.query_pairs().any(|(k, _)| k == "api-version") {
            url.to_owned()
        } else {
            let sep = if parsed.query().is_some() { '&' } else { '?' };
            format!("{url}{sep}api-version={}", self.api_version(Area::General))
        };
        self.send_with(Method::GET, &url, None::<&()>, Some(STREAM_TIMEOUT))
            .await
    }

    async fn send<B: Serialize>(
        &self,
        method: Method,
        url: &str,
        body: Option<&B>,
    ) -> Result<reqwest::Response, AdoError> {
        self.send_with(method, url, body, None).await
    }

    async fn send_with<B: Serialize>(
        &self,
        method: Method,
        url: &str,
        body: Option<&B>,
        timeout: Option<Duration>,
    ) -> Result<reqwest::Response, AdoError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut request = self
                .http
                .request(method.clone(), url)
                .header(reqwest::header::AUTHORIZATION, self.auth.expose_secret());
            if let Some(b) = body {
                request = request.json(b);
            }
            if let Some(t) = timeout {
                request = request.timeout(t);
            }
            let outcome = request.send().await;
            let wait = match outcome {
                Ok(response) => {
                    pace(response.headers()).await;
                    let status = response.status();
                    if status.is_success() {
                        return Ok(response);
                    }
                    if !(status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error())
                        || attempt >= self.max_attempts
                    {
                        return Err(error_from(response).await);
                    }
                    retry_after(response.headers()).unwrap_or_else(|| backoff(attempt))
                }
                Err(e) if attempt < self.max_attempts && !e.is_builder() => {
                    tracing::debug!(error = %e.without_url(), attempt, "ADO transport error; retrying");
                    backoff(attempt)
                }
                Err(e) => return Err(AdoError::Transport(e.without_url().to_string())),
            };
            tracing::debug!(
                attempt,
                wait_ms = wait.as_millis() as u64,
                "ADO asked to wait"
            );
            tokio::time::sleep(wait).await;
        }
    }
}

/// Which api-version family a call belongs to.
#[derive(Debug, Clone, Copy)]
pub enum Area {
    /// Projects, types, fields, nodes, WIQL, work items, attachments.
    General,
    /// Comments (preview on every ADO version).
    Comments,
}

/// `Retry-After` in seconds, capped at five minutes.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let secs: f64 = headers
        .get("retry-after")?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs_f64(secs.clamp(0.0, 300.0)))
}

fn backoff(attempt: u32) -> Duration {
    let base = 250u64 << attempt.min(7);
    Duration::from_millis(base + rand::random::<u64>() % base)
}

/// ADO reports how close a client is to throttling; below 10 % of the budget, wait for part of
/// the window to pass rather than be delayed and then refused.
async fn pace(headers: &HeaderMap) {
    let num = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok())
    };
    if let (Some(remaining), Some(limit)) = (num("x-ratelimit-remaining"), num("x-ratelimit-limit"))
        && limit > 0.0
        && remaining / limit < 0.1
    {
        let wait = num("x-ratelimit-reset")
            .map(|reset| reset - (crate::store::now_ms() as f64 / 1000.0))
            .unwrap_or(1.0)
            .clamp(0.1, 5.0);
        tokio::time::sleep(Duration::from_secs_f64(wait)).await;
    }
}

async fn error_from(response: reqwest::Response) -> AdoError {
    let status = response.status();
    match status {
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
            return AdoError::Unauthorized(status.as_u16());
        }
        StatusCode::NOT_FOUND => return AdoError::NotFound,
        _ => {}
    }
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    let message = body["message"].as_str().unwrap_or_default();
    if message.starts_with("VS402337") {
        return AdoError::QueryTooLarge;
    }
    AdoError::Http {
        status: status.as_u16(),
        type_key: body["typeKey"]
            .as_str()
            .unwrap_or_default()
            .chars()
            .take(80)
            .collect(),
        message: message.chars().take(160).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(url: &str) -> AdoClient {
        let checked = CheckedUrl {
            url: Url::parse(url).expect("url"),
            addrs: vec!["203.0.113.9:443".parse().expect("addr")],
        };
        AdoClient::new(&checked, &SecretString::from("pat".to_owned())).expect("client")
    }

    #[test]
    fn services_hosts_get_services_versions_and_every_other_host_is_a_server() {
        assert_eq!(
            client("https://dev.azure.com/contoso").flavor,
            Flavor::Services
        );
        assert_eq!(
            client("https://contoso.visualstudio.com").flavor,
            Flavor::Services
        );
        assert_eq!(
            client("https://tfs.example.com/tfs/DefaultCollection").flavor,
            Flavor::Server
        );
        assert_eq!(
            client("https://ado.example.com/DefaultCollection").flavor,
            Flavor::Server
        );
        assert_eq!(
            client("https://ado.example.com/DefaultCollection").api_version(Area::Comments),
            "6.0-preview.3"
        );
        assert_eq!(
            client("https://dev.azure.com/contoso").url("_apis/projects?$top=1", Area::General),
            "https://dev.azure.com/contoso/_apis/projects?$top=1&api-version=7.1"
        );
    }

    #[test]
    fn debug_output_never_shows_the_pat() {
        assert!(!format!("{:?}", client("https://dev.azure.com/contoso")).contains("Basic"));
    }
}
