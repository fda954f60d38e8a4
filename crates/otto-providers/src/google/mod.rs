//! Google Calendar (`shared/protocols/google-calendar.md`): OAuth 2.0 access tokens and the
//! Calendar API v3 calls Otto makes.
//!
//! - [`config`]: [`GoogleCalendarConfig`], the `calendar` section of Otto's configuration.
//! - [`token`]: [`TokenSource`], access tokens from the refresh-token grant (§1.1), cached
//!   until 60 s before expiry, and the authorisation state `/ready` reports.
//! - [`api`]: [`GoogleCalendarClient`]: `freeBusy.query` (§3), `events.insert` with a
//!   client-supplied id (§4.2–4.3), `events.get`, `events.patch` with `If-Match` (§4.4),
//!   `events.delete` (§4.5) and `events.list` paging and incremental sync (§4.6); Google's
//!   error JSON (§5) mapped to [`crate::ProviderError`] with Google's retry policy.
//! - [`wire`]: the JSON shapes (events, freeBusy), unknown fields ignored.
//! - [`busy`]: [`GoogleBusy`], the shop's [`otto_core::calendar::Calendar`]: freeBusy cached
//!   briefly and answered under a deadline.
//!
//! Base URLs come from configuration, so tests point the same code at `otto_fakes::google`.
//! Secrets (client secret, refresh token, access tokens) are [`secrecy::SecretString`]s and
//! never logged.

pub mod api;
pub mod busy;
pub mod config;
pub mod token;
pub mod wire;

pub use api::{APPOINTMENT_KEY, GoogleCalendarClient, SyncPage, event_id_for};
pub use busy::{GoogleBusy, invalidate_all};
pub use config::GoogleCalendarConfig;
pub use token::{AuthState, TokenSource};

/// The vendor name in [`crate::ProviderError`]s of this module.
pub(crate) const VENDOR: &str = "google";
