//! Planted trouble: a few items a migration cannot carry over as they are, so the dry run and
//! the run have something real to report.
//!
//! - `retired_severity`: Bugs whose `Microsoft.VSTS.Common.Severity` is `5 - Cosmetic`, a value
//!   removed from the process's list after the item was filed (ADO keeps such values on old
//!   items). The generator otherwise writes `1 - Critical` … `4 - Low`, and the default Jira
//!   site's Severity options are `Critical`, `Major`, `Minor`, so no mapping of the four
//!   values covers it.
//! - `skip_level_parent`: Tasks whose parent is a Feature instead of a User Story. ADO allows
//!   any hierarchy; in Jira a Task (level 0) cannot sit under an Epic-level issue, and as a
//!   Sub-task it would need a level-0 parent.
//! - `outside_parent`: User Stories whose parent is a work item of another project (ids from
//!   [`OUTSIDE_BASE`] + 1 up, above every dataset id), which no run over this project creates.
//!
//! Choices come from their own stream, and the plan's other streams are drawn exactly as
//! without trouble, so planting changes nothing else: every other value and count stays. The
//! chosen items already had a parent, so `with_parent` keeps its counts too.

use std::collections::{BTreeMap, HashSet};

use rand::seq::SliceRandom;

use super::plan::{Kind, Plan};
use super::rng;

/// The value planted on `retired_severity` Bugs.
pub const RETIRED_SEVERITY: &str = "5 - Cosmetic";

/// Ids of outside parents start above this (when the dataset is smaller than it).
pub const OUTSIDE_BASE: u64 = 9_000_000;

/// The stream's purpose number (see [`rng::derived`]); no other stream uses it.
const TROUBLE: u64 = 17;

/// The trouble kinds, as keys of `Expected::trouble`.
pub const KINDS: [&str; 3] = ["outside_parent", "retired_severity", "skip_level_parent"];

/// Every kind with no items: what a dataset without trouble records.
pub fn none() -> BTreeMap<String, Vec<u64>> {
    KINDS
        .iter()
        .map(|k| ((*k).to_owned(), Vec::new()))
        .collect()
}

/// `share_per_mille`‰ of `n`, rounded.
fn per_mille(n: usize, share: usize) -> usize {
    (n * share + 500) / 1000
}

/// Plants the trouble into `plan` and returns the affected item ids by kind, ascending.
pub fn plant(plan: &mut Plan, seed: u64) -> BTreeMap<String, Vec<u64>> {
    let n = plan.items.len();
    let mut rng = rng::derived(seed, 0, TROUBLE);
    let ids_where = |plan: &Plan, f: &dyn Fn(&super::plan::ItemPlan) -> bool| -> Vec<u64> {
        plan.items.iter().filter(|i| f(i)).map(|i| i.id).collect()
    };
    let mut out = none();

    // About 0.2 %, Bugs only; at least one from workload S up.
    let mut bugs = ids_where(plan, &|i| i.kind == Kind::Bug);
    let want = per_mille(n, 2).max(usize::from(n >= 1_000));
    bugs.shuffle(&mut rng);
    let mut retired: Vec<u64> = bugs.into_iter().take(want).collect();
    retired.sort_unstable();
    plan.retired_severity = retired.clone();
    out.insert("retired_severity".into(), retired);

    // About 0.3 %: Tasks moved from their Story to a Feature, never onto a pair already linked.
    let features = ids_where(plan, &|i| i.kind == Kind::Feature);
    let mut tasks = ids_where(plan, &|i| i.kind == Kind::Task && i.parent.is_some());
    tasks.shuffle(&mut rng);
    let linked: HashSet<(u64, u64)> = plan
        .links
        .iter()
        .map(|(a, b, _)| ((*a).min(*b), (*a).max(*b)))
        .collect();
    let mut skipped = Vec::new();
    if !features.is_empty() {
        for task in tasks.into_iter().take(per_mille(n, 3)) {
            let free = (0..16)
                .map(|_| *rng::pick(&mut rng, &features))
                .find(|f| !linked.contains(&((*f).min(task), (*f).max(task))));
            if let Some(feature) = free {
                plan.items[task as usize - 1].parent = Some(feature);
                skipped.push(task);
            }
        }
    }
    skipped.sort_unstable();
    out.insert("skip_level_parent".into(), skipped);

    // About 0.1 %: Stories whose parent lives in another project.
    let mut stories = ids_where(plan, &|i| i.kind == Kind::Story && i.parent.is_some());
    stories.shuffle(&mut rng);
    let mut outside: Vec<u64> = stories.into_iter().take(per_mille(n, 1)).collect();
    outside.sort_unstable();
    let base = OUTSIDE_BASE.max(n as u64);
    for (k, story) in outside.iter().enumerate() {
        plan.items[*story as usize - 1].parent = Some(base + k as u64 + 1);
    }
    out.insert("outside_parent".into(), outside);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::r#gen::plan::plan;

    #[test]
    fn planting_moves_only_the_chosen_parents_and_keeps_parent_counts() {
        let before = plan(1_000, 7, 20_000);
        let mut after = plan(1_000, 7, 20_000);
        let trouble = plant(&mut after, 7);
        let changed: Vec<u64> = before
            .items
            .iter()
            .zip(&after.items)
            .filter(|(a, b)| a.parent != b.parent)
            .map(|(a, _)| a.id)
            .collect();
        let mut moved: Vec<u64> = trouble["skip_level_parent"]
            .iter()
            .chain(&trouble["outside_parent"])
            .copied()
            .collect();
        moved.sort_unstable();
        assert_eq!(changed, moved);
        assert_eq!(
            [3, 1, 2],
            [
                trouble["skip_level_parent"].len(),
                trouble["outside_parent"].len(),
                trouble["retired_severity"].len(),
            ]
        );
        let parented = |p: &Plan| p.items.iter().filter(|i| i.parent.is_some()).count();
        assert_eq!(parented(&before), parented(&after));
    }

    #[test]
    fn tiny_datasets_plant_what_they_can_without_panicking() {
        for n in [0, 1, 2, 5, 20, 300] {
            let mut p = plan(n, 1, 20_000);
            let trouble = plant(&mut p, 1);
            assert_eq!(trouble.len(), 3, "{n}");
        }
    }
}
