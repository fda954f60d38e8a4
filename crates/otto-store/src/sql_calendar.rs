//! The calendar's SQL, shared by both backends like `sql_store`: `impl_calendar_outbox!` is
//! instantiated for SQLite and PostgreSQL.
//!
//! - The outbox: `enqueue_sync` runs inside the booking transactions of `sql_store` (`book`,
//!   `reschedule`, and `set_appointment_status` to cancelled), so a change is never without
//!   its sync job and no booking waits on the calendar.
//! - [`crate::calendar::CalendarStore`]: named state and drift (migration 0006).

/// Implements the `calendar_sql` module (the outbox and [`crate::calendar::CalendarStore`])
/// for `$store` over database `$db`.
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
            use async_trait::async_trait;
            use chrono::{DateTime, Utc};
            use otto_core::records::{Appointment, CALENDAR_SYNC_JOB, Id};
            use sqlx::Row;

            use super::$store;
            use $crate::calendar::{
                CalendarDrift, CalendarStore, MAX_STATE_NAME, MAX_STATE_VALUE,
            };
            use $crate::db_time::{DbTime, now_ms};
            use $crate::error::StoreError;
            use $crate::inputs::calendar_sync_key;
            use $crate::sql_store::limit;
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

            fn check_name(name: &str) -> StoreResult<()> {
                if name.is_empty() || name.len() > MAX_STATE_NAME {
                    return Err(StoreError::Rejected(format!(
                        "a calendar state name must be 1..={MAX_STATE_NAME} bytes"
                    )));
                }
                Ok(())
            }

            #[async_trait]
            impl CalendarStore for $store {
                async fn calendar_state(&self, name: &str) -> StoreResult<Option<String>> {
                    check_name(name)?;
                    Ok(
                        sqlx::query_scalar("SELECT value FROM calendar_state WHERE name = $1")
                            .bind(name)
                            .fetch_optional(&self.pool)
                            .await?,
                    )
                }

                async fn set_calendar_state(
                    &self,
                    name: &str,
                    value: Option<&str>,
                ) -> StoreResult<()> {
                    check_name(name)?;
                    match value {
                        Some(v) if v.len() > MAX_STATE_VALUE => {
                            return Err(StoreError::Rejected(format!(
                                "a calendar state value must be at most {MAX_STATE_VALUE} bytes"
                            )));
                        }
                        Some(v) => {
                            sqlx::query(
                                "INSERT INTO calendar_state (name, value, updated_at) \
                                 VALUES ($1, $2, $3) ON CONFLICT (name) DO UPDATE \
                                 SET value = excluded.value, updated_at = excluded.updated_at",
                            )
                            .bind(name)
                            .bind(v)
                            .bind(DbTime(now_ms()))
                            .execute(&self.pool)
                            .await?;
                        }
                        None => {
                            sqlx::query("DELETE FROM calendar_state WHERE name = $1")
                                .bind(name)
                                .execute(&self.pool)
                                .await?;
                        }
                    }
                    Ok(())
                }

                async fn record_calendar_drift(&self, d: &CalendarDrift) -> StoreResult<()> {
                    sqlx::query(
                        "INSERT INTO calendar_drifts (appointment_id, booked_start, \
                         booked_end, event_start, event_end, found_at) \
                         SELECT id, $2, $3, $4, $5, $6 FROM appointments WHERE id = $1 \
                         ON CONFLICT (appointment_id) DO UPDATE SET \
                         booked_start = excluded.booked_start, booked_end = excluded.booked_end, \
                         event_start = excluded.event_start, event_end = excluded.event_end, \
                         found_at = excluded.found_at",
                    )
                    .bind(d.appointment_id)
                    .bind(DbTime(d.booked.0))
                    .bind(DbTime(d.booked.1))
                    .bind(d.event.map(|e| DbTime(e.0)))
                    .bind(d.event.map(|e| DbTime(e.1)))
                    .bind(DbTime(d.found_at))
                    .execute(&self.pool)
                    .await?;
                    Ok(())
                }

                async fn clear_calendar_drift(&self, appointment_id: Id) -> StoreResult<()> {
                    sqlx::query("DELETE FROM calendar_drifts WHERE appointment_id = $1")
                        .bind(appointment_id)
                        .execute(&self.pool)
                        .await?;
                    Ok(())
                }

                async fn calendar_drifts(&self, max: u32) -> StoreResult<Vec<CalendarDrift>> {
                    let rows = sqlx::query(
                        "SELECT d.appointment_id, d.booked_start, d.booked_end, d.event_start, \
                         d.event_end, d.found_at FROM calendar_drifts d \
                         JOIN appointments a ON a.id = d.appointment_id \
                         WHERE a.status IN ('scheduled', 'confirmed') \
                         ORDER BY d.found_at DESC, d.appointment_id DESC LIMIT $1",
                    )
                    .bind(limit(max))
                    .fetch_all(&self.pool)
                    .await?;
                    rows.iter()
                        .map(|r| {
                            let start = r.try_get::<Option<DbTime>, _>("event_start")?;
                            let end = r.try_get::<Option<DbTime>, _>("event_end")?;
                            Ok(CalendarDrift {
                                appointment_id: r.try_get("appointment_id")?,
                                booked: (
                                    r.try_get::<DbTime, _>("booked_start")?.0,
                                    r.try_get::<DbTime, _>("booked_end")?.0,
                                ),
                                event: start.zip(end).map(|(s, e)| (s.0, e.0)),
                                found_at: r.try_get::<DbTime, _>("found_at")?.0,
                            })
                        })
                        .collect()
                }
            }
        }
    };
}
pub(crate) use impl_calendar_outbox;
