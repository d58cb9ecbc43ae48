//! Attachments: multipart upload (part `file`, header `X-Atlassian-Token: no-check`), size and
//! per-issue caps, metadata reads.
//!
//! Only each file's size and SHA-256 are kept: a benchmark uploads gigabytes, and the oracle
//! only needs to know that the right bytes arrived. The body is parsed as it streams in
//! (multer) and each part hashed chunk by chunk, so an upload costs the simulator a chunk of
//! memory whatever its size. An over-cap file is read to its end before the 413, so the client
//! sees the answer rather than a connection cut mid-body (the route's body limit, twice the
//! file cap, still ends anything larger).
//! <https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-attachments/>

use axum::{
    Extension, Json, Router,
    extract::{
        DefaultBodyLimit, Multipart, Path, State,
        multipart::{MultipartError, MultipartRejection},
    },
    http::{HeaderMap, StatusCode},
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
    /// The attachment id, as the REST API shows it.
    pub id: String,
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
                id: a.id.to_string(),
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
    multipart: Result<Multipart, MultipartRejection>,
) -> JiraResult<Json<Value>> {
    if headers
        .get("x-atlassian-token")
        .and_then(|v| v.to_str().ok())
        != Some("no-check")
    {
        return Err(JiraError::new(StatusCode::FORBIDDEN, "XSRF check failed"));
    }
    let mut multipart =
        multipart.map_err(|_| JiraError::bad_request("The request is not multipart/form-data."))?;
    let limits = &sim.0.options.limits;
    let mut files: Vec<Received> = Vec::new();
    let mut too_big: Option<String> = None;
    while let Some(mut field) = multipart.next_field().await.map_err(unreadable)? {
        if field.name() != Some("file") {
            // Other parts are read and ignored, as Jira does.
            while field.chunk().await.map_err(unreadable)?.is_some() {}
            continue;
        }
        let mut file = Received {
            filename: field.file_name().unwrap_or_default().to_owned(),
            content_type: field
                .content_type()
                .unwrap_or("application/octet-stream")
                .to_owned(),
            size: 0,
            hash: Sha256::new(),
        };
        // Hashed as it arrives: a 1 GB upload holds one chunk at a time, never the file.
        while let Some(chunk) = field.chunk().await.map_err(unreadable)? {
            file.size += chunk.len() as u64;
            file.hash.update(&chunk);
        }
        if file.size > limits.attachment_max_bytes && too_big.is_none() {
            too_big = Some(file.filename.clone());
        }
        files.push(file);
        if files.len() > MAX_FILES_PER_REQUEST {
            return Err(JiraError::too_large(format!(
                "At most {MAX_FILES_PER_REQUEST} files can be attached in one request."
            )));
        }
    }
    if files.is_empty() {
        return Err(JiraError::bad_request(
            "No file was attached: send a multipart part named 'file'.",
        ));
    }
    if let Some(name) = too_big {
        return Err(JiraError::too_large(format!(
            "The file '{name}' is larger than the attachment size limit of {} bytes.",
            limits.attachment_max_bytes
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
            size: f.size,
            sha256: hex::encode(f.hash.finalize()),
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

/// One file part as received: its digest, never its bytes.
struct Received {
    filename: String,
    content_type: String,
    size: u64,
    hash: Sha256,
}

/// A body that is not valid multipart, or larger than the route's limit.
fn unreadable(e: MultipartError) -> JiraError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        JiraError::too_large("The request is larger than the attachment size limit.")
    } else {
        JiraError::bad_request("The multipart request could not be read.")
    }
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
