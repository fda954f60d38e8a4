//! Bay assignment: the rule the store applies when booking and the shop façade applies when
//! offering slots, so that what is offered is what can be booked.
//!
//! A vehicle stays in one bay for its whole job, so a time `[start, end)` is bookable when at
//! least one bay in `1..=bays` has no active appointment overlapping it.

use crate::records::Appointment;
use chrono::{DateTime, Utc};

/// The lowest bay number in `1..=bays` that is not in `busy` (the bays of the active
/// appointments overlapping the wanted time), or `None` when all are busy.
pub fn first_free_bay(busy: &[u32], bays: u32) -> Option<u32> {
    (1..=bays).find(|b| !busy.contains(b))
}

/// How many bays in `1..=bays` are free for the whole of `[start, end)`, given the active
/// `appointments` (any order; those not overlapping are ignored).
pub fn free_bays_during(
    appointments: &[Appointment],
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    bays: u32,
) -> u32 {
    let busy: Vec<u32> = appointments
        .iter()
        .filter(|a| a.start < end && start < a.end)
        .map(|a| a.bay)
        .collect();
    (1..=bays).filter(|b| !busy.contains(b)).count() as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_free_bay_skips_busy_bays() {
        assert_eq!(first_free_bay(&[], 2), Some(1));
        assert_eq!(first_free_bay(&[1], 2), Some(2));
        assert_eq!(first_free_bay(&[2, 1], 2), None);
        assert_eq!(first_free_bay(&[3], 2), Some(1));
        assert_eq!(first_free_bay(&[], 0), None);
    }
}
