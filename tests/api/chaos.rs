//! Crash safety with real processes: the run is driven by `ferry worker` child processes on the
//! app's store, SIGKILLed at random moments and restarted each time, and the end state in Jira,
//! read through its REST API, must equal an uninterrupted run's of the same dataset.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    process::Stdio,
    time::Duration,
};

use rand::{Rng as _, SeedableRng as _};
use reqwest::Method;
use serde_json::{Value, json};

use crate::{
    mapping::{Trouble, World, wait_for, world_env, world_troubled},
    runs::{approved, jira_reader, start, verify_world},
};

/// What one migrated item looks like in Jira, by ADO ids rather than Jira keys, so two runs
/// into two sites compare.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Landed {
    /// Issues carrying this origin (1 unless duplicated).
    pub copies: usize,
    /// The parent's ADO id.
    pub parent: Option<i64>,
    /// Status name.
    pub status: String,
    /// Labels and components.
    pub labels: BTreeSet<String>,
    /// (link type, direction, other end's ADO id).
    pub links: BTreeSet<(String, &'static str, i64)>,
    /// (file name, size), sorted.
    pub files: Vec<(String, i64)>,
    /// Comment bodies, in order.
    pub comments: Vec<Value>,
    /// Remote links.
    pub remote: usize,
}

/// Every issue of SCRUM, by ADO id.
pub(crate) async fn landed(w: &World) -> BTreeMap<i64, Landed> {
    let client = jira_reader(w);
    let mut raw: Vec<Value> = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut body = json!({ "jql": "project = SCRUM ORDER BY id",
            "fields": ["parent", "status", "labels", "components", "issuelinks", "attachment", "comment"],
            "properties": ["ferry-origin"], "maxResults": 100 });
        if let Some(t) = &token {
            body["nextPageToken"] = json!(t);
        }
        let page: Value = client
            .post_json_idempotent("/rest/api/3/search/jql", &body)
            .await
            .expect("search");
        raw.extend(page["issues"].as_array().expect("issues").iter().cloned());
        match page["nextPageToken"].as_str() {
            Some(t) => token = Some(t.to_owned()),
            None => break,
        }
    }
    let ado_of: HashMap<String, i64> = raw
        .iter()
        .filter_map(|i| {
            Some((
                i["key"].as_str()?.to_owned(),
                i["properties"]["ferry-origin"]["adoId"].as_i64()?,
            ))
        })
        .collect();
    let by_key = |v: &Value| v["key"].as_str().and_then(|k| ado_of.get(k)).copied();
    let mut out: BTreeMap<i64, Landed> = BTreeMap::new();
    for i in &raw {
        let ado = by_key(i).expect("every issue carries its origin");
        let f = &i["fields"];
        let remote: Vec<Value> = client
            .get_json(&format!(
                "/rest/api/3/issue/{}/remotelink",
                i["key"].as_str().expect("key")
            ))
            .await
            .expect("remote links");
        let names = |v: &Value, k: &str| -> Vec<String> {
            v.as_array()
                .into_iter()
                .flatten()
                .filter_map(|x| x[k].as_str().or_else(|| x.as_str()).map(str::to_owned))
                .collect()
        };
        let entry = out.entry(ado).or_default();
        entry.copies += 1;
        entry.parent = by_key(&f["parent"]);
        entry.status = f["status"]["name"].as_str().unwrap_or("").to_owned();
        entry.labels = names(&f["labels"], "")
            .into_iter()
            .chain(names(&f["components"], "name"))
            .collect();
        entry.links = f["issuelinks"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|l| {
                let ty = l["type"]["name"].as_str()?.to_owned();
                match (by_key(&l["outwardIssue"]), by_key(&l["inwardIssue"])) {
                    (Some(o), _) => Some((ty, "out", o)),
                    (_, Some(n)) => Some((ty, "in", n)),
                    _ => None,
                }
            })
            .collect();
        let mut files: Vec<(String, i64)> = f["attachment"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|a| {
                (
                    a["filename"].as_str().unwrap_or("").to_owned(),
                    a["size"].as_i64().unwrap_or(-1),
                )
            })
            .collect();
        files.sort();
        entry.files = files;
        entry.comments = f["comment"]["comments"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| c["body"].clone())
            .collect();
        entry.remote = remote.len();
    }
    out
}

/// Progress a worker has made: items settled plus sub-items finished.
async fn progress(w: &World, run: &str) -> (i64, String) {
    let r = w
        .app
        .api(
            Method::GET,
            &format!("/api/migrations/{run}"),
            &w.auth,
            None,
        )
        .await;
    let v: Value = r.json().await.expect("json");
    let sum = |list: &Value, settled: &[&str]| -> i64 {
        list.as_array()
            .into_iter()
            .flatten()
            .filter(|c| settled.contains(&c["state"].as_str().unwrap_or("")))
            .map(|c| c["items"].as_i64().unwrap_or(0))
            .sum()
    };
    (
        sum(&v["items"], &["created", "failed"]) + sum(&v["steps"], &["done", "failed"]),
        v["run"]["status"].as_str().unwrap_or("").to_owned(),
    )
}

fn worker(w: &World) -> tokio::process::Child {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_ferry"))
        .arg("worker")
        .envs(&w.app.env)
        .env("FERRY_RUN_WORKERS", "1")
        .env("FERRY_RUN_LEASE_SECS", "2")
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn ferry worker")
}

const KILLS: usize = 20;
const ITEMS: usize = 240;

#[tokio::test]
async fn twenty_sigkills_during_a_run_end_where_an_uninterrupted_run_ends() {
    let clean = world_env(ITEMS, None, &[]).await;
    let chaos = world_env(ITEMS, None, &[("FERRY_RUN_WORKERS", "0")]).await;
    sigkills_end_where_an_uninterrupted_run_ends(clean, chaos).await;
}

#[tokio::test]
async fn twenty_sigkills_with_faults_and_index_lag_end_where_an_uninterrupted_run_ends() {
    // Every Jira write of the killed workers meets lost answers, 5xx, 429 storms, and a search
    // that lags behind writes; reads and the app's permission checks stay clean.
    let trouble = Trouble {
        faults: Some("lost=0.08,error5xx=0.05,storm429=0.02:1s,seed=5".into()),
        limiter: None,
        log: ferry::sim::reqlog::RequestLog::new(),
        applies: |m, path| {
            *m != Method::GET
                && !path.ends_with("/permissions/check")
                && path != "/rest/api/3/search/jql"
        },
        paths: &[],
        index_lag: Duration::from_millis(1500),
    };
    let log = trouble.log.clone();
    let clean = world_env(ITEMS / 2, None, &[]).await;
    let chaos = world_troubled(ITEMS / 2, Some(trouble), &[("FERRY_RUN_WORKERS", "0")]).await;
    sigkills_end_where_an_uninterrupted_run_ends(clean, chaos).await;
    let served = log.entries();
    let kinds = |k: &str| served.iter().filter(|e| e.fault == Some(k)).count();
    assert!(
        kinds("lost") > 0 && kinds("error5xx") > 0 && kinds("storm429") > 0,
        "the faults were served: lost {}, 5xx {}, 429 {}",
        kinds("lost"),
        kinds("error5xx"),
        kinds("storm429")
    );
}

async fn sigkills_end_where_an_uninterrupted_run_ends(clean: World, w: World) {
    // The reference: the same dataset, migrated by the app's own worker, uninterrupted.
    let mapping = approved(&clean).await;
    let run = start(&clean, &mapping).await;
    let done = wait_for(
        &clean.app,
        &clean.auth,
        &format!("/api/migrations/{run}"),
        "/run/status",
    )
    .await;
    assert_eq!(done["run"]["status"], "completed", "{done}");
    let expected = landed(&clean).await;
    assert!(expected.len() > 50, "the reference run migrated most items");

    // The same dataset, driven only by `ferry worker` processes that keep being killed.
    let mapping = approved(&w).await;
    let run = start(&w, &mapping).await;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let mut kills = 0;
    let mut seen = 0;
    while kills < KILLS {
        let mut child = worker(&w);
        // Kill only once this process has made progress, so every kill lands mid-run.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let (now, status) = progress(&w, &run).await;
            assert_ne!(
                status, "completed",
                "the run ended after only {kills} kills"
            );
            if now > seen || tokio::time::Instant::now() > deadline {
                seen = now;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tokio::time::sleep(Duration::from_millis(rng.gen_range(0..300))).await;
        child.start_kill().expect("SIGKILL");
        child.wait().await.expect("reaped");
        kills += 1;
    }
    let mut last = worker(&w);
    let done = wait_for(
        &w.app,
        &w.auth,
        &format!("/api/migrations/{run}"),
        "/run/status",
    )
    .await;
    last.start_kill().expect("kill");
    assert_eq!(done["run"]["status"], "completed", "{done}");
    let actual = landed(&w).await;
    let dupes: Vec<&i64> = actual
        .iter()
        .filter(|(_, l)| l.copies > 1)
        .map(|(id, _)| id)
        .collect();
    assert!(dupes.is_empty(), "duplicated items: {dupes:?}");
    let differ: Vec<(&i64, &Landed, Option<&Landed>)> = actual
        .iter()
        .filter(|(id, l)| expected.get(id) != Some(*l))
        .map(|(id, l)| (id, l, expected.get(id)))
        .take(3)
        .collect();
    assert!(
        differ.is_empty(),
        "items that differ from the uninterrupted run: {differ:#?}"
    );
    assert_eq!(
        actual.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>(),
        "the same items"
    );
    // And both equal what ADO has, item by item.
    verify_world(&w, &mapping).await.assert_clean();
}

/// The run's current lease owner, read from the shared PostgreSQL store.
async fn owner(db: &sqlx::PgPool, run: &str) -> Option<String> {
    sqlx::query_scalar::<_, Option<String>>("select lease_owner from runs where id = $1")
        .bind(run)
        .fetch_one(db)
        .await
        .expect("lease owner")
}

#[tokio::test]
async fn two_workers_on_postgres_never_share_a_run_and_a_killed_ones_run_moves_to_the_other() {
    let Ok(url) = std::env::var("FERRY_TEST_POSTGRES_URL") else {
        eprintln!("FERRY_TEST_POSTGRES_URL is not set; skipped (CI sets it)");
        return;
    };
    let w = world_env(
        ITEMS * 4,
        None,
        &[("FERRY_DATABASE_URL", &url), ("FERRY_RUN_WORKERS", "0")],
    )
    .await;
    let db = sqlx::PgPool::connect(&url).await.expect("postgres");
    let mut a = worker(&w);
    let mut b = worker(&w);
    let pid = |c: &tokio::process::Child| format!("{}-", c.id().expect("running"));
    let (pid_a, pid_b) = (pid(&a), pid(&b));
    let mapping = approved(&w).await;
    let run = start(&w, &mapping).await;

    // Watch the owner for a few lease periods while the run makes progress.
    let mut owners: Vec<String> = Vec::new();
    fn note(owners: &mut Vec<String>, o: Option<String>) {
        if let Some(o) = o
            && owners.last() != Some(&o)
        {
            owners.push(o);
        }
    }
    let watch_from = tokio::time::Instant::now();
    let progress_before = loop {
        note(&mut owners, owner(&db, &run).await);
        let (now, status) = progress(&w, &run).await;
        assert_ne!(
            status, "completed",
            "the run ended before the kill; use more items"
        );
        if watch_from.elapsed() > Duration::from_secs(5) && now > 0 {
            break now;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(owners.len(), 1, "one worker holds the run: {owners:?}");
    let (victim, survivor) = if owners[0].starts_with(&pid_a) {
        (&mut a, pid_b.clone())
    } else {
        assert!(owners[0].starts_with(&pid_b), "{owners:?}");
        (&mut b, pid_a.clone())
    };
    victim.start_kill().expect("SIGKILL");
    victim.wait().await.expect("reaped");

    // The survivor takes the run over once the lease lapses and finishes it.
    let done = loop {
        note(&mut owners, owner(&db, &run).await);
        let (_, status) = progress(&w, &run).await;
        if status == "completed" {
            break status;
        }
        assert_ne!(status, "failed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(done, "completed");
    assert_eq!(owners.len(), 2, "the run changed hands once: {owners:?}");
    assert!(owners[1].starts_with(&survivor), "{owners:?}");
    let landed = landed(&w).await;
    assert!(progress_before > 0);
    assert!(
        landed.values().all(|l| l.copies == 1),
        "no item was created twice"
    );
    let _ = (a.start_kill(), b.start_kill());
}
