//! Reminder workers on one PostgreSQL database: two workers racing over 1,000 due reminders
//! send each exactly once, and a worker killed mid-batch loses none and duplicates none
//! (its leases run out; sends it left unfinished are settled by Twilio's status callbacks or
//! sent again after the grace period). Prints the send rate of one worker and of two.
//!
//! Needs `OTTO_TEST_DATABASE_URL` (skipped without it, a failure in CI).

// Test code: a panic on a broken precondition is the failure message.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use otto::reminders::send::SendReminder;
use otto::reminders::{ReminderSettings, Reminders};
use otto_core::records::{
    AppointmentStatus, BookingSource, ReminderChannel, ReminderKind, ReminderStatus,
};
use otto_jobs::{Registry, Worker, WorkerConfig};
use otto_shop::{Shop, SystemClock};
use otto_store::{ImportedAppointment, NewAppointment, NewReminder, Store};
use tokio_util::sync::CancellationToken;

use common::{TestApp, spawn_app};

/// No quiet hours (the test runs at any hour) and a short wait for interrupted sends.
fn settings() -> ReminderSettings {
    ReminderSettings {
        quiet_start: "00:00".into(),
        quiet_end: "00:00".into(),
        callback_grace_secs: 10,
        ..ReminderSettings::default()
    }
}

/// A worker process's parts: its own connection pool, reminders and worker.
async fn worker(app: &TestApp, url: &str, name: &str, lease_ms: u64) -> Worker {
    let store = otto_store::connect(url).await.unwrap();
    let shop = Shop::new(store.clone(), Arc::new(app.shop.config().clone()));
    let twilio = common::twilio_client(app);
    let reminders = Reminders::new(
        shop,
        Some(twilio),
        settings(),
        &app.url(),
        Arc::new(SystemClock),
    )
    .unwrap();
    Worker::new(
        store,
        Registry::new().with(Arc::new(SendReminder::new(reminders))),
        WorkerConfig {
            name: name.into(),
            poll_ms: 10,
            batch: 16,
            concurrency: 8,
            lease_ms,
            backoff_base_ms: 200,
            backoff_max_ms: 2_000,
        },
    )
}

/// `n` customers (phones `+1555{prefix}NNNN`) with one appointment each, and a due SMS
/// reminder for each; returns the phones.
async fn due_reminders(store: &Arc<dyn Store>, prefix: u32, n: u32) -> Vec<String> {
    let phones: Vec<String> = (0..n).map(|i| format!("+1555{prefix:03}{i:04}")).collect();
    let customers: Vec<_> = phones
        .iter()
        .map(|p| otto_store::testing::customer("Race Customer", p))
        .collect();
    let ids = store.import_customers(&customers).await.unwrap();
    let base = Utc::now() + chrono::Duration::days(5);
    let rows: Vec<ImportedAppointment> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let start = base + chrono::Duration::minutes(i as i64);
            ImportedAppointment {
                appointment: NewAppointment {
                    customer_id: *id,
                    vehicle_id: None,
                    service: "oil_change".into(),
                    start,
                    end: start + chrono::Duration::minutes(30),
                    source: BookingSource::Dashboard,
                    notes: None,
                },
                bay: 1,
                status: AppointmentStatus::Scheduled,
            }
        })
        .collect();
    store.import_appointments(&rows).await.unwrap();
    let mine: std::collections::HashSet<_> = ids.into_iter().collect();
    let appointments = store
        .active_appointments_between(
            base - chrono::Duration::minutes(1),
            base + chrono::Duration::days(2),
        )
        .await
        .unwrap();
    let due = Utc::now() - chrono::Duration::minutes(1);
    let planned: Vec<NewReminder> = appointments
        .iter()
        .filter(|a| mine.contains(&a.customer_id))
        .map(|a| NewReminder {
            appointment_id: a.id,
            kind: ReminderKind::Reminder,
            channel: ReminderChannel::Sms,
            appointment_start: a.start,
            due_at: due,
        })
        .collect();
    assert_eq!(planned.len(), n as usize);
    assert_eq!(
        store.schedule_reminders(&planned).await.unwrap().len(),
        n as usize
    );
    phones
}

/// Reminders sent (or beyond) so far.
async fn sent(store: &Arc<dyn Store>) -> u64 {
    store
        .reminder_counts()
        .await
        .unwrap()
        .into_iter()
        .filter(|(s, _)| matches!(s, ReminderStatus::Sent | ReminderStatus::Delivered))
        .map(|(_, n)| n)
        .sum()
}

async fn wait_sent(store: &Arc<dyn Store>, n: u64, max: Duration) {
    let t0 = Instant::now();
    while sent(store).await < n {
        assert!(
            t0.elapsed() < max,
            "only {} of {n} sent after {max:?}: {:?}",
            sent(store).await,
            store.reminder_counts().await.unwrap()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Messages the fake received per number among `phones`; asserts each got exactly one.
fn assert_each_once(app: &TestApp, phones: &[String]) -> usize {
    let mut per: HashMap<String, usize> = HashMap::new();
    for m in app.twilio.messages() {
        *per.entry(m.to).or_default() += 1;
    }
    let missing: Vec<_> = phones.iter().filter(|p| !per.contains_key(*p)).collect();
    let duplicates: usize = phones
        .iter()
        .map(|p| per.get(p).copied().unwrap_or(0).saturating_sub(1))
        .sum();
    assert!(
        missing.is_empty(),
        "{} never sent: {:?}",
        missing.len(),
        &missing[..missing.len().min(5)]
    );
    assert_eq!(duplicates, 0, "duplicates sent");
    duplicates
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_workers_racing_over_1000_reminders_send_each_exactly_once() {
    let Some(db) = otto_store::testing::postgres("reminders_race").await else {
        return;
    };
    let url = db.url.clone();
    let app = spawn_app(|c| c.database_url = url.clone()).await;
    let store = app.shop.store().clone();

    // One worker alone: its send rate.
    let phones = due_reminders(&store, 610, 500).await;
    let stop = CancellationToken::new();
    let one = tokio::spawn(worker(&app, &url, "solo", 60_000).await.run(stop.clone()));
    let t0 = Instant::now();
    wait_sent(&store, 500, Duration::from_secs(120)).await;
    let solo = t0.elapsed();
    stop.cancel();
    one.await.unwrap();
    assert_each_once(&app, &phones);

    // Two workers racing over 1,000 more.
    let phones = due_reminders(&store, 620, 1_000).await;
    let stop = CancellationToken::new();
    let a = worker(&app, &url, "a", 60_000).await;
    let b = worker(&app, &url, "b", 60_000).await;
    let t0 = Instant::now();
    let a = tokio::spawn(a.run(stop.clone()));
    let b = tokio::spawn(b.run(stop.clone()));
    wait_sent(&store, 1_500, Duration::from_secs(180)).await;
    let pair = t0.elapsed();
    stop.cancel();
    a.await.unwrap();
    b.await.unwrap();
    let duplicates = assert_each_once(&app, &phones);
    println!(
        "reminders (debug build, fake Twilio on loopback, PostgreSQL): one worker sent 500 in {:.2} s ({:.0}/s); two workers sent 1000 in {:.2} s ({:.0}/s); duplicates: {duplicates}",
        solo.as_secs_f64(),
        500.0 / solo.as_secs_f64(),
        pair.as_secs_f64(),
        1000.0 / pair.as_secs_f64(),
    );
    drop(app);
    db.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_worker_killed_mid_batch_loses_none_and_duplicates_none() {
    let Some(db) = otto_store::testing::postgres("reminders_kill").await else {
        return;
    };
    let url = db.url.clone();
    let app = spawn_app(|c| c.database_url = url.clone()).await;
    let store = app.shop.store().clone();
    let phones = due_reminders(&store, 630, 300).await;

    // Worker A runs with a short lease and is killed (its task and jobs dropped mid-await)
    // once part of the batch is out.
    let stop = CancellationToken::new();
    let a = tokio::spawn(worker(&app, &url, "doomed", 2_000).await.run(stop.clone()));
    wait_sent(&store, 60, Duration::from_secs(60)).await;
    a.abort();
    let _ = a.await;
    let at_kill = sent(&store).await;
    let in_flight = store
        .reminder_counts()
        .await
        .unwrap()
        .into_iter()
        .find(|(s, _)| *s == ReminderStatus::Claimed)
        .map_or(0, |(_, n)| n);
    assert!(at_kill < 300, "the kill came mid-batch ({at_kill} sent)");

    // Worker B takes over once A's leases run out.
    let b = tokio::spawn(
        worker(&app, &url, "survivor", 2_000)
            .await
            .run(stop.clone()),
    );
    wait_sent(&store, 300, Duration::from_secs(120)).await;
    stop.cancel();
    b.await.unwrap();
    assert_each_once(&app, &phones);
    let left: u64 = store
        .reminder_counts()
        .await
        .unwrap()
        .into_iter()
        .filter(|(s, _)| matches!(s, ReminderStatus::Pending | ReminderStatus::Claimed))
        .map(|(_, n)| n)
        .sum();
    assert_eq!(left, 0);
    println!(
        "killed worker: {at_kill} of 300 sent and {in_flight} mid-send at the kill; all 300 sent once in the end"
    );
    drop(app);
    db.finish().await;
}
