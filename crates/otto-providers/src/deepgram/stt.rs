//! [`DeepgramStt`]: Deepgram live speech-to-text (`deepgram.md` section a) behind
//! [`SpeechToText`].
//!
//! Each [`SpeechToText::open`] connects one `/v1/listen` WebSocket and spawns one session task
//! that owns it. The call runner's side ([`SttStream`]) only talks to that task through bounded
//! channels, so [`SttStream::push_audio`] never blocks: when the audio queue is full the chunk
//! is dropped, counted, and [`SpeechError::Busy`] returned.
//!
//! The task sends audio as binary frames, `KeepAlive` when no audio or message went out for
//! `keepalive_interval_ms`, `Finalize` and `CloseStream` on request (after any audio queued
//! before them), and forwards the server's messages as `SttEvent`s (`wire::parse_listen`).
//!
//! **Reconnection.** When the socket fails or the server closes it without being asked (e.g.
//! `1011` NET-0001), the task reconnects up to `reconnect_attempts` times with backoff
//! (100 ms doubling, at most 2 s; the attempts are only granted afresh once a socket lived
//! 10 s) while it keeps accepting audio into a buffer of at most
//! [`RECONNECT_BUFFER_MS`] (oldest audio dropped beyond). The buffered audio is sent first on
//! the new socket. Deepgram counts time from each socket's first byte, so the task adds the
//! call's audio time at that byte to every time of the new socket: event times stay audio time
//! from the call's start (frames dropped before sending are still counted in that time). Audio
//! in flight on the failed socket is lost. When reconnection fails, the event channel closes
//! and the stream's calls return the last error.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use futures_util::{SinkExt, StreamExt};
use otto_core::speech::SpeechError;
use otto_core::speech::SttEvent;
use otto_core::speech::stt::{SpeechToText, SttSession, SttStream};
use secrecy::SecretString;
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep, sleep_until};
use tokio_tungstenite::tungstenite::Message;
use tracing::{Instrument, debug, info, info_span, warn};

use super::config::DeepgramConfig;
use super::connect::{Socket, connect, is_net0001};
use super::engine_error;
use super::wire::{self, ListenMessage};

/// Audio kept while reconnecting, ms (5 s: 40 000 μ-law bytes at 8 kHz).
pub const RECONNECT_BUFFER_MS: u64 = 5_000;
/// μ-law bytes per ms at 8 kHz.
const BYTES_PER_MS: u64 = 8;
/// Largest chunk accepted by `push_audio`, bytes (1 s).
const MAX_CHUNK_BYTES: usize = 8_000;
/// Chunks queued between the caller and the session task (about 5 s of 20 ms frames).
const AUDIO_QUEUE_CHUNKS: usize = 256;
/// Events queued towards the call runner.
const EVENT_QUEUE: usize = 256;
/// First reconnection backoff; doubled per attempt up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(2);
/// A socket that lived this long refills the reconnection budget when it drops.
const STABLE_CONNECTION: Duration = Duration::from_secs(10);

/// Deepgram live STT. Cheap to share; one instance serves every call.
pub struct DeepgramStt {
    config: Arc<DeepgramConfig>,
    dropped_chunks: Arc<AtomicU64>,
}

impl DeepgramStt {
    /// A client for `config`.
    ///
    /// Errors: [`SpeechError::Engine`] (not retryable) when the configuration is invalid
    /// ([`DeepgramConfig::validate`]), e.g. no API key.
    pub fn new(config: DeepgramConfig) -> Result<Self, SpeechError> {
        config.validate()?;
        Ok(Self {
            config: Arc::new(config),
            dropped_chunks: Arc::new(AtomicU64::new(0)),
        })
    }

    /// Audio chunks dropped so far over all sessions: pushed while the queue to a session
    /// task was full, or pushed out of the reconnection buffer.
    pub fn dropped_audio_chunks(&self) -> u64 {
        self.dropped_chunks.load(Ordering::Relaxed)
    }
}

#[async_trait]
impl SpeechToText for DeepgramStt {
    /// Connects `/v1/listen` with the query of [`DeepgramConfig::listen_request_url`].
    ///
    /// Errors: see `connect`: a refused upgrade (401/402/403/400 not retryable; 429/5xx
    /// retryable), connection failure or handshake timeout (retryable).
    async fn open(&self) -> Result<SttSession, SpeechError> {
        let key = api_key(&self.config)?;
        let (socket, request_id) = connect(
            &self.config.listen_request_url(),
            &key,
            self.config.connect_timeout(),
        )
        .await?;
        let (audio_tx, audio_rx) = mpsc::channel(AUDIO_QUEUE_CHUNKS);
        let (control_tx, control_rx) = mpsc::channel(8);
        let (events_tx, events_rx) = mpsc::channel(EVENT_QUEUE);
        let failure = Arc::new(OnceLock::new());
        let span = info_span!(
            "deepgram_stt",
            request_id = request_id.as_deref().unwrap_or("none")
        );
        let session = Session {
            config: self.config.clone(),
            key,
            audio_rx,
            control_rx,
            events_tx,
            failure: failure.clone(),
            dropped: self.dropped_chunks.clone(),
            buffer: VecDeque::new(),
            buffer_bytes: 0,
        };
        tokio::spawn(session.run(socket).instrument(span));
        Ok(SttSession {
            stream: Box::new(DeepgramSttStream {
                audio: audio_tx,
                control: control_tx,
                pushed_bytes: 0,
                dropped: self.dropped_chunks.clone(),
                failure,
            }),
            events: events_rx,
            // With `smart_format`, a cut utterance keeps its punctuation.
            finalize_tells_pauses: true,
        })
    }
}

fn api_key(config: &DeepgramConfig) -> Result<SecretString, SpeechError> {
    config
        .api_key
        .clone()
        .ok_or_else(|| engine_error("api_key is not set".into(), false))
}

/// Audio pushed by the caller with its position in the call's audio, bytes from the start.
struct Chunk {
    at_byte: u64,
    bytes: Vec<u8>,
}

enum Control {
    Finalize,
    Close,
}

/// Why a session task ended: the message and retry advice the stream then reports.
type Failure = Arc<OnceLock<(String, bool)>>;

struct DeepgramSttStream {
    audio: mpsc::Sender<Chunk>,
    control: mpsc::Sender<Control>,
    pushed_bytes: u64,
    dropped: Arc<AtomicU64>,
    failure: Failure,
}

impl DeepgramSttStream {
    fn ended(&self) -> SpeechError {
        match self.failure.get() {
            Some((message, retryable)) => engine_error(message.clone(), *retryable),
            None => SpeechError::Closed,
        }
    }
}

#[async_trait]
impl SttStream for DeepgramSttStream {
    fn push_audio(&mut self, mulaw: &[u8]) -> Result<(), SpeechError> {
        if mulaw.is_empty() || mulaw.len() > MAX_CHUNK_BYTES {
            return Err(SpeechError::InvalidAudio(format!(
                "audio chunk of {} bytes (expected 1..={MAX_CHUNK_BYTES})",
                mulaw.len()
            )));
        }
        let chunk = Chunk {
            at_byte: self.pushed_bytes,
            bytes: mulaw.to_vec(),
        };
        // Audio time advances even for a dropped chunk: it was spoken.
        self.pushed_bytes += mulaw.len() as u64;
        match self.audio.try_send(chunk) {
            Ok(()) => Ok(()),
            Err(mpsc::error::TrySendError::Full(_)) => {
                if self.dropped.fetch_add(1, Ordering::Relaxed) == 0 {
                    warn!(
                        "Deepgram STT audio queue full: dropping audio (first drop; see dropped_audio_chunks)"
                    );
                }
                Err(SpeechError::Busy)
            }
            Err(mpsc::error::TrySendError::Closed(_)) => Err(self.ended()),
        }
    }

    /// Queues `Finalize` without waiting (the call loop calls this): [`SpeechError::Busy`]
    /// when control messages are backed up (the session is reconnecting).
    async fn finalize(&mut self) -> Result<(), SpeechError> {
        match self.control.try_send(Control::Finalize) {
            Ok(()) => Ok(()),
            Err(mpsc::error::TrySendError::Full(_)) => Err(SpeechError::Busy),
            Err(mpsc::error::TrySendError::Closed(_)) => Err(self.ended()),
        }
    }

    async fn close(self: Box<Self>) -> Result<(), SpeechError> {
        let sent = self.control.send(Control::Close).await;
        sent.map_err(|_| self.ended())
    }
}

/// How serving one socket ended.
enum Ended {
    /// Closed as asked, or the call runner is gone: the session is over.
    Done,
    /// The socket failed or was closed by the server: reconnect.
    Dropped(String),
}

struct Session {
    config: Arc<DeepgramConfig>,
    key: SecretString,
    audio_rx: mpsc::Receiver<Chunk>,
    control_rx: mpsc::Receiver<Control>,
    events_tx: mpsc::Sender<SttEvent>,
    failure: Failure,
    dropped: Arc<AtomicU64>,
    /// Audio not yet sent (accumulated while reconnecting).
    buffer: VecDeque<Chunk>,
    buffer_bytes: usize,
}

impl Session {
    async fn run(mut self, first: Socket) {
        let mut socket = first;
        let mut connections = 1u32;
        let mut budget = self.config.reconnect_attempts;
        let mut connected_at = Instant::now();
        loop {
            match self.serve(socket).await {
                Ended::Done => break,
                Ended::Dropped(reason) => {
                    warn!(%reason, "Deepgram STT socket dropped; reconnecting");
                    if connected_at.elapsed() >= STABLE_CONNECTION {
                        budget = self.config.reconnect_attempts;
                    }
                    match self.reconnect(reason, &mut budget).await {
                        Some(s) => {
                            connections += 1;
                            connected_at = Instant::now();
                            socket = s;
                        }
                        None => break,
                    }
                }
            }
        }
        info!(connections, "Deepgram STT session ended");
        // Dropping `events_tx` closes the runner's event channel.
    }

    /// Buffers a chunk while disconnected, dropping the oldest beyond the buffer size.
    fn buffer_chunk(&mut self, chunk: Chunk) {
        self.buffer_bytes += chunk.bytes.len();
        self.buffer.push_back(chunk);
        let max = (RECONNECT_BUFFER_MS * BYTES_PER_MS) as usize;
        while self.buffer_bytes > max {
            let Some(old) = self.buffer.pop_front() else {
                break;
            };
            self.buffer_bytes -= old.bytes.len();
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Serves one socket until the session ends or the socket drops.
    async fn serve(&mut self, mut socket: Socket) -> Ended {
        // Audio time (bytes) of this socket's first byte; Deepgram's times count from there.
        let mut base_byte: Option<u64> = None;
        let keepalive = Duration::from_millis(self.config.keepalive_interval_ms);
        let mut last_sent = Instant::now();
        while let Some(chunk) = self.buffer.pop_front() {
            self.buffer_bytes -= chunk.bytes.len();
            if let Err(reason) = send_audio(&mut socket, &mut base_byte, chunk).await {
                return Ended::Dropped(reason);
            }
        }
        // Set once CloseStream went out: wait for the last finals and the server's close.
        let mut close_deadline: Option<Instant> = None;
        loop {
            let keepalive_at = last_sent + keepalive;
            let far = Instant::now() + Duration::from_secs(3600);
            tokio::select! {
                biased;
                control = self.control_rx.recv(), if close_deadline.is_none() => {
                    let result = match control {
                        Some(Control::Finalize) => self.send_text_after_audio(&mut socket, &mut base_byte, wire::FINALIZE).await,
                        Some(Control::Close) | None => {
                            close_deadline = Some(Instant::now() + self.config.request_timeout());
                            self.send_text_after_audio(&mut socket, &mut base_byte, wire::CLOSE_STREAM).await
                        }
                    };
                    if let Err(reason) = result {
                        return if close_deadline.is_some() { Ended::Done } else { Ended::Dropped(reason) };
                    }
                    last_sent = Instant::now();
                }
                message = socket.next() => {
                    let closing = close_deadline.is_some();
                    match message {
                        Some(Ok(Message::Text(text))) => {
                            let offset_ms = base_byte.unwrap_or(0) / BYTES_PER_MS;
                            if !self.forward(text.as_str(), offset_ms).await {
                                let _ = socket.close(None).await;
                                return Ended::Done;
                            }
                        }
                        Some(Ok(Message::Close(frame))) => {
                            if closing {
                                return Ended::Done;
                            }
                            let reason = match &frame {
                                Some(f) if is_net0001(f) => format!("inactivity close {} (NET-0001)", f.code),
                                Some(f) => format!("server closed with {}: {}", f.code, f.reason),
                                None => "server closed without a status".into(),
                            };
                            return Ended::Dropped(reason);
                        }
                        Some(Ok(_)) => {} // binary, ping, pong: nothing for us
                        Some(Err(e)) if !closing => return Ended::Dropped(format!("socket error: {e}")),
                        None if !closing => return Ended::Dropped("socket ended without a close frame".into()),
                        Some(Err(_)) | None => return Ended::Done,
                    }
                }
                chunk = self.audio_rx.recv(), if close_deadline.is_none() => {
                    let Some(chunk) = chunk else {
                        // The stream was dropped without close: end the audio properly.
                        close_deadline = Some(Instant::now() + self.config.request_timeout());
                        if socket.send(Message::text(wire::CLOSE_STREAM)).await.is_err() {
                            return Ended::Done;
                        }
                        continue;
                    };
                    // This chunk and any queued behind it go out with one flush.
                    let mut next = Some(chunk);
                    while let Some(chunk) = next.take() {
                        if let Err(reason) = feed_audio(&mut socket, &mut base_byte, chunk).await {
                            return Ended::Dropped(reason);
                        }
                        next = self.audio_rx.try_recv().ok();
                    }
                    if let Err(e) = socket.flush().await {
                        return Ended::Dropped(format!("sending audio failed: {e}"));
                    }
                    last_sent = Instant::now();
                }
                _ = sleep_until(keepalive_at), if close_deadline.is_none() => {
                    if let Err(e) = socket.send(Message::text(wire::KEEP_ALIVE)).await {
                        return Ended::Dropped(format!("KeepAlive failed: {e}"));
                    }
                    debug!("KeepAlive sent");
                    last_sent = Instant::now();
                }
                _ = sleep_until(close_deadline.unwrap_or(far)), if close_deadline.is_some() => {
                    warn!("Deepgram did not close the stream in time after CloseStream");
                    return Ended::Done;
                }
            }
        }
    }

    /// Sends every chunk already queued, then `text` (so Finalize/CloseStream cover them).
    async fn send_text_after_audio(
        &mut self,
        socket: &mut Socket,
        base_byte: &mut Option<u64>,
        text: &'static str,
    ) -> Result<(), String> {
        while let Ok(chunk) = self.audio_rx.try_recv() {
            send_audio(socket, base_byte, chunk).await?;
        }
        socket
            .send(Message::text(text))
            .await
            .map_err(|e| format!("sending a control message failed: {e}"))
    }

    /// Parses and forwards one server message; `false` when the runner dropped the events.
    async fn forward(&mut self, text: &str, offset_ms: u64) -> bool {
        match wire::parse_listen(text) {
            Ok(ListenMessage::Event(event)) => self
                .events_tx
                .send(wire::offset_event(event, offset_ms))
                .await
                .is_ok(),
            Ok(ListenMessage::Ignore(what)) => {
                debug!(what, "Deepgram message without event");
                true
            }
            Ok(ListenMessage::ServerError(description)) => {
                warn!(%description, "Deepgram reported an error; stream continues");
                true
            }
            Err(problem) => {
                // The problem never quotes the transcript: serde errors name fields and types.
                warn!(%problem, "ignored a malformed Deepgram message");
                true
            }
        }
    }

    /// Reconnects with backoff while buffering audio; `None` when the session must end.
    ///
    /// Each attempt uses one unit of `budget`; the caller refills it only after a socket
    /// lived [`STABLE_CONNECTION`], so a server that keeps closing new sockets at once cannot
    /// cause endless reconnections.
    async fn reconnect(&mut self, mut last_error: String, budget: &mut u32) -> Option<Socket> {
        let url = self.config.listen_request_url();
        let mut backoff = FIRST_BACKOFF;
        let mut attempt = 0u32;
        while *budget > 0 {
            *budget -= 1;
            attempt += 1;
            self.buffer_during(sleep(backoff)).await?;
            backoff = (backoff * 2).min(MAX_BACKOFF);
            let (key, timeout) = (self.key.clone(), self.config.connect_timeout());
            let connecting = async {
                connect(&url, &key, timeout)
                    .await
                    .map_err(SpeechError::from)
            };
            match self.buffer_during(connecting).await? {
                Ok((socket, request_id)) => {
                    info!(
                        attempt,
                        request_id = request_id.as_deref().unwrap_or("none"),
                        "Deepgram STT reconnected"
                    );
                    return Some(socket);
                }
                Err(e) => {
                    warn!(attempt, error = %e, "Deepgram STT reconnect failed");
                    let retryable = e.retryable();
                    last_error = e.to_string();
                    if !retryable {
                        let _ = self.failure.set((last_error, false));
                        return None;
                    }
                }
            }
        }
        let _ = self.failure.set((
            format!("live STT connection lost and not restored: {last_error}"),
            true,
        ));
        None
    }

    /// Runs `work` while buffering pushed audio. `None` when the runner closed the stream
    /// meanwhile (the session ends; buffered audio is discarded); `Finalize` is ignored.
    async fn buffer_during<T>(&mut self, work: impl Future<Output = T>) -> Option<T> {
        tokio::pin!(work);
        loop {
            tokio::select! {
                biased;
                control = self.control_rx.recv() => match control {
                    Some(Control::Finalize) => debug!("Finalize while reconnecting: ignored"),
                    Some(Control::Close) | None => return None,
                },
                out = &mut work => return Some(out),
                chunk = self.audio_rx.recv() => match chunk {
                    Some(chunk) => self.buffer_chunk(chunk),
                    None => return None,
                },
            }
        }
    }
}

/// Queues one chunk on the socket without flushing (see [`send_audio`]).
async fn feed_audio(
    socket: &mut Socket,
    base_byte: &mut Option<u64>,
    chunk: Chunk,
) -> Result<(), String> {
    base_byte.get_or_insert(chunk.at_byte);
    socket
        .feed(Message::binary(chunk.bytes))
        .await
        .map_err(|e| format!("sending audio failed: {e}"))
}

/// Sends one chunk as a binary frame and flushes it.
async fn send_audio(
    socket: &mut Socket,
    base_byte: &mut Option<u64>,
    chunk: Chunk,
) -> Result<(), String> {
    feed_audio(socket, base_byte, chunk).await?;
    socket
        .flush()
        .await
        .map_err(|e| format!("sending audio failed: {e}"))
}
