//! Phase 5, attachments, end to end: a run against both simulators over HTTP, then every
//! issue's attachments read back through Jira's REST API and compared, byte for byte (the
//! simulator keeps each upload's SHA-256), with what the ADO simulator serves for the item's
//! files and inline images. Variants: lost answers and 5xx on the upload, a file over Jira's
//! limit, and (ignored, on demand) the memory one 1 GB attachment costs.

use std::collections::{BTreeMap, HashMap};

use ferry::sim::{
    r#gen::{GenOptions, generate_string},
    jira::{JiraLimits, JiraSimOptions},
};
use reqwest::Method;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::{
    helpers::*,
    mapping::{World, draft, items, jira_site, serve_ado, wait_for},
    verify::{
        Jira,
        files::{self, File, inline_images},
        read::origin,
    },
};

const PAT: &str = "ado-test-pat-0123456789";
const ADMIN: &str = "712020:0001-admin";
const ATTACHMENTS: &str = "/attachments";

/// How a world differs from `mapping::world`.
struct Setup {
    items: usize,
    /// Largest synthetic file; bigger ones are cut down so the tests stay quick.
    max_size: u64,
    limits: JiraLimits,
    /// Faults on `POST …/attachments` only.
    faults: Option<&'static str>,
    /// Changes to the generated dataset before the ADO simulator loads it.
    tweak: fn(&mut Value),
}

impl Default for Setup {
    fn default() -> Self {
        Self {
            items: 80,
            max_size: 400_000,
            limits: JiraLimits::default(),
            faults: None,
            tweak: |_| {},
        }
    }
}

/// Ferry installed into a Jira simulator, an ADO simulator with generated items, connected
/// and scanned (as `mapping::world_env`, with the changes of `setup`).
async fn world_of(setup: Setup) -> (World, String) {
    let app = TestApp::spawn_with(&[("FERRY_ALLOWED_SOURCE_HOSTS", "127.0.0.1")]).await;
    let options = GenOptions::new(setup.items, 11).with_trouble();
    let (text, _) = generate_string(&options).expect("generate");
    let mut dataset: Value = serde_json::from_str(&text).expect("json");
    cap_sizes(&mut dataset, setup.max_size);
    (setup.tweak)(&mut dataset);
    let text = dataset.to_string();
    let org = serve_ado(&app, &text).await;

    let (jira, site, jira_listener) = jira_site(
        &options,
        JiraSimOptions {
            limits: setup.limits,
            ..JiraSimOptions::default()
        },
    )
    .await;
    let clean = ferry::sim::jira::router(jira.clone());
    let routes = match setup.faults {
        None => clean,
        Some(spec) => {
            let faults = ferry::sim::faults::Faults::new(
                ferry::sim::faults::parse_faults(spec).expect("fault spec"),
            );
            let faulty = ferry::sim::limits::jira_layers(
                ferry::sim::jira::router(jira.clone()),
                None,
                Some(faults),
                ferry::sim::reqlog::RequestLog::new(),
            );
            let split = tower::service_fn(move |req: axum::extract::Request| {
                let upload =
                    req.method() == Method::POST && req.uri().path().ends_with(ATTACHMENTS);
                let target = if upload {
                    faulty.clone()
                } else {
                    clean.clone()
                };
                tower::ServiceExt::oneshot(target, req)
            });
            axum::Router::new().fallback_service(split)
        }
    };
    app.serve_router(routes, jira_listener);
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
        dataset,
        catalog: started["catalogId"].as_str().expect("catalog").to_owned(),
    };
    (world, org)
}

/// Cuts every synthetic file (and the size its relation reports) to at most `max`.
fn cap_sizes(dataset: &mut Value, max: u64) {
    for a in dataset["attachments"]
        .as_object_mut()
        .expect("attachments")
        .values_mut()
    {
        let size = a["synthetic"]["size"].as_u64().unwrap_or(0);
        a["synthetic"]["size"] = json!(size.min(max));
    }
    for i in dataset["projects"][0]["workItems"]
        .as_array_mut()
        .expect("items")
    {
        for r in i["relations"].as_array_mut().into_iter().flatten() {
            if let Some(size) = r["attributes"]["resourceSize"].as_u64() {
                r["attributes"]["resourceSize"] = json!(size.min(max));
            }
        }
    }
}

/// Approves the draft mapping, starts a run and waits for it; the run's status.
async fn run_to_end(w: &World) -> (String, Value) {
    let m = draft(w).await;
    let id = m["id"].as_str().expect("id").to_owned();
    let r = w
        .app
        .api(
            Method::POST,
            &format!("/api/mappings/{id}/approve"),
            &w.auth,
            Some(json!({ "version": m["version"] })),
        )
        .await;
    assert_eq!(r.status(), 200);
    let run = start(w, &id).await;
    let done = wait_for(
        &w.app,
        &w.auth,
        &format!("/api/migrations/{run}"),
        "/run/status",
    )
    .await;
    (id, done)
}

async fn start(w: &World, mapping: &str) -> String {
    let r = w
        .app
        .api(
            Method::POST,
            &format!("/api/mappings/{mapping}/migrations"),
            &w.auth,
            None,
        )
        .await;
    assert_eq!(r.status(), 202, "{}", r.text().await.unwrap_or_default());
    let run: Value = r.json().await.expect("json");
    run["id"].as_str().expect("id").to_owned()
}

/// A Jira client signed as Ferry, to read Jira through its REST API.
fn jira(w: &World) -> ferry::target::jira::JiraClient {
    Jira::connect(w).client
}

async fn jira_get(w: &World, path: &str) -> Value {
    jira(w).get_json(path).await.expect("jira get")
}

/// Every migrated issue: ADO id → (key, its attachments as Jira's REST API lists them, with
/// the SHA-256 the simulator computed of the bytes it received, and its description).
async fn jira_files(w: &World) -> BTreeMap<i64, (String, Vec<File>, Value)> {
    let reader = Jira::connect(w);
    let mut out = BTreeMap::new();
    for i in reader.search(&["attachment", "description"]).await {
        let ado = origin(&i).expect("origin");
        let key = i["key"].as_str().expect("key").to_owned();
        let files: Vec<File> = files::jira_files(&reader, &i)
            .into_iter()
            .map(|(name, size, sha)| (name, size, sha.expect("the simulator kept its digest")))
            .collect();
        let previous = out.insert(ado, (key, files, i["fields"]["description"].clone()));
        assert!(previous.is_none(), "item {ado} has two issues");
    }
    out
}

/// What ADO serves for every file of every item, attached or inline: ADO id → files.
async fn ado_files(w: &World, org: &str) -> BTreeMap<i64, Vec<File>> {
    files::ado_files(&w.dataset, org, PAT, |_| true).await
}

/// Media nodes' URLs in an ADF document.
fn media_urls(doc: &Value, out: &mut Vec<String>) {
    match doc {
        Value::Object(o) => {
            if o.get("type") == Some(&json!("media")) {
                if let Some(u) = o["attrs"]["url"].as_str() {
                    out.push(u.to_owned());
                }
            }
            o.values().for_each(|v| media_urls(v, out));
        }
        Value::Array(a) => a.iter().for_each(|v| media_urls(v, out)),
        _ => {}
    }
}

/// Every created issue holds exactly ADO's files, byte for byte, and its inline images point
/// at them; returns how many files were compared.
async fn assert_files_match(w: &World, org: &str, skip: &[(i64, String)]) -> usize {
    let in_jira = jira_files(w).await;
    let in_ado = ado_files(w, org).await;
    let mut compared = 0;
    let mut images = 0;
    for (ado, (key, files, description)) in &in_jira {
        let mut expected = in_ado[ado].clone();
        expected.retain(|(name, _, _)| !skip.contains(&(*ado, name.clone())));
        assert_eq!(files, &expected, "attachments of {key} (ADO {ado})");
        compared += files.len();
        let item = items(&w.dataset)
            .iter()
            .find(|i| i["id"] == *ado)
            .expect("item");
        let shown = inline_images(item)
            .into_iter()
            .filter(|(_, name)| !skip.contains(&(*ado, name.clone())))
            .count();
        if shown > 0 {
            let mut urls = Vec::new();
            media_urls(description, &mut urls);
            let listed = jira_get(w, &format!("/rest/api/3/issue/{key}?fields=attachment")).await;
            let contents: Vec<&str> = listed["fields"]["attachment"]
                .as_array()
                .expect("attachments")
                .iter()
                .filter_map(|a| a["content"].as_str())
                .collect();
            assert_eq!(urls.len(), shown, "{key}'s images are media: {description}");
            assert!(
                urls.iter().all(|u| contents.contains(&u.as_str())),
                "{key}'s images point at its attachments: {urls:?} {contents:?}"
            );
            images += shown;
        }
    }
    assert!(images > 0, "the dataset has inline images");
    compared
}

fn steps(status: &Value, kind: &str, state: &str) -> i64 {
    status["steps"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| s["kind"] == kind && s["state"] == state)
        .filter_map(|s| s["items"].as_i64())
        .sum()
}

#[tokio::test]
async fn every_attachment_arrives_once_byte_identical_and_inline_images_point_at_it() {
    let (w, org) = world_of(Setup::default()).await;
    let (mapping, status) = run_to_end(&w).await;
    let compared = assert_files_match(&w, &org, &[]).await;
    assert!(compared > 10, "a real number of files: {compared}");
    assert_eq!(steps(&status, "file", "done"), compared as i64, "{status}");
    assert_eq!(steps(&status, "file", "failed"), 0, "{status}");
    assert!(steps(&status, "images", "done") > 0, "{status}");

    // A new run over the same issues finds every file there and uploads none again.
    let again = start(&w, &mapping).await;
    wait_for(
        &w.app,
        &w.auth,
        &format!("/api/migrations/{again}"),
        "/run/status",
    )
    .await;
    assert_eq!(assert_files_match(&w, &org, &[]).await, compared);
}

#[tokio::test]
async fn lost_answers_and_server_errors_on_uploads_make_no_duplicate_and_lose_nothing() {
    // 30% of uploads are stored but their answer is lost; 15% fail with a 5xx first.
    let (w, org) = world_of(Setup {
        faults: Some("lost=0.3,error5xx=0.15,seed=9"),
        ..Setup::default()
    })
    .await;
    let (_, status) = run_to_end(&w).await;
    let compared = assert_files_match(&w, &org, &[]).await;
    assert!(compared > 10, "a real number of files: {compared}");
    assert_eq!(steps(&status, "file", "done"), compared as i64, "{status}");
}

/// A file bigger than Jira takes, whose size ADO did not report (so the dry run could not
/// warn and the item is created): recorded failed with its code, the rest completes.
#[tokio::test]
async fn a_file_over_jiras_limit_is_recorded_failed_and_the_run_completes() {
    const LIMIT: u64 = 250_000;
    let (w, org) = world_of(Setup {
        limits: JiraLimits {
            attachment_max_bytes: LIMIT,
            ..JiraLimits::default()
        },
        tweak: |d| {
            // Sizes are capped at 400 KB; ADO says nothing about those over the limit.
            let sizes: HashMap<String, u64> = d["attachments"]
                .as_object()
                .expect("attachments")
                .iter()
                .map(|(g, a)| {
                    (
                        g.to_lowercase(),
                        a["synthetic"]["size"].as_u64().unwrap_or(0),
                    )
                })
                .collect();
            for i in d["projects"][0]["workItems"].as_array_mut().expect("items") {
                for r in i["relations"].as_array_mut().into_iter().flatten() {
                    let guid = r["url"]
                        .as_str()
                        .unwrap_or("")
                        .rsplit('/')
                        .next()
                        .unwrap_or("");
                    if sizes.get(&guid.to_lowercase()).is_some_and(|s| *s > LIMIT) {
                        if let Some(a) = r["attributes"].as_object_mut() {
                            a.remove("resourceSize");
                        }
                    }
                }
            }
        },
        ..Setup::default()
    })
    .await;
    let (_, status) = run_to_end(&w).await;
    let in_jira = jira_files(&w).await;
    let in_ado = ado_files(&w, &org).await;
    let too_big: Vec<(i64, String)> = in_jira
        .keys()
        .flat_map(|ado| {
            in_ado[ado]
                .iter()
                .filter(|(_, size, _)| *size > LIMIT)
                .map(|(name, _, _)| (*ado, name.clone()))
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(!too_big.is_empty(), "the dataset has files over the limit");
    let compared = assert_files_match(&w, &org, &too_big).await;
    assert!(compared > 0);
    assert_eq!(
        steps(&status, "file", "failed"),
        too_big.len() as i64,
        "{status}"
    );
    // The code is recorded with the step.
    let run = w
        .app
        .store
        .run(
            &w.site.client_key,
            status["run"]["id"].as_str().expect("run id"),
        )
        .await
        .expect("run");
    let ids: Vec<i64> = too_big.iter().map(|(ado, _)| *ado).collect();
    let failed: Vec<_> = w
        .app
        .store
        .run_steps(&run, &ids)
        .await
        .expect("steps")
        .into_iter()
        .filter(|s| s.kind == "file" && s.state == "failed")
        .collect();
    assert_eq!(failed.len(), too_big.len());
    assert!(
        failed
            .iter()
            .all(|s| s.error_code.as_deref() == Some("attachment_too_large")),
        "{failed:?}"
    );
}

/// Kilobytes of a `/proc/self/status` line (`VmRSS`, `VmHWM`).
fn proc_kb(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("linux /proc");
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("field")
}

/// Issue 7's memory check, on demand (`cargo test --test api one_gigabyte -- --ignored
/// --nocapture`): one 1 GB attachment goes through a whole run while the peak resident set of
/// the process (Ferry and both simulators) is watched; it grows by little more than the
/// buffers of one transfer, where holding the file anywhere would add a gigabyte.
#[tokio::test]
#[ignore = "moves 1 GB; run on demand"]
async fn one_gigabyte_attachment_costs_little_memory() {
    const BIG: u64 = 1_000_000_000;
    let (w, org) = world_of(Setup {
        items: 20,
        max_size: 10_000,
        tweak: |d| {
            let item = d["projects"][0]["workItems"]
                .as_array_mut()
                .expect("items")
                .iter_mut()
                .find(|i| {
                    i["relations"]
                        .as_array()
                        .is_some_and(|r| r.iter().any(|r| r["rel"] == "AttachedFile"))
                })
                .expect("an item with a file");
            let rel = item["relations"]
                .as_array_mut()
                .expect("relations")
                .iter_mut()
                .find(|r| r["rel"] == "AttachedFile")
                .expect("file");
            rel["attributes"]["resourceSize"] = json!(BIG);
            let guid = rel["url"]
                .as_str()
                .expect("url")
                .rsplit('/')
                .next()
                .expect("guid");
            let guid = guid.to_owned();
            d["attachments"][&guid]["synthetic"]["size"] = json!(BIG);
        },
        ..Setup::default()
    })
    .await;
    // Reset the peak (Linux: writing 5 to clear_refs), then run.
    std::fs::write("/proc/self/clear_refs", "5").expect("clear_refs");
    let before = proc_kb("VmRSS");
    let started = std::time::Instant::now();
    let (_, status) = run_to_end(&w).await;
    let took = started.elapsed();
    let peak = proc_kb("VmHWM");
    let growth_mb = peak.saturating_sub(before) as f64 / 1024.0;
    eprintln!(
        "1 GB attachment: run {took:?}, RSS before {} MB, peak {} MB, growth {growth_mb:.1} MB",
        before / 1024,
        peak / 1024
    );
    assert_eq!(steps(&status, "file", "failed"), 0, "{status}");
    // The big file arrived whole: its digest against ADO's bytes, hashed as they stream.
    let stored: Vec<_> = jira_files(&w)
        .await
        .into_values()
        .flat_map(|(_, files, _)| files)
        .filter(|(_, size, _)| *size == BIG)
        .collect();
    assert_eq!(stored.len(), 1, "one 1 GB attachment in Jira");
    let item = items(&w.dataset)
        .iter()
        .find_map(|i| {
            i["relations"]
                .as_array()?
                .iter()
                .find(|r| r["attributes"]["resourceSize"] == json!(BIG))
        })
        .expect("the big relation");
    let guid = item["url"]
        .as_str()
        .expect("url")
        .rsplit('/')
        .next()
        .expect("guid");
    let mut r = reqwest::Client::new()
        .get(format!("{org}/_apis/wit/attachments/{guid}"))
        .query(&[("api-version", "7.1")])
        .basic_auth("", Some(PAT))
        .send()
        .await
        .expect("ado");
    let mut hash = Sha256::new();
    while let Some(chunk) = r.chunk().await.expect("chunk") {
        hash.update(&chunk);
    }
    assert_eq!(stored[0].2, hex::encode(hash.finalize()));
    assert!(growth_mb < 256.0, "RSS grew by {growth_mb:.1} MB");
}
