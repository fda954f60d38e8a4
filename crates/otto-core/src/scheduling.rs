//! Free slots and the rules a booking must satisfy. Pure: callers pass `now`, the shop's
//! configuration and the intervals already taken.
//!
//! **Where slots may start.** An instant `t` is a slot start for a service when, in the shop's
//! time zone, `t`'s local date is an open day (weekday has hours, not a holiday), its local
//! wall-clock time is `open + k × slot_step` inside `[open, close)`, the job `[t, t + duration)`
//! ends by closing and does not overlap lunch, and `t` is at least `min_lead_minutes` after `now`.
//! Durations are elapsed time.
//!
//! **Daylight saving time.** Wall-clock times that do not exist (the spring-forward gap) are
//! never offered; wall-clock times that happen twice (the fall-back hour) are offered at both
//! instants, so every real instant on the grid appears exactly once and none is missing. When a
//! *boundary* (opening, closing, lunch, midnight) falls in a gap it moves forward by the gap's
//! length (02:30 → 03:30 EDT); when it is ambiguous the earlier instant is used.
//!
//! **Capacity.** Each booked interval occupies one bay; a slot is free while the most bookings
//! overlapping any instant of it ([`peak_overlap`]) is below `bays`. `closed` intervals (e.g.
//! Google Calendar busy blocks) take every bay. Occupancy is swept once per query, so a week of
//! slots against hundreds of bookings costs microseconds, not a scan per slot. Which bay a
//! booking takes is [`bays`].

pub mod bays;
mod occupancy;
#[cfg(test)]
mod tests;

use chrono::{
    DateTime, Datelike, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeDelta,
    TimeZone, Timelike, Utc,
};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::shop::{ServiceDef, ShopConfig};
use occupancy::Occupancy;

/// Most local days [`free_slots`] examines per query; days after `from + MAX_QUERY_DAYS - 1`
/// are ignored, so a bad range cannot make it loop for ages.
pub const MAX_QUERY_DAYS: u32 = 366;

/// A half-open UTC interval `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Interval {
    /// First instant inside the interval.
    pub start: DateTime<Utc>,
    /// First instant after it; an interval with `end <= start` is empty.
    pub end: DateTime<Utc>,
}

/// A bookable slot for one service: `[start, end)` with how many bays are still free for all of
/// it (1..=bays).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Slot {
    /// When the job starts (on the shop's grid).
    pub start: DateTime<Utc>,
    /// `start` + the service's duration.
    pub end: DateTime<Utc>,
    /// Bays free over the whole of `[start, end)`: `bays - peak_overlap(booked, slot)`, ≥ 1.
    pub free_bays: u32,
}

/// What [`free_slots`] needs to know.
#[derive(Debug, Clone, Copy)]
pub struct SlotQuery<'a> {
    /// The shop's rules; assumed to have passed [`ShopConfig::validate`].
    pub shop: &'a ShopConfig,
    /// The service to place (its duration is what matters).
    pub service: &'a ServiceDef,
    /// Local dates in the shop's zone, inclusive. `to < from` yields no slots.
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// The current instant; slots start at least `min_lead_minutes` after it.
    pub now: DateTime<Utc>,
    /// Active appointments (each occupies one bay over its interval).
    pub booked: &'a [Interval],
    /// Times when no bay is available at all (e.g. Google Calendar busy blocks).
    pub closed: &'a [Interval],
}

/// Why a booking at a given time breaks the shop's rules. Messages are fit to speak to a caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlotError {
    /// The start is before `now`.
    #[error("that time has already passed")]
    InPast,
    /// The shop's `min_lead_minutes`.
    #[error("we need at least {minutes} minutes' notice for a booking")]
    InsideLeadTime { minutes: u32 },
    /// The weekday has no opening hours.
    #[error("we are closed on {}", spoken_date(.date))]
    ClosedDay { date: NaiveDate },
    /// The date is in the shop's holidays.
    #[error("we are closed on {} for a holiday", spoken_date(.date))]
    Holiday { date: NaiveDate },
    /// The start is not inside that day's opening hours (local times).
    #[error("that is outside our hours; that day we are open {} to {}", spoken_time(.open), spoken_time(.close))]
    OutsideHours { open: NaiveTime, close: NaiveTime },
    /// The job would still be running at closing time (local).
    #[error("that job would run past closing at {}", spoken_time(.close))]
    PastClosing { close: NaiveTime },
    /// The job would overlap the lunch break (local times).
    #[error("that would run into our lunch break from {} to {}", spoken_time(.start), spoken_time(.end))]
    OverlapsLunch { start: NaiveTime, end: NaiveTime },
    /// The start is not on the grid of `step_minutes` from opening.
    #[error("appointments start every {step_minutes} minutes from opening")]
    Misaligned { step_minutes: u32 },
}

impl Interval {
    /// True when the two half-open intervals share an instant (touching ends do not).
    pub fn overlaps(&self, other: &Interval) -> bool {
        self.start < other.end && other.start < self.end
    }
}

impl Slot {
    /// The slot's `[start, end)`.
    pub fn interval(&self) -> Interval {
        Interval {
            start: self.start,
            end: self.end,
        }
    }
}

/// All slots for `q.service` between `q.from` and `q.to` (local dates, inclusive, at most
/// [`MAX_QUERY_DAYS`] days), sorted by start, each satisfying [`check_bookable`] and having at
/// least one bay free over its whole interval and no overlap with `q.closed`.
pub fn free_slots(q: &SlotQuery<'_>) -> Vec<Slot> {
    let shop = q.shop;
    let booked = Occupancy::new(q.booked);
    let closed = Occupancy::new(q.closed);
    let earliest = after_lead_time(shop, q.now);
    let step_secs = shop.slot_step_minutes.max(1) * 60;
    let mut slots = Vec::new();
    for date in q
        .from
        .iter_days()
        .take_while(|d| *d <= q.to)
        .take(MAX_QUERY_DAYS as usize)
    {
        let Ok(day) = Day::new(shop, date) else {
            continue;
        };
        if day.close <= earliest {
            continue;
        }
        let (open_secs, close_secs) = (
            day.open_local.num_seconds_from_midnight(),
            day.close_local.num_seconds_from_midnight(),
        );
        for secs in (open_secs..close_secs).step_by(step_secs as usize) {
            let local = NaiveTime::from_num_seconds_from_midnight_opt(secs, 0)
                .expect("seconds within a day");
            for start in instants(shop.time_zone, date.and_time(local)) {
                if start < earliest {
                    continue;
                }
                let Ok(job) = day.check(shop, q.service, start, local) else {
                    continue;
                };
                let used = booked.peak(&job);
                if used < shop.bays && closed.peak(&job) == 0 {
                    slots.push(Slot {
                        start: job.start,
                        end: job.end,
                        free_bays: shop.bays - used,
                    });
                }
            }
        }
    }
    // Only the repeated fall-back hour is generated out of order.
    slots.sort_by_key(|s| s.start);
    slots
}

/// Checks the shop rules for booking `service` at `start` (not capacity): not in the past or
/// inside the lead time, an open day (weekday hours, not a holiday), within opening hours,
/// ending by closing, not overlapping lunch, start aligned to `slot_step_minutes` from opening
/// (see the module docs). Returns the interval the job occupies.
///
/// # Errors
/// The first rule broken, in the order listed, as a [`SlotError`].
pub fn check_bookable(
    shop: &ShopConfig,
    service: &ServiceDef,
    start: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Interval, SlotError> {
    if start < now {
        return Err(SlotError::InPast);
    }
    if start < after_lead_time(shop, now) {
        return Err(SlotError::InsideLeadTime {
            minutes: shop.min_lead_minutes,
        });
    }
    let local = start.with_timezone(&shop.time_zone).naive_local();
    Day::new(shop, local.date())?.check(shop, service, start, local.time())
}

/// The most `booked` intervals overlapping any single instant of `within` (sweep line,
/// O(n log n)). Touching intervals do not overlap; empty intervals count for nothing.
pub fn peak_overlap(booked: &[Interval], within: &Interval) -> u32 {
    Occupancy::new(booked).peak(within)
}

/// The UTC interval of local day `date` in `tz`: from its first instant to the next day's
/// (23 or 25 hours long on DST change days). Midnights that fall in a DST gap move forward.
pub fn local_day_bounds(tz: Tz, date: NaiveDate) -> Interval {
    let start = boundary(tz, date.and_time(NaiveTime::MIN));
    let end = date.succ_opt().map_or(DateTime::<Utc>::MAX_UTC, |next| {
        boundary(tz, next.and_time(NaiveTime::MIN))
    });
    Interval { start, end }
}

/// One open day's hours and lunch resolved to UTC.
struct Day {
    open_local: NaiveTime,
    close_local: NaiveTime,
    close: DateTime<Utc>,
    lunch: Option<(Interval, NaiveTime, NaiveTime)>,
}

impl Day {
    /// The open day `date` (local), or why the shop is closed all day.
    fn new(shop: &ShopConfig, date: NaiveDate) -> Result<Self, SlotError> {
        if shop.holidays.contains(&date) {
            return Err(SlotError::Holiday { date });
        }
        let hours = shop
            .hours
            .on(date.weekday())
            .ok_or(SlotError::ClosedDay { date })?;
        let tz = shop.time_zone;
        let lunch = shop.lunch.map(|l| {
            let utc = Interval {
                start: boundary(tz, date.and_time(l.open)),
                end: boundary(tz, date.and_time(l.close)),
            };
            (utc, l.open, l.close)
        });
        Ok(Self {
            open_local: hours.open,
            close_local: hours.close,
            close: boundary(tz, date.and_time(hours.close)),
            lunch,
        })
    }

    /// The rules within the day for a job starting at `start`, whose local wall-clock time is
    /// `local`.
    fn check(
        &self,
        shop: &ShopConfig,
        service: &ServiceDef,
        start: DateTime<Utc>,
        local: NaiveTime,
    ) -> Result<Interval, SlotError> {
        if local < self.open_local || local >= self.close_local {
            return Err(SlotError::OutsideHours {
                open: self.open_local,
                close: self.close_local,
            });
        }
        let end = start.checked_add_signed(TimeDelta::minutes(i64::from(service.duration_minutes)));
        let job = Interval {
            start,
            end: end.unwrap_or(DateTime::<Utc>::MAX_UTC),
        };
        if end.is_none() || job.end > self.close {
            return Err(SlotError::PastClosing {
                close: self.close_local,
            });
        }
        if let Some((lunch, l_start, l_end)) = self.lunch
            && lunch.overlaps(&job)
        {
            return Err(SlotError::OverlapsLunch {
                start: l_start,
                end: l_end,
            });
        }
        let since_open = (local - self.open_local).num_seconds();
        let step = i64::from(shop.slot_step_minutes.max(1)) * 60;
        if since_open % step != 0 || local.nanosecond() != 0 {
            return Err(SlotError::Misaligned {
                step_minutes: shop.slot_step_minutes,
            });
        }
        Ok(job)
    }
}

/// Every instant whose wall-clock time in `tz` is `local`: none in a DST gap, two in the
/// repeated fall-back hour, otherwise one.
fn instants(tz: Tz, local: NaiveDateTime) -> Vec<DateTime<Utc>> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => vec![t.with_timezone(&Utc)],
        LocalResult::Ambiguous(a, b) => vec![a.with_timezone(&Utc), b.with_timezone(&Utc)],
        LocalResult::None => Vec::new(),
    }
}

/// A local boundary time as one instant: the earlier one when ambiguous; shifted forward by the
/// gap's length when it falls in a DST gap (read with the offset in force before the gap).
fn boundary(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.with_timezone(&Utc),
        LocalResult::None => {
            // A day earlier no transition is in progress (zones change offset at most once a
            // day), so that offset is the one in force just before the gap.
            let day_before = local
                .checked_sub_signed(TimeDelta::days(1))
                .unwrap_or(local);
            let before = tz
                .offset_from_utc_datetime(&day_before)
                .fix()
                .local_minus_utc();
            let utc = local
                .checked_sub_signed(TimeDelta::seconds(i64::from(before)))
                .unwrap_or(local);
            Utc.from_utc_datetime(&utc)
        }
    }
}

/// The first instant a booking made at `now` may start (saturating at the end of time).
fn after_lead_time(shop: &ShopConfig, now: DateTime<Utc>) -> DateTime<Utc> {
    now.checked_add_signed(TimeDelta::minutes(i64::from(shop.min_lead_minutes)))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// "Sunday, March 8".
fn spoken_date(date: &NaiveDate) -> String {
    date.format("%A, %B %-d").to_string()
}

/// "6:00 PM".
fn spoken_time(time: &NaiveTime) -> String {
    time.format("%-I:%M %p").to_string()
}
