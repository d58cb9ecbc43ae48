//! One story about the store, told to every backend: SQLite always, PostgreSQL when
//! `FERRY_TEST_POSTGRES_URL` is set (`.ci/run` sets it to a throwaway database).
//! Each test uses its own clientKeys, so tests can share one PostgreSQL database.

use ferry::store::{InstallRecord, Installed, Store, StoreError};

mod store_common;
use store_common::backends;

fn record(client_key: &str, secret: &[u8], iat: i64) -> InstallRecord {
    InstallRecord {
        client_key: client_key.into(),
        base_url: "https://acme.atlassian.net".into(),
        display_url: None,
        oauth_client_id: Some("oauth-1".into()),
        sealed_secret: secret.to_vec(),
        token_iat: iat,
    }
}

fn key(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4())
}

#[tokio::test]
async fn installs_rotate_secrets_and_refuse_older_replays() {
    for (store, _dir) in backends().await {
        let ck = key("rotate");
        assert_eq!(
            store
                .install_tenant(&record(&ck, b"one", 100))
                .await
                .expect("install"),
            Installed::New
        );
        assert_eq!(
            store
                .install_tenant(&record(&ck, b"two", 200))
                .await
                .expect("reinstall"),
            Installed::Rotated
        );
        assert!(
            matches!(
                store.install_tenant(&record(&ck, b"old", 150)).await,
                Err(StoreError::Conflict(_))
            ),
            "{}",
            store.backend()
        );
        let tenant = store.tenant(&ck).await.expect("tenant");
        assert_eq!(tenant.sealed_secret, b"two", "{}", store.backend());
        assert_eq!(tenant.oauth_client_id.as_deref(), Some("oauth-1"));
        // The same second is not a replay of an older install.
        assert_eq!(
            store
                .install_tenant(&record(&ck, b"three", 200))
                .await
                .expect("same iat"),
            Installed::Rotated
        );
    }
}

#[tokio::test]
async fn uninstall_removes_every_tenant_row_and_blocks_older_installs() {
    for (store, _dir) in backends().await {
        let ck = key("uninstall");
        let other = key("bystander");
        store
            .install_tenant(&record(&ck, b"s", 100))
            .await
            .expect("install");
        store
            .install_tenant(&record(&other, b"s", 100))
            .await
            .expect("install other");
        store
            .create_api_token(&ck, "ci", &key("hash"), "admin")
            .await
            .expect("token");
        store
            .audit(&ck, "admin", "thing.done", serde_json::json!({ "id": 1 }))
            .await
            .expect("audit");
        store.uninstall_tenant(&ck, 300).await.expect("uninstall");
        for table in store.tenant_tables().await.expect("tables") {
            let rows = store.count_tenant_rows(&table, &ck).await.expect("count");
            let expected = i64::from(table == "install_watermarks");
            assert_eq!(
                rows,
                expected,
                "{} kept {rows} rows in {table}",
                store.backend()
            );
        }
        assert!(matches!(store.tenant(&ck).await, Err(StoreError::NotFound)));
        assert!(matches!(
            store.install_tenant(&record(&ck, b"s", 250)).await,
            Err(StoreError::Conflict(_))
        ));
        assert!(matches!(
            store.uninstall_tenant(&ck, 200).await,
            Err(StoreError::Conflict(_))
        ));
        assert_eq!(
            store
                .install_tenant(&record(&ck, b"s", 400))
                .await
                .expect("a newer install"),
            Installed::New
        );
        assert!(
            store.tenant(&other).await.is_ok(),
            "a bystander tenant was deleted"
        );
        assert_eq!(
            store
                .audit_entries(&other, None, 10)
                .await
                .expect("audit")
                .len(),
            1
        );
    }
}

#[tokio::test]
async fn api_tokens_are_found_by_hash_scoped_by_tenant_and_revocable_once() {
    for (store, _dir) in backends().await {
        let (a, b) = (key("tok-a"), key("tok-b"));
        store.install_tenant(&record(&a, b"s", 1)).await.expect("a");
        store.install_tenant(&record(&b, b"s", 1)).await.expect("b");
        let hash = key("hash");
        let token = store
            .create_api_token(&a, "ci", &hash, "admin-a")
            .await
            .expect("create");
        let used = store.use_api_token(&hash).await.expect("use");
        assert_eq!(
            (used.id.as_str(), used.client_key.as_str()),
            (token.id.as_str(), a.as_str())
        );
        assert!(
            store
                .api_token(&a, &token.id)
                .await
                .expect("get")
                .last_used_at
                .is_some()
        );
        assert!(matches!(
            store.revoke_api_token(&b, &token.id, "admin-b").await,
            Err(StoreError::NotFound)
        ));
        assert!(store.api_tokens(&b).await.expect("list b").is_empty());
        store
            .revoke_api_token(&a, &token.id, "admin-a")
            .await
            .expect("revoke");
        assert!(matches!(
            store.revoke_api_token(&a, &token.id, "admin-a").await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            store.use_api_token(&hash).await,
            Err(StoreError::NotFound)
        ));
        assert!(
            matches!(
                store.create_api_token(&a, "dup", &hash, "admin-a").await,
                Err(StoreError::Database(_))
            ),
            "hash must be unique"
        );
    }
}

#[tokio::test]
async fn the_audit_log_pages_newest_first_per_tenant() {
    for (store, _dir) in backends().await {
        let ck = key("audit");
        store
            .install_tenant(&record(&ck, b"s", 1))
            .await
            .expect("install");
        for i in 0..5 {
            store
                .audit(
                    &ck,
                    "admin",
                    &format!("step.{i}"),
                    serde_json::json!({ "i": i }),
                )
                .await
                .expect("audit");
        }
        let first = store.audit_entries(&ck, None, 3).await.expect("page 1");
        let actions: Vec<&str> = first.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(
            actions,
            ["step.4", "step.3", "step.2"],
            "{}",
            store.backend()
        );
        let rest = store
            .audit_entries(&ck, Some(first[2].id), 10)
            .await
            .expect("page 2");
        let actions: Vec<&str> = rest.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["step.1", "step.0", "tenant.installed"]);
    }
}

#[tokio::test]
async fn enabled_state_changes_only_for_installed_tenants() {
    for (store, _dir) in backends().await {
        let ck = key("enable");
        assert!(matches!(
            store.set_enabled(&ck, false).await,
            Err(StoreError::NotFound)
        ));
        store
            .install_tenant(&record(&ck, b"s", 1))
            .await
            .expect("install");
        store.set_enabled(&ck, false).await.expect("disable");
        assert_eq!(store.tenant(&ck).await.expect("t").enabled, 0);
        store
            .install_tenant(&record(&ck, b"s", 2))
            .await
            .expect("reinstall");
        assert_eq!(
            store.tenant(&ck).await.expect("t").enabled,
            1,
            "a reinstall enables"
        );
    }
}

#[tokio::test]
async fn a_second_open_of_the_same_database_is_already_migrated() {
    for (store, dir) in backends().await {
        if let Some(dir) = dir {
            let again = Store::open(&format!("sqlite://{}/store.db", dir.display()))
                .await
                .expect("reopen");
            again.ping().await.expect("ping");
            let _ = std::fs::remove_dir_all(dir);
        }
        store.ping().await.expect("ping");
    }
}

#[tokio::test]
async fn one_scan_per_catalog_at_a_time_even_when_requests_race() {
    for (store, _dir) in backends().await {
        let ck = key("scan-race");
        store
            .install_tenant(&record(&ck, b"s", 1))
            .await
            .expect("install");
        let conn = key("conn");
        store
            .create_connection(&ck, &conn, "https://dev.azure.com/x", b"sealed", "admin")
            .await
            .expect("connection");
        let catalog = store
            .catalog_for(&ck, &conn, "Fab", "{}")
            .await
            .expect("catalog");
        let attempts = (0..8).map(|_| store.queue_scan(&ck, &catalog.id, "admin"));
        let results = futures_util::future::join_all(attempts).await;
        let queued = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(
            queued,
            1,
            "{}: {queued} scans queued at once",
            store.backend()
        );
        assert!(
            results
                .iter()
                .all(|r| r.is_ok() || matches!(r, Err(StoreError::Conflict(_)))),
            "{}",
            store.backend()
        );
        // A worker claims it, and while it runs no second scan can be queued.
        let scan = store
            .claim_scan("w1", 30_000)
            .await
            .expect("claim")
            .expect("a queued scan");
        assert!(matches!(
            store.queue_scan(&ck, &catalog.id, "admin").await,
            Err(StoreError::Conflict(_))
        ));
        store.complete_scan(&scan).await.expect("complete");
        let next = store
            .queue_scan(&ck, &catalog.id, "admin")
            .await
            .expect("a new scan after the first ended");
        assert_eq!(next.generation, scan.generation + 1);
    }
}

#[tokio::test]
async fn a_worker_that_lost_its_lease_cannot_write() {
    for (store, _dir) in backends().await {
        let ck = key("lease");
        store
            .install_tenant(&record(&ck, b"s", 1))
            .await
            .expect("install");
        let conn = key("conn");
        store
            .create_connection(&ck, &conn, "https://dev.azure.com/x", b"sealed", "admin")
            .await
            .expect("connection");
        let catalog = store
            .catalog_for(&ck, &conn, "Fab", "{}")
            .await
            .expect("catalog");
        store
            .queue_scan(&ck, &catalog.id, "admin")
            .await
            .expect("queue");
        let first = store
            .claim_scan("w1", -1)
            .await
            .expect("claim")
            .expect("scan");
        // The lease is already expired, so a second worker takes the scan over.
        let second = store
            .claim_scan("w2", -1)
            .await
            .expect("claim")
            .expect("taken over");
        assert_eq!(first.id, second.id);
        assert!(second.lease_token > first.lease_token);
        let batch = ferry::store::ScanBatch {
            last_id: 5,
            ..Default::default()
        };
        assert!(
            matches!(
                store.write_scan_batch(&first, &batch, 30_000).await,
                Err(StoreError::Conflict(_))
            ),
            "{}",
            store.backend()
        );
        assert!(matches!(
            store.complete_scan(&first).await,
            Err(StoreError::Conflict(_))
        ));
        store
            .write_scan_batch(&second, &batch, 30_000)
            .await
            .expect("the new owner writes");
        // Writing the batch extended the (already expired) lease, so nobody else can claim it.
        assert!(
            store
                .claim_scan("w3", 30_000)
                .await
                .expect("claim")
                .is_none(),
            "{}",
            store.backend()
        );
        store
            .complete_scan(&second)
            .await
            .expect("the new owner completes");
    }
}

#[tokio::test]
async fn mappings_version_every_change_and_dry_runs_are_fenced_and_counted() {
    use ferry::store::{DryItem, ProblemRow};
    for (store, _dir) in backends().await {
        let b = store.backend();
        let ck = key("mapping");
        store
            .install_tenant(&record(&ck, b"s", 1))
            .await
            .expect("install");
        let conn = key("conn");
        store
            .create_connection(&ck, &conn, "https://dev.azure.com/x", b"sealed", "admin")
            .await
            .expect("connection");
        let catalog = store
            .catalog_for(&ck, &conn, "Fab", "{}")
            .await
            .expect("catalog");
        let m = store
            .save_draft(&ck, &catalog.id, "FAB", "{\"v\":1}", "{}", "admin")
            .await
            .expect("draft");
        assert_eq!((m.version, m.status.as_str()), (1, "draft"), "{b}");
        let m = store
            .approve_mapping(&ck, &m.id, 1, "admin")
            .await
            .expect("approve");
        assert_eq!(
            (m.status.as_str(), m.approved_version),
            ("approved", Some(1)),
            "{b}"
        );
        assert!(
            matches!(
                store.edit_mapping(&ck, &m.id, 0, "{}", "admin").await,
                Err(StoreError::Conflict(_))
            ),
            "{b}: stale edit"
        );
        let m = store
            .edit_mapping(&ck, &m.id, 1, "{\"v\":2}", "admin")
            .await
            .expect("edit");
        assert_eq!(
            (m.version, m.status.as_str(), m.approved_version),
            (2, "draft", None),
            "{b}"
        );
        assert_eq!(
            store.mapping_version(&ck, &m.id, 1).await.expect("v1"),
            "{\"v\":1}"
        );
        let again = store
            .save_draft(&ck, &catalog.id, "FAB", "{\"v\":3}", "{}", "admin")
            .await
            .expect("redraft");
        assert_eq!(
            (again.id.as_str(), again.version),
            (m.id.as_str(), 3),
            "{b}: a redraft is the next version"
        );
        assert!(
            matches!(
                store.approve_mapping("other", &m.id, 3, "x").await,
                Err(StoreError::NotFound)
            ),
            "{b}"
        );

        let run = store
            .queue_dry_run(&ck, &m.id, 3, "admin")
            .await
            .expect("queue");
        assert!(
            matches!(
                store.queue_dry_run(&ck, &m.id, 3, "admin").await,
                Err(StoreError::Conflict(_))
            ),
            "{b}"
        );
        let first = store
            .claim_dry_run("w1", -1)
            .await
            .expect("claim")
            .expect("run");
        let second = store
            .claim_dry_run("w2", 30_000)
            .await
            .expect("claim")
            .expect("taken over");
        assert_eq!(first.id, run.id);
        store.begin_dry_run(&second, 3).await.expect("begin");
        let item = |id: i64, outcome: &'static str, problems: Vec<ProblemRow>| DryItem {
            ado_id: id,
            item_type: "Bug".into(),
            jira_type: Some("1".into()),
            outcome,
            problems,
        };
        let bad = || ProblemRow {
            code: "value_not_allowed",
            severity: "error",
            field: Some("Severity".into()),
            detail: Some("5 - Cosmetic".into()),
        };
        let warn = || ProblemRow {
            code: "unmapped_user",
            severity: "warning",
            field: None,
            detail: Some("Bob".into()),
        };
        assert!(
            matches!(
                store
                    .write_dry_run_batch(&first, &[item(1, "fail", vec![bad()])], 1, 30_000)
                    .await,
                Err(StoreError::Conflict(_))
            ),
            "{b}: a stale worker cannot write"
        );
        store
            .write_dry_run_batch(
                &second,
                &[
                    item(1, "fail", vec![bad()]),
                    item(2, "create", vec![warn(), warn()]),
                ],
                2,
                30_000,
            )
            .await
            .expect("batch");
        store
            .write_dry_run_batch(&second, &[item(3, "create", vec![])], 3, 30_000)
            .await
            .expect("batch");
        store
            .complete_dry_run(&second, &catalog.id)
            .await
            .expect("complete");
        let done = store.dry_run(&ck, &run.id).await.expect("run");
        assert_eq!(
            (done.status.as_str(), done.items_done, done.last_id),
            ("completed", 3, 3),
            "{b}"
        );
        let outcomes = store
            .dry_run_outcomes(&ck, &run.id)
            .await
            .expect("outcomes");
        let count = |o: &str| {
            outcomes
                .iter()
                .find(|c| c.outcome == o)
                .map(|c| (c.items, c.warned))
        };
        assert_eq!(
            (count("create"), count("fail")),
            (Some((2, 1)), Some((1, 0))),
            "{b}"
        );
        let problems = store
            .dry_run_problem_counts(&ck, &run.id)
            .await
            .expect("problems");
        assert_eq!(
            problems
                .iter()
                .map(|p| (p.code.as_str(), p.items))
                .collect::<Vec<_>>(),
            [("value_not_allowed", 1), ("unmapped_user", 1)],
            "{b}"
        );
        let items = store
            .dry_run_problem_items(&ck, &run.id, "value_not_allowed", 0, 10)
            .await
            .expect("items");
        assert_eq!(
            (items[0].ado_id, items[0].detail.as_deref()),
            (1, Some("5 - Cosmetic")),
            "{b}"
        );
        assert!(
            store
                .dry_run_problem_items("other", &run.id, "value_not_allowed", 0, 10)
                .await
                .expect("items")
                .is_empty(),
            "{b}"
        );
    }
}

#[tokio::test]
async fn run_objects_keep_their_first_origin_stages_move_and_a_lost_lease_cannot_write() {
    for (store, _dir) in backends().await {
        let b = store.backend();
        let ck = key("objects");
        store
            .install_tenant(&record(&ck, b"s", 1))
            .await
            .expect("install");
        let conn = key("conn");
        store
            .create_connection(&ck, &conn, "https://dev.azure.com/x", b"sealed", "admin")
            .await
            .expect("connection");
        let catalog = store
            .catalog_for(&ck, &conn, "Fab", "{}")
            .await
            .expect("catalog");
        let m = store
            .save_draft(&ck, &catalog.id, "FAB", "{}", "{}", "admin")
            .await
            .expect("draft");
        store
            .approve_mapping(&ck, &m.id, 1, "admin")
            .await
            .expect("approve");
        let queued = store.queue_run(&ck, &m.id, "admin").await.expect("queue");
        let run = loop {
            let r = store
                .claim_run("w1", 30_000)
                .await
                .expect("claim")
                .expect("a run");
            if r.id == queued.id {
                break r;
            }
        };
        store
            .record_run_objects(
                &run,
                &[
                    ("sprint", "7".into(), "created"),
                    ("account", "a1".into(), "unresolved"),
                ],
            )
            .await
            .expect("record");
        // Preflight again after a crash: the sprint is found now, but it was created.
        store
            .record_run_objects(
                &run,
                &[
                    ("sprint", "7".into(), "found"),
                    ("component", "10".into(), "found"),
                ],
            )
            .await
            .expect("record again");
        store
            .set_sprint_stage(&run, "7", "filled")
            .await
            .expect("stage");
        store
            .set_sprint_stage(&run, "7", "closed")
            .await
            .expect("stage");
        let objects = store.run_objects(&run).await.expect("objects");
        let seen: Vec<(&str, &str, &str, Option<&str>)> = objects
            .iter()
            .map(|o| {
                (
                    o.kind.as_str(),
                    o.jira_id.as_str(),
                    o.origin.as_str(),
                    o.stage.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            seen,
            vec![
                ("account", "a1", "unresolved", None),
                ("component", "10", "found", None),
                ("sprint", "7", "created", Some("closed")),
            ],
            "{b}"
        );
        assert!(
            store
                .created_items_after(&run, 0, 10)
                .await
                .expect("items")
                .is_empty()
        );
        assert_eq!(
            store
                .catalog_items_over_caps(&ck, &catalog.id, (5000, 2000, 2000))
                .await
                .expect("caps"),
            0
        );
        // Another worker takes the run over: the first one's writes are refused.
        let mut stale = run.clone();
        stale.lease_token -= 1;
        assert!(
            matches!(
                store.set_sprint_stage(&stale, "7", "started").await,
                Err(StoreError::Conflict(_))
            ),
            "{b}"
        );
    }
}

#[tokio::test]
async fn the_report_reads_failures_notes_deletions_and_actions_and_webhooks_are_per_tenant() {
    use ferry::store::{ItemOutcome, StepKind, StepMark};
    for (store, _dir) in backends().await {
        let b = store.backend();
        let ck = key("report");
        store
            .install_tenant(&record(&ck, b"s", 1))
            .await
            .expect("install");
        let conn = key("conn");
        store
            .create_connection(&ck, &conn, "https://dev.azure.com/x", b"sealed", "admin")
            .await
            .expect("connection");
        let catalog = store
            .catalog_for(&ck, &conn, "Fab", "{}")
            .await
            .expect("catalog");
        let m = store
            .save_draft(&ck, &catalog.id, "FAB", "{}", "{}", "admin")
            .await
            .expect("draft");
        store
            .approve_mapping(&ck, &m.id, 1, "admin")
            .await
            .expect("approve");
        let queued = store.queue_run(&ck, &m.id, "admin").await.expect("queue");
        let run = loop {
            let r = store
                .claim_run("w1", 30_000)
                .await
                .expect("claim")
                .expect("a run");
            if r.id == queued.id {
                break r;
            }
        };
        store
            .seed_run(&run, &[(1, 0), (2, 1), (3, 1)])
            .await
            .expect("seed");
        let created = |id: &str, key: &str| ItemOutcome::Created {
            id: id.into(),
            key: key.into(),
        };
        store
            .record_outcomes(
                &run,
                vec![
                    (1, created("101", "FAB-1")),
                    (2, created("102", "FAB-2")),
                    (
                        3,
                        ItemOutcome::Failed {
                            code: "value_not_allowed".into(),
                            field: Some("priority".into()),
                        },
                    ),
                ],
            )
            .await
            .expect("outcomes");
        store
            .mark_step(
                &run,
                (2, StepKind::Link, 1),
                StepMark {
                    state: "failed",
                    jira_ref: None,
                    error_code: Some("link_refused"),
                },
            )
            .await
            .expect("step");
        store
            .note_items(&run, &[(2, "type_fallback"), (3, "parent_outside")])
            .await
            .expect("notes");
        store
            .note_items(&run, &[(2, "type_fallback")])
            .await
            .expect("notes again");
        let failures = store.run_failures(&ck, &run.id).await.expect("failures");
        let seen: Vec<_> = failures
            .iter()
            .map(|f| {
                (
                    f.ado_id,
                    f.phase.as_str(),
                    f.kind.as_deref(),
                    f.code.as_deref(),
                    f.jira_key.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            seen,
            vec![
                (
                    2,
                    "followup",
                    Some("link"),
                    Some("link_refused"),
                    Some("FAB-2")
                ),
                (3, "create", None, Some("value_not_allowed"), None),
            ],
            "{b}"
        );
        // Only created items' notes count.
        assert_eq!(
            store.run_notes(&ck, &run.id).await.expect("notes"),
            vec![(2, Some("FAB-2".to_owned()), "type_fallback".to_owned())],
            "{b}"
        );
        let progress = store.run_progress(&ck, &run.id).await.expect("progress");
        assert_eq!(
            progress.items.iter().map(|c| c.items).sum::<i64>(),
            3,
            "{b}"
        );
        // Jira deletes FAB-2: marked once, for this tenant only.
        assert_eq!(
            store
                .mark_jira_deleted("other", "102")
                .await
                .expect("other"),
            0
        );
        assert_eq!(store.mark_jira_deleted(&ck, "102").await.expect("mark"), 1);
        assert_eq!(store.mark_jira_deleted(&ck, "102").await.expect("again"), 0);
        let deleted = store.jira_deleted(&ck, &run.id).await.expect("deleted");
        assert_eq!(
            deleted
                .iter()
                .map(|d| (d.ado_id, d.jira_key.as_deref()))
                .collect::<Vec<_>>(),
            vec![(2, Some("FAB-2"))],
            "{b}"
        );
        store
            .control_run(&ck, &run.id, "pause", "admin")
            .await
            .expect("pause");
        let actions: Vec<String> = store
            .run_audit(&ck, &run.id)
            .await
            .expect("audit")
            .into_iter()
            .map(|a| a.action)
            .collect();
        assert_eq!(actions, vec!["run.started", "run.pause"], "{b}");
        // The webhook: one per tenant, replaced in place, removed once.
        assert!(store.webhook(&ck).await.expect("none").is_none());
        store
            .set_webhook(&ck, "https://hooks.example/a", b"sealed-1", "admin")
            .await
            .expect("set");
        store
            .set_webhook(&ck, "https://hooks.example/b", b"sealed-2", "admin")
            .await
            .expect("replace");
        let hook = store.webhook(&ck).await.expect("hook").expect("some");
        assert_eq!(
            (hook.url.as_str(), hook.secret.as_slice()),
            ("https://hooks.example/b", &b"sealed-2"[..])
        );
        assert!(store.webhook("other").await.expect("other").is_none());
        assert!(store.delete_webhook(&ck, "admin").await.expect("delete"));
        assert!(!store.delete_webhook(&ck, "admin").await.expect("gone"));
        // A worker that lost the lease cannot note anything.
        let mut stale = run.clone();
        stale.lease_token -= 1;
        assert!(
            matches!(
                store.note_items(&stale, &[(1, "parent_level")]).await,
                Err(StoreError::Conflict(_))
            ),
            "{b}"
        );
    }
}

#[tokio::test]
async fn a_headless_tenant_is_updated_in_place_and_never_takes_over_a_connect_tenant() {
    for (store, _dir) in backends().await {
        let cli = key("cli");
        let t = store
            .ensure_cli_tenant(&cli, "https://a.example", b"sealed-1")
            .await
            .expect("create");
        assert_eq!(
            (t.auth.as_str(), t.sealed_secret.as_slice()),
            ("basic", &b"sealed-1"[..])
        );
        let t = store
            .ensure_cli_tenant(&cli, "https://b.example", b"sealed-2")
            .await
            .expect("update");
        assert_eq!(
            (t.base_url.as_str(), t.sealed_secret.as_slice()),
            ("https://b.example", &b"sealed-2"[..])
        );

        let installed = key("connect");
        store
            .install_tenant(&record(&installed, b"connect-secret", 1))
            .await
            .expect("install");
        assert!(matches!(
            store
                .ensure_cli_tenant(&installed, "https://evil.example", b"x")
                .await,
            Err(StoreError::Conflict(_))
        ));
        let t = store.tenant(&installed).await.expect("tenant");
        assert_eq!(
            (t.auth.as_str(), t.sealed_secret.as_slice()),
            ("connect", &b"connect-secret"[..]),
            "the installed tenant is untouched"
        );
    }
}
