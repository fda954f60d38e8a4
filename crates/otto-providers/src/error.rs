//! [`ProviderError`]: every way a vendor call can fail, and whether retrying can help.

use std::time::Duration;

/// Why a vendor call failed.
///
/// [`ProviderError::retryable`] says whether the same request may succeed later;
/// [`ProviderError::retry_after`] carries the vendor's own hint (`retry-after-ms` /
/// `retry-after`) when it gave one.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProviderError {
    /// The client's configuration is unusable (e.g. a base URL that does not parse).
    #[error("invalid provider configuration: {0}")]
    Config(String),
    /// The caller's input was rejected before any request (e.g. a malformed VIN).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The feature is switched off in configuration.
    #[error("{0} is disabled in configuration")]
    Disabled(&'static str),
    /// The vendor answered with an HTTP error status.
    #[error("{vendor} answered HTTP {status}: {message}")]
    Status {
        /// Which vendor (`"openai"`, `"nhtsa"`).
        vendor: &'static str,
        /// HTTP status code.
        status: u16,
        /// The vendor's error message (or the start of its raw body).
        message: String,
        /// The vendor's error `code` or `type` (e.g. `rate_limit_exceeded`,
        /// `insufficient_quota`, `invalid_api_key`), when it gave one.
        code: Option<String>,
        /// The vendor's retry delay from `retry-after-ms` / `retry-after`, if in (0, 60 s].
        retry_after: Option<Duration>,
        /// The vendor's `x-should-retry` header, if present.
        should_retry: Option<bool>,
    },
    /// The connection failed or broke (connect refused, reset, TLS, body read error).
    #[error("{vendor} connection failed: {message}")]
    Transport {
        /// Which vendor.
        vendor: &'static str,
        /// What failed.
        message: String,
    },
    /// No answer, or no bytes of a streamed answer, within the deadline.
    #[error("{vendor} timed out after {after_ms} ms")]
    Timeout {
        /// Which vendor.
        vendor: &'static str,
        /// The deadline that passed, in ms.
        after_ms: u64,
    },
    /// The vendor reported an error inside a 200 stream (`{"error": {...}}` SSE event).
    #[error("{vendor} reported an error mid-stream: {message}")]
    InStream {
        /// Which vendor.
        vendor: &'static str,
        /// The error message.
        message: String,
        /// The error `type` (e.g. `server_error`), when given.
        kind: Option<String>,
    },
    /// The vendor's answer broke its protocol (bad JSON, wrong content type, truncated stream).
    #[error("{vendor} sent an invalid answer: {message}")]
    Protocol {
        /// Which vendor.
        vendor: &'static str,
        /// What was wrong.
        message: String,
        /// Whether this is the kind of fault a retry can cure (a truncated stream or an HTML
        /// error page from a proxy), as opposed to a consistent format mismatch.
        transient: bool,
    },
}

impl ProviderError {
    /// Whether retrying the same request may succeed.
    ///
    /// Follows the OpenAI SDK policy (`openai.md` §4.1): `x-should-retry` decides when
    /// present; otherwise 408, 409, 429 and 5xx are retryable, except a 429 whose code is
    /// `insufficient_quota` (retrying never helps). Connection failures, timeouts, transient
    /// protocol faults and `server_error`s reported in-stream are retryable; configuration,
    /// input and other 4xx errors are not.
    pub fn retryable(&self) -> bool {
        match self {
            Self::Config(_) | Self::InvalidInput(_) | Self::Disabled(_) => false,
            Self::Status {
                status,
                code,
                should_retry,
                ..
            } => should_retry.unwrap_or_else(|| {
                let quota = code.as_deref() == Some("insufficient_quota");
                matches!(status, 408 | 409 | 429 | 500..=599) && !quota
            }),
            Self::Transport { .. } | Self::Timeout { .. } => true,
            Self::InStream { kind, .. } => kind.as_deref() == Some("server_error"),
            Self::Protocol { transient, .. } => *transient,
        }
    }

    /// The vendor's own retry delay, if it sent one within (0, 60 s].
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// A transport error from reqwest, mapping reqwest's own timeouts to [`Self::Timeout`].
    pub(crate) fn from_reqwest(vendor: &'static str, e: &reqwest::Error, timeout_ms: u64) -> Self {
        if e.is_timeout() {
            Self::Timeout {
                vendor,
                after_ms: timeout_ms,
            }
        } else {
            // reqwest's Display never includes headers (no API keys); URLs carry no secrets.
            Self::Transport {
                vendor,
                message: error_chain(e),
            }
        }
    }
}

/// `e` and its sources joined by `: `.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(status: u16, code: Option<&str>, should_retry: Option<bool>) -> ProviderError {
        ProviderError::Status {
            vendor: "openai",
            status,
            message: "m".into(),
            code: code.map(str::to_owned),
            retry_after: None,
            should_retry,
        }
    }

    #[test]
    fn retryable_follows_status_code_and_header() {
        for s in [408, 409, 429, 500, 502, 503, 504] {
            assert!(status(s, None, None).retryable(), "{s}");
        }
        for s in [400, 401, 403, 404, 422] {
            assert!(!status(s, None, None).retryable(), "{s}");
        }
        assert!(!status(429, Some("insufficient_quota"), None).retryable());
        assert!(!status(503, None, Some(false)).retryable());
        assert!(status(400, None, Some(true)).retryable());
    }
}
