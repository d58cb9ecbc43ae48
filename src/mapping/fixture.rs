//! A small target and source for unit tests: a three-level site (Epic › Story/Bug › Sub-task)
//! with the strict To Do → In Progress → Done workflow, and an Agile-like ADO project.

use serde_json::json;

use super::source::{Source, SourceField, SourcePerson, SourceType};
use crate::target::jira::meta::TargetMeta;

fn field(id: &str, name: &str, kind: &str, custom: Option<&str>) -> serde_json::Value {
    json!({ "id": id, "name": name, "custom": custom.is_some(), "schema": { "kind": kind, "items": if kind == "array" { Some(if id == "components" { "component" } else { "string" }) } else { None }, "system": if custom.is_none() { Some(id) } else { None }, "custom": custom } })
}

fn create(id: &str, required: bool, allowed: &[(&str, &str)]) -> serde_json::Value {
    let kind = match id {
        "summary" | "description" | "environment" => "string",
        "priority" => "priority",
        "assignee" | "reporter" => "user",
        "labels" | "components" => "array",
        "customfield_1" => "number",
        "customfield_2" => "option",
        "parent" => "issuelink",
        _ => "string",
    };
    json!({ "fieldId": id, "name": id, "required": required, "hasDefault": false, "schema": { "kind": kind },
            "allowed": allowed.iter().map(|(i, n)| json!({ "id": i, "name": n })).collect::<Vec<_>>() })
}

/// The test site.
pub fn target() -> TargetMeta {
    let workflow = json!({ "initial": "1", "transitions": [
        { "id": "11", "name": "Start", "from": ["1"], "to": "2" },
        { "id": "21", "name": "Done", "from": ["2"], "to": "3" },
        { "id": "31", "name": "Won't Do", "from": ["2"], "to": "4" } ] });
    let prio = [
        ("1", "Highest"),
        ("2", "High"),
        ("3", "Medium"),
        ("4", "Low"),
    ];
    let common = |extra: Vec<serde_json::Value>| {
        let mut v = vec![
            create("summary", true, &[]),
            create("description", false, &[]),
            create("priority", false, &prio),
            create("assignee", false, &[]),
            create("reporter", false, &[]),
            create("labels", false, &[]),
            create("components", false, &[]),
        ];
        v.extend(extra);
        v
    };
    serde_json::from_value(json!({
        "site": "https://acme.example", "project": { "id": "100", "key": "FAB", "name": "Fab" },
        "issueTypes": [
            { "id": "10", "name": "Epic", "hierarchyLevel": 1, "subtask": false, "createFields": common(vec![]), "workflow": workflow },
            { "id": "11", "name": "Story", "hierarchyLevel": 0, "subtask": false, "createFields": common(vec![create("parent", false, &[]), create("customfield_1", false, &[])]), "workflow": workflow },
            { "id": "12", "name": "Bug", "hierarchyLevel": 0, "subtask": false, "createFields": common(vec![create("parent", false, &[]), create("customfield_2", true, &[("201", "Critical"), ("202", "Major"), ("203", "Minor")])]), "workflow": workflow },
            { "id": "13", "name": "Task", "hierarchyLevel": 0, "subtask": false, "createFields": common(vec![create("parent", false, &[])]), "workflow": workflow },
            { "id": "14", "name": "Sub-task", "hierarchyLevel": -1, "subtask": true, "createFields": common(vec![create("parent", true, &[])]), "workflow": workflow }
        ],
        "fields": [field("summary", "Summary", "string", None), field("description", "Description", "string", None),
                   field("priority", "Priority", "priority", None), field("assignee", "Assignee", "user", None),
                   field("reporter", "Reporter", "user", None), field("labels", "Labels", "array", None),
                   field("components", "Components", "array", None),
                   field("customfield_1", "Story point estimate", "number", Some("com.atlassian.jira.plugin.system.customfieldtypes:float")),
                   field("customfield_2", "Severity", "option", Some("com.atlassian.jira.plugin.system.customfieldtypes:select"))],
        "statuses": [{ "id": "1", "name": "To Do", "category": "new" }, { "id": "2", "name": "In Progress", "category": "indeterminate" },
                     { "id": "3", "name": "Done", "category": "done" }, { "id": "4", "name": "Won't Do", "category": "done" }],
        "priorities": prio.iter().map(|(i, n)| json!({ "id": i, "name": n })).collect::<Vec<_>>(),
        "components": [{ "id": "500", "name": "Web" }], "versions": [], "boards": [{ "id": "1", "name": "FAB board" }],
        "sprints": [{ "id": 7, "name": "Sprint 1", "state": "closed", "boardId": 1 }],
        "linkTypes": [{ "id": "900", "name": "Relates", "inward": "relates to", "outward": "relates to" },
                      { "id": "901", "name": "Blocks", "inward": "is blocked by", "outward": "blocks" }],
        "attachments": { "enabled": true, "uploadLimit": 1000 }, "fetchedAt": 0
    }))
    .expect("the fixture is a TargetMeta")
}

/// An Agile-like project.
pub fn source() -> Source {
    let states = |names: &[(&str, &str)]| {
        names
            .iter()
            .map(|(n, c)| ((*n).to_owned(), (*c).to_owned()))
            .collect()
    };
    let agile = [
        ("New", "Proposed"),
        ("Active", "InProgress"),
        ("Resolved", "Resolved"),
        ("Closed", "Completed"),
        ("Removed", "Removed"),
    ];
    let f = |r: &str, n: &str, k: &str, filled: i64| SourceField {
        reference: r.into(),
        name: n.into(),
        kind: k.into(),
        filled,
    };
    Source {
        types: ["Feature", "User Story", "Bug", "Task"]
            .iter()
            .map(|t| SourceType {
                name: (*t).into(),
                states: states(&agile),
            })
            .collect(),
        fields: vec![
            f("System.Title", "Title", "string", 10),
            f("System.Description", "Description", "html", 8),
            f("System.AssignedTo", "Assigned To", "identity", 9),
            f("System.Tags", "Tags", "plainText", 3),
            f("Microsoft.VSTS.Common.Priority", "Priority", "integer", 10),
            f("Microsoft.VSTS.Common.Severity", "Severity", "string", 2),
            f(
                "Microsoft.VSTS.Scheduling.StoryPoints",
                "Story Points",
                "double",
                4,
            ),
            f("System.AreaPath", "Area Path", "treePath", 10),
            f("Custom.Customer", "Customer", "string", 5),
            f("System.Rev", "Rev", "integer", 10),
            f("Custom.Unused", "Unused", "string", 0),
        ],
        values: [
            (
                "Microsoft.VSTS.Common.Priority".to_owned(),
                vec![("1".to_owned(), 2), ("2".to_owned(), 8)],
            ),
            (
                "Microsoft.VSTS.Common.Severity".to_owned(),
                vec![
                    ("1 - Critical".to_owned(), 1),
                    ("5 - Cosmetic".to_owned(), 1),
                ],
            ),
        ]
        .into(),
        areas: vec!["Fab".into(), "Fab\\Web".into(), "Fab\\Api".into()],
        iterations: vec!["Fab\\Sprint 1".into(), "Fab\\Sprint 2".into()],
        people: vec![
            SourcePerson {
                key: "g-ann".into(),
                display_name: "Ann".into(),
                unique_name: "ann@x.com".into(),
            },
            SourcePerson {
                key: "g-bob".into(),
                display_name: "Bob".into(),
                unique_name: "bob@elsewhere.example".into(),
            },
        ],
    }
}
