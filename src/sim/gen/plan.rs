//! The dataset's structure, decided before any text is written: which items exist, their
//! types, parents, states, sprints, people, comment counts, links and attachments.
//!
//! Proportions follow workload M of `reference/api-limits-and-benchmark.md` §6.1, scaled by
//! `items / 10,000`; counts are exact (chosen by shuffling, not by coin flips), so the
//! `_generator.expected` block can state them and tests can check them.

use std::collections::HashSet;

use rand::Rng;
use rand::seq::SliceRandom;

use super::rng::{self, Stream};

/// Workload M's size; every count below scales by `items / M`.
pub const M: usize = 10_000;
/// ADO's attachment size cap (60 MB).
pub const MAX_ATTACHMENT: u64 = 60 * 1024 * 1024;
/// The size of the large files workload M adds (5 × 50 MB).
pub const LARGE_ATTACHMENT: u64 = 50 * 1024 * 1024;

/// Work item kinds, in create-wave order (index into [`super::process::TYPES`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Epic
    Epic = 0,
    /// Feature
    Feature = 1,
    /// User Story
    Story = 2,
    /// Task
    Task = 3,
    /// Bug
    Bug = 4,
}

/// Non-hierarchy link kinds: (forward rel, reverse rel, forward name, reverse name).
pub const LINK_KINDS: [(&str, &str, &str, &str); 4] = [
    (
        "System.LinkTypes.Related",
        "System.LinkTypes.Related",
        "Related",
        "Related",
    ),
    (
        "System.LinkTypes.Duplicate-Forward",
        "System.LinkTypes.Duplicate-Reverse",
        "Duplicate",
        "Duplicate Of",
    ),
    (
        "System.LinkTypes.Dependency-Forward",
        "System.LinkTypes.Dependency-Reverse",
        "Successor",
        "Predecessor",
    ),
    (
        "Microsoft.VSTS.Common.TestedBy-Forward",
        "Microsoft.VSTS.Common.TestedBy-Reverse",
        "Tested By",
        "Tests",
    ),
];

/// One work item's decided structure.
#[derive(Clone, Debug)]
pub struct ItemPlan {
    /// Work item id (1-based, dense).
    pub id: u64,
    /// Its type.
    pub kind: Kind,
    /// Parent id.
    pub parent: Option<u64>,
    /// 0 = New, 1 = Active, 2 = Closed (the number of transitions from New).
    pub state: u8,
    /// Index into [`Plan::sprints`].
    pub sprint: Option<usize>,
    /// Index into [`Plan::areas`].
    pub area: usize,
    /// Index into [`Plan::people`].
    pub assignee: Option<usize>,
    /// Index into [`Plan::people`].
    pub creator: usize,
    /// Day number of creation.
    pub created: i64,
    /// Visible comments.
    pub comments: u32,
    /// Deleted comments (served only with `includeDeleted=true`).
    pub deleted_comments: u32,
    /// Number of revisions.
    pub revs: u32,
}

/// A sprint: name, start and finish day numbers.
#[derive(Clone, Debug)]
pub struct Sprint {
    /// `Sprint N`.
    pub name: String,
    /// First day.
    pub start: i64,
    /// Last day.
    pub finish: i64,
}

/// A person: display name, e-mail, and whether Jira has an account for them.
#[derive(Clone, Debug)]
pub struct Person {
    /// The identity GUID.
    pub id: String,
    /// "Ada Lovelace".
    pub name: String,
    /// Unique name (e-mail).
    pub email: String,
    /// False for the 20% whose mail domain the default Jira site does not know.
    pub resolvable: bool,
}

/// A file attached to an item (an `AttachedFile` relation) or inlined in its description.
#[derive(Clone, Debug)]
pub struct Attachment {
    /// The owning item.
    pub item: u64,
    /// The attachment GUID.
    pub guid: String,
    /// File name.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// Seed of the synthetic bytes.
    pub seed: u64,
    /// True for images inlined in the description (no relation).
    pub inline: bool,
}

/// The whole plan.
pub struct Plan {
    /// Items by `id - 1`.
    pub items: Vec<ItemPlan>,
    /// People.
    pub people: Vec<Person>,
    /// Leaf area names under the project root, as `Group\Team`.
    pub areas: Vec<String>,
    /// Sprints, oldest first; index `active` is the current one.
    pub sprints: Vec<Sprint>,
    /// Index of the active sprint.
    pub active_sprint: usize,
    /// Non-hierarchy links: (source id, target id, kind index into [`LINK_KINDS`]).
    pub links: Vec<(u64, u64, usize)>,
    /// Items with a `Hyperlink` relation.
    pub hyperlinks: Vec<u64>,
    /// Items with an `ArtifactLink` relation (a Git commit).
    pub artifact_links: Vec<u64>,
    /// Attachments, grouped by item in id order.
    pub attachments: Vec<Attachment>,
    /// Bugs carrying a retired Severity value, ascending (planted trouble; see `trouble.rs`).
    pub retired_severity: Vec<u64>,
}

fn scale(n: usize, at_m: usize) -> usize {
    ((n * at_m) as f64 / M as f64).round() as usize
}

const FIRST: [&str; 20] = [
    "Ada",
    "Grace",
    "Alan",
    "Edsger",
    "Barbara",
    "Donald",
    "Margaret",
    "Ken",
    "Frances",
    "Dennis",
    "Radia",
    "Linus",
    "Katherine",
    "Tim",
    "Hedy",
    "John",
    "Sophie",
    "Niklaus",
    "Anita",
    "Bjarne",
];
const LAST: [&str; 20] = [
    "Lovelace",
    "Hopper",
    "Turing",
    "Dijkstra",
    "Liskov",
    "Knuth",
    "Hamilton",
    "Thompson",
    "Allen",
    "Ritchie",
    "Perlman",
    "Torvalds",
    "Johnson",
    "Berners",
    "Lamarr",
    "Backus",
    "Wilson",
    "Wirth",
    "Borg",
    "Stroustrup",
];

/// The mail domain of people the default Jira site has accounts for.
pub const RESOLVABLE_DOMAIN: &str = "contoso.com";
/// The mail domain of people it does not (20% of identities).
pub const UNRESOLVABLE_DOMAIN: &str = "partners.contoso-external.example";

/// Decides everything structural. `anchor` is the day the dataset treats as "today".
pub fn plan(n: usize, seed: u64, anchor: i64) -> Plan {
    let mut rng = rng::derived(seed, 0, 1);
    let counts = type_counts(n);
    let mut items: Vec<ItemPlan> = Vec::with_capacity(n);
    for (k, kind) in [
        Kind::Epic,
        Kind::Feature,
        Kind::Story,
        Kind::Task,
        Kind::Bug,
    ]
    .into_iter()
    .enumerate()
    {
        for _ in 0..counts[k] {
            let id = items.len() as u64 + 1;
            items.push(ItemPlan {
                id,
                kind,
                parent: None,
                state: 0,
                sprint: None,
                area: 0,
                assignee: None,
                creator: 0,
                created: 0,
                comments: 0,
                deleted_comments: 0,
                revs: 1,
            });
        }
    }
    let ids_of = |items: &[ItemPlan], kind: Kind| -> Vec<u64> {
        items
            .iter()
            .filter(|i| i.kind == kind)
            .map(|i| i.id)
            .collect()
    };
    let (epics, features, stories) = (
        ids_of(&items, Kind::Epic),
        ids_of(&items, Kind::Feature),
        ids_of(&items, Kind::Story),
    );
    // Hierarchy: Feature→Epic 100%, Story→Feature 90%, Task→Story 100%, Bug→Story 50%.
    for (child, parents, share) in [
        (Kind::Feature, &epics, 1.0),
        (Kind::Story, &features, 0.9),
        (Kind::Task, &stories, 1.0),
        (Kind::Bug, &stories, 0.5),
    ] {
        if parents.is_empty() {
            continue;
        }
        let mut children = ids_of(&items, child);
        children.shuffle(&mut rng);
        let with_parent = (children.len() as f64 * share).round() as usize;
        for c in &children[..with_parent] {
            items[*c as usize - 1].parent = Some(*rng::pick(&mut rng, parents));
        }
    }
    // States: 30% New, 30% Active, 40% Closed.
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut rng);
    let (new, active) = (scale(n, 3_000), scale(n, 3_000));
    for (rank, i) in order.iter().enumerate() {
        items[*i].state = if rank < new {
            0
        } else if rank < new + active {
            1
        } else {
            2
        };
    }
    let people = people(n, &mut rng);
    let areas: Vec<String> = ["Web", "Mobile", "Platform"]
        .iter()
        .flat_map(|g| {
            ["Core", "Growth", "Quality"]
                .iter()
                .map(move |t| format!("{g}\\{t}"))
        })
        .collect();
    let (sprints, active_sprint) = sprints(n, anchor);
    assign_sprints(&mut items, &sprints, active_sprint, n, &mut rng);
    for item in &mut items {
        item.area = rng.gen_range(0..areas.len());
        item.creator = rng.gen_range(0..people.len());
        item.assignee = (rng.gen_range(0..10) < 8).then(|| rng.gen_range(0..people.len()));
        item.created = match item.sprint {
            Some(s) => sprints[s].start - rng.gen_range(0..21),
            None => anchor - rng.gen_range(30..720),
        };
        item.revs = 1 + u32::from(item.state) + rng.gen_range(0..=16);
    }
    assign_comments(&mut items, n, &mut rng);
    let links = links(&items, n, &mut rng);
    let mut pool: Vec<u64> = (1..=n as u64).collect();
    pool.shuffle(&mut rng);
    let hyperlinks = sorted(&pool[..scale(n, 500).min(n)]);
    pool.shuffle(&mut rng);
    let artifact_links = sorted(&pool[..scale(n, 300).min(n)]);
    let attachments = attachments(n, seed, &mut rng);
    Plan {
        items,
        people,
        areas,
        sprints,
        active_sprint,
        links,
        hyperlinks,
        artifact_links,
        attachments,
        retired_severity: Vec::new(),
    }
}

fn sorted(ids: &[u64]) -> Vec<u64> {
    let mut v = ids.to_vec();
    v.sort_unstable();
    v
}

/// Epic 2%, Feature 8%, User Story 40%, Task 35%, Bug the rest (15%).
pub fn type_counts(n: usize) -> [usize; 5] {
    let (e, f, s, t) = (
        scale(n, 200),
        scale(n, 800),
        scale(n, 4_000),
        scale(n, 3_500),
    );
    [e, f, s, t, n.saturating_sub(e + f + s + t)]
}

fn people(n: usize, rng: &mut Stream) -> Vec<Person> {
    let count = scale(n, 250).max(10);
    let unresolvable = count / 5;
    (0..count)
        .map(|i| {
            let (first, last) = (
                FIRST[i % FIRST.len()],
                LAST[(i / FIRST.len() + i) % LAST.len()],
            );
            let resolvable = i >= unresolvable;
            let domain = if resolvable {
                RESOLVABLE_DOMAIN
            } else {
                UNRESOLVABLE_DOMAIN
            };
            Person {
                id: rng::guid(rng),
                name: format!("{first} {last}"),
                email: format!(
                    "{}.{}{}@{domain}",
                    first.to_lowercase(),
                    last.to_lowercase(),
                    i
                ),
                resolvable,
            }
        })
        .collect()
}

/// 60 sprints at M (48 closed, 1 active, 11 future), two weeks each, the active one holding
/// `anchor`.
fn sprints(n: usize, anchor: i64) -> (Vec<Sprint>, usize) {
    let total = scale(n, 60).max(3);
    let future = scale(n, 11).clamp(1, total - 2);
    let closed = total - 1 - future;
    let first_start = anchor - 7 - 14 * closed as i64;
    let sprints = (0..total)
        .map(|i| {
            let start = first_start + 14 * i as i64;
            Sprint {
                name: format!("Sprint {}", i + 1),
                start,
                finish: start + 11,
            }
        })
        .collect();
    (sprints, closed)
}

/// 60% of items in sprints, Closed items in past sprints, Active in the current one, New in
/// future ones. Epics and Features are picked last: they rarely sit in a sprint.
fn assign_sprints(
    items: &mut [ItemPlan],
    sprints: &[Sprint],
    active: usize,
    n: usize,
    rng: &mut Stream,
) {
    let mut candidates: Vec<usize> = (0..items.len()).collect();
    candidates.shuffle(rng);
    candidates.sort_by_key(|i| matches!(items[*i].kind, Kind::Epic | Kind::Feature));
    for i in candidates.into_iter().take(scale(n, 6_000)) {
        items[i].sprint = Some(match items[i].state {
            2 if active > 0 => rng.gen_range(0..active),
            0 if active + 1 < sprints.len() => rng.gen_range(active + 1..sprints.len()),
            _ => active,
        });
    }
}

/// 3 comments per item on average: the hot items first (2 × 1,000 and 8 × 250 at M, one of 250
/// at S), 45% of items with none, the rest spread lognormally, at most 200 each. Every 25th
/// commented item also has a deleted comment.
fn assign_comments(items: &mut [ItemPlan], n: usize, rng: &mut Stream) {
    let total = 3 * n;
    let mut hot: Vec<u32> = vec![1_000; 2 * n / M];
    hot.extend(vec![250; (8 * n / M).max(1)]);
    while hot.iter().sum::<u32>() as usize > total / 2 {
        hot.pop();
    }
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.shuffle(rng);
    order.sort_by_key(|i| !matches!(items[*i].kind, Kind::Story | Kind::Bug));
    let hot_total: usize = hot.iter().map(|h| *h as usize).sum();
    for (slot, c) in order.iter().zip(&hot) {
        items[*slot].comments = *c;
    }
    let mut rest: Vec<usize> = order[hot.len()..].to_vec();
    rest.shuffle(rng);
    let commented = (scale(n, 5_500).saturating_sub(hot.len())).min(rest.len());
    let remaining = total - hot_total;
    let chosen = &rest[..commented.min(remaining)];
    if chosen.is_empty() {
        return;
    }
    let weights: Vec<f64> = chosen
        .iter()
        .map(|_| rng::lognormal(rng, 1.0, 1.0, 0.05, 20.0))
        .collect();
    let sum: f64 = weights.iter().sum();
    let spare = (remaining - chosen.len()) as f64;
    let mut given = 0usize;
    for (i, w) in chosen.iter().zip(&weights) {
        let c = (1 + (w / sum * spare) as usize).min(200);
        items[*i].comments = c as u32;
        given += c;
    }
    let mut k = 0;
    while given < remaining {
        let i = chosen[k % chosen.len()];
        if items[i].comments < 200 {
            items[i].comments += 1;
            given += 1;
        }
        k += 1;
    }
    for (rank, i) in chosen.iter().enumerate() {
        if rank % 25 == 0 {
            items[*i].deleted_comments = 1;
        }
    }
}

/// 7,500 links at M: Related 60%, Duplicate 10%, Dependency 20%, Tested-By 10%; never two
/// links (of any kind, hierarchy included) between the same pair.
fn links(items: &[ItemPlan], n: usize, rng: &mut Stream) -> Vec<(u64, u64, usize)> {
    let total = scale(n, 7_500);
    let per_kind = [scale(n, 4_500), scale(n, 750), scale(n, 1_500)];
    let per_kind = [
        per_kind[0],
        per_kind[1],
        per_kind[2],
        total.saturating_sub(per_kind.iter().sum()),
    ];
    let mut used: HashSet<(u64, u64)> = items
        .iter()
        .filter_map(|i| i.parent.map(|p| (p.min(i.id), p.max(i.id))))
        .collect();
    let mut out = Vec::with_capacity(total);
    if n < 2 {
        return out;
    }
    for (kind, count) in per_kind.iter().enumerate() {
        let mut made = 0;
        let mut tries = 0;
        while made < *count && tries < count * 50 {
            tries += 1;
            let (a, b) = (rng.gen_range(1..=n as u64), rng.gen_range(1..=n as u64));
            if a != b && used.insert((a.min(b), a.max(b))) {
                out.push((a, b, kind));
                made += 1;
            }
        }
    }
    out
}

const FILE_NAMES: [&str; 8] = [
    "screenshot.png",
    "server.log",
    "design.pdf",
    "export.csv",
    "trace.zip",
    "mockup.jpg",
    "notes.docx",
    "dump.json",
];

/// 2,000 files on 1,000 items at M (lognormal, median 100 KB, σ 1.8, capped at 60 MB), plus
/// 5 × 50 MB, plus one inline image in 10% of descriptions.
fn attachments(n: usize, seed: u64, rng: &mut Stream) -> Vec<Attachment> {
    let mut pool: Vec<u64> = (1..=n as u64).collect();
    pool.shuffle(rng);
    let holders = scale(n, 1_000).min(n);
    let files = scale(n, 2_000).max(holders);
    let mut per_item = vec![1usize; holders];
    for _ in holders..files {
        let h = rng.gen_range(0..holders);
        if per_item[h] < 100 {
            per_item[h] += 1;
        }
    }
    let mut out = Vec::new();
    let mut push = |rng: &mut Stream, item: u64, name: String, size: u64, inline: bool| {
        let guid = rng::guid(rng);
        let file_seed = rng::mix(seed ^ rng::mix(out.len() as u64 + 1));
        out.push(Attachment {
            item,
            guid,
            name,
            size,
            seed: file_seed,
            inline,
        });
    };
    for (h, count) in per_item.iter().enumerate() {
        for k in 0..*count {
            let size = rng::lognormal(rng, 100_000.0, 1.8, 1.0, MAX_ATTACHMENT as f64) as u64;
            let name = format!("{}-{}", k + 1, rng::pick(rng, &FILE_NAMES));
            push(rng, pool[h], name, size, false);
        }
    }
    for k in 0..(5 * n / M) {
        let item = pool[rng.gen_range(0..holders.max(1)).min(n - 1)];
        push(
            rng,
            item,
            format!("capture-{}.mp4", k + 1),
            LARGE_ATTACHMENT,
            false,
        );
    }
    pool.shuffle(rng);
    for item in &pool[..scale(n, 1_000).min(n)] {
        let size = rng.gen_range(20_000..300_000);
        push(rng, *item, "image.png".into(), size, true);
    }
    out.sort_by_key(|a| a.item);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workload_m_has_the_counts_of_the_benchmark_design() {
        let p = plan(M, 1, 20_000);
        let of = |k: Kind| p.items.iter().filter(|i| i.kind == k).count();
        assert_eq!(
            [
                of(Kind::Epic),
                of(Kind::Feature),
                of(Kind::Story),
                of(Kind::Task),
                of(Kind::Bug)
            ],
            [200, 800, 4_000, 3_500, 1_500]
        );
        let comments: u32 = p.items.iter().map(|i| i.comments).sum();
        assert_eq!(comments, 30_000);
        assert_eq!(
            p.items.iter().filter(|i| i.comments == 0).count(),
            4_500,
            "45% without comments"
        );
        let mut hot: Vec<u32> = p
            .items
            .iter()
            .map(|i| i.comments)
            .filter(|c| *c > 200)
            .collect();
        hot.sort_unstable();
        assert_eq!(hot, [250, 250, 250, 250, 250, 250, 250, 250, 1_000, 1_000]);
        assert_eq!(p.links.len(), 7_500);
        assert_eq!(
            p.items.iter().map(|i| u32::from(i.state)).sum::<u32>(),
            11_000,
            "transition steps"
        );
        assert_eq!(
            (p.sprints.len(), p.active_sprint),
            (60, 48),
            "48 closed, 1 active, 11 future"
        );
        assert_eq!(p.items.iter().filter(|i| i.sprint.is_some()).count(), 6_000);
        let files: Vec<&Attachment> = p.attachments.iter().filter(|a| !a.inline).collect();
        assert_eq!(files.len(), 2_005, "2,000 files plus 5 × 50 MB");
        assert_eq!(
            files.iter().filter(|a| a.size == LARGE_ATTACHMENT).count(),
            5
        );
        let mut holders: Vec<u64> = files
            .iter()
            .filter(|a| a.size != LARGE_ATTACHMENT)
            .map(|a| a.item)
            .collect();
        holders.dedup();
        assert_eq!(holders.len(), 1_000);
        assert!(files.iter().all(|a| a.size <= MAX_ATTACHMENT));
        let mut sizes: Vec<u64> = files.iter().map(|a| a.size).collect();
        sizes.sort_unstable();
        let median = sizes[sizes.len() / 2];
        assert!(
            (70_000..140_000).contains(&median),
            "median {median} is near 100 KB"
        );
        assert_eq!(
            (
                p.people.len(),
                p.people.iter().filter(|x| !x.resolvable).count()
            ),
            (250, 50)
        );
        let revs: u32 = p.items.iter().map(|i| i.revs).sum();
        assert!(
            (95_000..125_000).contains(&revs),
            "about 10 revisions per item: {revs}"
        );
    }
}
