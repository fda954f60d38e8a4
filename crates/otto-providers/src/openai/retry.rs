//! [`with_retries`]: retrying a streamed request while it has produced nothing yet
//! (`openai.md` §4.1: never retry once output reached the caller, it would be duplicated).

use std::future::Future;
use std::time::Duration;

use futures_util::StreamExt;

use super::OpenAiConfig;
use super::stream::ChatStream;
use crate::ProviderError;

/// How many times and how long to wait between attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// First backoff delay, doubled per retry.
    pub initial_delay: Duration,
    /// Cap on every delay, including the server's `retry-after`.
    pub max_delay: Duration,
}

impl RetryPolicy {
    /// The policy configured in `config` (`max_retries`, `initial_retry_delay_ms`,
    /// `max_retry_delay_ms`).
    pub fn from_config(config: &OpenAiConfig) -> Self {
        Self {
            max_retries: config.max_retries,
            initial_delay: Duration::from_millis(config.initial_retry_delay_ms),
            max_delay: Duration::from_millis(config.max_retry_delay_ms),
        }
    }

    /// The wait before retry number `retry` (0-based) after `error`: the server's
    /// `retry-after(-ms)` when it gave one, else `initial_delay · 2^retry` minus up to 25 %
    /// jitter; capped at `max_delay` either way.
    pub fn delay(&self, retry: u32, error: &ProviderError) -> Duration {
        let wait = error.retry_after().unwrap_or_else(|| {
            let backoff = self
                .initial_delay
                .saturating_mul(2u32.saturating_pow(retry.min(16)));
            backoff.mul_f64(1.0 - 0.25 * fastrand::f64())
        });
        wait.min(self.max_delay)
    }
}

/// Opens a stream with `open` and waits for its first item; while that fails with a
/// [`ProviderError::retryable`] error and retries remain, sleeps [`RetryPolicy::delay`] and
/// tries again. Once a first delta arrived the stream is returned as is (that delta first):
/// later errors reach the caller unretried.
///
/// # Errors
/// The last attempt's error, or the first non-retryable one.
pub async fn with_retries<F, Fut>(
    policy: &RetryPolicy,
    mut open: F,
) -> Result<ChatStream, ProviderError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<ChatStream, ProviderError>>,
{
    let mut retry = 0;
    loop {
        let error = match open().await {
            Ok(mut stream) => match stream.next().await {
                Some(Ok(first)) => return Ok(stream.prepend(Ok(first))),
                Some(Err(e)) => e,
                None => return Ok(stream),
            },
            Err(e) => e,
        };
        if !error.retryable() || retry >= policy.max_retries {
            return Err(error);
        }
        let wait = policy.delay(retry, &error);
        tracing::warn!(%error, retry = retry + 1, wait_ms = wait.as_millis() as u64, "retrying chat completion");
        tokio::time::sleep(wait).await;
        retry += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delay_honours_retry_after_capped_and_backs_off_otherwise() {
        let policy = RetryPolicy {
            max_retries: 3,
            initial_delay: Duration::from_millis(400),
            max_delay: Duration::from_millis(2000),
        };
        let with_hint = |ms| ProviderError::Status {
            vendor: "openai",
            status: 429,
            message: String::new(),
            code: None,
            retry_after: Some(Duration::from_millis(ms)),
            should_retry: None,
        };
        assert_eq!(policy.delay(0, &with_hint(250)), Duration::from_millis(250));
        assert_eq!(
            policy.delay(0, &with_hint(30_000)),
            Duration::from_millis(2000)
        );
        let plain = ProviderError::Timeout {
            vendor: "openai",
            after_ms: 1,
        };
        for (retry, full) in [(0, 400u64), (1, 800), (2, 1600)] {
            let d = policy.delay(retry, &plain).as_millis() as u64;
            assert!((full * 3 / 4..=full).contains(&d), "retry {retry}: {d} ms");
        }
        assert_eq!(policy.delay(3, &plain), Duration::from_millis(2000));
    }
}
