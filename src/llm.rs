//! A minimal client for an OpenAI-compatible chat-completions endpoint, used only to suggest
//! mapping rules the deterministic draft left open (see [`crate::mapping::suggest`]).
//!
//! It is deliberately small: one call, JSON mode, a timeout and one retry. Its errors are fixed
//! phrases plus a status code, never the response body (which may echo the prompt) nor the API
//! key, because they reach logs, the audit log and the admin's screen.
//! <https://platform.openai.com/docs/api-reference/chat/create>

use std::time::Duration;

use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use url::Url;

use crate::config::LlmConfig;

/// How long one attempt may take; a slow model must not hold the admin's draft for long.
pub const TIMEOUT: Duration = Duration::from_secs(30);
/// The largest answer read; suggestions for a schema are a few kilobytes.
const MAX_ANSWER: usize = 1024 * 1024;

/// Why a completion failed. The messages are safe to show: no body, no key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LlmError {
    /// No answer in time (after the retry).
    #[error("the model did not answer in time")]
    Timeout,
    /// Connection refused, DNS, TLS…
    #[error("the model endpoint could not be reached")]
    Unreachable,
    /// A non-2xx answer.
    #[error("the model endpoint answered HTTP {0}")]
    Status(u16),
    /// A 2xx answer that is not a chat completion whose content is a JSON object.
    #[error("the model's answer is not a JSON object")]
    BadAnswer,
}

/// One configured endpoint and model.
pub struct LlmClient {
    http: reqwest::Client,
    endpoint: Url,
    model: String,
    api_key: Option<SecretString>,
}

impl LlmClient {
    /// A client for `config`, each attempt bounded by `timeout`.
    pub fn new(config: &LlmConfig, timeout: Duration) -> anyhow::Result<Self> {
        let mut endpoint = config.url.clone();
        let path = format!("{}/chat/completions", endpoint.path().trim_end_matches('/'));
        endpoint.set_path(&path);
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self {
            http,
            endpoint,
            model: config.model.clone(),
            api_key: config.api_key.clone(),
        })
    }

    /// The model name, as sent and as recorded on suggested rules.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// Sends `body` (a chat-completions request without `model`, which is added here) and
    /// returns the first choice's content parsed as a JSON object. Retries once on a timeout,
    /// a lost connection or a 5xx.
    #[tracing::instrument(skip_all, fields(model = %self.model))]
    pub async fn complete(&self, body: &Value) -> Result<Value, LlmError> {
        let mut body = body.clone();
        body["model"] = Value::String(self.model.clone());
        match self.attempt(&body).await {
            Err(e @ (LlmError::Timeout | LlmError::Unreachable))
            | Err(e @ LlmError::Status(500..=599)) => {
                tracing::debug!(error = %e, "retrying the model once");
                tokio::time::sleep(Duration::from_millis(300)).await;
                self.attempt(&body).await
            }
            other => other,
        }
    }

    async fn attempt(&self, body: &Value) -> Result<Value, LlmError> {
        let mut req = self.http.post(self.endpoint.clone()).json(body);
        if let Some(key) = &self.api_key {
            req = req.bearer_auth(key.expose_secret());
        }
        let mut resp = req.send().await.map_err(transport)?;
        let status = resp.status();
        if !status.is_success() {
            return Err(LlmError::Status(status.as_u16()));
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(transport)? {
            if bytes.len() + chunk.len() > MAX_ANSWER {
                return Err(LlmError::BadAnswer);
            }
            bytes.extend_from_slice(&chunk);
        }
        content(&bytes).ok_or(LlmError::BadAnswer)
    }
}

fn transport(e: reqwest::Error) -> LlmError {
    if e.is_timeout() {
        LlmError::Timeout
    } else if let Some(s) = e.status().filter(StatusCode::is_server_error) {
        LlmError::Status(s.as_u16())
    } else {
        LlmError::Unreachable
    }
}

/// `choices[0].message.content`, parsed as a JSON object.
fn content(bytes: &[u8]) -> Option<Value> {
    let completion: Value = serde_json::from_slice(bytes).ok()?;
    let text = completion.pointer("/choices/0/message/content")?.as_str()?;
    let answer: Value = serde_json::from_str(text.trim()).ok()?;
    answer.is_object().then_some(answer)
}

#[cfg(test)]
mod tests {
    use std::sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    };

    use axum::{Router, http::StatusCode, routing::post};
    use serde_json::json;

    use super::*;

    /// A server whose `n`-th answer (from 0) is `answer(n)`, counting calls.
    async fn server(
        answer: fn(usize) -> (StatusCode, String),
        delay: Duration,
    ) -> (Url, Arc<AtomicUsize>) {
        let calls = Arc::new(AtomicUsize::new(0));
        let seen = calls.clone();
        let app = Router::new().route(
            "/v1/chat/completions",
            post(move || {
                let n = seen.fetch_add(1, Ordering::SeqCst);
                async move {
                    tokio::time::sleep(delay).await;
                    answer(n)
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, app).await });
        (
            Url::parse(&format!("http://{addr}/v1/")).expect("url"),
            calls,
        )
    }

    fn client(url: Url, timeout: Duration) -> LlmClient {
        let config = LlmConfig {
            url,
            model: "m".into(),
            api_key: Some(SecretString::from("sk-secret".to_owned())),
        };
        LlmClient::new(&config, timeout).expect("client")
    }

    fn completion(content: &str) -> String {
        json!({ "choices": [{ "message": { "role": "assistant", "content": content } }] })
            .to_string()
    }

    #[tokio::test]
    async fn a_5xx_is_retried_once_and_the_answer_is_the_content_object() {
        let (url, calls) = server(
            |n| match n {
                0 => (StatusCode::BAD_GATEWAY, "sk-secret echoed".into()),
                _ => (StatusCode::OK, completion(r#"{"types": []}"#)),
            },
            Duration::ZERO,
        )
        .await;
        let got = client(url, TIMEOUT).complete(&json!({})).await;
        assert_eq!(got, Ok(json!({ "types": [] })));
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn errors_name_the_status_but_never_the_body_or_key() {
        let (url, calls) = server(
            |_| (StatusCode::INTERNAL_SERVER_ERROR, "sk-secret leaked".into()),
            Duration::ZERO,
        )
        .await;
        let err = client(url, TIMEOUT)
            .complete(&json!({}))
            .await
            .expect_err("fails");
        assert_eq!(err, LlmError::Status(500));
        assert!(!err.to_string().contains("secret"));
        assert_eq!(calls.load(Ordering::SeqCst), 2, "one retry");
        let (url, calls) = server(
            |_| (StatusCode::UNAUTHORIZED, String::new()),
            Duration::ZERO,
        )
        .await;
        let err = client(url, TIMEOUT).complete(&json!({})).await;
        assert_eq!(err, Err(LlmError::Status(401)));
        assert_eq!(calls.load(Ordering::SeqCst), 1, "no retry for a 4xx");
    }

    #[tokio::test]
    async fn garbage_and_slowness_are_typed_errors() {
        let (url, _) = server(|_| (StatusCode::OK, completion("not json")), Duration::ZERO).await;
        let got = client(url, TIMEOUT).complete(&json!({})).await;
        assert_eq!(got, Err(LlmError::BadAnswer));
        let (url, calls) = server(
            |_| (StatusCode::OK, completion("{}")),
            Duration::from_millis(500),
        )
        .await;
        let got = client(url, Duration::from_millis(100))
            .complete(&json!({}))
            .await;
        assert_eq!(got, Err(LlmError::Timeout));
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }
}
