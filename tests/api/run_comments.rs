//! Phases 6 and 7 of a run, end to end: after a run every issue holds its ADO item's comments
//! (not the deleted ones) in order, each once, with the original author and date in a header
//! and all of its text, and every issue is in the status the mapping's state rules name. Read
//! back through Jira's REST API by the shared verifier (`verify`), which checks the rest of
//! each item too, and compared with the ADO dataset. One run meets Jira's
//! per-issue write windows; another loses answers and gets 5xx on comment and transition calls.

use ferry::sim::{
    limits::{JiraLimiter, parse_jira_profile, profile::IssueWindow},
    reqlog::RequestLog,
};

use crate::{
    mapping::{Trouble, World, wait_for, world_troubled},
    runs::{approved, start, verify_world},
    verify::Counts,
};

/// What the shared verifier found, with every item checked (comments and status among the
/// rest); panics on any mismatch.
async fn check(w: &World, mapping: &str) -> Counts {
    let verdict = verify_world(w, mapping).await;
    verdict.assert_clean();
    verdict.counts
}

/// Per-issue write windows as Jira Cloud has them (20 per 2 s, 100 per 30 s), nothing else.
fn per_issue_windows() -> JiraLimiter {
    let mut profile = parse_jira_profile("unlimited").expect("profile");
    profile.per_issue = vec![
        IssueWindow { max: 20, secs: 2.0 },
        IssueWindow {
            max: 100,
            secs: 30.0,
        },
    ];
    JiraLimiter::new(profile)
}

fn per_issue_refusals(log: &RequestLog) -> usize {
    log.entries()
        .iter()
        .filter(|e| e.limiter == Some("jira-per-issue-on-write"))
        .count()
}

#[tokio::test]
async fn every_issue_gets_its_comments_once_in_order_and_reaches_its_status() {
    // 300 items hold one with 250 comments: past the 100-per-30-s window of one issue.
    let log = RequestLog::new();
    let trouble = Trouble {
        faults: None,
        limiter: Some(per_issue_windows()),
        log: log.clone(),
        applies: |_, _| true,
        paths: &[],
        index_lag: std::time::Duration::ZERO,
    };
    let w = world_troubled(300, Some(trouble), &[]).await;
    let mapping = approved(&w).await;
    let started = std::time::Instant::now();
    let run = start(&w, &mapping).await;
    let done = wait_for(
        &w.app,
        &w.auth,
        &format!("/api/migrations/{run}"),
        "/run/status",
    )
    .await;
    let took = started.elapsed();
    let seen = check(&w, &mapping).await;
    let refusals = per_issue_refusals(&log);
    eprintln!(
        "run in {took:?}: {seen:?}, per-issue 429s: {refusals}; {}",
        done["steps"]
    );
    assert!(
        seen.issues > 250 && seen.comments > 500 && seen.moved > 50,
        "{seen:?}"
    );
    // Paced below the windows: a few refusals where other writes (the remote link, the
    // transitions) share an issue's window, not one per comment past the wall.
    assert!(refusals < 10, "{refusals} per-issue refusals");
}

#[tokio::test]
async fn lost_answers_and_server_errors_on_comments_and_transitions_make_no_duplicate() {
    // A third of comment and transition writes are applied but their answer is lost; a fifth
    // of those calls (reads too) fail with a 5xx.
    let trouble = Trouble {
        faults: Some("lost=0.3,error5xx=0.2,seed=13".into()),
        limiter: None,
        log: RequestLog::new(),
        applies: |_, path| path.ends_with("/comment") || path.ends_with("/transitions"),
        paths: &[],
        index_lag: std::time::Duration::ZERO,
    };
    let w = world_troubled(120, Some(trouble), &[]).await;
    let mapping = approved(&w).await;
    let run = start(&w, &mapping).await;
    wait_for(
        &w.app,
        &w.auth,
        &format!("/api/migrations/{run}"),
        "/run/status",
    )
    .await;
    let seen = check(&w, &mapping).await;
    eprintln!("{seen:?}");
    assert!(
        seen.issues > 100 && seen.comments > 150 && seen.moved > 20,
        "{seen:?}"
    );
}
