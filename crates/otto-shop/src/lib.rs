//! Otto's shop services: the application layer between the channels (phone, chat, CLI,
//! dashboard) and the store. Everything that books, moves or cancels an appointment, or offers
//! a slot, goes through [`Shop`], so the same rules hold whichever channel asks.
//!
//! - [`shop`]: [`Shop`], the booking service (rules + store + the shop's calendar), and
//!   [`BookingError`].
//! - [`calls`]: [`CallRecorder`], the call log's one writer (voice, chat, status callbacks).
//! - [`clock`]: [`Clock`], where "now" comes from.
//! - [`seed`]: the deterministic demo seed ([`seed::seed_demo`]).
//! - [`bench`](mod@bench): the store benchmark ([`bench::run`]) behind `otto bench store`.
//!
//! Layering: this crate depends on `otto-core` (rules, records, and the [`Calendar`] and
//! [`Notifier`] interfaces) and `otto-store` (persistence). Vendor clients implement those
//! interfaces without depending on this crate; tests replace them with local fakes.
//!
//! Tests: `tests/story` runs on a fresh SQLite database and, when `OTTO_TEST_DATABASE_URL` is
//! set, on a fresh PostgreSQL database (`otto_store::testing`). The benchmark runs with
//! `cargo run -p otto-shop --example store_bench -- [DATABASE_URL] [ITERATIONS]`.
//!
//! [`Calendar`]: otto_core::calendar::Calendar
//! [`Notifier`]: otto_core::notify::Notifier

pub mod bench;
pub mod calls;
pub mod clock;
pub mod seed;
pub mod shop;

pub use calls::{CallLog, CallOutcome, CallRecorder};
pub use clock::{Clock, FixedClock, SystemClock};
pub use shop::{BookingError, BookingRequest, Shop};
