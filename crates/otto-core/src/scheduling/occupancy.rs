//! [`Occupancy`]: how many intervals cover each instant, as a step function built once by a
//! sweep line, so that the peak over any window is a binary search plus a short scan.

use chrono::{DateTime, Utc};

use super::Interval;

/// Concurrency of a set of half-open intervals as a step function: from `times[i]` (inclusive)
/// until `times[i + 1]` (exclusive) exactly `counts[i]` intervals cover the instant; before
/// `times[0]` none do. Building is O(n log n); [`Occupancy::peak`] is O(log n + breakpoints
/// inside the window).
#[derive(Debug, Clone, Default)]
pub(super) struct Occupancy {
    times: Vec<DateTime<Utc>>,
    counts: Vec<u32>,
}

impl Occupancy {
    /// Sweeps `intervals` once. Empty or inverted intervals (`end <= start`) cover nothing.
    pub(super) fn new(intervals: &[Interval]) -> Self {
        let mut events: Vec<(DateTime<Utc>, i32)> = intervals
            .iter()
            .filter(|i| i.start < i.end)
            .flat_map(|i| [(i.start, 1), (i.end, -1)])
            .collect();
        // At equal times ends (-1) sort before starts (+1): half-open intervals that merely
        // touch never overlap.
        events.sort_unstable();
        let mut out = Self::default();
        let mut count: i64 = 0;
        for (i, (time, delta)) in events.iter().enumerate() {
            count += i64::from(*delta);
            let last_at_this_time = events.get(i + 1).is_none_or(|(next, _)| next != time);
            if last_at_this_time {
                out.times.push(*time);
                out.counts
                    .push(u32::try_from(count).expect("every end follows its start"));
            }
        }
        out
    }

    /// The most intervals covering any single instant of `window` (0 for an empty window).
    pub(super) fn peak(&self, window: &Interval) -> u32 {
        if window.start >= window.end {
            return 0;
        }
        let first_after_start = self.times.partition_point(|t| *t <= window.start);
        let at_start = first_after_start
            .checked_sub(1)
            .map_or(0, |i| self.counts[i]);
        self.times[first_after_start..]
            .iter()
            .zip(&self.counts[first_after_start..])
            .take_while(|(t, _)| **t < window.end)
            .map(|(_, c)| *c)
            .fold(at_start, u32::max)
    }
}
