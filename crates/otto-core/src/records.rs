//! The shop's records as plain data: customers, vehicles, appointments, service history, call
//! logs with their turns, and reminders.
//!
//! These structs are what the store returns and what the dialogue and dashboard show. `New*`
//! structs are what callers of the store supply to create a record; the store assigns ids and
//! timestamps. All instants are UTC (`DateTime<Utc>`); convert to the shop's zone only for display
//! and for the scheduling rules. Money is in US cents, durations in seconds unless named otherwise.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::{Email, PhoneNumber, UsState, Vin};

/// Primary key of any record (SQLite INTEGER / PostgreSQL BIGINT).
pub type Id = i64;

/// A postal address in the US.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    pub street: String,
    pub city: String,
    pub state: UsState,
    /// ZIP or ZIP+4, as given.
    pub postal_code: String,
}

/// A customer of the shop. The phone number is unique and is how callers are recognised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    pub id: Id,
    pub name: String,
    pub phone: PhoneNumber,
    pub email: Option<Email>,
    pub address: Option<Address>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Fields to create a customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewCustomer {
    pub name: String,
    pub phone: PhoneNumber,
    pub email: Option<Email>,
    pub address: Option<Address>,
}

/// A vehicle owned by a customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vehicle {
    pub id: Id,
    pub customer_id: Id,
    /// Unique across all vehicles when present.
    pub vin: Option<Vin>,
    /// Model year, 1900..=2100.
    pub year: u16,
    pub make: String,
    pub model: String,
    pub trim: Option<String>,
    /// Odometer reading in miles, when known.
    pub mileage: Option<u32>,
    /// License plate as given.
    pub plate: Option<String>,
}

/// Fields to create a vehicle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewVehicle {
    pub customer_id: Id,
    pub vin: Option<Vin>,
    pub year: u16,
    pub make: String,
    pub model: String,
    pub trim: Option<String>,
    pub mileage: Option<u32>,
    pub plate: Option<String>,
}

/// Lifecycle of an appointment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppointmentStatus {
    Scheduled,
    Confirmed,
    Cancelled,
    Completed,
    NoShow,
}

/// Where a booking came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BookingSource {
    Phone,
    Text,
    Dashboard,
}

/// A booked job in one bay over `[start, end)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Appointment {
    pub id: Id,
    pub customer_id: Id,
    pub vehicle_id: Option<Id>,
    /// Service id from the shop's catalog (`ServiceDef::id`).
    pub service: String,
    pub start: DateTime<Utc>,
    /// Strictly after `start`.
    pub end: DateTime<Utc>,
    /// Bay number, 1..=bays.
    pub bay: u32,
    pub status: AppointmentStatus,
    pub notes: Option<String>,
    pub source: BookingSource,
    /// Id of the mirrored Google Calendar event, once synced.
    pub calendar_event_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A past job on a vehicle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceRecord {
    pub id: Id,
    pub vehicle_id: Id,
    pub date: NaiveDate,
    /// Odometer in miles at the visit.
    pub mileage: Option<u32>,
    pub work: String,
    /// What the customer paid, in US cents.
    pub cost_cents: i64,
}

/// Direction of a call or conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallDirection {
    Inbound,
    Outbound,
}

/// One call (or text conversation), identified by its Twilio call SID or a generated id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallLog {
    pub id: Id,
    /// Twilio call SID ("CA…") or a generated conversation id; unique.
    pub call_sid: String,
    pub direction: CallDirection,
    /// Caller's number as Twilio gave it (E.164, or "anonymous"-like values for withheld IDs).
    pub from: String,
    pub to: String,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    /// Whole seconds, once ended.
    pub duration_secs: Option<u32>,
    /// Short machine-readable outcome, e.g. "booked", "cancelled", "transferred", "message".
    pub outcome: Option<String>,
    pub summary: Option<String>,
    pub customer_id: Option<Id>,
}

/// Who spoke a turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Speaker {
    Caller,
    Agent,
}

/// One finished turn of a call's transcript.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallTurn {
    pub id: Id,
    pub call_id: Id,
    /// 0-based position in the call; unique per call.
    pub seq: u32,
    pub speaker: Speaker,
    /// What was said; for an interrupted agent turn, only what was actually played.
    pub text: String,
    pub at: DateTime<Utc>,
    /// True when the caller barged in on this (agent) turn.
    pub interrupted: bool,
    /// For an agent turn that answered a caller turn on a call: how long the reply took.
    pub timings: Option<TurnTimings>,
}

/// Stage latencies of one reply, ms, each measured from the end of the caller's speech (see
/// `otto_core::engine::TurnLatency`, which these are rounded from).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TurnTimings {
    /// To the caller's turn being committed (the transcript final and endpointed).
    pub transcript_ms: u32,
    /// To the first sentence of the reply.
    pub first_text_ms: u32,
    /// To the first TTS audio byte.
    pub first_audio_ms: u32,
    /// To the first frame handed to Twilio: the turn latency the caller hears.
    pub first_frame_ms: u32,
}

/// Something a tool did on a call (booked, moved, cancelled, took a message…), shown beside the
/// transcript on the dashboard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolAction {
    pub id: Id,
    pub call_id: Id,
    pub at: DateTime<Utc>,
    /// The tool's name, e.g. "book_appointment".
    pub tool: String,
    /// What it did, in words, e.g. "Booked oil change on Tue Dec 8 at 9:00 AM (#12)".
    pub detail: String,
}

/// What a staff member may do. Owners also manage accounts and see the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StaffRole {
    Owner,
    Staff,
}

/// A staff account, without its password hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffMember {
    pub id: Id,
    /// Sign-in name, 1..=64 characters of letters, digits, `.`, `_`, `-`; unique.
    pub name: String,
    pub role: StaffRole,
    pub created_at: DateTime<Utc>,
}

/// One staff write, for the audit log: who did what to which record, when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: Id,
    pub at: DateTime<Utc>,
    /// The staff member's name.
    pub staff: String,
    /// What was done, e.g. "appointment.move".
    pub action: String,
    /// The record, e.g. "appointment #12".
    pub subject: String,
    /// Before and after, in words.
    pub detail: String,
}

/// How a reminder reaches the customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReminderChannel {
    Sms,
    Call,
}

/// What a reminder says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReminderKind {
    /// Sent right after a booking or a move: "you're booked for …".
    Confirmation,
    /// Sent a set time before the appointment (default 24 h): "see you tomorrow at …".
    Reminder,
}

/// Where a reminder is in its life: `pending` → `claimed` (a worker is sending it) → `sent`
/// (Twilio accepted it; its SID is stored) → `delivered` or `failed` (Twilio's status
/// callback, or a refusal), or `cancelled` (its appointment was cancelled or moved, the
/// number opted out, or the channel is off).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReminderStatus {
    Pending,
    Claimed,
    Sent,
    Delivered,
    Failed,
    Cancelled,
}

/// The job kind that sends a reminder (`otto-jobs`); its payload is the reminder id.
pub const REMINDER_JOB: &str = "reminder.send";

/// The job kind that mirrors an appointment into the shop's calendar (create, move or delete
/// its event, `otto-jobs`); its payload is the appointment id.
pub const CALENDAR_SYNC_JOB: &str = "calendar.sync";

/// A confirmation or reminder for one appointment at one start time. A moved appointment gets
/// new rows for its new start; each row is sent at most once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reminder {
    pub id: Id,
    pub appointment_id: Id,
    pub kind: ReminderKind,
    pub channel: ReminderChannel,
    /// The appointment's start this reminder is about.
    pub appointment_start: DateTime<Utc>,
    /// Not sent before this instant (quiet hours already applied).
    pub due_at: DateTime<Utc>,
    pub status: ReminderStatus,
    /// Sends tried (a call retried after no answer counts again).
    pub attempts: u32,
    /// Twilio's message SID (`SM…`) or call SID (`CA…`) once Twilio accepted it.
    pub provider_sid: Option<String>,
    /// Twilio's last reported status (`delivered`, `undelivered`, `no-answer`, …).
    pub provider_status: Option<String>,
    /// Why the last attempt failed (never a secret or a full number).
    pub last_error: Option<String>,
    /// When a worker last started sending it.
    pub claimed_at: Option<DateTime<Utc>>,
    /// When Twilio accepted it.
    pub sent_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A message a caller left for the staff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub id: Id,
    /// The call (or chat) it was taken in.
    pub call_id: Option<Id>,
    /// The caller, when identified.
    pub customer_id: Option<Id>,
    /// The number to call back: the caller ID (E.164), or "anonymous".
    pub from_phone: String,
    /// The caller's name, when known.
    pub caller_name: Option<String>,
    /// The message in the caller's words, 1..=2000 characters.
    pub body: String,
    pub created_at: DateTime<Utc>,
    /// When a staff member marked it handled.
    pub handled_at: Option<DateTime<Utc>>,
    /// Who marked it handled.
    pub handled_by: Option<String>,
}

/// Where a background job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// Waiting for its `run_at`.
    Pending,
    /// Claimed by a worker whose lease has not expired.
    Running,
    /// Finished.
    Done,
    /// Gave up: a permanent failure, or out of attempts.
    Dead,
}

/// A background job (see `otto-jobs`): what to do (`kind` and a JSON `payload`), when, and
/// how its attempts went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    pub id: Id,
    /// Which handler runs it, e.g. "reminder.sms"; 1..=64 characters.
    pub kind: String,
    /// The handler's input, JSON text.
    pub payload: String,
    /// Enqueueing a job with a key already stored is a no-op that returns the stored job.
    pub dedup_key: Option<String>,
    pub status: JobStatus,
    /// Claims so far (each claim is an attempt).
    pub attempts: u32,
    /// Attempts after which a failing job is buried.
    pub max_attempts: u32,
    /// Not run before this instant.
    pub run_at: DateTime<Utc>,
    /// The worker holding the lease while `running`.
    pub lease_owner: Option<String>,
    /// When the lease runs out: after it, another worker may claim the job again.
    pub lease_until: Option<DateTime<Utc>>,
    /// What the last failed attempt said.
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    /// The last change of status, lease or error (the store's wall clock).
    pub updated_at: DateTime<Utc>,
}

macro_rules! str_enum {
    ($t:ty { $($v:ident = $s:literal),+ $(,)? }) => {
        impl $t {
            /// The snake_case name stored in the database and shown in the API.
            pub fn as_str(&self) -> &'static str {
                match self { $(Self::$v => $s),+ }
            }
        }
        impl std::str::FromStr for $t {
            type Err = String;
            /// Parses the snake_case name; the error names the accepted values.
            fn from_str(s: &str) -> Result<Self, String> {
                match s { $($s => Ok(Self::$v),)+
                    _ => Err(format!("{s:?} is not one of: {}", [$($s),+].join(", "))) }
            }
        }
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

str_enum!(AppointmentStatus {
    Scheduled = "scheduled",
    Confirmed = "confirmed",
    Cancelled = "cancelled",
    Completed = "completed",
    NoShow = "no_show",
});
str_enum!(BookingSource {
    Phone = "phone",
    Text = "text",
    Dashboard = "dashboard",
});
str_enum!(CallDirection {
    Inbound = "inbound",
    Outbound = "outbound",
});
str_enum!(Speaker {
    Caller = "caller",
    Agent = "agent",
});
str_enum!(StaffRole {
    Owner = "owner",
    Staff = "staff",
});
str_enum!(ReminderChannel {
    Sms = "sms",
    Call = "call",
});
str_enum!(ReminderKind {
    Confirmation = "confirmation",
    Reminder = "reminder",
});
str_enum!(ReminderStatus {
    Pending = "pending",
    Claimed = "claimed",
    Sent = "sent",
    Delivered = "delivered",
    Failed = "failed",
    Cancelled = "cancelled",
});
str_enum!(JobStatus {
    Pending = "pending",
    Running = "running",
    Done = "done",
    Dead = "dead",
});

impl AppointmentStatus {
    /// True for statuses that occupy a bay (scheduled, confirmed).
    pub fn is_active(&self) -> bool {
        matches!(self, Self::Scheduled | Self::Confirmed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_round_trip_through_their_names() {
        for s in [
            AppointmentStatus::Scheduled,
            AppointmentStatus::Confirmed,
            AppointmentStatus::Cancelled,
            AppointmentStatus::Completed,
            AppointmentStatus::NoShow,
        ] {
            assert_eq!(s.as_str().parse::<AppointmentStatus>().unwrap(), s);
        }
        assert_eq!(
            serde_json::to_string(&AppointmentStatus::NoShow).unwrap(),
            "\"no_show\""
        );
        let err = "done".parse::<AppointmentStatus>().unwrap_err();
        assert!(err.contains("no_show"), "{err}");
    }
}
