//! Calls: the services every call shares ([`CallServices`], built once from configuration),
//! the call runner that drives one call's engine ([`runner`]), the outbound Twilio writer
//! ([`writer`]), call recordings ([`recording`]), the call metrics ([`metrics`]), and retries
//! with circuit breakers around vendors called mid-call ([`vendor_guard`]).
//!
//! Engines are chosen by configuration, never by recompiling: Deepgram STT and TTS when a
//! `deepgram` section is set (with the local engines behind them, [`speech_fallback`]), else
//! the local engines (whisper.cpp and flite); an OpenAI-compatible LLM when `llm` is set, else the rule-based
//! dialogue; NHTSA recalls when `nhtsa.enabled`; Twilio REST when `twilio` is set.

pub mod admission;
pub mod metrics;
pub mod recording;
pub mod runner;
pub mod speech_fallback;
pub mod vendor_guard;
pub mod writer;

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use otto_agent::llm::{LlmDialogue, LlmSettings};
use otto_agent::{Dialogue, Recall, RecallError, RecallLookup};
use otto_core::engine::EngineConfig;
use otto_core::speech::stt::SpeechToText;
use otto_core::speech::tts::TextToSpeech;
use otto_providers::deepgram::{DeepgramStt, DeepgramTts};
use otto_providers::nhtsa::NhtsaClient;
use otto_providers::openai::OpenAiClient;
use otto_shop::{CallRecorder, Shop, SystemClock};
use otto_speech::stt::local::{LocalStt, LocalSttConfig};
use otto_speech::tts::local::{LocalTts, LocalTtsConfig};
use otto_speech::vad::VadConfig;
use otto_twilio::rest::RestClient;
use otto_twilio::stream_token::StreamTokens;
use secrecy::ExposeSecret;
use vendor_guard::{GuardPolicy, SharedBreaker, VendorGuard};

use crate::config::Config;
use crate::sessions::Sessions;

/// What every call uses. Built once at start, shared by all calls.
pub struct CallServices {
    pub shop: Shop,
    /// The call log's one writer (webhooks, status callbacks; conversations make their own
    /// from their context's clock).
    pub recorder: CallRecorder,
    pub stt: Arc<dyn SpeechToText>,
    pub tts: Arc<dyn TextToSpeech>,
    /// The LLM dialogue, when configured.
    pub llm: Option<LlmFactory>,
    pub recalls: Option<Arc<dyn RecallLookup>>,
    /// Twilio REST (transfer, hang-up), when a Twilio account is configured, with its
    /// retries and breaker.
    pub rest: Option<(RestClient, Arc<VendorGuard>)>,
    pub sessions: Sessions,
    pub engine: EngineConfig,
    /// The voice activity detector each call runs on the caller's audio for early
    /// endpointing (`call.early_endpointing_ms`); `None` when that is off.
    pub speech_end: Option<VadConfig>,
    /// This instance's name in live-call sessions.
    pub instance: String,
    /// Issues and checks the per-call stream tokens: keyed with the Twilio auth token (shared
    /// by every instance on the account), or with a random key when Twilio is not configured
    /// (one instance, calls from `otto call`).
    pub stream_tokens: StreamTokens,
    /// Where call recordings are written, when `call.record` is on (the greeting then says
    /// the call is recorded); `None`: calls are not recorded.
    pub recording_dir: Option<PathBuf>,
}

impl CallServices {
    /// Builds every engine the configuration names. Model files are loaded here, so a missing
    /// or corrupt model fails at start with a clear message, not mid-call.
    ///
    /// # Errors
    /// A speech model that cannot be loaded, flite failing to start, or an invalid provider
    /// configuration.
    pub fn from_config(config: &Config, shop: Shop, sessions: Sessions) -> anyhow::Result<Self> {
        let Some(dg) = &config.deepgram else {
            let (stt, tts) = Self::local_engines(config)?;
            return Self::with_engines(config, shop, sessions, stt, tts);
        };
        let mut stt: Arc<dyn SpeechToText> =
            Arc::new(DeepgramStt::new(dg.clone()).context("deepgram speech-to-text")?);
        let mut tts: Arc<dyn TextToSpeech> =
            Arc::new(DeepgramTts::new(dg.clone()).context("deepgram text-to-speech")?);
        if config.speech.local_fallback {
            if config.whisper_model().is_file() {
                let (local_stt, local_tts) = Self::local_engines(config)?;
                stt = Arc::new(speech_fallback::FallbackStt::new(stt, local_stt));
                tts = Arc::new(speech_fallback::FallbackTts::new(tts, local_tts));
            } else {
                tracing::warn!(
                    model = %config.whisper_model().display(),
                    "no Whisper model: calls have no local speech to fall back on when Deepgram \
                     cannot be reached (run `otto models fetch`)"
                );
            }
        }
        Self::with_engines(config, shop, sessions, stt, tts)
    }

    /// The local engines: whisper.cpp behind the VAD, and flite.
    ///
    /// # Errors
    /// The Whisper model cannot be loaded, or flite fails to start.
    fn local_engines(
        config: &Config,
    ) -> anyhow::Result<(Arc<dyn SpeechToText>, Arc<dyn TextToSpeech>)> {
        let stt: Arc<dyn SpeechToText> = {
            let mut c = LocalSttConfig {
                model_path: config.whisper_model(),
                ..LocalSttConfig::default()
            };
            c.pool.workers = config.speech.stt_workers;
            c.vad.endpointing_ms = config.speech.endpointing_ms;
            Arc::new(LocalStt::new(c).context("local speech-to-text")?)
        };
        let tts: Arc<dyn TextToSpeech> = {
            let voice = config.speech.voice.parse().context("speech.voice")?;
            Arc::new(
                LocalTts::new(LocalTtsConfig {
                    voice,
                    ..LocalTtsConfig::default()
                })
                .context("local text-to-speech")?,
            )
        };
        Ok((stt, tts))
    }

    /// The services with these speech engines and everything else from `config`.
    ///
    /// # Errors
    /// An invalid `llm`, `nhtsa` or `twilio` section.
    pub fn with_engines(
        config: &Config,
        shop: Shop,
        sessions: Sessions,
        stt: Arc<dyn SpeechToText>,
        tts: Arc<dyn TextToSpeech>,
    ) -> anyhow::Result<Self> {
        let llm = LlmFactory::from_config(config)?;
        let recalls = recalls_from_config(config)?;
        let rest = match &config.twilio {
            Some(t) => Some((
                RestClient::new(t).context("twilio")?,
                Arc::new(VendorGuard::new("twilio", GuardPolicy::CONTROL)),
            )),
            None => None,
        };
        Ok(Self {
            recorder: CallRecorder::new(shop.store().clone(), Arc::new(SystemClock)),
            shop,
            stt,
            tts,
            llm,
            recalls,
            rest,
            sessions,
            engine: config.call.engine(),
            speech_end: (config.call.early_endpointing_ms > 0).then(|| VadConfig {
                endpointing_ms: config.call.early_endpointing_ms,
                pause_ms: 0,
                keep_audio: false,
                ..VadConfig::default()
            }),
            instance: config.server.instance.clone(),
            stream_tokens: match &config.twilio {
                Some(t) => StreamTokens::new(t.auth_token.expose_secret().as_bytes()),
                None => StreamTokens::new(&rand::random::<[u8; 32]>()),
            },
            recording_dir: config.call.record.then(|| config.recording_dir()),
        })
    }
}

/// LLM failures in a row (across calls) that open the breaker.
const LLM_BREAKER_THRESHOLD: u32 = 3;
/// How long an open LLM breaker sends calls straight to the rule-based dialogue.
const LLM_BREAKER_COOLDOWN: std::time::Duration = std::time::Duration::from_secs(30);

/// Makes one LLM dialogue per call over a shared client, behind a circuit breaker shared by
/// all calls ([`otto_core::breaker`]): when the LLM keeps failing, new turns go straight to the
/// rule-based dialogue instead of each waiting for the LLM's deadline.
pub struct LlmFactory {
    client: OpenAiClient,
    settings: LlmSettings,
    breaker: SharedBreaker,
}

impl LlmFactory {
    /// The factory for `config.llm`, or `None` when no LLM is configured.
    ///
    /// # Errors
    /// An invalid `llm` section (e.g. a base URL that is not http(s)).
    pub fn from_config(config: &Config) -> anyhow::Result<Option<Self>> {
        config
            .llm
            .as_ref()
            .map(|c| {
                Ok(Self {
                    client: OpenAiClient::new(c.clone()).context("llm")?,
                    settings: config.llm_dialogue.clone(),
                    breaker: SharedBreaker::new(LLM_BREAKER_THRESHOLD, LLM_BREAKER_COOLDOWN),
                })
            })
            .transpose()
    }

    /// A fresh dialogue (empty history) for a new conversation, behind the shared breaker.
    pub fn dialogue(&self) -> Box<dyn Dialogue> {
        Box::new(Guarded {
            inner: Box::new(LlmDialogue::new(self.client.clone(), self.settings.clone())),
            breaker: self.breaker.clone(),
        })
    }
}

/// A dialogue behind a circuit breaker: while the breaker is open it fails at once (the
/// conversation then hands the turn to the rule-based dialogue); otherwise it reports each
/// reply's outcome to the breaker. Closing the reply channel is not the brain's failure.
#[derive(Debug)]
pub struct Guarded {
    pub inner: Box<dyn Dialogue>,
    pub breaker: SharedBreaker,
}

#[async_trait::async_trait]
impl Dialogue for Guarded {
    async fn reply(
        &mut self,
        ctx: &mut otto_agent::CallerContext,
        input: &otto_core::engine::ReplyInput,
        out: &otto_agent::ReplySink,
        cancel: &tokio_util::sync::CancellationToken,
    ) -> Result<(), otto_agent::DialogueError> {
        if !self.breaker.allow() {
            metrics::provider_error("dialogue");
            return Err(otto_agent::DialogueError::Failed(
                "the LLM's circuit breaker is open".into(),
            ));
        }
        let result = self.inner.reply(ctx, input, out, cancel).await;
        match &result {
            Err(otto_agent::DialogueError::Failed(_)) => {
                self.breaker.failure();
            }
            _ => self.breaker.success(),
        }
        result
    }

    fn truncated(&mut self, heard: &str) {
        self.inner.truncated(heard);
    }
}

/// The recall lookup for `config.nhtsa`, or `None` when NHTSA lookups are off.
///
/// # Errors
/// An invalid `nhtsa` section.
pub fn recalls_from_config(config: &Config) -> anyhow::Result<Option<Arc<dyn RecallLookup>>> {
    if !config.nhtsa.enabled {
        return Ok(None);
    }
    let client = NhtsaClient::new(config.nhtsa.clone()).context("nhtsa")?;
    Ok(Some(Arc::new(NhtsaRecalls {
        client,
        guard: VendorGuard::new("nhtsa", GuardPolicy::LOOKUP),
    })))
}

/// The NHTSA recalls client as the dialogue's [`RecallLookup`], with a retry and a breaker.
#[derive(Debug)]
struct NhtsaRecalls {
    client: NhtsaClient,
    guard: VendorGuard,
}

#[async_trait::async_trait]
impl RecallLookup for NhtsaRecalls {
    async fn recalls(
        &self,
        make: &str,
        model: &str,
        year: u16,
    ) -> Result<Vec<Recall>, RecallError> {
        let found = self
            .guard
            .run(
                || self.client.recalls(make, model, year),
                otto_providers::ProviderError::retryable,
            )
            .await
            .map_err(|e| RecallError(e.to_string()))?;
        Ok(found
            .into_iter()
            .map(|r| Recall {
                campaign: r.campaign_number,
                component: r.component,
                summary: r.summary,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    /// A brain that always fails, counting its attempts.
    #[derive(Debug)]
    struct Down(Arc<AtomicU32>);

    #[async_trait::async_trait]
    impl Dialogue for Down {
        async fn reply(
            &mut self,
            _: &mut otto_agent::CallerContext,
            _: &otto_core::engine::ReplyInput,
            _: &otto_agent::ReplySink,
            _: &tokio_util::sync::CancellationToken,
        ) -> Result<(), otto_agent::DialogueError> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Err(otto_agent::DialogueError::Failed("timed out".into()))
        }

        fn truncated(&mut self, _: &str) {}
    }

    #[tokio::test]
    async fn a_failing_llm_is_skipped_once_its_breaker_opens() {
        let store = otto_store::connect("sqlite::memory:").await.unwrap();
        let mut ctx = otto_agent::CallerContext::new(
            otto_shop::Shop::new(store, Arc::new(otto_core::shop::ShopConfig::default())),
            Arc::new(SystemClock),
            None,
            None,
            otto_core::records::BookingSource::Phone,
        );
        let attempts = Arc::new(AtomicU32::new(0));
        let breaker = SharedBreaker::new(LLM_BREAKER_THRESHOLD, LLM_BREAKER_COOLDOWN);
        let (out, _rx) = tokio::sync::mpsc::channel(8);
        let cancel = tokio_util::sync::CancellationToken::new();
        // Each call has its own dialogue; the breaker is shared.
        for _ in 0..5 {
            let mut d = Guarded {
                inner: Box::new(Down(attempts.clone())),
                breaker: breaker.clone(),
            };
            let r = d
                .reply(
                    &mut ctx,
                    &otto_core::engine::ReplyInput::Greeting,
                    &out,
                    &cancel,
                )
                .await;
            assert!(matches!(r, Err(otto_agent::DialogueError::Failed(_))));
        }
        assert_eq!(
            attempts.load(Ordering::SeqCst),
            LLM_BREAKER_THRESHOLD,
            "after the threshold, calls no longer wait on the LLM"
        );
    }

    #[tokio::test]
    async fn recall_lookups_retry_once_then_the_breaker_stops_asking_nhtsa() {
        let nhtsa = otto_fakes::nhtsa::FakeNhtsa::start().await;
        let mut config = Config::default();
        config.nhtsa.enabled = true;
        config.nhtsa.recalls_base_url = nhtsa.recalls_base_url();
        config.nhtsa.vpic_base_url = nhtsa.vpic_base_url();
        let recalls = recalls_from_config(&config).unwrap().unwrap();

        let found = recalls.recalls("Honda", "Accord", 2003).await.unwrap();
        assert!(!found.is_empty(), "the fixture's recalls");
        assert_eq!(nhtsa.request_count(), 1);

        // An outage: each lookup is tried twice (a 503 is retryable), and after
        // GuardPolicy::LOOKUP.threshold failed lookups NHTSA is not asked at all.
        nhtsa.set_outage(true);
        // (Another model year each time: answers are cached per vehicle.)
        for year in 0..GuardPolicy::LOOKUP.threshold {
            let year = 2010 + year as u16;
            assert!(recalls.recalls("Honda", "Civic", year).await.is_err());
        }
        let asked = 1 + GuardPolicy::LOOKUP.threshold as usize * (1 + GuardPolicy::LOOKUP.retries);
        assert_eq!(nhtsa.request_count(), asked);
        let e = recalls.recalls("Honda", "Civic", 2020).await.unwrap_err();
        assert!(e.to_string().contains("circuit breaker"), "{e}");
        assert_eq!(
            nhtsa.request_count(),
            asked,
            "the open breaker sent nothing"
        );
    }
}
