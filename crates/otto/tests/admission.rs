//! Call admission over real HTTP: a burst of webhooks past `server.max_concurrent_calls` gets
//! exactly that many `<Connect><Stream>` answers and the busy message for the rest (places are
//! reserved by the webhook, not counted later), and a call whose media stream never comes frees
//! its place and has its call log closed after `server.stream_wait_secs`.

// Test code: a panic on a broken precondition is the failure message.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use otto_twilio::CallSid;
use tokio::time::{Instant, sleep};

use common::{JORDAN, TestApp, spawn_app};

async fn webhook(app: &TestApp, call_sid: &str) -> String {
    webhook_from(app, call_sid, JORDAN).await
}

async fn webhook_from(app: &TestApp, call_sid: &str, from: &str) -> String {
    let form: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("AccountSid", app.account_sid.as_str()),
            ("ApiVersion", "2010-04-01"),
            ("CallSid", call_sid),
            ("CallStatus", "ringing"),
            ("Direction", "inbound"),
            ("From", from),
            ("To", "+15555550100"),
        ])
        .finish();
    let r = reqwest::Client::new()
        .post(format!("{}/twilio/voice", app.url()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    r.text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_past_the_limit_is_told_busy_and_streamless_calls_are_closed() {
    let app = spawn_app(|c| {
        c.server.validate_signatures = false;
        c.server.max_concurrent_calls = 2;
        c.server.stream_wait_secs = 1;
    })
    .await;
    let sids: Vec<String> = (0..10)
        .map(|_| CallSid::random().as_str().to_string())
        .collect();
    // Ten different callers at once.
    let callers: Vec<String> = (0..10)
        .map(|i| format!("+1555555{:04}", 2000 + i))
        .collect();
    let answers = futures_util::future::join_all(
        sids.iter()
            .zip(&callers)
            .map(|(sid, from)| webhook_from(&app, sid, from)),
    )
    .await;
    let connected: Vec<&String> = sids
        .iter()
        .zip(&answers)
        .filter(|(_, a)| a.contains("<Connect>"))
        .map(|(sid, _)| sid)
        .collect();
    let busy = answers.iter().filter(|a| a.contains("busy")).count();
    assert_eq!(connected.len(), 2, "only the limit is promised a stream");
    assert_eq!(
        busy, 8,
        "the rest hear the busy message at once: {answers:#?}"
    );

    // No stream comes for the two: their places are freed and their call logs closed.
    let deadline = Instant::now() + Duration::from_secs(10);
    while app.server.state.admission.taken() > 0 {
        assert!(Instant::now() < deadline, "reservations never expired");
        sleep(Duration::from_millis(50)).await;
    }
    let store = app.shop.store();
    for sid in connected {
        let mut log = store.call_by_sid(sid).await.unwrap().unwrap();
        for _ in 0..50 {
            if log.ended_at.is_some() {
                break;
            }
            sleep(Duration::from_millis(50)).await;
            log = store.call_by_sid(sid).await.unwrap().unwrap();
        }
        assert!(log.ended_at.is_some(), "the call log is closed");
        assert_eq!(log.outcome.as_deref(), Some("no_stream"));
    }
    // The next caller is connected again.
    let next = webhook(&app, CallSid::random().as_str()).await;
    assert!(next.contains("<Connect>"), "{next}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_database_down_a_caller_hears_an_apology_at_once() {
    let Some(db) = otto_store::testing::postgres("admission_db_down").await else {
        return;
    };
    let url = db.url.clone();
    let app = spawn_app(move |c| {
        c.database_url = url;
        c.server.validate_signatures = false;
    })
    .await;
    // The outage: the database refuses new connections and its open ones are cut.
    let admin = std::env::var("OTTO_TEST_DATABASE_URL").unwrap();
    let name = db.url.rsplit('/').next().unwrap().to_string();
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&admin)
        .await
        .unwrap();
    sqlx::query(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false"))
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query(&format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
    ))
    .execute(&mut conn)
    .await
    .unwrap();

    let started = Instant::now();
    let answer = webhook(&app, CallSid::random().as_str()).await;
    let took = started.elapsed();
    assert!(
        answer.contains("<Say>") && answer.contains("call back"),
        "{answer}"
    );
    assert!(!answer.contains("<Connect>"), "no dead stream: {answer}");
    assert!(took < Duration::from_secs(4), "answered in {took:?}");
    assert_eq!(app.server.state.admission.taken(), 0, "no place held");

    sqlx::query(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true"))
        .execute(&mut conn)
        .await
        .unwrap();
    drop(app);
    db.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_redialing_in_a_loop_is_asked_to_wait() {
    let app = spawn_app(|c| {
        c.server.validate_signatures = false;
        c.server.calls_per_caller_per_minute = 3;
    })
    .await;
    let mut answers = Vec::new();
    for _ in 0..5 {
        answers.push(webhook(&app, CallSid::random().as_str()).await);
    }
    // Another caller is not held back by that.
    let other = webhook_from(&app, CallSid::random().as_str(), "+15555550188").await;
    assert!(other.contains("<Connect>"), "{other}");
    let connected = answers.iter().filter(|a| a.contains("<Connect>")).count();
    let refused = answers
        .iter()
        .filter(|a| a.contains("several calls from your number"))
        .count();
    assert_eq!((connected, refused), (3, 2), "{answers:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_flooding_the_open_routes_gets_429_and_the_rest_still_answers() {
    let app = spawn_app(|c| c.server.requests_per_ip_per_minute = 4).await;
    let http = reqwest::Client::new();
    let base = app.url();
    // Unsigned webhooks are refused (403) until the address is past its allowance: then 429.
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let r = http
            .post(format!("{base}/twilio/voice"))
            .form(&[("CallSid", "CA0123456789abcdef0123456789abcdef")])
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
        if r.status() == reqwest::StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(r.headers()["retry-after"], "60");
        }
    }
    assert_eq!(statuses[4..], [429, 429], "{statuses:?}");
    assert!(statuses[..4].iter().all(|s| *s != 429), "{statuses:?}");
    // /chat is limited too; /health and the dashboard's pages are not.
    let chat = http.get(format!("{base}/chat")).send().await.unwrap();
    assert_eq!(chat.status(), reqwest::StatusCode::TOO_MANY_REQUESTS);
    let health = http.get(format!("{base}/health")).send().await.unwrap();
    assert_eq!(health.status(), reqwest::StatusCode::OK);
    let login = http.get(format!("{base}/login")).send().await.unwrap();
    assert_eq!(login.status(), reqwest::StatusCode::OK);
}
