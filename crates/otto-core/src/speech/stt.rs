//! Speech-to-text: the [`SpeechToText`] interface every STT engine implements (the local
//! whisper.cpp engine in `otto-speech`, the Deepgram live client in `otto-providers`).
//!
//! Events follow Deepgram live STT (see [`SttEvent`] and `shared/protocols/deepgram.md`
//! section a.4).

use super::SttEvent;
use async_trait::async_trait;
use tokio::sync::mpsc;

use super::SpeechError;

/// A speech-to-text engine; opens one [`SttSession`] per call. Object-safe: the call runner
/// holds a `Box<dyn SpeechToText>` chosen by configuration.
#[async_trait]
pub trait SpeechToText: Send + Sync {
    /// Opens a per-call stream for μ-law 8 kHz mono audio.
    ///
    /// Errors: engine-specific (e.g. a refused connection; `retryable` when it may pass later).
    async fn open(&self) -> Result<SttSession, SpeechError>;
}

/// One call's STT stream and the receiver of its events.
pub struct SttSession {
    /// Audio side: push frames, finalize, close.
    pub stream: Box<dyn SttStream>,
    /// Events in the order the engine produced them, on a bounded channel; closed after
    /// [`SttStream::close`] once the last final is out.
    pub events: mpsc::Receiver<SttEvent>,
    /// Whether a [`SttStream::finalize`] result tells finished words from a pause, so the
    /// call may end a turn on it (early endpointing): a cut utterance keeps its punctuation
    /// ("Hi, I'd like" rather than "Hi."). True for Deepgram; false for whisper, which writes
    /// every fragment as a finished sentence and makes up words for short ones ("Thank you.").
    pub finalize_tells_pauses: bool,
}

/// The audio side of a per-call STT stream.
#[async_trait]
pub trait SttStream: Send {
    /// Pushes μ-law 8 kHz audio, normally one 160-byte (20 ms) frame; any length is accepted
    /// and framed internally. Never blocks: a busy recogniser never delays audio.
    ///
    /// Errors: [`SpeechError::InvalidAudio`] for an empty or oversized (> 1 s) chunk;
    /// [`SpeechError::Busy`] when the engine cannot keep up; [`SpeechError::Closed`].
    fn push_audio(&mut self, mulaw: &[u8]) -> Result<(), SpeechError>;

    /// Finalises whatever audio is held now (Deepgram `Finalize`): an utterance in progress
    /// is cut and transcribed (`Final` with `speech_final: false`). The stream stays open.
    ///
    /// Errors: [`SpeechError::Closed`].
    async fn finalize(&mut self) -> Result<(), SpeechError>;

    /// Ends the audio (Deepgram `CloseStream`): pending audio is finalised, the remaining
    /// finals are delivered, then the event channel closes.
    ///
    /// Errors: [`SpeechError::Closed`] when already closed.
    async fn close(self: Box<Self>) -> Result<(), SpeechError>;
}
