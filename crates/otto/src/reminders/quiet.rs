//! Quiet hours: the local times no reminder is sent (default 20:00–09:00 in the shop's time
//! zone, as US carriers and the TCPA's calling-hours rule expect). A send that falls in them
//! waits for their end.

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// A daily quiet window `[start, end)` in local time; `start > end` spans midnight
/// (20:00–09:00), `start == end` means no quiet hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

impl QuietHours {
    /// Whether local time `t` is quiet.
    fn quiet_at(&self, t: NaiveTime) -> bool {
        match self.start.cmp(&self.end) {
            std::cmp::Ordering::Equal => false,
            std::cmp::Ordering::Less => t >= self.start && t < self.end,
            std::cmp::Ordering::Greater => t >= self.start || t < self.end,
        }
    }

    /// `at` itself when it is outside quiet hours in `tz`, else the first instant after it
    /// when they end (the next local `end`; on a DST day whose `end` does not exist, the first
    /// instant after the gap).
    pub fn next_allowed(&self, at: DateTime<Utc>, tz: Tz) -> DateTime<Utc> {
        let local = at.with_timezone(&tz);
        if !self.quiet_at(local.time()) {
            return at;
        }
        let mut day = local.date_naive();
        if local.time() >= self.end {
            day = day.succ_opt().unwrap_or(day);
        }
        let wanted = day.and_time(self.end);
        match tz.from_local_datetime(&wanted) {
            chrono::LocalResult::Single(t) => t.with_timezone(&Utc),
            chrono::LocalResult::Ambiguous(first, _) => first.with_timezone(&Utc),
            // Inside a spring-forward gap: an hour later exists.
            chrono::LocalResult::None => tz
                .from_local_datetime(&(wanted + Duration::hours(1)))
                .earliest()
                .map_or(at + Duration::hours(1), |t| t.with_timezone(&Utc)),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn hm(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    fn ny(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        chrono_tz::America::New_York
            .with_ymd_and_hms(y, mo, d, h, mi, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    const QUIET: QuietHours = QuietHours {
        start: NaiveTime::from_hms_opt(20, 0, 0).unwrap(),
        end: NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
    };

    #[test]
    fn sends_wait_for_the_morning_in_the_shop_time_zone() {
        let tz = chrono_tz::America::New_York;
        // Daytime: at once.
        assert_eq!(
            QUIET.next_allowed(ny(2030, 3, 5, 14, 0), tz),
            ny(2030, 3, 5, 14, 0)
        );
        assert_eq!(
            QUIET.next_allowed(ny(2030, 3, 5, 19, 59), tz),
            ny(2030, 3, 5, 19, 59)
        );
        // Evening: next morning at nine; after midnight: the same morning.
        assert_eq!(
            QUIET.next_allowed(ny(2030, 3, 5, 20, 0), tz),
            ny(2030, 3, 6, 9, 0)
        );
        assert_eq!(
            QUIET.next_allowed(ny(2030, 3, 5, 23, 30), tz),
            ny(2030, 3, 6, 9, 0)
        );
        assert_eq!(
            QUIET.next_allowed(ny(2030, 3, 6, 2, 0), tz),
            ny(2030, 3, 6, 9, 0)
        );
        assert_eq!(
            QUIET.next_allowed(ny(2030, 3, 6, 9, 0), tz),
            ny(2030, 3, 6, 9, 0)
        );
        // Across the spring-forward night (2030-03-10 in New York), still nine local.
        assert_eq!(
            QUIET.next_allowed(ny(2030, 3, 9, 22, 0), tz),
            ny(2030, 3, 10, 9, 0)
        );
        assert_eq!(
            ny(2030, 3, 10, 9, 0) - ny(2030, 3, 9, 22, 0),
            Duration::hours(10),
            "the night is an hour shorter"
        );
    }

    #[test]
    fn a_window_within_a_day_and_none_at_all() {
        let tz = chrono_tz::America::New_York;
        let lunch = QuietHours {
            start: hm(12, 0),
            end: hm(13, 0),
        };
        assert_eq!(
            lunch.next_allowed(ny(2030, 3, 5, 12, 30), tz),
            ny(2030, 3, 5, 13, 0)
        );
        assert_eq!(
            lunch.next_allowed(ny(2030, 3, 5, 13, 30), tz),
            ny(2030, 3, 5, 13, 30)
        );
        let none = QuietHours {
            start: hm(9, 0),
            end: hm(9, 0),
        };
        assert_eq!(
            none.next_allowed(ny(2030, 3, 5, 3, 0), tz),
            ny(2030, 3, 5, 3, 0)
        );
    }
}
