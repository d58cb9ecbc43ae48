//! Issues: create with hierarchy, edit, properties, transitions along the strict workflow.

use reqwest::StatusCode;
use serde_json::json;

use ferry::sim::jira::{JiraSimOptions, Site};

use crate::helpers::{adf, options, spawn, spawn_site, spawn_with};

#[tokio::test]
async fn get_transitions_lists_only_what_the_workflow_allows_from_the_current_status() {
    let jira = spawn().await;
    let key = jira.create_story("wf", json!({})).await;
    let ids = |v: &serde_json::Value| {
        v["transitions"]
            .as_array()
            .expect("list")
            .iter()
            .map(|t| t["id"].as_str().unwrap_or("").to_owned())
            .collect::<Vec<_>>()
    };
    let (_, from_todo) = jira
        .get(&format!("/rest/api/3/issue/{key}/transitions"))
        .await;
    assert_eq!(ids(&from_todo), vec!["11"]);
    assert_eq!(
        jira.post(
            &format!("/rest/api/3/issue/{key}/transitions"),
            json!({ "transition": { "id": "11" } })
        )
        .await
        .0,
        StatusCode::NO_CONTENT
    );
    let (_, from_progress) = jira
        .get(&format!("/rest/api/3/issue/{key}/transitions"))
        .await;
    assert_eq!(ids(&from_progress), vec!["21", "31", "41"]);
}

#[tokio::test]
async fn a_transition_not_allowed_from_the_current_status_is_refused_with_400() {
    let jira = spawn().await;
    let key = jira.create_story("strict", json!({})).await;
    let (status, body) = jira
        .post(
            &format!("/rest/api/3/issue/{key}/transitions"),
            json!({ "transition": { "id": "21" } }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["errorMessages"][0],
        "Transition id '21' is not valid for this issue."
    );
    let (_, issue) = jira
        .get(&format!("/rest/api/3/issue/{key}?fields=status"))
        .await;
    assert_eq!(issue["fields"]["status"]["name"], "To Do");
}

#[tokio::test]
async fn the_hierarchy_is_enforced_from_initiative_down_to_sub_task() {
    let jira = spawn().await;
    let create = |ty: &str, parent: Option<&str>| {
        let mut fields =
            json!({ "project": { "key": "SCRUM" }, "issuetype": { "id": ty }, "summary": ty });
        if let Some(p) = parent {
            fields["parent"] = json!({ "key": p });
        }
        jira.post("/rest/api/3/issue", json!({ "fields": fields }))
    };
    let (_, initiative) = create("10000", None).await;
    let (status, epic) = create("10001", initiative["key"].as_str()).await;
    assert_eq!(status, StatusCode::CREATED, "{epic}");
    let (status, story) = create("10002", epic["key"].as_str()).await;
    assert_eq!(status, StatusCode::CREATED, "{story}");
    let (status, sub) = create("10005", story["key"].as_str()).await;
    assert_eq!(status, StatusCode::CREATED, "{sub}");
    let (status, wrong) = create("10005", epic["key"].as_str()).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a sub-task under an epic skips a level"
    );
    assert!(wrong["errors"]["parent"].is_string());
    let (_, fetched) = jira
        .get(&format!(
            "/rest/api/3/issue/{}?fields=parent",
            sub["key"].as_str().expect("key")
        ))
        .await;
    assert_eq!(fetched["fields"]["parent"]["key"], story["key"]);
    let (_, parent) = jira
        .get(&format!(
            "/rest/api/3/issue/{}?fields=subtasks",
            story["key"].as_str().expect("key")
        ))
        .await;
    assert_eq!(parent["fields"]["subtasks"][0]["key"], sub["key"]);
}

#[tokio::test]
async fn bulk_elements_carry_properties_and_update_and_edit_applies_update_operations() {
    let jira = spawn().await;
    let (status, created) = jira
        .post("/rest/api/3/issue/bulk", json!({ "issueUpdates": [{
            "fields": { "project": { "key": "SCRUM" }, "issuetype": { "name": "Bug" }, "summary": "b", "customfield_10040": { "value": "Major" } },
            "update": { "labels": [{ "add": "ado-id-5" }] },
            "properties": [{ "key": "ferry.ado", "value": { "id": 5, "rev": 3 } }],
        }]}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let key = created["issues"][0]["key"].as_str().expect("key");
    let (_, issue) = jira
        .get(&format!(
            "/rest/api/3/issue/{key}?fields=labels,customfield_10040&properties=ferry.ado"
        ))
        .await;
    assert_eq!(issue["fields"]["labels"], json!(["ado-id-5"]));
    assert_eq!(issue["fields"]["customfield_10040"]["value"], "Major");
    assert_eq!(issue["properties"]["ferry.ado"]["rev"], 3);
    let (status, _) = jira.put(&format!("/rest/api/3/issue/{key}"), json!({ "update": { "labels": [{ "add": "migrated" }, { "remove": "ado-id-5" }] }, "fields": { "description": adf("d") } })).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, issue) = jira.get(&format!("/rest/api/3/issue/{key}")).await;
    assert_eq!(issue["fields"]["labels"], json!(["migrated"]));
    assert_eq!(issue["fields"]["description"]["type"], "doc");
    let (status, _) = jira
        .put(
            &format!("/rest/api/3/issue/{key}"),
            json!({ "fields": { "summary": "" } }),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a required field cannot be cleared"
    );
}

#[tokio::test]
async fn issue_properties_round_trip_and_unknown_issues_are_404() {
    let jira = spawn().await;
    let key = jira.create_story("p", json!({})).await;
    let path = format!("/rest/api/3/issue/{key}/properties/ferry.ado");
    assert_eq!(
        jira.put(&path, json!({ "id": 9 })).await.0,
        StatusCode::CREATED
    );
    assert_eq!(jira.put(&path, json!({ "id": 10 })).await.0, StatusCode::OK);
    let (_, prop) = jira.get(&path).await;
    assert_eq!(prop, json!({ "key": "ferry.ado", "value": { "id": 10 } }));
    assert_eq!(
        jira.get("/rest/api/3/issue/SCRUM-404/properties/x").await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        jira.get("/rest/api/3/issue/99999").await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn reset_forgets_every_issue() {
    let jira = spawn().await;
    let key = jira.create_story("gone", json!({})).await;
    jira.sim.reset();
    assert_eq!(
        jira.get(&format!("/rest/api/3/issue/{key}")).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(jira.create_story("again", json!({})).await, "SCRUM-1");
}

#[tokio::test]
async fn a_site_file_with_a_global_transition_offers_it_from_every_other_status() {
    let mut json: serde_json::Value =
        serde_json::from_str(include_str!("../../src/sim/jira/default_scrum.json")).expect("json");
    json["workflows"]["SCRUM/10002"]["transitions"]
        .as_array_mut()
        .expect("transitions")
        .push(json!({ "id": "99", "name": "Abandon", "from": [], "to": "10003" }));
    let site = Site::from_json(&json.to_string()).expect("site loads");
    let jira = spawn_site(site, options()).await;
    let key = jira.create_story("g", json!({})).await;
    let (_, listed) = jira
        .get(&format!("/rest/api/3/issue/{key}/transitions"))
        .await;
    assert!(
        listed["transitions"]
            .as_array()
            .expect("list")
            .iter()
            .any(|t| t["id"] == "99" && t["isGlobal"] == true),
        "{listed}"
    );
    assert_eq!(
        jira.post(
            &format!("/rest/api/3/issue/{key}/transitions"),
            json!({ "transition": { "id": "99" } })
        )
        .await
        .0,
        StatusCode::NO_CONTENT
    );
    let (_, after) = jira
        .get(&format!("/rest/api/3/issue/{key}/transitions"))
        .await;
    assert!(
        !after["transitions"]
            .as_array()
            .expect("list")
            .iter()
            .any(|t| t["id"] == "99"),
        "not offered from its own target status"
    );
}

#[tokio::test]
async fn a_site_file_whose_workflow_names_an_unknown_status_is_refused() {
    let mut json: serde_json::Value =
        serde_json::from_str(include_str!("../../src/sim/jira/default_scrum.json")).expect("json");
    json["workflows"]["SCRUM/10002"]["initial"] = json!("424242");
    assert!(Site::from_json(&json.to_string()).is_err());
}

#[tokio::test]
async fn a_digesting_site_keeps_bodies_as_their_sha256_and_length_in_valid_adf() {
    use sha2::{Digest, Sha256};
    let jira = spawn_with(JiraSimOptions {
        digest_bodies: true,
        ..options()
    })
    .await;
    let description = adf("a long description the benchmark does not keep");
    let key = jira
        .create_story("digest", json!({ "description": description }))
        .await;
    let body = adf("a comment");
    let (status, _) = jira
        .post(
            &format!("/rest/api/3/issue/{key}/comment"),
            json!({ "body": body }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let digest = |doc: &serde_json::Value| {
        let bytes = serde_json::to_vec(doc).expect("json");
        adf(&format!(
            "sha256:{:x} bytes:{}",
            Sha256::digest(&bytes),
            bytes.len()
        ))
    };
    let (_, issue) = jira.get(&format!("/rest/api/3/issue/{key}")).await;
    assert_eq!(issue["fields"]["description"], digest(&description));
    let (_, comments) = jira.get(&format!("/rest/api/3/issue/{key}/comment")).await;
    assert_eq!(comments["comments"][0]["body"], digest(&body));
    assert_ne!(digest(&body), body, "a digest is not the body");
    // What is kept is still a document Jira would return.
    crate::helpers::assert_schema("PageOfComments", &comments);
}
