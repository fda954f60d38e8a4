//! The [`CalendarStore`] trait: what the Google Calendar integration (issue #12) keeps in the
//! database so it survives restarts and is shared by every instance: named values
//! ([`SYNC_TOKEN_PREFIX`] per calendar, [`REFRESH_TOKEN`]) and the drift found by the
//! reconcile ([`CalendarDrift`]), which the dashboard shows.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use otto_core::records::Id;

use crate::store::StoreResult;

/// The state name of a calendar's `nextSyncToken` is this followed by the calendar id.
pub const SYNC_TOKEN_PREFIX: &str = "sync_token:";
/// The state name of the owner's refresh token stored by `otto calendar connect`.
pub const REFRESH_TOKEN: &str = "refresh_token";
/// Longest state name accepted, bytes (a calendar id is at most 1,024).
pub const MAX_STATE_NAME: usize = 1100;
/// Longest state value accepted, bytes.
pub const MAX_STATE_VALUE: usize = 8000;

/// An event of Otto's in Google that no longer matches its booking: moved or deleted by hand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarDrift {
    /// The appointment.
    pub appointment_id: Id,
    /// The booking's start and end (UTC) when the drift was found.
    pub booked: (DateTime<Utc>, DateTime<Utc>),
    /// The event's start and end then (UTC); `None` when the event was deleted in Google.
    pub event: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// When the reconcile found it.
    pub found_at: DateTime<Utc>,
}

/// Calendar state and drift. Errors as for [`crate::Store`]; a name or value longer than
/// [`MAX_STATE_NAME`] / [`MAX_STATE_VALUE`] bytes is [`crate::StoreError::Rejected`].
#[async_trait]
pub trait CalendarStore: Send + Sync {
    /// The value stored under `name`.
    async fn calendar_state(&self, name: &str) -> StoreResult<Option<String>>;
    /// Stores (`Some`) or removes (`None`) the value under `name`.
    async fn set_calendar_state(&self, name: &str, value: Option<&str>) -> StoreResult<()>;
    /// Records `drift`, replacing the appointment's earlier one. Ignored for an appointment
    /// that no longer exists.
    async fn record_calendar_drift(&self, drift: &CalendarDrift) -> StoreResult<()>;
    /// Forgets the drift of `appointment_id` (its event matches again); a no-op without one.
    async fn clear_calendar_drift(&self, appointment_id: Id) -> StoreResult<()>;
    /// The drifts of appointments still active (scheduled or confirmed), latest found
    /// first, at most `limit` (capped at 10,000).
    async fn calendar_drifts(&self, limit: u32) -> StoreResult<Vec<CalendarDrift>>;
}
