//! Team projects: `GET {org}/_apis/projects` and `GET {org}/_apis/projects/{idOrName}`.
//!
//! The list returns `TeamProjectReference`s (no capabilities, no default team), the single get
//! the whole `TeamProject` as the dataset holds it, like ADO. Projects are found by id or by
//! name, case-insensitively, also when they appear as the `{project}` segment of other URLs.

use axum::response::Response;
use serde_json::Value;

use super::Inner;
use super::dispatch::{Ctx, json_response, list_response};
use super::error::AdoError;

/// The index of the project whose id or name is `key`.
pub(crate) fn find(sim: &Inner, key: &str) -> Option<usize> {
    sim.data.projects.iter().position(|p| {
        ["id", "name"].iter().any(|k| {
            p.project
                .get(*k)
                .and_then(Value::as_str)
                .is_some_and(|v| v.eq_ignore_ascii_case(key))
        })
    })
}

/// TF200016, ADO's answer for an unknown project.
pub(crate) fn does_not_exist(name: &str) -> AdoError {
    AdoError::not_found(
        "ProjectDoesNotExistWithNameException",
        format!(
            "TF200016: The following project does not exist: {name}. Verify that the name of the project is correct and that the project exists on the specified Azure DevOps Server."
        ),
    )
}

/// `GET _apis/projects` with `$top`, `$skip` and the integer `continuationToken`.
pub(crate) fn list(ctx: &Ctx, _api: &[String]) -> Result<Response, AdoError> {
    let skip = ctx
        .query
        .int("$skip")?
        .or(ctx.query.int("continuationToken")?)
        .unwrap_or(0)
        .max(0);
    let top = ctx.query.int("$top")?.unwrap_or(100).max(0);
    let values = ctx
        .sim
        .data
        .projects
        .iter()
        .skip(skip as usize)
        .take(top as usize)
        .map(|p| reference(&p.project))
        .collect();
    Ok(list_response(values))
}

/// `GET _apis/projects/{projectId}`.
pub(crate) fn get(ctx: &Ctx, api: &[String]) -> Result<Response, AdoError> {
    let key = &api[1];
    let p = find(ctx.sim, key).ok_or_else(|| does_not_exist(key))?;
    Ok(json_response(&ctx.sim.data.projects[p].project))
}

fn reference(project: &Value) -> Value {
    let mut r = project.clone();
    if let Some(o) = r.as_object_mut() {
        for k in ["capabilities", "defaultTeam", "_links"] {
            o.remove(k);
        }
    }
    r
}
