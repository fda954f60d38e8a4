//! [`SqliteStore`]: the embedded default backend. A file database created on first start (WAL
//! journal, foreign keys on, 5 s busy timeout) or a private in-memory one.
//!
//! Bookings start with `BEGIN IMMEDIATE`, which takes SQLite's single write lock before the
//! capacity check, so concurrent bookings run one after the other and never double-book.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Sqlite, Transaction};

/// How long a connection waits for SQLite's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Connections in a file database's pool (readers run in parallel under WAL).
const MAX_CONNECTIONS: u32 = 8;

/// The SQLite store. Open it through [`crate::connect`].
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// Whether bookings, moves and cancellations enqueue a calendar sync job
    /// ([`crate::Store::set_calendar_outbox`]); shared by clones.
    calendar_outbox: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl SqliteStore {
    /// Opens (creating if missing) the database at `url` (`sqlite:<path>`, `sqlite://<path>`
    /// or `sqlite::memory:`). Does not migrate.
    ///
    /// # Errors
    /// [`StoreError::Database`] when the URL does not parse or the file cannot be opened.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let pool = if in_memory {
            // Each in-memory connection would be its own database: keep exactly one, forever.
            SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
        } else {
            SqlitePoolOptions::new().max_connections(MAX_CONNECTIONS)
        }
        .acquire_timeout(BUSY_TIMEOUT)
        .connect_with(options)
        .await?;
        Ok(Self {
            pool,
            calendar_outbox: Default::default(),
        })
    }

    fn backend_name() -> &'static str {
        "sqlite"
    }

    async fn run_migrations(&self) -> Result<(), StoreError> {
        sqlx::migrate!("./migrations/sqlite")
            .run(&self.pool)
            .await?;
        Ok(())
    }

    /// `VACUUM INTO`: a consistent, compacted copy of the live database.
    async fn backup_into(&self, path: &std::path::Path) -> Result<(), StoreError> {
        let path = path
            .to_str()
            .ok_or_else(|| StoreError::Rejected("the backup path is not UTF-8".into()))?;
        sqlx::query("VACUUM INTO $1")
            .bind(path)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// SQLite claims jobs inside [`SqliteStore::begin_claim`]'s write lock: no row lock.
    const CLAIM_LOCK: &'static str = "";

    /// A write transaction from the start, so two workers never claim the same job.
    async fn begin_claim(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }

    /// A write transaction from the start: the capacity check and the insert see and hold
    /// the only write lock.
    async fn begin_booking(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }
}

crate::sql_store::impl_sql_store!(SqliteStore, sqlx::Sqlite);
crate::sql_staff::impl_staff_store!(SqliteStore, sqlx::Sqlite);
crate::sql_calendar::impl_calendar_outbox!(SqliteStore, sqlx::Sqlite);
crate::sql_reminders::impl_reminder_store!(SqliteStore, sqlx::Sqlite);
