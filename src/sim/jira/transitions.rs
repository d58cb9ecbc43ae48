//! Workflow transitions: list what the workflow allows from the current status, apply one.
//!
//! A strict workflow is what makes "Closed" cost two calls from "To Do"; the engine plans its
//! transition paths from `GET …/transitions` (or `/workflow/search`), so both must tell the
//! truth, and a transition not allowed from the current status is a 400 as in Jira.
//! <https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-issue-issueidorkey-transitions-get>

use std::collections::BTreeMap;

use axum::{
    Json, Router,
    body::Bytes,
    extract::{Path, RawQuery, State},
    http::StatusCode,
};
use serde_json::{Value, json};

use super::{
    JiraSim, clock,
    error::{JiraError, JiraResult, parse_body},
    fields::{Mode, merge_update},
    params::Params,
    site::{Workflow, WorkflowTransition, text},
    store::Data,
};

pub fn router() -> Router<JiraSim> {
    Router::new().route(
        "/rest/api/3/issue/{issue}/transitions",
        axum::routing::get(list).post(apply),
    )
}

impl JiraSim {
    pub(super) fn workflow_of(&self, data: &Data, id: u64) -> Option<&Workflow> {
        let issue = data.issues.get(&id)?;
        self.0.site.workflows.get(&format!(
            "{}/{}",
            self.project_key(issue.project),
            issue.type_id
        ))
    }

    /// Transitions available from `status` (directed ones leaving it, plus global ones).
    pub(super) fn available<'w>(
        wf: &'w Workflow,
        status: &str,
    ) -> impl Iterator<Item = &'w WorkflowTransition> {
        wf.transitions.iter().filter(move |t| {
            t.from.iter().any(|f| f == status) || (t.from.is_empty() && t.to != status)
        })
    }

    fn transition_json(&self, t: &WorkflowTransition) -> Value {
        json!({
            "id": t.id, "name": t.name, "to": self.status_json(&t.to),
            "hasScreen": false, "isGlobal": t.from.is_empty(), "isInitial": false,
            "isAvailable": true, "isConditional": false, "isLooped": false,
        })
    }

    /// Moves issue `id` through transition `tid`, or explains why not.
    pub(super) fn transition(&self, data: &mut Data, id: u64, tid: &str) -> JiraResult<()> {
        let status = data
            .issues
            .get(&id)
            .ok_or_else(JiraError::no_issue)?
            .status_id
            .clone();
        let to = self
            .workflow_of(data, id)
            .and_then(|wf| Self::available(wf, &status).find(|t| t.id == tid))
            .map(|t| t.to.clone())
            .ok_or_else(|| {
                JiraError::bad_request(format!(
                    "Transition id '{tid}' is not valid for this issue."
                ))
            })?;
        let issue = data.issues.get_mut(&id).ok_or_else(JiraError::no_issue)?;
        issue.status_id = to;
        issue.updated = clock::now_ms();
        self.touch(data, id);
        Ok(())
    }
}

async fn list(
    State(sim): State<JiraSim>,
    Path(issue): Path<String>,
    RawQuery(q): RawQuery,
) -> JiraResult<Json<Value>> {
    let params = Params::parse(q.as_deref());
    let data = sim.0.data.read();
    let id = data.resolve(&issue).ok_or_else(JiraError::no_issue)?;
    let status = &data.issues[&id].status_id;
    let only = params.one("transitionId");
    let transitions: Vec<Value> = sim
        .workflow_of(&data, id)
        .map(|wf| {
            JiraSim::available(wf, status)
                .filter(|t| only.is_none_or(|o| o == t.id))
                .map(|t| sim.transition_json(t))
                .collect()
        })
        .unwrap_or_default();
    Ok(Json(
        json!({ "expand": "transitions", "transitions": transitions }),
    ))
}

async fn apply(
    State(sim): State<JiraSim>,
    Path(issue): Path<String>,
    body: Bytes,
) -> JiraResult<StatusCode> {
    let body: Value = parse_body(&body)?;
    let tid = body
        .get("transition")
        .and_then(|t| text(t, "id"))
        .ok_or_else(|| JiraError::bad_request("Missing 'transition' identifier"))?;
    let mut data = sim.0.data.write();
    let id = data.resolve(&issue).ok_or_else(JiraError::no_issue)?;
    let fields = body["fields"].as_object().cloned().unwrap_or_default();
    let mut errors = BTreeMap::new();
    let merged = merge_update(
        &fields,
        body.get("update"),
        data.issues.get(&id).map(|i| &i.fields),
        &mut errors,
    );
    let (project, type_id) = (data.issues[&id].project, data.issues[&id].type_id.clone());
    let checked = sim.check_fields(&data, project, &type_id, &merged, Mode::Edit, &mut errors);
    if !errors.is_empty() {
        return Err(JiraError {
            status: StatusCode::BAD_REQUEST,
            messages: vec![],
            errors,
        });
    }
    sim.transition(&mut data, id, &tid)?;
    if let Some(issue) = data.issues.get_mut(&id) {
        issue.fields.extend(checked.fields);
    }
    Ok(StatusCode::NO_CONTENT)
}
