//! Workflow schemes: which workflow each issue type of a project follows.
//!
//! A Jira client cannot guess workflow names; it asks `GET /workflowscheme/project` for the
//! project's scheme, then fetches those workflows by name from `/workflow/search`. The site file
//! keys workflows as `"<projectKey>/<issueTypeId>"`, so each project's scheme maps every issue
//! type that has such a workflow to that name, and everything else to Jira's built-in `jira`
//! workflow (which the site does not serve, as a real site's read-only default is not listed
//! by name either).
//! <https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-workflow-scheme-project-associations/>

use axum::{
    Json, Router,
    extract::{RawQuery, State},
    routing::get,
};
use serde_json::{Map, Value, json};

use super::{
    JiraSim,
    error::{JiraError, JiraResult},
    params::Params,
};

/// Most project ids one request may name (spec: `maxItems: 100`).
const MAX_PROJECTS: usize = 100;

pub fn router() -> Router<JiraSim> {
    Router::new().route("/rest/api/3/workflowscheme/project", get(associations))
}

/// `ContainerOfWorkflowSchemeAssociations`: one scheme per known project; unknown ids are
/// ignored, as Jira does.
async fn associations(
    State(sim): State<JiraSim>,
    RawQuery(q): RawQuery,
) -> JiraResult<Json<Value>> {
    let ids = Params::parse(q.as_deref()).list("projectId");
    if ids.is_empty() || ids.len() > MAX_PROJECTS {
        return Err(JiraError::bad_request(
            "projectId must name between 1 and 100 projects.",
        ));
    }
    let mut values = Vec::new();
    for id in &ids {
        if id.parse::<u64>().is_err() {
            return Err(JiraError::bad_request(format!(
                "The value '{id}' is invalid for projectId."
            )));
        }
        let Some(idx) = sim.0.catalog.projects_by_id.get(id).copied() else {
            continue;
        };
        let key = sim.project_key(idx);
        let mappings: Map<String, Value> = sim
            .0
            .site
            .workflows
            .keys()
            .filter_map(|name| {
                let (project, ty) = name.split_once('/')?;
                (project == key).then(|| (ty.to_owned(), json!(name)))
            })
            .collect();
        let scheme_id = 10_000 + idx;
        values.push(json!({
            "projectIds": [id],
            "workflowScheme": {
                "id": scheme_id,
                "name": format!("{key}: Software Simplified Workflow Scheme"),
                "description": format!("Workflow scheme of project {key}."),
                "defaultWorkflow": "jira",
                "issueTypeMappings": mappings,
                "self": format!("{}/rest/api/3/workflowscheme/{scheme_id}", sim.0.base),
            },
        }));
    }
    Ok(Json(json!({ "values": values })))
}
