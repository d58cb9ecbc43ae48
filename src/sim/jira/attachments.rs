//! Attachments: multipart upload (part `file`, header `X-Atlassian-Token: no-check`), size and
//! per-issue caps, metadata reads.
//!
//! Only each file's size and SHA-256 are kept: a benchmark uploads gigabytes, and the oracle
//! only needs to know that the right bytes arrived. The body is buffered for parsing (the
//! route's body limit is twice the file cap), then dropped.
//! <https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-attachments/>

use axum::{
    Extension, Json, Router,
    body::Bytes,
    extract::{DefaultBodyLimit, Path, State},
    http::{HeaderMap, StatusCode, header},
    routing::{get, post},
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{
    JiraSim,
    auth::Caller,
    clock,
    error::{JiraError, JiraResult},
    store::Attachment,
};

/// Jira refuses more files than this in one request.
const MAX_FILES_PER_REQUEST: usize = 60;

pub fn router(body_limit: usize) -> Router<JiraSim> {
    Router::new()
        .route(
            "/rest/api/3/issue/{issue}/attachments",
            post(upload).layer(DefaultBodyLimit::max(body_limit)),
        )
        .route("/rest/api/3/attachment/meta", get(settings))
        .route("/rest/api/3/attachment/{id}", get(metadata))
}

/// One stored file, as the benchmark oracle sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFile {
    /// File name as uploaded.
    pub filename: String,
    /// Size in bytes.
    pub size: u64,
    /// Lowercase hex SHA-256 of the bytes.
    pub sha256: String,
}

impl JiraSim {
    /// The files attached to an issue (by id or key), in upload order.
    pub fn attachments_of(&self, issue: &str) -> Vec<StoredFile> {
        let data = self.0.data.read();
        let Some(id) = data.resolve(issue) else {
            return vec![];
        };
        data.issues[&id]
            .attachments
            .iter()
            .filter_map(|a| data.attachments.get(a))
            .map(|a| StoredFile {
                filename: a.filename.clone(),
                size: a.size,
                sha256: a.sha256.clone(),
            })
            .collect()
    }

    pub(super) fn attachment_json(&self, a: &Attachment) -> Value {
        json!({
            "self": format!("{}/rest/api/3/attachment/{}", self.0.base, a.id),
            "id": a.id.to_string(),
            "filename": a.filename,
            "author": self.user_json(&a.author),
            "created": clock::jira(a.created),
            "size": a.size,
            "mimeType": a.mime_type,
            "content": format!("{}/rest/api/3/attachment/content/{}", self.0.base, a.id),
        })
    }
}

async fn upload(
    State(sim): State<JiraSim>,
    Extension(caller): Extension<Caller>,
    Path(issue): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> JiraResult<Json<Value>> {
    if headers
        .get("x-atlassian-token")
        .and_then(|v| v.to_str().ok())
        != Some("no-check")
    {
        return Err(JiraError::new(StatusCode::FORBIDDEN, "XSRF check failed"));
    }
    let boundary = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|ct| {
            ct.split(';')
                .find_map(|p| p.trim().strip_prefix("boundary="))
                .map(|b| b.trim_matches('"').to_owned())
        })
        .ok_or_else(|| JiraError::bad_request("The request is not multipart/form-data."))?;
    let files: Vec<Part> = parts(&body, &boundary)
        .into_iter()
        .filter(|p| p.name == "file")
        .collect();
    if files.is_empty() {
        return Err(JiraError::bad_request(
            "No file was attached: send a multipart part named 'file'.",
        ));
    }
    let limits = &sim.0.options.limits;
    if files.len() > MAX_FILES_PER_REQUEST {
        return Err(JiraError::too_large(format!(
            "At most {MAX_FILES_PER_REQUEST} files can be attached in one request."
        )));
    }
    if let Some(big) = files
        .iter()
        .find(|f| f.bytes.len() as u64 > limits.attachment_max_bytes)
    {
        return Err(JiraError::too_large(format!(
            "The file '{}' is larger than the attachment size limit of {} bytes.",
            big.filename, limits.attachment_max_bytes
        )));
    }
    let mut data = sim.0.data.write();
    let id = data.resolve(&issue).ok_or_else(JiraError::no_issue)?;
    if data.issues[&id].attachments.len() + files.len() > limits.attachments_per_issue {
        return Err(JiraError::too_large(format!(
            "The number of attachments on this issue would exceed the limit of {}.",
            limits.attachments_per_issue
        )));
    }
    let now = clock::now_ms();
    let mut out = Vec::new();
    for f in files {
        let aid = data.fresh_id();
        let a = Attachment {
            id: aid,
            filename: f.filename,
            mime_type: f.content_type,
            size: f.bytes.len() as u64,
            sha256: hex::encode(Sha256::digest(f.bytes)),
            author: caller.account_id.clone(),
            created: now,
        };
        out.push(sim.attachment_json(&a));
        data.attachments.insert(aid, a);
        if let Some(i) = data.issues.get_mut(&id) {
            i.attachments.push(aid);
            i.updated = now;
        }
    }
    Ok(Json(Value::Array(out)))
}

async fn settings(State(sim): State<JiraSim>) -> Json<Value> {
    Json(json!({ "enabled": true, "uploadLimit": sim.0.options.limits.attachment_max_bytes }))
}

async fn metadata(State(sim): State<JiraSim>, Path(id): Path<u64>) -> JiraResult<Json<Value>> {
    let data = sim.0.data.read();
    let a = data.attachments.get(&id).ok_or_else(|| {
        JiraError::not_found(format!("The attachment with id '{id}' does not exist"))
    })?;
    let mut meta = sim.attachment_json(a);
    meta["id"] = json!(a.id);
    meta["properties"] = json!({});
    Ok(Json(meta))
}

struct Part<'a> {
    name: String,
    filename: String,
    content_type: String,
    bytes: &'a [u8],
}

/// Splits a multipart/form-data body into its parts (RFC 7578), borrowing the bytes.
fn parts<'a>(body: &'a [u8], boundary: &str) -> Vec<Part<'a>> {
    let delim = format!("--{boundary}");
    let next_delim = format!("\r\n--{boundary}");
    let mut out = Vec::new();
    let Some(mut pos) = find(body, delim.as_bytes(), 0).map(|p| p + delim.len()) else {
        return out;
    };
    loop {
        if body[pos..].starts_with(b"--") {
            break;
        }
        let Some(head_end) = find(body, b"\r\n\r\n", pos) else {
            break;
        };
        let head = String::from_utf8_lossy(&body[pos..head_end]).into_owned();
        let start = head_end + 4;
        let Some(end) = find(body, next_delim.as_bytes(), start) else {
            break;
        };
        let disposition = head
            .lines()
            .find_map(|l| {
                l.split_once(':')
                    .filter(|(k, _)| k.trim().eq_ignore_ascii_case("content-disposition"))
                    .map(|(_, v)| v.to_owned())
            })
            .unwrap_or_default();
        let attr = |name: &str| {
            disposition
                .split(';')
                .find_map(|kv| {
                    kv.trim()
                        .strip_prefix(&format!("{name}="))
                        .map(|v| v.trim_matches('"').to_owned())
                })
                .unwrap_or_default()
        };
        let content_type = head
            .lines()
            .find_map(|l| {
                l.split_once(':')
                    .filter(|(k, _)| k.trim().eq_ignore_ascii_case("content-type"))
                    .map(|(_, v)| v.trim().to_owned())
            })
            .unwrap_or_else(|| "application/octet-stream".to_owned());
        out.push(Part {
            name: attr("name"),
            filename: attr("filename"),
            content_type,
            bytes: &body[start..end],
        });
        pos = end + next_delim.len();
    }
    out
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if from > hay.len() {
        return None;
    }
    hay[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}
