//! The target site's metadata, as one serde snapshot.
//!
//! Mapping drafts, the dry run and the run's phases all validate against the same snapshot,
//! so a dry run's verdicts hold for the run that follows (unless the site changed, which
//! `fetched_at` lets the caller notice). Only schema metadata lives here, never ticket content,
//! so the snapshot may be stored with a mapping version.

use serde::{Deserialize, Serialize};

/// Everything Ferry needs to know about one Jira project before writing to it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetMeta {
    /// The site's base URL, e.g. `https://acme.atlassian.net`.
    pub site: String,
    /// The project issues are created in.
    pub project: ProjectRef,
    /// The project's issue types, each with its create screen and workflow.
    pub issue_types: Vec<IssueTypeMeta>,
    /// Every field of the site, system and custom.
    pub fields: Vec<FieldMeta>,
    /// Every status the site knows.
    pub statuses: Vec<StatusMeta>,
    /// Priorities (site-wide).
    pub priorities: Vec<Named>,
    /// The project's components.
    pub components: Vec<Named>,
    /// The project's versions.
    pub versions: Vec<Named>,
    /// The project's agile boards.
    pub boards: Vec<Named>,
    /// Sprints of those boards.
    pub sprints: Vec<SprintMeta>,
    /// Issue link types.
    pub link_types: Vec<LinkTypeMeta>,
    /// Whether attachments can be uploaded, and how large.
    pub attachments: AttachmentLimits,
    /// When the snapshot was taken (unix milliseconds).
    pub fetched_at: i64,
}

/// A project, by the three names Jira uses for it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ProjectRef {
    /// Numeric id as a string.
    pub id: String,
    /// Key, e.g. `SCRUM`.
    pub key: String,
    /// Display name.
    pub name: String,
}

/// An issue type of the project, with what creating one requires and how it moves.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IssueTypeMeta {
    /// Issue type id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Jira's hierarchy level: -1 sub-task, 0 standard, 1 epic, 2+ above; parents must be
    /// exactly one level up, which decides how ADO's free-form hierarchy maps.
    pub hierarchy_level: i32,
    /// Whether this is a sub-task type (needs a level-0 parent at creation).
    pub subtask: bool,
    /// The create screen's fields (createmeta).
    pub create_fields: Vec<CreateField>,
    /// The workflow issues of this type follow in this project.
    pub workflow: WorkflowMeta,
}

/// A field on an issue type's create screen.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateField {
    /// Field id (`summary`, `customfield_10020`, …).
    pub field_id: String,
    /// Display name.
    pub name: String,
    /// Whether a create without it fails.
    pub required: bool,
    /// Whether Jira fills it when omitted (a required field with a default is not a blocker).
    pub has_default: bool,
    /// The field's type.
    pub schema: FieldSchema,
    /// Allowed values: id plus the option's `value` or the object's `name`; empty = free.
    pub allowed: Vec<Named>,
}

/// Jira's `JsonTypeBean`: what kind of value a field takes.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct FieldSchema {
    /// `schema.type`: string, number, array, option, user, date, datetime, priority, …
    pub kind: String,
    /// For arrays, the element type.
    pub items: Option<String>,
    /// For system fields, the system field name.
    pub system: Option<String>,
    /// For custom fields, the custom field type key.
    pub custom: Option<String>,
}

/// A field of the site.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldMeta {
    /// Field id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Whether it is a custom field.
    pub custom: bool,
    /// Its type; Jira omits it for a few internal fields.
    pub schema: Option<FieldSchema>,
}

/// A status.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct StatusMeta {
    /// Status id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// `statusCategory.key`: `new`, `indeterminate` or `done`; what state mapping falls back on.
    pub category: String,
}

/// A workflow, reduced to what moving an issue needs.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkflowMeta {
    /// The status id a created issue starts in, when known.
    pub initial: Option<String>,
    /// Its transitions.
    pub transitions: Vec<TransitionMeta>,
}

/// A workflow transition.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct TransitionMeta {
    /// Transition id, as POSTed to `/issue/{key}/transitions`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Status ids it leaves from; empty means global (available from every status).
    pub from: Vec<String>,
    /// The status id it arrives at.
    pub to: String,
}

/// Anything Jira names by id and name (priorities, components, options, boards…).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Named {
    /// Id as a string.
    pub id: String,
    /// Display name (an option's `value`).
    pub name: String,
}

/// An agile sprint.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SprintMeta {
    /// Sprint id.
    pub id: i64,
    /// Display name.
    pub name: String,
    /// `future`, `active` or `closed`; closed sprints cannot take new issues.
    pub state: String,
    /// The board it was listed under.
    pub board_id: i64,
}

/// An issue link type.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct LinkTypeMeta {
    /// Link type id.
    pub id: String,
    /// Name, e.g. `Blocks`.
    pub name: String,
    /// Inward description, e.g. `is blocked by`.
    pub inward: String,
    /// Outward description, e.g. `blocks`.
    pub outward: String,
}

/// The site's attachment settings.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct AttachmentLimits {
    /// Whether attachments are enabled at all.
    pub enabled: bool,
    /// The largest file accepted, in bytes.
    pub upload_limit: i64,
}

/// A Jira user an ADO identity resolved to.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct JiraUser {
    /// The only id Jira accepts in writes.
    pub account_id: String,
    /// Display name.
    pub display_name: String,
    /// E-mail, when the user's privacy settings show it.
    pub email: Option<String>,
    /// Whether the account is active (inactive users cannot be assignees).
    pub active: bool,
}

impl TargetMeta {
    /// The issue type with this id.
    pub fn issue_type(&self, id: &str) -> Option<&IssueTypeMeta> {
        self.issue_types.iter().find(|t| t.id == id)
    }

    /// The status with this id.
    pub fn status(&self, id: &str) -> Option<&StatusMeta> {
        self.statuses.iter().find(|s| s.id == id)
    }
}

impl IssueTypeMeta {
    /// The create-screen field with this id; `None` means the create call may not set it.
    pub fn create_field(&self, id: &str) -> Option<&CreateField> {
        self.create_fields.iter().find(|f| f.field_id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn story() -> IssueTypeMeta {
        IssueTypeMeta {
            id: "10002".into(),
            name: "Story".into(),
            hierarchy_level: 0,
            subtask: false,
            create_fields: Vec::new(),
            workflow: WorkflowMeta::default(),
        }
    }

    #[test]
    fn lookups_find_by_id() {
        let meta = TargetMeta {
            site: "https://acme.atlassian.net".into(),
            project: ProjectRef {
                id: "10000".into(),
                key: "SCRUM".into(),
                name: "Scrum".into(),
            },
            issue_types: vec![story()],
            fields: Vec::new(),
            statuses: vec![StatusMeta {
                id: "10002".into(),
                name: "Done".into(),
                category: "done".into(),
            }],
            priorities: Vec::new(),
            components: Vec::new(),
            versions: Vec::new(),
            boards: Vec::new(),
            sprints: Vec::new(),
            link_types: Vec::new(),
            attachments: AttachmentLimits::default(),
            fetched_at: 0,
        };
        assert_eq!(
            meta.issue_type("10002").map(|t| t.name.as_str()),
            Some("Story")
        );
        assert!(meta.issue_type("1").is_none());
        assert_eq!(
            meta.status("10002").map(|s| s.category.as_str()),
            Some("done")
        );
        let json = serde_json::to_value(&meta).expect("serializes");
        assert!(json["issueTypes"][0]["hierarchyLevel"].is_i64());
        assert!(json.get("fetchedAt").is_some());
    }
}
