//! Phase 4: issue links, each written to Jira exactly once.
//!
//! ADO keeps a link on both of its ends (`…-Forward` on one, `…-Reverse` on the other; a
//! symmetric type such as Related under the same name on both), so every link is met twice:
//! once in each end's plan. Both ends reduce it to the same [`Link`] in Jira's direction:
//! - directional: `from` is the end holding the forward relation (the plan's `outward`);
//! - symmetric (the ADO relation has no `-Forward`/`-Reverse`, or the Jira type reads the same
//!   both ways, like Relates): `from` is the lower ADO id.
//!
//! **The canonical side** writes it: the `from` end (the owner). The other end writes it only
//! when the owner cannot any more: the owner is not part of this run (it came from an earlier
//! run), or the owner recorded the link in the ledger because this end was missing then.
//! A link whose other end is not in Jira (not created in this run nor in an earlier run over the
//! same ADO connection and Jira project) waits in the ledger until that end arrives.
//!
//! `POST /rest/api/3/issueLink` answers 201 without an id, so the intent is written first
//! (`sent`); a step in doubt, or an item this run found already in Jira, is checked against the
//! issue's `issuelinks` before anything is posted. An unknown outcome (lost answer, 5xx) is
//! checked the same way at once and retried a few times before the turn ends.
//!
//! **Step ords.** A link step is `StepKind::Link` with
//! `ord = ±(other ADO id × 1,000,000 + link type number mod 1,000,000)`, positive when this item
//! is the outward end, negative when it is the inward end. The bare other id would collide when
//! two link types join the same pair, or when one item owns `A→B` and heals `B→A`.
//! <https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-links/>

use std::{collections::BTreeSet, time::Duration};

use serde_json::{Value, json};

use super::{
    followup::{Job, refused},
    hierarchy::Ends,
};
use crate::{
    source::ado::models::trailing_id,
    store::{LedgerLink, MigratedItem, StepKind},
    target::jira::JiraCallError,
};

/// Pauses before re-checking and re-posting a link whose write had an unknown outcome.
const UNKNOWN_PAUSES: [Duration; 3] = [
    Duration::from_millis(200),
    Duration::from_secs(1),
    Duration::from_secs(3),
];

/// One Jira link in Jira's direction.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Link {
    /// Jira link type id.
    pub link_type: String,
    /// The outward end's ADO id (the owner).
    pub from: i64,
    /// The inward end's ADO id.
    pub to: i64,
    /// The type reads the same both ways: a link in the other direction is the same link.
    pub symmetric: bool,
}

impl Link {
    /// The link seen from `me`: planned as (`link_type`, `other`, `outward`).
    pub fn canonical(me: i64, link_type: &str, other: i64, outward: bool, symmetric: bool) -> Self {
        let (from, to) = if symmetric {
            (me.min(other), me.max(other))
        } else if outward {
            (me, other)
        } else {
            (other, me)
        };
        Self {
            link_type: link_type.to_owned(),
            from,
            to,
            symmetric,
        }
    }

    /// The end that is not `me`.
    pub fn other(&self, me: i64) -> i64 {
        if self.from == me { self.to } else { self.from }
    }

    /// The step's ord on `me` (see the module doc).
    pub fn ord(&self, me: i64) -> i64 {
        let code = type_number(&self.link_type);
        let v = self
            .other(me)
            .saturating_mul(1_000_000)
            .saturating_add(code);
        if self.from == me { v } else { -v }
    }

    fn ledger(&self, waiting_for: i64) -> LedgerLink {
        LedgerLink {
            from_ado_id: self.from,
            to_ado_id: self.to,
            link_type: self.link_type.clone(),
            waiting_for,
        }
    }

    fn same(&self, l: &LedgerLink) -> bool {
        l.from_ado_id == self.from && l.to_ado_id == self.to && l.link_type == self.link_type
    }
}

/// A link type id as a number below 1,000,000 (Jira's are numeric; others are hashed).
fn type_number(link_type: &str) -> i64 {
    let n = link_type.parse::<u64>().unwrap_or_else(|_| {
        link_type.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        })
    });
    (n % 1_000_000) as i64
}

/// What this end does with one link.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum LinkAction {
    /// Write it (or find it written).
    Write,
    /// The other end is not in Jira: record it in the ledger.
    Wait,
    /// The owner writes it.
    Leave,
}

/// Decides one link for `me` (see the module doc). `other` is where the other end is in Jira;
/// `waiting` the ledger rows naming `me`.
pub(crate) fn decide(
    me: i64,
    link: &Link,
    other: Option<&MigratedItem>,
    waiting: &[LedgerLink],
) -> LinkAction {
    let Some(other) = other else {
        return LinkAction::Wait;
    };
    if link.from == me
        || other.this_run == 0
        || waiting.iter().any(|l| link.same(l) && l.waiting_for == me)
    {
        LinkAction::Write
    } else {
        LinkAction::Leave
    }
}

/// The item's links in Jira's direction, once each.
pub(crate) fn planned(job: &Job<'_>) -> BTreeSet<Link> {
    let me = job.plan.ado_id;
    job.plan
        .links
        .iter()
        .map(|(lt, other, outward)| {
            Link::canonical(me, lt, *other, *outward, symmetric(job, lt, *other))
        })
        .collect()
}

/// Whether the link of type `lt` to `other` is symmetric: Jira's type reads the same both ways,
/// or the ADO relation behind it has no direction (`System.LinkTypes.Related`).
fn symmetric(job: &Job<'_>, lt: &str, other: i64) -> bool {
    let jira = job
        .ctx
        .target
        .link_types
        .iter()
        .any(|t| t.id == lt && t.inward == t.outward);
    jira || job.item.relations.iter().any(|r| {
        trailing_id(&r.url) == Some(other)
            && !r.rel.contains("Hierarchy")
            && !r.rel.ends_with("-Forward")
            && !r.rel.ends_with("-Reverse")
            && job
                .ctx
                .mapping
                .links
                .iter()
                .any(|l| l.ado_relation == r.rel && l.jira_link_type.as_deref() == Some(lt))
    })
}

/// The links an issue has: (link id, type id, other issue id, this issue is the outward end).
type Present = Vec<(String, String, String, bool)>;

/// Phase 4 for one item.
pub(crate) async fn links(job: &Job<'_>, ends: &Ends) -> anyhow::Result<()> {
    if job.plan.links.is_empty() {
        return Ok(());
    }
    let me = job.plan.ado_id;
    let (ck, conn, project) = (
        &job.run.client_key,
        &job.ctx.connection_id,
        &job.ctx.jira.project_key,
    );
    let store = &job.state.store;
    let waiting = store.ledger_waiting(ck, conn, project, me).await?;
    // Issues this run found already in Jira may have their links from an earlier run.
    let found = job.found;
    let mut present: Option<Present> = None;
    for link in planned(job) {
        let ord = link.ord(me);
        if job.finished(StepKind::Link, ord) {
            continue;
        }
        let other_end = ends.others.get(&link.other(me));
        match decide(me, &link, other_end, &waiting) {
            LinkAction::Leave => continue,
            LinkAction::Wait => {
                if !waiting.iter().any(|l| link.same(l)) {
                    let row = link.ledger(link.other(me));
                    store.ledger_wait(job.run, conn, project, &row).await?;
                }
                continue;
            }
            LinkAction::Write => {}
        }
        let Some(other) = other_end else { continue };
        if (found || job.in_doubt(StepKind::Link, ord)) && present.is_none() {
            present = Some(read_links(job).await?);
        }
        let written = match present.as_ref().and_then(|p| has(p, me, &link, other)) {
            Some(id) => Some(id),
            None => match post(job, me, &link, other, ord).await? {
                Posted::Refused => continue,
                Posted::Written(id) => id,
            },
        };
        if waiting.iter().any(|l| link.same(l)) {
            store
                .ledger_heal(job.run, conn, project, &link.ledger(link.other(me)))
                .await?;
        }
        job.done(StepKind::Link, ord, written.as_deref()).await?;
    }
    Ok(())
}

/// How a post ended.
enum Posted {
    /// Jira has the link (its id when a check found it).
    Written(Option<String>),
    /// Jira refused it for good; recorded as failed.
    Refused,
}

/// Posts one link after writing the intent; an unknown outcome is checked against the issue
/// and posted again only when the link is not there.
async fn post(
    job: &Job<'_>,
    me: i64,
    link: &Link,
    other: &MigratedItem,
    ord: i64,
) -> anyhow::Result<Posted> {
    let mine = json!({ "id": job.jira_id });
    let theirs = Ends::issue_ref(other);
    let (outward, inward) = if link.from == me {
        (mine, theirs)
    } else {
        (theirs, mine)
    };
    let body =
        json!({ "type": { "id": link.link_type }, "outwardIssue": outward, "inwardIssue": inward });
    job.sent(StepKind::Link, ord).await?;
    let mut pauses = UNKNOWN_PAUSES.iter();
    loop {
        let e = match job
            .ctx
            .jira
            .client
            .post_json::<_, Value>("/rest/api/3/issueLink", &body)
            .await
        {
            Ok(_) => return Ok(Posted::Written(None)),
            Err(e) if refused(&e) => {
                job.failed(StepKind::Link, ord, "link_refused").await?;
                return Ok(Posted::Refused);
            }
            Err(e @ JiraCallError::RateLimited { .. }) => return Err(link_error(job, &e)),
            Err(e) => e,
        };
        let Some(pause) = pauses.next() else {
            return Err(link_error(job, &e));
        };
        tracing::warn!(item = me, ord, error = %e, "link write with an unknown outcome; checking the issue");
        tokio::time::sleep(*pause).await;
        if let Some(id) = has(&read_links(job).await?, me, link, other) {
            return Ok(Posted::Written(Some(id)));
        }
    }
}

fn link_error(job: &Job<'_>, e: &JiraCallError) -> anyhow::Error {
    anyhow::anyhow!("issue link of {}: {e}", job.jira_key)
}

/// The issue's links as Jira has them now.
async fn read_links(job: &Job<'_>) -> anyhow::Result<Present> {
    let issue: Value = job
        .ctx
        .jira
        .client
        .get_json(&format!(
            "/rest/api/3/issue/{}?fields=issuelinks",
            job.jira_id
        ))
        .await
        .map_err(|e| anyhow::anyhow!("reading the links of {}: {e}", job.jira_key))?;
    Ok(parse_links(&issue))
}

/// `fields.issuelinks` as (link id, type id, other issue id, this issue is the outward end): seen from
/// an issue, a link shows only its other end, as `inwardIssue` when this issue is the outward
/// end and as `outwardIssue` when it is the inward one.
fn parse_links(issue: &Value) -> Present {
    let mut out = Vec::new();
    for l in issue["fields"]["issuelinks"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let link = l["id"].as_str().unwrap_or_default().to_owned();
        let ty = l["type"]["id"].as_str().unwrap_or_default().to_owned();
        if let Some(id) = l["inwardIssue"]["id"].as_str() {
            out.push((link.clone(), ty.clone(), id.to_owned(), true));
        }
        if let Some(id) = l["outwardIssue"]["id"].as_str() {
            out.push((link, ty, id.to_owned(), false));
        }
    }
    out
}

/// The id of the issue link of `me` that is `link` to `other`, if the issue has it already.
fn has(present: &Present, me: i64, link: &Link, other: &MigratedItem) -> Option<String> {
    let other_id = other.jira_id.as_deref()?;
    let outward = link.from == me;
    present
        .iter()
        .find(|(_, ty, id, out)| {
            ty == &link.link_type && id == other_id && (*out == outward || link.symmetric)
        })
        .map(|(link_id, ..)| link_id.clone())
}

#[cfg(test)]
#[path = "links_tests.rs"]
mod tests;
