//! Phase 3: the parent that could not be set at creation.
//!
//! Phase 2 sets `parent` in the create call when the parent's key is in this run's id map at
//! that moment. An item whose plan names a parent may still have been created without it: the
//! parent came in the same wave (a fallback type can put a child on its parent's level), the
//! item was already in Jira from an earlier run that did not migrate the parent (a narrower
//! scope), or the parent was migrated by another run. Those are checked against the issue and
//! the parent is set with an edit (`PUT`, idempotent). A parent that was never migrated is
//! recorded as failed with `parent_not_migrated`: nothing is left out silently. A later run
//! that migrates the parent finds the child already in Jira and sets it then.
//!
//! A parent outside the migration (`Planned::outside_parent`) is set the same way when an
//! earlier run migrated it; Jira refuses it when the levels do not fit (`parent_refused`).
//! When no run migrated it the item simply has no parent, as the dry run said.
//! <https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-issue-issueidorkey-put>

use std::collections::HashMap;

use anyhow::Context as _;
use serde_json::{Value, json};

use super::followup::{Job, refused};
use crate::store::{MigratedItem, StepKind};

/// Where this item and the other ends of its parent and links are in Jira (this run's id map
/// first, then earlier runs' over the same ADO connection and Jira project).
pub(crate) struct Ends {
    /// This item's own row (always this run's: only created items are followed).
    pub me: Option<MigratedItem>,
    /// The parent's and link ends' rows, by ADO id.
    pub others: HashMap<i64, MigratedItem>,
}

impl Ends {
    /// Looks up the item, its parent and its links' other ends in one query.
    pub async fn of(job: &Job<'_>) -> anyhow::Result<Self> {
        let mut ids: Vec<i64> = job.plan.links.iter().map(|(_, other, _)| *other).collect();
        ids.extend(job.plan.parent.or(job.plan.outside_parent));
        if ids.is_empty() {
            return Ok(Self {
                me: None,
                others: HashMap::new(),
            });
        }
        ids.push(job.plan.ado_id);
        ids.sort_unstable();
        ids.dedup();
        let rows = job
            .state
            .store
            .migrated_items(
                job.run,
                &job.ctx.connection_id,
                &job.ctx.jira.project_key,
                &ids,
            )
            .await
            .context("reading the id map")?;
        let mut others: HashMap<i64, MigratedItem> =
            rows.into_iter().map(|r| (r.ado_id, r)).collect();
        let me = others.remove(&job.plan.ado_id);
        Ok(Self { me, others })
    }

    /// The Jira reference (`{"id": …}`, else `{"key": …}`) of a migrated item.
    pub fn issue_ref(item: &MigratedItem) -> Value {
        match (&item.jira_id, &item.jira_key) {
            (Some(id), _) => json!({ "id": id }),
            (None, Some(key)) => json!({ "key": key }),
            (None, None) => Value::Null,
        }
    }
}

/// What phase 3 does for an item whose plan names a parent.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ParentAction {
    /// The parent was set in the create call: nothing to do.
    AtCreation,
    /// This run created the issue, but maybe without its parent (the parent was created in
    /// the same wave, or by an earlier run): set it without reading first. Setting the parent
    /// an issue already has changes nothing, and a read would cost more than the write.
    Set,
    /// The parent is in Jira, but the issue (found there, not created by this run) may lack
    /// it: read the issue, set it if missing.
    Check,
    /// The parent is not in Jira (failed, skipped, or not migrated by any run).
    Missing,
}

/// Decides phase 3 for an item. The create call carried `parent` exactly when this run created
/// the item (it sent it at least once) and the parent was already in this run's id map, which
/// the waves guarantee when the parent's wave is earlier: a wave starts only once every earlier
/// one is created or failed, and a created item never goes back. Another item this run created
/// gets its parent set; one it found in Jira is checked first.
pub(crate) fn decide(me: Option<&MigratedItem>, parent: Option<&MigratedItem>) -> ParentAction {
    let Some(parent) = parent else {
        return ParentAction::Missing;
    };
    match me {
        Some(me)
            if me.this_run == 1
                && me.attempts > 0
                && parent.this_run == 1
                && parent.wave < me.wave =>
        {
            ParentAction::AtCreation
        }
        Some(me) if me.this_run == 1 && me.attempts > 0 => ParentAction::Set,
        _ => ParentAction::Check,
    }
}

/// Phase 3 for one item (`StepKind::Parent`, ord 0).
pub(crate) async fn parent(job: &Job<'_>, ends: &Ends) -> anyhow::Result<()> {
    let Some(pid) = job.plan.parent.or(job.plan.outside_parent) else {
        return Ok(());
    };
    if job.finished(StepKind::Parent, 0) {
        return Ok(());
    }
    let parent = ends.others.get(&pid);
    let action = decide(ends.me.as_ref(), parent);
    let parent = match action {
        ParentAction::AtCreation => return Ok(()),
        // A parent outside the migration that no run migrated: nothing to set, and nothing
        // failed (the report lists the item under `parent_outside`).
        ParentAction::Missing if job.plan.parent.is_none() => return Ok(()),
        ParentAction::Missing => {
            return job.failed(StepKind::Parent, 0, "parent_not_migrated").await;
        }
        ParentAction::Set | ParentAction::Check => parent.context("a parent to set is migrated")?,
    };
    let client = &job.ctx.jira.client;
    if action == ParentAction::Check {
        let issue: Value = client
            .get_json(&format!("/rest/api/3/issue/{}?fields=parent", job.jira_id))
            .await
            .map_err(|e| anyhow::anyhow!("reading the parent of {}: {e}", job.jira_key))?;
        let has = &issue["fields"]["parent"];
        let same = |field: &str, want: &Option<String>| {
            want.as_deref()
                .is_some_and(|w| has[field].as_str() == Some(w))
        };
        if same("id", &parent.jira_id) || same("key", &parent.jira_key) {
            return job
                .done(StepKind::Parent, 0, parent.jira_key.as_deref())
                .await;
        }
    }
    let body = json!({ "fields": { "parent": Ends::issue_ref(parent) } });
    match client
        .put_json::<_, Value>(&format!("/rest/api/3/issue/{}", job.jira_id), &body)
        .await
    {
        Ok(_) => {
            job.done(StepKind::Parent, 0, parent.jira_key.as_deref())
                .await
        }
        Err(e) if refused(&e) => job.failed(StepKind::Parent, 0, "parent_refused").await,
        Err(e) => Err(anyhow::anyhow!(
            "setting the parent of {}: {e}",
            job.jira_key
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(this_run: i64, attempts: i64, wave: i64) -> MigratedItem {
        MigratedItem {
            ado_id: 1,
            jira_id: Some("10".into()),
            jira_key: Some("S-1".into()),
            wave,
            attempts,
            this_run,
        }
    }

    #[test]
    fn a_parent_is_trusted_only_when_this_run_sent_the_child_after_the_parent_was_created() {
        let parent_earlier = item(1, 1, 0);
        assert_eq!(
            decide(Some(&item(1, 1, 1)), Some(&parent_earlier)),
            ParentAction::AtCreation
        );
        assert_eq!(
            decide(Some(&item(1, 0, 1)), Some(&parent_earlier)),
            ParentAction::Check,
            "the child was already in Jira: an earlier run may have created it without a parent"
        );
        assert_eq!(
            decide(Some(&item(1, 2, 1)), Some(&item(0, 1, 0))),
            ParentAction::Set,
            "the parent came from an earlier run: it was not in this run's id map at creation"
        );
        assert_eq!(
            decide(Some(&item(1, 1, 1)), Some(&item(1, 1, 1))),
            ParentAction::Set,
            "same wave: the parent may have been created after the child"
        );
        assert_eq!(
            decide(Some(&item(0, 0, 1)), Some(&parent_earlier)),
            ParentAction::Check,
            "an earlier run created the child: it may have its parent already"
        );
        assert_eq!(decide(Some(&item(1, 1, 1)), None), ParentAction::Missing);
        assert_eq!(decide(None, Some(&parent_earlier)), ParentAction::Check);
    }
}
