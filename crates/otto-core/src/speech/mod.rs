//! Speech: the events, interfaces and audio facts shared by the call engine and every speech
//! engine.
//!
//! - this module: audio constants and the [`SttEvent`] / [`TtsEvent`] events;
//! - [`stt`], [`tts`]: the [`stt::SpeechToText`] and [`tts::TextToSpeech`] interfaces that the
//!   local engines (`otto-speech`) and the vendor clients (`otto-providers`) implement;
//! - [`SpeechError`]: their one error type;
//! - [`mulaw`]: the G.711 μ-law codec; [`frames`]: 20 ms framing of μ-law audio.
//!
//! The call engine consumes these plain data types whichever engine runs (the local
//! whisper.cpp/flite engine in `otto-speech`, or the Deepgram clients in `otto-providers`).
//! Their names and meanings follow Deepgram's live-streaming messages (`Results`,
//! `SpeechStarted`, `UtteranceEnd`) and streaming TTS messages (`Flushed`, `Cleared`), see
//! `shared/protocols/deepgram.md` sections a.4 and b.3. Nothing here does I/O.
//!
//! Times are milliseconds of *audio time*: counted from the first audio frame pushed into the
//! stream (frame n starts at `n * FRAME_MS`), never from a wall clock.

mod error;
pub mod frames;
pub mod mulaw;
pub mod stt;
pub mod tts;

pub use error::SpeechError;

use serde::{Deserialize, Serialize};

/// Telephone sample rate in Hz (G.711 μ-law over Twilio Media Streams).
pub const SAMPLE_RATE_HZ: u32 = 8_000;
/// Length of one media frame in ms (Twilio sends and expects 20 ms frames).
pub const FRAME_MS: u32 = 20;
/// Samples in one 20 ms frame at 8 kHz (= bytes of one μ-law frame: one byte per sample).
pub const FRAME_SAMPLES: usize = (SAMPLE_RATE_HZ * FRAME_MS / 1000) as usize;
/// Bytes in one 20 ms μ-law frame (160).
pub const FRAME_BYTES: usize = FRAME_SAMPLES;
/// The μ-law byte that encodes digital silence (G.711: 0xFF, positive zero).
pub const MULAW_SILENCE: u8 = 0xFF;

/// An event from a speech-to-text stream (one per call).
///
/// Follows Deepgram live STT: `SpeechStarted` (a `vad_events` message), `Results` (interim when
/// `is_final == false`, final otherwise) and `UtteranceEnd`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SttEvent {
    /// Voice activity began (Deepgram `SpeechStarted`). Drives barge-in: engines emit it
    /// within 100 ms of speech onset (audio time).
    SpeechStarted {
        /// Audio time of the onset, ms from stream start.
        at_ms: u64,
    },
    /// A non-final hypothesis while speech continues (Deepgram `Results` with
    /// `is_final: false`). `text` may be empty: it then only signals ongoing speech activity
    /// (the local engine has no partial transcripts and sends empty interims about every
    /// 500 ms of speech).
    Interim {
        /// Hypothesis so far; may be empty.
        text: String,
    },
    /// A final transcript for a stretch of audio (Deepgram `Results` with `is_final: true`).
    Final {
        /// Written text as the recogniser gives it ("555-123-4567", "2 p.m."); may be empty when
        /// the audio held no words.
        text: String,
        /// `true` when the speaker finished the utterance (endpointing saw enough silence);
        /// `false` when the segment was cut for another reason (finalize, maximum length).
        speech_final: bool,
        /// `true` when a finalize request ([`stt::SttStream::finalize`], Deepgram `Finalize`)
        /// cut this segment: the speaker may or may not have finished (Deepgram
        /// `from_finalize`).
        from_finalize: bool,
        /// Audio time where this segment starts, ms from stream start.
        start_ms: u64,
        /// Length of the segment, ms.
        duration_ms: u64,
    },
    /// The gap after the last word reached the configured length (Deepgram `UtteranceEnd`).
    UtteranceEnd {
        /// Audio time where the last word ended, ms from stream start.
        last_word_end_ms: u64,
    },
}

/// Identifies one reply generation of the call engine. TTS audio is tagged with the
/// generation that asked for it, so audio of a cancelled (barged-in) reply can be dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct GenerationId(pub u64);

/// An event from a text-to-speech stream (one per call).
///
/// Follows Deepgram streaming TTS: binary audio frames, `Flushed` and `Cleared`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TtsEvent {
    /// Synthesised audio: μ-law 8 kHz mono, a whole number of 160-byte (20 ms) frames.
    Audio {
        /// The generation whose `flush` produced this audio.
        generation: GenerationId,
        /// μ-law bytes; `mulaw.len() % FRAME_BYTES == 0`.
        mulaw: Vec<u8>,
    },
    /// All audio for the text buffered before that `flush` has been sent (Deepgram `Flushed`).
    Flushed {
        /// The generation given to `flush`.
        generation: GenerationId,
    },
    /// A `clear` took effect: buffered text was dropped and no further audio of earlier
    /// generations follows (Deepgram `Cleared`).
    Cleared,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_constants_agree() {
        assert_eq!(FRAME_BYTES, 160);
        assert_eq!(FRAME_SAMPLES as u32 * 1000 / SAMPLE_RATE_HZ, FRAME_MS);
    }

    #[test]
    fn stt_event_serialises_with_type_tag() {
        let json = serde_json::to_string(&SttEvent::SpeechStarted { at_ms: 40 })
            .expect("plain enum serialises");
        assert_eq!(json, r#"{"type":"speech_started","at_ms":40}"#);
    }
}
