//! The shop's Google Calendar (issue #12, `shared/protocols/google-calendar.md`), wired into
//! Otto from the `calendar` section of the configuration.
//!
//! - Busy time: [`attach`] gives the [`Shop`] a [`GoogleBusy`] (freeBusy over
//!   `calendar.busy_calendars`, cached, under a deadline) that closes the shop or takes one
//!   bay per busy block (`calendar.busy_takes`), and switches the store's calendar outbox on.
//!   Every place that builds the shop (`otto serve`, `otto worker`, the CLI) goes through
//!   `commands::open_shop`, which calls it.
//! - Events: [`sync`], the `calendar.sync` job handler that creates, moves or deletes an
//!   appointment's event from the outbox the store fills in the booking transactions.
//! - Drift: [`reconcile`], the periodic `events.list` sync that reports events moved by hand.
//!
//! Otto's events are `transparent`, so freeBusy reports only the time the shop blocked by
//! other means and a booking is never counted twice (once as an appointment, once as busy).

pub mod reconcile;
pub mod sync;

use std::sync::Arc;

use anyhow::Context;
use otto_providers::google::{GoogleBusy, GoogleCalendarClient, GoogleCalendarConfig, TokenSource};
use otto_shop::Shop;
use secrecy::SecretString;

/// A Calendar API client for `config` (its own token cache).
///
/// # Errors
/// Missing credentials (`validate` was not run) or an HTTP client that cannot be built.
pub fn client(config: &GoogleCalendarConfig) -> anyhow::Result<GoogleCalendarClient> {
    let secret = config
        .client_secret
        .clone()
        .context("calendar.client_secret is required")?;
    let refresh: SecretString = config
        .refresh_token
        .clone()
        .context("calendar.refresh_token is required (run `otto calendar connect`)")?;
    let tokens = TokenSource::new(
        &config.token_url,
        &config.client_id,
        secret,
        refresh,
        config.request_timeout_ms,
    )?;
    Ok(GoogleCalendarClient::new(
        &config.api_base_url,
        Arc::new(tokens),
        config.request_timeout_ms,
    )?)
}

/// `shop` with the calendar of `config` attached and the store's calendar outbox on; `shop`
/// unchanged when there is no `calendar` section.
///
/// # Errors
/// As [`client`].
pub fn attach(config: Option<&GoogleCalendarConfig>, shop: Shop) -> anyhow::Result<Shop> {
    let Some(config) = config else {
        return Ok(shop);
    };
    let busy = GoogleBusy::new(
        client(config)?,
        config.busy_calendar_ids(),
        config.busy_cache_secs,
        config.busy_deadline_ms,
    );
    shop.store().set_calendar_outbox(true);
    Ok(shop.with_calendar(Arc::new(busy), config.busy_takes))
}
