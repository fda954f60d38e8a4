//! [`SendReminder`]: the job handler that sends one reminder (job kind
//! [`otto_core::records::REMINDER_JOB`], payload the reminder id).
//!
//! The reminder's state machine, as this handler and Twilio's callbacks move it:
//! - `pending` → `cancelled` when there is nothing to send: the appointment was moved,
//!   cancelled or has begun, the number opted out (STOP), the channel is turned off, or Twilio
//!   is not configured;
//! - `pending` → `claimed` (one more attempt counted) just before the request to Twilio; a
//!   claim is a guarded update, so two workers holding the same job after a lease ran out
//!   never both send;
//! - `claimed` → `sent` with Twilio's SID once Twilio accepted it; then `delivered` or
//!   `failed` from the status callback ([`super::callbacks`]);
//! - `claimed` → `pending` on 429 or 5xx (nothing was created; the worker retries with
//!   backoff), → `failed` on any other refusal (21211 invalid number, 21610 opted out, which
//!   also records the opt-out), and on the last attempt.
//! - A request that got no answer may have reached Twilio, and so may a worker that died
//!   mid-send: the reminder stays `claimed`. Its status callback URL carries the reminder id,
//!   so Twilio's callback records the SID if it did create the message; the job waits
//!   `callback_grace_secs` for that before it sends again. A SID once stored is never sent
//!   again.
//!
//! Sends wait for the end of quiet hours. Outcomes are counted in
//! `otto_reminders_total{channel, outcome}` (`sent`, `failed`, `cancelled`, `retried`).

use chrono::{DateTime, Utc};
use otto_core::records::{
    Job, REMINDER_JOB, Reminder, ReminderChannel, ReminderKind, ReminderStatus,
};
use otto_jobs::{JobError, JobHandler};
use otto_store::{ReminderChange, StoreError};
use otto_twilio::TwilioError;
use otto_twilio::rest::{Answer, CreateCall};
use tracing::{debug, info, warn};

use super::{Reminders, texts};

/// Rings a reminder call is given before it counts as unanswered, seconds.
const RING_SECS: u32 = 25;

/// The job handler for reminders; see the module docs.
#[derive(Debug)]
pub struct SendReminder {
    reminders: Reminders,
}

impl SendReminder {
    /// A handler sending through `reminders`.
    pub fn new(reminders: Reminders) -> Self {
        Self { reminders }
    }
}

fn count(channel: ReminderChannel, outcome: &'static str) {
    metrics::counter!("otto_reminders_total", "channel" => channel.as_str(), "outcome" => outcome)
        .increment(1);
}

fn store_err(e: StoreError) -> JobError {
    JobError::retry(format!("store: {e}"))
}

/// What to send for reminder `r` about appointment `a`, and to whom.
struct Target {
    appointment: otto_core::records::Appointment,
    customer: otto_core::records::Customer,
    vehicles: Vec<otto_core::records::Vehicle>,
}

#[async_trait::async_trait]
impl JobHandler for SendReminder {
    fn kind(&self) -> &'static str {
        REMINDER_JOB
    }

    async fn run(&self, job: &Job) -> Result<(), JobError> {
        let id: i64 = job
            .payload
            .trim()
            .parse()
            .map_err(|_| JobError::permanent("the payload is not a reminder id"))?;
        let last_attempt = job.attempts >= job.max_attempts;
        self.send(id, last_attempt).await
    }
}

impl SendReminder {
    async fn send(&self, id: i64, last_attempt: bool) -> Result<(), JobError> {
        let r = &self.reminders;
        let store = r.shop.store();
        let now = r.clock.now();
        let Some(rem) = store.reminder(id).await.map_err(store_err)? else {
            return Ok(()); // deleted with its appointment
        };
        match rem.status {
            ReminderStatus::Pending => {}
            ReminderStatus::Claimed => {
                let grace = chrono::Duration::seconds(
                    i64::try_from(r.settings.callback_grace_secs).unwrap_or(120),
                );
                let until = rem.claimed_at.unwrap_or(now) + grace;
                if now < until {
                    return Err(JobError::retry_at(
                        until,
                        "an interrupted send waits for Twilio's status callback",
                    ));
                }
                info!(
                    reminder = id,
                    "no callback for an interrupted send: sending again"
                );
            }
            _ => return Ok(()),
        }
        let target = match self.target(&rem, now).await? {
            Ok(t) => t,
            Err(why) => return self.cancel(&rem, why, now).await,
        };
        let allowed = r.quiet.next_allowed(now, r.shop.config().time_zone);
        if allowed > now {
            debug!(reminder = id, until = %allowed, "quiet hours: the reminder waits");
            return Err(JobError::retry_at(allowed, "quiet hours"));
        }
        let Some(twilio) = &r.twilio else {
            return self.cancel(&rem, "Twilio is not configured", now).await;
        };
        let claim = ReminderChange {
            count_attempt: true,
            ..ReminderChange::new(
                &[ReminderStatus::Pending, ReminderStatus::Claimed],
                ReminderStatus::Claimed,
                now,
            )
        };
        let Some(rem) = store.change_reminder(id, &claim).await.map_err(store_err)? else {
            return Ok(()); // another worker moved it on
        };
        let result = match rem.channel {
            ReminderChannel::Sms => {
                let body = texts::sms(
                    r.shop.config(),
                    rem.kind,
                    &target.appointment,
                    &target.vehicles,
                );
                let callback = r.callback_url("/twilio/sms/status", id);
                twilio
                    .send_sms(&target.customer.phone, &body, Some(&callback))
                    .await
                    .map(|m| (m.sid.as_str().to_string(), m.status))
            }
            ReminderChannel::Call => {
                let call = CreateCall {
                    to: target.customer.phone.clone(),
                    answer: Answer::Url(r.callback_url("/twilio/voice", id)),
                    status_callback: Some(r.callback_url("/twilio/reminder/status", id)),
                    status_callback_events: Vec::new(),
                    async_amd_callback: Some(r.callback_url("/twilio/reminder/amd", id)),
                    amd_waits_for_beep: true,
                    timeout_s: Some(RING_SECS),
                };
                twilio
                    .create_call(&call)
                    .await
                    .map(|c| (c.sid.as_str().to_string(), c.status.as_str().to_string()))
            }
        };
        self.record(&rem, &target, result, last_attempt).await
    }

    /// The appointment, customer and vehicles to send about, or why nothing should be sent.
    async fn target(
        &self,
        rem: &Reminder,
        now: DateTime<Utc>,
    ) -> Result<Result<Target, &'static str>, JobError> {
        let r = &self.reminders;
        let store = r.shop.store();
        if !r.settings.enabled {
            return Ok(Err("reminders are turned off"));
        }
        if rem.kind == ReminderKind::Confirmation && !r.settings.confirmation_sms {
            return Ok(Err("confirmations are turned off"));
        }
        let Some(a) = store
            .appointment(rem.appointment_id)
            .await
            .map_err(store_err)?
        else {
            return Ok(Err("the appointment is gone"));
        };
        if !a.status.is_active() {
            return Ok(Err("the appointment was cancelled"));
        }
        if a.start != rem.appointment_start {
            return Ok(Err("the appointment was moved"));
        }
        if a.start <= now {
            return Ok(Err("the appointment has begun"));
        }
        let Some(customer) = store.customer(a.customer_id).await.map_err(store_err)? else {
            return Ok(Err("the customer is gone"));
        };
        if store.opted_out(&customer.phone).await.map_err(store_err)? {
            return Ok(Err("the customer opted out (STOP)"));
        }
        let vehicles = store.vehicles_of(customer.id).await.map_err(store_err)?;
        Ok(Ok(Target {
            appointment: a,
            customer,
            vehicles,
        }))
    }

    async fn cancel(&self, rem: &Reminder, why: &str, now: DateTime<Utc>) -> Result<(), JobError> {
        let change = ReminderChange {
            last_error: Some(why.to_string()),
            ..ReminderChange::new(
                &[ReminderStatus::Pending, ReminderStatus::Claimed],
                ReminderStatus::Cancelled,
                now,
            )
        };
        self.reminders
            .shop
            .store()
            .change_reminder(rem.id, &change)
            .await
            .map_err(store_err)?;
        debug!(reminder = rem.id, why, "reminder not sent");
        count(rem.channel, "cancelled");
        Ok(())
    }

    /// Records Twilio's answer to a claimed reminder's send.
    async fn record(
        &self,
        rem: &Reminder,
        target: &Target,
        result: Result<(String, String), TwilioError>,
        last_attempt: bool,
    ) -> Result<(), JobError> {
        let r = &self.reminders;
        let now = r.clock.now();
        let claimed = [ReminderStatus::Claimed];
        let to = |status| ReminderChange::new(&claimed, status, now);
        let (change, outcome, done) = match result {
            // `None` from the store then: its status callback came first and stored the SID.
            Ok((sid, status)) => (
                ReminderChange {
                    provider_sid: Some(sid),
                    provider_status: Some(status),
                    ..to(ReminderStatus::Sent)
                },
                "sent",
                Ok(()),
            ),
            // Twilio answered 2xx, so it took the request; only the body was unreadable.
            Err(TwilioError::BadResponse(e)) => (
                ReminderChange {
                    last_error: Some(format!("Twilio's answer was unreadable: {e}")),
                    ..to(ReminderStatus::Sent)
                },
                "sent",
                Ok(()),
            ),
            // No answer: Twilio may have created it. Stay claimed; the callback decides.
            Err(e @ TwilioError::Transport(_)) => (
                ReminderChange {
                    last_error: Some(e.to_string()),
                    ..to(ReminderStatus::Claimed)
                },
                "retried",
                Err(JobError::retry(e.to_string())),
            ),
            Err(e) => {
                let code = match &e {
                    TwilioError::Api(api) => api.code,
                    _ => None,
                };
                if code == Some(21610) {
                    // Twilio's own opt-out list has this number: keep ours in step.
                    r.shop
                        .store()
                        .set_opted_out(&target.customer.phone, true, now)
                        .await
                        .map_err(store_err)?;
                }
                let message = match code {
                    Some(c) => format!("Twilio refused it (error {c})"),
                    None => format!("Twilio refused it: {e}"),
                };
                if e.retryable() && !last_attempt {
                    (
                        ReminderChange {
                            last_error: Some(message.clone()),
                            ..to(ReminderStatus::Pending)
                        },
                        "retried",
                        Err(JobError::retry(message)),
                    )
                } else {
                    warn!(reminder = rem.id, error = %message, "reminder failed");
                    (
                        ReminderChange {
                            last_error: Some(message),
                            ..to(ReminderStatus::Failed)
                        },
                        "failed",
                        Ok(()),
                    )
                }
            }
        };
        r.shop
            .store()
            .change_reminder(rem.id, &change)
            .await
            .map_err(store_err)?;
        count(rem.channel, outcome);
        done
    }
}
