//! Checks an edited or imported mapping against the target's metadata before it is stored, so
//! a typo in an id is an error on save, not a thousand failed items in the run.

use super::{draft::ADO_URL, model::Mapping};
use crate::target::jira::meta::TargetMeta;

/// Every reason the mapping cannot be used with `target` (empty when it can).
pub fn validate(m: &Mapping, target: &TargetMeta) -> Vec<String> {
    let mut errors = Vec::new();
    if m.project_key != target.project.key {
        errors.push(format!(
            "the mapping is for project {}, not {}",
            m.project_key, target.project.key
        ));
    }
    for t in &m.types {
        for id in t.jira_type.iter().chain(&t.fallback_type) {
            if target.issue_type(id).is_none() {
                errors.push(format!(
                    "type {}: Jira issue type {id} does not exist in {}",
                    t.ado_type, target.project.key
                ));
            }
        }
    }
    for s in &m.states {
        if let Some(id) = &s.jira_status {
            if target.status(id).is_none() {
                errors.push(format!(
                    "state {} of {}: Jira status {id} does not exist",
                    s.ado_state, s.ado_type
                ));
            }
        }
    }
    for f in &m.fields {
        let Some(id) = &f.jira_field else { continue };
        let base = id.split('.').next().unwrap_or(id);
        if !target.fields.iter().any(|j| j.id == base) {
            errors.push(format!(
                "field {}: Jira field {id} does not exist",
                f.ado_field
            ));
        }
        if f.ado_field.is_empty() || (f.ado_field.starts_with("Ferry.") && f.ado_field != ADO_URL) {
            errors.push(format!(
                "field rule with an unknown source {:?}",
                f.ado_field
            ));
        }
    }
    for l in &m.links {
        if let Some(id) = &l.jira_link_type {
            if !target.link_types.iter().any(|t| &t.id == id) {
                errors.push(format!(
                    "relation {}: Jira link type {id} does not exist",
                    l.ado_relation
                ));
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    for f in &m.fields {
        if !seen.insert(f.ado_field.as_str()) {
            errors.push(format!("field {} has two rules", f.ado_field));
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::{draft::draft, fixture};

    #[test]
    fn a_draft_is_valid_and_broken_ids_are_named() {
        let target = fixture::target();
        let mut m = draft(&fixture::source(), &target, &Default::default());
        assert_eq!(validate(&m, &target), Vec::<String>::new());
        m.types[0].jira_type = Some("999".into());
        m.states[0].jira_status = Some("888".into());
        m.fields[0].jira_field = Some("customfield_404".into());
        let dup = m.fields[1].clone();
        m.fields.push(dup);
        m.project_key = "OTHER".into();
        let errors = validate(&m, &target);
        assert_eq!(errors.len(), 5, "{errors:?}");
        assert!(
            errors.iter().any(|e| e.contains("999")) && errors.iter().any(|e| e.contains("888"))
        );
        assert!(
            errors.iter().any(|e| e.contains("customfield_404"))
                && errors.iter().any(|e| e.contains("two rules"))
        );
    }
}
