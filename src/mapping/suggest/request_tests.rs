use std::collections::BTreeSet;

use serde_json::Value;

use super::*;
use crate::mapping::{draft::draft, fixture, model::Mapping};

fn drafted() -> Mapping {
    draft(&fixture::source(), &fixture::target(), &Default::default())
}

fn keys(v: &Value) -> BTreeSet<&str> {
    v.as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default()
}

fn user_message(body: &Value) -> Value {
    let text = body["messages"][1]["content"].as_str().expect("content");
    serde_json::from_str(text).expect("the user message is JSON")
}

#[test]
fn only_the_open_rules_are_asked_with_schema_metadata_and_nothing_else() {
    let body = request(&drafted(), &fixture::source(), &fixture::target()).expect("a question");
    assert_eq!(
        keys(&body),
        BTreeSet::from(["messages", "response_format", "temperature"])
    );
    assert_eq!(body["response_format"]["type"], "json_object");
    assert_eq!(body["messages"][0]["role"], "system");
    let q = user_message(&body);
    assert_eq!(keys(&q), BTreeSet::from(["ask", "jira"]));
    // Customer has no counterpart; Severity is doubtful (a value without one); Duplicate has
    // no link type. Everything certain stays out.
    assert_eq!(keys(&q["ask"]), BTreeSet::from(["fields", "links"]));
    let asked: Vec<&str> = q["ask"]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .filter_map(|f| f["adoField"].as_str())
        .collect();
    assert_eq!(asked, ["Microsoft.VSTS.Common.Severity", "Custom.Customer"]);
    for f in q["ask"]["fields"].as_array().expect("fields") {
        assert!(
            keys(f).is_subset(&BTreeSet::from(["adoField", "name", "type", "values"])),
            "{f}"
        );
    }
    assert_eq!(
        q["ask"]["fields"][0]["values"],
        serde_json::json!(["1 - Critical", "5 - Cosmetic"])
    );
    assert_eq!(
        q["ask"]["links"],
        serde_json::json!([{ "adoRelation": "System.LinkTypes.Duplicate-Forward" }])
    );
    assert_eq!(keys(&q["jira"]), BTreeSet::from(["fields", "linkTypes"]));
    // Summary and description are filled by settled rules: not offered.
    let offered: Vec<&str> = q["jira"]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .filter_map(|f| f["id"].as_str())
        .collect();
    assert_eq!(offered, ["customfield_2"]);
    assert_eq!(
        q["jira"]["fields"][0]["allowedValues"],
        serde_json::json!(["Critical", "Major", "Minor"])
    );
    let text = body.to_string();
    for never in [
        "Ann",
        "Bob",
        "ann@x.com",
        "g-ann",
        "acme.example",
        "\"Fab\"",
        "Fab\\\\Web",
    ] {
        assert!(!text.contains(never), "{never} was sent: {text}");
    }
    assert_eq!(count(&q), 3);
}

#[test]
fn a_draft_with_nothing_open_asks_nothing() {
    let mut m = drafted();
    for f in &mut m.fields {
        f.confidence = 1.0;
        f.values.insert("5 - Cosmetic".into(), "Minor".into());
    }
    m.fields.retain(|f| f.jira_field.is_some());
    for l in &mut m.links {
        l.jira_link_type = Some("900".into());
        l.confidence = 1.0;
    }
    assert_eq!(request(&m, &fixture::source(), &fixture::target()), None);
}

#[test]
fn open_types_and_states_bring_the_issue_types_with_their_statuses() {
    let mut m = drafted();
    m.types
        .iter_mut()
        .filter(|t| t.ado_type == "Bug")
        .for_each(|t| t.jira_type = None);
    m.states[0].confidence = 0.6;
    let q = user_message(&request(&m, &fixture::source(), &fixture::target()).expect("asks"));
    assert_eq!(q["ask"]["types"], serde_json::json!([{ "adoType": "Bug" }]));
    assert_eq!(
        q["ask"]["states"],
        serde_json::json!([{ "adoType": "Feature", "adoState": "New", "category": "Proposed" }])
    );
    assert_eq!(
        keys(&q["jira"]),
        BTreeSet::from(["fields", "issueTypes", "linkTypes", "statuses"])
    );
    let story = &q["jira"]["issueTypes"][1];
    assert_eq!(
        keys(story),
        BTreeSet::from(["hierarchyLevel", "id", "name", "statuses", "subtask"])
    );
    assert_eq!(story["statuses"], serde_json::json!(["1", "2", "3", "4"]));
}
