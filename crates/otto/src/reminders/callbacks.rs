//! What Twilio's callbacks about a reminder do (the server's handlers check signatures and
//! parse the forms, then call these):
//! - a message status callback moves an SMS reminder to `sent`, `delivered` or `failed`, and
//!   stores the SID of a message whose send was interrupted ([`super::send`]); an error 21610
//!   (the number replied STOP to Twilio) records the opt-out;
//! - the answering-machine callback of a reminder call leaves a voicemail when a machine
//!   answered (after the beep: the call asks for `DetectMessageEnd`);
//! - the terminal status of a reminder call marks it `delivered` when answered; busy, no
//!   answer or failed calls are tried once more after `call_retry_minutes`, and after that a
//!   text goes instead.
//!
//! Callbacks may repeat or arrive out of order: every change is guarded by the reminder's
//! status and SID, so a late `sent` never undoes `delivered`.

use anyhow::Context;
use otto_core::records::{Reminder, ReminderChannel, ReminderKind, ReminderStatus};
use otto_store::{NewReminder, ReminderChange};
use otto_twilio::messaging::MessageStatusCallback;
use otto_twilio::rest::CallUpdate;
use otto_twilio::twiml::{self, Say};
use otto_twilio::webhook::{AmdCallback, StatusCallback};
use tracing::{info, warn};

use super::{Reminders, texts};

/// Tries a reminder call gets (the first and one retry) before a text goes instead.
const CALL_TRIES: u32 = 2;

impl Reminders {
    async fn reminder_of(
        &self,
        id: i64,
        channel: ReminderChannel,
    ) -> anyhow::Result<Option<Reminder>> {
        let rem = self.shop.store().reminder(id).await?;
        Ok(rem.filter(|r| r.channel == channel))
    }

    /// Applies a message status callback to SMS reminder `id`. Unknown ids and callbacks
    /// naming another message change nothing.
    ///
    /// # Errors
    /// The store failed.
    pub async fn message_status(&self, id: i64, cb: &MessageStatusCallback) -> anyhow::Result<()> {
        let Some(rem) = self.reminder_of(id, ReminderChannel::Sms).await? else {
            return Ok(());
        };
        let now = self.clock.now();
        let (to, from, error): (_, &[ReminderStatus], _) = if cb.delivered() {
            (
                ReminderStatus::Delivered,
                &[ReminderStatus::Claimed, ReminderStatus::Sent],
                None,
            )
        } else if cb.failed() {
            (
                ReminderStatus::Failed,
                &[
                    ReminderStatus::Claimed,
                    ReminderStatus::Sent,
                    ReminderStatus::Delivered,
                ],
                Some(match cb.error_code {
                    Some(code) => format!("Twilio could not deliver it (error {code})"),
                    None => "Twilio could not deliver it".to_string(),
                }),
            )
        } else {
            (
                ReminderStatus::Sent,
                &[ReminderStatus::Claimed, ReminderStatus::Sent],
                None,
            )
        };
        let change = ReminderChange {
            provider_sid: Some(cb.message_sid.as_str().to_string()),
            provider_status: Some(cb.status.clone()),
            last_error: error,
            ..ReminderChange::new(from, to, now)
        };
        self.shop.store().change_reminder(rem.id, &change).await?;
        if cb.error_code == Some(21610)
            && let Some(phone) = self.phone_of(&rem).await?
        {
            self.shop.store().set_opted_out(&phone, true, now).await?;
        }
        Ok(())
    }

    /// Applies the answering-machine result of reminder call `id`: on a machine, replaces
    /// the call's TwiML with the voicemail and a hang-up.
    ///
    /// # Errors
    /// The store failed, or Twilio refused the update.
    pub async fn machine_detected(&self, id: i64, cb: &AmdCallback) -> anyhow::Result<()> {
        let Some(rem) = self.reminder_of(id, ReminderChannel::Call).await? else {
            return Ok(());
        };
        if rem
            .provider_sid
            .as_deref()
            .is_some_and(|s| s != cb.call_sid.as_str())
        {
            return Ok(());
        }
        let change = ReminderChange {
            provider_sid: Some(cb.call_sid.as_str().to_string()),
            provider_status: Some(cb.answered_by.clone()),
            ..ReminderChange::new(
                &[ReminderStatus::Claimed, ReminderStatus::Sent],
                ReminderStatus::Sent,
                self.clock.now(),
            )
        };
        self.shop.store().change_reminder(rem.id, &change).await?;
        if !cb.is_machine() {
            return Ok(());
        }
        let Some(twilio) = &self.twilio else {
            return Ok(());
        };
        let store = self.shop.store();
        let Some(a) = store.appointment(rem.appointment_id).await? else {
            return Ok(());
        };
        let vehicles = store.vehicles_of(a.customer_id).await?;
        let message = texts::voicemail(self.shop.config(), &a, &vehicles);
        let doc = twiml::Response::new().say(Say::new(message)).hangup();
        twilio
            .update_call(&cb.call_sid, &CallUpdate::Twiml(doc))
            .await
            .context("leaving the voicemail")?;
        info!(reminder = id, "voicemail left on a machine");
        Ok(())
    }

    /// Applies the terminal status of reminder call `id` (see the module docs).
    ///
    /// # Errors
    /// The store failed.
    pub async fn call_status(&self, id: i64, cb: &StatusCallback) -> anyhow::Result<()> {
        let status = cb.call.status.as_str();
        if !cb.call.status.is_terminal() {
            return Ok(());
        }
        let Some(rem) = self.reminder_of(id, ReminderChannel::Call).await? else {
            return Ok(());
        };
        if rem
            .provider_sid
            .as_deref()
            .is_some_and(|s| s != cb.call.call_sid.as_str())
        {
            return Ok(());
        }
        let now = self.clock.now();
        let store = self.shop.store();
        let open = [ReminderStatus::Claimed, ReminderStatus::Sent];
        let sid = Some(cb.call.call_sid.as_str().to_string());
        if status == "completed" {
            let change = ReminderChange {
                provider_sid: sid,
                provider_status: Some(cb.answered_by.clone().unwrap_or_else(|| status.into())),
                ..ReminderChange::new(&open, ReminderStatus::Delivered, now)
            };
            store.change_reminder(rem.id, &change).await?;
            return Ok(());
        }
        let why = format!("the call ended {status}");
        if rem.attempts < CALL_TRIES {
            let later =
                now + chrono::Duration::minutes(i64::from(self.settings.call_retry_minutes));
            let at = self.quiet.next_allowed(later, self.shop.config().time_zone);
            let change = ReminderChange {
                provider_status: Some(status.to_string()),
                last_error: Some(format!("{why}; trying again")),
                requeue_at: Some(at),
                clear_sid: true,
                ..ReminderChange::new(&open, ReminderStatus::Pending, now)
            };
            if store.change_reminder(rem.id, &change).await?.is_some() {
                info!(reminder = id, status, retry_at = %at, "reminder call unanswered: trying again later");
            }
            return Ok(());
        }
        let change = ReminderChange {
            provider_sid: sid,
            provider_status: Some(status.to_string()),
            last_error: Some(format!("{why}; a text goes instead")),
            ..ReminderChange::new(&open, ReminderStatus::Failed, now)
        };
        if store.change_reminder(rem.id, &change).await?.is_some() {
            let text = NewReminder {
                appointment_id: rem.appointment_id,
                kind: ReminderKind::Reminder,
                channel: ReminderChannel::Sms,
                appointment_start: rem.appointment_start,
                due_at: self.quiet.next_allowed(now, self.shop.config().time_zone),
            };
            let added = store.schedule_reminders(&[text]).await?;
            if added.is_empty() {
                warn!(
                    reminder = id,
                    "reminder call unanswered; the text reminder already exists"
                );
            }
        }
        Ok(())
    }

    /// The phone number reminder `rem` goes to.
    async fn phone_of(
        &self,
        rem: &Reminder,
    ) -> anyhow::Result<Option<otto_core::domain::PhoneNumber>> {
        let store = self.shop.store();
        let Some(a) = store.appointment(rem.appointment_id).await? else {
            return Ok(None);
        };
        Ok(store.customer(a.customer_id).await?.map(|c| c.phone))
    }
}
