//! Fake speech vendors for whole-call tests that are not about the speech engine: the
//! Deepgram STT and TTS fakes (`otto_fakes::deepgram`), selected through `config.deepgram`
//! exactly as production selects Deepgram, so no Whisper decode costs test time. The caller's
//! "speech" is a loud tone; the STT fake answers each burst of it with the next scripted
//! transcript.

#![allow(dead_code)] // each test binary uses a different part of the helpers

use std::time::Duration;

use otto::config::Config;
use otto_fakes::deepgram::{FakeDeepgramStt, FakeDeepgramTts};
use otto_providers::deepgram::DeepgramConfig;
use otto_twilio::sim::{CallerStep, SimConfig, SimRecord};
use secrecy::SecretString;

use crate::common::{AUTH_TOKEN, JORDAN, TestApp, run_script};

/// The API key both Deepgram fakes accept.
pub const DEEPGRAM_KEY: &str = "test-deepgram-key";

/// The Deepgram fakes of one test.
pub struct Deepgram {
    pub stt: FakeDeepgramStt,
    pub tts: FakeDeepgramTts,
}

impl Deepgram {
    /// Starts both fakes (defaults: 80 bytes = 10 ms of audio per character, no delays).
    pub async fn start() -> Self {
        Self {
            stt: FakeDeepgramStt::start(DEEPGRAM_KEY).await,
            tts: FakeDeepgramTts::start(DEEPGRAM_KEY).await,
        }
    }

    /// The `deepgram` config section pointing at the fakes (short endpointing, fast retries).
    pub fn config(&self) -> DeepgramConfig {
        DeepgramConfig {
            api_key: Some(SecretString::from(DEEPGRAM_KEY)),
            listen_url: self.stt.listen_url(),
            speak_ws_url: self.tts.ws_url(),
            speak_rest_url: self.tts.rest_url(),
            endpointing_ms: 200,
            connect_timeout_ms: 2_000,
            request_timeout_ms: 3_000,
            ..DeepgramConfig::default()
        }
    }

    /// Applies [`Deepgram::config`] to an app config.
    pub fn apply(&self, config: &mut Config) {
        config.deepgram = Some(self.config());
    }
}

/// A loud 1 kHz square wave, μ-law 8 kHz, `ms` long: what the STT fake takes for speech.
pub fn tone(ms: usize) -> Vec<u8> {
    const WAVE: [u8; 8] = [0x1F, 0x1F, 0x1F, 0x1F, 0x9F, 0x9F, 0x9F, 0x9F];
    WAVE.iter().copied().cycle().take(ms * 8).collect()
}

/// The caller speaks for `ms` (the STT fake transcribes it as its next queued utterance).
pub fn speak(ms: usize) -> CallerStep {
    CallerStep::Speak(tone(ms))
}

/// The caller waits until Otto has spoken and then been quiet for 800 ms (at most 20 s).
pub fn wait_reply() -> CallerStep {
    CallerStep::WaitForReply {
        quiet: Duration::from_millis(800),
        max: Duration::from_secs(20),
    }
}

/// A real-time simulator config calling `app` from the demo customer Jordan.
pub fn sim(app: &TestApp) -> SimConfig {
    let mut config = SimConfig::new(
        app.url(),
        app.account_sid.clone(),
        SecretString::from(AUTH_TOKEN),
        JORDAN,
        "+15555550100",
    );
    config.max_call = Duration::from_secs(90);
    config
}

/// Waits for the greeting, speaks 1 s, waits for the reply, speaks 0.6 s, waits for the
/// reply: two caller turns for the STT fake to transcribe.
pub fn two_turn_script() -> [CallerStep; 5] {
    [
        wait_reply(),
        speak(1_000),
        wait_reply(),
        speak(600),
        wait_reply(),
    ]
}

/// The caller waits for the greeting, says `first` (as the STT fake will transcribe it),
/// waits, says `second`, waits for the reply and hangs up. Fails on any protocol error.
pub async fn two_turn_call(app: &TestApp, dg: &Deepgram, first: &str, second: &str) -> SimRecord {
    dg.stt.push_utterance(first);
    dg.stt.push_utterance(second);
    run_script(&sim(app), two_turn_script()).await
}
