//! The budget's arithmetic against a real (SQLite) store: blocks, true costs, waits.

use super::*;
use crate::target::jira::govern::Governor as _;
use reqwest::Method;

async fn budget(capacity: &str) -> (Budget, Store, String) {
    let dir = std::env::temp_dir().join(format!("ferry-budget-{}", uuid::Uuid::new_v4()));
    let url = format!("sqlite://{}/b.db", dir.display());
    let vars = [
        (
            "FERRY_SECRET_KEY",
            "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
        ),
        ("FERRY_POINTS_PER_HOUR", capacity),
        ("FERRY_DATABASE_URL", url.as_str()),
    ];
    let config = Config::from_lookup(|k| {
        vars.iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| (*v).to_owned())
    })
    .expect("config");
    let store = Store::open(&url).await.expect("store");
    let ck = format!("ck-{}", uuid::Uuid::new_v4());
    store
        .install_tenant(&crate::store::InstallRecord {
            client_key: ck.clone(),
            base_url: "https://acme.atlassian.net".into(),
            display_url: None,
            oauth_client_id: None,
            sealed_secret: b"s".to_vec(),
            token_iat: 1,
        })
        .await
        .expect("install");
    (Budget::new(&config, store.clone()), store, ck)
}

#[tokio::test]
async fn points_are_reserved_in_blocks_spent_at_their_true_cost_and_reported() {
    let (b, _store, ck) = budget("1000").await;
    let g = b.govern(&ck);
    for _ in 0..12 {
        let t = g
            .admit(&Method::POST, "/rest/api/3/issue/SCRUM-1/remotelink")
            .await
            .expect("admit");
        t.answered(b"{}");
    }
    let before = b.view(&ck).await.expect("view");
    assert_eq!(before.usage.capacity, 1000);
    assert_eq!(
        before.usage.reserved % 5,
        0,
        "whole blocks of 5: {before:?}"
    );
    assert!(before.usage.reserved >= 12 && before.usage.reserved <= 20);
    // A search estimated at 2 points returns 30 issues: it cost 31.
    let t = g
        .admit(&Method::POST, "/rest/api/3/search/jql")
        .await
        .expect("admit");
    let issues = format!("{{\"issues\":[{}]}}", vec!["{}"; 30].join(","));
    t.answered(issues.as_bytes());
    // A refused attempt costs nothing, a lost one its estimate.
    g.admit(&Method::GET, "/rest/api/3/field")
        .await
        .expect("admit")
        .refused();
    drop(
        g.admit(&Method::GET, "/rest/api/3/field")
            .await
            .expect("admit"),
    );
    b.flush().await.expect("flush");
    let after = b.view(&ck).await.expect("view");
    assert_eq!(after.usage.spent, 12 + 31 + 2, "{after:?}");
    assert_eq!(after.usage.tenant_spent, 12 + 31 + 2);
    assert_eq!(after.waiting_for, None);
}

#[tokio::test]
async fn a_spent_window_makes_calls_wait_and_a_quota_429_makes_every_call_wait() {
    let (b, store, ck) = budget("10").await;
    let g = b.govern(&ck);
    for _ in 0..10 {
        g.admit(&Method::PUT, "/rest/api/3/issue/1")
            .await
            .expect("admit")
            .answered(b"");
    }
    let blocked = tokio::time::timeout(
        Duration::from_millis(300),
        g.admit(&Method::PUT, "/rest/api/3/issue/2"),
    )
    .await;
    assert!(
        blocked.is_err(),
        "the eleventh point waits for the next window"
    );
    let v = b.view(&ck).await.expect("view");
    assert_eq!(v.waiting_for, Some("budget"), "{v:?}");

    // Another replica's governor meets Jira's quota wall: this one waits too.
    let (b2, _, _) = budget("1000").await;
    let other = Budget {
        inner: Arc::new(Inner {
            store: store.clone(),
            ..clone_inner(&b2)
        }),
    };
    other
        .govern(&ck)
        .throttled(
            crate::target::jira::govern::Throttle::Quota,
            &Method::GET,
            "/rest/api/3/field",
            Duration::from_secs(30),
            &reqwest::header::HeaderMap::new(),
        )
        .await;
    let v = b.view(&ck).await.expect("view");
    assert_eq!(v.waiting_for, Some("quota"));
    assert!(v.waiting_until.is_some_and(|t| t > now_ms() + 25_000));
}

#[tokio::test]
async fn a_per_issue_429_delays_only_that_issue() {
    let (b, _store, ck) = budget("1000").await;
    let g = b.govern(&ck);
    g.throttled(
        crate::target::jira::govern::Throttle::PerIssue,
        &Method::POST,
        "/rest/api/3/issue/SCRUM-1/comment",
        Duration::from_secs(2),
        &reqwest::header::HeaderMap::new(),
    )
    .await;
    let started = Instant::now();
    g.admit(&Method::POST, "/rest/api/3/issue/SCRUM-2/comment")
        .await
        .expect("admit")
        .answered(b"{}");
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "another issue goes on"
    );
    g.admit(&Method::POST, "/rest/api/3/issue/SCRUM-1/comment")
        .await
        .expect("admit")
        .answered(b"{}");
    assert!(
        started.elapsed() >= Duration::from_millis(1900),
        "that issue waited"
    );
}

fn clone_inner(b: &Budget) -> Inner {
    let i = &b.inner;
    Inner {
        store: i.store.clone(),
        app_key: i.app_key.clone(),
        tier: i.tier,
        capacity: AtomicI64::new(i.capacity()),
        window_ms: i.window_ms,
        local: Mutex::new(HashMap::new()),
        waits: Mutex::new(HashMap::new()),
        classes: Mutex::new(HashMap::new()),
        issues: Mutex::new(HashMap::new()),
        noted: Mutex::new(HashMap::new()),
    }
}

/// Calls in flight across every endpoint class, as the governor counts them.
fn in_flight(b: &Budget) -> u32 {
    b.inner.classes.lock().values().map(|a| a.in_flight).sum()
}

#[tokio::test]
async fn an_admission_dropped_after_taking_its_slot_gives_the_slot_back() {
    let (b, _store, ck) = budget("100000").await;
    let g = b.govern(&ck);
    let path = "/rest/api/3/issue/SCRUM-1/comment";
    let full = aimd::INITIAL as u32;
    // Fill the class: its first calls in flight take every slot.
    let mut tickets = Vec::new();
    for _ in 0..full {
        tickets.push(g.admit(&Method::POST, path).await.expect("admit"));
    }
    // A late call waits for a slot. One frees while the quota wait is due to be read from the
    // store again: the call takes the slot and then waits on the store, holding the slot
    // without a ticket. Whether the read answers within the same poll is up to SQLite's
    // thread, so the moment is tried for until it is caught.
    let mut caught = false;
    for _ in 0..50 {
        let mut late = Box::pin(g.admit(&Method::POST, path));
        assert!(
            futures_util::FutureExt::now_or_never(&mut late).is_none(),
            "no slot is free"
        );
        b.inner.waits.lock().clear();
        drop(tickets.pop());
        tokio::time::sleep(Duration::from_millis(40)).await;
        match futures_util::FutureExt::now_or_never(&mut late) {
            Some(ticket) => tickets.push(ticket.expect("admit")),
            None => {
                assert_eq!(in_flight(&b), full, "the late call holds the slot");
                // Its caller gives up (a paused item's future is dropped): the slot comes back.
                drop(late);
                assert_eq!(in_flight(&b), full - 1);
                caught = true;
                break;
            }
        }
    }
    assert!(caught, "the late call never waited on the store");
    drop(tickets);
    assert_eq!(in_flight(&b), 0);
}
