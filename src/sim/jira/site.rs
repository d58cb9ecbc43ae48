//! The site file: what the Jira side looks like before any issue exists.
//!
//! The top level is pinned (unknown keys are refused, so a typo does not silently drop a
//! section); the items are kept as Jira REST JSON so a real site's answers paste in unchanged.
//! [`Catalog`] indexes the parts the handlers look up on every request.

use std::collections::{BTreeMap, HashMap};

use anyhow::{Context, bail, ensure};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The default site, a Jira Software scrum project (see `docs/sim-jira.md`).
const DEFAULT_SCRUM: &str = include_str!("default_scrum.json");

/// A Jira site: projects, types, fields, workflows, users, agile objects.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Site {
    /// The address the file was written for; replaced by the simulator's own.
    pub base_url: String,
    /// Projects as `GET /rest/api/3/project/{key}`, with `issueTypes`.
    pub projects: Vec<Value>,
    /// `IssueTypeDetails`, with `hierarchyLevel` and `subtask`.
    pub issue_types: Vec<Value>,
    /// `FieldDetails`, custom fields included.
    pub fields: Vec<Value>,
    /// projectKey → issueTypeId → `FieldCreateMetadata[]`.
    #[serde(default)]
    pub create_meta: BTreeMap<String, BTreeMap<String, Vec<Value>>>,
    /// `StatusDetails`.
    pub statuses: Vec<Value>,
    /// `"<projectKey>/<issueTypeId>"` → workflow.
    #[serde(default)]
    pub workflows: BTreeMap<String, Workflow>,
    /// `Priority`.
    #[serde(default)]
    pub priorities: Vec<Value>,
    /// `IssueLinkType`.
    #[serde(default)]
    pub issue_link_types: Vec<Value>,
    /// `ProjectComponent` (with `project` key).
    #[serde(default)]
    pub components: Vec<Value>,
    /// `Version` (with `projectId`).
    #[serde(default)]
    pub versions: Vec<Value>,
    /// Agile boards.
    #[serde(default)]
    pub boards: Vec<Value>,
    /// Agile sprints (`state`: future | active | closed).
    #[serde(default)]
    pub sprints: Vec<Value>,
    /// `User`, optionally with `groups.items[].name`.
    #[serde(default)]
    pub users: Vec<Value>,
}

/// One issue type's workflow in one project.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workflow {
    /// Status id a new issue starts in.
    pub initial: String,
    /// Transitions; an empty `from` makes it global (available from every status).
    pub transitions: Vec<WorkflowTransition>,
}

/// A workflow transition.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkflowTransition {
    /// Transition id, as POSTed to `/transitions`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Status ids it leaves from; empty = global.
    #[serde(default)]
    pub from: Vec<String>,
    /// Status id it arrives at.
    pub to: String,
}

/// The string at `key` of a JSON object, numbers rendered as strings (Jira mixes both).
pub fn text(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

impl Site {
    /// The built-in scrum site: 4-level hierarchy, strict workflow, ~10 users, one board.
    pub fn default_scrum() -> Self {
        #[expect(
            clippy::expect_used,
            reason = "the embedded file is checked by a unit test"
        )]
        Self::from_json(DEFAULT_SCRUM).expect("default_scrum.json is valid")
    }

    /// Parses and checks a site file.
    pub fn from_json(json: &str) -> anyhow::Result<Self> {
        let site: Self = serde_json::from_str(json).context("site file is not a valid site")?;
        site.check()?;
        Ok(site)
    }

    fn check(&self) -> anyhow::Result<()> {
        let has =
            |list: &[Value], id: &str| list.iter().any(|v| text(v, "id").as_deref() == Some(id));
        for p in &self.projects {
            ensure!(
                text(p, "id").is_some() && text(p, "key").is_some(),
                "project without id/key"
            );
        }
        for t in &self.issue_types {
            ensure!(text(t, "id").is_some(), "issue type without id");
            ensure!(
                t.get("hierarchyLevel").and_then(Value::as_i64).is_some(),
                "issue type {t} without hierarchyLevel"
            );
        }
        for (key, wf) in &self.workflows {
            let Some((project, ty)) = key.split_once('/') else {
                bail!("workflow key {key} is not <projectKey>/<issueTypeId>")
            };
            ensure!(
                self.projects
                    .iter()
                    .any(|p| text(p, "key").as_deref() == Some(project)),
                "workflow {key}: unknown project"
            );
            ensure!(
                has(&self.issue_types, ty),
                "workflow {key}: unknown issue type"
            );
            ensure!(
                has(&self.statuses, &wf.initial),
                "workflow {key}: unknown initial status"
            );
            for t in &wf.transitions {
                ensure!(
                    has(&self.statuses, &t.to),
                    "workflow {key}: transition {} to unknown status",
                    t.id
                );
                for f in &t.from {
                    ensure!(
                        has(&self.statuses, f),
                        "workflow {key}: transition {} from unknown status",
                        t.id
                    );
                }
            }
        }
        for u in &self.users {
            ensure!(text(u, "accountId").is_some(), "user without accountId");
        }
        Ok(())
    }

    /// The same site with an active account for each `(display name, e-mail)`, with accountIds
    /// `712020:p1`, `712020:p2`, … in the order given; e-mails the site already has are skipped,
    /// so e-mail stays a unique key. For giving a site the people of a generated dataset
    /// (`ferry::sim::gen::people`, the resolvable ones), so identity mapping has someone to find.
    pub fn with_people(mut self, people: impl IntoIterator<Item = (String, String)>) -> Self {
        let mut known: std::collections::HashSet<String> = self
            .users
            .iter()
            .filter_map(|u| u["emailAddress"].as_str().map(str::to_lowercase))
            .collect();
        let base = self.base_url.trim_end_matches('/').to_owned();
        for (n, (name, email)) in people.into_iter().enumerate() {
            if !known.insert(email.to_lowercase()) {
                continue;
            }
            let id = format!("712020:p{}", n + 1);
            self.users.push(serde_json::json!({
                "self": format!("{base}/rest/api/3/user?accountId={id}"),
                "accountId": id,
                "accountType": "atlassian",
                "emailAddress": email,
                "displayName": name,
                "active": true,
                "timeZone": "Etc/UTC",
                "avatarUrls": { "48x48": format!("https://avatar.example/{id}/48") },
            }));
        }
        self
    }

    /// The same site with every occurrence of its old base URL replaced by `base`.
    pub(super) fn rebased(&self, base: &str) -> Self {
        let old = self.base_url.trim_end_matches('/');
        let json = serde_json::to_string(self).unwrap_or_default();
        let json = if old.is_empty() {
            json
        } else {
            json.replace(old, base)
        };
        let mut site: Self = serde_json::from_str(&json).unwrap_or_else(|_| self.clone());
        site.base_url = base.to_owned();
        site
    }
}

/// Lookups over the immutable parts of the site.
pub(super) struct Catalog {
    pub projects_by_key: HashMap<String, usize>,
    pub projects_by_id: HashMap<String, usize>,
    pub types_by_id: HashMap<String, usize>,
    pub statuses_by_id: HashMap<String, usize>,
    pub fields_by_id: HashMap<String, usize>,
    pub users_by_id: HashMap<String, usize>,
}

impl Catalog {
    pub fn new(site: &Site) -> Self {
        let by = |list: &[Value], key: &str| {
            list.iter()
                .enumerate()
                .filter_map(|(i, v)| Some((text(v, key)?, i)))
                .collect::<HashMap<_, _>>()
        };
        Self {
            projects_by_key: by(&site.projects, "key"),
            projects_by_id: by(&site.projects, "id"),
            types_by_id: by(&site.issue_types, "id"),
            statuses_by_id: by(&site.statuses, "id"),
            fields_by_id: by(&site.fields, "id"),
            users_by_id: by(&site.users, "accountId"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_site_loads_and_has_a_four_level_hierarchy() {
        let site = Site::default_scrum();
        let mut levels: Vec<i64> = site
            .issue_types
            .iter()
            .filter_map(|t| t["hierarchyLevel"].as_i64())
            .collect();
        levels.sort_unstable();
        levels.dedup();
        assert_eq!(levels, vec![-1, 0, 1, 2]);
        assert!(site.users.len() >= 10);
    }

    #[test]
    fn with_people_adds_active_accounts_and_skips_known_emails() {
        let before = Site::default_scrum().users.len();
        let site = Site::default_scrum().with_people([
            ("Pat Doe".to_owned(), "pat.doe0@contoso.com".to_owned()),
            ("Ada Again".to_owned(), "ADA.ADMIN@acme.example".to_owned()),
            ("Lee Roe".to_owned(), "lee.roe1@contoso.com".to_owned()),
        ]);
        assert_eq!(site.users.len(), before + 2);
        let added = &site.users[before..];
        assert_eq!(added[0]["accountId"], "712020:p1");
        assert_eq!(added[1]["accountId"], "712020:p3");
        assert!(added.iter().all(|u| u["active"] == true));
        assert_eq!(added[1]["emailAddress"], "lee.roe1@contoso.com");
        assert!(Site::from_json(&serde_json::to_string(&site).expect("json")).is_ok());
    }

    #[test]
    fn a_site_with_an_unknown_top_level_key_is_refused() {
        let err = Site::from_json(
            r#"{"baseUrl":"x","projects":[],"issueTypes":[],"fields":[],"statuses":[],"typo":1}"#,
        );
        assert!(err.is_err());
    }

    #[test]
    fn rebasing_rewrites_self_links() {
        let site = Site::default_scrum().rebased("http://127.0.0.1:9");
        assert!(
            site.projects[0]["self"]
                .as_str()
                .is_some_and(|s| s.starts_with("http://127.0.0.1:9/"))
        );
    }
}
