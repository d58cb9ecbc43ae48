use std::collections::HashMap;

use serde_json::json;

use super::*;
use crate::mapping::{
    adf::NoLinks,
    draft::draft,
    fixture,
    model::{Mapping, UnmappedValues, UserMatch},
};

fn mapping() -> Mapping {
    let people: HashMap<String, (String, UserMatch)> =
        [("g-ann".to_owned(), ("acc-ann".to_owned(), UserMatch::Email))].into();
    draft(&fixture::source(), &fixture::target(), &people)
}

fn item(
    id: i64,
    ty: &str,
    state: &str,
    fields: serde_json::Value,
    relations: serde_json::Value,
) -> WorkItem {
    let mut f = json!({ "System.WorkItemType": ty, "System.State": state, "System.Title": format!("{ty} {id}") });
    for (k, v) in fields.as_object().into_iter().flatten() {
        f[k] = v.clone();
    }
    serde_json::from_value(json!({ "id": id, "rev": 1, "fields": f, "relations": relations }))
        .expect("a work item")
}

fn parent_rel(id: i64) -> serde_json::Value {
    json!({ "rel": "System.LinkTypes.Hierarchy-Reverse", "url": format!("https://ado.example/o/_apis/wit/workItems/{id}") })
}

fn plan_with(m: &Mapping, it: &WorkItem) -> Planned {
    let target = fixture::target();
    let scope: HashMap<i64, String> = [
        (1, "Feature".to_owned()),
        (2, "User Story".to_owned()),
        (3, "Bug".to_owned()),
    ]
    .into();
    let ctx = Context {
        mapping: m,
        target: &target,
        scope: &scope,
        project_url: "https://ado.example/o/Fab",
        links: &NoLinks,
    };
    transform(it, &ctx)
}

fn codes(p: &Planned) -> Vec<&'static str> {
    p.problems.iter().map(|x| x.code.as_str()).collect()
}

#[test]
fn a_story_becomes_a_create_element_with_origin_label_parent_and_transitions() {
    let m = mapping();
    let it = item(
        2,
        "User Story",
        "Closed",
        json!({
            "System.Description": "<div>Hello <b>world</b></div>", "System.Tags": "ux; needs review",
            "System.AssignedTo": { "id": "g-ann", "displayName": "Ann", "uniqueName": "ann@x.com" },
            "Microsoft.VSTS.Common.Priority": 2, "Microsoft.VSTS.Scheduling.StoryPoints": 5.0, "System.AreaPath": "Fab\\Web",
            "System.IterationPath": "Fab\\Sprint 2", "System.Rev": 4,
        }),
        json!([parent_rel(1)]),
    );
    let p = plan_with(&m, &it);
    assert_eq!(codes(&p), Vec::<&str>::new());
    assert_eq!(p.jira_type.as_deref(), Some("11"));
    assert_eq!(p.parent, Some(1));
    assert_eq!(p.fields["summary"], "User Story 2");
    assert_eq!(
        p.fields["labels"],
        json!(["ado-id-2", "needs-review", "ux"])
    );
    assert_eq!(p.fields["assignee"], json!({ "accountId": "acc-ann" }));
    assert_eq!(p.fields["priority"], json!({ "name": "High" }));
    assert_eq!(p.fields["customfield_1"], json!(5.0));
    assert_eq!(p.fields["components"], json!([{ "name": "Web" }]));
    assert_eq!(p.fields["project"], json!({ "id": "100" }));
    assert_eq!(p.fields["description"]["type"], "doc");
    assert_eq!(p.sprint.as_deref(), Some("Sprint 2"));
    assert_eq!(p.transitions, ["11", "21"], "To Do → In Progress → Done");
    assert_eq!(p.properties()[0]["value"]["adoId"], 2);
    assert!(!p.fails());
}

#[test]
fn a_retired_value_fails_the_item_unless_the_rule_keeps_it_in_the_description() {
    let mut m = mapping();
    let it = item(
        3,
        "Bug",
        "New",
        json!({ "Microsoft.VSTS.Common.Severity": "5 - Cosmetic" }),
        json!([]),
    );
    let p = plan_with(&m, &it);
    assert!(p.fails());
    assert!(codes(&p).contains(&"value_not_allowed"));
    assert!(
        codes(&p).contains(&"missing_required"),
        "the Bug's Severity is required: {:?}",
        codes(&p)
    );
    m.unmapped_values = UnmappedValues::KeepInDescription;
    let p = plan_with(&m, &it);
    assert!(codes(&p).contains(&"value_kept_in_description"));
    let text = crate::mapping::adf::adf_text(&p.fields["description"]);
    assert!(text.contains("5 - Cosmetic"), "kept in the table: {text}");
}

#[test]
fn a_task_under_a_story_is_a_sub_task_and_under_a_feature_falls_back_to_task() {
    let m = mapping();
    let under_story = plan_with(
        &m,
        &item(10, "Task", "Active", json!({}), json!([parent_rel(2)])),
    );
    assert_eq!(
        (under_story.jira_type.as_deref(), under_story.parent),
        (Some("14"), Some(2))
    );
    let under_feature = plan_with(
        &m,
        &item(11, "Task", "Active", json!({}), json!([parent_rel(1)])),
    );
    assert_eq!(
        (under_feature.jira_type.as_deref(), under_feature.parent),
        (Some("13"), Some(1))
    );
    assert_eq!(codes(&under_feature), ["type_fallback"]);
    let outside = plan_with(
        &m,
        &item(12, "User Story", "New", json!({}), json!([parent_rel(999)])),
    );
    assert_eq!(
        (outside.parent, codes(&outside)),
        (None, vec!["parent_outside"])
    );
    assert_eq!(outside.outside_parent, Some(999));
    assert!(outside.links.is_empty(), "an outside parent is not linked");
}

fn related_type(m: &Mapping) -> String {
    m.links
        .iter()
        .find(|l| l.ado_relation == "System.LinkTypes.Related")
        .and_then(|l| l.jira_link_type.clone())
        .expect("the draft maps Related")
}

#[test]
fn a_parent_that_cannot_be_the_jira_parent_is_linked_once_with_related() {
    let m = mapping();
    let related = related_type(&m);
    // A Feature under a User Story: Jira puts Features above Stories, so no parent is set.
    let upside_down = plan_with(
        &m,
        &item(13, "Feature", "New", json!({}), json!([parent_rel(2)])),
    );
    assert_eq!(upside_down.parent, None);
    assert!(codes(&upside_down).contains(&"parent_level"));
    assert_eq!(upside_down.links, [(related.clone(), 2, true)]);
    // An explicit Related link to the same parent is not doubled.
    let also_related = json!({ "rel": "System.LinkTypes.Related", "url": "https://ado.example/o/_apis/wit/workItems/2" });
    let both = plan_with(
        &m,
        &item(
            14,
            "Feature",
            "New",
            json!({}),
            json!([parent_rel(2), also_related]),
        ),
    );
    assert_eq!(both.links, [(related, 2, true)]);
    // With Related left out of the mapping there is no link, and the problem says so.
    let mut without = m.clone();
    for l in &mut without.links {
        if l.ado_relation == "System.LinkTypes.Related" {
            l.jira_link_type = None;
        }
    }
    let unlinked = plan_with(
        &without,
        &item(15, "Feature", "New", json!({}), json!([parent_rel(2)])),
    );
    assert!(unlinked.links.is_empty());
    let level = unlinked
        .problems
        .iter()
        .find(|p| p.code == Code::ParentLevel);
    let detail = level.and_then(|p| p.detail.as_deref()).unwrap_or("");
    assert!(
        detail.ends_with("not linked: System.LinkTypes.Related is left out"),
        "{detail}"
    );
}

#[test]
fn unresolved_people_warn_and_unmapped_fields_land_in_the_description_table() {
    let m = mapping();
    let it = item(
        2,
        "User Story",
        "New",
        json!({
            "System.AssignedTo": { "id": "g-bob", "displayName": "Bob", "uniqueName": "bob@elsewhere.example" },
            "Custom.Customer": "Contoso Ltd",
        }),
        json!([]),
    );
    let p = plan_with(&m, &it);
    assert_eq!(codes(&p), ["unmapped_user"]);
    assert!(
        p.fields.get("assignee").is_none(),
        "no fallback user chosen"
    );
    let text = crate::mapping::adf::adf_text(&p.fields["description"]);
    assert!(
        text.contains("Contoso Ltd") && text.contains("Bob"),
        "{text}"
    );
}

#[test]
fn long_text_is_split_and_caps_and_closed_sprints_fail() {
    let m = mapping();
    let long = format!("<p>{}</p>", "word ".repeat(10_000));
    let it = item(
        2,
        "User Story",
        "New",
        json!({ "System.Description": long, "System.IterationPath": "Fab\\Sprint 1", "System.CommentCount": 5001 }),
        json!([{ "rel": "AttachedFile", "url": "https://ado.example/o/_apis/wit/attachments/g1", "attributes": { "name": "big.bin", "resourceSize": 5000 } }]),
    );
    let p = plan_with(&m, &it);
    let c = codes(&p);
    for expected in [
        "text_split",
        "closed_sprint",
        "too_many_comments",
        "attachment_too_large",
    ] {
        assert!(c.contains(&expected), "{expected} missing from {c:?}");
    }
    assert_eq!(p.overflow.len(), 1);
    let kept = crate::mapping::adf::adf_text(&p.fields["description"]).len()
        + crate::mapping::adf::adf_text(&p.overflow[0]).len();
    assert!(kept >= 49_999, "all text kept across the parts: {kept}");
}

#[test]
fn unmapped_types_and_states_are_named() {
    let mut m = mapping();
    m.states
        .retain(|s| !(s.ado_type == "User Story" && s.ado_state == "Removed"));
    let p = plan_with(&m, &item(2, "User Story", "Removed", json!({}), json!([])));
    assert_eq!(codes(&p), ["state_not_mapped"]);
    let p = plan_with(&m, &item(5, "Impediment", "New", json!({}), json!([])));
    assert_eq!(codes(&p), ["type_not_mapped"]);
    m.types[0].jira_type = None;
    let p = plan_with(&m, &item(1, "Feature", "New", json!({}), json!([])));
    assert!(p.excluded() && !p.fails());
}
