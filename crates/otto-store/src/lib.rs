//! Otto's store: the shop's records in SQLite (embedded default) or PostgreSQL (by URL).
//! Persistence only: the booking rules and the shop's services are `otto-shop`, above it.
//!
//! - [`store`]: the [`Store`] trait (every read and write) and [`connect`] (URL → backend,
//!   migrations applied).
//! - [`inputs`]: what callers supply to create records beyond `otto_core::records`.
//! - [`staff`]: the [`StaffStore`] trait (staff accounts, sessions, audit log), which every
//!   store also implements.
//! - [`reminders`]: the [`ReminderStore`] trait (confirmations and reminders with their send
//!   state, SMS opt-outs, SMS conversation state), which every store also implements.
//! - [`calendar`]: the [`CalendarStore`] trait (Google Calendar state that outlives a process,
//!   and the drift the reconcile found), which every store also implements.
//! - [`error`]: the store's error type, [`StoreError`].
//! - [`sqlite`], [`postgres`]: the two backends; `sql_store` holds the SQL they share and
//!   `db_time` how instants are stored.
//! - `testing` (feature `testing`): a fresh database per test, and the [`story!`] macro that
//!   runs one set of test functions on SQLite and on PostgreSQL.
//!
//! Tests: `tests/story` runs one set of test functions on a fresh SQLite file database and,
//! when `OTTO_TEST_DATABASE_URL` is set (e.g. `postgres://postgres@127.0.0.1:5432/test`), on a
//! fresh PostgreSQL database per test (`otto_t_<random>`, dropped afterwards).

pub mod calendar;
mod db_time;
pub mod error;
pub mod inputs;
pub mod postgres;
pub mod reminders;
mod sql_calendar;
mod sql_reminders;
mod sql_staff;
mod sql_store;
pub mod sqlite;
pub mod staff;
pub mod store;
#[cfg(feature = "testing")]
pub mod testing;

pub use calendar::{CalendarDrift, CalendarStore};
pub use error::StoreError;
pub use inputs::{
    CALENDAR_SYNC_ATTEMPTS, CallEnd, CallQuery, CallRecord, ImportedAppointment, NewAppointment,
    NewCall, NewJob, NewMessage, NewServiceRecord, NewToolAction, NewTurn, calendar_sync_key,
};
pub use reminders::{
    NewReminder, REMINDER_JOB_ATTEMPTS, ReminderChange, ReminderQuery, ReminderStore,
    reminder_job_key,
};
pub use staff::{NewAudit, NewStaff, StaffAccount, StaffSession, StaffStore};
pub use store::{Store, StoreResult, connect};
