//! The Jira points budget in the store, told to every backend: SQLite always, PostgreSQL when
//! `FERRY_TEST_POSTGRES_URL` is set. Two "replicas" (two stores over one database) reserving at
//! once never hand out more than the pool; tenants with runs share it equally; a quota wait
//! recorded by one is seen by the other.

use ferry::store::{Reserve, Store};

mod store_common;
use store_common::{database_urls as databases, tenant};

/// A running run of `ck` (its status is what fairness counts).
async fn running_run(store: &Store, ck: &str) {
    let conn = format!("conn-{}", uuid::Uuid::new_v4());
    store
        .create_connection(ck, &conn, "https://dev.azure.com/x", b"sealed", "admin")
        .await
        .expect("connection");
    let catalog = store
        .catalog_for(ck, &conn, "Fab", "{}")
        .await
        .expect("catalog");
    let m = store
        .save_draft(ck, &catalog.id, "FAB", "{}", "{}", "admin")
        .await
        .expect("draft");
    store
        .approve_mapping(ck, &m.id, 1, "admin")
        .await
        .expect("approve");
    store.queue_run(ck, &m.id, "admin").await.expect("queue");
    store
        .claim_run("w1", 60_000)
        .await
        .expect("claim")
        .expect("a run");
}

fn ask<'a>(pool: &'a str, ck: &'a str, capacity: i64, want: i64, spent: i64) -> Reserve<'a> {
    Reserve {
        pool,
        window_start: 1_000_000,
        capacity,
        client_key: ck,
        shared: true,
        want,
        spent,
    }
}

#[tokio::test]
async fn two_replicas_reserving_at_once_never_hand_out_more_than_the_pool() {
    for url in databases().await {
        let a = Store::open(&url).await.expect("replica a");
        let b = Store::open(&url).await.expect("replica b");
        let ck = tenant(&a, "budget").await;
        let pool = format!("app-{}", uuid::Uuid::new_v4());
        let mut tasks = Vec::new();
        for n in 0..8 {
            let store = if n % 2 == 0 { a.clone() } else { b.clone() };
            let (pool, ck) = (pool.clone(), ck.clone());
            tasks.push(tokio::spawn(async move {
                let mut got = 0;
                loop {
                    let r = store
                        .reserve_points(&ask(&pool, &ck, 1_000, 7, 3))
                        .await
                        .expect("reserve");
                    if r.granted == 0 {
                        return got;
                    }
                    assert!((1..=7).contains(&r.granted));
                    got += r.granted;
                }
            }));
        }
        let mut total = 0;
        for t in tasks {
            total += t.await.expect("task");
        }
        assert_eq!(total, 1_000, "{url}: the whole pool, never more");
        let usage = b
            .budget_usage(&pool, 1_000_000, 1_000, &ck, true)
            .await
            .expect("usage");
        assert_eq!((usage.reserved, usage.tenant_reserved), (1_000, 1_000));
        assert!(
            usage.spent > 0 && usage.spent == usage.tenant_spent,
            "{usage:?}"
        );
    }
}

#[tokio::test]
async fn tenants_with_runs_share_the_pool_equally_and_a_tenant_alone_gets_it_all() {
    for url in databases().await {
        let store = Store::open(&url).await.expect("store");
        let (x, y) = (tenant(&store, "x").await, tenant(&store, "y").await);
        let pool = format!("app-{}", uuid::Uuid::new_v4());
        // Nobody else has a run: x may take the whole window.
        let r = store
            .reserve_points(&ask(&pool, &x, 100, 100, 0))
            .await
            .expect("alone");
        assert_eq!(r.granted, 100, "{url}");

        // Next window, y has a running run: x gets half, and so does y.
        running_run(&store, &y).await;
        let next = |ck| Reserve {
            window_start: 2_000_000,
            ..ask(&pool, ck, 100, 80, 0)
        };
        assert_eq!(
            store.reserve_points(&next(&x)).await.expect("x").granted,
            50
        );
        assert_eq!(store.reserve_points(&next(&x)).await.expect("x").granted, 0);
        assert_eq!(
            store.reserve_points(&next(&y)).await.expect("y").granted,
            50
        );
        assert_eq!(store.reserve_points(&next(&y)).await.expect("y").granted, 0);

        // A tenant's own pool (Tier 2) is not shared.
        let own = Reserve {
            window_start: 3_000_000,
            shared: false,
            ..ask(&pool, &x, 100, 100, 0)
        };
        assert_eq!(store.reserve_points(&own).await.expect("own").granted, 100);
    }
}

#[tokio::test]
async fn a_quota_wait_and_points_spent_elsewhere_are_seen_by_every_replica() {
    for url in databases().await {
        let a = Store::open(&url).await.expect("replica a");
        let b = Store::open(&url).await.expect("replica b");
        let ck = tenant(&a, "wait").await;
        let pool = format!("app-{}", uuid::Uuid::new_v4());
        let until = ferry::store::now_ms() + 60_000;
        a.record_budget_wait(&pool, until, "quota")
            .await
            .expect("wait");
        a.record_budget_wait(&pool, until - 30_000, "quota")
            .await
            .expect("an earlier wait");
        assert_eq!(
            b.budget_wait(&pool).await.expect("read"),
            Some(until),
            "{url}"
        );
        let r = b
            .reserve_points(&ask(&pool, &ck, 100, 10, 0))
            .await
            .expect("reserve");
        assert_eq!(r.wait_until, Some(until));

        // Jira says 20 points are left of 100: 80 count as used (the 10 reserved among them),
        // so only 20 more are handed out.
        b.note_points_remaining(&pool, 1_000_000, 100, 20)
            .await
            .expect("note");
        let r = a
            .reserve_points(&ask(&pool, &ck, 100, 50, 0))
            .await
            .expect("reserve");
        assert_eq!(r.granted, 20, "{url}");
        assert_eq!(
            a.budget_wait(&format!("{pool}-other")).await.expect("none"),
            None
        );
    }
}

/// A reservation is a transaction. Detached, it runs to its commit even when
/// the future that started it is never polled again, as a `buffered` stream leaves its futures
/// while its consumer writes; run inline it would stop part-way, and on SQLite hold the write
/// lock against every other writer until their busy timeout.
#[tokio::test]
async fn a_detached_reservation_commits_though_its_caller_is_never_polled_again() {
    use std::task::{Context, Poll, Waker};
    for url in databases().await {
        let store = Store::open(&url).await.expect("store");
        let ck = tenant(&store, "detached").await;
        let pool = format!("app-{}", uuid::Uuid::new_v4());
        let first = ask(&pool, &ck, 1_000, 7, 3);
        let mut caller = Box::pin(store.reserve_points(&first));
        // One poll starts it; then the caller is left alone (kept, not dropped).
        let mut cx = Context::from_waker(Waker::noop());
        assert!(matches!(caller.as_mut().poll(&mut cx), Poll::Pending));
        let later = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            store.reserve_points(&ask(&pool, &ck, 1_000, 5, 0)),
        )
        .await
        .expect("a later writer is not kept waiting")
        .expect("reserve");
        assert_eq!(later.granted, 5);
        // The unpolled caller's reservation lands too (inline, it never would).
        let mut seen = (0, 0);
        for _ in 0..100 {
            let usage = store
                .budget_usage(&pool, 1_000_000, 1_000, &ck, true)
                .await
                .expect("usage");
            seen = (usage.reserved, usage.spent);
            if seen == (12, 3) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(seen, (12, 3), "{url}: the unpolled caller's reservation");
        drop(caller);
    }
}
