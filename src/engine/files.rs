//! Phase 5: attachments, streamed from ADO into Jira, then inline images pointed at them.
//!
//! - Streamed: the ADO download's body is the upload's multipart part, chunk by chunk, with
//!   its length known up front; no file is ever whole in memory (see `target/jira/upload.rs`).
//! - Bounded: uploads take a slot of [`UPLOADS`], one pool for the whole process, so however
//!   many items are followed at once, at most [`UPLOAD_SLOTS`] transfers run; the other steps
//!   (links, comments) are not held up behind them.
//! - Retried on their own: a transient failure of one file retries that file, with backoff,
//!   up to [`ATTEMPTS`] times before the run's turn ends; the other files go on. A permanent
//!   refusal (413 too large, other 4xx) records the file failed with a code and the run goes on.
//! - Never twice: `sent` is written before each upload, and an upload whose outcome is unknown
//!   (5xx, cut connection, crash) is never repeated blindly: the issue's attachments are
//!   listed and one with the same name and size, not already claimed by another of the item's
//!   files, is taken as this file's. The list is also read once before an item's first upload,
//!   so a new run over issues that already carry their files (an earlier run's) adds none.
//!   Files with the same name are copied one after the other, so two of them can never both
//!   claim one attachment; files with different names may run side by side.
//! - The checkpoint is `StepKind::File` with `ord` = the file's index in the item's attached
//!   files; inline images that are not attached files follow them (see `images.rs`).
//! - Codes of a failed file: `attachment_too_large` (over the site's upload limit, known from
//!   the download's length before sending, or Jira's 413), `attachment_refused` (another 4xx),
//!   `attachment_gone_from_ado` (404 from ADO), `attachment_url_refused` (a URL outside the
//!   organization).

mod images;

use std::{
    collections::{HashMap, HashSet},
    sync::Mutex,
    time::Duration,
};

use futures_util::{StreamExt as _, TryStreamExt as _};
use serde_json::Value;
use tokio::sync::Semaphore;

use super::followup::{Job, refused};
use crate::{
    source::ado::client::AdoError,
    store::StepKind,
    target::jira::{JiraCallError, Upload, wire_name},
};

/// Uploads running at once in this process.
pub const UPLOAD_SLOTS: usize = 4;
/// The upload pool, shared by every run and item of the process.
static UPLOADS: Semaphore = Semaphore::const_new(UPLOAD_SLOTS);
/// Attempts per file in one turn of a run, the first included.
const ATTEMPTS: u32 = 8;
/// First pause after a failed attempt; doubles per attempt up to [`BACKOFF_CAP`].
const BACKOFF_BASE: Duration = Duration::from_millis(250);
/// The longest pause between two attempts of one file.
const BACKOFF_CAP: Duration = Duration::from_secs(8);
/// The longest `Retry-After` slept through; a longer one (a spent hourly quota) ends the turn.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// One file to copy.
#[derive(Debug, Clone)]
pub(super) struct Source {
    /// Its checkpoint's `ord`.
    pub ord: i64,
    /// Where ADO serves it.
    pub url: String,
    /// Its name in ADO.
    pub name: String,
    /// The size ADO reported (0: not said; the download's `Content-Length` is used then).
    pub size: u64,
}

/// An item's attachments: copies every file not finished yet, then rewrites inline images.
pub(super) async fn files(job: &Job<'_>) -> anyhow::Result<()> {
    let mut sources: Vec<Source> = job
        .plan
        .files
        .iter()
        .enumerate()
        .map(|(n, f)| Source {
            ord: n as i64,
            url: f.url.clone(),
            name: f.name.clone(),
            size: u64::try_from(f.size).unwrap_or(0),
        })
        .collect();
    sources.extend(images::inline_sources(job, &sources));
    // Attachment ids by ord: earlier turns' from the checkpoints, this turn's as they finish.
    let mut refs: HashMap<i64, String> = job
        .steps
        .values()
        .filter(|s| s.kind == StepKind::File.as_str() && s.state == "done")
        .filter_map(|s| Some((s.ord, s.jira_ref.clone()?)))
        .collect();
    let todo: Vec<&Source> = sources
        .iter()
        .filter(|s| !job.finished(StepKind::File, s.ord))
        .collect();
    if !todo.is_empty() {
        let existing = Mutex::new(Existing {
            list: list(job).await?,
            claimed: refs.values().cloned().collect(),
        });
        // Same name, same queue: see the module docs.
        let mut groups: Vec<Vec<&Source>> = Vec::new();
        let mut by_name: HashMap<String, usize> = HashMap::new();
        for s in todo {
            let n = *by_name.entry(wire_name(&s.name)).or_insert_with(|| {
                groups.push(Vec::new());
                groups.len() - 1
            });
            groups[n].push(s);
        }
        let mut copies = Vec::with_capacity(groups.len());
        for group in groups {
            copies.push(copy_group(job, group, &existing));
        }
        let copied: Vec<Vec<(i64, String)>> = futures_util::stream::iter(copies)
            .buffer_unordered(UPLOAD_SLOTS)
            .try_collect()
            .await?;
        refs.extend(copied.into_iter().flatten());
    }
    images::rewrite(job, &sources, &refs).await
}

/// The issue's attachments as last listed, and the ids already taken by the item's files.
struct Existing {
    /// (id, file name, size).
    list: Vec<(String, String, u64)>,
    claimed: HashSet<String>,
}

impl Existing {
    /// Takes an attachment named `name` of `size` bytes (any size when unknown) that no other
    /// file of the item holds.
    fn take(&mut self, name: &str, size: Option<u64>) -> Option<String> {
        let (id, _, _) = self.list.iter().find(|(id, n, s)| {
            n == name && size.is_none_or(|z| z == *s) && !self.claimed.contains(id)
        })?;
        let id = id.clone();
        self.claimed.insert(id.clone());
        Some(id)
    }
}

/// The issue's attachments: `GET issue?fields=attachment`.
async fn list(job: &Job<'_>) -> anyhow::Result<Vec<(String, String, u64)>> {
    let path = format!("/rest/api/3/issue/{}?fields=attachment", job.jira_key);
    let issue: Value = job
        .ctx
        .jira
        .client
        .get_json(&path)
        .await
        .map_err(|e| anyhow::anyhow!("listing the attachments of {}: {e}", job.jira_key))?;
    Ok(issue["fields"]["attachment"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| {
            let id = match &a["id"] {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                _ => return None,
            };
            Some((id, a["filename"].as_str()?.to_owned(), a["size"].as_u64()?))
        })
        .collect())
}

/// Copies files of one name, one after the other: (ord, Jira id) of those done.
async fn copy_group(
    job: &Job<'_>,
    group: Vec<&Source>,
    existing: &Mutex<Existing>,
) -> anyhow::Result<Vec<(i64, String)>> {
    let mut out = Vec::new();
    for s in group {
        if let Some(id) = copy(job, s, existing).await? {
            out.push((s.ord, id));
        }
    }
    Ok(out)
}

/// Copies one file; the Jira attachment id when done, `None` when recorded failed.
async fn copy(
    job: &Job<'_>,
    src: &Source,
    existing: &Mutex<Existing>,
) -> anyhow::Result<Option<String>> {
    let (kind, ord) = (StepKind::File, src.ord);
    let name = wire_name(&src.name);
    let limit = u64::try_from(job.ctx.target.attachments.upload_limit).unwrap_or(0);
    // True once an upload of this file went out and its outcome is unknown.
    let mut doubt = job.in_doubt(kind, ord);
    // True when the list of attachments may be older than that upload.
    let mut stale = false;
    let mut failure = String::new();
    for attempt in 1..=ATTEMPTS {
        let permit = UPLOADS.acquire().await?;
        let response = match job.ado.get_stream(&src.url).await {
            Ok(r) => r,
            Err(AdoError::NotFound) => return fail(job, ord, "attachment_gone_from_ado").await,
            Err(AdoError::Shape(_)) => return fail(job, ord, "attachment_url_refused").await,
            Err(e) => anyhow::bail!(
                "downloading attachment {ord} of ADO item {}: {e}",
                job.plan.ado_id
            ),
        };
        let size = response
            .content_length()
            .or((src.size > 0).then_some(src.size));
        if doubt && stale {
            let fresh = list(job).await?;
            existing.lock().expect("not poisoned").list = fresh;
            stale = false;
        }
        let found = existing.lock().expect("not poisoned").take(&name, size);
        if let Some(id) = found {
            job.done(kind, ord, Some(&id)).await?;
            return Ok(Some(id));
        }
        if limit > 0 && size.is_some_and(|s| s > limit) {
            return fail(job, ord, "attachment_too_large").await;
        }
        job.sent(kind, ord).await?;
        let upload = Upload {
            name: name.clone(),
            size,
            body: reqwest::Body::wrap_stream(response.bytes_stream()),
        };
        let outcome = job
            .ctx
            .jira
            .client
            .upload_attachment(job.jira_key, upload)
            .await;
        drop(permit);
        let wait = match outcome {
            Ok(answer) => {
                let id = match &answer["id"] {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    _ => anyhow::bail!("Jira's answer to an upload on {} has no id", job.jira_key),
                };
                existing
                    .lock()
                    .expect("not poisoned")
                    .claimed
                    .insert(id.clone());
                job.done(kind, ord, Some(&id)).await?;
                return Ok(Some(id));
            }
            Err(e) if refused(&e) => {
                let code = if e.status() == Some(413) {
                    "attachment_too_large"
                } else {
                    "attachment_refused"
                };
                return fail(job, ord, code).await;
            }
            // Throttled before anything was written: wait as asked, no doubt added.
            Err(JiraCallError::RateLimited { retry_after, .. }) => {
                let wait = retry_after.unwrap_or_else(|| backoff(attempt));
                if wait > MAX_RETRY_AFTER {
                    anyhow::bail!("Jira asks to wait {wait:?} before uploading to it again");
                }
                failure = "rate limited".into();
                wait
            }
            Err(e) => {
                (doubt, stale) = (true, true);
                failure = e.to_string();
                backoff(attempt)
            }
        };
        tracing::debug!(
            item = job.plan.ado_id,
            ord,
            attempt,
            wait_ms = wait.as_millis() as u64,
            "upload failed; retrying"
        );
        tokio::time::sleep(wait).await;
    }
    anyhow::bail!(
        "attachment {ord} of {} failed {ATTEMPTS} times: {failure}",
        job.jira_key
    )
}

async fn fail(job: &Job<'_>, ord: i64, code: &str) -> anyhow::Result<Option<String>> {
    job.failed(StepKind::File, ord, code).await?;
    Ok(None)
}

/// `base · 2^(attempt-1)`, capped, plus up to half as much again of jitter.
fn backoff(attempt: u32) -> Duration {
    let step = BACKOFF_BASE
        .saturating_mul(1 << attempt.saturating_sub(1).min(10))
        .min(BACKOFF_CAP);
    let half = u64::try_from(step.as_millis() / 2).unwrap_or(1).max(1);
    step + Duration::from_millis(rand::random::<u64>() % half)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listed_attachment_is_taken_once_by_name_and_size() {
        let mut e = Existing {
            list: vec![
                ("1".into(), "a.png".into(), 10),
                ("2".into(), "a.png".into(), 10),
                ("3".into(), "b.png".into(), 5),
            ],
            claimed: HashSet::from(["1".to_owned()]),
        };
        assert_eq!(e.take("a.png", Some(10)), Some("2".into()));
        assert_eq!(e.take("a.png", Some(10)), None, "both are claimed now");
        assert_eq!(e.take("b.png", Some(6)), None, "size differs");
        assert_eq!(e.take("b.png", None), Some("3".into()));
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert!(backoff(1) >= BACKOFF_BASE && backoff(1) < BACKOFF_BASE * 2);
        assert!(backoff(30) >= BACKOFF_CAP && backoff(30) < BACKOFF_CAP * 2);
    }
}
