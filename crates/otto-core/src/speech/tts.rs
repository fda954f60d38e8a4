//! Text-to-speech: the [`TextToSpeech`] interface every TTS engine implements (the local
//! flite engine in `otto-speech`, the Deepgram streaming client in `otto-providers`).
//!
//! The interface mirrors Deepgram streaming TTS (`shared/protocols/deepgram.md` section b):
//! `Speak` buffers text, `Flush` synthesises it and answers `Flushed`, `Clear` drops buffered
//! text and pending audio and answers `Cleared`. Audio comes out as [`TtsEvent::Audio`]: μ-law
//! 8 kHz in whole 160-byte (20 ms) frames, tagged with the [`GenerationId`] given to `flush`.

use super::{GenerationId, SpeechError, TtsEvent};
use async_trait::async_trait;
use tokio::sync::mpsc;

/// A text-to-speech engine; opens one [`TtsSession`] per call. Object-safe: the call runner
/// holds a `Box<dyn TextToSpeech>` chosen by configuration.
#[async_trait]
pub trait TextToSpeech: Send + Sync {
    /// Opens a per-call stream.
    ///
    /// Errors: engine-specific (e.g. a refused connection, `retryable` when it may pass later).
    async fn open(&self) -> Result<TtsSession, SpeechError>;
}

/// One call's TTS stream and the receiver of its events.
pub struct TtsSession {
    /// Control side: speak, flush, clear, close.
    pub stream: Box<dyn TtsStream>,
    /// Audio and markers, in order, on a bounded channel. Closed after [`TtsStream::close`]
    /// (or when the engine fails; the stream's next call then returns the error).
    pub events: mpsc::Receiver<TtsEvent>,
    /// Which engine serves it, for metrics (`otto_tts_ttfb_seconds{provider}`): `deepgram`
    /// or `local`.
    pub provider: &'static str,
}

/// The control side of a per-call TTS stream.
#[async_trait]
pub trait TtsStream: Send {
    /// Appends text to the buffer (Deepgram `Speak`). Text may be partial (LLM tokens).
    ///
    /// Errors: [`SpeechError::Closed`] when the stream has ended; engine errors.
    async fn speak(&mut self, text: &str) -> Result<(), SpeechError>;

    /// Synthesises everything buffered (Deepgram `Flush`). Its audio is tagged `generation`,
    /// and a [`TtsEvent::Flushed`] with that generation follows the last of it.
    ///
    /// Errors: as [`TtsStream::speak`].
    async fn flush(&mut self, generation: GenerationId) -> Result<(), SpeechError>;

    /// Barge-in (Deepgram `Clear`): drops buffered text, stops producing audio within one
    /// frame, then sends [`TtsEvent::Cleared`]. Audio of earlier flushes that was already in
    /// the event channel may still be received before `Cleared`; none follows it.
    ///
    /// Errors: as [`TtsStream::speak`].
    async fn clear(&mut self) -> Result<(), SpeechError>;

    /// Ends the stream: buffered text that was never flushed is dropped, and the event
    /// channel closes after audio already being produced.
    ///
    /// Errors: engine errors while closing.
    async fn close(self: Box<Self>) -> Result<(), SpeechError>;
}
