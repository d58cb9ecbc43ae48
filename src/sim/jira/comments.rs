//! Comments: offset-paged list and add, with ADF bodies and the per-issue cap (413).
//!
//! There is no bulk comment API in Jira, so comment adds dominate a migration's request count;
//! the cap (5,000 by default, configurable) is what the engine must detect and report.
//! <https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-comments/>

use axum::{
    Extension, Json, Router,
    body::Bytes,
    extract::{Path, RawQuery, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

use super::{
    JiraSim, adf,
    auth::Caller,
    clock,
    error::{JiraError, JiraResult, parse_body},
    params::Params,
    store::Comment,
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
}

impl JiraSim {
    /// The `Comment` JSON.
    pub(super) fn comment_json(&self, issue: u64, c: &Comment) -> Value {
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
        out
    }
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
    let data = sim.0.data.read();
    let id = data.resolve(&issue).ok_or_else(JiraError::no_issue)?;
    let all = &data.issues[&id].comments;
    let page: Vec<Value> = if descending {
        all.iter()
            .rev()
            .skip(start)
            .take(max)
            .map(|c| sim.comment_json(id, c))
            .collect()
    } else {
        all.iter()
            .skip(start)
            .take(max)
            .map(|c| sim.comment_json(id, c))
            .collect()
    };
    Ok(Json(
        json!({ "startAt": start, "maxResults": max, "total": all.len(), "comments": page }),
    ))
}

async fn one(
    State(sim): State<JiraSim>,
    Path((issue, cid)): Path<(String, String)>,
) -> JiraResult<Json<Value>> {
    let data = sim.0.data.read();
    let id = data.resolve(&issue).ok_or_else(JiraError::no_issue)?;
    let c = data.issues[&id]
        .comments
        .iter()
        .find(|c| c.id.to_string() == cid)
        .ok_or_else(|| JiraError::not_found("Can not find a comment for the id."))?;
    Ok(Json(sim.comment_json(id, c)))
}

async fn add(
    State(sim): State<JiraSim>,
    Extension(caller): Extension<Caller>,
    Path(issue): Path<String>,
    body: Bytes,
) -> JiraResult<Response> {
    let body: Value = parse_body(&body)?;
    let doc = body.get("body").cloned().unwrap_or(Value::Null);
    if !sim.0.adf.is_valid(&doc) {
        return Err(JiraError::field(
            StatusCode::BAD_REQUEST,
            "comment",
            adf::INVALID_ADF,
        ));
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
        body: doc,
        created: now,
        updated: now,
        visibility: body.get("visibility").cloned(),
    };
    let json = sim.comment_json(id, &comment);
    if let Some(issue) = data.issues.get_mut(&id) {
        issue.comments.push(comment);
        issue.updated = now;
    }
    Ok((StatusCode::CREATED, Json(json)).into_response())
}
