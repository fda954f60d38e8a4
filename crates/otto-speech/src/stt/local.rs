//! The local STT engine: per-call streams that run the [`Vad`] on each pushed frame (inline,
//! microseconds) and send finished utterances to the shared [`DecodePool`].
//!
//! Each stream has one forwarding task that submits its utterances to the pool one at a time,
//! in order, and turns transcripts into events: `Final { speech_final, from_finalize }` then,
//! when the text is not empty, `UtteranceEnd`. A busy pool therefore delays only that call's
//! finals, never its audio or its `SpeechStarted` events (sent straight from `push_audio`).
//!
//! Decoding starts at the caller's first pause, not at the end of the utterance: when the VAD
//! reports [`VadEvent::Paused`] (200 ms of silence by default, against 500 ms of endpointing)
//! the audio so far is decoded speculatively. If the utterance then ends with no more speech,
//! that transcript is its final, ready up to 300 ms sooner; if the caller goes on, it is
//! dropped (aborted if still queued) and the whole utterance is decoded at its end.

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use otto_core::speech::SttEvent;
use tokio::sync::mpsc;

use super::whisper::{DecodePool, PoolConfig, Transcript, WhisperModel, WhisperSettings};
use crate::vad::{Utterance, Vad, VadConfig, VadEvent};
use otto_core::speech::SpeechError;
use otto_core::speech::stt::{SpeechToText, SttSession, SttStream};

/// Largest chunk `push_audio` accepts, bytes (1 s of μ-law).
const MAX_CHUNK_BYTES: usize = 8_000;
/// Capacity of each stream's event channel.
const EVENT_CAPACITY: usize = 64;
/// Utterances of one stream that may wait for its forwarding task.
const UTTERANCE_CAPACITY: usize = 8;

/// Settings of the local STT engine.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalSttConfig {
    /// The ggml model file (default `data/models/ggml-tiny.en.bin`).
    pub model_path: PathBuf,
    /// Decoding settings.
    pub whisper: WhisperSettings,
    /// The shared decode pool.
    pub pool: PoolConfig,
    /// Endpointing.
    pub vad: VadConfig,
}

impl Default for LocalSttConfig {
    fn default() -> Self {
        Self {
            model_path: PathBuf::from("data/models/ggml-tiny.en.bin"),
            whisper: WhisperSettings::default(),
            pool: PoolConfig::default(),
            vad: VadConfig::default(),
        }
    }
}

/// The local whisper.cpp STT engine. Cheap to clone; all clones share one decode pool.
#[derive(Debug, Clone)]
pub struct LocalStt {
    pool: DecodePool,
    vad: VadConfig,
}

impl LocalStt {
    /// Loads the model and starts the decode pool, so a missing or corrupt model fails here,
    /// at start, not mid-call.
    ///
    /// Errors: [`SpeechError::Model`] (with a hint to run `otto models fetch`);
    /// [`SpeechError::Recognition`] when the pool cannot start.
    pub fn new(config: LocalSttConfig) -> Result<Self, SpeechError> {
        let model = Arc::new(WhisperModel::load(&config.model_path, config.whisper)?);
        Self::with_model(model, config.pool, config.vad)
    }

    /// An engine over an already loaded model.
    ///
    /// Errors: [`SpeechError::Recognition`] when the pool cannot start.
    pub fn with_model(
        model: Arc<WhisperModel>,
        pool: PoolConfig,
        vad: VadConfig,
    ) -> Result<Self, SpeechError> {
        Ok(Self {
            pool: DecodePool::start(model, pool)?,
            vad,
        })
    }

    /// Decodes the pool has run so far, speculative ones included (see the module docs).
    pub fn decodes(&self) -> u64 {
        self.pool.decodes()
    }
}

#[async_trait]
impl SpeechToText for LocalStt {
    /// Opens a stream; must be called inside a tokio runtime (it spawns the forwarding task).
    async fn open(&self) -> Result<SttSession, SpeechError> {
        let (event_tx, event_rx) = mpsc::channel(EVENT_CAPACITY);
        let (utterance_tx, utterance_rx) = mpsc::channel(UTTERANCE_CAPACITY);
        tokio::spawn(forward(self.pool.clone(), utterance_rx, event_tx.clone()));
        Ok(SttSession {
            stream: Box::new(LocalSttStream {
                vad: Vad::new(self.vad.clone()),
                events: event_tx,
                utterances: utterance_tx,
            }),
            events: event_rx,
            finalize_tells_pauses: false,
        })
    }
}

struct LocalSttStream {
    vad: Vad,
    events: mpsc::Sender<SttEvent>,
    utterances: mpsc::Sender<Work>,
}

/// What a stream asks of its forwarding task, in order.
enum Work {
    /// Decode the audio of an utterance still in progress, at a pause, in case it ends there.
    Speculate {
        /// The utterance's last speech so far ([`VadEvent::Paused`]).
        last_speech_end_ms: u64,
        samples: Vec<f32>,
    },
    /// An utterance to transcribe, and whether [`SttStream::finalize`] cut it.
    Segment {
        utterance: Utterance,
        from_finalize: bool,
    },
}

impl LocalSttStream {
    fn emit(&self, event: SttEvent) {
        if self.events.try_send(event).is_err() {
            metrics::counter!("otto_stt_events_dropped_total").increment(1);
            tracing::warn!("stt event dropped: the call is not reading its events");
        }
    }

    fn submit(&self, work: Work) -> Result<(), SpeechError> {
        self.utterances.try_send(work).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => SpeechError::Busy,
            mpsc::error::TrySendError::Closed(_) => SpeechError::Closed,
        })
    }

    fn handle(&mut self, event: VadEvent) -> Result<(), SpeechError> {
        match event {
            VadEvent::SpeechStarted { at_ms } => self.emit(SttEvent::SpeechStarted { at_ms }),
            VadEvent::Activity { .. } => self.emit(SttEvent::Interim {
                text: String::new(),
            }),
            VadEvent::Paused { last_speech_end_ms } => {
                let samples = self.vad.samples_so_far().unwrap_or_default().to_vec();
                self.submit(Work::Speculate {
                    last_speech_end_ms,
                    samples,
                })?;
            }
            VadEvent::Utterance(utterance) => self.submit(Work::Segment {
                utterance,
                from_finalize: false,
            })?,
        }
        Ok(())
    }
}

#[async_trait]
impl SttStream for LocalSttStream {
    fn push_audio(&mut self, mulaw_audio: &[u8]) -> Result<(), SpeechError> {
        if mulaw_audio.is_empty() || mulaw_audio.len() > MAX_CHUNK_BYTES {
            return Err(SpeechError::InvalidAudio(format!(
                "audio chunk of {} bytes: expected 1..={MAX_CHUNK_BYTES} bytes of μ-law",
                mulaw_audio.len()
            )));
        }
        let events = self.vad.push_mulaw(mulaw_audio);
        // Every frame has gone through the VAD; the first error (a full queue) is reported.
        events
            .into_iter()
            .map(|e| self.handle(e))
            .fold(Ok(()), Result::and)
    }

    /// Cuts the utterance in progress and queues it for decoding without waiting (the call
    /// loop calls this): [`SpeechError::Busy`] when this stream's queue is full.
    async fn finalize(&mut self) -> Result<(), SpeechError> {
        match self.vad.finish() {
            Some(utterance) => self.submit(Work::Segment {
                utterance,
                from_finalize: true,
            }),
            None => Ok(()),
        }
    }

    async fn close(mut self: Box<Self>) -> Result<(), SpeechError> {
        if let Some(utterance) = self.vad.finish() {
            let segment = Work::Segment {
                utterance,
                from_finalize: false,
            };
            self.utterances
                .send(segment)
                .await
                .map_err(|_| SpeechError::Closed)?;
        }
        Ok(())
        // Dropping the senders lets the forwarder finish the queued utterances, then the
        // event channel closes.
    }
}

/// A speculative decode in flight: the pause it was taken at, and the decode.
type Speculation = (
    u64,
    tokio::task::JoinHandle<Result<Transcript, SpeechError>>,
);

/// The per-stream forwarding task: decodes utterances in order and emits their events (see
/// the module docs for speculative decoding).
async fn forward(pool: DecodePool, mut work: mpsc::Receiver<Work>, events: mpsc::Sender<SttEvent>) {
    let mut speculation: Option<Speculation> = None;
    while let Some(next) = work.recv().await {
        let (u, from_finalize) = match next {
            Work::Speculate {
                last_speech_end_ms,
                samples,
            } => {
                if let Some((_, stale)) = speculation.take() {
                    stale.abort();
                    metrics::counter!("otto_stt_speculative_total", "outcome" => "dropped")
                        .increment(1);
                }
                let pool = pool.clone();
                let decode = tokio::spawn(async move { pool.transcribe(samples).await });
                speculation = Some((last_speech_end_ms, decode));
                continue;
            }
            Work::Segment {
                utterance,
                from_finalize,
            } => (utterance, from_finalize),
        };
        let (start_ms, duration_ms, last_word_end_ms, speech_final) = (
            u.start_ms,
            u.duration_ms,
            u.last_speech_end_ms,
            u.speech_final,
        );
        // The decode taken at the last pause holds this whole utterance when no speech came
        // after it.
        let ready = match speculation.take() {
            Some((pause_end_ms, decode)) if pause_end_ms == last_word_end_ms => Some(decode),
            Some((_, stale)) => {
                stale.abort();
                metrics::counter!("otto_stt_speculative_total", "outcome" => "dropped")
                    .increment(1);
                None
            }
            None => None,
        };
        let result = match ready {
            Some(decode) => {
                metrics::counter!("otto_stt_speculative_total", "outcome" => "used").increment(1);
                decode.await.unwrap_or(Err(SpeechError::Closed))
            }
            None => pool.transcribe(u.samples).await,
        };
        let text = match result {
            Ok(t) => {
                tracing::debug!(
                    audio_ms = t.timing.audio_ms,
                    queue_wait_ms = t.timing.queue_wait_ms,
                    decode_ms = t.timing.decode_ms,
                    "utterance decoded"
                );
                t.text
            }
            Err(e) => {
                tracing::error!(error = %e, "utterance decode failed; emitting an empty final");
                String::new()
            }
        };
        let has_words = !text.is_empty();
        if events
            .send(SttEvent::Final {
                text,
                speech_final,
                from_finalize,
                start_ms,
                duration_ms,
            })
            .await
            .is_err()
        {
            return;
        }
        if has_words
            && speech_final
            && events
                .send(SttEvent::UtteranceEnd { last_word_end_ms })
                .await
                .is_err()
        {
            return;
        }
    }
}
