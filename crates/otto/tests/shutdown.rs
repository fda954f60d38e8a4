//! Graceful shutdown of a server with a live call: no new calls are taken, the live call goes
//! on to the end within the grace period, and a call still live when the grace period is over
//! is ended by the server. Speech runs through the Deepgram fakes.

// Test code: a panic on a broken precondition is the failure message.
#![allow(clippy::unwrap_used)]

mod common;
mod vendors;

use std::time::Duration;

use chrono::Utc;
use otto_twilio::sim::{CallerAudio, CallerStep, SimEvent, SimRecord, run_call};
use tokio::time::{Instant, sleep, timeout};

use common::{TestApp, assert_no_protocol_errors, jordan, spawn_app, speakable_slot};
use vendors::{Deepgram, sim, two_turn_script, wait_reply};

/// Waits until the server holds `n` live calls (call permits taken).
async fn wait_for_live_calls(app: &TestApp, n: usize) {
    let state = &app.server.state;
    let deadline = Instant::now() + Duration::from_secs(10);
    while state.admission.taken() < n {
        assert!(Instant::now() < deadline, "the call never went live");
        sleep(Duration::from_millis(20)).await;
    }
}

fn has(record: &SimRecord, pred: impl Fn(&SimEvent) -> bool) -> bool {
    record.events.iter().any(|e| pred(&e.event))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_call_finishes_its_booking_while_the_server_shuts_down() {
    let dg = Deepgram::start().await;
    let app = spawn_app(|c| {
        dg.apply(c);
        c.server.shutdown_grace_secs = 60;
    })
    .await;
    let (start, when) = speakable_slot(&app.shop).await;
    dg.stt
        .push_utterance(&format!("I need an oil change on {when}."));
    dg.stt.push_utterance("Yes, please.");
    let first = sim(&app);
    let live =
        tokio::spawn(async move { run_call(&first, CallerAudio::script(two_turn_script())).await });
    wait_for_live_calls(&app, 1).await;

    let mut second = sim(&app);
    second.from = "+15555550199".into();
    let TestApp { server, shop, .. } = app;
    let shutdown = tokio::spawn(server.shutdown());
    sleep(Duration::from_millis(300)).await;

    // A new caller is not connected to a stream: the listener is closed (Twilio then plays
    // its fallback) or, in the moment before, the webhook answers the busy message.
    let refused = run_call(&second, CallerAudio::script([wait_reply()])).await;
    assert!(
        !matches!(&refused, Ok(r) if r.stream_sid.is_some()),
        "a call was taken during shutdown: {refused:?}"
    );
    assert!(
        !shutdown.is_finished(),
        "the server waits for the live call"
    );

    let record = live.await.unwrap().expect("the live call runs");
    println!("{record}");
    assert_no_protocol_errors(&record);
    assert!(
        has(&record, |e| matches!(e, SimEvent::HungUp)),
        "the caller, not the server, ended the call:\n{record}"
    );
    assert!(!has(&record, |e| matches!(e, SimEvent::ServerClosed)));
    timeout(Duration::from_secs(10), shutdown)
        .await
        .expect("shutdown completes once the call is over")
        .unwrap()
        .unwrap();

    let customer = shop
        .store()
        .customer_by_phone(&jordan())
        .await
        .unwrap()
        .unwrap();
    let upcoming = shop.upcoming(customer.id, Utc::now()).await.unwrap();
    assert_eq!(upcoming.len(), 1, "booked during shutdown: {upcoming:?}");
    assert_eq!(upcoming[0].start, start);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_still_live_after_the_grace_period_is_ended_by_the_server() {
    let dg = Deepgram::start().await;
    let app = spawn_app(|c| {
        dg.apply(c);
        c.server.shutdown_grace_secs = 1;
    })
    .await;
    let caller = sim(&app);
    let live = tokio::spawn(async move {
        // The caller would stay on the line for half a minute.
        let script = [wait_reply(), CallerStep::Silence(Duration::from_secs(30))];
        run_call(&caller, CallerAudio::script(script)).await
    });
    wait_for_live_calls(&app, 1).await;
    sleep(Duration::from_millis(500)).await;

    let TestApp { server, shop, .. } = app;
    let began = Instant::now();
    timeout(Duration::from_secs(10), server.shutdown())
        .await
        .expect("shutdown ends within the grace period and a little")
        .unwrap();
    let took = began.elapsed();
    assert!(
        took >= Duration::from_millis(900),
        "the call had its grace period: {took:?}"
    );

    let record = timeout(Duration::from_secs(5), live)
        .await
        .expect("the call ended with the server")
        .unwrap()
        .expect("the call ran");
    println!("{record}");
    assert!(
        has(&record, |e| matches!(e, SimEvent::ServerClosed)),
        "the server closed the stream:\n{record}"
    );
    let log = shop
        .store()
        .call_by_sid(record.call_sid.as_str())
        .await
        .unwrap()
        .expect("the call was logged");
    assert!(log.ended_at.is_some(), "the call log is closed: {log:?}");
}
