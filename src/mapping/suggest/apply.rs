//! Taking a model's answer into a draft, trusting none of it: every suggestion must name an
//! open rule and ids or values the Jira metadata has (a status in the type's workflow, a field
//! of a compatible type that no other rule fills, an allowed value for an ADO value the
//! catalog saw). Anything else is counted and dropped. A taken suggestion is marked
//! `suggestedBy` and gets [`SUGGESTED`] confidence; settled rules are never touched.

use std::collections::HashSet;

use serde_json::Value;

use super::{SUGGESTED, is_open, marker};
use crate::{
    mapping::{
        draft::{level_zero_fallback, states, workflow_statuses},
        fields::{allowed_values, compatible, converter},
        model::{Converter, Mapping},
        source::Source,
    },
    target::jira::meta::TargetMeta,
};

/// What became of an answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Applied {
    /// Rules and values taken.
    pub applied: usize,
    /// Suggestions refused: unknown ids, settled rules, values Jira does not allow, repeats.
    pub ignored: usize,
}

/// Applies the valid suggestions of `answer` (the shape [`super::request`] asks for) to `draft`.
pub fn apply(
    draft: &mut Mapping,
    source: &Source,
    target: &TargetMeta,
    answer: &Value,
    model: &str,
) -> Applied {
    let mut n = Applied::default();
    let by = marker(model);
    let reason = format!("suggested by {model}");
    let mut list = |key: &str| match answer.get(key) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.clone(),
        Some(_) => {
            n.ignored += 1;
            Vec::new()
        }
    };
    let (types, states_, fields, links) =
        (list("types"), list("states"), list("fields"), list("links"));
    let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);

    // Types first: a state is checked against the workflow of its type as suggested.
    let mut changed: HashSet<String> = HashSet::new();
    let all_types: Vec<_> = target.issue_types.iter().collect();
    for s in &types {
        let (Some(ado), Some(jira)) = (text(s, "adoType"), text(s, "jiraType")) else {
            n.ignored += 1;
            continue;
        };
        let rule = draft.types.iter_mut().find(|r| r.ado_type == ado);
        let Some((rule, jt)) = rule.zip(target.issue_type(&jira)) else {
            n.ignored += 1;
            continue;
        };
        if rule.jira_type.as_deref() == Some(jira.as_str()) {
            continue; // the draft's own choice: nothing to change
        }
        if !is_open(rule.jira_type.is_some(), rule.confidence) || changed.contains(&ado) {
            n.ignored += 1;
            continue;
        }
        rule.jira_type = Some(jt.id.clone());
        rule.fallback_type = jt
            .subtask
            .then(|| level_zero_fallback(&all_types).map(|j| j.id.clone()))
            .flatten();
        (rule.confidence, rule.reason, rule.suggested_by) =
            (SUGGESTED, reason.clone(), Some(by.clone()));
        changed.insert(ado);
        n.applied += 1;
    }
    if !changed.is_empty() {
        // The states of a retyped type are drafted again against its new workflow.
        let fresh = states(source, target, &draft.types);
        for r in draft
            .states
            .iter_mut()
            .filter(|r| changed.contains(&r.ado_type))
        {
            if let Some(f) = fresh
                .iter()
                .find(|f| f.ado_type == r.ado_type && f.ado_state == r.ado_state)
            {
                *r = f.clone();
            }
        }
    }

    let mut seen: HashSet<(String, String)> = HashSet::new();
    for s in &states_ {
        let (Some(ty), Some(state), Some(status)) = (
            text(s, "adoType"),
            text(s, "adoState"),
            text(s, "jiraStatus"),
        ) else {
            n.ignored += 1;
            continue;
        };
        let reachable = draft
            .type_rule(&ty)
            .and_then(|t| t.jira_type.as_deref())
            .and_then(|id| target.issue_type(id))
            .map(workflow_statuses)
            .unwrap_or_default();
        let rule = draft
            .states
            .iter_mut()
            .find(|r| r.ado_type == ty && r.ado_state == state);
        if rule
            .as_ref()
            .is_some_and(|r| r.jira_status.as_ref() == Some(&status))
        {
            continue; // the draft's own choice: nothing to change
        }
        let Some(rule) = rule.filter(|r| is_open(r.jira_status.is_some(), r.confidence)) else {
            n.ignored += 1;
            continue;
        };
        if !reachable.contains(&status) || !seen.insert((ty, state)) {
            n.ignored += 1;
            continue;
        }
        rule.jira_status = Some(status);
        (rule.confidence, rule.reason, rule.suggested_by) =
            (SUGGESTED, reason.clone(), Some(by.clone()));
        n.applied += 1;
    }

    let mut seen: HashSet<String> = HashSet::new();
    for s in &fields {
        let Some(ado) = text(s, "adoField") else {
            n.ignored += 1;
            continue;
        };
        let sf = source.fields.iter().find(|f| f.reference == ado);
        let idx = draft.fields.iter().position(|r| r.ado_field == ado);
        let (Some(sf), Some(idx)) = (sf, idx) else {
            n.ignored += 1;
            continue;
        };
        if !seen.insert(ado.clone()) {
            n.ignored += 1;
            continue;
        }
        let open = is_open(
            draft.fields[idx].jira_field.is_some(),
            draft.fields[idx].confidence,
        );
        if let Some(jira) =
            text(s, "jiraField").filter(|j| draft.fields[idx].jira_field.as_ref() != Some(j))
        {
            let meta = target.fields.iter().find(|f| f.id == jira);
            let filled_elsewhere = draft.fields.iter().enumerate().any(|(i, r)| {
                i != idx
                    && r.jira_field
                        .as_deref()
                        .is_some_and(|id| id.split('.').next() == Some(jira.as_str()))
            });
            match meta {
                Some(m) if open && !filled_elsewhere && compatible(&sf.kind, m.schema.as_ref()) => {
                    let rule = &mut draft.fields[idx];
                    rule.converter = converter(sf, m.schema.as_ref(), &jira);
                    rule.jira_field = Some(jira);
                    rule.values.clear();
                    (rule.confidence, rule.reason, rule.suggested_by) =
                        (SUGGESTED, reason.clone(), Some(by.clone()));
                    n.applied += 1;
                }
                // The values were meant for the refused field.
                _ => {
                    n.ignored += 1;
                    continue;
                }
            }
        }
        let Some(values) = s.get("values").and_then(Value::as_object) else {
            continue;
        };
        let rule = &mut draft.fields[idx];
        let picklist = matches!(
            rule.converter,
            Converter::Picklist | Converter::MultiPicklist
        );
        let allowed = match (&rule.jira_field, picklist) {
            (Some(id), true) => allowed_values(target, id),
            _ => Vec::new(),
        };
        let used = source.values.get(&ado);
        let mut took = 0;
        for (ado_value, jira_value) in values {
            let fits = jira_value
                .as_str()
                .and_then(|j| allowed.iter().find(|a| a.name == j));
            let seen_in_ado = used.is_some_and(|u| u.iter().any(|(v, _)| v == ado_value));
            match fits {
                Some(a) if seen_in_ado && !rule.values.contains_key(ado_value) => {
                    rule.values.insert(ado_value.clone(), a.name.clone());
                    took += 1;
                }
                _ => n.ignored += 1,
            }
        }
        if took > 0 {
            n.applied += took;
            rule.confidence = rule.confidence.min(SUGGESTED);
            if rule.suggested_by.is_none() {
                rule.reason = format!("{}; {took} values suggested by {model}", rule.reason);
                rule.suggested_by = Some(by.clone());
            }
        }
    }

    let mut seen: HashSet<String> = HashSet::new();
    for s in &links {
        let (Some(rel), Some(jira)) = (text(s, "adoRelation"), text(s, "jiraLinkType")) else {
            n.ignored += 1;
            continue;
        };
        let rule = draft.links.iter_mut().find(|r| r.ado_relation == rel);
        if rule
            .as_ref()
            .is_some_and(|r| r.jira_link_type.as_ref() == Some(&jira))
        {
            continue; // the draft's own choice: nothing to change
        }
        let rule = rule.filter(|r| is_open(r.jira_link_type.is_some(), r.confidence));
        let exists = target.link_types.iter().any(|l| l.id == jira);
        match rule {
            Some(rule) if exists && seen.insert(rel) => {
                rule.jira_link_type = Some(jira);
                (rule.confidence, rule.reason, rule.suggested_by) =
                    (SUGGESTED, reason.clone(), Some(by.clone()));
                n.applied += 1;
            }
            _ => n.ignored += 1,
        }
    }
    n
}

#[cfg(test)]
#[path = "apply_tests.rs"]
mod tests;
