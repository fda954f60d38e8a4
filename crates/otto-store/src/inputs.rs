//! What callers hand the store to create or change records, beyond the `New*` structs of
//! [`otto_core::records`]: appointments, service records, calls, turns, reminders, and the bulk
//! rows the demo seed imports.

use chrono::{DateTime, NaiveDate, Utc};
use otto_core::records::{
    AppointmentStatus, BookingSource, CallDirection, CallLog, CallTurn, Id, Speaker, ToolAction,
    TurnTimings,
};

/// An appointment to book over `[start, end)`. The store picks the bay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAppointment {
    pub customer_id: Id,
    pub vehicle_id: Option<Id>,
    /// Service id from the shop's catalog (`ServiceDef::id`).
    pub service: String,
    pub start: DateTime<Utc>,
    /// Must be after `start` (a database CHECK rejects anything else).
    pub end: DateTime<Utc>,
    pub source: BookingSource,
    pub notes: Option<String>,
}

/// A fully decided appointment for bulk import (demo seed): bay and status are given, no
/// capacity check is made. Only for loading data known to respect the shop's rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedAppointment {
    pub appointment: NewAppointment,
    /// Bay number, ≥ 1.
    pub bay: u32,
    pub status: AppointmentStatus,
}

/// A past job to add to a vehicle's service history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewServiceRecord {
    pub vehicle_id: Id,
    pub date: NaiveDate,
    /// Odometer in miles at the visit.
    pub mileage: Option<u32>,
    pub work: String,
    /// What the customer paid, in US cents, ≥ 0.
    pub cost_cents: i64,
}

/// A call as it starts. `call_sid` is the Twilio call SID ("CA…") or a generated id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCall {
    pub call_sid: String,
    pub direction: CallDirection,
    /// Caller's number as Twilio gave it.
    pub from: String,
    pub to: String,
    pub started_at: DateTime<Utc>,
    pub customer_id: Option<Id>,
}

/// How a call ended. `None` fields leave what is already stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallEnd {
    pub ended_at: DateTime<Utc>,
    /// Short machine-readable outcome, e.g. "booked", "message".
    pub outcome: Option<String>,
    pub summary: Option<String>,
    /// The customer identified during the call, if any.
    pub customer_id: Option<Id>,
}

/// One finished turn to append to a call; the store assigns `seq`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTurn {
    pub speaker: Speaker,
    /// What was said; for an interrupted agent turn, only what was played.
    pub text: String,
    pub at: DateTime<Utc>,
    pub interrupted: bool,
    /// How long an agent turn took to start, when it answered a caller turn on a call.
    pub timings: Option<TurnTimings>,
    /// The turn's place in the call, when the writer numbers turns itself (a call runner that
    /// retries writes): a retried write of a seq already stored changes nothing, and a turn
    /// that could not be written leaves a gap rather than renumbering the rest. `None`: the
    /// store numbers it next.
    pub seq: Option<u32>,
}

/// A call with its transcript, turns in `seq` order, and what its tools did, by time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRecord {
    pub call: CallLog,
    pub turns: Vec<CallTurn>,
    pub actions: Vec<ToolAction>,
}

/// Something a tool did on a call, to record beside its transcript.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewToolAction {
    pub call_id: Id,
    pub at: DateTime<Utc>,
    /// The tool's name; 1..=64 characters.
    pub tool: String,
    /// What it did; at most 2,000 characters (longer text is cut).
    pub detail: String,
}

/// Which calls to list (all filters optional, combined with AND), newest first.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CallQuery {
    /// Started at or after.
    pub since: Option<DateTime<Utc>>,
    /// Started before.
    pub until: Option<DateTime<Utc>>,
    /// Exact outcome, e.g. "booked"; `Some("")` means calls with no outcome.
    pub outcome: Option<String>,
    /// The identified customer.
    pub customer_id: Option<Id>,
    /// At most this many (capped at 10,000; 0 means none).
    pub limit: u32,
}

/// A background job to enqueue; it starts `pending` with 0 attempts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    /// Which handler runs it; 1..=64 characters.
    pub kind: String,
    /// The handler's input, JSON text.
    pub payload: String,
    /// When set, a second job with the same key is not enqueued (the first is returned).
    pub dedup_key: Option<String>,
    /// Not run before this instant.
    pub run_at: DateTime<Utc>,
    /// Attempts before a failing job is buried; at least 1.
    pub max_attempts: u32,
}

/// A message a caller leaves for the staff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    pub call_id: Option<Id>,
    pub customer_id: Option<Id>,
    /// The number to call back (E.164) or "anonymous".
    pub from_phone: String,
    pub caller_name: Option<String>,
    /// 1..=2000 characters.
    pub body: String,
    pub created_at: DateTime<Utc>,
}

/// Attempts a `calendar.sync` job gets before the worker buries it: with the default backoff
/// (5 s doubling to 10 min) about 7 hours of a Google outage; the reconcile enqueues again
/// what is still out of sync after that.
pub const CALENDAR_SYNC_ATTEMPTS: u32 = 48;

/// The dedup key of the `calendar.sync` job for `appointment` as it now is: one job per
/// change (status, start, last update in ms).
pub fn calendar_sync_key(appointment: &otto_core::records::Appointment) -> String {
    format!(
        "{}:{}:{}:{}:{}",
        otto_core::records::CALENDAR_SYNC_JOB,
        appointment.id,
        appointment.status.as_str(),
        appointment.start.timestamp_millis(),
        appointment.updated_at.timestamp_millis()
    )
}
