//! Benchmark of `free_slots`: one week of slots for one service against a few hundred (and a
//! few thousand) booked intervals. Prints the median and worst time per query; no asserts.
//!
//! Run: `cargo bench -p otto-core --bench free_slots`.

// Test code: a panic on a broken precondition is the failure message.
#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use chrono::{NaiveDate, TimeDelta, TimeZone, Utc};
use otto_core::scheduling::{Interval, SlotQuery, free_slots, local_day_bounds};
use otto_core::shop::ShopConfig;

/// `n` bookings of 30..=120 minutes spread pseudo-randomly (fixed LCG seed) over the week.
fn bookings(week_start: NaiveDate, shop: &ShopConfig, n: usize) -> Vec<Interval> {
    let origin = local_day_bounds(shop.time_zone, week_start).start;
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = |m: u64| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) % m
    };
    (0..n)
        .map(|_| {
            let start = origin + TimeDelta::minutes(i64::try_from(next(7 * 24 * 4) * 15).unwrap());
            let len = TimeDelta::minutes(i64::try_from(30 + next(4) * 30).unwrap());
            Interval {
                start,
                end: start + len,
            }
        })
        .collect()
}

fn main() {
    let week_start = NaiveDate::from_ymd_opt(2026, 3, 2).expect("valid date");
    let now = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
    for (bays, n) in [(2u32, 300usize), (40, 3000)] {
        let shop = ShopConfig {
            bays,
            ..ShopConfig::default()
        };
        let booked = bookings(week_start, &shop, n);
        for service in ["oil_change", "brake_service"] {
            let q = SlotQuery {
                shop: &shop,
                service: shop.service(service).expect("demo catalog"),
                from: week_start,
                to: week_start + chrono::Days::new(6),
                now,
                booked: &booked,
                closed: &[],
            };
            let slots = free_slots(&q).len();
            let mut times: Vec<Duration> = (0..2000)
                .map(|_| {
                    let t = Instant::now();
                    black_box(free_slots(black_box(&q)));
                    t.elapsed()
                })
                .collect();
            times.sort();
            println!(
                "free_slots: 1 week, {service}, {n} booked, {bays} bays -> {slots} slots: median {:.1} µs, p99 {:.1} µs, max {:.1} µs (2000 runs)",
                times[1000].as_secs_f64() * 1e6,
                times[1980].as_secs_f64() * 1e6,
                times[1999].as_secs_f64() * 1e6,
            );
        }
    }
}
