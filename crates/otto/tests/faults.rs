//! Vendor faults during whole calls over the Twilio protocol: the live STT socket dropping
//! mid-call, text-to-speech failing, and the LLM stalling past the turn deadline. Each call
//! must go on and still book; speech runs through the Deepgram fakes, the LLM through the
//! OpenAI fake, all selected by configuration as in production.

// Test code: a panic on a broken precondition is the failure message.
#![allow(clippy::unwrap_used)]

mod common;
mod vendors;

use chrono::Utc;
use otto_core::records::Speaker;
use otto_fakes::openai::{FakeOpenAi, FakeReply, sse};
use otto_providers::openai::OpenAiConfig;
use otto_twilio::sim::{SimEvent, SimRecord};

use common::{TestApp, call_log, jordan, spawn_app, speakable_slot};
use vendors::{Deepgram, two_turn_call};

/// Scripts the STT fake with a booking conversation for `when` and runs the call.
async fn booking_call(app: &TestApp, dg: &Deepgram, when: &str) -> SimRecord {
    let first = format!("I need an oil change on {when}.");
    two_turn_call(app, dg, &first, "Yes, please.").await
}

/// The call booked the slot the caller asked for, and its log says so.
async fn assert_booked(app: &TestApp, record: &SimRecord, start: chrono::DateTime<Utc>) {
    let store = app.shop.store();
    let customer = store.customer_by_phone(&jordan()).await.unwrap().unwrap();
    let upcoming = app.shop.upcoming(customer.id, Utc::now()).await.unwrap();
    assert_eq!(upcoming.len(), 1, "one booking: {upcoming:?}\n{record}");
    assert_eq!(upcoming[0].start, start, "booked the time asked for");
    let call = call_log(app, record).await;
    assert_eq!(call.call.outcome.as_deref(), Some("booked"), "{call:?}");
}

/// How many times Otto started playing audio to the caller.
/// A loopback address that refuses connections (a port bound and freed at once): a vendor
/// that cannot be reached at all.
fn closed_port() -> std::net::SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

fn replies_heard(record: &SimRecord) -> usize {
    record
        .events
        .iter()
        .filter(|e| matches!(e.event, SimEvent::PlaybackStarted))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stt_socket_dropping_mid_call_reconnects_and_the_call_books() {
    let dg = Deepgram::start().await;
    // The first listen socket dies (no close frame) after 1 s of caller audio, while the
    // greeting plays.
    dg.stt.drop_connections_after(1, 8_000);
    let app = spawn_app(|c| dg.apply(c)).await;
    let (start, when) = speakable_slot(&app.shop).await;

    let record = booking_call(&app, &dg, &when).await;

    let connections = dg.stt.connections();
    assert!(connections.len() >= 2, "reconnected: {connections:?}");
    assert_eq!(connections[0].ended, Some("dropped"), "{connections:?}");
    assert!(
        connections[1].audio_bytes > 0,
        "audio flows on the new socket"
    );
    assert_booked(&app, &record, start).await;
    app.server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_tts_socket_falls_back_to_rest_for_the_whole_call() {
    let dg = Deepgram::start().await;
    // Every streaming TTS upgrade is refused with 503: each sentence goes over REST.
    dg.tts.refuse_ws(Some(503));
    let app = spawn_app(|c| dg.apply(c)).await;
    let (start, when) = speakable_slot(&app.shop).await;

    let record = booking_call(&app, &dg, &when).await;

    assert!(
        dg.tts.ws_messages().is_empty(),
        "no TTS socket was accepted"
    );
    let rest = dg.tts.rest_requests();
    assert!(
        rest.len() >= 3,
        "every reply synthesised over REST: {rest:?}"
    );
    assert_booked(&app, &record, start).await;
    assert!(
        replies_heard(&record) >= 3,
        "the caller heard the greeting, the question and the confirmation:\n{record}"
    );
    app.server.shutdown().await.unwrap();
}

/// One failed REST synthesis ends that Deepgram TTS session; the call runner opens a new
/// one and goes on speaking (a regression test: Otto once stayed silent for the rest of the
/// call and hung up after the silence reprompts).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_tts_request_does_not_silence_the_rest_of_the_call() {
    let dg = Deepgram::start().await;
    dg.tts.refuse_ws(Some(503));
    // The first REST synthesis (the greeting) fails with a server error.
    dg.tts.fail_next_rest(500);
    let app = spawn_app(|c| dg.apply(c)).await;
    let (start, when) = speakable_slot(&app.shop).await;

    let record = booking_call(&app, &dg, &when).await;

    let rest = dg.tts.rest_requests();
    assert!(rest.len() >= 2, "REST used after the failure: {rest:?}");
    assert_booked(&app, &record, start).await;
    assert!(
        replies_heard(&record) >= 2,
        "Otto kept speaking after a TTS failure:\n{record}"
    );
    app.server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_llm_missing_the_turn_deadline_falls_back_to_the_rules() {
    let dg = Deepgram::start().await;
    let llm = FakeOpenAi::start().await;
    // Every model request stalls before its first byte of content, far past the deadline.
    for _ in 0..8 {
        llm.push(FakeReply::sse(sse::says("Sure, I can help with that.")).stall_after(0, 30_000));
    }
    let llm_config = OpenAiConfig {
        base_url: llm.base_url(),
        max_retries: 0,
        ..OpenAiConfig::default()
    };
    let app = spawn_app(|c| {
        dg.apply(c);
        c.llm = Some(llm_config);
        c.llm_dialogue.turn_deadline_ms = 600;
    })
    .await;
    let (start, when) = speakable_slot(&app.shop).await;

    let record = booking_call(&app, &dg, &when).await;

    assert!(!llm.requests().is_empty(), "the LLM was asked first");
    assert_booked(&app, &record, start).await;
    let call = call_log(&app, &record).await;
    assert!(
        call.turns
            .iter()
            .all(|t| !t.text.contains("Sure, I can help")),
        "nothing of the stalled model reply was used: {:?}",
        call.turns
    );
    assert!(
        call.turns
            .iter()
            .filter(|t| t.speaker == Speaker::Agent)
            .count()
            >= 3,
        "the rules answered every turn: {:?}",
        call.turns
    );
    app.server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hang_up_that_twilio_refuses_once_is_retried() {
    let dg = Deepgram::start().await;
    let app = spawn_app(|c| dg.apply(c)).await;
    // Twilio's first answer to the call update is a 503.
    app.twilio.fail_next(otto_fakes::twilio::ScriptedFailure {
        status: 503,
        body: r#"{"code": 20500, "message": "Service unavailable", "status": 503}"#.into(),
    });
    let record = two_turn_call(
        &app,
        &dg,
        "What time do you open on Saturday?",
        "No, that's all. Thank you, goodbye.",
    )
    .await;
    let hang_up = format!("/Calls/{}.json", record.call_sid.as_str());
    let mut updates = Vec::new();
    for _ in 0..50 {
        updates = app
            .twilio
            .requests()
            .into_iter()
            .filter(|r| r.path.ends_with(&hang_up))
            .collect();
        if updates.len() >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        updates.len(),
        2,
        "the refused update and its retry: {updates:?}"
    );
    assert!(updates[1].body.contains("Status=completed"), "{updates:?}");
    app.server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_store_that_never_answers_does_not_delay_the_greeting() {
    // A "Redis" that accepts connections and never says a word.
    let hole = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = hole.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = hole.accept().await {
            held.push(socket);
        }
    });
    let dg = Deepgram::start().await;
    let app = spawn_app(|c| {
        dg.apply(c);
        c.redis_url = format!("redis://{addr}");
    })
    .await;
    let record = two_turn_call(
        &app,
        &dg,
        "What time do you open on Saturday?",
        "Thanks, bye.",
    )
    .await;
    let opened = record
        .first(|e| matches!(e, SimEvent::StreamOpened))
        .unwrap();
    let greeting = record
        .first(|e| matches!(e, SimEvent::PlaybackStarted))
        .unwrap();
    assert!(
        greeting - opened < std::time::Duration::from_millis(400),
        "the greeting waited {:?} for the session store",
        greeting - opened
    );
    assert!(
        replies_heard(&record) >= 3,
        "the call went on: {} replies",
        replies_heard(&record)
    );
    app.server.shutdown().await.unwrap();
}

/// The caller says `line` once the greeting is over; what the call log heard from them.
async fn caller_turns_after_saying(app: &TestApp, line: &str) -> (SimRecord, Vec<String>) {
    let voice = otto::config::Config::default()
        .speech
        .voice
        .parse()
        .unwrap();
    let record = otto_twilio::sim::run_call(
        &vendors::sim(app),
        otto_twilio::sim::CallerAudio::script(
            otto::commands::call::script(&[line.to_string()], voice).unwrap(),
        ),
    )
    .await
    .unwrap();
    common::assert_no_protocol_errors(&record);
    let log = call_log(app, &record).await;
    let heard = log
        .turns
        .iter()
        .filter(|t| t.speaker == Speaker::Caller)
        .map(|t| t.text.to_lowercase())
        .collect();
    (record, heard)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deepgram_listen_lost_mid_call_for_good_switches_to_the_local_recogniser() {
    let dg = Deepgram::start().await;
    // The first listen socket dies after 1 s of audio, during the greeting, and Deepgram
    // refuses every reconnection: the call must not go deaf.
    dg.stt.drop_connections_after(1, 8_000);
    dg.stt.accept_only(1);
    let app = spawn_app(|c| dg.apply(c)).await;
    let (record, heard) =
        caller_turns_after_saying(&app, "What time do you open on Saturday?").await;
    assert_eq!(dg.stt.connections().len(), 1, "{:?}", dg.stt.connections());
    assert!(dg.stt.refused() >= 1, "Otto tried Deepgram again first");
    assert!(
        heard.iter().any(|t| t.contains("saturday")),
        "the local recogniser heard the caller: {heard:?}"
    );
    assert!(replies_heard(&record) >= 2, "greeting and answer");
    app.server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_deepgram_listen_unreachable_the_local_recogniser_hears_the_caller() {
    let dg = Deepgram::start().await;
    // Deepgram's listen endpoint refuses connections; its TTS works.
    let closed = closed_port();
    let app = spawn_app(|c| {
        dg.apply(c);
        if let Some(d) = &mut c.deepgram {
            d.listen_url = format!("ws://{closed}/v1/listen");
        }
    })
    .await;
    let (record, heard) =
        caller_turns_after_saying(&app, "What time do you open on Saturday?").await;
    assert!(
        heard.iter().any(|t| t.contains("saturday")),
        "the local recogniser heard the caller: {heard:?}"
    );
    assert!(
        !dg.tts.ws_messages().is_empty(),
        "Deepgram still speaks: only the broken half fell back"
    );
    assert!(replies_heard(&record) >= 2, "greeting and answer");
    app.server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_deepgram_speak_unreachable_the_local_voice_answers() {
    let dg = Deepgram::start().await;
    // Deepgram's speak endpoints (WebSocket and REST) refuse connections; its STT works.
    // Before the fix the TTS session "opened" on REST, every sentence then failed, and the
    // caller heard nothing at all.
    let closed = closed_port();
    let app = spawn_app(|c| {
        dg.apply(c);
        if let Some(d) = &mut c.deepgram {
            d.speak_ws_url = format!("ws://{closed}/v1/speak");
            d.speak_rest_url = format!("http://{closed}/v1/speak");
        }
    })
    .await;
    let record = two_turn_call(
        &app,
        &dg,
        "What time do you open on Saturday?",
        "That's all, thank you.",
    )
    .await;
    assert!(
        replies_heard(&record) >= 3,
        "the greeting and both answers were heard:\n{record}"
    );
    let log = call_log(&app, &record).await;
    assert!(
        log.turns
            .iter()
            .any(|t| t.speaker == Speaker::Agent && t.text.contains("Saturday")),
        "{:?}",
        log.turns
    );
    assert!(
        !dg.stt.connections().is_empty(),
        "Deepgram still listens: only the broken half fell back"
    );
    app.server.shutdown().await.unwrap();
}
