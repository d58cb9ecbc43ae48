//! Phase 1, before the id map is seeded: check that the mapping still fits the site, then make
//! the objects issues will name (components, sprints). Nothing is written until every check
//! passed, so a refused run has created nothing; a refusal says what to fix.
//!
//! Checks: every link type the mapping uses exists; every account the user map names still
//! exists and is active (those that do not become unresolved, and the fallback user stands in
//! for them, as for people Jira never had; a fallback user that is gone or inactive refuses the
//! run); items over Jira's per-issue caps are counted (each fails alone with its code, as the dry
//! run showed); a mapping with iteration rules needs a scrum board.
//!
//! Writes are find-or-create by name, so preflight may run again after a crash: a component or
//! sprint made by a call whose answer was lost is found by its name before it is made again.
//! The mapping has no version rules (no converter produces versions), so no version is made.
//! What was created or found is kept in `run_objects` by id and audited as `run.preflight`.

use std::collections::{BTreeSet, HashMap, HashSet};

use anyhow::Context as _;
use futures_util::{StreamExt as _, TryStreamExt as _};
use serde_json::{Value, json};

use super::{
    followup::refused,
    sprints::{BoardSprint, Iteration, board_sprints, iterations, scrum_board, wanted},
};
use crate::{
    app::AppState,
    dryrun::{DryContext, context::JiraTarget},
    intake::connect::stored_client,
    mapping::{
        model::UserMatch,
        transform::{MAX_ATTACHMENTS, MAX_COMMENTS, MAX_LINKS},
    },
    source::ado::extract::enc,
    store::Run,
    target::jira::JiraCallError,
};

/// Accounts looked up at once.
const USER_LOOKUPS: usize = 8;
/// Tries of one create whose calls fail without a trace of the object (5xx, lost answers).
const ATTEMPTS: usize = 5;

/// Checks, then finds or creates components and sprints; an error refuses the run.
#[tracing::instrument(skip_all)]
pub async fn phase(state: &AppState, run: &Run, ctx: &DryContext) -> anyhow::Result<()> {
    link_types(ctx)?;
    let unresolved = users(ctx).await?;
    let over_caps = state
        .store
        .catalog_items_over_caps(
            &run.client_key,
            &ctx.catalog_id,
            (MAX_COMMENTS, MAX_ATTACHMENTS as i64, MAX_LINKS as i64),
        )
        .await?;
    let sprint_names = wanted(ctx);
    let board = if sprint_names.is_empty() {
        None
    } else {
        Some(scrum_board(ctx).await?.with_context(|| {
            format!(
                "preflight: project {} has no scrum board for the {} sprints the iteration rules \
                 name; add one, or map the iterations to no sprint",
                ctx.jira.project_key,
                sprint_names.len()
            )
        })?)
    };

    // Every check passed: from here on, writes.
    let accounts: Vec<(&str, String, &str)> = unresolved
        .iter()
        .map(|a| ("account", a.clone(), "unresolved"))
        .collect();
    state.store.record_run_objects(run, &accounts).await?;
    let components = components(state, run, ctx).await?;
    let sprints = match board {
        Some(board) => {
            let ado = stored_client(state, &run.client_key, &ctx.connection_id).await?;
            let dates = iterations(&ado, &ctx.project).await?;
            sprints(state, run, ctx, board, &dates).await?
        }
        None => Vec::new(),
    };
    state
        .store
        .audit(
            &run.client_key,
            "ferry",
            "run.preflight",
            json!({ "runId": run.id, "componentsCreated": components, "sprintsCreated": sprints,
                    "unresolvedAccounts": unresolved.len(), "itemsOverCaps": over_caps }),
        )
        .await?;
    Ok(())
}

/// Every link type the mapping uses must exist.
fn link_types(ctx: &DryContext) -> anyhow::Result<()> {
    for rule in &ctx.mapping.links {
        let Some(id) = &rule.jira_link_type else {
            continue;
        };
        if !ctx.target.link_types.iter().any(|t| &t.id == id) {
            return Err(super::Permanent(format!(
                "preflight: Jira link type {id}, which the mapping uses for {}, no longer exists; \
                 edit the mapping's link rules",
                rule.ado_relation
            ))
            .into());
        }
    }
    Ok(())
}

/// The accounts the user map names that Jira no longer has or that are inactive; refuses the
/// run when the fallback user is one of them.
async fn users(ctx: &DryContext) -> anyhow::Result<BTreeSet<String>> {
    let mut named: Vec<String> = ctx
        .mapping
        .users
        .iter()
        .filter_map(|u| u.account_id.clone())
        .chain(ctx.mapping.fallback_user.clone())
        .collect();
    named.sort();
    named.dedup();
    let found: Vec<(String, bool)> = futures_util::stream::iter(named)
        .map(|id| async move {
            let usable = usable(&ctx.jira, &id).await?;
            anyhow::Ok((id, usable))
        })
        .buffer_unordered(USER_LOOKUPS)
        .try_collect()
        .await?;
    let gone: BTreeSet<String> = found
        .into_iter()
        .filter(|(_, ok)| !ok)
        .map(|(id, _)| id)
        .collect();
    if let Some(fallback) = ctx
        .mapping
        .fallback_user
        .as_ref()
        .filter(|f| gone.contains(*f))
    {
        return Err(super::Permanent(format!(
            "preflight: the fallback user {fallback} no longer exists in Jira or is inactive; \
             choose another fallback user in the mapping"
        ))
        .into());
    }
    if !gone.is_empty() {
        tracing::warn!(
            accounts = gone.len(),
            "accounts gone or inactive; the fallback user stands in"
        );
    }
    Ok(gone)
}

/// Whether the account exists and is active.
async fn usable(jira: &JiraTarget, account_id: &str) -> anyhow::Result<bool> {
    let path = format!("/rest/api/3/user?accountId={}", enc(account_id));
    match jira.client.get_json::<Value>(&path).await {
        Ok(u) => Ok(u["active"].as_bool() != Some(false)),
        Err(JiraCallError::Http { status: 404, .. }) => Ok(false),
        Err(e) => Err(anyhow::anyhow!("looking up account {account_id}: {e}")),
    }
}

/// The mapping's user map without the accounts preflight found gone: they become unresolved,
/// so the transform puts the fallback user (and a note) where they were named. `None` when
/// nothing changes. Applied on every turn of the run, from what preflight recorded.
pub async fn user_map(
    state: &AppState,
    run: &Run,
    ctx: &DryContext,
) -> anyhow::Result<Option<DryContext>> {
    let gone: HashSet<String> = state
        .store
        .run_objects(run)
        .await?
        .into_iter()
        .filter(|o| o.kind == "account" && o.origin == "unresolved")
        .map(|o| o.jira_id)
        .collect();
    if gone.is_empty() {
        return Ok(None);
    }
    let mut mapping = ctx.mapping.clone();
    for u in &mut mapping.users {
        if u.account_id.as_ref().is_some_and(|a| gone.contains(a)) {
            u.account_id = None;
            u.matched_by = UserMatch::Unresolved;
        }
    }
    Ok(Some(DryContext {
        catalog_id: ctx.catalog_id.clone(),
        connection_id: ctx.connection_id.clone(),
        project: ctx.project.clone(),
        project_url: ctx.project_url.clone(),
        scope: ctx.scope.clone(),
        mapping,
        target: ctx.target.clone(),
        jira: JiraTarget {
            client: ctx.jira.client.clone(),
            project_key: ctx.jira.project_key.clone(),
        },
    }))
}

/// The project's components by name.
async fn project_components(ctx: &DryContext) -> anyhow::Result<HashMap<String, String>> {
    let path = format!(
        "/rest/api/3/project/{}/components",
        enc(&ctx.jira.project_key)
    );
    let list: Vec<Value> = ctx
        .jira
        .client
        .get_json(&path)
        .await
        .context("GET project components")?;
    Ok(list
        .iter()
        .filter_map(|c| Some((c["name"].as_str()?.to_owned(), c["id"].as_str()?.to_owned())))
        .collect())
}

/// Finds or creates the components the area rules name; the ids created.
async fn components(state: &AppState, run: &Run, ctx: &DryContext) -> anyhow::Result<Vec<String>> {
    let names: BTreeSet<String> = ctx
        .mapping
        .areas
        .iter()
        .filter_map(|a| a.jira.clone())
        .collect();
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let mut have = project_components(ctx).await?;
    let mut created = Vec::new();
    for name in &names {
        if let Some(id) = have.get(name) {
            state
                .store
                .record_run_objects(run, &[("component", id.clone(), "found")])
                .await?;
            continue;
        }
        let body = json!({ "name": name, "project": ctx.jira.project_key });
        let mut attempt = 0;
        let (id, origin) = loop {
            attempt += 1;
            match ctx
                .jira
                .client
                .post_json::<_, Value>("/rest/api/3/component", &body)
                .await
            {
                Ok(c) => {
                    break (
                        c["id"].as_str().context("component without id")?.to_owned(),
                        "created",
                    );
                }
                // A lost answer, or a name taken meanwhile: the component may exist now.
                Err(e) => {
                    have = project_components(ctx).await?;
                    if let Some(id) = have.get(name) {
                        break (id.clone(), "found");
                    }
                    if refused(&e) || attempt >= ATTEMPTS {
                        anyhow::bail!("preflight: creating a component the area rules name: {e}");
                    }
                }
            }
        };
        state
            .store
            .record_run_objects(run, &[("component", id.clone(), origin)])
            .await?;
        if origin == "created" {
            created.push(id.clone());
        }
        have.insert(name.clone(), id);
    }
    Ok(created)
}

/// Finds or creates the sprints the iteration rules name on `board`, with their iterations'
/// dates; the ids created.
async fn sprints(
    state: &AppState,
    run: &Run,
    ctx: &DryContext,
    board: i64,
    dates: &HashMap<String, Iteration>,
) -> anyhow::Result<Vec<i64>> {
    let mut have = board_sprints(ctx, board).await?;
    let mut created = Vec::new();
    for rule in &ctx.mapping.iterations {
        let Some(name) = &rule.jira else { continue };
        if let Some(s) = have.get(name) {
            state
                .store
                .record_run_objects(run, &[("sprint", s.id.to_string(), "found")])
                .await?;
            continue;
        }
        let mut body = json!({ "name": name, "originBoardId": board });
        if let Some(it) = dates.get(&rule.ado) {
            if let (Some(start), Some(end)) = (&it.start, &it.finish) {
                body["startDate"] = json!(start);
                body["endDate"] = json!(end);
            }
        }
        let mut attempt = 0;
        let (id, origin) = loop {
            attempt += 1;
            match ctx
                .jira
                .client
                .post_json::<_, Value>("/rest/agile/1.0/sprint", &body)
                .await
            {
                Ok(s) => break (s["id"].as_i64().context("sprint without id")?, "created"),
                // After a lost answer the board says whether the sprint was made.
                Err(e) => {
                    have = board_sprints(ctx, board).await?;
                    if let Some(s) = have.get(name) {
                        break (s.id, "found");
                    }
                    if refused(&e) || attempt >= ATTEMPTS {
                        anyhow::bail!("preflight: creating a sprint the iteration rules name: {e}");
                    }
                }
            }
        };
        state
            .store
            .record_run_objects(run, &[("sprint", id.to_string(), origin)])
            .await?;
        if origin == "created" {
            created.push(id);
        }
        have.insert(
            name.clone(),
            BoardSprint {
                id,
                state: "future".into(),
            },
        );
    }
    Ok(created)
}
