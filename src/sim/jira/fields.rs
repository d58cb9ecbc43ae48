//! Field validation for create and edit, as Jira applies it: createmeta decides which fields
//! may be set and which are required, `allowedValues` and the field's schema decide what values
//! are legal, ADF fields must hold Atlassian documents, labels may not contain spaces, and the
//! parent must sit one hierarchy level above.
//!
//! Values are normalised on the way in (a priority given by name is stored as the full
//! priority object) so rendering is a copy.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

pub use super::update::merge_update;

use super::{JiraSim, adf, site::text, store::Data};

/// Create enforces required fields; edit only refuses clearing them.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Create,
    Edit,
}

/// The outcome of validating one request's `fields` + `update`.
#[derive(Default)]
pub struct Checked {
    pub fields: Map<String, Value>,
    /// Some(new parent) when `parent` was given.
    pub parent: Option<Option<u64>>,
    /// Some(new sprint) when the sprint field was given.
    pub sprint: Option<Option<u64>>,
}

/// Jira's message for a field that is not on the screen.
fn not_settable(f: &str) -> String {
    format!("Field '{f}' cannot be set. It is not on the appropriate screen, or unknown.")
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

impl JiraSim {
    /// The createmeta entries for a project and issue type.
    pub(super) fn create_meta(&self, project_key: &str, type_id: &str) -> Option<&Vec<Value>> {
        self.0.site.create_meta.get(project_key)?.get(type_id)
    }

    /// Validates and normalises `input` (already merged with `update`) for one issue type.
    pub(super) fn check_fields(
        &self,
        data: &Data,
        project: usize,
        type_id: &str,
        input: &Map<String, Value>,
        mode: Mode,
        errors: &mut BTreeMap<String, String>,
    ) -> Checked {
        let project_key = self.project_key(project);
        let mut out = Checked::default();
        let Some(meta) = self.create_meta(&project_key, type_id) else {
            errors.insert(
                "issuetype".into(),
                "The issue type selected is invalid.".into(),
            );
            return out;
        };
        let meta_of = |f: &str| meta.iter().find(|m| m["fieldId"] == f || m["key"] == f);
        for (fid, value) in input {
            if fid == "project" || fid == "issuetype" {
                if mode == Mode::Edit {
                    errors.insert(fid.clone(), not_settable(fid));
                }
                continue;
            }
            let Some(m) = meta_of(fid) else {
                errors.insert(fid.clone(), not_settable(fid));
                continue;
            };
            if is_empty(value) {
                if m["required"] == true {
                    errors.insert(fid.clone(), required_message(fid, m));
                } else if fid == "parent" {
                    out.parent = Some(None);
                } else if m["schema"]["custom"] == "com.pyxis.greenhopper.jira:gh-sprint" {
                    out.sprint = Some(None);
                } else {
                    out.fields.insert(
                        fid.clone(),
                        if m["schema"]["type"] == "array" {
                            Value::Array(vec![])
                        } else {
                            Value::Null
                        },
                    );
                }
                continue;
            }
            match self.check_value(data, project, type_id, fid, m, value) {
                Ok(Slot::Field(v)) => {
                    out.fields.insert(fid.clone(), v);
                }
                Ok(Slot::Parent(p)) => out.parent = Some(Some(p)),
                Ok(Slot::Sprint(s)) => out.sprint = Some(Some(s)),
                Err(msg) => {
                    errors.insert(fid.clone(), msg);
                }
            }
        }
        if mode == Mode::Create {
            for m in meta {
                let Some(fid) = m["fieldId"].as_str() else {
                    continue;
                };
                if input.contains_key(fid) || fid == "project" || fid == "issuetype" {
                    continue;
                }
                if m["hasDefaultValue"] == true && !m["defaultValue"].is_null() {
                    let default = if m["schema"]["type"] == "priority" {
                        text(&m["defaultValue"], "id").map_or(Value::Null, Value::String)
                    } else {
                        m["defaultValue"].clone()
                    };
                    out.fields.insert(fid.to_owned(), default);
                } else if m["required"] == true {
                    errors.insert(fid.to_owned(), required_message(fid, m));
                }
            }
        }
        out
    }

    fn check_value(
        &self,
        data: &Data,
        project: usize,
        type_id: &str,
        fid: &str,
        m: &Value,
        v: &Value,
    ) -> Result<Slot, String> {
        let schema = &m["schema"];
        let ty = schema["type"].as_str().unwrap_or("any");
        let custom = schema["custom"].as_str().unwrap_or("");
        let name = m["name"].as_str().unwrap_or(fid);
        let adf_field =
            matches!(fid, "description" | "environment") || custom.ends_with(":textarea");
        if adf_field {
            return if self.0.adf.is_valid(v) {
                Ok(Slot::Field(self.keep_doc(v)))
            } else {
                Err(adf::INVALID_ADF.into())
            };
        }
        if custom == "com.pyxis.greenhopper.jira:gh-sprint" {
            let id = v
                .as_u64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                .ok_or_else(|| "Number value expected as the Sprint id.".to_owned())?;
            let sprint = data
                .sprints
                .get(&id)
                .ok_or_else(|| format!("Sprint with id {id} does not exist"))?;
            if sprint["state"] == "closed" {
                return Err("Issue can be assigned only to active or future sprints.".into());
            }
            return Ok(Slot::Sprint(id));
        }
        match ty {
            "string" => {
                let s = v
                    .as_str()
                    .ok_or_else(|| "Operation value must be a string".to_owned())?;
                if fid == "summary" {
                    if s.contains('\n') || s.contains('\r') {
                        return Err(
                            "The summary is invalid because it contains newline characters.".into(),
                        );
                    }
                    if s.chars().count() > 255 {
                        return Err("Summary must be less than 255 characters.".into());
                    }
                } else if s.chars().count() > 255 {
                    return Err(format!("{name} must be less than 255 characters."));
                }
                Ok(Slot::Field(v.clone()))
            }
            "number" => v
                .as_f64()
                .map(|_| Slot::Field(v.clone()))
                .ok_or_else(|| "Operation value must be a number".to_owned()),
            "date" => {
                let s = v.as_str().unwrap_or("");
                let ok = s.len() == 10
                    && s.bytes().enumerate().all(|(i, b)| {
                        if i == 4 || i == 7 {
                            b == b'-'
                        } else {
                            b.is_ascii_digit()
                        }
                    });
                if ok {
                    Ok(Slot::Field(v.clone()))
                } else {
                    Err(format!("Error parsing date string: {s}"))
                }
            }
            "datetime" => v
                .as_str()
                .map(|_| Slot::Field(v.clone()))
                .ok_or_else(|| "Operation value must be a string".to_owned()),
            // Stored as the id only: every issue gets a priority, the full object is rendered.
            "priority" => find_in(&self.0.site.priorities, v, &["id", "name"])
                .and_then(|p| text(&p, "id"))
                .map(|id| Slot::Field(Value::String(id)))
                .ok_or_else(|| {
                    format!(
                        "Specify a valid priority (id or name); '{}' is not one",
                        text(v, "name")
                            .or_else(|| text(v, "id"))
                            .unwrap_or_default()
                    )
                }),
            "user" => {
                let id =
                    text(v, "accountId").ok_or_else(|| "Specify a user by accountId".to_owned())?;
                let user = self
                    .0
                    .catalog
                    .users_by_id
                    .get(&id)
                    .map(|&i| &self.0.site.users[i]);
                match user {
                    Some(u) if u["active"] != false => Ok(Slot::Field(Value::String(id))),
                    _ if fid == "assignee" => {
                        Err(format!("User '{id}' cannot be assigned issues."))
                    }
                    _ => Err(format!(
                        "Specified user '{id}' does not exist or is not active."
                    )),
                }
            }
            "issuelink" => {
                let p = data
                    .resolve_ref(v)
                    .ok_or_else(|| "Could not find issue by id or key.".to_owned())?;
                let parent = &data.issues[&p];
                let level = |t: &str| {
                    self.type_json(t)
                        .and_then(|t| t["hierarchyLevel"].as_i64())
                        .unwrap_or(0)
                };
                let mine = level(type_id);
                let theirs = level(&parent.type_id);
                let ok = if mine == -1 {
                    theirs == 0 && parent.project == project
                } else {
                    theirs == mine + 1
                };
                if ok {
                    Ok(Slot::Parent(p))
                } else {
                    Err("Given parent work item does not belong to appropriate hierarchy.".into())
                }
            }
            "array" => self.check_array(data, project, m, v).map(Slot::Field),
            "option" => find_in(
                m["allowedValues"].as_array().map_or(&[][..], Vec::as_slice),
                v,
                &["id", "value"],
            )
            .map(Slot::Field)
            .ok_or_else(|| {
                format!(
                    "Option value '{}' is not valid",
                    text(v, "value")
                        .or_else(|| text(v, "id"))
                        .unwrap_or_default()
                )
            }),
            _ => Ok(Slot::Field(v.clone())),
        }
    }

    fn check_array(
        &self,
        data: &Data,
        project: usize,
        m: &Value,
        v: &Value,
    ) -> Result<Value, String> {
        let items = v
            .as_array()
            .ok_or_else(|| "Operation value must be an array".to_owned())?;
        let project_id = self.project_id(project);
        match m["schema"]["items"].as_str().unwrap_or("") {
            "string" => {
                for l in items {
                    let s = l
                        .as_str()
                        .ok_or_else(|| "Operation value must be a string".to_owned())?;
                    if s.chars().any(char::is_whitespace) {
                        return Err(format!("The label '{s}' contains spaces which is invalid."));
                    }
                    if s.chars().count() > 255 {
                        return Err(format!("The label '{s}' exceeds the 255 character limit."));
                    }
                }
                Ok(v.clone())
            }
            kind @ ("component" | "version") => {
                let pool = if kind == "component" {
                    &data.components
                } else {
                    &data.versions
                };
                let pool: Vec<Value> = pool
                    .iter()
                    .filter(|c| text(c, "projectId").as_deref() == Some(project_id.as_str()))
                    .cloned()
                    .collect();
                items
                    .iter()
                    .map(|i| {
                        find_in(&pool, i, &["id", "name"]).ok_or_else(|| {
                            let label = if kind == "component" {
                                "Component"
                            } else {
                                "Version"
                            };
                            format!(
                                "{label} name '{}' is not valid",
                                text(i, "name")
                                    .or_else(|| text(i, "id"))
                                    .unwrap_or_default()
                            )
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()
                    .map(Value::Array)
            }
            "option" => items
                .iter()
                .map(|i| {
                    find_in(
                        m["allowedValues"].as_array().map_or(&[][..], Vec::as_slice),
                        i,
                        &["id", "value"],
                    )
                    .ok_or_else(|| "Option value is not valid".to_owned())
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
            _ => Ok(v.clone()),
        }
    }
}

enum Slot {
    Field(Value),
    Parent(u64),
    Sprint(u64),
}

fn required_message(fid: &str, m: &Value) -> String {
    if fid == "summary" {
        "You must specify a summary of the issue.".into()
    } else {
        format!("{} is required.", m["name"].as_str().unwrap_or(fid))
    }
}

/// Finds `v` in `pool` by the first of `keys` it carries.
fn find_in(pool: &[Value], v: &Value, keys: &[&str]) -> Option<Value> {
    let (k, want) = keys.iter().find_map(|k| Some((*k, text(v, k)?)))?;
    pool.iter()
        .find(|p| text(p, k).as_deref() == Some(want.as_str()))
        .cloned()
}
