use serde_json::{Value, json};

use super::*;
use crate::{
    mapping::{draft::draft, fixture, model::Mapping, validate::validate},
    target::jira::meta::{FieldMeta, FieldSchema},
};

/// The fixture site plus a free text field a suggestion can use.
fn target() -> TargetMeta {
    let mut t = fixture::target();
    t.fields.push(FieldMeta {
        id: "customfield_3".into(),
        name: "Client".into(),
        custom: true,
        schema: Some(FieldSchema {
            kind: "string".into(),
            items: None,
            system: None,
            custom: Some("com.atlassian.jira.plugin.system.customfieldtypes:textfield".into()),
        }),
    });
    t
}

fn drafted() -> Mapping {
    draft(&fixture::source(), &target(), &Default::default())
}

fn run(m: &mut Mapping, answer: Value) -> Applied {
    apply(m, &fixture::source(), &target(), &answer, "m")
}

fn field<'a>(m: &'a Mapping, ado: &str) -> &'a crate::mapping::model::FieldRule {
    m.fields.iter().find(|f| f.ado_field == ado).expect("rule")
}

#[test]
fn valid_suggestions_land_marked_and_below_deterministic_confidence() {
    let mut m = drafted();
    let done = run(
        &mut m,
        json!({
            "fields": [
                { "adoField": "Custom.Customer", "jiraField": "customfield_3" },
                { "adoField": "Microsoft.VSTS.Common.Severity", "jiraField": "customfield_2",
                  "values": { "5 - Cosmetic": "Minor", "1 - Critical": "Major", "9 - Never seen": "Minor" } }
            ],
            "links": [{ "adoRelation": "System.LinkTypes.Duplicate-Forward", "jiraLinkType": "900" }]
        }),
    );
    assert_eq!(
        done,
        Applied {
            applied: 3,
            ignored: 2
        },
        "a mapped value is kept; an unseen one refused"
    );
    let customer = field(&m, "Custom.Customer");
    assert_eq!(
        (
            customer.jira_field.as_deref(),
            customer.converter,
            customer.confidence,
            customer.suggested_by.as_deref()
        ),
        (
            Some("customfield_3"),
            Converter::Text,
            SUGGESTED,
            Some("llm:m")
        )
    );
    let severity = field(&m, "Microsoft.VSTS.Common.Severity");
    assert_eq!(
        severity.values.get("1 - Critical").map(String::as_str),
        Some("Critical")
    );
    assert_eq!(
        severity.values.get("5 - Cosmetic").map(String::as_str),
        Some("Minor")
    );
    assert!(severity.confidence <= SUGGESTED && severity.suggested_by.is_some());
    let dup = m
        .links
        .iter()
        .find(|l| l.ado_relation.contains("Duplicate"))
        .expect("rule");
    assert_eq!(
        (dup.jira_link_type.as_deref(), dup.confidence),
        (Some("900"), SUGGESTED)
    );
    assert_eq!(validate(&m, &target()), Vec::<String>::new());
}

#[test]
fn invalid_suggestions_are_counted_and_change_nothing() {
    let mut m = drafted();
    m.states
        .iter_mut()
        .filter(|s| s.ado_state == "Removed")
        .for_each(|s| {
            s.jira_status = None;
            s.confidence = 0.0;
        });
    let before = m.clone();
    let done = run(
        &mut m,
        json!({
            "types": "not a list",
            "states": [
                { "adoType": "User Story", "adoState": "Removed", "jiraStatus": "99" },
                { "adoType": "Nope", "adoState": "Removed", "jiraStatus": "4" }
            ],
            "fields": [
                { "adoField": "Custom.Customer", "jiraField": "customfield_404" },
                { "adoField": "Custom.Invented", "jiraField": "customfield_3" },
                { "adoField": "Microsoft.VSTS.Common.Severity", "values": { "5 - Cosmetic": "Trivial" } },
                { "jiraField": "customfield_3" }
            ],
            "links": [{ "adoRelation": "System.LinkTypes.Duplicate-Forward", "jiraLinkType": "777" }]
        }),
    );
    assert_eq!(
        done,
        Applied {
            applied: 0,
            ignored: 8
        }
    );
    assert_eq!(m, before);
    // A number field cannot take text; a field a settled rule fills is refused too (nothing
    // pours into the summary).
    for jira in ["customfield_1", "summary"] {
        let done = run(
            &mut m,
            json!({ "fields": [{ "adoField": "Custom.Customer", "jiraField": jira }] }),
        );
        assert_eq!((done.ignored, &m), (1, &before), "{jira}");
    }
}

#[test]
fn settled_rules_are_never_overridden() {
    let mut m = drafted();
    let before = m.clone();
    let done = run(
        &mut m,
        json!({
            "types": [{ "adoType": "User Story", "jiraType": "12" }],
            "states": [{ "adoType": "User Story", "adoState": "New", "jiraStatus": "2" }],
            "fields": [{ "adoField": "System.Title", "jiraField": "customfield_3" }],
            "links": [{ "adoRelation": "System.LinkTypes.Related", "jiraLinkType": "901" }]
        }),
    );
    assert_eq!(
        done,
        Applied {
            applied: 0,
            ignored: 4
        }
    );
    assert_eq!(m, before);
}

#[test]
fn a_suggested_type_redrafts_its_states_and_open_states_take_reachable_statuses() {
    let mut m = drafted();
    for t in m.types.iter_mut().filter(|t| t.ado_type == "Task") {
        (t.jira_type, t.fallback_type, t.confidence) = (None, None, 0.0);
    }
    for s in m
        .states
        .iter_mut()
        .filter(|s| s.ado_type == "Task" || s.ado_state == "Removed")
    {
        (s.jira_status, s.confidence) = (None, 0.0);
    }
    let done = run(
        &mut m,
        json!({
            "types": [{ "adoType": "Task", "jiraType": "14" }],
            "states": [
                { "adoType": "Task", "adoState": "Active", "jiraStatus": "1" },
                { "adoType": "Bug", "adoState": "Removed", "jiraStatus": "4" }
            ]
        }),
    );
    assert_eq!(
        done,
        Applied {
            applied: 2,
            ignored: 1
        },
        "Task's states are drafted again, so settled"
    );
    let task = m.type_rule("Task").expect("rule");
    assert_eq!(
        (
            task.jira_type.as_deref(),
            task.fallback_type.as_deref(),
            task.suggested_by.as_deref()
        ),
        (Some("14"), Some("13"), Some("llm:m"))
    );
    let active = m.state_rule("Task", "Active").expect("rule");
    assert_eq!(
        (active.jira_status.as_deref(), active.confidence),
        (Some("2"), 1.0)
    );
    let removed = m.state_rule("Bug", "Removed").expect("rule");
    assert_eq!(
        (removed.jira_status.as_deref(), removed.confidence),
        (Some("4"), SUGGESTED)
    );
}

#[test]
fn the_marker_is_optional_in_format_one() {
    let mut m = drafted();
    let plain = serde_json::to_string(&m).expect("json");
    assert!(
        !plain.contains("suggestedBy"),
        "documents without suggestions are unchanged"
    );
    assert_eq!(Mapping::from_json(&plain), Ok(m.clone()));
    run(
        &mut m,
        json!({ "links": [{ "adoRelation": "System.LinkTypes.Duplicate-Forward", "jiraLinkType": "900" }] }),
    );
    let marked = serde_json::to_string(&m).expect("json");
    assert!(marked.contains(r#""suggestedBy":"llm:m""#));
    assert_eq!(Mapping::from_json(&marked), Ok(m));
}
