//! Call admission: one permit per live call (`server.max_concurrent_calls`). The webhook
//! reserves a permit before it answers with `<Connect><Stream>`, and the call takes that
//! reservation when its media stream starts, so a burst of webhooks never promises more streams
//! than Otto will take: past the limit, callers hear the busy message at once. A reservation
//! whose stream has not started within `server.stream_wait_secs` is released, and its call log
//! closed ([`Admission::expired`]).
//!
//! A stream whose webhook another instance answered (several instances behind one URL) finds no
//! reservation here and takes a free permit, if there is one.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The permits and the reservations waiting for their stream.
#[derive(Debug)]
pub struct Admission {
    max: usize,
    permits: Arc<Semaphore>,
    /// Call SID → (permit, when reserved).
    held: Mutex<HashMap<String, (OwnedSemaphorePermit, Instant)>>,
    wait: Duration,
}

impl Admission {
    /// `max` permits (≥ 1); reservations last `wait`.
    pub fn new(max: usize, wait: Duration) -> Self {
        Self {
            max,
            permits: Arc::new(Semaphore::new(max)),
            held: Mutex::new(HashMap::new()),
            wait,
        }
    }

    fn held(&self) -> MutexGuard<'_, HashMap<String, (OwnedSemaphorePermit, Instant)>> {
        // A panic while holding this lock leaves the map consistent (single inserts/removes).
        self.held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Reserves a permit for `call_sid`; false when every permit is taken. A repeated webhook
    /// for a call already holding a reservation keeps the one it has.
    pub fn reserve(&self, call_sid: &str) -> bool {
        let mut held = self.held();
        if held.contains_key(call_sid) {
            return true;
        }
        match self.permits.clone().try_acquire_owned() {
            Ok(permit) => {
                held.insert(call_sid.to_string(), (permit, Instant::now()));
                true
            }
            Err(_) => false,
        }
    }

    /// The permit for a stream that started: its reservation, or else a free permit; `None` at
    /// the limit.
    pub fn claim(&self, call_sid: &str) -> Option<OwnedSemaphorePermit> {
        if let Some((permit, _)) = self.held().remove(call_sid) {
            return Some(permit);
        }
        self.permits.clone().try_acquire_owned().ok()
    }

    /// Releases reservations older than the wait; returns their call SIDs.
    pub fn expired(&self) -> Vec<String> {
        let now = Instant::now();
        let mut held = self.held();
        let stale: Vec<String> = held
            .iter()
            .filter(|(_, (_, at))| now.duration_since(*at) >= self.wait)
            .map(|(sid, _)| sid.clone())
            .collect();
        for sid in &stale {
            held.remove(sid);
        }
        stale
    }

    /// Permits taken, by live calls and by reservations.
    pub fn taken(&self) -> usize {
        self.max - self.permits.available_permits()
    }

    /// Permits free.
    pub fn available(&self) -> usize {
        self.permits.available_permits()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhooks_reserve_and_streams_claim() {
        let a = Admission::new(2, Duration::from_secs(30));
        assert!(a.reserve("CA1"));
        assert!(a.reserve("CA1"), "a repeated webhook keeps its reservation");
        assert!(a.reserve("CA2"));
        assert!(!a.reserve("CA3"), "the limit counts reservations");
        let p1 = a.claim("CA1").unwrap();
        assert_eq!(a.taken(), 2);
        assert!(
            a.claim("CA9").is_none(),
            "no reservation and no free permit"
        );
        drop(p1);
        assert!(
            a.claim("CA9").is_some(),
            "a stream another instance answered"
        );
    }

    #[test]
    fn reservations_without_a_stream_expire() {
        let a = Admission::new(1, Duration::from_millis(0));
        assert!(a.reserve("CA1"));
        assert_eq!(a.expired(), ["CA1"]);
        assert_eq!(a.available(), 1);
        assert!(a.expired().is_empty());
    }
}
