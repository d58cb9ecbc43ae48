//! The transform: one ADO work item + the mapping + the target's metadata → what Ferry will
//! send to Jira for it (the bulk-create element) and the plan of everything after creation
//! (sprint, transitions, links, attachments, comments), with every problem found on the way.
//! The dry run runs it over every item; the run engine sends its output.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::{
    adf::Resolve,
    model::Mapping,
    problem::{Code, Problem, Severity},
    values::Fields,
};
use crate::{
    source::ado::models::{WorkItem, trailing_id},
    target::jira::meta::{IssueTypeMeta, TargetMeta},
};

/// Jira's per-issue caps (Jira Cloud documents them; the simulator enforces the same).
pub const MAX_COMMENTS: i64 = 5_000;
/// Attachments per issue.
pub const MAX_ATTACHMENTS: usize = 2_000;
/// Links per issue.
pub const MAX_LINKS: usize = 2_000;
/// The issue property that marks an issue as migrated (indexed by the descriptor for JQL).
pub const ORIGIN_PROPERTY: &str = "ferry-origin";

/// What the transform needs besides the item.
pub struct Context<'a> {
    /// The approved (or draft, for a dry run) mapping.
    pub mapping: &'a Mapping,
    /// The target's metadata.
    pub target: &'a TargetMeta,
    /// ADO type of every item in scope, for parent decisions.
    pub scope: &'a HashMap<i64, String>,
    /// `https://dev.azure.com/org/Project`, for the ADO URL field.
    pub project_url: &'a str,
    /// Links to already migrated issues, accounts and attachments inside rich text.
    pub links: &'a dyn Resolve,
}

/// A planned attachment (from the item's `AttachedFile` relations).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlannedFile {
    /// ADO attachment URL.
    pub url: String,
    /// File name.
    pub name: String,
    /// Size in bytes (0 when ADO did not say).
    pub size: i64,
}

/// Everything Ferry will do for one item.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Planned {
    /// ADO id.
    pub ado_id: i64,
    /// ADO type.
    pub ado_type: String,
    /// Jira issue type id (after any fallback).
    pub jira_type: Option<String>,
    /// The `fields` of the create element (no `parent`: that needs the parent's key).
    pub fields: Map<String, Value>,
    /// The ADO id of the parent to set at creation.
    pub parent: Option<i64>,
    /// An ADO parent outside this migration: phase 3 sets it when an earlier run over the same
    /// connection and project migrated it (Jira checks the level), else the issue has none.
    pub outside_parent: Option<i64>,
    /// Sprint name, set after creation.
    pub sprint: Option<String>,
    /// Transition ids from the initial status to the mapped one.
    pub transitions: Vec<String>,
    /// (Jira link type id, other ADO id, this item is the outward end).
    pub links: Vec<(String, i64, bool)>,
    /// Files to copy.
    pub files: Vec<PlannedFile>,
    /// Comments ADO says the item has.
    pub comments: i64,
    /// Rich text past Jira's cap, posted as comments after creation.
    pub overflow: Vec<Value>,
    /// Problems found.
    pub problems: Vec<Problem>,
}

impl Planned {
    /// Whether the item will fail.
    pub fn fails(&self) -> bool {
        self.problems.iter().any(|p| p.severity == Severity::Error)
    }

    /// Whether the item is left out on purpose.
    pub fn excluded(&self) -> bool {
        self.problems.iter().any(|p| p.code == Code::TypeExcluded)
    }

    /// The `properties` of the create element.
    pub fn properties(&self) -> Value {
        json!([{ "key": ORIGIN_PROPERTY, "value": { "adoId": self.ado_id } }])
    }
}

/// Plans one item.
pub fn transform(item: &WorkItem, ctx: &Context) -> Planned {
    let ado_type = item
        .str_field("System.WorkItemType")
        .unwrap_or("")
        .to_owned();
    let mut plan = Planned {
        ado_id: item.id,
        ado_type: ado_type.clone(),
        comments: item
            .fields
            .get("System.CommentCount")
            .and_then(Value::as_i64)
            .unwrap_or(0),
        ..Planned::default()
    };
    let Some(rule) = ctx.mapping.type_rule(&ado_type) else {
        plan.problems
            .push(Problem::new(Code::TypeNotMapped, Severity::Error).detail(&ado_type));
        return plan;
    };
    let Some(mut jira_type) = rule
        .jira_type
        .as_deref()
        .and_then(|id| ctx.target.issue_type(id))
    else {
        plan.problems
            .push(Problem::new(Code::TypeExcluded, Severity::Info).detail(&ado_type));
        return plan;
    };
    let fallback = rule
        .fallback_type
        .as_deref()
        .and_then(|id| ctx.target.issue_type(id));
    jira_type = hierarchy(item, ctx, jira_type, fallback, &mut plan);
    plan.jira_type = Some(jira_type.id.clone());

    let mut fields = Fields::new(item, ctx, jira_type);
    fields.convert_all(&mut plan);
    plan.fields = fields.finish(&mut plan);
    plan.fields
        .insert("project".into(), json!({ "id": ctx.target.project.id }));
    plan.fields
        .insert("issuetype".into(), json!({ "id": jira_type.id }));
    required(jira_type, &mut plan);
    status(item, ctx, jira_type, &ado_type, &mut plan);
    relations(item, ctx, &mut plan);
    plan
}

/// Decides the parent and, when the hierarchy demands it, the fallback type.
fn hierarchy<'a>(
    item: &WorkItem,
    ctx: &Context<'a>,
    wanted: &'a IssueTypeMeta,
    fallback: Option<&'a IssueTypeMeta>,
    plan: &mut Planned,
) -> &'a IssueTypeMeta {
    let level = |t: &IssueTypeMeta| if t.subtask { -1 } else { t.hierarchy_level };
    let parent = item.parent_id();
    let use_fallback = |plan: &mut Planned, why: &str| match fallback {
        Some(f) => {
            plan.problems
                .push(Problem::new(Code::TypeFallback, Severity::Warning).detail(why));
            f
        }
        None => wanted,
    };
    let Some(pid) = parent else {
        return if wanted.subtask {
            use_fallback(plan, "no parent")
        } else {
            wanted
        };
    };
    let Some(parent_type) = ctx.scope.get(&pid) else {
        plan.problems
            .push(Problem::new(Code::ParentOutside, Severity::Warning).detail(pid.to_string()));
        plan.outside_parent = Some(pid);
        return if wanted.subtask {
            use_fallback(plan, "parent outside")
        } else {
            wanted
        };
    };
    let parent_level = ctx
        .mapping
        .type_rule(parent_type)
        .and_then(|r| r.jira_type.as_deref())
        .and_then(|id| ctx.target.issue_type(id))
        .map(level);
    let fits = |t: &IssueTypeMeta| parent_level == Some(level(t) + 1);
    if fits(wanted) {
        plan.parent = Some(pid);
        return wanted;
    }
    if let Some(f) = fallback.filter(|f| fits(f)) {
        plan.problems.push(
            Problem::new(Code::TypeFallback, Severity::Warning)
                .detail(format!("parent {parent_type}")),
        );
        plan.parent = Some(pid);
        return f;
    }
    plan.problems.push(
        Problem::new(Code::ParentLevel, Severity::Warning).detail(format!("parent {parent_type}")),
    );
    if wanted.subtask {
        use_fallback(plan, "parent level")
    } else {
        wanted
    }
}

/// The ADO relation an unkept parent is linked with.
const PARENT_LINK_RELATION: &str = "System.LinkTypes.Related";

/// An ADO parent in the migration that cannot be the Jira parent (not one level up in Jira) is
/// kept as a link with the mapping's Related link type, so the relationship is not lost. When
/// Related is left out of the mapping there is no link, and the problem says so. (A parent
/// outside the migration is not linked: `outside_parent` sets it as the parent when it is in
/// Jira, and a later run over both sets it then; a link as well would be noise.)
fn link_unkept_parent(item: &WorkItem, ctx: &Context, plan: &mut Planned) {
    let Some(pid) = item.parent_id().filter(|_| plan.parent.is_none()) else {
        return;
    };
    let Some(problem) = plan
        .problems
        .iter_mut()
        .find(|p| p.code == Code::ParentLevel)
    else {
        return;
    };
    let rule = ctx
        .mapping
        .links
        .iter()
        .find(|l| l.ado_relation == PARENT_LINK_RELATION)
        .and_then(|l| l.jira_link_type.clone());
    match rule {
        Some(lt) => {
            if !plan.links.iter().any(|(t, o, _)| *t == lt && *o == pid) {
                plan.links.push((lt, pid, true));
            }
        }
        None => {
            let had = problem.detail.take().unwrap_or_default();
            problem.detail = Some(format!(
                "{had}; not linked: {PARENT_LINK_RELATION} is left out"
            ));
        }
    }
}

/// Required fields of the type's create screen that nothing filled.
fn required(jira_type: &IssueTypeMeta, plan: &mut Planned) {
    for f in &jira_type.create_fields {
        let handled = matches!(f.field_id.as_str(), "project" | "issuetype" | "parent");
        if f.required && !f.has_default && !handled && !plan.fields.contains_key(&f.field_id) {
            plan.problems
                .push(Problem::new(Code::MissingRequired, Severity::Error).field(&f.field_id));
        }
    }
    if jira_type.subtask && plan.parent.is_none() {
        plan.problems
            .push(Problem::new(Code::MissingRequired, Severity::Error).field("parent"));
    }
}

fn status(
    item: &WorkItem,
    ctx: &Context,
    jira_type: &IssueTypeMeta,
    ado_type: &str,
    plan: &mut Planned,
) {
    let state = item.str_field("System.State").unwrap_or("");
    let Some(to) = ctx
        .mapping
        .state_rule(ado_type, state)
        .and_then(|r| r.jira_status.clone())
    else {
        plan.problems
            .push(Problem::new(Code::StateNotMapped, Severity::Error).detail(state));
        return;
    };
    let from = jira_type.workflow.initial.clone().unwrap_or_default();
    match jira_type.transition_path(&from, &to) {
        Some(path) => plan.transitions = path.iter().map(|t| t.id.clone()).collect(),
        None => plan.problems.push(
            Problem::new(Code::NoTransitionPath, Severity::Error).detail(format!("{state} → {to}")),
        ),
    }
}

/// Links, files and the per-issue caps.
fn relations(item: &WorkItem, ctx: &Context, plan: &mut Planned) {
    for r in &item.relations {
        if r.rel == "AttachedFile" {
            let attr = |k: &str| r.attributes.get(k);
            plan.files.push(PlannedFile {
                url: r.url.clone(),
                name: attr("name")
                    .and_then(Value::as_str)
                    .unwrap_or("file")
                    .to_owned(),
                size: attr("resourceSize").and_then(Value::as_i64).unwrap_or(0),
            });
            continue;
        }
        let is_item = r.url.to_ascii_lowercase().contains("/_apis/wit/workitems/");
        let Some(other) = trailing_id(&r.url).filter(|_| is_item) else {
            continue;
        };
        if r.rel.contains("Hierarchy") {
            continue;
        }
        let (forward, outward) = match r.rel.strip_suffix("-Reverse") {
            Some(base) => (format!("{base}-Forward"), false),
            None => (r.rel.clone(), true),
        };
        if let Some(lt) = ctx
            .mapping
            .links
            .iter()
            .find(|l| l.ado_relation == forward)
            .and_then(|l| l.jira_link_type.clone())
        {
            plan.links.push((lt, other, outward));
        }
    }
    link_unkept_parent(item, ctx, plan);
    let limits = &ctx.target.attachments;
    if !plan.files.is_empty() && !limits.enabled {
        plan.problems
            .push(Problem::new(Code::AttachmentsDisabled, Severity::Error));
    }
    for f in plan
        .files
        .iter()
        .filter(|f| limits.upload_limit > 0 && f.size > limits.upload_limit)
    {
        plan.problems.push(
            Problem::new(Code::AttachmentTooLarge, Severity::Error).detail(f.size.to_string()),
        );
    }
    if plan.files.len() > MAX_ATTACHMENTS {
        plan.problems.push(
            Problem::new(Code::TooManyAttachments, Severity::Error)
                .detail(plan.files.len().to_string()),
        );
    }
    if plan.links.len() > MAX_LINKS {
        plan.problems.push(
            Problem::new(Code::TooManyLinks, Severity::Error).detail(plan.links.len().to_string()),
        );
    }
    let comments = plan.comments + plan.overflow.len() as i64;
    if comments > MAX_COMMENTS {
        plan.problems.push(
            Problem::new(Code::TooManyComments, Severity::Error).detail(comments.to_string()),
        );
    }
}

#[cfg(test)]
#[path = "transform_tests.rs"]
mod tests;
