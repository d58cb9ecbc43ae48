//! A simulated Azure DevOps organization (or ADO Server collection), served over HTTP.
//!
//! The simulator loads a [`Dataset`] written in ADO's REST shapes and answers the read APIs a
//! migrator uses, with ADO's URL shapes, `api-version` rules, PAT authentication, limits and
//! error bodies: WIQL with its 20,000-result cap, `workitemsbatch` with its 200 ids, comment
//! paging by continuation token, streamed attachments. Rate limiting and fault injection are
//! layered on by `sim::infra`, not here. See `docs/sim-ado.md` for the endpoint list.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

mod attachments;
mod auth;
mod comments;
mod dataset;
mod dispatch;
mod error;
mod identities;
mod metadata;
mod projects;
mod updates;
mod version;
mod wiql;
mod workitems;

pub use attachments::synthetic_bytes;
pub use dataset::{AttachmentSource, Dataset, ProjectData, SyntheticContent, WorkItem, parsed};
pub use error::AdoError;
pub use wiql::{MAX_QUERY_LENGTH, MAX_RESULTS as WIQL_MAX_RESULTS};
pub use workitems::MAX_BATCH_IDS;

/// The simulator: a cheap handle on the loaded organization.
#[derive(Clone)]
pub struct AdoSim(Arc<Inner>);

/// How the simulator is set up.
#[derive(Clone)]
pub struct AdoSimOptions {
    /// The personal access token clients must present as the Basic-auth password.
    pub pat: String,
}

impl std::fmt::Debug for AdoSimOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdoSimOptions")
            .field("pat", &"<redacted>")
            .finish()
    }
}

/// What every request reads; built once, never mutated.
pub(crate) struct Inner {
    /// The organization URL as clients see it, without a trailing slash.
    pub(crate) org_url: String,
    /// Lower-cased path segments of `org_url` (`["contoso"]`, `["tfs", "defaultcollection"]`).
    pub(crate) prefix: Vec<String>,
    pub(crate) pat: String,
    pub(crate) data: Dataset,
    /// Work item id → (project index, item index).
    pub(crate) items: HashMap<i64, (usize, usize)>,
}

impl AdoSim {
    /// Builds the simulator. `base_url` is where it is reachable: with an empty path
    /// (`http://127.0.0.1:8081/`) the dataset's organization path is kept
    /// (`http://127.0.0.1:8081/contoso`); with a path, that path is the organization.
    /// Every URL in the dataset that starts with its `baseUrl` is rewritten to this address.
    pub fn new(mut dataset: Dataset, base_url: url::Url, options: AdoSimOptions) -> Self {
        let org_url = org_url(&dataset.base_url, &base_url);
        let from = dataset.base_url.trim_end_matches('/').to_string();
        rewrite_dataset(&mut dataset, &from, &org_url);
        let prefix = url::Url::parse(&org_url)
            .map(|u| {
                u.path_segments()
                    .map(|s| {
                        s.filter(|s| !s.is_empty())
                            .map(|s| s.to_lowercase())
                            .collect()
                    })
                    .unwrap_or_default()
            })
            .unwrap_or_default();
        let mut items = HashMap::new();
        for (p, project) in dataset.projects.iter().enumerate() {
            for (i, item) in project.work_items.iter().enumerate() {
                items.insert(item.id, (p, i));
            }
        }
        AdoSim(Arc::new(Inner {
            org_url,
            prefix,
            pat: options.pat,
            data: dataset,
            items,
        }))
    }

    /// The organization URL clients should use (`http://127.0.0.1:8081/contoso`).
    pub fn org_url(&self) -> &str {
        &self.0.org_url
    }

    /// The loaded dataset, with URLs already rewritten to this simulator.
    pub fn dataset(&self) -> &Dataset {
        &self.0.data
    }
}

/// The ADO simulator's router, state applied. Every path is dispatched by one handler, because
/// ADO's URLs carry a variable organization/collection prefix and optional project and team
/// segments before `_apis`.
pub fn router(sim: AdoSim) -> axum::Router {
    axum::Router::new()
        .fallback(dispatch::handle)
        .with_state(sim)
}

fn org_url(dataset_base: &str, base_url: &url::Url) -> String {
    let own = base_url.as_str().trim_end_matches('/').to_string();
    if base_url.path().trim_matches('/').is_empty() {
        let path = url::Url::parse(dataset_base)
            .map(|u| u.path().trim_end_matches('/').to_string())
            .unwrap_or_default();
        format!("{own}{path}")
    } else {
        own
    }
}

fn rewrite_dataset(data: &mut Dataset, from: &str, to: &str) {
    if from == to {
        return;
    }
    let mut walk = |v: &mut Value| rewrite(v, from, to);
    data.identities.iter_mut().for_each(&mut walk);
    for p in &mut data.projects {
        walk(&mut p.project);
        p.work_item_types.iter_mut().for_each(&mut walk);
        p.fields.iter_mut().for_each(&mut walk);
        p.areas.iter_mut().for_each(&mut walk);
        p.iterations.iter_mut().for_each(&mut walk);
        for raw in p
            .comments
            .values_mut()
            .chain(p.updates.values_mut())
            .flatten()
        {
            rewrite_raw(raw, from, to);
        }
        for item in &mut p.work_items {
            item.fields.values_mut().for_each(&mut walk);
            item.relations.iter_mut().flatten().for_each(&mut walk);
            item.extra.values_mut().for_each(&mut walk);
        }
    }
}

/// The same in JSON text. URLs carry no character JSON escapes, so the text replacement is the
/// replacement in every string (a key holding a URL would be rewritten too; datasets have none).
fn rewrite_raw(raw: &mut Box<serde_json::value::RawValue>, from: &str, to: &str) {
    if raw.get().contains(from) {
        let text = raw.get().replace(from, to);
        if let Ok(new) = serde_json::value::RawValue::from_string(text) {
            *raw = new;
        }
    }
}

/// Replaces `from` by `to` in every string of a JSON tree: URLs and HTML with inline images.
fn rewrite(v: &mut Value, from: &str, to: &str) {
    match v {
        Value::String(s) if s.contains(from) => *s = s.replace(from, to),
        Value::Array(a) => a.iter_mut().for_each(|v| rewrite(v, from, to)),
        Value::Object(o) => o.values_mut().for_each(|v| rewrite(v, from, to)),
        _ => {}
    }
}
