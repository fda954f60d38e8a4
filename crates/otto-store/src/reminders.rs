//! [`ReminderStore`]: confirmations and reminders with their send state, the numbers that
//! opted out of texts (STOP), and what an SMS conversation waits for. Every [`crate::Store`] is
//! also a `ReminderStore`; the SQL lives in `sql_reminders`.
//!
//! Each reminder row is sent by one job ([`REMINDER_JOB`], payload the reminder id) that the
//! store enqueues in the same transaction as the row, so the worker's leases, retries and
//! backoff apply and a row is never without its job. The store also keeps reminders with
//! their appointment: [`crate::Store::book`] and [`crate::Store::reschedule`] add a pending
//! SMS confirmation for the (new) start, and a move or a cancellation cancels the pending
//! reminders of the old start.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use otto_core::domain::PhoneNumber;
use otto_core::records::{
    Id, REMINDER_JOB, Reminder, ReminderChannel, ReminderKind, ReminderStatus,
};

use crate::store::StoreResult;

/// Attempts a reminder's send job gets before the worker buries it.
pub const REMINDER_JOB_ATTEMPTS: u32 = 8;

/// The dedup key of the send job for reminder `id`'s attempt round `round` (0 for the first
/// job; a call retried after no answer gets round 1).
pub fn reminder_job_key(id: Id, round: u32) -> String {
    format!("{REMINDER_JOB}:{id}:{round}")
}

/// A reminder to add; it starts `pending` with 0 attempts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReminder {
    pub appointment_id: Id,
    pub kind: ReminderKind,
    pub channel: ReminderChannel,
    /// The appointment start it is about (part of its identity).
    pub appointment_start: DateTime<Utc>,
    /// When to send it.
    pub due_at: DateTime<Utc>,
}

/// A guarded change of one reminder ([`ReminderStore::change_reminder`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReminderChange {
    /// The change applies only to a row in one of these statuses.
    pub from: Vec<ReminderStatus>,
    /// The status it gets.
    pub to: ReminderStatus,
    /// When set: the row's provider SID must be empty or equal to it, and becomes it.
    pub provider_sid: Option<String>,
    /// When set, replaces the provider status (≤ 32 characters kept).
    pub provider_status: Option<String>,
    /// When set, replaces the last error (≤ 500 characters kept).
    pub last_error: Option<String>,
    /// The instant of the change: `updated_at`, and `claimed_at` when `to` is `claimed`,
    /// `sent_at` when `to` is `sent`.
    pub at: DateTime<Utc>,
    /// Counts one more attempt (a claim for sending).
    pub count_attempt: bool,
    /// Sets `due_at` and enqueues a new send job at this instant (attempt round = attempts),
    /// in the same transaction; for a call retried after no answer.
    pub requeue_at: Option<DateTime<Utc>>,
    /// Clears the provider SID (a call retried gets a new one).
    pub clear_sid: bool,
}

impl ReminderChange {
    /// A change from `from` to `to` at `at`, touching nothing else.
    pub fn new(from: &[ReminderStatus], to: ReminderStatus, at: DateTime<Utc>) -> Self {
        Self {
            from: from.to_vec(),
            to,
            provider_sid: None,
            provider_status: None,
            last_error: None,
            at,
            count_attempt: false,
            requeue_at: None,
            clear_sid: false,
        }
    }
}

/// Which reminders to list ([`ReminderStore::reminders`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReminderQuery {
    /// Only these statuses (any when empty).
    pub statuses: Vec<ReminderStatus>,
    /// Only this appointment's.
    pub appointment_id: Option<Id>,
    /// At most this many (capped at 10,000).
    pub limit: u32,
}

/// Reminders, opt-outs and SMS conversation state. Errors as for [`crate::Store`].
#[async_trait]
pub trait ReminderStore: Send + Sync {
    /// Adds the reminders not yet stored (same appointment, kind, channel and start) with a
    /// send job each, due at their `due_at`, in one transaction; returns those added.
    /// [`crate::StoreError::Rejected`] for an unknown appointment.
    async fn schedule_reminders(&self, new: &[NewReminder]) -> StoreResult<Vec<Reminder>>;
    /// One reminder.
    async fn reminder(&self, id: Id) -> StoreResult<Option<Reminder>>;
    /// Reminders matching `query`, latest due first.
    async fn reminders(&self, query: &ReminderQuery) -> StoreResult<Vec<Reminder>>;
    /// Applies `change` when the row's status is in `change.from` (and its SID agrees);
    /// `Ok(None)` when it is not (or there is no such reminder): someone else changed it.
    async fn change_reminder(
        &self,
        id: Id,
        change: &ReminderChange,
    ) -> StoreResult<Option<Reminder>>;
    /// Counts reminders per status, for metrics and the dashboard.
    async fn reminder_counts(&self) -> StoreResult<Vec<(ReminderStatus, u64)>>;

    /// Records that `phone` replied STOP (`true`) or START (`false`) at `at`.
    async fn set_opted_out(
        &self,
        phone: &PhoneNumber,
        opted_out: bool,
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Whether `phone` has opted out of texts and calls.
    async fn opted_out(&self, phone: &PhoneNumber) -> StoreResult<bool>;

    /// What the SMS conversation with `phone` waits for (a JSON document written by
    /// `otto`'s SMS module), unless it expired by `now`.
    async fn sms_thread(
        &self,
        phone: &PhoneNumber,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<String>>;
    /// Stores (`Some`, at most 4,000 bytes, until `expires_at`) or clears (`None`) it.
    async fn set_sms_thread(
        &self,
        phone: &PhoneNumber,
        state: Option<&str>,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()>;
}
