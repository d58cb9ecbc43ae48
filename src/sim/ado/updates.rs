//! Change history: `GET _apis/wit/workItems/{id}/updates`, paged by `$top` and `$skip`.
//!
//! Updates are served as the dataset holds them, in revision order. ADO caps the page at 200.

use axum::response::Response;
use serde_json::Value;

use super::dataset::parsed;
use super::dispatch::{Ctx, list_response, parse_id};
use super::error::AdoError;

/// The largest page of updates.
const MAX_PAGE: i64 = 200;

/// The paged list of one item's updates.
pub(crate) fn list(ctx: &Ctx, api: &[String]) -> Result<Response, AdoError> {
    let id = parse_id(&api[2])?;
    let &(p, _) = ctx
        .sim
        .items
        .get(&id)
        .ok_or_else(|| AdoError::work_item_not_found(id))?;
    let top = ctx
        .query
        .int("$top")?
        .unwrap_or(MAX_PAGE)
        .clamp(0, MAX_PAGE) as usize;
    let skip = ctx.query.int("$skip")?.unwrap_or(0).max(0) as usize;
    let mut all: Vec<Value> = ctx.sim.data.projects[p]
        .updates
        .get(&id.to_string())
        .map(|u| u.iter().map(|raw| parsed(raw)).collect())
        .unwrap_or_default();
    all.sort_by_key(|u| {
        u.get("rev")
            .or_else(|| u.get("id"))
            .and_then(Value::as_i64)
            .unwrap_or(0)
    });
    Ok(list_response(
        all.into_iter().skip(skip).take(top).collect(),
    ))
}
