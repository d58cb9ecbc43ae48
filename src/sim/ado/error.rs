//! ADO's error body, so clients see the same JSON they get from dev.azure.com.
//!
//! ADO answers failures with `{"$id":"1","innerException":null,"message":…,"typeName":…,
//! "typeKey":…,"errorCode":0,"eventId":3000}`; clients match on the message's `VSnnnnnn:` or
//! `TFnnnnnn:` code and on `typeKey`, so both are reproduced where they are known.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// A failure answered in ADO's error shape.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{status} {type_key}: {message}")]
pub struct AdoError {
    /// HTTP status.
    pub status: StatusCode,
    /// The human message, starting with ADO's code where ADO has one.
    pub message: String,
    /// The short exception name (`typeKey`).
    pub type_key: &'static str,
}

impl AdoError {
    /// A 400 with the given exception name.
    pub fn bad_request(type_key: &'static str, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
            type_key,
        }
    }

    /// A 404 with the given exception name.
    pub fn not_found(type_key: &'static str, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            message: message.into(),
            type_key,
        }
    }

    /// TF401232, what ADO says for a work item that does not exist or cannot be read.
    pub fn work_item_not_found(id: i64) -> Self {
        Self::not_found(
            "WorkItemUnauthorizedAccessException",
            format!(
                "TF401232: Work item {id} does not exist, or you do not have permissions to read it."
            ),
        )
    }

    /// An argument ADO rejects (`ArgumentException`).
    pub fn argument(message: impl Into<String>) -> Self {
        Self::bad_request("ArgumentException", message)
    }

    fn type_name(&self) -> String {
        let assembly = if self.type_key.starts_with("Vss") {
            "Microsoft.VisualStudio.Services.WebApi"
        } else if self.type_key.starts_with("Project") {
            "Microsoft.TeamFoundation.Core.WebApi"
        } else if self.type_key == "ArgumentException" {
            return "System.ArgumentException, mscorlib".into();
        } else {
            "Microsoft.TeamFoundation.WorkItemTracking.Server"
        };
        format!("{assembly}.{}, {assembly}", self.type_key)
    }
}

impl IntoResponse for AdoError {
    fn into_response(self) -> Response {
        let body = json!({
            "$id": "1",
            "innerException": null,
            "message": self.message,
            "typeName": self.type_name(),
            "typeKey": self.type_key,
            "errorCode": 0,
            "eventId": 3000,
        });
        (
            self.status,
            [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
            body.to_string(),
        )
            .into_response()
    }
}
