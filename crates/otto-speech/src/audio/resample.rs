//! Sample-rate conversion of whole mono buffers with `rubato` (FFT resampler, band-limited).
//!
//! Used where an engine needs another rate than the telephone's 8 kHz: whisper.cpp takes
//! 16 kHz, flite's `slt` voice speaks at 16 kHz, PCM16 WAVs come at any rate.

use rubato::{FftFixedInOut, Resampler};

use otto_core::speech::SpeechError;

/// Input chunk size given to the FFT resampler, in samples.
const CHUNK: usize = 1024;

/// Resamples `samples` (mono `f32`) from `from_hz` to `to_hz`. The output has
/// `len * to_hz / from_hz` samples (rounded), aligned with the input (the resampler's delay is
/// removed). Same rate returns a copy.
///
/// Errors: [`SpeechError::InvalidAudio`] when a rate is zero or the resampler rejects it.
pub fn resample(samples: &[f32], from_hz: u32, to_hz: u32) -> Result<Vec<f32>, SpeechError> {
    if from_hz == 0 || to_hz == 0 {
        return Err(SpeechError::InvalidAudio(format!(
            "sample rate must be positive (from {from_hz} Hz to {to_hz} Hz)"
        )));
    }
    if from_hz == to_hz || samples.is_empty() {
        return Ok(samples.to_vec());
    }
    let bad = |e: &dyn std::fmt::Display| {
        SpeechError::InvalidAudio(format!("resampling {from_hz} Hz to {to_hz} Hz: {e}"))
    };
    let mut resampler = FftFixedInOut::<f32>::new(from_hz as usize, to_hz as usize, CHUNK, 1)
        .map_err(|e| bad(&e))?;
    let wanted = (samples.len() as u64 * u64::from(to_hz)).div_ceil(u64::from(from_hz)) as usize;
    let delay = resampler.output_delay();
    let mut out = Vec::with_capacity(wanted + delay + CHUNK * 2);
    let mut pos = 0;
    while samples.len() - pos >= resampler.input_frames_next() {
        let n = resampler.input_frames_next();
        let chunk = resampler
            .process(&[&samples[pos..pos + n]], None)
            .map_err(|e| bad(&e))?;
        out.extend_from_slice(&chunk[0]);
        pos += n;
    }
    if pos < samples.len() {
        let chunk = resampler
            .process_partial(Some(&[&samples[pos..]]), None)
            .map_err(|e| bad(&e))?;
        out.extend_from_slice(&chunk[0]);
    }
    while out.len() < wanted + delay {
        let chunk = resampler
            .process_partial::<&[f32]>(None, None)
            .map_err(|e| bad(&e))?;
        out.extend_from_slice(&chunk[0]);
    }
    out.drain(..delay);
    out.truncate(wanted);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(freq: f32, rate: u32, len: usize) -> Vec<f32> {
        (0..len)
            .map(|i| (2.0 * std::f32::consts::PI * freq * i as f32 / rate as f32).sin() * 0.5)
            .collect()
    }

    #[test]
    fn upsample_keeps_length_and_tone() {
        let input = sine(440.0, 8000, 8000);
        let out = resample(&input, 8000, 16000).expect("valid rates");
        assert_eq!(out.len(), 16000);
        let expected = sine(440.0, 16000, 16000);
        // Compare away from the edges, where the band-limited filter has transients.
        let err: f32 = out[1000..15000]
            .iter()
            .zip(&expected[1000..15000])
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        assert!(err < 0.02, "max error {err}");
    }

    #[test]
    fn downsample_removes_energy_above_nyquist() {
        let input = sine(6000.0, 16000, 16000);
        let out = resample(&input, 16000, 8000).expect("valid rates");
        assert_eq!(out.len(), 8000);
        let rms = (out[500..7500].iter().map(|s| s * s).sum::<f32>() / 7000.0).sqrt();
        assert!(
            rms < 0.02,
            "6 kHz tone should be filtered at 8 kHz, rms {rms}"
        );
    }

    #[test]
    fn zero_rate_is_an_error() {
        assert!(matches!(
            resample(&[0.0], 0, 16000),
            Err(SpeechError::InvalidAudio(_))
        ));
    }
}
