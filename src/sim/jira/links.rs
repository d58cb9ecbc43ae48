//! Issue links (idempotent create, per-issue cap), link types, and remote links upserted by
//! `globalId`.
//!
//! A repeated link create "indicates that the issue link was created" without duplicating it,
//! and remote links with a known `globalId` are updated in place: both let a migrator retry
//! blindly, so the simulator must behave the same or retries would look like data.
//! <https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-links/>

use axum::{
    Json, Router,
    body::Bytes,
    extract::{Path, RawQuery, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::get,
};
use serde_json::{Value, json};

use super::{
    JiraSim,
    error::{JiraError, JiraResult, parse_body},
    params::Params,
    site::text,
    store::{Data, IssueLink, RemoteLink},
};

pub fn router() -> Router<JiraSim> {
    Router::new()
        .route("/rest/api/3/issueLink", axum::routing::post(create))
        .route("/rest/api/3/issueLink/{id}", get(fetch).delete(remove))
        .route("/rest/api/3/issueLinkType", get(types))
        .route(
            "/rest/api/3/issueLinkType/{id}",
            get(one_type).delete(remove_type),
        )
        .route(
            "/rest/api/3/issue/{issue}/remotelink",
            get(remote_list).post(remote_upsert),
        )
        .route(
            "/rest/api/3/issue/{issue}/remotelink/{id}",
            get(remote_one).delete(remote_delete),
        )
}

impl JiraSim {
    /// The link type `r` names by id or name, unless it was deleted. Takes the data lock
    /// briefly: never call it while holding it.
    fn link_type(&self, r: &Value) -> Option<&Value> {
        let (k, want) = ["id", "name"]
            .iter()
            .find_map(|k| Some((*k, text(r, k)?)))?;
        let removed = self.0.data.read().removed_link_types.clone();
        self.0.site.issue_link_types.iter().find(|t| {
            text(t, k).as_deref() == Some(want.as_str())
                && !text(t, "id").is_some_and(|id| removed.contains(&id))
        })
    }

    /// `IssueLink` JSON; seen from `from`, only the other end is shown (as in `fields.issuelinks`).
    pub(super) fn link_json(&self, data: &Data, id: u64, from: Option<u64>) -> Option<Value> {
        let l = data.links.get(&id)?;
        let ty = self
            .0
            .site
            .issue_link_types
            .iter()
            .find(|t| text(t, "id").as_deref() == Some(l.type_id.as_str()))?;
        let mut out = json!({ "id": id.to_string(), "self": format!("{}/rest/api/3/issueLink/{id}", self.0.base), "type": ty });
        if from != Some(l.inward) {
            out["inwardIssue"] = self.issue_ref(data.issues.get(&l.inward)?);
        }
        if from != Some(l.outward) {
            out["outwardIssue"] = self.issue_ref(data.issues.get(&l.outward)?);
        }
        Some(out)
    }

    fn remote_json(&self, issue: u64, r: &RemoteLink) -> Value {
        let mut out = r.body.clone();
        out["id"] = json!(r.id);
        out["self"] = json!(format!("{}/remotelink/{}", self.issue_self(issue), r.id));
        out
    }
}

async fn create(State(sim): State<JiraSim>, body: Bytes) -> JiraResult<Response> {
    let body: Value = parse_body(&body)?;
    let ty = sim
        .link_type(&body["type"])
        .ok_or_else(|| JiraError::not_found("No issue link type with name or id found."))?;
    let type_id = text(ty, "id").unwrap_or_default();
    let mut data = sim.0.data.write();
    let inward = data
        .resolve_ref(&body["inwardIssue"])
        .ok_or_else(JiraError::no_issue)?;
    let outward = data
        .resolve_ref(&body["outwardIssue"])
        .ok_or_else(JiraError::no_issue)?;
    let exists = data.issues[&inward].links.iter().any(|l| {
        data.links
            .get(l)
            .is_some_and(|l| l.inward == inward && l.outward == outward && l.type_id == type_id)
    });
    if exists {
        return Ok(StatusCode::CREATED.into_response());
    }
    let cap = sim.0.options.limits.links_per_issue;
    if data.issues[&inward].links.len() >= cap || data.issues[&outward].links.len() >= cap {
        return Err(JiraError::too_large(format!(
            "The number of issue links on this issue exceeds the limit of {cap}."
        )));
    }
    let id = data.fresh_id();
    data.links.insert(
        id,
        IssueLink {
            type_id,
            inward,
            outward,
        },
    );
    for end in [inward, outward] {
        if let Some(i) = data.issues.get_mut(&end) {
            i.links.push(id);
        }
    }
    Ok(StatusCode::CREATED.into_response())
}

async fn fetch(State(sim): State<JiraSim>, Path(id): Path<u64>) -> JiraResult<Json<Value>> {
    let data = sim.0.data.read();
    sim.link_json(&data, id, None)
        .map(Json)
        .ok_or_else(|| JiraError::not_found("No issue link with the given id."))
}

async fn remove(State(sim): State<JiraSim>, Path(id): Path<u64>) -> JiraResult<StatusCode> {
    let mut data = sim.0.data.write();
    let link = data
        .links
        .remove(&id)
        .ok_or_else(|| JiraError::not_found("No issue link with the given id."))?;
    for end in [link.inward, link.outward] {
        if let Some(i) = data.issues.get_mut(&end) {
            i.links.retain(|l| *l != id);
        }
    }
    Ok(StatusCode::NO_CONTENT)
}

async fn types(State(sim): State<JiraSim>) -> Json<Value> {
    let removed = sim.0.data.read().removed_link_types.clone();
    let live: Vec<&Value> = sim
        .0
        .site
        .issue_link_types
        .iter()
        .filter(|t| !text(t, "id").is_some_and(|id| removed.contains(&id)))
        .collect();
    Json(json!({ "issueLinkTypes": live }))
}

/// `DELETE /issueLinkType/{id}`: the type is gone for every later call (links already made of
/// it stay readable here; Jira would delete them too).
async fn remove_type(State(sim): State<JiraSim>, Path(id): Path<String>) -> JiraResult<StatusCode> {
    sim.link_type(&json!({ "id": id }))
        .ok_or_else(|| JiraError::not_found("No issue link type with the given id."))?;
    sim.0.data.write().removed_link_types.insert(id);
    Ok(StatusCode::NO_CONTENT)
}

async fn one_type(State(sim): State<JiraSim>, Path(id): Path<String>) -> JiraResult<Json<Value>> {
    sim.link_type(&json!({ "id": id }))
        .cloned()
        .map(Json)
        .ok_or_else(|| JiraError::not_found("No issue link type with the given id."))
}

async fn remote_list(
    State(sim): State<JiraSim>,
    Path(issue): Path<String>,
    RawQuery(q): RawQuery,
) -> JiraResult<Json<Value>> {
    let params = Params::parse(q.as_deref());
    let data = sim.0.data.read();
    let id = data.resolve(&issue).ok_or_else(JiraError::no_issue)?;
    let links = &data.issues[&id].remote_links;
    if let Some(g) = params.one("globalId") {
        let r = links
            .iter()
            .find(|r| r.global_id.as_deref() == Some(g))
            .ok_or_else(|| JiraError::not_found("No remote link with the given globalId."))?;
        return Ok(Json(sim.remote_json(id, r)));
    }
    Ok(Json(Value::Array(
        links.iter().map(|r| sim.remote_json(id, r)).collect(),
    )))
}

async fn remote_one(
    State(sim): State<JiraSim>,
    Path((issue, rid)): Path<(String, u64)>,
) -> JiraResult<Json<Value>> {
    let data = sim.0.data.read();
    let id = data.resolve(&issue).ok_or_else(JiraError::no_issue)?;
    let r = data.issues[&id]
        .remote_links
        .iter()
        .find(|r| r.id == rid)
        .ok_or_else(|| JiraError::not_found("No remote link with the given id."))?;
    Ok(Json(sim.remote_json(id, r)))
}

async fn remote_upsert(
    State(sim): State<JiraSim>,
    Path(issue): Path<String>,
    body: Bytes,
) -> JiraResult<Response> {
    let body: Value = parse_body(&body)?;
    if body
        .pointer("/object/url")
        .and_then(Value::as_str)
        .is_none()
        || body
            .pointer("/object/title")
            .and_then(Value::as_str)
            .is_none()
    {
        return Err(JiraError::field(
            StatusCode::BAD_REQUEST,
            "object",
            "A remote link needs object.url and object.title.",
        ));
    }
    let global_id = body["globalId"].as_str().map(str::to_owned);
    let mut data = sim.0.data.write();
    let id = data.resolve(&issue).ok_or_else(JiraError::no_issue)?;
    let existing = global_id.as_ref().and_then(|g| {
        data.issues[&id]
            .remote_links
            .iter()
            .position(|r| r.global_id.as_ref() == Some(g))
    });
    let cap = sim.0.options.limits.remote_links_per_issue;
    if existing.is_none() && data.issues[&id].remote_links.len() >= cap {
        return Err(JiraError::too_large(format!(
            "The number of remote links on this issue exceeds the limit of {cap}."
        )));
    }
    let rid = match existing {
        Some(pos) => data.issues[&id].remote_links[pos].id,
        None => data.fresh_id(),
    };
    let link = RemoteLink {
        id: rid,
        global_id,
        body,
    };
    let out = json!({ "id": rid, "self": format!("{}/remotelink/{rid}", sim.issue_self(id)) });
    let issue = data.issues.get_mut(&id).ok_or_else(JiraError::no_issue)?;
    let status = match existing {
        Some(pos) => {
            issue.remote_links[pos] = link;
            StatusCode::OK
        }
        None => {
            issue.remote_links.push(link);
            StatusCode::CREATED
        }
    };
    Ok((status, Json(out)).into_response())
}

async fn remote_delete(
    State(sim): State<JiraSim>,
    Path((issue, rid)): Path<(String, u64)>,
) -> JiraResult<StatusCode> {
    let mut data = sim.0.data.write();
    let id = data.resolve(&issue).ok_or_else(JiraError::no_issue)?;
    let issue = data.issues.get_mut(&id).ok_or_else(JiraError::no_issue)?;
    let before = issue.remote_links.len();
    issue.remote_links.retain(|r| r.id != rid);
    if issue.remote_links.len() == before {
        return Err(JiraError::not_found("No remote link with the given id."));
    }
    Ok(StatusCode::NO_CONTENT)
}
