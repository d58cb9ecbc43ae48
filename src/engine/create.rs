//! Phase 2: bulk create, at most 50 issues a call and several calls at once within a wave,
//! wave by wave so every parent exists (and its key is in the id map) before its children are
//! sent with `parent` set.
//!
//! Never a duplicate: the items of a call are marked `sent` before it goes out; if its answer
//! is lost (timeout, 5xx, crash), the items are looked up by their `ferry-origin` property
//! before anything is sent again, and Jira's search lags behind writes, so one empty answer is
//! not trusted: the lookup is repeated with growing pauses first.

use std::{collections::HashMap, time::Duration};

use anyhow::Context as _;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::{Stop, checkpoint};
use crate::{
    app::AppState,
    dryrun::DryContext,
    intake::connect::stored_client,
    mapping::transform::{ORIGIN_PROPERTY, Planned, transform},
    source::ado::models::WorkItem,
    store::{ItemOutcome, Run, RunItem},
    target::jira::JiraCallError,
};

/// Jira's bulk-create cap.
const BULK: usize = 50;
/// Bulk-create calls in flight at once (each ~50 issues: Jira takes seconds per call).
const CREATE_CALLS: usize = 8;
/// Pauses between lookups of items whose create call has an unknown outcome.
const RECONCILE_PAUSES: [Duration; 3] = [
    Duration::from_millis(0),
    Duration::from_secs(2),
    Duration::from_secs(4),
];

/// Creates every pending item; `Stop::Done` when none is left.
pub async fn phase(
    state: &AppState,
    run: &Run,
    ctx: &DryContext,
    shutdown: &CancellationToken,
) -> anyhow::Result<Stop> {
    let ado = stored_client(state, &run.client_key, &ctx.connection_id).await?;
    loop {
        if let Some(stop) = checkpoint(state, run, shutdown).await? {
            return Ok(stop);
        }
        let sent = state.store.run_items_in(run, "sent", BULK as i64).await?;
        if !sent.is_empty() {
            reconcile(state, run, ctx, &sent).await?;
            continue;
        }
        let calls = create_calls(state, ctx);
        let mut batch = state
            .store
            .run_items_in(run, "pending", (BULK * calls) as i64)
            .await?;
        let Some(wave) = batch.first().map(|i| i.wave) else {
            return Ok(Stop::Done);
        };
        batch.retain(|i| i.wave == wave);
        // The calls of one wave go at once, each with its own items' intents; the next wave
        // (or the rest of this one) waits for all of them, so a parent is always created, or
        // failed, before a child of it is sent.
        let ado = &ado;
        futures_util::future::try_join_all(batch.chunks(BULK).map(|chunk| async move {
            let ids: Vec<i64> = chunk.iter().map(|i| i.ado_id).collect();
            let items = ado
                .work_items(&ctx.project, &ids)
                .await
                .context("reading work items")?;
            create_batch(state, run, ctx, &ids, &items).await
        }))
        .await?;
    }
}

/// Bulk-create calls in flight at once within a wave: `CREATE_CALLS`, but never more than
/// the items the run follows at once (`FERRY_RUN_ITEMS_IN_FLIGHT`), so setting that to 1 makes
/// the whole run sequential.
fn create_calls(state: &AppState, ctx: &DryContext) -> usize {
    CREATE_CALLS.min(super::followup::items_in_flight(state, ctx))
}

async fn create_batch(
    state: &AppState,
    run: &Run,
    ctx: &DryContext,
    ids: &[i64],
    items: &[WorkItem],
) -> anyhow::Result<()> {
    let mut outcomes: Vec<(i64, ItemOutcome)> = Vec::new();
    // Items ADO no longer has (deleted since the scan) fail with a code, not silently.
    for id in ids.iter().filter(|id| !items.iter().any(|i| i.id == **id)) {
        outcomes.push((
            *id,
            ItemOutcome::Failed {
                code: "gone_from_ado".into(),
                field: None,
            },
        ));
    }
    let existing = found(ctx, ids).await?;
    let plans: Vec<Planned> = {
        let links = ctx.resolver();
        let tctx = ctx.transform_context(&links);
        items.iter().map(|i| transform(i, &tctx)).collect()
    };
    super::notes::hierarchy(state, run, &plans).await?;
    let parents: Vec<i64> = plans.iter().filter_map(|p| p.parent).collect();
    let keys: HashMap<i64, String> = state
        .store
        .run_keys(run, &parents)
        .await?
        .into_iter()
        .filter_map(|r| r.jira_key.map(|k| (r.ado_id, k)))
        .collect();
    let mut send: Vec<(i64, Value)> = Vec::new();
    for mut plan in plans {
        if let Some((id, key)) = existing.get(&plan.ado_id) {
            outcomes.push((
                plan.ado_id,
                ItemOutcome::Created {
                    id: id.clone(),
                    key: key.clone(),
                },
            ));
        } else if let Some(p) = plan.problems.iter().find(|p| {
            p.severity == crate::mapping::problem::Severity::Error
                || p.code == crate::mapping::problem::Code::TypeExcluded
        }) {
            outcomes.push((
                plan.ado_id,
                ItemOutcome::Failed {
                    code: p.code.as_str().into(),
                    field: p.field.clone(),
                },
            ));
        } else {
            let mut fields = std::mem::take(&mut plan.fields);
            if let Some(key) = plan.parent.and_then(|p| keys.get(&p)) {
                fields.insert("parent".into(), json!({ "key": key }));
            }
            // Built by moving, not with `json!`, which would serialize a copy of the fields.
            let mut element = serde_json::Map::new();
            element.insert("properties".into(), plan.properties());
            element.insert("fields".into(), Value::Object(fields));
            send.push((plan.ado_id, Value::Object(element)));
        }
    }
    state.store.record_outcomes(run, outcomes).await?;
    if send.is_empty() {
        return Ok(());
    }
    let (sent_ids, elements): (Vec<i64>, Vec<Value>) = send.into_iter().unzip();
    state.store.mark_sent(run, &sent_ids).await?;
    let body = Value::Object(serde_json::Map::from_iter([(
        "issueUpdates".to_owned(),
        Value::Array(elements),
    )]));
    match ctx
        .jira
        .client
        .post_json::<_, Value>("/rest/api/3/issue/bulk", &body)
        .await
    {
        Ok(answer) => {
            state
                .store
                .record_outcomes(run, bulk_outcomes(&sent_ids, &answer))
                .await?
        }
        Err(JiraCallError::Http { status, errors, .. })
            if (400..500).contains(&status) && status != 429 =>
        {
            // Every element was refused (Jira answers 400 then); the fields named are the reason.
            let field = errors.keys().next().cloned();
            let all = sent_ids
                .iter()
                .map(|id| {
                    (
                        *id,
                        ItemOutcome::Failed {
                            code: "create_refused".into(),
                            field: field.clone(),
                        },
                    )
                })
                .collect();
            state.store.record_outcomes(run, all).await?;
        }
        Err(JiraCallError::RateLimited { retry_after, .. }) => {
            // Not applied: Jira refused the call as a whole. Back to pending after the wait.
            let back = sent_ids
                .iter()
                .map(|id| (*id, ItemOutcome::Pending))
                .collect();
            state.store.record_outcomes(run, back).await?;
            tokio::time::sleep(retry_after.unwrap_or(Duration::from_secs(1))).await;
        }
        Err(e) => {
            tracing::warn!(error = %e, items = sent_ids.len(), "create call with an unknown outcome; reconciling")
        }
    }
    Ok(())
}

/// Maps a bulk answer to outcomes: `issues` are the successful elements in order, `errors`
/// name the failed ones by index.
fn bulk_outcomes(ids: &[i64], answer: &Value) -> Vec<(i64, ItemOutcome)> {
    let mut failed: HashMap<usize, Option<String>> = HashMap::new();
    for e in answer["errors"].as_array().into_iter().flatten() {
        if let Some(n) = e["failedElementNumber"].as_u64() {
            let field = e["elementErrors"]["errors"]
                .as_object()
                .and_then(|o| o.keys().next().cloned());
            failed.insert(n as usize, field);
        }
    }
    let mut created = answer["issues"].as_array().into_iter().flatten();
    ids.iter()
        .enumerate()
        .map(|(n, id)| match failed.remove(&n) {
            Some(field) => (
                *id,
                ItemOutcome::Failed {
                    code: "create_refused".into(),
                    field,
                },
            ),
            None => match created.next() {
                Some(i) => (
                    *id,
                    ItemOutcome::Created {
                        id: i["id"].as_str().unwrap_or("").into(),
                        key: i["key"].as_str().unwrap_or("").into(),
                    },
                ),
                None => (*id, ItemOutcome::Pending),
            },
        })
        .collect()
}

/// Looks up items whose create call has an unknown outcome; found ones are created, the rest
/// go back to pending only after every lookup came back empty.
async fn reconcile(
    state: &AppState,
    run: &Run,
    ctx: &DryContext,
    sent: &[RunItem],
) -> anyhow::Result<()> {
    let ids: Vec<i64> = sent.iter().map(|i| i.ado_id).collect();
    let mut found_all: HashMap<i64, (String, String)> = HashMap::new();
    for pause in RECONCILE_PAUSES {
        tokio::time::sleep(pause).await;
        found_all.extend(found(ctx, &ids).await?);
        if found_all.len() == ids.len() {
            break;
        }
    }
    let outcomes = ids
        .iter()
        .map(|id| match found_all.remove(id) {
            Some((jid, key)) => (*id, ItemOutcome::Created { id: jid, key }),
            None => (*id, ItemOutcome::Pending),
        })
        .collect();
    state.store.record_outcomes(run, outcomes).await?;
    Ok(())
}

/// Issues of the project carrying the origin property of `ids`: ADO id → (Jira id, key).
async fn found(ctx: &DryContext, ids: &[i64]) -> anyhow::Result<HashMap<i64, (String, String)>> {
    let mut out = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let list: Vec<String> = ids.iter().map(i64::to_string).collect();
    let jql = format!(
        "project = \"{}\" AND issue.property[{ORIGIN_PROPERTY}].adoId IN ({})",
        ctx.jira.project_key,
        list.join(",")
    );
    let body = json!({ "jql": jql, "fields": ["id", "key"], "properties": [ORIGIN_PROPERTY], "maxResults": 100 });
    let page: Value = ctx
        .jira
        .client
        .post_json_idempotent("/rest/api/3/search/jql", &body)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    for issue in page["issues"].as_array().into_iter().flatten() {
        if let Some(ado) = issue["properties"][ORIGIN_PROPERTY]["adoId"].as_i64() {
            out.insert(
                ado,
                (
                    issue["id"].as_str().unwrap_or("").to_owned(),
                    issue["key"].as_str().unwrap_or("").to_owned(),
                ),
            );
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partial_bulk_answer_maps_successes_in_order_and_failures_by_index() {
        let answer = json!({ "issues": [{ "id": "1", "key": "F-1" }, { "id": "3", "key": "F-3" }],
            "errors": [{ "status": 400, "failedElementNumber": 1, "elementErrors": { "errors": { "customfield_1": "bad" } } }] });
        assert_eq!(
            bulk_outcomes(&[10, 11, 12], &answer),
            vec![
                (
                    10,
                    ItemOutcome::Created {
                        id: "1".into(),
                        key: "F-1".into()
                    }
                ),
                (
                    11,
                    ItemOutcome::Failed {
                        code: "create_refused".into(),
                        field: Some("customfield_1".into())
                    }
                ),
                (
                    12,
                    ItemOutcome::Created {
                        id: "3".into(),
                        key: "F-3".into()
                    }
                ),
            ]
        );
        assert_eq!(
            bulk_outcomes(&[5], &json!({})),
            vec![(5, ItemOutcome::Pending)],
            "an answer without the issue is not a success"
        );
    }
}
