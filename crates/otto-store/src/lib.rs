//! Otto's store: the shop's records in SQLite (embedded default) or PostgreSQL (by URL).
//!
//! - [`store`]: the [`Store`] trait (every read and write) and [`connect`] (URL → backend,
//!   migrations applied).
//! - [`inputs`]: what callers supply to create records beyond `otto_core::records`.
//! - [`error`]: the store's error type, [`StoreError`].
//! - [`shop`]: [`Shop`], the booking façade (rules + store), and [`BookingError`].
//! - [`seed`]: the deterministic demo seed ([`seed::seed_demo`]).
//! - [`bench`](mod@bench): the store benchmark ([`bench::run`]) behind `otto bench store`.
//! - [`bays`]: the bay-assignment rule shared by booking and slot offers.
//! - [`sqlite`], [`postgres`]: the two backends; `sql_store` holds the SQL they share and
//!   `db_time` how instants are stored.
//!
//! Tests: `tests/story` runs one set of test functions on a fresh SQLite file database and,
//! when `OTTO_TEST_DATABASE_URL` is set (e.g. `postgres://postgres@127.0.0.1:5432/test`), on a
//! fresh PostgreSQL database per test (`otto_t_<random>`, dropped afterwards). The benchmark
//! runs with `cargo run -p otto-store --example store_bench -- [DATABASE_URL] [ITERATIONS]`.

pub mod bays;
pub mod bench;
mod db_time;
pub mod error;
pub mod inputs;
pub mod postgres;
pub mod seed;
pub mod shop;
mod sql_store;
pub mod sqlite;
pub mod store;

pub use error::StoreError;
pub use inputs::{
    CallEnd, CallRecord, ImportedAppointment, NewAppointment, NewCall, NewReminder,
    NewServiceRecord, NewTurn,
};
pub use shop::{BookingError, BookingRequest, Shop};
pub use store::{Store, StoreResult, connect};
