//! Jira's three limiters biting and recovering, and the headers a client reads.

use std::time::Duration;

use ferry::sim::{
    limits::{
        CostHint, JiraLimiter, JiraProfile,
        profile::{BulkAccounting, BurstConfig, IssueWindow, Pool, QuotaConfig},
    },
    reqlog::RequestLog,
};

use crate::helpers::{app_jwt, assert_jira_429, basic, counter, header, jira_router, spawn};

fn quota(pool: Pool, points: u64, hour_secs: f64) -> JiraProfile {
    let mut p = JiraProfile::named("unlimited").expect("preset");
    p.quota = Some(QuotaConfig {
        pool,
        points_per_hour: points,
        hour_secs,
        start_offset_secs: 0.0,
        bulk_accounting: BulkAccounting::PerRequest,
        background_burn: 0.0,
        default_read_points: 2,
    });
    p
}

async fn serve(limiter: &JiraLimiter) -> String {
    spawn(jira_router(counter()).layer(limiter.layer())).await
}

async fn create(http: &reqwest::Client, base: &str, auth: &str) -> reqwest::Response {
    http.post(format!("{base}/rest/api/3/issue"))
        .header("authorization", auth)
        .send()
        .await
        .expect("send")
}

#[tokio::test]
async fn the_quota_wall_refuses_everything_until_the_virtual_hour_resets() {
    let limiter = JiraLimiter::new(quota(Pool::Global, 5, 2.0));
    let base = serve(&limiter).await;
    let http = reqwest::Client::new();
    let jwt = app_jwt("ferry", "client-a");
    for _ in 0..5 {
        assert_eq!(create(&http, &base, &jwt).await.status(), 201);
    }
    let wall = create(&http, &base, &jwt).await;
    assert_jira_429(&wall, "jira-quota-global-based");
    assert_eq!(
        header(&wall, "ratelimit-policy"),
        "\"global-app-quota\";q=5;w=2"
    );
    let retry: u64 = header(&wall, "retry-after").parse().expect("retry");
    assert!(
        retry <= 2,
        "Retry-After {retry} is at most the virtual hour"
    );
    // Another endpoint is walled too: the quota is not per endpoint.
    let other = http
        .get(format!("{base}/rest/api/3/project"))
        .header("authorization", &jwt)
        .send()
        .await
        .expect("send");
    assert_eq!(other.status(), 429);
    tokio::time::sleep(Duration::from_secs(retry)).await;
    assert_eq!(
        create(&http, &base, &jwt).await.status(),
        201,
        "the pool resets with the virtual hour"
    );
}

#[tokio::test]
async fn successful_responses_carry_the_beta_quota_headers_and_warn_near_the_limit() {
    let limiter = JiraLimiter::new(quota(Pool::Global, 10, 3600.0));
    let base = serve(&limiter).await;
    let http = reqwest::Client::new();
    let jwt = app_jwt("ferry", "client-a");
    let first = create(&http, &base, &jwt).await;
    assert_eq!(
        header(&first, "beta-ratelimit-policy"),
        "\"global-app-quota\";q=10;w=3600"
    );
    assert!(
        !header(&first, "beta-ratelimit").contains("r="),
        "r only near the limit"
    );
    assert_eq!(header(&first, "x-ratelimit-nearlimit"), "");
    for _ in 0..8 {
        create(&http, &base, &jwt).await;
    }
    let near = create(&http, &base, &jwt).await;
    assert_eq!(near.status(), 201);
    assert!(
        header(&near, "beta-ratelimit").starts_with("\"global-app-quota\";r=0;t="),
        "{}",
        header(&near, "beta-ratelimit")
    );
    assert_eq!(header(&near, "x-ratelimit-nearlimit"), "true");
}

#[tokio::test]
async fn tier1_is_one_pool_for_all_tenants_of_the_app() {
    let limiter = JiraLimiter::new(quota(Pool::Global, 3, 3600.0));
    let base = serve(&limiter).await;
    let http = reqwest::Client::new();
    for _ in 0..3 {
        assert_eq!(
            create(&http, &base, &app_jwt("ferry", "client-a"))
                .await
                .status(),
            201
        );
    }
    assert_jira_429(
        &create(&http, &base, &app_jwt("ferry", "client-b")).await,
        "jira-quota-global-based",
    );
    assert_eq!(
        create(&http, &base, &app_jwt("other-app", "client-b"))
            .await
            .status(),
        201,
        "another app has its own pool"
    );
}

#[tokio::test]
async fn tier2_gives_each_tenant_its_own_pool() {
    let limiter = JiraLimiter::new(quota(Pool::Tenant, 3, 3600.0));
    let base = serve(&limiter).await;
    let http = reqwest::Client::new();
    for _ in 0..3 {
        assert_eq!(
            create(&http, &base, &app_jwt("ferry", "client-a"))
                .await
                .status(),
            201
        );
    }
    let walled = create(&http, &base, &app_jwt("ferry", "client-a")).await;
    assert_jira_429(&walled, "jira-quota-tenant-based");
    assert!(header(&walled, "ratelimit-policy").starts_with("\"tenant-app-quota\""));
    assert_eq!(
        create(&http, &base, &app_jwt("ferry", "client-b"))
            .await
            .status(),
        201
    );
}

#[tokio::test]
async fn two_sites_in_one_process_share_one_tier1_pool() {
    let limiter = JiraLimiter::new(quota(Pool::Global, 2, 3600.0));
    let site_a = spawn(jira_router(counter()).layer(limiter.layer_for_site("site-a"))).await;
    let site_b = spawn(jira_router(counter()).layer(limiter.layer_for_site("site-b"))).await;
    let http = reqwest::Client::new();
    let jwt = app_jwt("ferry", "ignored");
    assert_eq!(create(&http, &site_a, &jwt).await.status(), 201);
    assert_eq!(create(&http, &site_a, &jwt).await.status(), 201);
    assert_jira_429(
        &create(&http, &site_b, &jwt).await,
        "jira-quota-global-based",
    );
}

#[tokio::test]
async fn api_token_traffic_pays_no_points() {
    let limiter = JiraLimiter::new(quota(Pool::Global, 1, 3600.0));
    let base = serve(&limiter).await;
    let http = reqwest::Client::new();
    for _ in 0..5 {
        assert_eq!(
            create(&http, &base, &basic("bot@example.com", "api-token"))
                .await
                .status(),
            201
        );
    }
}

#[tokio::test]
async fn a_burst_bucket_empties_for_one_endpoint_only_and_refills() {
    let mut profile = JiraProfile::named("unlimited").expect("preset");
    profile.burst = Some(BurstConfig {
        get: 5.0,
        post: 5.0,
        put: 5.0,
        delete: 5.0,
        capacity_factor: 1.0,
        overrides: vec![],
    });
    let limiter = JiraLimiter::new(profile);
    let base = serve(&limiter).await;
    let http = reqwest::Client::new();
    let auth = basic("bot@example.com", "t");
    let get = |path: &'static str| {
        let (http, base, auth) = (http.clone(), base.clone(), auth.clone());
        async move {
            http.get(format!("{base}{path}"))
                .header("authorization", auth)
                .send()
                .await
                .expect("send")
        }
    };
    for _ in 0..5 {
        let ok = get("/rest/api/3/issue/A-1").await;
        assert_eq!(ok.status(), 200);
        assert_eq!(header(&ok, "x-ratelimit-limit"), "5");
    }
    // Another issue is the same endpoint (method + template): the bucket is shared.
    let refused = get("/rest/api/3/issue/A-2").await;
    assert_jira_429(&refused, "jira-burst-based");
    assert_eq!(header(&refused, "retry-after"), "1");
    assert_eq!(
        get("/rest/api/3/project").await.status(),
        200,
        "other endpoints are unaffected"
    );
    tokio::time::sleep(Duration::from_millis(450)).await;
    assert_eq!(
        get("/rest/api/3/issue/A-1").await.status(),
        200,
        "the bucket refilled"
    );
}

#[tokio::test]
async fn the_21st_write_to_one_issue_within_2s_is_refused_while_other_issues_pass() {
    let mut profile = JiraProfile::named("unlimited").expect("preset");
    profile.per_issue = vec![
        IssueWindow { max: 20, secs: 2.0 },
        IssueWindow {
            max: 100,
            secs: 30.0,
        },
    ];
    let limiter = JiraLimiter::new(profile);
    let writes = counter();
    let base = spawn(jira_router(writes.clone()).layer(limiter.layer())).await;
    let http = reqwest::Client::new();
    let comment = |issue: &'static str| {
        let (http, base) = (http.clone(), base.clone());
        async move {
            http.post(format!("{base}/rest/api/3/issue/{issue}/comment"))
                .header("authorization", basic("bot@example.com", "t"))
                .send()
                .await
                .expect("send")
        }
    };
    for _ in 0..20 {
        assert_eq!(comment("HOT-1").await.status(), 201);
    }
    let refused = comment("HOT-1").await;
    assert_jira_429(&refused, "jira-per-issue-on-write");
    assert_eq!(
        writes.load(std::sync::atomic::Ordering::SeqCst),
        20,
        "the refused write never ran"
    );
    assert_eq!(comment("COLD-2").await.status(), 201);
    let retry: u64 = header(&refused, "retry-after").parse().expect("retry");
    tokio::time::sleep(Duration::from_secs(retry)).await;
    assert_eq!(
        comment("HOT-1").await.status(),
        201,
        "the short window slid on"
    );
}

#[tokio::test]
async fn a_handlers_cost_hint_sets_the_points_of_a_read() {
    let limiter = JiraLimiter::new(quota(Pool::Global, 100, 3600.0));
    let log = RequestLog::new();
    let router = axum::Router::new()
        .route(
            "/rest/api/3/user/search",
            axum::routing::get(|| async {
                (
                    axum::Extension(CostHint {
                        identity_objects: 8,
                        ..CostHint::default()
                    }),
                    "[]",
                )
            }),
        )
        .route(
            "/rest/api/3/issue/{issueIdOrKey}",
            axum::routing::get(|| async { "{}" }),
        );
    let base = spawn(ferry::sim::limits::jira_layers(
        router,
        Some(limiter),
        None,
        log.clone(),
    ))
    .await;
    let http = reqwest::Client::new();
    let jwt = app_jwt("ferry", "client-a");
    for path in ["/rest/api/3/user/search", "/rest/api/3/issue/ABC-123"] {
        http.get(format!("{base}{path}"))
            .header("authorization", &jwt)
            .send()
            .await
            .expect("send");
    }
    let points: Vec<u64> = log.entries().iter().map(|e| e.points).collect();
    assert_eq!(
        points,
        vec![17, 2],
        "8 users = 17 points; GET /issue/ABC-123 = 2 points (reference §1.2)"
    );
}

#[tokio::test]
async fn user_search_endpoints_share_one_collective_bucket_per_tenant() {
    let mut profile = JiraProfile::named("unlimited").expect("preset");
    profile.user_search = Some(ferry::sim::limits::profile::UserSearchConfig {
        rps: 2.0,
        capacity: 2.0,
    });
    let limiter = JiraLimiter::new(profile);
    let ok = || async { "[]" };
    let router = axum::Router::new()
        .route("/rest/api/3/user/search", axum::routing::get(ok))
        .route("/rest/api/3/user/assignable/search", axum::routing::get(ok))
        .route("/rest/api/3/project", axum::routing::get(ok));
    let base = spawn(router.layer(limiter.layer())).await;
    let http = reqwest::Client::new();
    let get = |path: &str, user: &str| {
        http.get(format!("{base}{path}"))
            .header("authorization", basic(user, "t"))
            .send()
    };
    assert_eq!(
        get("/rest/api/3/user/search", "a@x")
            .await
            .expect("send")
            .status(),
        200
    );
    assert_eq!(
        get("/rest/api/3/user/search", "a@x")
            .await
            .expect("send")
            .status(),
        200
    );
    let refused = get("/rest/api/3/user/assignable/search", "a@x")
        .await
        .expect("send");
    assert_jira_429(&refused, "jira-burst-based");
    assert_eq!(
        get("/rest/api/3/project", "a@x")
            .await
            .expect("send")
            .status(),
        200
    );
    assert_eq!(
        get("/rest/api/3/user/search", "b@x")
            .await
            .expect("send")
            .status(),
        200,
        "per tenant"
    );
}

#[tokio::test]
async fn per_item_accounting_charges_a_bulk_create_per_issue_and_per_request_charges_once() {
    let mut charged = Vec::new();
    for accounting in [BulkAccounting::PerItem, BulkAccounting::PerRequest] {
        let mut profile = quota(Pool::Global, 1000, 3600.0);
        if let Some(q) = profile.quota.as_mut() {
            q.bulk_accounting = accounting;
        }
        let log = RequestLog::new();
        let router = axum::Router::new().route(
            "/rest/api/3/issue/bulk",
            axum::routing::post(|| async {
                (
                    axum::Extension(CostHint {
                        items: 50,
                        ..CostHint::default()
                    }),
                    "{}",
                )
            }),
        );
        let base = spawn(ferry::sim::limits::jira_layers(
            router,
            Some(JiraLimiter::new(profile)),
            None,
            log.clone(),
        ))
        .await;
        reqwest::Client::new()
            .post(format!("{base}/rest/api/3/issue/bulk"))
            .header("authorization", app_jwt("ferry", "client-a"))
            .send()
            .await
            .expect("send");
        charged.push(log.entries()[0].points);
    }
    assert_eq!(charged, vec![50, 1]);
}

#[tokio::test]
async fn the_profile_latency_delays_its_endpoint_class_and_unlimited_adds_none() {
    let mut slow = JiraProfile::named("unlimited").expect("preset");
    slow.latency = vec![ferry::sim::limits::latency::LatencyRule::new(
        Some("GET"),
        "/issue/",
        150.0,
        Some(150.0),
    )];
    slow.latency_scale = 1.0;
    let mut took = Vec::new();
    for profile in [slow, JiraProfile::named("unlimited").expect("preset")] {
        let base = serve(&JiraLimiter::new(profile)).await;
        let started = std::time::Instant::now();
        reqwest::get(format!("{base}/rest/api/3/issue/A-1"))
            .await
            .expect("send");
        took.push(started.elapsed());
    }
    assert!(took[0] >= Duration::from_millis(140), "{took:?}");
    assert!(took[1] < Duration::from_millis(100), "{took:?}");
}

#[test]
fn a_profile_file_in_toml_is_loaded_by_the_profile_flag() {
    let path = std::env::temp_dir().join(format!("ferry-profile-{}.toml", std::process::id()));
    std::fs::write(
        &path,
        "name = \"file\"\nlatency_scale = 0.0\nper_issue = [{ max = 3, secs = 1.0 }]\n[quota]\npool = \"tenant\"\npoints_per_hour = 42\nhour_secs = 6.0\nbulk_accounting = \"per_item\"\n",
    )
    .expect("write");
    let profile =
        ferry::sim::limits::parse_jira_profile(path.to_str().expect("utf-8")).expect("profile");
    std::fs::remove_file(&path).ok();
    assert_eq!(profile.name, "file");
    assert_eq!(
        profile
            .quota
            .map(|q| (q.pool, q.points_per_hour, q.hour_secs)),
        Some((Pool::Tenant, 42, 6.0))
    );
    assert_eq!(profile.per_issue, vec![IssueWindow { max: 3, secs: 1.0 }]);
    let err =
        ferry::sim::limits::parse_jira_profile("/nonexistent/x.json").expect_err("missing file");
    assert!(format!("{err:#}").contains("/nonexistent/x.json"));
}

#[tokio::test]
async fn requests_beyond_the_in_flight_cap_get_the_concurrency_429() {
    let mut profile = JiraProfile::named("unlimited").expect("preset");
    profile.max_in_flight = Some(2);
    let limiter = JiraLimiter::new(profile);
    let router = axum::Router::new().route(
        "/rest/api/3/slow",
        axum::routing::get(|| async {
            tokio::time::sleep(Duration::from_millis(400)).await;
            "{}"
        }),
    );
    let base = spawn(router.layer(limiter.layer())).await;
    let http = reqwest::Client::new();
    let call = || {
        http.get(format!("{base}/rest/api/3/slow"))
            .header("authorization", basic("a@x", "t"))
            .send()
    };
    let (a, b) = (tokio::spawn(call()), tokio::spawn(call()));
    tokio::time::sleep(Duration::from_millis(150)).await;
    let third = call().await.expect("send");
    assert_jira_429(
        &third,
        "jira-max-concurrent-threads-across-all-instances-per-tenant-per-user",
    );
    assert_eq!(a.await.expect("join").expect("send").status(), 200);
    assert_eq!(b.await.expect("join").expect("send").status(), 200);
    assert_eq!(
        call().await.expect("send").status(),
        200,
        "slots are released"
    );
}
