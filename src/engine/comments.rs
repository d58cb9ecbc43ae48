//! Phase 7: an item's ADO comments, oldest first, then the rich text that did not fit in its
//! fields (`Planned::overflow`), each posted as a Jira comment that starts with a header naming
//! the original author and date.
//!
//! # Checkpoints (`StepKind::Comment`)
//!
//! - An ADO comment's `ord` is its position in ADO's list, oldest first, deleted comments
//!   counted (and skipped): a comment deleted later does not shift the others.
//! - Overflow part `i` has `ord` [`OVERFLOW_BASE`]` + i`, after any item's comments.
//! - A comment over Jira's body cap is posted as several comments (its parts) under one
//!   checkpoint: `sent` before the first part, `done` (with the first part's Jira id) after the
//!   last.
//!
//! # Never twice
//!
//! `POST …/comment` is not idempotent. Every comment Ferry posts carries the comment property
//! `ferry-origin` = `{adoCommentId, part}` (or `{overflow, part}`), set in the create body.
//! When a checkpoint is `sent` (a crash or a lost answer), or the issue was already in Jira
//! when this run began (an earlier run made it), the comments are listed with
//! `expand=properties` and the parts already there are not posted again. Jira's comment list
//! is read from the database, not the search index, so one read is the truth. If Jira leaves
//! the properties out of the list, each comment's property is read on its own.
//!
//! # As their author
//!
//! With the mapping's `commentsAsAuthor`, an ADO comment whose author has an active Jira
//! account is posted with that user's impersonation token ([`Authors`]): Jira shows them as
//! the author, so the header keeps only the original date. The `ferry-origin` property and the
//! in-doubt reading above are the same whoever posts (the list is read as the app, which sees
//! every comment). Without a token, or when Jira refuses the user's call (401/403: the user
//! went away since), the comment is posted as the app with the author in the header.
//!
//! # Pace
//!
//! Jira lets about 20 writes per 2 s and 100 per 30 s land on one issue; an item with hundreds
//! of comments would walk into that wall, so an item's comment and transition writes are
//! paced just below it ([`Pacer`]). A 429 that still comes (other writers on the issue) is waited out by the
//! client as `Retry-After` says, and once more here, before the run gives up its turn.

use std::{collections::HashMap, time::Duration};

use super::{
    authors::Authors,
    followup::{Job, refused},
    pace::Pacer,
};
use crate::{
    mapping::{
        adf::{JIRA_TEXT_LIMIT, html_to_adf, split_doc},
        transform::ORIGIN_PROPERTY,
    },
    source::ado::models::Comment,
    store::StepKind,
    target::jira::{JiraCallError, JiraClient},
};
use serde_json::{Value, json};

/// The first `ord` of overflow parts; ADO comments are numbered below it.
pub const OVERFLOW_BASE: i64 = 1_000_000;
/// Room left in each part for the header (which names a person, so its length varies).
const HEADER_ROOM: usize = 1_024;
/// Tries per comment when answers get lost, before the run's turn ends.
const TRIES: usize = 5;
/// Page size for listing an issue's comments.
const PAGE: usize = 100;

/// One Jira comment (or several, when over the cap) to post for a checkpoint.
struct Post {
    ord: i64,
    /// The `ferry-origin` value without `part`.
    origin: Value,
    /// The bodies, header included, in order.
    parts: Vec<Value>,
    /// For an ADO comment: its author's Jira account (when mapped) and the bodies to post as
    /// them, whose header has the date but not the name. `None` for overflow parts.
    own: Option<(Option<String>, Vec<Value>)>,
}

/// Posts the item's comments and overflow parts that are not done yet.
pub(crate) async fn comments(job: &Job<'_>, pacer: &mut Pacer) -> anyhow::Result<()> {
    if job.plan.comments == 0 && job.plan.overflow.is_empty() {
        return Ok(());
    }
    let overflow_done = (0..job.plan.overflow.len() as i64)
        .all(|i| job.finished(StepKind::Comment, OVERFLOW_BASE + i));
    let comments_done = job
        .steps
        .iter()
        .filter(|((kind, ord), s)| {
            kind == StepKind::Comment.as_str() && *ord < OVERFLOW_BASE && s.state != "sent"
        })
        .count() as i64;
    if overflow_done && comments_done >= job.plan.comments {
        return Ok(());
    }
    let ado = if job.plan.comments > 0 {
        job.ado
            .comments(&job.ctx.project, job.plan.ado_id)
            .await
            .map_err(|e| anyhow::anyhow!("reading the comments of {}: {e}", job.plan.ado_id))?
    } else {
        Vec::new()
    };
    let mut seen: Option<Seen> = None;
    let mut authors = Authors::new(job).await?;
    for post in plan_posts(job, &ado) {
        if !job.finished(StepKind::Comment, post.ord) {
            post_one(job, &post, pacer, &mut seen, authors.as_mut()).await?;
        }
    }
    Ok(())
}

/// What to post, in order: the ADO comments that are not deleted, then the overflow.
fn plan_posts(job: &Job<'_>, ado: &[Comment]) -> Vec<Post> {
    let links = job.ctx.resolver();
    let mut posts = Vec::new();
    for (pos, c) in ado.iter().enumerate() {
        if c.is_deleted || job.finished(StepKind::Comment, pos as i64) {
            continue;
        }
        let who = c
            .created_by
            .as_ref()
            .map(|p| p.display_name.as_str())
            .filter(|n| !n.is_empty())
            .unwrap_or("an unknown user");
        let when = c
            .created_date
            .as_deref()
            .map_or_else(String::new, |d| format!(" on {}", utc_minute(d)));
        let doc = html_to_adf(&c.text, &links).doc;
        let bodies = split_doc(&doc, JIRA_TEXT_LIMIT - HEADER_ROOM);
        let n = bodies.len();
        let of = |k: usize| {
            if n > 1 {
                format!(" (part {} of {n})", k + 1)
            } else {
                String::new()
            }
        };
        let parts = bodies
            .iter()
            .enumerate()
            .map(|(k, body)| {
                with_header(
                    vec![
                        json!({ "type": "text", "text": "Originally posted by " }),
                        json!({ "type": "text", "text": who, "marks": [{ "type": "strong" }] }),
                        json!({ "type": "text", "text": format!("{when} in Azure DevOps{}", of(k)) }),
                    ],
                    body.clone(),
                )
            })
            .collect();
        let own = job.ctx.mapping.comments_as_author.then(|| {
            let bodies = bodies
                .into_iter()
                .enumerate()
                .map(|(k, body)| {
                    let line = format!("Originally posted{when} in Azure DevOps{}", of(k));
                    with_header(vec![json!({ "type": "text", "text": line })], body)
                })
                .collect();
            (Authors::account(job, c), bodies)
        });
        posts.push(Post {
            ord: pos as i64,
            origin: json!({ "adoCommentId": c.id }),
            parts,
            own,
        });
    }
    let total = job.plan.overflow.len();
    for (i, doc) in job.plan.overflow.iter().enumerate() {
        let parts = split_doc(doc, JIRA_TEXT_LIMIT - HEADER_ROOM)
            .into_iter()
            .map(|body| {
                let line = format!(
                    "Continued from Azure DevOps #{}: rich text over Jira's limit, part {} of {total}",
                    job.plan.ado_id,
                    i + 1
                );
                with_header(vec![json!({ "type": "text", "text": line })], body)
            })
            .collect();
        posts.push(Post {
            ord: OVERFLOW_BASE + i as i64,
            origin: json!({ "overflow": i }),
            parts,
            own: None,
        });
    }
    posts
}

/// `body` with a paragraph of `header` (italic) in front.
fn with_header(header: Vec<Value>, mut body: Value) -> Value {
    let mut inline = header;
    for t in &mut inline {
        let marks = t["marks"].as_array_mut().map(std::mem::take);
        let mut all = marks.unwrap_or_default();
        all.push(json!({ "type": "em" }));
        t["marks"] = Value::Array(all);
    }
    let mut content = vec![json!({ "type": "paragraph", "content": inline })];
    if let Some(Value::Array(blocks)) = body.get_mut("content").map(Value::take) {
        content.extend(blocks);
    }
    json!({ "type": "doc", "version": 1, "content": content })
}

/// `2024-03-01T14:02:33.12Z` → `2024-03-01 14:02 UTC` (ADO dates are UTC); anything else as is.
pub(crate) fn utc_minute(iso: &str) -> String {
    let b = iso.as_bytes();
    let shaped = b.len() >= 16
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[..16].iter().filter(|c| c.is_ascii_digit()).count() == 12;
    if !shaped {
        return iso.to_owned();
    }
    let utc = iso.ends_with('Z') || iso.ends_with("+00:00") || !iso[10..].contains(['+', '-']);
    if utc {
        format!("{} {} UTC", &iso[..10], &iso[11..16])
    } else {
        iso.to_owned()
    }
}

/// Posts one checkpoint's parts, looking first at what the issue has when in doubt.
async fn post_one(
    job: &Job<'_>,
    post: &Post,
    pacer: &mut Pacer,
    seen: &mut Option<Seen>,
    mut authors: Option<&mut Authors>,
) -> anyhow::Result<()> {
    let kind = StepKind::Comment;
    // An issue this run found already in Jira may have its comments from an earlier run, which
    // left no checkpoints in this one: look before posting, as after a lost answer.
    let mut doubt = job.found || job.in_doubt(kind, post.ord);
    // The author's client and bodies, when posting as them.
    let mut mine: Option<(JiraClient, &[Value])> = None;
    if let (Some(authors), Some((account, bodies))) = (authors.as_deref_mut(), &post.own) {
        if let Some(client) = authors.client(job, account.as_deref()).await? {
            mine = Some((client, bodies.as_slice()));
        }
    }
    if !doubt {
        job.sent(kind, post.ord).await?;
    }
    // Parts known to be in Jira, kept across tries: a part posted before a later part's 429
    // must not be posted again when the try starts over.
    let mut posted: Vec<Option<String>> = vec![None; post.parts.len()];
    'tries: for _ in 0..TRIES {
        if doubt && seen.is_none() {
            *seen = Some(Seen::read(job).await?);
        }
        for (k, body) in post.parts.iter().enumerate() {
            if posted[k].is_some() {
                continue;
            }
            if let Some(id) = seen.as_ref().and_then(|s| s.find(&post.origin, k)) {
                posted[k] = Some(id.clone());
                continue;
            }
            let mut origin = post.origin.clone();
            origin["part"] = json!(k);
            let (client, body) = match &mine {
                Some((client, bodies)) => (client, &bodies[k]),
                None => (&job.ctx.jira.client, body),
            };
            let request = json!({
                "body": body,
                "properties": [{ "key": ORIGIN_PROPERTY, "value": origin }],
            });
            pacer.wait().await;
            let path = format!("/rest/api/3/issue/{}/comment", job.jira_key);
            let answer = client.post_json::<_, Value>(&path, &request).await;
            pacer.wrote();
            match answer {
                Err(JiraCallError::Http {
                    status: 401 | 403, ..
                }) if mine.is_some() => {
                    // The user's token no longer works (gone or without access since the
                    // grant): not applied, so post as the app; earlier parts may be the
                    // user's, so look at the issue first.
                    mine = None;
                    if let Some(a) = authors.as_deref_mut() {
                        a.fall_back(job).await?;
                    }
                    doubt = true;
                    *seen = None;
                    continue 'tries;
                }
                Ok(answer) => {
                    posted[k] = Some(answer["id"].as_str().unwrap_or_default().to_owned());
                }
                Err(e) if refused(&e) => {
                    let code = match &e {
                        JiraCallError::Http { status: 413, .. } => "comment_cap_reached",
                        _ => "comment_refused",
                    };
                    return job.failed(kind, post.ord, code).await;
                }
                Err(JiraCallError::RateLimited { retry_after, .. })
                    if retry_after.is_none_or(|w| w <= Duration::from_secs(30)) =>
                {
                    // Refused as a whole, so not applied: wait as asked and go again.
                    tokio::time::sleep(retry_after.unwrap_or(Duration::from_secs(1))).await;
                    continue 'tries;
                }
                Err(e @ JiraCallError::RateLimited { .. }) => {
                    return Err(anyhow::anyhow!("comment on {}: {e}", job.jira_key));
                }
                Err(e) => {
                    tracing::warn!(item = job.plan.ado_id, ord = post.ord, part = k, error = %e,
                        "comment with an unknown outcome; looking at the issue");
                    doubt = true;
                    *seen = None;
                    continue 'tries;
                }
            }
        }
        return job.done(kind, post.ord, posted[0].as_deref()).await;
    }
    Err(anyhow::anyhow!(
        "comment {} of {}: outcome still unknown after {TRIES} tries",
        post.ord,
        job.jira_key
    ))
}

/// The comments Ferry already posted on an issue: `ferry-origin` (without `part`) and part →
/// Jira comment id.
struct Seen(HashMap<(String, u64), String>);

impl Seen {
    async fn read(job: &Job<'_>) -> anyhow::Result<Self> {
        let client = &job.ctx.jira.client;
        let mut out = HashMap::new();
        let mut start = 0;
        loop {
            let path = format!(
                "/rest/api/3/issue/{}/comment?startAt={start}&maxResults={PAGE}&expand=properties",
                job.jira_key
            );
            let page: Value = client
                .get_json(&path)
                .await
                .map_err(|e| anyhow::anyhow!("listing the comments of {}: {e}", job.jira_key))?;
            let list = page["comments"].as_array().cloned().unwrap_or_default();
            for c in &list {
                let id = c["id"].as_str().unwrap_or_default().to_owned();
                let origin = match c.get("properties") {
                    Some(props) => props
                        .as_array()
                        .into_iter()
                        .flatten()
                        .find(|p| p["key"] == ORIGIN_PROPERTY)
                        .map(|p| p["value"].clone()),
                    None => property(job, &id).await?,
                };
                if let Some(mut origin) = origin {
                    let part = origin["part"].as_u64().unwrap_or(0);
                    if let Some(o) = origin.as_object_mut() {
                        o.remove("part");
                    }
                    out.insert((origin.to_string(), part), id);
                }
            }
            start += list.len();
            let total = page["total"].as_u64().unwrap_or(0) as usize;
            if list.is_empty() || start >= total {
                return Ok(Self(out));
            }
        }
    }

    fn find(&self, origin: &Value, part: usize) -> Option<&String> {
        self.0.get(&(origin.to_string(), part as u64))
    }
}

/// One comment's `ferry-origin`, for a Jira that left properties out of the list.
async fn property(job: &Job<'_>, comment: &str) -> anyhow::Result<Option<Value>> {
    let path = format!("/rest/api/3/comment/{comment}/properties/{ORIGIN_PROPERTY}");
    match job.ctx.jira.client.get_json::<Value>(&path).await {
        Ok(v) => Ok(Some(v["value"].clone())),
        Err(JiraCallError::Http { status: 404, .. }) => Ok(None),
        Err(e) => Err(anyhow::anyhow!("reading a comment property: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::adf::adf_text;

    #[test]
    fn dates_are_shown_to_the_minute_in_utc() {
        assert_eq!(
            utc_minute("2024-03-01T14:02:33.123Z"),
            "2024-03-01 14:02 UTC"
        );
        assert_eq!(utc_minute("2024-03-01T14:02:00"), "2024-03-01 14:02 UTC");
        assert_eq!(
            utc_minute("2024-03-01T14:02:00+02:00"),
            "2024-03-01T14:02:00+02:00"
        );
        assert_eq!(utc_minute("yesterday"), "yesterday");
    }

    #[test]
    fn the_header_comes_first_in_italics_and_the_body_follows() {
        let body = json!({"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":"hi"}]}]});
        let doc = with_header(
            vec![json!({"type":"text","text":"By ","marks":[{"type":"strong"}]})],
            body,
        );
        assert_eq!(doc["content"].as_array().map(Vec::len), Some(2));
        assert_eq!(
            doc["content"][0]["content"][0]["marks"],
            json!([{"type":"strong"},{"type":"em"}])
        );
        assert_eq!(adf_text(&doc["content"][0]).trim(), "By");
        assert_eq!(adf_text(&doc["content"][1]).trim(), "hi");
    }
}
