//! What every store conformance suite sets up: a fresh SQLite file always, a fresh PostgreSQL
//! schema when `FERRY_TEST_POSTGRES_URL` is set (so stories that claim "the oldest queued
//! scan" never see another test's rows), and installed tenants. Each suite is its own crate
//! and uses part of this, hence the `dead_code` allowance.
#![allow(dead_code)]

use ferry::store::{InstallRecord, Store};

/// One URL per backend: a new SQLite file, and a new PostgreSQL schema when configured.
/// Each test that calls this gets databases of its own.
pub async fn database_urls() -> Vec<String> {
    let dir = std::env::temp_dir().join(format!("ferry-store-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut urls = vec![format!("sqlite://{}/store.db", dir.display())];
    if let Ok(url) = std::env::var("FERRY_TEST_POSTGRES_URL") {
        urls.push(isolated_schema(&url).await);
    } else {
        eprintln!("FERRY_TEST_POSTGRES_URL not set: PostgreSQL skipped");
    }
    urls
}

/// A store on each of [`database_urls`], with the SQLite file's directory (`None` for
/// PostgreSQL).
pub async fn backends() -> Vec<(Store, Option<std::path::PathBuf>)> {
    let mut stores = Vec::new();
    for url in database_urls().await {
        let dir = url
            .strip_prefix("sqlite://")
            .and_then(|path| std::path::Path::new(path).parent())
            .map(std::path::Path::to_path_buf);
        stores.push((Store::open(&url).await.expect("store"), dir));
    }
    stores
}

/// A fresh schema; returns `url` with that schema as its search path.
async fn isolated_schema(url: &str) -> String {
    let schema = format!("conformance_{}", uuid::Uuid::new_v4().simple());
    let pool = sqlx::PgPool::connect(url)
        .await
        .expect("FERRY_TEST_POSTGRES_URL is set but unreachable");
    sqlx::query(&format!("create schema {schema}"))
        .execute(&pool)
        .await
        .expect("create schema");
    pool.close().await;
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}options=-c%20search_path%3D{schema}")
}

/// Installs a tenant with client key `ck` (a placeholder site and secret).
pub async fn install(store: &Store, ck: &str) {
    store
        .install_tenant(&InstallRecord {
            client_key: ck.to_owned(),
            base_url: "https://acme.atlassian.net".into(),
            display_url: None,
            oauth_client_id: None,
            sealed_secret: b"s".to_vec(),
            token_iat: 1,
        })
        .await
        .expect("install");
}

/// A fresh installed tenant, its client key `{prefix}-…`.
pub async fn tenant(store: &Store, prefix: &str) -> String {
    let ck = format!("{prefix}-{}", uuid::Uuid::new_v4());
    install(store, &ck).await;
    ck
}
