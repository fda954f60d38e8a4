//! [`VendorGuard`]: retries with exponential backoff (the `backon` crate) and a circuit
//! breaker ([`otto_core::breaker::Breaker`]) around one vendor's requests made during calls:
//! NHTSA recall lookups and Twilio REST call updates (hang-up, transfer). A retryable failure
//! (timeout, transport error, 429, 5xx) is tried again a few times, at most `max_delay`
//! apart; a request that still fails counts once against the breaker. After `threshold`
//! such failures in a row the breaker opens and requests fail at once with
//! [`GuardError::Open`] for `cooldown`, so a call goes straight to its fallback instead of
//! waiting for every timeout; then one request probes the vendor.
//!
//! Only requests that are safe to repeat go through here: a recall lookup is a GET, and a
//! Twilio call update sets the call's state (completing a completed call is a no-op).

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use backon::{ExponentialBuilder, Retryable};
use otto_core::breaker::Breaker;
use tracing::warn;

use super::metrics as m;

/// Why a guarded request failed.
#[derive(Debug, thiserror::Error)]
pub enum GuardError<E> {
    /// The vendor's breaker is open: nothing was sent.
    #[error("{0}'s circuit breaker is open after repeated failures")]
    Open(&'static str),
    /// The request failed (after its retries, when the error was retryable).
    #[error(transparent)]
    Failed(E),
}

/// How a vendor is retried and when its breaker opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GuardPolicy {
    /// Retries after the first attempt, for retryable errors only.
    pub retries: usize,
    /// The first retry's delay, doubled per retry (with jitter).
    pub min_delay: Duration,
    /// Cap on any delay.
    pub max_delay: Duration,
    /// Failed requests in a row that open the breaker.
    pub threshold: u32,
    /// How long the breaker stays open.
    pub cooldown: Duration,
}

impl GuardPolicy {
    /// For lookups made while a caller waits (NHTSA recalls): one quick retry.
    pub const LOOKUP: Self = Self {
        retries: 1,
        min_delay: Duration::from_millis(200),
        max_delay: Duration::from_millis(500),
        threshold: 3,
        cooldown: Duration::from_secs(30),
    };

    /// For call control in the background (Twilio call updates): a few retries over about
    /// 3 s, since a hang-up or transfer that never lands leaves the caller stuck.
    pub const CONTROL: Self = Self {
        retries: 3,
        min_delay: Duration::from_millis(250),
        max_delay: Duration::from_secs(2),
        threshold: 5,
        cooldown: Duration::from_secs(30),
    };
}

/// A [`Breaker`] shared by every call, on the real clock: the one handle the shell guards a
/// vendor with (the LLM, Deepgram streams, NHTSA, Twilio REST). Cheap to clone: clones share
/// the breaker.
#[derive(Debug, Clone)]
pub struct SharedBreaker(Arc<Mutex<Breaker>>);

impl SharedBreaker {
    /// Opens after `threshold` failures in a row, for `cooldown`.
    pub fn new(threshold: u32, cooldown: std::time::Duration) -> Self {
        Self(Arc::new(Mutex::new(Breaker::new(threshold, cooldown))))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Breaker> {
        // A panic while holding it cannot leave the small state machine half-updated.
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether an attempt may go to the vendor now (see [`Breaker::allow`]).
    pub fn allow(&self) -> bool {
        self.lock().allow(Instant::now())
    }

    /// The attempt succeeded.
    pub fn success(&self) {
        self.lock().success();
    }

    /// The attempt failed now.
    pub fn failure(&self) {
        self.lock().failure(Instant::now());
    }
}

/// Retries and a breaker for one vendor, shared by all calls. See the module docs.
#[derive(Debug)]
pub struct VendorGuard {
    vendor: &'static str,
    policy: GuardPolicy,
    breaker: SharedBreaker,
}

impl VendorGuard {
    /// A guard for `vendor` (the `provider` label of `otto_provider_errors_total`).
    pub fn new(vendor: &'static str, policy: GuardPolicy) -> Self {
        Self {
            vendor,
            policy,
            breaker: SharedBreaker::new(policy.threshold, policy.cooldown),
        }
    }

    /// Runs `request`, retrying while `retryable` says an error may pass, unless the breaker
    /// is open. Every failed attempt is counted in `otto_provider_errors_total{provider}`.
    ///
    /// # Errors
    /// [`GuardError::Open`] without sending anything; [`GuardError::Failed`] with the last
    /// attempt's error.
    pub async fn run<T, E, F, Fut>(
        &self,
        request: F,
        retryable: impl Fn(&E) -> bool,
    ) -> Result<T, GuardError<E>>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
        E: std::fmt::Display,
    {
        if !self.breaker.allow() {
            m::provider_error(self.vendor);
            return Err(GuardError::Open(self.vendor));
        }
        let backoff = ExponentialBuilder::default()
            .with_min_delay(self.policy.min_delay)
            .with_max_delay(self.policy.max_delay)
            .with_max_times(self.policy.retries)
            .with_jitter();
        let result = request
            .retry(backoff)
            .sleep(tokio::time::sleep)
            .when(|e| retryable(e))
            .notify(|e, wait| {
                m::provider_error(self.vendor);
                warn!(vendor = self.vendor, error = %e, wait_ms = wait.as_millis() as u64, "retrying");
            })
            .await;
        match result {
            Ok(v) => {
                self.breaker.success();
                Ok(v)
            }
            Err(e) => {
                m::provider_error(self.vendor);
                self.breaker.failure();
                Err(GuardError::Failed(e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    const FAST: GuardPolicy = GuardPolicy {
        retries: 2,
        min_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(2),
        threshold: 2,
        cooldown: Duration::from_secs(60),
    };

    /// A request that fails with `errors` in turn, then succeeds; counting attempts.
    async fn attempt(n: &AtomicU32, errors: &[&'static str]) -> Result<u32, &'static str> {
        let i = n.fetch_add(1, Ordering::SeqCst) as usize;
        errors.get(i).map_or(Ok(i as u32), |e| Err(*e))
    }

    #[tokio::test]
    async fn retryable_errors_are_retried_and_others_are_not() {
        let guard = VendorGuard::new("test", FAST);
        let n = AtomicU32::new(0);
        let ok = guard
            .run(|| attempt(&n, &["503", "timeout"]), |e| *e != "400")
            .await
            .unwrap();
        assert_eq!(ok, 2, "third attempt succeeded");

        let n = AtomicU32::new(0);
        let e = guard
            .run(|| attempt(&n, &["400", "400"]), |e| *e != "400")
            .await
            .unwrap_err();
        assert!(matches!(e, GuardError::Failed("400")));
        assert_eq!(n.load(Ordering::SeqCst), 1, "a 400 is not retried");

        let n = AtomicU32::new(0);
        let e = guard
            .run(|| attempt(&n, &["503"; 9]), |_| true)
            .await
            .unwrap_err();
        assert!(matches!(e, GuardError::Failed("503")));
        assert_eq!(n.load(Ordering::SeqCst), 3, "first attempt and 2 retries");
    }

    #[tokio::test]
    async fn repeated_failures_open_the_breaker_and_nothing_is_sent() {
        let guard = VendorGuard::new("test", FAST);
        let n = AtomicU32::new(0);
        for _ in 0..2 {
            let _ = guard.run(|| attempt(&n, &["400"; 9]), |_| false).await;
        }
        assert_eq!(n.load(Ordering::SeqCst), 2);
        let e = guard
            .run(|| attempt(&n, &[]), |_: &&str| false)
            .await
            .unwrap_err();
        assert!(matches!(e, GuardError::Open("test")), "{e:?}");
        assert_eq!(n.load(Ordering::SeqCst), 2, "the open breaker sent nothing");
    }
}
