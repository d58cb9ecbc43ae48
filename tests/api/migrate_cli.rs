//! `ferry migrate` as a user runs it: the real binary with a plan file, against both simulators
//! over HTTP (Jira with an API token). A draft stops it for review; Ctrl-C pauses it at a
//! checkpoint; a SIGKILL loses nothing; running the same command again resumes; every item
//! lands exactly once; exit codes say how it ended.

use std::{collections::BTreeSet, path::Path, process::Stdio, time::Duration};

use ferry::sim::{
    ado::{AdoSim, AdoSimOptions, Dataset},
    r#gen::{GenOptions, generate_string, people},
    jira::{JiraSim, JiraSimOptions, Site as JiraSite},
};
use serde_json::Value;

use crate::{
    mapping::{items, trouble},
    verify::{Expected, Jira, verify},
};

const PAT: &str = "cli-pat";
const USER: (&str, &str) = ("ops@example.com", "cli-api-token");

struct Sims {
    jira: JiraSim,
    base: String,
    org: String,
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
        org: org.clone(),
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

async fn finish(c: tokio::process::Child, patience: Duration) -> (i32, String) {
    let out = tokio::time::timeout(patience, c.wait_with_output())
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

#[tokio::test]
async fn a_plan_drafts_then_migrates_pauses_on_ctrl_c_survives_sigkill_and_resumes() {
    plan_journey(300, Duration::from_secs(300)).await;
}

/// The whole journey of `ferry migrate` over `items` generated items: a draft for review, a run
/// paused by Ctrl-C, resumed and SIGKILLed mid-run, resumed to its end, then Jira checked item
/// by item by the shared verifier and the report read. `patience` bounds each wait.
pub(crate) async fn plan_journey(items_n: usize, patience: Duration) {
    let s = sims(items_n, true).await;
    let started = std::time::Instant::now();
    // No mapping file yet: the draft is written beside the plan and nothing is migrated.
    let (code, text) = finish(ferry(&s.dir, &[]).spawn().expect("spawn"), patience).await;
    assert_eq!(code, 2, "the named mapping file does not exist yet: {text}");
    std::fs::write(
        s.dir.join("plan.toml"),
        std::fs::read_to_string(s.dir.join("plan.toml"))
            .expect("plan")
            .replace("[mapping]\nfile = \"mapping.draft.json\"\n", ""),
    )
    .expect("plan");
    let (code, text) = finish(ferry(&s.dir, &[]).spawn().expect("spawn"), patience).await;
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
    wait_until(patience, || s.jira.issue_count() > (items_n / 10).max(20)).await;
    let status = std::process::Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .expect("kill -INT");
    assert!(status.success());
    let (code, text) = finish(child, patience).await;
    assert_eq!(code, 4, "{text}");
    assert!(text.contains("Paused"), "{text}");
    let paused_at = s.jira.issue_count();

    // Resumed, then SIGKILLed mid-run: nothing is lost, nothing doubles.
    let mut child = ferry(&s.dir, &[]).spawn().expect("spawn");
    wait_until(patience, || {
        s.jira.issue_count() > (paused_at + 20).max(items_n / 2)
    })
    .await;
    child.start_kill().expect("SIGKILL");
    child.wait().await.expect("reaped");

    // The same command again resumes the interrupted run to its end.
    let (code, text) = finish(ferry(&s.dir, &[]).spawn().expect("spawn"), patience).await;
    assert_eq!(
        code, 5,
        "completed with the dataset's bad items failed: {text}"
    );
    let report: Value = serde_json::from_str(
        &std::fs::read_to_string(s.dir.join("ferry-report.json")).expect("report"),
    )
    .expect("json");
    let bad = trouble(&s.dataset, "retired_severity");
    let failures: BTreeSet<i64> = report["failures"]
        .as_array()
        .expect("failures")
        .iter()
        .filter_map(|f| f["adoId"].as_i64())
        .collect();
    assert_eq!(failures, bad, "the report names the failed items");
    assert_eq!(
        report["phases"]["create"]["failed"],
        bad.len() as i64,
        "{}",
        report["phases"]
    );
    eprintln!(
        "{items_n} items: migrated with a Ctrl-C, a SIGKILL and two resumes in {:?}; report phases {}",
        started.elapsed(),
        report["phases"]
    );
    let mapping: Value = serde_json::from_str(
        &std::fs::read_to_string(s.dir.join("mapping.draft.json")).expect("mapping"),
    )
    .expect("json");
    let expected = Expected {
        dataset: &s.dataset,
        mapping: &mapping,
        org: &s.org,
        pat: PAT,
        absent: bad,
    };
    let jira = Jira::api_token(&s.base, USER.0, USER.1, s.jira.clone());
    let checked = std::time::Instant::now();
    let verdict = verify(&jira, &expected).await;
    eprintln!("verified in {:?}: {:?}", checked.elapsed(), verdict.counts);
    verdict.assert_clean();
    assert_eq!(
        verdict.counts.issues,
        items(&s.dataset).len() - expected.absent.len(),
        "every item but the bad ones"
    );

    // Once more: the run is over, a new run finds everything in Jira and creates nothing.
    let before = s.jira.issue_count();
    let (code, text) = finish(ferry(&s.dir, &[]).spawn().expect("spawn"), patience).await;
    assert!(code == 0 || code == 5, "{text}");
    assert_eq!(s.jira.issue_count(), before);
    let _ = std::fs::remove_dir_all(&s.dir);
}

#[tokio::test]
async fn a_bad_plan_is_a_clear_error_with_exit_code_2_and_no_secret_echoed() {
    let s = sims(20, false).await;
    let plan = std::fs::read_to_string(s.dir.join("plan.toml")).expect("plan");
    std::fs::write(s.dir.join("plan.toml"), plan.replace("SCRUM", "not a key")).expect("plan");
    let (code, text) = finish(
        ferry(&s.dir, &[]).spawn().expect("spawn"),
        Duration::from_secs(300),
    )
    .await;
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("project_key"), "{text}");
    std::fs::write(s.dir.join("plan.toml"), plan).expect("plan");
    let mut wrong = ferry(&s.dir, &[]);
    wrong.env("TEST_ADO_PAT", "not-the-pat");
    let (code, text) = finish(wrong.spawn().expect("spawn"), Duration::from_secs(300)).await;
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("personal access token"), "{text}");
    assert!(
        !text.contains("not-the-pat") && !text.contains(USER.1),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&s.dir);
}

async fn wait_until(patience: Duration, f: impl Fn() -> bool) {
    for _ in 0..patience.as_millis() / 50 {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out");
}
