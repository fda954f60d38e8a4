//! The [`Store`] trait: every read and write Otto makes on the shop's records, and [`connect`],
//! which picks the backend from the database URL and runs the migrations.
//!
//! Two implementations share one body of SQL (see `sql_store`): [`crate::sqlite::SqliteStore`]
//! (the embedded default) and [`crate::postgres::PgStore`]. Callers hold an `Arc<dyn Store>`
//! and never learn which one they have.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use otto_core::domain::{PhoneNumber, Vin};
use otto_core::records::{
    Appointment, AppointmentStatus, CallLog, CallTurn, Customer, Id, Job, JobStatus, Message,
    NewCustomer, NewVehicle, ServiceRecord, Vehicle,
};

use crate::calendar::CalendarStore;
use crate::error::StoreError;
use crate::inputs::{
    CallEnd, CallQuery, CallRecord, ImportedAppointment, NewAppointment, NewCall, NewJob,
    NewMessage, NewServiceRecord, NewToolAction, NewTurn,
};
use crate::reminders::ReminderStore;
use crate::staff::StaffStore;

/// Shorthand for store results.
pub type StoreResult<T> = Result<T, StoreError>;

/// The shop's records, persisted. All instants are UTC; intervals are half-open `[start, end)`.
///
/// Lookups by id return `Ok(None)` when nothing matches; updates of a missing id return
/// [`StoreError::NotFound`]. Every method may also fail with [`StoreError::Database`]
/// (connection lost, pool timeout after 5 s) or [`StoreError::Corrupt`] (a stored value no
/// longer parses).
#[async_trait]
pub trait Store:
    StaffStore + ReminderStore + CalendarStore + Send + Sync + std::fmt::Debug
{
    /// Which backend this is: "sqlite" or "postgres".
    fn backend(&self) -> &'static str;

    /// Writes a consistent copy of the whole database to the file `path` while it stays in
    /// use (SQLite's `VACUUM INTO`); the file must not exist yet. Restore by stopping Otto and
    /// putting the copy in the database file's place. [`StoreError::Rejected`] on PostgreSQL
    /// (use `pg_dump`) or when `path` exists.
    async fn backup_to(&self, path: &std::path::Path) -> StoreResult<()>;

    /// Applies the migrations not yet applied (`migrations/sqlite` or `migrations/postgres`).
    /// [`connect`] already does this; exposed for `otto db migrate`.
    async fn migrate(&self) -> StoreResult<()>;

    // ----- customers -----

    /// The customer with this id.
    async fn customer(&self, id: Id) -> StoreResult<Option<Customer>>;
    /// The customer with this phone number (exact E.164 match; unique).
    async fn customer_by_phone(&self, phone: &PhoneNumber) -> StoreResult<Option<Customer>>;
    /// Customers whose name contains `text` (case-insensitive), or, when `text` holds at least
    /// 3 digits, whose phone number contains those digits, or, when `text` is at least 4
    /// letters and digits, one of whose vehicles' VIN contains it (case-insensitive); ordered
    /// by name, at most `limit` (capped at 10,000). Blank `text` finds nobody.
    async fn search_customers(&self, text: &str, limit: u32) -> StoreResult<Vec<Customer>>;
    /// Number of customers.
    async fn count_customers(&self) -> StoreResult<u64>;
    /// Creates a customer. [`StoreError::Conflict`] when the phone number is taken;
    /// [`StoreError::Rejected`] for an empty name.
    async fn create_customer(&self, new: &NewCustomer) -> StoreResult<Customer>;
    /// Replaces a customer's fields (id and `created_at` stay). [`StoreError::NotFound`],
    /// [`StoreError::Conflict`] when the new phone number belongs to another customer.
    async fn update_customer(&self, id: Id, fields: &NewCustomer) -> StoreResult<Customer>;

    // ----- vehicles -----

    /// The vehicle with this id.
    async fn vehicle(&self, id: Id) -> StoreResult<Option<Vehicle>>;
    /// A customer's vehicles, oldest record first.
    async fn vehicles_of(&self, customer_id: Id) -> StoreResult<Vec<Vehicle>>;
    /// Adds a vehicle. [`StoreError::Conflict`] when the VIN is already registered;
    /// [`StoreError::Rejected`] for a year outside 1900..=2100 or an unknown customer.
    async fn add_vehicle(&self, new: &NewVehicle) -> StoreResult<Vehicle>;
    /// Records the VIN of a vehicle that has none yet (a VIN read out after the vehicle was
    /// added). [`StoreError::NotFound`] when no such vehicle lacks a VIN;
    /// [`StoreError::Conflict`] when the VIN is already registered.
    async fn set_vehicle_vin(&self, id: Id, vin: &Vin) -> StoreResult<Vehicle>;

    // ----- appointments -----

    /// The appointment with this id.
    async fn appointment(&self, id: Id) -> StoreResult<Option<Appointment>>;
    /// A customer's appointments (any status) starting at or after `from`, by start.
    async fn appointments_of(
        &self,
        customer_id: Id,
        from: DateTime<Utc>,
    ) -> StoreResult<Vec<Appointment>>;
    /// Active (scheduled or confirmed) appointments overlapping `[start, end)`, by start.
    async fn active_appointments_between(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> StoreResult<Vec<Appointment>>;
    /// Atomically picks the lowest bay in `1..=bays` that no active appointment occupies during
    /// `[new.start, new.end)` and inserts the appointment there as `scheduled`.
    ///
    /// Never double-books, even when many callers race: SQLite takes the write lock first
    /// (`BEGIN IMMEDIATE`), PostgreSQL a transaction-scoped advisory lock.
    /// [`StoreError::SlotTaken`] when no bay is free; [`StoreError::Rejected`] when `end` is
    /// not after `start` or the customer or vehicle does not exist.
    async fn book(&self, new: &NewAppointment, bays: u32) -> StoreResult<Appointment>;
    /// Moves an active appointment to `[start, end)` by the same path as [`Store::book`]
    /// (ignoring the appointment itself when looking for a free bay; it may change bay).
    /// [`StoreError::NotFound`], [`StoreError::NotActive`], [`StoreError::SlotTaken`].
    async fn reschedule(
        &self,
        id: Id,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        bays: u32,
    ) -> StoreResult<Appointment>;
    /// Sets the status of an active appointment (confirm, cancel, complete, no-show). An
    /// appointment that is no longer active never changes again, so a cancelled slot cannot
    /// be revived past the capacity check: [`StoreError::NotActive`]; [`StoreError::NotFound`].
    async fn set_appointment_status(
        &self,
        id: Id,
        status: AppointmentStatus,
    ) -> StoreResult<Appointment>;
    /// Switches the calendar outbox on or off for this store and its clones (off when
    /// opened): while on, [`Store::book`], [`Store::reschedule`] and a cancellation by
    /// [`Store::set_appointment_status`] enqueue a `calendar.sync` job
    /// (`otto_core::records::CALENDAR_SYNC_JOB`, payload the appointment id, dedup key
    /// [`crate::calendar_sync_key`]) in the same transaction as the change.
    fn set_calendar_outbox(&self, on: bool);
    /// Records the id of the mirrored calendar event. [`StoreError::NotFound`].
    async fn set_calendar_event_id(&self, id: Id, event_id: Option<&str>) -> StoreResult<()>;

    // ----- service history -----

    /// A vehicle's service history, newest first.
    async fn service_history(&self, vehicle_id: Id) -> StoreResult<Vec<ServiceRecord>>;
    /// Adds a service record. [`StoreError::Rejected`] for a negative cost or unknown vehicle.
    async fn add_service_record(&self, new: &NewServiceRecord) -> StoreResult<ServiceRecord>;

    // ----- calls -----

    /// Records the start of a call. Idempotent by `call_sid`: a repeated start returns the
    /// call already stored, unchanged.
    async fn start_call(&self, new: &NewCall) -> StoreResult<CallLog>;
    /// Appends a finished turn to a call; committed before returning. Turns may arrive after
    /// the call ended. Without `turn.seq` the store assigns the next `seq` (0, 1, …), and
    /// concurrent appends to one call get distinct, consecutive ones. With `turn.seq` that
    /// place is used: writing a seq already stored returns the stored turn unchanged (a retried
    /// write), and later store-numbered turns come after the highest. [`StoreError::NotFound`]
    /// for an unknown call.
    async fn append_turn(&self, call_id: Id, turn: &NewTurn) -> StoreResult<CallTurn>;
    /// Records the end of a call. Safe to repeat and out of order: the first `ended_at` wins,
    /// the duration is `ended_at - started_at` in whole seconds (0 if `ended_at` is earlier),
    /// and `None` fields keep what is stored. [`StoreError::NotFound`] for an unknown SID.
    async fn end_call(&self, call_sid: &str, end: &CallEnd) -> StoreResult<CallLog>;
    /// Records what a call has done so far, so a crash before its end loses nothing: outcome
    /// and summary replaced and the customer set, each when given (also on a call already
    /// ended, e.g. one closed for want of a stream that then came). [`StoreError::NotFound`]
    /// for an unknown call.
    async fn note_call(
        &self,
        call_id: Id,
        outcome: Option<&str>,
        summary: Option<&str>,
        customer_id: Option<Id>,
    ) -> StoreResult<()>;
    /// The call with this SID.
    async fn call_by_sid(&self, call_sid: &str) -> StoreResult<Option<CallLog>>;
    /// Deletes what callers said before `cutoff` (PII retention): the turns and tool actions of
    /// calls started before it, and those calls' summaries. The calls themselves (time, numbers,
    /// duration, outcome) stay. Returns the number of turns deleted.
    async fn forget_transcripts_before(&self, cutoff: DateTime<Utc>) -> StoreResult<u64>;
    /// Calls matching `query`, newest first.
    async fn calls(&self, query: &CallQuery) -> StoreResult<Vec<CallLog>>;
    /// A call with its turns in order and its tool actions by time.
    async fn call_with_turns(&self, call_id: Id) -> StoreResult<Option<CallRecord>>;
    /// Records something a tool did on a call; the detail is cut to 2,000 characters.
    /// [`StoreError::Rejected`] for an unknown call or a tool name outside 1..=64 characters.
    async fn record_tool_action(&self, action: &NewToolAction) -> StoreResult<()>;
    /// Otto's turns spoken in `[since, until)`, oldest first, at most `limit` (capped at
    /// 10,000); for latency and barge-in figures.
    async fn agent_turns_between(
        &self,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<CallTurn>>;

    // ----- messages for the staff -----

    /// Records a message. [`StoreError::Rejected`] for an empty body or one over 2,000
    /// characters, or an unknown call or customer.
    async fn create_message(&self, new: &NewMessage) -> StoreResult<Message>;
    /// Messages, newest first, at most `limit` (capped at 10,000); only those not yet handled
    /// when `unhandled_only`.
    async fn messages(&self, unhandled_only: bool, limit: u32) -> StoreResult<Vec<Message>>;
    /// Marks a message handled by `by` at `at` (the first marking wins).
    /// [`StoreError::NotFound`].
    async fn mark_message_handled(
        &self,
        id: Id,
        by: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<Message>;

    // ----- background jobs (otto-jobs) -----

    /// Enqueues a job. With a `dedup_key` already stored, nothing is added and the stored job
    /// is returned. [`StoreError::Rejected`] for an empty or over-long kind or 0 attempts.
    async fn enqueue_job(&self, new: &NewJob) -> StoreResult<Job>;
    /// Claims up to `limit` jobs for worker `owner`: pending jobs due at `now` and running
    /// jobs whose lease ran out, oldest `run_at` first. Each becomes `running`, leased to
    /// `owner` until `now + lease`, with one more attempt counted. Concurrent workers never
    /// claim the same job: PostgreSQL skips rows another transaction has locked
    /// (`FOR UPDATE SKIP LOCKED`), SQLite takes the write lock first (`BEGIN IMMEDIATE`).
    /// Returned oldest `run_at` first; `limit` is capped at 10,000. [`StoreError::Rejected`]
    /// when `now + lease` is out of range.
    async fn claim_jobs(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease: std::time::Duration,
        limit: u32,
    ) -> StoreResult<Vec<Job>>;
    /// Marks a job `owner` holds done and releases its lease. [`StoreError::LeaseLost`] when
    /// `owner` no longer holds it: another worker claimed it after the lease ran out, it was
    /// already finished, or there is no such job; nothing changes then. A lease that ran out
    /// but was not claimed again still counts as held.
    async fn complete_job(&self, id: Id, owner: &str) -> StoreResult<Job>;
    /// Puts a job `owner` holds back to `pending`, to run at `run_at`, recording `error`.
    /// [`StoreError::LeaseLost`] as for [`Store::complete_job`].
    async fn retry_job(
        &self,
        id: Id,
        owner: &str,
        run_at: DateTime<Utc>,
        error: &str,
    ) -> StoreResult<Job>;
    /// Gives up on a job `owner` holds (`dead`), recording `error`. [`StoreError::LeaseLost`]
    /// as for [`Store::complete_job`].
    async fn bury_job(&self, id: Id, owner: &str, error: &str) -> StoreResult<Job>;
    /// Jobs with `status` (any when `None`), newest first, at most `limit` (capped at 10,000).
    async fn jobs(&self, status: Option<JobStatus>, limit: u32) -> StoreResult<Vec<Job>>;

    // ----- bulk import (demo seed, benchmark) -----

    /// Deletes every shop record in one transaction: customers with their vehicles,
    /// appointments, service history and reminders; calls with their turns and tool actions;
    /// messages and jobs. Staff accounts, their sessions and the audit log stay. For
    /// `otto db seed --demo --reset`; returns the number of customers deleted.
    async fn reset_records(&self) -> StoreResult<u64>;

    /// Inserts customers in one transaction; returns their ids in input order. All or nothing.
    async fn import_customers(&self, rows: &[NewCustomer]) -> StoreResult<Vec<Id>>;
    /// Inserts vehicles in one transaction; returns their ids in input order. All or nothing.
    async fn import_vehicles(&self, rows: &[NewVehicle]) -> StoreResult<Vec<Id>>;
    /// Inserts appointments with their bay and status as given, in one transaction, without the
    /// capacity check of [`Store::book`]; for data known to respect the shop's rules.
    async fn import_appointments(&self, rows: &[ImportedAppointment]) -> StoreResult<u64>;
    /// Inserts service records in one transaction.
    async fn import_service_records(&self, rows: &[NewServiceRecord]) -> StoreResult<u64>;
}

/// Opens the store named by `url` and applies pending migrations.
///
/// - `sqlite:<path>` or `sqlite://<path>`: a file database, created on first start, WAL
///   journal, foreign keys on, 5 s busy timeout, up to 8 connections.
/// - `sqlite::memory:`: a private in-memory database (one connection; gone when dropped).
/// - `postgres://…` or `postgresql://…`: PostgreSQL, up to 10 connections, 5 s statement
///   timeout.
///
/// # Errors
/// [`StoreError::UnsupportedUrl`] for any other scheme, [`StoreError::Database`] when the
/// database cannot be opened, [`StoreError::Migrate`] when a migration fails.
pub async fn connect(url: &str) -> StoreResult<Arc<dyn Store>> {
    let store: Arc<dyn Store> = if url.starts_with("sqlite:") {
        Arc::new(crate::sqlite::SqliteStore::open(url).await?)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Arc::new(crate::postgres::PgStore::open(url).await?)
    } else {
        return Err(StoreError::UnsupportedUrl);
    };
    store.migrate().await?;
    Ok(store)
}
