//! The migrations list, told to every backend: SQLite always, PostgreSQL when
//! `FERRY_TEST_POSTGRES_URL` is set. Newest first, counted, paged, and scoped by tenant.

use ferry::store::{ItemOutcome, Store};

mod store_common;
use store_common::{backends, install};

fn key(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4())
}

/// A tenant with an approved mapping to `project`; returns its id.
async fn approved(store: &Store, ck: &str, project: &str) -> String {
    let conn = key("conn");
    store
        .create_connection(ck, &conn, "https://dev.azure.com/x", b"sealed", "admin")
        .await
        .expect("connection");
    let catalog = store
        .catalog_for(ck, &conn, project, "{}")
        .await
        .expect("catalog");
    let m = store
        .save_draft(ck, &catalog.id, project, "{}", "{}", "admin")
        .await
        .expect("draft");
    store
        .approve_mapping(ck, &m.id, 1, "admin")
        .await
        .expect("approve");
    m.id
}

#[tokio::test]
async fn the_migrations_list_is_newest_first_counted_paged_and_per_tenant() {
    for (store, _dir) in backends().await {
        let b = store.backend();
        let (ck, other) = (key("list"), key("other"));
        for c in [&ck, &other] {
            install(&store, c).await;
        }
        let first = store
            .queue_run(&ck, &approved(&store, &ck, "ONE").await, "admin")
            .await
            .expect("queue");
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        let second = store
            .queue_run(&ck, &approved(&store, &ck, "TWO").await, "admin")
            .await
            .expect("queue");
        store
            .queue_run(&other, &approved(&store, &other, "ELSE").await, "x")
            .await
            .expect("queue");

        // Give the first run three items: one created, one refused, one pending.
        let run = loop {
            let r = store
                .claim_run("w1", 30_000)
                .await
                .expect("claim")
                .expect("a run");
            if r.id == first.id {
                break r;
            }
        };
        store
            .seed_run(&run, &[(1, 0), (2, 0), (3, 0)])
            .await
            .expect("seed");
        store
            .record_outcomes(
                &run,
                vec![
                    (
                        1,
                        ItemOutcome::Created {
                            id: "10001".into(),
                            key: "ONE-1".into(),
                        },
                    ),
                    (
                        2,
                        ItemOutcome::Failed {
                            code: "FIELD_REJECTED".into(),
                            field: None,
                        },
                    ),
                ],
            )
            .await
            .expect("outcomes");

        let list = store.tenant_runs(&ck, None, 50).await.expect("list");
        let seen: Vec<(&str, &str, Option<i64>, i64, i64)> = list
            .iter()
            .map(|r| {
                (
                    r.id.as_str(),
                    r.project_key.as_str(),
                    r.items_total,
                    r.items_created,
                    r.items_failed,
                )
            })
            .collect();
        assert_eq!(
            seen,
            vec![
                (second.id.as_str(), "TWO", None, 0, 0),
                (first.id.as_str(), "ONE", Some(3), 1, 1),
            ],
            "{b}"
        );
        let page = store.tenant_runs(&ck, None, 1).await.expect("page");
        assert_eq!(page.len(), 1, "{b}");
        let older = store
            .tenant_runs(&ck, Some(page[0].created_at), 50)
            .await
            .expect("older");
        assert_eq!(
            older.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
            vec![first.id.as_str()],
            "{b}"
        );
        assert!(
            store
                .tenant_runs("nobody", None, 50)
                .await
                .expect("none")
                .is_empty()
        );
    }
}
