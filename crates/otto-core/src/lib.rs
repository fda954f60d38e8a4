//! Otto's pure core: the shop's domain types, its records and its booking rules.
//!
//! Nothing here performs I/O, reads the clock or spawns tasks: callers pass `now` and the data
//! the rules need, and get the same answer for the same inputs. The I/O shell (store, HTTP,
//! providers, CLI) lives in other crates and depends on this one, never the reverse; the
//! interfaces it implements for the core's users (speech, calendar, notifications) are traits
//! defined here.
//!
//! - [`breaker`]: a circuit breaker for vendors, with explicit time.
//! - [`calendar`], [`notify`]: the interfaces of the shop's calendar and of customer
//!   notifications, implemented by the vendor clients.
//! - [`domain`]: newtypes that parse, not validate: [`domain::PhoneNumber`] (E.164),
//!   [`domain::Email`], [`domain::Vin`] (ISO 3779 / 49 CFR 565), [`domain::UsState`].
//! - [`shop`]: the shop's configuration: hours, lunch, holidays, bays, lead time, service catalog.
//! - [`engine`]: the sans-IO call engine: turn-taking, barge-in, playback marks, silence.
//! - [`numbers`]: English number words (cardinals, ordinals) shared by every parser.
//! - [`privacy`]: masking of phone numbers, names and transcripts in logs.
//! - [`records`]: the shop's records as plain data (customers, vehicles, appointments, …).
//! - [`scheduling`]: free slots and the rules a booking must satisfy.
//! - [`speech`]: speech events, the STT/TTS interfaces every engine implements, their error
//!   type, the G.711 μ-law codec and 20 ms framing.
//! - [`stats`]: nearest-rank latency percentiles for the benchmarks.

pub mod breaker;
pub mod calendar;
pub mod domain;
pub mod engine;
pub mod notify;
pub mod numbers;
pub mod privacy;
pub mod records;
pub mod scheduling;
pub mod shop;
pub mod speech;
pub mod stats;
