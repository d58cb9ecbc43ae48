//! The parts of Azure DevOps' REST shapes Ferry reads (`wit/7.2/workItemTracking.json`,
//! `core/7.2/core.json`). Unknown fields are ignored; ticket content stays in `fields` and
//! is never copied into Ferry's own records.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::Value;

/// `GET _apis/projects/{id}`.
#[derive(Debug, Clone, Deserialize)]
pub struct TeamProject {
    /// Project GUID.
    pub id: String,
    /// Project name (used in URLs).
    pub name: String,
}

/// `{ "count": N, "value": [...] }`, ADO's list envelope.
#[derive(Debug, Clone, Deserialize)]
pub struct ListOf<T> {
    /// The items.
    pub value: Vec<T>,
}

/// `POST _apis/wit/wiql` answer (flat queries).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkItemQueryResult {
    /// Matching items, in query order.
    #[serde(default)]
    pub work_items: Vec<WorkItemReference>,
}

/// An id and its URL.
#[derive(Debug, Clone, Deserialize)]
pub struct WorkItemReference {
    /// Work item id.
    pub id: i64,
}

/// `GET _apis/wit/workitems/{id}?$expand=all` (or relations).
#[derive(Debug, Clone, Deserialize)]
pub struct WorkItem {
    /// Work item id.
    pub id: i64,
    /// Revision.
    pub rev: i64,
    /// Field reference name → value. Holds ticket content: never persisted.
    #[serde(default)]
    pub fields: HashMap<String, Value>,
    /// Links to other items, attachments and artifacts.
    #[serde(default)]
    pub relations: Vec<WorkItemRelation>,
}

/// One relation of a work item.
#[derive(Debug, Clone, Deserialize)]
pub struct WorkItemRelation {
    /// e.g. `System.LinkTypes.Hierarchy-Reverse`, `AttachedFile`, `Hyperlink`.
    pub rel: String,
    /// Target URL (a work item, an attachment, an artifact).
    pub url: String,
    /// For attachments: `resourceSize`, `name`; for links: `comment`, `isLocked`.
    #[serde(default)]
    pub attributes: HashMap<String, Value>,
}

impl WorkItem {
    /// A string field.
    pub fn str_field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).and_then(Value::as_str)
    }

    /// The parent's id, from the hierarchy relation.
    pub fn parent_id(&self) -> Option<i64> {
        self.relations
            .iter()
            .find(|r| r.rel == "System.LinkTypes.Hierarchy-Reverse")
            .and_then(|r| trailing_id(&r.url))
    }
}

/// The numeric id at the end of a work item URL.
pub fn trailing_id(url: &str) -> Option<i64> {
    url.rsplit('/').next().and_then(|s| s.parse().ok())
}

/// `GET …/workItems/{id}/comments`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommentList {
    /// This page.
    #[serde(default)]
    pub comments: Vec<Comment>,
    /// Where the next page starts; absent on the last page.
    pub continuation_token: Option<String>,
    /// Total comments on the item.
    pub total_count: Option<i64>,
}

/// One comment. `text` is ticket content: never persisted.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Comment {
    /// Comment id.
    pub id: i64,
    /// HTML body.
    #[serde(default)]
    pub text: String,
    /// Author.
    pub created_by: Option<IdentityRef>,
    /// ISO 8601.
    pub created_date: Option<String>,
    /// Deleted comments are skipped by migrations.
    #[serde(default)]
    pub is_deleted: bool,
}

/// A person as ADO references them.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "camelCase")]
pub struct IdentityRef {
    /// Identity id.
    #[serde(default)]
    pub id: String,
    /// Name shown in ADO.
    #[serde(default)]
    pub display_name: String,
    /// Usually the e-mail address (AAD) or DOMAIN\\user (Server).
    #[serde(default)]
    pub unique_name: String,
}

/// `GET _apis/wit/workitemtypes`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkItemType {
    /// Display name, e.g. `User Story`.
    pub name: String,
    /// Reference name, e.g. `Microsoft.VSTS.WorkItemTypes.UserStory`.
    #[serde(default)]
    pub reference_name: String,
    /// States with their categories.
    #[serde(default)]
    pub states: Vec<WorkItemState>,
}

/// A state of a type.
#[derive(Debug, Clone, Deserialize)]
pub struct WorkItemState {
    /// e.g. `Active`.
    pub name: String,
    /// `Proposed`, `InProgress`, `Resolved`, `Completed`, `Removed`.
    #[serde(default)]
    pub category: String,
}

/// `GET _apis/wit/fields`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkItemField {
    /// e.g. `Microsoft.VSTS.Scheduling.StoryPoints`.
    pub reference_name: String,
    /// e.g. `Story Points`.
    pub name: String,
    /// e.g. `double`, `string`, `html`, `identity`, `dateTime`.
    #[serde(rename = "type", default)]
    pub field_type: String,
}

/// An area or iteration node with its children.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClassificationNode {
    /// Node id.
    pub id: i64,
    /// Node name.
    pub name: String,
    /// Full path, e.g. `\\Fabrikam\\Iteration\\Sprint 1`.
    #[serde(default)]
    pub path: String,
    /// Iterations carry `startDate` and `finishDate`.
    #[serde(default)]
    pub attributes: HashMap<String, Value>,
    /// Sub-nodes.
    #[serde(default)]
    pub children: Vec<ClassificationNode>,
}
