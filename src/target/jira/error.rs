//! What a failed Jira call reports.
//!
//! Jira's `ErrorCollection` carries validation texts about fields ("Field 'x' cannot be set"),
//! which an operator needs to fix a mapping; they are kept, cut short. Response bodies of
//! successful calls, request bodies and credentials never appear here.

use std::{collections::BTreeMap, time::Duration};

use serde_json::Value;

/// Why a Jira call failed.
#[derive(Debug, thiserror::Error)]
pub enum JiraCallError {
    /// Jira answered with an error status (4xx, or 5xx after retries).
    #[error("Jira answered HTTP {status}{}", summary(error_messages, errors))]
    Http {
        /// HTTP status.
        status: u16,
        /// `ErrorCollection.errorMessages`.
        error_messages: Vec<String>,
        /// `ErrorCollection.errors`: field id → message.
        errors: BTreeMap<String, String>,
    },
    /// Jira kept answering 429 (or 503 with `Retry-After`) beyond the cap or the budget.
    #[error("Jira is rate limiting{} (retry after {retry_after:?})", reason.as_ref().map(|r| format!(" ({r})")).unwrap_or_default())]
    RateLimited {
        /// The last `Retry-After`, if Jira sent one.
        retry_after: Option<Duration>,
        /// `RateLimit-Reason`, e.g. `jira-quota-tenant-based`.
        reason: Option<String>,
    },
    /// Unreachable, timed out or cut off (after retries when the call was safe to repeat).
    #[error("Jira is unreachable: {0}")]
    Transport(String),
    /// The answer (or the request URL) did not have the expected shape.
    #[error("unexpected answer from Jira: {0}")]
    Shape(String),
}

impl JiraCallError {
    /// The HTTP status, for errors that have one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Http { status, .. } => Some(*status),
            Self::RateLimited { .. } => Some(429),
            _ => None,
        }
    }
}

fn summary(messages: &[String], errors: &BTreeMap<String, String>) -> String {
    let parts: Vec<String> = messages
        .iter()
        .cloned()
        .chain(errors.iter().map(|(k, v)| format!("{k}: {v}")))
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!(": {}", parts.join("; "))
    }
}

/// Jira's `ErrorCollection`, each text cut short (they are field validation texts).
pub(super) async fn error_from(response: reqwest::Response) -> JiraCallError {
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or_default();
    let short = |s: &str| s.chars().take(300).collect::<String>();
    let error_messages = body["errorMessages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .take(20)
        .map(short)
        .collect();
    let errors = body["errors"]
        .as_object()
        .into_iter()
        .flatten()
        .take(50)
        .map(|(k, v)| (short(k), short(v.as_str().unwrap_or_default())))
        .collect();
    JiraCallError::Http {
        status,
        error_messages,
        errors,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_http_error_shows_jiras_messages() {
        let e = JiraCallError::Http {
            status: 400,
            error_messages: vec!["Bad thing.".into()],
            errors: BTreeMap::from([("summary".into(), "You must specify a summary.".into())]),
        };
        assert_eq!(
            e.to_string(),
            "Jira answered HTTP 400: Bad thing.; summary: You must specify a summary."
        );
        assert_eq!(e.status(), Some(400));
    }
}
