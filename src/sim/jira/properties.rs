//! Issue entity properties: where Ferry keeps each issue's ADO id and revision, so a rerun
//! finds what it already created (`issue.property[ferry.ado].id = N` in JQL).
//! <https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-properties/>

use axum::{
    Json, Router,
    body::Bytes,
    extract::{Path, State},
    http::StatusCode,
    routing::get,
};
use serde_json::{Value, json};

use super::{
    JiraSim,
    error::{JiraError, JiraResult, parse_body},
    issues::MAX_PROPERTY_CHARS,
};

pub fn router() -> Router<JiraSim> {
    Router::new()
        .route("/rest/api/3/issue/{issue}/properties", get(property_keys))
        .route(
            "/rest/api/3/issue/{issue}/properties/{key}",
            get(property_get).put(property_put).delete(property_delete),
        )
}

async fn property_keys(
    State(sim): State<JiraSim>,
    Path(issue): Path<String>,
) -> JiraResult<Json<Value>> {
    let data = sim.0.data.read();
    let id = data.resolve(&issue).ok_or_else(JiraError::no_issue)?;
    let keys: Vec<Value> = data.issues[&id]
        .properties
        .keys()
        .map(|k| json!({ "key": k, "self": format!("{}/properties/{k}", sim.issue_self(id)) }))
        .collect();
    Ok(Json(json!({ "keys": keys })))
}

async fn property_get(
    State(sim): State<JiraSim>,
    Path((issue, key)): Path<(String, String)>,
) -> JiraResult<Json<Value>> {
    let data = sim.0.data.read();
    let id = data.resolve(&issue).ok_or_else(JiraError::no_issue)?;
    let value = data.issues[&id].properties.get(&key).ok_or_else(|| {
        JiraError::not_found(format!("The property with key '{key}' does not exist."))
    })?;
    Ok(Json(json!({ "key": key, "value": value })))
}

async fn property_put(
    State(sim): State<JiraSim>,
    Path((issue, key)): Path<(String, String)>,
    body: Bytes,
) -> JiraResult<StatusCode> {
    if body.len() > MAX_PROPERTY_CHARS {
        return Err(JiraError::bad_request(format!(
            "The property value must not exceed {MAX_PROPERTY_CHARS} characters."
        )));
    }
    if key.is_empty() || key.len() > 255 {
        return Err(JiraError::bad_request(
            "The property key must be between 1 and 255 characters.",
        ));
    }
    let value: Value = parse_body(&body)?;
    let mut data = sim.0.data.write();
    let id = data.resolve(&issue).ok_or_else(JiraError::no_issue)?;
    let issue = data.issues.get_mut(&id).ok_or_else(JiraError::no_issue)?;
    let existed = issue.properties.insert(key, value).is_some();
    sim.touch(&data, id);
    Ok(if existed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    })
}

async fn property_delete(
    State(sim): State<JiraSim>,
    Path((issue, key)): Path<(String, String)>,
) -> JiraResult<StatusCode> {
    let mut data = sim.0.data.write();
    let id = data.resolve(&issue).ok_or_else(JiraError::no_issue)?;
    let issue = data.issues.get_mut(&id).ok_or_else(JiraError::no_issue)?;
    if issue.properties.remove(&key).is_none() {
        return Err(JiraError::not_found(format!(
            "The property with key '{key}' does not exist."
        )));
    }
    sim.touch(&data, id);
    Ok(StatusCode::NO_CONTENT)
}
