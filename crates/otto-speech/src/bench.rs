//! The speech benchmark (`otto bench speech`, `cargo bench -p otto-speech`): decode time per
//! utterance (p50/p99) and real-time factor, word error rate of flite → μ-law → whisper round
//! trips, TTS time per sentence, and utterances per second sustained through the shared decode
//! pool. It prints figures; it asserts nothing.

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use otto_core::stats::Latency;

use crate::stt::normalize::word_error_rate;
use crate::stt::whisper::{DecodePool, PoolConfig, WhisperModel, WhisperSettings};
use crate::tts::flite::Voice;
use crate::tts::local::synthesize_mulaw;
use otto_core::speech::SpeechError;
use otto_core::speech::mulaw;

/// Shop-call sentences used for round-trip tests and the benchmark: booking, phone numbers
/// read out, dates and times, a VIN spelled, yes/no.
pub const SHOP_SENTENCES: &[&str] = &[
    "Hi, I would like to book an oil change.",
    "Can you look at my brakes tomorrow morning?",
    "My phone number is five five five, one two three, four five six seven.",
    "You can reach me at two zero six, five five five, zero one nine eight.",
    "Is Tuesday at ten in the morning available?",
    "I can bring the car in on Friday at two thirty.",
    "Yes, that works for me.",
    "No, I need a later time.",
    "The VIN is one H G C M eight two six three three A.",
    "It is a twenty fifteen Honda Accord.",
    "My name is John Smith.",
    "The check engine light came on yesterday.",
    "How much does a tire rotation cost?",
    "I need new tires for my truck.",
    "Can I drop off the car on Monday, March third?",
    "What time do you close on Saturday?",
    "Please cancel my appointment for Thursday.",
    "I want to reschedule to next Wednesday afternoon.",
    "The car makes a grinding noise when I stop.",
    "Do you do transmission repair?",
    "Okay, thank you very much.",
    "My email is john at example dot com.",
];

/// Measured figures.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchReport {
    /// Utterances decoded one by one.
    pub utterances: usize,
    /// Decode time per utterance, median, ms.
    pub decode_p50_ms: f64,
    /// Decode time per utterance, 99th percentile (max for small samples), ms.
    pub decode_p99_ms: f64,
    /// Decode time / audio time, over all utterances.
    pub real_time_factor: f64,
    /// Word error rate over all utterances (edits / reference words).
    pub wer: f64,
    /// flite kal synthesis per sentence, median, ms.
    pub tts_kal_p50_ms: f64,
    /// flite slt synthesis (+ resampling to 8 kHz) per sentence, median, ms.
    pub tts_slt_p50_ms: f64,
    /// Utterances per second through a pool of 1 worker × 2 threads.
    pub pool_1x2_per_s: f64,
    /// Utterances per second through a pool of 2 workers × 1 thread.
    pub pool_2x1_per_s: f64,
}

impl fmt::Display for BenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "speech benchmark ({} utterances, flite kal -> mu-law 8 kHz -> whisper)",
            self.utterances
        )?;
        writeln!(
            f,
            "  decode per utterance: p50 {:.0} ms, p99 {:.0} ms, real-time factor {:.3}",
            self.decode_p50_ms, self.decode_p99_ms, self.real_time_factor
        )?;
        writeln!(f, "  round-trip WER: {:.1} %", self.wer * 100.0)?;
        writeln!(
            f,
            "  TTS per sentence: kal p50 {:.1} ms, slt p50 {:.1} ms",
            self.tts_kal_p50_ms, self.tts_slt_p50_ms
        )?;
        write!(
            f,
            "  sustained: {:.2} utterances/s (1 worker x 2 threads), {:.2} utterances/s (2 workers x 1 thread)",
            self.pool_1x2_per_s, self.pool_2x1_per_s
        )
    }
}

fn median_ms(v: Vec<f64>) -> f64 {
    Latency::from_ms(v).p50_ms
}

/// Runs the benchmark with the ggml model at `model_path` (blocking; about a minute on 2
/// cores). Builds its own tokio runtime for the pool measurement.
///
/// Errors: [`SpeechError::Model`] when the model cannot be loaded; synthesis/recognition errors.
pub fn bench(model_path: &Path) -> Result<BenchReport, SpeechError> {
    let mut kal_ms = Vec::new();
    let mut slt_ms = Vec::new();
    let mut audio = Vec::new();
    for s in SHOP_SENTENCES {
        let t = Instant::now();
        audio.push(synthesize_mulaw(s, Voice::Kal)?);
        kal_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        synthesize_mulaw(s, Voice::Slt)?;
        slt_ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }

    let model = Arc::new(WhisperModel::load(model_path, WhisperSettings::default())?);
    let mut state = model.new_state()?;
    let mut decode_ms = Vec::new();
    let (mut total_decode, mut total_audio, mut edits) = (0.0, 0.0, 0.0);
    let mut ref_words = 0usize;
    for (sentence, mulaw_audio) in SHOP_SENTENCES.iter().zip(&audio) {
        let t = model.transcribe_8k(&mut state, &mulaw::decode_to_f32(mulaw_audio))?;
        decode_ms.push(t.timing.decode_ms as f64);
        total_decode += t.timing.decode_ms as f64;
        total_audio += t.timing.audio_ms as f64;
        let words = crate::stt::normalize::normalize(sentence).len();
        edits += word_error_rate(sentence, &t.text) * words as f64;
        ref_words += words;
    }

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| SpeechError::Recognition(format!("cannot build runtime: {e}")))?;
    let sustained = |workers: usize, threads: usize| -> Result<f64, SpeechError> {
        let settings = WhisperSettings {
            threads,
            ..WhisperSettings::default()
        };
        let model = Arc::new(WhisperModel::load(model_path, settings)?);
        let pool = DecodePool::start(
            model,
            PoolConfig {
                workers,
                queue_capacity: 64,
            },
        )?;
        let samples: Vec<Vec<f32>> = audio.iter().map(|a| mulaw::decode_to_f32(a)).collect();
        runtime.block_on(async {
            let start = Instant::now();
            let jobs: Vec<_> = samples
                .into_iter()
                .map(|s| {
                    let pool = pool.clone();
                    tokio::spawn(async move { pool.transcribe(s).await })
                })
                .collect();
            for job in jobs {
                job.await
                    .map_err(|e| SpeechError::Recognition(e.to_string()))??;
            }
            Ok::<f64, SpeechError>(audio.len() as f64 / start.elapsed().as_secs_f64())
        })
    };
    let pool_1x2_per_s = sustained(1, 2)?;
    let pool_2x1_per_s = sustained(2, 1)?;

    let decode = Latency::from_ms(decode_ms);
    Ok(BenchReport {
        utterances: SHOP_SENTENCES.len(),
        decode_p50_ms: decode.p50_ms,
        decode_p99_ms: decode.p99_ms,
        real_time_factor: if total_audio > 0.0 {
            total_decode / total_audio
        } else {
            0.0
        },
        wer: if ref_words > 0 {
            edits / ref_words as f64
        } else {
            0.0
        },
        tts_kal_p50_ms: median_ms(kal_ms),
        tts_slt_p50_ms: median_ms(slt_ms),
        pool_1x2_per_s,
        pool_2x1_per_s,
    })
}
