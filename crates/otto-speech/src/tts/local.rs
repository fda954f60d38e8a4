//! The local TTS engine: flite behind the [`TextToSpeech`] interface.
//!
//! Each stream runs one tokio task that owns the text buffer. `flush` synthesises the buffer
//! sentence by sentence on the blocking pool (flite calls are serialised, see
//! [`super::flite`]), converts to μ-law 8 kHz (resampling with `rubato` when the voice is not
//! 8 kHz) and sends it frame by frame, preceded by a short lead-in of silence. `clear` bumps an
//! epoch counter that the task checks before every frame, so production stops within one frame.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use async_trait::async_trait;
use otto_core::speech::{FRAME_BYTES, GenerationId, SAMPLE_RATE_HZ, TtsEvent};
use tokio::sync::mpsc;

use super::flite::{self, Voice};
use otto_core::speech::tts::{TextToSpeech, TtsSession, TtsStream};

use super::split_sentences;
use crate::audio::resample;
use otto_core::speech::SpeechError;
use otto_core::speech::{frames, mulaw};

/// Settings of the local TTS engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalTtsConfig {
    /// flite voice (default kal, native 8 kHz).
    pub voice: Voice,
    /// Silence sent before the audio of each flush, ms (rounded up to 20 ms frames; default 60).
    pub lead_in_ms: u32,
    /// Capacity of each stream's event channel, in events (one event per 20 ms frame; default
    /// 8). Small on purpose: it bounds how much audio is already queued when `clear` comes.
    pub channel_frames: usize,
}

impl Default for LocalTtsConfig {
    fn default() -> Self {
        Self {
            voice: Voice::Kal,
            lead_in_ms: 60,
            channel_frames: 8,
        }
    }
}

/// The local flite TTS engine.
#[derive(Debug, Clone)]
pub struct LocalTts {
    config: LocalTtsConfig,
}

impl LocalTts {
    /// Creates the engine, initialising flite so a broken installation fails here, at start.
    ///
    /// Errors: [`SpeechError::Synthesis`] when flite's voices cannot be registered or
    /// `channel_frames` is 0.
    pub fn new(config: LocalTtsConfig) -> Result<Self, SpeechError> {
        if config.channel_frames == 0 {
            return Err(SpeechError::Synthesis(
                "channel_frames must be at least 1".into(),
            ));
        }
        flite::init()?;
        Ok(Self { config })
    }
}

#[async_trait]
impl TextToSpeech for LocalTts {
    /// Opens a stream; must be called inside a tokio runtime (it spawns the stream's task).
    async fn open(&self) -> Result<TtsSession, SpeechError> {
        let (command_tx, command_rx) = mpsc::channel(64);
        let (event_tx, event_rx) = mpsc::channel(self.config.channel_frames);
        let epoch = Arc::new(AtomicU64::new(0));
        let worker = Worker {
            config: self.config.clone(),
            epoch: epoch.clone(),
            events: event_tx,
            buffer: String::new(),
            buffer_epoch: 0,
        };
        tokio::spawn(worker.run(command_rx));
        Ok(TtsSession {
            stream: Box::new(LocalTtsStream {
                commands: command_tx,
                epoch,
            }),
            events: event_rx,
            provider: "local",
        })
    }
}

/// Synthesises `text` to μ-law 8 kHz with `voice`, padded to whole 160-byte frames (no lead-in).
/// Blocking.
///
/// Errors: [`SpeechError::Synthesis`] from flite; [`SpeechError::InvalidAudio`] from resampling.
pub fn synthesize_mulaw(text: &str, voice: Voice) -> Result<Vec<u8>, SpeechError> {
    let started = Instant::now();
    let pcm = flite::synthesize(text, voice)?;
    let samples: Vec<f32> = pcm
        .samples
        .iter()
        .map(|&s| f32::from(s) / 32768.0)
        .collect();
    let samples = resample::resample(&samples, pcm.sample_rate, SAMPLE_RATE_HZ)?;
    let mut out = mulaw::encode_from_f32(&samples);
    frames::pad_to_frames(&mut out);
    metrics::histogram!("otto_tts_synthesis_seconds").record(started.elapsed().as_secs_f64());
    Ok(out)
}

enum Command {
    Speak {
        epoch: u64,
        text: String,
    },
    Flush {
        epoch: u64,
        generation: GenerationId,
    },
    Clear,
}

struct LocalTtsStream {
    commands: mpsc::Sender<Command>,
    epoch: Arc<AtomicU64>,
}

impl LocalTtsStream {
    async fn send(&self, command: Command) -> Result<(), SpeechError> {
        self.commands
            .send(command)
            .await
            .map_err(|_| SpeechError::Closed)
    }
}

#[async_trait]
impl TtsStream for LocalTtsStream {
    async fn speak(&mut self, text: &str) -> Result<(), SpeechError> {
        let epoch = self.epoch.load(Ordering::SeqCst);
        self.send(Command::Speak {
            epoch,
            text: text.to_owned(),
        })
        .await
    }

    async fn flush(&mut self, generation: GenerationId) -> Result<(), SpeechError> {
        let epoch = self.epoch.load(Ordering::SeqCst);
        self.send(Command::Flush { epoch, generation }).await
    }

    async fn clear(&mut self) -> Result<(), SpeechError> {
        // Bump first: the worker checks the epoch before every frame, so production stops
        // now even while it is busy with an earlier flush.
        self.epoch.fetch_add(1, Ordering::SeqCst);
        self.send(Command::Clear).await
    }

    async fn close(self: Box<Self>) -> Result<(), SpeechError> {
        // Dropping the command sender ends the worker after its current flush.
        Ok(())
    }
}

struct Worker {
    config: LocalTtsConfig,
    epoch: Arc<AtomicU64>,
    events: mpsc::Sender<TtsEvent>,
    buffer: String,
    buffer_epoch: u64,
}

/// Why audio production stopped early.
enum Stop {
    /// A `clear` arrived; skip the rest of this flush.
    Cleared,
    /// The events receiver is gone; end the stream.
    Gone,
}

impl Worker {
    fn current_epoch(&self) -> u64 {
        self.epoch.load(Ordering::SeqCst)
    }

    async fn run(mut self, mut commands: mpsc::Receiver<Command>) {
        while let Some(command) = commands.recv().await {
            match command {
                Command::Speak { epoch, text } => {
                    if epoch != self.buffer_epoch {
                        self.buffer.clear();
                        self.buffer_epoch = epoch;
                    }
                    if epoch == self.current_epoch() {
                        self.buffer.push_str(&text);
                    }
                }
                Command::Flush { epoch, generation } => {
                    let text = if epoch == self.buffer_epoch {
                        std::mem::take(&mut self.buffer)
                    } else {
                        String::new()
                    };
                    if epoch != self.current_epoch() {
                        continue; // Cleared after this flush was asked for.
                    }
                    match self.speak_flush(&text, generation, epoch).await {
                        Ok(()) => {
                            if self
                                .events
                                .send(TtsEvent::Flushed { generation })
                                .await
                                .is_err()
                            {
                                return;
                            }
                        }
                        Err(Stop::Cleared) => {}
                        Err(Stop::Gone) => return,
                    }
                }
                Command::Clear => {
                    self.buffer.clear();
                    if self.events.send(TtsEvent::Cleared).await.is_err() {
                        return;
                    }
                }
            }
        }
    }

    async fn speak_flush(
        &self,
        text: &str,
        generation: GenerationId,
        epoch: u64,
    ) -> Result<(), Stop> {
        let mut lead_in = frames::silence(self.config.lead_in_ms);
        for sentence in split_sentences(text) {
            let voice = self.config.voice;
            let owned = sentence.to_owned();
            let audio = match tokio::task::spawn_blocking(move || synthesize_mulaw(&owned, voice))
                .await
            {
                Ok(Ok(audio)) => audio,
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "flite synthesis failed; sentence skipped");
                    continue;
                }
                Err(e) => {
                    tracing::error!(error = %e, "flite synthesis task failed; sentence skipped");
                    continue;
                }
            };
            lead_in.extend_from_slice(&audio);
            let audio = std::mem::take(&mut lead_in);
            for frame in audio.chunks_exact(FRAME_BYTES) {
                let permit = self.events.reserve().await.map_err(|_| Stop::Gone)?;
                if self.current_epoch() != epoch {
                    return Err(Stop::Cleared);
                }
                permit.send(TtsEvent::Audio {
                    generation,
                    mulaw: frame.to_vec(),
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn open() -> TtsSession {
        LocalTts::new(LocalTtsConfig::default())
            .expect("flite works")
            .open()
            .await
            .expect("opens")
    }

    #[tokio::test]
    async fn flush_streams_frames_then_flushed() {
        let mut session = open().await;
        session
            .stream
            .speak("Thanks for calling. ")
            .await
            .expect("open");
        session.stream.speak("How can I help?").await.expect("open");
        session.stream.flush(GenerationId(7)).await.expect("open");
        let mut bytes = Vec::new();
        loop {
            match session.events.recv().await.expect("stream alive") {
                TtsEvent::Audio { generation, mulaw } => {
                    assert_eq!(generation, GenerationId(7));
                    assert_eq!(mulaw.len(), FRAME_BYTES);
                    bytes.extend(mulaw);
                }
                TtsEvent::Flushed { generation } => {
                    assert_eq!(generation, GenerationId(7));
                    break;
                }
                TtsEvent::Cleared => panic!("no clear was asked"),
            }
        }
        // Lead-in: the first 3 frames are silence.
        assert!(bytes[..3 * FRAME_BYTES].iter().all(|&b| b == 0xFF));
        // Two sentences are between 1 and 5 seconds of audio.
        assert!(
            (8_000..40_000).contains(&bytes.len()),
            "{} bytes",
            bytes.len()
        );
        session.stream.close().await.expect("closes");
        assert!(
            session.events.recv().await.is_none(),
            "channel closes after close"
        );
    }

    #[tokio::test]
    async fn clear_stops_production_within_one_frame() {
        let config = LocalTtsConfig::default();
        let capacity = config.channel_frames;
        let mut session = LocalTts::new(config)
            .expect("flite")
            .open()
            .await
            .expect("opens");
        let long = "Your appointment for the brake inspection is confirmed for Tuesday morning. "
            .repeat(4);
        let full_frames = synthesize_mulaw(&long, Voice::Kal).expect("synth").len() / FRAME_BYTES;
        session.stream.speak(&long).await.expect("open");
        session.stream.flush(GenerationId(1)).await.expect("open");
        for _ in 0..20 {
            assert!(matches!(
                session.events.recv().await,
                Some(TtsEvent::Audio { .. })
            ));
        }
        session.stream.clear().await.expect("open");
        let mut after_clear = 0;
        loop {
            match session.events.recv().await.expect("alive") {
                TtsEvent::Audio { .. } => after_clear += 1,
                TtsEvent::Cleared => break,
                TtsEvent::Flushed { .. } => panic!("a cleared flush must not report Flushed"),
            }
        }
        // Only frames already queued in the channel (plus one in hand) arrive after clear.
        assert!(
            after_clear <= capacity + 1,
            "{after_clear} frames after clear"
        );
        assert!(20 + after_clear < full_frames);
        // A new generation after the clear plays normally.
        session.stream.speak("Okay.").await.expect("open");
        session.stream.flush(GenerationId(2)).await.expect("open");
        let mut saw_audio = false;
        loop {
            match session.events.recv().await.expect("alive") {
                TtsEvent::Audio { generation, .. } => {
                    assert_eq!(generation, GenerationId(2));
                    saw_audio = true;
                }
                TtsEvent::Flushed { generation } => {
                    assert_eq!(generation, GenerationId(2));
                    break;
                }
                TtsEvent::Cleared => panic!("only one clear"),
            }
        }
        assert!(saw_audio);
    }

    #[tokio::test]
    async fn text_spoken_before_clear_is_dropped() {
        let mut session = open().await;
        session
            .stream
            .speak("This should never be heard.")
            .await
            .expect("open");
        session.stream.clear().await.expect("open");
        session.stream.flush(GenerationId(3)).await.expect("open");
        assert_eq!(session.events.recv().await, Some(TtsEvent::Cleared));
        // Empty flush: just the marker.
        assert_eq!(
            session.events.recv().await,
            Some(TtsEvent::Flushed {
                generation: GenerationId(3)
            })
        );
    }
}
