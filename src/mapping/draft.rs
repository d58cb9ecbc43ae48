//! Drafting a mapping from the catalog and the target's metadata, each rule with a confidence
//! and a reason, so the admin reviews the doubtful ones instead of building all of them.
//!
//! Evidence, strongest first: the process templates' standard types, states and fields
//! ([`super::known`]); exact names; synonyms (Resolved → Done, Removed → Won't Do); name
//! similarity (Jaro–Winkler) limited to compatible field types; and, for picklists, how many
//! of the values the items use have a Jira counterpart.
//!
//! Hierarchy fallback: ADO's four levels (Epic › Feature › Story › Task) go to the site's
//! levels by their standard synonyms. A type whose Jira type is a sub-task also gets a level-0
//! fallback type, used for items whose parent is not a level-0 issue; a parent that is not
//! exactly one level up is kept as a link (see the transform).

use std::collections::HashMap;

use super::{
    known,
    model::{
        LinkRule, Mapping, StateRule, TypeRule, UnmappedFields, UnmappedValues, UserMatch,
        UserRule, ValueRule,
    },
    source::{Source, leaf},
};
use crate::target::jira::meta::{IssueTypeMeta, TargetMeta};

/// The pseudo field that carries the ADO work item's URL (not an ADO field).
pub const ADO_URL: &str = "Ferry.AdoUrl";

/// Drafts a mapping. `people` holds the Jira account found for each ADO identity key.
pub fn draft(
    source: &Source,
    target: &TargetMeta,
    people: &HashMap<String, (String, UserMatch)>,
) -> Mapping {
    let types = types(source, target);
    let states = states(source, target, &types);
    Mapping {
        format: super::model::FORMAT,
        project_key: target.project.key.clone(),
        fields: super::fields::draft_fields(source, target),
        types,
        states,
        users: source
            .people
            .iter()
            .map(|p| {
                let found = people.get(&p.key);
                UserRule {
                    ado_identity: p.key.clone(),
                    display_name: p.display_name.clone(),
                    account_id: found.map(|(id, _)| id.clone()),
                    matched_by: found.map_or(UserMatch::Unresolved, |(_, m)| *m),
                }
            })
            .collect(),
        fallback_user: None,
        links: links(target),
        areas: areas(source, target),
        iterations: iterations(source, target),
        unmapped_values: UnmappedValues::Reject,
        unmapped_fields: UnmappedFields::Keep,
        comments_as_author: false,
    }
}

/// Case- and punctuation-insensitive name equality.
pub(super) fn same(a: &str, b: &str) -> bool {
    let norm = |s: &str| {
        s.chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect::<String>()
    };
    norm(a) == norm(b)
}

fn types(source: &Source, target: &TargetMeta) -> Vec<TypeRule> {
    let usable: Vec<&IssueTypeMeta> = target.issue_types.iter().collect();
    source
        .types
        .iter()
        .map(|t| {
            let wanted = known::type_level(&t.name);
            let by_synonym =
                known::type_synonyms(&t.name)
                    .iter()
                    .enumerate()
                    .find_map(|(rank, name)| {
                        usable
                            .iter()
                            .find(|j| same(&j.name, name))
                            .map(|j| (*j, rank))
                    });
            let (chosen, confidence, reason) = match by_synonym {
                Some((j, 0)) if level_of(j) == wanted => {
                    (Some(j), 1.0, format!("standard {} type", t.name))
                }
                Some((j, _)) => (
                    Some(j),
                    0.85,
                    format!("synonym of {} at level {}", t.name, level_of(j)),
                ),
                None => match usable.iter().find(|j| same(&j.name, &t.name)) {
                    Some(j) => (Some(*j), 0.95, "same name".to_owned()),
                    None => nearest_level(&usable, wanted).map_or(
                        (None, 0.0, "no Jira type at a usable level".to_owned()),
                        |j| (Some(j), 0.5, format!("nearest hierarchy level ({wanted})")),
                    ),
                },
            };
            let fallback = chosen
                .filter(|j| j.subtask)
                .and_then(|_| level_zero_fallback(&usable))
                .map(|j| j.id.clone());
            TypeRule {
                ado_type: t.name.clone(),
                jira_type: chosen.map(|j| j.id.clone()),
                fallback_type: fallback,
                confidence,
                reason,
                suggested_by: None,
            }
        })
        .collect()
}

fn level_of(j: &IssueTypeMeta) -> i32 {
    if j.subtask { -1 } else { j.hierarchy_level }
}

/// The type at the highest level not above `wanted`, else the lowest above it.
fn nearest_level<'a>(types: &[&'a IssueTypeMeta], wanted: i32) -> Option<&'a IssueTypeMeta> {
    let below = types
        .iter()
        .filter(|j| level_of(j) <= wanted)
        .max_by_key(|j| level_of(j));
    below
        .or_else(|| types.iter().min_by_key(|j| level_of(j)))
        .copied()
}

pub(super) fn level_zero_fallback<'a>(types: &[&'a IssueTypeMeta]) -> Option<&'a IssueTypeMeta> {
    let zero = || types.iter().filter(|j| level_of(j) == 0);
    zero()
        .find(|j| same(&j.name, "Task"))
        .or_else(|| zero().next())
        .copied()
}

pub(super) fn states(source: &Source, target: &TargetMeta, types: &[TypeRule]) -> Vec<StateRule> {
    let mut rules = Vec::new();
    for t in &source.types {
        let jira_type = types
            .iter()
            .find(|r| r.ado_type == t.name)
            .and_then(|r| r.jira_type.as_deref())
            .and_then(|id| target.issue_type(id));
        for (state, category) in &t.states {
            let mut rule = StateRule {
                ado_type: t.name.clone(),
                ado_state: state.clone(),
                jira_status: None,
                confidence: 0.0,
                reason: "the Jira type has no matching status".into(),
                suggested_by: None,
            };
            if let Some(jt) = jira_type {
                let reachable = workflow_statuses(jt);
                let status = |id: &String| target.status(id);
                let by_name = known::state_synonyms(state)
                    .iter()
                    .enumerate()
                    .find_map(|(rank, name)| {
                        reachable
                            .iter()
                            .find(|id| status(id).is_some_and(|s| same(&s.name, name)))
                            .map(|id| (id, rank))
                    })
                    .or_else(|| {
                        reachable
                            .iter()
                            .find(|id| status(id).is_some_and(|s| same(&s.name, state)))
                            .map(|id| (id, 0))
                    });
                let wanted = known::state_category(category);
                if let Some((id, rank)) = by_name {
                    rule.jira_status = Some(id.clone());
                    rule.confidence = if rank == 0 { 1.0 } else { 0.85 };
                    rule.reason = format!("{state} means the same");
                } else if let Some(id) = reachable
                    .iter()
                    .find(|id| status(id).is_some_and(|s| s.category == wanted))
                {
                    rule.jira_status = Some(id.clone());
                    rule.confidence = 0.6;
                    rule.reason = format!("same category ({category})");
                }
            }
            rules.push(rule);
        }
    }
    rules
}

/// Every status an issue of this type can be in: the initial one and each transition's end.
pub(super) fn workflow_statuses(t: &IssueTypeMeta) -> Vec<String> {
    let mut ids: Vec<String> = t.workflow.initial.iter().cloned().collect();
    for tr in &t.workflow.transitions {
        if !ids.contains(&tr.to) {
            ids.push(tr.to.clone());
        }
    }
    ids
}

fn links(target: &TargetMeta) -> Vec<LinkRule> {
    known::LINK_RELATIONS
        .iter()
        .map(|rel| {
            let found = known::link_synonyms(rel)
                .iter()
                .enumerate()
                .find_map(|(rank, name)| {
                    target
                        .link_types
                        .iter()
                        .find(|l| same(&l.name, name))
                        .map(|l| (l, rank))
                });
            LinkRule {
                ado_relation: (*rel).to_owned(),
                jira_link_type: found.map(|(l, _)| l.id.clone()),
                confidence: found.map_or(0.0, |(_, r)| if r == 0 { 1.0 } else { 0.7 }),
                reason: found.map_or("no Jira link type matches".into(), |(l, _)| {
                    format!("{} links", l.name)
                }),
                suggested_by: None,
            }
        })
        .collect()
}

/// Areas below the project root become components named after their last segment (the
/// relative path when two leaves share a name); an existing component of that name is reused.
fn areas(source: &Source, target: &TargetMeta) -> Vec<ValueRule> {
    let below_root: Vec<&String> = source.areas.iter().filter(|a| a.contains('\\')).collect();
    let mut rules: Vec<ValueRule> = source
        .areas
        .iter()
        .filter(|a| !a.contains('\\'))
        .map(|a| ValueRule {
            ado: a.clone(),
            jira: None,
        })
        .collect();
    for a in &below_root {
        let name = leaf(a);
        let clash = below_root.iter().filter(|b| leaf(b) == name).count() > 1;
        let wanted = if clash {
            a.split_once('\\')
                .map_or(name.to_owned(), |(_, rest)| rest.replace('\\', " / "))
        } else {
            name.to_owned()
        };
        let existing = target.components.iter().find(|c| same(&c.name, &wanted));
        rules.push(ValueRule {
            ado: (*a).clone(),
            jira: Some(existing.map_or(wanted, |c| c.name.clone())),
        });
    }
    rules
}

/// Dated iterations become sprints of the same name (an existing sprint is reused).
fn iterations(source: &Source, target: &TargetMeta) -> Vec<ValueRule> {
    source
        .iterations
        .iter()
        .map(|path| {
            let name = leaf(path);
            let existing = target.sprints.iter().find(|s| same(&s.name, name));
            ValueRule {
                ado: path.clone(),
                jira: Some(existing.map_or(name.to_owned(), |s| s.name.clone())),
            }
        })
        .collect()
}

#[cfg(test)]
#[path = "draft_tests.rs"]
mod tests;
