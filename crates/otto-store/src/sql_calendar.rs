//! The calendar outbox's SQL, shared by both backends like `sql_store`:
//! `impl_calendar_outbox!` is instantiated for SQLite and PostgreSQL. Its `enqueue_sync` runs
//! inside the booking transactions of `sql_store` (`book`, `reschedule`, and
//! `set_appointment_status` to cancelled), so a change is never without its sync job and no
//! booking waits on the calendar.

/// Implements the `calendar_sql` module for `$store` over database `$db`.
macro_rules! impl_calendar_outbox {
    ($store:ident, $db:ty) => {
        impl $store {
            /// Whether the calendar outbox is on (`Store::set_calendar_outbox`).
            fn calendar_outbox(&self) -> bool {
                self.calendar_outbox
                    .load(std::sync::atomic::Ordering::SeqCst)
            }
        }

        pub(crate) mod calendar_sql {
            use chrono::{DateTime, Utc};
            use otto_core::records::{Appointment, CALENDAR_SYNC_JOB};

            use $crate::db_time::DbTime;
            use $crate::inputs::calendar_sync_key;
            use $crate::store::StoreResult;

            type DbConn = <$db as sqlx::Database>::Connection;

            /// Enqueues the `calendar.sync` job of `appointment` as it now is (a no-op when
            /// the job of that very change exists), due at once.
            pub(crate) async fn enqueue_sync(
                conn: &mut DbConn,
                appointment: &Appointment,
                now: DateTime<Utc>,
            ) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO jobs (kind, payload, dedup_key, status, attempts, max_attempts, \
                     run_at, created_at, updated_at) VALUES ($1, $2, $3, 'pending', 0, $4, $5, \
                     $5, $5) ON CONFLICT (dedup_key) DO NOTHING",
                )
                .bind(CALENDAR_SYNC_JOB)
                .bind(appointment.id.to_string())
                .bind(calendar_sync_key(appointment))
                .bind($crate::inputs::CALENDAR_SYNC_ATTEMPTS as i32)
                .bind(DbTime(now))
                .execute(&mut *conn)
                .await?;
                Ok(())
            }
        }
    };
}
pub(crate) use impl_calendar_outbox;
