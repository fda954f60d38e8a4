//! `otto messages list [--all] [--json]`: the messages callers left for the staff.

use super::open_shop;
use crate::config::Config;

/// Prints messages newest first: when, from whom (number and name), the words, and whether
/// someone handled it; or, with `json`, one JSON array of the records (instants in UTC,
/// RFC 3339). Only those not yet handled unless `all`.
///
/// # Errors
/// The database cannot be opened or read.
pub async fn list(config: &Config, all: bool, limit: u32, json: bool) -> anyhow::Result<()> {
    let shop = open_shop(config).await?;
    let tz = shop.config().time_zone;
    let messages = shop.store().messages(!all, limit).await?;
    if json {
        super::print_json(&messages)?;
        return Ok(());
    }
    if messages.is_empty() {
        println!(
            "{}",
            if all {
                "no messages"
            } else {
                "no messages waiting"
            }
        );
    }
    for m in messages {
        let from = match &m.caller_name {
            Some(name) => format!("{name} ({})", m.from_phone),
            None => m.from_phone.clone(),
        };
        let handled = match (&m.handled_at, &m.handled_by) {
            (Some(at), by) => format!(
                "  [handled {}{}]",
                at.with_timezone(&tz).format("%a %b %-d %H:%M"),
                by.as_ref().map(|b| format!(" by {b}")).unwrap_or_default()
            ),
            (None, _) => String::new(),
        };
        println!(
            "{:>5}  {}  {from}: {}{handled}",
            m.id,
            m.created_at.with_timezone(&tz).format("%a %b %-d %H:%M"),
            m.body
        );
    }
    Ok(())
}
