//! Inline images: ADO rich text shows a pasted image as
//! `<img src="{org}/_apis/wit/attachments/{guid}?fileName=image.png">`. At creation nothing is
//! migrated yet, so the converter (`mapping/adf`) writes a placeholder paragraph
//! "[image: name]". Once the files are in Jira, the rich-text fields are converted again with a
//! [`Resolve`]r that knows each GUID's migrated attachment, and the fields that changed are
//! written with one `PUT` of the issue (idempotent, so simply repeated after an unknown
//! outcome); the checkpoint is `StepKind::Images`, ord 0.
//!
//! What is practical, and what is not:
//! - A pasted image is an ADO attachment without an `AttachedFile` relation, so it is copied
//!   too, as a file after the attached ones; an image that is also attached is copied once.
//! - The image becomes `mediaSingle` > `media` of type `external` pointing at the attachment's
//!   content URL (`/rest/api/3/attachment/content/{id}`), which Jira's editor shows to anyone
//!   who may see the issue. A `media` node of type `file` would need the attachment's Media
//!   Services id, which the REST API does not give.
//! - Only the fields Ferry wrote are rewritten, as the same transform makes them; text past
//!   Jira's cap that went to overflow comments keeps its placeholders (the comment phase posts
//!   those parts). The PUT replaces the fields, so an edit made in Jira between creation and
//!   this step would be lost; during a run the issues are Ferry's.
//! - Images whose file could not be copied (refused, gone from ADO) keep their placeholder.

use std::{
    cell::RefCell,
    collections::{BTreeSet, HashMap},
};

use serde_json::{Map, Value, json};

use super::Source;
use crate::{
    dryrun::context::MappingLinks,
    engine::followup::{Job, refused},
    mapping::{
        adf::Resolve,
        transform::{Context, transform},
    },
    store::StepKind,
};

const MARKER: &str = "/_apis/wit/attachments/";

/// The people of the mapping, plus migrated attachments by GUID; remembers every GUID asked.
struct Images<'a> {
    people: MappingLinks<'a>,
    urls: HashMap<String, String>,
    asked: RefCell<BTreeSet<String>>,
}

impl Resolve for Images<'_> {
    fn account(&self, ado_identity: &str) -> Option<String> {
        self.people.account(ado_identity)
    }
    fn issue_url(&self, ado_id: u64) -> Option<String> {
        self.people.issue_url(ado_id)
    }
    fn attachment_url(&self, guid: &str) -> Option<String> {
        let guid = guid.to_ascii_lowercase();
        let url = self.urls.get(&guid).cloned();
        self.asked.borrow_mut().insert(guid);
        url
    }
}

/// The item's fields as the transform makes them with `urls`, and the GUIDs its images asked.
fn fields_with(
    job: &Job<'_>,
    urls: HashMap<String, String>,
) -> (Map<String, Value>, BTreeSet<String>) {
    let links = Images {
        people: job.ctx.resolver(),
        urls,
        asked: RefCell::default(),
    };
    let ctx = Context {
        mapping: &job.ctx.mapping,
        target: &job.ctx.target,
        scope: &job.ctx.scope,
        project_url: &job.ctx.project_url,
        links: &links,
    };
    let fields = transform(job.item, &ctx).fields;
    (fields, links.asked.into_inner())
}

/// True when some field of the item mentions an ADO attachment (cheap, before converting).
fn has_images(job: &Job<'_>) -> bool {
    job.item
        .fields
        .values()
        .filter_map(Value::as_str)
        .any(|s| s.to_ascii_lowercase().contains(MARKER))
}

/// The attachment GUID of an ADO attachment URL, lowercased.
pub(super) fn guid_of(url: &str) -> Option<String> {
    let at = url.to_ascii_lowercase().find(MARKER)? + MARKER.len();
    let guid = url.get(at..)?.split(['?', '/', '#']).next()?;
    (!guid.is_empty()).then(|| guid.to_ascii_lowercase())
}

/// The inline images the item's written fields show that are not among `files`, as more
/// files to copy (ords after them, in GUID order).
pub(super) fn inline_sources(job: &Job<'_>, files: &[Source]) -> Vec<Source> {
    if !has_images(job) {
        return Vec::new();
    }
    let (_, asked) = fields_with(job, HashMap::new());
    let attached: BTreeSet<String> = files.iter().filter_map(|f| guid_of(&f.url)).collect();
    let base = job.ado.base_url().as_str().trim_end_matches('/').to_owned();
    asked
        .into_iter()
        .filter(|g| !attached.contains(g))
        .enumerate()
        .map(|(k, guid)| {
            let name = inline_name(job, &guid).unwrap_or_else(|| "image.png".to_owned());
            let enc =
                percent_encoding::utf8_percent_encode(&name, percent_encoding::NON_ALPHANUMERIC);
            Source {
                ord: (files.len() + k) as i64,
                url: format!("{base}{MARKER}{guid}?fileName={enc}"),
                name,
                size: 0,
            }
        })
        .collect()
}

/// The `fileName` the item's HTML gives an image's URL, if any.
fn inline_name(job: &Job<'_>, guid: &str) -> Option<String> {
    job.item
        .fields
        .values()
        .filter_map(Value::as_str)
        .find_map(|html| {
            let lower = html.to_ascii_lowercase();
            let at = lower.find(guid)? + guid.len();
            let tail = &html[at..];
            let end = tail
                .find(['"', '\'', '<', '>', ' ', '\t', '\n'])
                .unwrap_or(tail.len());
            let query = tail[..end].split_once('?')?.1;
            query.split('&').find_map(|kv| {
                let (k, v) = kv.trim_start_matches("amp;").split_once('=')?;
                let name = percent_encoding::percent_decode_str(v).decode_utf8_lossy();
                (k.eq_ignore_ascii_case("filename") && !name.trim().is_empty())
                    .then(|| name.into_owned())
            })
        })
}

/// Points the item's inline images at their migrated attachments (`refs`: ord → Jira id).
pub(super) async fn rewrite(
    job: &Job<'_>,
    sources: &[Source],
    refs: &HashMap<i64, String>,
) -> anyhow::Result<()> {
    if job.finished(StepKind::Images, 0) || !has_images(job) {
        return Ok(());
    }
    let site = job.ctx.jira.client.site().as_str().trim_end_matches('/');
    let urls: HashMap<String, String> = sources
        .iter()
        .filter_map(|s| {
            let id = refs.get(&s.ord)?;
            Some((
                guid_of(&s.url)?,
                format!("{site}/rest/api/3/attachment/content/{id}"),
            ))
        })
        .collect();
    if urls.is_empty() {
        return Ok(());
    }
    let (fields, _) = fields_with(job, urls);
    let changed: Map<String, Value> = fields
        .into_iter()
        .filter(|(k, v)| job.plan.fields.get(k) != Some(v))
        .collect();
    if changed.is_empty() {
        return Ok(());
    }
    let path = format!("/rest/api/3/issue/{}", job.jira_key);
    match job
        .ctx
        .jira
        .client
        .put_json::<_, Value>(&path, &json!({ "fields": changed }))
        .await
    {
        Ok(_) => job.done(StepKind::Images, 0, None).await,
        Err(e) if refused(&e) => {
            job.failed(StepKind::Images, 0, "inline_images_refused")
                .await
        }
        Err(e) => Err(anyhow::anyhow!("inline images of {}: {e}", job.jira_key)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids_come_from_attachment_urls_only() {
        assert_eq!(
            guid_of("https://dev.azure.com/o/_apis/wit/attachments/AB-12?fileName=x.png"),
            Some("ab-12".into())
        );
        assert_eq!(
            guid_of("https://dev.azure.com/o/_apis/wit/workitems/1"),
            None
        );
    }
}
