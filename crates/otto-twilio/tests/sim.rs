//! The call simulator against a small Otto-like server written here (axum, real HTTP and
//! WebSocket on 127.0.0.1): it validates the signed webhook and upgrade, answers
//! `<Connect><Stream>` TwiML, and per mode greets, echoes utterances, barges in, or hangs up.

// Test code: a panic on a broken precondition is the failure message.
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, post};
use otto_twilio::media::{FromTwilio, ToTwilio};
use otto_twilio::signature::SignatureValidator;
use otto_twilio::sim::{CallerAudio, CallerStep, SimConfig, SimEvent, SimRecord, run_call};
use otto_twilio::twiml::{Response as Twiml, Say, Stream, Verb};
use otto_twilio::webhook::{IncomingCall, parse_form};
use otto_twilio::{AccountSid, StreamSid};
use secrecy::SecretString;

const ACCOUNT: &str = "AC00000000000000000000000000000001";
const TOKEN: &str = "test_auth_token_0123456789abcdef";
const CALLER: &str = "+14155551234";
const SHOP: &str = "+15005550006";
/// μ-law bytes the server plays (greeting / long reply) and the caller speaks.
const SERVER_TONE: u8 = 0x10;
const CALLER_TONE: u8 = 0x20;

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// Greets (200 ms + mark), then echoes each utterance back (+ mark) after 3 silent frames.
    Echo,
    /// Plays 2 s + mark at once; on the first caller speech frame sends `clear`.
    BargeIn,
    /// Closes the socket when the caller presses `#`.
    CloseOnHash,
}

#[derive(Default)]
struct Observed {
    webhook_ok: bool,
    upgrade_signed: bool,
    messages: Vec<FromTwilio>,
}

#[derive(Clone)]
struct App {
    mode: Mode,
    base: String,
    validator: SignatureValidator,
    seen: Arc<Mutex<Observed>>,
}

async fn voice(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    let Ok(pairs) = parse_form(&body) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let url = format!("http://{}/twilio/voice", app.base);
    let sig = headers
        .get("x-twilio-signature")
        .and_then(|v| v.to_str().ok());
    if app.validator.validate_form(&url, &pairs, sig).is_err() {
        return StatusCode::FORBIDDEN.into_response();
    }
    let Ok(call) = IncomingCall::from_form(&pairs) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    app.seen.lock().expect("lock").webhook_ok = true;
    let caller = call
        .call
        .from
        .phone()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let doc = Twiml::new()
        .connect(
            Stream::new(format!("ws://{}/twilio/media", app.base))
                .parameter("caller", caller)
                .parameter("tenant", "acme & sons"),
        )
        .say(Say::new("The assistant has disconnected. Goodbye."));
    xml(doc)
}

fn xml(doc: Twiml) -> Response {
    let body = doc.to_xml().expect("valid TwiML");
    ([("content-type", "text/xml")], body).into_response()
}

async fn busy() -> Response {
    xml(Twiml::new().say(Say::new("All lines are busy.")).hangup())
}

async fn media(State(app): State<App>, headers: HeaderMap, ws: WebSocketUpgrade) -> Response {
    let url = format!("ws://{}/twilio/media", app.base);
    let sig = headers
        .get("x-twilio-signature")
        .and_then(|v| v.to_str().ok());
    app.seen.lock().expect("lock").upgrade_signed =
        app.validator.validate_form(&url, &[], sig).is_ok();
    ws.on_upgrade(move |socket| serve_stream(app, socket))
}

async fn send(socket: &mut WebSocket, msg: ToTwilio) -> bool {
    socket
        .send(Message::Text(msg.to_json().into()))
        .await
        .is_ok()
}

async fn serve_stream(app: App, mut socket: WebSocket) {
    let mut sid: Option<StreamSid> = None;
    let mut utterance: Vec<u8> = Vec::new();
    let mut silent_run = 0;
    let mut replies = 0;
    let mut cleared = false;
    while let Some(Ok(Message::Text(text))) = socket.recv().await {
        let Ok(msg) = FromTwilio::parse(text.as_str()) else {
            break;
        };
        app.seen.lock().expect("lock").messages.push(msg.clone());
        match msg {
            FromTwilio::Start { stream_sid, .. } => {
                sid = Some(stream_sid.clone());
                let (bytes, name) = match app.mode {
                    Mode::Echo => (1600, "greeting"),
                    Mode::BargeIn => (16000, "long"),
                    Mode::CloseOnHash => continue,
                };
                // Sent in 20 ms frames, faster than real time, as a TTS would.
                for _ in 0..bytes / 160 {
                    send(
                        &mut socket,
                        ToTwilio::Media {
                            stream_sid: stream_sid.clone(),
                            payload: vec![SERVER_TONE; 160],
                        },
                    )
                    .await;
                }
                send(
                    &mut socket,
                    ToTwilio::Mark {
                        stream_sid,
                        name: name.into(),
                    },
                )
                .await;
            }
            FromTwilio::Media { media, .. } => {
                let Some(stream_sid) = sid.clone() else { break };
                let speech = media.payload.iter().any(|&b| b != 0xFF);
                if app.mode == Mode::BargeIn && speech && !cleared {
                    cleared = true;
                    send(&mut socket, ToTwilio::Clear { stream_sid }).await;
                } else if app.mode == Mode::Echo {
                    if speech {
                        utterance.extend_from_slice(&media.payload);
                        silent_run = 0;
                    } else if !utterance.is_empty() {
                        silent_run += 1;
                        if silent_run == 3 {
                            replies += 1;
                            let audio = std::mem::take(&mut utterance);
                            send(
                                &mut socket,
                                ToTwilio::Media {
                                    stream_sid: stream_sid.clone(),
                                    payload: audio,
                                },
                            )
                            .await;
                            send(
                                &mut socket,
                                ToTwilio::Mark {
                                    stream_sid,
                                    name: format!("echo-{replies}"),
                                },
                            )
                            .await;
                        }
                    }
                }
            }
            FromTwilio::Dtmf { digit: '#', .. } if app.mode == Mode::CloseOnHash => {
                let _ = socket.send(Message::Close(None)).await;
                break;
            }
            FromTwilio::Stop { .. } => break,
            _ => {}
        }
    }
}

struct Server {
    base: String,
    seen: Arc<Mutex<Observed>>,
}

async fn start_server(mode: Mode) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = listener.local_addr().expect("addr").to_string();
    let seen = Arc::new(Mutex::new(Observed::default()));
    let app = App {
        mode,
        base: base.clone(),
        validator: SignatureValidator::new(SecretString::from(TOKEN)),
        seen: seen.clone(),
    };
    let router = Router::new()
        .route("/twilio/voice", post(voice))
        .route("/twilio/busy", post(busy))
        .route("/twilio/media", any(media))
        .with_state(app);
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Server { base, seen }
}

fn config(server: &Server, token: &str) -> SimConfig {
    let mut cfg = SimConfig::new(
        format!("http://{}", server.base),
        AccountSid::parse(ACCOUNT).expect("sid"),
        SecretString::from(token),
        CALLER,
        SHOP,
    );
    cfg.max_call = Duration::from_secs(20);
    cfg
}

fn count(audio: &[u8], byte: u8) -> usize {
    audio.iter().filter(|&&b| b == byte).count()
}

fn has(record: &SimRecord, pred: impl Fn(&SimEvent) -> bool) -> bool {
    record.first(pred).is_some()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echo_call_plays_audio_echoes_marks_and_hangs_up() {
    let server = start_server(Mode::Echo).await;
    let caller = CallerAudio::script([
        CallerStep::WaitForReply {
            quiet: Duration::from_millis(100),
            max: Duration::from_secs(3),
        },
        CallerStep::Speak(vec![CALLER_TONE; 2400]), // 300 ms
        CallerStep::WaitForReply {
            quiet: Duration::from_millis(100),
            max: Duration::from_secs(3),
        },
        CallerStep::Dtmf('5'),
        CallerStep::Silence(Duration::from_millis(60)),
    ]);
    let record = run_call(&config(&server, TOKEN), caller)
        .await
        .expect("call");

    assert_eq!(record.echoed_marks(), ["greeting", "echo-1"], "{record}");
    let timeline = record.to_string();
    assert_eq!(timeline.lines().count(), record.events.len() + 1);
    assert!(
        timeline.contains("MarkEchoed { name: \"greeting\", cleared: false }"),
        "{timeline}"
    );
    assert!(!has(&record, |e| matches!(
        e,
        SimEvent::WaitTimedOut { .. }
    )));
    assert!(
        !has(&record, |e| matches!(e, SimEvent::ProtocolError { .. })),
        "{:?}",
        record.events
    );
    assert!(has(&record, |e| matches!(e, SimEvent::HungUp)));
    // Everything the server sent was played, once, in real-time steps of 160 bytes.
    assert_eq!(count(&record.played_audio, SERVER_TONE), 1600);
    assert_eq!(count(&record.played_audio, CALLER_TONE), 2400);
    assert_eq!(count(&record.caller_audio, CALLER_TONE), 2400);
    assert_eq!(record.caller_audio.len(), record.played_audio.len());
    assert_eq!(record.caller_audio.len() % 160, 0);
    // The greeting's mark came back only after its 200 ms had been played.
    let greeting_end = record
        .played_audio
        .iter()
        .rposition(|&b| b == SERVER_TONE)
        .expect("played");
    assert!(greeting_end >= 1599);
    // The caller spoke only after the greeting finished (WaitForReply), and the echo only after.
    let first_speech = record
        .caller_audio
        .iter()
        .position(|&b| b == CALLER_TONE)
        .expect("spoke");
    assert!(first_speech > greeting_end);
    let echo_start = record
        .played_audio
        .iter()
        .position(|&b| b == CALLER_TONE)
        .expect("echo");
    assert!(echo_start > first_speech + 2400);

    // Arrival bookkeeping: the greeting's first frame and the echo each found playback idle.
    let starved: Vec<bool> = record
        .events
        .iter()
        .filter_map(|e| match e.event {
            SimEvent::MediaReceived { starved, .. } => Some(starved.is_some()),
            _ => None,
        })
        .collect();
    assert_eq!(starved.len(), 11, "10 greeting frames and one echo chunk");
    assert!(starved[0] && starved[10], "{starved:?}");

    let twiml = &record.twiml;
    assert!(matches!(&twiml.verbs[1], Verb::Say(s) if s.text.contains("Goodbye")));
    let stream = twiml.connect_stream().expect("stream");
    assert_eq!(
        stream.parameters[1],
        ("tenant".into(), "acme & sons".into())
    );

    // What the server saw is what Twilio sends.
    let seen = server.seen.lock().expect("lock");
    assert!(seen.webhook_ok && seen.upgrade_signed);
    let msgs = &seen.messages;
    assert!(matches!(msgs[0], FromTwilio::Connected { .. }));
    let FromTwilio::Start {
        start,
        stream_sid,
        sequence_number: 1,
    } = &msgs[1]
    else {
        panic!("second message is not start #1: {:?}", msgs[1]);
    };
    assert_eq!(Some(stream_sid), record.stream_sid.as_ref());
    assert_eq!(start.call_sid, record.call_sid);
    assert_eq!(
        start.custom_parameters.get("caller").map(String::as_str),
        Some(CALLER)
    );
    assert_eq!(
        start.custom_parameters.get("tenant").map(String::as_str),
        Some("acme & sons")
    );
    assert_eq!(start.media_format.sample_rate_hz, 8000);
    let mut expected_chunk = 1;
    for (expected_seq, msg) in (2..).zip(&msgs[2..]) {
        let seq = match msg {
            FromTwilio::Media {
                sequence_number,
                media,
                ..
            } => {
                assert_eq!(media.chunk, expected_chunk);
                assert_eq!(media.timestamp_ms, (expected_chunk - 1) * 20);
                assert_eq!(media.payload.len(), 160);
                expected_chunk += 1;
                *sequence_number
            }
            FromTwilio::Mark {
                sequence_number, ..
            }
            | FromTwilio::Dtmf {
                sequence_number, ..
            }
            | FromTwilio::Stop {
                sequence_number, ..
            } => *sequence_number,
            other => panic!("unexpected {other:?}"),
        };
        assert_eq!(seq, expected_seq, "sequence numbers count every message");
    }
    assert!(
        msgs.iter()
            .any(|m| matches!(m, FromTwilio::Dtmf { digit: '5', .. }))
    );
    assert!(matches!(msgs.last(), Some(FromTwilio::Stop { .. })));

    // Both sides in a stereo WAV.
    let path = std::env::temp_dir().join(format!("otto-sim-{}.wav", record.call_sid));
    record.save_wav(&path).expect("wav");
    let mut wav = hound::WavReader::open(&path).expect("read wav");
    let spec = wav.spec();
    assert_eq!(
        (spec.channels, spec.sample_rate, spec.bits_per_sample),
        (2, 8000, 16)
    );
    let samples: Vec<i16> = wav.samples::<i16>().map(|s| s.expect("sample")).collect();
    assert_eq!(samples.len(), record.caller_audio.len() * 2);
    assert_eq!(samples[first_speech * 2], -7932, "0x20 decodes per G.711");
    assert_eq!(samples[first_speech * 2 + 1], 0);
    let _ = std::fs::remove_file(&path);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clear_drops_queued_audio_and_echoes_pending_marks() {
    let server = start_server(Mode::BargeIn).await;
    let caller = CallerAudio::script([
        CallerStep::Silence(Duration::from_millis(300)),
        CallerStep::Speak(vec![CALLER_TONE; 1600]),
        CallerStep::Silence(Duration::from_millis(200)),
    ]);
    let record = run_call(&config(&server, TOKEN), caller)
        .await
        .expect("call");

    let speech_at = record
        .first(|e| matches!(e, SimEvent::CallerSpeechStarted { .. }))
        .expect("caller spoke");
    let latency = record
        .delay_after(speech_at, |e| matches!(e, SimEvent::ClearReceived { .. }))
        .expect("clear arrived after the caller started speaking");
    println!(
        "barge-in: clear arrived {} µs after the caller's first speech frame was sent",
        latency.as_micros()
    );
    let dropped = record.events.iter().find_map(|e| match e.event {
        SimEvent::ClearReceived { dropped } => Some(dropped),
        _ => None,
    });
    let dropped = dropped.expect("clear recorded");
    assert!(
        dropped > Duration::from_millis(1000),
        "most of the 2 s reply was still queued: {dropped:?}"
    );
    assert!(record.events.iter().any(|e| e.event
        == SimEvent::MarkEchoed {
            name: "long".into(),
            cleared: true
        }));
    assert_eq!(record.echoed_marks(), ["long"]);
    // Played: what came before the clear, then silence.
    let played = count(&record.played_audio, SERVER_TONE);
    assert!(played > 0 && played < 16000 - 8000, "played {played} bytes");
    let last_tone = record
        .played_audio
        .iter()
        .rposition(|&b| b == SERVER_TONE)
        .expect("tone");
    assert!(
        record.played_audio[last_tone + 1..]
            .iter()
            .all(|&b| b == 0xFF)
    );
    // The server's mark echo is an ordinary Twilio mark message.
    let seen = server.seen.lock().expect("lock");
    assert!(
        seen.messages
            .iter()
            .any(|m| matches!(m, FromTwilio::Mark { name, .. } if name == "long"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_close_ends_the_call_fast_mode() {
    let server = start_server(Mode::CloseOnHash).await;
    let mut cfg = config(&server, TOKEN);
    cfg.pace = 10.0;
    let caller = CallerAudio::script([
        CallerStep::Silence(Duration::from_millis(200)),
        CallerStep::Dtmf('#'),
        CallerStep::Silence(Duration::from_secs(60)),
    ]);
    let record = run_call(&cfg, caller).await.expect("call");
    assert!(has(&record, |e| matches!(e, SimEvent::ServerClosed)));
    assert!(!has(&record, |e| matches!(e, SimEvent::HungUp)));
    let closed = record
        .first(|e| matches!(e, SimEvent::ServerClosed))
        .expect("closed");
    assert!(
        closed < Duration::from_secs(20),
        "ended by the close, not by the script: {closed:?}"
    );
}

#[tokio::test]
async fn twiml_without_a_stream_ends_after_the_webhook() {
    let server = start_server(Mode::Echo).await;
    let mut cfg = config(&server, TOKEN);
    cfg.webhook_path = "/twilio/busy".into();
    let record = run_call(&cfg, CallerAudio::script([])).await.expect("call");
    assert!(record.stream_sid.is_none());
    assert_eq!(record.twiml.verbs.len(), 2);
    assert!(record.caller_audio.is_empty());
}

#[tokio::test]
async fn a_refused_webhook_is_an_error() {
    let server = start_server(Mode::Echo).await;
    let err = run_call(&config(&server, "wrong token"), CallerAudio::script([]))
        .await
        .expect_err("403");
    assert!(err.to_string().contains("403"), "{err}");
    assert!(!server.seen.lock().expect("lock").webhook_ok);

    let mut cfg = config(&server, TOKEN);
    cfg.pace = 0.0;
    assert!(run_call(&cfg, CallerAudio::script([])).await.is_err());
}
