//! `otto slots --service S [--date D] [--days N]`: free slots in the shop's time zone.

use chrono::{Duration, Utc};

use super::{open_shop, today};
use crate::cli::SlotsArgs;
use crate::config::Config;

/// Prints the free slots per day.
///
/// # Errors
/// An unknown service (the message lists the catalog) or a store error.
pub async fn run(config: &Config, args: SlotsArgs) -> anyhow::Result<()> {
    let shop = open_shop(config).await?;
    let service = shop.service(&args.service).map_err(|e| {
        let names: Vec<&str> = shop
            .config()
            .services
            .iter()
            .map(|s| s.name.as_str())
            .collect();
        anyhow::anyhow!("{e}; services: {}", names.join(", "))
    })?;
    let now = Utc::now();
    let tz = shop.config().time_zone;
    let from = args.date.unwrap_or_else(|| today(tz, now));
    let to = from + Duration::days(i64::from(args.days) - 1);
    let slots = shop.free_slots(&service.id, from, to, now).await?;
    println!(
        "{} ({} min) at {}, {} to {}:",
        service.name,
        service.duration_minutes,
        shop.config().name,
        from,
        to
    );
    print!("{}", render(&shop, &slots));
    Ok(())
}

/// Slots grouped by local day, one line per day.
pub fn render(shop: &otto_shop::Shop, slots: &[otto_core::scheduling::Slot]) -> String {
    let tz = shop.config().time_zone;
    let mut out = String::new();
    let mut current = None;
    for s in slots {
        let local = s.start.with_timezone(&tz);
        let day = local.date_naive();
        if current != Some(day) {
            if current.is_some() {
                out.push('\n');
            }
            out.push_str(&format!("  {}:", local.format("%a %Y-%m-%d")));
            current = Some(day);
        }
        out.push_str(&format!(" {}", local.format("%H:%M")));
    }
    if slots.is_empty() {
        out.push_str("  no free slots\n");
    } else {
        out.push('\n');
    }
    out
}
