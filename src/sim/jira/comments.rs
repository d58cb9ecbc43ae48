//! Comments: offset-paged list and add, with ADF bodies and the per-issue cap (413), and
//! comment properties (set in the create body, read with `expand=properties` or one by one).
//!
//! There is no bulk comment API in Jira, so comment adds dominate a migration's request count;
//! the cap (5,000 by default, configurable) is what the engine must detect and report. A
//! comment's properties are how a migration recognises its own comments after a lost answer.
//! <https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-comments/>
//! <https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-comment-properties/>

use axum::{
    Extension, Json, Router,
    body::Bytes,
    extract::{Path, RawQuery, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{
    JiraSim, adf,
    auth::Caller,
    clock,
    error::{JiraError, JiraResult, parse_body},
    issues::check_properties,
    params::Params,
    store::{Comment, Data},
};

pub fn router() -> Router<JiraSim> {
    Router::new()
        .route(
            "/rest/api/3/issue/{issue}/comment",
            axum::routing::get(list).post(add),
        )
        .route(
            "/rest/api/3/issue/{issue}/comment/{id}",
            axum::routing::get(one),
        )
        .route(
            "/rest/api/3/comment/{id}/properties",
            axum::routing::get(property_keys),
        )
        .route(
            "/rest/api/3/comment/{id}/properties/{key}",
            axum::routing::get(property_get),
        )
}

impl JiraSim {
    /// The `Comment` JSON; `properties` listed when `expand` names them.
    pub(super) fn comment_json(&self, issue: u64, c: &Comment, expand: &[String]) -> Value {
        let mut out = json!({
            "self": format!("{}/comment/{}", self.issue_self(issue), c.id),
            "id": c.id.to_string(),
            "author": self.user_json(&c.author),
            "body": c.body,
            "updateAuthor": self.user_json(&c.author),
            "created": clock::jira(c.created),
            "updated": clock::jira(c.updated),
            "jsdPublic": true,
        });
        if let Some(v) = &c.visibility {
            out["visibility"] = v.clone();
        }
        if expand.iter().any(|e| e == "properties") {
            out["properties"] = c
                .properties
                .iter()
                .map(|(k, v)| json!({ "key": k, "value": v }))
                .collect();
        }
        out
    }
}

/// The issue and comment with id `cid`, wherever it is.
fn find_comment(data: &Data, cid: &str) -> JiraResult<(u64, usize)> {
    let missing = || JiraError::not_found("Can not find a comment for the id.");
    let cid: u64 = cid.parse().map_err(|_| missing())?;
    data.issues
        .iter()
        .find_map(|(id, issue)| {
            let n = issue.comments.iter().position(|c| c.id == cid)?;
            Some((*id, n))
        })
        .ok_or_else(missing)
}

async fn list(
    State(sim): State<JiraSim>,
    Path(issue): Path<String>,
    RawQuery(q): RawQuery,
) -> JiraResult<Json<Value>> {
    let params = Params::parse(q.as_deref());
    let start = usize::try_from(params.int("startAt", 0)?.max(0)).unwrap_or(0);
    let max = usize::try_from(params.int("maxResults", 100)?.clamp(0, 5000)).unwrap_or(100);
    let descending = match params.one("orderBy") {
        None | Some("created" | "+created") => false,
        Some("-created") => true,
        Some(other) => {
            return Err(JiraError::bad_request(format!(
                "Ordering by '{other}' is not supported; use created."
            )));
        }
    };
    let expand = params.list("expand");
    let data = sim.0.data.read();
    let id = data.resolve(&issue).ok_or_else(JiraError::no_issue)?;
    let all = &data.issues[&id].comments;
    let page: Vec<Value> = if descending {
        all.iter()
            .rev()
            .skip(start)
            .take(max)
            .map(|c| sim.comment_json(id, c, &expand))
            .collect()
    } else {
        all.iter()
            .skip(start)
            .take(max)
            .map(|c| sim.comment_json(id, c, &expand))
            .collect()
    };
    Ok(Json(
        json!({ "startAt": start, "maxResults": max, "total": all.len(), "comments": page }),
    ))
}

async fn one(
    State(sim): State<JiraSim>,
    Path((issue, cid)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> JiraResult<Json<Value>> {
    let expand = Params::parse(q.as_deref()).list("expand");
    let data = sim.0.data.read();
    let id = data.resolve(&issue).ok_or_else(JiraError::no_issue)?;
    let c = data.issues[&id]
        .comments
        .iter()
        .find(|c| c.id.to_string() == cid)
        .ok_or_else(|| JiraError::not_found("Can not find a comment for the id."))?;
    Ok(Json(sim.comment_json(id, c, &expand)))
}

async fn add(
    State(sim): State<JiraSim>,
    Extension(caller): Extension<Caller>,
    Path(issue): Path<String>,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> JiraResult<Response> {
    let expand = Params::parse(q.as_deref()).list("expand");
    let body: Value = parse_body(&body)?;
    let doc = body.get("body").cloned().unwrap_or(Value::Null);
    if !sim.0.adf.is_valid(&doc) {
        return Err(JiraError::field(
            StatusCode::BAD_REQUEST,
            "comment",
            adf::INVALID_ADF,
        ));
    }
    let mut errors = BTreeMap::new();
    let properties = check_properties(body.get("properties"), &mut errors);
    if !errors.is_empty() {
        return Err(JiraError {
            status: StatusCode::BAD_REQUEST,
            messages: vec![],
            errors,
        });
    }
    let mut data = sim.0.data.write();
    let id = data.resolve(&issue).ok_or_else(JiraError::no_issue)?;
    if data.issues[&id].comments.len() >= sim.0.options.limits.comments_per_issue {
        return Err(JiraError::too_large(format!(
            "The number of comments on this issue exceeds the limit of {}.",
            sim.0.options.limits.comments_per_issue
        )));
    }
    let cid = data.fresh_id();
    let now = clock::now_ms();
    let comment = Comment {
        id: cid,
        author: caller.account_id,
        body: sim.keep_doc(&doc),
        created: now,
        updated: now,
        visibility: body.get("visibility").cloned(),
        properties: properties.into_iter().collect(),
    };
    let json = sim.comment_json(id, &comment, &expand);
    if let Some(issue) = data.issues.get_mut(&id) {
        issue.comments.push(comment);
        issue.updated = now;
    }
    Ok((StatusCode::CREATED, Json(json)).into_response())
}

async fn property_keys(
    State(sim): State<JiraSim>,
    Path(cid): Path<String>,
) -> JiraResult<Json<Value>> {
    let data = sim.0.data.read();
    let (issue, n) = find_comment(&data, &cid)?;
    let c = &data.issues[&issue].comments[n];
    let keys: Vec<Value> = c
        .properties
        .keys()
        .map(|k| json!({ "key": k, "self": format!("{}/rest/api/3/comment/{cid}/properties/{k}", sim.0.base) }))
        .collect();
    Ok(Json(json!({ "keys": keys })))
}

async fn property_get(
    State(sim): State<JiraSim>,
    Path((cid, key)): Path<(String, String)>,
) -> JiraResult<Json<Value>> {
    let data = sim.0.data.read();
    let (issue, n) = find_comment(&data, &cid)?;
    let value = data.issues[&issue].comments[n]
        .properties
        .get(&key)
        .ok_or_else(|| {
            JiraError::not_found(format!("The property with key '{key}' does not exist."))
        })?;
    Ok(Json(json!({ "key": key, "value": value })))
}
