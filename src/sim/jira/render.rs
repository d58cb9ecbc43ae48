//! Issues and users as Jira renders them (`IssueBean`, `UserDetails`), with `fields` selection.
//!
//! Jira's `fields` parameter mixes `*all`, `*navigable`, explicit ids and `-id` exclusions;
//! GET issue defaults to `*all`, search to `id`. Unset fields render as `null` like Jira's.

use serde_json::{Map, Value, json};

use super::{
    JiraSim, clock,
    site::text,
    store::{Data, Issue},
};

/// A parsed `fields` selection.
pub struct FieldSel {
    all: bool,
    navigable: bool,
    include: Vec<String>,
    exclude: Vec<String>,
}

impl FieldSel {
    /// Parses comma-separated (possibly repeated) values; `default` applies when none are given.
    pub fn parse(values: &[String], default: &str) -> Self {
        let mut parts: Vec<String> = values
            .iter()
            .flat_map(|v| v.split(','))
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect();
        if parts.is_empty() {
            parts.push(default.to_owned());
        }
        let mut sel = Self {
            all: false,
            navigable: false,
            include: vec![],
            exclude: vec![],
        };
        for p in parts {
            match p.as_str() {
                "*all" => sel.all = true,
                "*navigable" => sel.navigable = true,
                _ => match p.strip_prefix('-') {
                    Some(x) => sel.exclude.push(x.to_owned()),
                    None => sel.include.push(p),
                },
            }
        }
        sel
    }

    fn wants(&self, field: &str, navigable: bool) -> bool {
        !self.exclude.iter().any(|e| e == field)
            && (self.all
                || (self.navigable && navigable)
                || self.include.iter().any(|i| i == field))
    }

    /// Whether only `id`/`key` are asked for (search may then return up to 5,000 per page).
    pub fn ids_only(&self) -> bool {
        !self.all && !self.navigable && self.include.iter().all(|i| i == "id" || i == "key")
    }
}

/// Fields every issue has even if the site file does not list them.
const BUILT_IN: &[&str] = &[
    "status",
    "created",
    "updated",
    "creator",
    "issuelinks",
    "attachment",
    "comment",
    "subtasks",
];

impl JiraSim {
    pub(super) fn project_key(&self, idx: usize) -> String {
        text(&self.0.site.projects[idx], "key").unwrap_or_default()
    }

    pub(super) fn project_id(&self, idx: usize) -> String {
        text(&self.0.site.projects[idx], "id").unwrap_or_default()
    }

    /// A project resolved by id or key.
    pub(super) fn project_idx(&self, id_or_key: &str) -> Option<usize> {
        let c = &self.0.catalog;
        c.projects_by_id
            .get(id_or_key)
            .or_else(|| c.projects_by_key.get(&id_or_key.to_ascii_uppercase()))
            .copied()
    }

    pub(super) fn type_json(&self, id: &str) -> Option<&Value> {
        self.0
            .catalog
            .types_by_id
            .get(id)
            .map(|&i| &self.0.site.issue_types[i])
    }

    pub(super) fn status_json(&self, id: &str) -> Value {
        self.0
            .catalog
            .statuses_by_id
            .get(id)
            .map(|&i| self.0.site.statuses[i].clone())
            .unwrap_or(Value::Null)
    }

    /// A project as nested in an issue (`fields.project`).
    pub(super) fn project_ref(&self, idx: usize) -> Value {
        let p = &self.0.site.projects[idx];
        let mut out = Map::new();
        for k in [
            "self",
            "id",
            "key",
            "name",
            "projectTypeKey",
            "simplified",
            "avatarUrls",
        ] {
            if let Some(v) = p.get(k) {
                out.insert(k.to_owned(), v.clone());
            }
        }
        Value::Object(out)
    }

    /// `UserDetails` for an accountId; `emailAddress` only when the site has one.
    pub(super) fn user_json(&self, account_id: &str) -> Value {
        if let Some(&i) = self.0.catalog.users_by_id.get(account_id) {
            let u = &self.0.site.users[i];
            let mut out = Map::new();
            for k in [
                "self",
                "accountId",
                "accountType",
                "emailAddress",
                "displayName",
                "active",
                "avatarUrls",
                "timeZone",
            ] {
                if let Some(v) = u.get(k) {
                    out.insert(k.to_owned(), v.clone());
                }
            }
            if self.0.deactivated.read().contains(account_id) {
                out.insert("active".to_owned(), Value::Bool(false));
            }
            return Value::Object(out);
        }
        let app = account_id.starts_with("addon_");
        json!({
            "self": format!("{}/rest/api/3/user?accountId={account_id}", self.0.base),
            "accountId": account_id,
            "accountType": if app { "app" } else { "atlassian" },
            "displayName": account_id.trim_start_matches("addon_"),
            "active": true,
            "avatarUrls": {},
        })
    }

    pub(super) fn issue_self(&self, id: u64) -> String {
        format!("{}/rest/api/3/issue/{id}", self.0.base)
    }

    /// `{id, key, self, fields: {summary, status, priority, issuetype}}` as nested in links/parents.
    pub(super) fn issue_ref(&self, issue: &Issue) -> Value {
        json!({
            "id": issue.id.to_string(),
            "key": issue.key,
            "self": self.issue_self(issue.id),
            "fields": {
                "summary": issue.fields.get("summary").cloned().unwrap_or(Value::Null),
                "status": self.status_json(&issue.status_id),
                "priority": self.priority_json(issue),
                "issuetype": self.type_json(&issue.type_id).cloned().unwrap_or(Value::Null),
            }
        })
    }

    /// The `IssueBean` for `issue`.
    pub(super) fn render_issue(
        &self,
        data: &Data,
        issue: &Issue,
        sel: &FieldSel,
        properties: &[String],
    ) -> Value {
        let mut fields = Map::new();
        let site_fields = self
            .0
            .site
            .fields
            .iter()
            .filter_map(|f| Some((f["id"].as_str()?, f["navigable"] != false)));
        let builtin = BUILT_IN.iter().map(|f| (*f, true));
        for (fid, navigable) in site_fields.chain(builtin) {
            if fields.contains_key(fid) || !sel.wants(fid, navigable) {
                continue;
            }
            fields.insert(fid.to_owned(), self.field_value(data, issue, fid));
        }
        let mut bean = json!({
            "expand": "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
            "id": issue.id.to_string(),
            "key": issue.key,
            "self": self.issue_self(issue.id),
        });
        if !fields.is_empty() {
            bean["fields"] = Value::Object(fields);
        }
        if !properties.is_empty() {
            let wanted: Map<String, Value> = issue
                .properties
                .iter()
                .filter(|(k, _)| properties.iter().any(|p| p == "*all" || p == *k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            bean["properties"] = Value::Object(wanted);
        }
        bean
    }

    fn field_value(&self, data: &Data, issue: &Issue, fid: &str) -> Value {
        let user = |k: &str| {
            issue
                .fields
                .get(k)
                .and_then(Value::as_str)
                .map_or(Value::Null, |a| self.user_json(a))
        };
        match fid {
            "project" => self.project_ref(issue.project),
            "issuetype" => self
                .type_json(&issue.type_id)
                .cloned()
                .unwrap_or(Value::Null),
            "status" => self.status_json(&issue.status_id),
            "created" => Value::String(clock::jira(issue.created)),
            "updated" => Value::String(clock::jira(issue.updated)),
            "creator" => self.user_json(&issue.creator),
            "assignee" | "reporter" => user(fid),
            "parent" => issue
                .parent
                .and_then(|p| data.issues.get(&p))
                .map_or(Value::Null, |p| self.issue_ref(p)),
            "labels" | "components" | "fixVersions" => {
                issue.fields.get(fid).cloned().unwrap_or_else(|| json!([]))
            }
            "issuelinks" => Value::Array(
                issue
                    .links
                    .iter()
                    .filter_map(|l| self.link_json(data, *l, Some(issue.id)))
                    .collect(),
            ),
            "attachment" => Value::Array(
                issue
                    .attachments
                    .iter()
                    .filter_map(|a| data.attachments.get(a))
                    .map(|a| self.attachment_json(a))
                    .collect(),
            ),
            "comment" => json!({
                "comments": issue.comments.iter().map(|c| self.comment_json(issue.id, c, &[])).collect::<Vec<_>>(),
                "maxResults": issue.comments.len(), "total": issue.comments.len(), "startAt": 0,
            }),
            "subtasks" => Value::Array(
                issue
                    .children
                    .iter()
                    .filter_map(|c| data.issues.get(c))
                    .filter(|c| {
                        self.type_json(&c.type_id)
                            .is_some_and(|t| t["subtask"] == true)
                    })
                    .map(|c| self.issue_ref(c))
                    .collect(),
            ),
            _ if self.is_sprint_field(fid) => issue
                .sprint
                .and_then(|s| data.sprints.get(&s))
                .map_or(Value::Null, |s| json!([s])),
            "priority" => self.priority_json(issue),
            _ => issue.fields.get(fid).cloned().unwrap_or(Value::Null),
        }
    }

    /// The issue's priority object (stored as its id).
    fn priority_json(&self, issue: &Issue) -> Value {
        let id = issue.fields.get("priority").and_then(Value::as_str);
        id.and_then(|id| {
            self.0
                .site
                .priorities
                .iter()
                .find(|p| text(p, "id").as_deref() == Some(id))
        })
        .cloned()
        .unwrap_or(Value::Null)
    }

    /// Whether `fid` is the agile sprint custom field.
    pub(super) fn is_sprint_field(&self, fid: &str) -> bool {
        self.0.catalog.fields_by_id.get(fid).is_some_and(|&i| {
            self.0.site.fields[i]["schema"]["custom"] == "com.pyxis.greenhopper.jira:gh-sprint"
        })
    }
}
