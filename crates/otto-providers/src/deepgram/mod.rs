//! Deepgram speech clients (`shared/protocols/deepgram.md`): live speech-to-text over the
//! `/v1/listen` WebSocket and text-to-speech over the `/v1/speak` WebSocket with the REST
//! `POST /v1/speak` as fallback. They implement `otto_speech`'s [`SpeechToText`] and
//! [`TextToSpeech`], so the call runner uses them exactly like the local engines.
//!
//! - [`config`]: [`DeepgramConfig`] (embedded in Otto's config), validation and request URLs.
//! - [`stt`]: [`DeepgramStt`], μ-law audio in, `SttEvent`s out, KeepAlive, Finalize,
//!   CloseStream, and reconnection mid-call with continuous audio time.
//! - [`tts`]: [`DeepgramTts`], Speak/Flush/Clear/Close with generation tagging and whole
//!   160-byte frames, falling back to REST per flush.
//! - `wire` (private): the JSON messages and their mapping; `connect` (private): the
//!   authenticated WebSocket handshake.
//!
//! Errors are [`SpeechError::Engine`] with engine `"deepgram"` and a `retryable` flag. The API
//! key is sent only in the `Authorization: Token …` header and never logged; transcripts and
//! synthesised text are never logged.
//!
//! [`SpeechToText`]: otto_core::speech::stt::SpeechToText
//! [`TextToSpeech`]: otto_core::speech::tts::TextToSpeech

pub mod config;
mod connect;
pub mod stt;
pub mod tts;
mod wire;

pub use config::DeepgramConfig;
pub use stt::DeepgramStt;
pub use tts::DeepgramTts;

use otto_core::speech::SpeechError;

/// The engine name in [`SpeechError::Engine`].
pub const ENGINE: &str = "deepgram";

/// A Deepgram error with its retry advice.
pub(crate) fn engine_error(message: String, retryable: bool) -> SpeechError {
    SpeechError::Engine {
        engine: ENGINE,
        message,
        retryable,
    }
}
