//! Tests that need the whisper model: flite → μ-law → whisper round trips (WER on shop-call
//! sentences), the local STT stream end to end, WAV helpers and model verification.
//!
//! The model is read from `OTTO_WHISPER_MODEL`, else `<repo>/data/models/ggml-tiny.en.bin`.
//! When it is missing these tests FAIL and say how to fetch it. One model is loaded per test
//! binary and shared; decodes are kept few (each costs about 0.6 s on 2 cores).

// Test code: a panic on a broken precondition is the failure message.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use otto_core::speech::stt::SpeechToText;
use otto_core::speech::{FRAME_BYTES, SttEvent};
use otto_core::speech::{frames, mulaw};
use otto_speech::bench::SHOP_SENTENCES;
use otto_speech::stt::local::LocalStt;
use otto_speech::stt::normalize::{normalize, word_error_rate};
use otto_speech::stt::whisper::{PoolConfig, WhisperModel, WhisperSettings};
use otto_speech::tts::flite::Voice;
use otto_speech::tts::local::synthesize_mulaw;
use otto_speech::vad::VadConfig;

fn model_path() -> PathBuf {
    std::env::var_os("OTTO_WHISPER_MODEL")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/models/ggml-tiny.en.bin")
        })
}

fn model() -> Arc<WhisperModel> {
    static MODEL: OnceLock<Arc<WhisperModel>> = OnceLock::new();
    MODEL
        .get_or_init(|| {
            let path = model_path();
            match WhisperModel::load(&path, WhisperSettings::default()) {
                Ok(m) => Arc::new(m),
                Err(e) => panic!(
                    "whisper model not usable at {} ({e}). Fetch it with `cargo run -p otto -- models fetch` \
                     (or set OTTO_WHISPER_MODEL to a ggml model file)",
                    path.display()
                ),
            }
        })
        .clone()
}

#[test]
fn shop_sentences_round_trip_under_15_percent_wer() {
    let model = model();
    let mut state = model.new_state().expect("state");
    let (mut edits, mut words) = (0.0, 0usize);
    let mut worst = Vec::new();
    for sentence in SHOP_SENTENCES {
        let audio = synthesize_mulaw(sentence, Voice::Kal).expect("flite");
        let t = model
            .transcribe_8k(&mut state, &mulaw::decode_to_f32(&audio))
            .expect("decode");
        let n = normalize(sentence).len();
        let wer = word_error_rate(sentence, &t.text);
        edits += wer * n as f64;
        words += n;
        if wer > 0.0 {
            worst.push(format!("{wer:.2} {sentence:?} -> {:?}", t.text));
        }
        assert!(t.timing.decode_ms > 0 && t.timing.audio_ms > 500);
    }
    let wer = edits / words as f64;
    println!(
        "round-trip WER {:.1} % over {} sentences\n{}",
        wer * 100.0,
        SHOP_SENTENCES.len(),
        worst.join("\n")
    );
    assert!(SHOP_SENTENCES.len() >= 20);
    assert!(
        wer < 0.15,
        "WER {:.1} %:\n{}",
        wer * 100.0,
        worst.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_stream_gives_two_utterances_for_two_sentences_with_a_gap() {
    let stt =
        LocalStt::with_model(model(), PoolConfig::default(), VadConfig::default()).expect("pool");
    let mut session = stt.open().await.expect("opens");
    let first = "I need an oil change.";
    let second = "Yes, that works for me.";
    let mut audio = frames::silence(400);
    let onset_1 = audio.len();
    audio.extend(synthesize_mulaw(first, Voice::Kal).expect("flite"));
    audio.extend(frames::silence(1000));
    let onset_2 = audio.len();
    audio.extend(synthesize_mulaw(second, Voice::Kal).expect("flite"));
    audio.extend(frames::silence(1000));
    // Speech onset in audio time: the first non-silent sample of each sentence.
    let onset_ms = |from: usize| -> u64 {
        let i = audio[from..]
            .iter()
            .position(|&b| mulaw::decode(b).abs() > 300)
            .expect("speech")
            + from;
        i as u64 / 8
    };
    let (expected_1, expected_2) = (onset_ms(onset_1), onset_ms(onset_2));
    for frame in audio.chunks(FRAME_BYTES) {
        session.stream.push_audio(frame).expect("push never blocks");
    }
    session.stream.close().await.expect("close");
    let mut events = Vec::new();
    while let Some(e) = tokio::time::timeout(Duration::from_secs(60), session.events.recv())
        .await
        .expect("events arrive")
    {
        events.push(e);
    }
    let starts: Vec<u64> = events
        .iter()
        .filter_map(|e| match e {
            SttEvent::SpeechStarted { at_ms } => Some(*at_ms),
            _ => None,
        })
        .collect();
    let finals: Vec<(&String, bool)> = events
        .iter()
        .filter_map(|e| match e {
            SttEvent::Final {
                text, speech_final, ..
            } => Some((text, *speech_final)),
            _ => None,
        })
        .collect();
    let ends = events
        .iter()
        .filter(|e| matches!(e, SttEvent::UtteranceEnd { .. }))
        .count();
    assert_eq!(starts.len(), 2, "{events:?}");
    for (start, expected) in starts.iter().zip([expected_1, expected_2]) {
        assert!(
            start.abs_diff(expected) <= 100,
            "speech at {expected} ms reported at {start} ms"
        );
    }
    assert_eq!(finals.len(), 2, "{events:?}");
    assert!(finals.iter().all(|(_, speech_final)| *speech_final));
    assert!(
        word_error_rate(first, finals[0].0) <= 0.25,
        "{:?}",
        finals[0].0
    );
    assert!(
        word_error_rate(second, finals[1].0) <= 0.25,
        "{:?}",
        finals[1].0
    );
    assert_eq!(ends, 2);
}

#[test]
fn wav_helpers_round_trip_and_existing_model_is_kept() {
    let dir = std::env::temp_dir().join(format!("otto-speech-wav-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let wav = dir.join("say.wav");
    let sentence = "Your car will be ready at four thirty.";
    let ms = otto_speech::files::say_to_wav(sentence, Voice::Slt, &wav).expect("writes");
    assert!(ms > 1000, "{ms} ms");
    let t = otto_speech::files::transcribe_wav(&wav, &model()).expect("transcribes");
    assert!(word_error_rate(sentence, &t.text) <= 0.25, "{:?}", t.text);
    let _ = std::fs::remove_dir_all(&dir);

    let report =
        otto_speech::model::fetch_model(&model_path(), &otto_speech::model::ModelSource::Default)
            .expect("existing model verifies");
    assert!(report.kept_existing);
    assert!(report.bytes > 20_000_000);
}

#[test]
fn truncated_real_model_fails_at_load_not_mid_call() {
    let bytes = std::fs::read(model_path()).expect("model readable");
    let path = std::env::temp_dir().join(format!("otto-truncated-{}.bin", std::process::id()));
    std::fs::write(&path, &bytes[..bytes.len() / 2]).expect("write");
    let err = WhisperModel::load(&path, WhisperSettings::default())
        .expect_err("half a model must not load");
    let _ = std::fs::remove_file(&path);
    assert!(err.to_string().contains("otto models fetch"), "{err}");
}

/// Pushes μ-law audio into a stream frame by frame.
fn push_all(session: &mut otto_core::speech::stt::SttSession, audio: &[u8]) {
    for frame in audio.chunks(FRAME_BYTES) {
        session.stream.push_audio(frame).expect("push never blocks");
    }
}

/// `text` spoken by flite without its leading and trailing silence, so the pauses a test adds
/// are exact.
fn spoken(text: &str) -> Vec<u8> {
    let audio = synthesize_mulaw(text, Voice::Kal).expect("flite");
    let loud = |b: &u8| mulaw::decode(*b).abs() > 300;
    let start = audio.iter().position(loud).unwrap_or(0);
    let end = audio.iter().rposition(loud).map_or(start, |i| i + 1);
    audio[start..end].to_vec()
}

/// Waits until the pool has started `n` decodes.
async fn wait_for_decodes(stt: &LocalStt, n: u64) {
    for _ in 0..600 {
        if stt.decodes() >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{} decodes started, expected {n}", stt.decodes());
}

/// The finals of a closed stream's events.
async fn finals(events: &mut tokio::sync::mpsc::Receiver<SttEvent>) -> Vec<String> {
    let mut texts = Vec::new();
    while let Some(e) = tokio::time::timeout(Duration::from_secs(60), events.recv())
        .await
        .expect("events arrive")
    {
        if let SttEvent::Final { text, .. } = e {
            texts.push(text);
        }
    }
    texts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decoding_starts_at_the_pause_and_its_result_is_the_final() {
    let stt =
        LocalStt::with_model(model(), PoolConfig::default(), VadConfig::default()).expect("pool");
    let mut session = stt.open().await.expect("opens");
    let line = "What time do you open on Saturday?";
    let mut audio = frames::silence(400);
    audio.extend(spoken(line));
    audio.extend(frames::silence(300));
    push_all(&mut session, &audio);
    // 300 ms of silence: past the pause (200 ms), before the end (500 ms). The decode starts.
    wait_for_decodes(&stt, 1).await;
    push_all(&mut session, &frames::silence(700));
    session.stream.close().await.expect("close");
    let texts = finals(&mut session.events).await;
    assert_eq!(texts.len(), 1, "{texts:?}");
    assert!(word_error_rate(line, &texts[0]) <= 0.25, "{texts:?}");
    assert_eq!(stt.decodes(), 1, "the pause's decode was the final's");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn speech_after_a_pause_is_decoded_whole() {
    let stt =
        LocalStt::with_model(model(), PoolConfig::default(), VadConfig::default()).expect("pool");
    let mut session = stt.open().await.expect("opens");
    let mut audio = frames::silence(400);
    audio.extend(spoken("I need an oil change"));
    audio.extend(frames::silence(300));
    push_all(&mut session, &audio);
    wait_for_decodes(&stt, 1).await;
    // The caller goes on after the pause: the speculative transcript is dropped.
    let mut rest = spoken("for my Honda Civic.");
    rest.extend(frames::silence(1000));
    push_all(&mut session, &rest);
    session.stream.close().await.expect("close");
    let texts = finals(&mut session.events).await;
    assert_eq!(texts.len(), 1, "one utterance: {texts:?}");
    let heard = texts[0].to_lowercase();
    assert!(
        heard.contains("oil") && heard.contains("civic"),
        "both halves in one final: {texts:?}"
    );
    assert_eq!(
        stt.decodes(),
        2,
        "the pause's decode, then the whole utterance"
    );
}
