//! Scale-out, for real: two `otto serve` processes ("alpha" and "beta") on one PostgreSQL
//! database and one Redis. A call runs on each at once; the live calls of both are visible
//! from either instance's dashboard, and a staff sign-in on one is valid on the other; a
//! booking race through both dashboards gives exactly the slot's free bays; alpha is killed
//! with SIGKILL mid-call and keeps every turn it committed, its call leaves the live calls
//! page within the session TTL, and beta goes on serving its call and new ones.
//!
//! Needs `OTTO_TEST_DATABASE_URL` and `OTTO_TEST_REDIS_URL` (skipped without them, a failure
//! when `CI=true`).

// Test code: a panic on a broken precondition is the failure message.
#![allow(clippy::unwrap_used)]

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chrono::Utc;
use otto::commands::call::speak;
use otto::config::Config;
use otto_core::records::StaffRole;
use otto_shop::Shop;
use otto_shop::seed::{SeedSize, seed_demo};
use otto_speech::tts::flite::Voice;
use otto_store::{CallQuery, CallRecord};
use otto_twilio::AccountSid;
use otto_twilio::sim::{CallerAudio, CallerStep, SimConfig, SimEvent, SimRecord, run_call};
use reqwest::StatusCode;
use secrecy::SecretString;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use common::KillOnDrop;
use common::staff::{Session, add_staff};

/// One `otto serve` process, killed on drop.
struct Instance {
    process: KillOnDrop,
    url: String,
}

/// Starts `otto serve` as `name` and waits until `/ready` answers 200.
async fn start(name: &str, database: &str, redis: &str, data: &std::path::Path) -> Instance {
    let port = common::free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_otto"))
        .arg("serve")
        .env("OTTO_DATABASE_URL", database)
        .env("OTTO_REDIS_URL", redis)
        .env("OTTO_DATA_DIR", data.join(name))
        .env("OTTO_SERVER__LISTEN", format!("127.0.0.1:{port}"))
        .env("OTTO_SERVER__INSTANCE", name)
        // The callers wait silently while the test looks around; no "are you still there?".
        .env("OTTO_CALL__SILENCE_REPROMPT_MS", "120000")
        .env("OTTO_SPEECH__WHISPER_MODEL", common::whisper_model())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start otto serve");
    let instance = Instance {
        process: KillOnDrop(child),
        url: format!("http://127.0.0.1:{port}"),
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = reqwest::get(format!("{}/ready", instance.url)).await
            && r.status() == StatusCode::OK
        {
            return instance;
        }
        assert!(Instant::now() < deadline, "{name} never became ready");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A caller on a live line to `url` from `from`: they wait for the greeting, then say what the
/// test sends. Dropping the sender hangs up.
fn place_call(
    url: &str,
    from: &str,
    to: &str,
) -> (mpsc::Sender<CallerStep>, JoinHandle<SimRecord>) {
    let sim = SimConfig::new(
        url,
        AccountSid::random(),
        SecretString::from("unsigned-local-call"),
        from,
        to,
    );
    let (tx, caller) = CallerAudio::live(8);
    tx.try_send(wait_for_reply()).unwrap();
    let handle = tokio::spawn(async move { run_call(&sim, caller).await.unwrap() });
    (tx, handle)
}

fn wait_for_reply() -> CallerStep {
    CallerStep::WaitForReply {
        quiet: Duration::from_millis(1_500),
        max: Duration::from_secs(30),
    }
}

/// The newest call from `from` since `since`, with its turns, once it has at least `turns`
/// of them (polls for up to 40 s).
async fn call_with(
    shop: &Shop,
    from: &str,
    since: chrono::DateTime<Utc>,
    turns: usize,
) -> CallRecord {
    let store = shop.store();
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let calls = store
            .calls(&CallQuery {
                since: Some(since),
                until: None,
                outcome: None,
                customer_id: None,
                limit: 100,
            })
            .await
            .unwrap();
        if let Some(c) = calls.iter().find(|c| c.from == from) {
            let record = store.call_with_turns(c.id).await.unwrap().unwrap();
            if record.turns.len() >= turns {
                return record;
            }
        }
        assert!(
            Instant::now() < deadline,
            "the call from {from} never had {turns} turns"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_calls_bookings_and_survive_a_kill() {
    let Some(db) = otto_store::testing::postgres("scale_out").await else {
        return;
    };
    let redis = match std::env::var("OTTO_TEST_REDIS_URL") {
        Ok(u) if !u.is_empty() => u,
        _ => {
            assert!(
                !otto_store::testing::in_ci(),
                "CI=true but OTTO_TEST_REDIS_URL is not set: the scale-out test cannot run"
            );
            eprintln!("skipped: OTTO_TEST_REDIS_URL is not set");
            return;
        }
    };
    let data = tempfile::tempdir().unwrap();
    let mut config = Config {
        data_dir: data.path().join("test"),
        database_url: db.url.clone(),
        ..Config::default()
    };
    config.speech.whisper_model = Some(common::whisper_model());
    let shop = otto::commands::open_shop(&config).await.unwrap();
    let today = Utc::now()
        .with_timezone(&config.shop.time_zone)
        .date_naive();
    seed_demo(
        &shop,
        SeedSize {
            customers: 20,
            appointments: 0,
        },
        today,
    )
    .await
    .unwrap();
    add_staff(shop.store().as_ref(), "owner", StaffRole::Owner).await;
    let jordan = shop
        .store()
        .customer_by_phone(&common::jordan())
        .await
        .unwrap()
        .unwrap();
    let other = shop.store().customer(jordan.id + 1).await.unwrap().unwrap();

    // Instance names unique to this run: the Redis is shared with other tests and runs.
    let tag = format!("{:08x}", rand::random::<u32>());
    let (alpha_name, beta_name) = (format!("alpha-{tag}"), format!("beta-{tag}"));
    let (alpha_cell, beta_cell) = (format!(">{alpha_name}<"), format!(">{beta_name}<"));
    let alpha = start(&alpha_name, &db.url, &redis, data.path()).await;
    let beta = start(&beta_name, &db.url, &redis, data.path()).await;
    let since = Utc::now() - chrono::Duration::seconds(5);
    let to = config.shop.phone.as_str().to_string();

    // A call on each instance; both callers hear their greeting and stay on the line.
    let (caller_a, call_a) = place_call(&alpha.url, common::JORDAN, &to);
    let (caller_b, call_b) = place_call(&beta.url, other.phone.as_str(), &to);
    call_with(&shop, common::JORDAN, since, 1).await;
    call_with(&shop, other.phone.as_str(), since, 1).await;

    // Staff signed in on alpha are signed in on beta too, and each sees both live calls.
    let on_alpha = Session::sign_in(&alpha.url, "owner").await;
    let on_beta = Session {
        base: beta.url.clone(),
        ..Session::sign_in(&alpha.url, "owner").await
    };
    for session in [&on_alpha, &on_beta] {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let (status, page) = session.get("/live").await;
            assert_eq!(status, StatusCode::OK, "{}", session.base);
            if page.contains(&alpha_cell) && page.contains(&beta_cell) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{} does not show both instances' calls: {page}",
                session.base
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    // A booking race through both dashboards: exactly the slot's free bays are booked.
    let tz = config.shop.time_zone;
    let slot = otto::commands::demo::speakable_slots(&shop, Utc::now())
        .await
        .unwrap()
        .first()
        .map(|(t, _)| *t)
        .expect("a free slot");
    let day_of_slot = slot.with_timezone(&tz).date_naive();
    let free_bays = || async {
        shop.free_slots("oil change", day_of_slot, day_of_slot, Utc::now())
            .await
            .unwrap()
            .into_iter()
            .find(|s| s.start == slot)
            .map_or(0, |s| s.free_bays as usize)
    };
    let free = free_bays().await;
    assert!(free > 0, "the slot has a free bay");
    let day = slot.with_timezone(&tz).format("%Y-%m-%d").to_string();
    let time = slot.with_timezone(&tz).format("%H:%M").to_string();
    let racers = (0..2 * free + 2).map(|i| {
        let session = if i % 2 == 0 { &on_alpha } else { &on_beta };
        let customer = (jordan.id + 2 + i as i64).to_string();
        let (day, time) = (day.clone(), time.clone());
        async move {
            session
                .post(
                    "/appointments/new",
                    &[
                        ("customer_id", customer.as_str()),
                        ("service", "oil_change"),
                        ("day", day.as_str()),
                        ("time", time.as_str()),
                    ],
                )
                .await
        }
    });
    let answers = futures_util::future::join_all(racers).await;
    let booked = answers
        .iter()
        .filter(|(status, to)| *status == StatusCode::SEE_OTHER && !to.contains("error="))
        .count();
    assert_eq!(booked, free, "answers: {answers:?}");
    assert_eq!(free_bays().await, 0, "the slot is full in the database");

    // Jordan speaks on alpha; once Otto's reply is committed, alpha dies without warning.
    let voice: Voice = config.speech.voice.parse().unwrap();
    let heard_before = call_with(&shop, common::JORDAN, since, 1).await.turns.len();
    caller_a
        .send(speak("What time do you open on Saturday?", voice).unwrap())
        .await
        .unwrap();
    caller_a.send(wait_for_reply()).await.unwrap();
    let committed = call_with(&shop, common::JORDAN, since, heard_before + 2).await;
    let mut alpha = alpha;
    alpha.process.0.kill().unwrap();
    alpha.process.0.wait().unwrap();
    let record_a = call_a.await.unwrap();
    assert!(
        record_a
            .events
            .iter()
            .any(|e| matches!(e.event, SimEvent::ServerClosed)),
        "alpha's stream ended with the process"
    );
    drop(caller_a);
    let kept = shop
        .store()
        .call_with_turns(committed.call.id)
        .await
        .unwrap()
        .unwrap();
    assert!(
        kept.turns.len() >= committed.turns.len(),
        "nothing committed is lost: {} turns before the kill, {} after",
        committed.turns.len(),
        kept.turns.len()
    );
    for (before, after) in committed.turns.iter().zip(&kept.turns) {
        assert_eq!(before.text, after.text);
    }

    // Beta is untouched: its caller speaks after the kill and is answered, then hangs up.
    let heard_before = call_with(&shop, other.phone.as_str(), since, 1)
        .await
        .turns
        .len();
    caller_b
        .send(speak("What time do you open on Saturday?", voice).unwrap())
        .await
        .unwrap();
    caller_b.send(wait_for_reply()).await.unwrap();
    // The caller's line and Otto's answer.
    call_with(&shop, other.phone.as_str(), since, heard_before + 2).await;
    // Alpha's call leaves the live calls page once its session record is no longer refreshed.
    let deadline = Instant::now() + Duration::from_secs(otto::sessions::TTL_SECS + 10);
    loop {
        let (_, page) = on_beta.get("/live").await;
        if !page.contains(&alpha_cell) {
            assert!(
                page.contains(&beta_cell),
                "beta's call is still live: {page}"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the dead instance's call is still shown as live"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    drop(caller_b);
    let record_b = call_b.await.unwrap();
    let replies = record_b
        .events
        .iter()
        .filter(|e| matches!(e.event, SimEvent::PlaybackStarted))
        .count();
    assert!(replies >= 2, "beta greeted and answered: {replies} replies");
    common::assert_no_protocol_errors(&record_b);

    // And beta takes a new call.
    let (caller_c, call_c) = place_call(&beta.url, common::JORDAN, &to);
    drop(caller_c);
    let record_c = call_c.await.unwrap();
    assert!(
        record_c.stream_sid.is_some(),
        "beta answered a new call with a stream"
    );
    drop(beta);
    db.finish().await;
}
