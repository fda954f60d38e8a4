//! Call recordings over the Twilio protocol against the real server: with `call.record = true`
//! a simulated call leaves `<call_sid>.wav` in the recording directory, stereo 8 kHz with the
//! caller on the left and Otto on the right, and the greeting tells the caller; with it off,
//! nothing is written or said. Speech runs through the Deepgram fakes.

// Test code: a panic on a broken precondition is the failure message.
#![allow(clippy::unwrap_used)]

mod common;
mod vendors;

use std::path::{Path, PathBuf};
use std::time::Duration;

use otto::call::recording::NOTICE;
use otto_core::records::Speaker;
use otto_core::speech::mulaw;

use common::{call_log, spawn_app};
use vendors::{Deepgram, two_turn_call};

/// Loud enough to be speech (the fakes' square waves decode to about ±8000).
const LOUD: u16 = 1_000;

/// Waits for the runner to write the file after the call ended (the rename makes it whole).
async fn wait_for_file(path: &Path) -> bool {
    for _ in 0..100 {
        if path.is_file() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

fn loud(samples: &[i16]) -> usize {
    samples.iter().filter(|s| s.unsigned_abs() > LOUD).count()
}

/// The agent's turns in the call log, joined.
async fn agent_said(app: &common::TestApp, record: &otto_twilio::sim::SimRecord) -> String {
    call_log(app, record)
        .await
        .turns
        .iter()
        .filter(|t| t.speaker == Speaker::Agent)
        .map(|t| t.text.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recorded_call_leaves_a_stereo_wav_of_both_sides() {
    let dg = Deepgram::start().await;
    let recordings = tempfile::tempdir().unwrap();
    let dir = recordings.path().join("calls");
    let app = spawn_app(|c| {
        dg.apply(c);
        c.call.record = true;
        c.call.recording_dir = Some(dir.clone());
    })
    .await;

    let record = two_turn_call(&app, &dg, "What are your hours?", "Thanks, that's all.").await;

    let path: PathBuf = dir.join(format!("{}.wav", record.call_sid.as_str()));
    assert!(
        wait_for_file(&path).await,
        "no recording at {}:\n{record}",
        path.display()
    );
    let mut wav = hound::WavReader::open(&path).unwrap();
    let spec = wav.spec();
    assert_eq!(spec.channels, 2);
    assert_eq!(spec.sample_rate, 8_000);
    assert_eq!(spec.bits_per_sample, 16);
    let samples: Vec<i16> = wav.samples::<i16>().map(Result::unwrap).collect();
    let caller: Vec<i16> = samples.iter().step_by(2).copied().collect();
    let otto: Vec<i16> = samples.iter().skip(1).step_by(2).copied().collect();

    // The caller's side is exactly what the simulator sent, sample for sample.
    let sent: Vec<i16> = record
        .caller_audio
        .iter()
        .map(|&c| mulaw::decode(c))
        .collect();
    assert!(
        caller.len() >= sent.len(),
        "{} < {}",
        caller.len(),
        sent.len()
    );
    assert_eq!(&caller[..sent.len()], &sent[..], "the caller's audio");
    assert!(
        caller[sent.len()..].iter().all(|&s| s == 0),
        "after the caller hung up: silence"
    );
    assert!(loud(&caller) > 8_000, "the caller spoke 1.6 s");

    // Otto's side holds what the caller heard, when they heard it.
    let played: Vec<i16> = record
        .played_audio
        .iter()
        .map(|&c| mulaw::decode(c))
        .collect();
    let (heard, recorded) = (loud(&played), loud(&otto));
    assert!(heard > 8_000, "Otto spoke: {heard}");
    // Otto's side is what the runner queued for the caller, every frame of which was played.
    assert_eq!(
        recorded, heard,
        "Otto's side: {recorded} loud samples recorded, {heard} played"
    );
    let first_loud = |v: &[i16]| v.iter().position(|s| s.unsigned_abs() > LOUD).unwrap();
    let (played_at, recorded_at) = (first_loud(&played), first_loud(&otto));
    assert!(
        played_at.abs_diff(recorded_at) <= 800,
        "the greeting plays at sample {played_at}, recorded at {recorded_at}"
    );
    // Otto does not talk over the caller here: the two sides take turns.
    let overlap = caller
        .iter()
        .zip(&otto)
        .filter(|(c, o)| c.unsigned_abs() > LOUD && o.unsigned_abs() > LOUD)
        .count();
    println!(
        "recording: {} samples, caller sent {}, loud played {heard}, loud recorded {recorded}, \
         overlap {overlap}",
        caller.len(),
        sent.len()
    );
    assert!(overlap < 800, "the sides overlap by {overlap} samples");

    // The greeting told the caller.
    let said = agent_said(&app, &record).await;
    assert!(said.contains(NOTICE), "{said}");
    app.server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_call_record_nothing_is_recorded_or_announced() {
    let dg = Deepgram::start().await;
    let recordings = tempfile::tempdir().unwrap();
    let dir = recordings.path().join("calls");
    let app = spawn_app(|c| {
        dg.apply(c);
        c.call.recording_dir = Some(dir.clone());
    })
    .await;

    let record = two_turn_call(&app, &dg, "What are your hours?", "Thanks, that's all.").await;
    let said = agent_said(&app, &record).await;
    assert!(!said.contains(NOTICE), "{said}");
    app.server.shutdown().await.unwrap();
    assert!(!dir.exists(), "no recording directory");
}
