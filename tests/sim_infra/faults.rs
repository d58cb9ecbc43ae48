//! Each fault as a client sees it, determinism, and the spec's error messages.

use std::sync::atomic::Ordering;

use axum::{
    Router,
    routing::{get, post},
};
use ferry::sim::{
    faults::{Faults, parse_faults},
    reqlog::RequestLog,
};

use crate::helpers::{counter, header, spawn};

async fn serve(
    spec: &str,
) -> (
    String,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
    RequestLog,
) {
    let ran = counter();
    let (r1, r2) = (ran.clone(), ran.clone());
    let router = Router::new()
        .route(
            "/write",
            post(move || {
                r1.fetch_add(1, Ordering::SeqCst);
                async { (axum::http::StatusCode::CREATED, "made") }
            }),
        )
        .route(
            "/read",
            get(move || {
                r2.fetch_add(1, Ordering::SeqCst);
                async { "data" }
            }),
        );
    let log = RequestLog::new();
    let faults = Faults::new(parse_faults(spec).expect("spec"));
    let base = spawn(ferry::sim::limits::jira_layers(
        router,
        None,
        Some(faults),
        log.clone(),
    ))
    .await;
    (base, ran, log)
}

#[tokio::test]
async fn error5xx_answers_a_server_error_without_running_the_handler() {
    let (base, ran, _) = serve("error5xx=1").await;
    let resp = reqwest::Client::new()
        .post(format!("{base}/write"))
        .send()
        .await
        .expect("send");
    assert!(
        [500, 502, 503].contains(&resp.status().as_u16()),
        "{}",
        resp.status()
    );
    assert_eq!(ran.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_429_storm_refuses_every_request_for_its_duration_then_ends() {
    let (base, ran, log) = serve("storm429=1:1s").await;
    let http = reqwest::Client::new();
    let first = http.get(format!("{base}/read")).send().await.expect("send");
    assert_eq!(first.status(), 429);
    assert_eq!(header(&first, "retry-after"), "1");
    assert_eq!(ran.load(Ordering::SeqCst), 0);
    assert_eq!(log.entries()[0].fault, Some("storm429"));
}

#[tokio::test]
async fn a_storm_ends_after_its_duration() {
    let (base, _, _) = serve("storm429=0.5:300ms,seed=3").await;
    let http = reqwest::Client::new();
    let mut saw_storm = false;
    for _ in 0..40 {
        if http
            .get(format!("{base}/read"))
            .send()
            .await
            .expect("send")
            .status()
            == 429
        {
            saw_storm = true;
            break;
        }
    }
    assert!(saw_storm, "a storm started");
    tokio::time::sleep(std::time::Duration::from_millis(350)).await;
    // p = 0.5 per request may start a new storm, but not on every one of 20 requests.
    let mut passed = 0;
    for _ in 0..20 {
        if http
            .get(format!("{base}/read"))
            .send()
            .await
            .expect("send")
            .status()
            == 200
        {
            passed += 1;
        }
    }
    assert!(passed > 0, "the storm ended");
}

#[tokio::test]
async fn reset_is_a_transport_error_for_reqwest_and_the_handler_never_ran() {
    let (base, ran, log) = serve("reset=1").await;
    let err = reqwest::Client::new()
        .get(format!("{base}/read"))
        .send()
        .await
        .expect_err("cut");
    assert!(
        err.is_request() || err.is_connect() || err.is_body(),
        "transport error: {err:?}"
    );
    assert!(err.status().is_none(), "no HTTP status reached the client");
    assert_eq!(ran.load(Ordering::SeqCst), 0);
    let row = &log.entries()[0];
    assert_eq!((row.fault, row.status), (Some("reset"), 0));
}

#[tokio::test]
async fn a_lost_write_is_applied_yet_the_client_sees_a_transport_error() {
    let (base, ran, log) = serve("lost=1").await;
    let http = reqwest::Client::new();
    let err = http
        .post(format!("{base}/write"))
        .send()
        .await
        .expect_err("lost");
    assert!(err.status().is_none(), "{err:?}");
    assert_eq!(
        ran.load(Ordering::SeqCst),
        1,
        "the handler ran to completion"
    );
    let row = &log.entries()[0];
    assert_eq!(
        (row.fault, row.status, row.applied_status),
        (Some("lost"), 0, Some(201))
    );
    let read = http
        .get(format!("{base}/read"))
        .send()
        .await
        .expect("reads are not lost by default");
    assert_eq!(read.text().await.expect("body"), "data");
}

#[tokio::test]
async fn the_same_seed_replays_the_same_faults_in_the_same_order() {
    let mut runs = Vec::new();
    for _ in 0..2 {
        let (base, _, _) = serve("error5xx=0.5,seed=42").await;
        let http = reqwest::Client::new();
        let mut statuses = Vec::new();
        for _ in 0..16 {
            statuses.push(
                http.get(format!("{base}/read"))
                    .send()
                    .await
                    .expect("send")
                    .status()
                    .as_u16(),
            );
        }
        runs.push(statuses);
    }
    assert_eq!(runs[0], runs[1]);
    assert!(
        runs[0].contains(&200) && runs[0].iter().any(|s| *s >= 500),
        "{:?}",
        runs[0]
    );
}

#[tokio::test]
async fn latency_delays_every_request() {
    let (base, _, _) = serve("latency=120ms").await;
    let started = std::time::Instant::now();
    reqwest::Client::new()
        .get(format!("{base}/read"))
        .send()
        .await
        .expect("send");
    assert!(started.elapsed() >= std::time::Duration::from_millis(120));
}

#[test]
fn bad_specs_are_refused_with_a_message_naming_the_problem() {
    let cases = [
        ("error5xx=2", "not a probability"),
        ("storm429=0.1", "PROBABILITY:DURATION"),
        ("latency=50", "not a duration"),
        ("explode=1", "unknown fault `explode`"),
        ("reset=0.1,reset=0.2", "given twice"),
        ("lost", "not key=value"),
        ("lost=0.1:sometimes", "`sometimes` is not valid"),
        ("seed=x", "`x` is not valid"),
    ];
    for (spec, expected) in cases {
        let err = parse_faults(spec).expect_err(spec).to_string();
        assert!(err.contains(expected), "{spec}: {err}");
    }
}
