//! A run under Jira's rate limits: the simulator enforces the `jira-cloud-2026` profile with a
//! scaled quota (a 20 s virtual hour of 200 points, aligned to the Unix epoch like Jira's UTC
//! hours), a slow remote-link endpoint and tight per-issue windows. While the run goes, the
//! test (as the app, with its credentials) spends the rest of one window and keeps a few
//! issues' write windows full. The run must complete with every item exactly once, meet 429s of
//! each reason and wait instead of hammering, and never spend more than the pool per window.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use ferry::sim::{
    r#gen::{GenOptions, generate_string},
    jira::JiraSimOptions,
    limits::{
        JiraLimiter, jira_layers,
        profile::{BurstOverride, IssueWindow, JiraProfile, Pool},
    },
    reqlog::{LogEntry, RequestLog},
};
use reqwest::Method;
use serde_json::{Value, json};

use crate::{
    helpers::*,
    mapping::{World, items, jira_site, serve_ado, trouble, wait_for},
    runs::{approved, jira_reader, start},
};

const PAT: &str = "ado-test-pat-0123456789";
const ADMIN: &str = "712020:0001-admin";
/// A user who opens the run page for the first time during the quota wall.
const STRANGER: &str = "712020:0003";
/// The virtual hour, seconds.
const HOUR: u64 = 20;
/// Points per virtual hour.
const POOL: u64 = 200;
const QUOTA: &str = "jira-quota-global-based";
const BURST: &str = "jira-burst-based";
const PER_ISSUE: &str = "jira-per-issue-on-write";
/// Items the run writes to (the workload's size).
const ITEMS_WRITTEN: usize = 90;
/// Issues the test keeps busy with writes of its own.
const BUSY: usize = 4;

fn unix() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs_f64()
}

fn profile() -> JiraProfile {
    let mut p = JiraProfile::named("jira-cloud-2026").expect("preset");
    let q = p.quota.as_mut().expect("quota");
    q.pool = Pool::Global;
    q.points_per_hour = POOL;
    q.hour_secs = HOUR as f64;
    // Windows at multiples of HOUR since the epoch, as Jira's are at the top of each UTC hour.
    q.start_offset_secs = unix() % HOUR as f64;
    let burst = p.burst.as_mut().expect("burst");
    burst.capacity_factor = 2.0;
    burst.overrides.push(BurstOverride {
        method: "POST".into(),
        path: "/rest/api/3/issue/{}/remotelink".into(),
        rps: 4.0,
    });
    p.per_issue = vec![IssueWindow { max: 2, secs: 3.0 }];
    p.latency_scale = 0.05;
    p.slow_tail = 0.0;
    p.error503 = 0.0;
    p
}

/// Ferry and both simulators; the Jira one behind the limiter, with its request log.
async fn limited_world(count: usize) -> (World, RequestLog, f64) {
    let hour = HOUR.to_string();
    let pool = POOL.to_string();
    let app = TestApp::spawn_with(&[
        ("FERRY_ALLOWED_SOURCE_HOSTS", "127.0.0.1"),
        ("FERRY_POINTS_PER_HOUR", &pool),
        ("FERRY_POINTS_WINDOW_SECS", &hour),
    ])
    .await;
    let options = GenOptions::new(count, 11).with_trouble();
    let (text, _) = generate_string(&options).expect("generate");
    let org = serve_ado(&app, &text).await;

    let (jira, site, jira_listener) = jira_site(&options, JiraSimOptions::default()).await;
    let log = RequestLog::new();
    let log_start = unix();
    let limited = jira_layers(
        ferry::sim::jira::router(jira.clone()),
        Some(JiraLimiter::new(profile())),
        None,
        log.clone(),
    );
    app.serve_router(limited, jira_listener);
    app.install(&site).await;
    let auth = format!("JWT {}", app.context_token(&site, ADMIN));
    let r = app
        .api(
            Method::POST,
            "/api/connections",
            &auth,
            Some(json!({ "url": org, "pat": PAT })),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
    let connection: Value = r.json().await.expect("json");
    let r = app
        .api(
            Method::POST,
            "/api/scans",
            &auth,
            Some(json!({ "connectionId": connection["id"], "project": "Contoso" })),
        )
        .await;
    assert_eq!(r.status(), 202);
    let started: Value = r.json().await.expect("json");
    let scan = started["scan"]["id"].as_str().expect("id").to_owned();
    wait_for(&app, &auth, &format!("/api/scans/{scan}"), "status").await;
    let world = World {
        app,
        jira,
        site,
        auth,
        org: org.clone(),
        dataset: serde_json::from_str(&text).expect("json"),
        catalog: started["catalogId"].as_str().expect("catalog").to_owned(),
    };
    (world, log, log_start)
}

/// Every issue of SCRUM by the ADO id its origin property carries.
async fn origins(w: &World) -> BTreeMap<i64, Vec<String>> {
    let client = jira_reader(w);
    let mut out: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    let mut token: Option<String> = None;
    loop {
        let mut body = json!({ "jql": "project = SCRUM ORDER BY id", "fields": ["id"], "properties": ["ferry-origin"], "maxResults": 100 });
        if let Some(t) = &token {
            body["nextPageToken"] = json!(t);
        }
        let page: Value = client
            .post_json_idempotent("/rest/api/3/search/jql", &body)
            .await
            .expect("search");
        for i in page["issues"].as_array().expect("issues") {
            let ado = i["properties"]["ferry-origin"]["adoId"]
                .as_i64()
                .expect("origin");
            out.entry(ado)
                .or_default()
                .push(i["key"].as_str().expect("key").to_owned());
        }
        match page["nextPageToken"].as_str() {
            Some(t) => token = Some(t.to_owned()),
            None => return out,
        }
    }
}

/// The app's credentials used by something other than the run: raw calls with a JWT.
async fn as_app(w: &World, method: Method, path: &str, body: Option<Value>) -> reqwest::Response {
    let host = ferry::connect::outbound::HostClient::new(APP_KEY, Duration::from_secs(30));
    let tenant = ferry::connect::outbound::TenantCredentials {
        base_url: w.site.base_url.parse().expect("url"),
        shared_secret: secrecy::SecretString::from(w.site.secret.clone()),
    };
    let mut r = host.request(&tenant, method, path).expect("request");
    if let Some(b) = body {
        r = r.json(&b);
    }
    r.send().await.expect("send")
}

/// The run page's poll, which must answer through the quota wall: its permission check is
/// served from the last answer Jira gave while Jira refuses.
async fn run_view(w: &World, run: &str) -> Value {
    let r = w
        .app
        .api(
            Method::GET,
            &format!("/api/migrations/{run}"),
            &w.auth,
            None,
        )
        .await;
    let status = r.status();
    let body: Value = r.json().await.expect("json");
    assert_eq!(status, 200, "a poll of the run page failed: {body}");
    body
}

fn is_check(e: &LogEntry) -> bool {
    e.path.ends_with("/permissions/check")
}

/// Ferry's own requests: not the test's (`/myself`, property writes).
fn ferrys(log: &[LogEntry]) -> Vec<&LogEntry> {
    log.iter()
        .filter(|e| e.path != "/rest/api/3/myself" && !e.path.contains("/properties/"))
        .collect()
}

#[tokio::test]
async fn a_run_under_jira_limits_waits_for_quota_slows_bursts_delays_busy_issues_and_spends_within_the_pool()
 {
    let (w, log, log_start) = limited_world(ITEMS_WRITTEN).await;
    let mapping = approved(&w).await;
    let run_start = unix() - log_start;
    let run = start(&w, &mapping).await;
    let done = Arc::new(AtomicBool::new(false));

    // Watch the run: the phase it is in and whether it ever showed a quota wait.
    let mut saw_quota_wait = None;
    let mut burnt = false;
    let mut busy: Option<tokio::task::JoinHandle<usize>> = None;
    let finished = loop {
        let v = run_view(&w, &run).await;
        match v["run"]["status"].as_str() {
            Some("completed") => break v,
            Some("failed") => panic!("the run failed: {v}"),
            _ => {}
        }
        if v["budget"]["waitingFor"] == "quota" && saw_quota_wait.is_none() {
            saw_quota_wait = Some(v["budget"].clone());
            // A user Jira was never asked about, during the wall: refused with a 503 (never
            // granted), and no check is sent into the wall for it.
            let before = log.entries().iter().filter(|e| is_check(e)).count();
            let stranger = format!("JWT {}", w.app.context_token(&w.site, STRANGER));
            let r = w
                .app
                .api(
                    Method::GET,
                    &format!("/api/migrations/{run}"),
                    &stranger,
                    None,
                )
                .await;
            assert_eq!(r.status(), 503, "{}", r.text().await.unwrap_or_default());
            let after = log.entries().iter().filter(|e| is_check(e)).count();
            assert_eq!(after, before, "a permission check was sent into the wall");
        }
        if v["run"]["phase"] == "followup" && busy.is_none() {
            // Keep the write windows of the items followed last (created last: the highest
            // keys) full.
            let mut keys: Vec<String> = origins(&w).await.into_values().flatten().collect();
            keys.sort_by_key(|k| {
                k.rsplit('-')
                    .next()
                    .and_then(|n| n.parse::<i64>().ok())
                    .unwrap_or(0)
            });
            let keys = keys.split_off(keys.len().saturating_sub(BUSY));
            eprintln!("keeping {keys:?} busy from {:.2}s", unix() - log_start);
            let done = done.clone();
            let (base, secret) = (w.site.base_url.clone(), w.site.secret.clone());
            busy = Some(tokio::spawn(keep_busy(base, secret, keys, done)));
        }
        if busy.is_some() && !burnt {
            // Spend what is left of the next window as soon as it starts.
            let next = ((unix() / HOUR as f64).floor() + 1.0) * HOUR as f64;
            tokio::time::sleep(Duration::from_secs_f64(next - unix() + 0.3)).await;
            let mut calls = 0;
            loop {
                let r = as_app(&w, Method::GET, "/rest/api/3/myself", None).await;
                calls += 1;
                if r.status() == 429 {
                    assert_eq!(r.headers()["ratelimit-reason"], QUOTA);
                    break;
                }
                assert!(calls < 500, "the pool never ran out");
            }
            burnt = true;
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    };
    done.store(true, Ordering::SeqCst);
    let kept_busy = match busy {
        Some(b) => b.await.expect("busy task"),
        None => 0,
    };
    let entries = log.entries();

    // Every item exactly once, with its remote link; the bad ones refused.
    let in_jira = origins(&w).await;
    let dupes: Vec<_> = in_jira.iter().filter(|(_, v)| v.len() > 1).collect();
    assert!(dupes.is_empty(), "duplicates: {dupes:?}");
    let failed = trouble(&w.dataset, "retired_severity");
    let expected: BTreeSet<i64> = items(&w.dataset)
        .iter()
        .filter_map(|i| i["id"].as_i64())
        .filter(|id| !failed.contains(id))
        .collect();
    assert_eq!(in_jira.keys().copied().collect::<BTreeSet<_>>(), expected);
    let remote_done: i64 = finished["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter(|s| s["kind"] == "remote" && s["state"] == "done")
        .map(|s| s["count"].as_i64().or(s["items"].as_i64()).unwrap_or(0))
        .sum();
    assert_eq!(remote_done, expected.len() as i64, "{finished}");

    // Each reason met, and each only a handful of times: the run waited, it did not hammer.
    let ours = ferrys(&entries);
    let mut reasons: HashMap<&str, usize> = HashMap::new();
    // The run's own calls; the permission checks of this test's polls (a JWT call every
    // ~150 ms, cached 60 s) are judged below.
    for e in ours.iter().filter(|e| !is_check(e)) {
        if let Some(r) = e.limiter {
            *reasons.entry(r).or_default() += 1;
        }
    }
    eprintln!(
        "429s served to Ferry by reason: {reasons:?}; property writes by the test: {kept_busy}"
    );
    for e in ours.iter().filter(|e| e.limiter.is_some()) {
        eprintln!(
            "  429 at {:.2}s: {} {} {:?}",
            e.t, e.method, e.path, e.limiter
        );
    }
    for reason in [QUOTA, BURST, PER_ISSUE] {
        let n = reasons.get(reason).copied().unwrap_or(0);
        assert!(n >= 1, "Ferry met no `{reason}` 429: {reasons:?}");
        // Each refusal comes from the calls in flight when the limit was reached, or from a
        // retry after the `Retry-After` Jira asked; a busy issue may refuse a retry again.
        // Quota and burst: at most the calls in flight when the wall was met (8 items followed
        // at once, 4 uploads, the create path) and their one retry each. Per issue: Ferry learns
        // an issue's window only from its 429 (Jira publishes no per-issue headers), and the
        // follow-up writes several times per issue into a 2-writes-per-3-s window, so about two
        // refusals per item written is the floor; a client retrying blindly makes many more.
        let most = if reason == PER_ISSUE {
            3 * (ITEMS_WRITTEN + BUSY)
        } else {
            16
        };
        assert!(n <= most, "Ferry hammered on `{reason}`: {n} refusals");
    }
    // No permission check is sent into a wall Ferry knows of: once Ferry met the quota 429
    // in a window, the checks serve their last answer until the reset. (A check may be the
    // first to meet a wall, when its cached answer expired just then; it records the wall.)
    let window_of = |e: &LogEntry| ((log_start + e.t) / HOUR as f64).floor() as i64;
    let mut first_wall: BTreeMap<i64, f64> = BTreeMap::new();
    for e in ours.iter().filter(|e| e.limiter == Some(QUOTA)) {
        first_wall.entry(window_of(e)).or_insert(e.t);
    }
    let into_known_wall: Vec<String> = ours
        .iter()
        .filter(|e| is_check(e) && e.limiter == Some(QUOTA))
        .filter(|e| first_wall.get(&window_of(e)).is_some_and(|t| e.t > t + 0.2))
        .map(|e| format!("{:.2}s", e.t))
        .collect();
    assert!(
        into_known_wall.is_empty(),
        "permission checks sent into the quota wall at {into_known_wall:?}"
    );
    let quota = saw_quota_wait.expect("the run showed it waited for the quota");
    assert!(quota["waitingUntil"].as_i64().is_some(), "{quota}");

    // Ferry never spends more than the pool per window. (Counting the test's own spending too,
    // the simulator may pass it by the few reads in flight when it ran out: it charges a
    // read's objects after the answer.)
    let mut all_per_window: BTreeMap<i64, u64> = BTreeMap::new();
    for e in &entries {
        *all_per_window.entry(window_of(e)).or_default() += e.points;
    }
    let mut per_window: BTreeMap<i64, u64> = BTreeMap::new();
    let mut ferry_points = 0;
    for e in &ours {
        *per_window.entry(window_of(e)).or_default() += e.points;
        ferry_points += e.points;
    }
    eprintln!("points per window, Ferry's: {per_window:?}; everyone's: {all_per_window:?}");
    assert!(
        per_window.values().all(|p| *p <= POOL),
        "Ferry's points per window: {per_window:?}"
    );
    assert!(
        per_window.len() >= 3,
        "the run needed several windows: {per_window:?}"
    );
    let created = expected.len() as f64;
    let run: Vec<&&LogEntry> = ours.iter().filter(|e| e.t >= run_start).collect();
    let run_points: u64 = run.iter().map(|e| e.points).sum();
    let mut by_endpoint: BTreeMap<String, (usize, u64)> = BTreeMap::new();
    for e in &run {
        let row = by_endpoint
            .entry(format!("{} {}", e.method, e.path))
            .or_default();
        row.0 += 1;
        row.1 += e.points;
    }
    eprintln!(
        "Ferry in all: {} requests, {ferry_points} points; the run alone: {} requests, {run_points} points for {created} items = {:.2} points per item; by endpoint (requests, points): {by_endpoint:#?}",
        ours.len(),
        run.len(),
        run_points as f64 / created
    );
}

/// Writes an issue property on each of `keys` until their per-issue window (2 writes in 3 s) is
/// full, every 4 s, until `done` (or 90 s): the windows are full most of the time, not all of
/// it, as with a busy user; returns the writes made.
async fn keep_busy(
    base: String,
    secret: String,
    keys: Vec<String>,
    done: Arc<AtomicBool>,
) -> usize {
    let host = ferry::connect::outbound::HostClient::new(APP_KEY, Duration::from_secs(30));
    let tenant = ferry::connect::outbound::TenantCredentials {
        base_url: base.parse().expect("url"),
        shared_secret: secrecy::SecretString::from(secret),
    };
    let mut writes = 0;
    let started = std::time::Instant::now();
    while !done.load(Ordering::SeqCst) && started.elapsed() < Duration::from_secs(90) {
        for key in &keys {
            for _ in 0..2 {
                let path = format!("/rest/api/3/issue/{key}/properties/test-busy");
                let r = host
                    .request(&tenant, Method::PUT, &path)
                    .expect("request")
                    .json(&json!({ "n": writes }))
                    .send()
                    .await
                    .expect("send");
                writes += 1;
                if r.status() == 429 {
                    break;
                }
            }
        }
        tokio::time::sleep(Duration::from_secs(4)).await;
    }
    writes
}
