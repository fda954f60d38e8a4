//! Early endpointing over the Twilio protocol against the real server (issue #13 item 1):
//! Otto's own voice activity detector hears the caller stop, Otto sends Deepgram `Finalize`,
//! and the turn ends on the `from_finalize` result when the words read as finished, long
//! before the recogniser's own endpointing. Words that lead on wait for the recogniser, so
//! a pause mid-sentence never cuts the caller off. Speech runs through the Deepgram fakes.

// Test code: a panic on a broken precondition is the failure message.
#![allow(clippy::unwrap_used)]

mod common;
mod vendors;

use std::time::Duration;

use otto_core::records::Speaker;
use otto_twilio::sim::{CallerStep, SimEvent, SimRecord};

use common::{TestApp, call_log, run_script, spawn_app};
use vendors::{Deepgram, sim, speak, wait_reply};

/// The recogniser's own endpointing in these tests, ms: far longer than any turn here takes,
/// so a reply that comes sooner was started by Otto's early endpointing.
const SLOW_ENDPOINTING_MS: u32 = 8_000;

async fn app_with(dg: &Deepgram, endpointing_ms: u32, early_ms: u32) -> TestApp {
    spawn_app(|c| {
        dg.apply(c);
        if let Some(d) = c.deepgram.as_mut() {
            d.endpointing_ms = endpointing_ms;
        }
        c.call.early_endpointing_ms = early_ms;
    })
    .await
}

/// The caller waits for the greeting, then runs `steps`, then waits for the answer.
async fn call(app: &TestApp, steps: impl IntoIterator<Item = CallerStep>) -> SimRecord {
    let mut script = vec![wait_reply()];
    script.extend(steps);
    script.push(wait_reply());
    run_script(&sim(app), script).await
}

/// The caller's last frame of speech → the first frame of the answer, as Twilio sees it.
fn answer_delay(record: &SimRecord) -> Duration {
    let speech_end = record
        .events
        .iter()
        .filter(|e| matches!(e.event, SimEvent::CallerSpeechEnded { .. }))
        .map(|e| e.at)
        .next_back()
        .expect("the caller spoke");
    record
        .delay_after(speech_end, |e| matches!(e, SimEvent::PlaybackStarted))
        .expect("Otto answered")
}

/// What the call log kept of the caller's turns, in order.
fn caller_turns(call: &otto_store::CallRecord) -> Vec<&str> {
    call.turns
        .iter()
        .filter(|t| t.speaker == Speaker::Caller)
        .map(|t| t.text.as_str())
        .collect()
}

/// The `type`s of the text messages Otto sent on the first `/v1/listen` socket.
fn listen_controls(dg: &Deepgram) -> Vec<String> {
    dg.stt.connections()[0]
        .text_messages
        .iter()
        .filter_map(|m| {
            serde_json::from_str::<serde_json::Value>(m).ok()?["type"]
                .as_str()
                .map(str::to_owned)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_finished_question_is_answered_at_the_vad_with_finalize() {
    let dg = Deepgram::start().await;
    dg.stt.push_utterance("What time do you open on Saturday?");
    let app = app_with(&dg, SLOW_ENDPOINTING_MS, 160).await;

    let record = call(&app, [speak(1_000)]).await;
    let delay = answer_delay(&record);
    println!("caller speech end → answer: {delay:?}");
    assert!(
        delay < Duration::from_millis(u64::from(SLOW_ENDPOINTING_MS)),
        "answered after {delay:?}: Otto waited for the recogniser's endpointing"
    );
    assert!(listen_controls(&dg).iter().any(|t| t == "Finalize"));

    let call = call_log(&app, &record).await;
    assert_eq!(caller_turns(&call), ["What time do you open on Saturday?"]);
    let answer = call.turns.last().unwrap();
    assert_eq!(answer.speaker, Speaker::Agent);
    assert!(
        answer.text.contains("Saturday"),
        "the answer is about Saturday: {:?}",
        answer.text
    );
    app.server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pause_mid_sentence_does_not_cut_the_caller_off() {
    let dg = Deepgram::start().await;
    dg.stt
        .push_utterance("I'd like to book an oil change for my");
    dg.stt.push_utterance("Honda Civic please.");
    let app = app_with(&dg, 300, 160).await;

    // A 500 ms pause after "my": early endpointing finalises, but the words lead on.
    let record = call(
        &app,
        [
            speak(1_200),
            CallerStep::Silence(Duration::from_millis(500)),
            speak(700),
        ],
    )
    .await;
    let speech_ends = record
        .events
        .iter()
        .filter(|e| matches!(e.event, SimEvent::CallerSpeechEnded { .. }))
        .count();
    assert_eq!(speech_ends, 2);
    assert!(
        listen_controls(&dg)
            .iter()
            .filter(|t| *t == "Finalize")
            .count()
            >= 1,
        "Otto finalised at the pause"
    );

    let call = call_log(&app, &record).await;
    assert_eq!(
        caller_turns(&call),
        ["I'd like to book an oil change for my Honda Civic please."],
        "one turn, never cut at the pause: {:?}",
        call.turns
    );
    app.server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_early_endpointing_the_recogniser_ends_the_turn() {
    let dg = Deepgram::start().await;
    dg.stt.push_utterance("What time do you open on Saturday?");
    let app = app_with(&dg, 300, 0).await;

    let record = call(&app, [speak(1_000)]).await;
    assert!(
        !listen_controls(&dg).iter().any(|t| t == "Finalize"),
        "no Finalize with call.early_endpointing_ms = 0"
    );
    let call = call_log(&app, &record).await;
    assert!(
        call.turns
            .iter()
            .any(|t| t.speaker == Speaker::Caller && t.text.contains("Saturday")),
        "{:?}",
        call.turns
    );
    app.server.shutdown().await.unwrap();
}
