//! Fake Deepgram servers (`shared/protocols/deepgram.md`, README "Fake Deepgram STT/TTS") on
//! `127.0.0.1:0`:
//!
//! - [`FakeDeepgramStt`]: the live STT WebSocket `GET /v1/listen`. It checks
//!   `Authorization: Token <key>` (else HTTP 401 with `deepgram-handshake-401.json`), requires
//!   `encoding=mulaw&sample_rate=8000` (else 400), answers the upgrade with `dg-request-id`,
//!   and transcribes by script: each burst of non-silent μ-law audio followed by `endpointing`
//!   ms of silence (query parameter, default 10) yields the next queued utterance as
//!   `Results` interim → final → final with `speech_final` (with
//!   [`FakeDeepgramStt::send_interims_while_speaking`], also an interim with the first word
//!   after 250 ms of speech), preceded by `SpeechStarted` when
//!   `vad_events=true` and followed by `UtteranceEnd` when `utterance_end_ms` is set. Times
//!   are audio time of the connection (8 bytes per ms). `Finalize` finalises speech in
//!   progress (`from_finalize: true`); `CloseStream` finalises, sends `Metadata` and closes
//!   1000; no audio and no text for the idle timeout (default 10 s) sends `Metadata` and closes
//!   1011 with the NET-0001 reason of `deepgram-listen-close-net0001.txt`.
//! - [`FakeDeepgramTts`]: the streaming TTS WebSocket `GET /v1/speak` and REST
//!   `POST /v1/speak`. The socket sends `deepgram-speak-metadata.json` on connect, buffers
//!   `Speak` text, on `Flush` emits μ-law audio (a 1 kHz square wave, `bytes_per_char` bytes
//!   per character, in 250-byte frames after a first-byte delay) then `Flushed`; `Clear` stops
//!   and answers `Cleared`; the 21st flush within 60 s (limit settable) gets the `Warning` of
//!   `deepgram-speak-warning.json` and is ignored; `Close` finishes and closes 1000. REST
//!   answers the same audio with the headers of `deepgram-speak-rest-response-headers.txt`.
//!
//! Tests script failures (refused upgrades, dropped sockets, REST statuses) and inspect what
//! the fakes received. Nothing here contacts a non-loopback address.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::SinkExt;
use serde_json::{Value, json};
use tokio::time::{Instant, sleep, sleep_until, timeout};

use crate::fixtures;
use crate::server::{Running, serve};

/// Read buffer per socket, bytes (tungstenite zero-fills the whole buffer before each read;
/// its 128 KiB default made the fakes' CPU dominate the call benchmark).
const READ_BUFFER_BYTES: usize = 8 * 1024;

/// Locks a fake's state; a poisoned lock (a panicking test thread) still yields the data.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A request id in UUID shape, distinct per `n`.
fn request_id(n: u64) -> String {
    format!("00000000-0000-4000-8000-{n:012x}")
}

/// 401 with `deepgram-handshake-401.json` and the `dg-request-id` / `dg-error` headers.
fn unauthorized(n: u64) -> Response {
    error_response(
        StatusCode::UNAUTHORIZED,
        fixtures::bytes("deepgram-handshake-401.json"),
        n,
    )
}

fn bad_request(message: &str, n: u64) -> Response {
    let body = json!({"err_code": "Bad Request", "err_msg": message, "request_id": request_id(n)});
    error_response(StatusCode::BAD_REQUEST, body.to_string().into_bytes(), n)
}

fn error_response(status: StatusCode, body: Vec<u8>, n: u64) -> Response {
    let message = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v["err_msg"].as_str().map(str::to_owned))
        .unwrap_or_default();
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    if let Ok(v) = HeaderValue::from_str(&request_id(n)) {
        headers.insert("dg-request-id", v);
    }
    if let Ok(v) = HeaderValue::from_str(&message) {
        headers.insert("dg-error", v);
    }
    response
}

fn authorized(headers: &HeaderMap, key: &str) -> bool {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == format!("Token {key}"))
}

fn with_request_id(mut response: Response, n: u64) -> Response {
    if let Ok(v) = HeaderValue::from_str(&request_id(n)) {
        response.headers_mut().insert("dg-request-id", v);
    }
    response
}

/// Whether a μ-law chunk holds sound: any sample louder than about -40 dBFS.
fn is_loud(mulaw: &[u8]) -> bool {
    mulaw
        .iter()
        .any(|&b| otto_core::speech::mulaw::decode(b).unsigned_abs() > 300)
}

// ───────────────────────────── live STT ─────────────────────────────

/// What the STT fake saw on one `/v1/listen` connection.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListenConnection {
    /// The raw query string of the upgrade request.
    pub query: String,
    /// Audio bytes received.
    pub audio_bytes: usize,
    /// Text frames received, in order (e.g. `{"type":"KeepAlive"}`).
    pub text_messages: Vec<String>,
    /// How the fake ended it: `"close-stream"`, `"net0001"`, `"dropped"`, `"client"`.
    pub ended: Option<&'static str>,
}

struct SttState {
    api_key: String,
    utterances: VecDeque<String>,
    /// When set, every connection transcribes its own copy of this script instead of taking
    /// from `utterances`.
    script: Option<Vec<String>>,
    response_delay: Duration,
    /// Send an interim with the first word after [`EARLY_INTERIM_MS`] of speech.
    early_interims: bool,
    idle_timeout: Duration,
    idle_once: Option<Duration>,
    /// (connections left to drop, audio bytes after which each is dropped)
    drops: (usize, usize),
    inject: Vec<Message>,
    connections: Vec<ListenConnection>,
    refused: u64,
    /// Connections accepted at most; later upgrades get 503 (Deepgram unavailable).
    accept_limit: Option<usize>,
}

/// A fake Deepgram live STT server; see the module docs. Stops when dropped.
pub struct FakeDeepgramStt {
    running: Running,
    state: Arc<Mutex<SttState>>,
}

impl FakeDeepgramStt {
    /// Starts the fake accepting `api_key`, with no utterances queued, no response delay and
    /// the real 10 s idle timeout.
    pub async fn start(api_key: &str) -> Self {
        let state = Arc::new(Mutex::new(SttState {
            api_key: api_key.to_owned(),
            utterances: VecDeque::new(),
            script: None,
            response_delay: Duration::ZERO,
            early_interims: false,
            idle_timeout: Duration::from_secs(10),
            idle_once: None,
            drops: (0, 0),
            inject: Vec::new(),
            connections: Vec::new(),
            refused: 0,
            accept_limit: None,
        }));
        let router = Router::new()
            .route("/v1/listen", get(listen))
            .with_state(state.clone());
        Self {
            running: serve(router).await,
            state,
        }
    }

    /// `ws://127.0.0.1:<port>/v1/listen`, for `DeepgramConfig::listen_url`.
    pub fn listen_url(&self) -> String {
        format!("ws://{}/v1/listen", self.running.addr)
    }

    /// Queues the transcript of the next utterance (one per burst of speech).
    pub fn push_utterance(&self, text: &str) {
        lock(&self.state).utterances.push_back(text.to_owned());
    }

    /// Every connection opened from now on transcribes its own copy of `script`, one line per
    /// burst of speech (for many concurrent calls each saying the same things); the shared
    /// queue of [`FakeDeepgramStt::push_utterance`] is then not used. A reconnecting call
    /// starts the script again.
    pub fn script_each_connection(&self, script: &[&str]) {
        lock(&self.state).script = Some(script.iter().map(|l| (*l).to_owned()).collect());
    }

    /// Connections opened from now on also send, after 250 ms of a burst of speech, an interim
    /// `Results` with the first word of its utterance while the speaker still talks, as
    /// Deepgram does (off by default, so the plain sequence is easy to assert).
    pub fn send_interims_while_speaking(&self) {
        lock(&self.state).early_interims = true;
    }

    /// Waits this long before sending the results of an utterance.
    pub fn set_response_delay(&self, delay: Duration) {
        lock(&self.state).response_delay = delay;
    }

    /// Connections opened from now on close 1011 NET-0001 after this long without audio or
    /// text (default 10 s).
    pub fn set_idle_timeout(&self, idle: Duration) {
        lock(&self.state).idle_timeout = idle;
    }

    /// Only the next connection gets this idle timeout; later ones the default.
    pub fn idle_close_next_connection(&self, idle: Duration) {
        lock(&self.state).idle_once = Some(idle);
    }

    /// The next `count` connections are each dropped (no close frame) once they have
    /// received `bytes` of audio.
    pub fn drop_connections_after(&self, count: usize, bytes: usize) {
        lock(&self.state).drops = (count, bytes);
    }

    /// Accepts `count` connections in all; later ones are refused with 503, as when Deepgram
    /// is down (with [`Self::drop_connections_after`]: a socket lost mid-call for good).
    pub fn accept_only(&self, count: usize) {
        lock(&self.state).accept_limit = Some(count);
    }

    /// Text frames sent at the start of every connection (e.g. malformed messages).
    pub fn inject_on_connect(&self, frames: &[&str]) {
        lock(&self.state).inject = frames.iter().map(|f| Message::text(*f)).collect();
    }

    /// Every accepted connection so far, in order.
    pub fn connections(&self) -> Vec<ListenConnection> {
        lock(&self.state).connections.clone()
    }

    /// Upgrades refused (bad key or bad query).
    pub fn refused(&self) -> u64 {
        lock(&self.state).refused
    }
}

async fn listen(
    State(state): State<Arc<Mutex<SttState>>>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
    ws: WebSocketUpgrade,
) -> Response {
    let (n, setup) = {
        let mut s = lock(&state);
        let n = (s.connections.len() as u64) + s.refused + 1;
        if !authorized(&headers, &s.api_key) {
            s.refused += 1;
            return unauthorized(n);
        }
        if s.accept_limit
            .is_some_and(|limit| s.connections.len() >= limit)
        {
            s.refused += 1;
            let body = json!({"err_code": "SERVICE_UNAVAILABLE", "err_msg": "unavailable", "request_id": request_id(n)});
            return error_response(
                StatusCode::SERVICE_UNAVAILABLE,
                body.to_string().into_bytes(),
                n,
            );
        }
        if params.get("encoding").map(String::as_str) != Some("mulaw")
            || params.get("sample_rate").map(String::as_str) != Some("8000")
        {
            s.refused += 1;
            return bad_request("this fake needs encoding=mulaw&sample_rate=8000", n);
        }
        let query = {
            let mut pairs: Vec<_> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
            pairs.sort();
            pairs.join("&")
        };
        s.connections.push(ListenConnection {
            query,
            ..ListenConnection::default()
        });
        let setup = ListenSetup {
            index: s.connections.len() - 1,
            request_id: request_id(n),
            drop_after: match s.drops {
                (0, _) => None,
                (left, bytes) => {
                    s.drops = (left - 1, bytes);
                    Some(bytes)
                }
            },
            idle: s.idle_once.take().unwrap_or(s.idle_timeout),
            early_interims: s.early_interims,
            inject: s.inject.clone(),
            script: s.script.clone().map(VecDeque::from),
            endpointing_ms: params
                .get("endpointing")
                .and_then(|v| v.parse().ok())
                .unwrap_or(10),
            vad_events: params.get("vad_events").map(String::as_str) == Some("true"),
            utterance_end: params.contains_key("utterance_end_ms"),
        };
        (n, setup)
    };
    let response = ws
        .read_buffer_size(READ_BUFFER_BYTES)
        .on_upgrade(move |socket| ListenSession::new(state, setup).run(socket));
    with_request_id(response, n)
}

struct ListenSetup {
    index: usize,
    request_id: String,
    drop_after: Option<usize>,
    idle: Duration,
    inject: Vec<Message>,
    /// This connection's own script (see `script_each_connection`).
    script: Option<VecDeque<String>>,
    endpointing_ms: u64,
    vad_events: bool,
    utterance_end: bool,
    early_interims: bool,
}

struct ListenSession {
    state: Arc<Mutex<SttState>>,
    setup: ListenSetup,
    bytes: usize,
    /// Audio ms where the current burst of speech started, while speaking.
    speech_start_ms: Option<u64>,
    /// Audio ms where the last loud chunk ended.
    last_loud_end_ms: u64,
    /// The early interim of the current burst has been sent.
    early_interim_sent: bool,
}

/// Speech after which the fake sends an interim with the utterance's first word, ms (Deepgram
/// sends interim results while the speaker talks, well under a second apart).
const EARLY_INTERIM_MS: u64 = 250;

impl ListenSession {
    fn new(state: Arc<Mutex<SttState>>, setup: ListenSetup) -> Self {
        Self {
            state,
            setup,
            bytes: 0,
            speech_start_ms: None,
            last_loud_end_ms: 0,
            early_interim_sent: false,
        }
    }

    fn record(&self, f: impl FnOnce(&mut ListenConnection)) {
        if let Some(c) = lock(&self.state).connections.get_mut(self.setup.index) {
            f(c);
        }
    }

    fn now_ms(&self) -> u64 {
        self.bytes as u64 / 8
    }

    async fn run(mut self, mut socket: WebSocket) {
        for frame in std::mem::take(&mut self.setup.inject) {
            if socket.send(frame).await.is_err() {
                return;
            }
        }
        loop {
            let message = match timeout(self.setup.idle, socket.recv()).await {
                Err(_) => {
                    let reason = fixture_close_reason();
                    let _ = socket.send(Message::text(self.metadata())).await;
                    let _ = socket
                        .send(Message::Close(Some(CloseFrame {
                            code: 1011,
                            reason: reason.into(),
                        })))
                        .await;
                    self.record(|c| c.ended = Some("net0001"));
                    return;
                }
                Ok(Some(Ok(m))) => m,
                Ok(_) => {
                    self.record(|c| c.ended = Some("client"));
                    return;
                }
            };
            match message {
                Message::Binary(audio) => {
                    let before_ms = self.now_ms();
                    self.bytes += audio.len();
                    let total = self.bytes;
                    self.record(|c| c.audio_bytes = total);
                    if self.setup.drop_after.is_some_and(|limit| total >= limit) {
                        self.record(|c| c.ended = Some("dropped"));
                        return; // dropping the socket: no close frame
                    }
                    if !self.on_audio(&mut socket, &audio, before_ms).await {
                        return;
                    }
                }
                Message::Text(text) => {
                    let text = text.as_str().to_owned();
                    self.record(|c| c.text_messages.push(text.clone()));
                    let kind = serde_json::from_str::<Value>(&text)
                        .ok()
                        .and_then(|v| v["type"].as_str().map(str::to_owned));
                    match kind.as_deref() {
                        Some("Finalize") => {
                            if !self.finalize(&mut socket).await {
                                return;
                            }
                        }
                        Some("CloseStream") => {
                            self.finalize(&mut socket).await;
                            let _ = socket.send(Message::text(self.metadata())).await;
                            let _ = socket
                                .send(Message::Close(Some(CloseFrame {
                                    code: 1000,
                                    reason: "".into(),
                                })))
                                .await;
                            self.record(|c| c.ended = Some("close-stream"));
                            return;
                        }
                        Some("KeepAlive") => {}
                        _ => {
                            let error = json!({"type": "Error", "variant": "SchemaError",
                                "description": "request schema is invalid", "message": text});
                            if socket.send(Message::text(error.to_string())).await.is_err() {
                                return;
                            }
                        }
                    }
                }
                Message::Close(_) => {
                    self.record(|c| c.ended = Some("client"));
                    return;
                }
                Message::Ping(_) | Message::Pong(_) => {}
            }
        }
    }

    /// Follows speech and silence; `false` when the socket failed.
    async fn on_audio(&mut self, socket: &mut WebSocket, audio: &[u8], before_ms: u64) -> bool {
        let now_ms = self.now_ms();
        if is_loud(audio) {
            if self.speech_start_ms.is_none() {
                self.speech_start_ms = Some(before_ms);
                self.early_interim_sent = false;
                if self.setup.vad_events {
                    let started = json!({"type": "SpeechStarted", "channel": [0],
                        "timestamp": before_ms as f64 / 1000.0});
                    if socket
                        .send(Message::text(started.to_string()))
                        .await
                        .is_err()
                    {
                        return false;
                    }
                }
            }
            self.last_loud_end_ms = now_ms;
            if let Some(start) = self.speech_start_ms
                && self.setup.early_interims
                && !self.early_interim_sent
                && now_ms >= start + EARLY_INTERIM_MS
            {
                self.early_interim_sent = true;
                let next = match self.setup.script.as_ref() {
                    Some(script) => script.front().cloned(),
                    None => lock(&self.state).utterances.front().cloned(),
                };
                if let Some(first) = next.as_deref().and_then(|t| t.split_whitespace().next()) {
                    let interim = self.results(&[first], start, now_ms, false, false, false);
                    if socket.send(Message::text(interim)).await.is_err() {
                        return false;
                    }
                }
            }
            return true;
        }
        match self.speech_start_ms {
            Some(start) if now_ms - self.last_loud_end_ms >= self.setup.endpointing_ms => {
                self.speech_start_ms = None;
                self.utterance(socket, start, false).await
            }
            _ => true,
        }
    }

    /// Finalises speech in progress, or sends an empty `from_finalize` final.
    async fn finalize(&mut self, socket: &mut WebSocket) -> bool {
        match self.speech_start_ms.take() {
            Some(start) => {
                self.last_loud_end_ms = self.now_ms();
                self.utterance(socket, start, true).await
            }
            None => {
                let at = self.now_ms();
                let empty = self.results(&[], at, at, true, true, true);
                socket.send(Message::text(empty)).await.is_ok()
            }
        }
    }

    /// Sends the next scripted utterance spoken from `start_ms` to the last loud audio.
    async fn utterance(&mut self, socket: &mut WebSocket, start_ms: u64, finalize: bool) -> bool {
        let (text, delay) = {
            let mut s = lock(&self.state);
            let next = match self.setup.script.as_mut() {
                Some(script) => script.pop_front(),
                None => s.utterances.pop_front(),
            };
            (next.unwrap_or_default(), s.response_delay)
        };
        if !delay.is_zero() {
            sleep(delay).await;
        }
        let end_ms = self.last_loud_end_ms.max(start_ms);
        let words: Vec<&str> = text.split_whitespace().collect();
        let mut frames = Vec::new();
        if finalize {
            frames.push(self.results(&words, start_ms, end_ms, true, false, true));
        } else {
            let half = words.len() / 2;
            let mid_ms = start_ms + (end_ms - start_ms) * half as u64 / words.len().max(1) as u64;
            if half > 0 {
                frames.push(self.results(&words[..half], start_ms, mid_ms, false, false, false));
                frames.push(self.results(&words[..half], start_ms, mid_ms, true, false, false));
            }
            frames.push(self.results(&words[half..], mid_ms, end_ms, true, true, false));
            if self.setup.utterance_end && !words.is_empty() {
                let end = json!({"type": "UtteranceEnd", "channel": [0, 1],
                    "last_word_end": end_ms as f64 / 1000.0});
                frames.push(end.to_string());
            }
        }
        for frame in frames {
            if socket.send(Message::text(frame)).await.is_err() {
                return false;
            }
        }
        true
    }

    /// A `Results` message in the shape of the `deepgram-listen-results-*` fixtures, with
    /// `words` spread evenly over `start_ms..end_ms`.
    fn results(
        &self,
        words: &[&str],
        start_ms: u64,
        end_ms: u64,
        is_final: bool,
        speech_final: bool,
        from_finalize: bool,
    ) -> String {
        let span = (end_ms - start_ms) as f64 / 1000.0;
        let start = start_ms as f64 / 1000.0;
        let each = span / words.len().max(1) as f64;
        let word_list: Vec<Value> = words
            .iter()
            .enumerate()
            .map(|(i, w)| {
                let bare: String = w
                    .chars()
                    .filter(|c| c.is_alphanumeric() || *c == '\'')
                    .collect::<String>()
                    .to_lowercase();
                json!({"word": bare, "start": start + each * i as f64,
                    "end": start + each * (i + 1) as f64, "confidence": 0.99,
                    "punctuated_word": w})
            })
            .collect();
        json!({
            "type": "Results",
            "channel_index": [0, 1],
            "duration": span,
            "start": start,
            "is_final": is_final,
            "speech_final": speech_final,
            "channel": {"alternatives": [{
                "transcript": words.join(" "),
                "confidence": if words.is_empty() { 0.0 } else { 0.99 },
                "words": word_list,
            }]},
            "metadata": {
                "request_id": self.setup.request_id,
                "model_info": {"name": "2-phonecall-nova", "version": "2024-02-07.20824", "arch": "nova-2"},
                "model_uuid": "7e3b5bdf-85ed-4fd2-9f7a-7721bbcad97b",
            },
            "from_finalize": from_finalize,
        })
        .to_string()
    }

    /// The end-of-stream `Metadata` (`deepgram-listen-metadata.json` with this session's id and
    /// duration).
    fn metadata(&self) -> String {
        let mut m = fixtures::json("deepgram-listen-metadata.json");
        m["request_id"] = json!(self.setup.request_id);
        m["duration"] = json!(self.bytes as f64 / 8000.0);
        m.to_string()
    }
}

/// The NET-0001 close reason from `deepgram-listen-close-net0001.txt`.
fn fixture_close_reason() -> String {
    fixtures::text("deepgram-listen-close-net0001.txt")
        .lines()
        .find_map(|l| l.strip_prefix("close_reason="))
        .unwrap_or("NET-0001")
        .to_owned()
}

// ───────────────────────────── TTS ─────────────────────────────

/// What the TTS fake received over REST.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpeakRestRequest {
    /// The raw query string.
    pub query: String,
    /// The `text` of the JSON body.
    pub text: String,
}

struct TtsState {
    api_key: String,
    bytes_per_char: usize,
    first_byte_delay: Duration,
    chunk_delay: Duration,
    refuse_ws: Option<u16>,
    drop_ws_at_flush: Option<usize>,
    rest_failures: VecDeque<u16>,
    flush_limit: usize,
    inject: Vec<Message>,
    /// Text frames received per socket, in order of connection.
    ws_messages: Vec<Vec<String>>,
    rest_requests: Vec<SpeakRestRequest>,
    served: u64,
}

/// A fake Deepgram TTS server (WebSocket and REST); see the module docs. Stops when dropped.
pub struct FakeDeepgramTts {
    running: Running,
    state: Arc<Mutex<TtsState>>,
}

/// Bytes per WebSocket audio frame: deliberately not a multiple of 160.
const TTS_FRAME_BYTES: usize = 250;
/// One period of a 1 kHz square wave at 8 kHz in μ-law (±about 1/4 full scale).
const SQUARE_WAVE: [u8; 8] = [0x1F, 0x1F, 0x1F, 0x1F, 0x9F, 0x9F, 0x9F, 0x9F];

impl FakeDeepgramTts {
    /// Starts the fake accepting `api_key`: 80 bytes (10 ms) of audio per character, no delays.
    pub async fn start(api_key: &str) -> Self {
        let state = Arc::new(Mutex::new(TtsState {
            api_key: api_key.to_owned(),
            bytes_per_char: 80,
            first_byte_delay: Duration::ZERO,
            chunk_delay: Duration::ZERO,
            refuse_ws: None,
            drop_ws_at_flush: None,
            rest_failures: VecDeque::new(),
            flush_limit: 20,
            inject: Vec::new(),
            ws_messages: Vec::new(),
            rest_requests: Vec::new(),
            served: 0,
        }));
        let router = Router::new()
            .route("/v1/speak", get(speak_ws).post(speak_rest))
            .with_state(state.clone());
        Self {
            running: serve(router).await,
            state,
        }
    }

    /// `ws://127.0.0.1:<port>/v1/speak`, for `DeepgramConfig::speak_ws_url`.
    pub fn ws_url(&self) -> String {
        format!("ws://{}/v1/speak", self.running.addr)
    }

    /// `http://127.0.0.1:<port>/v1/speak`, for `DeepgramConfig::speak_rest_url`.
    pub fn rest_url(&self) -> String {
        format!("http://{}/v1/speak", self.running.addr)
    }

    /// The audio bytes synthesised for `text` (what a flush or a REST request yields).
    pub fn audio_len(&self, text: &str) -> usize {
        text.chars().count() * lock(&self.state).bytes_per_char
    }

    /// Audio bytes per character (default 80, i.e. 10 ms).
    pub fn set_bytes_per_char(&self, bytes: usize) {
        lock(&self.state).bytes_per_char = bytes.max(1);
    }

    /// Delay before the first audio of each flush or REST answer.
    pub fn set_first_byte_delay(&self, delay: Duration) {
        lock(&self.state).first_byte_delay = delay;
    }

    /// Delay between two 250-byte WebSocket frames (lets a `Clear` interrupt synthesis).
    pub fn set_chunk_delay(&self, delay: Duration) {
        lock(&self.state).chunk_delay = delay;
    }

    /// Refuses WebSocket upgrades with this HTTP status (`None`: accept).
    pub fn refuse_ws(&self, status: Option<u16>) {
        lock(&self.state).refuse_ws = status;
    }

    /// The next socket is dropped (no close frame) when its `n`-th `Flush` (1-based) arrives.
    pub fn drop_ws_at_flush(&self, n: usize) {
        lock(&self.state).drop_ws_at_flush = Some(n);
    }

    /// Text frames (e.g. malformed messages), then `stray_audio_bytes` of binary audio that
    /// belongs to no flush (none when 0), sent on every socket right after `Metadata`.
    pub fn inject_on_connect(&self, texts: &[&str], stray_audio_bytes: usize) {
        let mut frames: Vec<Message> = texts.iter().map(|t| Message::text(*t)).collect();
        if stray_audio_bytes > 0 {
            frames.push(Message::Binary(Bytes::from(synth_bytes(stray_audio_bytes))));
        }
        lock(&self.state).inject = frames;
    }

    /// Flushes accepted per socket per 60 s before the `EXCESSIVE_FLUSH` warning (default 20,
    /// Deepgram's limit).
    pub fn set_flush_limit(&self, per_minute: usize) {
        lock(&self.state).flush_limit = per_minute;
    }

    /// The next REST request is answered with this status and a Deepgram error body.
    pub fn fail_next_rest(&self, status: u16) {
        lock(&self.state).rest_failures.push_back(status);
    }

    /// Text frames received on each accepted socket, in order.
    pub fn ws_messages(&self) -> Vec<Vec<String>> {
        lock(&self.state).ws_messages.clone()
    }

    /// REST requests that passed authentication.
    pub fn rest_requests(&self) -> Vec<SpeakRestRequest> {
        lock(&self.state).rest_requests.clone()
    }
}

fn synth(text: &str, bytes_per_char: usize) -> Vec<u8> {
    synth_bytes(text.chars().count() * bytes_per_char)
}

/// `len` bytes of the square wave.
fn synth_bytes(len: usize) -> Vec<u8> {
    SQUARE_WAVE.iter().copied().cycle().take(len).collect()
}

async fn speak_ws(
    State(state): State<Arc<Mutex<TtsState>>>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
    ws: WebSocketUpgrade,
) -> Response {
    let (n, index, drop_at, inject) = {
        let mut s = lock(&state);
        s.served += 1;
        let n = s.served;
        if let Some(status) = s.refuse_ws {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            let body = json!({"err_code": "UNAVAILABLE", "err_msg": "scripted refusal"});
            return error_response(status, body.to_string().into_bytes(), n);
        }
        if !authorized(&headers, &s.api_key) {
            return unauthorized(n);
        }
        if params.get("encoding").map(String::as_str) != Some("mulaw") {
            return bad_request("this fake needs encoding=mulaw", n);
        }
        s.ws_messages.push(Vec::new());
        let index = s.ws_messages.len() - 1;
        (n, index, s.drop_ws_at_flush.take(), s.inject.clone())
    };
    let session = SpeakSession {
        state,
        index,
        drop_at,
        inject,
        request_id: request_id(n),
    };
    let response = ws
        .read_buffer_size(READ_BUFFER_BYTES)
        .on_upgrade(move |socket| session.run(socket));
    with_request_id(response, n)
}

struct SpeakSession {
    state: Arc<Mutex<TtsState>>,
    index: usize,
    drop_at: Option<usize>,
    inject: Vec<Message>,
    request_id: String,
}

impl SpeakSession {
    async fn run(self, mut socket: WebSocket) {
        let mut metadata = fixtures::json("deepgram-speak-metadata.json");
        metadata["request_id"] = json!(self.request_id);
        if socket
            .send(Message::text(metadata.to_string()))
            .await
            .is_err()
        {
            return;
        }
        for frame in self.inject.clone() {
            if socket.send(frame).await.is_err() {
                return;
            }
        }
        let mut buffer = String::new();
        let mut jobs: VecDeque<(Vec<u8>, usize)> = VecDeque::new(); // (audio, bytes sent)
        let mut flush_times: VecDeque<Instant> = VecDeque::new();
        let mut flushes = 0usize;
        let mut sequence_id = 0u64;
        let mut next_at = Instant::now();
        let mut closing = false;
        loop {
            if closing && jobs.is_empty() {
                let frame = CloseFrame {
                    code: 1000,
                    reason: "".into(),
                };
                let _ = socket.send(Message::Close(Some(frame))).await;
                return;
            }
            tokio::select! {
                biased;
                message = socket.recv() => {
                    let text = match message {
                        Some(Ok(Message::Text(text))) => text.as_str().to_owned(),
                        Some(Ok(Message::Binary(_) | Message::Ping(_) | Message::Pong(_))) => continue,
                        Some(Ok(Message::Close(_)) | Err(_)) | None => return,
                    };
                    if let Some(m) = lock(&self.state).ws_messages.get_mut(self.index) {
                        m.push(text.clone());
                    }
                    let parsed: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                    let (bytes_per_char, first_delay) = {
                        let s = lock(&self.state);
                        (s.bytes_per_char, s.first_byte_delay)
                    };
                    match parsed["type"].as_str() {
                        Some("Speak") => buffer.push_str(parsed["text"].as_str().unwrap_or_default()),
                        Some("Flush") => {
                            flushes += 1;
                            if self.drop_at == Some(flushes) {
                                return;
                            }
                            let now = Instant::now();
                            while flush_times.front().is_some_and(|t| now - *t >= Duration::from_secs(60)) {
                                flush_times.pop_front();
                            }
                            if flush_times.len() >= lock(&self.state).flush_limit {
                                let warning = fixtures::text("deepgram-speak-warning.json");
                                if socket.send(Message::text(warning)).await.is_err() { return; }
                                continue;
                            }
                            flush_times.push_back(now);
                            if jobs.is_empty() {
                                next_at = now + first_delay;
                            }
                            jobs.push_back((synth(&std::mem::take(&mut buffer), bytes_per_char), 0));
                        }
                        Some("Clear") => {
                            buffer.clear();
                            jobs.clear();
                            let cleared = json!({"type": "Cleared", "sequence_id": sequence_id});
                            sequence_id += 1;
                            if socket.send(Message::text(cleared.to_string())).await.is_err() { return; }
                        }
                        Some("Close") => closing = true,
                        _ => {}
                    }
                }
                _ = sleep_until(next_at), if !jobs.is_empty() => {
                    let (first_delay, chunk_delay) = {
                        let s = lock(&self.state);
                        (s.first_byte_delay, s.chunk_delay)
                    };
                    let Some((audio, sent)) = jobs.front_mut() else { continue };
                    if *sent < audio.len() {
                        // Without a chunk delay the rest of the job goes out at once, flushed once.
                        loop {
                            let end = (*sent + TTS_FRAME_BYTES).min(audio.len());
                            let frame = Bytes::copy_from_slice(&audio[*sent..end]);
                            *sent = end;
                            if socket.feed(Message::Binary(frame)).await.is_err() { return; }
                            if !chunk_delay.is_zero() || *sent == audio.len() { break; }
                        }
                        if socket.flush().await.is_err() { return; }
                        next_at = Instant::now() + chunk_delay;
                    } else {
                        jobs.pop_front();
                        let flushed = json!({"type": "Flushed", "sequence_id": sequence_id});
                        sequence_id += 1;
                        if socket.send(Message::text(flushed.to_string())).await.is_err() { return; }
                        next_at = Instant::now() + first_delay;
                    }
                }
            }
        }
    }
}

async fn speak_rest(
    State(state): State<Arc<Mutex<TtsState>>>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    let (n, failure, bytes_per_char, delay) = {
        let mut s = lock(&state);
        s.served += 1;
        let n = s.served;
        if !authorized(&headers, &s.api_key) {
            return unauthorized(n);
        }
        (
            n,
            s.rest_failures.pop_front(),
            s.bytes_per_char,
            s.first_byte_delay,
        )
    };
    let text = match serde_json::from_slice::<Value>(&body) {
        Ok(v) => v["text"].as_str().map(str::to_owned),
        Err(_) => None,
    };
    let Some(text) = text else {
        let body = fixtures::bytes("deepgram-rest-error-400-category.json");
        return error_response(StatusCode::BAD_REQUEST, body, n);
    };
    let query = {
        let mut pairs: Vec<_> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
        pairs.sort();
        pairs.join("&")
    };
    lock(&state).rest_requests.push(SpeakRestRequest {
        query,
        text: text.clone(),
    });
    if let Some(status) = failure {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = json!({"err_code": "SCRIPTED", "err_msg": "scripted failure", "request_id": request_id(n)});
        return error_response(status, body.to_string().into_bytes(), n);
    }
    if params.get("container").map(String::as_str) != Some("none")
        || params.get("encoding").map(String::as_str) != Some("mulaw")
    {
        return bad_request("this fake needs encoding=mulaw&container=none", n);
    }
    if text.chars().count() > 2000 {
        let body =
            json!({"err_code": "PAYLOAD_TOO_LARGE", "err_msg": "text longer than 2000 characters"});
        return error_response(
            StatusCode::PAYLOAD_TOO_LARGE,
            body.to_string().into_bytes(),
            n,
        );
    }
    if !delay.is_zero() {
        sleep(delay).await;
    }
    let mut response = Response::new(Body::from(synth(&text, bytes_per_char)));
    let headers = response.headers_mut();
    for line in fixtures::text("deepgram-speak-rest-response-headers.txt").lines() {
        let line = line.split("<-").next().unwrap_or_default().trim();
        let Some((name, value)) = line.split_once(": ") else {
            continue;
        };
        if name.starts_with('#') || name.eq_ignore_ascii_case("transfer-encoding") {
            continue;
        }
        let value = match name {
            "dg-char-count" => text.chars().count().to_string(),
            "dg-request-id" => request_id(n),
            _ => value.to_owned(),
        };
        if let (Ok(name), Ok(value)) = (
            axum::http::HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            headers.insert(name, value);
        }
    }
    response
}
