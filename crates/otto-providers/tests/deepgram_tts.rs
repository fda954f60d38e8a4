//! Deepgram TTS client against `otto_fakes::deepgram::FakeDeepgramTts`: flush → audio →
//! Flushed with the right generation in whole frames, ordering, clear mid-synthesis, REST
//! fallback (WebSocket refused, failed mid-call, flush rate limit), auth and REST failures.

// Test code: a panic on a broken precondition is the failure message.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use otto_core::speech::tts::{TextToSpeech, TtsSession};
use otto_core::speech::{FRAME_BYTES, GenerationId, TtsEvent};
use otto_fakes::deepgram::FakeDeepgramTts;
use otto_providers::deepgram::{DeepgramConfig, DeepgramTts};

const KEY: &str = "test-key";

fn config(fake: &FakeDeepgramTts) -> DeepgramConfig {
    DeepgramConfig {
        api_key: Some(KEY.into()),
        speak_ws_url: fake.ws_url(),
        speak_rest_url: fake.rest_url(),
        connect_timeout_ms: 2000,
        request_timeout_ms: 2000,
        ..DeepgramConfig::default()
    }
}

async fn open(fake: &FakeDeepgramTts) -> TtsSession {
    DeepgramTts::new(config(fake))
        .expect("valid config")
        .open()
        .await
        .expect("session opens")
}

async fn next(session: &mut TtsSession) -> Option<TtsEvent> {
    tokio::time::timeout(Duration::from_secs(5), session.events.recv())
        .await
        .expect("an event or the end within 5 s")
}

/// Speaks and flushes `text` as `generation`.
async fn say(session: &mut TtsSession, text: &str, generation: u64) {
    session.stream.speak(text).await.expect("speak");
    session
        .stream
        .flush(GenerationId(generation))
        .await
        .expect("flush");
}

/// Audio bytes of `generation` up to its `Flushed`; every audio event must be whole frames of
/// that generation.
async fn audio_until_flushed(session: &mut TtsSession, generation: u64) -> Vec<u8> {
    let mut audio = Vec::new();
    loop {
        match next(session).await.expect("stream open") {
            TtsEvent::Audio {
                generation: g,
                mulaw,
            } => {
                assert_eq!(g, GenerationId(generation), "audio of another generation");
                assert_eq!(mulaw.len() % FRAME_BYTES, 0, "not whole frames");
                assert!(!mulaw.is_empty());
                audio.extend(mulaw);
            }
            TtsEvent::Flushed { generation: g } => {
                assert_eq!(g, GenerationId(generation));
                return audio;
            }
            TtsEvent::Cleared => panic!("unexpected Cleared"),
        }
    }
}

/// Audio length after re-framing: whole frames, the last padded.
fn framed(len: usize) -> usize {
    len.div_ceil(FRAME_BYTES) * FRAME_BYTES
}

#[tokio::test]
async fn flush_yields_whole_frames_then_flushed_with_its_generation() {
    let fake = FakeDeepgramTts::start(KEY).await;
    let mut s = open(&fake).await;
    s.stream.speak("Hello there. ").await.expect("speak");
    say(&mut s, "How can I help?", 7).await;
    let text = "Hello there. How can I help?";
    let audio = audio_until_flushed(&mut s, 7).await;
    assert_eq!(audio.len(), framed(fake.audio_len(text)));
    assert_eq!(
        &audio[..8],
        &[0x1F, 0x1F, 0x1F, 0x1F, 0x9F, 0x9F, 0x9F, 0x9F]
    );
    assert!(
        audio[fake.audio_len(text)..].iter().all(|&b| b == 0xFF),
        "padding is silence"
    );
    let sent: Vec<serde_json::Value> = fake.ws_messages()[0]
        .iter()
        .map(|m| serde_json::from_str(m).expect("client sends JSON"))
        .collect();
    assert_eq!(
        sent,
        vec![
            serde_json::json!({"type": "Speak", "text": text}),
            serde_json::json!({"type": "Flush"})
        ]
    );
    assert!(fake.rest_requests().is_empty());
}

#[tokio::test]
async fn flushes_keep_their_order_and_generations() {
    let fake = FakeDeepgramTts::start(KEY).await;
    let mut s = open(&fake).await;
    say(&mut s, "One.", 1).await;
    say(&mut s, "Two, two.", 2).await;
    say(&mut s, "   ", 3).await; // nothing to say: Flushed only
    assert_eq!(
        audio_until_flushed(&mut s, 1).await.len(),
        framed(fake.audio_len("One."))
    );
    assert_eq!(
        audio_until_flushed(&mut s, 2).await.len(),
        framed(fake.audio_len("Two, two."))
    );
    assert!(audio_until_flushed(&mut s, 3).await.is_empty());
}

#[tokio::test]
async fn clear_mid_synthesis_stops_audio_and_yields_cleared() {
    let fake = FakeDeepgramTts::start(KEY).await;
    fake.set_chunk_delay(Duration::from_millis(20));
    let mut s = open(&fake).await;
    let long = "This is a long answer that takes a while to say out loud. ".repeat(3);
    say(&mut s, &long, 1).await;
    assert!(matches!(
        next(&mut s).await,
        Some(TtsEvent::Audio {
            generation: GenerationId(1),
            ..
        })
    ));
    s.stream.clear().await.expect("clear");
    let mut gen1 = 0;
    loop {
        match next(&mut s).await.expect("open") {
            TtsEvent::Audio { generation, mulaw } => {
                assert_eq!(generation, GenerationId(1));
                gen1 += mulaw.len();
            }
            TtsEvent::Cleared => break,
            TtsEvent::Flushed { .. } => panic!("the cleared flush must not complete"),
        }
    }
    assert!(
        gen1 < fake.audio_len(&long) / 2,
        "audio went on after Clear: {gen1} bytes"
    );
    // After Cleared nothing of generation 1 follows; the next reply plays normally.
    say(&mut s, "Sure.", 2).await;
    assert_eq!(
        audio_until_flushed(&mut s, 2).await.len(),
        framed(fake.audio_len("Sure."))
    );
    assert!(fake.ws_messages()[0].contains(&r#"{"type":"Clear"}"#.to_owned()));
}

#[tokio::test]
async fn rest_fallback_when_the_websocket_is_refused() {
    let fake = FakeDeepgramTts::start(KEY).await;
    fake.refuse_ws(Some(503));
    let mut s = open(&fake).await;
    say(&mut s, "Your appointment is confirmed.", 4).await;
    let audio = audio_until_flushed(&mut s, 4).await;
    assert_eq!(
        audio.len(),
        framed(fake.audio_len("Your appointment is confirmed."))
    );
    let requests = fake.rest_requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].text, "Your appointment is confirmed.");
    assert_eq!(
        requests[0].query,
        "container=none&encoding=mulaw&model=aura-asteria-en&sample_rate=8000"
    );
    assert!(fake.ws_messages().is_empty());
}

#[tokio::test]
async fn websocket_failure_mid_call_falls_back_to_rest() {
    let fake = FakeDeepgramTts::start(KEY).await;
    fake.drop_ws_at_flush(2);
    let mut s = open(&fake).await;
    say(&mut s, "First.", 1).await;
    assert_eq!(
        audio_until_flushed(&mut s, 1).await.len(),
        framed(fake.audio_len("First."))
    );
    say(&mut s, "Second sentence.", 2).await;
    say(&mut s, "Third.", 3).await;
    let second = audio_until_flushed(&mut s, 2).await;
    assert_eq!(second.len(), framed(fake.audio_len("Second sentence.")));
    assert_eq!(
        audio_until_flushed(&mut s, 3).await.len(),
        framed(fake.audio_len("Third."))
    );
    let texts: Vec<String> = fake.rest_requests().into_iter().map(|r| r.text).collect();
    assert_eq!(texts, vec!["Second sentence.", "Third."]);
}

#[tokio::test]
async fn flushes_beyond_the_rate_limit_use_rest() {
    let fake = FakeDeepgramTts::start(KEY).await;
    let mut s = open(&fake).await;
    for g in 1..=21 {
        say(&mut s, "Okay.", g).await;
    }
    for g in 1..=21 {
        assert_eq!(
            audio_until_flushed(&mut s, g).await.len(),
            framed(fake.audio_len("Okay."))
        );
    }
    let ws_flushes = fake.ws_messages()[0]
        .iter()
        .filter(|m| m.as_str() == r#"{"type":"Flush"}"#)
        .count();
    assert_eq!(ws_flushes, 20);
    assert_eq!(fake.rest_requests().len(), 1);
}

#[tokio::test]
async fn wrong_key_fails_open_without_retry() {
    let fake = FakeDeepgramTts::start(KEY).await;
    let mut c = config(&fake);
    c.api_key = Some("nope".into());
    let err = DeepgramTts::new(c)
        .expect("valid config")
        .open()
        .await
        .err()
        .expect("refused");
    assert!(!err.retryable());
    assert!(err.to_string().contains("INVALID_AUTH"), "{err}");
}

#[tokio::test]
async fn rest_failure_ends_the_session_with_a_retryable_error() {
    let fake = FakeDeepgramTts::start(KEY).await;
    fake.refuse_ws(Some(503));
    fake.fail_next_rest(500);
    let mut s = open(&fake).await;
    say(&mut s, "Hello.", 1).await;
    assert_eq!(next(&mut s).await, None, "events end when synthesis fails");
    let err = s.stream.speak("more").await.expect_err("session ended");
    assert!(err.retryable(), "{err}");
    assert!(err.to_string().contains("HTTP 500"), "{err}");
}

#[tokio::test]
async fn malformed_and_unexpected_server_messages_are_ignored() {
    let fake = FakeDeepgramTts::start(KEY).await;
    fake.inject_on_connect(
        &[
            "not json",
            r#"{"type":"Flushed","sequence_id":99}"#, // no flush outstanding
            r#"{"type":"Cleared","sequence_id":"x"}"#,
            r#"{"type":"Warning","warn_code":5}"#,
            r#"{"type":"Warning","code":"EXCESSIVE_FLUSH","description":"slow down"}"#,
            r#"{"type":"Brand new"}"#,
            "[]",
        ],
        333, // audio before any flush
    );
    let mut s = open(&fake).await;
    // Let the client read the injected frames before anything is outstanding (the stray
    // `Flushed` and audio must not be taken for this flush's).
    tokio::time::sleep(Duration::from_millis(200)).await;
    say(&mut s, "Still fine.", 5).await;
    assert_eq!(
        audio_until_flushed(&mut s, 5).await.len(),
        framed(fake.audio_len("Still fine."))
    );
    assert!(fake.rest_requests().is_empty(), "the socket was kept");
}

#[tokio::test]
async fn a_flush_the_server_ignores_moves_to_rest_after_the_request_timeout() {
    let fake = FakeDeepgramTts::start(KEY).await;
    fake.set_flush_limit(1); // the second flush gets EXCESSIVE_FLUSH and no audio
    let mut c = config(&fake);
    c.request_timeout_ms = 300;
    let mut s = DeepgramTts::new(c)
        .expect("valid config")
        .open()
        .await
        .expect("opens");
    say(&mut s, "One.", 1).await;
    assert_eq!(
        audio_until_flushed(&mut s, 1).await.len(),
        framed(fake.audio_len("One."))
    );
    say(&mut s, "Two.", 2).await;
    assert_eq!(
        audio_until_flushed(&mut s, 2).await.len(),
        framed(fake.audio_len("Two."))
    );
    let texts: Vec<String> = fake.rest_requests().into_iter().map(|r| r.text).collect();
    assert_eq!(texts, vec!["Two."]);
}

#[tokio::test]
async fn refused_upgrades_are_classified_by_status() {
    let fake = FakeDeepgramTts::start(KEY).await;
    // 400 (bad parameter) is final: REST would be refused too, so open fails.
    fake.refuse_ws(Some(400));
    let err = DeepgramTts::new(config(&fake))
        .expect("valid config")
        .open()
        .await
        .err()
        .expect("400 is not retried");
    assert!(!err.retryable());
    assert!(err.to_string().contains("HTTP 400"), "{err}");
    // 429 (too many connections) may pass: the call goes on over REST.
    fake.refuse_ws(Some(429));
    let mut s = open(&fake).await;
    say(&mut s, "Hi.", 1).await;
    assert_eq!(
        audio_until_flushed(&mut s, 1).await.len(),
        framed(fake.audio_len("Hi."))
    );
    assert_eq!(fake.rest_requests().len(), 1);
}

#[tokio::test]
async fn an_unreachable_server_fails_the_open_instead_of_trying_rest() {
    // A port nothing listens on: the connection is refused, as when Deepgram cannot be
    // reached at all. REST to the same server could not work either, so open fails
    // (retryably) and a fallback engine can take the call.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port");
    let fake = FakeDeepgramTts::start(KEY).await;
    let config = DeepgramConfig {
        speak_ws_url: format!("ws://{closed}/v1/speak"),
        speak_rest_url: format!("http://{closed}/v1/speak"),
        ..config(&fake)
    };
    let err = DeepgramTts::new(config)
        .expect("valid config")
        .open()
        .await
        .err()
        .expect("an unreachable server fails the open");
    assert!(err.retryable(), "{err}");
    assert!(err.to_string().contains("connection failed"), "{err}");
}
