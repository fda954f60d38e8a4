//! [`Breaker`]: a circuit breaker for a vendor (the LLM, speech, NHTSA, Twilio REST). After
//! `threshold` failures in a row it opens: callers skip the vendor and go straight to their
//! fallback instead of waiting for each timeout. After `cooldown` it lets one attempt through
//! (half-open): a success closes it, a failure opens it again for another cooldown.
//!
//! Pure: callers pass the current instant, so the state machine is tested without sleeping.

use std::time::{Duration, Instant};

/// Where the breaker stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// Attempts go through; `failures` in a row so far.
    Closed { failures: u32 },
    /// Attempts are refused until `until`.
    Open { until: Instant },
    /// One attempt is under way after the cooldown; others are refused until it ends.
    HalfOpen,
}

/// A circuit breaker. See the module docs.
#[derive(Debug, Clone)]
pub struct Breaker {
    threshold: u32,
    cooldown: Duration,
    state: BreakerState,
}

impl Breaker {
    /// Opens after `threshold` (≥ 1) failures in a row, for `cooldown`.
    pub fn new(threshold: u32, cooldown: Duration) -> Self {
        Self {
            threshold: threshold.max(1),
            cooldown,
            state: BreakerState::Closed { failures: 0 },
        }
    }

    /// The current state.
    pub fn state(&self) -> BreakerState {
        self.state
    }

    /// Whether an attempt may go to the vendor at `now`. An open breaker whose cooldown is over
    /// becomes half-open and allows exactly this one attempt.
    pub fn allow(&mut self, now: Instant) -> bool {
        match self.state {
            BreakerState::Closed { .. } => true,
            BreakerState::Open { until } if now >= until => {
                self.state = BreakerState::HalfOpen;
                true
            }
            BreakerState::Open { .. } | BreakerState::HalfOpen => false,
        }
    }

    /// The attempt succeeded: the breaker closes.
    pub fn success(&mut self) {
        self.state = BreakerState::Closed { failures: 0 };
    }

    /// The attempt failed at `now`: one more failure in a row, opening at the threshold (at
    /// once when half-open).
    pub fn failure(&mut self, now: Instant) {
        self.state = match self.state {
            BreakerState::Closed { failures } if failures + 1 < self.threshold => {
                BreakerState::Closed {
                    failures: failures + 1,
                }
            }
            _ => BreakerState::Open {
                until: now + self.cooldown,
            },
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_the_threshold_and_probes_after_the_cooldown() {
        let t0 = Instant::now();
        let mut b = Breaker::new(3, Duration::from_secs(30));
        for _ in 0..2 {
            assert!(b.allow(t0));
            b.failure(t0);
        }
        assert!(b.allow(t0), "two failures: still closed");
        b.success();
        for _ in 0..3 {
            assert!(b.allow(t0));
            b.failure(t0);
        }
        assert!(!b.allow(t0), "three in a row: open");
        assert!(!b.allow(t0 + Duration::from_secs(29)));
        let later = t0 + Duration::from_secs(30);
        assert!(b.allow(later), "the cooldown is over: one probe");
        assert!(!b.allow(later), "only one probe at a time");
        b.failure(later);
        assert!(
            !b.allow(later + Duration::from_secs(1)),
            "the probe failed: open again"
        );
        let much_later = later + Duration::from_secs(31);
        assert!(b.allow(much_later));
        b.success();
        assert_eq!(b.state(), BreakerState::Closed { failures: 0 });
        assert!(b.allow(much_later));
    }
}
