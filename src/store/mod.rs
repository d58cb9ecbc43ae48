//! Persistence: one [`Store`] over SQLite (embedded default) or PostgreSQL (production).
//!
//! Why one type and not a trait with two implementations: every query is written with `$N`
//! placeholders in the SQL both databases accept, so the [`dispatch!`] macro runs the same
//! text on whichever pool is configured and the compiler type-checks it against each driver.
//! Where the dialects differ, a method matches on the pool explicitly. The conformance suite
//! (`tests/store_conformance.rs`) runs one story on both backends.
//!
//! Rules: every method that touches tenant data takes the tenant's clientKey; no transaction
//! is held across a call to ADO or Jira; timestamps are unix milliseconds.

mod audit;
mod budget;
mod catalog;
mod connections;
mod dry_runs;
mod ledger;
mod mappings;
mod models;
mod report;
mod run_list;
mod run_objects;
mod runs;
mod scans;
mod steps;
mod tenants;
mod tokens;
mod webhooks;

use std::{str::FromStr, time::Duration};

use anyhow::Context;
use sqlx::{
    PgPool, SqlitePool,
    postgres::PgPoolOptions,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};

pub use budget::{BudgetUsage, Reservation, Reserve, share_of};
pub use catalog::{FieldUse, TypeStateCount, Volumes};
pub use dry_runs::{DryItem, DryRun, OutcomeCount, ProblemCount, ProblemItem, ProblemRow};
pub use ledger::{LedgerCounts, LedgerLink, MigratedItem};
pub use mappings::{FieldValue, MappingRow};
pub use models::*;
pub use report::{Deleted, Failure, ItemCount, ObjectCount, Progress};
pub use run_list::RunSummary;
pub use run_objects::RunObject;
pub use runs::{ItemOutcome, Run, RunItem, StateCount};
pub use steps::{StepCount, StepKind, StepMark, StepRow};
pub use tenants::Installed;
pub use webhooks::WebhookRow;

/// Store failures that callers distinguish.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row does not exist (or belongs to another tenant).
    #[error("not found")]
    NotFound,
    /// The write conflicts with newer state (for example a replayed older install).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The database failed.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Result of store operations.
pub type StoreResult<T> = Result<T, StoreError>;

/// Runs a store transaction in a task of its own and waits for it.
///
/// SQLite holds its write lock from a transaction's first write to its commit, across the
/// awaits between statements. Run inline, a transaction whose caller stops being polled holds
/// every other writer until their busy timeout ends them with "database is locked": a future
/// waiting in a `buffered` stream while the stream's consumer writes (the dry run's batches,
/// each reserving points before its Jira call, did exactly that at 30,000+ items), or one
/// dropped part-way. Spawned, the transaction runs to its commit whatever its caller does.
async fn detached<T: Send + 'static>(
    transaction: impl Future<Output = StoreResult<T>> + Send + 'static,
) -> StoreResult<T> {
    match tokio::spawn(transaction).await {
        Ok(result) => result,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        // Only a runtime shutting down cancels the task.
        Err(_) => Err(StoreError::Database(sqlx::Error::PoolClosed)),
    }
}

/// Which database a [`Store`] talks to.
#[derive(Clone, Debug)]
pub enum Pool {
    /// The embedded default.
    Sqlite(SqlitePool),
    /// Production, and several replicas.
    Postgres(PgPool),
}

/// The database, shared cheaply (pools are reference counted).
#[derive(Clone, Debug)]
pub struct Store {
    pool: Pool,
}

/// Runs `$body` with `$p` bound to the concrete pool, once per backend.
macro_rules! dispatch {
    ($store:expr, $p:ident => $body:expr) => {
        match &$store.pool {
            $crate::store::Pool::Sqlite($p) => $body,
            $crate::store::Pool::Postgres($p) => $body,
        }
    };
}
pub(crate) use dispatch;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

impl Store {
    /// Connects to `url` (`sqlite:…` or `postgres://…`), creating a SQLite file if needed,
    /// and applies the embedded migrations.
    pub async fn open(url: &str) -> anyhow::Result<Self> {
        let store = if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)
                .context("FERRY_DATABASE_URL is not a valid sqlite URL")?
                .create_if_missing(true)
                .foreign_keys(true)
                // WAL lets readers (pages, progress) run beside the one writer, and NORMAL
                // syncs at checkpoints instead of every commit: a run commits a checkpoint per
                // batch and sub-item, and a full sync each time cost more CPU than the rest of
                // the engine. What an OS crash could lose is the newest checkpoints, which the
                // engine finds again in Jira by origin property before writing anything twice.
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10));
            if let Some(dir) = options.get_filename().parent()
                && !dir.as_os_str().is_empty()
            {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
            }
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .connect_with(options)
                .await
                .context("opening the SQLite database")?;
            SQLITE_MIGRATIONS
                .run(&pool)
                .await
                .context("migrating SQLite")?;
            Self {
                pool: Pool::Sqlite(pool),
            }
        } else {
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect(url)
                .await
                .context("connecting to PostgreSQL")?;
            POSTGRES_MIGRATIONS
                .run(&pool)
                .await
                .context("migrating PostgreSQL")?;
            Self {
                pool: Pool::Postgres(pool),
            }
        };
        Ok(store)
    }

    /// The backend's name, for logs and health output.
    pub fn backend(&self) -> &'static str {
        match self.pool {
            Pool::Sqlite(_) => "sqlite",
            Pool::Postgres(_) => "postgres",
        }
    }

    /// Cheap liveness probe for `/healthz`.
    pub async fn ping(&self) -> StoreResult<()> {
        dispatch!(self, p => sqlx::query("select 1").execute(p).await.map(|_| ()))?;
        Ok(())
    }

    /// Names of every table that has a `client_key` column, for tests that prove an
    /// uninstall leaves nothing behind, however many tables later work adds.
    pub async fn tenant_tables(&self) -> StoreResult<Vec<String>> {
        let names: Vec<(String,)> = match &self.pool {
            Pool::Sqlite(p) => {
                sqlx::query_as(
                    "select m.name from sqlite_master m join pragma_table_info(m.name) c \
                     where m.type = 'table' and c.name = 'client_key' order by m.name",
                )
                .fetch_all(p)
                .await?
            }
            Pool::Postgres(p) => {
                sqlx::query_as(
                    "select table_name::text from information_schema.columns \
                     where column_name = 'client_key' and table_schema = current_schema() \
                     order by table_name",
                )
                .fetch_all(p)
                .await?
            }
        };
        Ok(names.into_iter().map(|(n,)| n).collect())
    }

    /// Rows a tenant owns in `table` (one of [`Store::tenant_tables`]).
    pub async fn count_tenant_rows(&self, table: &str, client_key: &str) -> StoreResult<i64> {
        if !table.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
            return Err(StoreError::Conflict("bad table name".into()));
        }
        let sql = format!("select count(*) from {table} where client_key = $1");
        let (n,): (i64,) =
            dispatch!(self, p => sqlx::query_as(&sql).bind(client_key).fetch_one(p).await)?;
        Ok(n)
    }
}

/// Now, in unix milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

fn not_found(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        other => StoreError::Database(other),
    }
}
