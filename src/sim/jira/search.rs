//! `search/jql` (GET and POST): bounded JQL, `nextPageToken` paging, eventually consistent
//! results with `reconcileIssues` for read-after-write.
//!
//! The old `/rest/api/{2,3}/search` is gone in Jira Cloud (410), so it is here too.
//! Results come from the lagging [`SearchIndex`](super::index::SearchIndex); ids listed in
//! `reconcileIssues` are judged on their current state instead, as Jira documents.
//! <https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-search/#api-rest-api-3-search-jql-get>

use std::collections::BTreeSet;

use axum::{
    Json, Router,
    body::Bytes,
    extract::{RawQuery, State},
    http::StatusCode,
    routing::get,
};
use base64::Engine;
use serde_json::{Value, json};

use super::{
    JiraSim,
    error::{JiraError, JiraResult, parse_body},
    index::Terms,
    jql::{self, Clause, SortField},
    params::Params,
    render::FieldSel,
};

const MAX_RECONCILE: usize = 50;
const MAX_PROPERTIES: usize = 5;

pub fn router() -> Router<JiraSim> {
    Router::new()
        .route("/rest/api/3/search/jql", get(search_get).post(search_post))
        .route("/rest/api/3/search", get(gone).post(gone))
        .route("/rest/api/2/search", get(gone).post(gone))
}

/// The request, from either the query string or a `SearchAndReconcileRequestBean`.
pub(super) struct Request {
    jql: String,
    token: Option<String>,
    max: Option<i64>,
    fields: Vec<String>,
    properties: Vec<String>,
    reconcile: Vec<u64>,
}

impl Request {
    /// A request for `jql` with every other parameter at its default.
    #[cfg(test)]
    pub fn jql(jql: &str) -> Self {
        Self {
            jql: jql.to_owned(),
            token: None,
            max: None,
            fields: vec![],
            properties: vec![],
            reconcile: vec![],
        }
    }
}

async fn gone() -> JiraError {
    JiraError::new(
        StatusCode::GONE,
        "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API.",
    )
}

async fn search_get(State(sim): State<JiraSim>, RawQuery(q): RawQuery) -> JiraResult<Json<Value>> {
    let p = Params::parse(q.as_deref());
    let reconcile = p
        .list("reconcileIssues")
        .iter()
        .map(|s| {
            s.parse::<u64>().map_err(|_| {
                JiraError::bad_request(format!("Invalid issue id '{s}' in reconcileIssues."))
            })
        })
        .collect::<Result<_, _>>()?;
    let max = match p.one("maxResults") {
        Some(m) => Some(
            m.parse()
                .map_err(|_| JiraError::bad_request("maxResults must be a number."))?,
        ),
        None => None,
    };
    sim.search(Request {
        jql: p.one("jql").unwrap_or("").to_owned(),
        token: p.one("nextPageToken").map(str::to_owned),
        max,
        fields: p.all("fields"),
        properties: p.list("properties"),
        reconcile,
    })
    .map(Json)
}

async fn search_post(State(sim): State<JiraSim>, body: Bytes) -> JiraResult<Json<Value>> {
    let b: Value = parse_body(&body)?;
    let strings = |v: &Value| {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s.as_str().map(str::to_owned))
            .collect::<Vec<_>>()
    };
    sim.search(Request {
        jql: b["jql"].as_str().unwrap_or("").to_owned(),
        token: b["nextPageToken"].as_str().map(str::to_owned),
        max: b["maxResults"].as_i64(),
        fields: strings(&b["fields"]),
        properties: strings(&b["properties"]),
        reconcile: b["reconcileIssues"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_u64)
            .collect(),
    })
    .map(Json)
}

fn matches(
    terms: &Terms,
    id: u64,
    c: &Clause,
    project_key: &dyn Fn(&str) -> Option<String>,
) -> bool {
    match c {
        Clause::Project(v) => v
            .iter()
            .any(|p| project_key(p).as_deref() == Some(terms.project.as_str())),
        Clause::Labels(v) => v.iter().any(|l| terms.labels.contains(l)),
        Clause::Key(v) => v.contains(&terms.key),
        Clause::Id(v) => v.iter().any(|x| *x == id.to_string()),
        Clause::Property { key, path, values } => terms
            .props
            .iter()
            .any(|(k, p, val)| k == key && p == path && values.contains(val)),
    }
}

impl JiraSim {
    pub(super) fn search(&self, req: Request) -> JiraResult<Value> {
        let query = jql::parse(&req.jql)?;
        if query.clauses.is_empty() {
            return Err(JiraError::bad_request(
                "Unbounded JQL queries are not allowed here. Please add a search restriction to your query.",
            ));
        }
        if req.properties.len() > MAX_PROPERTIES {
            return Err(JiraError::bad_request(format!(
                "At most {MAX_PROPERTIES} issue properties can be requested."
            )));
        }
        if req.reconcile.len() > MAX_RECONCILE {
            return Err(JiraError::bad_request(format!(
                "At most {MAX_RECONCILE} issues can be reconciled."
            )));
        }
        let project_key = |p: &str| self.project_idx(p).map(|i| self.project_key(i));
        for c in &query.clauses {
            if let Clause::Project(v) = c
                && let Some(bad) = v.iter().find(|p| project_key(p).is_none())
            {
                return Err(JiraError::bad_request(format!(
                    "The value '{bad}' does not exist for the field 'project'."
                )));
            }
        }
        let sel = FieldSel::parse(&req.fields, "id");
        let cap = if sel.ids_only() { 5000 } else { 100 };
        let max = usize::try_from(req.max.unwrap_or(50).clamp(1, cap)).unwrap_or(50);
        let offset = match &req.token {
            None => 0,
            Some(t) => decode_token(t)
                .ok_or_else(|| JiraError::bad_request("The nextPageToken is invalid."))?,
        };

        let data = self.0.data.read();
        let mut hits: BTreeSet<u64> = {
            let mut index = self.0.index.lock();
            let key_of = |i: usize| self.project_key(i);
            index.catch_up(&data, &key_of);
            // Each clause is a union of postings, borrowed rather than copied: the smallest
            // clause is materialised and the others are only probed, so `project = X AND
            // labels = y` costs O(|y|) even when X holds 100k issues.
            let mut owned: Vec<BTreeSet<u64>> = Vec::new();
            let mut clauses: Vec<Vec<&BTreeSet<u64>>> = Vec::new();
            for c in &query.clauses {
                let parts: Vec<&BTreeSet<u64>> = match c {
                    Clause::Project(v) => v
                        .iter()
                        .filter_map(|p| index.by_project.get(&project_key(p)?))
                        .collect(),
                    Clause::Labels(v) => v.iter().filter_map(|l| index.by_label.get(l)).collect(),
                    Clause::Property { key, path, values } => values
                        .iter()
                        .filter_map(|val| {
                            index.by_prop.get(&(key.clone(), path.clone(), val.clone()))
                        })
                        .collect(),
                    Clause::Key(_) | Clause::Id(_) => {
                        owned.push(match c {
                            Clause::Key(v) => v
                                .iter()
                                .filter_map(|k| index.by_key.get(k))
                                .copied()
                                .collect(),
                            Clause::Id(v) => v
                                .iter()
                                .filter_map(|s| s.parse::<u64>().ok())
                                .filter(|id| index.by_key.values().any(|x| x == id))
                                .collect(),
                            _ => BTreeSet::new(),
                        });
                        vec![]
                    }
                };
                clauses.push(parts);
            }
            let mut owned = owned.iter();
            for (c, parts) in query.clauses.iter().zip(clauses.iter_mut()) {
                if matches!(c, Clause::Key(_) | Clause::Id(_))
                    && let Some(set) = owned.next()
                {
                    parts.push(set);
                }
            }
            clauses.sort_by_key(|parts| parts.iter().map(|s| s.len()).sum::<usize>());
            let mut acc: BTreeSet<u64> = clauses
                .first()
                .map(|parts| parts.iter().flat_map(|s| s.iter().copied()).collect())
                .unwrap_or_default();
            for parts in clauses.iter().skip(1) {
                acc.retain(|id| parts.iter().any(|s| s.contains(id)));
            }
            acc
        };
        for id in &req.reconcile {
            hits.remove(id);
            if let Some(issue) = data.issues.get(id) {
                let terms = Terms::of(issue, &self.project_key(issue.project));
                if query
                    .clauses
                    .iter()
                    .all(|c| matches(&terms, *id, c, &project_key))
                {
                    hits.insert(*id);
                }
            }
        }
        // Sort keys are computed once per hit: comparing project keys inside the comparator
        // would allocate on every comparison, which dominates at 100k issues.
        let project_keys: Vec<String> = (0..self.0.site.projects.len())
            .map(|i| self.project_key(i))
            .collect();
        let mut ordered: Vec<(&str, &super::store::Issue)> = hits
            .iter()
            .filter_map(|id| data.issues.get(id))
            .map(|i| (project_keys.get(i.project).map_or("", String::as_str), i))
            .collect();
        let order = if query.order.is_empty() {
            vec![(SortField::Key, false)]
        } else {
            query.order.clone()
        };
        ordered.sort_unstable_by(|(pa, a), (pb, b)| {
            order
                .iter()
                .map(|(f, desc)| {
                    let o = match f {
                        SortField::Key => (pa, a.number).cmp(&(pb, b.number)),
                        SortField::Created => (a.created, a.id).cmp(&(b.created, b.id)),
                    };
                    if *desc { o.reverse() } else { o }
                })
                .find(|o| o.is_ne())
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        let page: Vec<Value> = ordered
            .iter()
            .skip(offset)
            .take(max)
            .map(|(_, i)| self.render_issue(&data, i, &sel, &req.properties))
            .collect();
        let is_last = offset + page.len() >= ordered.len();
        let mut out = json!({ "issues": page, "isLast": is_last });
        if !is_last {
            out["nextPageToken"] = json!(encode_token(offset + max));
        }
        Ok(out)
    }
}

fn encode_token(offset: usize) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("offset:{offset}"))
}

fn decode_token(t: &str) -> Option<usize> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(t)
        .ok()?;
    String::from_utf8(raw)
        .ok()?
        .strip_prefix("offset:")?
        .parse()
        .ok()
}
