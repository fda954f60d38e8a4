//! The mel filterbank whisper.cpp reads from a ggml file: 80 × 201 Slaney-scale,
//! Slaney-normalised triangular filters for 16 kHz audio and a 400-point FFT, computed as
//! `librosa.filters.mel(sr=16000, n_fft=400, n_mels=80)` does (librosa 0.10, `htk=False`,
//! `norm="slaney"`), which is what openai/whisper ships in `mel_filters.npz`.

/// Whisper's sample rate, Hz.
pub const WHISPER_SAMPLE_RATE: u32 = 16_000;
/// Whisper's FFT size, samples.
pub const N_FFT: usize = 400;

fn hz_to_mel(hz: f64) -> f64 {
    const F_SP: f64 = 200.0 / 3.0;
    const MIN_LOG_HZ: f64 = 1000.0;
    let min_log_mel = MIN_LOG_HZ / F_SP;
    let logstep = 6.4f64.ln() / 27.0;
    if hz >= MIN_LOG_HZ {
        min_log_mel + (hz / MIN_LOG_HZ).ln() / logstep
    } else {
        hz / F_SP
    }
}

fn mel_to_hz(mel: f64) -> f64 {
    const F_SP: f64 = 200.0 / 3.0;
    const MIN_LOG_HZ: f64 = 1000.0;
    let min_log_mel = MIN_LOG_HZ / F_SP;
    let logstep = 6.4f64.ln() / 27.0;
    if mel >= min_log_mel {
        MIN_LOG_HZ * (logstep * (mel - min_log_mel)).exp()
    } else {
        F_SP * mel
    }
}

/// The filterbank, row-major `[n_mels][N_FFT / 2 + 1]`.
pub fn mel_filters(n_mels: usize) -> Vec<f32> {
    let n_bins = N_FFT / 2 + 1;
    let nyquist = f64::from(WHISPER_SAMPLE_RATE) / 2.0;
    let fft_freqs: Vec<f64> = (0..n_bins)
        .map(|i| nyquist * i as f64 / (n_bins - 1) as f64)
        .collect();
    let max_mel = hz_to_mel(nyquist);
    let mel_f: Vec<f64> = (0..n_mels + 2)
        .map(|i| mel_to_hz(max_mel * i as f64 / (n_mels + 1) as f64))
        .collect();
    let mut weights = vec![0f32; n_mels * n_bins];
    for m in 0..n_mels {
        let enorm = 2.0 / (mel_f[m + 2] - mel_f[m]);
        for (b, &f) in fft_freqs.iter().enumerate() {
            let lower = (f - mel_f[m]) / (mel_f[m + 1] - mel_f[m]);
            let upper = (mel_f[m + 2] - f) / (mel_f[m + 2] - mel_f[m + 1]);
            weights[m * n_bins + b] = (lower.min(upper).max(0.0) * enorm) as f32;
        }
    }
    weights
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slaney_scale_is_linear_below_1khz_and_continuous() {
        assert!((hz_to_mel(1000.0) - 15.0).abs() < 1e-9);
        assert!((mel_to_hz(hz_to_mel(3000.0)) - 3000.0).abs() < 1e-6);
        assert!((hz_to_mel(500.0) - 7.5).abs() < 1e-9);
    }

    #[test]
    fn filters_are_normalised_triangles() {
        let w = mel_filters(80);
        assert_eq!(w.len(), 80 * 201);
        for m in 0..80 {
            let row = &w[m * 201..(m + 1) * 201];
            assert!(row.iter().all(|&x| x >= 0.0));
            assert!(row.iter().any(|&x| x > 0.0), "filter {m} is empty");
        }
        // Slaney normalisation: each filter's area (in Hz) is about 1 (width 2/enorm, height enorm/2... )
        // so row sums times the 40 Hz bin spacing stay near 1 for wide filters.
        let last = &w[79 * 201..];
        let area: f32 = last.iter().sum::<f32>() * 40.0;
        assert!((0.8..1.2).contains(&area), "area {area}");
        // First filter: linear region, peak at 2 bins.
        assert!(w[0] == 0.0 && w[1] > 0.0);
    }
}
