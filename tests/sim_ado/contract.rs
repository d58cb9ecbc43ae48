//! Contract tests: response bodies validate against the Swagger 2.0 definitions in
//! `specs/ado` (workItemTracking.json and core.json), with the `jsonschema` crate.
//!
//! One adaptation: ADO's generator writes .NET `object` as `{"type": "object"}`, including
//! for dictionary values that are strings or numbers (`WorkItem.fields`, node `attributes`),
//! which Microsoft's own examples violate. Such schemas (`{"type": "object"}` with nothing
//! else but a description) accept any value.

use serde_json::{Value, json};

use crate::helpers::{dataset_s, read_spec, spawn, workload_s};

fn loosen(v: &mut Value) {
    match v {
        Value::Object(o) => {
            let bare_object = o.get("type") == Some(&json!("object"))
                && o.keys().all(|k| k == "type" || k == "description");
            if bare_object {
                o.remove("type");
            }
            o.values_mut().for_each(loosen);
        }
        Value::Array(a) => a.iter_mut().for_each(loosen),
        _ => {}
    }
}

fn validator(spec: &str, definition: &str) -> jsonschema::Validator {
    let mut definitions = read_spec(spec)["definitions"].clone();
    loosen(&mut definitions);
    let schema =
        json!({ "$ref": format!("#/definitions/{definition}"), "definitions": definitions });
    jsonschema::validator_for(&schema).expect("schema compiles")
}

fn wit(definition: &str) -> jsonschema::Validator {
    validator(
        "ado/specification/wit/7.2/workItemTracking.json",
        definition,
    )
}

fn assert_valid(v: &jsonschema::Validator, instance: &Value, what: &str) {
    let errors: Vec<String> = v
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .take(5)
        .collect();
    assert!(errors.is_empty(), "{what}: {errors:?}");
}

#[test]
fn the_validators_reject_a_body_of_the_wrong_shape() {
    assert!(!wit("WorkItem").is_valid(&json!({ "id": "twelve" })));
    assert!(!wit("CommentList").is_valid(&json!({ "comments": {} })));
    assert!(!wit("WorkItemClassificationNode").is_valid(&json!({ "structureType": "folder" })));
    assert!(!wit("WorkItemQueryResult").is_valid(&json!({ "queryType": "graph" })));
}

#[tokio::test]
async fn work_items_single_and_batched_validate_against_work_item() {
    let sim = spawn(dataset_s()).await;
    let v = wit("WorkItem");
    for id in [1, 30, 500, 999] {
        let item: Value = sim
            .json(&format!(
                "Contoso/_apis/wit/workitems/{id}?$expand=all&api-version=7.2-preview.3"
            ))
            .await;
        assert_valid(&v, &item, &format!("work item {id}"));
    }
    let batch: Value = sim
        .post(
            "Contoso/_apis/wit/workitemsbatch?api-version=7.2-preview.1",
            &json!({ "ids": (1..=200).collect::<Vec<_>>(), "$expand": "all" }),
        )
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    for item in batch["value"].as_array().expect("value") {
        assert_valid(&v, item, "batched work item");
    }
}

#[tokio::test]
async fn wiql_comments_nodes_types_and_fields_validate_against_their_definitions() {
    let (_, expected) = workload_s();
    let sim = spawn(dataset_s()).await;
    let result: Value = sim.wiql("SELECT [System.Id], [System.Title] FROM WorkItems WHERE [System.State] = 'Active' ORDER BY [System.ChangedDate] DESC", None).await.json().await.expect("json");
    assert_valid(&wit("WorkItemQueryResult"), &result, "WIQL result");
    let comments: Value = sim
        .json(&format!(
            "Contoso/_apis/wit/workItems/{}/comments?$top=5&api-version=7.2-preview.4",
            expected.hot_items[0].0
        ))
        .await;
    assert_valid(&wit("CommentList"), &comments, "comment page");
    for group in ["Areas", "Iterations"] {
        let node: Value = sim
            .json(&format!(
                "Contoso/_apis/wit/classificationnodes/{group}?$depth=3&api-version=7.2-preview.2"
            ))
            .await;
        assert_valid(&wit("WorkItemClassificationNode"), &node, group);
    }
    let types: Value = sim
        .json("Contoso/_apis/wit/workitemtypes?api-version=7.2-preview.2")
        .await;
    for t in types["value"].as_array().expect("types") {
        assert_valid(&wit("WorkItemType"), t, "work item type");
    }
    let fields: Value = sim
        .json("Contoso/_apis/wit/fields?api-version=7.2-preview.3")
        .await;
    for f in fields["value"].as_array().expect("fields") {
        assert_valid(&wit("WorkItemField2"), f, "field");
    }
    let updates: Value = sim
        .json("_apis/wit/workItems/2/updates?api-version=7.2-preview.3")
        .await;
    for u in updates["value"].as_array().expect("updates") {
        assert_valid(&wit("WorkItemUpdate"), u, "update");
    }
}

#[tokio::test]
async fn projects_validate_against_team_project_and_its_reference() {
    let sim = spawn(dataset_s()).await;
    let core = "ado/specification/core/7.2/core.json";
    let list: Value = sim.json("_apis/projects?api-version=7.2-preview.4").await;
    let reference = validator(core, "TeamProjectReference");
    for p in list["value"].as_array().expect("value") {
        assert_valid(&reference, p, "project reference");
    }
    let id = list["value"][0]["id"].as_str().expect("id");
    let project: Value = sim
        .json(&format!("_apis/projects/{id}?api-version=7.2-preview.4"))
        .await;
    assert_valid(&validator(core, "TeamProject"), &project, "project");
}
