//! [`PgStore`]: the PostgreSQL backend, chosen by a `postgres://` URL.
//!
//! Bookings run in a transaction that first takes a transaction-scoped advisory lock
//! ([`BOOKING_LOCK`]); every booking and reschedule takes the same lock, so their capacity
//! checks and inserts are serialised and never double-book. The lock is released at commit or
//! rollback. Reads are not blocked.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Postgres, Transaction};

/// Key of the advisory lock that serialises bookings ("otto" + "book" in ASCII).
pub const BOOKING_LOCK: i64 = 0x6f74_746f_626f_6f6b;
/// Connections in the pool.
const MAX_CONNECTIONS: u32 = 10;
/// Longest wait for a pooled connection, and the server-side statement timeout.
const TIMEOUT: Duration = Duration::from_secs(5);

/// The PostgreSQL store. Open it through [`crate::connect`].
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    /// Whether bookings, moves and cancellations enqueue a calendar sync job
    /// ([`crate::Store::set_calendar_outbox`]); shared by clones.
    calendar_outbox: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl PgStore {
    /// Connects to `url` (`postgres://user@host:port/db`). Does not migrate.
    ///
    /// # Errors
    /// [`StoreError::Database`] when the URL does not parse or the server cannot be reached.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url)?.options([("statement_timeout", "5s")]);
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(TIMEOUT)
            .connect_with(options)
            .await?;
        Ok(Self {
            pool,
            calendar_outbox: Default::default(),
        })
    }

    /// PostgreSQL is backed up with its own tools.
    async fn backup_into(&self, _path: &std::path::Path) -> Result<(), StoreError> {
        Err(StoreError::Rejected(
            "back up PostgreSQL with pg_dump (see docs/deploy.md)".into(),
        ))
    }

    fn backend_name() -> &'static str {
        "postgres"
    }

    async fn run_migrations(&self) -> Result<(), StoreError> {
        sqlx::migrate!("./migrations/postgres")
            .run(&self.pool)
            .await?;
        Ok(())
    }

    /// Rows another worker is claiming are skipped, not waited for.
    const CLAIM_LOCK: &'static str = " FOR UPDATE SKIP LOCKED";

    /// A plain transaction: the claim's row locks keep workers apart.
    async fn begin_claim(&self) -> Result<Transaction<'static, Postgres>, StoreError> {
        Ok(self.pool.begin().await?)
    }

    /// A transaction holding the booking advisory lock.
    async fn begin_booking(&self) -> Result<Transaction<'static, Postgres>, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(BOOKING_LOCK)
            .execute(&mut *tx)
            .await?;
        Ok(tx)
    }
}

crate::sql_store::impl_sql_store!(PgStore, sqlx::Postgres);
crate::sql_staff::impl_staff_store!(PgStore, sqlx::Postgres);
crate::sql_calendar::impl_calendar_outbox!(PgStore, sqlx::Postgres);
crate::sql_reminders::impl_reminder_store!(PgStore, sqlx::Postgres);
