//! Reading work items: one by id, a list by `ids=`, and `POST workitemsbatch`.
//!
//! The rules are ADO's: at most 200 ids per call; `fields` narrows the returned fields and
//! cannot be combined with an `$expand` other than `none` or `links`; `$expand` adds
//! `relations` and/or `_links`; with `errorPolicy=omit` a missing id yields `null` in its place
//! instead of failing the call with TF401232.

use axum::response::Response;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::dataset::WorkItem;
use super::dispatch::{Ctx, json_response, list_response, parse_id};
use super::error::AdoError;

/// The most ids one `workitemsbatch` or `workitems?ids=` call may ask for.
pub const MAX_BATCH_IDS: usize = 200;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Expand {
    None,
    Relations,
    Fields,
    Links,
    All,
}

impl Expand {
    fn parse(raw: Option<&str>) -> Result<Option<Self>, AdoError> {
        let Some(raw) = raw else { return Ok(None) };
        Ok(Some(match raw.trim().to_ascii_lowercase().as_str() {
            "none" | "" => Self::None,
            "relations" => Self::Relations,
            "fields" => Self::Fields,
            "links" => Self::Links,
            "all" => Self::All,
            _ => {
                return Err(AdoError::argument(format!(
                    "The value '{raw}' is not valid for parameter $expand."
                )));
            }
        }))
    }
}

/// What to return for each item.
struct Shape {
    expand: Expand,
    fields: Option<Vec<String>>,
}

impl Shape {
    fn new(
        expand: Option<Expand>,
        fields: Option<Vec<String>>,
        single: bool,
    ) -> Result<Self, AdoError> {
        let fields = fields.filter(|f| !f.is_empty());
        if fields.is_some() && !matches!(expand, None | Some(Expand::None) | Some(Expand::Links)) {
            return Err(AdoError::bad_request(
                "ConflictingParametersException",
                "The expand parameter can not be used with the fields parameter.",
            ));
        }
        // A single GET without $expand carries `_links`, as ADO's does.
        let expand = expand.unwrap_or(if single { Expand::Links } else { Expand::None });
        Ok(Self { expand, fields })
    }

    fn render(&self, ctx: &Ctx, item: &WorkItem) -> Value {
        let mut out = Map::new();
        out.insert("id".into(), json!(item.id));
        if let Some(rev) = item.rev {
            out.insert("rev".into(), json!(rev));
        }
        let fields = match &self.fields {
            None => item.fields.clone(),
            Some(wanted) => wanted
                .iter()
                .filter_map(|w| {
                    let found = item.fields.iter().find(|(k, _)| k.eq_ignore_ascii_case(w));
                    match found {
                        Some((k, v)) => Some((k.clone(), v.clone())),
                        None if w.eq_ignore_ascii_case("System.Id") => {
                            Some(("System.Id".into(), json!(item.id)))
                        }
                        None if w.eq_ignore_ascii_case("System.Rev") => {
                            item.rev.map(|r| ("System.Rev".into(), json!(r)))
                        }
                        None => None,
                    }
                })
                .collect(),
        };
        out.insert("fields".into(), Value::Object(fields));
        // Like ADO, an item without relations has no `relations` key even when expanded.
        if let (Expand::Relations | Expand::All, Some(relations)) = (self.expand, &item.relations) {
            out.insert("relations".into(), json!(relations));
        }
        for (k, v) in &item.extra {
            if k != "_links" || matches!(self.expand, Expand::Links | Expand::All) {
                out.insert(k.clone(), v.clone());
            }
        }
        out.entry("url").or_insert_with(|| {
            json!(format!(
                "{}/_apis/wit/workItems/{}",
                ctx.sim.org_url, item.id
            ))
        });
        Value::Object(out)
    }
}

fn fetch<'a>(ctx: &'a Ctx, id: i64) -> Option<&'a WorkItem> {
    let (p, i) = *ctx.sim.items.get(&id)?;
    Some(&ctx.sim.data.projects[p].work_items[i])
}

fn many(ctx: &Ctx, ids: &[i64], shape: &Shape, omit: bool) -> Result<Response, AdoError> {
    if ids.is_empty() {
        return Err(AdoError::argument(
            "The ids parameter must contain at least one work item id.",
        ));
    }
    if ids.len() > MAX_BATCH_IDS {
        return Err(AdoError::argument(format!(
            "The maximum number of work items that can be requested is {MAX_BATCH_IDS}. {} were requested.",
            ids.len()
        )));
    }
    let values = ids
        .iter()
        .map(|id| match fetch(ctx, *id) {
            Some(item) => Ok(shape.render(ctx, item)),
            None if omit => Ok(Value::Null),
            None => Err(AdoError::work_item_not_found(*id)),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(list_response(values))
}

fn error_policy_omit(raw: Option<&str>) -> Result<bool, AdoError> {
    match raw.map(|s| s.to_ascii_lowercase()) {
        None => Ok(false),
        Some(s) if s == "fail" => Ok(false),
        Some(s) if s == "omit" => Ok(true),
        Some(s) => Err(AdoError::argument(format!(
            "The value '{s}' is not valid for parameter errorPolicy."
        ))),
    }
}

fn split_list(raw: Option<&str>) -> Option<Vec<String>> {
    raw.map(|s| {
        s.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect()
    })
}

/// `GET _apis/wit/workitems?ids=1,2,3[&fields=…][&$expand=…][&errorPolicy=…]`.
pub(crate) fn list(ctx: &Ctx, _api: &[String]) -> Result<Response, AdoError> {
    let ids = split_list(ctx.query.get("ids"))
        .ok_or_else(|| AdoError::argument("The ids parameter is required."))?
        .iter()
        .map(|s| parse_id(s))
        .collect::<Result<Vec<_>, _>>()?;
    let shape = Shape::new(
        Expand::parse(ctx.query.get("$expand"))?,
        split_list(ctx.query.get("fields")),
        false,
    )?;
    many(
        ctx,
        &ids,
        &shape,
        error_policy_omit(ctx.query.get("errorPolicy"))?,
    )
}

#[derive(Deserialize)]
struct BatchRequest {
    #[serde(default)]
    ids: Vec<i64>,
    #[serde(default)]
    fields: Option<Vec<String>>,
    #[serde(default, rename = "$expand")]
    expand: Option<String>,
    #[serde(default, rename = "errorPolicy")]
    error_policy: Option<String>,
}

/// `POST _apis/wit/workitemsbatch` with `{ids, fields, $expand, errorPolicy, asOf}`.
pub(crate) fn batch(ctx: &Ctx, _api: &[String]) -> Result<Response, AdoError> {
    let req: BatchRequest = serde_json::from_slice(&ctx.body).map_err(|e| {
        AdoError::argument(format!(
            "The request body is not a valid WorkItemBatchGetRequest: {e}"
        ))
    })?;
    let shape = Shape::new(Expand::parse(req.expand.as_deref())?, req.fields, false)?;
    many(
        ctx,
        &req.ids,
        &shape,
        error_policy_omit(req.error_policy.as_deref())?,
    )
}

/// `GET _apis/wit/workitems/{id}[?fields=…][&$expand=…]`.
pub(crate) fn get(ctx: &Ctx, api: &[String]) -> Result<Response, AdoError> {
    let id = parse_id(&api[2])?;
    let item = fetch(ctx, id).ok_or_else(|| AdoError::work_item_not_found(id))?;
    let shape = Shape::new(
        Expand::parse(ctx.query.get("$expand"))?,
        split_list(ctx.query.get("fields")),
        true,
    )?;
    Ok(json_response(&shape.render(ctx, item)))
}
