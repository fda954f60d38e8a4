//! Local speech behind Deepgram: [`FallbackStt`] and [`FallbackTts`] open a per-call stream on
//! the primary engine (Deepgram) and, when that fails, on the local engine (whisper.cpp,
//! flite) instead, so a Deepgram outage leaves calls understood and answered rather than deaf
//! or mute. A shared circuit breaker ([`otto_core::breaker::Breaker`]: 3 failed opens in a
//! row, 30 s) sends calls straight to the local engine while Deepgram is down, instead of
//! each waiting for Deepgram's connect timeout, then lets one open probe it.
//!
//! Used when a `deepgram` section is configured and `speech.local_fallback` is on (the
//! default) and the Whisper model is installed; otherwise Deepgram stands alone.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use otto_core::speech::SpeechError;
use otto_core::speech::stt::{SpeechToText, SttSession};
use otto_core::speech::tts::{TextToSpeech, TtsSession};
use tracing::warn;

use super::metrics as m;
use super::vendor_guard::SharedBreaker;

/// Failed opens in a row that send calls straight to the local engine.
const THRESHOLD: u32 = 3;
/// How long they go there before Deepgram is tried again.
const COOLDOWN: Duration = Duration::from_secs(30);

/// A primary engine, a fallback, and the breaker between them.
struct Pair<T: ?Sized> {
    vendor: &'static str,
    primary: Arc<T>,
    fallback: Arc<T>,
    breaker: SharedBreaker,
}

impl<T: ?Sized> Pair<T> {
    fn new(vendor: &'static str, primary: Arc<T>, fallback: Arc<T>) -> Self {
        Self {
            vendor,
            primary,
            fallback,
            breaker: SharedBreaker::new(THRESHOLD, COOLDOWN),
        }
    }

    /// Opens with `open` on the primary unless its breaker is open; on failure (counted in
    /// `otto_provider_errors_total`) or an open breaker, on the fallback.
    async fn open<S, F, Fut>(&self, open: F) -> Result<S, SpeechError>
    where
        F: Fn(Arc<T>) -> Fut,
        Fut: Future<Output = Result<S, SpeechError>>,
    {
        if self.breaker.allow() {
            match open(self.primary.clone()).await {
                Ok(session) => {
                    self.breaker.success();
                    return Ok(session);
                }
                Err(e) => {
                    m::provider_error(self.vendor);
                    self.breaker.failure();
                    warn!(vendor = self.vendor, error = %e, "cannot open a stream; using local speech for this call");
                }
            }
        }
        open(self.fallback.clone()).await
    }
}

/// Speech-to-text: Deepgram, else the local recogniser. See the module docs.
pub struct FallbackStt(Pair<dyn SpeechToText>);

impl FallbackStt {
    /// `primary` (Deepgram) with `fallback` (local) behind it.
    pub fn new(primary: Arc<dyn SpeechToText>, fallback: Arc<dyn SpeechToText>) -> Self {
        Self(Pair::new("deepgram_stt", primary, fallback))
    }
}

#[async_trait]
impl SpeechToText for FallbackStt {
    async fn open(&self) -> Result<SttSession, SpeechError> {
        self.0
            .open(|engine| async move { engine.open().await })
            .await
    }
}

/// Text-to-speech: Deepgram, else the local voice. See the module docs.
pub struct FallbackTts(Pair<dyn TextToSpeech>);

impl FallbackTts {
    /// `primary` (Deepgram) with `fallback` (local) behind it.
    pub fn new(primary: Arc<dyn TextToSpeech>, fallback: Arc<dyn TextToSpeech>) -> Self {
        Self(Pair::new("deepgram_tts", primary, fallback))
    }
}

#[async_trait]
impl TextToSpeech for FallbackTts {
    async fn open(&self) -> Result<TtsSession, SpeechError> {
        self.0
            .open(|engine| async move { engine.open().await })
            .await
    }
}
