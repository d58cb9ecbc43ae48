//! Mapping and dry run through the public API, against both simulators over real HTTP: the
//! Jira simulator is the tenant's site (Ferry installed into it, its JWTs checked both ways),
//! the ADO simulator serves a generated project with planted trouble. The draft must need no
//! edits for the Agile template's standard fields, and the dry run must name exactly the items
//! the dataset makes bad.

use std::{
    collections::{BTreeSet, HashMap},
    time::Duration,
};

use ferry::sim::{
    ado::{AdoSim, AdoSimOptions, Dataset},
    r#gen::{GenOptions, generate_string, people},
    jira::{JiraSim, JiraSimOptions, Site as JiraSite},
};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

pub(crate) const PAT: &str = "ado-test-pat-0123456789";
pub(crate) const ADMIN: &str = "712020:0001-admin";

pub(crate) struct World {
    pub app: TestApp,
    pub jira: JiraSim,
    pub site: Site,
    pub auth: String,
    /// The ADO organization URL the simulator serves.
    pub org: String,
    pub dataset: Value,
    pub catalog: String,
}

/// Ferry installed into a Jira simulator holding the dataset's people, an ADO simulator with
/// `items` generated items (with trouble), connected and scanned.
pub(crate) async fn world(items: usize) -> World {
    world_with(items, None).await
}

/// The same, with the simulator's `faults` spec applied to Jira's bulk create only (other
/// calls, permission checks included, stay clean so the test sees the create path alone).
pub(crate) async fn world_with(items: usize, create_faults: Option<&str>) -> World {
    world_env(items, create_faults, &[]).await
}

/// The same, with more of Ferry's configuration.
pub(crate) async fn world_env(
    items: usize,
    create_faults: Option<&str>,
    env: &[(&str, &str)],
) -> World {
    let trouble = create_faults.map(|spec| Trouble {
        faults: Some(spec.to_owned()),
        limiter: None,
        log: ferry::sim::reqlog::RequestLog::new(),
        applies: |_, path| path == "/rest/api/3/issue/bulk",
        paths: &[],
        index_lag: Duration::ZERO,
    });
    world_troubled(items, trouble, env).await
}

/// The same, with the `faults` spec applied to Jira's `path` only (POST, GET, whatever).
pub(crate) async fn world_faults_on(
    items: usize,
    faults: Option<&str>,
    path: &'static str,
    env: &[(&str, &str)],
) -> World {
    let paths: &'static [&'static str] = Box::leak(Box::new([path]));
    let trouble = faults.map(|spec| Trouble {
        faults: Some(spec.to_owned()),
        limiter: None,
        log: ferry::sim::reqlog::RequestLog::new(),
        applies: |_, _| false,
        paths,
        index_lag: Duration::ZERO,
    });
    world_troubled(items, trouble, env).await
}

/// Ferry and the simulators, with `faults` applied to the Jira calls to exactly `paths`.
pub(crate) async fn world_faulty(
    items: usize,
    faults: Option<&str>,
    paths: &'static [&'static str],
) -> World {
    let trouble = faults.map(|spec| Trouble {
        faults: Some(spec.to_owned()),
        limiter: None,
        log: ferry::sim::reqlog::RequestLog::new(),
        applies: |_, _| false,
        paths,
        index_lag: Duration::ZERO,
    });
    world_troubled(items, trouble, &[]).await
}

/// Faults and limits for some of the Jira simulator's requests.
pub(crate) struct Trouble {
    /// A fault spec (`docs/sim-limits.md`).
    pub faults: Option<String>,
    /// A limiter.
    pub limiter: Option<ferry::sim::limits::JiraLimiter>,
    /// Where the troubled requests are logged.
    pub log: ferry::sim::reqlog::RequestLog,
    /// Which requests (method, path) meet the trouble; the others stay clean.
    pub applies: fn(&Method, &str) -> bool,
    /// And these paths, whatever the method.
    pub paths: &'static [&'static str],
    /// How long Jira's search lags behind writes.
    pub index_lag: Duration,
}

/// Serves the ADO simulator over the dataset `text` on a free port of `app`; returns the
/// organization URL.
pub(crate) async fn serve_ado(app: &TestApp, text: &str) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base =
        url::Url::parse(&format!("http://{}/", listener.local_addr().expect("addr"))).expect("url");
    let ado = AdoSim::new(
        Dataset::from_json(text).expect("dataset"),
        base,
        AdoSimOptions { pat: PAT.into() },
    );
    let org = ado.org_url().to_owned();
    app.serve_router(ferry::sim::ado::router(ado), listener);
    org
}

/// A Jira simulator holding the dataset's resolvable people on a free port (its listener is
/// returned, to be served with whatever layers the caller wants) and the Connect site Ferry is
/// installed for, with the app registered.
pub(crate) async fn jira_site(
    options: &GenOptions,
    sim: JiraSimOptions,
) -> (JiraSim, Site, tokio::net::TcpListener) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let resolvable = people(options)
        .into_iter()
        .filter(|p| p.resolvable)
        .map(|p| (p.name, p.email));
    let jira = JiraSim::new(
        JiraSite::default_scrum().with_people(resolvable),
        base.parse().expect("url"),
        sim,
    );
    let site = Site {
        client_key: format!("client-sim-{}", uuid::Uuid::new_v4()),
        secret: format!("secret-{}", uuid::Uuid::new_v4()),
        base_url: base,
    };
    jira.register_app(APP_KEY, &site.secret);
    (jira, site, listener)
}

/// A world whose Jira requests that `trouble.applies` to go through its faults and limiter.
pub(crate) async fn world_troubled(
    items: usize,
    trouble: Option<Trouble>,
    env: &[(&str, &str)],
) -> World {
    world_built(items, trouble, env, false).await
}

/// A world whose `dataset` holds only the generator's block (what was planted), not the
/// items: a 100,000-item dataset held as JSON values as well would not fit in memory beside
/// the simulator serving it.
pub(crate) async fn world_lean(items: usize) -> World {
    world_built(items, None, &[], true).await
}

async fn world_built(
    items: usize,
    trouble: Option<Trouble>,
    env: &[(&str, &str)],
    lean: bool,
) -> World {
    let mut env = env.to_vec();
    env.push(("FERRY_ALLOWED_SOURCE_HOSTS", "127.0.0.1"));
    let app = TestApp::spawn_with(&env).await;
    let options = GenOptions::new(items, 11).with_trouble();
    let (text, _) = generate_string(&options).expect("generate");
    let org = serve_ado(&app, &text).await;

    let (jira, site, jira_listener) = jira_site(
        &options,
        JiraSimOptions {
            index_lag: trouble.as_ref().map_or(Duration::ZERO, |t| t.index_lag),
            ..JiraSimOptions::default()
        },
    )
    .await;
    let clean = ferry::sim::jira::router(jira.clone());
    let routes = match trouble {
        None => clean,
        Some(t) => {
            let faults = t.faults.as_deref().map(|spec| {
                ferry::sim::faults::Faults::new(
                    ferry::sim::faults::parse_faults(spec).expect("fault spec"),
                )
            });
            let faulty = ferry::sim::limits::jira_layers(
                ferry::sim::jira::router(jira.clone()),
                t.limiter,
                faults,
                t.log,
            );
            let (applies, paths) = (t.applies, t.paths);
            let split = tower::service_fn(move |req: axum::extract::Request| {
                let target = if applies(req.method(), req.uri().path())
                    || paths.contains(&req.uri().path())
                {
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
    World {
        app,
        jira,
        site,
        auth,
        org: org.clone(),
        dataset: if lean {
            #[derive(serde::Deserialize)]
            struct Generator {
                _generator: Value,
            }
            let g: Generator = serde_json::from_str(&text).expect("json");
            json!({ "_generator": g._generator })
        } else {
            serde_json::from_str(&text).expect("json")
        },
        catalog: started["catalogId"].as_str().expect("catalog").to_owned(),
    }
}

/// Polls `path` until `field` says completed (panics on failed).
pub(crate) async fn wait_for(app: &TestApp, auth: &str, path: &str, field: &str) -> Value {
    for _ in 0..3000 {
        let v: Value = app
            .api(Method::GET, path, auth, None)
            .await
            .json()
            .await
            .expect("json");
        let status = if field.is_empty() {
            &v["status"]
        } else {
            v.pointer(field).unwrap_or(&v[field])
        };
        match status.as_str() {
            Some("completed") => return v,
            Some("failed") => panic!("{path} failed: {v}"),
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    panic!("{path} did not complete in five minutes");
}

pub(crate) async fn draft(w: &World) -> Value {
    let r = w
        .app
        .api(
            Method::POST,
            &format!("/api/catalogs/{}/mappings", w.catalog),
            &w.auth,
            Some(json!({ "projectKey": "SCRUM" })),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
    r.json().await.expect("json")
}

fn field_rule<'a>(m: &'a Value, ado: &str) -> &'a Value {
    m["mapping"]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .find(|f| f["adoField"] == ado)
        .unwrap_or(&Value::Null)
}

/// Items (by id) of the dataset.
pub(crate) fn items(dataset: &Value) -> &Vec<Value> {
    dataset["projects"][0]["workItems"]
        .as_array()
        .expect("work items")
}

async fn problem_ids(w: &World, run: &str, code: &str) -> BTreeSet<i64> {
    let mut out = BTreeSet::new();
    let mut after = 0;
    loop {
        let page: Value = w
            .app
            .api(
                Method::GET,
                &format!("/api/dry-runs/{run}/problems/{code}?after={after}&limit=1000"),
                &w.auth,
                None,
            )
            .await
            .json()
            .await
            .expect("json");
        out.extend(
            page["items"]
                .as_array()
                .expect("items")
                .iter()
                .filter_map(|i| i["adoId"].as_i64()),
        );
        match page["nextAfter"].as_i64() {
            Some(n) => after = n,
            None => return out,
        }
    }
}

pub(crate) fn trouble(dataset: &Value, kind: &str) -> BTreeSet<i64> {
    dataset["_generator"]["expected"]["trouble"][kind]
        .as_array()
        .expect("trouble")
        .iter()
        .filter_map(Value::as_i64)
        .collect()
}

#[tokio::test]
async fn the_agile_draft_needs_no_edits_for_standard_fields_and_the_dry_run_names_exactly_the_bad_items()
 {
    let w = world(1000).await;
    let m = draft(&w).await;
    assert_eq!(
        (m["version"].as_i64(), m["status"].as_str()),
        (Some(1), Some("draft"))
    );

    let ty = |n: &str| {
        m["mapping"]["types"]
            .as_array()
            .expect("types")
            .iter()
            .find(|t| t["adoType"] == n)
            .cloned()
            .unwrap_or_default()
    };
    for (ado, jira, fallback) in [
        ("Epic", "10000", None),
        ("Feature", "10001", None),
        ("User Story", "10002", None),
        ("Bug", "10003", None),
        ("Task", "10005", Some("10004")),
    ] {
        let t = ty(ado);
        assert_eq!(
            (
                t["jiraType"].as_str(),
                t["fallbackType"].as_str(),
                t["confidence"].as_f64()
            ),
            (Some(jira), fallback, Some(1.0)),
            "{ado}: {t}"
        );
    }
    let state = |ty: &str, s: &str| {
        m["mapping"]["states"]
            .as_array()
            .expect("states")
            .iter()
            .find(|r| r["adoType"] == ty && r["adoState"] == s)
            .map(|r| r["jiraStatus"].as_str().unwrap_or("").to_owned())
    };
    for ty in ["User Story", "Bug", "Epic", "Feature"] {
        assert_eq!(
            ["New", "Active", "Resolved", "Closed", "Removed"].map(|s| state(ty, s)),
            [
                Some("10000".into()),
                Some("10001".into()),
                Some("10002".into()),
                Some("10002".into()),
                Some("10003".into())
            ],
            "{ty}"
        );
    }
    for (ado, jira, conv) in [
        ("System.Title", "summary", "text"),
        ("System.Description", "description", "html"),
        ("Microsoft.VSTS.TCM.ReproSteps", "description", "html"),
        ("Microsoft.VSTS.TCM.SystemInfo", "environment", "html"),
        ("System.AssignedTo", "assignee", "identity"),
        ("System.CreatedBy", "reporter", "identity"),
        ("System.Tags", "labels", "tags"),
        ("System.AreaPath", "components", "area"),
        ("System.IterationPath", "customfield_10020", "iteration"),
        ("Microsoft.VSTS.Common.Priority", "priority", "picklist"),
        (
            "Microsoft.VSTS.Common.Severity",
            "customfield_10040",
            "picklist",
        ),
        (
            "Microsoft.VSTS.Scheduling.StoryPoints",
            "customfield_10016",
            "number",
        ),
        (
            "Microsoft.VSTS.Scheduling.Effort",
            "customfield_10016",
            "number",
        ),
    ] {
        let r = field_rule(&m, ado);
        // The planted retired Severity lowers that rule's confidence: the page shows it for review.
        let certain = if ado.ends_with("Severity") { 0.8 } else { 1.0 };
        assert_eq!(
            (
                r["jiraField"].as_str(),
                r["converter"].as_str(),
                r["confidence"].as_f64()
            ),
            (Some(jira), Some(conv), Some(certain)),
            "{ado}: {r}"
        );
    }
    let prio = &field_rule(&m, "Microsoft.VSTS.Common.Priority")["values"];
    assert_eq!(
        prio,
        &json!({ "1": "Highest", "2": "High", "3": "Medium", "4": "Low" })
    );
    let sev = &field_rule(&m, "Microsoft.VSTS.Common.Severity")["values"];
    assert_eq!(
        sev,
        &json!({ "1 - Critical": "Critical", "2 - High": "Major", "3 - Medium": "Minor", "4 - Low": "Minor" }),
        "the retired value stays unmapped"
    );
    let users = m["mapping"]["users"].as_array().expect("users");
    let unresolved: Vec<&Value> = users.iter().filter(|u| u["accountId"].is_null()).collect();
    let everyone = people(&GenOptions::new(1000, 11));
    for u in users {
        let person = everyone
            .iter()
            .find(|p| p.id == u["adoIdentity"].as_str().unwrap_or(""))
            .expect("a dataset person");
        if person.resolvable {
            assert_eq!(u["matchedBy"], "email", "{u}");
        } else {
            assert_ne!(
                u["matchedBy"], "email",
                "a partner has no account by e-mail: {u}"
            );
        }
    }
    assert!(
        !unresolved.is_empty(),
        "some partner identities have no Jira account"
    );

    // Approve, then dry run the approved version.
    let r = w
        .app
        .api(
            Method::POST,
            &format!("/api/mappings/{}/approve", m["id"].as_str().expect("id")),
            &w.auth,
            Some(json!({ "version": 1 })),
        )
        .await;
    assert_eq!(r.status(), 200);
    let id = m["id"].as_str().expect("id");
    let r = w
        .app
        .api(
            Method::POST,
            &format!("/api/mappings/{id}/dry-runs"),
            &w.auth,
            None,
        )
        .await;
    assert_eq!(r.status(), 202);
    let run: Value = r.json().await.expect("json");
    let run_id = run["id"].as_str().expect("id");
    let result = wait_for(
        &w.app,
        &w.auth,
        &format!("/api/dry-runs/{run_id}"),
        "/dryRun/status",
    )
    .await;
    let totals = &result["totals"];
    assert_eq!(
        totals["create"].as_i64().unwrap_or(0)
            + totals["fail"].as_i64().unwrap_or(0)
            + totals["skip"].as_i64().unwrap_or(0),
        1000,
        "{result}"
    );

    // Exactly the planted trouble.
    let retired = trouble(&w.dataset, "retired_severity");
    assert!(!retired.is_empty());
    assert_eq!(problem_ids(&w, run_id, "value_not_allowed").await, retired);
    assert_eq!(
        totals["fail"].as_i64(),
        Some(retired.len() as i64),
        "only the retired values fail: {result}"
    );
    assert_eq!(
        problem_ids(&w, run_id, "type_fallback").await,
        trouble(&w.dataset, "skip_level_parent")
    );
    assert_eq!(
        problem_ids(&w, run_id, "parent_outside").await,
        trouble(&w.dataset, "outside_parent")
    );
    let unresolved_keys: BTreeSet<&str> = unresolved
        .iter()
        .filter_map(|u| u["adoIdentity"].as_str())
        .collect();
    let touched: BTreeSet<i64> = items(&w.dataset)
        .iter()
        .filter(|i| {
            ["System.AssignedTo", "System.CreatedBy"].iter().any(|f| {
                i["fields"][f]["id"]
                    .as_str()
                    .is_some_and(|k| unresolved_keys.contains(k))
            })
        })
        .filter_map(|i| i["id"].as_i64())
        .collect();
    assert_eq!(problem_ids(&w, run_id, "unmapped_user").await, touched);
    let by_code: HashMap<String, i64> = result["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .map(|p| {
            (
                p["code"].as_str().unwrap_or("").to_owned(),
                p["items"].as_i64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(by_code.get("no_transition_path"), None);
    assert_eq!(by_code.get("missing_required"), None, "{by_code:?}");

    // Previews answer in Jira's shapes; nothing of the items reaches the database.
    let story = items(&w.dataset)
        .iter()
        .find(|i| i["fields"]["System.WorkItemType"] == "User Story")
        .expect("a story");
    let sid = story["id"].as_i64().expect("id");
    let p: Value = w
        .app
        .api(
            Method::GET,
            &format!("/api/mappings/{id}/preview/{sid}"),
            &w.auth,
            None,
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        p["create"]["fields"]["summary"],
        story["fields"]["System.Title"]
    );
    assert_eq!(p["create"]["fields"]["issuetype"]["id"], "10002");
    assert!(p["html"].as_str().is_some_and(|h| h.contains("<p>")), "{p}");
    let db = String::from_utf8_lossy(&w.app.database_bytes()).into_owned();
    for i in items(&w.dataset).iter().step_by(50) {
        let title = i["fields"]["System.Title"].as_str().expect("title");
        assert!(!db.contains(title), "a title reached the database: {title}");
    }
    let audit: Value = w
        .app
        .api(Method::GET, "/api/audit", &w.auth, None)
        .await
        .json()
        .await
        .expect("json");
    let actions: Vec<&str> = audit
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["action"].as_str()).collect())
        .unwrap_or_default();
    for a in [
        "mapping.drafted",
        "mapping.approved",
        "dry_run.queued",
        "dry_run.completed",
    ] {
        assert!(actions.contains(&a), "{a} missing from {actions:?}");
    }
    let _ = &w.site;
}

#[tokio::test]
async fn edits_need_the_current_version_are_checked_against_jira_and_take_the_approval_back() {
    let w = world(60).await;
    let m = draft(&w).await;
    let id = m["id"].as_str().expect("id");
    let path = format!("/api/mappings/{id}");
    let put = |body: Value| w.app.api(Method::PUT, &path, &w.auth, Some(body));
    let mut edited = m["mapping"].clone();
    edited["fallbackUser"] = json!(ADMIN);
    let r = put(json!({ "version": 1, "mapping": edited })).await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.expect("json");
    assert_eq!(
        (v["version"].as_i64(), v["mapping"]["fallbackUser"].as_str()),
        (Some(2), Some(ADMIN))
    );
    let r = put(json!({ "version": 1, "mapping": edited })).await;
    assert_eq!(r.status(), 409, "a stale version is refused");
    let mut broken = edited.clone();
    broken["types"][0]["jiraType"] = json!("99999");
    let r = put(json!({ "version": 2, "mapping": broken })).await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap_or_default().contains("99999"));
    let mut other = edited.clone();
    other["format"] = json!(7);
    let r = put(json!({ "version": 2, "mapping": other })).await;
    assert_eq!(r.status(), 400);
    let r = w
        .app
        .api(
            Method::POST,
            &format!("/api/mappings/{id}/approve"),
            &w.auth,
            Some(json!({ "version": 1 })),
        )
        .await;
    assert_eq!(
        r.status(),
        409,
        "approving a version that is not current is refused"
    );
    let r = w
        .app
        .api(
            Method::POST,
            &format!("/api/mappings/{id}/approve"),
            &w.auth,
            Some(json!({ "version": 2 })),
        )
        .await;
    assert_eq!(r.status(), 200);
    let exported = w
        .app
        .api(
            Method::GET,
            &format!("/api/mappings/{id}/export"),
            &w.auth,
            None,
        )
        .await;
    assert!(
        exported.headers()["content-disposition"]
            .to_str()
            .unwrap_or("")
            .contains("ferry-mapping-SCRUM-v2.json")
    );
    let exported: Value = exported.json().await.expect("json");
    assert_eq!(exported, edited, "export gives back what was saved");
    let r = put(json!({ "version": 2, "mapping": exported })).await;
    assert_eq!(r.status(), 200, "an export imports");
    let v: Value = r.json().await.expect("json");
    assert_eq!(
        (v["status"].as_str(), v["approvedVersion"].as_i64()),
        (Some("draft"), None),
        "an edit takes the approval back"
    );

    // Another tenant sees none of it.
    let other = w.app.site("other-tenant");
    w.app.install(&other).await;
    w.app.make_admin("someone");
    let stranger = format!("JWT {}", w.app.context_token(&other, "someone"));
    let r = w
        .app
        .api(Method::GET, &format!("/api/mappings/{id}"), &stranger, None)
        .await;
    assert_eq!(r.status(), 404);
    let r = w
        .app
        .api(
            Method::POST,
            &format!("/api/mappings/{id}/dry-runs"),
            &stranger,
            None,
        )
        .await;
    assert_eq!(r.status(), 404);
}

/// The dry run's speed on a large project (workload M by default): run with
/// `FERRY_DRY_RUN_ITEMS=10000 cargo test --release --test api -- --ignored --nocapture dry_run_of_a_large`.
/// It checks the planted trouble too, so a fast wrong answer does not count.
#[tokio::test]
#[ignore = "a measurement, run on demand (BENCHMARKS.md)"]
async fn dry_run_of_a_large_project_measured() {
    let n: usize = std::env::var("FERRY_DRY_RUN_ITEMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let w = world_lean(n).await;
    let m = draft(&w).await;
    let id = m["id"].as_str().expect("id");
    let started = std::time::Instant::now();
    let run: Value = w
        .app
        .api(
            Method::POST,
            &format!("/api/mappings/{id}/dry-runs"),
            &w.auth,
            None,
        )
        .await
        .json()
        .await
        .expect("json");
    let run_id = run["id"].as_str().expect("id");
    let result = wait_for(
        &w.app,
        &w.auth,
        &format!("/api/dry-runs/{run_id}"),
        "/dryRun/status",
    )
    .await;
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "dry run of {n} items: {secs:.1} s, {:.0} items/s; totals {}",
        n as f64 / secs,
        result["totals"]
    );
    assert_eq!(
        problem_ids(&w, run_id, "value_not_allowed").await,
        trouble(&w.dataset, "retired_severity")
    );
    assert_eq!(
        problem_ids(&w, run_id, "type_fallback").await,
        trouble(&w.dataset, "skip_level_parent")
    );
    assert_eq!(
        problem_ids(&w, run_id, "parent_outside").await,
        trouble(&w.dataset, "outside_parent")
    );
}
