//! Writing a generated dataset as one JSON document, streamed to any `Write`.
//!
//! Only the plan (a few hundred bytes per item) is held in memory; each work item, comment list
//! and update list is serialised and dropped before the next, so workload L writes in bounded
//! memory. Key order is fixed, so the bytes are a function of (items, seed, today) only.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use anyhow::Context;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::calendar::{self, timestamp};
use super::emit::{Env, identity_ref};
use super::plan::{self, Kind, LINK_KINDS, Plan};
use super::process::{self, TYPES};
use super::{BASE_URL, GenOptions, PROJECT, rng, trouble};

/// The exact counts of a generated dataset, written as `_generator.expected`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Expected {
    /// Work items.
    pub items: usize,
    /// Work items by type name.
    pub by_type: BTreeMap<String, usize>,
    /// Work items by state.
    pub by_state: BTreeMap<String, usize>,
    /// Items that have a parent, by their type name.
    pub with_parent: BTreeMap<String, usize>,
    /// Non-hierarchy links by forward relation name (each appears on both ends).
    pub links: BTreeMap<String, usize>,
    /// `Hyperlink` relations.
    pub hyperlinks: usize,
    /// `ArtifactLink` relations.
    pub artifact_links: usize,
    /// Visible comments.
    pub comments: usize,
    /// Deleted comments (only with `includeDeleted=true`).
    pub deleted_comments: usize,
    /// Items with at least one visible comment.
    pub items_with_comments: usize,
    /// Items with 250 or more comments: (id, comments).
    pub hot_items: Vec<(u64, u32)>,
    /// `AttachedFile` relations (files), the large ones included.
    pub attachments: usize,
    /// Items with at least one attached file.
    pub attachment_items: usize,
    /// Files of exactly 50 MB.
    pub large_attachments: usize,
    /// Total bytes of attached files.
    pub attachment_bytes: u64,
    /// Images inlined in descriptions (attachments without a relation).
    pub inline_images: usize,
    /// Identities.
    pub identities: usize,
    /// Identities whose e-mail domain the default Jira site does not have.
    pub unresolvable_identities: usize,
    /// Sprints: total, closed, active, future.
    pub iterations: [usize; 4],
    /// Items in a sprint.
    pub items_in_sprints: usize,
    /// Workflow steps from New to each item's state (0, 1 or 2 each).
    pub transitions: usize,
    /// Updates (revisions) over all items.
    pub updates: usize,
    /// Planted trouble (`GenOptions::trouble`): kind → affected item ids, ascending. Every kind
    /// is present, empty when no trouble was planted; `docs/sim-ado.md` describes them.
    #[serde(default)]
    pub trouble: BTreeMap<String, Vec<u64>>,
}

/// Generates a dataset into `path` (buffered), returning its counts.
pub fn generate_to_file(options: &GenOptions, path: &Path) -> anyhow::Result<Expected> {
    let file =
        std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    let expected = write_dataset(options, &mut out)?;
    out.flush().context("cannot finish writing the dataset")?;
    Ok(expected)
}

fn put(out: &mut dyn Write, v: &Value) -> anyhow::Result<()> {
    serde_json::to_writer(&mut *out, v).context("cannot write the dataset")
}

/// Generates a dataset and writes it to `out`.
pub fn write_dataset(options: &GenOptions, mut out: impl Write) -> anyhow::Result<Expected> {
    let out: &mut dyn Write = &mut out;
    let mut plan = plan::plan(options.items, options.seed, options.today);
    let trouble = if options.trouble {
        trouble::plant(&mut plan, options.seed)
    } else {
        trouble::none()
    };
    let expected = Expected {
        trouble,
        ..expected(&plan)
    };
    let mut r = rng::derived(options.seed, 0, 9);
    let project_id = rng::guid(&mut r);
    let env = Env::new(&plan, options.seed, BASE_URL, (PROJECT, &project_id));
    write!(out, "{{\"_generator\":")?;
    put(
        out,
        &json!({ "items": options.items, "seed": options.seed, "today": calendar::date(options.today), "expected": expected }),
    )?;
    write!(out, ",\"baseUrl\":")?;
    put(out, &json!(BASE_URL))?;
    write!(out, ",\"identities\":")?;
    put(
        out,
        &Value::Array(plan.people.iter().map(identity_ref).collect()),
    )?;
    write!(out, ",\"projects\":[{{\"project\":")?;
    put(out, &project(&project_id, options.today))?;
    write!(out, ",\"workItemTypes\":")?;
    put(
        out,
        &Value::Array(process::work_item_types(BASE_URL, &project_id)),
    )?;
    write!(out, ",\"fields\":")?;
    put(out, &Value::Array(process::fields(BASE_URL)))?;
    write!(out, ",\"areas\":")?;
    put(out, &areas(&plan, &project_id, &mut r))?;
    write!(out, ",\"iterations\":")?;
    put(out, &iterations(&plan, &project_id, &mut r))?;
    write!(out, ",\"workItems\":[")?;
    for (k, item) in plan.items.iter().enumerate() {
        if k > 0 {
            out.write_all(b",")?;
        }
        put(out, &env.work_item(item))?;
    }
    write!(out, "],\"comments\":{{")?;
    let mut next_comment = 1u64;
    let mut first = true;
    for item in plan
        .items
        .iter()
        .filter(|i| i.comments + i.deleted_comments > 0)
    {
        write!(out, "{}\"{}\":", if first { "" } else { "," }, item.id)?;
        first = false;
        put(out, &Value::Array(env.comments(item, next_comment)))?;
        next_comment += u64::from(item.comments + item.deleted_comments);
    }
    write!(out, "}},\"updates\":{{")?;
    for (k, item) in plan.items.iter().enumerate() {
        write!(out, "{}\"{}\":", if k == 0 { "" } else { "," }, item.id)?;
        put(out, &Value::Array(env.updates(item)))?;
    }
    write!(out, "}}}}],\"attachments\":{{")?;
    for (k, a) in plan.attachments.iter().enumerate() {
        write!(out, "{}", if k == 0 { "" } else { "," })?;
        put(out, &json!(a.guid))?;
        out.write_all(b":")?;
        put(
            out,
            &json!({ "fileName": a.name, "synthetic": { "size": a.size, "seed": a.seed } }),
        )?;
    }
    write!(out, "}}}}")?;
    Ok(expected)
}

fn expected(plan: &Plan) -> Expected {
    let items = &plan.items;
    let count_by = |f: &dyn Fn(&plan::ItemPlan) -> Option<String>| {
        let mut m = BTreeMap::new();
        for i in items {
            if let Some(k) = f(i) {
                *m.entry(k).or_insert(0) += 1;
            }
        }
        m
    };
    let type_name = |k: Kind| TYPES[k as usize].0.to_string();
    let mut links = BTreeMap::new();
    for (_, _, k) in &plan.links {
        *links.entry(LINK_KINDS[*k].0.to_string()).or_insert(0) += 1;
    }
    let files: Vec<_> = plan.attachments.iter().filter(|a| !a.inline).collect();
    let mut holders: Vec<u64> = files.iter().map(|a| a.item).collect();
    holders.dedup();
    let closed = plan.active_sprint;
    Expected {
        items: items.len(),
        by_type: count_by(&|i| Some(type_name(i.kind))),
        by_state: count_by(&|i| Some(["New", "Active", "Closed"][i.state as usize].to_string())),
        with_parent: count_by(&|i| i.parent.map(|_| type_name(i.kind))),
        links,
        hyperlinks: plan.hyperlinks.len(),
        artifact_links: plan.artifact_links.len(),
        comments: items.iter().map(|i| i.comments as usize).sum(),
        deleted_comments: items.iter().map(|i| i.deleted_comments as usize).sum(),
        items_with_comments: items.iter().filter(|i| i.comments > 0).count(),
        hot_items: items
            .iter()
            .filter(|i| i.comments >= 250)
            .map(|i| (i.id, i.comments))
            .collect(),
        attachments: files.len(),
        attachment_items: holders.len(),
        large_attachments: files
            .iter()
            .filter(|a| a.size == plan::LARGE_ATTACHMENT)
            .count(),
        attachment_bytes: files.iter().map(|a| a.size).sum(),
        inline_images: plan.attachments.len() - files.len(),
        identities: plan.people.len(),
        unresolvable_identities: plan.people.iter().filter(|p| !p.resolvable).count(),
        iterations: [
            plan.sprints.len(),
            closed,
            1,
            plan.sprints.len() - closed - 1,
        ],
        items_in_sprints: items.iter().filter(|i| i.sprint.is_some()).count(),
        transitions: items.iter().map(|i| i.state as usize).sum(),
        updates: items.iter().map(|i| i.revs as usize).sum(),
        trouble: BTreeMap::new(),
    }
}

fn project(id: &str, today: i64) -> Value {
    let url = format!("{BASE_URL}/_apis/projects/{id}");
    json!({
        "id": id,
        "name": PROJECT,
        "description": "Generated by ferry sim gen",
        "url": url,
        "state": "wellFormed",
        "revision": 42,
        "visibility": "private",
        "lastUpdateTime": timestamp(today * 86_400, 0),
        "capabilities": {
            "versioncontrol": { "sourceControlType": "Git" },
            "processTemplate": { "templateName": "Agile", "templateTypeId": "adcc42ab-9882-485e-a3ed-7678f01f66bc" },
        },
        "defaultTeam": { "id": id, "name": format!("{PROJECT} Team"), "url": format!("{url}/teams/{id}") },
        "_links": { "self": { "href": url }, "collection": { "href": format!("{BASE_URL}/_apis/projectCollections") }, "web": { "href": format!("{BASE_URL}/{PROJECT}") } },
    })
}

fn node(
    id: &mut i64,
    r: &mut rng::Stream,
    name: &str,
    kind: &str,
    path: &str,
    url: String,
    children: Vec<Value>,
) -> Value {
    *id += 1;
    let mut n = json!({ "id": *id, "identifier": rng::guid(r), "name": name, "structureType": kind, "hasChildren": !children.is_empty(), "path": path, "url": url });
    if !children.is_empty() {
        n["children"] = Value::Array(children);
    }
    n
}

fn areas(plan: &Plan, pid: &str, r: &mut rng::Stream) -> Value {
    let mut id = 0;
    let base = format!("{BASE_URL}/{pid}/_apis/wit/classificationNodes/Areas");
    let mut groups: Vec<(String, Vec<Value>)> = Vec::new();
    for a in &plan.areas {
        let (g, t) = a.split_once('\\').unwrap_or((a, ""));
        if groups.last().is_none_or(|(name, _)| name != g) {
            groups.push((g.to_string(), Vec::new()));
        }
        let path = format!("\\{PROJECT}\\Area\\{g}\\{t}");
        let leaf = node(
            &mut id,
            r,
            t,
            "area",
            &path,
            format!("{base}/{g}/{t}"),
            vec![],
        );
        if let Some((_, kids)) = groups.last_mut() {
            kids.push(leaf);
        }
    }
    let children = groups
        .into_iter()
        .map(|(g, kids)| {
            node(
                &mut id,
                r,
                &g,
                "area",
                &format!("\\{PROJECT}\\Area\\{g}"),
                format!("{base}/{g}"),
                kids,
            )
        })
        .collect();
    node(
        &mut id,
        r,
        PROJECT,
        "area",
        &format!("\\{PROJECT}\\Area"),
        base,
        children,
    )
}

fn iterations(plan: &Plan, pid: &str, r: &mut rng::Stream) -> Value {
    let mut id = 1000;
    let base = format!("{BASE_URL}/{pid}/_apis/wit/classificationNodes/Iterations");
    let children = plan
        .sprints
        .iter()
        .enumerate()
        .map(|(k, s)| {
            let frame = match k.cmp(&plan.active_sprint) {
                std::cmp::Ordering::Less => "past",
                std::cmp::Ordering::Equal => "current",
                std::cmp::Ordering::Greater => "future",
            };
            let mut n = node(&mut id, r, &s.name, "iteration", &format!("\\{PROJECT}\\Iteration\\{}", s.name), format!("{base}/{}", s.name.replace(' ', "%20")), vec![]);
            n["attributes"] = json!({ "startDate": format!("{}T00:00:00Z", calendar::date(s.start)), "finishDate": format!("{}T00:00:00Z", calendar::date(s.finish)), "timeFrame": frame });
            n
        })
        .collect();
    node(
        &mut id,
        r,
        PROJECT,
        "iteration",
        &format!("\\{PROJECT}\\Iteration"),
        base,
        children,
    )
}
