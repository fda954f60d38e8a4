//! Deepgram live STT client against `otto_fakes::deepgram::FakeDeepgramStt`: event mapping
//! and audio time, auth failure, KeepAlive, Finalize, CloseStream, reconnection mid-stream
//! (dropped socket and NET-0001 close), malformed server messages, bad input.

// Test code: a panic on a broken precondition is the failure message.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use otto_core::speech::SpeechError;
use otto_core::speech::stt::{SpeechToText, SttSession};
use otto_core::speech::{FRAME_BYTES, SttEvent};
use otto_fakes::deepgram::FakeDeepgramStt;
use otto_providers::deepgram::{DeepgramConfig, DeepgramStt};
use tokio::sync::mpsc;

const KEY: &str = "test-key";

fn config(fake: &FakeDeepgramStt) -> DeepgramConfig {
    DeepgramConfig {
        api_key: Some(KEY.into()),
        listen_url: fake.listen_url(),
        connect_timeout_ms: 2000,
        request_timeout_ms: 2000,
        ..DeepgramConfig::default()
    }
}

async fn open(config: DeepgramConfig) -> SttSession {
    DeepgramStt::new(config)
        .expect("valid config")
        .open()
        .await
        .expect("stream opens")
}

/// Pushes `ms` of loud (1 kHz square wave) or silent μ-law audio in 20 ms frames.
fn push(session: &mut SttSession, ms: usize, loud: bool) {
    let frame: Vec<u8> = if loud {
        [0x1F, 0x1F, 0x1F, 0x1F, 0x9F, 0x9F, 0x9F, 0x9F]
            .into_iter()
            .cycle()
            .take(FRAME_BYTES)
            .collect()
    } else {
        vec![0xFF; FRAME_BYTES]
    };
    for _ in 0..ms / 20 {
        session.stream.push_audio(&frame).expect("queue has room");
    }
}

async fn next(session: &mut SttSession) -> Option<SttEvent> {
    recv(&mut session.events).await
}

async fn recv(events: &mut mpsc::Receiver<SttEvent>) -> Option<SttEvent> {
    tokio::time::timeout(Duration::from_secs(5), events.recv())
        .await
        .expect("an event or the end of the stream within 5 s")
}

async fn next_n(session: &mut SttSession, n: usize) -> Vec<SttEvent> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(next(session).await.expect("stream still open"));
    }
    out
}

/// The five events of one utterance "<a> <b> <c> <d>" spoken from `start` for `len` ms.
fn utterance_events(first: &str, second: &str, start: u64, len: u64) -> Vec<SttEvent> {
    vec![
        SttEvent::SpeechStarted { at_ms: start },
        SttEvent::Interim { text: first.into() },
        SttEvent::Final {
            text: first.into(),
            speech_final: false,
            from_finalize: false,
            start_ms: start,
            duration_ms: len / 2,
        },
        SttEvent::Final {
            text: second.into(),
            speech_final: true,
            from_finalize: false,
            start_ms: start + len / 2,
            duration_ms: len / 2,
        },
        SttEvent::UtteranceEnd {
            last_word_end_ms: start + len,
        },
    ]
}

#[tokio::test]
async fn utterance_maps_to_events_in_audio_time() {
    let fake = FakeDeepgramStt::start(KEY).await;
    fake.push_utterance("I need an appointment.");
    let mut s = open(config(&fake)).await;
    push(&mut s, 500, true);
    push(&mut s, 400, false);
    assert_eq!(
        next_n(&mut s, 5).await,
        utterance_events("I need", "an appointment.", 0, 500)
    );
    let query = &fake.connections()[0].query;
    for param in [
        "model=nova-2-phonecall",
        "encoding=mulaw",
        "sample_rate=8000",
        "channels=1",
        "interim_results=true",
        "endpointing=300",
        "utterance_end_ms=1000",
        "vad_events=true",
    ] {
        assert!(query.contains(param), "{param} missing from {query}");
    }
}

#[tokio::test]
async fn wrong_key_is_a_clear_non_retryable_error() {
    let fake = FakeDeepgramStt::start(KEY).await;
    let mut c = config(&fake);
    c.api_key = Some("wrong".into());
    let err = DeepgramStt::new(c)
        .expect("valid config")
        .open()
        .await
        .err()
        .expect("upgrade refused");
    let text = err.to_string();
    assert!(!err.retryable(), "{text}");
    assert!(
        text.contains("401") && text.contains("INVALID_AUTH"),
        "{text}"
    );
    assert!(!text.contains("wrong"), "the key leaked into {text}");
    assert_eq!(fake.refused(), 1);
}

#[tokio::test]
async fn keepalive_keeps_an_idle_stream_open() {
    let fake = FakeDeepgramStt::start(KEY).await;
    fake.set_idle_timeout(Duration::from_millis(400));
    let mut c = config(&fake);
    c.keepalive_interval_ms = 100;
    let _s = open(c).await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let conns = fake.connections();
    assert_eq!(conns.len(), 1, "{conns:?}");
    assert_eq!(conns[0].ended, None, "closed despite KeepAlive: {conns:?}");
    let keepalives = conns[0]
        .text_messages
        .iter()
        .filter(|m| m.as_str() == r#"{"type":"KeepAlive"}"#)
        .count();
    assert!(keepalives >= 5, "only {keepalives} KeepAlives in 1 s");
}

#[tokio::test]
async fn finalize_cuts_the_utterance_in_progress() {
    let fake = FakeDeepgramStt::start(KEY).await;
    fake.push_utterance("please.");
    let mut s = open(config(&fake)).await;
    push(&mut s, 300, true);
    s.stream.finalize().await.expect("finalize");
    assert_eq!(
        next_n(&mut s, 2).await,
        vec![
            SttEvent::SpeechStarted { at_ms: 0 },
            SttEvent::Final {
                text: "please.".into(),
                speech_final: false,
                from_finalize: true,
                start_ms: 0,
                duration_ms: 300
            }
        ]
    );
    let conn = &fake.connections()[0];
    assert_eq!(
        conn.audio_bytes,
        300 * 8,
        "audio before Finalize was all sent"
    );
    assert_eq!(
        conn.text_messages.last().map(String::as_str),
        Some(r#"{"type":"Finalize"}"#)
    );
}

#[tokio::test]
async fn close_delivers_the_last_final_then_ends_the_events() {
    let fake = FakeDeepgramStt::start(KEY).await;
    fake.push_utterance("bye now");
    let mut s = open(config(&fake)).await;
    push(&mut s, 200, true);
    let SttSession {
        stream, mut events, ..
    } = s;
    stream.close().await.expect("close");
    assert_eq!(
        recv(&mut events).await,
        Some(SttEvent::SpeechStarted { at_ms: 0 })
    );
    assert!(matches!(
        recv(&mut events).await,
        Some(SttEvent::Final { text, speech_final: false, .. }) if text == "bye now"
    ));
    assert_eq!(
        recv(&mut events).await,
        None,
        "events end after CloseStream"
    );
    let conn = &fake.connections()[0];
    assert_eq!(conn.ended, Some("close-stream"));
    assert_eq!(conn.audio_bytes, 200 * 8);
}

#[tokio::test]
async fn reconnects_mid_stream_with_continuous_audio_time() {
    let fake = FakeDeepgramStt::start(KEY).await;
    fake.push_utterance("first part");
    fake.push_utterance("second part");
    fake.drop_connections_after(1, 8000); // after 1 s of audio
    let mut s = open(config(&fake)).await;
    push(&mut s, 500, true);
    push(&mut s, 600, false);
    assert_eq!(
        next_n(&mut s, 5).await,
        utterance_events("first", "part", 0, 500)
    );
    // Wait for the drop, then speak while the client is still reconnecting (its first
    // backoff is 100 ms): that audio is buffered and sent on the new socket.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while fake.connections()[0].ended != Some("dropped") {
        assert!(tokio::time::Instant::now() < deadline, "fake never dropped");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tokio::time::sleep(Duration::from_millis(30)).await;
    push(&mut s, 400, true);
    push(&mut s, 400, false);
    // Speech started at 1100 ms of the call's audio, whatever the new socket counts.
    assert_eq!(
        next_n(&mut s, 5).await,
        utterance_events("second", "part", 1100, 400)
    );
    assert_eq!(fake.connections().len(), 2);
}

#[tokio::test]
async fn inactivity_close_net0001_reconnects() {
    let fake = FakeDeepgramStt::start(KEY).await;
    fake.idle_close_next_connection(Duration::from_millis(150));
    fake.push_utterance("still here");
    let mut c = config(&fake);
    c.keepalive_interval_ms = 5000;
    let mut s = open(c).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while fake.connections().len() < 2 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no reconnect after NET-0001"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(fake.connections()[0].ended, Some("net0001"));
    push(&mut s, 400, true);
    push(&mut s, 400, false);
    let events = next_n(&mut s, 5).await;
    assert_eq!(events, utterance_events("still", "here", 0, 400));
}

#[tokio::test]
async fn malformed_server_messages_are_ignored() {
    let fake = FakeDeepgramStt::start(KEY).await;
    fake.inject_on_connect(&[
        "not json",
        r#"{"type":"Results","start":"x"}"#,
        r#"{"type":"SpeechStarted","timestamp":-5}"#,
        r#"{"type":"Mystery","payload":[1,2]}"#,
        r#"{"type":"Error","variant":"SchemaError","description":"request schema is invalid"}"#,
        r#"{"type":"Results","is_final":false,"start":0,"duration":1,"channel":{"alternatives":[{"transcript":""}]}}"#,
    ]);
    fake.push_utterance("hello there");
    let mut s = open(config(&fake)).await;
    push(&mut s, 400, true);
    push(&mut s, 400, false);
    assert_eq!(
        next_n(&mut s, 5).await,
        utterance_events("hello", "there", 0, 400)
    );
    assert_eq!(fake.connections().len(), 1, "no reconnect for bad messages");
}

#[tokio::test]
async fn bad_chunks_are_rejected() {
    let fake = FakeDeepgramStt::start(KEY).await;
    let mut s = open(config(&fake)).await;
    for len in [0, 8001] {
        let err = s.stream.push_audio(&vec![0xFF; len]).expect_err("rejected");
        assert!(matches!(err, SpeechError::InvalidAudio(_)), "{err}");
    }
}

#[tokio::test]
async fn lost_connection_without_reconnects_ends_with_a_retryable_error() {
    let fake = FakeDeepgramStt::start(KEY).await;
    fake.drop_connections_after(1, 160);
    let mut c = config(&fake);
    c.reconnect_attempts = 0;
    let mut s = open(c).await;
    push(&mut s, 20, false);
    assert_eq!(
        next(&mut s).await,
        None,
        "events end when the socket is lost"
    );
    let err = s
        .stream
        .push_audio(&[0xFF; FRAME_BYTES])
        .expect_err("stream has ended");
    assert!(err.retryable(), "{err}");
    assert!(err.to_string().contains("not restored"), "{err}");
}

#[tokio::test]
async fn push_never_waits_and_counts_dropped_chunks() {
    let fake = FakeDeepgramStt::start(KEY).await;
    let stt = DeepgramStt::new(config(&fake)).expect("valid config");
    let mut s = stt.open().await.expect("stream opens");
    // On this single-threaded runtime the session task cannot run while we push, so the
    // bounded queue fills: the surplus is refused at once as Busy, never awaited.
    let frame = [0xFF; FRAME_BYTES];
    let results: Vec<_> = (0..300).map(|_| s.stream.push_audio(&frame)).collect();
    let busy = results
        .iter()
        .filter(|r| matches!(r, Err(SpeechError::Busy)))
        .count();
    assert_eq!(results.iter().filter(|r| r.is_ok()).count() + busy, 300);
    assert!(busy > 0, "queue never filled");
    assert_eq!(stt.dropped_audio_chunks(), busy as u64);
    // The accepted audio still reaches Deepgram.
    s.stream.finalize().await.expect("finalize");
    let accepted = (300 - busy) * FRAME_BYTES;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while fake.connections()[0].audio_bytes < accepted {
        assert!(
            tokio::time::Instant::now() < deadline,
            "accepted audio not delivered"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn a_server_that_keeps_dropping_exhausts_the_reconnection_budget() {
    let fake = FakeDeepgramStt::start(KEY).await;
    fake.drop_connections_after(10, 160);
    let mut c = config(&fake);
    c.reconnect_attempts = 2;
    let mut s = open(c).await;
    // Audio in real time: every new socket receives some and is dropped.
    let mut ended = None;
    for _ in 0..250 {
        if let Err(e) = s.stream.push_audio(&[0xFF; FRAME_BYTES]) {
            ended = Some(e);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let err = ended.expect("the stream ends within 5 s of audio");
    assert!(err.retryable(), "{err}");
    assert_eq!(
        next(&mut s).await,
        None,
        "events end once the budget is spent"
    );
    assert_eq!(
        fake.connections().len(),
        3,
        "the first socket and two reconnections"
    );
}
