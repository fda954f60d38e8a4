//! Google Calendar end to end against `otto_fakes::google` on 127.0.0.1: busy time removes
//! slots (the shop the phone tools use, and `otto slots`); every booking, move and
//! cancellation reaches the calendar through the outbox, also after an outage and a timeout
//! after Google stored the event; a revoked refresh token leaves bookings working and `/ready`
//! telling; drift is reported. Dates are in the first weeks of daylight time in New York.

// Test code: a panic on a broken precondition is the failure message.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use otto::calendar::reconcile::Reconcile;
use otto::calendar::sync::SyncCalendar;
use otto::config::Config;
use otto_core::records::{Appointment, BookingSource};
use otto_fakes::google::{self, FRONTDESK, FakeGoogle, Fault, Op};
use otto_jobs::{Registry, Worker, WorkerConfig};
use otto_providers::google::GoogleCalendarConfig;
use otto_providers::google::config::DriftPolicy;
use otto_shop::{BookingRequest, Shop};
use otto_store::testing::{civic, customer};
use secrecy::SecretString;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).single().unwrap()
}

/// "Now" for the bookings: Wednesday 10 March 2027, before the DST change of the 14th.
fn now() -> DateTime<Utc> {
    utc(2027, 3, 10, 14, 0)
}

fn calendar_config(fake: &FakeGoogle) -> GoogleCalendarConfig {
    GoogleCalendarConfig {
        client_id: google::CLIENT_ID.into(),
        client_secret: Some(SecretString::from(google::CLIENT_SECRET)),
        refresh_token: Some(SecretString::from(google::REFRESH_TOKEN)),
        calendar_id: FRONTDESK.into(),
        token_url: fake.token_url(),
        auth_url: fake.auth_url(),
        api_base_url: fake.api_base_url(),
        request_timeout_ms: 400,
        busy_deadline_ms: 500,
        ..GoogleCalendarConfig::default()
    }
}

struct Setup {
    fake: FakeGoogle,
    shop: Shop,
    config: Config,
    _dir: tempfile::TempDir,
}

async fn setup() -> Setup {
    let fake = FakeGoogle::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config {
        data_dir: dir.path().to_path_buf(),
        ..Config::default()
    };
    config.calendar = Some(calendar_config(&fake));
    config.validate().unwrap();
    let shop = otto::commands::open_shop(&config).await.unwrap();
    Setup {
        fake,
        shop,
        config,
        _dir: dir,
    }
}

/// Runs the job worker with the `calendar.sync` handler until the token fires.
async fn run_worker(s: &Setup) -> CancellationToken {
    let handler = SyncCalendar::new(s.config.calendar.as_ref().unwrap(), s.shop.clone())
        .await
        .unwrap();
    let worker = Worker::new(
        s.shop.store().clone(),
        Registry::new().with(Arc::new(handler)),
        WorkerConfig {
            poll_ms: 20,
            backoff_base_ms: 50,
            backoff_max_ms: 200,
            lease_ms: 5_000,
            ..WorkerConfig::default()
        },
    );
    let stop = CancellationToken::new();
    tokio::spawn(worker.run(stop.clone()));
    stop
}

async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while !check().await {
        assert!(tokio::time::Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn book(s: &Setup, phone: &str, start: DateTime<Utc>) -> Appointment {
    let store = s.shop.store();
    let c = store
        .create_customer(&customer("Jordan Smith", phone))
        .await
        .unwrap();
    let v = store.add_vehicle(&civic(c.id, None)).await.unwrap();
    s.shop
        .book(
            BookingRequest {
                customer_id: c.id,
                vehicle_id: Some(v.id),
                service_id: "oil_change".into(),
                start,
                source: BookingSource::Dashboard,
                notes: None,
            },
            now(),
        )
        .await
        .unwrap()
}

fn event_of<'a>(events: &'a [Value], a: &Appointment) -> Option<&'a Value> {
    events.iter().find(|e| {
        e["extendedProperties"]["private"]["otto_appointment_id"]
            .as_str()
            .and_then(|id| id.parse().ok())
            == Some(a.id)
    })
}

#[tokio::test]
async fn bookings_moves_and_cancellations_reach_the_calendar_in_the_shops_time_zone() {
    let s = setup().await;
    let stop = run_worker(&s).await;
    // Friday 12 March 2027 10:00 EST and Monday 15 March 10:00 EDT (DST began on the 14th).
    let before = book(&s, "555-555-0101", utc(2027, 3, 12, 15, 0)).await;
    let after = book(&s, "555-555-0102", utc(2027, 3, 15, 14, 0)).await;
    eventually("two events", async || {
        s.fake.live_events(FRONTDESK).len() == 2
    })
    .await;
    let events = s.fake.live_events(FRONTDESK);
    let e = event_of(&events, &before).unwrap();
    assert_eq!(e["start"]["dateTime"], "2027-03-12T10:00:00-05:00");
    assert_eq!(e["start"]["timeZone"], "America/New_York");
    assert_eq!(e["summary"], "Oil change — 2019 Honda Civic");
    assert_eq!(e["transparency"], "transparent");
    assert!(
        !e.to_string().contains("Jordan") && !e.to_string().contains("555"),
        "no customer data by default: {e}"
    );
    let e = event_of(&events, &after).unwrap();
    assert_eq!(e["start"]["dateTime"], "2027-03-15T10:00:00-04:00");
    assert_eq!(e["end"]["dateTime"], "2027-03-15T10:30:00-04:00");
    eventually("event ids recorded", async || {
        let a = s.shop.store().appointment(after.id).await.unwrap().unwrap();
        a.calendar_event_id.as_deref() == e["id"].as_str()
    })
    .await;

    // Move Monday's to Tuesday 16 March 14:00 EDT: the same event, patched.
    s.shop
        .reschedule(after.customer_id, after.id, utc(2027, 3, 16, 18, 0), now())
        .await
        .unwrap();
    eventually("the event moved", async || {
        let events = s.fake.live_events(FRONTDESK);
        event_of(&events, &after)
            .is_some_and(|e| e["start"]["dateTime"] == "2027-03-16T14:00:00-04:00")
    })
    .await;
    assert_eq!(s.fake.events(FRONTDESK).len(), 2, "moved, not duplicated");
    assert!(s.fake.count(Op::Patch) >= 1);

    s.shop
        .cancel(before.customer_id, before.id, now())
        .await
        .unwrap();
    eventually("the event deleted", async || {
        s.fake.live_events(FRONTDESK).len() == 1
    })
    .await;
    assert_eq!(s.fake.count(Op::Delete), 1);
    stop.cancel();
}

#[tokio::test]
async fn an_insert_that_timed_out_after_google_stored_it_makes_one_event() {
    let s = setup().await;
    s.fake.fail_next(
        Op::Insert,
        [Fault::StoreThenStall(Duration::from_millis(1500))],
    );
    let stop = run_worker(&s).await;
    let a = book(&s, "555-555-0103", utc(2027, 3, 15, 15, 0)).await;
    eventually("the event id recorded", async || {
        let a = s.shop.store().appointment(a.id).await.unwrap().unwrap();
        a.calendar_event_id.is_some()
    })
    .await;
    assert_eq!(s.fake.events(FRONTDESK).len(), 1, "exactly one event");
    assert_eq!(
        s.fake.count(Op::Insert),
        1,
        "the retry found it instead of inserting"
    );
    stop.cancel();
}

#[tokio::test]
async fn bookings_succeed_while_google_is_down_and_their_events_appear_when_it_is_back() {
    let s = setup().await;
    s.fake.set_down(true);
    let stop = run_worker(&s).await;
    let started = std::time::Instant::now();
    let a = book(&s, "555-555-0104", utc(2027, 3, 15, 13, 0)).await;
    let b = book(&s, "555-555-0105", utc(2027, 3, 16, 13, 0)).await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "bookings do not wait for Google beyond the busy deadline: {:?}",
        started.elapsed()
    );
    eventually("a few failed attempts", async || {
        s.fake.count(Op::Token) >= 3
    })
    .await;
    assert!(s.fake.events(FRONTDESK).is_empty());
    s.fake.set_down(false);
    eventually("both events", async || {
        s.fake.live_events(FRONTDESK).len() == 2
    })
    .await;
    let events = s.fake.live_events(FRONTDESK);
    assert!(event_of(&events, &a).is_some() && event_of(&events, &b).is_some());
    stop.cancel();
}

#[tokio::test]
async fn an_external_busy_event_removes_slots_and_a_slow_google_does_not() {
    let s = setup().await;
    let day = NaiveDate::from_ymd_opt(2027, 3, 16).unwrap();
    let starts = |slots: &[otto_core::scheduling::Slot]| -> Vec<DateTime<Utc>> {
        slots.iter().map(|s| s.start).collect()
    };
    let open = starts(
        &s.shop
            .free_slots("oil_change", day, day, now())
            .await
            .unwrap(),
    );
    // Tuesday 16 March 2027, 10:00–12:00 EDT: the owner's own job, entered in Google.
    s.fake.add_external_event(
        FRONTDESK,
        "Owner's job",
        utc(2027, 3, 16, 14, 0),
        utc(2027, 3, 16, 16, 0),
    );
    otto_providers::google::invalidate_all();
    let busy = starts(
        &s.shop
            .free_slots("oil_change", day, day, now())
            .await
            .unwrap(),
    );
    let gone: Vec<_> = open.iter().filter(|t| !busy.contains(t)).copied().collect();
    assert_eq!(
        gone,
        vec![
            utc(2027, 3, 16, 14, 0),
            utc(2027, 3, 16, 14, 30),
            utc(2027, 3, 16, 15, 0),
            utc(2027, 3, 16, 15, 30)
        ]
    );
    // Google slow: the answer comes from the shop's own records within the deadline.
    otto_providers::google::invalidate_all();
    s.fake.set_busy_delay_ms(3_000);
    let started = std::time::Instant::now();
    let slow = starts(
        &s.shop
            .free_slots("oil_change", day, day, now())
            .await
            .unwrap(),
    );
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(slow, open);
}

#[tokio::test]
async fn otto_slots_leaves_out_busy_time() {
    let s = setup().await;
    s.fake.add_external_event(
        FRONTDESK,
        "Loaner out",
        utc(2027, 3, 16, 14, 0),
        utc(2027, 3, 16, 16, 0),
    );
    let c = s.config.calendar.clone().unwrap();
    let db = s.config.database_url();
    let slots = |with_calendar: bool| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_otto"));
        cmd.env_remove("OTTO_WHISPER_MODEL")
            .env("OTTO_DATABASE_URL", &db)
            .args(["slots", "--service", "oil change", "--date", "2027-03-16"]);
        if with_calendar {
            cmd.env("OTTO_CALENDAR__CLIENT_ID", &c.client_id)
                .env("OTTO_CALENDAR__CLIENT_SECRET", google::CLIENT_SECRET)
                .env("OTTO_CALENDAR__REFRESH_TOKEN", google::REFRESH_TOKEN)
                .env("OTTO_CALENDAR__CALENDAR_ID", FRONTDESK)
                .env("OTTO_CALENDAR__TOKEN_URL", &c.token_url)
                .env("OTTO_CALENDAR__API_BASE_URL", &c.api_base_url);
        }
        cmd
    };
    let run = |mut cmd: std::process::Command| async move {
        let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
            .await
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let without = run(slots(false)).await;
    let with = run(slots(true)).await;
    assert!(
        without.contains(" 09:30 10:00 10:30 11:00 11:30 13:00"),
        "{without}"
    );
    assert!(with.contains(" 09:30 13:00"), "{with}");
    assert!(!with.contains("10:30"), "{with}");
}

#[tokio::test]
async fn a_revoked_refresh_token_leaves_bookings_working_and_ready_telling() {
    let fake = FakeGoogle::start().await;
    fake.revoke_refresh_token();
    let app = common::spawn_app(|c| c.calendar = Some(calendar_config(&fake))).await;
    let http = reqwest::Client::new();
    let ready = http
        .get(format!("{}/ready", app.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    // A slot query meets the dead token; slots still come, from Otto's own records.
    let day = NaiveDate::from_ymd_opt(2027, 3, 16).unwrap();
    let slots = app
        .shop
        .free_slots("oil_change", day, day, now())
        .await
        .unwrap();
    assert!(!slots.is_empty());
    let ready = http
        .get(format!("{}/ready", app.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200, "calls go on");
    assert_eq!(ready.text().await.unwrap(), "ready; calendar: reauthorise");
}

#[tokio::test]
async fn drift_is_reported_and_the_booking_stays() {
    let s = setup().await;
    let stop = run_worker(&s).await;
    let a = book(&s, "555-555-0106", utc(2027, 3, 15, 14, 0)).await;
    eventually("the event", async || {
        let a = s.shop.store().appointment(a.id).await.unwrap().unwrap();
        a.calendar_event_id.is_some()
    })
    .await;
    stop.cancel();
    let event_id = s
        .shop
        .store()
        .appointment(a.id)
        .await
        .unwrap()
        .unwrap()
        .calendar_event_id
        .unwrap();
    let reconcile = Reconcile::new(s.config.calendar.as_ref().unwrap(), s.shop.clone())
        .await
        .unwrap();
    assert!(reconcile.once(now()).await.unwrap().is_empty(), "in sync");
    // Someone drags the event to 15:00 EDT in Google.
    s.fake.move_event(
        FRONTDESK,
        &event_id,
        utc(2027, 3, 15, 19, 0),
        utc(2027, 3, 15, 19, 30),
    );
    let drifts = reconcile.once(now()).await.unwrap();
    assert_eq!(drifts.len(), 1);
    assert_eq!(drifts[0].appointment_id, a.id);
    assert_eq!(
        drifts[0].event,
        Some((utc(2027, 3, 15, 19, 0), utc(2027, 3, 15, 19, 30)))
    );
    let kept = s.shop.store().appointment(a.id).await.unwrap().unwrap();
    assert_eq!(kept.start, a.start, "the booking is not moved");
    assert!(
        reconcile.once(now()).await.unwrap().is_empty(),
        "reported once"
    );
    // Kept for the dashboard; a restarted reconcile goes on from the stored sync token.
    let kept = s.shop.store().calendar_drifts(10).await.unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].event, drifts[0].event);
    let restarted = Reconcile::new(s.config.calendar.as_ref().unwrap(), s.shop.clone())
        .await
        .unwrap();
    assert!(
        restarted.once(now()).await.unwrap().is_empty(),
        "not reported again after a restart"
    );

    // An expired sync token means a full list again, and the drift is seen again.
    s.fake.expire_sync_tokens();
    assert_eq!(reconcile.once(now()).await.unwrap().len(), 1);

    // With restore_event, the reconcile puts the event back through the outbox.
    let mut restore = s.config.calendar.clone().unwrap();
    restore.drift_policy = DriftPolicy::RestoreEvent;
    let reconcile = Reconcile::new(&restore, s.shop.clone()).await.unwrap();
    s.fake.expire_sync_tokens();
    assert_eq!(reconcile.once(now()).await.unwrap().len(), 1);
    let stop = run_worker(&s).await;
    eventually("the event restored", async || {
        s.fake.live_events(FRONTDESK)[0]["start"]["dateTime"] == "2027-03-15T10:00:00-04:00"
    })
    .await;
    stop.cancel();
    // The restored event matches the booking: the drift is no longer shown.
    assert!(reconcile.once(now()).await.unwrap().is_empty());
    assert!(s.shop.store().calendar_drifts(10).await.unwrap().is_empty());
}

/// `otto …` against the fake, with the calendar configured through the environment.
async fn otto_cli(
    fake: &FakeGoogle,
    dir: &std::path::Path,
    refresh: bool,
    args: &[&str],
) -> (bool, String, String) {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_otto"));
    cmd.env_remove("OTTO_WHISPER_MODEL")
        .env(
            "OTTO_DATABASE_URL",
            format!("sqlite://{}", dir.join("otto.db").display()),
        )
        .env("OTTO_CALENDAR__CLIENT_ID", google::CLIENT_ID)
        .env("OTTO_CALENDAR__CLIENT_SECRET", google::CLIENT_SECRET)
        .env("OTTO_CALENDAR__CALENDAR_ID", FRONTDESK)
        .env("OTTO_CALENDAR__TOKEN_URL", fake.token_url())
        .env("OTTO_CALENDAR__AUTH_URL", fake.auth_url())
        .env("OTTO_CALENDAR__API_BASE_URL", fake.api_base_url())
        .args(args);
    if refresh {
        cmd.env("OTTO_CALENDAR__REFRESH_TOKEN", google::REFRESH_TOKEN);
    }
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[tokio::test]
async fn calendar_connect_stores_or_prints_the_refresh_token_and_check_lists_busy_times() {
    let fake = FakeGoogle::start().await;
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let redirect = format!(
        "http://127.0.0.1:8765/?code={}&scope=x",
        google::CONSENT_CODE
    );
    let (ok, out, err) = otto_cli(
        &fake,
        dir,
        false,
        &["calendar", "connect", "--print", "--code", &redirect],
    )
    .await;
    assert!(ok, "{err}");
    assert!(out.contains(&fake.auth_url()), "{out}");
    assert!(out.contains("access_type=offline"), "{out}");
    assert!(
        out.contains(&format!("refresh_token = \"{}\"", google::REFRESH_TOKEN)),
        "{out}"
    );

    let (ok, _, err) = otto_cli(&fake, dir, false, &["calendar", "check"]).await;
    assert!(!ok, "not connected yet");
    assert!(err.contains("otto calendar connect"), "{err}");
    let (ok, out, err) = otto_cli(
        &fake,
        dir,
        false,
        &["calendar", "connect", "--code", &redirect],
    )
    .await;
    assert!(ok, "{err}");
    assert!(out.contains("stored in the database"), "{out}");
    assert!(!out.contains(google::REFRESH_TOKEN), "{out}");

    let (ok, _, err) = otto_cli(
        &fake,
        dir,
        false,
        &["calendar", "connect", "--code", "4/wrong"],
    )
    .await;
    assert!(!ok);
    assert!(err.contains("refused the code"), "{err}");

    let soon = Utc::now() + chrono::Duration::days(2);
    let start = soon.date_naive().and_hms_opt(15, 0, 0).unwrap().and_utc();
    fake.add_external_event(
        FRONTDESK,
        "Tech off",
        start,
        start + chrono::Duration::hours(2),
    );
    // The stored token, with none in the configuration.
    let (ok, out, err) = otto_cli(&fake, dir, false, &["calendar", "check"]).await;
    assert!(ok, "{err}");
    assert!(out.contains("authorised"), "{out}");
    let local = start.with_timezone(&chrono_tz::America::New_York);
    assert!(
        out.contains(&local.format("%Y-%m-%d %H:%M").to_string()),
        "{out}"
    );

    let (_, out, _) = otto_cli(&fake, dir, false, &["doctor"]).await;
    assert!(
        out.contains("calendar") && out.contains("authorised for"),
        "{out}"
    );

    fake.revoke_refresh_token();
    let (_, out, _) = otto_cli(&fake, dir, false, &["doctor"]).await;
    assert!(out.contains("reauthorise"), "{out}");
    assert!(!out.contains(google::REFRESH_TOKEN), "{out}");
    let (ok, _, err) = otto_cli(&fake, dir, true, &["calendar", "check"]).await;
    assert!(!ok);
    assert!(err.contains("otto calendar connect"), "{err}");
    assert!(
        !err.contains(google::REFRESH_TOKEN),
        "no secret in errors: {err}"
    );
}

/// The dialogue (`otto chat`, the rules the phone uses) with and without the calendar.
#[tokio::test]
async fn on_the_phone_a_busy_time_is_not_offered() {
    let fake = FakeGoogle::start().await;
    // Tuesday 16 March 2027, 10:00–12:00 EDT: the shop is closed by its calendar.
    fake.add_external_event(
        FRONTDESK,
        "Owner's job",
        utc(2027, 3, 16, 14, 0),
        utc(2027, 3, 16, 16, 0),
    );
    let talk = |fake: &FakeGoogle, calendar: bool| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_otto"));
        cmd.env_remove("OTTO_WHISPER_MODEL")
            .env("OTTO_DATABASE_URL", "sqlite::memory:")
            .args([
                "chat",
                "--from",
                "+15555550177",
                "--now",
                "2027-03-16 08:15",
            ])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        if calendar {
            cmd.env("OTTO_CALENDAR__CLIENT_ID", google::CLIENT_ID)
                .env("OTTO_CALENDAR__CLIENT_SECRET", google::CLIENT_SECRET)
                .env("OTTO_CALENDAR__REFRESH_TOKEN", google::REFRESH_TOKEN)
                .env("OTTO_CALENDAR__CALENDAR_ID", FRONTDESK)
                .env("OTTO_CALENDAR__TOKEN_URL", fake.token_url())
                .env("OTTO_CALENDAR__API_BASE_URL", fake.api_base_url());
        }
        async move {
            tokio::task::spawn_blocking(move || {
                use std::io::Write;
                let mut child = cmd.spawn().unwrap();
                child
                    .stdin
                    .take()
                    .unwrap()
                    .write_all(b"I need an oil change today at 10:30\nPat Lee\n2019 Honda Civic\nno\nyes\n")
                    .unwrap();
                let out = child.wait_with_output().unwrap();
                assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
                String::from_utf8(out.stdout).unwrap()
            })
            .await
            .unwrap()
        }
    };
    let open = talk(&fake, false).await;
    let busy = talk(&fake, true).await;
    assert!(
        open.contains("You're all set: oil change on Tuesday, March 16 at 10:30 AM"),
        "{open}"
    );
    assert!(busy.contains("10:30 AM is taken"), "{busy}");
    assert!(
        busy.contains("9:30 AM") && busy.contains("1:00 PM") && !busy.contains("11:00 AM"),
        "only times outside the busy block are offered: {busy}"
    );
    assert!(
        !busy.contains("You're all set: oil change on Tuesday, March 16 at 10:30"),
        "{busy}"
    );
}

#[tokio::test]
async fn a_sync_that_ran_out_of_attempts_is_revived_by_the_reconcile() {
    let s = setup().await;
    let a = book(&s, "555-555-0107", utc(2027, 3, 17, 14, 0)).await;
    // Google was down for longer than the job's retries: it died out of attempts.
    let store = s.shop.store();
    loop {
        let claimed = store
            .claim_jobs("test", Utc::now(), Duration::from_secs(60), 10)
            .await
            .unwrap();
        let Some(job) = claimed.into_iter().find(|j| j.kind == "calendar.sync") else {
            panic!("the sync job is claimable")
        };
        if job.attempts >= job.max_attempts {
            store.bury_job(job.id, "test", "Google down").await.unwrap();
            break;
        }
        store
            .retry_job(job.id, "test", Utc::now(), "Google down")
            .await
            .unwrap();
    }
    let reconcile = Reconcile::new(s.config.calendar.as_ref().unwrap(), s.shop.clone())
        .await
        .unwrap();
    reconcile.once(now()).await.unwrap();
    reconcile.once(now()).await.unwrap();
    let stop = run_worker(&s).await;
    eventually("the event after all", async || {
        event_of(&s.fake.live_events(FRONTDESK), &a).is_some()
    })
    .await;
    stop.cancel();
    let revived: Vec<_> = store
        .jobs(None, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|j| {
            j.dedup_key
                .as_deref()
                .is_some_and(|k| k.contains(":revive:"))
        })
        .collect();
    assert_eq!(revived.len(), 1, "revived once, not on every pass");
}

#[tokio::test]
async fn a_service_account_key_file_works_instead_of_the_owners_consent() {
    let fake = FakeGoogle::start().await;
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("sa.json");
    std::fs::write(&key, google::service_account_key_json()).unwrap();
    let mut config = Config {
        data_dir: dir.path().to_path_buf(),
        ..Config::default()
    };
    config.calendar = Some(GoogleCalendarConfig {
        client_id: String::new(),
        client_secret: None,
        refresh_token: None,
        service_account_key_file: Some(key),
        service_account_subject: Some(FRONTDESK.into()),
        ..calendar_config(&fake)
    });
    config.validate().unwrap();
    let shop = otto::commands::open_shop(&config).await.unwrap();
    let s = Setup {
        fake,
        shop,
        config,
        _dir: dir,
    };
    let stop = run_worker(&s).await;
    let a = book(&s, "555-555-0108", utc(2027, 3, 18, 14, 0)).await;
    eventually("the event", async || {
        event_of(&s.fake.live_events(FRONTDESK), &a).is_some()
    })
    .await;
    stop.cancel();
    assert_eq!(s.fake.last_jwt_claims().unwrap()["sub"], FRONTDESK);
}
