//! The request log as a benchmark reads it: NDJSON rows, templates, points, hits, reset.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use ferry::sim::{
    limits::{
        JiraLimiter, JiraProfile, jira_layers,
        profile::{BulkAccounting, Pool, QuotaConfig},
    },
    reqlog::{CallerTag, RequestLog},
};

use crate::helpers::{app_jwt, counter, jira_router, spawn};

fn two_point_quota() -> JiraProfile {
    let mut p = JiraProfile::named("unlimited").expect("preset");
    p.quota = Some(QuotaConfig {
        pool: Pool::Global,
        points_per_hour: 3,
        hour_secs: 3600.0,
        start_offset_secs: 0.0,
        bulk_accounting: BulkAccounting::PerRequest,
        background_burn: 0.0,
        default_read_points: 2,
    });
    p
}

#[tokio::test]
async fn the_log_serves_one_ndjson_row_per_request_with_template_points_and_hits() {
    let log = RequestLog::new();
    let app = jira_layers(
        jira_router(counter()),
        Some(JiraLimiter::new(two_point_quota())),
        None,
        log.clone(),
    );
    let base = spawn(app).await;
    let http = reqwest::Client::new();
    let jwt = app_jwt("ferry", "client-a");
    for _ in 0..3 {
        http.get(format!("{base}/rest/api/3/issue/ABC-123"))
            .header("authorization", &jwt)
            .send()
            .await
            .expect("send");
    }

    let body = http
        .get(format!("{base}/_sim/requests"))
        .send()
        .await
        .expect("log")
        .text()
        .await
        .expect("text");
    let rows: Vec<serde_json::Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(rows.len(), 3, "reading the log is not logged: {body}");
    assert!(
        rows.iter()
            .all(|r| r["path"] == "/rest/api/3/issue/{issueIdOrKey}")
    );
    assert!(!body.contains("ABC-123"), "no raw paths");
    assert!(!body.contains(jwt.trim_start_matches("JWT ")), "no tokens");
    let summary: Vec<(u64, u64, Option<&str>)> = rows
        .iter()
        .map(|r| {
            (
                r["status"].as_u64().unwrap_or(0),
                r["points"].as_u64().unwrap_or(99),
                r["limiter"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (200, 2, None),
            (200, 2, None),
            (429, 0, Some("jira-quota-global-based"))
        ]
    );
    assert_eq!(rows[0]["tenant"], "client-a");
    assert_eq!(rows[0]["auth"], "jwt");
    assert_eq!(rows[0]["method"], "GET");
    assert_eq!(rows[1]["seq"], 2);
}

#[tokio::test]
async fn reset_clears_the_log_runs_the_hooks_and_refills_the_limiter() {
    let log = RequestLog::new();
    let resets = Arc::new(AtomicUsize::new(0));
    let seen = resets.clone();
    log.on_reset(Arc::new(move || {
        seen.fetch_add(1, Ordering::SeqCst);
    }));
    let app = jira_layers(
        jira_router(counter()),
        Some(JiraLimiter::new(two_point_quota())),
        None,
        log.clone(),
    );
    let base = spawn(app).await;
    let http = reqwest::Client::new();
    let jwt = app_jwt("ferry", "client-a");
    let get = || {
        http.get(format!("{base}/rest/api/3/issue/X-1"))
            .header("authorization", &jwt)
            .send()
    };
    get().await.expect("send");
    get().await.expect("send");
    assert_eq!(get().await.expect("send").status(), 429);

    let reset = http
        .post(format!("{base}/_sim/reset"))
        .send()
        .await
        .expect("reset");
    assert_eq!(reset.status(), 204);
    assert_eq!(resets.load(Ordering::SeqCst), 1, "the simulator's hook ran");
    assert_eq!(
        http.get(format!("{base}/_sim/requests"))
            .send()
            .await
            .expect("log")
            .text()
            .await
            .expect("text"),
        ""
    );
    assert_eq!(
        get().await.expect("send").status(),
        200,
        "the limiter's usage was reset too"
    );
}

#[tokio::test]
async fn a_caller_tag_from_the_handler_wins_over_the_limiters_guess() {
    let log = RequestLog::new();
    let router = axum::Router::new().route(
        "/rest/api/3/myself",
        axum::routing::get(|| async {
            (
                axum::Extension(CallerTag {
                    kind: "session",
                    tenant: "verified-client".into(),
                }),
                "{}",
            )
        }),
    );
    let base = spawn(jira_layers(router, None, None, log.clone())).await;
    reqwest::Client::new()
        .get(format!("{base}/rest/api/3/myself"))
        .header("authorization", app_jwt("ferry", "guessed-client"))
        .send()
        .await
        .expect("send");
    let row = &log.entries()[0];
    assert_eq!(
        (row.auth, row.tenant.as_str()),
        ("session", "verified-client")
    );
}
