//! Jira REST JSON → the [`super::meta`] model.
//!
//! Lenient on purpose: Jira mixes numbers and strings for ids and omits keys freely, and a
//! missing optional detail must not stop a migration from loading the rest of the site.

use serde_json::Value;

use super::meta::{
    CreateField, FieldMeta, FieldSchema, IssueTypeMeta, Named, StatusMeta, TransitionMeta,
    WorkflowMeta,
};

/// The string at `key`, numbers rendered as strings (Jira mixes both for ids).
pub(super) fn str_of(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

pub(super) fn items<'a>(v: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    v[key].as_array().into_iter().flatten()
}

pub(super) fn named(v: &Value) -> Option<Named> {
    Some(Named {
        id: str_of(v, "id")?,
        name: str_of(v, "name")
            .or_else(|| str_of(v, "value"))
            .or_else(|| str_of(v, "key"))
            .unwrap_or_default(),
    })
}

pub(super) fn schema(v: &Value) -> Option<FieldSchema> {
    Some(FieldSchema {
        kind: str_of(v, "type")?,
        items: str_of(v, "items"),
        system: str_of(v, "system"),
        custom: str_of(v, "custom"),
    })
}

pub(super) fn field(v: &Value) -> Option<FieldMeta> {
    Some(FieldMeta {
        id: str_of(v, "id")?,
        name: str_of(v, "name").unwrap_or_default(),
        custom: v["custom"].as_bool().unwrap_or(false),
        schema: schema(&v["schema"]),
    })
}

pub(super) fn status(v: &Value) -> Option<StatusMeta> {
    Some(StatusMeta {
        id: str_of(v, "id")?,
        name: str_of(v, "name").unwrap_or_default(),
        category: str_of(&v["statusCategory"], "key").unwrap_or_default(),
    })
}

pub(super) fn issue_type(v: &Value) -> Option<IssueTypeMeta> {
    Some(IssueTypeMeta {
        id: str_of(v, "id")?,
        name: str_of(v, "name").unwrap_or_default(),
        hierarchy_level: i32::try_from(v["hierarchyLevel"].as_i64().unwrap_or(0)).ok()?,
        subtask: v["subtask"].as_bool().unwrap_or(false),
        create_fields: Vec::new(),
        workflow: WorkflowMeta::default(),
    })
}

/// A `FieldCreateMetadata`; option values are named by `value`, other objects by `name`.
pub(super) fn create_field(v: &Value) -> Option<CreateField> {
    Some(CreateField {
        field_id: str_of(v, "fieldId").or_else(|| str_of(v, "key"))?,
        name: str_of(v, "name").unwrap_or_default(),
        required: v["required"].as_bool().unwrap_or(false),
        has_default: v["hasDefaultValue"].as_bool().unwrap_or(false),
        schema: schema(&v["schema"]).unwrap_or_default(),
        allowed: items(v, "allowedValues").filter_map(named).collect(),
    })
}

/// A workflow from `workflow/search?expand=transitions`: the `initial` transition gives the
/// status a new issue starts in and is not a move an existing issue can make.
pub(super) fn workflow(v: &Value) -> WorkflowMeta {
    let mut out = WorkflowMeta::default();
    for t in items(v, "transitions") {
        let Some(to) = str_of(t, "to") else { continue };
        if t["type"] == "initial" {
            out.initial = Some(to);
            continue;
        }
        out.transitions.push(TransitionMeta {
            id: str_of(t, "id").unwrap_or_default(),
            name: str_of(t, "name").unwrap_or_default(),
            from: items(t, "from")
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            to,
        });
    }
    out
}
