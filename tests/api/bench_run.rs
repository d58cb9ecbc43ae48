//! Issue 7's workload benchmark (BENCHMARKS.md): a generated workload migrated end to end
//! against the Jira simulator under a rate-limit profile, then the simulator's request log read
//! back to compare the wall time with the lower bound the profile's limits imply for exactly
//! the calls made. Workload S (1,000 items) by default; `FERRY_BENCH_ITEMS=10000` for M.
//!
//! - Connect mode (`jira-cloud-2026`: points quota, bursts, per-issue windows, latency): Ferry
//!   in this process through its public API, so CPU and RSS include the simulators.
//! - API-token mode (`jira-api-token`: no quota): `ferry migrate` as a child process under
//!   `/usr/bin/time`, so its CPU and peak RSS are Ferry's alone.
//! - Engine cost (`unlimited`: no limit, no latency): the same child, `FERRY_BENCH_ITEMS`
//!   10,000 by default; its CPU per item and peak RSS are what is left of a run.
//!
//! `cargo test --release --test api -- --ignored --nocapture bench_`
//! (`FERRY_BENCH_PERF=perf.data` profiles the `ferry migrate` child with `perf record`).

use std::{
    collections::BTreeMap,
    path::Path,
    process::Stdio,
    time::{Duration, Instant},
};

use ferry::sim::{
    ado::{AdoSim, AdoSimOptions, Dataset, parsed},
    r#gen::{GenOptions, generate_string, people},
    jira::{JiraSim, JiraSimOptions, Site as JiraSite},
    limits::{JiraLimiter, jira_layers, profile::JiraProfile},
    reqlog::{LogEntry, RequestLog},
};
use reqwest::Method;
use serde_json::{Value, json};

use crate::{
    helpers::*,
    mapping::{World, jira_site, serve_ado, wait_for},
    runs::{approved, start},
};

const PAT: &str = "bench-pat";
const ADMIN: &str = "712020:0001-admin";
const USER: (&str, &str) = ("bench@example.com", "bench-api-token");

fn items() -> usize {
    std::env::var("FERRY_BENCH_ITEMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000)
}

/// This process's CPU seconds (user + system) and peak RSS in MiB.
fn own_usage() -> (f64, f64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let rest = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // Fields 14 and 15 (utime, stime) are at 11 and 12 after the command name.
    let cpu = (ticks(11) + ticks(12)) / 100.0;
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let hwm = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(0.0);
    (cpu, hwm / 1024.0)
}

/// The rate of the burst class a (method, template) falls in.
fn burst_rps(p: &JiraProfile, method: &str, template: &str) -> Option<f64> {
    let b = p.burst.as_ref()?;
    let norm = |s: &str| {
        s.split('/')
            .map(|seg| if seg.starts_with('{') { "{}" } else { seg })
            .collect::<Vec<_>>()
            .join("/")
    };
    let t = norm(template);
    if let Some(o) = b
        .overrides
        .iter()
        .find(|o| o.method == method && norm(&o.path) == t)
    {
        return Some(o.rps);
    }
    Some(match method {
        "GET" => b.get,
        "POST" => b.post,
        "PUT" => b.put,
        "DELETE" => b.delete,
        _ => return None,
    })
}

/// The report: the lower bound's terms, points per item, 429s by reason. Returns the bound.
/// `heaviest` is the most comments one item has: one write each to one issue.
fn report(
    mode: &str,
    p: &JiraProfile,
    log: &[LogEntry],
    (n, heaviest): (usize, usize),
    wall: f64,
) -> f64 {
    let mut classes: BTreeMap<(String, String), (u64, f64)> = BTreeMap::new();
    let mut reasons: BTreeMap<&str, u64> = BTreeMap::new();
    let (mut points, mut service_ms) = (0u64, 0.0);
    for e in log {
        let c = classes
            .entry((e.method.clone(), e.path.clone()))
            .or_default();
        c.0 += 1;
        c.1 += e.latency_ms - e.delay_ms;
        points += e.points;
        service_ms += e.latency_ms - e.delay_ms;
        if let Some(r) = e.limiter {
            *reasons.entry(r).or_default() += 1;
        }
    }
    println!(
        "== {mode}: {n} items, {} calls, wall {wall:.1} s",
        log.len()
    );
    println!(
        "  {:<7} {:<55} {:>7} {:>7} {:>9} {:>8}",
        "method", "template", "calls", "rps", "burst s", "mean ms"
    );
    let mut burst_bound: f64 = 0.0;
    let cap = p.burst.as_ref().map_or(0.0, |b| b.capacity_factor);
    for ((m, t), (calls, ms)) in &classes {
        let rps = burst_rps(p, m, t);
        // The bucket starts full (rps × capacity factor): only calls past it wait.
        let secs = rps.map_or(0.0, |r| (*calls as f64 - r * cap).max(0.0) / r);
        burst_bound = burst_bound.max(secs);
        println!(
            "  {m:<7} {t:<55} {calls:>7} {:>7} {secs:>9.1} {:>8.1}",
            rps.map_or("-".into(), |r| format!("{r}")),
            ms / *calls as f64
        );
    }
    let quota_bound = p.quota.as_ref().map_or(0.0, |q| {
        // The first window's points are free; every further full window is waited out.
        (points as f64 / q.points_per_hour as f64).floor() * q.hour_secs
    });
    // Per-issue windows (at most `max` writes to one issue in any `secs`): the item with the
    // most comments needs one write per comment, so its first and last comment are at least
    // floor((c − 1) ÷ max) windows apart, whatever else runs beside it.
    let per_issue_bound = p
        .per_issue
        .iter()
        .map(|w| ((heaviest.max(1) - 1) / w.max as usize) as f64 * w.secs)
        .fold(0.0, f64::max);
    let in_flight = p.max_in_flight.unwrap_or(u32::MAX) as f64;
    let latency_bound = service_ms / 1000.0 / in_flight;
    let bound = burst_bound
        .max(quota_bound)
        .max(latency_bound)
        .max(per_issue_bound);
    println!(
        "  bound terms: bursts max {burst_bound:.1} s; quota {points} points / {} per {} s = {quota_bound:.1} s; \
         latency {:.1} s service ÷ {in_flight} in flight = {latency_bound:.1} s; \
         per-issue windows {per_issue_bound:.1} s ({heaviest} comments on one item)",
        p.quota.as_ref().map_or(0, |q| q.points_per_hour),
        p.quota.as_ref().map_or(0.0, |q| q.hour_secs),
        service_ms / 1000.0
    );
    println!(
        "  lower bound {bound:.1} s; wall {wall:.1} s = {:.2}× bound; {:.2} points/item; {:.1} calls/item; 429s {reasons:?}",
        wall / bound.max(0.001),
        points as f64 / n as f64,
        log.len() as f64 / n as f64
    );
    bound
}

/// Connect mode: Ferry in this process, the Jira simulator behind `jira-cloud-2026`.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "a benchmark, run on demand (BENCHMARKS.md)"]
async fn bench_run_connect_mode() {
    let n = items();
    let profile = JiraProfile::named("jira-cloud-2026").expect("preset");
    let app = TestApp::spawn_with(&[("FERRY_ALLOWED_SOURCE_HOSTS", "127.0.0.1")]).await;
    let options = GenOptions::new(n, 11);
    let (text, _) = generate_string(&options).expect("generate");
    let org = serve_ado(&app, &text).await;
    let (jira, site, jira_listener) = jira_site(&options, JiraSimOptions::default()).await;
    let log = RequestLog::new();
    let limited = jira_layers(
        ferry::sim::jira::router(jira.clone()),
        Some(JiraLimiter::new(profile.clone())),
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
            // `serve_ado` serves the organization with the API tests' PAT.
            Some(json!({ "url": org, "pat": crate::mapping::PAT })),
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
    let w = World {
        app,
        jira,
        site,
        auth,
        org: org.clone(),
        dataset: serde_json::from_str(&text).expect("json"),
        catalog: started["catalogId"].as_str().expect("catalog").to_owned(),
    };
    let mapping = approved(&w).await;
    // Only the run is measured: the setup's calls leave the log and the limiter's counts.
    log.reset();
    let (cpu0, _) = own_usage();
    let t0 = Instant::now();
    let run = start(&w, &mapping).await;
    let view = loop {
        // A fresh context token per poll, as the run page gets from Jira: one lives 3 min
        // (helpers' `hs256`), and a poll with an expired one answers 401 forever, which once
        // looked like a run that never ended.
        let auth = format!("JWT {}", w.app.context_token(&w.site, ADMIN));
        let r = w
            .app
            .api(Method::GET, &format!("/api/migrations/{run}"), &auth, None)
            .await;
        let code = r.status();
        let v: Value = r.json().await.expect("json");
        // While the quota is walled Ferry sends no permission check, and once its last answer
        // is older than `permissions::STALE` the page answers 503 (fails closed); the run goes
        // on regardless, so the harness waits and asks again.
        if code == 503 {
            println!(
                "  {:.0} s: run page 503 ({}), the quota walled; issues {}",
                t0.elapsed().as_secs_f64(),
                v["error"],
                w.jira.issue_count()
            );
            tokio::time::sleep(Duration::from_secs(30)).await;
            continue;
        }
        assert_eq!(code, 200, "the run page: {v}");
        match v["run"]["status"].as_str() {
            Some("completed") => break v,
            Some("failed") => panic!("the run failed: {v}"),
            _ => tokio::time::sleep(Duration::from_millis(200)).await,
        }
        // What the run is doing, every ~30 s: a stall shows which phase and budget wait.
        if t0.elapsed().as_secs() % 30 == 0 && t0.elapsed().subsec_millis() < 250 {
            println!(
                "  {:.0} s: status {} phase {} budget {} issues {}",
                t0.elapsed().as_secs_f64(),
                v["run"]["status"],
                v["run"]["phase"],
                v["budget"],
                w.jira.issue_count()
            );
        }
    };
    let wall = t0.elapsed().as_secs_f64();
    let (cpu1, hwm) = own_usage();
    assert_eq!(w.jira.issue_count(), n, "{}", view["run"]);
    report(
        "Connect mode, jira-cloud-2026",
        &profile,
        &log.entries(),
        (n, heaviest(&w.dataset)),
        wall,
    );
    println!(
        "  process (Ferry + both simulators): {:.2} CPU s = {:.3} ms/item; peak RSS {hwm:.0} MiB",
        cpu1 - cpu0,
        (cpu1 - cpu0) * 1000.0 / n as f64
    );
}

/// The most comments one work item of a generated dataset held as JSON has.
fn heaviest(dataset: &Value) -> usize {
    dataset["projects"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["comments"].as_object())
        .flat_map(|by_item| by_item.values())
        .map(|list| {
            list.as_array()
                .into_iter()
                .flatten()
                .filter(|c| live(c))
                .count()
        })
        .max()
        .unwrap_or(0)
}

fn serve(listener: tokio::net::TcpListener, router: axum::Router) {
    tokio::spawn(async move { axum::serve(listener, router).await });
}

fn migrate(dir: &Path) -> tokio::process::Command {
    // `FERRY_BENCH_PERF=file` samples the child with `perf record` (call graphs) into `file`.
    let mut c = match std::env::var("FERRY_BENCH_PERF") {
        Ok(out) => {
            let mut c = tokio::process::Command::new("perf");
            c.args([
                "record",
                "-F",
                "499",
                "-g",
                "-o",
                &out,
                "--",
                "/usr/bin/time",
            ]);
            c
        }
        Err(_) => tokio::process::Command::new("/usr/bin/time"),
    };
    c.args(["-f", "FERRY_TIME %e %U %S %M"])
        .arg(env!("CARGO_BIN_EXE_ferry"))
        .arg("migrate")
        .arg("--plan")
        .arg(dir.join("plan.toml"))
        .env("TEST_ADO_PAT", PAT)
        .env("TEST_JIRA_TOKEN", USER.1)
        .env(
            "FERRY_SECRET_KEY",
            "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
        )
        .env_remove("FERRY_DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    c
}

/// API-token mode: `ferry migrate` as a child, the Jira simulator behind `jira-api-token`.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "a benchmark, run on demand (BENCHMARKS.md)"]
async fn bench_run_api_token_mode() {
    let child = migrate_as_child(items(), "jira-api-token", false).await;
    report(
        "API-token mode, jira-api-token",
        &child.profile,
        &child.log,
        (child.items, child.heaviest),
        child.wall,
    );
    child.print();
}

/// Benchmark 2, the engine's own cost: `ferry migrate` as a child against simulators that
/// answer at once and limit nothing, so what is left is Ferry's CPU and memory. Workload M by
/// default; `FERRY_BENCH_ITEMS=100000` for L.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "a benchmark, run on demand (BENCHMARKS.md)"]
async fn bench_engine_cost_against_unlimited_simulators() {
    let n = std::env::var("FERRY_BENCH_ITEMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let child = migrate_as_child(n, "unlimited", true).await;
    println!(
        "== engine cost, unlimited simulators: {n} items, {} Jira calls ({:.1} per item), wall {:.1} s",
        child.log.len(),
        child.log.len() as f64 / n as f64,
        child.wall
    );
    child.print();
    let (_, hwm) = own_usage();
    println!("  test process (both simulators and the dataset): peak RSS {hwm:.0} MiB");
}

/// What one measured `ferry migrate` child did.
struct Child {
    profile: JiraProfile,
    items: usize,
    heaviest: usize,
    log: Vec<LogEntry>,
    /// The measured run (the second `ferry migrate`, the draft already written), seconds.
    wall: f64,
    /// `/usr/bin/time` of the draft and of the run: user + system CPU seconds, peak RSS MiB.
    draft: (f64, f64),
    run: (f64, f64),
}

impl Child {
    fn print(&self) {
        let per_item = |cpu: f64| cpu * 1000.0 / self.items as f64;
        println!(
            "  ferry migrate, draft (scan + draft): {:.2} CPU s = {:.3} ms/item; peak RSS {:.0} MiB",
            self.draft.0,
            per_item(self.draft.0),
            self.draft.1
        );
        println!(
            "  ferry migrate, run (scan + run): {:.2} CPU s = {:.3} ms/item; peak RSS {:.0} MiB",
            self.run.0,
            per_item(self.run.0),
            self.run.1
        );
    }
}

/// `FERRY_TIME` line of `/usr/bin/time` in a child's stderr: (CPU s, peak RSS MiB).
fn child_usage(stderr: &str) -> (f64, f64) {
    let t: Vec<f64> = stderr
        .lines()
        .find_map(|l| l.strip_prefix("FERRY_TIME "))
        .expect("/usr/bin/time output")
        .split_whitespace()
        .filter_map(|v| v.parse().ok())
        .collect();
    (t[1] + t[2], t[3] / 1024.0)
}

/// Whether an ADO comment counts (it is not deleted).
fn live(comment: &Value) -> bool {
    comment["isDeleted"] != true
}

/// Generates `n` items (seed 11), serves them from an ADO simulator and a Jira simulator behind
/// `profile` in this process, and runs `ferry migrate` twice as a child: the draft, then the
/// migration with it, which is measured (its request log, wall, CPU and RSS). `digest` keeps
/// only digests of the bodies Jira receives (see [`JiraSimOptions::digest_bodies`]).
async fn migrate_as_child(n: usize, profile: &str, digest: bool) -> Child {
    let profile = JiraProfile::named(profile).expect("preset");
    let options = GenOptions::new(n, 11);
    let dataset = {
        let (text, _) = generate_string(&options).expect("generate");
        Dataset::from_json(&text).expect("dataset")
    };
    // The most comments one work item has.
    let heaviest = dataset
        .projects
        .iter()
        .flat_map(|p| p.comments.values())
        .map(|list| list.iter().filter(|c| live(&parsed(c))).count())
        .max()
        .unwrap_or(0);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let ado_base =
        url::Url::parse(&format!("http://{}/", listener.local_addr().expect("addr"))).expect("url");
    let ado = AdoSim::new(dataset, ado_base, AdoSimOptions { pat: PAT.into() });
    let org = ado.org_url().to_owned();
    serve(listener, ferry::sim::ado::router(ado));
    let jira_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let jira_base = format!("http://{}", jira_listener.local_addr().expect("addr"));
    let resolvable = people(&options)
        .into_iter()
        .filter(|p| p.resolvable)
        .map(|p| (p.name, p.email));
    let jira = JiraSim::new(
        JiraSite::default_scrum().with_people(resolvable),
        jira_base.parse().expect("url"),
        JiraSimOptions {
            api_user: Some((USER.0.into(), USER.1.into())),
            digest_bodies: digest,
            ..JiraSimOptions::default()
        },
    );
    let log = RequestLog::new();
    serve(
        jira_listener,
        jira_layers(
            ferry::sim::jira::router(jira.clone()),
            Some(JiraLimiter::new(profile.clone())),
            None,
            log.clone(),
        ),
    );
    let dir = std::env::temp_dir().join(format!("ferry-bench-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("dir");
    let plan = format!(
        "[source]\norganization_url = \"{org}\"\nproject = \"Contoso\"\npat = \"env:TEST_ADO_PAT\"\n\
         [target]\nsite_url = \"{jira_base}\"\nemail = \"{}\"\napi_token = \"env:TEST_JIRA_TOKEN\"\nproject_key = \"SCRUM\"\n",
        USER.0
    );
    std::fs::write(dir.join("plan.toml"), &plan).expect("plan");
    // First the draft (written beside the plan, exit 3), then the migration with it.
    let out = migrate(&dir).output().await.expect("draft");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    let draft = child_usage(&stderr);
    std::fs::write(
        dir.join("plan.toml"),
        format!("{plan}[mapping]\nfile = \"mapping.draft.json\"\n"),
    )
    .expect("plan");
    log.reset();
    let t0 = Instant::now();
    let out = tokio::time::timeout(Duration::from_secs(3 * 3_600), migrate(&dir).output())
        .await
        .expect("ends")
        .expect("migrate");
    let wall = t0.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(jira.issue_count(), n);
    let _ = std::fs::remove_dir_all(&dir);
    Child {
        profile,
        items: n,
        heaviest,
        log: log.entries(),
        wall,
        draft,
        run: child_usage(&stderr),
    }
}
