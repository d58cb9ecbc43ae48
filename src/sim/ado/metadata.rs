//! Process metadata: work item types (with states), fields, and the area and iteration trees.
//!
//! These are what a migrator reads before it maps anything. Classification nodes follow ADO's
//! `$depth` rule: the node itself, plus that many levels of children (0 by default), with
//! `hasChildren` telling the client whether there is more below.

use axum::response::Response;
use serde_json::Value;

use super::dispatch::{Ctx, json_response, list_response};
use super::error::AdoError;

/// `GET {project}/_apis/wit/workitemtypes`.
pub(crate) fn work_item_types(ctx: &Ctx, _api: &[String]) -> Result<Response, AdoError> {
    let p = ctx.require_project()?;
    Ok(list_response(
        ctx.sim.data.projects[p].work_item_types.clone(),
    ))
}

/// `GET {project}/_apis/wit/workitemtypes/{type}`.
pub(crate) fn work_item_type(ctx: &Ctx, api: &[String]) -> Result<Response, AdoError> {
    Ok(json_response(find_type(ctx, &api[2])?))
}

/// `GET {project}/_apis/wit/workitemtypes/{type}/states`.
pub(crate) fn work_item_type_states(ctx: &Ctx, api: &[String]) -> Result<Response, AdoError> {
    let t = find_type(ctx, &api[2])?;
    let states = t
        .get("states")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    Ok(list_response(states))
}

fn find_type<'a>(ctx: &'a Ctx, name: &str) -> Result<&'a Value, AdoError> {
    let p = ctx.require_project()?;
    ctx.sim.data.projects[p]
        .work_item_types
        .iter()
        .find(|t| named(t, name))
        .ok_or_else(|| {
            AdoError::not_found(
                "WorkItemTypeNotFoundException",
                format!("TF401326: Work item type {name} does not exist or you do not have permissions to read it."),
            )
        })
}

/// `GET [{project}/]_apis/wit/fields`: the project's fields, or all projects' at org level.
pub(crate) fn fields(ctx: &Ctx, _api: &[String]) -> Result<Response, AdoError> {
    Ok(list_response(
        all_fields(ctx).into_iter().cloned().collect(),
    ))
}

/// `GET [{project}/]_apis/wit/fields/{nameOrRefName}`.
pub(crate) fn field(ctx: &Ctx, api: &[String]) -> Result<Response, AdoError> {
    let name = &api[2];
    let f = all_fields(ctx)
        .into_iter()
        .find(|f| named(f, name))
        .ok_or_else(|| {
            AdoError::not_found(
                "WorkItemTrackingFieldDefinitionNotFoundException",
                format!("TF51535: Cannot find field {name}."),
            )
        })?;
    Ok(json_response(f))
}

fn all_fields<'a>(ctx: &'a Ctx) -> Vec<&'a Value> {
    let projects = &ctx.sim.data.projects;
    let chosen: Vec<_> = match ctx.project {
        Some(p) => vec![&projects[p]],
        None => projects.iter().collect(),
    };
    let mut seen = std::collections::HashSet::new();
    chosen
        .into_iter()
        .flat_map(|p| p.fields.iter())
        .filter(|f| {
            seen.insert(
                f.get("referenceName")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_lowercase(),
            )
        })
        .collect()
}

fn named(v: &Value, name: &str) -> bool {
    ["name", "referenceName"].iter().any(|k| {
        v.get(*k)
            .and_then(Value::as_str)
            .is_some_and(|s| s.eq_ignore_ascii_case(name))
    })
}

/// `GET {project}/_apis/wit/classificationnodes[/{Areas|Iterations}[/{path}]]?$depth=N`.
pub(crate) fn classification_nodes(ctx: &Ctx, api: &[String]) -> Result<Response, AdoError> {
    let p = &ctx.sim.data.projects[ctx.require_project()?];
    let depth = ctx.query.int("$depth")?.unwrap_or(0).max(0);
    let root = |group: &str| match group.to_ascii_lowercase().as_str() {
        "areas" | "area" => Ok(p.areas.as_ref()),
        "iterations" | "iteration" => Ok(p.iterations.as_ref()),
        other => Err(AdoError::argument(format!(
            "The structure group '{other}' is not valid."
        ))),
    };
    let Some(group) = api.get(2) else {
        let roots = [p.areas.as_ref(), p.iterations.as_ref()];
        return Ok(list_response(
            roots
                .into_iter()
                .flatten()
                .map(|n| truncate(n, depth))
                .collect(),
        ));
    };
    let missing = || {
        AdoError::not_found(
            "WorkItemTrackingTreeNodeNotFoundException",
            format!(
                "VS402485: The node at path '{}' does not exist.",
                api[2..].join("\\")
            ),
        )
    };
    let mut node = root(group)?.ok_or_else(missing)?;
    for step in api[3..]
        .iter()
        .flat_map(|s| s.split(['\\', '/']))
        .filter(|s| !s.is_empty())
    {
        node = node
            .get("children")
            .and_then(Value::as_array)
            .and_then(|c| {
                c.iter().find(|n| {
                    n.get("name")
                        .and_then(Value::as_str)
                        .is_some_and(|x| x.eq_ignore_ascii_case(step))
                })
            })
            .ok_or_else(missing)?;
    }
    Ok(json_response(&truncate(node, depth)))
}

/// The node with `depth` levels of children kept.
fn truncate(node: &Value, depth: i64) -> Value {
    let mut out = node.clone();
    if let Some(o) = out.as_object_mut() {
        // A node given without `children` keeps the `hasChildren` it was written with.
        if let Some(Value::Array(kids)) = o.remove("children") {
            o.insert("hasChildren".into(), Value::Bool(!kids.is_empty()));
            if depth > 0 && !kids.is_empty() {
                let kept = kids.iter().map(|c| truncate(c, depth - 1)).collect();
                o.insert("children".into(), Value::Array(kept));
            }
        }
    }
    out
}
