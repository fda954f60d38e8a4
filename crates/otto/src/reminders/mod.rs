//! Reminders and confirmations by SMS and phone, and two-way SMS (issue #11).
//!
//! - The store adds an SMS confirmation with every booking and move, in the booking's own
//!   transaction, and cancels what is pending when an appointment moves or is cancelled
//!   (`otto_store::reminders`).
//! - [`Scheduler`] sweeps the upcoming appointments every `reminders.sweep_secs` and adds the
//!   SMS reminder (`sms_hours` before) and the reminder call (`call_hours` before, off by
//!   default) that are missing, due at their time moved out of quiet hours ([`quiet`]).
//!   Adding is idempotent (one row per appointment, kind, channel and start), so several
//!   instances may sweep at once.
//! - Each reminder row has a send job; [`send::SendReminder`] runs it in the job worker
//!   (claims with a lease, retries with backoff, `FOR UPDATE SKIP LOCKED` on PostgreSQL), so
//!   several workers send each reminder once. See [`send`] for the state machine.
//! - Twilio's callbacks ([`callbacks`]) move reminders to delivered or failed, leave a
//!   voicemail when a machine answers a reminder call, and retry unanswered calls once before
//!   falling back to a text.
//! - [`sms`] answers texts customers send (`POST /twilio/sms`): confirm, cancel, reschedule,
//!   STOP/START/HELP, and anything else as a message for the staff.
//!
//! [`texts`] holds what they all say.

pub mod callbacks;
pub mod quiet;
pub mod send;
pub mod sms;
pub mod texts;

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use chrono::{DateTime, NaiveTime, Utc};
use otto_core::records::{Appointment, ReminderChannel, ReminderKind};
use otto_shop::{Clock, Shop};
use otto_store::NewReminder;
use otto_twilio::rest::RestClient;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use quiet::QuietHours;

/// The `[reminders]` configuration section.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReminderSettings {
    /// Send confirmations and reminders at all (they need `[twilio]`; without it they are
    /// recorded as cancelled). Default true.
    pub enabled: bool,
    /// An SMS confirmation right after each booking or move. Default true.
    pub confirmation_sms: bool,
    /// Hours before the appointment for the SMS reminder (1..=336); 0 turns it off.
    /// Default 24.
    pub sms_hours: u32,
    /// Hours before the appointment for a reminder call (1..=336); 0 (the default) turns it
    /// off.
    pub call_hours: u32,
    /// Local time quiet hours start, "HH:MM" (no texts or calls from then). Default "20:00".
    pub quiet_start: String,
    /// Local time quiet hours end, "HH:MM". Default "09:00". Equal to `quiet_start`: none.
    pub quiet_end: String,
    /// Seconds between sweeps for reminders that are missing (5..=3,600). Default 30.
    pub sweep_secs: u64,
    /// Minutes before an unanswered or busy reminder call is tried again (1..=1,440); after
    /// the second try a text goes instead. Default 60.
    pub call_retry_minutes: u32,
    /// Seconds a send interrupted by a crash waits for Twilio's status callback (which would
    /// name the message it created) before it is sent again (10..=3,600). Default 120.
    pub callback_grace_secs: u64,
    /// Minutes an SMS conversation waits for its answer (a YES to cancel, a number from the
    /// offered times) (1..=1,440). Default 60.
    pub sms_thread_minutes: u32,
}

impl Default for ReminderSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            confirmation_sms: true,
            sms_hours: 24,
            call_hours: 0,
            quiet_start: "20:00".into(),
            quiet_end: "09:00".into(),
            sweep_secs: 30,
            call_retry_minutes: 60,
            callback_grace_secs: 120,
            sms_thread_minutes: 60,
        }
    }
}

fn parse_hhmm(key: &str, value: &str) -> anyhow::Result<NaiveTime> {
    NaiveTime::parse_from_str(value.trim(), "%H:%M").map_err(|_| {
        anyhow::anyhow!("reminders.{key} must be a time of day \"HH:MM\", e.g. \"20:00\"")
    })
}

impl ReminderSettings {
    /// Checks every value's range.
    ///
    /// # Errors
    /// The first value out of range, naming its key.
    pub fn validate(&self) -> anyhow::Result<()> {
        self.quiet()?;
        if self.sms_hours > 336 || self.call_hours > 336 {
            bail!("reminders.sms_hours and reminders.call_hours must be 0..=336");
        }
        if !(5..=3_600).contains(&self.sweep_secs) {
            bail!("reminders.sweep_secs must be 5..=3600");
        }
        if !(1..=1_440).contains(&self.call_retry_minutes) {
            bail!("reminders.call_retry_minutes must be 1..=1440");
        }
        if !(10..=3_600).contains(&self.callback_grace_secs) {
            bail!("reminders.callback_grace_secs must be 10..=3600");
        }
        if !(1..=1_440).contains(&self.sms_thread_minutes) {
            bail!("reminders.sms_thread_minutes must be 1..=1440");
        }
        Ok(())
    }

    /// The quiet hours.
    ///
    /// # Errors
    /// `quiet_start` or `quiet_end` is not "HH:MM".
    pub fn quiet(&self) -> anyhow::Result<QuietHours> {
        Ok(QuietHours {
            start: parse_hhmm("quiet_start", &self.quiet_start)?,
            end: parse_hhmm("quiet_end", &self.quiet_end)?,
        })
    }

    /// Hours before the appointment for `channel`'s reminder; `None` when it is off.
    fn lead_hours(&self, channel: ReminderChannel) -> Option<u32> {
        let h = match channel {
            ReminderChannel::Sms => self.sms_hours,
            ReminderChannel::Call => self.call_hours,
        };
        (self.enabled && h > 0).then_some(h)
    }
}

/// Everything the reminder parts share: the shop, Twilio (when configured), the settings, the
/// public URL Twilio calls back on, and the clock.
#[derive(Clone)]
pub struct Reminders {
    pub(crate) shop: Shop,
    pub(crate) twilio: Option<RestClient>,
    pub(crate) settings: Arc<ReminderSettings>,
    pub(crate) quiet: QuietHours,
    /// `server.public_url` without a trailing slash.
    pub(crate) public_url: String,
    pub(crate) clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Reminders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reminders")
            .field("twilio", &self.twilio.is_some())
            .field("public_url", &self.public_url)
            .finish_non_exhaustive()
    }
}

impl Reminders {
    /// The reminder parts over `shop`, sending through `twilio` when given.
    ///
    /// # Errors
    /// Quiet hours that do not parse (validated config never has them).
    pub fn new(
        shop: Shop,
        twilio: Option<RestClient>,
        settings: ReminderSettings,
        public_url: &str,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            shop,
            twilio,
            quiet: settings.quiet()?,
            settings: Arc::new(settings),
            public_url: public_url.trim_end_matches('/').to_string(),
            clock,
        })
    }

    /// The reminder parts `config` describes over `shop`, on the system clock.
    ///
    /// # Errors
    /// An invalid `twilio` section.
    pub fn from_config(config: &crate::config::Config, shop: Shop) -> anyhow::Result<Self> {
        let twilio = config
            .twilio
            .as_ref()
            .map(RestClient::new)
            .transpose()
            .context("twilio")?;
        Self::new(
            shop,
            twilio,
            config.reminders.clone(),
            &config.server.public_url,
            Arc::new(otto_shop::SystemClock),
        )
    }

    /// The reminders `a` should have by its start, due times out of quiet hours; none for an
    /// appointment that is not active or whose reminder time had passed when it was booked or
    /// last changed (its confirmation said it all).
    pub fn planned(&self, a: &Appointment) -> Vec<NewReminder> {
        if !a.status.is_active() {
            return Vec::new();
        }
        let tz = self.shop.config().time_zone;
        [ReminderChannel::Sms, ReminderChannel::Call]
            .into_iter()
            .filter_map(|channel| {
                let hours = self.settings.lead_hours(channel)?;
                let ideal = a.start - chrono::Duration::hours(i64::from(hours));
                let due = self.quiet.next_allowed(ideal, tz);
                (due < a.start && ideal >= a.updated_at).then_some(NewReminder {
                    appointment_id: a.id,
                    kind: ReminderKind::Reminder,
                    channel,
                    appointment_start: a.start,
                    due_at: due,
                })
            })
            .collect()
    }

    /// One sweep at `now`: adds the missing reminders of the appointments starting within the
    /// longest lead time plus a week. Returns how many were added.
    ///
    /// # Errors
    /// The store failed.
    pub async fn sweep(&self, now: DateTime<Utc>) -> anyhow::Result<usize> {
        let lead = self.settings.sms_hours.max(self.settings.call_hours);
        if !self.settings.enabled || lead == 0 {
            return Ok(0);
        }
        let until = now + chrono::Duration::hours(i64::from(lead)) + chrono::Duration::days(7);
        let store = self.shop.store();
        let upcoming = store.active_appointments_between(now, until).await?;
        let planned: Vec<NewReminder> = upcoming
            .iter()
            .filter(|a| a.start > now)
            .flat_map(|a| self.planned(a))
            .collect();
        if planned.is_empty() {
            return Ok(0);
        }
        let added = store.schedule_reminders(&planned).await?;
        if !added.is_empty() {
            debug!(added = added.len(), "reminders scheduled");
        }
        Ok(added.len())
    }

    /// The URL Twilio calls back on for `path` (e.g. `/twilio/sms/status`) about reminder `id`.
    pub(crate) fn callback_url(&self, path: &str, id: i64) -> String {
        format!("{}{path}?reminder={id}", self.public_url)
    }
}

/// The periodic sweep ([`Reminders::sweep`]), run beside the job worker.
pub struct Scheduler {
    reminders: Reminders,
}

impl Scheduler {
    /// A scheduler over `reminders`.
    pub fn new(reminders: Reminders) -> Self {
        Self { reminders }
    }

    /// Sweeps every `reminders.sweep_secs` until `stop` fires; failures are logged and the
    /// next sweep tries again.
    pub async fn run(self, stop: CancellationToken) {
        let every = Duration::from_secs(self.reminders.settings.sweep_secs.max(1));
        info!(every_s = every.as_secs(), "reminder scheduler started");
        loop {
            match self.reminders.sweep(self.reminders.clock.now()).await {
                Ok(_) => {}
                Err(e) => warn!(error = %e, "reminder sweep failed"),
            }
            tokio::select! {
                () = stop.cancelled() => break,
                () = tokio::time::sleep(every) => {}
            }
        }
    }
}
