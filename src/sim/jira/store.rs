//! The mutable side of the site: issues and everything hanging off them, indexed for 100k issues.
//!
//! Bodies (fields, ADF, properties) are kept because GET issue/comments must return them;
//! attachment bytes are not (only size and SHA-256), so a benchmark's gigabyte of files costs
//! a few bytes per file. Issues are looked up by id and key in O(1); search has its own index.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value};

use super::site::{Site, text};

/// A comment on an issue.
pub struct Comment {
    pub id: u64,
    pub author: String,
    pub body: Value,
    pub created: i64,
    pub updated: i64,
    pub visibility: Option<Value>,
    /// Comment properties (`properties` on create, `/comment/{id}/properties`).
    pub properties: BTreeMap<String, Value>,
}

/// A remote link (upserted by `globalId`).
pub struct RemoteLink {
    pub id: u64,
    pub global_id: Option<String>,
    /// The request body as sent (object, application, relationship…).
    pub body: Value,
}

/// Metadata of an uploaded file; the bytes were hashed and dropped.
pub struct Attachment {
    pub id: u64,
    pub filename: String,
    pub mime_type: String,
    pub size: u64,
    pub sha256: String,
    pub author: String,
    pub created: i64,
}

/// A link between two issues.
pub struct IssueLink {
    pub type_id: String,
    pub inward: u64,
    pub outward: u64,
}

/// An issue.
pub struct Issue {
    pub id: u64,
    pub key: String,
    pub number: u64,
    pub project: usize,
    pub type_id: String,
    pub status_id: String,
    /// Settable fields as stored (normalised: priority/options/components as full objects,
    /// users as accountIds, parent and sprint handled separately).
    pub fields: Map<String, Value>,
    pub parent: Option<u64>,
    /// Issues whose parent this is, so `subtasks` renders without a scan.
    pub children: Vec<u64>,
    pub sprint: Option<u64>,
    pub properties: BTreeMap<String, Value>,
    pub comments: Vec<Comment>,
    pub attachments: Vec<u64>,
    pub links: Vec<u64>,
    pub remote_links: Vec<RemoteLink>,
    pub created: i64,
    pub updated: i64,
    pub creator: String,
}

/// A sprint, kept as its agile JSON.
pub type Sprint = Value;

/// Everything `reset()` throws away.
pub struct Data {
    pub issues: HashMap<u64, Issue>,
    pub by_key: HashMap<String, u64>,
    pub next_issue: u64,
    pub next_number: HashMap<usize, u64>,
    pub next_id: u64,
    pub links: HashMap<u64, IssueLink>,
    pub attachments: HashMap<u64, Attachment>,
    pub sprints: BTreeMap<u64, Sprint>,
    pub next_sprint: u64,
    pub components: Vec<Value>,
    pub versions: Vec<Value>,
    pub tasks: HashMap<String, Value>,
    /// Ids of the site's link types deleted through the API.
    pub removed_link_types: std::collections::HashSet<String>,
}

impl Data {
    pub fn new(site: &Site) -> Self {
        let sprints: BTreeMap<u64, Sprint> = site
            .sprints
            .iter()
            .filter_map(|s| Some((s.get("id")?.as_u64()?, s.clone())))
            .collect();
        let max_id = |list: &[Value]| {
            list.iter()
                .filter_map(|v| text(v, "id")?.parse::<u64>().ok())
                .max()
                .unwrap_or(0)
        };
        Self {
            issues: HashMap::new(),
            by_key: HashMap::new(),
            next_issue: 10_000,
            next_number: HashMap::new(),
            next_id: 10_000 + max_id(&site.components).max(max_id(&site.versions)),
            links: HashMap::new(),
            attachments: HashMap::new(),
            next_sprint: sprints.keys().max().copied().unwrap_or(0) + 1,
            sprints,
            components: site.components.clone(),
            versions: site.versions.clone(),
            tasks: HashMap::new(),
            removed_link_types: std::collections::HashSet::new(),
        }
    }

    /// A fresh id for comments, links, attachments, remote links, components, versions.
    pub fn fresh_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// Resolves an `issueIdOrKey` path segment or body reference.
    pub fn resolve(&self, id_or_key: &str) -> Option<u64> {
        match id_or_key.parse::<u64>() {
            Ok(id) => self.issues.contains_key(&id).then_some(id),
            Err(_) => self.by_key.get(&id_or_key.to_ascii_uppercase()).copied(),
        }
    }

    /// Resolves `{"id": …}` or `{"key": …}`.
    pub fn resolve_ref(&self, r: &Value) -> Option<u64> {
        text(r, "id")
            .or_else(|| text(r, "key"))
            .and_then(|s| self.resolve(&s))
    }
}
