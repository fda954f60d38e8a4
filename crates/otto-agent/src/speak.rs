//! How Otto says dates, times, money and records aloud ("Tuesday, March 11 at 2:00 PM",
//! "$49 to $89", "2019 Honda Civic").

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use otto_core::records::Vehicle;

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
}
