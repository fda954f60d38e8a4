//! [`DeepgramConfig`]: where and how to reach Deepgram live STT and TTS, its validation, and
//! the request URLs built from it (`shared/protocols/deepgram.md` a.2, b.1, c.1).

use std::time::Duration;

use otto_core::speech::SpeechError;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use super::engine_error;

/// Configuration of [`super::DeepgramStt`] and [`super::DeepgramTts`]; every field has a
/// default, so an empty TOML table is valid. Unknown keys are rejected.
///
/// The API key is a [`SecretString`]: `Debug` and `Serialize` print it as `[REDACTED]` (Debug, from secrecy) and `[redacted]` (Serialize).
/// URLs are configuration so tests point the same code at `otto-fakes`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeepgramConfig {
    /// Sent as `Authorization: Token <key>`; required to open a stream.
    #[serde(serialize_with = "otto_core::privacy::serialize_redacted_option")]
    pub api_key: Option<SecretString>,
    /// Live STT WebSocket (default `wss://api.deepgram.com/v1/listen`); query added by Otto.
    pub listen_url: String,
    /// Streaming TTS WebSocket (default `wss://api.deepgram.com/v1/speak`).
    pub speak_ws_url: String,
    /// REST TTS endpoint, the fallback (default `https://api.deepgram.com/v1/speak`).
    pub speak_rest_url: String,
    /// STT model (default `nova-2-phonecall`).
    pub stt_model: String,
    /// STT `language` (default `en-US`).
    pub language: String,
    /// TTS voice, the `model` of `/v1/speak` (default `aura-asteria-en`).
    pub tts_voice: String,
    /// Silence that ends an utterance (`endpointing`), ms, 10..=10000 (default 300).
    pub endpointing_ms: u32,
    /// Word gap that yields `UtteranceEnd` (`utterance_end_ms`), ms, 1000..=5000 (default 1000).
    pub utterance_end_ms: u32,
    /// Deadline for a WebSocket handshake or a REST connection, ms, 1..=60000 (default 3000).
    pub connect_timeout_ms: u64,
    /// Deadline for a REST synthesis and for progress of a streaming flush (no audio and no
    /// `Flushed` for this long fails the socket over to REST), ms, 1..=120000 (default 10000).
    pub request_timeout_ms: u64,
    /// Send `KeepAlive` after this long without audio, ms, 1..10000 (default 5000). Deepgram
    /// closes an idle stream after ~10 s (NET-0001).
    pub keepalive_interval_ms: u64,
    /// Reconnects tried after a live STT socket drops mid-call, 0..=10 (default 3).
    pub reconnect_attempts: u32,
}

impl Default for DeepgramConfig {
    fn default() -> Self {
        Self {
            api_key: None,
            listen_url: "wss://api.deepgram.com/v1/listen".into(),
            speak_ws_url: "wss://api.deepgram.com/v1/speak".into(),
            speak_rest_url: "https://api.deepgram.com/v1/speak".into(),
            stt_model: "nova-2-phonecall".into(),
            language: "en-US".into(),
            tts_voice: "aura-asteria-en".into(),
            endpointing_ms: 300,
            utterance_end_ms: 1000,
            connect_timeout_ms: 3000,
            request_timeout_ms: 10_000,
            keepalive_interval_ms: 5000,
            reconnect_attempts: 3,
        }
    }
}

impl DeepgramConfig {
    /// Checks every field (ranges above, URL schemes, a non-empty key and names).
    ///
    /// Errors: [`SpeechError::Engine`] (not retryable) naming the first bad field.
    pub fn validate(&self) -> Result<(), SpeechError> {
        let bad = |what: String| Err(engine_error(format!("invalid config: {what}"), false));
        match &self.api_key {
            None => return bad("api_key is not set".into()),
            Some(k) if secrecy::ExposeSecret::expose_secret(k).trim().is_empty() => {
                return bad("api_key is empty".into());
            }
            Some(_) => {}
        }
        for (name, url, schemes) in [
            ("listen_url", &self.listen_url, ["ws://", "wss://"]),
            ("speak_ws_url", &self.speak_ws_url, ["ws://", "wss://"]),
            (
                "speak_rest_url",
                &self.speak_rest_url,
                ["http://", "https://"],
            ),
        ] {
            if !schemes.iter().any(|s| url.starts_with(s)) || url.contains(['?', '#', ' ']) {
                return bad(format!("{name} must be a {} URL without query", schemes[0]));
            }
        }
        for (name, value) in [
            ("stt_model", &self.stt_model),
            ("language", &self.language),
            ("tts_voice", &self.tts_voice),
        ] {
            let ok = !value.is_empty()
                && value
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
            if !ok {
                return bad(format!("{name} must be a non-empty name of [A-Za-z0-9._-]"));
            }
        }
        let ranges: [(&str, u64, u64, u64); 6] = [
            ("endpointing_ms", self.endpointing_ms.into(), 10, 10_000),
            ("utterance_end_ms", self.utterance_end_ms.into(), 1000, 5000),
            ("connect_timeout_ms", self.connect_timeout_ms, 1, 60_000),
            ("request_timeout_ms", self.request_timeout_ms, 1, 120_000),
            (
                "keepalive_interval_ms",
                self.keepalive_interval_ms,
                1,
                9_999,
            ),
            ("reconnect_attempts", self.reconnect_attempts.into(), 0, 10),
        ];
        for (name, value, lo, hi) in ranges {
            if !(lo..=hi).contains(&value) {
                return bad(format!("{name} = {value} is outside {lo}..={hi}"));
            }
        }
        Ok(())
    }

    /// The live STT URL: `listen_url` with the query of `deepgram.md` a.2 for Twilio audio
    /// (μ-law 8 kHz mono, interim results, endpointing, utterance end, VAD events, formatting).
    pub fn listen_request_url(&self) -> String {
        format!(
            "{}?model={}&encoding=mulaw&sample_rate=8000&channels=1&interim_results=true\
             &endpointing={}&utterance_end_ms={}&vad_events=true&smart_format=true\
             &punctuate=true&language={}",
            self.listen_url,
            self.stt_model,
            self.endpointing_ms,
            self.utterance_end_ms,
            self.language
        )
    }

    /// The streaming TTS URL (`deepgram.md` b.1): raw μ-law 8 kHz.
    pub fn speak_ws_request_url(&self) -> String {
        format!(
            "{}?model={}&encoding=mulaw&sample_rate=8000",
            self.speak_ws_url, self.tts_voice
        )
    }

    /// The REST TTS URL (`deepgram.md` c.1): raw μ-law 8 kHz, `container=none` (no WAV header).
    pub fn speak_rest_request_url(&self) -> String {
        format!(
            "{}?model={}&encoding=mulaw&sample_rate=8000&container=none",
            self.speak_rest_url, self.tts_voice
        )
    }

    pub(crate) fn connect_timeout(&self) -> Duration {
        Duration::from_millis(self.connect_timeout_ms)
    }

    pub(crate) fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> DeepgramConfig {
        DeepgramConfig {
            api_key: Some("k".into()),
            ..DeepgramConfig::default()
        }
    }

    #[test]
    fn defaults_are_valid_once_a_key_is_set() {
        assert!(DeepgramConfig::default().validate().is_err());
        valid().validate().expect("defaults with a key are valid");
    }

    #[test]
    fn listen_url_matches_the_protocol_fixture() {
        let url = valid().listen_request_url();
        let fixture = otto_fakes::fixtures::text("deepgram-listen-url.txt");
        let expected = fixture
            .lines()
            .find(|l| l.contains("nova-2-phonecall"))
            .expect("fixture has a nova-2-phonecall URL");
        // The fixture adds `keywords=Alvarez:2`, which Otto does not send.
        assert_eq!(format!("{url}&keywords=Alvarez:2"), expected);
    }

    #[test]
    fn bad_fields_are_rejected_by_name() {
        type Change = Box<dyn Fn(&mut DeepgramConfig)>;
        let cases: Vec<(&str, Change)> = vec![
            (
                "keepalive_interval_ms",
                Box::new(|c| c.keepalive_interval_ms = 10_000),
            ),
            (
                "listen_url",
                Box::new(|c| c.listen_url = "https://x/v1/listen".into()),
            ),
            (
                "speak_rest_url",
                Box::new(|c| c.speak_rest_url = "ftp://x".into()),
            ),
            ("stt_model", Box::new(|c| c.stt_model = "a&b=c".into())),
            ("utterance_end_ms", Box::new(|c| c.utterance_end_ms = 500)),
            ("api_key", Box::new(|c| c.api_key = Some(" ".into()))),
        ];
        for (field, change) in cases {
            let mut c = valid();
            change(&mut c);
            let err = c.validate().expect_err(field).to_string();
            assert!(err.contains(field), "{err}");
        }
    }

    #[test]
    fn key_is_never_printed() {
        let c = DeepgramConfig {
            api_key: Some("sekrit-key".into()),
            ..DeepgramConfig::default()
        };
        assert!(!format!("{c:?}").contains("sekrit"));
        let json = serde_json::to_string(&c).expect("config serialises");
        assert!(!json.contains("sekrit") && json.contains("[redacted]"));
    }
}
