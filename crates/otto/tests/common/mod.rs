//! Test harness for the `otto` crate: [`spawn_app`] starts the real server on port 0 with a
//! fresh SQLite database holding the demo shop, the local speech engines, and a fake Twilio
//! REST API (the only fake: Twilio is an external vendor).

#![allow(dead_code)] // each test binary uses a different part of the harness

pub mod staff;

use std::path::PathBuf;
use std::sync::Arc;

use chrono::Utc;
use otto::call::CallServices;
use otto::config::Config;
use otto::server::RunningServer;
use otto::sessions::Sessions;
use otto_core::domain::PhoneNumber;
use otto_fakes::twilio::FakeTwilioRest;
use otto_shop::Shop;
use otto_shop::seed::{SeedSize, seed_demo};
use otto_twilio::AccountSid;
use otto_twilio::rest::TwilioConfig;
use secrecy::SecretString;

/// The Twilio auth token the app and the simulator share.
pub const AUTH_TOKEN: &str = "test-auth-token";
/// The demo customer (seeded): Jordan Smith, 2019 Honda Civic.
pub const JORDAN: &str = "+15555550123";

/// A running app and what a test needs around it.
pub struct TestApp {
    pub server: RunningServer,
    pub shop: Shop,
    pub twilio: FakeTwilioRest,
    pub account_sid: AccountSid,
    _dir: tempfile::TempDir,
}

impl TestApp {
    pub fn url(&self) -> String {
        self.server.url()
    }
}

/// The Whisper model the tests use: `OTTO_WHISPER_MODEL`, else `<repo>/data/models/…`.
pub fn whisper_model() -> PathBuf {
    if let Ok(p) = std::env::var("OTTO_WHISPER_MODEL") {
        return p.into();
    }
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/models/ggml-tiny.en.bin");
    assert!(
        path.is_file(),
        "no Whisper model at {}: run `cargo run -p otto -- models fetch` in the repository root \
         (scripts/test.sh does this)",
        path.display()
    );
    path
}

/// Starts Otto with the demo shop; `tweak` adjusts the configuration first.
pub async fn spawn_app(tweak: impl FnOnce(&mut Config)) -> TestApp {
    try_spawn_app(tweak).await.unwrap()
}

/// [`spawn_app`], or the server's refusal to start.
pub async fn try_spawn_app(tweak: impl FnOnce(&mut Config)) -> anyhow::Result<TestApp> {
    let dir = tempfile::tempdir().unwrap();
    let account_sid = AccountSid::random();
    let twilio = FakeTwilioRest::start(account_sid.as_str(), AUTH_TOKEN).await;
    let mut config = Config {
        data_dir: dir.path().to_path_buf(),
        ..Config::default()
    };
    config.server.listen = "127.0.0.1:0".parse().unwrap();
    config.speech.whisper_model = Some(whisper_model());
    config.twilio = Some(TwilioConfig {
        account_sid: account_sid.clone(),
        auth_token: SecretString::from(AUTH_TOKEN),
        api_base_url: twilio.base_url(),
        timeout_ms: 5_000,
        from_number: config.shop.phone.clone(),
    });
    tweak(&mut config);
    let shop = otto::commands::open_shop(&config).await.unwrap();
    let today = Utc::now()
        .with_timezone(&config.shop.time_zone)
        .date_naive();
    seed_demo(&shop, SeedSize::default(), today).await.unwrap();
    let calls = Arc::new(
        CallServices::from_config(
            &config,
            shop.clone(),
            // In-process unless the test set `redis_url`; the deadline `otto serve` uses.
            Sessions::from_url(&config.redis_url, otto::sessions::TTL_SECS, 500).unwrap(),
        )
        .unwrap(),
    );
    let server = otto::server::spawn(config, calls).await?;
    Ok(TestApp {
        server,
        shop,
        twilio,
        account_sid,
        _dir: dir,
    })
}

/// A Twilio REST client for `app`'s fake Twilio, with the app's account (as the app's own).
pub fn twilio_client(app: &TestApp) -> otto_twilio::rest::RestClient {
    otto_twilio::rest::RestClient::new(&TwilioConfig {
        account_sid: app.account_sid.clone(),
        auth_token: SecretString::from(AUTH_TOKEN),
        api_base_url: app.twilio.base_url(),
        timeout_ms: 5_000,
        from_number: app.shop.config().phone.clone(),
    })
    .unwrap()
}

/// A free oil-change slot a caller can name (see `otto::commands::demo::speakable_slot`).
pub async fn speakable_slot(shop: &Shop) -> (chrono::DateTime<Utc>, String) {
    otto::commands::demo::speakable_slot(shop, Utc::now())
        .await
        .expect("a free slot in the coming week")
}

/// Books an oil change for Jordan at the first speakable slot (as the dashboard would), and
/// finds another speakable slot on a different day to move it to.
pub async fn book_for_jordan(
    shop: &Shop,
) -> (
    otto_core::records::Appointment,
    (chrono::DateTime<Utc>, String),
) {
    let now = Utc::now();
    let slots = otto::commands::demo::speakable_slots(shop, now)
        .await
        .expect("free slots");
    let (start, _) = slots
        .first()
        .cloned()
        .expect("a free slot in the coming week");
    let tz = shop.config().time_zone;
    let day = |t: chrono::DateTime<Utc>| t.with_timezone(&tz).date_naive();
    let other = slots
        .iter()
        .find(|(t, _)| day(*t) != day(start))
        .cloned()
        .expect("a free slot on another day");
    let customer = shop
        .store()
        .customer_by_phone(&jordan())
        .await
        .unwrap()
        .expect("Jordan is seeded");
    let booked = shop
        .book(
            otto_shop::BookingRequest {
                customer_id: customer.id,
                vehicle_id: None,
                service_id: "oil change".into(),
                start,
                source: otto_core::records::BookingSource::Dashboard,
                notes: None,
            },
            now,
        )
        .await
        .expect("the booking");
    (booked, other)
}

/// The demo customer's phone number.
pub fn jordan() -> PhoneNumber {
    PhoneNumber::parse(JORDAN).unwrap()
}

/// Places a simulated call with `sim` whose caller follows `steps`, prints its timeline, and
/// fails when the call cannot run or Otto sent anything Twilio would reject.
pub async fn run_script(
    sim: &otto_twilio::sim::SimConfig,
    steps: impl IntoIterator<Item = otto_twilio::sim::CallerStep>,
) -> otto_twilio::sim::SimRecord {
    let record = otto_twilio::sim::run_call(sim, otto_twilio::sim::CallerAudio::script(steps))
        .await
        .expect("the call runs");
    println!("{record}");
    assert_no_protocol_errors(&record);
    record
}

/// Fails with the timeline when Otto sent anything Twilio would reject.
pub fn assert_no_protocol_errors(record: &otto_twilio::sim::SimRecord) {
    assert!(
        !record
            .events
            .iter()
            .any(|e| matches!(e.event, otto_twilio::sim::SimEvent::ProtocolError { .. })),
        "protocol error on the media stream:\n{record}"
    );
}

/// The stored call log and its turns for a simulated call.
pub async fn call_log(
    app: &TestApp,
    record: &otto_twilio::sim::SimRecord,
) -> otto_store::CallRecord {
    let store = app.shop.store();
    let log = store
        .call_by_sid(record.call_sid.as_str())
        .await
        .unwrap()
        .expect("the call log exists");
    store.call_with_turns(log.id).await.unwrap().unwrap()
}

/// An appointment as stored now (it must exist).
pub async fn appointment(
    app: &TestApp,
    id: otto_core::records::Id,
) -> otto_core::records::Appointment {
    app.shop
        .store()
        .appointment(id)
        .await
        .unwrap()
        .expect("the appointment is kept")
}

/// A free TCP port on 127.0.0.1 (bound, then released for a child process to take).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A child process (ChromeDriver, `otto serve`) killed and reaped when dropped.
pub struct KillOnDrop(pub std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
