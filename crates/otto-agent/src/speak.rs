//! How Otto says things aloud: dates and times ("Tuesday, March 11 at 2:00 PM"), money
//! ("$49 to $89"), records ("2019 Honda Civic", "an oil change on …"), lists ("a, b or c"),
//! and the shop's facts (opening hours with lunch and holidays, price ranges).

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use otto_core::records::{Appointment, Vehicle};
use otto_core::shop::{ServiceDef, ShopConfig};

use crate::tools::SlotView;

/// "Tuesday, March 11 at 2:00 PM" for `at` in zone `tz`.
pub fn date_time(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz)
        .format("%A, %B %-d at %-I:%M %p")
        .to_string()
}

/// "2:00 PM" for `at` in zone `tz`.
pub fn time(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz).format("%-I:%M %p").to_string()
}

/// Whole dollars from US cents: 4900 → "$49", 4950 → "$49.50".
pub fn dollars(cents: u32) -> String {
    if cents.is_multiple_of(100) {
        format!("${}", cents / 100)
    } else {
        format!("${}.{:02}", cents / 100, cents % 100)
    }
}

/// "2019 Honda Civic".
pub fn vehicle(v: &Vehicle) -> String {
    format!("{} {} {}", v.year, v.make, v.model)
}

/// A VIN read out character by character: "1 H G C M, 8 2 6 3 3, A 0 0 4 3 5 2".
pub fn vin(vin: &str) -> String {
    let chars: Vec<String> = vin.chars().map(String::from).collect();
    chars
        .chunks(5)
        .map(|c| c.join(" "))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The catalog name of service `id` (the id itself when it left the catalog).
pub fn service_name(shop: &ShopConfig, id: &str) -> String {
    shop.service(id)
        .map_or_else(|| id.to_string(), |s| s.name.clone())
}

/// "oil change for the 2019 Honda Civic on Tuesday, March 11 at 2:00 PM" in the shop's time
/// zone; the vehicle when it is among `vehicles`.
pub fn describe(shop: &ShopConfig, a: &Appointment, vehicles: &[Vehicle]) -> String {
    let vehicle = a
        .vehicle_id
        .and_then(|id| vehicles.iter().find(|v| v.id == id))
        .map(|v| format!(" for the {}", vehicle(v)))
        .unwrap_or_default();
    format!(
        "{}{vehicle} on {}",
        service_name(shop, &a.service),
        date_time(a.start, shop.time_zone)
    )
}

/// "an oil change for the 2019 Honda Civic on … and a brake service on …" (vehicles as in
/// [`describe`]).
pub fn list_appointments(shop: &ShopConfig, list: &[Appointment], vehicles: &[Vehicle]) -> String {
    let items: Vec<String> = list
        .iter()
        .map(|a| {
            format!(
                "{}{}",
                a_or_an(&service_name(shop, &a.service)),
                describe(shop, a, vehicles)
            )
        })
        .collect();
    join_or(&items, "and")
}

/// "a " or "an " before `word`.
pub fn a_or_an(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an "
    } else {
        "a "
    }
}

/// The offered slots as a spoken list: "9:00 AM, 9:30 AM or 10:00 AM on Friday".
pub fn list_slots(slots: &[SlotView]) -> String {
    let items: Vec<String> = slots.iter().map(|s| s.spoken.clone()).collect();
    join_or(&items, "or")
}

/// "a, b or c" (with `last` = "or"), "a and b" (with "and").
pub fn join_or(items: &[String], last: &str) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., tail] => format!("{} {last} {tail}", rest.join(", ")),
    }
}

/// The first word of a name: "Jordan Smith" → "Jordan".
pub fn first_name(name: &str) -> &str {
    name.split_whitespace().next().unwrap_or(name)
}

/// The first three services of the catalog as examples: "oil change, tire rotation or …".
pub fn examples(shop: &ShopConfig) -> String {
    let names: Vec<String> = shop
        .services
        .iter()
        .take(3)
        .map(|s| s.name.clone())
        .collect();
    join_or(&names, "or")
}

/// The opening hours, the lunch break and holidays in the next 14 days from `today`, as one
/// spoken answer.
pub fn hours(shop: &ShopConfig, today: NaiveDate) -> String {
    use chrono::Weekday::*;
    let cfg = shop;
    let fmt = |t: NaiveTime| t.format("%-I:%M %p").to_string().replace(":00", "");
    let days = [Mon, Tue, Wed, Thu, Fri, Sat, Sun];
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < days.len() {
        let h = cfg.hours.on(days[i]);
        let mut j = i;
        while j + 1 < days.len() && cfg.hours.on(days[j + 1]) == h {
            j += 1;
        }
        let span = if i == j {
            day_name(days[i]).to_string()
        } else {
            format!("{} to {}", day_name(days[i]), day_name(days[j]))
        };
        parts.push(match h {
            Some(r) => format!("{span} {} to {}", fmt(r.open), fmt(r.close)),
            None => format!("closed {span}"),
        });
        i = j + 1;
    }
    let holiday = cfg
        .holidays
        .iter()
        .filter(|d| **d >= today && **d < today + Duration::days(14))
        .map(|d| format!(" We're also closed on {}.", d.format("%A, %B %-d")))
        .collect::<String>();
    let lunch = cfg
        .lunch
        .map(|l| {
            format!(
                " We close for lunch from {} to {}.",
                fmt(l.open),
                fmt(l.close)
            )
        })
        .unwrap_or_default();
    format!("We're open {}.{lunch}{holiday}", join_or(&parts, "and"))
}

/// "Monday" … "Sunday".
pub fn day_name(d: chrono::Weekday) -> &'static str {
    use chrono::Weekday::*;
    match d {
        Mon => "Monday",
        Tue => "Tuesday",
        Wed => "Wednesday",
        Thu => "Thursday",
        Fri => "Friday",
        Sat => "Saturday",
        Sun => "Sunday",
    }
}

/// The usual price range of `service`, or of every service when `None`.
pub fn prices(shop: &ShopConfig, service: Option<&ServiceDef>) -> String {
    match service {
        Some(s) => format!(
            "A {} usually runs {} to {}; the exact price depends on the vehicle.",
            s.name,
            dollars(s.price_min_cents),
            dollars(s.price_max_cents)
        ),
        None => {
            let items: Vec<String> = shop
                .services
                .iter()
                .map(|s| {
                    format!(
                        "{} {} to {}",
                        s.name,
                        dollars(s.price_min_cents),
                        dollars(s.price_max_cents)
                    )
                })
                .collect();
            format!("Our usual price ranges: {}.", join_or(&items, "and"))
        }
    }
}

/// A short, honest answer to small talk, in `shop`'s name: what Otto is, how it is, or a
/// polite turn back to the car.
pub fn small_talk(text: &str, shop: &str) -> String {
    let t = text.to_lowercase();
    if [
        "robot",
        "bot",
        "real",
        "human",
        "person",
        "who is this",
        "talking to",
        "your name",
    ]
    .iter()
    .any(|w| t.contains(w))
    {
        format!("I'm Otto, {shop}'s automated assistant.")
    } else if t.contains("how are you") || t.contains("how's it going") {
        "I'm doing well, thanks for asking.".into()
    } else {
        "I can't help with that one, but I'm happy to help with your car.".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn spoken_forms() {
        let at = Utc.with_ymd_and_hms(2025, 3, 11, 18, 0, 0).unwrap();
        let tz = chrono_tz::America::New_York;
        assert_eq!(date_time(at, tz), "Tuesday, March 11 at 2:00 PM");
        assert_eq!(time(at, tz), "2:00 PM");
        assert_eq!(dollars(4900), "$49");
        assert_eq!(dollars(4950), "$49.50");
        assert_eq!(
            vin("1HGCM82633A004352"),
            "1 H G C M, 8 2 6 3 3, A 0 0 4 3, 5 2"
        );
    }

    #[test]
    fn hours_include_lunch_and_coming_holidays() {
        let shop = ShopConfig {
            holidays: vec![NaiveDate::from_ymd_opt(2026, 12, 25).unwrap()],
            ..ShopConfig::default()
        };
        let today = NaiveDate::from_ymd_opt(2026, 12, 20).unwrap();
        let said = hours(&shop, today);
        assert!(said.contains("Monday to Friday 8 AM to 6 PM"), "{said}");
        assert!(said.contains("lunch from 12 PM to 1 PM"), "{said}");
        assert!(said.contains("closed Sunday"), "{said}");
        assert!(said.contains("Friday, December 25"), "{said}");
        let no_holiday = hours(&shop, NaiveDate::from_ymd_opt(2026, 8, 3).unwrap());
        assert!(!no_holiday.contains("also closed"), "{no_holiday}");
    }
}
