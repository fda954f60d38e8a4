//! Reminders end to end against the real server and a fake of Twilio's Messages and Calls
//! APIs that calls back like Twilio (signed status, AMD and completion callbacks):
//! confirmations and reminders sent once at the right local time, quiet hours, two-way SMS
//! (confirm, reschedule, cancel, STOP/START/HELP, messages for the staff) checked in the
//! database, a voicemail left on a machine, an unanswered call retried then texted, and a
//! person confirming by voice. The send jobs run through the job handler with a clock the
//! test sets, so nothing waits for real hours.

// Test code: a panic on a broken precondition is the failure message.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, NaiveTime, TimeZone, Utc};
use otto::reminders::send::SendReminder;
use otto::reminders::{ReminderSettings, Reminders};
use otto_core::domain::PhoneNumber;
use otto_core::records::{
    Appointment, AppointmentStatus, BookingSource, ReminderChannel, ReminderKind, ReminderStatus,
};
use otto_fakes::twilio::{CallOutcome, MessageOutcome};
use otto_jobs::{JobError, JobHandler};
use otto_shop::{BookingRequest, Clock};
use otto_store::{ReminderQuery, Store};
use secrecy::SecretString;

use common::{AUTH_TOKEN, TestApp, spawn_app};

/// A clock the test moves by hand.
#[derive(Debug)]
struct TestClock(Mutex<DateTime<Utc>>);

impl TestClock {
    fn set(&self, t: DateTime<Utc>) {
        *self.0.lock().unwrap() = t;
    }
}

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

struct Rig {
    app: TestApp,
    clock: Arc<TestClock>,
    reminders: Reminders,
    handler: SendReminder,
}

/// The app, and the reminder parts over its store on a hand-moved clock.
async fn rig(settings: ReminderSettings) -> Rig {
    let app = spawn_app(|_| {}).await;
    let clock = Arc::new(TestClock(Mutex::new(Utc::now())));
    let twilio = common::twilio_client(&app);
    let reminders = Reminders::new(
        app.shop.clone(),
        Some(twilio),
        settings,
        &app.url(),
        clock.clone(),
    )
    .unwrap();
    let handler = SendReminder::new(reminders.clone());
    Rig {
        app,
        clock,
        reminders,
        handler,
    }
}

impl Rig {
    fn store(&self) -> &Arc<dyn Store> {
        self.app.shop.store()
    }

    fn local(&self, t: DateTime<Utc>) -> chrono::NaiveDateTime {
        t.with_timezone(&self.app.shop.config().time_zone)
            .naive_local()
    }

    fn at_local(&self, day: chrono::NaiveDate, h: u32, m: u32) -> DateTime<Utc> {
        self.app
            .shop
            .config()
            .time_zone
            .from_local_datetime(&day.and_time(NaiveTime::from_hms_opt(h, m, 0).unwrap()))
            .earliest()
            .unwrap()
            .with_timezone(&Utc)
    }

    /// Runs every send job due at the clock's time, as the worker would (a retry goes back
    /// with its time); returns the failures.
    async fn run_due(&self) -> Vec<JobError> {
        let now = self.clock.now();
        let jobs = self
            .store()
            .claim_jobs("test", now, Duration::from_secs(60), 1000)
            .await
            .unwrap();
        let mut failures = Vec::new();
        for job in jobs {
            match self.handler.run(&job).await {
                Ok(()) => {
                    self.store().complete_job(job.id, "test").await.unwrap();
                }
                Err(e) => {
                    let at = e.retry_at.unwrap_or(now + chrono::Duration::minutes(1));
                    self.store()
                        .retry_job(job.id, "test", at, &e.message)
                        .await
                        .unwrap();
                    failures.push(e);
                }
            }
        }
        failures
    }

    async fn reminders_of(&self, a: &Appointment) -> Vec<otto_core::records::Reminder> {
        let mut list = self
            .store()
            .reminders(&ReminderQuery {
                appointment_id: Some(a.id),
                limit: 100,
                ..ReminderQuery::default()
            })
            .await
            .unwrap();
        list.sort_by_key(|r| r.id);
        list
    }

    /// Waits until reminder `id` reaches `status` (callbacks arrive in the background).
    async fn wait_status(&self, id: i64, status: ReminderStatus) -> otto_core::records::Reminder {
        for _ in 0..200 {
            let r = self.store().reminder(id).await.unwrap().unwrap();
            if r.status == status {
                return r;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!(
            "reminder {id} never reached {status}: {:?}",
            self.store().reminder(id).await.unwrap()
        );
    }

    /// A new customer with a Civic, and an oil change booked for them (see [`Rig::book_for`]).
    async fn book(&self, phone: &str, days: i64) -> (otto_core::records::Customer, Appointment) {
        let store = self.store();
        let c = store
            .create_customer(&otto_store::testing::customer("Casey Rivera", phone))
            .await
            .unwrap();
        store
            .add_vehicle(&otto_store::testing::civic(c.id, None))
            .await
            .unwrap();
        let a = self.book_for(&c, days).await;
        (c, a)
    }

    /// An oil change for `c` (with their first vehicle) at 10:00 or later on a day at least
    /// `days` ahead, booked as the dashboard books.
    async fn book_for(&self, c: &otto_core::records::Customer, days: i64) -> Appointment {
        let vehicle = self.store().vehicles_of(c.id).await.unwrap()[0].id;
        let tz = self.app.shop.config().time_zone;
        let now = Utc::now();
        let first = now.with_timezone(&tz).date_naive() + chrono::Duration::days(days);
        let slots = self
            .app
            .shop
            .free_slots("oil_change", first, first + chrono::Duration::days(7), now)
            .await
            .unwrap();
        let slot = slots
            .iter()
            .find(|s| {
                s.start.with_timezone(&tz).time() >= NaiveTime::from_hms_opt(10, 0, 0).unwrap()
            })
            .expect("a free oil change at 10:00 or later");
        self.app
            .shop
            .book(
                BookingRequest {
                    customer_id: c.id,
                    vehicle_id: Some(vehicle),
                    service_id: "oil_change".into(),
                    start: slot.start,
                    source: BookingSource::Dashboard,
                    notes: None,
                },
                now,
            )
            .await
            .unwrap()
    }

    /// Texts Otto as `from` through the signed SMS webhook; Otto's answers.
    async fn text(&self, from: &str, body: &str) -> Vec<String> {
        otto_twilio::messaging::send_inbound(
            &format!("{}/twilio/sms", self.app.url()),
            &self.app.account_sid,
            &SecretString::from(AUTH_TOKEN),
            &PhoneNumber::parse(from).unwrap(),
            &self.app.shop.config().phone,
            body,
        )
        .await
        .unwrap()
    }

    fn messages_to(&self, to: &str) -> Vec<String> {
        self.app
            .twilio
            .messages()
            .into_iter()
            .filter(|m| m.to == to)
            .map(|m| m.body)
            .collect()
    }
}

fn settings() -> ReminderSettings {
    ReminderSettings::default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_booking_is_confirmed_then_reminded_once_at_the_right_local_time() {
    let rig = rig(settings()).await;
    let phone = "+15555550171";
    let (_, a) = rig.book(phone, 3).await;
    // Daytime on the first day after now: the confirmation goes at once.
    let start_day = rig.local(Utc::now()).date() + chrono::Duration::days(1);
    rig.clock.set(rig.at_local(start_day, 10, 0));
    assert!(rig.run_due().await.is_empty());
    let sent = rig.messages_to(phone);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(
        sent[0].contains("you're booked for an oil change"),
        "{}",
        sent[0]
    );
    assert!(sent[0].contains("Reply C to confirm"), "{}", sent[0]);
    let confirmation = rig.reminders_of(&a).await.remove(0);
    assert_eq!(confirmation.kind, ReminderKind::Confirmation);
    let delivered = rig
        .wait_status(confirmation.id, ReminderStatus::Delivered)
        .await;
    assert!(delivered.provider_sid.unwrap().starts_with("SM"));

    // The sweep adds the SMS reminder 24 hours before (and those of the demo shop's
    // appointments); sweeping again adds nothing.
    assert!(rig.reminders.sweep(rig.clock.now()).await.unwrap() >= 1);
    assert_eq!(rig.reminders.sweep(rig.clock.now()).await.unwrap(), 0);
    let reminder = rig
        .reminders_of(&a)
        .await
        .into_iter()
        .find(|r| r.kind == ReminderKind::Reminder)
        .unwrap();
    assert_eq!(reminder.channel, ReminderChannel::Sms);
    assert_eq!(reminder.due_at, a.start - chrono::Duration::hours(24));

    // A minute early: nothing; at its time: sent, once, however often the jobs run.
    rig.clock
        .set(reminder.due_at - chrono::Duration::minutes(1));
    rig.run_due().await;
    assert_eq!(rig.messages_to(phone).len(), 1);
    rig.clock.set(reminder.due_at);
    assert!(rig.run_due().await.is_empty());
    rig.run_due().await;
    let sent = rig.messages_to(phone);
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert!(
        sent[1].contains("a reminder of your oil change"),
        "{}",
        sent[1]
    );
    rig.wait_status(reminder.id, ReminderStatus::Delivered)
        .await;
    rig.reminders.sweep(rig.clock.now()).await.unwrap();
    rig.run_due().await;
    assert_eq!(rig.messages_to(phone).len(), 2, "never sent twice");

    // Staff see both on the dashboard: the reminders page and the appointment's page.
    common::staff::add_staff(
        rig.store().as_ref(),
        "sam",
        otto_core::records::StaffRole::Staff,
    )
    .await;
    let staff = common::staff::Session::sign_in(&rig.app.url(), "sam").await;
    let (status, page) = staff.get("/reminders?status=delivered").await;
    assert_eq!(status, 200);
    assert!(
        page.contains(&format!("id=\"reminder-{}\"", reminder.id)),
        "{page}"
    );
    assert!(
        page.contains(&format!("id=\"reminder-{}\"", confirmation.id)),
        "{page}"
    );
    let (_, page) = staff.get(&format!("/appointments/{}", a.id)).await;
    assert!(page.contains("confirmation by sms"), "{page}");
    assert!(page.contains("reminder by sms"), "{page}");
    assert!(page.contains(">delivered<"), "{page}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quiet_hours_hold_sends_until_morning_and_moves_and_cancels_follow() {
    let rig = rig(settings()).await;
    let phone = "+15555550172";
    let (c, a) = rig.book(phone, 3).await;
    // 21:30 local tomorrow (today's may already be past, and the confirmation is due from
    // the real now): the confirmation waits for 09:00 the next morning.
    let day = rig.local(Utc::now()).date() + chrono::Duration::days(1);
    rig.clock.set(rig.at_local(day, 21, 30));
    let waits = rig.run_due().await;
    assert_eq!(waits.len(), 1, "{waits:?}");
    assert_eq!(
        waits[0].retry_at,
        Some(rig.at_local(day + chrono::Duration::days(1), 9, 0))
    );
    assert!(rig.messages_to(phone).is_empty());

    // A reminder due in the evening is planned for the next morning.
    let mut evening = a.clone();
    evening.start = rig.at_local(day + chrono::Duration::days(3), 21, 0);
    let plan = rig.reminders.planned(&evening);
    assert_eq!(plan.len(), 1);
    assert_eq!(
        plan[0].due_at,
        rig.at_local(day + chrono::Duration::days(3), 9, 0),
        "21:00 the day before is quiet; 09:00 on the day is the next allowed time"
    );

    // Moved before the morning: the old confirmation is cancelled, a new one goes at 09:00.
    rig.reminders.sweep(rig.clock.now()).await.unwrap();
    let tz = rig.app.shop.config().time_zone;
    let slots = rig
        .app
        .shop
        .free_slots(
            "oil_change",
            rig.local(a.start).date() + chrono::Duration::days(1),
            rig.local(a.start).date() + chrono::Duration::days(8),
            Utc::now(),
        )
        .await
        .unwrap();
    let new_start = slots
        .iter()
        .find(|s| s.start.with_timezone(&tz).time() >= NaiveTime::from_hms_opt(10, 0, 0).unwrap())
        .unwrap()
        .start;
    let moved = rig
        .app
        .shop
        .reschedule(c.id, a.id, new_start, Utc::now())
        .await
        .unwrap();
    rig.clock
        .set(rig.at_local(day + chrono::Duration::days(1), 9, 0));
    rig.run_due().await;
    let sent = rig.messages_to(phone);
    assert_eq!(
        sent.len(),
        1,
        "only the confirmation of the new time: {sent:?}"
    );
    let when = otto_agent::speak::date_time(moved.start, tz);
    assert!(sent[0].contains(&when), "{} names {when}", sent[0]);
    let all = rig.reminders_of(&a).await;
    assert!(
        all.iter()
            .filter(|r| r.appointment_start == a.start)
            .all(|r| r.status == ReminderStatus::Cancelled),
        "{all:?}"
    );

    // Cancelled: its pending reminder is never sent.
    rig.reminders.sweep(rig.clock.now()).await.unwrap();
    rig.app.shop.cancel(c.id, a.id, Utc::now()).await.unwrap();
    let due = rig
        .reminders_of(&a)
        .await
        .into_iter()
        .find(|r| r.kind == ReminderKind::Reminder && r.appointment_start == moved.start)
        .unwrap();
    assert_eq!(due.status, ReminderStatus::Cancelled);
    rig.clock.set(due.due_at);
    rig.run_due().await;
    assert_eq!(rig.messages_to(phone).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn texts_confirm_reschedule_and_cancel_and_stop_is_honoured() {
    let rig = rig(settings()).await;
    let phone = "+15555550173";
    let (c, a) = rig.book(phone, 2).await;
    let store = rig.store();

    let answer = rig.text(phone, "C").await;
    assert!(answer[0].contains("is confirmed"), "{answer:?}");
    assert_eq!(
        store.appointment(a.id).await.unwrap().unwrap().status,
        AppointmentStatus::Confirmed
    );

    let offers = rig.text(phone, "R").await;
    assert!(offers[0].contains("reply 1 for"), "{offers:?}");
    let moved = rig.text(phone, "2").await;
    assert!(moved[0].contains("is now on"), "{moved:?}");
    let after = store.appointment(a.id).await.unwrap().unwrap();
    assert_ne!(after.start, a.start);
    let tz = rig.app.shop.config().time_zone;
    assert!(
        offers[0].contains(&format!(
            "2 for {}",
            otto_agent::speak::date_time(after.start, tz)
        )),
        "moved to the second offer: {offers:?} / {after:?}"
    );

    // A day named in the text narrows the offers to that day.
    let day = after.start.with_timezone(&tz).date_naive() + chrono::Duration::days(1);
    let weekday = otto_agent::speak::day_name(chrono::Datelike::weekday(&day));
    let that_day = rig.text(phone, &format!("R {weekday}")).await;
    assert!(
        that_day[0].contains(weekday) || that_day[0].contains("no free time"),
        "{that_day:?}"
    );

    let ask = rig.text(phone, "CANCEL").await;
    assert!(ask[0].contains("reply YES to cancel"), "{ask:?}");
    assert!(
        store
            .appointment(a.id)
            .await
            .unwrap()
            .unwrap()
            .status
            .is_active()
    );
    let done = rig.text(phone, "yes").await;
    assert!(done[0].contains("is cancelled"), "{done:?}");
    assert_eq!(
        store.appointment(a.id).await.unwrap().unwrap().status,
        AppointmentStatus::Cancelled
    );

    // Anything else is a message for the staff.
    let note = rig
        .text(
            phone,
            "My brakes squeal when I stop, can someone call me back?",
        )
        .await;
    assert!(note[0].contains("passed your message on"), "{note:?}");
    let messages = store.messages(true, 10).await.unwrap();
    assert!(
        messages
            .iter()
            .any(|m| m.customer_id == Some(c.id) && m.body.contains("brakes squeal")),
        "{messages:?}"
    );

    // STOP: answered once, then nothing is sent to the number, not even a booking's
    // confirmation; HELP still answers; START resubscribes.
    let stop = rig.text(phone, "STOP").await;
    assert!(stop[0].contains("unsubscribed"), "{stop:?}");
    assert!(
        rig.text(phone, "C").await.is_empty(),
        "no answer after STOP"
    );
    let b = rig.book_for(&c, 3).await;
    let day = rig.local(Utc::now()).date() + chrono::Duration::days(1);
    rig.clock.set(rig.at_local(day, 10, 0));
    rig.run_due().await;
    assert!(rig.messages_to(phone).is_empty(), "nothing sent after STOP");
    let r = rig.reminders_of(&b).await.remove(0);
    assert_eq!(r.status, ReminderStatus::Cancelled);
    assert!(r.last_error.unwrap().contains("opted out"));
    assert!(rig.text(phone, "HELP").await[0].contains("Reply STOP"));
    assert!(rig.text(phone, "START").await[0].contains("resubscribed"));
    assert!(rig.text(phone, "C").await[0].contains("is confirmed"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twilio_refusals_retry_or_fail_and_an_undelivered_text_is_recorded() {
    let rig = rig(settings()).await;
    let phone = "+15555550174";
    let (_, a) = rig.book(phone, 3).await;
    let day = rig.local(Utc::now()).date() + chrono::Duration::days(1);
    rig.clock.set(rig.at_local(day, 10, 0));
    // 429: retried with backoff, nothing sent yet, back to pending.
    rig.app
        .twilio
        .fail_next(otto_fakes::twilio::ScriptedFailure {
            status: 429,
            body: r#"{"code":20429,"message":"Too Many Requests","status":429}"#.into(),
        });
    let failures = rig.run_due().await;
    assert_eq!(failures.len(), 1);
    assert!(failures[0].retryable && failures[0].retry_at.is_none());
    let r = rig.reminders_of(&a).await.remove(0);
    assert_eq!(r.status, ReminderStatus::Pending);
    assert!(r.last_error.unwrap().contains("20429"));
    // Next try goes; the phone is unreachable, so the callback says undelivered.
    rig.app
        .twilio
        .set_message_outcome(phone, MessageOutcome::Undelivered(30003));
    rig.clock
        .set(rig.clock.now() + chrono::Duration::minutes(5));
    assert!(rig.run_due().await.is_empty());
    let failed = rig.wait_status(r.id, ReminderStatus::Failed).await;
    assert_eq!(failed.attempts, 2);
    assert!(failed.last_error.unwrap().contains("30003"));

    // 21211 (invalid number): failed at once, never retried.
    let other = "+15555550175";
    let (_, b) = rig.book(other, 4).await;
    rig.app
        .twilio
        .fail_next(otto_fakes::twilio::ScriptedFailure::fixture(
            400,
            "twilio-rest-error-21211.json",
        ));
    assert!(rig.run_due().await.is_empty());
    let r = rig.reminders_of(&b).await.remove(0);
    assert_eq!(r.status, ReminderStatus::Failed);
    assert!(r.last_error.unwrap().contains("21211"));
}

fn call_settings() -> ReminderSettings {
    ReminderSettings {
        sms_hours: 0,
        call_hours: 24,
        ..ReminderSettings::default()
    }
}

/// Books, skips the confirmation, and places the reminder call at its time; the reminder.
async fn place_reminder_call(
    rig: &Rig,
    phone: &str,
) -> (Appointment, otto_core::records::Reminder) {
    let (_, a) = rig.book(phone, 3).await;
    let day = rig.local(Utc::now()).date() + chrono::Duration::days(1);
    rig.clock.set(rig.at_local(day, 10, 0));
    rig.run_due().await; // the confirmation text
    rig.reminders.sweep(rig.clock.now()).await.unwrap();
    let call = rig
        .reminders_of(&a)
        .await
        .into_iter()
        .find(|r| r.channel == ReminderChannel::Call)
        .unwrap();
    rig.clock.set(call.due_at);
    assert!(rig.run_due().await.is_empty());
    (a, call)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_machine_gets_a_voicemail_and_an_unanswered_call_is_retried_then_texted() {
    let rig = rig(call_settings()).await;
    let phone = "+15555550176";
    rig.app.twilio.set_call_outcome(phone, CallOutcome::Machine);
    let (_, call) = place_reminder_call(&rig, phone).await;
    let placed: Vec<_> = rig
        .app
        .twilio
        .calls()
        .into_iter()
        .filter(|c| c.to == phone)
        .collect();
    assert_eq!(placed.len(), 1);
    assert_eq!(
        placed[0].machine_detection.as_deref(),
        Some("DetectMessageEnd")
    );
    assert!(
        placed[0]
            .url
            .as_deref()
            .unwrap()
            .ends_with(&format!("/twilio/voice?reminder={}", call.id))
    );
    let done = rig.wait_status(call.id, ReminderStatus::Delivered).await;
    let updates: Vec<_> = rig
        .app
        .twilio
        .call_updates()
        .into_iter()
        .filter(|(sid, _)| *sid == placed[0].sid)
        .collect();
    assert_eq!(updates.len(), 1, "{updates:?}");
    let twiml = &updates[0].1.iter().find(|(k, _)| k == "Twiml").unwrap().1;
    assert!(
        twiml.contains("with a reminder of your oil change"),
        "{twiml}"
    );
    assert!(twiml.ends_with("<Hangup/></Response>"), "{twiml}");
    assert_eq!(done.provider_status.as_deref(), Some("machine_end_beep"));

    // No answer twice: tried again after call_retry_minutes, then a text goes instead.
    let phone = "+15555550177";
    rig.app
        .twilio
        .set_call_outcome(phone, CallOutcome::NoAnswer);
    let before = Utc::now();
    let (a, call) = place_reminder_call(&rig, phone).await;
    let retry = rig.wait_status(call.id, ReminderStatus::Pending).await;
    // The server's callback handler runs on the real clock: an hour later, out of quiet hours.
    let quiet = ReminderSettings::default().quiet().unwrap();
    let tz = rig.app.shop.config().time_zone;
    let hour = chrono::Duration::minutes(60);
    assert!(
        retry.due_at >= quiet.next_allowed(before + hour, tz)
            && retry.due_at <= quiet.next_allowed(Utc::now() + hour, tz),
        "{retry:?}"
    );
    assert_eq!(retry.provider_sid, None);
    rig.clock.set(retry.due_at);
    assert!(rig.run_due().await.is_empty());
    let failed = rig.wait_status(call.id, ReminderStatus::Failed).await;
    assert_eq!(failed.attempts, 2);
    let calls_to: Vec<_> = rig
        .app
        .twilio
        .calls()
        .into_iter()
        .filter(|c| c.to == phone)
        .collect();
    assert_eq!(calls_to.len(), 2);
    let text = rig
        .reminders_of(&a)
        .await
        .into_iter()
        .find(|r| r.channel == ReminderChannel::Sms && r.kind == ReminderKind::Reminder)
        .expect("a text instead");
    assert!(rig.run_due().await.is_empty());
    rig.wait_status(text.id, ReminderStatus::Delivered).await;
    assert!(
        rig.messages_to(phone)
            .last()
            .unwrap()
            .contains("a reminder of your oil change")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_confirms_a_reminder_call_by_voice() {
    use otto_speech::tts::flite::Voice;
    use otto_speech::tts::local::synthesize_mulaw;
    use otto_twilio::sim::{CallerAudio, CallerStep, SimConfig, run_call};

    let rig = rig(call_settings()).await;
    let phone = "+15555550178";
    let (a, call) = place_reminder_call(&rig, phone).await;
    let placed = rig
        .app
        .twilio
        .calls()
        .into_iter()
        .find(|c| c.to == phone)
        .unwrap();
    // The answering-machine result (a person) has been recorded.
    for _ in 0..200 {
        let r = rig.store().reminder(call.id).await.unwrap().unwrap();
        if r.provider_status.as_deref() == Some("human") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let url = placed.url.unwrap();
    let path = url.strip_prefix(&rig.app.url()).unwrap().to_string();
    let mut sim = SimConfig::new(
        rig.app.url(),
        rig.app.account_sid.clone(),
        SecretString::from(AUTH_TOKEN),
        rig.app.shop.config().phone.as_str(),
        phone,
    );
    sim.webhook_path = path;
    sim.answered_outbound = Some(otto_twilio::CallSid::parse(&placed.sid).unwrap());
    let wait = || CallerStep::WaitForReply {
        quiet: Duration::from_millis(1_500),
        max: Duration::from_secs(45),
    };
    let script = [
        wait(),
        CallerStep::Speak(synthesize_mulaw("Yes, I'll be there.", Voice::Kal).unwrap()),
        wait(),
    ];
    let record = run_call(&sim, CallerAudio::script(script)).await.unwrap();
    println!("{record}");
    let now = rig.store().appointment(a.id).await.unwrap().unwrap();
    assert_eq!(now.status, AppointmentStatus::Confirmed, "{record}");
    let log = rig
        .store()
        .call_by_sid(&placed.sid)
        .await
        .unwrap()
        .expect("the call is logged");
    assert_eq!(log.direction, otto_core::records::CallDirection::Outbound);
    let turns = rig
        .store()
        .call_with_turns(log.id)
        .await
        .unwrap()
        .unwrap()
        .turns;
    assert!(
        turns[0].text.contains("calling about your oil change"),
        "the call opens about the appointment: {:?}",
        turns[0].text
    );
    rig.app.twilio.complete_call(&placed.sid, 20).await;
    rig.wait_status(call.id, ReminderStatus::Delivered).await;
}
