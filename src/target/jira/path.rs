//! Moving an issue through its workflow: the shortest path between two statuses.
//!
//! Jira has no "set status"; a run reaches the mapped status by walking the workflow one
//! transition per call, so the shortest walk is the cheapest and the least likely to trip
//! workflow rules on the way.

use std::collections::{HashMap, VecDeque};

use super::meta::{IssueTypeMeta, TransitionMeta};

impl IssueTypeMeta {
    /// The fewest transitions that take an issue from `from` to `to` (breadth-first, global
    /// transitions included): `Some(vec![])` when already there, `None` when unreachable.
    ///
    /// Jira has no "set status"; a run reaches the mapped status by walking the workflow, and
    /// every step costs a call, so the shortest walk is the cheapest.
    pub fn transition_path(&self, from: &str, to: &str) -> Option<Vec<&TransitionMeta>> {
        if from == to {
            return Some(Vec::new());
        }
        let transitions = &self.workflow.transitions;
        // status -> (previous status, transition index) on the shortest walk found.
        let mut came_from: HashMap<&str, (&str, usize)> = HashMap::new();
        let mut queue = VecDeque::from([from]);
        while let Some(at) = queue.pop_front() {
            for (i, t) in transitions.iter().enumerate() {
                let leaves_here = t.from.is_empty() || t.from.iter().any(|f| f == at);
                if !leaves_here || t.to == from || came_from.contains_key(t.to.as_str()) {
                    continue;
                }
                came_from.insert(&t.to, (at, i));
                if t.to == to {
                    return Some(walk_back(&came_from, transitions, from, to));
                }
                queue.push_back(&t.to);
            }
        }
        None
    }
}

/// The path recorded in `came_from`, from `from` to `to`, in order.
fn walk_back<'a>(
    came_from: &HashMap<&str, (&str, usize)>,
    transitions: &'a [TransitionMeta],
    from: &str,
    to: &str,
) -> Vec<&'a TransitionMeta> {
    let mut path = Vec::new();
    let mut at = to;
    while at != from {
        let Some(&(prev, i)) = came_from.get(at) else {
            break;
        };
        path.push(&transitions[i]);
        at = prev;
    }
    path.reverse();
    path
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::jira::Site;
    use crate::target::jira::meta::WorkflowMeta;

    /// The default site's Story type with its strict workflow, as a loader would build it.
    fn story() -> IssueTypeMeta {
        let site = Site::default_scrum();
        let wf = &site.workflows["SCRUM/10002"];
        IssueTypeMeta {
            id: "10002".into(),
            name: "Story".into(),
            hierarchy_level: 0,
            subtask: false,
            create_fields: Vec::new(),
            workflow: WorkflowMeta {
                initial: Some(wf.initial.clone()),
                transitions: wf
                    .transitions
                    .iter()
                    .map(|t| TransitionMeta {
                        id: t.id.clone(),
                        name: t.name.clone(),
                        from: t.from.clone(),
                        to: t.to.clone(),
                    })
                    .collect(),
            },
        }
    }

    fn ids(path: &[&TransitionMeta]) -> Vec<String> {
        path.iter().map(|t| t.id.clone()).collect()
    }

    #[test]
    fn to_do_to_done_takes_start_then_done_in_the_strict_workflow() {
        let ty = story();
        let path = ty.transition_path("10000", "10002").expect("reachable");
        assert_eq!(ids(&path), ["11", "21"]);
    }

    #[test]
    fn done_back_to_in_progress_goes_through_reopen() {
        let ty = story();
        let path = ty.transition_path("10002", "10001").expect("reachable");
        assert_eq!(ids(&path), ["51", "11"]);
    }

    #[test]
    fn staying_put_is_an_empty_path() {
        assert_eq!(
            story().transition_path("10001", "10001").map(|p| p.len()),
            Some(0)
        );
    }

    #[test]
    fn a_status_outside_the_workflow_is_unreachable() {
        assert!(story().transition_path("10000", "99999").is_none());
    }

    #[test]
    fn a_global_transition_is_available_from_every_status() {
        let mut ty = story();
        ty.workflow.transitions.push(TransitionMeta {
            id: "99".into(),
            name: "Abandon".into(),
            from: Vec::new(),
            to: "10003".into(),
        });
        assert_eq!(
            ids(&ty.transition_path("10000", "10003").expect("reachable")),
            ["99"]
        );
    }
}
