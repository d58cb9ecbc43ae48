//! Reading a target project's metadata into a [`TargetMeta`] snapshot.
//!
//! About twenty reads, independent ones at once but never more than [`CONCURRENCY`] in flight,
//! so loading a site spends little of the tenant's burst budget. Workflows are found the way a
//! real site requires: the project's workflow scheme names the workflow of each issue type,
//! then `workflow/search` returns those workflows with their transitions.
//! <https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-workflows/#api-rest-api-3-workflow-search-get>

use std::collections::{HashMap, HashSet};

use anyhow::Context as _;
use futures_util::{StreamExt as _, TryStreamExt as _};
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::Semaphore;

use super::{
    client::JiraClient,
    meta::{
        AttachmentLimits, IssueTypeMeta, LinkTypeMeta, Named, ProjectRef, SprintMeta, TargetMeta,
        WorkflowMeta,
    },
    parse::{create_field, field, issue_type, items, named, status, str_of, workflow},
};

/// Most reads in flight while loading one project.
pub const CONCURRENCY: usize = 6;

/// Most pages followed for one list: a guard against a server that never says "last".
const MAX_PAGES: usize = 1_000;

/// Workflow names per `workflow/search` request (they travel in the query string).
const NAMES_PER_SEARCH: usize = 20;

/// Loads the metadata of project `project_key` (a key or an id). Only issue types the caller
/// may create are listed, since nothing else can be a migration target.
#[tracing::instrument(skip_all)]
pub async fn load_target(client: &JiraClient, project_key: &str) -> anyhow::Result<TargetMeta> {
    let l = Loader {
        client,
        permits: Semaphore::new(CONCURRENCY),
    };
    let p: Value = l
        .get(&format!("/rest/api/3/project/{}", encode(project_key)))
        .await?;
    let project = ProjectRef {
        id: str_of(&p, "id").context("project without id")?,
        key: str_of(&p, "key").context("project without key")?,
        name: str_of(&p, "name").unwrap_or_default(),
    };
    let key = encode(&project.key);
    let components_path = format!("/rest/api/3/project/{key}/components");
    let versions_path = format!("/rest/api/3/project/{key}/versions");
    let (
        mut issue_types,
        workflows,
        fields,
        statuses,
        priorities,
        link_types,
        attachments,
        components,
        versions,
        (boards, sprints),
    ) = tokio::try_join!(
        l.issue_types(&key),
        l.workflows(&project.id),
        l.list("/rest/api/3/field", field),
        l.list("/rest/api/3/status", status),
        l.list("/rest/api/3/priority", named),
        l.link_types(),
        l.attachments(),
        l.list(&components_path, named),
        l.list(&versions_path, named),
        l.boards_and_sprints(&key),
    )?;
    for t in &mut issue_types {
        t.workflow = workflows(&t.id);
    }
    Ok(TargetMeta {
        site: client.site().as_str().trim_end_matches('/').to_owned(),
        project,
        issue_types,
        fields,
        statuses,
        priorities,
        components,
        versions,
        boards,
        sprints,
        link_types,
        attachments,
        fetched_at: crate::store::now_ms(),
    })
}

/// `s` percent-encoded for a path segment or a query value (RFC 3986 unreserved kept).
pub(super) fn encode(s: &str) -> String {
    const UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(s, UNRESERVED).to_string()
}

struct Loader<'a> {
    client: &'a JiraClient,
    permits: Semaphore,
}

impl Loader<'_> {
    async fn get<T: DeserializeOwned>(&self, path: &str) -> anyhow::Result<T> {
        let _permit = self.permits.acquire().await.context("loader closed")?;
        let what = path.split('?').next().unwrap_or(path);
        self.client
            .get_json(path)
            .await
            .with_context(|| format!("GET {what}"))
    }

    /// A plain JSON array, each element converted (elements that do not convert are skipped).
    async fn list<T>(
        &self,
        path: &str,
        convert: fn(&Value) -> Option<T>,
    ) -> anyhow::Result<Vec<T>> {
        let all: Vec<Value> = self.get(path).await?;
        Ok(all.iter().filter_map(convert).collect())
    }

    /// Every element of an offset-paged list: `startAt`/`maxResults`, ending on `isLast`, on
    /// `total`, or on a short page.
    async fn paged(&self, path: &str, key: &str, max: usize) -> anyhow::Result<Vec<Value>> {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut out = Vec::new();
        for _ in 0..MAX_PAGES {
            let start = out.len();
            let page: Value = self
                .get(&format!("{path}{sep}startAt={start}&maxResults={max}"))
                .await?;
            let got = page[key].as_array().cloned().unwrap_or_default();
            let n = got.len();
            out.extend(got);
            let done = match (page["isLast"].as_bool(), page["total"].as_u64()) {
                (Some(last), _) => last,
                (None, Some(total)) => out.len() as u64 >= total,
                (None, None) => n < max,
            };
            if done || n == 0 {
                return Ok(out);
            }
        }
        anyhow::bail!("{key} of {path}: more than {MAX_PAGES} pages")
    }

    /// The creatable issue types with their create screens.
    async fn issue_types(&self, key: &str) -> anyhow::Result<Vec<IssueTypeMeta>> {
        let base = format!("/rest/api/3/issue/createmeta/{key}/issuetypes");
        let types = self.paged(&base, "issueTypes", 200).await?;
        futures_util::stream::iter(types.iter().filter_map(issue_type))
            .map(|mut t| {
                let path = format!("{base}/{}", encode(&t.id));
                async move {
                    let fields = self.paged(&path, "fields", 200).await?;
                    t.create_fields = fields.iter().filter_map(create_field).collect();
                    anyhow::Ok(t)
                }
            })
            .buffered(CONCURRENCY)
            .try_collect()
            .await
    }

    /// Issue type id → its workflow in this project, through the project's workflow scheme.
    async fn workflows(
        &self,
        project_id: &str,
    ) -> anyhow::Result<impl Fn(&str) -> WorkflowMeta + use<>> {
        let path = format!("/rest/api/3/workflowscheme/project?projectId={project_id}");
        let schemes: Value = self.get(&path).await?;
        let scheme = &schemes["values"][0]["workflowScheme"];
        let default = str_of(scheme, "defaultWorkflow").unwrap_or_else(|| "jira".to_owned());
        let mapping: HashMap<String, String> = scheme["issueTypeMappings"]
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(ty, name)| Some((ty.clone(), name.as_str()?.to_owned())))
            .collect();
        let mut names: Vec<&String> = mapping.values().chain([&default]).collect();
        names.sort();
        names.dedup();
        let mut by_name = HashMap::new();
        for chunk in names.chunks(NAMES_PER_SEARCH) {
            let query: Vec<String> = chunk
                .iter()
                .map(|n| format!("workflowName={}", encode(n)))
                .collect();
            let path = format!(
                "/rest/api/3/workflow/search?{}&expand=transitions,statuses",
                query.join("&")
            );
            for wf in self.paged(&path, "values", 50).await? {
                if let Some(name) = str_of(&wf["id"], "name") {
                    by_name.insert(name, workflow(&wf));
                }
            }
        }
        Ok(move |ty: &str| {
            let name = mapping.get(ty).unwrap_or(&default);
            by_name.get(name).cloned().unwrap_or_default()
        })
    }

    async fn link_types(&self) -> anyhow::Result<Vec<LinkTypeMeta>> {
        let v: Value = self.get("/rest/api/3/issueLinkType").await?;
        Ok(items(&v, "issueLinkTypes")
            .filter_map(|t| {
                Some(LinkTypeMeta {
                    id: str_of(t, "id")?,
                    name: str_of(t, "name")?,
                    inward: str_of(t, "inward").unwrap_or_default(),
                    outward: str_of(t, "outward").unwrap_or_default(),
                })
            })
            .collect())
    }

    async fn attachments(&self) -> anyhow::Result<AttachmentLimits> {
        let v: Value = self.get("/rest/api/3/attachment/meta").await?;
        Ok(AttachmentLimits {
            enabled: v["enabled"].as_bool().unwrap_or(false),
            upload_limit: v["uploadLimit"].as_i64().unwrap_or(0),
        })
    }

    /// The project's boards, and the sprints of its scrum boards (each sprint once, under the
    /// first board that lists it; kanban boards have no sprints and answer 400 if asked).
    async fn boards_and_sprints(&self, key: &str) -> anyhow::Result<(Vec<Named>, Vec<SprintMeta>)> {
        let path = format!("/rest/agile/1.0/board?projectKeyOrId={key}");
        let boards = self.paged(&path, "values", 50).await?;
        let scrum: Vec<i64> = boards
            .iter()
            .filter(|b| b["type"].as_str().is_none_or(|t| t == "scrum"))
            .filter_map(|b| b["id"].as_i64())
            .collect();
        let per_board: Vec<(i64, Vec<Value>)> = futures_util::stream::iter(scrum)
            .map(|id| async move {
                let path = format!("/rest/agile/1.0/board/{id}/sprint");
                anyhow::Ok((id, self.paged(&path, "values", 50).await?))
            })
            .buffered(CONCURRENCY)
            .try_collect()
            .await?;
        let mut seen = HashSet::new();
        let sprints = per_board
            .iter()
            .flat_map(|(board, list)| list.iter().map(move |s| (*board, s)))
            .filter_map(|(board_id, s)| {
                Some(SprintMeta {
                    id: s["id"].as_i64()?,
                    name: str_of(s, "name").unwrap_or_default(),
                    state: str_of(s, "state").unwrap_or_default(),
                    board_id,
                })
            })
            .filter(|s| seen.insert(s.id))
            .collect();
        Ok((boards.iter().filter_map(named).collect(), sprints))
    }
}
