//! Turning a [`Plan`] into ADO-shaped JSON: identities, work items, comments, updates.
//!
//! Each function returns one JSON value for one object, so the writer can stream the dataset
//! item by item instead of building it whole. Text comes from per-item random streams
//! ([`super::rng::derived`]), so an item's content does not depend on its neighbours.

use rand::Rng;
use rand::seq::SliceRandom;
use serde_json::{Map, Value, json};

use super::calendar::timestamp;
use super::plan::{Attachment, ItemPlan, Kind, LINK_KINDS, Person, Plan};
use super::process::{ENVIRONMENTS, PLATFORMS, TYPES};
use super::rng;
use super::text;
use super::trouble::RETIRED_SEVERITY;

/// Purposes of the per-item streams.
const CONTENT: u64 = 2;
const TIMES: u64 = 3;
const COMMENTS: u64 = 4;
const UPDATES: u64 = 5;

/// What every emitter needs.
pub struct Env<'a> {
    /// The plan.
    pub plan: &'a Plan,
    /// The user's seed.
    pub seed: u64,
    /// The organization URL.
    pub org: &'a str,
    /// The project's name and GUID.
    pub project: (&'a str, &'a str),
    /// Relations of each item (by `id - 1`), built once.
    pub relations: Vec<Vec<Value>>,
    /// Inline images of each item (by `id - 1`): (GUID, file name).
    pub images: Vec<Vec<(String, String)>>,
    /// Each person's `IdentityRef`, built once (cloning is cheaper than formatting).
    pub refs: Vec<Value>,
}

const STATE_NAMES: [&str; 3] = ["New", "Active", "Closed"];
const REASONS: [&str; 3] = ["New", "Implementation started", "Acceptance tests pass"];
const TAGS: [&str; 10] = [
    "backend",
    "frontend",
    "customer",
    "tech-debt",
    "security",
    "perf",
    "ux",
    "api",
    "regression",
    "spike",
];

/// An `IdentityRef` as work item fields and comments carry it.
pub fn identity_ref(p: &Person) -> Value {
    json!({
        "displayName": p.name,
        "url": format!("https://vssps.dev.azure.com/contoso/_apis/Identities/{}", p.id),
        "_links": { "avatar": { "href": format!("https://dev.azure.com/contoso/_apis/GraphProfile/MemberAvatars/aad.{}", p.id) } },
        "id": p.id,
        "uniqueName": p.email,
        "imageUrl": format!("https://dev.azure.com/contoso/_api/_common/identityImage?id={}", p.id),
        "descriptor": format!("aad.{}", p.id.replace('-', "")),
    })
}

impl<'a> Env<'a> {
    /// Builds the per-item relation and image lists.
    pub fn new(plan: &'a Plan, seed: u64, org: &'a str, project: (&'a str, &'a str)) -> Self {
        let n = plan.items.len();
        let mut relations: Vec<Vec<Value>> = vec![Vec::new(); n];
        let mut images: Vec<Vec<(String, String)>> = vec![Vec::new(); n];
        let item_url = |id: u64| format!("{org}/_apis/wit/workItems/{id}");
        let rel = |rel: &str, url: String, name: &str| json!({ "rel": rel, "url": url, "attributes": { "isLocked": false, "name": name } });
        for i in &plan.items {
            if let Some(p) = i.parent {
                relations[i.id as usize - 1].push(rel(
                    "System.LinkTypes.Hierarchy-Reverse",
                    item_url(p),
                    "Parent",
                ));
                // A parent outside the project (planted trouble) has no item here to list it.
                if let Some(parent) = relations.get_mut((p as usize).wrapping_sub(1)) {
                    parent.push(rel(
                        "System.LinkTypes.Hierarchy-Forward",
                        item_url(i.id),
                        "Child",
                    ));
                }
            }
        }
        for (a, b, k) in &plan.links {
            let (fwd, rev, fname, rname) = LINK_KINDS[*k];
            relations[*a as usize - 1].push(rel(fwd, item_url(*b), fname));
            relations[*b as usize - 1].push(rel(rev, item_url(*a), rname));
        }
        for id in &plan.hyperlinks {
            relations[*id as usize - 1].push(json!({ "rel": "Hyperlink", "url": format!("https://wiki.contoso.example/pages/{id}"), "attributes": { "comment": "Design notes" } }));
        }
        for id in &plan.artifact_links {
            let sha = format!(
                "{:016x}{:016x}{:08x}",
                rng::mix(seed ^ id),
                rng::mix(*id),
                id
            );
            relations[*id as usize - 1].push(json!({
                "rel": "ArtifactLink",
                "url": format!("vstfs:///Git/Commit/{}%2F{}%2F{sha}", project.1, project.1),
                "attributes": { "isLocked": false, "name": "Fixed in Commit" },
            }));
        }
        for (k, a) in plan.attachments.iter().enumerate() {
            if a.inline {
                images[a.item as usize - 1].push((a.guid.clone(), a.name.clone()));
            } else {
                relations[a.item as usize - 1].push(attached_file(org, a, k));
            }
        }
        let refs = plan.people.iter().map(identity_ref).collect();
        Env {
            plan,
            seed,
            org,
            project,
            relations,
            images,
            refs,
        }
    }

    fn person(&self, i: usize) -> &Person {
        &self.plan.people[i]
    }

    /// Revision times of an item, in seconds since 1970, ascending; one per revision.
    fn rev_times(&self, item: &ItemPlan) -> Vec<i64> {
        let mut r = rng::derived(self.seed, item.id, TIMES);
        let mut t = item.created * 86_400 + r.gen_range(8 * 3600..18 * 3600);
        (0..item.revs)
            .map(|_| {
                let now = t;
                t += r.gen_range(600..5 * 86_400);
                now
            })
            .collect()
    }

    fn paths(&self, item: &ItemPlan) -> (String, String) {
        let name = self.project.0;
        let area = format!("{name}\\{}", self.plan.areas[item.area]);
        let iteration = match item.sprint {
            Some(s) => format!("{name}\\{}", self.plan.sprints[s].name),
            None => name.to_string(),
        };
        (area, iteration)
    }

    /// The work item, as `GET _apis/wit/workitems/{id}?$expand=all` returns it.
    pub fn work_item(&self, item: &ItemPlan) -> Value {
        let mut r = rng::derived(self.seed, item.id, CONTENT);
        let (type_name, _, _) = TYPES[item.kind as usize];
        let times = self.rev_times(item);
        let (area, iteration) = self.paths(item);
        let ctx = text::Context {
            org: self.org,
            people: &self.plan.people,
            max_id: self.plan.items.len() as u64,
            images: &self.images[item.id as usize - 1],
        };
        let mut f = Map::new();
        f.insert("System.AreaPath".into(), json!(area));
        f.insert("System.TeamProject".into(), json!(self.project.0));
        f.insert("System.IterationPath".into(), json!(iteration));
        f.insert("System.WorkItemType".into(), json!(type_name));
        f.insert(
            "System.State".into(),
            json!(STATE_NAMES[item.state as usize]),
        );
        f.insert("System.Reason".into(), json!(REASONS[item.state as usize]));
        if let Some(a) = item.assignee {
            f.insert("System.AssignedTo".into(), self.refs[a].clone());
        }
        let created = timestamp(times[0], 0);
        let changed = timestamp(*times.last().unwrap_or(&times[0]), 0);
        f.insert("System.CreatedDate".into(), json!(created));
        f.insert("System.CreatedBy".into(), self.refs[item.creator].clone());
        f.insert("System.ChangedDate".into(), json!(changed));
        f.insert(
            "System.ChangedBy".into(),
            self.refs[item.assignee.unwrap_or(item.creator)].clone(),
        );
        f.insert("System.CommentCount".into(), json!(item.comments));
        f.insert("System.Title".into(), json!(text::title(&mut r, type_name)));
        f.insert(
            "System.BoardColumn".into(),
            json!(STATE_NAMES[item.state as usize]),
        );
        let body = text::description(&mut r, &ctx);
        if item.kind == Kind::Bug {
            f.insert("Microsoft.VSTS.TCM.ReproSteps".into(), json!(body));
            f.insert(
                "Microsoft.VSTS.TCM.SystemInfo".into(),
                json!("<div>Browser: Edge 120, OS: Windows 11</div>"),
            );
            // Drawn even when overridden, so planting trouble shifts no later value.
            let drawn = ["1 - Critical", "2 - High", "3 - Medium", "4 - Low"][r.gen_range(0..4)];
            let retired = self.plan.retired_severity.binary_search(&item.id).is_ok();
            f.insert(
                "Microsoft.VSTS.Common.Severity".into(),
                json!(if retired { RETIRED_SEVERITY } else { drawn }),
            );
        } else {
            f.insert("System.Description".into(), json!(body));
        }
        let how_many = r.gen_range(0..=5);
        let tags: Vec<&str> = TAGS.choose_multiple(&mut r, how_many).copied().collect();
        if !tags.is_empty() {
            f.insert("System.Tags".into(), json!(tags.join("; ")));
        }
        if let Some(p) = item.parent {
            f.insert("System.Parent".into(), json!(p));
        }
        f.insert(
            "Microsoft.VSTS.Common.Priority".into(),
            json!(r.gen_range(1..=4)),
        );
        f.insert(
            "Microsoft.VSTS.Common.StateChangeDate".into(),
            json!(changed),
        );
        match item.kind {
            Kind::Epic | Kind::Feature => {
                f.insert(
                    "Microsoft.VSTS.Scheduling.Effort".into(),
                    json!(r.gen_range(1..40) as f64),
                );
                f.insert(
                    "Microsoft.VSTS.Common.ValueArea".into(),
                    json!(if r.gen_bool(0.8) {
                        "Business"
                    } else {
                        "Architectural"
                    }),
                );
            }
            Kind::Story => {
                f.insert(
                    "Microsoft.VSTS.Scheduling.StoryPoints".into(),
                    json!([1.0, 2.0, 3.0, 5.0, 8.0, 13.0][r.gen_range(0..6)]),
                );
                f.insert("Microsoft.VSTS.Common.ValueArea".into(), json!("Business"));
            }
            Kind::Task => {
                let estimate = r.gen_range(1..17) as f64;
                f.insert(
                    "Microsoft.VSTS.Scheduling.OriginalEstimate".into(),
                    json!(estimate),
                );
                f.insert(
                    "Microsoft.VSTS.Scheduling.RemainingWork".into(),
                    json!(if item.state == 2 { 0.0 } else { estimate / 2.0 }),
                );
            }
            Kind::Bug => {}
        }
        if r.gen_bool(0.5) {
            f.insert(
                "Custom.Customer".into(),
                json!(format!("Customer {}", r.gen_range(1..60))),
            );
        }
        f.insert(
            "Custom.RiskScore".into(),
            json!((r.gen_range(0..1000) as f64) / 10.0),
        );
        if r.gen_bool(0.3) {
            f.insert(
                "Custom.DueDate".into(),
                json!(timestamp((item.created + r.gen_range(7..120)) * 86_400, 0)),
            );
        }
        f.insert(
            "Custom.Environment".into(),
            json!(rng::pick(&mut r, &ENVIRONMENTS)),
        );
        let how_many = r.gen_range(1..=3);
        let platforms: Vec<&str> = PLATFORMS
            .choose_multiple(&mut r, how_many)
            .copied()
            .collect();
        f.insert("Custom.Platforms".into(), json!(platforms.join(";")));
        let url = format!("{}/_apis/wit/workItems/{}", self.org, item.id);
        let pid = self.project.1;
        json!({
            "id": item.id,
            "rev": item.revs,
            "fields": f,
            "relations": self.relations[item.id as usize - 1],
            "_links": {
                "self": { "href": url },
                "workItemUpdates": { "href": format!("{url}/updates") },
                "workItemRevisions": { "href": format!("{url}/revisions") },
                "workItemComments": { "href": format!("{url}/comments") },
                "html": { "href": format!("{}/web/wi.aspx?pcguid={pid}&id={}", self.org, item.id) },
                "workItemType": { "href": format!("{}/{pid}/_apis/wit/workItemTypes/{}", self.org, type_name.replace(' ', "%20")) },
                "fields": { "href": format!("{}/_apis/wit/fields", self.org) },
            },
            "url": url,
        })
    }

    /// The item's comments, oldest first; `first_id` is the organization-wide id of the first.
    pub fn comments(&self, item: &ItemPlan, first_id: u64) -> Vec<Value> {
        let mut r = rng::derived(self.seed, item.id, COMMENTS);
        let ctx = text::Context {
            org: self.org,
            people: &self.plan.people,
            max_id: self.plan.items.len() as u64,
            images: &[],
        };
        let total = item.comments + item.deleted_comments;
        let mut t = item.created * 86_400 + 20 * 3600;
        (0..total)
            .map(|k| {
                t += r.gen_range(60..8 * 3600);
                let deleted = item.deleted_comments > 0 && k == 1.min(total - 1);
                let author = self.refs[r.gen_range(0..self.refs.len())].clone();
                let cid = first_id + u64::from(k);
                let date = timestamp(t, 0);
                let text = if deleted { String::new() } else { text::comment(&mut r, &ctx) };
                json!({
                    "workItemId": item.id,
                    "id": cid,
                    "version": 1,
                    "text": text,
                    "format": "html",
                    "createdBy": author,
                    "createdDate": date,
                    "modifiedBy": author,
                    "modifiedDate": date,
                    "isDeleted": deleted,
                    "url": format!("{}/{}/_apis/wit/workItems/{}/comments/{cid}", self.org, self.project.1, item.id),
                })
            })
            .collect()
    }

    /// The item's updates: creation, edits, then its state transitions.
    pub fn updates(&self, item: &ItemPlan) -> Vec<Value> {
        let mut r = rng::derived(self.seed, item.id, UPDATES);
        let times = self.rev_times(item);
        let (area, iteration) = self.paths(item);
        let (type_name, _, _) = TYPES[item.kind as usize];
        let transitions_from = item.revs - u32::from(item.state);
        let mut priority = 2;
        (1..=item.revs)
            .map(|rev| {
                let who = self.person(if rev == 1 { item.creator } else { r.gen_range(0..self.plan.people.len()) });
                let date = timestamp(times[rev as usize - 1], 0);
                let mut fields = Map::new();
                fields.insert("System.Rev".into(), json!({ "oldValue": rev - 1, "newValue": rev }));
                if rev == 1 {
                    fields.insert("System.Rev".into(), json!({ "newValue": 1 }));
                    fields.insert("System.Id".into(), json!({ "newValue": item.id }));
                    fields.insert("System.WorkItemType".into(), json!({ "newValue": type_name }));
                    fields.insert("System.State".into(), json!({ "newValue": "New" }));
                    fields.insert("System.AreaPath".into(), json!({ "newValue": area }));
                    fields.insert("System.IterationPath".into(), json!({ "newValue": iteration }));
                    fields.insert("System.CreatedDate".into(), json!({ "newValue": date }));
                } else if rev > transitions_from {
                    let to = (rev - transitions_from) as usize;
                    fields.insert("System.State".into(), json!({ "oldValue": STATE_NAMES[to - 1], "newValue": STATE_NAMES[to] }));
                    fields.insert("System.Reason".into(), json!({ "oldValue": REASONS[to - 1], "newValue": REASONS[to] }));
                } else {
                    let next = r.gen_range(1..=4);
                    fields.insert("Microsoft.VSTS.Common.Priority".into(), json!({ "oldValue": priority, "newValue": next }));
                    priority = next;
                }
                fields.insert("System.ChangedDate".into(), json!({ "newValue": date }));
                json!({
                    "id": rev,
                    "workItemId": item.id,
                    "rev": rev,
                    "revisedBy": { "id": who.id, "name": format!("{} <{}>", who.name, who.email), "displayName": who.name, "uniqueName": who.email },
                    "revisedDate": date,
                    "fields": fields,
                    "url": format!("{}/_apis/wit/workItems/{}/updates/{rev}", self.org, item.id),
                })
            })
            .collect()
    }
}

fn attached_file(org: &str, a: &Attachment, k: usize) -> Value {
    json!({
        "rel": "AttachedFile",
        "url": format!("{org}/_apis/wit/attachments/{}", a.guid),
        "attributes": {
            "isLocked": false,
            "id": k + 1,
            "name": a.name,
            "resourceSize": a.size,
            "comment": "",
            "authorizedDate": "2026-01-05T10:00:00Z",
            "resourceCreatedDate": "2026-01-05T10:00:00Z",
            "resourceModifiedDate": "2026-01-05T10:00:00Z",
            "revisedDate": "9999-01-01T00:00:00Z",
        },
    })
}
