//! Phases 6 and 7 of a run, end to end: after a run every issue holds its ADO item's comments
//! (not the deleted ones) in order, each once, with the original author and date in a header
//! and all of its text, and every issue is in the status the mapping's state rules name. Read
//! back through Jira's REST API by the shared verifier (`verify`), which checks the rest of
//! each item too, and compared with the ADO dataset. One run meets Jira's
//! per-issue write windows; another loses answers and gets 5xx on comment and transition calls.
//! Items with many comments, whose writes Jira paces, are followed first (the critical path).

use ferry::sim::{
    limits::{JiraLimiter, parse_jira_profile, profile::IssueWindow},
    reqlog::RequestLog,
};

use std::collections::HashMap;

use crate::{
    mapping::{Trouble, World, items, world_env, world_troubled},
    runs::{approved, run_until_done, verify_world},
    verify::{
        Counts,
        read::{Jira, origin},
    },
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
    let done = run_until_done(&w, &mapping).await;
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
    run_until_done(&w, &mapping).await;
    let seen = check(&w, &mapping).await;
    eprintln!("{seen:?}");
    assert!(
        seen.issues > 100 && seen.comments > 150 && seen.moved > 20,
        "{seen:?}"
    );
}

#[tokio::test]
async fn items_with_many_comments_are_followed_first_most_first() {
    // One item at a time, so the order items were followed in is the order of their first
    // comments' ids.
    let w = world_env(120, None, &[("FERRY_RUN_ITEMS_IN_FLIGHT", "1")]).await;
    let mapping = approved(&w).await;
    run_until_done(&w, &mapping).await;
    let counts: HashMap<i64, i64> = items(&w.dataset)
        .iter()
        .map(|i| {
            let id = i["id"].as_i64().expect("id");
            (id, i["fields"]["System.CommentCount"].as_i64().unwrap_or(0))
        })
        .collect();
    let jira = Jira::connect(&w);
    let mut firsts: Vec<(u64, i64)> = Vec::new();
    for issue in jira.search(&["summary"]).await {
        let ado = origin(&issue).expect("origin");
        let id = issue["id"].as_str().expect("id");
        if let Some(c) = jira.comments(id).await.first() {
            firsts.push((c["id"].as_str().expect("id").parse().expect("numeric"), ado));
        }
    }
    firsts.sort_unstable();
    let order: Vec<(i64, i64)> = firsts.iter().map(|(_, a)| (*a, counts[a])).collect();
    let heavy = order.iter().filter(|(_, c)| *c > 20).count();
    assert!(heavy >= 2, "the workload has items to put first: {order:?}");
    // Id-map order (wave, then ADO id) would not put them first.
    let lightest_first = order.iter().map(|(a, _)| *a).min().expect("items");
    assert!(counts[&lightest_first] <= 20, "{order:?}");
    let (first, rest) = order.split_at(heavy);
    assert!(
        first.windows(2).all(|p| p[0].1 >= p[1].1),
        "most comments first: {order:?}"
    );
    assert!(rest.iter().all(|(_, c)| *c <= 20), "{order:?}");
}
