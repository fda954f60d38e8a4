//! Otto's local speech: hears and speaks with no network and no API key.
//!
//! - [`audio`]: resampling and WAV files (the μ-law codec and framing are `otto_core::speech`).
//! - [`vad`]: energy + zero-crossing voice activity detection and endpointing on 20 ms frames.
//! - [`stt`]: the local STT engine: whisper.cpp behind a shared, bounded worker pool
//!   ([`stt::whisper`]) driven by the VAD ([`stt::local`]).
//! - [`tts`]: the local TTS engine: flite through a small FFI binding ([`tts::flite`],
//!   [`tts::local`]).
//! - [`model`]: getting a whisper model: CTranslate2 → ggml converter, fetch and verification.
//! - [`files`]: whole-file helpers the CLI wires: [`files::transcribe_wav`], [`files::say_to_wav`].
//! - [`bench`]: the speech benchmark (`otto bench speech`).
//!
//! The interfaces these engines implement, their events, their error type and the μ-law
//! codec live in `otto_core::speech`, shared with the vendor clients in `otto-providers`.

pub mod audio;
pub mod bench;
pub mod files;
pub mod model;
pub mod stt;
pub mod tts;
pub mod vad;
