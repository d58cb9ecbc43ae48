//! The id map across runs, the link ledger and the follow-up's heavy-first order, told to every backend: SQLite always,
//! PostgreSQL when `FERRY_TEST_POSTGRES_URL` is set (each test in a schema of its own).

use ferry::store::{CatalogItem, ItemOutcome, LedgerLink, Run, ScanBatch, Store, StoreError};

mod store_common;
use store_common::{backends, tenant};

/// A fresh installed tenant (client key `{prefix}-…`) with one ADO connection; (ck, conn).
async fn tenant_with_connection(store: &Store, prefix: &str) -> (String, String) {
    let ck = tenant(store, prefix).await;
    let conn = format!("conn-{}", uuid::Uuid::new_v4());
    store
        .create_connection(&ck, &conn, "https://dev.azure.com/x", b"sealed", "admin")
        .await
        .expect("connection");
    (ck, conn)
}

/// A claimed run of a fresh approved mapping of `catalog` into project `FAB`, with `created`
/// items (ADO id → Jira id `J{id}`) and `failed` ones.
async fn run_with(store: &Store, ck: &str, catalog: &str, created: &[i64], failed: &[i64]) -> Run {
    let m = store
        .save_draft(ck, catalog, "FAB", "{}", "{}", "admin")
        .await
        .expect("draft");
    store
        .approve_mapping(ck, &m.id, m.version, "admin")
        .await
        .expect("approve");
    store.queue_run(ck, &m.id, "admin").await.expect("queue");
    let run = store
        .claim_run("w", 30_000)
        .await
        .expect("claim")
        .expect("run");
    let items: Vec<(i64, i64)> = created.iter().chain(failed).map(|id| (*id, 0)).collect();
    store.seed_run(&run, &items).await.expect("seed");
    let mut outcomes: Vec<(i64, ItemOutcome)> = created
        .iter()
        .map(|id| {
            let created = ItemOutcome::Created {
                id: format!("J{id}"),
                key: format!("FAB-{id}"),
            };
            (*id, created)
        })
        .collect();
    outcomes.extend(failed.iter().map(|id| {
        (
            *id,
            ItemOutcome::Failed {
                code: "create_refused".into(),
                field: None,
            },
        )
    }));
    store
        .record_outcomes(&run, outcomes)
        .await
        .expect("outcomes");
    run
}

#[tokio::test]
async fn links_wait_for_a_missing_end_and_heal_in_a_later_run_that_finds_the_first_end() {
    for (store, _dir) in backends().await {
        let b = store.backend();
        let (ck, conn) = tenant_with_connection(&store, "ledger").await;
        let narrow = store
            .catalog_for(&ck, &conn, "Fab", "{\"types\":[\"Bug\"]}")
            .await
            .expect("catalog");
        let wide = store
            .catalog_for(&ck, &conn, "Fab", "{}")
            .await
            .expect("catalog");

        // Run 1 creates 1 and 2; 3 fails. 1 → 5 waits for 5 (outside its scope).
        let first = run_with(&store, &ck, &narrow.id, &[1, 2], &[3]).await;
        let link = LedgerLink {
            from_ado_id: 1,
            to_ado_id: 5,
            link_type: "10000".into(),
            waiting_for: 5,
        };
        store
            .ledger_wait(&first, &conn, "FAB", &link)
            .await
            .expect("wait");
        store
            .ledger_wait(&first, &conn, "FAB", &link)
            .await
            .expect("twice is once");
        let found = store
            .migrated_items(&first, &conn, "FAB", &[1, 2, 3, 5])
            .await
            .expect("ids");
        assert_eq!(
            found
                .iter()
                .map(|f| (f.ado_id, f.this_run))
                .collect::<Vec<_>>(),
            vec![(1, 1), (2, 1)],
            "{b}: failed and unknown items are not in Jira"
        );
        let counts = store.ledger_counts(&ck, &first.id).await.expect("counts");
        assert_eq!(
            (counts.waiting, counts.recorded, counts.healed),
            (1, 1, 0),
            "{b}"
        );
        store
            .finish_run(&first, "completed", None)
            .await
            .expect("finish");
        assert!(
            matches!(
                store.ledger_wait(&first, &conn, "FAB", &link).await,
                Err(StoreError::Conflict(_))
            ),
            "{b}: a run that is not running writes nothing"
        );

        // Run 2 (another mapping) creates 5 and 2 again: 1 comes from run 1, 2 from this run.
        let second = run_with(&store, &ck, &wide.id, &[5, 2], &[]).await;
        let found = store
            .migrated_items(&second, &conn, "FAB", &[1, 2, 5])
            .await
            .expect("ids");
        assert_eq!(
            found
                .iter()
                .map(|f| (f.ado_id, f.jira_id.as_deref(), f.this_run))
                .collect::<Vec<_>>(),
            vec![(1, Some("J1"), 0), (2, Some("J2"), 1), (5, Some("J5"), 1)],
            "{b}"
        );
        assert!(
            store
                .migrated_items(&second, "other-conn", "FAB", &[1])
                .await
                .expect("ids")
                .is_empty(),
            "{b}: another ADO organization's item 1 is another item"
        );
        let waiting = store
            .ledger_waiting(&ck, &conn, "FAB", 5)
            .await
            .expect("waiting");
        assert_eq!(waiting, vec![link.clone()], "{b}");
        assert!(
            store
                .ledger_waiting(&ck, &conn, "OTHER", 5)
                .await
                .expect("w")
                .is_empty()
        );
        store
            .ledger_heal(&second, &conn, "FAB", &link)
            .await
            .expect("heal");
        assert!(
            store
                .ledger_waiting(&ck, &conn, "FAB", 1)
                .await
                .expect("w")
                .is_empty(),
            "{b}"
        );
        let counts = store.ledger_counts(&ck, &second.id).await.expect("counts");
        assert_eq!(
            (counts.waiting, counts.recorded, counts.healed),
            (0, 0, 1),
            "{b}"
        );
        let counts = store.ledger_counts(&ck, &first.id).await.expect("counts");
        assert_eq!(
            (counts.waiting, counts.recorded, counts.healed),
            (0, 1, 0),
            "{b}"
        );
    }
}

/// A catalog item with `comments`, for the heavy-first order.
fn scanned(ado_id: i64, comments: i64) -> CatalogItem {
    CatalogItem {
        ado_id,
        item_type: "User Story".into(),
        state: "New".into(),
        parent_id: None,
        area_path: None,
        iteration_path: None,
        rev: 1,
        comments,
        attachments: 0,
        attachment_bytes: 0,
        links: 0,
    }
}

#[tokio::test]
async fn heavy_items_are_listed_most_comments_first_and_only_while_unfollowed() {
    for (store, _dir) in backends().await {
        let b = store.backend();
        let (ck, conn) = tenant_with_connection(&store, "heavy").await;
        let catalog = store
            .catalog_for(&ck, &conn, "Fab", "{}")
            .await
            .expect("catalog");
        store
            .queue_scan(&ck, &catalog.id, "admin")
            .await
            .expect("queue");
        let scan = store
            .claim_scan("w", 30_000)
            .await
            .expect("claim")
            .expect("scan");
        store.begin_scan(&scan, 5, "{}").await.expect("begin");
        let batch = ScanBatch {
            items: [(1, 3), (2, 250), (3, 40), (4, 900), (5, 40)]
                .into_iter()
                .map(|(id, c)| scanned(id, c))
                .collect(),
            last_id: 5,
            ..Default::default()
        };
        store
            .write_scan_batch(&scan, &batch, 30_000)
            .await
            .expect("batch");
        store.complete_scan(&scan).await.expect("complete");

        // 4 failed to create: nothing to follow there, however heavy.
        let run = run_with(&store, &ck, &catalog.id, &[1, 2, 3, 5], &[4]).await;
        let heavy = |limit| {
            let (store, run) = (&store, &run);
            async move {
                store
                    .heavy_items_to_follow(run, 40, limit)
                    .await
                    .expect("heavy")
                    .into_iter()
                    .map(|r| r.ado_id)
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(heavy(10).await, vec![2, 3, 5], "{b}");
        assert_eq!(heavy(1).await, vec![2], "{b}");
        store.mark_followed(&run, &[2]).await.expect("followed");
        assert_eq!(heavy(10).await, vec![3, 5], "{b}: a followed item is done");
    }
}
