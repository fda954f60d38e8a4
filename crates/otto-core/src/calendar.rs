//! The shop's calendar as the booking rules see it: the [`Calendar`] interface that a calendar
//! client (Google Calendar, `shared/protocols/google-calendar.md`) implements and the shop
//! service layer (`otto-shop`) consults, so that time the shop has blocked elsewhere is never
//! offered or booked.
//!
//! Only the interface lives here; nothing in this module does I/O.

use async_trait::async_trait;

use crate::scheduling::Interval;

/// Why the calendar could not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("calendar: {message}")]
pub struct CalendarError {
    /// What went wrong, fit for a log line (never a secret or a token).
    pub message: String,
    /// Whether asking again later may succeed (timeouts, 429, 5xx).
    pub retryable: bool,
}

/// What a busy block of the shop's calendar takes from the shop while it lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BusyEffect {
    /// The shop is closed: no bay can be booked (the default).
    #[default]
    CloseShop,
    /// One bay is taken per overlapping busy block (a technician off, a loaner booked).
    OneBay,
}

/// A source of busy time (what it takes from the shop is a [`BusyEffect`], chosen where the
/// shop is built).
#[async_trait]
pub trait Calendar: Send + Sync + std::fmt::Debug {
    /// The busy blocks overlapping `window` (UTC, half-open `[start, end)`), in any order;
    /// blocks may extend beyond the window.
    ///
    /// # Errors
    /// [`CalendarError`] when the calendar cannot be read in time; callers then fall back to
    /// the shop's own records.
    async fn busy(&self, window: &Interval) -> Result<Vec<Interval>, CalendarError>;

    /// A problem only an operator can fix, in a word or two for `/ready` (e.g.
    /// `"reauthorise"` when the calendar's authorisation was revoked); `None` when there is
    /// none (passing outages are not reported here).
    fn health(&self) -> Option<String> {
        None
    }
}
