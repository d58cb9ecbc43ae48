//! Request routing: `{org…}/[{project}/[{team}/]]_apis/{area}/{resource}…`.
//!
//! ADO's URLs start with a prefix of variable length (`/contoso` on Services,
//! `/tfs/DefaultCollection` on Server), then optional project and team segments, then
//! `_apis`. Resource names are case-insensitive (`workItems` and `workitems` are the same), so
//! the simulator splits the path itself instead of registering axum routes. Order of checks,
//! as ADO: authentication, then the route, then `api-version`, then the call's own rules.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use percent_encoding::percent_decode_str;
use serde_json::Value;

use super::error::AdoError;
use super::{
    AdoSim, Inner, attachments, auth, comments, identities, metadata, projects, updates, version,
    wiql, workitems,
};

/// What a handler gets: the organization, the project in the path (if any) and the request.
pub(crate) struct Ctx<'a> {
    pub(crate) sim: &'a Inner,
    /// Index of the project named in the path.
    pub(crate) project: Option<usize>,
    pub(crate) query: Query,
    pub(crate) body: Bytes,
    /// The request URL as the client sees it, without the query (for `nextPage` links).
    pub(crate) self_url: String,
}

impl Ctx<'_> {
    /// The project named in the path, or ADO's 404 for a call that needs one.
    pub(crate) fn require_project(&self) -> Result<usize, AdoError> {
        self.project.ok_or_else(|| {
            AdoError::not_found(
                "ProjectDoesNotExistException",
                "This call requires a project in the URL.",
            )
        })
    }

    /// The name of the project in the path (the `@project` WIQL macro).
    pub(crate) fn project_name(&self) -> Option<&str> {
        let p = self.project?;
        self.sim.data.projects[p]
            .project
            .get("name")
            .and_then(Value::as_str)
    }
}

/// Query parameters, looked up case-insensitively as ADO does.
pub(crate) struct Query(Vec<(String, String)>);

impl Query {
    fn parse(raw: Option<&str>) -> Self {
        let pairs = raw.map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        });
        Query(pairs.unwrap_or_default())
    }

    /// The first value of `key`, any case.
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }

    /// An integer parameter; a value that does not parse is ADO's 400.
    pub(crate) fn int(&self, key: &str) -> Result<Option<i64>, AdoError> {
        self.get(key)
            .map(|v| {
                v.trim().parse::<i64>().map_err(|_| {
                    AdoError::argument(format!("The value '{v}' is not valid for parameter {key}."))
                })
            })
            .transpose()
    }

    /// A boolean parameter (`true`/`false`, any case).
    pub(crate) fn flag(&self, key: &str) -> bool {
        self.get(key)
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }
}

/// The one handler behind [`super::router`].
pub(crate) async fn handle(
    State(sim): State<AdoSim>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let inner = &*sim.0;
    if !auth::authorized(&headers, &inner.pat) {
        return auth::unauthorized();
    }
    match route(inner, &method, &uri, &headers, body) {
        Ok(resp) => resp,
        Err(e) => e.into_response(),
    }
}

fn route(
    sim: &Inner,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<Response, AdoError> {
    let segments: Vec<String> = uri
        .path()
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| percent_decode_str(s).decode_utf8_lossy().into_owned())
        .collect();
    let not_found = || {
        AdoError::not_found(
            "VssResourceNotFoundException",
            "The requested resource does not exist.",
        )
    };
    let apis = segments
        .iter()
        .position(|s| s.eq_ignore_ascii_case("_apis"))
        .ok_or_else(not_found)?;
    let (before, after) = (&segments[..apis], &segments[apis + 1..]);
    let prefix_ok = before.len() >= sim.prefix.len()
        && before
            .iter()
            .zip(&sim.prefix)
            .all(|(a, b)| a.eq_ignore_ascii_case(b));
    if !prefix_ok || before.len() > sim.prefix.len() + 2 {
        return Err(not_found());
    }
    let project = match before.get(sim.prefix.len()) {
        Some(name) => {
            Some(projects::find(sim, name).ok_or_else(|| projects::does_not_exist(name))?)
        }
        None => None,
    };
    let api: Vec<String> = after.iter().map(|s| s.to_lowercase()).collect();
    let api: Vec<&str> = api.iter().map(String::as_str).collect();
    let raw_api = after;
    let query = Query::parse(uri.query());
    let self_url = format!("{}/{}", sim.org_url, segments[sim.prefix.len()..].join("/"));
    let ctx = Ctx {
        sim,
        project,
        query,
        body,
        self_url,
    };
    type H = fn(&Ctx, &[String]) -> Result<Response, AdoError>;
    let handler: H = match (method.clone(), api.as_slice()) {
        (Method::GET, ["projects"]) => projects::list,
        (Method::GET, ["projects", _]) => projects::get,
        (Method::GET, ["wit", "workitemtypes"]) => metadata::work_item_types,
        (Method::GET, ["wit", "workitemtypes", _]) => metadata::work_item_type,
        (Method::GET, ["wit", "workitemtypes", _, "states"]) => metadata::work_item_type_states,
        (Method::GET, ["wit", "fields"]) => metadata::fields,
        (Method::GET, ["wit", "fields", _]) => metadata::field,
        (Method::GET, ["wit", "classificationnodes", ..]) => metadata::classification_nodes,
        (Method::POST, ["wit", "wiql"]) => wiql::post,
        (Method::POST, ["wit", "workitemsbatch"]) => workitems::batch,
        (Method::GET, ["wit", "workitems"]) => workitems::list,
        (Method::GET, ["wit", "workitems", _]) => workitems::get,
        (Method::GET, ["wit", "workitems", _, "comments"]) => comments::list,
        (Method::GET, ["wit", "workitems", _, "updates"]) => updates::list,
        (Method::GET, ["wit", "attachments", _]) => attachments::get,
        (Method::GET, ["identities"]) => identities::search,
        _ => return Err(not_found()),
    };
    version::check(method, ctx.query.get("api-version"), headers)?;
    handler(&ctx, raw_api)
}

/// ADO's list wrapper: `{"count": n, "value": [...]}`.
pub(crate) fn list_response(values: Vec<Value>) -> Response {
    json_response(&serde_json::json!({ "count": values.len(), "value": values }))
}

/// A JSON body with ADO's content type.
pub(crate) fn json_response(value: &Value) -> Response {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "application/json; charset=utf-8",
        )],
        value.to_string(),
    )
        .into_response()
}

/// Parses a work item id from a path segment.
pub(crate) fn parse_id(raw: &str) -> Result<i64, AdoError> {
    raw.parse::<i64>()
        .map_err(|_| AdoError::argument(format!("The value '{raw}' is not a valid work item id.")))
}
