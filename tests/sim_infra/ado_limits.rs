//! ADO's TSTU throttle: delay, then 429 TF400733, then recovery; the PAT never leaks.

use std::time::{Duration, Instant};

use axum::{Router, routing::get};
use ferry::sim::{
    limits::{AdoLimiter, AdoProfile, ado_layers},
    reqlog::RequestLog,
};

use crate::helpers::{basic, header, spawn};

fn tiny_profile() -> AdoProfile {
    let mut p = AdoProfile::named("ado-services-2026").expect("preset");
    p.window_secs = 2.0;
    p.threshold = 2.0;
    p.block_factor = 2.0;
    p.delay_ms_per_tstu = 100.0;
    p.costs.clear();
    p.default_tstu = 1.0;
    p.latency_scale = 0.0;
    p
}

#[tokio::test]
async fn tstu_usage_is_delayed_then_refused_then_recovers() {
    let log = RequestLog::new();
    let router = Router::new().route("/{org}/_apis/wit/workitems/{id}", get(|| async { "{}" }));
    let base = spawn(ado_layers(
        router,
        Some(AdoLimiter::new(tiny_profile())),
        None,
        log.clone(),
    ))
    .await;
    let http = reqwest::Client::new();
    let pat = "super-secret-pat-value";
    let call = || {
        let (http, base) = (http.clone(), base.clone());
        async move {
            let started = Instant::now();
            let resp = http
                .get(format!("{base}/org/_apis/wit/workitems/1"))
                .header("authorization", basic("", pat))
                .send()
                .await
                .expect("send");
            (resp, started.elapsed())
        }
    };
    let (first, _) = call().await;
    assert_eq!(first.status(), 200);
    assert_eq!(
        header(&first, "x-ratelimit-limit"),
        "",
        "no headers far below the threshold"
    );
    let (second, _) = call().await;
    assert_eq!(
        header(&second, "x-ratelimit-resource"),
        "Core.TSTU",
        "headers from 80 % of the threshold"
    );
    assert_eq!(header(&second, "x-ratelimit-limit"), "2");
    call().await;
    let (delayed, took) = call().await;
    assert_eq!(delayed.status(), 200);
    assert_eq!(
        header(&delayed, "x-ratelimit-delay"),
        "0.100",
        "1 TSTU over → 0.1 s"
    );
    assert_eq!(header(&delayed, "x-ratelimit-remaining"), "0");
    assert!(
        took >= Duration::from_millis(100),
        "the delay was real: {took:?}"
    );
    let reset: u64 = header(&delayed, "x-ratelimit-reset")
        .parse()
        .expect("epoch seconds");
    assert!(reset > 1_700_000_000);
    call().await;
    let (blocked, _) = call().await;
    assert_eq!(blocked.status(), 429);
    let retry: u64 = header(&blocked, "retry-after")
        .parse()
        .expect("Retry-After");
    assert!((1..=2).contains(&retry));
    for name in [
        "x-ratelimit-resource",
        "x-ratelimit-delay",
        "x-ratelimit-limit",
        "x-ratelimit-reset",
    ] {
        assert!(!header(&blocked, name).is_empty(), "429 lacks {name}");
    }
    assert_eq!(header(&blocked, "x-ratelimit-remaining"), "0");
    assert!(blocked.text().await.expect("body").contains("TF400733"));
    tokio::time::sleep(Duration::from_secs(retry)).await;
    let (recovered, _) = call().await;
    assert_eq!(recovered.status(), 200, "usage slid out of the window");

    let ndjson = log.to_ndjson();
    assert!(!ndjson.contains(pat), "the PAT is never logged");
    let hits: Vec<_> = log.entries().iter().filter_map(|e| e.limiter).collect();
    assert_eq!(hits, vec!["TF400733"]);
    assert!(
        log.entries()
            .iter()
            .all(|e| e.path == "/{org}/_apis/wit/workitems/{id}")
    );
}

#[tokio::test]
async fn each_identity_has_its_own_window() {
    let router = Router::new().route("/x", get(|| async { "{}" }));
    let base = spawn(router.layer(AdoLimiter::new(tiny_profile()).layer())).await;
    let http = reqwest::Client::new();
    for _ in 0..6 {
        http.get(format!("{base}/x"))
            .header("authorization", basic("", "pat-a"))
            .send()
            .await
            .expect("send");
    }
    let a = http
        .get(format!("{base}/x"))
        .header("authorization", basic("", "pat-a"))
        .send()
        .await
        .expect("send");
    let b = http
        .get(format!("{base}/x"))
        .header("authorization", basic("", "pat-b"))
        .send()
        .await
        .expect("send");
    assert_eq!((a.status().as_u16(), b.status().as_u16()), (429, 200));
}
