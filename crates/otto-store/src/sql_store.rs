//! The SQL both backends share: column lists, row → record mapping and the [`Store`] method
//! bodies, written once in `impl_sql_store!` and instantiated for SQLite and PostgreSQL.
//!
//! The SQL text is identical on both backends (`$n` placeholders work in SQLite too); what
//! differs lives in each backend's module: how to open the pool, the migrations, and how a
//! booking transaction starts (`begin_booking`). Instants go through [`crate::db_time::DbTime`].
//!
//! [`Store`]: crate::store::Store

use std::str::FromStr;

use crate::error::StoreError;

/// Rows per multi-row INSERT in bulk imports (13 binds each stays below SQLite's and
/// PostgreSQL's parameter limits).
pub(crate) const IMPORT_CHUNK: usize = 500;

macro_rules! customer_cols {
    () => {
        "id, name, phone, email, street, city, state, postal_code, created_at, updated_at"
    };
}
macro_rules! vehicle_cols {
    () => {
        "id, customer_id, vin, year, make, model, trim_level, mileage, plate"
    };
}
macro_rules! appointment_cols {
    () => {
        "id, customer_id, vehicle_id, service, starts_at, ends_at, bay, status, notes, source, \
         calendar_event_id, created_at, updated_at"
    };
}
macro_rules! history_cols {
    () => {
        "id, vehicle_id, service_date, mileage, work, cost_cents"
    };
}
macro_rules! call_cols {
    () => {
        "id, call_sid, direction, from_number, to_number, started_at, ended_at, duration_secs, \
         outcome, summary, customer_id"
    };
}
macro_rules! turn_cols {
    () => {
        "id, call_id, seq, speaker, text, spoken_at, interrupted, transcript_ms, first_text_ms, \
         first_audio_ms, first_frame_ms"
    };
}
macro_rules! message_cols {
    () => {
        "id, call_id, customer_id, from_phone, caller_name, body, created_at, handled_at, \
         handled_by"
    };
}
macro_rules! job_cols {
    () => {
        "id, kind, payload, dedup_key, status, attempts, max_attempts, run_at, lease_owner, \
         lease_until, last_error, created_at, updated_at"
    };
}
/// The statuses that occupy a bay, as an SQL list.
macro_rules! active {
    () => {
        "('scheduled', 'confirmed')"
    };
}

/// A stored value that does not parse; names the column, never the value (it may be personal).
pub(crate) fn corrupt(column: &'static str) -> StoreError {
    StoreError::Corrupt(format!("{column} holds a value that does not parse"))
}

/// Parses a snake_case enum column.
pub(crate) fn parse_col<T: FromStr>(s: &str, column: &'static str) -> Result<T, StoreError> {
    s.parse().map_err(|_| corrupt(column))
}

/// Converts a stored integer to the record's unsigned type.
pub(crate) fn uint_col<T: TryFrom<I>, I>(v: I, column: &'static str) -> Result<T, StoreError> {
    T::try_from(v).map_err(|_| corrupt(column))
}

/// Escapes `%`, `_` and `\` for a `LIKE … ESCAPE '\'` pattern.
pub(crate) fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Clamps a caller's `limit` into what the database accepts.
pub(crate) fn limit(l: u32) -> i64 {
    i64::from(l.min(10_000))
}

/// Implements [`crate::store::Store`] for `$store` (a struct with a `pool: Pool<$db>` field and
/// inherent `backend_name`, `run_migrations` and `begin_booking` methods) over database `$db`.
macro_rules! impl_sql_store {
    ($store:ty, $db:ty) => {
        use async_trait::async_trait;
        use chrono::{DateTime, NaiveDate, Utc};
        use otto_core::domain::{Email, PhoneNumber, UsState, Vin};
        use otto_core::records::{
            Address, Appointment, AppointmentStatus, CallLog, CallTurn, Customer, Id, Job,
            JobStatus, Message, NewCustomer, NewVehicle, ServiceRecord, ToolAction,
            TurnTimings, Vehicle,
        };
        use sqlx::{QueryBuilder, Row};

        use $crate::db_time::{DbTime, now_ms};
        use $crate::error::StoreError;
        use $crate::inputs::{
            CallEnd, CallQuery, CallRecord, ImportedAppointment, NewAppointment, NewCall,
            NewJob, NewMessage, NewServiceRecord, NewToolAction, NewTurn,
        };
        use $crate::sql_store::{
            IMPORT_CHUNK, corrupt, like_escape, limit, parse_col, uint_col,
        };
        use $crate::store::{Store, StoreResult};

        type DbRow = <$db as sqlx::Database>::Row;
        type DbConn = <$db as sqlx::Database>::Connection;

        fn customer_row(r: &DbRow) -> StoreResult<Customer> {
            let phone: String = r.try_get("phone")?;
            let email: Option<String> = r.try_get("email")?;
            let address = match (
                r.try_get::<Option<String>, _>("street")?,
                r.try_get::<Option<String>, _>("city")?,
                r.try_get::<Option<String>, _>("state")?,
                r.try_get::<Option<String>, _>("postal_code")?,
            ) {
                (Some(street), Some(city), Some(state), Some(postal_code)) => Some(Address {
                    street,
                    city,
                    state: UsState::parse(&state).map_err(|_| corrupt("customers.state"))?,
                    postal_code,
                }),
                _ => None,
            };
            Ok(Customer {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                phone: PhoneNumber::parse(&phone).map_err(|_| corrupt("customers.phone"))?,
                email: email
                    .map(|e| Email::parse(&e))
                    .transpose()
                    .map_err(|_| corrupt("customers.email"))?,
                address,
                created_at: r.try_get::<DbTime, _>("created_at")?.0,
                updated_at: r.try_get::<DbTime, _>("updated_at")?.0,
            })
        }

        fn vehicle_row(r: &DbRow) -> StoreResult<Vehicle> {
            let vin: Option<String> = r.try_get("vin")?;
            Ok(Vehicle {
                id: r.try_get("id")?,
                customer_id: r.try_get("customer_id")?,
                vin: vin
                    .map(|v| Vin::parse(&v))
                    .transpose()
                    .map_err(|_| corrupt("vehicles.vin"))?,
                year: uint_col(r.try_get::<i32, _>("year")?, "vehicles.year")?,
                make: r.try_get("make")?,
                model: r.try_get("model")?,
                trim: r.try_get("trim_level")?,
                mileage: r
                    .try_get::<Option<i64>, _>("mileage")?
                    .map(|m| uint_col(m, "vehicles.mileage"))
                    .transpose()?,
                plate: r.try_get("plate")?,
            })
        }

        fn appointment_row(r: &DbRow) -> StoreResult<Appointment> {
            Ok(Appointment {
                id: r.try_get("id")?,
                customer_id: r.try_get("customer_id")?,
                vehicle_id: r.try_get("vehicle_id")?,
                service: r.try_get("service")?,
                start: r.try_get::<DbTime, _>("starts_at")?.0,
                end: r.try_get::<DbTime, _>("ends_at")?.0,
                bay: uint_col(r.try_get::<i32, _>("bay")?, "appointments.bay")?,
                status: parse_col(r.try_get::<&str, _>("status")?, "appointments.status")?,
                notes: r.try_get("notes")?,
                source: parse_col(r.try_get::<&str, _>("source")?, "appointments.source")?,
                calendar_event_id: r.try_get("calendar_event_id")?,
                created_at: r.try_get::<DbTime, _>("created_at")?.0,
                updated_at: r.try_get::<DbTime, _>("updated_at")?.0,
            })
        }

        fn history_row(r: &DbRow) -> StoreResult<ServiceRecord> {
            Ok(ServiceRecord {
                id: r.try_get("id")?,
                vehicle_id: r.try_get("vehicle_id")?,
                date: r.try_get::<NaiveDate, _>("service_date")?,
                mileage: r
                    .try_get::<Option<i64>, _>("mileage")?
                    .map(|m| uint_col(m, "service_history.mileage"))
                    .transpose()?,
                work: r.try_get("work")?,
                cost_cents: r.try_get("cost_cents")?,
            })
        }

        fn call_row(r: &DbRow) -> StoreResult<CallLog> {
            Ok(CallLog {
                id: r.try_get("id")?,
                call_sid: r.try_get("call_sid")?,
                direction: parse_col(r.try_get::<&str, _>("direction")?, "call_logs.direction")?,
                from: r.try_get("from_number")?,
                to: r.try_get("to_number")?,
                started_at: r.try_get::<DbTime, _>("started_at")?.0,
                ended_at: r.try_get::<Option<DbTime>, _>("ended_at")?.map(|t| t.0),
                duration_secs: r
                    .try_get::<Option<i32>, _>("duration_secs")?
                    .map(|d| uint_col(d, "call_logs.duration_secs"))
                    .transpose()?,
                outcome: r.try_get("outcome")?,
                summary: r.try_get("summary")?,
                customer_id: r.try_get("customer_id")?,
            })
        }

        fn turn_row(r: &DbRow) -> StoreResult<CallTurn> {
            Ok(CallTurn {
                id: r.try_get("id")?,
                call_id: r.try_get("call_id")?,
                seq: uint_col(r.try_get::<i32, _>("seq")?, "call_turns.seq")?,
                speaker: parse_col(r.try_get::<&str, _>("speaker")?, "call_turns.speaker")?,
                text: r.try_get("text")?,
                at: r.try_get::<DbTime, _>("spoken_at")?.0,
                interrupted: r.try_get("interrupted")?,
                timings: match (
                    r.try_get::<Option<i32>, _>("transcript_ms")?,
                    r.try_get::<Option<i32>, _>("first_text_ms")?,
                    r.try_get::<Option<i32>, _>("first_audio_ms")?,
                    r.try_get::<Option<i32>, _>("first_frame_ms")?,
                ) {
                    (Some(t), Some(x), Some(a), Some(f)) => Some(TurnTimings {
                        transcript_ms: uint_col(t, "call_turns.transcript_ms")?,
                        first_text_ms: uint_col(x, "call_turns.first_text_ms")?,
                        first_audio_ms: uint_col(a, "call_turns.first_audio_ms")?,
                        first_frame_ms: uint_col(f, "call_turns.first_frame_ms")?,
                    }),
                    _ => None,
                },
            })
        }

        fn action_row(r: &DbRow) -> StoreResult<ToolAction> {
            Ok(ToolAction {
                id: r.try_get("id")?,
                call_id: r.try_get("call_id")?,
                at: r.try_get::<DbTime, _>("at")?.0,
                tool: r.try_get("tool")?,
                detail: r.try_get("detail")?,
            })
        }

        /// A latency in ms as stored (INTEGER); saturates at `i32::MAX`.
        fn ms_col(ms: u32) -> i32 {
            i32::try_from(ms).unwrap_or(i32::MAX)
        }

        fn message_row(r: &DbRow) -> StoreResult<Message> {
            Ok(Message {
                id: r.try_get("id")?,
                call_id: r.try_get("call_id")?,
                customer_id: r.try_get("customer_id")?,
                from_phone: r.try_get("from_phone")?,
                caller_name: r.try_get("caller_name")?,
                body: r.try_get("body")?,
                created_at: r.try_get::<DbTime, _>("created_at")?.0,
                handled_at: r.try_get::<Option<DbTime>, _>("handled_at")?.map(|t| t.0),
                handled_by: r.try_get("handled_by")?,
            })
        }

        fn job_row(r: &DbRow) -> StoreResult<Job> {
            Ok(Job {
                id: r.try_get("id")?,
                kind: r.try_get("kind")?,
                payload: r.try_get("payload")?,
                dedup_key: r.try_get("dedup_key")?,
                status: parse_col(r.try_get::<&str, _>("status")?, "jobs.status")?,
                attempts: uint_col(r.try_get::<i32, _>("attempts")?, "jobs.attempts")?,
                max_attempts: uint_col(r.try_get::<i32, _>("max_attempts")?, "jobs.max_attempts")?,
                run_at: r.try_get::<DbTime, _>("run_at")?.0,
                lease_owner: r.try_get("lease_owner")?,
                lease_until: r.try_get::<Option<DbTime>, _>("lease_until")?.map(|t| t.0),
                last_error: r.try_get("last_error")?,
                created_at: r.try_get::<DbTime, _>("created_at")?.0,
                updated_at: r.try_get::<DbTime, _>("updated_at")?.0,
            })
        }

        /// Error text as stored: at most 1,000 characters.
        fn error_text(e: &str) -> String {
            e.chars().take(1000).collect()
        }

        fn all<T>(rows: Vec<DbRow>, f: fn(&DbRow) -> StoreResult<T>) -> StoreResult<Vec<T>> {
            rows.iter().map(f).collect()
        }

        /// Inserts a pending job of `kind` (`payload`, at most `attempts` tries, due at
        /// `run_at`) keyed by `dedup_key`, inside the caller's transaction; a no-op when a job
        /// with that key exists. The outboxes (reminders, calendar) enqueue through it.
        pub(crate) async fn insert_job_in(
            conn: &mut DbConn,
            kind: &str,
            payload: &str,
            dedup_key: &str,
            attempts: u32,
            run_at: DateTime<Utc>,
            now: DateTime<Utc>,
        ) -> StoreResult<()> {
            sqlx::query(
                "INSERT INTO jobs (kind, payload, dedup_key, status, attempts, max_attempts, \
                 run_at, created_at, updated_at) VALUES ($1, $2, $3, 'pending', 0, $4, $5, \
                 $6, $6) ON CONFLICT (dedup_key) DO NOTHING",
            )
            .bind(kind)
            .bind(payload)
            .bind(dedup_key)
            .bind(i32_of(attempts, "max_attempts")?)
            .bind(DbTime(run_at))
            .bind(DbTime(now))
            .execute(&mut *conn)
            .await?;
            Ok(())
        }

        fn i32_of(v: u32, what: &'static str) -> StoreResult<i32> {
            i32::try_from(v).map_err(|_| StoreError::Rejected(format!("{what} is too large")))
        }

        /// Bays of the active appointments overlapping `[start, end)`, except `exclude`.
        async fn busy_bays(
            conn: &mut DbConn,
            start: DateTime<Utc>,
            end: DateTime<Utc>,
            exclude: Id,
        ) -> StoreResult<Vec<u32>> {
            let bays: Vec<i32> = sqlx::query_scalar(concat!(
                "SELECT bay FROM appointments WHERE status IN ",
                $crate::sql_store::active!(),
                " AND starts_at < $2 AND ends_at > $1 AND id <> $3"
            ))
            .bind(DbTime(start))
            .bind(DbTime(end))
            .bind(exclude)
            .fetch_all(&mut *conn)
            .await?;
            bays.into_iter()
                .map(|b| uint_col(b, "appointments.bay"))
                .collect()
        }

        async fn insert_customer(conn: &mut DbConn, c: &NewCustomer) -> StoreResult<DbRow> {
            let now = now_ms();
            let a = c.address.as_ref();
            Ok(sqlx::query(concat!(
                "INSERT INTO customers (name, phone, email, street, city, state, postal_code, \
                 created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING ",
                $crate::sql_store::customer_cols!()
            ))
            .bind(&c.name)
            .bind(c.phone.as_str())
            .bind(c.email.as_ref().map(|e| e.as_str()))
            .bind(a.map(|a| a.street.as_str()))
            .bind(a.map(|a| a.city.as_str()))
            .bind(a.map(|a| a.state.code()))
            .bind(a.map(|a| a.postal_code.as_str()))
            .bind(DbTime(now))
            .fetch_one(&mut *conn)
            .await?)
        }

        async fn insert_vehicle(conn: &mut DbConn, v: &NewVehicle) -> StoreResult<DbRow> {
            Ok(sqlx::query(concat!(
                "INSERT INTO vehicles (customer_id, vin, year, make, model, trim_level, mileage, \
                 plate) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ",
                $crate::sql_store::vehicle_cols!()
            ))
            .bind(v.customer_id)
            .bind(v.vin.as_ref().map(|v| v.as_str()))
            .bind(i32::from(v.year))
            .bind(&v.make)
            .bind(&v.model)
            .bind(v.trim.as_deref())
            .bind(v.mileage.map(i64::from))
            .bind(v.plate.as_deref())
            .fetch_one(&mut *conn)
            .await?)
        }

        /// Maps a unique violation to a message naming what was duplicated.
        fn conflict_as(e: StoreError, what: &str) -> StoreError {
            match e {
                StoreError::Conflict(_) => StoreError::Conflict(what.to_string()),
                other => other,
            }
        }

        #[async_trait]
        impl Store for $store {
            fn backend(&self) -> &'static str {
                Self::backend_name()
            }

            fn set_calendar_outbox(&self, on: bool) {
                self.calendar_outbox
                    .store(on, std::sync::atomic::Ordering::SeqCst);
            }

            async fn backup_to(&self, path: &std::path::Path) -> StoreResult<()> {
                if path.exists() {
                    return Err(StoreError::Rejected(format!(
                        "{} exists already: a backup never overwrites a file",
                        path.display()
                    )));
                }
                self.backup_into(path).await
            }

            async fn migrate(&self) -> StoreResult<()> {
                self.run_migrations().await
            }

            async fn customer(&self, id: Id) -> StoreResult<Option<Customer>> {
                sqlx::query(concat!("SELECT ", $crate::sql_store::customer_cols!(), " FROM customers WHERE id = $1"))
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?
                    .map(|r| customer_row(&r))
                    .transpose()
            }

            async fn customer_by_phone(
                &self,
                phone: &PhoneNumber,
            ) -> StoreResult<Option<Customer>> {
                sqlx::query(concat!(
                    "SELECT ",
                    $crate::sql_store::customer_cols!(),
                    " FROM customers WHERE phone = $1"
                ))
                .bind(phone.as_str())
                .fetch_optional(&self.pool)
                .await?
                .map(|r| customer_row(&r))
                .transpose()
            }

            async fn search_customers(&self, text: &str, lim: u32) -> StoreResult<Vec<Customer>> {
                let text = text.trim();
                if text.is_empty() {
                    return Ok(Vec::new());
                }
                let name = format!("%{}%", like_escape(&text.to_lowercase()));
                let digits: String = text.chars().filter(|c| c.is_ascii_digit()).collect();
                let phone = (digits.len() >= 3).then(|| format!("%{digits}%"));
                // VINs are stored upper-case and never hold I, O or Q.
                let vin = (text.len() >= 4 && text.chars().all(|c| c.is_ascii_alphanumeric()))
                    .then(|| format!("%{}%", text.to_ascii_uppercase()));
                let rows = sqlx::query(concat!(
                    "SELECT ",
                    $crate::sql_store::customer_cols!(),
                    " FROM customers WHERE lower(name) LIKE $1 ESCAPE '\\' OR phone LIKE $2 \
                     OR id IN (SELECT customer_id FROM vehicles WHERE vin LIKE $3) \
                     ORDER BY name, id LIMIT $4"
                ))
                .bind(name)
                .bind(phone)
                .bind(vin)
                .bind(limit(lim))
                .fetch_all(&self.pool)
                .await?;
                all(rows, customer_row)
            }

            async fn count_customers(&self) -> StoreResult<u64> {
                let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM customers")
                    .fetch_one(&self.pool)
                    .await?;
                uint_col(n, "count")
            }

            async fn create_customer(&self, new: &NewCustomer) -> StoreResult<Customer> {
                let mut conn = self.pool.acquire().await?;
                let row = insert_customer(&mut conn, new).await.map_err(|e| {
                    conflict_as(e, "a customer with this phone number already exists")
                })?;
                customer_row(&row)
            }

            async fn update_customer(&self, id: Id, c: &NewCustomer) -> StoreResult<Customer> {
                let a = c.address.as_ref();
                sqlx::query(concat!(
                    "UPDATE customers SET name = $2, phone = $3, email = $4, street = $5, \
                     city = $6, state = $7, postal_code = $8, updated_at = $9 WHERE id = $1 \
                     RETURNING ",
                    $crate::sql_store::customer_cols!()
                ))
                .bind(id)
                .bind(&c.name)
                .bind(c.phone.as_str())
                .bind(c.email.as_ref().map(|e| e.as_str()))
                .bind(a.map(|a| a.street.as_str()))
                .bind(a.map(|a| a.city.as_str()))
                .bind(a.map(|a| a.state.code()))
                .bind(a.map(|a| a.postal_code.as_str()))
                .bind(DbTime(now_ms()))
                .fetch_optional(&self.pool)
                .await
                .map_err(|e| {
                    conflict_as(e.into(), "another customer already has this phone number")
                })?
                .map(|r| customer_row(&r))
                .transpose()?
                .ok_or_else(|| StoreError::not_found("customer", id))
            }

            async fn vehicle(&self, id: Id) -> StoreResult<Option<Vehicle>> {
                sqlx::query(concat!("SELECT ", $crate::sql_store::vehicle_cols!(), " FROM vehicles WHERE id = $1"))
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?
                    .map(|r| vehicle_row(&r))
                    .transpose()
            }

            async fn vehicles_of(&self, customer_id: Id) -> StoreResult<Vec<Vehicle>> {
                let rows = sqlx::query(concat!(
                    "SELECT ",
                    $crate::sql_store::vehicle_cols!(),
                    " FROM vehicles WHERE customer_id = $1 ORDER BY id"
                ))
                .bind(customer_id)
                .fetch_all(&self.pool)
                .await?;
                all(rows, vehicle_row)
            }

            async fn add_vehicle(&self, new: &NewVehicle) -> StoreResult<Vehicle> {
                let mut conn = self.pool.acquire().await?;
                let row = insert_vehicle(&mut conn, new)
                    .await
                    .map_err(|e| conflict_as(e, "a vehicle with this VIN is already registered"))?;
                vehicle_row(&row)
            }

            async fn set_vehicle_vin(&self, id: Id, vin: &Vin) -> StoreResult<Vehicle> {
                let row = sqlx::query(concat!(
                    "UPDATE vehicles SET vin = $1 WHERE id = $2 AND vin IS NULL RETURNING ",
                    $crate::sql_store::vehicle_cols!()
                ))
                .bind(vin.as_str())
                .bind(id)
                .fetch_optional(&self.pool)
                .await
                .map_err(|e| conflict_as(e.into(), "a vehicle with this VIN is already registered"))?
                .ok_or_else(|| StoreError::not_found("vehicle without a VIN", id))?;
                vehicle_row(&row)
            }

            async fn appointment(&self, id: Id) -> StoreResult<Option<Appointment>> {
                sqlx::query(concat!(
                    "SELECT ",
                    $crate::sql_store::appointment_cols!(),
                    " FROM appointments WHERE id = $1"
                ))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?
                .map(|r| appointment_row(&r))
                .transpose()
            }

            async fn appointments_of(
                &self,
                customer_id: Id,
                from: DateTime<Utc>,
            ) -> StoreResult<Vec<Appointment>> {
                let rows = sqlx::query(concat!(
                    "SELECT ",
                    $crate::sql_store::appointment_cols!(),
                    " FROM appointments WHERE customer_id = $1 AND starts_at >= $2 \
                     ORDER BY starts_at, id"
                ))
                .bind(customer_id)
                .bind(DbTime(from))
                .fetch_all(&self.pool)
                .await?;
                all(rows, appointment_row)
            }

            async fn active_appointments_between(
                &self,
                start: DateTime<Utc>,
                end: DateTime<Utc>,
            ) -> StoreResult<Vec<Appointment>> {
                let rows = sqlx::query(concat!(
                    "SELECT ",
                    $crate::sql_store::appointment_cols!(),
                    " FROM appointments WHERE status IN ",
                    $crate::sql_store::active!(),
                    " AND starts_at < $2 AND ends_at > $1 ORDER BY starts_at, id"
                ))
                .bind(DbTime(start))
                .bind(DbTime(end))
                .fetch_all(&self.pool)
                .await?;
                all(rows, appointment_row)
            }

            async fn book(&self, new: &NewAppointment, bays: u32) -> StoreResult<Appointment> {
                let mut tx = self.begin_booking().await?;
                let busy = busy_bays(&mut tx, new.start, new.end, 0).await?;
                let bay = otto_core::scheduling::bays::first_free_bay(&busy, bays).ok_or(StoreError::SlotTaken)?;
                let now = now_ms();
                let row = sqlx::query(concat!(
                    "INSERT INTO appointments (customer_id, vehicle_id, service, starts_at, \
                     ends_at, bay, status, notes, source, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, 'scheduled', $7, $8, $9, $9) RETURNING ",
                    $crate::sql_store::appointment_cols!()
                ))
                .bind(new.customer_id)
                .bind(new.vehicle_id)
                .bind(&new.service)
                .bind(DbTime(new.start))
                .bind(DbTime(new.end))
                .bind(i32_of(bay, "bay")?)
                .bind(new.notes.as_deref())
                .bind(new.source.as_str())
                .bind(DbTime(now))
                .fetch_one(&mut *tx)
                .await?;
                let appointment = appointment_row(&row)?;
                let confirm = reminders_sql::confirmation(appointment.id, appointment.start);
                reminders_sql::add_reminder(&mut tx, &confirm, now).await?;
                if self.calendar_outbox() {
                    calendar_sql::enqueue_sync(&mut tx, &appointment, now).await?;
                }
                tx.commit().await?;
                Ok(appointment)
            }

            async fn reschedule(
                &self,
                id: Id,
                start: DateTime<Utc>,
                end: DateTime<Utc>,
                bays: u32,
            ) -> StoreResult<Appointment> {
                let mut tx = self.begin_booking().await?;
                let status: Option<String> =
                    sqlx::query_scalar("SELECT status FROM appointments WHERE id = $1")
                        .bind(id)
                        .fetch_optional(&mut *tx)
                        .await?;
                let status: AppointmentStatus = match status {
                    None => return Err(StoreError::not_found("appointment", id)),
                    Some(s) => parse_col(&s, "appointments.status")?,
                };
                if !status.is_active() {
                    return Err(StoreError::NotActive(id));
                }
                let busy = busy_bays(&mut tx, start, end, id).await?;
                let bay = otto_core::scheduling::bays::first_free_bay(&busy, bays).ok_or(StoreError::SlotTaken)?;
                let row = sqlx::query(concat!(
                    "UPDATE appointments SET starts_at = $2, ends_at = $3, bay = $4, \
                     updated_at = $5 WHERE id = $1 AND status IN ",
                    $crate::sql_store::active!(),
                    " RETURNING ",
                    $crate::sql_store::appointment_cols!()
                ))
                .bind(id)
                .bind(DbTime(start))
                .bind(DbTime(end))
                .bind(i32_of(bay, "bay")?)
                .bind(DbTime(now_ms()))
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(StoreError::NotActive(id))?;
                let appointment = appointment_row(&row)?;
                let now = now_ms();
                reminders_sql::cancel_pending(&mut tx, id, Some(appointment.start), now).await?;
                let confirm = reminders_sql::confirmation(id, appointment.start);
                reminders_sql::add_reminder(&mut tx, &confirm, now).await?;
                if self.calendar_outbox() {
                    calendar_sql::enqueue_sync(&mut tx, &appointment, now).await?;
                }
                tx.commit().await?;
                Ok(appointment)
            }

            async fn set_appointment_status(
                &self,
                id: Id,
                status: AppointmentStatus,
            ) -> StoreResult<Appointment> {
                let mut tx = self.pool.begin().await?;
                let row = sqlx::query(concat!(
                    "UPDATE appointments SET status = $2, updated_at = $3 WHERE id = $1 \
                     AND status IN ",
                    $crate::sql_store::active!(),
                    " RETURNING ",
                    $crate::sql_store::appointment_cols!()
                ))
                .bind(id)
                .bind(status.as_str())
                .bind(DbTime(now_ms()))
                .fetch_optional(&mut *tx)
                .await?;
                let changed = row.as_ref().map(appointment_row).transpose()?;
                if changed.is_some() && !status.is_active() {
                    reminders_sql::cancel_pending(&mut tx, id, None, now_ms()).await?;
                }
                if let Some(a) = changed.as_ref().filter(|_| {
                    status == AppointmentStatus::Cancelled && self.calendar_outbox()
                }) {
                    calendar_sql::enqueue_sync(&mut tx, a, now_ms()).await?;
                }
                tx.commit().await?;
                match changed {
                    Some(a) => Ok(a),
                    None if self.appointment(id).await?.is_some() => {
                        Err(StoreError::NotActive(id))
                    }
                    None => Err(StoreError::not_found("appointment", id)),
                }
            }

            async fn set_calendar_event_id(
                &self,
                id: Id,
                event_id: Option<&str>,
            ) -> StoreResult<()> {
                let done = sqlx::query(
                    "UPDATE appointments SET calendar_event_id = $2, updated_at = $3 \
                     WHERE id = $1",
                )
                .bind(id)
                .bind(event_id)
                .bind(DbTime(now_ms()))
                .execute(&self.pool)
                .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::not_found("appointment", id));
                }
                Ok(())
            }

            async fn service_history(&self, vehicle_id: Id) -> StoreResult<Vec<ServiceRecord>> {
                let rows = sqlx::query(concat!(
                    "SELECT ",
                    $crate::sql_store::history_cols!(),
                    " FROM service_history WHERE vehicle_id = $1 \
                     ORDER BY service_date DESC, id DESC"
                ))
                .bind(vehicle_id)
                .fetch_all(&self.pool)
                .await?;
                all(rows, history_row)
            }

            async fn add_service_record(
                &self,
                new: &NewServiceRecord,
            ) -> StoreResult<ServiceRecord> {
                let row = sqlx::query(concat!(
                    "INSERT INTO service_history (vehicle_id, service_date, mileage, work, \
                     cost_cents) VALUES ($1, $2, $3, $4, $5) RETURNING ",
                    $crate::sql_store::history_cols!()
                ))
                .bind(new.vehicle_id)
                .bind(new.date)
                .bind(new.mileage.map(i64::from))
                .bind(&new.work)
                .bind(new.cost_cents)
                .fetch_one(&self.pool)
                .await?;
                history_row(&row)
            }

            async fn start_call(&self, new: &NewCall) -> StoreResult<CallLog> {
                sqlx::query(
                    "INSERT INTO call_logs (call_sid, direction, from_number, to_number, \
                     started_at, customer_id) VALUES ($1, $2, $3, $4, $5, $6) \
                     ON CONFLICT (call_sid) DO NOTHING",
                )
                .bind(&new.call_sid)
                .bind(new.direction.as_str())
                .bind(&new.from)
                .bind(&new.to)
                .bind(DbTime(new.started_at))
                .bind(new.customer_id)
                .execute(&self.pool)
                .await?;
                self.call_by_sid(&new.call_sid)
                    .await?
                    .ok_or_else(|| StoreError::not_found("call", &new.call_sid))
            }

            async fn append_turn(&self, call_id: Id, turn: &NewTurn) -> StoreResult<CallTurn> {
                // Bumping the call's counter first takes its row lock (PostgreSQL) or the write
                // lock (SQLite), so concurrent appends get consecutive, distinct seq numbers.
                let mut tx = self.pool.begin().await?;
                let seq: i32 = match turn.seq {
                    None => {
                        let count: i32 = sqlx::query_scalar(
                            "UPDATE call_logs SET turn_count = turn_count + 1 WHERE id = $1 \
                             RETURNING turn_count",
                        )
                        .bind(call_id)
                        .fetch_optional(&mut *tx)
                        .await?
                        .ok_or_else(|| StoreError::not_found("call", call_id))?;
                        count - 1
                    }
                    Some(seq) => {
                        let seq = i32_of(seq, "turn seq")?;
                        sqlx::query_scalar::<_, i32>(
                            "UPDATE call_logs SET turn_count = CASE WHEN turn_count > $2 \
                             THEN turn_count ELSE $2 END WHERE id = $1 RETURNING turn_count",
                        )
                        .bind(call_id)
                        .bind(seq + 1)
                        .fetch_optional(&mut *tx)
                        .await?
                        .ok_or_else(|| StoreError::not_found("call", call_id))?;
                        seq
                    }
                };
                let t = turn.timings;
                let row = sqlx::query(concat!(
                    "INSERT INTO call_turns (call_id, seq, speaker, text, spoken_at, \
                     interrupted, transcript_ms, first_text_ms, first_audio_ms, first_frame_ms) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                     ON CONFLICT (call_id, seq) DO NOTHING RETURNING ",
                    $crate::sql_store::turn_cols!()
                ))
                .bind(call_id)
                .bind(seq)
                .bind(turn.speaker.as_str())
                .bind(&turn.text)
                .bind(DbTime(turn.at))
                .bind(turn.interrupted)
                .bind(t.map(|t| ms_col(t.transcript_ms)))
                .bind(t.map(|t| ms_col(t.first_text_ms)))
                .bind(t.map(|t| ms_col(t.first_audio_ms)))
                .bind(t.map(|t| ms_col(t.first_frame_ms)))
                .fetch_optional(&mut *tx)
                .await?;
                let row = match row {
                    Some(row) => row,
                    // A retried write of a turn already stored.
                    None => {
                        sqlx::query(concat!(
                            "SELECT ",
                            $crate::sql_store::turn_cols!(),
                            " FROM call_turns WHERE call_id = $1 AND seq = $2"
                        ))
                        .bind(call_id)
                        .bind(seq)
                        .fetch_one(&mut *tx)
                        .await?
                    }
                };
                let turn = turn_row(&row)?;
                tx.commit().await?;
                Ok(turn)
            }

            async fn end_call(&self, call_sid: &str, end: &CallEnd) -> StoreResult<CallLog> {
                let call = self
                    .call_by_sid(call_sid)
                    .await?
                    .ok_or_else(|| StoreError::not_found("call", call_sid))?;
                let secs = (end.ended_at - call.started_at).num_seconds().clamp(0, i64::from(i32::MAX));
                let secs = i32::try_from(secs).unwrap_or(i32::MAX);
                sqlx::query(concat!(
                    "UPDATE call_logs SET ended_at = COALESCE(ended_at, $2), \
                     duration_secs = COALESCE(duration_secs, $3), \
                     outcome = COALESCE($4, outcome), summary = COALESCE($5, summary), \
                     customer_id = COALESCE($6, customer_id) WHERE call_sid = $1 RETURNING ",
                    $crate::sql_store::call_cols!()
                ))
                .bind(call_sid)
                .bind(DbTime(end.ended_at))
                .bind(secs)
                .bind(end.outcome.as_deref())
                .bind(end.summary.as_deref())
                .bind(end.customer_id)
                .fetch_optional(&self.pool)
                .await?
                .map(|r| call_row(&r))
                .transpose()?
                .ok_or_else(|| StoreError::not_found("call", call_sid))
            }

            async fn note_call(
                &self,
                call_id: Id,
                outcome: Option<&str>,
                summary: Option<&str>,
                customer_id: Option<Id>,
            ) -> StoreResult<()> {
                let exists: Option<Id> = sqlx::query_scalar(
                    "UPDATE call_logs SET outcome = COALESCE($2, outcome), \
                     summary = COALESCE($3, summary), customer_id = COALESCE($4, customer_id) \
                     WHERE id = $1 RETURNING id",
                )
                .bind(call_id)
                .bind(outcome)
                .bind(summary)
                .bind(customer_id)
                .fetch_optional(&self.pool)
                .await?;
                exists.map(|_| ()).ok_or_else(|| StoreError::not_found("call", call_id))
            }

            async fn call_by_sid(&self, call_sid: &str) -> StoreResult<Option<CallLog>> {
                sqlx::query(concat!("SELECT ", $crate::sql_store::call_cols!(), " FROM call_logs WHERE call_sid = $1"))
                    .bind(call_sid)
                    .fetch_optional(&self.pool)
                    .await?
                    .map(|r| call_row(&r))
                    .transpose()
            }

            async fn calls(&self, q: &CallQuery) -> StoreResult<Vec<CallLog>> {
                let mut sql = QueryBuilder::<$db>::new(concat!(
                    "SELECT ",
                    $crate::sql_store::call_cols!(),
                    " FROM call_logs WHERE 1 = 1"
                ));
                if let Some(since) = q.since {
                    sql.push(" AND started_at >= ").push_bind(DbTime(since));
                }
                if let Some(until) = q.until {
                    sql.push(" AND started_at < ").push_bind(DbTime(until));
                }
                match q.outcome.as_deref() {
                    Some("") => {
                        sql.push(" AND outcome IS NULL");
                    }
                    Some(o) => {
                        sql.push(" AND outcome = ").push_bind(o.to_string());
                    }
                    None => {}
                }
                if let Some(c) = q.customer_id {
                    sql.push(" AND customer_id = ").push_bind(c);
                }
                sql.push(" ORDER BY started_at DESC, id DESC LIMIT ")
                    .push_bind(limit(q.limit));
                let rows = sql.build().fetch_all(&self.pool).await?;
                all(rows, call_row)
            }

            async fn forget_transcripts_before(&self, cutoff: DateTime<Utc>) -> StoreResult<u64> {
                let mut tx = self.pool.begin().await?;
                let old = "SELECT id FROM call_logs WHERE started_at < $1";
                let turns = sqlx::query(&format!("DELETE FROM call_turns WHERE call_id IN ({old})"))
                    .bind(DbTime(cutoff))
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                sqlx::query(&format!("DELETE FROM call_actions WHERE call_id IN ({old})"))
                    .bind(DbTime(cutoff))
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("UPDATE call_logs SET summary = NULL WHERE started_at < $1")
                    .bind(DbTime(cutoff))
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(turns)
            }

            async fn record_tool_action(&self, a: &NewToolAction) -> StoreResult<()> {
                let detail: String = a.detail.chars().take(2000).collect();
                sqlx::query(
                    "INSERT INTO call_actions (call_id, at, tool, detail) VALUES ($1, $2, $3, $4)",
                )
                .bind(a.call_id)
                .bind(DbTime(a.at))
                .bind(&a.tool)
                .bind(detail)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn agent_turns_between(
                &self,
                since: DateTime<Utc>,
                until: DateTime<Utc>,
                lim: u32,
            ) -> StoreResult<Vec<CallTurn>> {
                let rows = sqlx::query(concat!(
                    "SELECT ",
                    $crate::sql_store::turn_cols!(),
                    " FROM call_turns WHERE spoken_at >= $1 AND spoken_at < $2 AND speaker = 'agent' \
                     ORDER BY spoken_at, id LIMIT $3"
                ))
                .bind(DbTime(since))
                .bind(DbTime(until))
                .bind(limit(lim))
                .fetch_all(&self.pool)
                .await?;
                all(rows, turn_row)
            }

            async fn call_with_turns(&self, call_id: Id) -> StoreResult<Option<CallRecord>> {
                let Some(call) =
                    sqlx::query(concat!("SELECT ", $crate::sql_store::call_cols!(), " FROM call_logs WHERE id = $1"))
                        .bind(call_id)
                        .fetch_optional(&self.pool)
                        .await?
                else {
                    return Ok(None);
                };
                let turns = sqlx::query(concat!(
                    "SELECT ",
                    $crate::sql_store::turn_cols!(),
                    " FROM call_turns WHERE call_id = $1 ORDER BY seq"
                ))
                .bind(call_id)
                .fetch_all(&self.pool)
                .await?;
                let actions = sqlx::query(
                    "SELECT id, call_id, at, tool, detail FROM call_actions WHERE call_id = $1 \
                     ORDER BY at, id",
                )
                .bind(call_id)
                .fetch_all(&self.pool)
                .await?;
                Ok(Some(CallRecord {
                    call: call_row(&call)?,
                    turns: all(turns, turn_row)?,
                    actions: all(actions, action_row)?,
                }))
            }

            async fn create_message(&self, new: &NewMessage) -> StoreResult<Message> {
                let row = sqlx::query(concat!(
                    "INSERT INTO messages (call_id, customer_id, from_phone, caller_name, body, \
                     created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING ",
                    $crate::sql_store::message_cols!()
                ))
                .bind(new.call_id)
                .bind(new.customer_id)
                .bind(&new.from_phone)
                .bind(new.caller_name.as_deref())
                .bind(&new.body)
                .bind(DbTime(new.created_at))
                .fetch_one(&self.pool)
                .await?;
                message_row(&row)
            }

            async fn messages(&self, unhandled_only: bool, lim: u32) -> StoreResult<Vec<Message>> {
                let rows = sqlx::query(concat!(
                    "SELECT ",
                    $crate::sql_store::message_cols!(),
                    " FROM messages WHERE ($1 = FALSE OR handled_at IS NULL) \
                     ORDER BY created_at DESC, id DESC LIMIT $2"
                ))
                .bind(unhandled_only)
                .bind(limit(lim))
                .fetch_all(&self.pool)
                .await?;
                all(rows, message_row)
            }

            async fn mark_message_handled(
                &self,
                id: Id,
                by: &str,
                at: DateTime<Utc>,
            ) -> StoreResult<Message> {
                sqlx::query(concat!(
                    "UPDATE messages SET handled_at = COALESCE(handled_at, $2), \
                     handled_by = COALESCE(handled_by, $3) WHERE id = $1 RETURNING ",
                    $crate::sql_store::message_cols!()
                ))
                .bind(id)
                .bind(DbTime(at))
                .bind(by)
                .fetch_optional(&self.pool)
                .await?
                .map(|r| message_row(&r))
                .transpose()?
                .ok_or_else(|| StoreError::not_found("message", id))
            }

            async fn enqueue_job(&self, new: &NewJob) -> StoreResult<Job> {
                if new.kind.is_empty() || new.kind.chars().count() > 64 {
                    return Err(StoreError::Rejected("job kind must be 1..=64 characters".into()));
                }
                if new.max_attempts == 0 {
                    return Err(StoreError::Rejected("max_attempts must be at least 1".into()));
                }
                let now = now_ms();
                let row = sqlx::query(concat!(
                    "INSERT INTO jobs (kind, payload, dedup_key, status, attempts, max_attempts, \
                     run_at, created_at, updated_at) \
                     VALUES ($1, $2, $3, 'pending', 0, $4, $5, $6, $6) \
                     ON CONFLICT (dedup_key) DO UPDATE SET dedup_key = excluded.dedup_key \
                     RETURNING ",
                    $crate::sql_store::job_cols!()
                ))
                .bind(&new.kind)
                .bind(&new.payload)
                .bind(new.dedup_key.as_deref())
                .bind(i32_of(new.max_attempts, "max_attempts")?)
                .bind(DbTime(new.run_at))
                .bind(DbTime(now))
                .fetch_one(&self.pool)
                .await?;
                job_row(&row)
            }

            async fn claim_jobs(
                &self,
                owner: &str,
                now: DateTime<Utc>,
                lease: std::time::Duration,
                lim: u32,
            ) -> StoreResult<Vec<Job>> {
                let until = chrono::Duration::from_std(lease)
                    .ok()
                    .and_then(|d| now.checked_add_signed(d))
                    .ok_or_else(|| StoreError::Rejected("lease is too long".into()))?;
                let sql = format!(
                    "UPDATE jobs SET status = 'running', lease_owner = $1, lease_until = $2, \
                     attempts = attempts + 1, updated_at = $5 \
                     WHERE id IN (SELECT id FROM jobs WHERE (status = 'pending' AND run_at <= $3) \
                     OR (status = 'running' AND lease_until <= $3) \
                     ORDER BY run_at, id LIMIT $4{}) RETURNING {}",
                    Self::CLAIM_LOCK,
                    $crate::sql_store::job_cols!()
                );
                let mut tx = self.begin_claim().await?;
                let rows = sqlx::query(&sql)
                    .bind(owner)
                    .bind(DbTime(until))
                    .bind(DbTime(now))
                    .bind(limit(lim))
                    .bind(DbTime(now_ms()))
                    .fetch_all(&mut *tx)
                    .await?;
                let mut jobs = all(rows, job_row)?;
                tx.commit().await?;
                jobs.sort_by_key(|j| (j.run_at, j.id));
                Ok(jobs)
            }

            async fn complete_job(&self, id: Id, owner: &str) -> StoreResult<Job> {
                sqlx::query(concat!(
                    "UPDATE jobs SET status = 'done', lease_owner = NULL, lease_until = NULL, \
                     updated_at = $3 WHERE id = $1 AND lease_owner = $2 AND status = 'running' \
                     RETURNING ",
                    $crate::sql_store::job_cols!()
                ))
                .bind(id)
                .bind(owner)
                .bind(DbTime(now_ms()))
                .fetch_optional(&self.pool)
                .await?
                .map(|r| job_row(&r))
                .transpose()?
                .ok_or(StoreError::LeaseLost(id))
            }

            async fn retry_job(
                &self,
                id: Id,
                owner: &str,
                run_at: DateTime<Utc>,
                error: &str,
            ) -> StoreResult<Job> {
                sqlx::query(concat!(
                    "UPDATE jobs SET status = 'pending', lease_owner = NULL, lease_until = NULL, \
                     run_at = $3, last_error = $4, updated_at = $5 \
                     WHERE id = $1 AND lease_owner = $2 AND status = 'running' RETURNING ",
                    $crate::sql_store::job_cols!()
                ))
                .bind(id)
                .bind(owner)
                .bind(DbTime(run_at))
                .bind(error_text(error))
                .bind(DbTime(now_ms()))
                .fetch_optional(&self.pool)
                .await?
                .map(|r| job_row(&r))
                .transpose()?
                .ok_or(StoreError::LeaseLost(id))
            }

            async fn bury_job(&self, id: Id, owner: &str, error: &str) -> StoreResult<Job> {
                sqlx::query(concat!(
                    "UPDATE jobs SET status = 'dead', lease_owner = NULL, lease_until = NULL, \
                     last_error = $3, updated_at = $4 \
                     WHERE id = $1 AND lease_owner = $2 AND status = 'running' RETURNING ",
                    $crate::sql_store::job_cols!()
                ))
                .bind(id)
                .bind(owner)
                .bind(error_text(error))
                .bind(DbTime(now_ms()))
                .fetch_optional(&self.pool)
                .await?
                .map(|r| job_row(&r))
                .transpose()?
                .ok_or(StoreError::LeaseLost(id))
            }

            async fn jobs(&self, status: Option<JobStatus>, lim: u32) -> StoreResult<Vec<Job>> {
                let rows = sqlx::query(concat!(
                    "SELECT ",
                    $crate::sql_store::job_cols!(),
                    " FROM jobs WHERE ($1 IS NULL OR status = $1) ORDER BY id DESC LIMIT $2"
                ))
                .bind(status.map(|s| s.as_str()))
                .bind(limit(lim))
                .fetch_all(&self.pool)
                .await?;
                all(rows, job_row)
            }

            async fn reset_records(&self) -> StoreResult<u64> {
                let mut tx = self.pool.begin().await?;
                // Foreign keys cascade: calls take their turns and actions, customers their
                // vehicles, appointments, service history and reminders.
                for table in ["messages", "jobs", "call_logs", "sms_opt_outs", "sms_threads"] {
                    sqlx::query(&format!("DELETE FROM {table}"))
                        .execute(&mut *tx)
                        .await?;
                }
                let customers = sqlx::query("DELETE FROM customers")
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                tx.commit().await?;
                Ok(customers)
            }

            async fn import_customers(&self, rows: &[NewCustomer]) -> StoreResult<Vec<Id>> {
                let mut tx = self.pool.begin().await?;
                let mut ids = Vec::with_capacity(rows.len());
                for c in rows {
                    let row = insert_customer(&mut tx, c).await.map_err(|e| {
                        conflict_as(e, "two customers share a phone number")
                    })?;
                    ids.push(row.try_get("id")?);
                }
                tx.commit().await?;
                Ok(ids)
            }

            async fn import_vehicles(&self, rows: &[NewVehicle]) -> StoreResult<Vec<Id>> {
                let mut tx = self.pool.begin().await?;
                let mut ids = Vec::with_capacity(rows.len());
                for v in rows {
                    let row = insert_vehicle(&mut tx, v)
                        .await
                        .map_err(|e| conflict_as(e, "two vehicles share a VIN"))?;
                    ids.push(row.try_get("id")?);
                }
                tx.commit().await?;
                Ok(ids)
            }

            async fn import_appointments(&self, rows: &[ImportedAppointment]) -> StoreResult<u64> {
                let now = DbTime(now_ms());
                let mut tx = self.pool.begin().await?;
                let mut n = 0;
                for chunk in rows.chunks(IMPORT_CHUNK) {
                    let mut bays = Vec::with_capacity(chunk.len());
                    for r in chunk {
                        bays.push(i32_of(r.bay, "bay")?);
                    }
                    let mut q = QueryBuilder::<$db>::new(
                        "INSERT INTO appointments (customer_id, vehicle_id, service, starts_at, \
                         ends_at, bay, status, notes, source, created_at, updated_at) ",
                    );
                    q.push_values(chunk.iter().zip(bays), |mut b, (r, bay)| {
                        let a = &r.appointment;
                        b.push_bind(a.customer_id)
                            .push_bind(a.vehicle_id)
                            .push_bind(a.service.clone())
                            .push_bind(DbTime(a.start))
                            .push_bind(DbTime(a.end))
                            .push_bind(bay)
                            .push_bind(r.status.as_str())
                            .push_bind(a.notes.clone())
                            .push_bind(a.source.as_str())
                            .push_bind(now)
                            .push_bind(now);
                    });
                    n += q.build().execute(&mut *tx).await?.rows_affected();
                }
                tx.commit().await?;
                Ok(n)
            }

            async fn import_service_records(&self, rows: &[NewServiceRecord]) -> StoreResult<u64> {
                let mut tx = self.pool.begin().await?;
                let mut n = 0;
                for chunk in rows.chunks(IMPORT_CHUNK) {
                    let mut q = QueryBuilder::<$db>::new(
                        "INSERT INTO service_history (vehicle_id, service_date, mileage, work, \
                         cost_cents) ",
                    );
                    q.push_values(chunk, |mut b, r| {
                        b.push_bind(r.vehicle_id)
                            .push_bind(r.date)
                            .push_bind(r.mileage.map(i64::from))
                            .push_bind(r.work.clone())
                            .push_bind(r.cost_cents);
                    });
                    n += q.build().execute(&mut *tx).await?.rows_affected();
                }
                tx.commit().await?;
                Ok(n)
            }
        }
    };
}

pub(crate) use {
    active, appointment_cols, call_cols, customer_cols, history_cols, impl_sql_store, job_cols,
    message_cols, turn_cols, vehicle_cols,
};
