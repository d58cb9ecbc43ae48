//! WIQL: `POST {project}[/{team}]/_apis/wit/wiql` with `{"query": "…"}` and `$top`.
//!
//! Only flat queries over work items are supported (what a migrator pages with). Limits are
//! ADO's: a query longer than 32,768 characters is refused, and a query matching more than
//! 20,000 items fails with `VS402337` instead of being truncated; `$top` narrows the result
//! before that check, so `$top=20000` over a larger match succeeds, as on the service.

mod eval;
mod parse;

use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use super::dispatch::{Ctx, json_response};
use super::error::AdoError;
use parse::{Expr, parse};

/// The most work items one WIQL query may return (ADO's object limits page).
pub const MAX_RESULTS: usize = 20_000;
/// The longest query text accepted.
pub const MAX_QUERY_LENGTH: usize = 32_768;

#[derive(Deserialize)]
struct Wiql {
    query: Option<String>,
}

fn syntax(message: String) -> AdoError {
    AdoError::bad_request(
        "SyntaxException",
        format!("TF51006: The query statement is not valid: {message}"),
    )
}

/// Runs a query.
pub(crate) fn post(ctx: &Ctx, _api: &[String]) -> Result<Response, AdoError> {
    let body: Wiql = serde_json::from_slice(&ctx.body).map_err(|e| {
        AdoError::argument(format!("The request body is not a valid Wiql object: {e}"))
    })?;
    let text = body
        .query
        .filter(|q| !q.trim().is_empty())
        .ok_or_else(|| AdoError::argument("The query text is empty."))?;
    if text.chars().count() > MAX_QUERY_LENGTH {
        return Err(AdoError::bad_request(
            "WorkItemTrackingQueryTooLongException",
            format!(
                "The query is too long: the maximum length of the query text is {MAX_QUERY_LENGTH} characters."
            ),
        ));
    }
    let query = parse(&text).map_err(syntax)?;
    let names = FieldNames::new(ctx);
    let columns = query
        .columns
        .iter()
        .map(|c| names.resolve(c))
        .collect::<Result<Vec<_>, _>>()?;
    let order = query
        .order
        .iter()
        .map(|(f, d)| Ok((names.resolve(f)?, *d)))
        .collect::<Result<Vec<_>, AdoError>>()?;
    let filter = query.filter.map(|f| names.resolve_expr(f)).transpose()?;
    let env = eval::Env {
        project: ctx.project_name(),
        today: crate::sim::r#gen::calendar::today(),
    };
    let mut hits = Vec::new();
    for project in &ctx.sim.data.projects {
        for item in &project.work_items {
            let keep = match &filter {
                None => true,
                Some(f) => eval::matches(f, item, &env).map_err(syntax)?,
            };
            if keep {
                hits.push(item);
            }
        }
    }
    hits.sort_by(|a, b| {
        for (field, desc) in &order {
            let o = eval::compare(&eval::field_value(a, field), &eval::field_value(b, field))
                .unwrap_or(std::cmp::Ordering::Equal);
            let o = if *desc { o.reverse() } else { o };
            if o.is_ne() {
                return o;
            }
        }
        a.id.cmp(&b.id)
    });
    if let Some(top) = ctx.query.int("$top")? {
        hits.truncate(top.max(0) as usize);
    }
    if hits.len() > MAX_RESULTS {
        return Err(AdoError::bad_request(
            "WorkItemTrackingQueryResultSizeLimitExceededException",
            format!(
                "VS402337: The number of work items returned exceeds the size limit of {MAX_RESULTS}. Change the query to return fewer work items."
            ),
        ));
    }
    let org = &ctx.sim.org_url;
    let field_ref = |f: &str| json!({ "referenceName": f, "name": names.display(f), "url": format!("{org}/_apis/wit/fields/{f}") });
    let body = json!({
        "queryType": "flat",
        "queryResultType": "workItem",
        "asOf": crate::sim::r#gen::calendar::now_timestamp(),
        "columns": columns.iter().map(|c| field_ref(c)).collect::<Vec<_>>(),
        "sortColumns": order.iter().map(|(f, d)| json!({ "field": field_ref(f), "descending": d })).collect::<Vec<_>>(),
        "workItems": hits.iter().map(|i| json!({ "id": i.id, "url": format!("{org}/_apis/wit/workItems/{}", i.id) })).collect::<Vec<_>>(),
    });
    Ok(json_response(&body))
}

/// Maps field names as written (`[State]`, `[System.State]`) to reference names.
struct FieldNames<'a> {
    fields: Vec<&'a Value>,
}

impl<'a> FieldNames<'a> {
    fn new(ctx: &'a Ctx) -> Self {
        Self {
            fields: ctx
                .sim
                .data
                .projects
                .iter()
                .flat_map(|p| p.fields.iter())
                .collect(),
        }
    }

    fn resolve(&self, name: &str) -> Result<String, AdoError> {
        let get = |f: &Value, k: &str| f.get(k).and_then(Value::as_str).map(str::to_string);
        for f in &self.fields {
            if [get(f, "referenceName"), get(f, "name")]
                .iter()
                .flatten()
                .any(|n| n.eq_ignore_ascii_case(name))
            {
                return Ok(get(f, "referenceName").unwrap_or_else(|| name.to_string()));
            }
        }
        if name.contains('.') {
            return Ok(name.to_string());
        }
        match name.to_ascii_lowercase().as_str() {
            "id" => Ok("System.Id".into()),
            "state" => Ok("System.State".into()),
            "title" => Ok("System.Title".into()),
            "work item type" => Ok("System.WorkItemType".into()),
            "team project" => Ok("System.TeamProject".into()),
            "area path" => Ok("System.AreaPath".into()),
            "changed date" => Ok("System.ChangedDate".into()),
            _ => Err(AdoError::bad_request(
                "WorkItemTrackingQueryException",
                format!(
                    "TF51005: The query references a field that does not exist. The error is caused by «{name}»."
                ),
            )),
        }
    }

    fn display(&self, reference: &str) -> String {
        self.fields
            .iter()
            .find(|f| {
                f.get("referenceName")
                    .and_then(Value::as_str)
                    .is_some_and(|r| r.eq_ignore_ascii_case(reference))
            })
            .and_then(|f| f.get("name").and_then(Value::as_str))
            .unwrap_or(reference)
            .to_string()
    }

    fn resolve_expr(&self, e: Expr) -> Result<Expr, AdoError> {
        let b = |e: Box<Expr>| self.resolve_expr(*e).map(Box::new);
        Ok(match e {
            Expr::And(x, y) => Expr::And(b(x)?, b(y)?),
            Expr::Or(x, y) => Expr::Or(b(x)?, b(y)?),
            Expr::Not(x) => Expr::Not(b(x)?),
            Expr::Compare(f, op, v) => Expr::Compare(self.resolve(&f)?, op, v),
            Expr::In(f, v) => Expr::In(self.resolve(&f)?, v),
            Expr::Under(f, v) => Expr::Under(self.resolve(&f)?, v),
            Expr::Contains(f, v) => Expr::Contains(self.resolve(&f)?, v),
        })
    }
}
