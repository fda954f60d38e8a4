//! Two-way SMS: the answer to a text a customer sends to the shop's number
//! ([`Reminders::answer_sms`], served at `POST /twilio/sms`).
//!
//! - STOP (and STOPALL, UNSUBSCRIBE, END, QUIT, OPTOUT, REVOKE) opts the number out of every
//!   text and reminder call; START, UNSTOP (and YES while opted out) opts it back in; HELP or
//!   INFO gets the shop's contact details. An opted-out number gets no other answer, as
//!   carriers require. CANCEL is *not* an opt-out word here: it cancels an appointment (a
//!   Twilio Messaging Service with Advanced Opt-Out must leave it off its opt-out list).
//! - C, CONFIRM or YES confirms the customer's next appointment.
//! - CANCEL asks which appointment and to reply YES; YES then cancels it.
//! - R or RESCHEDULE offers the next free times by number ("Reply 1 for …"), or the times on
//!   the day and at the time the text names ("R Friday afternoon"); the number chosen moves
//!   the appointment through the shop's booking rules.
//! - Anything else becomes a message for the staff, and the customer is told so.
//!
//! The day, time and yes/no understanding is the rule dialogue's (`otto_agent::nlu`). A
//! customer acts only on their own appointments: the number texting is the identity, as
//! caller ID is on a call. What a conversation waits for (a YES to cancel, a number) is kept
//! in the store for `reminders.sms_thread_minutes`.

use chrono::{DateTime, Duration, Utc};
use otto_agent::nlu::{self, Intent, TimeOfDay};
use otto_agent::speak;
use otto_core::domain::PhoneNumber;
use otto_core::records::{Appointment, Customer};
use otto_store::NewMessage;
use serde::{Deserialize, Serialize};
use tracing::info;

use super::{Reminders, texts};

/// Most times one text offers.
const OFFERS: usize = 3;
/// Days ahead searched for free times.
const SEARCH_DAYS: i64 = 14;

/// What the conversation with a number waits for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "waiting_for", rename_all = "snake_case")]
enum Thread {
    /// A YES (or NO) to cancelling this appointment.
    CancelYes { appointment_id: i64 },
    /// A number among these offered starts (Unix seconds) for this appointment.
    Choice {
        appointment_id: i64,
        starts: Vec<i64>,
    },
}

/// The first word of `body`, upper-cased, without punctuation, when it is the whole text
/// (keywords count only alone, as carriers match them).
fn keyword(body: &str) -> Option<String> {
    let words: Vec<&str> = body.split_whitespace().collect();
    if words.len() != 1 {
        return None;
    }
    Some(
        words[0]
            .trim_matches(|c: char| !c.is_alphanumeric())
            .to_ascii_uppercase(),
    )
}

/// The first word of `body`, upper-cased, without punctuation.
fn lead_word(body: &str) -> Option<String> {
    let first = body.split_whitespace().next()?;
    Some(
        first
            .trim_matches(|c: char| !c.is_alphanumeric())
            .to_ascii_uppercase(),
    )
}

/// A lone number "1", "#2", "3." among `n` offered.
fn chosen_number(body: &str, n: usize) -> Option<usize> {
    let digits = body
        .trim()
        .trim_start_matches('#')
        .trim_end_matches(['.', ')', '!']);
    let k: usize = digits.parse().ok()?;
    (1..=n).contains(&k).then(|| k - 1)
}

impl Reminders {
    /// The answer to `body` texted by `from` (see the module docs); `None` sends no reply.
    ///
    /// # Errors
    /// The store failed.
    pub async fn answer_sms(
        &self,
        from: &PhoneNumber,
        body: &str,
    ) -> anyhow::Result<Option<String>> {
        let shop = self.shop.config();
        let store = self.shop.store();
        let now = self.clock.now();
        let body = body.trim();
        let word = keyword(body);
        let opted_out = store.opted_out(from).await?;
        match word.as_deref() {
            Some("STOP" | "STOPALL" | "UNSUBSCRIBE" | "END" | "QUIT" | "OPTOUT" | "REVOKE") => {
                store.set_opted_out(from, true, now).await?;
                store.set_sms_thread(from, None, now).await?;
                info!(from = %from.masked(), "opted out of texts and reminder calls");
                return Ok(Some(texts::stopped(shop)));
            }
            Some("START" | "UNSTOP") | Some("YES")
                if word.as_deref() != Some("YES") || opted_out =>
            {
                store.set_opted_out(from, false, now).await?;
                return Ok(Some(texts::started(shop)));
            }
            Some("HELP" | "INFO") => return Ok(Some(texts::help(shop))),
            _ => {}
        }
        if opted_out || body.is_empty() {
            return Ok(None);
        }
        let customer = store.customer_by_phone(from).await?;
        if let Some(reply) = self
            .continue_thread(from, customer.as_ref(), body, now)
            .await?
        {
            return Ok(Some(reply));
        }
        let yes = matches!(word.as_deref(), Some("C" | "CONFIRM" | "Y" | "YES"));
        // "R Friday afternoon": the keyword may lead a day and time.
        let reschedule = matches!(lead_word(body).as_deref(), Some("R" | "RESCHEDULE"));
        let intent = nlu::intent(body);
        let reply = match (&customer, word.as_deref(), intent) {
            (Some(c), _, _) if yes => self.confirm_next(c, now).await?,
            (Some(c), Some("CANCEL"), _) | (Some(c), _, Some(Intent::Cancel)) => {
                self.ask_cancel(from, c, now).await?
            }
            (Some(c), _, _) if reschedule => self.offer_times(from, c, body, now).await?,
            (Some(c), _, Some(Intent::Reschedule)) => self.offer_times(from, c, body, now).await?,
            (None, _, _)
                if yes
                    || reschedule
                    || word.as_deref() == Some("CANCEL")
                    || matches!(intent, Some(Intent::Cancel | Intent::Reschedule)) =>
            {
                format!(
                    "{}: we couldn't find an appointment for this number. Please call us at {}.",
                    shop.name, shop.phone
                )
            }
            _ => {
                self.take_message(from, customer.as_ref(), body, now)
                    .await?
            }
        };
        Ok(Some(reply))
    }

    /// The customer's next appointment that has not begun.
    async fn next_appointment(
        &self,
        c: &Customer,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Option<Appointment>> {
        Ok(self
            .shop
            .upcoming(c.id, now)
            .await?
            .into_iter()
            .find(|a| a.start > now))
    }

    fn none_booked(&self) -> String {
        let shop = self.shop.config();
        format!(
            "{}: you have no upcoming appointment with us. Call {} to book one.",
            shop.name, shop.phone
        )
    }

    async fn describe(&self, a: &Appointment) -> anyhow::Result<String> {
        let vehicles = self.shop.store().vehicles_of(a.customer_id).await?;
        Ok(speak::describe(self.shop.config(), a, &vehicles))
    }

    async fn confirm_next(&self, c: &Customer, now: DateTime<Utc>) -> anyhow::Result<String> {
        let Some(a) = self.next_appointment(c, now).await? else {
            return Ok(self.none_booked());
        };
        let a = self.shop.confirm(c.id, a.id, now).await?;
        info!(appointment = a.id, "confirmed by text");
        Ok(format!(
            "{}: thanks, your {} is confirmed. See you then!",
            self.shop.config().name,
            self.describe(&a).await?
        ))
    }

    async fn ask_cancel(
        &self,
        from: &PhoneNumber,
        c: &Customer,
        now: DateTime<Utc>,
    ) -> anyhow::Result<String> {
        let Some(a) = self.next_appointment(c, now).await? else {
            return Ok(self.none_booked());
        };
        self.set_thread(
            from,
            &Thread::CancelYes {
                appointment_id: a.id,
            },
            now,
        )
        .await?;
        Ok(format!(
            "{}: reply YES to cancel your {}, or NO to keep it.",
            self.shop.config().name,
            self.describe(&a).await?
        ))
    }

    async fn offer_times(
        &self,
        from: &PhoneNumber,
        c: &Customer,
        body: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<String> {
        let Some(a) = self.next_appointment(c, now).await? else {
            return Ok(self.none_booked());
        };
        self.offer_for(from, &a, body, now).await
    }

    /// Offers free times for moving `a`: on the day and at the time `body` names, else the
    /// first free time on each of the next days.
    async fn offer_for(
        &self,
        from: &PhoneNumber,
        a: &Appointment,
        body: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<String> {
        let shop = self.shop.config();
        let tz = shop.time_zone;
        let today = now.with_timezone(&tz).date_naive();
        let wanted = nlu::when(body, today);
        let (from_day, to_day) = match wanted.date {
            Some(d) => (d, d),
            None => (today, today + Duration::days(SEARCH_DAYS)),
        };
        let slots = self
            .shop
            .free_slots(&a.service, from_day, to_day, now)
            .await?;
        let fits = |start: DateTime<Utc>| -> bool {
            let t = start.with_timezone(&tz).time();
            match wanted.time {
                None => true,
                Some(TimeOfDay::At(at)) => t == at,
                Some(TimeOfDay::Morning) => {
                    t < chrono::NaiveTime::from_hms_opt(12, 0, 0).unwrap_or_default()
                }
                Some(TimeOfDay::Afternoon | TimeOfDay::AfterLunch) => {
                    t >= chrono::NaiveTime::from_hms_opt(12, 0, 0).unwrap_or_default()
                }
                Some(TimeOfDay::Evening) => {
                    t >= chrono::NaiveTime::from_hms_opt(16, 0, 0).unwrap_or_default()
                }
            }
        };
        let mut starts: Vec<DateTime<Utc>> = Vec::new();
        for s in slots.iter().filter(|s| s.start != a.start && fits(s.start)) {
            let day = s.start.with_timezone(&tz).date_naive();
            // Without a day named, one time per day; with one, the first times that day.
            if wanted.date.is_none()
                && starts
                    .iter()
                    .any(|x| x.with_timezone(&tz).date_naive() == day)
            {
                continue;
            }
            starts.push(s.start);
            if starts.len() == OFFERS {
                break;
            }
        }
        if starts.is_empty() {
            return Ok(format!(
                "{}: sorry, we have no free time then. Reply R with another day, or call us at {}.",
                shop.name, shop.phone
            ));
        }
        let choices: Vec<String> = starts
            .iter()
            .enumerate()
            .map(|(i, s)| format!("{} for {}", i + 1, speak::date_time(*s, tz)))
            .collect();
        self.set_thread(
            from,
            &Thread::Choice {
                appointment_id: a.id,
                starts: starts.iter().map(DateTime::timestamp).collect(),
            },
            now,
        )
        .await?;
        Ok(format!(
            "{}: to move your {}, reply {}. Or text another day and time.",
            shop.name,
            speak::service_name(shop, &a.service),
            speak::join_or(&choices, "or")
        ))
    }

    /// The answer when the text answers what the conversation waits for; `None` otherwise
    /// (the thread is then dropped and the text read afresh).
    async fn continue_thread(
        &self,
        from: &PhoneNumber,
        customer: Option<&Customer>,
        body: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Option<String>> {
        let store = self.shop.store();
        let Some(raw) = store.sms_thread(from, now).await? else {
            return Ok(None);
        };
        let Some(c) = customer else {
            return Ok(None);
        };
        let Ok(thread) = serde_json::from_str::<Thread>(&raw) else {
            store.set_sms_thread(from, None, now).await?;
            return Ok(None);
        };
        let shop = self.shop.config();
        match thread {
            Thread::CancelYes { appointment_id } => match nlu::yes_no(body) {
                Some(true) => {
                    store.set_sms_thread(from, None, now).await?;
                    let a = self.shop.cancel(c.id, appointment_id, now).await?;
                    info!(appointment = a.id, "cancelled by text");
                    Ok(Some(format!(
                        "{}: done, your {} is cancelled. Text R anytime to book again.",
                        shop.name,
                        self.describe(&a).await?
                    )))
                }
                Some(false) => {
                    store.set_sms_thread(from, None, now).await?;
                    Ok(Some(format!(
                        "{}: okay, we'll keep it. See you then!",
                        shop.name
                    )))
                }
                None => {
                    store.set_sms_thread(from, None, now).await?;
                    Ok(None)
                }
            },
            Thread::Choice {
                appointment_id,
                starts,
            } => {
                if let Some(i) =
                    chosen_number(body, starts.len()).or_else(|| nlu::position(body, starts.len()))
                {
                    store.set_sms_thread(from, None, now).await?;
                    let Some(start) = DateTime::from_timestamp(starts[i], 0) else {
                        return Ok(None);
                    };
                    return Ok(Some(
                        match self.shop.reschedule(c.id, appointment_id, start, now).await {
                            Ok(a) => {
                                info!(appointment = a.id, "moved by text");
                                format!(
                                    "{}: done, your {} is now on {}.",
                                    shop.name,
                                    speak::service_name(shop, &a.service),
                                    speak::date_time(a.start, shop.time_zone)
                                )
                            }
                            Err(otto_shop::BookingError::SlotTaken) => format!(
                                "{}: sorry, that time was just taken. Reply R for other times.",
                                shop.name
                            ),
                            Err(e) => format!(
                                "{}: sorry, {e}. Please call us at {}.",
                                shop.name, shop.phone
                            ),
                        },
                    ));
                }
                let today = now.with_timezone(&shop.time_zone).date_naive();
                let when = nlu::when(body, today);
                if when.date.is_some() || when.time.is_some() {
                    let Some(a) = self
                        .shop
                        .upcoming(c.id, now)
                        .await?
                        .into_iter()
                        .find(|a| a.id == appointment_id)
                    else {
                        store.set_sms_thread(from, None, now).await?;
                        return Ok(None);
                    };
                    return Ok(Some(self.offer_for(from, &a, body, now).await?));
                }
                store.set_sms_thread(from, None, now).await?;
                Ok(None)
            }
        }
    }

    async fn set_thread(
        &self,
        from: &PhoneNumber,
        thread: &Thread,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        let until = now + Duration::minutes(i64::from(self.settings.sms_thread_minutes));
        let json = serde_json::to_string(thread)?;
        self.shop
            .store()
            .set_sms_thread(from, Some(&json), until)
            .await?;
        Ok(())
    }

    async fn take_message(
        &self,
        from: &PhoneNumber,
        customer: Option<&Customer>,
        body: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<String> {
        let text: String = body.chars().take(2000).collect();
        self.shop
            .store()
            .create_message(&NewMessage {
                call_id: None,
                customer_id: customer.map(|c| c.id),
                from_phone: from.as_str().to_string(),
                caller_name: customer.map(|c| c.name.clone()),
                body: text,
                created_at: now,
            })
            .await?;
        info!(from = %from.masked(), "text passed on to the staff");
        let shop = self.shop.config();
        Ok(format!(
            "{}: thanks, we've passed your message on to the team and will get back to you. For appointments, reply C to confirm, R to reschedule or CANCEL to cancel.",
            shop.name
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_count_only_alone() {
        assert_eq!(keyword(" stop ").as_deref(), Some("STOP"));
        assert_eq!(keyword("C.").as_deref(), Some("C"));
        assert_eq!(keyword("please stop texting me"), None);
        assert_eq!(lead_word("r, Friday afternoon").as_deref(), Some("R"));
        assert_eq!(chosen_number("#2", 3), Some(1));
        assert_eq!(chosen_number("3.", 3), Some(2));
        assert_eq!(chosen_number("4", 3), None);
        assert_eq!(chosen_number("0", 3), None);
        assert_eq!(chosen_number("two", 3), None);
    }
}
