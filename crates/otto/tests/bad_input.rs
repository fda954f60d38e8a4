//! Bad input at Otto's Twilio edge, sent with plain HTTP and WebSocket clients against the
//! real server: forged or missing signatures, malformed forms, garbage on a media socket, and
//! status callbacks repeated or out of order. The server must answer with the right status,
//! never panic, keep the call log consistent, and keep taking calls.

// Test code: a panic on a broken precondition is the failure message.
#![allow(clippy::unwrap_used)]

mod common;
mod vendors;

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use otto_twilio::media::{FromTwilio, MULAW_ENCODING, Media, MediaFormat, Start, Track};
use otto_twilio::signature::{SIGNATURE_HEADER, sign};
use otto_twilio::sim::{CallerAudio, SimEvent, run_call};
use otto_twilio::stream_token::{self, StreamTokens};
use otto_twilio::{CallSid, StreamSid};
use reqwest::StatusCode;
use secrecy::SecretString;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use common::{AUTH_TOKEN, JORDAN, TestApp, spawn_app};
use vendors::{Deepgram, sim, wait_reply};

fn token() -> SecretString {
    SecretString::from(AUTH_TOKEN)
}

fn form(params: &[(String, String)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The incoming-call form Twilio sends for `call_sid`.
fn incoming_call(app: &TestApp, call_sid: &CallSid) -> Vec<(String, String)> {
    pairs(&[
        ("AccountSid", app.account_sid.as_str()),
        ("ApiVersion", "2010-04-01"),
        ("CallSid", call_sid.as_str()),
        ("CallStatus", "ringing"),
        ("Called", "+15555550100"),
        ("Caller", JORDAN),
        ("Direction", "inbound"),
        ("From", JORDAN),
        ("To", "+15555550100"),
    ])
}

/// A status callback for `call_sid` with `status` at `timestamp` (RFC 2822).
fn status_callback(
    app: &TestApp,
    call_sid: &CallSid,
    status: &str,
    timestamp: &str,
) -> Vec<(String, String)> {
    pairs(&[
        ("AccountSid", app.account_sid.as_str()),
        ("ApiVersion", "2010-04-01"),
        ("CallSid", call_sid.as_str()),
        ("CallStatus", status),
        ("CallDuration", "12"),
        ("Direction", "inbound"),
        ("From", JORDAN),
        ("To", "+15555550100"),
        ("Timestamp", timestamp),
    ])
}

/// POSTs `body` to `path` with `signature` (none when `None`).
async fn post(app: &TestApp, path: &str, body: String, signature: Option<String>) -> StatusCode {
    let mut request = reqwest::Client::new()
        .post(format!("{}{path}", app.url()))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body);
    if let Some(s) = signature {
        request = request.header(SIGNATURE_HEADER, s);
    }
    request.send().await.expect("the server answers").status()
}

/// POSTs `params` to `path`, signed as Twilio signs them.
async fn post_signed(app: &TestApp, path: &str, params: &[(String, String)]) -> StatusCode {
    let url = format!("{}{path}", app.url());
    let signature = sign(&token(), &url, params);
    post(app, path, form(params), Some(signature)).await
}

async fn health(app: &TestApp) -> StatusCode {
    reqwest::get(format!("{}/health", app.url()))
        .await
        .expect("the server answers")
        .status()
}

fn stream_url(app: &TestApp) -> String {
    format!("ws://{}/twilio/media", app.server.addr)
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens the media WebSocket with `signature` (none when `None`): the socket, or the HTTP
/// status of the refused upgrade.
async fn open_media(app: &TestApp, signature: Option<String>) -> Result<Socket, StatusCode> {
    let mut request = stream_url(app).into_client_request().unwrap();
    if let Some(s) = signature {
        request
            .headers_mut()
            .insert(SIGNATURE_HEADER, HeaderValue::from_str(&s).unwrap());
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((socket, _)) => Ok(socket),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            Err(StatusCode::from_u16(response.status().as_u16()).unwrap())
        }
        Err(e) => panic!("media upgrade failed without an HTTP answer: {e}"),
    }
}

async fn open_signed_media(app: &TestApp) -> Socket {
    open_media(app, Some(sign(&token(), &stream_url(app), &[])))
        .await
        .expect("a signed upgrade is accepted")
}

async fn send(socket: &mut Socket, message: &FromTwilio) {
    let text = message.to_json().unwrap();
    socket.send(Message::text(text)).await.unwrap();
}

/// Twilio's `start` for a call from Jordan, with the token Otto's webhook issues for it.
fn start_message(app: &TestApp, stream_sid: &StreamSid, call_sid: &CallSid) -> FromTwilio {
    let token = StreamTokens::new(AUTH_TOKEN.as_bytes()).issue(
        call_sid.as_str(),
        JORDAN,
        "+15555550100",
        chrono::Utc::now().timestamp(),
    );
    start_from(app, stream_sid, call_sid, JORDAN, Some(token))
}

/// Twilio's `start` claiming the caller `from`, carrying `token` (none when `None`).
fn start_from(
    app: &TestApp,
    stream_sid: &StreamSid,
    call_sid: &CallSid,
    from: &str,
    token: Option<String>,
) -> FromTwilio {
    let mut params = vec![
        ("from".to_string(), from.to_string()),
        ("to".to_string(), "+15555550100".to_string()),
    ];
    params.extend(token.map(|t| (stream_token::PARAMETER.to_string(), t)));
    FromTwilio::Start {
        sequence_number: 2,
        stream_sid: stream_sid.clone(),
        start: Start {
            account_sid: app.account_sid.clone(),
            call_sid: call_sid.clone(),
            tracks: vec![Track::Inbound],
            custom_parameters: params.into_iter().collect(),
            media_format: MediaFormat {
                encoding: MULAW_ENCODING.into(),
                sample_rate_hz: 8000,
                channels: 1,
            },
        },
    }
}

fn media_message(stream_sid: &StreamSid, chunk: u64) -> FromTwilio {
    FromTwilio::Media {
        sequence_number: chunk + 2,
        stream_sid: stream_sid.clone(),
        media: Media {
            track: Track::Inbound,
            chunk,
            timestamp_ms: (chunk - 1) * 20,
            payload: vec![0xFF; 160],
        },
    }
}

/// Reads until the server closes the socket; false when it stays open for `within`.
async fn closed_by_server(socket: &mut Socket, within: Duration) -> bool {
    tokio::time::timeout(within, async {
        while let Some(Ok(message)) = socket.next().await {
            if let Message::Close(_) = message {
                break;
            }
        }
    })
    .await
    .is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_and_status_callbacks_reject_forgeries_and_stay_consistent() {
    let dg = Deepgram::start().await;
    let app = spawn_app(|c| dg.apply(c)).await;
    let call_sid = CallSid::random();
    let params = incoming_call(&app, &call_sid);

    // Signatures: forged, made with another token, missing.
    let forged = post(
        &app,
        "/twilio/voice",
        form(&params),
        Some("bm90LWEtc2ln".into()),
    )
    .await;
    assert_eq!(forged, StatusCode::FORBIDDEN);
    let url = format!("{}/twilio/voice", app.url());
    let other_token = sign(&SecretString::from("another-token"), &url, &params);
    let wrong_key = post(&app, "/twilio/voice", form(&params), Some(other_token)).await;
    assert_eq!(wrong_key, StatusCode::FORBIDDEN);
    assert_eq!(
        post(&app, "/twilio/voice", form(&params), None).await,
        StatusCode::FORBIDDEN
    );
    // Signed over other parameters than the ones sent (a tampered `From`).
    let mut tampered = params.clone();
    tampered[7].1 = "+15555550999".into();
    let signature = sign(&token(), &url, &params);
    assert_eq!(
        post(&app, "/twilio/voice", form(&tampered), Some(signature)).await,
        StatusCode::FORBIDDEN
    );
    assert!(
        app.shop
            .store()
            .call_by_sid(call_sid.as_str())
            .await
            .unwrap()
            .is_none(),
        "a rejected webhook leaves no call log"
    );

    // Malformed but validly signed forms.
    let no_call_sid: Vec<_> = params
        .iter()
        .filter(|(k, _)| k != "CallSid")
        .cloned()
        .collect();
    assert_eq!(
        post_signed(&app, "/twilio/voice", &no_call_sid).await,
        StatusCode::BAD_REQUEST
    );
    let mut bad_sid = params.clone();
    bad_sid[2].1 = "not-a-call-sid".into();
    assert_eq!(
        post_signed(&app, "/twilio/voice", &bad_sid).await,
        StatusCode::BAD_REQUEST
    );
    let garbage = "%ZZ&&==&CallSid&\u{1}=%00".to_string();
    let garbage_params: Vec<(String, String)> = form_urlencoded::parse(garbage.as_bytes())
        .into_owned()
        .collect();
    let signature = sign(&token(), &url, &garbage_params);
    assert_eq!(
        post(&app, "/twilio/voice", garbage, Some(signature)).await,
        StatusCode::BAD_REQUEST
    );
    let status_url = format!("{}/twilio/status", app.url());
    let bad_status = status_callback(&app, &call_sid, "completed", "yesterday-ish");
    let signature = sign(&token(), &status_url, &bad_status);
    assert_eq!(
        post(&app, "/twilio/status", form(&bad_status), Some(signature)).await,
        StatusCode::BAD_REQUEST,
        "a Timestamp that is not RFC 2822"
    );
    assert_eq!(
        post(
            &app,
            "/twilio/status",
            form(&status_callback(
                &app,
                &call_sid,
                "completed",
                "Sat, 21 Nov 2026 16:00:00 +0000"
            )),
            None
        )
        .await,
        StatusCode::FORBIDDEN
    );

    // A valid call, then its status callbacks repeated and out of order.
    assert_eq!(
        post_signed(&app, "/twilio/voice", &params).await,
        StatusCode::OK
    );
    let at = |secs: i64| (chrono::Utc::now() + chrono::Duration::seconds(secs)).to_rfc2822();
    let first_end = at(12);
    let callbacks = [
        ("in-progress", at(1)),
        ("completed", first_end.clone()),
        ("completed", first_end.clone()),
        ("completed", at(30)),
        ("ringing", at(0)),
        ("no-answer", at(40)),
    ];
    for (status, when) in callbacks {
        let answer = post_signed(
            &app,
            "/twilio/status",
            &status_callback(&app, &call_sid, status, &when),
        )
        .await;
        assert_eq!(answer, StatusCode::NO_CONTENT, "{status} at {when}");
    }
    let log = app
        .shop
        .store()
        .call_by_sid(call_sid.as_str())
        .await
        .unwrap()
        .expect("the call log");
    let expected_end = chrono::DateTime::parse_from_rfc2822(&first_end).unwrap();
    assert_eq!(
        log.ended_at,
        Some(expected_end.with_timezone(&chrono::Utc)),
        "the first terminal callback ends the call; later ones change nothing: {log:?}"
    );
    assert!(matches!(log.duration_secs, Some(10..=12)), "{log:?}");
    assert_eq!(
        log.outcome, None,
        "a late no-answer does not relabel a completed call: {log:?}"
    );

    // A callback for a call Otto never answered is accepted and creates nothing.
    let stranger = CallSid::random();
    assert_eq!(
        post_signed(
            &app,
            "/twilio/status",
            &status_callback(&app, &stranger, "completed", &first_end)
        )
        .await,
        StatusCode::NO_CONTENT
    );
    assert!(
        app.shop
            .store()
            .call_by_sid(stranger.as_str())
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(health(&app).await, StatusCode::OK);
    app.server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_on_the_media_socket_is_survived_and_the_next_call_works() {
    let dg = Deepgram::start().await;
    let app = spawn_app(|c| dg.apply(c)).await;

    // Upgrades without a valid signature are refused before any call starts.
    assert_eq!(
        open_media(&app, None).await.err(),
        Some(StatusCode::FORBIDDEN)
    );
    let wrong_url = sign(&token(), "ws://example.com/twilio/media", &[]);
    assert_eq!(
        open_media(&app, Some(wrong_url)).await.err(),
        Some(StatusCode::FORBIDDEN)
    );
    assert!(
        dg.stt.connections().is_empty(),
        "no call started for a refused upgrade"
    );

    // A webhook first, as Twilio does, so the call has a log.
    let call_sid = CallSid::random();
    assert_eq!(
        post_signed(&app, "/twilio/voice", &incoming_call(&app, &call_sid)).await,
        StatusCode::OK
    );
    let stream_sid = StreamSid::random();
    let mut socket = open_signed_media(&app).await;
    send(
        &mut socket,
        &FromTwilio::Connected {
            protocol: "Call".into(),
            version: "1.0.0".into(),
        },
    )
    .await;
    // Before `start`: media, garbage and a binary frame are ignored.
    send(&mut socket, &media_message(&stream_sid, 1)).await;
    socket.send(Message::text("{not json")).await.unwrap();
    socket
        .send(Message::binary(vec![0xFF_u8; 160]))
        .await
        .unwrap();
    send(&mut socket, &start_message(&app, &stream_sid, &call_sid)).await;
    // After `start`: valid audio mixed with garbage of every kind.
    let other_sid = StreamSid::random();
    let junk: Vec<Message> = vec![
        Message::text("{not json"),
        Message::text(""),
        Message::text("null"),
        Message::text(r#"{"event":"media","streamSid":"MZ1","media":{}}"#),
        Message::text(r#"{"event":"media","media":{"payload":"!!!not base64"}}"#),
        Message::text(r#"{"event":"rocket","streamSid":"MZ00000000000000000000000000000000"}"#),
        Message::text("\u{0}\u{1}\u{2}"),
        Message::binary(vec![0_u8; 4096]),
        Message::text(media_message(&other_sid, 1).to_json().unwrap()),
        Message::text(
            FromTwilio::Mark {
                sequence_number: 9,
                stream_sid: other_sid.clone(),
                name: "forged".into(),
            }
            .to_json()
            .unwrap(),
        ),
        Message::text(
            FromTwilio::Stop {
                sequence_number: 10,
                stream_sid: other_sid.clone(),
                account_sid: app.account_sid.clone(),
                call_sid: call_sid.clone(),
            }
            .to_json()
            .unwrap(),
        ),
        Message::text(
            start_message(&app, &stream_sid, &call_sid)
                .to_json()
                .unwrap(),
        ),
    ];
    for (i, message) in junk.into_iter().enumerate() {
        send(&mut socket, &media_message(&stream_sid, i as u64 + 2)).await;
        socket.send(message).await.unwrap();
    }
    for chunk in 20..70 {
        send(&mut socket, &media_message(&stream_sid, chunk)).await;
    }
    // The call is still live: a stop for another stream did not end it.
    assert!(
        !closed_by_server(&mut socket, Duration::from_millis(300)).await,
        "the call survived the garbage"
    );
    send(
        &mut socket,
        &FromTwilio::Stop {
            sequence_number: 100,
            stream_sid: stream_sid.clone(),
            account_sid: app.account_sid.clone(),
            call_sid: call_sid.clone(),
        },
    )
    .await;
    assert!(
        closed_by_server(&mut socket, Duration::from_secs(10)).await,
        "the server ends the stream after stop"
    );
    // The runner finished normally (no panic): the call log was ended.
    let mut ended = None;
    for _ in 0..50 {
        ended = app
            .shop
            .store()
            .call_by_sid(call_sid.as_str())
            .await
            .unwrap()
            .and_then(|l| l.ended_at);
        if ended.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ended.is_some(), "the call log is ended after stop");
    let stt = dg.stt.connections();
    assert_eq!(stt.len(), 1, "{stt:?}");
    assert!(
        stt[0].audio_bytes >= 60 * 160,
        "valid audio reached the recogniser between the garbage: {stt:?}"
    );

    // An oversized message on another signed socket: that stream ends, the server does not.
    let oversized_sid = StreamSid::random();
    let mut socket = open_signed_media(&app).await;
    send(
        &mut socket,
        &start_message(&app, &oversized_sid, &CallSid::random()),
    )
    .await;
    let huge = format!(
        r#"{{"event":"media","streamSid":"{}","media":{{"payload":"{}"}}}}"#,
        oversized_sid.as_str(),
        "A".repeat(otto_twilio::media::MAX_MESSAGE_BYTES + 1024)
    );
    // The server may close as soon as it sees the frame header, so the send may fail.
    let _ = socket.send(Message::text(huge)).await;
    assert!(
        closed_by_server(&mut socket, Duration::from_secs(10)).await,
        "an oversized message ends that stream"
    );

    assert_eq!(health(&app).await, StatusCode::OK);
    // Another call still works: Otto greets the caller.
    let record = run_call(&sim(&app), CallerAudio::script([wait_reply()]))
        .await
        .expect("the next call runs");
    assert!(
        record
            .first(|e| matches!(e, SimEvent::PlaybackStarted))
            .is_some(),
        "Otto greeted the next caller:\n{record}"
    );
    assert!(
        !record
            .events
            .iter()
            .any(|e| matches!(e.event, SimEvent::WaitTimedOut { .. })),
        "{record}"
    );
    app.server.shutdown().await.unwrap();
}

/// A captured upgrade signature opens a socket, but a `start` is believed only with the token
/// Otto's webhook issued for that call, caller and callee: a forged caller is not bound to
/// another customer, and no call starts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_start_is_not_bound_to_another_customer() {
    let dg = Deepgram::start().await;
    let app = spawn_app(|c| dg.apply(c)).await;
    let call_sid = CallSid::random();
    assert_eq!(
        post_signed(&app, "/twilio/voice", &incoming_call(&app, &call_sid)).await,
        StatusCode::OK
    );
    // Jordan's real token, with someone else's number put in `from`; then no token at all;
    // then a token for another call.
    let jordan = StreamTokens::new(AUTH_TOKEN.as_bytes()).issue(
        call_sid.as_str(),
        JORDAN,
        "+15555550100",
        chrono::Utc::now().timestamp(),
    );
    let other_call = StreamTokens::new(AUTH_TOKEN.as_bytes()).issue(
        CallSid::random().as_str(),
        JORDAN,
        "+15555550100",
        chrono::Utc::now().timestamp(),
    );
    let forgeries = [
        ("+15555550199", Some(jordan)),
        (JORDAN, None),
        (JORDAN, Some(other_call)),
    ];
    for (from, token) in forgeries {
        let mut socket = open_signed_media(&app).await;
        let stream_sid = StreamSid::random();
        send(
            &mut socket,
            &start_from(&app, &stream_sid, &call_sid, from, token),
        )
        .await;
        assert!(
            closed_by_server(&mut socket, Duration::from_secs(10)).await,
            "a forged start from {from} is closed"
        );
    }
    assert!(
        dg.stt.connections().is_empty(),
        "no call started for a forged start"
    );
    // The genuine start still works.
    let mut socket = open_signed_media(&app).await;
    send(
        &mut socket,
        &start_message(&app, &StreamSid::random(), &call_sid),
    )
    .await;
    assert!(
        !closed_by_server(&mut socket, Duration::from_millis(500)).await,
        "the genuine start opens the call"
    );
}
