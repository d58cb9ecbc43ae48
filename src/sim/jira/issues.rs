//! Issues: create (single and bulk), get and edit.
//!
//! Bulk create follows `createIssues`: at most 50 elements; each element is validated on its
//! own; 201 with `errors[]` (`failedElementNumber`) when some fail, 400 when all fail. Elements
//! may carry `update`, `properties` and a `transition`, applied atomically with the create.
//! <https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-issue-bulk-post>

use std::collections::BTreeMap;

use axum::{
    Extension, Json, Router,
    body::Bytes,
    extract::{Path, RawQuery, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::get,
};
use serde_json::{Map, Value, json};

use super::{
    JiraSim,
    auth::Caller,
    clock,
    error::{JiraError, JiraResult, parse_body},
    fields::{Mode, merge_update},
    params::Params,
    render::FieldSel,
    site::text,
    store::{Data, Issue},
};

/// Largest issue property value, in characters (spec: `setIssueProperty`).
pub(super) const MAX_PROPERTY_CHARS: usize = 32_768;
/// Largest bulk create (spec: `createIssues`).
const MAX_BULK_CREATE: usize = 50;

pub fn router() -> Router<JiraSim> {
    Router::new()
        .route("/rest/api/3/issue", axum::routing::post(create))
        .route("/rest/api/3/issue/bulk", axum::routing::post(create_bulk))
        .route("/rest/api/3/issue/{issue}", get(fetch).put(edit))
        .merge(super::properties::router())
}

async fn create(
    State(sim): State<JiraSim>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> JiraResult<Response> {
    let element: Value = parse_body(&body)?;
    let mut data = sim.0.data.write();
    let id = sim.create_one(&mut data, &caller, &element)?;
    Ok((StatusCode::CREATED, Json(sim.created_json(&data, id))).into_response())
}

async fn create_bulk(
    State(sim): State<JiraSim>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> JiraResult<Response> {
    let body: Value = parse_body(&body)?;
    let elements = body["issueUpdates"].as_array().cloned().unwrap_or_default();
    if elements.len() > MAX_BULK_CREATE {
        return Err(JiraError::bad_request(format!(
            "You can create up to {MAX_BULK_CREATE} issues in a single request."
        )));
    }
    let mut data = sim.0.data.write();
    let (mut issues, mut errors) = (Vec::new(), Vec::new());
    for (n, element) in elements.iter().enumerate() {
        match sim.create_one(&mut data, &caller, element) {
            Ok(id) => issues.push(sim.created_json(&data, id)),
            Err(e) => errors.push(json!({ "status": e.status.as_u16(), "elementErrors": e.body(), "failedElementNumber": n })),
        }
    }
    let status = if issues.is_empty() && !errors.is_empty() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(json!({ "issues": issues, "errors": errors }))).into_response())
}

async fn fetch(
    State(sim): State<JiraSim>,
    Path(issue): Path<String>,
    RawQuery(q): RawQuery,
) -> JiraResult<Json<Value>> {
    let params = Params::parse(q.as_deref());
    let data = sim.0.data.read();
    let id = data.resolve(&issue).ok_or_else(JiraError::no_issue)?;
    let sel = FieldSel::parse(&params.all("fields"), "*all");
    Ok(Json(sim.render_issue(
        &data,
        &data.issues[&id],
        &sel,
        &params.list("properties"),
    )))
}

async fn edit(
    State(sim): State<JiraSim>,
    Path(issue): Path<String>,
    body: Bytes,
) -> JiraResult<StatusCode> {
    let body: Value = parse_body(&body)?;
    let mut data = sim.0.data.write();
    let id = data.resolve(&issue).ok_or_else(JiraError::no_issue)?;
    let (project, type_id, current) = {
        let i = &data.issues[&id];
        (i.project, i.type_id.clone(), i.fields.clone())
    };
    let mut errors = BTreeMap::new();
    let fields = body["fields"].as_object().cloned().unwrap_or_default();
    let merged = merge_update(&fields, body.get("update"), Some(&current), &mut errors);
    let checked = sim.check_fields(&data, project, &type_id, &merged, Mode::Edit, &mut errors);
    let props = check_properties(body.get("properties"), &mut errors);
    if !errors.is_empty() {
        return Err(JiraError {
            status: StatusCode::BAD_REQUEST,
            messages: vec![],
            errors,
        });
    }
    if let Some(new_parent) = checked.parent {
        let old_parent = data.issues.get(&id).and_then(|i| i.parent);
        if let Some(old) = old_parent.and_then(|p| data.issues.get_mut(&p)) {
            old.children.retain(|c| *c != id);
        }
        if let Some(new) = new_parent.and_then(|p| data.issues.get_mut(&p)) {
            new.children.push(id);
        }
    }
    let issue = data.issues.get_mut(&id).ok_or_else(JiraError::no_issue)?;
    issue.fields.extend(checked.fields);
    if let Some(p) = checked.parent {
        issue.parent = p;
    }
    if let Some(s) = checked.sprint {
        issue.sprint = s;
    }
    issue.properties.extend(props);
    issue.updated = clock::now_ms();
    sim.touch(&data, id);
    Ok(StatusCode::NO_CONTENT)
}

/// `properties: [{key, value}]` on create/edit.
pub(super) fn check_properties(
    v: Option<&Value>,
    errors: &mut BTreeMap<String, String>,
) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for p in v.and_then(Value::as_array).into_iter().flatten() {
        match (p["key"].as_str(), p.get("value")) {
            (Some(k), Some(v))
                if !k.is_empty() && k.len() <= 255 && v.to_string().len() <= MAX_PROPERTY_CHARS =>
            {
                out.push((k.to_owned(), v.clone()))
            }
            _ => {
                errors.insert("properties".into(), "Each property needs a key (at most 255 characters) and a value (at most 32768 characters).".into());
            }
        }
    }
    out
}

impl JiraSim {
    fn created_json(&self, data: &Data, id: u64) -> Value {
        json!({ "id": id.to_string(), "key": data.issues[&id].key, "self": self.issue_self(id) })
    }

    /// Validates and creates one `IssueUpdateDetails`; nothing is written when it fails.
    pub(super) fn create_one(
        &self,
        data: &mut Data,
        caller: &Caller,
        element: &Value,
    ) -> JiraResult<u64> {
        let bad = |errors: BTreeMap<String, String>| JiraError {
            status: StatusCode::BAD_REQUEST,
            messages: vec![],
            errors,
        };
        let mut errors = BTreeMap::new();
        let fields: Map<String, Value> = element["fields"].as_object().cloned().unwrap_or_default();
        let project_ref = &fields.get("project").cloned().unwrap_or(Value::Null);
        let Some(project) = text(project_ref, "id")
            .or_else(|| text(project_ref, "key"))
            .and_then(|p| self.project_idx(&p))
        else {
            errors.insert("project".into(), "Specify a valid project ID or key".into());
            return Err(bad(errors));
        };
        let type_ref = fields.get("issuetype").cloned().unwrap_or(Value::Null);
        let types = self.0.site.projects[project]["issueTypes"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let type_id = types
            .iter()
            .find(|t| {
                (text(&type_ref, "id").is_some() && text(t, "id") == text(&type_ref, "id"))
                    || (text(&type_ref, "name").is_some()
                        && text(t, "name") == text(&type_ref, "name"))
            })
            .and_then(|t| text(t, "id"));
        let Some(type_id) = type_id else {
            errors.insert("issuetype".into(), "Specify an issue type".into());
            return Err(bad(errors));
        };
        let merged = merge_update(&fields, element.get("update"), None, &mut errors);
        let checked =
            self.check_fields(data, project, &type_id, &merged, Mode::Create, &mut errors);
        let props = check_properties(element.get("properties"), &mut errors);
        let pkey = self.project_key(project);
        let workflow = self.0.site.workflows.get(&format!("{pkey}/{type_id}"));
        let mut status = workflow
            .map(|w| w.initial.clone())
            .or_else(|| text(self.0.site.statuses.first()?, "id"))
            .unwrap_or_default();
        if let Some(tid) = element
            .pointer("/transition/id")
            .and_then(|t| text(t, "id").or_else(|| t.as_str().map(str::to_owned)))
        {
            match workflow.and_then(|w| {
                w.transitions
                    .iter()
                    .find(|t| t.id == tid && (t.from.is_empty() || t.from.contains(&status)))
            }) {
                Some(t) => status = t.to.clone(),
                None => {
                    errors.insert(
                        "transition".into(),
                        format!("Transition id '{tid}' is not valid for this issue."),
                    );
                }
            }
        }
        if !errors.is_empty() {
            return Err(bad(errors));
        }
        let id = data.next_issue;
        data.next_issue += 1;
        let number = data.next_number.entry(project).or_insert(0);
        *number += 1;
        let number = *number;
        let now = clock::now_ms();
        let mut stored = checked.fields;
        if !stored.contains_key("reporter") {
            stored.insert("reporter".into(), Value::String(caller.account_id.clone()));
        }
        let issue = Issue {
            id,
            key: format!("{pkey}-{number}"),
            number,
            project,
            type_id,
            status_id: status,
            fields: stored,
            parent: checked.parent.flatten(),
            children: vec![],
            sprint: checked.sprint.flatten(),
            properties: props.into_iter().collect(),
            comments: vec![],
            attachments: vec![],
            links: vec![],
            remote_links: vec![],
            created: now,
            updated: now,
            creator: caller.account_id.clone(),
        };
        if let Some(parent) = issue.parent.and_then(|p| data.issues.get_mut(&p)) {
            parent.children.push(id);
        }
        data.by_key.insert(issue.key.clone(), id);
        data.issues.insert(id, issue);
        self.touch(data, id);
        Ok(id)
    }
}
