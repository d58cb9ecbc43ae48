//! Site metadata: fields, createmeta, projects, issue types, statuses, priorities, workflows,
//! components and versions.
//!
//! The engine reads these to build its mapping (which fields exist and are required, which
//! transitions lead to which status); createmeta and workflow search must therefore agree with
//! what create and transition enforce, which they do because both read the same site file.

use axum::{
    Json, Router,
    body::Bytes,
    extract::{Path, RawQuery, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde_json::{Map, Value, json};

use super::{
    JiraSim,
    error::{JiraError, JiraResult, parse_body},
    params::Params,
    site::text,
};

pub fn router() -> Router<JiraSim> {
    Router::new()
        .route("/rest/api/3/field", get(fields))
        .route(
            "/rest/api/3/issue/createmeta/{project}/issuetypes",
            get(createmeta_types),
        )
        .route(
            "/rest/api/3/issue/createmeta/{project}/issuetypes/{type_id}",
            get(createmeta_fields),
        )
        .route("/rest/api/3/project/search", get(project_search))
        .route("/rest/api/3/project/{project}", get(project))
        .route(
            "/rest/api/3/project/{project}/components",
            get(project_components),
        )
        .route(
            "/rest/api/3/project/{project}/versions",
            get(project_versions),
        )
        .route("/rest/api/3/issuetype", get(issue_types))
        .route("/rest/api/3/status", get(statuses))
        .route("/rest/api/3/priority", get(priorities))
        .route("/rest/api/3/workflow/search", get(workflow_search))
        .route("/rest/api/3/component", post(create_component))
        .route("/rest/api/3/component/{id}", get(component))
        .route("/rest/api/3/version", post(create_version))
        .route("/rest/api/3/version/{id}", get(version))
}

/// Offset paging as in `PageBean*`: `startAt`, `maxResults` (capped), `total`, `isLast`.
fn window(params: &Params, default: i64, cap: i64) -> JiraResult<(usize, usize)> {
    let start = usize::try_from(params.int("startAt", 0)?.max(0)).unwrap_or(0);
    let max = usize::try_from(params.int("maxResults", default)?.clamp(0, cap)).unwrap_or(0);
    Ok((start, max))
}

impl JiraSim {
    fn project_or_404(&self, p: &str) -> JiraResult<usize> {
        self.project_idx(p).ok_or_else(|| {
            JiraError::not_found(format!("No project could be found with key '{p}'."))
        })
    }

    /// A project as `GET /project/{key}` returns it, with live components and versions.
    fn project_json(&self, idx: usize) -> Value {
        let mut p = self.0.site.projects[idx].clone();
        let id = self.project_id(idx);
        let data = self.0.data.read();
        let mine = |list: &[Value]| {
            list.iter()
                .filter(|c| text(c, "projectId").as_deref() == Some(id.as_str()))
                .cloned()
                .collect::<Vec<_>>()
        };
        p["components"] = json!(mine(&data.components));
        p["versions"] = json!(mine(&data.versions));
        p
    }
}

async fn fields(State(sim): State<JiraSim>) -> Json<Value> {
    Json(json!(sim.0.site.fields))
}

async fn createmeta_types(
    State(sim): State<JiraSim>,
    Path(project): Path<String>,
    RawQuery(q): RawQuery,
) -> JiraResult<Json<Value>> {
    let params = Params::parse(q.as_deref());
    let (start, max) = window(&params, 50, 200)?;
    let idx = sim.project_or_404(&project)?;
    let key = sim.project_key(idx);
    let allowed = [
        "avatarId",
        "description",
        "entityId",
        "hierarchyLevel",
        "iconUrl",
        "id",
        "name",
        "scope",
        "self",
        "subtask",
    ];
    let types: Vec<Value> = sim.0.site.projects[idx]["issueTypes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|t| text(t, "id").is_some_and(|id| sim.create_meta(&key, &id).is_some()))
        .map(|t| {
            Value::Object(
                t.as_object()
                    .into_iter()
                    .flatten()
                    .filter(|(k, _)| allowed.contains(&k.as_str()))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect::<Map<_, _>>(),
            )
        })
        .collect();
    let total = types.len();
    let page: Vec<Value> = types.into_iter().skip(start).take(max).collect();
    Ok(Json(
        json!({ "issueTypes": page, "maxResults": max, "startAt": start, "total": total }),
    ))
}

async fn createmeta_fields(
    State(sim): State<JiraSim>,
    Path((project, type_id)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> JiraResult<Json<Value>> {
    let params = Params::parse(q.as_deref());
    let (start, max) = window(&params, 50, 200)?;
    let idx = sim.project_or_404(&project)?;
    let meta = sim
        .create_meta(&sim.project_key(idx), &type_id)
        .ok_or_else(|| JiraError::bad_request("The issue type selected is invalid."))?;
    let page: Vec<Value> = meta.iter().skip(start).take(max).cloned().collect();
    Ok(Json(
        json!({ "fields": page, "results": page, "maxResults": max, "startAt": start, "total": meta.len() }),
    ))
}

async fn project(
    State(sim): State<JiraSim>,
    Path(project): Path<String>,
) -> JiraResult<Json<Value>> {
    let idx = sim.project_or_404(&project)?;
    Ok(Json(sim.project_json(idx)))
}

async fn project_search(
    State(sim): State<JiraSim>,
    RawQuery(q): RawQuery,
) -> JiraResult<Json<Value>> {
    let params = Params::parse(q.as_deref());
    let (start, max) = window(&params, 50, 100)?;
    let keys = params.list("keys");
    let query = params.one("query").map(str::to_lowercase);
    let matches: Vec<Value> = (0..sim.0.site.projects.len())
        .filter(|&i| {
            let p = &sim.0.site.projects[i];
            let key = text(p, "key").unwrap_or_default();
            let name = text(p, "name").unwrap_or_default().to_lowercase();
            (keys.is_empty() || keys.contains(&key))
                && query
                    .as_ref()
                    .is_none_or(|q| key.to_lowercase().contains(q) || name.contains(q))
        })
        .map(|i| sim.project_ref(i))
        .collect();
    let total = matches.len();
    let values: Vec<Value> = matches.into_iter().skip(start).take(max).collect();
    Ok(Json(json!({
        "self": format!("{}/rest/api/3/project/search", sim.0.base),
        "maxResults": max, "startAt": start, "total": total, "isLast": start + values.len() >= total, "values": values,
    })))
}

async fn project_components(
    State(sim): State<JiraSim>,
    Path(project): Path<String>,
) -> JiraResult<Json<Value>> {
    let idx = sim.project_or_404(&project)?;
    Ok(Json(sim.project_json(idx)["components"].clone()))
}

async fn project_versions(
    State(sim): State<JiraSim>,
    Path(project): Path<String>,
) -> JiraResult<Json<Value>> {
    let idx = sim.project_or_404(&project)?;
    Ok(Json(sim.project_json(idx)["versions"].clone()))
}

async fn issue_types(State(sim): State<JiraSim>) -> Json<Value> {
    Json(json!(sim.0.site.issue_types))
}

async fn statuses(State(sim): State<JiraSim>) -> Json<Value> {
    Json(json!(sim.0.site.statuses))
}

async fn priorities(State(sim): State<JiraSim>) -> Json<Value> {
    Json(json!(sim.0.site.priorities))
}

/// `PageBeanWorkflow`: one workflow per `"<projectKey>/<issueTypeId>"`, named after that key.
async fn workflow_search(
    State(sim): State<JiraSim>,
    RawQuery(q): RawQuery,
) -> JiraResult<Json<Value>> {
    let params = Params::parse(q.as_deref());
    let (start, max) = window(&params, 50, 50)?;
    let names = params.list("workflowName");
    let all: Vec<Value> = sim
        .0
        .site
        .workflows
        .iter()
        .filter(|(name, _)| names.is_empty() || names.contains(name))
        .map(|(name, wf)| {
            let status_name = |id: &str| sim.status_json(id)["name"].clone();
            let mut ids: Vec<&String> = std::iter::once(&wf.initial).chain(wf.transitions.iter().flat_map(|t| t.from.iter().chain(std::iter::once(&t.to)))).collect();
            ids.sort();
            ids.dedup();
            let mut transitions = vec![json!({ "id": "1", "name": "Create", "description": "", "from": [], "to": wf.initial, "type": "initial" })];
            transitions.extend(wf.transitions.iter().map(|t| {
                json!({ "id": t.id, "name": t.name, "description": "", "from": t.from, "to": t.to, "type": if t.from.is_empty() { "global" } else { "directed" } })
            }));
            json!({
                "id": { "name": name, "entityId": name },
                "description": format!("Workflow of issue type {} in project {}.", name.split('/').nth(1).unwrap_or(""), name.split('/').next().unwrap_or("")),
                "transitions": transitions,
                "statuses": ids.iter().map(|id| json!({ "id": id, "name": status_name(id) })).collect::<Vec<_>>(),
                "isDefault": false,
            })
        })
        .collect();
    let total = all.len();
    let values: Vec<Value> = all.into_iter().skip(start).take(max).collect();
    Ok(Json(
        json!({ "self": format!("{}/rest/api/3/workflow/search", sim.0.base), "maxResults": max, "startAt": start, "total": total, "isLast": start + values.len() >= total, "values": values }),
    ))
}

/// Creates a component or version after checking the project and name uniqueness.
fn create_in(sim: &JiraSim, body: &Value, component: bool) -> JiraResult<Value> {
    let name = body["name"]
        .as_str()
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| {
            JiraError::field(StatusCode::BAD_REQUEST, "name", "The name is required.")
        })?;
    let project_ref = if component {
        text(body, "project")
    } else {
        text(body, "projectId").or_else(|| text(body, "project"))
    };
    let idx = project_ref
        .and_then(|p| sim.project_idx(&p))
        .ok_or_else(|| {
            JiraError::field(
                StatusCode::BAD_REQUEST,
                "project",
                "Specify a valid project ID or key",
            )
        })?;
    let pid = sim.project_id(idx);
    let mut data = sim.0.data.write();
    let list = if component {
        &data.components
    } else {
        &data.versions
    };
    if list
        .iter()
        .any(|c| text(c, "projectId").as_deref() == Some(pid.as_str()) && c["name"] == name)
    {
        let what = if component {
            "A component"
        } else {
            "A version"
        };
        return Err(JiraError::field(
            StatusCode::BAD_REQUEST,
            "name",
            format!("{what} with this name already exists in this project."),
        ));
    }
    let id = data.fresh_id();
    let kind = if component { "component" } else { "version" };
    let mut out = body.clone();
    out["id"] = json!(id.to_string());
    out["self"] = json!(format!("{}/rest/api/3/{kind}/{id}", sim.0.base));
    out["projectId"] = json!(pid.parse::<u64>().unwrap_or(0));
    if component {
        out["project"] = json!(sim.project_key(idx));
        data.components.push(out.clone());
    } else {
        out["archived"] = json!(body["archived"].as_bool().unwrap_or(false));
        out["released"] = json!(body["released"].as_bool().unwrap_or(false));
        data.versions.push(out.clone());
    }
    Ok(out)
}

async fn create_component(State(sim): State<JiraSim>, body: Bytes) -> JiraResult<Response> {
    let body: Value = parse_body(&body)?;
    Ok((StatusCode::CREATED, Json(create_in(&sim, &body, true)?)).into_response())
}

async fn create_version(State(sim): State<JiraSim>, body: Bytes) -> JiraResult<Response> {
    let body: Value = parse_body(&body)?;
    Ok((StatusCode::CREATED, Json(create_in(&sim, &body, false)?)).into_response())
}

async fn component(State(sim): State<JiraSim>, Path(id): Path<String>) -> JiraResult<Json<Value>> {
    let data = sim.0.data.read();
    data.components
        .iter()
        .find(|c| text(c, "id").as_deref() == Some(id.as_str()))
        .cloned()
        .map(Json)
        .ok_or_else(|| JiraError::not_found(format!("The component with id {id} does not exist.")))
}

async fn version(State(sim): State<JiraSim>, Path(id): Path<String>) -> JiraResult<Json<Value>> {
    let data = sim.0.data.read();
    data.versions
        .iter()
        .find(|c| text(c, "id").as_deref() == Some(id.as_str()))
        .cloned()
        .map(Json)
        .ok_or_else(|| JiraError::not_found(format!("Could not find version for id '{id}'")))
}
