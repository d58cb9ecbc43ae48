//! Intake against the ADO simulator over real HTTP: connecting (with every bad input refused
//! and nothing stored), scanning a generated project, and a catalog that equals the dataset
//! and holds no ticket content.

use std::time::Duration;

use ferry::sim::{
    ado::{AdoSim, AdoSimOptions, Dataset},
    r#gen::{Expected, GenOptions, generate_string},
};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

const PAT: &str = "ado-test-pat-0123456789";

/// An ADO simulator serving a generated organization; returns its org URL.
async fn spawn_ado(app: &TestApp, items: usize) -> (String, Dataset, Expected) {
    spawn_ado_wrapped(app, items, |r| r).await
}

/// The same, with the router wrapped (rate limits, faults).
async fn spawn_ado_wrapped(
    app: &TestApp,
    items: usize,
    wrap: impl FnOnce(axum::Router) -> axum::Router,
) -> (String, Dataset, Expected) {
    let (json, expected) = generate_string(&GenOptions::new(items, 7)).expect("generate");
    let dataset = Dataset::from_json(&json).expect("dataset");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base =
        url::Url::parse(&format!("http://{}/", listener.local_addr().expect("addr"))).expect("url");
    let sim = AdoSim::new(dataset, base, AdoSimOptions { pat: PAT.into() });
    let org = sim.org_url().to_owned();
    let served = sim.dataset().clone();
    app.serve_router(wrap(ferry::sim::ado::router(sim)), listener);
    (org, served, expected)
}

async fn admin_auth(app: &TestApp) -> (Site, String) {
    let site = app.site("intake");
    app.install(&site).await;
    app.make_admin("admin-i");
    let auth = format!("JWT {}", app.context_token(&site, "admin-i"));
    (site, auth)
}

async fn connect(app: &TestApp, auth: &str, url: &str, pat: &str) -> reqwest::Response {
    app.api(
        Method::POST,
        "/api/connections",
        auth,
        Some(json!({ "url": url, "pat": pat })),
    )
    .await
}

async fn scan_to_end(app: &TestApp, auth: &str, connection: &str) -> Value {
    scan_scope_to_end(
        app,
        auth,
        json!({ "connectionId": connection, "project": "Contoso" }),
    )
    .await
}

/// Starts a scan with `body` and waits for it to complete; returns the start answer.
async fn scan_scope_to_end(app: &TestApp, auth: &str, body: Value) -> Value {
    let r = app.api(Method::POST, "/api/scans", auth, Some(body)).await;
    assert_eq!(r.status(), 202);
    let started: Value = r.json().await.expect("json");
    let scan_id = started["scan"]["id"].as_str().expect("scan id").to_owned();
    for _ in 0..6000 {
        let scan: Value = app
            .api(Method::GET, &format!("/api/scans/{scan_id}"), auth, None)
            .await
            .json()
            .await
            .expect("json");
        match scan["status"].as_str() {
            Some("completed") => return started,
            Some("failed") => panic!("scan failed: {scan}"),
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    panic!("scan did not finish in ten minutes");
}

#[tokio::test]
async fn bad_urls_pats_and_ssrf_targets_are_clear_errors_that_store_nothing() {
    let app = TestApp::spawn_with(&[("FERRY_ALLOWED_SOURCE_HOSTS", "127.0.0.1")]).await;
    let (site, auth) = admin_auth(&app).await;
    let (org, _, _) = spawn_ado(&app, 20).await;
    let redirect = app
        .redirect_server("http://169.254.169.254/latest/meta-data")
        .await;
    let cases = [
        (
            org.as_str(),
            "wrong-pat",
            "refused the personal access token",
        ),
        ("not a url", PAT, "not a valid Azure DevOps URL"),
        ("https://169.254.169.254/org", PAT, "private or internal"),
        ("https://localhost/org", PAT, "private or internal"),
        ("http://dev.azure.com/org", PAT, "https"),
        (redirect.as_str(), PAT, "does not answer as Azure DevOps"),
        (org.as_str(), "", "empty or malformed"),
        ("http://127.0.0.1:9/org", PAT, "unreachable"),
    ];
    for (url, pat, message) in cases {
        let r = connect(&app, &auth, url, pat).await;
        assert_eq!(r.status(), 400, "{url}");
        let body = r.text().await.expect("body");
        assert!(body.contains(message), "{url}: {body}");
        assert!(
            !body.contains(PAT) && !body.contains("wrong-pat"),
            "an error echoed the PAT"
        );
    }
    assert_eq!(
        app.store
            .connections(&site.client_key)
            .await
            .expect("list")
            .len(),
        0
    );
}

#[tokio::test]
async fn a_scan_catalogues_every_item_and_keeps_no_ticket_content() {
    let app = TestApp::spawn_with(&[("FERRY_ALLOWED_SOURCE_HOSTS", "127.0.0.1")]).await;
    let (site, auth) = admin_auth(&app).await;
    let (org, dataset, expected) = spawn_ado(&app, 300).await;
    let r = connect(&app, &auth, &org, PAT).await;
    assert_eq!(r.status(), 201);
    let connection: Value = r.json().await.expect("json");
    assert!(
        !connection.to_string().contains(PAT),
        "the PAT was returned"
    );
    let connection_id = connection["id"].as_str().expect("id").to_owned();

    let started = scan_to_end(&app, &auth, &connection_id).await;
    let catalog_id = started["catalogId"].as_str().expect("catalog").to_owned();
    let catalog: Value = app
        .api(
            Method::GET,
            &format!("/api/catalogs/{catalog_id}"),
            &auth,
            None,
        )
        .await
        .json()
        .await
        .expect("json");

    let mut by_type = std::collections::BTreeMap::<String, usize>::new();
    let mut by_state = std::collections::BTreeMap::<String, usize>::new();
    for c in catalog["counts"].as_array().expect("counts") {
        *by_type
            .entry(c["itemType"].as_str().expect("type").into())
            .or_default() += c["items"].as_u64().expect("n") as usize;
        *by_state
            .entry(c["state"].as_str().expect("state").into())
            .or_default() += c["items"].as_u64().expect("n") as usize;
    }
    assert_eq!(by_type, expected.by_type);
    assert_eq!(by_state, expected.by_state);
    let v = &catalog["volumes"];
    assert_eq!(v["items"], expected.items);
    assert_eq!(v["comments"], expected.comments);
    assert_eq!(v["attachments"], expected.attachments);
    assert_eq!(v["attachmentBytes"], expected.attachment_bytes);
    assert_eq!(
        v["withParent"],
        expected.with_parent.values().sum::<usize>()
    );
    let link_ends =
        2 * expected.links.values().sum::<usize>() + expected.hyperlinks + expected.artifact_links;
    assert_eq!(v["links"], link_ends);
    let people = catalog["identities"].as_array().expect("ids").len();
    assert!(
        people > 0 && people <= expected.identities,
        "{people} people seen of {}",
        expected.identities
    );
    assert!(catalog["quote"]["price"].as_f64().expect("price") > 0.0);
    assert!(
        catalog["structure"]["iterations"]["children"]
            .as_array()
            .is_some_and(|c| !c.is_empty())
    );

    // No title, description or comment text anywhere in the database files.
    let project = &dataset.projects[0];
    let mut needles: Vec<String> = Vec::new();
    for item in project.work_items.iter().take(40) {
        if let Some(t) = item.fields.get("System.Title").and_then(Value::as_str) {
            needles.push(t.to_owned());
        }
        if let Some(d) = item
            .fields
            .get("System.Description")
            .and_then(Value::as_str)
            .filter(|d| d.len() > 40)
        {
            needles.push(d[..40].to_owned());
        }
    }
    for comments in project.comments.values().take(40) {
        for c in comments.iter().take(2).map(|c| ferry::sim::ado::parsed(c)) {
            if let Some(text) = c
                .get("text")
                .and_then(Value::as_str)
                .filter(|t| t.len() > 30)
            {
                needles.push(text[..30].to_owned());
            }
        }
    }
    assert!(
        needles.len() > 40,
        "the probe has too few samples to prove anything"
    );
    let bytes = app.database_bytes();
    for needle in &needles {
        assert!(
            !contains(&bytes, needle.as_bytes()),
            "ticket content found in the database: {needle:?}"
        );
    }
    assert!(
        contains(&bytes, b"Contoso"),
        "the probe reads the database: the project name must be there"
    );
    let _ = site;
}

#[tokio::test]
async fn a_rescan_updates_the_catalog_in_place() {
    let app = TestApp::spawn_with(&[("FERRY_ALLOWED_SOURCE_HOSTS", "127.0.0.1")]).await;
    let (site, auth) = admin_auth(&app).await;
    let (org, _, expected) = spawn_ado(&app, 120).await;
    let connection: Value = connect(&app, &auth, &org, PAT)
        .await
        .json()
        .await
        .expect("json");
    let id = connection["id"].as_str().expect("id").to_owned();
    let first = scan_to_end(&app, &auth, &id).await;
    let second = scan_to_end(&app, &auth, &id).await;
    assert_eq!(first["catalogId"], second["catalogId"]);
    let catalog_id = first["catalogId"].as_str().expect("id");
    let rows = app
        .store
        .count_tenant_rows("catalog_items", &site.client_key)
        .await
        .expect("count");
    assert_eq!(rows as usize, expected.items);
    let v = app
        .store
        .catalog_volumes(&site.client_key, catalog_id)
        .await
        .expect("volumes");
    assert_eq!(v.items as usize, expected.items);
}

#[tokio::test]
async fn another_tenant_cannot_see_or_scan_a_connection() {
    let app = TestApp::spawn_with(&[("FERRY_ALLOWED_SOURCE_HOSTS", "127.0.0.1")]).await;
    let (_, auth) = admin_auth(&app).await;
    let (org, _, _) = spawn_ado(&app, 10).await;
    let connection: Value = connect(&app, &auth, &org, PAT)
        .await
        .json()
        .await
        .expect("json");
    let id = connection["id"].as_str().expect("id");
    let other = app.site("intruder");
    app.install(&other).await;
    app.make_admin("admin-x");
    let intruder = format!("JWT {}", app.context_token(&other, "admin-x"));
    assert_eq!(
        app.api(
            Method::GET,
            &format!("/api/connections/{id}/projects"),
            &intruder,
            None
        )
        .await
        .status(),
        404
    );
    let r = app
        .api(
            Method::POST,
            "/api/scans",
            &intruder,
            Some(json!({ "connectionId": id, "project": "Contoso" })),
        )
        .await;
    assert_eq!(r.status(), 404);
    assert_eq!(
        app.api(
            Method::DELETE,
            &format!("/api/connections/{id}"),
            &intruder,
            None
        )
        .await
        .status(),
        404
    );
    let listed: Value = app
        .api(Method::GET, "/api/connections", &intruder, None)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(listed, json!([]));
}

#[tokio::test]
async fn a_scan_completes_through_throttling_429_storms_and_5xx() {
    use ferry::sim::{
        faults::{Faults, parse_faults},
        limits::{AdoLimiter, ado_layers, parse_ado_profile},
        reqlog::RequestLog,
    };
    let app = TestApp::spawn_with(&[("FERRY_ALLOWED_SOURCE_HOSTS", "127.0.0.1")]).await;
    let (site, auth) = admin_auth(&app).await;
    let log = RequestLog::new();
    let seen = log.clone();
    let (org, _, expected) = spawn_ado_wrapped(&app, 400, move |router| {
        let limiter = AdoLimiter::new(parse_ado_profile("ado-services-2026-ci").expect("profile"));
        let faults =
            Faults::new(parse_faults("storm429=0.15:400ms,error5xx=0.15,seed=11").expect("faults"));
        ado_layers(router, Some(limiter), Some(faults), log)
    })
    .await;
    // Connecting retries through the faults too.
    let r = connect(&app, &auth, &org, PAT).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
    let connection: Value = app
        .api(Method::GET, "/api/connections", &auth, None)
        .await
        .json()
        .await
        .expect("json");
    let id = connection[0]["id"].as_str().expect("id").to_owned();
    let started = scan_to_end(&app, &auth, &id).await;
    let catalog_id = started["catalogId"].as_str().expect("catalog");
    let v = app
        .store
        .catalog_volumes(&site.client_key, catalog_id)
        .await
        .expect("volumes");
    assert_eq!(
        (v.items as usize, v.comments as usize),
        (expected.items, expected.comments)
    );
    let statuses: Vec<u16> = seen.entries().iter().map(|e| e.status).collect();
    assert!(
        statuses.contains(&429),
        "no 429 was served: the test proved nothing"
    );
    assert!(
        statuses.iter().any(|s| *s >= 500),
        "no 5xx was served: the test proved nothing"
    );
}

#[tokio::test]
async fn an_ado_server_collection_scans_with_its_own_api_versions() {
    let app = TestApp::spawn_with(&[("FERRY_ALLOWED_SOURCE_HOSTS", "127.0.0.1")]).await;
    let (site, auth) = admin_auth(&app).await;
    let (json, expected) = generate_string(&GenOptions::new(60, 3)).expect("generate");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = url::Url::parse(&format!(
        "http://{}/tfs/DefaultCollection",
        listener.local_addr().expect("addr")
    ))
    .expect("url");
    let sim = AdoSim::new(
        Dataset::from_json(&json).expect("dataset"),
        base,
        AdoSimOptions { pat: PAT.into() },
    );
    let collection = sim.org_url().to_owned();
    assert!(
        collection.ends_with("/tfs/DefaultCollection"),
        "{collection}"
    );
    app.serve_router(ferry::sim::ado::router(sim), listener);
    let r = connect(&app, &auth, &collection, PAT).await;
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().await.expect("json")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let started = scan_to_end(&app, &auth, &id).await;
    let v = app
        .store
        .catalog_volumes(&site.client_key, started["catalogId"].as_str().expect("id"))
        .await
        .expect("volumes");
    assert_eq!(v.items as usize, expected.items);
}

#[tokio::test]
async fn a_scope_filter_catalogues_only_what_it_selects() {
    let app = TestApp::spawn_with(&[("FERRY_ALLOWED_SOURCE_HOSTS", "127.0.0.1")]).await;
    let (site, auth) = admin_auth(&app).await;
    let (org, _, expected) = spawn_ado(&app, 200).await;
    let connection: Value = connect(&app, &auth, &org, PAT)
        .await
        .json()
        .await
        .expect("json");
    let id = connection["id"].as_str().expect("id");
    let body =
        json!({ "connectionId": id, "project": "Contoso", "scope": { "types": ["Bug", "Epic"] } });
    let started = scan_scope_to_end(&app, &auth, body).await;
    let catalog_id = started["catalogId"].as_str().expect("catalog");
    let counts = app
        .store
        .catalog_counts(&site.client_key, catalog_id)
        .await
        .expect("counts");
    let mut types: Vec<&str> = counts.iter().map(|c| c.item_type.as_str()).collect();
    types.dedup();
    assert_eq!(types, ["Bug", "Epic"]);
    let total: i64 = counts.iter().map(|c| c.items).sum();
    assert_eq!(
        total as usize,
        expected.by_type["Bug"] + expected.by_type["Epic"]
    );
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Peak RSS (VmHWM) in KiB, after `reset` cleared it to the current RSS.
fn peak_rss_kib(reset: bool) -> u64 {
    if reset {
        let _ = std::fs::write("/proc/self/clear_refs", "5");
    }
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// A measurement, not a unit test: `cargo test --release --test api -- --ignored --nocapture
/// scan_of_a_large_project`. Scans FERRY_SCAN_ITEMS (default 50,000) generated items and
/// prints the time and the peak-RSS growth of the process during the scan (the simulator's
/// dataset is loaded before the baseline is taken). Figures go to BENCHMARKS.md.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measurement; run on demand"]
async fn scan_of_a_large_project_completes_with_bounded_memory() {
    let items: usize = std::env::var("FERRY_SCAN_ITEMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50_000);
    ferry::telemetry::init("warn");
    let app = TestApp::spawn_with(&[("FERRY_ALLOWED_SOURCE_HOSTS", "127.0.0.1")]).await;
    let (_, auth) = admin_auth(&app).await;
    let (org, dataset, expected) = spawn_ado(&app, items).await;
    drop(dataset);
    let connection: Value = connect(&app, &auth, &org, PAT)
        .await
        .json()
        .await
        .expect("json");
    let id = connection["id"].as_str().expect("id").to_owned();
    let baseline = peak_rss_kib(true);
    let started = std::time::Instant::now();
    let scan = scan_to_end(&app, &auth, &id).await;
    let elapsed = started.elapsed();
    let peak = peak_rss_kib(false);
    let catalog_id = scan["catalogId"].as_str().expect("id");
    let catalog: Value = app
        .api(
            Method::GET,
            &format!("/api/catalogs/{catalog_id}"),
            &auth,
            None,
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(catalog["volumes"]["items"], expected.items);
    assert_eq!(catalog["volumes"]["comments"], expected.comments);
    println!(
        "scan of {items} items: {:.1} s ({:.0} items/s); peak RSS growth during the scan {} MiB (baseline {} MiB)",
        elapsed.as_secs_f64(),
        items as f64 / elapsed.as_secs_f64(),
        peak.saturating_sub(baseline) / 1024,
        baseline / 1024
    );
}
