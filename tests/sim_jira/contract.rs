//! Contract tests: what the simulator returns validates against the official component schemas.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{adf, assert_schema, spawn, story_fields};

#[tokio::test]
async fn bulk_create_returns_created_issues_and_get_returns_an_issue_bean() {
    let jira = spawn().await;
    let (status, created) = jira
        .post("/rest/api/3/issue/bulk", json!({ "issueUpdates": [
            { "fields": story_fields("one", json!({ "description": adf("hello"), "labels": ["ado-id-1"], "priority": { "name": "High" } })) },
            { "fields": story_fields("", json!({})) },
        ]}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_schema("CreatedIssues", &created);
    let key = created["issues"][0]["key"].as_str().expect("key");
    let (status, issue) = jira.get(&format!("/rest/api/3/issue/{key}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_schema("IssueBean", &issue);
    assert_eq!(issue["fields"]["priority"]["name"], "High");
    assert_eq!(issue["fields"]["status"]["name"], "To Do");
}

#[tokio::test]
async fn comments_transitions_and_search_validate_against_their_schemas() {
    let jira = spawn().await;
    let key = jira
        .create_story("s", json!({ "labels": ["ado-id-7"] }))
        .await;
    let (status, _) = jira
        .post(
            &format!("/rest/api/3/issue/{key}/comment"),
            json!({ "body": adf("c") }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, page) = jira.get(&format!("/rest/api/3/issue/{key}/comment")).await;
    assert_schema("PageOfComments", &page);
    assert_eq!(page["total"], 1);
    let (_, transitions) = jira
        .get(&format!("/rest/api/3/issue/{key}/transitions"))
        .await;
    assert_schema("Transitions", &transitions);
    let (status, found) = jira
        .get("/rest/api/3/search/jql?jql=labels%20%3D%20ado-id-7&fields=summary,status")
        .await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_schema("SearchAndReconcileResults", &found);
    assert_eq!(found["issues"][0]["key"], key.as_str());
}

#[tokio::test]
async fn metadata_endpoints_validate_against_their_schemas() {
    let jira = spawn().await;
    let (_, fields) = jira.get("/rest/api/3/field").await;
    let fields = fields.as_array().expect("array");
    assert!(fields.iter().any(|f| f["custom"] == true));
    fields.iter().for_each(|f| assert_schema("FieldDetails", f));
    let (_, types) = jira
        .get("/rest/api/3/issue/createmeta/SCRUM/issuetypes")
        .await;
    assert_schema("PageOfCreateMetaIssueTypes", &types);
    assert_eq!(types["total"], 6);
    let (_, meta) = jira
        .get("/rest/api/3/issue/createmeta/SCRUM/issuetypes/10005")
        .await;
    assert_schema("PageOfCreateMetaIssueTypeWithField", &meta);
    assert!(
        meta["fields"]
            .as_array()
            .expect("fields")
            .iter()
            .any(|f| f["fieldId"] == "parent" && f["required"] == true)
    );
    let (_, workflows) = jira.get("/rest/api/3/workflow/search").await;
    assert_schema("PageBeanWorkflow", &workflows);
    let (_, link_types) = jira.get("/rest/api/3/issueLinkType").await;
    assert_schema("IssueLinkTypes", &link_types);
}

#[tokio::test]
async fn the_workflow_scheme_of_a_project_names_each_types_workflow() {
    let jira = spawn().await;
    let (status, schemes) = jira
        .get("/rest/api/3/workflowscheme/project?projectId=10000&projectId=424242")
        .await;
    assert_eq!(status, StatusCode::OK, "{schemes}");
    assert_schema("ContainerOfWorkflowSchemeAssociations", &schemes);
    let values = schemes["values"].as_array().expect("values");
    assert_eq!(values.len(), 1, "unknown projects are ignored");
    let mappings = &values[0]["workflowScheme"]["issueTypeMappings"];
    assert_eq!(mappings["10005"], "SCRUM/10005");
    let (status, _) = jira.get("/rest/api/3/workflowscheme/project").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn users_and_permissions_validate_and_hide_absent_emails() {
    let jira = spawn().await;
    let (_, users) = jira.get("/rest/api/3/user/search?query=donald").await;
    let users = users.as_array().expect("array");
    assert_eq!(users.len(), 1);
    assert_schema("User", &users[0]);
    assert!(users[0].get("emailAddress").is_none());
    let (_, by_mail) = jira
        .get("/rest/api/3/user/search?query=grace.hopper%40acme.example")
        .await;
    assert_eq!(by_mail[0]["displayName"], "Grace Hopper");
    let (status, grants) = jira
        .post("/rest/api/3/permissions/check", json!({
            "accountId": "712020:0002-lead",
            "globalPermissions": ["ADMINISTER"],
            "projectPermissions": [{ "permissions": ["ADMINISTER_PROJECTS", "CREATE_ISSUES"], "projects": [10000] }],
        }))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_schema("BulkPermissionGrants", &grants);
    assert_eq!(grants["globalPermissions"], json!([]));
    assert_eq!(
        grants["projectPermissions"][0]["permission"],
        "ADMINISTER_PROJECTS"
    );
    let (_, admin) = jira
        .post(
            "/rest/api/3/permissions/check",
            json!({ "globalPermissions": ["ADMINISTER"] }),
        )
        .await;
    assert_eq!(
        admin["globalPermissions"],
        json!(["ADMINISTER"]),
        "the Basic caller is Ada, a jira-administrator"
    );
    let (_, plain) = jira
        .post("/rest/api/3/permissions/check", json!({ "accountId": "712020:0003", "projectPermissions": [{ "permissions": ["ADMINISTER_PROJECTS"], "projects": [10000] }] }))
        .await;
    assert_eq!(plain["projectPermissions"], json!([]));
}

#[tokio::test]
async fn errors_use_the_error_collection_shape() {
    let jira = spawn().await;
    let (status, body) = jira.get("/rest/api/3/issue/SCRUM-999").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_schema("ErrorCollection", &body);
    assert!(
        !body["errorMessages"]
            .as_array()
            .expect("messages")
            .is_empty()
    );
}

#[tokio::test]
async fn projects_single_creates_comments_remote_links_components_and_versions_validate() {
    let jira = spawn().await;
    let (_, project) = jira.get("/rest/api/3/project/SCRUM").await;
    assert_schema("Project", &project);
    let (_, page) = jira.get("/rest/api/3/project/search?keys=SCRUM").await;
    assert_schema("PageBeanProject", &page);
    assert_eq!(page["total"], 1);
    let (status, created) = jira
        .post(
            "/rest/api/3/issue",
            json!({ "fields": story_fields("single", json!({})) }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_schema("CreatedIssue", &created);
    let key = created["key"].as_str().expect("key");
    let (_, comment) = jira
        .post(
            &format!("/rest/api/3/issue/{key}/comment"),
            json!({ "body": adf("x") }),
        )
        .await;
    assert_schema("Comment", &comment);
    let (_, remote) = jira
        .post(
            &format!("/rest/api/3/issue/{key}/remotelink"),
            json!({ "globalId": "g", "object": { "url": "https://x", "title": "x" } }),
        )
        .await;
    assert_schema("RemoteIssueLinkIdentifies", &remote);
    let (_, remotes) = jira
        .get(&format!("/rest/api/3/issue/{key}/remotelink"))
        .await;
    assert_schema("RemoteIssueLink", &remotes[0]);
    let (status, component) = jira
        .post(
            "/rest/api/3/component",
            json!({ "name": "Mobile", "project": "SCRUM" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_schema("ProjectComponent", &component);
    let (status, version) = jira
        .post(
            "/rest/api/3/version",
            json!({ "name": "3.0", "projectId": 10000 }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_schema("Version", &version);
    let (status, _) = jira
        .post(
            "/rest/api/3/version",
            json!({ "name": "3.0", "projectId": 10000 }),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "version names are unique per project"
    );
    let (_, statuses) = jira.get("/rest/api/3/status").await;
    statuses
        .as_array()
        .expect("list")
        .iter()
        .for_each(|s| assert_schema("StatusDetails", s));
    let (_, priorities) = jira.get("/rest/api/3/priority").await;
    priorities
        .as_array()
        .expect("list")
        .iter()
        .for_each(|p| assert_schema("Priority", p));
}
