//! [`GoogleBusy`]: the shop's [`Calendar`] over `freeBusy.query` (`google-calendar.md` §3).
//!
//! A query is widened to whole UTC days and its answer reused for `busy_cache_secs` (default
//! 60 s); [`invalidate_all`] forgets every answer of every [`GoogleBusy`] in the process
//! (called after Otto writes an event, also from the job worker, which holds its own client).
//! Each answer is awaited at most `busy_deadline_ms`: past it, or when Google fails, the
//! caller gets a [`CalendarError`] and slots come from Otto's own records. Every failure is
//! counted in `otto_calendar_unavailable_total{reason}` (`timeout`, `error`, `auth`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, NaiveTime, Utc};
use otto_core::calendar::{Calendar, CalendarError};
use otto_core::scheduling::Interval;

use super::api::GoogleCalendarClient;
use crate::ProviderError;

/// Most cached answers (day ranges).
const CACHE_CAPACITY: u64 = 1_000;

/// Bumped by [`invalidate_all`]; cached answers of an older generation are not used.
static GENERATION: AtomicU64 = AtomicU64::new(0);

/// Forgets every cached busy answer in this process (Otto just changed a calendar).
pub fn invalidate_all() {
    GENERATION.fetch_add(1, Ordering::SeqCst);
}

/// Busy time of the configured calendars, cached and under a deadline. Cheap to clone (the
/// cache is shared).
#[derive(Debug, Clone)]
pub struct GoogleBusy {
    client: GoogleCalendarClient,
    calendars: Vec<String>,
    deadline: Duration,
    /// Answers by (generation, window start s, window end s).
    cache: Option<moka::sync::Cache<(u64, i64, i64), Vec<Interval>>>,
}

impl GoogleBusy {
    /// Busy time of `calendars` through `client`, answers kept `cache_secs` (0: not cached)
    /// and awaited at most `deadline_ms`.
    pub fn new(
        client: GoogleCalendarClient,
        calendars: Vec<String>,
        cache_secs: u64,
        deadline_ms: u64,
    ) -> Self {
        let cache = (cache_secs > 0).then(|| {
            moka::sync::Cache::builder()
                .max_capacity(CACHE_CAPACITY)
                .time_to_live(Duration::from_secs(cache_secs))
                .build()
        });
        Self {
            client,
            calendars,
            deadline: Duration::from_millis(deadline_ms.max(1)),
            cache,
        }
    }

    /// The client (for `/ready` and `otto calendar check`).
    pub fn client(&self) -> &GoogleCalendarClient {
        &self.client
    }
}

#[async_trait]
impl Calendar for GoogleBusy {
    async fn busy(&self, window: &Interval) -> Result<Vec<Interval>, CalendarError> {
        let wide = whole_days(window);
        let key = (
            GENERATION.load(Ordering::SeqCst),
            wide.start.timestamp(),
            wide.end.timestamp(),
        );
        if let Some(hit) = self.cache.as_ref().and_then(|c| c.get(&key)) {
            return Ok(hit);
        }
        let answer =
            tokio::time::timeout(self.deadline, self.client.free_busy(&wide, &self.calendars))
                .await;
        let failure = match answer {
            Ok(Ok(busy)) => {
                if let Some(c) = &self.cache {
                    c.insert(key, busy.clone());
                }
                return Ok(busy);
            }
            Ok(Err(e)) => e,
            Err(_) => ProviderError::Timeout {
                vendor: super::VENDOR,
                after_ms: self.deadline.as_millis() as u64,
            },
        };
        let reason = match &failure {
            ProviderError::Timeout { .. } => "timeout",
            ProviderError::Status { code: Some(c), .. } if c == "invalid_grant" => "auth",
            _ => "error",
        };
        metrics::counter!("otto_calendar_unavailable_total", "reason" => reason).increment(1);
        tracing::warn!(error = %failure, "google calendar busy time unavailable");
        Err(CalendarError {
            message: failure.to_string(),
            retryable: failure.retryable(),
        })
    }

    fn health(&self) -> Option<String> {
        match self.client.tokens().state() {
            super::AuthState::Reauthorise(_) => Some("reauthorise".into()),
            _ => None,
        }
    }
}

/// `window` widened to whole UTC days (so nearby queries share one cached answer).
fn whole_days(window: &Interval) -> Interval {
    let start = window.start.date_naive().and_time(NaiveTime::MIN).and_utc();
    let mut end: DateTime<Utc> = window.end.date_naive().and_time(NaiveTime::MIN).and_utc();
    if end < window.end || end <= start {
        end += chrono::Duration::days(1);
    }
    Interval { start, end }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn windows_widen_to_whole_utc_days() {
        let t = |d, h, m| {
            Utc.with_ymd_and_hms(2026, 3, d, h, m, 0)
                .single()
                .expect("time")
        };
        let w = whole_days(&Interval {
            start: t(8, 13, 0),
            end: t(8, 14, 0),
        });
        assert_eq!((w.start, w.end), (t(8, 0, 0), t(9, 0, 0)));
        let w = whole_days(&Interval {
            start: t(8, 5, 0),
            end: t(10, 0, 0),
        });
        assert_eq!((w.start, w.end), (t(8, 0, 0), t(10, 0, 0)));
    }
}
