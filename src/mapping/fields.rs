//! Drafting field rules: where each filled ADO field goes, with which converter, and how its
//! values map. Standard fields follow the process templates; others match by name among
//! Jira fields of a compatible type, or stay in the description table.

use std::collections::BTreeMap;

use super::{
    draft::{ADO_URL, same},
    known::{self, Destination},
    model::{Converter, FieldRule},
    source::{Source, SourceField},
};
use crate::target::jira::meta::{FieldMeta, FieldSchema, Named, TargetMeta};

/// Below this similarity a non-standard field is not matched by name.
const NAME_THRESHOLD: f64 = 0.88;

/// Field rules for every filled field, plus the ADO URL rule when the site has a place for it.
pub fn draft_fields(source: &Source, target: &TargetMeta) -> Vec<FieldRule> {
    let mut rules: Vec<FieldRule> = source
        .fields
        .iter()
        .filter(|f| f.filled > 0 && !known::is_bookkeeping(&f.reference))
        .map(|f| rule_for(f, source, target))
        .collect();
    let url_field = target.fields.iter().find(|f| {
        f.schema
            .as_ref()
            .and_then(|s| s.custom.as_deref())
            .is_some_and(|c| c.ends_with(":url"))
            && (f.name.contains("ADO") || f.name.contains("Azure DevOps"))
    });
    if let Some(f) = url_field {
        rules.push(FieldRule {
            ado_field: ADO_URL.into(),
            jira_field: Some(f.id.clone()),
            converter: Converter::AdoUrl,
            values: BTreeMap::new(),
            confidence: 0.9,
            reason: format!("{} holds the ADO link", f.name),
            suggested_by: None,
        });
    }
    rules
}

fn rule_for(f: &SourceField, source: &Source, target: &TargetMeta) -> FieldRule {
    let field_by_id = |id: &str| target.fields.iter().find(|j| j.id == id);
    let standard = known::standard_field(&f.reference).and_then(|d| match d {
        Destination::System(id) => {
            let base = id.split('.').next().unwrap_or(id);
            field_by_id(base).map(|j| (id.to_owned(), j))
        }
        Destination::CustomNamed(names) => names.iter().find_map(|n| {
            target
                .fields
                .iter()
                .find(|j| j.custom && same(&j.name, n))
                .map(|j| (j.id.clone(), j))
        }),
    });
    let (jira, confidence, reason) = match standard {
        Some((id, j)) => (Some((id, j)), 1.0, format!("standard field → {}", j.name)),
        None => match by_name(f, target) {
            Some((j, score)) => (
                Some((j.id.clone(), j)),
                (score * 0.9) as f32,
                format!("similar name: {}", j.name),
            ),
            None => (
                None,
                0.0,
                "no Jira field fits; kept in the description table".into(),
            ),
        },
    };
    let Some((jira_id, j)) = jira else {
        return FieldRule {
            ado_field: f.reference.clone(),
            jira_field: None,
            converter: converter(f, None, &f.reference),
            values: BTreeMap::new(),
            confidence: 0.0,
            reason,
            suggested_by: None,
        };
    };
    let conv = converter(f, j.schema.as_ref(), &jira_id);
    let mut rule = FieldRule {
        ado_field: f.reference.clone(),
        jira_field: Some(jira_id),
        converter: conv,
        values: BTreeMap::new(),
        confidence,
        reason,
        suggested_by: None,
    };
    if matches!(conv, Converter::Picklist | Converter::MultiPicklist) {
        let allowed = allowed_values(target, &j.id);
        let used = source.values.get(&f.reference).cloned().unwrap_or_default();
        let mut matched = 0usize;
        for (value, _) in &used {
            if let Some(jira_value) = match_value(&f.reference, value, &allowed) {
                rule.values.insert(value.clone(), jira_value);
                matched += 1;
            }
        }
        if !used.is_empty() && matched < used.len() {
            rule.confidence = rule.confidence.min(matched as f32 / used.len() as f32);
            rule.reason = format!(
                "{}; {} of {} values match",
                rule.reason,
                matched,
                used.len()
            );
        }
    }
    rule
}

/// The most similar Jira field of a compatible type, if similar enough.
fn by_name<'a>(f: &SourceField, target: &'a TargetMeta) -> Option<(&'a FieldMeta, f64)> {
    target
        .fields
        .iter()
        .filter(|j| compatible(&f.kind, j.schema.as_ref()))
        .map(|j| {
            (
                j,
                strsim::jaro_winkler(&f.name.to_lowercase(), &j.name.to_lowercase()),
            )
        })
        .filter(|(_, s)| *s >= NAME_THRESHOLD)
        .max_by(|a, b| a.1.total_cmp(&b.1))
}

/// Whether values of an ADO field type can become values of a Jira field.
pub(super) fn compatible(ado_kind: &str, schema: Option<&FieldSchema>) -> bool {
    let Some(s) = schema else { return false };
    let system = s.system.as_deref().unwrap_or("");
    if matches!(
        system,
        "status" | "issuetype" | "project" | "parent" | "created" | "updated"
    ) {
        return false;
    }
    match ado_kind {
        "string" | "plainText" | "html" => s.kind == "string",
        "integer" | "double" => s.kind == "number",
        "dateTime" => s.kind == "date" || s.kind == "datetime",
        "identity" => s.kind == "user",
        k if k.starts_with("picklist") => matches!(s.kind.as_str(), "option" | "string" | "array"),
        _ => false,
    }
}

/// The converter for an ADO field going into a Jira field with `schema`.
pub(super) fn converter(f: &SourceField, schema: Option<&FieldSchema>, jira_id: &str) -> Converter {
    let jira_kind = schema.map_or("", |s| s.kind.as_str());
    let items = schema.and_then(|s| s.items.as_deref()).unwrap_or("");
    let custom = schema.and_then(|s| s.custom.as_deref()).unwrap_or("");
    match (f.reference.as_str(), f.kind.as_str()) {
        ("System.Tags", _) => Converter::Tags,
        ("System.AreaPath", _) => Converter::Area,
        ("System.IterationPath", _) => Converter::Iteration,
        (_, "html") => Converter::Html,
        (_, "identity") => Converter::Identity,
        _ if jira_id.starts_with("timetracking") => Converter::Hours,
        (_, "dateTime") if jira_kind == "date" => Converter::Date,
        (_, "dateTime") => Converter::DateTime,
        _ if matches!(jira_kind, "option" | "priority") => Converter::Picklist,
        _ if jira_kind == "array" && items == "option" => Converter::MultiPicklist,
        _ if custom.ends_with(":gh-sprint") => Converter::Iteration,
        (_, "integer" | "double") => Converter::Number,
        _ => Converter::Text,
    }
}

/// Every allowed value of a field, over all issue types' create screens (priorities from the
/// priority list, which createmeta repeats).
pub fn allowed_values(target: &TargetMeta, field_id: &str) -> Vec<Named> {
    let mut out: Vec<Named> = Vec::new();
    for t in &target.issue_types {
        for cf in t.create_fields.iter().filter(|c| c.field_id == field_id) {
            for v in &cf.allowed {
                if !out.iter().any(|o| o.id == v.id) {
                    out.push(v.clone());
                }
            }
        }
    }
    if out.is_empty() && field_id == "priority" {
        out = target.priorities.clone();
    }
    out
}

/// The Jira value for an ADO value: a known equivalence, else the same name.
fn match_value(field: &str, value: &str, allowed: &[Named]) -> Option<String> {
    known::value_synonyms(field, value)
        .iter()
        .find_map(|syn| allowed.iter().find(|a| same(&a.name, syn)))
        .or_else(|| allowed.iter().find(|a| same(&a.name, value)))
        .map(|a| a.name.clone())
}
