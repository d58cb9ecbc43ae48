//! `ferry migrate` as a user runs it: the real binary with a plan file, against both simulators
//! over HTTP (Jira with an API token). A draft stops it for review; Ctrl-C pauses it at a
//! checkpoint; a SIGKILL loses nothing; running the same command again resumes; every item
//! lands exactly once; exit codes say how it ended.

use std::{collections::HashMap, path::Path, process::Stdio, time::Duration};

use ferry::sim::{
    ado::{AdoSim, AdoSimOptions, Dataset},
    r#gen::{GenOptions, generate_string, people},
    jira::{JiraSim, JiraSimOptions, Site as JiraSite},
};
use serde_json::{Value, json};

use crate::mapping::{items, trouble};

const PAT: &str = "cli-pat";
const USER: (&str, &str) = ("ops@example.com", "cli-api-token");

struct Sims {
    jira: JiraSim,
    base: String,
    dataset: Value,
    dir: std::path::PathBuf,
    _shutdown: tokio_util::sync::DropGuard,
}

fn serve(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    shutdown: tokio_util::sync::CancellationToken,
) {
    tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async move { shutdown.cancelled().await })
            .await
    });
}

/// Both simulators and a plan file in a fresh folder.
async fn sims(items: usize, with_mapping_file: bool) -> Sims {
    let shutdown = tokio_util::sync::CancellationToken::new();
    let options = GenOptions::new(items, 11).with_trouble();
    let (text, _) = generate_string(&options).expect("generate");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let ado_base =
        url::Url::parse(&format!("http://{}/", listener.local_addr().expect("addr"))).expect("url");
    let ado = AdoSim::new(
        Dataset::from_json(&text).expect("dataset"),
        ado_base,
        AdoSimOptions { pat: PAT.into() },
    );
    let org = ado.org_url().to_owned();
    serve(listener, ferry::sim::ado::router(ado), shutdown.clone());
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
            ..JiraSimOptions::default()
        },
    );
    serve(
        jira_listener,
        ferry::sim::jira::router(jira.clone()),
        shutdown.clone(),
    );
    let dir = std::env::temp_dir().join(format!("ferry-cli-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("dir");
    let mut plan = format!(
        "[source]\norganization_url = \"{org}\"\nproject = \"Contoso\"\npat = \"env:TEST_ADO_PAT\"\n\
         [target]\nsite_url = \"{jira_base}\"\nemail = \"{}\"\napi_token = \"env:TEST_JIRA_TOKEN\"\nproject_key = \"SCRUM\"\n",
        USER.0
    );
    if with_mapping_file {
        plan.push_str("[mapping]\nfile = \"mapping.draft.json\"\n");
    }
    std::fs::write(dir.join("plan.toml"), plan).expect("plan");
    Sims {
        jira,
        base: jira_base,
        dataset: serde_json::from_str(&text).expect("json"),
        dir,
        _shutdown: shutdown.drop_guard(),
    }
}

fn ferry(dir: &Path, args: &[&str]) -> tokio::process::Command {
    let mut c = tokio::process::Command::new(env!("CARGO_BIN_EXE_ferry"));
    c.arg("migrate")
        .arg("--plan")
        .arg(dir.join("plan.toml"))
        .args(args)
        .env("TEST_ADO_PAT", PAT)
        .env("TEST_JIRA_TOKEN", USER.1)
        .env("FERRY_RUN_LEASE_SECS", "2")
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

async fn finish(c: tokio::process::Child) -> (i32, String) {
    let out = tokio::time::timeout(Duration::from_secs(300), c.wait_with_output())
        .await
        .expect("ferry migrate ends")
        .expect("output");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

/// Issues per ADO id, read through Jira's REST API as the API-token user.
async fn in_jira(s: &Sims) -> HashMap<i64, usize> {
    let http = reqwest::Client::new();
    let base = &s.base;
    let mut out = HashMap::new();
    let mut token: Option<String> = None;
    loop {
        let mut body = json!({ "jql": "project = SCRUM", "fields": ["id"], "properties": ["ferry-origin"], "maxResults": 100 });
        if let Some(t) = &token {
            body["nextPageToken"] = json!(t);
        }
        let page: Value = http
            .post(format!("{base}/rest/api/3/search/jql"))
            .basic_auth(USER.0, Some(USER.1))
            .json(&body)
            .send()
            .await
            .expect("search")
            .json()
            .await
            .expect("json");
        for i in page["issues"].as_array().expect("issues") {
            let ado = i["properties"]["ferry-origin"]["adoId"]
                .as_i64()
                .expect("origin");
            *out.entry(ado).or_insert(0) += 1;
        }
        match page["nextPageToken"].as_str() {
            Some(t) => token = Some(t.to_owned()),
            None => return out,
        }
    }
}

#[tokio::test]
async fn a_plan_drafts_then_migrates_pauses_on_ctrl_c_survives_sigkill_and_resumes() {
    let s = sims(300, true).await;
    // No mapping file yet: the draft is written beside the plan and nothing is migrated.
    let (code, text) = finish(ferry(&s.dir, &[]).spawn().expect("spawn")).await;
    assert_eq!(code, 2, "the named mapping file does not exist yet: {text}");
    std::fs::write(
        s.dir.join("plan.toml"),
        std::fs::read_to_string(s.dir.join("plan.toml"))
            .expect("plan")
            .replace("[mapping]\nfile = \"mapping.draft.json\"\n", ""),
    )
    .expect("plan");
    let (code, text) = finish(ferry(&s.dir, &[]).spawn().expect("spawn")).await;
    assert_eq!(code, 3, "{text}");
    assert!(s.dir.join("mapping.draft.json").exists());
    assert_eq!(s.jira.issue_count(), 0, "a draft migrates nothing");
    // The reviewed draft, named in the plan.
    let plan = std::fs::read_to_string(s.dir.join("plan.toml")).expect("plan");
    std::fs::write(
        s.dir.join("plan.toml"),
        format!("{plan}[mapping]\nfile = \"mapping.draft.json\"\n"),
    )
    .expect("plan");

    // Ctrl-C (SIGINT) once issues are being created: the run pauses at a checkpoint.
    let child = ferry(&s.dir, &[]).spawn().expect("spawn");
    let pid = child.id().expect("pid");
    wait_until(|| s.jira.issue_count() > 20).await;
    let status = std::process::Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .expect("kill -INT");
    assert!(status.success());
    let (code, text) = finish(child).await;
    assert_eq!(code, 4, "{text}");
    assert!(text.contains("Paused"), "{text}");
    let paused_at = s.jira.issue_count();

    // Resumed, then SIGKILLed mid-run: nothing is lost, nothing doubles.
    let mut child = ferry(&s.dir, &[]).spawn().expect("spawn");
    wait_until(|| s.jira.issue_count() > paused_at + 20).await;
    child.start_kill().expect("SIGKILL");
    child.wait().await.expect("reaped");

    // The same command again resumes the interrupted run to its end.
    let (code, text) = finish(ferry(&s.dir, &[]).spawn().expect("spawn")).await;
    assert_eq!(
        code, 5,
        "completed with the dataset's bad items failed: {text}"
    );
    let report: Value = serde_json::from_str(
        &std::fs::read_to_string(s.dir.join("ferry-report.json")).expect("report"),
    )
    .expect("json");
    assert!(!report.is_null());
    let landed = in_jira(&s).await;
    assert!(landed.values().all(|n| *n == 1), "no item twice");
    let bad = trouble(&s.dataset, "retired_severity");
    let expected = items(&s.dataset)
        .iter()
        .filter_map(|i| i["id"].as_i64())
        .filter(|id| !bad.contains(id))
        .count();
    assert_eq!(landed.len(), expected, "every item but the bad ones");

    // Once more: the run is over, a new run finds everything in Jira and creates nothing.
    let before = s.jira.issue_count();
    let (code, text) = finish(ferry(&s.dir, &[]).spawn().expect("spawn")).await;
    assert!(code == 0 || code == 5, "{text}");
    assert_eq!(s.jira.issue_count(), before);
    let _ = std::fs::remove_dir_all(&s.dir);
}

#[tokio::test]
async fn a_bad_plan_is_a_clear_error_with_exit_code_2_and_no_secret_echoed() {
    let s = sims(20, false).await;
    let plan = std::fs::read_to_string(s.dir.join("plan.toml")).expect("plan");
    std::fs::write(s.dir.join("plan.toml"), plan.replace("SCRUM", "not a key")).expect("plan");
    let (code, text) = finish(ferry(&s.dir, &[]).spawn().expect("spawn")).await;
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("project_key"), "{text}");
    std::fs::write(s.dir.join("plan.toml"), plan).expect("plan");
    let mut wrong = ferry(&s.dir, &[]);
    wrong.env("TEST_ADO_PAT", "not-the-pat");
    let (code, text) = finish(wrong.spawn().expect("spawn")).await;
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("personal access token"), "{text}");
    assert!(
        !text.contains("not-the-pat") && !text.contains(USER.1),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&s.dir);
}

async fn wait_until(f: impl Fn() -> bool) {
    for _ in 0..1200 {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out");
}
