//! The migration itself: resume the mapping's unfinished run or start one, follow it, pause
//! on Ctrl-C, and write the report.

use anyhow::Context as _;
use serde_json::{Value, json};

use super::{Api, Exit, Plan, progress::Progress};

/// Runs the mapping to its end, or to a pause on Ctrl-C.
pub(super) async fn migrate(api: &Api, plan: &Plan, mapping: &str) -> anyhow::Result<Exit> {
    let runs = api
        .get(&format!("/api/mappings/{mapping}/migrations"))
        .await?;
    let unfinished = runs
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| matches!(r["status"].as_str(), Some("queued" | "running" | "paused")));
    let id = match unfinished {
        Some(r) => {
            let id = r["id"].as_str().context("run id")?.to_owned();
            match r["status"].as_str() {
                Some("paused") => {
                    api.post(&format!("/api/migrations/{id}/resume"), json!({}))
                        .await?;
                    eprintln!("Resuming run {id} from its checkpoint.");
                }
                _ => eprintln!(
                    "Continuing run {id} (if another process held it, it resumes once that lease expires)."
                ),
            }
            id
        }
        None => {
            let started = api
                .post(&format!("/api/mappings/{mapping}/migrations"), json!({}))
                .await?;
            started["id"].as_str().context("run id")?.to_owned()
        }
    };
    let path = format!("/api/migrations/{id}");
    let mut show = Progress::new("migrate");
    let mut interrupted = false;
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    let last = loop {
        let v = api.get(&path).await?;
        show.update(&v);
        match v["run"]["status"].as_str() {
            Some("completed" | "failed" | "cancelled") => break v,
            Some("paused") if interrupted => break v,
            _ => {}
        }
        tokio::select! {
            _ = &mut ctrl_c, if !interrupted => {
                interrupted = true;
                eprintln!("\nPausing at the next checkpoint (Ctrl-C again to quit at once)…");
                api.post(&format!("/api/migrations/{id}/pause"), json!({})).await?;
                // A second Ctrl-C kills the process: the run resumes from its checkpoints.
                tokio::spawn(async {
                    let _ = tokio::signal::ctrl_c().await;
                    std::process::exit(Exit::Paused as i32);
                });
            }
            () = tokio::time::sleep(super::POLL) => {}
        }
    };
    let report = write_report(api, plan, &id, &last).await?;
    let status = last["run"]["status"].as_str().unwrap_or("");
    let failed = count(&last["items"], "failed");
    show.finish(&format!(
        "run {id}: {status}; {} created, {failed} failed. Report: {}",
        count(&last["items"], "created"),
        report.display()
    ));
    Ok(match status {
        "paused" => {
            eprintln!("Paused. Run the same command again to resume.");
            Exit::Paused
        }
        "completed" if failed == 0 => Exit::Done,
        "completed" => Exit::DoneWithFailures,
        _ => {
            eprintln!(
                "The run {status}: {}",
                last["run"]["error"].as_str().unwrap_or("no reason given")
            );
            Exit::Failed
        }
    })
}

fn count(list: &Value, state: &str) -> i64 {
    list.as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["state"] == state)
        .map(|c| c["items"].as_i64().unwrap_or(0))
        .sum()
}

/// Writes `ferry-report.json` (and the failures CSV when Ferry serves one) beside the plan.
async fn write_report(
    api: &Api,
    plan: &Plan,
    id: &str,
    last: &Value,
) -> anyhow::Result<std::path::PathBuf> {
    let report = api
        .get(&format!("/api/migrations/{id}/report"))
        .await
        .unwrap_or_else(|_| last.clone());
    let path = plan.dir.join("ferry-report.json");
    std::fs::write(&path, serde_json::to_string_pretty(&report)?)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}
