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
use otto_providers::google::token::ServiceAccountKey;
use otto_providers::google::{GoogleBusy, GoogleCalendarClient, GoogleCalendarConfig, TokenSource};
use otto_shop::Shop;
use otto_store::Store;
use otto_store::calendar::REFRESH_TOKEN;
use secrecy::SecretString;

/// A Calendar API client for `config` (its own token cache). The owner's refresh token is
/// `calendar.refresh_token` when set, else the one `otto calendar connect` stored in `store`.
///
/// # Errors
/// Missing credentials, an unreadable key file, the store failing, or an HTTP client that
/// cannot be built.
pub async fn client(
    config: &GoogleCalendarConfig,
    store: &dyn Store,
) -> anyhow::Result<GoogleCalendarClient> {
    let tokens = match &config.service_account_key_file {
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| {
                format!(
                    "cannot read calendar.service_account_key_file {}",
                    path.display()
                )
            })?;
            let key: ServiceAccountKey = serde_json::from_str(&text)
                .with_context(|| format!("{} is not a service account key file", path.display()))?;
            TokenSource::service_account(
                &config.token_url,
                &key,
                config.service_account_subject.clone(),
                config.request_timeout_ms,
            )?
        }
        None => refresh_tokens(config, store).await?,
    };
    Ok(GoogleCalendarClient::new(
        &config.api_base_url,
        Arc::new(tokens),
        config.request_timeout_ms,
    )?)
}

/// The refresh-token source of `config` (the owner's consent).
async fn refresh_tokens(
    config: &GoogleCalendarConfig,
    store: &dyn Store,
) -> anyhow::Result<TokenSource> {
    let secret = config
        .client_secret
        .clone()
        .context("calendar.client_secret is required")?;
    let refresh: SecretString = match &config.refresh_token {
        Some(token) => token.clone(),
        None => store
            .calendar_state(REFRESH_TOKEN)
            .await?
            .map(SecretString::from)
            .context(
                "the calendar is not connected: run `otto calendar connect` (or set \
                 calendar.refresh_token)",
            )?,
    };
    Ok(TokenSource::new(
        &config.token_url,
        &config.client_id,
        secret,
        refresh,
        config.request_timeout_ms,
    )?)
}

/// `shop` with the calendar of `config` attached and the store's calendar outbox on; `shop`
/// unchanged when there is no `calendar` section.
///
/// # Errors
/// As [`client`].
pub async fn attach(config: Option<&GoogleCalendarConfig>, shop: Shop) -> anyhow::Result<Shop> {
    let Some(config) = config else {
        return Ok(shop);
    };
    let busy = GoogleBusy::new(
        client(config, shop.store().as_ref()).await?,
        config.busy_calendar_ids(),
        config.busy_cache_secs,
        config.busy_deadline_ms,
    );
    shop.store().set_calendar_outbox(true);
    Ok(shop.with_calendar(Arc::new(busy), config.busy_takes))
}
