//! Summary statistics for the benchmarks (`otto bench store|speech|calls`): the mean and
//! nearest-rank percentiles of latency samples in milliseconds.

use std::time::Duration;

/// The mean, p50 and p99 of a set of latency samples, in ms (percentiles by the nearest-rank
/// method: the smallest sample with at least p·n samples at or below it). All zeros for no
/// samples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Latency {
    /// Number of samples.
    pub samples: usize,
    /// Arithmetic mean, ms.
    pub mean_ms: f64,
    /// Median, ms.
    pub p50_ms: f64,
    /// 99th percentile, ms (the maximum when there are fewer than 100 samples).
    pub p99_ms: f64,
}

impl Latency {
    /// Summarises samples given in ms (they may be negative, e.g. a latency minus a baseline;
    /// NaNs sort last).
    pub fn from_ms(mut samples: Vec<f64>) -> Self {
        samples.sort_by(f64::total_cmp);
        Self {
            samples: samples.len(),
            mean_ms: samples.iter().sum::<f64>() / samples.len().max(1) as f64,
            p50_ms: nearest_rank(&samples, 0.50),
            p99_ms: nearest_rank(&samples, 0.99),
        }
    }

    /// Summarises durations.
    pub fn from_durations(samples: impl IntoIterator<Item = Duration>) -> Self {
        Self::from_ms(samples.into_iter().map(|d| d.as_secs_f64() * 1e3).collect())
    }
}

/// The `p`-quantile (0.0..=1.0) of `sorted` (ascending) by nearest rank; 0.0 when empty.
pub fn nearest_rank(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (p.clamp(0.0, 1.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_nearest_rank() {
        let l = Latency::from_durations((1..=100).rev().map(Duration::from_millis));
        assert_eq!((l.samples, l.p50_ms, l.p99_ms), (100, 50.0, 99.0));
        assert_eq!(l.mean_ms, 50.5);
        let one = Latency::from_ms(vec![7.0]);
        assert_eq!((one.p50_ms, one.p99_ms), (7.0, 7.0));
        let few = Latency::from_ms(vec![3.0, -1.0, 2.0]);
        assert_eq!((few.p50_ms, few.p99_ms), (2.0, 3.0));
        assert!((few.mean_ms - 4.0 / 3.0).abs() < 1e-9);
        let none = Latency::from_ms(Vec::new());
        assert_eq!((none.samples, none.mean_ms), (0, 0.0));
        assert_eq!(nearest_rank(&[], 0.5), 0.0);
    }
}
