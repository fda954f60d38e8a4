//! [`DeepgramTts`]: Deepgram text-to-speech (`deepgram.md` sections b and c) behind
//! [`TextToSpeech`]: the `/v1/speak` WebSocket, with `POST /v1/speak` as fallback per flush.
//!
//! [`TtsStream::speak`] only buffers text locally; [`TtsStream::flush`] hands the text and its
//! [`GenerationId`] to the session task, which synthesises flushes strictly in order:
//!
//! - **WebSocket** (the normal route): `Speak` (text cut into pieces of at most
//!   [`MAX_TEXT_CHARS`]) then `Flush`. Binary audio belongs to the oldest outstanding flush and
//!   is re-framed into whole 160-byte frames; `Flushed` ends that flush (a partial last frame
//!   is padded with μ-law silence). Several WebSocket flushes may be outstanding at once.
//! - **REST**: `POST /v1/speak?…&container=none` per flush, body streamed as it arrives. Used
//!   when Deepgram refused the WebSocket upgrade with a retryable status (429, 5xx), after
//!   it failed mid-call (error, unexpected close, or no audio and no `Flushed` for
//!   `request_timeout_ms`; outstanding flushes are then synthesised again over REST, so a
//!   sentence cut mid-way is repeated from its start; the socket is not reopened, the rest of
//!   the call uses REST), and for any flush beyond Deepgram's limit of [`FLUSHES_PER_MINUTE`]
//!   per socket, which the server would ignore.
//!
//! [`TtsStream::clear`] sends `Clear`, cancels every outstanding flush and REST request and
//! answers [`TtsEvent::Cleared`] at once; audio the server still sends before its own `Cleared`
//! is dropped. A failed REST request ends the session: the event channel closes and the
//! stream's next call returns the error (retryable for connection errors, timeouts, 429, 5xx).

use std::collections::VecDeque;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use otto_core::speech::SpeechError;
use otto_core::speech::tts::{TextToSpeech, TtsSession, TtsStream};
use otto_core::speech::{FRAME_BYTES, GenerationId, MULAW_SILENCE, TtsEvent};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep_until};
use tokio_tungstenite::tungstenite::Message;
use tracing::{Instrument, debug, info_span, warn};

use super::config::DeepgramConfig;
use super::connect::{Socket, connect};
use super::engine_error;
use super::wire::{self, SpeakMessage};

/// Deepgram's limit on one `Speak` text or one REST request, characters.
pub const MAX_TEXT_CHARS: usize = 2000;
/// Deepgram's limit on `Flush` messages per socket per minute; beyond it flushes use REST.
pub const FLUSHES_PER_MINUTE: usize = 20;
/// Most text one stream buffers between flushes, characters.
const MAX_BUFFERED_CHARS: usize = 20_000;
/// Commands queued towards the session task.
const COMMAND_QUEUE: usize = 64;
/// Events queued towards the call runner (about 5 s of 100 ms chunks).
const EVENT_QUEUE: usize = 64;
/// Error bodies read from a failed REST request, bytes.
const MAX_ERROR_BODY: usize = 16 * 1024;

/// Deepgram TTS. Cheap to share; one instance serves every call.
pub struct DeepgramTts {
    config: Arc<DeepgramConfig>,
    http: reqwest::Client,
}

impl DeepgramTts {
    /// A client for `config`.
    ///
    /// Errors: [`SpeechError::Engine`] (not retryable) when the configuration is invalid
    /// ([`DeepgramConfig::validate`]) or the HTTP client cannot be built.
    pub fn new(config: DeepgramConfig) -> Result<Self, SpeechError> {
        config.validate()?;
        let http = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout())
            .build()
            .map_err(|e| engine_error(format!("HTTP client: {e}"), false))?;
        Ok(Self {
            config: Arc::new(config),
            http,
        })
    }
}

#[async_trait]
impl TextToSpeech for DeepgramTts {
    /// Connects the `/v1/speak` WebSocket ([`DeepgramConfig::speak_ws_request_url`]). When
    /// Deepgram refuses it retryably (429, 5xx) the session runs on REST alone.
    ///
    /// Errors: a non-retryable refusal of the WebSocket (401 bad key, 402, 403, 400), which
    /// REST would meet too; a server that cannot be reached (connection or TLS failure,
    /// handshake timeout: retryable), which REST could not reach either.
    async fn open(&self) -> Result<TtsSession, SpeechError> {
        let key = self
            .config
            .api_key
            .clone()
            .ok_or_else(|| engine_error("api_key is not set".into(), false))?;
        let url = self.config.speak_ws_request_url();
        // REST only helps when Deepgram answered: a server that cannot be reached at all
        // fails the open, so the caller gets another voice (local speech) instead of silence.
        let (ws, request_id) = match connect(&url, &key, self.config.connect_timeout()).await {
            Ok((socket, id)) => (Some(socket), id),
            Err(e) if e.answered && e.error.retryable() => {
                warn!(error = %e.error, "Deepgram TTS WebSocket refused; using REST for this call");
                (None, None)
            }
            Err(e) => return Err(e.error),
        };
        let (commands_tx, commands_rx) = mpsc::channel(COMMAND_QUEUE);
        let (events_tx, events_rx) = mpsc::channel(EVENT_QUEUE);
        let failure = Arc::new(OnceLock::new());
        let span = info_span!(
            "deepgram_tts",
            request_id = request_id.as_deref().unwrap_or("none")
        );
        let session = Session {
            config: self.config.clone(),
            key,
            http: self.http.clone(),
            ws,
            commands_rx,
            events_tx,
            failure: failure.clone(),
            pending: VecDeque::new(),
            frame_buf: Vec::new(),
            unacknowledged_clears: 0,
            ws_flushes: VecDeque::new(),
            rest: None,
            last_progress: Instant::now(),
        };
        tokio::spawn(session.run().instrument(span));
        Ok(TtsSession {
            stream: Box::new(DeepgramTtsStream {
                commands: commands_tx,
                text: String::new(),
                failure,
            }),
            events: events_rx,
            provider: "deepgram",
        })
    }
}

enum Command {
    Flush {
        generation: GenerationId,
        text: String,
    },
    Clear,
    Close,
}

/// Why a session task failed: message and retry advice for the stream's next call.
type Failure = Arc<OnceLock<(String, bool)>>;

struct DeepgramTtsStream {
    commands: mpsc::Sender<Command>,
    /// Text spoken since the last flush.
    text: String,
    failure: Failure,
}

impl DeepgramTtsStream {
    fn ended(&self) -> SpeechError {
        match self.failure.get() {
            Some((message, retryable)) => engine_error(message.clone(), *retryable),
            None => SpeechError::Closed,
        }
    }

    async fn send(&self, command: Command) -> Result<(), SpeechError> {
        let sent = self.commands.send(command).await;
        sent.map_err(|_| self.ended())
    }
}

#[async_trait]
impl TtsStream for DeepgramTtsStream {
    /// Errors: [`SpeechError::Synthesis`] when more than 20 000 characters are buffered;
    /// the session's failure or [`SpeechError::Closed`] once it has ended.
    async fn speak(&mut self, text: &str) -> Result<(), SpeechError> {
        if self.commands.is_closed() {
            return Err(self.ended());
        }
        if self.text.chars().count() + text.chars().count() > MAX_BUFFERED_CHARS {
            return Err(SpeechError::Synthesis(format!(
                "more than {MAX_BUFFERED_CHARS} characters buffered without a flush"
            )));
        }
        self.text.push_str(text);
        Ok(())
    }

    async fn flush(&mut self, generation: GenerationId) -> Result<(), SpeechError> {
        let text = std::mem::take(&mut self.text);
        self.send(Command::Flush { generation, text }).await
    }

    async fn clear(&mut self) -> Result<(), SpeechError> {
        self.text.clear();
        self.send(Command::Clear).await
    }

    async fn close(self: Box<Self>) -> Result<(), SpeechError> {
        self.send(Command::Close).await
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    WebSocket,
    Rest,
    /// Nothing to synthesise: `Flushed` as soon as it is first in line.
    Empty,
}

struct Pending {
    generation: GenerationId,
    text: String,
    route: Route,
    started: bool,
}

/// A REST synthesis running on its own task; its body arrives on `chunks`.
struct RestJob {
    chunks: mpsc::Receiver<Result<Bytes, SpeechError>>,
    task: JoinHandle<()>,
}

impl Drop for RestJob {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct Session {
    config: Arc<DeepgramConfig>,
    key: SecretString,
    http: reqwest::Client,
    ws: Option<Socket>,
    commands_rx: mpsc::Receiver<Command>,
    events_tx: mpsc::Sender<TtsEvent>,
    failure: Failure,
    /// Flushes in order; the first is the one whose audio arrives now.
    pending: VecDeque<Pending>,
    /// Audio of the first flush not yet making a whole frame.
    frame_buf: Vec<u8>,
    /// `Clear`s sent whose `Cleared` has not come back: audio until then is stale.
    unacknowledged_clears: u32,
    /// When recent WebSocket flushes were sent (rate limit window).
    ws_flushes: VecDeque<Instant>,
    rest: Option<RestJob>,
    /// Last sign of life of the first WebSocket flush.
    last_progress: Instant,
}

/// The session ends: the runner is gone, or it closed and everything was delivered.
struct Finished;

impl Session {
    async fn run(mut self) {
        let mut closing = false;
        loop {
            if closing && self.pending.is_empty() {
                break;
            }
            let ws_deadline = self.ws_deadline();
            let far = Instant::now() + Duration::from_secs(3600);
            let step = tokio::select! {
                biased;
                command = self.commands_rx.recv(), if !closing => match command {
                    Some(Command::Flush { generation, text }) => self.on_flush(generation, text).await,
                    Some(Command::Clear) => self.on_clear().await,
                    Some(Command::Close) | None => {
                        closing = true;
                        Ok(())
                    }
                },
                message = next_message(&mut self.ws) => self.on_ws_message(message).await,
                chunk = next_chunk(&mut self.rest) => self.on_rest_chunk(chunk).await,
                _ = sleep_until(ws_deadline.unwrap_or(far)), if ws_deadline.is_some() => {
                    self.ws_failed("no audio and no Flushed within the request timeout".into()).await
                }
            };
            if step.is_err() {
                break;
            }
        }
        if let Some(ws) = self.ws.as_mut() {
            let _ = ws.send(Message::text(wire::CLOSE)).await;
            let _ = ws.close(None).await;
        }
    }

    fn ws_deadline(&self) -> Option<Instant> {
        let first = self.pending.front()?;
        (first.route == Route::WebSocket && first.started && self.ws.is_some())
            .then(|| self.last_progress + self.config.request_timeout())
    }

    async fn emit(&mut self, event: TtsEvent) -> Result<(), Finished> {
        self.events_tx.send(event).await.map_err(|_| Finished)
    }

    async fn on_flush(&mut self, generation: GenerationId, text: String) -> Result<(), Finished> {
        let route = if text.trim().is_empty() {
            Route::Empty
        } else if self.ws.is_some() && self.ws_flush_allowed() {
            Route::WebSocket
        } else {
            Route::Rest
        };
        self.pending.push_back(Pending {
            generation,
            text,
            route,
            started: false,
        });
        self.pump().await
    }

    /// Whether one more flush fits Deepgram's per-minute limit on this socket.
    fn ws_flush_allowed(&mut self) -> bool {
        let now = Instant::now();
        while self
            .ws_flushes
            .front()
            .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(60))
        {
            self.ws_flushes.pop_front();
        }
        if self.ws_flushes.len() >= FLUSHES_PER_MINUTE {
            debug!("flush rate limit reached; this flush uses REST");
            return false;
        }
        self.ws_flushes.push_back(now);
        true
    }

    /// Starts every flush that may start now: WebSocket flushes behind WebSocket flushes,
    /// a REST flush only when it is first; finishes empty flushes that are first.
    async fn pump(&mut self) -> Result<(), Finished> {
        let mut i = 0;
        while i < self.pending.len() {
            let p = &self.pending[i];
            match (p.route, p.started) {
                (Route::WebSocket, true) => i += 1,
                (Route::WebSocket, false) => {
                    if self.ws.is_none() {
                        // The socket died after routing: the failure path re-routed earlier
                        // flushes; re-route this one too.
                        self.pending[i].route = Route::Rest;
                        continue;
                    }
                    let text = p.text.clone();
                    if let Err(reason) = self.send_ws_flush(&text).await {
                        // Earlier WebSocket flushes are re-routed too: look again from the start.
                        self.drop_ws(reason);
                        i = 0;
                        continue;
                    }
                    if i == 0 {
                        self.last_progress = Instant::now();
                    }
                    self.pending[i].started = true;
                    i += 1;
                }
                (Route::Rest, started) => {
                    if i == 0 && !started {
                        let text = p.text.clone();
                        self.rest = Some(self.start_rest(text));
                        self.pending[0].started = true;
                    }
                    break;
                }
                (Route::Empty, _) => {
                    if i != 0 {
                        break;
                    }
                    self.finish_first().await?;
                }
            }
        }
        Ok(())
    }

    async fn send_ws_flush(&mut self, text: &str) -> Result<(), String> {
        let Some(ws) = self.ws.as_mut() else {
            return Err("no socket".into());
        };
        for piece in split_text(text, MAX_TEXT_CHARS) {
            ws.feed(Message::text(wire::speak_message(piece)))
                .await
                .map_err(|e| format!("sending Speak failed: {e}"))?;
        }
        ws.send(Message::text(wire::FLUSH))
            .await
            .map_err(|e| format!("sending Flush failed: {e}"))
    }

    fn start_rest(&self, text: String) -> RestJob {
        let (tx, chunks) = mpsc::channel(16);
        let request = RestRequest {
            http: self.http.clone(),
            url: self.config.speak_rest_request_url(),
            key: self.key.clone(),
            timeout: self.config.request_timeout(),
        };
        let task = tokio::spawn(request.run(text, tx).in_current_span());
        RestJob { chunks, task }
    }

    async fn on_clear(&mut self) -> Result<(), Finished> {
        if let Some(ws) = self.ws.as_mut() {
            match ws.send(Message::text(wire::CLEAR)).await {
                Ok(()) => self.unacknowledged_clears += 1,
                Err(e) => {
                    warn!(error = %e, "sending Clear failed; TTS WebSocket given up");
                    self.ws = None;
                }
            }
        }
        self.rest = None;
        self.pending.clear();
        self.frame_buf.clear();
        self.emit(TtsEvent::Cleared).await
    }

    async fn on_ws_message(
        &mut self,
        message: Option<Result<Message, tokio_tungstenite::tungstenite::Error>>,
    ) -> Result<(), Finished> {
        match message {
            Some(Ok(Message::Binary(audio))) => {
                let first_is_ws = self
                    .pending
                    .front()
                    .is_some_and(|p| p.route == Route::WebSocket && p.started);
                if self.unacknowledged_clears > 0 || !first_is_ws {
                    debug!(bytes = audio.len(), "dropped stale TTS audio");
                    return Ok(());
                }
                self.last_progress = Instant::now();
                self.add_audio(&audio).await
            }
            Some(Ok(Message::Text(text))) => match wire::parse_speak(text.as_str()) {
                Ok(SpeakMessage::Flushed) => {
                    let first_is_ws = self
                        .pending
                        .front()
                        .is_some_and(|p| p.route == Route::WebSocket && p.started);
                    if self.unacknowledged_clears > 0 || !first_is_ws {
                        debug!("Flushed of a cleared flush ignored");
                        return Ok(());
                    }
                    self.finish_first().await?;
                    self.pump().await
                }
                Ok(SpeakMessage::Cleared) => {
                    self.unacknowledged_clears = self.unacknowledged_clears.saturating_sub(1);
                    Ok(())
                }
                Ok(SpeakMessage::Metadata { request_id }) => {
                    debug!(
                        request_id = request_id.as_deref().unwrap_or("none"),
                        "TTS metadata"
                    );
                    Ok(())
                }
                Ok(SpeakMessage::Warning { code, message }) => {
                    // EXCESSIVE_FLUSH means a flush was ignored: the progress deadline then
                    // moves the outstanding flushes to REST.
                    warn!(%code, %message, "Deepgram TTS warning");
                    Ok(())
                }
                Ok(SpeakMessage::Error(description)) => {
                    self.ws_failed(format!("server error: {description}")).await
                }
                Ok(SpeakMessage::Unknown) => {
                    debug!("unknown TTS message ignored");
                    Ok(())
                }
                Err(problem) => {
                    warn!(%problem, "ignored a malformed Deepgram TTS message");
                    Ok(())
                }
            },
            Some(Ok(Message::Close(frame))) => {
                let reason = match frame {
                    Some(f) => format!("server closed with {}: {}", f.code, f.reason),
                    None => "server closed".into(),
                };
                self.ws_failed(reason).await
            }
            Some(Ok(_)) => Ok(()),
            Some(Err(e)) => self.ws_failed(format!("socket error: {e}")).await,
            None => self.ws_failed("socket ended".into()).await,
        }
    }

    /// Gives the socket up and starts what can start over REST.
    async fn ws_failed(&mut self, reason: String) -> Result<(), Finished> {
        self.drop_ws(reason);
        self.pump().await
    }

    /// Gives the socket up: outstanding WebSocket flushes will start again over REST.
    fn drop_ws(&mut self, reason: String) {
        warn!(%reason, "Deepgram TTS WebSocket failed; falling back to REST");
        self.ws = None;
        self.unacknowledged_clears = 0;
        if self
            .pending
            .front()
            .is_some_and(|p| p.route == Route::WebSocket)
        {
            // Its audio starts again from the beginning.
            self.frame_buf.clear();
        }
        for p in self.pending.iter_mut() {
            if p.route == Route::WebSocket {
                p.route = Route::Rest;
                p.started = false;
            }
        }
    }

    async fn on_rest_chunk(
        &mut self,
        chunk: Option<Result<Bytes, SpeechError>>,
    ) -> Result<(), Finished> {
        match chunk {
            Some(Ok(audio)) => self.add_audio(&audio).await,
            None => {
                // Body complete (the task ended after sending everything).
                self.rest = None;
                self.finish_first().await?;
                self.pump().await
            }
            Some(Err(e)) => {
                warn!(error = %e, "Deepgram REST synthesis failed; TTS session ends");
                let _ = self.failure.set((e.to_string(), e.retryable()));
                Err(Finished)
            }
        }
    }

    /// Adds audio of the first flush and emits its whole frames.
    async fn add_audio(&mut self, audio: &[u8]) -> Result<(), Finished> {
        let Some(generation) = self.pending.front().map(|p| p.generation) else {
            return Ok(());
        };
        self.frame_buf.extend_from_slice(audio);
        let whole = self.frame_buf.len() / FRAME_BYTES * FRAME_BYTES;
        if whole == 0 {
            return Ok(());
        }
        let mulaw: Vec<u8> = self.frame_buf.drain(..whole).collect();
        self.emit(TtsEvent::Audio { generation, mulaw }).await
    }

    /// Ends the first flush: its last partial frame (padded with silence), then `Flushed`.
    async fn finish_first(&mut self) -> Result<(), Finished> {
        let Some(first) = self.pending.pop_front() else {
            return Ok(());
        };
        if !self.frame_buf.is_empty() {
            let mut mulaw = std::mem::take(&mut self.frame_buf);
            mulaw.resize(
                mulaw.len().div_ceil(FRAME_BYTES) * FRAME_BYTES,
                MULAW_SILENCE,
            );
            self.emit(TtsEvent::Audio {
                generation: first.generation,
                mulaw,
            })
            .await?;
        }
        self.last_progress = Instant::now();
        self.emit(TtsEvent::Flushed {
            generation: first.generation,
        })
        .await
    }
}

/// The next message of the socket, or never when there is none.
async fn next_message(
    ws: &mut Option<Socket>,
) -> Option<Result<Message, tokio_tungstenite::tungstenite::Error>> {
    match ws {
        Some(ws) => ws.next().await,
        None => std::future::pending().await,
    }
}

/// The next body chunk of the running REST job, or never when none runs.
async fn next_chunk(rest: &mut Option<RestJob>) -> Option<Result<Bytes, SpeechError>> {
    match rest {
        Some(job) => job.chunks.recv().await,
        None => std::future::pending().await,
    }
}

/// One REST synthesis (`deepgram.md` c.1): pieces of at most [`MAX_TEXT_CHARS`] in turn.
struct RestRequest {
    http: reqwest::Client,
    url: String,
    key: SecretString,
    timeout: Duration,
}

impl RestRequest {
    /// Sends every body chunk to `tx` as it arrives, then ends (closing `tx`), or sends the
    /// first error and ends.
    async fn run(self, text: String, tx: mpsc::Sender<Result<Bytes, SpeechError>>) {
        for piece in split_text(&text, MAX_TEXT_CHARS) {
            if let Err(e) = self.piece(piece, &tx).await {
                let _ = tx.send(Err(e)).await;
                return;
            }
        }
    }

    async fn piece(
        &self,
        text: &str,
        tx: &mpsc::Sender<Result<Bytes, SpeechError>>,
    ) -> Result<(), SpeechError> {
        let timeout_ms = self.timeout.as_millis();
        let transport = |e: reqwest::Error| {
            let what = if e.is_timeout() {
                format!("REST synthesis timed out after {timeout_ms} ms")
            } else {
                format!("REST synthesis failed: {e}")
            };
            engine_error(what, true)
        };
        let mut auth =
            reqwest::header::HeaderValue::from_str(&format!("Token {}", self.key.expose_secret()))
                .map_err(|_| engine_error("API key is not a valid header value".into(), false))?;
        auth.set_sensitive(true);
        let response = self
            .http
            .post(&self.url)
            .header(reqwest::header::AUTHORIZATION, auth)
            .json(&serde_json::json!({ "text": text }))
            .timeout(self.timeout)
            .send()
            .await
            .map_err(transport)?;
        let status = response.status().as_u16();
        if !response.status().is_success() {
            let mut body = Vec::new();
            let mut stream = response.bytes_stream();
            while let Some(Ok(chunk)) = stream.next().await {
                body.extend_from_slice(&chunk);
                if body.len() >= MAX_ERROR_BODY {
                    break;
                }
            }
            return Err(engine_error(
                format!(
                    "REST synthesis answered HTTP {status}: {}",
                    wire::describe_error_body(&body)
                ),
                matches!(status, 408 | 429 | 500..=599),
            ));
        }
        let mut stream = response.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(transport)?;
            if tx.send(Ok(chunk)).await.is_err() {
                return Ok(()); // cleared: nobody listens
            }
        }
        Ok(())
    }
}

/// Cuts `text` into pieces of at most `max` characters, at the last whitespace when there is
/// one in the second half of a piece. Empty when `text` is blank.
fn split_text(text: &str, max: usize) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        let Some((cut, _)) = rest.char_indices().nth(max) else {
            out.push(rest);
            break;
        };
        let head = &rest[..cut];
        let at = match head.rfind(char::is_whitespace) {
            Some(ws) if ws >= cut / 2 => ws,
            _ => cut,
        };
        out.push(rest[..at].trim_end());
        rest = rest[at..].trim_start();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_text_respects_the_limit_and_words() {
        assert!(split_text("   ", 5).is_empty());
        assert_eq!(split_text("hello", 5), vec!["hello"]);
        assert_eq!(
            split_text("hello world again", 8),
            vec!["hello", "world", "again"]
        );
        assert_eq!(split_text("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
        let long = "é".repeat(4500);
        let pieces = split_text(&long, MAX_TEXT_CHARS);
        assert_eq!(pieces.len(), 3);
        assert!(pieces.iter().all(|p| p.chars().count() <= MAX_TEXT_CHARS));
        assert_eq!(pieces.concat(), long);
    }
}
