//! Tests of free slots, booking rules, overlap counting and local day bounds, including the
//! 2026 DST change days in America/New_York.

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Timelike, Utc};
use chrono_tz::America::New_York;
use proptest::prelude::*;

use super::*;
use crate::shop::{ShopConfig, TimeRange};

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// An unambiguous New York wall-clock time as UTC.
fn ny(d: NaiveDate, h: u32, min: u32) -> DateTime<Utc> {
    New_York
        .from_local_datetime(&d.and_hms_opt(h, min, 0).unwrap())
        .single()
        .unwrap()
        .with_timezone(&Utc)
}

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

fn local_hm(t: DateTime<Utc>) -> (u32, u32) {
    let l = t.with_timezone(&New_York);
    (l.hour(), l.minute())
}

fn iv(start: DateTime<Utc>, end: DateTime<Utc>) -> Interval {
    Interval { start, end }
}

const MONDAY: (i32, u32, u32) = (2026, 3, 2);

fn monday() -> NaiveDate {
    date(MONDAY.0, MONDAY.1, MONDAY.2)
}

fn day_slots(
    shop: &ShopConfig,
    service: &str,
    d: NaiveDate,
    booked: &[Interval],
    closed: &[Interval],
) -> Vec<Slot> {
    free_slots(&SlotQuery {
        shop,
        service: shop.service(service).unwrap(),
        from: d,
        to: d,
        now: utc(2026, 1, 1, 0, 0),
        booked,
        closed,
    })
}

#[test]
fn a_plain_monday_offers_the_grid_minus_lunch() {
    let shop = ShopConfig::default();
    let slots = day_slots(&shop, "oil change", monday(), &[], &[]);
    let starts: Vec<(u32, u32)> = slots.iter().map(|s| local_hm(s.start)).collect();
    let mut expected = Vec::new();
    for h in 8..18 {
        for m in [0, 30] {
            if h != 12 {
                expected.push((h, m));
            }
        }
    }
    assert_eq!(starts, expected);
    assert!(slots.iter().all(|s| s.free_bays == 2));
    assert!(
        slots
            .iter()
            .all(|s| s.end - s.start == TimeDelta::minutes(30))
    );
}

#[test]
fn long_jobs_end_by_closing_and_skip_lunch() {
    let shop = ShopConfig::default();
    let starts: Vec<(u32, u32)> = day_slots(&shop, "brake service", monday(), &[], &[])
        .iter()
        .map(|s| local_hm(s.start))
        .collect();
    let expected = vec![
        (8, 0),
        (8, 30),
        (9, 0),
        (9, 30),
        (10, 0),
        (13, 0),
        (13, 30),
        (14, 0),
        (14, 30),
        (15, 0),
        (15, 30),
        (16, 0),
    ];
    assert_eq!(starts, expected);
}

#[test]
fn saturday_hours_sunday_and_holidays() {
    let mut shop = ShopConfig::default();
    let saturday = date(2026, 3, 7);
    let sat = day_slots(&shop, "oil change", saturday, &[], &[]);
    assert_eq!(local_hm(sat[0].start), (9, 0));
    assert_eq!(local_hm(sat.last().unwrap().start), (13, 30));
    assert!(
        sat.iter().all(|s| local_hm(s.start) != (12, 0)),
        "lunch applies on Saturday too"
    );
    assert!(day_slots(&shop, "oil change", date(2026, 3, 8), &[], &[]).is_empty());
    shop.holidays.push(monday());
    assert!(day_slots(&shop, "oil change", monday(), &[], &[]).is_empty());
}

#[test]
fn bays_limit_concurrent_bookings() {
    let shop = ShopConfig::default();
    let d = monday();
    let one = [iv(ny(d, 9, 0), ny(d, 10, 0))];
    let slots = day_slots(&shop, "oil change", d, &one, &[]);
    let at = |h, m| {
        slots
            .iter()
            .find(|s| local_hm(s.start) == (h, m))
            .map(|s| s.free_bays)
    };
    assert_eq!(
        at(8, 30),
        Some(2),
        "ends when the booking starts: no overlap"
    );
    assert_eq!(at(9, 0), Some(1));
    assert_eq!(at(9, 30), Some(1));
    assert_eq!(at(10, 0), Some(2));

    let two = [
        iv(ny(d, 9, 0), ny(d, 10, 0)),
        iv(ny(d, 9, 30), ny(d, 11, 0)),
    ];
    let slots = day_slots(&shop, "oil change", d, &two, &[]);
    let at = |h, m| {
        slots
            .iter()
            .find(|s| local_hm(s.start) == (h, m))
            .map(|s| s.free_bays)
    };
    assert_eq!(at(9, 0), Some(1));
    assert_eq!(at(9, 30), None, "both bays busy");
    assert_eq!(at(10, 0), Some(1));
    // A 2-hour job starting at 8:00 would overlap both bookings at 9:30.
    let brakes = day_slots(&shop, "brake service", d, &two, &[]);
    assert!(brakes.iter().all(|s| local_hm(s.start) != (8, 0)));
    assert!(brakes.iter().any(|s| local_hm(s.start) == (13, 0)));
}

#[test]
fn closed_intervals_block_every_bay() {
    let shop = ShopConfig::default();
    let d = monday();
    let busy = [iv(ny(d, 14, 15), ny(d, 15, 0))];
    let starts: Vec<(u32, u32)> = day_slots(&shop, "oil change", d, &[], &busy)
        .iter()
        .map(|s| local_hm(s.start))
        .collect();
    assert!(starts.contains(&(13, 30)));
    assert!(!starts.contains(&(14, 0)) && !starts.contains(&(14, 30)));
    assert!(starts.contains(&(15, 0)));
}

#[test]
fn lead_time_and_past_are_excluded() {
    let shop = ShopConfig::default();
    let d = monday();
    let slots = free_slots(&SlotQuery {
        shop: &shop,
        service: shop.service("oil change").unwrap(),
        from: d,
        to: d,
        now: ny(d, 9, 10),
        booked: &[],
        closed: &[],
    });
    assert_eq!(
        local_hm(slots[0].start),
        (10, 30),
        "09:10 + 60 min lead = 10:10, next grid 10:30"
    );
}

#[test]
fn a_week_spans_days_in_order_and_bad_ranges_are_empty() {
    let shop = ShopConfig::default();
    let q = SlotQuery {
        shop: &shop,
        service: shop.service("oil change").unwrap(),
        from: monday(),
        to: date(2026, 3, 8),
        now: utc(2026, 1, 1, 0, 0),
        booked: &[],
        closed: &[],
    };
    let week = free_slots(&q);
    assert_eq!(
        week.len(),
        5 * 18 + 8,
        "five weekdays and a Saturday 9:00-14:00 minus lunch"
    );
    assert!(week.windows(2).all(|w| w[0].start < w[1].start));
    assert!(
        free_slots(&SlotQuery {
            from: date(2026, 3, 8),
            to: monday(),
            ..q
        })
        .is_empty()
    );
    let far = free_slots(&SlotQuery {
        from: NaiveDate::MIN,
        to: NaiveDate::MAX,
        ..q
    });
    assert!(far.len() <= MAX_QUERY_DAYS as usize * 20);
}

/// A shop open in the small hours on Sunday, to see the DST transitions in New York.
fn night_shop(open: (u32, u32), close: (u32, u32)) -> ShopConfig {
    let mut shop = ShopConfig {
        lunch: None,
        ..ShopConfig::default()
    };
    shop.hours.sunday = Some(TimeRange::hm(open.0, open.1, close.0, close.1));
    shop
}

#[test]
fn spring_forward_skips_the_missing_hour_without_gaps_in_real_time() {
    let shop = night_shop((0, 0), (4, 0));
    let slots = day_slots(&shop, "oil change", date(2026, 3, 8), &[], &[]);
    let starts: Vec<DateTime<Utc>> = slots.iter().map(|s| s.start).collect();
    // 00:00 EST = 05:00 UTC; 02:00-02:59 does not exist; 04:00 EDT = 08:00 UTC.
    let expected: Vec<DateTime<Utc>> = (0..6)
        .map(|i| utc(2026, 3, 8, 5, 0) + TimeDelta::minutes(30 * i))
        .collect();
    assert_eq!(starts, expected);
    let local: Vec<(u32, u32)> = starts.iter().map(|t| local_hm(*t)).collect();
    assert_eq!(
        local,
        vec![(0, 0), (0, 30), (1, 0), (1, 30), (3, 0), (3, 30)]
    );
}

#[test]
fn fall_back_offers_both_repeated_hours_once_each() {
    let shop = night_shop((0, 0), (4, 0));
    let slots = day_slots(&shop, "oil change", date(2026, 11, 1), &[], &[]);
    let starts: Vec<DateTime<Utc>> = slots.iter().map(|s| s.start).collect();
    // 00:00 EDT = 04:00 UTC ... 04:00 EST = 09:00 UTC: five real hours, ten slots.
    let expected: Vec<DateTime<Utc>> = (0..10)
        .map(|i| utc(2026, 11, 1, 4, 0) + TimeDelta::minutes(30 * i))
        .collect();
    assert_eq!(starts, expected);
    let local: Vec<(u32, u32)> = starts.iter().map(|t| local_hm(*t)).collect();
    assert_eq!(
        local,
        vec![
            (0, 0),
            (0, 30),
            (1, 0),
            (1, 30),
            (1, 0),
            (1, 30),
            (2, 0),
            (2, 30),
            (3, 0),
            (3, 30)
        ]
    );
}

#[test]
fn boundaries_in_the_gap_move_forward() {
    // Closing at 02:30 on spring-forward day means 03:30 EDT (07:30 UTC).
    let shop = night_shop((1, 0), (2, 30));
    let slots = day_slots(&shop, "oil change", date(2026, 3, 8), &[], &[]);
    let starts: Vec<DateTime<Utc>> = slots.iter().map(|s| s.start).collect();
    assert_eq!(starts, vec![utc(2026, 3, 8, 6, 0), utc(2026, 3, 8, 6, 30)]);
}

#[test]
fn daytime_slots_follow_the_offset_change() {
    let shop = ShopConfig::default();
    let friday = day_slots(&shop, "oil change", date(2026, 3, 6), &[], &[]);
    let monday = day_slots(&shop, "oil change", date(2026, 3, 9), &[], &[]);
    assert_eq!(friday[0].start, utc(2026, 3, 6, 13, 0), "08:00 EST");
    assert_eq!(monday[0].start, utc(2026, 3, 9, 12, 0), "08:00 EDT");
}

#[test]
fn local_day_bounds_are_23_24_or_25_hours() {
    let len = |d| {
        let b = local_day_bounds(New_York, d);
        (b.end - b.start).num_hours()
    };
    assert_eq!(len(date(2026, 3, 8)), 23);
    assert_eq!(len(date(2026, 11, 1)), 25);
    assert_eq!(len(monday()), 24);
    assert_eq!(
        local_day_bounds(New_York, monday()).start,
        utc(2026, 3, 2, 5, 0)
    );
    // Santiago springs forward at midnight: the day starts at 01:00 local.
    let santiago = local_day_bounds(chrono_tz::America::Santiago, date(2026, 9, 6));
    assert_eq!(
        santiago
            .start
            .with_timezone(&chrono_tz::America::Santiago)
            .hour(),
        1
    );
    let b = local_day_bounds(New_York, NaiveDate::MAX);
    assert!(b.start < b.end);
}

#[test]
fn check_bookable_names_the_rule_broken() {
    let shop = ShopConfig::default();
    let oil = shop.service("oil change").unwrap();
    let brakes = shop.service("brake service").unwrap();
    let d = monday();
    let now = ny(d, 8, 0);
    assert_eq!(
        check_bookable(&shop, oil, ny(d, 10, 0), now),
        Ok(iv(ny(d, 10, 0), ny(d, 10, 30)))
    );
    assert_eq!(
        check_bookable(&shop, oil, ny(d, 7, 0), now),
        Err(SlotError::InPast)
    );
    assert_eq!(
        check_bookable(&shop, oil, ny(d, 8, 30), now),
        Err(SlotError::InsideLeadTime { minutes: 60 })
    );
    assert_eq!(
        check_bookable(&shop, oil, ny(date(2026, 3, 8), 10, 0), now),
        Err(SlotError::ClosedDay {
            date: date(2026, 3, 8)
        })
    );
    let hours = SlotError::OutsideHours {
        open: NaiveTime::from_hms_opt(8, 0, 0).unwrap(),
        close: NaiveTime::from_hms_opt(18, 0, 0).unwrap(),
    };
    assert_eq!(
        check_bookable(&shop, oil, ny(date(2026, 3, 3), 7, 30), now),
        Err(hours.clone())
    );
    assert_eq!(
        check_bookable(&shop, oil, ny(date(2026, 3, 3), 18, 0), now),
        Err(hours)
    );
    assert!(matches!(
        check_bookable(&shop, brakes, ny(d, 16, 30), now),
        Err(SlotError::PastClosing { .. })
    ));
    assert!(matches!(
        check_bookable(&shop, brakes, ny(d, 11, 0), now),
        Err(SlotError::OverlapsLunch { .. })
    ));
    assert!(matches!(
        check_bookable(&shop, oil, ny(d, 12, 30), now),
        Err(SlotError::OverlapsLunch { .. })
    ));
    assert_eq!(
        check_bookable(&shop, oil, ny(d, 10, 15), now),
        Err(SlotError::Misaligned { step_minutes: 30 })
    );
    assert_eq!(
        check_bookable(&shop, oil, ny(d, 10, 0) + TimeDelta::seconds(1), now),
        Err(SlotError::Misaligned { step_minutes: 30 })
    );
    let mut holiday_shop = shop.clone();
    holiday_shop.holidays.push(d);
    assert_eq!(
        check_bookable(&holiday_shop, oil, ny(d, 10, 0), now),
        Err(SlotError::Holiday { date: d })
    );
}

#[test]
fn errors_read_well_aloud() {
    let closed = SlotError::ClosedDay {
        date: date(2026, 3, 8),
    };
    assert_eq!(closed.to_string(), "we are closed on Sunday, March 8");
    let lunch = SlotError::OverlapsLunch {
        start: NaiveTime::from_hms_opt(12, 0, 0).unwrap(),
        end: NaiveTime::from_hms_opt(13, 0, 0).unwrap(),
    };
    assert_eq!(
        lunch.to_string(),
        "that would run into our lunch break from 12:00 PM to 1:00 PM"
    );
}

#[test]
fn extreme_instants_do_not_panic() {
    let shop = ShopConfig::default();
    let oil = shop.service("oil change").unwrap();
    for t in [DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC] {
        for now in [DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC] {
            let _ = check_bookable(&shop, oil, t, now);
        }
    }
}

#[test]
fn peak_overlap_counts_instants_not_intervals() {
    let t = |h| utc(2026, 3, 2, h, 0);
    let booked = [
        iv(t(9), t(10)),
        iv(t(10), t(11)),
        iv(t(9), t(11)),
        iv(t(12), t(12)),
    ];
    assert_eq!(
        peak_overlap(&booked, &iv(t(9), t(11))),
        2,
        "touching intervals do not overlap"
    );
    assert_eq!(peak_overlap(&booked, &iv(t(8), t(9))), 0);
    assert_eq!(peak_overlap(&booked, &iv(t(10), t(13))), 2);
    assert_eq!(
        peak_overlap(&booked, &iv(t(11), t(13))),
        0,
        "empty interval counts for nothing"
    );
    assert_eq!(peak_overlap(&booked, &iv(t(10), t(10))), 0, "empty window");
    assert_eq!(peak_overlap(&[], &iv(t(0), t(23))), 0);
    let nested = [
        iv(t(8), t(17)),
        iv(t(9), t(16)),
        iv(t(10), t(15)),
        iv(t(14), t(18)),
    ];
    assert_eq!(peak_overlap(&nested, &iv(t(0), t(23))), 4);
    assert_eq!(peak_overlap(&nested, &iv(t(15), t(16))), 3);
}

/// Brute force: count intervals containing each event instant in the window.
fn naive_peak(booked: &[Interval], within: &Interval) -> u32 {
    let mut instants = vec![within.start];
    instants.extend(
        booked
            .iter()
            .map(|b| b.start)
            .filter(|s| within.start < *s && *s < within.end),
    );
    instants
        .iter()
        .map(|t| {
            booked
                .iter()
                .filter(|b| b.start <= *t && *t < b.end)
                .count() as u32
        })
        .max()
        .filter(|_| within.start < within.end)
        .unwrap_or(0)
}

const STEPS: [u32; 9] = [5, 10, 15, 20, 30, 45, 60, 90, 120];

prop_compose! {
    fn any_shop()(
        hours in proptest::collection::vec(proptest::option::weighted(0.8, (0u32..20 * 4, 1u32..16 * 4)), 7),
        lunch in proptest::option::of((40u32..56, 1u32..8)),
        bays in 1u32..4,
        step in proptest::sample::select(STEPS.to_vec()),
        lead in 0u32..300,
        duration in 5u32..240,
        holiday in proptest::option::of(0u64..7),
        week_start in proptest::sample::select(vec![date(2026, 3, 2), date(2026, 10, 26), date(2026, 7, 6)]),
    ) -> (ShopConfig, NaiveDate) {
        let quarter = |q: u32| NaiveTime::from_hms_opt((q / 4).min(23), q % 4 * 15, 0).unwrap();
        let range = |(open, len): (u32, u32)| TimeRange { open: quarter(open), close: quarter((open + len).min(95)) };
        let mut shop = ShopConfig::default();
        let [mon, tue, wed, thu, fri, sat, sun] = <[Option<(u32, u32)>; 7]>::try_from(hours).unwrap();
        shop.hours.monday = mon.map(range);
        shop.hours.tuesday = tue.map(range);
        shop.hours.wednesday = wed.map(range);
        shop.hours.thursday = thu.map(range);
        shop.hours.friday = fri.map(range);
        shop.hours.saturday = sat.map(range);
        shop.hours.sunday = sun.map(range);
        shop.lunch = lunch.map(range);
        shop.bays = bays;
        shop.slot_step_minutes = step;
        shop.min_lead_minutes = lead;
        shop.services[0].duration_minutes = duration;
        shop.holidays = holiday.map(|d| week_start + chrono::Days::new(d)).into_iter().collect();
        (shop, week_start)
    }
}

prop_compose! {
    fn any_intervals(week_start: NaiveDate, max: usize)(
        raw in proptest::collection::vec((0i64..7 * 24 * 12, 1i64..48), 0..max)
    ) -> Vec<Interval> {
        let origin = local_day_bounds(New_York, week_start).start;
        raw.into_iter()
            .map(|(at, len)| {
                let start = origin + TimeDelta::minutes(5 * at);
                iv(start, start + TimeDelta::minutes(5 * len))
            })
            .collect()
    }
}

fn week_case() -> impl Strategy<Value = (ShopConfig, NaiveDate, Vec<Interval>, Vec<Interval>, i64)>
{
    any_shop().prop_flat_map(|(shop, week_start)| {
        (
            Just(shop),
            Just(week_start),
            any_intervals(week_start, 40),
            any_intervals(week_start, 3),
            -24 * 60i64..5 * 24 * 60,
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn peak_overlap_matches_brute_force(
        raw in proptest::collection::vec((0i64..200, 0i64..40), 0..30),
        window in (0i64..220, 0i64..60),
    ) {
        let t = |m: i64| utc(2026, 3, 2, 0, 0) + TimeDelta::minutes(m);
        let booked: Vec<Interval> = raw.iter().map(|(s, l)| iv(t(*s), t(s + l))).collect();
        let within = iv(t(window.0), t(window.0 + window.1));
        prop_assert_eq!(peak_overlap(&booked, &within), naive_peak(&booked, &within));
    }

    #[test]
    fn free_slots_obey_every_rule_and_miss_none((shop, week_start, booked, closed, now_min) in week_case()) {
        shop.validate().unwrap();
        let service = &shop.services[0];
        let week = local_day_bounds(New_York, week_start);
        let now = week.start + TimeDelta::minutes(now_min);
        let q = SlotQuery {
            shop: &shop,
            service,
            from: week_start,
            to: week_start + chrono::Days::new(6),
            now,
            booked: &booked,
            closed: &closed,
        };
        let slots = free_slots(&q);
        prop_assert_eq!(&slots, &free_slots(&q), "deterministic");
        prop_assert!(slots.windows(2).all(|w| w[0].start < w[1].start), "sorted, no duplicates");
        for s in &slots {
            let job = s.interval();
            // Capacity.
            let used = naive_peak(&booked, &job);
            prop_assert!(used < shop.bays);
            prop_assert_eq!(s.free_bays, shop.bays - used);
            prop_assert_eq!(naive_peak(&closed, &job), 0);
            // Time rules, checked in local wall-clock terms.
            prop_assert!(s.start >= now + TimeDelta::minutes(i64::from(shop.min_lead_minutes)));
            prop_assert_eq!(s.end - s.start, TimeDelta::minutes(i64::from(service.duration_minutes)));
            let (ls, le) = (s.start.with_timezone(&New_York), s.end.with_timezone(&New_York));
            prop_assert!(!shop.holidays.contains(&ls.date_naive()));
            let hours = shop.hours.on(ls.weekday()).expect("open day");
            prop_assert!(hours.open <= ls.time() && ls.time() < hours.close);
            let close_in_gap = New_York
                .from_local_datetime(&ls.date_naive().and_time(hours.close))
                .earliest()
                .is_none();
            prop_assert!(le.date_naive() == ls.date_naive(), "ends the same day");
            prop_assert!(le.time() <= hours.close || close_in_gap, "ends by closing");
            if let Some(l) = shop.lunch {
                prop_assert!(!(ls.time() < l.close && l.open < le.time()), "overlaps lunch");
            }
            let since_open = (ls.time() - hours.open).num_minutes();
            prop_assert_eq!(since_open % i64::from(shop.slot_step_minutes), 0);
            prop_assert_eq!(check_bookable(&shop, service, s.start, now), Ok(job));
        }
        // Completeness: every 5-minute instant that passes the rules and has a bay is offered.
        let mut t = week.start;
        let end = local_day_bounds(New_York, week_start + chrono::Days::new(6)).end;
        while t < end {
            if let Ok(job) = check_bookable(&shop, service, t, now)
                && naive_peak(&booked, &job) < shop.bays
                && naive_peak(&closed, &job) == 0
            {
                prop_assert!(slots.iter().any(|s| s.start == t), "missing slot at {}", t);
            }
            t += TimeDelta::minutes(5);
        }
    }

    #[test]
    fn check_bookable_never_panics(secs in -8_000_000_000_000i64..8_000_000_000_000, now_secs in -8_000_000_000_000i64..8_000_000_000_000) {
        let shop = ShopConfig::default();
        if let (Some(t), Some(now)) = (DateTime::from_timestamp(secs, 0), DateTime::from_timestamp(now_secs, 0)) {
            let _ = check_bookable(&shop, &shop.services[0], t, now);
        }
    }
}
