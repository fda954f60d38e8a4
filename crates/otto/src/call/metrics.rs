//! Call metrics, exported in Prometheus format at `/metrics`.
//!
//! | name | kind | meaning |
//! |---|---|---|
//! | `otto_calls_active` | gauge | calls in progress on this instance |
//! | `otto_calls_total{reason}` | counter | finished calls by how they ended |
//! | `otto_barge_ins_total` | counter | caller interruptions of Otto's speech |
//! | `otto_turn_stage_seconds{stage}` | histogram | per-turn latency from the end of the caller's speech to: `transcript` (turn committed), `first_text` (first clause of the reply), `first_audio` (first TTS byte), `first_frame_sent` (the first frame taken by the Twilio socket, measured at the writer: Otto's voice-to-voice) |
//! | `otto_tts_ttfb_seconds{provider}` | histogram | TTS time to first byte per turn (first clause sent to first audio back), `provider` `deepgram` or `local` |
//! | `otto_provider_errors_total{provider}` | counter | failures of `stt`, `tts`, `dialogue`, `twilio`, `call_setup`, `database` (a webhook that could not reach it) |
//! | `otto_media_bad_messages_total{kind}` | counter | rejected media-stream messages |
//! | `otto_stt_frames_dropped_total` | counter | caller frames a busy recogniser could not take |
//! | `otto_outbound_frames_dropped_total` | counter | frames not queued to Twilio (queue full or socket closed) |
//!
//! Recorded elsewhere, listed here so the whole set is in one place:
//!
//! | name | kind | meaning |
//! |---|---|---|
//! | `otto_stt_speculative_total{outcome}` | counter | local recogniser decodes started at a pause: `used` as the utterance's final, or `dropped` because the caller went on (`otto-speech`, `stt::local`) |
//! | `otto_session_updates_dropped_total` | counter | live-session updates dropped because Redis did not keep up (`sessions`) |
//! | `otto_rate_limited_total{limit}` | counter | requests refused with 429 (`limit="ip"`, `server`) |
//! | `otto_jobs_total{kind, outcome}` | counter | background jobs `done`, `retried` or `buried` (`otto-jobs`) |
//! | `otto_reminders_total{channel, outcome}` | counter | reminder sends `sent`, `failed`, `cancelled` or `retried` (`reminders::send`) |

use std::time::Duration;

use otto_core::engine::{EndReason, TurnLatency};

/// A call began.
pub fn call_started() {
    metrics::gauge!("otto_calls_active").increment(1.0);
}

/// A call's runner finished.
pub fn call_ended() {
    metrics::gauge!("otto_calls_active").decrement(1.0);
}

/// How a call ended.
pub fn call_outcome(reason: EndReason) {
    let reason = match reason {
        EndReason::Stopped => "stopped",
        EndReason::HungUp => "hung_up",
        EndReason::Transferred => "transferred",
    };
    metrics::counter!("otto_calls_total", "reason" => reason).increment(1);
}

/// The caller interrupted Otto.
pub fn barge_in() {
    metrics::counter!("otto_barge_ins_total").increment(1);
}

/// Stage latencies of one turn, as far as the engine sees them.
pub fn turn_latency(l: &TurnLatency) {
    for (stage, d) in [
        ("transcript", l.transcript),
        ("first_text", l.first_text),
        ("first_audio", l.first_audio),
    ] {
        metrics::histogram!("otto_turn_stage_seconds", "stage" => stage).record(d.as_secs_f64());
    }
}

/// End of the caller's speech to the first frame of the reply taken by the Twilio socket.
pub fn first_frame_sent(d: Duration) {
    metrics::histogram!("otto_turn_stage_seconds", "stage" => "first_frame_sent")
        .record(d.as_secs_f64());
}

/// One turn's TTS time to first byte on `provider`.
pub fn tts_ttfb(provider: &'static str, d: Duration) {
    metrics::histogram!("otto_tts_ttfb_seconds", "provider" => provider).record(d.as_secs_f64());
}

/// A provider failed.
pub fn provider_error(provider: &'static str) {
    metrics::counter!("otto_provider_errors_total", "provider" => provider).increment(1);
}

/// A media-stream message was rejected.
pub fn bad_message(kind: &'static str) {
    metrics::counter!("otto_media_bad_messages_total", "kind" => kind).increment(1);
}

/// A caller frame was dropped before the recogniser.
pub fn stt_frame_dropped() {
    metrics::counter!("otto_stt_frames_dropped_total").increment(1);
}

/// An outbound frame was dropped.
pub fn outbound_frame_dropped() {
    metrics::counter!("otto_outbound_frames_dropped_total").increment(1);
}
