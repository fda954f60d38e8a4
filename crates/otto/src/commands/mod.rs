//! The CLI commands. Each submodule runs one `otto` command against the shop: it opens the
//! store named by the configuration, calls the [`otto_shop::Shop`] façade, and prints plain
//! text for a person. Errors bubble up as `anyhow` errors with a message that says what to do.

pub mod appointments;
pub mod bench;
#[cfg(feature = "bench-calls")]
pub mod bench_calls;
pub mod bench_pages;
pub mod calendar;
pub mod call;
pub mod calls;
pub mod chat;
pub mod customers;
pub mod db;
pub mod demo;
pub mod doctor;
pub mod eval;
pub mod jobs;
pub mod messages;
pub mod reminders;
pub mod serve;
pub mod slots;
pub mod speech;
pub mod staff;

use std::sync::Arc;

use anyhow::{Context, bail};
use chrono::{DateTime, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use otto_core::records::Appointment;
use otto_shop::Shop;

use crate::config::Config;

/// Opens (creating and migrating if needed) the configured store and wraps it in the façade,
/// with the shop's calendar attached when `calendar` is configured ([`crate::calendar::attach`]).
///
/// # Errors
/// As [`open_store`], or the calendar's credentials are missing.
pub async fn open_shop(config: &Config) -> anyhow::Result<Shop> {
    let shop = Shop::new(open_store(config).await?, Arc::new(config.shop.clone()));
    crate::calendar::attach(config.calendar.as_ref(), shop).await
}

/// Opens (creating and migrating if needed) the configured store alone.
///
/// # Errors
/// The data directory cannot be created, or the database cannot be opened or migrated.
pub async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn otto_store::Store>> {
    let url = config.database_url();
    if let Some(path) = url.strip_prefix("sqlite://")
        && let Some(dir) = std::path::Path::new(path).parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the data directory {}", dir.display()))?;
    }
    otto_store::connect(&url).await.with_context(|| {
        format!(
            "cannot open the database {}",
            crate::config::redact_url_password(&url)
        )
    })
}

/// Raises this process's soft open-file limit to the hard limit: every live call holds a
/// media socket and up to two provider sockets, more than the common default of 1024 allows
/// at a few hundred calls. Child processes inherit the raised limit. Failure is logged, not
/// fatal (calls beyond the limit are then refused by the OS).
pub fn raise_open_file_limit() {
    if let Err(e) = rlimit::increase_nofile_limit(u64::MAX) {
        tracing::warn!(error = %e, "could not raise the open-file limit");
    }
}

/// Prints `records` as one pretty JSON document on stdout (instants in UTC, RFC 3339), the
/// `--json` output of the list commands.
///
/// # Errors
/// A record that cannot be serialised (none of Otto's can).
pub fn print_json(records: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(records)?);
    Ok(())
}

/// Today's date in the shop's time zone.
pub fn today(tz: Tz, now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&tz).date_naive()
}

/// Resolves a local shop time to an instant.
///
/// # Errors
/// A time that does not exist (skipped by a daylight-saving change) or is ambiguous (repeated
/// by one); the message says which.
pub fn local_to_utc(tz: Tz, local: NaiveDateTime) -> anyhow::Result<DateTime<Utc>> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => Ok(t.with_timezone(&Utc)),
        LocalResult::None => bail!("{local} does not exist in {tz} (a daylight-saving change)"),
        LocalResult::Ambiguous(..) => {
            bail!("{local} happens twice in {tz} (a daylight-saving change); pick another time")
        }
    }
}

/// One appointment as a line of text, in the shop's time zone.
pub fn appointment_line(shop: &Shop, a: &Appointment) -> String {
    let tz = shop.config().time_zone;
    let service = shop
        .config()
        .service(&a.service)
        .map_or(a.service.as_str(), |s| s.name.as_str());
    format!(
        "#{:<6} {}–{}  bay {}  {:<26} {:<10} customer #{}",
        a.id,
        a.start.with_timezone(&tz).format("%a %Y-%m-%d %H:%M"),
        a.end.with_timezone(&tz).format("%H:%M"),
        a.bay,
        service,
        a.status,
        a.customer_id
    )
}
