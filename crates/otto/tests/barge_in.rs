//! Barge-in over the Twilio protocol against the real server: the caller starts speaking
//! while Otto's greeting plays. Twilio must get `clear`, the rest of the greeting must never
//! reach the caller, and the call log must keep only what was heard, marked interrupted.
//! Speech runs through the Deepgram fakes (the recogniser is not under test here).

// Test code: a panic on a broken precondition is the failure message.
#![allow(clippy::unwrap_used)]

mod common;
mod vendors;

use std::time::Duration;

use otto_core::records::Speaker;
use otto_twilio::sim::{CallerStep, SimEvent};

use common::{call_log, run_script, spawn_app};
use vendors::{Deepgram, sim, speak, wait_reply};

/// The `Speak` texts Otto sent on a TTS socket before its first `Clear`: the reply that was
/// being synthesised when the caller barged in, in full.
fn spoken_before_clear(messages: &[String]) -> String {
    let mut text = String::new();
    for m in messages {
        let v: serde_json::Value = serde_json::from_str(m).expect("Otto sends JSON text frames");
        match v["type"].as_str() {
            Some("Speak") => {
                if !text.is_empty() {
                    text.push(' ');
                }
                text.push_str(v["text"].as_str().unwrap_or_default().trim());
            }
            Some("Clear") => break,
            _ => {}
        }
    }
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caller_speech_during_the_greeting_clears_playback_and_logs_what_was_heard() {
    let dg = Deepgram::start().await;
    // A slow, long greeting: 50 ms of audio per character, produced a little faster than real
    // time, so it is still being synthesised and streamed when the caller barges in.
    dg.tts.set_bytes_per_char(400);
    dg.tts.set_chunk_delay(Duration::from_millis(25));
    dg.stt.push_utterance("I need an oil change.");
    // Like Deepgram: a first word while the caller is still talking, which barges in.
    dg.stt.send_interims_while_speaking();
    let app = spawn_app(|c| dg.apply(c)).await;

    let script = [
        CallerStep::Silence(Duration::from_millis(2_500)),
        speak(1_200),
        wait_reply(),
    ];
    let record = run_script(&sim(&app), script).await;

    let is_speech_start = |e: &SimEvent| matches!(e, SimEvent::CallerSpeechStarted { .. });
    let is_clear = |e: &SimEvent| matches!(e, SimEvent::ClearReceived { .. });
    let speech_start = record.first(is_speech_start).expect("the caller spoke");
    let speech_end = record
        .first(|e| matches!(e, SimEvent::CallerSpeechEnded { .. }))
        .expect("the caller finished speaking");
    let greeting_started = record
        .first(|e| matches!(e, SimEvent::PlaybackStarted))
        .expect("the greeting played");
    assert!(
        greeting_started < speech_start,
        "the caller must speak over the greeting:\n{record}"
    );

    // Twilio got `clear`, promptly, with greeting audio still queued.
    let delay = record
        .delay_after(speech_start, is_clear)
        .expect("Twilio received clear after the caller started speaking");
    println!(
        "barge-in: caller speech start → clear received: {:.1} ms",
        delay.as_secs_f64() * 1000.0
    );
    assert!(delay < Duration::from_secs(2), "clear came {delay:?} late");
    let clear_at = speech_start + delay;
    let dropped = record
        .events
        .iter()
        .find_map(|e| match e.event {
            SimEvent::ClearReceived { dropped } => Some(dropped),
            _ => None,
        })
        .expect("clear");
    assert!(
        dropped > Duration::ZERO,
        "the greeting was still queued at the barge-in:\n{record}"
    );

    // Nothing more of the greeting: no media while the caller is still speaking, and the
    // next media (the answer) starts on an empty queue after the caller's turn ended.
    let next_media = record
        .events
        .iter()
        .find(|e| e.at > clear_at && matches!(e.event, SimEvent::MediaReceived { .. }))
        .expect("Otto answered after the barge-in");
    assert!(
        next_media.at > speech_end,
        "greeting audio arrived after the clear:\n{record}"
    );
    assert!(
        matches!(
            next_media.event,
            SimEvent::MediaReceived {
                starved: Some(_),
                ..
            }
        ),
        "the answer starts on an empty playback queue:\n{record}"
    );

    // The TTS vendor was told to stop synthesising the greeting.
    let tts_sockets = dg.tts.ws_messages();
    let first = tts_sockets.first().expect("Otto opened a TTS socket");
    assert!(
        first.iter().any(|m| m.contains("\"Clear\"")),
        "TTS Clear sent: {first:?}"
    );
    let full_greeting = spoken_before_clear(first);

    // The call log keeps the part of the greeting that was heard, marked interrupted.
    let call = call_log(&app, &record).await;
    let agent_turns: Vec<_> = call
        .turns
        .iter()
        .filter(|t| t.speaker == Speaker::Agent)
        .collect();
    let greeting = agent_turns.first().expect("the greeting turn is logged");
    assert!(greeting.interrupted, "{:?}", call.turns);
    assert!(
        !greeting.text.is_empty() && greeting.text.len() < full_greeting.len(),
        "logged {:?}, full greeting {full_greeting:?}",
        greeting.text
    );
    assert!(
        full_greeting.starts_with(&greeting.text),
        "logged {:?} is the start of {full_greeting:?}",
        greeting.text
    );
    assert!(
        call.turns
            .iter()
            .any(|t| t.speaker == Speaker::Caller && t.text.contains("oil change")),
        "the barge-in utterance is the caller's next turn: {:?}",
        call.turns
    );
    assert!(
        agent_turns.len() >= 2 && !agent_turns[1].interrupted,
        "Otto answered the caller: {:?}",
        call.turns
    );
    // The answer's first frame is timed where the socket took it, after its first TTS byte.
    let timings = agent_turns[1]
        .timings
        .expect("the answer's stage latencies");
    assert!(
        timings.first_frame_ms >= timings.first_audio_ms
            && timings.first_audio_ms >= timings.first_text_ms,
        "{timings:?}"
    );
    let metrics = reqwest::get(format!("{}/metrics", app.url()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("otto_tts_ttfb_seconds") && metrics.contains("provider=\"deepgram\""),
        "TTS time to first byte per provider"
    );
    assert!(metrics.contains("stage=\"first_frame_sent\""));
    app.server.shutdown().await.unwrap();
}
