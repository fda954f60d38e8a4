//! How the dashboard shows values: instants in the shop's time zone, durations, services,
//! vehicles. Plain functions over records; no I/O.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use otto_core::records::{Appointment, Vehicle};
use otto_core::shop::ShopConfig;

/// "Tue Dec 8, 9:00 AM" in `tz`.
pub fn date_time(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz)
        .format("%a %b %-d, %-I:%M %p")
        .to_string()
}

/// "9:00 AM" in `tz`.
pub fn time(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%-I:%M %p").to_string()
}

/// "Tue Dec 8" for a date.
pub fn date(d: NaiveDate) -> String {
    d.format("%a %b %-d").to_string()
}

/// "3 min 5 s" for a duration in seconds; "–" when unknown.
pub fn duration(secs: Option<u32>) -> String {
    match secs {
        None => "–".into(),
        Some(s) if s < 60 => format!("{s} s"),
        Some(s) => format!("{} min {} s", s / 60, s % 60),
    }
}

/// The service's name from the catalog, or its stored id.
pub fn service(shop: &ShopConfig, id: &str) -> String {
    shop.service(id)
        .map_or_else(|| id.to_string(), |s| s.name.clone())
}

/// "2019 Honda Civic".
pub fn vehicle(v: &Vehicle) -> String {
    format!("{} {} {}", v.year, v.make, v.model)
}

/// The instant `local` (a shop-local wall time on `day`) in UTC; the earlier instant when a DST
/// change makes it ambiguous, `None` when it does not exist.
pub fn local_instant(day: NaiveDate, hour: u32, minute: u32, tz: Tz) -> Option<DateTime<Utc>> {
    let naive = day.and_hms_opt(hour, minute, 0)?;
    tz.from_local_datetime(&naive)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

/// Midnight starting `day` in `tz`, as UTC (the first instant of the day).
pub fn day_start(day: NaiveDate, tz: Tz) -> DateTime<Utc> {
    (0..3)
        .find_map(|h| local_instant(day, h, 0, tz))
        .unwrap_or_else(|| day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
}

/// Whether an appointment still holds a bay (scheduled or confirmed).
pub fn active(a: &Appointment) -> bool {
    a.status.is_active()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_times_follow_the_zone_and_dst() {
        let tz: Tz = "America/New_York".parse().unwrap();
        let d = NaiveDate::from_ymd_opt(2026, 3, 8).unwrap();
        // 2:30 AM does not exist on the spring-forward day.
        assert_eq!(local_instant(d, 2, 30, tz), None);
        assert_eq!(
            local_instant(d, 9, 0, tz).unwrap().to_rfc3339(),
            "2026-03-08T13:00:00+00:00"
        );
        assert_eq!(day_start(d, tz).to_rfc3339(), "2026-03-08T05:00:00+00:00");
        assert_eq!(duration(Some(185)), "3 min 5 s");
        assert_eq!(duration(None), "–");
    }
}
