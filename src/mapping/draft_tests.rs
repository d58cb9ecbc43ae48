use std::collections::HashMap;

use super::*;
use crate::mapping::{
    fixture,
    model::{Converter, FieldRule, Mapping},
};

fn drafted() -> Mapping {
    let people: HashMap<String, (String, UserMatch)> =
        [("g-ann".to_owned(), ("acc-ann".to_owned(), UserMatch::Email))].into();
    draft(&fixture::source(), &fixture::target(), &people)
}

fn field<'a>(m: &'a Mapping, ado: &str) -> Option<&'a FieldRule> {
    m.fields.iter().find(|f| f.ado_field == ado)
}

#[test]
fn types_follow_the_hierarchy_with_a_level_zero_fallback_for_sub_tasks() {
    let m = drafted();
    let t = |n: &str| {
        m.type_rule(n)
            .map(|r| (r.jira_type.clone(), r.fallback_type.clone(), r.confidence))
    };
    assert_eq!(t("Feature"), Some((Some("10".into()), None, 1.0)));
    assert_eq!(t("User Story"), Some((Some("11".into()), None, 1.0)));
    assert_eq!(t("Bug"), Some((Some("12".into()), None, 1.0)));
    assert_eq!(t("Task"), Some((Some("14".into()), Some("13".into()), 1.0)));
}

#[test]
fn states_map_by_synonym_and_removed_becomes_wont_do() {
    let m = drafted();
    let s = |st: &str| {
        m.state_rule("User Story", st)
            .and_then(|r| r.jira_status.clone())
    };
    assert_eq!(
        ["New", "Active", "Resolved", "Closed", "Removed"].map(s),
        [
            Some("1".into()),
            Some("2".into()),
            Some("3".into()),
            Some("3".into()),
            Some("4".into())
        ]
    );
}

#[test]
fn standard_fields_are_certain_and_values_map_through_known_equivalences() {
    let m = drafted();
    let dest = |ado: &str| field(&m, ado).map(|r| (r.jira_field.clone(), r.converter));
    assert_eq!(
        dest("System.Title"),
        Some((Some("summary".into()), Converter::Text))
    );
    assert_eq!(
        dest("System.Description"),
        Some((Some("description".into()), Converter::Html))
    );
    assert_eq!(
        dest("System.AssignedTo"),
        Some((Some("assignee".into()), Converter::Identity))
    );
    assert_eq!(
        dest("System.Tags"),
        Some((Some("labels".into()), Converter::Tags))
    );
    assert_eq!(
        dest("System.AreaPath"),
        Some((Some("components".into()), Converter::Area))
    );
    assert_eq!(
        dest("Microsoft.VSTS.Scheduling.StoryPoints"),
        Some((Some("customfield_1".into()), Converter::Number))
    );
    let prio = field(&m, "Microsoft.VSTS.Common.Priority").expect("priority rule");
    assert_eq!(
        (prio.converter, prio.confidence),
        (Converter::Picklist, 1.0)
    );
    assert_eq!(prio.values.get("1").map(String::as_str), Some("Highest"));
    assert_eq!(prio.values.get("2").map(String::as_str), Some("High"));
    let sev = field(&m, "Microsoft.VSTS.Common.Severity").expect("severity rule");
    assert_eq!(
        sev.values.get("1 - Critical").map(String::as_str),
        Some("Critical")
    );
    assert!(
        !sev.values.contains_key("5 - Cosmetic"),
        "a retired value has no counterpart"
    );
    assert!(
        sev.confidence <= 0.5,
        "half the values are unmatched: {}",
        sev.confidence
    );
}

#[test]
fn unmatched_bookkeeping_and_empty_fields() {
    let m = drafted();
    assert_eq!(
        field(&m, "Custom.Customer").map(|r| r.jira_field.clone()),
        Some(None),
        "no similar Jira field"
    );
    assert!(
        field(&m, "System.Rev").is_none(),
        "bookkeeping gets no rule"
    );
    assert!(
        field(&m, "Custom.Unused").is_none(),
        "a field no item fills gets no rule"
    );
}

#[test]
fn people_areas_sprints_and_links() {
    let m = drafted();
    assert_eq!(
        m.user("g-ann")
            .map(|u| (u.account_id.clone(), u.matched_by)),
        Some((Some("acc-ann".into()), UserMatch::Email))
    );
    assert_eq!(
        m.user("g-bob")
            .map(|u| (u.account_id.clone(), u.matched_by)),
        Some((None, UserMatch::Unresolved))
    );
    let area = |a: &str| m.areas.iter().find(|r| r.ado == a).map(|r| r.jira.clone());
    assert_eq!(
        (area("Fab"), area("Fab\\Web"), area("Fab\\Api")),
        (
            Some(None),
            Some(Some("Web".into())),
            Some(Some("Api".into()))
        )
    );
    assert_eq!(
        m.iterations
            .iter()
            .map(|r| r.jira.clone().unwrap_or_default())
            .collect::<Vec<_>>(),
        ["Sprint 1", "Sprint 2"]
    );
    let link = |rel: &str| {
        m.links
            .iter()
            .find(|l| l.ado_relation == rel)
            .and_then(|l| l.jira_link_type.clone())
    };
    assert_eq!(link("System.LinkTypes.Related").as_deref(), Some("900"));
    assert_eq!(
        link("System.LinkTypes.Dependency-Forward").as_deref(),
        Some("901")
    );
    assert_eq!(link("System.LinkTypes.Duplicate-Forward").as_deref(), None);
}

#[test]
fn a_draft_round_trips_through_its_json_and_other_formats_are_refused() {
    let m = drafted();
    let text = serde_json::to_string(&m).expect("serializes");
    assert_eq!(Mapping::from_json(&text), Ok(m));
    let other = text.replacen("\"format\":1", "\"format\":2", 1);
    assert!(Mapping::from_json(&other).is_err_and(|e| e.contains("format 2")));
    assert!(Mapping::from_json("{}").is_err_and(|e| e.contains("format")));
    assert!(Mapping::from_json(&text.replacen("\"types\"", "\"typo\"", 1)).is_err());
}
