//! One test story for both session backends: in-process always, Redis when
//! `OTTO_TEST_REDIS_URL` is set (CI sets it).

use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};

use super::*;

fn call(sid: &str, minute: u32) -> LiveCall {
    let t = Utc.with_ymd_and_hms(2026, 11, 24, 14, minute, 0).unwrap();
    LiveCall {
        call_sid: sid.into(),
        from: "+15555550123".into(),
        to: "+15555550100".into(),
        customer_id: None,
        instance: "test".into(),
        phase: CallPhase::Connecting,
        turns: 0,
        started_at: t,
        updated_at: t,
    }
}

async fn story(store: Arc<dyn SessionStore>) {
    let (a, b) = (call("CAa", 2), call("CAb", 1));
    store.put(&a).await.unwrap();
    store.put(&b).await.unwrap();
    let later = a.started_at + Duration::seconds(5);
    let update = SessionUpdate {
        phase: Some(CallPhase::Speaking),
        customer_id: Some(42),
        add_turns: 2,
    };
    store.update("CAa", &update, later).await.unwrap();
    store
        .update(
            "CAa",
            &SessionUpdate {
                add_turns: 1,
                ..SessionUpdate::default()
            },
            later,
        )
        .await
        .unwrap();
    let got = store.get("CAa").await.unwrap().expect("live");
    assert_eq!(got.phase, CallPhase::Speaking);
    assert_eq!(got.customer_id, Some(42));
    assert_eq!(got.turns, 3, "increments add up");
    assert_eq!(got.updated_at, later);

    let sids: Vec<String> = store
        .list()
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.call_sid)
        .collect();
    assert_eq!(sids, ["CAb", "CAa"], "oldest first");

    store.remove("CAa").await.unwrap();
    // An update after removal must not bring the call back.
    store.update("CAa", &update, later).await.unwrap();
    assert_eq!(store.get("CAa").await.unwrap(), None);
    assert_eq!(store.list().await.unwrap().len(), 1);
    store.remove("CAb").await.unwrap();
    store.ping().await.unwrap();
}

#[tokio::test]
async fn memory_sessions_follow_the_story() {
    story(Arc::new(memory::MemorySessions::default())).await;
}

fn redis_url() -> Option<String> {
    match std::env::var("OTTO_TEST_REDIS_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            assert!(
                !otto_store::testing::in_ci(),
                "CI=true but OTTO_TEST_REDIS_URL is not set: the Redis tests cannot run"
            );
            eprintln!("skipped: OTTO_TEST_REDIS_URL is not set");
            None
        }
    }
}

fn unique_prefix() -> String {
    format!("otto-test-{}-{}:", std::process::id(), rand_suffix())
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default()
}

#[tokio::test]
async fn redis_sessions_follow_the_story() {
    let Some(url) = redis_url() else { return };
    let store = redis::RedisSessions::new(&url, 60, 2_000)
        .unwrap()
        .with_prefix(unique_prefix());
    story(Arc::new(store)).await;
}

#[tokio::test]
async fn redis_sessions_expire_and_leave_the_index() {
    let Some(url) = redis_url() else { return };
    let store = redis::RedisSessions::new(&url, 1, 2_000)
        .unwrap()
        .with_prefix(unique_prefix());
    store.put(&call("CAx", 0)).await.unwrap();
    assert_eq!(store.list().await.unwrap().len(), 1);
    tokio::time::sleep(std::time::Duration::from_millis(2_100)).await;
    assert!(store.list().await.unwrap().is_empty());
    assert_eq!(store.get("CAx").await.unwrap(), None);
}

#[tokio::test]
async fn an_unreachable_redis_fails_fast_and_the_wrapper_carries_on() {
    // Nothing listens on port 1 of loopback: connections are refused at once.
    let store = redis::RedisSessions::new("redis://127.0.0.1:1", 60, 300).unwrap();
    let err = store.ping().await.unwrap_err();
    assert!(
        matches!(err, SessionError::Unavailable(_) | SessionError::Timeout(_)),
        "{err}"
    );
    let sessions = Sessions::new(Arc::new(store));
    let started = std::time::Instant::now();
    sessions.start(&call("CAy", 0)).await;
    sessions.update("CAy", SessionUpdate::default()).await;
    sessions.end("CAy").await;
    assert!(sessions.list().await.is_err());
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

#[test]
fn a_bad_redis_url_is_a_clear_error() {
    let err = Sessions::from_url("http://nope", 60, 100)
        .err()
        .expect("error");
    assert!(err.to_string().contains("redis_url"), "{err}");
}
