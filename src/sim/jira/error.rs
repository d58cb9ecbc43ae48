//! Errors in Jira's own shape, `ErrorCollection {errorMessages[], errors{}}`.
//!
//! Clients (Ferry's included) branch on these bodies, so every refusal the simulator makes
//! uses the status code and shape the spec documents for that operation.

use std::collections::BTreeMap;

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::de::DeserializeOwned;
use serde_json::json;

/// A refusal: status plus Jira's `errorMessages` and per-field `errors`.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{status}: {messages:?} {errors:?}")]
pub struct JiraError {
    /// HTTP status.
    pub status: StatusCode,
    /// General messages.
    pub messages: Vec<String>,
    /// Field id → message.
    pub errors: BTreeMap<String, String>,
}

/// Result type of every handler.
pub type JiraResult<T> = Result<T, JiraError>;

impl JiraError {
    /// A general message.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            messages: vec![message.into()],
            errors: BTreeMap::new(),
        }
    }

    /// A message about one field.
    pub fn field(status: StatusCode, field: &str, message: impl Into<String>) -> Self {
        let mut errors = BTreeMap::new();
        errors.insert(field.to_owned(), message.into());
        Self {
            status,
            messages: Vec::new(),
            errors,
        }
    }

    /// 400 with a general message.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// 404 for an issue, worded as Jira words it.
    pub fn no_issue() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "Issue does not exist or you do not have permission to see it.",
        )
    }

    /// 404 for anything else.
    pub fn not_found(what: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, what)
    }

    /// 413 for a per-issue data cap.
    pub fn too_large(message: impl Into<String>) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, message)
    }

    /// The `ErrorCollection` body.
    pub fn body(&self) -> serde_json::Value {
        json!({ "errorMessages": self.messages, "errors": self.errors })
    }
}

impl IntoResponse for JiraError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body())).into_response()
    }
}

/// Parses a JSON body, refusing malformed input with a Jira-shaped 400 rather than axum's text.
pub fn parse_body<T: DeserializeOwned>(bytes: &[u8]) -> JiraResult<T> {
    serde_json::from_slice(bytes).map_err(|e| {
        JiraError::bad_request(format!(
            "Invalid request payload. Refer to the REST API documentation and try again. ({e})"
        ))
    })
}

/// Unknown routes: Jira answers 404 with an error collection.
pub async fn not_found() -> JiraError {
    JiraError::not_found("null for uri: the requested resource does not exist")
}
