//! The SQL of [`crate::reminders::ReminderStore`], shared by both backends like `sql_store`:
//! `impl_reminder_store!` is instantiated for SQLite and PostgreSQL. Its `add_reminder` and
//! `cancel_pending` also run inside the booking transactions of `sql_store`.

macro_rules! reminder_cols {
    () => {
        "id, appointment_id, kind, channel, appointment_start, due_at, status, attempts, \
         provider_sid, provider_status, last_error, claimed_at, sent_at, created_at, updated_at"
    };
}
pub(crate) use reminder_cols;

/// `statuses` as an SQL list of quoted names, e.g. `('pending', 'claimed')`; `('')` when empty
/// (matches nothing). The names are the enum's own static strings, never input.
pub(crate) fn status_list(statuses: &[otto_core::records::ReminderStatus]) -> String {
    let names: Vec<String> = statuses
        .iter()
        .map(|s| format!("'{}'", s.as_str()))
        .collect();
    if names.is_empty() {
        "('')".into()
    } else {
        format!("({})", names.join(", "))
    }
}

/// Implements [`crate::reminders::ReminderStore`] for `$store` over database `$db` (see
/// `impl_sql_store!`).
macro_rules! impl_reminder_store {
    ($store:ident, $db:ty) => {
        pub(crate) mod reminders_sql {
            use async_trait::async_trait;
            use chrono::{DateTime, Utc};
            use otto_core::domain::PhoneNumber;
            use otto_core::records::{
                Id, REMINDER_JOB, Reminder, ReminderChannel, ReminderKind, ReminderStatus,
            };
            use sqlx::Row;

            use super::$store;
            use $crate::db_time::{DbTime, now_ms};
            use $crate::error::StoreError;
            use $crate::reminders::{
                NewReminder, REMINDER_JOB_ATTEMPTS, ReminderChange, ReminderQuery, ReminderStore,
                reminder_job_key,
            };
            use $crate::sql_reminders::status_list;
            use $crate::sql_store::{limit, parse_col, uint_col};
            use $crate::store::StoreResult;

            type DbRow = <$db as sqlx::Database>::Row;
            type DbConn = <$db as sqlx::Database>::Connection;

            fn reminder_row(r: &DbRow) -> StoreResult<Reminder> {
                Ok(Reminder {
                    id: r.try_get("id")?,
                    appointment_id: r.try_get("appointment_id")?,
                    kind: parse_col(r.try_get::<&str, _>("kind")?, "reminders.kind")?,
                    channel: parse_col(r.try_get::<&str, _>("channel")?, "reminders.channel")?,
                    appointment_start: r.try_get::<DbTime, _>("appointment_start")?.0,
                    due_at: r.try_get::<DbTime, _>("due_at")?.0,
                    status: parse_col(r.try_get::<&str, _>("status")?, "reminders.status")?,
                    attempts: uint_col(r.try_get::<i32, _>("attempts")?, "reminders.attempts")?,
                    provider_sid: r.try_get("provider_sid")?,
                    provider_status: r.try_get("provider_status")?,
                    last_error: r.try_get("last_error")?,
                    claimed_at: r.try_get::<Option<DbTime>, _>("claimed_at")?.map(|t| t.0),
                    sent_at: r.try_get::<Option<DbTime>, _>("sent_at")?.map(|t| t.0),
                    created_at: r.try_get::<DbTime, _>("created_at")?.0,
                    updated_at: r.try_get::<DbTime, _>("updated_at")?.0,
                })
            }

            /// Enqueues the send job of reminder `id`, round `round`, at `run_at` (a no-op
            /// when that job exists).
            async fn enqueue_send(
                conn: &mut DbConn,
                id: Id,
                round: u32,
                run_at: DateTime<Utc>,
                now: DateTime<Utc>,
            ) -> StoreResult<()> {
                super::insert_job_in(
                    conn,
                    REMINDER_JOB,
                    &id.to_string(),
                    &reminder_job_key(id, round),
                    REMINDER_JOB_ATTEMPTS,
                    run_at,
                    now,
                )
                .await
            }

            /// Adds `new` with its send job unless an equal reminder exists; the new row.
            pub(crate) async fn add_reminder(
                conn: &mut DbConn,
                new: &NewReminder,
                now: DateTime<Utc>,
            ) -> StoreResult<Option<Reminder>> {
                let row = sqlx::query(concat!(
                    "INSERT INTO reminders (appointment_id, kind, channel, appointment_start, \
                     due_at, status, attempts, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $6) \
                     ON CONFLICT (appointment_id, kind, channel, appointment_start) DO NOTHING \
                     RETURNING ",
                    $crate::sql_reminders::reminder_cols!()
                ))
                .bind(new.appointment_id)
                .bind(new.kind.as_str())
                .bind(new.channel.as_str())
                .bind(DbTime(new.appointment_start))
                .bind(DbTime(new.due_at))
                .bind(DbTime(now))
                .fetch_optional(&mut *conn)
                .await?;
                let Some(row) = row else { return Ok(None) };
                let reminder = reminder_row(&row)?;
                enqueue_send(conn, reminder.id, 0, reminder.due_at, now).await?;
                Ok(Some(reminder))
            }

            /// The SMS confirmation of a booking or move to `start`, due at once.
            pub(crate) fn confirmation(appointment_id: Id, start: DateTime<Utc>) -> NewReminder {
                NewReminder {
                    appointment_id,
                    kind: ReminderKind::Confirmation,
                    channel: ReminderChannel::Sms,
                    appointment_start: start,
                    due_at: now_ms(),
                }
            }

            /// Cancels the appointment's pending reminders, except those about `keep_start`.
            pub(crate) async fn cancel_pending(
                conn: &mut DbConn,
                appointment_id: Id,
                keep_start: Option<DateTime<Utc>>,
                now: DateTime<Utc>,
            ) -> StoreResult<u64> {
                let done = sqlx::query(
                    "UPDATE reminders SET status = 'cancelled', updated_at = $3, \
                     last_error = 'the appointment was moved or cancelled' \
                     WHERE appointment_id = $1 AND status = 'pending' \
                     AND ($2 IS NULL OR appointment_start <> $2)",
                )
                .bind(appointment_id)
                .bind(keep_start.map(DbTime))
                .bind(DbTime(now))
                .execute(&mut *conn)
                .await?;
                Ok(done.rows_affected())
            }

            #[async_trait]
            impl ReminderStore for $store {
                async fn schedule_reminders(
                    &self,
                    new: &[NewReminder],
                ) -> StoreResult<Vec<Reminder>> {
                    let now = now_ms();
                    let mut tx = self.pool.begin().await?;
                    let mut added = Vec::new();
                    for n in new {
                        if let Some(r) = add_reminder(&mut tx, n, now).await? {
                            added.push(r);
                        }
                    }
                    tx.commit().await?;
                    Ok(added)
                }

                async fn reminder(&self, id: Id) -> StoreResult<Option<Reminder>> {
                    sqlx::query(concat!(
                        "SELECT ",
                        $crate::sql_reminders::reminder_cols!(),
                        " FROM reminders WHERE id = $1"
                    ))
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?
                    .map(|r| reminder_row(&r))
                    .transpose()
                }

                async fn reminders(&self, query: &ReminderQuery) -> StoreResult<Vec<Reminder>> {
                    let statuses = if query.statuses.is_empty() {
                        String::new()
                    } else {
                        format!(" AND status IN {}", status_list(&query.statuses))
                    };
                    let sql = format!(
                        "SELECT {} FROM reminders WHERE ($1 IS NULL OR appointment_id = $1){} \
                         ORDER BY due_at DESC, id DESC LIMIT $2",
                        $crate::sql_reminders::reminder_cols!(),
                        statuses
                    );
                    let rows = sqlx::query(&sql)
                        .bind(query.appointment_id)
                        .bind(limit(query.limit))
                        .fetch_all(&self.pool)
                        .await?;
                    rows.iter().map(reminder_row).collect()
                }

                async fn change_reminder(
                    &self,
                    id: Id,
                    change: &ReminderChange,
                ) -> StoreResult<Option<Reminder>> {
                    let sql = format!(
                        "UPDATE reminders SET status = $2, \
                         provider_sid = CASE WHEN $9 THEN NULL ELSE COALESCE($3, provider_sid) END, \
                         provider_status = COALESCE($4, provider_status), \
                         last_error = COALESCE($5, last_error), updated_at = $6, \
                         claimed_at = CASE WHEN $2 = 'claimed' THEN $6 ELSE claimed_at END, \
                         sent_at = CASE WHEN $2 = 'sent' THEN $6 ELSE sent_at END, \
                         attempts = attempts + $7, due_at = COALESCE($8, due_at) \
                         WHERE id = $1 AND status IN {} \
                         AND ($3 IS NULL OR provider_sid IS NULL OR provider_sid = $3) \
                         RETURNING {}",
                        status_list(&change.from),
                        $crate::sql_reminders::reminder_cols!()
                    );
                    let mut tx = self.pool.begin().await?;
                    let row = sqlx::query(&sql)
                        .bind(id)
                        .bind(change.to.as_str())
                        .bind(change.provider_sid.as_deref())
                        .bind(
                            change
                                .provider_status
                                .as_deref()
                                .map(|s| s.chars().take(32).collect::<String>()),
                        )
                        .bind(
                            change
                                .last_error
                                .as_deref()
                                .map(|s| s.chars().take(500).collect::<String>()),
                        )
                        .bind(DbTime(change.at))
                        .bind(i32::from(change.count_attempt))
                        .bind(change.requeue_at.map(DbTime))
                        .bind(change.clear_sid)
                        .fetch_optional(&mut *tx)
                        .await?;
                    let Some(row) = row else { return Ok(None) };
                    let reminder = reminder_row(&row)?;
                    if let Some(at) = change.requeue_at {
                        enqueue_send(&mut tx, id, reminder.attempts, at, change.at).await?;
                    }
                    tx.commit().await?;
                    Ok(Some(reminder))
                }

                async fn reminder_counts(&self) -> StoreResult<Vec<(ReminderStatus, u64)>> {
                    let rows = sqlx::query(
                        "SELECT status, COUNT(*) AS n FROM reminders GROUP BY status \
                         ORDER BY status",
                    )
                    .fetch_all(&self.pool)
                    .await?;
                    rows.iter()
                        .map(|r| {
                            Ok((
                                parse_col(r.try_get::<&str, _>("status")?, "reminders.status")?,
                                uint_col(r.try_get::<i64, _>("n")?, "reminders count")?,
                            ))
                        })
                        .collect()
                }

                async fn set_opted_out(
                    &self,
                    phone: &PhoneNumber,
                    opted_out: bool,
                    at: DateTime<Utc>,
                ) -> StoreResult<()> {
                    if opted_out {
                        sqlx::query(
                            "INSERT INTO sms_opt_outs (phone, opted_out_at) VALUES ($1, $2) \
                             ON CONFLICT (phone) DO UPDATE SET opted_out_at = excluded.opted_out_at",
                        )
                        .bind(phone.as_str())
                        .bind(DbTime(at))
                        .execute(&self.pool)
                        .await?;
                    } else {
                        sqlx::query("DELETE FROM sms_opt_outs WHERE phone = $1")
                            .bind(phone.as_str())
                            .execute(&self.pool)
                            .await?;
                    }
                    Ok(())
                }

                async fn opted_out(&self, phone: &PhoneNumber) -> StoreResult<bool> {
                    let found: Option<String> =
                        sqlx::query_scalar("SELECT phone FROM sms_opt_outs WHERE phone = $1")
                            .bind(phone.as_str())
                            .fetch_optional(&self.pool)
                            .await?;
                    Ok(found.is_some())
                }

                async fn sms_thread(
                    &self,
                    phone: &PhoneNumber,
                    now: DateTime<Utc>,
                ) -> StoreResult<Option<String>> {
                    Ok(sqlx::query_scalar(
                        "SELECT state FROM sms_threads WHERE phone = $1 AND expires_at > $2",
                    )
                    .bind(phone.as_str())
                    .bind(DbTime(now))
                    .fetch_optional(&self.pool)
                    .await?)
                }

                async fn set_sms_thread(
                    &self,
                    phone: &PhoneNumber,
                    state: Option<&str>,
                    expires_at: DateTime<Utc>,
                ) -> StoreResult<()> {
                    match state {
                        Some(s) if s.len() > 4000 => {
                            return Err(StoreError::Rejected(
                                "SMS thread state over 4,000 bytes".into(),
                            ));
                        }
                        Some(s) => {
                            sqlx::query(
                                "INSERT INTO sms_threads (phone, state, expires_at) \
                                 VALUES ($1, $2, $3) ON CONFLICT (phone) DO UPDATE SET \
                                 state = excluded.state, expires_at = excluded.expires_at",
                            )
                            .bind(phone.as_str())
                            .bind(s)
                            .bind(DbTime(expires_at))
                            .execute(&self.pool)
                            .await?;
                        }
                        None => {
                            sqlx::query("DELETE FROM sms_threads WHERE phone = $1")
                                .bind(phone.as_str())
                                .execute(&self.pool)
                                .await?;
                        }
                    }
                    Ok(())
                }
            }
        }
    };
}
pub(crate) use impl_reminder_store;
