//! The mapping: how each ADO type, field, value, state, person, link, area and iteration lands
//! in one Jira project. It is plain data, serialised as the JSON an admin exports, edits and
//! imports, so every rule carries the confidence and reason of its draft next to the choice.
//!
//! The format is versioned by [`FORMAT`]; a document of another format is refused on import
//! instead of being half understood.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The mapping document format this build reads and writes.
pub const FORMAT: u32 = 1;

/// A whole mapping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Mapping {
    /// Always [`FORMAT`].
    pub format: u32,
    /// The Jira project key the mapping targets.
    pub project_key: String,
    /// ADO work item type → Jira issue type.
    pub types: Vec<TypeRule>,
    /// ADO field → Jira field.
    pub fields: Vec<FieldRule>,
    /// (ADO type, ADO state) → Jira status.
    pub states: Vec<StateRule>,
    /// ADO identity → Jira account.
    pub users: Vec<UserRule>,
    /// The account that stands in for people Jira does not have (a note names the original).
    /// `None` leaves such fields empty, with the note.
    pub fallback_user: Option<String>,
    /// ADO relation → Jira link type.
    pub links: Vec<LinkRule>,
    /// ADO area path → Jira component (by name; created in preflight when missing).
    pub areas: Vec<ValueRule>,
    /// ADO iteration path → Jira sprint (by name; created in preflight when missing).
    pub iterations: Vec<ValueRule>,
    /// What to do with a picklist value the value map does not cover.
    pub unmapped_values: UnmappedValues,
    /// Filled ADO fields without a rule are kept in a table at the end of the description
    /// (`keep`), or dropped (`drop`).
    pub unmapped_fields: UnmappedFields,
    /// Post each comment as its original author (Connect user impersonation) when the
    /// author maps to an active Jira account; otherwise as the app, with the author named in
    /// the header. Off by default: the admin opts in, and the change is audited. Absent in
    /// documents that leave it off (format 1 as before).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub comments_as_author: bool,
}

/// How sure the draft is: 1.0 certain (a process template or an exact match), below 0.6 worth
/// a look. Edited rules are 1.0: the admin decided.
pub type Confidence = f32;

/// One type rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TypeRule {
    /// ADO work item type name.
    pub ado_type: String,
    /// Jira issue type id; `None` means items of this type are not migrated.
    pub jira_type: Option<String>,
    /// The type used when the hierarchy cannot hold `jira_type` under the item's parent (a
    /// Task whose parent is not level 0 cannot be a Sub-task).
    #[serde(default)]
    pub fallback_type: Option<String>,
    /// Draft confidence.
    pub confidence: Confidence,
    /// Why the draft chose it.
    pub reason: String,
    /// Who suggested it when not the deterministic draft (`llm:{model}`), so the admin sees
    /// which rules a model proposed. Absent in documents without suggestions (format 1 as before).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suggested_by: Option<String>,
}

/// How a value is converted on its way to Jira.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Converter {
    /// Plain text, copied.
    Text,
    /// ADO HTML → an Atlassian document.
    Html,
    /// ADO identity → accountId (through the user rules).
    Identity,
    /// ADO date-time → `YYYY-MM-DD`.
    Date,
    /// ADO date-time → Jira date-time.
    DateTime,
    /// A number.
    Number,
    /// One value through the value map → an option, priority or other named value.
    Picklist,
    /// `;`-separated values through the value map → several options.
    MultiPicklist,
    /// `;`-separated tags → labels (spaces become `-`).
    Tags,
    /// Area path → component (through the area rules).
    Area,
    /// Iteration path → sprint (through the iteration rules).
    Iteration,
    /// Hours → Jira time tracking (`3.5` → `3h 30m`).
    Hours,
    /// The ADO work item's own URL (the value is ignored).
    AdoUrl,
}

/// One field rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FieldRule {
    /// ADO field reference name.
    pub ado_field: String,
    /// Jira field id (`summary`, `customfield_10016`, `timetracking.originalEstimate`…);
    /// `None` means the field is left out (or kept in the description table).
    pub jira_field: Option<String>,
    /// How the value is converted.
    pub converter: Converter,
    /// ADO value → Jira value (option value, priority name…), for picklists.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub values: BTreeMap<String, String>,
    /// Draft confidence.
    pub confidence: Confidence,
    /// Why the draft chose it.
    pub reason: String,
    /// Who suggested it when not the deterministic draft (`llm:{model}`), so the admin sees
    /// which rules a model proposed. Absent in documents without suggestions (format 1 as before).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suggested_by: Option<String>,
}

/// One state rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StateRule {
    /// ADO work item type.
    pub ado_type: String,
    /// ADO state.
    pub ado_state: String,
    /// Jira status id.
    pub jira_status: Option<String>,
    /// Draft confidence.
    pub confidence: Confidence,
    /// Why the draft chose it.
    pub reason: String,
    /// Who suggested it when not the deterministic draft (`llm:{model}`), so the admin sees
    /// which rules a model proposed. Absent in documents without suggestions (format 1 as before).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suggested_by: Option<String>,
}

/// How a person was matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum UserMatch {
    /// Same e-mail address.
    Email,
    /// Exactly one active Jira user has the same display name.
    Name,
    /// Chosen by the admin.
    Manual,
    /// Not found: the fallback user and a note.
    Unresolved,
}

/// One person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UserRule {
    /// ADO identity id (or unique name when ADO gave no id).
    pub ado_identity: String,
    /// ADO display name, for the admin and for the note on unresolved people.
    pub display_name: String,
    /// Jira accountId.
    pub account_id: Option<String>,
    /// How it was matched.
    pub matched_by: UserMatch,
}

/// One relation rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LinkRule {
    /// ADO relation reference name (`System.LinkTypes.Related`, the forward end).
    pub ado_relation: String,
    /// Jira link type id; `None` leaves such links out.
    pub jira_link_type: Option<String>,
    /// Draft confidence.
    pub confidence: Confidence,
    /// Why the draft chose it.
    pub reason: String,
    /// Who suggested it when not the deterministic draft (`llm:{model}`), so the admin sees
    /// which rules a model proposed. Absent in documents without suggestions (format 1 as before).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suggested_by: Option<String>,
}

/// A named value mapped to a named Jira object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ValueRule {
    /// The ADO path.
    pub ado: String,
    /// The Jira name (component or sprint); `None` drops the value.
    pub jira: Option<String>,
}

/// The rule for values the value map does not cover.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum UnmappedValues {
    /// The item fails in the dry run and the run, so nothing is silently changed.
    Reject,
    /// The field stays empty and the original value goes into the description table.
    KeepInDescription,
}

/// The rule for filled ADO fields without a field rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum UnmappedFields {
    /// A "From Azure DevOps" table at the end of the description.
    Keep,
    /// Left out.
    Drop,
}

impl Mapping {
    /// The rule for an ADO type.
    pub fn type_rule(&self, ado_type: &str) -> Option<&TypeRule> {
        self.types.iter().find(|t| t.ado_type == ado_type)
    }

    /// The Jira status for (type, state).
    pub fn state_rule(&self, ado_type: &str, ado_state: &str) -> Option<&StateRule> {
        self.states
            .iter()
            .find(|s| s.ado_type == ado_type && s.ado_state == ado_state)
    }

    /// The rule for an ADO identity.
    pub fn user(&self, ado_identity: &str) -> Option<&UserRule> {
        self.users.iter().find(|u| u.ado_identity == ado_identity)
    }

    /// Parses an imported document, refusing other formats with a clear message.
    pub fn from_json(text: &str) -> Result<Self, String> {
        let probe: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
        match probe.get("format").and_then(serde_json::Value::as_u64) {
            Some(f) if f == u64::from(FORMAT) => {}
            Some(f) => {
                return Err(format!(
                    "mapping format {f} is not supported (this Ferry reads format {FORMAT})"
                ));
            }
            None => return Err("not a Ferry mapping: no \"format\"".into()),
        }
        serde_json::from_value(probe).map_err(|e| format!("invalid mapping: {e}"))
    }
}
