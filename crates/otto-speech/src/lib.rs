//! Otto's local speech: hears and speaks with no network and no API key.
//!
//! - [`audio`]: G.711 μ-law, 20 ms framing, resampling, WAV files.
//! - [`vad`]: energy + zero-crossing voice activity detection and endpointing on 20 ms frames.
//! - [`stt`]: the [`stt::SpeechToText`] interface every STT engine implements (local here,
//!   Deepgram in `otto-providers`), and the local engine: whisper.cpp behind a shared, bounded
//!   worker pool ([`stt::whisper`]) driven by the VAD ([`stt::local`]).
//! - [`tts`]: the [`tts::TextToSpeech`] interface, and the local engine: flite through a small
//!   FFI binding ([`tts::flite`], [`tts::local`]).
//! - [`model`]: getting a whisper model: CTranslate2 → ggml converter, fetch and verification.
//! - [`files`]: whole-file helpers the CLI wires: [`files::transcribe_wav`], [`files::say_to_wav`].
//! - [`bench`]: the speech benchmark (`otto bench speech`).
//!
//! The event types the call engine consumes live in `otto_core::speech`.

pub mod audio;
pub mod bench;
mod error;
pub mod files;
pub mod model;
pub mod stt;
pub mod tts;
pub mod vad;

pub use error::SpeechError;
