//! The whole journey in a real browser: headless Chromium walks `ferry demo`'s world (Ferry
//! installed into the Jira simulator through a signed install, the ADO simulator with a
//! generated organization) from the host page, through Ferry's admin page in its iframe:
//! connect, scan, approve the mapping, dry run, start, pause, resume, wait for the end, open
//! the report, create an API token; then every view again at 1280×800 alone, outside the
//! iframe. A screenshot of each step goes to `target/browser-shots/`.
//!
//! Skipped (with a message) when chromium or chromedriver are missing, unless
//! `FERRY_BROWSER_TESTS=1` (set by `.ci/run`), where their absence fails the test.

mod webdriver;

use std::{path::PathBuf, time::Duration};

use ferry::demo::{ADMIN_MODULE, DEMO_ADMIN, Demo, DemoOptions};
use serde_json::Value;
use webdriver::{Browser, find_browser};

const W: u32 = 1280;
const H: u32 = 800;

fn shots_dir() -> PathBuf {
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    let dir = target.join("browser-shots");
    std::fs::create_dir_all(&dir).expect("screenshot folder");
    dir
}

/// The views a person can reach, as hash routes of the admin page.
fn views(run: &str) -> Vec<(&'static str, String, &'static str)> {
    vec![
        ("list", "#/".into(), "#view-list"),
        ("new", "#/new".into(), "#view-new"),
        ("run", format!("#/runs/{run}"), "#view-run"),
        ("report", format!("#/runs/{run}/report"), "#view-report"),
        ("settings", "#/settings".into(), "#view-settings"),
    ]
}

/// Fails when the page is wider than the viewport (a horizontal scrollbar at 1280).
async fn fits(b: &Browser, what: &str) {
    let v = b
        .js(
            "return [document.documentElement.scrollWidth, window.innerWidth];",
            vec![],
        )
        .await;
    let (scroll, inner) = (v[0].as_i64().unwrap_or(0), v[1].as_i64().unwrap_or(0));
    assert!(
        scroll <= inner,
        "{what}: content is {scroll}px wide in a {inner}px viewport"
    );
}

fn visible(css: &str) -> String {
    format!(
        "const e = document.querySelector({css:?}); return !!e && !e.hidden && !!e.offsetParent;"
    )
}

fn text_is(css: &str, want: &str) -> String {
    format!(
        "const e = document.querySelector({css:?}); return !!e && e.textContent.trim() === {want:?};"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_person_migrates_a_project_through_the_pages_inside_jira() {
    let required = std::env::var("FERRY_BROWSER_TESTS").is_ok_and(|v| v == "1");
    let Some((driver, chromium)) = find_browser() else {
        assert!(
            !required,
            "FERRY_BROWSER_TESTS=1 but chromium or chromedriver is missing (apt-get install chromium chromium-driver)"
        );
        eprintln!(
            "SKIPPED: browser test needs chromium and chromedriver (apt-get install chromium chromium-driver, or set FERRY_CHROMIUM / FERRY_CHROMEDRIVER)"
        );
        return;
    };
    let shots = shots_dir();
    // FERRY_BROWSER_ITEMS walks a bigger organization on demand (the demo's default is 2000).
    let items = std::env::var("FERRY_BROWSER_ITEMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(120);
    let demo = Demo::start(DemoOptions {
        items,
        seed: 7,
        // Some latency per Jira call, so the run lasts long enough to pause.
        jira_faults: Some("latency=5ms".into()),
        ..DemoOptions::default()
    })
    .await
    .expect("demo world");
    let b = Browser::start(&driver, &chromium, W, H).await;
    let long = Duration::from_secs(60);
    let mut n = 0;
    let mut shot = |name: &str| {
        n += 1;
        shots.join(format!("{n:02}-{name}.png"))
    };

    // The host page: Jira's frame, Ferry's admin page inside.
    b.goto(&demo.host_page).await;
    b.wait(
        "the iframe",
        "return !!document.querySelector('iframe#connect-app');",
        long,
    )
    .await;
    b.enter_frame("iframe#connect-app").await;
    b.wait("the migrations list", &visible("#view-list"), long)
        .await;
    b.leave_frames().await;
    b.screenshot(&shot("host-migrations-empty")).await;
    b.enter_frame("iframe#connect-app").await;
    fits(&b, "empty list in the iframe").await;

    // 1. Connect (the demo fills the form with its simulator).
    b.click("a[data-tab=new]").await;
    b.wait("the new migration view", &visible("#connection-form"), long)
        .await;
    b.click("#connect-button").await;
    b.wait(
        "the connection's projects",
        "return document.querySelectorAll('#connection-rows select option').length > 0;",
        long,
    )
    .await;
    b.screenshot(&shot("connected")).await;
    // 2. Scan.
    b.click("#connection-rows button").await;
    b.wait("the catalog", &visible("#catalog"), long).await;
    b.screenshot(&shot("catalog")).await;
    // 3. Mapping: draft, approve.
    b.click("#draft-button").await;
    b.wait("the draft", &visible("#mapping-body"), long).await;
    b.screenshot(&shot("mapping-draft")).await;
    b.click("#mapping-approve").await;
    b.wait("the dry run step", &visible("#dry-card"), long)
        .await;
    // 4. Dry run.
    b.click("#dry-run-start").await;
    b.wait("the start step", &visible("#start-card"), long)
        .await;
    b.screenshot(&shot("dry-run")).await;
    fits(&b, "new migration in the iframe").await;
    // 5. Start, pause, resume, finish.
    b.click("#run-start").await;
    b.wait("the run page", &visible("#view-run"), long).await;
    let run = b
        .js(
            "return decodeURIComponent(location.hash.split('/')[2] || '');",
            vec![],
        )
        .await
        .as_str()
        .expect("run id")
        .to_owned();
    assert!(!run.is_empty(), "the run page names its run");
    b.click("#run-pause").await;
    b.wait("the run to pause", &text_is("#run-status", "Paused"), long)
        .await;
    b.screenshot(&shot("run-paused")).await;
    b.click("#run-resume").await;
    b.wait(
        "the run to go on",
        "const s = document.querySelector('#run-status').textContent.trim(); return s === 'Running' || s === 'Queued' || s === 'Completed';",
        long,
    )
    .await;
    b.wait(
        "the run to complete",
        &text_is("#run-status", "Completed"),
        Duration::from_secs(120 + items as u64 / 5),
    )
    .await;
    b.screenshot(&shot("run-completed")).await;
    fits(&b, "run page in the iframe").await;
    // The report.
    b.click("#run-report-link").await;
    b.wait(
        "the report",
        "return document.querySelectorAll('#report-facts dt').length > 0;",
        long,
    )
    .await;
    let created = b
        .js(
            "return document.querySelector('#report-facts dd').textContent;",
            vec![],
        )
        .await;
    assert_ne!(
        created,
        Value::String("0".into()),
        "the report counts created issues"
    );
    b.screenshot(&shot("report")).await;
    // Settings: a token shown once; the audit log names every step above.
    b.click("a[data-tab=settings]").await;
    b.wait("settings", &visible("#token-form"), long).await;
    b.type_into("#token-name", "browser test").await;
    b.click("#token-form button").await;
    b.wait("the new token", &visible("#token-value"), long)
        .await;
    let audit = b
        .wait(
            "the audit log",
            "const t = [...document.querySelectorAll('#audit-rows tr td:nth-child(3)')].map(e => e.textContent); return t.includes('token.created') ? t : null;",
            long,
        )
        .await;
    for action in [
        "tenant.installed",
        "connection.created",
        "scan.queued",
        "mapping.drafted",
        "mapping.approved",
        "dry_run.queued",
        "run.started",
        "run.pause",
        "run.resume",
        "token.created",
    ] {
        assert!(
            audit
                .as_array()
                .is_some_and(|a| a.iter().any(|x| x == action)),
            "the audit log lacks {action}: {audit}"
        );
    }
    b.screenshot(&shot("settings")).await;

    // Every view inside the iframe, then alone (the iframe URL opened as a page of its own).
    for (name, hash, css) in views(&run) {
        b.js(
            "location.hash = arguments[0];",
            vec![Value::String(hash.clone())],
        )
        .await;
        b.wait(name, &visible(css), long).await;
        tokio::time::sleep(Duration::from_millis(400)).await;
        fits(&b, &format!("{name} in the iframe")).await;
    }
    b.leave_frames().await;
    let alone = demo
        .host
        .iframe_url(ADMIN_MODULE, DEMO_ADMIN, &[])
        .expect("a signed page URL");
    b.goto(&alone).await;
    for (name, hash, css) in views(&run) {
        b.js(
            "location.hash = arguments[0];",
            vec![Value::String(hash.clone())],
        )
        .await;
        b.wait(name, &visible(css), long).await;
        tokio::time::sleep(Duration::from_millis(400)).await;
        fits(&b, &format!("{name} alone")).await;
        b.screenshot(&shot(&format!("alone-{name}"))).await;
    }

    b.quit().await;
    demo.stop().await;
    eprintln!("screenshots in {}", shots.display());
}
