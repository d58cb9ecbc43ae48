//! Async bulk operations (`/rest/api/3/bulk/*`): bulk transition and task progress.
//!
//! Every `/bulk` operation is `x-atlassian-connect-scope: INACCESSIBLE`: a Connect app gets a
//! 403 and must transition issue by issue, while an API-token (Basic) caller may submit up to
//! 1,000 issues per task. The simulator runs the task at once and reports it COMPLETE on the
//! first poll; the shape (submit → taskId → poll) is what clients must handle.
//! <https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-bulk-operations/>

use axum::{
    Extension, Json, Router,
    body::Bytes,
    extract::{Path, RawQuery, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde_json::{Map, Value, json};

use super::{
    JiraSim,
    auth::Caller,
    clock,
    error::{JiraError, JiraResult, parse_body},
    params::Params,
};

/// Most issues in one bulk task.
const MAX_BULK_ISSUES: usize = 1000;

pub fn router() -> Router<JiraSim> {
    Router::new()
        .route(
            "/rest/api/3/bulk/issues/transition",
            post(transition).get(available),
        )
        .route("/rest/api/3/bulk/queue/{task}", get(progress))
}

fn refuse_connect(caller: &Caller) -> JiraResult<()> {
    if caller.connect {
        return Err(JiraError::new(
            StatusCode::FORBIDDEN,
            "This API is not accessible to Connect apps.",
        ));
    }
    Ok(())
}

async fn transition(
    State(sim): State<JiraSim>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> JiraResult<Response> {
    refuse_connect(&caller)?;
    let body: Value = parse_body(&body)?;
    let inputs = body["bulkTransitionInputs"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let total: usize = inputs
        .iter()
        .map(|i| i["selectedIssueIdsOrKeys"].as_array().map_or(0, Vec::len))
        .sum();
    if total == 0 {
        return Err(JiraError::bad_request("No issues were selected."));
    }
    if total > MAX_BULK_ISSUES {
        return Err(JiraError::bad_request(format!(
            "A bulk operation can include at most {MAX_BULK_ISSUES} issues."
        )));
    }
    let now = clock::now_ms();
    let mut data = sim.0.data.write();
    let (mut processed, mut failed, mut invalid) = (Vec::new(), Map::new(), 0u64);
    for input in &inputs {
        let tid = input["transitionId"]
            .as_str()
            .map(str::to_owned)
            .or_else(|| input["transitionId"].as_u64().map(|n| n.to_string()))
            .unwrap_or_default();
        for issue in input["selectedIssueIdsOrKeys"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let Some(id) = issue.as_str().and_then(|s| data.resolve(s)) else {
                invalid += 1;
                continue;
            };
            match sim.transition(&mut data, id, &tid) {
                Ok(()) => processed.push(json!(id)),
                Err(e) => {
                    failed.insert(id.to_string(), json!(e.messages));
                }
            }
        }
    }
    let task = data.fresh_id().to_string();
    let progress = json!({
        "taskId": task, "status": "COMPLETE", "progressPercent": 100,
        "processedAccessibleIssues": processed, "failedAccessibleIssues": failed,
        "invalidOrInaccessibleIssueCount": invalid, "totalIssueCount": total,
        "created": clock::jira(now), "started": clock::jira(now), "updated": clock::jira(clock::now_ms()),
        "submittedBy": { "accountId": caller.account_id },
    });
    data.tasks.insert(task.clone(), progress);
    Ok((StatusCode::CREATED, Json(json!({ "taskId": task }))).into_response())
}

async fn progress(
    State(sim): State<JiraSim>,
    Extension(caller): Extension<Caller>,
    Path(task): Path<String>,
) -> JiraResult<Json<Value>> {
    refuse_connect(&caller)?;
    sim.0
        .data
        .read()
        .tasks
        .get(&task)
        .cloned()
        .map(Json)
        .ok_or_else(|| JiraError::not_found(format!("Task {task} does not exist.")))
}

/// Per workflow: the selected keys, the transitions common to them, the widest single offer.
type Group = (Vec<String>, Option<Vec<String>>, usize);

/// `BulkTransitionGetAvailableTransitions`: per workflow, the transitions every selected issue
/// in it can take from its current status (the intersection, as Jira offers only common ones).
async fn available(
    State(sim): State<JiraSim>,
    Extension(caller): Extension<Caller>,
    RawQuery(q): RawQuery,
) -> JiraResult<Json<Value>> {
    refuse_connect(&caller)?;
    let params = Params::parse(q.as_deref());
    let wanted = params.list("issueIdsOrKeys");
    if wanted.is_empty() || wanted.len() > MAX_BULK_ISSUES {
        return Err(JiraError::bad_request(format!(
            "Between 1 and {MAX_BULK_ISSUES} issues must be given in issueIdsOrKeys."
        )));
    }
    let data = sim.0.data.read();
    let mut groups: std::collections::BTreeMap<String, Group> = std::collections::BTreeMap::new();
    for w in &wanted {
        let Some(id) = data.resolve(w) else { continue };
        let issue = &data.issues[&id];
        let Some(wf) = sim.workflow_of(&data, id) else {
            continue;
        };
        let here: Vec<String> = JiraSim::available(wf, &issue.status_id)
            .map(|t| t.id.clone())
            .collect();
        let name = format!("{}/{}", sim.project_key(issue.project), issue.type_id);
        let entry = groups.entry(name).or_insert((vec![], None, 0));
        entry.0.push(issue.key.clone());
        entry.2 = entry.2.max(here.len());
        entry.1 = Some(match entry.1.take() {
            None => here,
            Some(common) => common.into_iter().filter(|t| here.contains(t)).collect(),
        });
    }
    let available: Vec<Value> = groups
        .iter()
        .filter_map(|(name, (keys, common, widest))| {
            let wf = sim.0.site.workflows.get(name)?;
            let common = common.clone().unwrap_or_default();
            let transitions: Vec<Value> = wf
                .transitions
                .iter()
                .filter(|t| common.contains(&t.id))
                .map(|t| {
                    json!({
                        "transitionId": t.id.parse::<i64>().unwrap_or(0),
                        "transitionName": t.name,
                        "to": { "statusId": t.to.parse::<i64>().unwrap_or(0), "statusName": sim.status_json(&t.to)["name"] },
                    })
                })
                .collect();
            Some(json!({ "issues": keys, "isTransitionsFiltered": common.len() < *widest, "transitions": transitions }))
        })
        .collect();
    Ok(Json(json!({ "availableTransitions": available })))
}
