//! What Ferry sends to the model, built here and nowhere else so that one function (and its
//! tests) shows all of it. Only the open rules are asked about, to keep the prompt small, and
//! only schema metadata describes them: names, types, categories and picklist vocabulary from
//! the catalog; ids, names, levels, types, allowed values and link types from Jira. Users are
//! left out entirely (people are personal data), as are the site URL and the project name.

use std::collections::HashSet;

use serde_json::{Map, Value, json};

use super::is_open;
use crate::{
    mapping::{
        draft::workflow_statuses,
        fields::{allowed_values, compatible},
        model::{Converter, Mapping},
        source::Source,
    },
    target::jira::meta::TargetMeta,
};

/// At most this many Jira fields and allowed values per field are listed; a site with
/// thousands of custom fields must not make a huge prompt.
const MAX_FIELDS: usize = 300;
const MAX_VALUES: usize = 200;

/// The fixed instructions: what to answer and in which shape ([`super::apply`] reads it).
const SYSTEM: &str = "You map an Azure DevOps project's schema onto a Jira project's schema. \
The user message is JSON: `ask` lists the Azure DevOps types, states, fields, picklist values and \
relations that still need a Jira counterpart; `jira` describes the Jira project. Answer with one \
JSON object: {\"types\":[{\"adoType\":\"…\",\"jiraType\":\"<issue type id>\"}],\
\"states\":[{\"adoType\":\"…\",\"adoState\":\"…\",\"jiraStatus\":\"<status id>\"}],\
\"fields\":[{\"adoField\":\"…\",\"jiraField\":\"<field id>\",\"values\":{\"<ADO value>\":\"<Jira allowed value>\"}}],\
\"links\":[{\"adoRelation\":\"…\",\"jiraLinkType\":\"<link type id>\"}]}. Use only ids and values \
listed under `jira`; a status must be one of its issue type's statuses; a field must take the \
Azure DevOps field's kind of value. Leave out anything without a good counterpart.";

/// The chat-completions body (without `model`, which the client adds), or `None` when the
/// draft leaves nothing open.
pub fn request(draft: &Mapping, source: &Source, target: &TargetMeta) -> Option<Value> {
    questions(draft, source, target).map(|q| wrap(&q))
}

/// Wraps the user message: fixed instructions, JSON mode, no creativity.
pub(super) fn wrap(questions: &Value) -> Value {
    json!({
        "messages": [
            { "role": "system", "content": SYSTEM },
            { "role": "user", "content": questions.to_string() },
        ],
        "response_format": { "type": "json_object" },
        "temperature": 0,
    })
}

/// How many rules and value gaps `questions` asks about.
pub(super) fn count(questions: &Value) -> usize {
    questions["ask"].as_object().map_or(0, |a| {
        a.values().filter_map(Value::as_array).map(Vec::len).sum()
    })
}

/// The user message: `{"ask": {...}, "jira": {...}}`, each list present only when non-empty.
pub(super) fn questions(draft: &Mapping, source: &Source, target: &TargetMeta) -> Option<Value> {
    let types: Vec<Value> = draft
        .types
        .iter()
        .filter(|t| is_open(t.jira_type.is_some(), t.confidence))
        .map(|t| json!({ "adoType": t.ado_type }))
        .collect();
    let category = |ty: &str, state: &str| {
        source
            .types
            .iter()
            .find(|t| t.name == ty)
            .and_then(|t| t.states.iter().find(|(s, _)| s == state))
            .map_or("", |(_, c)| c.as_str())
    };
    let states: Vec<Value> = draft
        .states
        .iter()
        .filter(|s| is_open(s.jira_status.is_some(), s.confidence))
        .map(|s| json!({ "adoType": s.ado_type, "adoState": s.ado_state, "category": category(&s.ado_type, &s.ado_state) }))
        .collect();
    let vocabulary = |field: &str| -> Vec<&str> {
        source
            .values
            .get(field)
            .map(|v| {
                v.iter()
                    .map(|(value, _)| value.as_str())
                    .take(MAX_VALUES)
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut fields = Vec::new();
    let mut gaps = Vec::new();
    let mut kinds: HashSet<&str> = HashSet::new();
    let mut wanted: Vec<&str> = Vec::new();
    for rule in &draft.fields {
        let Some(sf) = source.fields.iter().find(|f| f.reference == rule.ado_field) else {
            continue;
        };
        if is_open(rule.jira_field.is_some(), rule.confidence) {
            let mut q = json!({ "adoField": sf.reference, "name": sf.name, "type": sf.kind });
            let values = vocabulary(&sf.reference);
            if !values.is_empty() {
                q["values"] = json!(values);
            }
            if let Some(current) = &rule.jira_field {
                wanted.push(current);
            }
            kinds.insert(&sf.kind);
            fields.push(q);
        } else if let (Some(jira), Converter::Picklist | Converter::MultiPicklist) =
            (&rule.jira_field, rule.converter)
        {
            let missing: Vec<&str> = vocabulary(&sf.reference)
                .into_iter()
                .filter(|v| !rule.values.contains_key(*v))
                .collect();
            if !missing.is_empty() {
                gaps.push(
                    json!({ "adoField": sf.reference, "jiraField": jira, "adoValues": missing }),
                );
                wanted.push(jira);
            }
        }
    }
    let links: Vec<Value> = draft
        .links
        .iter()
        .filter(|l| is_open(l.jira_link_type.is_some(), l.confidence))
        .map(|l| json!({ "adoRelation": l.ado_relation }))
        .collect();

    let mut ask = Map::new();
    for (key, list) in [
        ("types", &types),
        ("states", &states),
        ("fields", &fields),
        ("values", &gaps),
        ("links", &links),
    ] {
        if !list.is_empty() {
            ask.insert(key.into(), json!(list));
        }
    }
    if ask.is_empty() {
        return None;
    }
    let mut jira = Map::new();
    if !types.is_empty() || !states.is_empty() {
        jira.insert("issueTypes".into(), issue_types(target));
        jira.insert(
            "statuses".into(),
            target
                .statuses
                .iter()
                .map(|s| json!({ "id": s.id, "name": s.name, "category": s.category }))
                .collect(),
        );
    }
    if !fields.is_empty() || !gaps.is_empty() {
        // Jira fields another (settled) rule already fills are not offered: a suggestion must
        // not pour a second value into the summary.
        let taken: HashSet<&str> = draft
            .fields
            .iter()
            .filter(|r| !is_open(r.jira_field.is_some(), r.confidence))
            .filter_map(|r| r.jira_field.as_deref())
            .map(|id| id.split('.').next().unwrap_or(id))
            .collect();
        let offered: Vec<Value> = target
            .fields
            .iter()
            .filter(|f| {
                wanted.contains(&f.id.as_str())
                    || (!taken.contains(f.id.as_str())
                        && kinds.iter().any(|k| compatible(k, f.schema.as_ref())))
            })
            .take(MAX_FIELDS)
            .map(|f| {
                let mut v = json!({ "id": f.id, "name": f.name });
                if let Some(s) = &f.schema {
                    v["type"] = json!(s.kind);
                    if let Some(items) = &s.items {
                        v["items"] = json!(items);
                    }
                    if let Some(custom) = &s.custom {
                        v["custom"] = json!(custom);
                    }
                }
                let names: Vec<String> = allowed_values(target, &f.id)
                    .into_iter()
                    .take(MAX_VALUES)
                    .map(|a| a.name)
                    .collect();
                if !names.is_empty() {
                    v["allowedValues"] = json!(names);
                }
                v
            })
            .collect();
        jira.insert("fields".into(), json!(offered));
    }
    if !links.is_empty() {
        jira.insert(
            "linkTypes".into(),
            target
                .link_types
                .iter()
                .map(|l| json!({ "id": l.id, "name": l.name, "inward": l.inward, "outward": l.outward }))
                .collect(),
        );
    }
    Some(json!({ "ask": ask, "jira": jira }))
}

/// Issue types with their level and the statuses their workflow can reach.
fn issue_types(target: &TargetMeta) -> Value {
    target
        .issue_types
        .iter()
        .map(|t| {
            json!({ "id": t.id, "name": t.name, "hierarchyLevel": t.hierarchy_level,
                    "subtask": t.subtask, "statuses": workflow_statuses(t) })
        })
        .collect()
}

#[cfg(test)]
#[path = "request_tests.rs"]
mod tests;
