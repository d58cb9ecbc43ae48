//! Attachment upload: `POST /rest/api/3/issue/{key}/attachments`, multipart with one part
//! `file`, header `X-Atlassian-Token: no-check` (Jira's XSRF guard for this endpoint).
//! <https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-attachments/>
//!
//! The file's bytes come from a stream (the ADO download) and go out as they arrive: the part
//! has a known length, so the request carries a `Content-Length` and no file is ever held in
//! memory. A stream can be sent only once, so this call makes exactly one attempt, 429
//! included: the caller opens a new stream for another attempt, and, after an answer that
//! leaves the outcome unknown (5xx, a cut connection), looks at the issue's attachments first.
//! The Connect JWT's qsh covers method, path and query only, so signing is as for any call.

use std::time::Duration;

use reqwest::{
    Method, StatusCode,
    multipart::{Form, Part},
};
use serde_json::Value;

use super::{
    JiraCallError, JiraClient,
    error::error_from,
    retry::{header, retry_after},
};

/// Time allowed for an upload before its bytes: connection, Jira's answer.
const UPLOAD_BASE_TIMEOUT: Duration = Duration::from_secs(120);
/// Slowest transfer rate tolerated, in bytes per second (1 GB in about 17 minutes).
const UPLOAD_MIN_RATE: u64 = 1 << 20;

/// One file to attach.
pub struct Upload {
    /// The file name as Jira will show it (see [`wire_name`]).
    pub name: String,
    /// Exact length of `body` in bytes, when known (else the request is sent chunked).
    pub size: Option<u64>,
    /// The bytes, streamed.
    pub body: reqwest::Body,
}

/// The name a file is uploaded under: quotes, backslashes and line breaks would break the
/// part's `Content-Disposition`, so they become `_`. Everything else goes as UTF-8, as a
/// browser sends it (reqwest's default percent-encoding would make Jira show `a%20b.png`).
/// Reconciliation compares Jira's names with this, not with ADO's.
pub fn wire_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if matches!(c, '"' | '\\' | '\r' | '\n') || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    if cleaned.trim().is_empty() {
        "file".to_owned()
    } else {
        cleaned
    }
}

impl JiraClient {
    /// Attaches one file to `issue` and returns Jira's description of it (`id`, `filename`,
    /// `size`, `content`, …). One attempt: never replayed, not even after a 429, because the
    /// stream is spent; a 429 comes back as [`JiraCallError::RateLimited`] with Jira's wait.
    pub async fn upload_attachment(
        &self,
        issue: &str,
        file: Upload,
    ) -> Result<Value, JiraCallError> {
        let path = format!("/rest/api/3/issue/{issue}/attachments");
        let name = wire_name(&file.name);
        let mime = mime_guess::from_path(&name).first_or_octet_stream();
        let part = match file.size {
            Some(size) => Part::stream_with_length(file.body, size),
            None => Part::stream(file.body),
        };
        let part = part
            .file_name(name)
            .mime_str(mime.as_ref())
            .map_err(|e| JiraCallError::Shape(e.without_url().to_string()))?;
        let form = Form::new().percent_encode_noop().part("file", part);
        let timeout = UPLOAD_BASE_TIMEOUT
            + Duration::from_secs(file.size.unwrap_or(1 << 30) / UPLOAD_MIN_RATE);
        let response = self
            .request(Method::POST, &path)?
            .header("X-Atlassian-Token", "no-check")
            .timeout(timeout)
            .multipart(form)
            .send()
            .await
            .map_err(|e| JiraCallError::Transport(e.without_url().to_string()))?;
        let status = response.status();
        if status == StatusCode::TOO_MANY_REQUESTS {
            return Err(JiraCallError::RateLimited {
                retry_after: retry_after(response.headers()),
                reason: header(response.headers(), "ratelimit-reason"),
            });
        }
        if !status.is_success() {
            return Err(error_from(response).await);
        }
        let answer: Value = response
            .json()
            .await
            .map_err(|e| JiraCallError::Transport(e.without_url().to_string()))?;
        match answer {
            Value::Array(mut files) if !files.is_empty() => Ok(files.swap_remove(0)),
            _ => Err(JiraCallError::Shape(
                "the upload's answer lists no attachment".into(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_keep_text_and_lose_what_breaks_the_header() {
        assert_eq!(wire_name("a b é.png"), "a b é.png");
        assert_eq!(wire_name("say \"hi\"\r\n.txt"), "say _hi___.txt");
        assert_eq!(wire_name("  "), "file");
    }
}
