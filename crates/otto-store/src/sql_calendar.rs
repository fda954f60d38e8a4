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
                super::insert_job_in(
                    conn,
                    CALENDAR_SYNC_JOB,
                    &appointment.id.to_string(),
                    &calendar_sync_key(appointment),
                    $crate::inputs::CALENDAR_SYNC_ATTEMPTS,
                    now,
                    now,
                )
                .await
            }
        }
    };
}
pub(crate) use impl_calendar_outbox;
