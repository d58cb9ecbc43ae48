//! Jira Software agile API: boards, sprints (create, start/close by update), moving issues into
//! a sprint (at most 50, only open or active sprints).
//!
//! One sprint per board may be active at a time, as on a site without parallel sprints; a board
//! whose JSON carries `"parallelSprints": true` (not a Jira field: the site setting, per board
//! here) lets several run at once. A closed sprint cannot be updated at all.
//!
//! ADO iterations become sprints; closed iterations are recreated and closed after their
//! issues are moved in, so the order "create → move → start → close" must work and moving into
//! an already-closed sprint must fail as in Jira.
//! <https://developer.atlassian.com/cloud/jira/software/rest/api-group-sprint/>

use axum::{
    Json, Router,
    body::Bytes,
    extract::{Path, RawQuery, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde_json::{Value, json};

use super::{
    JiraSim, clock,
    error::{JiraError, JiraResult, parse_body},
    params::Params,
    render::FieldSel,
    site::text,
};

/// Most issues one sprint move may carry (spec: `moveIssuesToSprintAndRank`).
const MAX_SPRINT_MOVE: usize = 50;

pub fn router() -> Router<JiraSim> {
    Router::new()
        .route("/rest/agile/1.0/board", get(boards))
        .route("/rest/agile/1.0/board/{id}", get(board))
        .route("/rest/agile/1.0/board/{id}/sprint", get(board_sprints))
        .route("/rest/agile/1.0/sprint", post(create))
        .route(
            "/rest/agile/1.0/sprint/{id}",
            get(sprint).post(update).put(update),
        )
        .route(
            "/rest/agile/1.0/sprint/{id}/issue",
            get(sprint_issues).post(move_issues),
        )
}

/// An offset page in the agile API's shape.
fn page(values: Vec<Value>, params: &Params) -> JiraResult<Value> {
    let start = usize::try_from(params.int("startAt", 0)?.max(0)).unwrap_or(0);
    let max = usize::try_from(params.int("maxResults", 50)?.clamp(1, 50)).unwrap_or(50);
    let total = values.len();
    let vals: Vec<Value> = values.into_iter().skip(start).take(max).collect();
    Ok(
        json!({ "maxResults": max, "startAt": start, "total": total, "isLast": start + vals.len() >= total, "values": vals }),
    )
}

async fn boards(State(sim): State<JiraSim>, RawQuery(q): RawQuery) -> JiraResult<Json<Value>> {
    let params = Params::parse(q.as_deref());
    let project = params.one("projectKeyOrId");
    let values = sim
        .0
        .site
        .boards
        .iter()
        .filter(|b| {
            project.is_none_or(|p| {
                text(&b["location"], "projectKey").as_deref() == Some(p)
                    || text(&b["location"], "projectId").as_deref() == Some(p)
            })
        })
        .cloned()
        .collect();
    page(values, &params).map(Json)
}

async fn board(State(sim): State<JiraSim>, Path(id): Path<u64>) -> JiraResult<Json<Value>> {
    sim.0
        .site
        .boards
        .iter()
        .find(|b| b["id"].as_u64() == Some(id))
        .cloned()
        .map(Json)
        .ok_or_else(|| JiraError::not_found(format!("Board {id} does not exist.")))
}

async fn board_sprints(
    State(sim): State<JiraSim>,
    Path(id): Path<u64>,
    RawQuery(q): RawQuery,
) -> JiraResult<Json<Value>> {
    let params = Params::parse(q.as_deref());
    if !sim
        .0
        .site
        .boards
        .iter()
        .any(|b| b["id"].as_u64() == Some(id))
    {
        return Err(JiraError::not_found(format!("Board {id} does not exist.")));
    }
    let states = params.list("state");
    let data = sim.0.data.read();
    let values = data
        .sprints
        .values()
        .filter(|s| {
            s["originBoardId"].as_u64() == Some(id)
                && (states.is_empty() || states.iter().any(|st| s["state"] == st.as_str()))
        })
        .cloned()
        .collect();
    page(values, &params).map(Json)
}

async fn create(State(sim): State<JiraSim>, body: Bytes) -> JiraResult<Response> {
    let body: Value = parse_body(&body)?;
    // Jira trims the name (spec: createSprint).
    let name = body["name"]
        .as_str()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| {
            JiraError::field(
                StatusCode::BAD_REQUEST,
                "name",
                "The sprint name is required.",
            )
        })?;
    if name.chars().count() > 255 {
        return Err(JiraError::field(
            StatusCode::BAD_REQUEST,
            "name",
            "The sprint name must be less than 255 characters.",
        ));
    }
    let board = body["originBoardId"].as_u64().ok_or_else(|| {
        JiraError::field(
            StatusCode::BAD_REQUEST,
            "originBoardId",
            "The board id is required.",
        )
    })?;
    if !sim
        .0
        .site
        .boards
        .iter()
        .any(|b| b["id"].as_u64() == Some(board))
    {
        return Err(JiraError::bad_request(format!(
            "Board {board} does not exist or you do not have permission to see it."
        )));
    }
    let mut data = sim.0.data.write();
    let id = data.next_sprint;
    data.next_sprint += 1;
    let mut sprint = json!({
        "id": id, "self": format!("{}/rest/agile/1.0/sprint/{id}", sim.0.base),
        "state": "future", "name": name, "originBoardId": board, "goal": body["goal"].as_str().unwrap_or(""),
    });
    for k in ["startDate", "endDate"] {
        if let Some(v) = body.get(k).filter(|v| v.is_string()) {
            sprint[k] = v.clone();
        }
    }
    data.sprints.insert(id, sprint.clone());
    Ok((StatusCode::CREATED, Json(sprint)).into_response())
}

async fn sprint(State(sim): State<JiraSim>, Path(id): Path<u64>) -> JiraResult<Json<Value>> {
    sim.0
        .data
        .read()
        .sprints
        .get(&id)
        .cloned()
        .map(Json)
        .ok_or_else(|| JiraError::not_found(format!("Sprint with id {id} does not exist")))
}

/// Partial (POST) or full (PUT) update; `state` moves future → active → closed only.
async fn update(
    State(sim): State<JiraSim>,
    Path(id): Path<u64>,
    body: Bytes,
) -> JiraResult<Json<Value>> {
    let body: Value = parse_body(&body)?;
    let mut data = sim.0.data.write();
    let sprint = data
        .sprints
        .get(&id)
        .ok_or_else(|| JiraError::not_found(format!("Sprint with id {id} does not exist")))?;
    let mut next = sprint.clone();
    for k in ["name", "goal", "startDate", "endDate"] {
        if let Some(v) = body.get(k).filter(|v| !v.is_null()) {
            next[k] = v.clone();
        }
    }
    let from = sprint["state"].as_str().unwrap_or("future").to_owned();
    if from == "closed" {
        return Err(JiraError::bad_request("A closed sprint cannot be updated."));
    }
    let board = sprint["originBoardId"].as_u64();
    if let Some(to) = body["state"].as_str().filter(|s| *s != from) {
        match (from.as_str(), to) {
            ("future", "active") => {
                if next["startDate"].is_null() || next["endDate"].is_null() {
                    return Err(JiraError::bad_request(
                        "A sprint needs a start date and an end date to be started.",
                    ));
                }
                let parallel = sim.0.site.boards.iter().any(|b| {
                    b["id"].as_u64() == board && b["parallelSprints"].as_bool() == Some(true)
                });
                let busy = data
                    .sprints
                    .values()
                    .any(|s| s["originBoardId"].as_u64() == board && s["state"] == "active");
                if busy && !parallel {
                    return Err(JiraError::bad_request(
                        "This board already has an active sprint; complete it before starting another.",
                    ));
                }
            }
            ("active", "closed") => next["completeDate"] = json!(clock::iso(clock::now_ms())),
            _ => {
                return Err(JiraError::bad_request(format!(
                    "A sprint cannot go from state '{from}' to '{to}'."
                )));
            }
        }
        next["state"] = json!(to);
    }
    if let Some(s) = data.sprints.get_mut(&id) {
        *s = next.clone();
    }
    Ok(Json(next))
}

async fn move_issues(
    State(sim): State<JiraSim>,
    Path(id): Path<u64>,
    body: Bytes,
) -> JiraResult<StatusCode> {
    let body: Value = parse_body(&body)?;
    let issues = body["issues"].as_array().cloned().unwrap_or_default();
    if issues.len() > MAX_SPRINT_MOVE {
        return Err(JiraError::bad_request(format!(
            "The maximum number of issues that can be moved in one operation is {MAX_SPRINT_MOVE}."
        )));
    }
    let mut data = sim.0.data.write();
    let state = data.sprints.get(&id).ok_or_else(|| JiraError::not_found(format!("Sprint with id {id} does not exist")))?["state"].clone();
    if state == "closed" {
        return Err(JiraError::bad_request(
            "Issues can only be moved to open or active sprints.",
        ));
    }
    let mut ids = Vec::new();
    for i in &issues {
        let key = i
            .as_str()
            .map(str::to_owned)
            .or_else(|| i.as_u64().map(|n| n.to_string()))
            .unwrap_or_default();
        ids.push(data.resolve(&key).ok_or_else(|| {
            JiraError::bad_request(format!(
                "Issue '{key}' does not exist or you do not have permission to see it."
            ))
        })?);
    }
    for i in ids {
        if let Some(issue) = data.issues.get_mut(&i) {
            issue.sprint = Some(id);
            issue.updated = clock::now_ms();
        }
        sim.touch(&data, i);
    }
    Ok(StatusCode::NO_CONTENT)
}

async fn sprint_issues(
    State(sim): State<JiraSim>,
    Path(id): Path<u64>,
    RawQuery(q): RawQuery,
) -> JiraResult<Json<Value>> {
    let params = Params::parse(q.as_deref());
    let data = sim.0.data.read();
    if !data.sprints.contains_key(&id) {
        return Err(JiraError::not_found(format!(
            "Sprint with id {id} does not exist"
        )));
    }
    let sel = FieldSel::parse(&params.all("fields"), "*navigable");
    let mut members: Vec<&super::store::Issue> = data
        .issues
        .values()
        .filter(|i| i.sprint == Some(id))
        .collect();
    members.sort_by_key(|i| i.id);
    let start = usize::try_from(params.int("startAt", 0)?.max(0)).unwrap_or(0);
    let max = usize::try_from(params.int("maxResults", 50)?.clamp(1, 1000)).unwrap_or(50);
    let page: Vec<Value> = members
        .iter()
        .skip(start)
        .take(max)
        .map(|i| sim.render_issue(&data, i, &sel, &[]))
        .collect();
    Ok(Json(
        json!({ "expand": "schema,names", "startAt": start, "maxResults": max, "total": members.len(), "issues": page }),
    ))
}
