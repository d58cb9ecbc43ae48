//! Phase 6: the walk through the target workflow to the mapped status, last of an item's steps
//! (a workflow may make issues in its final status read-only).
//!
//! Jira has no "set status", and a transition is not idempotent: applied twice, the second
//! either fails (not available from the new status) or moves the issue somewhere else. So the
//! issue's status is read before every hop, and the walk goes on from wherever the issue is:
//! from its place on the planned path (`Planned::transitions`), or, if it is off the path (a
//! post-function, a person, a lost answer of a transition that went elsewhere), along the
//! shortest path from there. An issue already in its mapped status is done.
//!
//! One checkpoint per item (`StepKind::Transition`, ord 0): `sent` before the first hop, `done`
//! with the reached status id, or `failed` when Jira refuses a hop (a validator, a condition)
//! or no path leads there; a refused issue stays where it is. The status read before each hop
//! makes a per-hop checkpoint unnecessary.
//!
//! Reads cost quota points, so the status is read only when it is not known: an issue this run
//! created and never tried to move is in the workflow's initial status, and a hop Jira accepted
//! put it at that transition's target. A hop refused from an assumed status (an automation
//! moved the issue meanwhile) reads the status and goes on from there; a checkpoint in doubt,
//! an issue an earlier run made, or an unknown outcome reads it first.

use std::time::Duration;

use serde_json::{Value, json};

use super::{
    followup::{Job, refused},
    pace::Pacer,
};
use crate::{
    store::StepKind,
    target::jira::{JiraCallError, meta::IssueTypeMeta},
};

/// Hops with an unknown outcome tolerated per item before the run's turn ends.
const TRIES: usize = 5;

/// Moves the item's issue to its mapped status.
pub(crate) async fn transition(job: &Job<'_>, pacer: &mut Pacer) -> anyhow::Result<()> {
    let kind = StepKind::Transition;
    if job.finished(kind, 0) {
        return Ok(());
    }
    let in_doubt = job.in_doubt(kind, 0);
    if job.plan.transitions.is_empty() && !in_doubt {
        // Created in its mapped status.
        return job.done(kind, 0, None).await;
    }
    let Some(ty) = job
        .plan
        .jira_type
        .as_deref()
        .and_then(|id| job.ctx.target.issue_type(id))
    else {
        return job.failed(kind, 0, "transition_no_type").await;
    };
    let path = &job.plan.transitions;
    let Some(target) = target_status(ty, path) else {
        return job.failed(kind, 0, "transition_unknown").await;
    };
    if !in_doubt {
        job.sent(kind, 0).await?;
    }
    let mut unknown = 0;
    // The status without reading it, while it is known: the workflow's initial one for an issue
    // this run created and never moved, then each applied hop's target.
    let mut known = (!in_doubt && !job.found)
        .then(|| ty.workflow.initial.clone())
        .flatten();
    for _ in 0..=path.len() + TRIES {
        let assumed = known.is_some();
        let status = match known.take() {
            Some(status) => status,
            None => current_status(job).await?,
        };
        if status == target {
            return job.done(kind, 0, Some(&status)).await;
        }
        let Some(next) = next_hop(ty, path, &status, &target) else {
            return job.failed(kind, 0, "transition_no_path").await;
        };
        let url = format!("/rest/api/3/issue/{}/transitions", job.jira_key);
        let body = json!({ "transition": { "id": next } });
        pacer.wait().await;
        let answer = job.ctx.jira.client.post_json::<_, Value>(&url, &body).await;
        pacer.wrote();
        match answer {
            Ok(_) => known = arrives(ty, &next),
            // Not where it was assumed to be (an automation moved it): read it and go on.
            Err(e) if refused(&e) && assumed => {}
            Err(e) if refused(&e) => return job.failed(kind, 0, "transition_refused").await,
            Err(JiraCallError::RateLimited { retry_after, .. })
                if retry_after.is_none_or(|w| w <= Duration::from_secs(30)) =>
            {
                tokio::time::sleep(retry_after.unwrap_or(Duration::from_secs(1))).await;
            }
            Err(e @ JiraCallError::RateLimited { .. }) => {
                return Err(anyhow::anyhow!("transition of {}: {e}", job.jira_key));
            }
            Err(e) => {
                unknown += 1;
                tracing::warn!(item = job.plan.ado_id, error = %e,
                    "transition with an unknown outcome; reading the status again");
                if unknown > TRIES {
                    break;
                }
            }
        }
    }
    Err(anyhow::anyhow!(
        "transition of {}: not at its status after {} tries",
        job.jira_key,
        path.len() + TRIES
    ))
}

/// The status a transition arrives at.
fn arrives(ty: &IssueTypeMeta, transition: &str) -> Option<String> {
    ty.workflow
        .transitions
        .iter()
        .find(|t| t.id == transition)
        .map(|t| t.to.clone())
}

/// Where the planned path ends.
fn target_status(ty: &IssueTypeMeta, path: &[String]) -> Option<String> {
    arrives(ty, path.last()?)
}

/// The next transition from `status`: the planned one if the issue is on the planned path,
/// else the first of the shortest path from where it is.
fn next_hop(ty: &IssueTypeMeta, path: &[String], status: &str, target: &str) -> Option<String> {
    let initial = ty.workflow.initial.as_deref();
    let at = if initial == Some(status) {
        Some(0)
    } else {
        path.iter()
            .position(|id| arrives(ty, id).as_deref() == Some(status))
            .map(|i| i + 1)
    };
    let leaves = |id: &str| {
        ty.workflow
            .transitions
            .iter()
            .any(|t| t.id == id && (t.from.is_empty() || t.from.iter().any(|f| f == status)))
    };
    if let Some(id) = at.and_then(|i| path.get(i)).filter(|id| leaves(id)) {
        return Some(id.clone());
    }
    ty.transition_path(status, target)?
        .first()
        .map(|t| t.id.clone())
}

/// The issue's status id, as Jira has it now.
async fn current_status(job: &Job<'_>) -> anyhow::Result<String> {
    let path = format!("/rest/api/3/issue/{}?fields=status", job.jira_key);
    let issue: Value = job
        .ctx
        .jira
        .client
        .get_json(&path)
        .await
        .map_err(|e| anyhow::anyhow!("reading the status of {}: {e}", job.jira_key))?;
    issue["fields"]["status"]["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("{} has no status", job.jira_key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::jira::meta::{TransitionMeta, WorkflowMeta};

    fn t(id: &str, from: &[&str], to: &str) -> TransitionMeta {
        TransitionMeta {
            id: id.into(),
            name: id.into(),
            from: from.iter().map(|s| (*s).to_owned()).collect(),
            to: to.into(),
        }
    }

    fn strict() -> IssueTypeMeta {
        IssueTypeMeta {
            id: "1".into(),
            name: "Bug".into(),
            hierarchy_level: 0,
            subtask: false,
            create_fields: Vec::new(),
            workflow: WorkflowMeta {
                initial: Some("1".into()),
                transitions: vec![
                    t("11", &["1"], "2"),
                    t("21", &["2"], "3"),
                    t("31", &["3"], "4"),
                    t("41", &[], "1"),
                ],
            },
        }
    }

    #[test]
    fn the_walk_goes_on_from_where_the_issue_is() {
        let ty = strict();
        let path: Vec<String> = ["11", "21", "31"].map(String::from).to_vec();
        assert_eq!(target_status(&ty, &path).as_deref(), Some("4"));
        assert_eq!(next_hop(&ty, &path, "1", "4").as_deref(), Some("11"));
        assert_eq!(next_hop(&ty, &path, "2", "4").as_deref(), Some("21"));
        assert_eq!(next_hop(&ty, &path, "3", "4").as_deref(), Some("31"));
        // Off the path (nothing leaves "9" but the global transition back to the start).
        assert_eq!(next_hop(&ty, &path, "9", "4").as_deref(), Some("41"));
    }
}
