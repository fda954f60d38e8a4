//! Whole-file helpers the CLI wires: [`transcribe_wav`] (`otto stt FILE`) and [`say_to_wav`]
//! (`otto say TEXT`).

use std::path::Path;

use otto_core::speech::SAMPLE_RATE_HZ;

use crate::audio::{resample, wav};
use crate::stt::whisper::{Transcript, UtteranceTiming, WhisperModel};
use crate::tts::flite::Voice;
use crate::tts::{local::synthesize_mulaw, split_sentences};
use otto_core::speech::SpeechError;

/// Longest piece decoded at once, samples at 8 kHz (14 s: whisper's window is 15 s with
/// `audio_ctx = 750`).
const MAX_PIECE: usize = 14 * SAMPLE_RATE_HZ as usize;
/// Earliest cut point in a long file, samples (10 s); the cut goes at the quietest 20 ms
/// between 10 and 14 s so words are not split.
const MIN_PIECE: usize = 10 * SAMPLE_RATE_HZ as usize;

/// Transcribes a WAV file (μ-law 8 kHz, or PCM16 at any rate and channel count) with `model`.
/// Audio is brought to the telephone rate (8 kHz) first, as calls are; files longer than 14 s
/// are decoded in pieces cut at quiet points. Blocking.
///
/// Errors: [`SpeechError::Io`], [`SpeechError::InvalidAudio`] for unsupported files,
/// [`SpeechError::Recognition`].
pub fn transcribe_wav(path: &Path, model: &WhisperModel) -> Result<Transcript, SpeechError> {
    let audio = wav::read_wav(path)?;
    let samples = resample::resample(&audio.samples, audio.sample_rate, SAMPLE_RATE_HZ)?;
    let mut state = model.new_state()?;
    let mut texts = Vec::new();
    let mut timing = UtteranceTiming::default();
    let mut rest: &[f32] = &samples;
    while !rest.is_empty() {
        let cut = if rest.len() <= MAX_PIECE {
            rest.len()
        } else {
            quietest_cut(rest)
        };
        let t = model.transcribe_8k(&mut state, &rest[..cut])?;
        timing.audio_ms += t.timing.audio_ms;
        timing.decode_ms += t.timing.decode_ms;
        if !t.text.is_empty() {
            texts.push(t.text);
        }
        rest = &rest[cut..];
    }
    Ok(Transcript {
        text: texts.join(" "),
        timing,
    })
}

fn quietest_cut(samples: &[f32]) -> usize {
    let frame = 160;
    (MIN_PIECE / frame..MAX_PIECE / frame)
        .map(|i| {
            let energy: f32 = samples[i * frame..(i + 1) * frame]
                .iter()
                .map(|s| s * s)
                .sum();
            (i * frame, energy)
        })
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map_or(MAX_PIECE, |(at, _)| at.max(frame))
}

/// Synthesises `text` with `voice` and writes it as a μ-law 8 kHz WAV at `path`; returns the
/// audio length in ms. Blocking.
///
/// Errors: [`SpeechError::Synthesis`]; [`SpeechError::Io`] when the file cannot be written.
pub fn say_to_wav(text: &str, voice: Voice, path: &Path) -> Result<u64, SpeechError> {
    let mut mulaw = Vec::new();
    for sentence in split_sentences(text) {
        mulaw.extend(synthesize_mulaw(sentence, voice)?);
    }
    wav::write_mulaw_wav(path, &mulaw)?;
    Ok(mulaw.len() as u64 / 8)
}
