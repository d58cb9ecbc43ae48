//! Comments: `GET {project}/_apis/wit/workItems/{id}/comments`, paged like ADO.
//!
//! Newest first unless `order=asc`; at most 200 per page (`$top` above that is clamped, as the
//! service does); deleted comments only with `includeDeleted=true`. A page that is not the last
//! carries `continuationToken` and `nextPage` (the same URL with the token); the last page
//! carries neither. Tokens are opaque to clients: here, the id of the next comment to return.

use axum::response::Response;
use serde_json::{Value, json};

use super::dataset::parsed;
use super::dispatch::{Ctx, json_response, parse_id};
use super::error::AdoError;

/// The largest page ADO returns.
pub const MAX_PAGE: usize = 200;

/// A comment's id (`id`, or `commentId` in older payloads such as Microsoft's examples).
fn comment_id(c: &Value) -> i64 {
    c.get("id")
        .or_else(|| c.get("commentId"))
        .and_then(Value::as_i64)
        .unwrap_or(0)
}

/// The paged list.
pub(crate) fn list(ctx: &Ctx, api: &[String]) -> Result<Response, AdoError> {
    let id = parse_id(&api[2])?;
    let &(p, _) = ctx
        .sim
        .items
        .get(&id)
        .ok_or_else(|| AdoError::work_item_not_found(id))?;
    let top = ctx.query.int("$top")?.unwrap_or(MAX_PAGE as i64);
    if top < 1 {
        return Err(AdoError::argument(
            "The value of $top must be greater than 0.",
        ));
    }
    let top = (top as usize).min(MAX_PAGE);
    let include_deleted = ctx.query.flag("includeDeleted");
    let ascending = match ctx
        .query
        .get("order")
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("desc") => false,
        Some("asc") => true,
        Some(other) => {
            return Err(AdoError::argument(format!(
                "The value '{other}' is not valid for parameter order."
            )));
        }
    };
    let mut all: Vec<Value> = ctx.sim.data.projects[p]
        .comments
        .get(&id.to_string())
        .map(|c| c.iter().map(|raw| parsed(raw)).collect())
        .unwrap_or_default();
    all.retain(|c| {
        include_deleted || !c.get("isDeleted").and_then(Value::as_bool).unwrap_or(false)
    });
    all.sort_by_key(comment_id);
    if !ascending {
        all.reverse();
    }
    let start = match ctx.query.get("continuationToken") {
        None => 0,
        Some(token) => {
            let from: i64 = token.trim().parse().map_err(|_| {
                AdoError::argument(format!("The continuation token '{token}' is not valid."))
            })?;
            all.iter()
                .position(|c| {
                    if ascending {
                        comment_id(c) >= from
                    } else {
                        comment_id(c) <= from
                    }
                })
                .unwrap_or(all.len())
        }
    };
    let page: Vec<&Value> = all.iter().skip(start).take(top).collect();
    let mut body = json!({ "totalCount": all.len(), "count": page.len(), "comments": page });
    if let Some(next) = all.get(start + top) {
        let token = comment_id(next).to_string();
        let mut url = url::form_urlencoded::Serializer::new(String::new());
        url.append_pair("$top", &top.to_string());
        url.append_pair("continuationToken", &token);
        if include_deleted {
            url.append_pair("includeDeleted", "true");
        }
        if ascending {
            url.append_pair("order", "asc");
        }
        url.append_pair(
            "api-version",
            ctx.query.get("api-version").unwrap_or("7.2-preview.4"),
        );
        body["continuationToken"] = json!(token);
        body["nextPage"] = json!(format!("{}?{}", ctx.self_url, url.finish()));
    }
    Ok(json_response(&body))
}
