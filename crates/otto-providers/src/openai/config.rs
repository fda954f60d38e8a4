//! [`OpenAiConfig`]: where and how to reach an OpenAI-compatible chat completions server.

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

/// Which request field carries the output token limit (`openai.md` §1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenLimitField {
    /// `max_completion_tokens`: current OpenAI name (required by reasoning models).
    MaxCompletionTokens,
    /// `max_tokens`: the deprecated name most compatible servers still expect.
    MaxTokens,
}

/// Configuration of [`super::OpenAiClient`]; every field has a default, so an empty TOML table
/// is valid. Unknown keys are rejected so a typo cannot silently fall back to a default.
///
/// The API key is a [`SecretString`]: `Debug` and `Serialize` print it as `[REDACTED]` (Debug, from secrecy) and `[redacted]` (Serialize).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OpenAiConfig {
    /// Base URL; `/chat/completions` is appended (default `https://api.openai.com/v1`).
    pub base_url: String,
    /// Model id (default `gpt-4o-mini`).
    pub model: String,
    /// Sent as `Authorization: Bearer …` when set; local servers often need none.
    #[serde(serialize_with = "otto_core::privacy::serialize_redacted_option")]
    pub api_key: Option<SecretString>,
    /// Name of the token-limit field; `None` picks `max_completion_tokens` for
    /// `api.openai.com` and `max_tokens` for any other host.
    pub token_limit_field: Option<TokenLimitField>,
    /// Output token limit per completion (default 400); `None` sends no limit.
    pub max_output_tokens: Option<u32>,
    /// Sampling temperature 0..=2 (default 0.3); `None` leaves the server default.
    pub temperature: Option<f64>,
    /// Sends `stream_options.include_usage` (default true; old Azure api-versions reject it).
    pub include_usage: bool,
    /// TCP/TLS connect deadline in ms (default 3000).
    pub connect_timeout_ms: u64,
    /// Longest wait in ms for the response headers or for the next bytes of the stream before
    /// the request fails with a timeout (default 10000).
    pub stall_timeout_ms: u64,
    /// Retries after the first attempt for retryable failures before any output (default 2).
    pub max_retries: u32,
    /// First backoff delay in ms, doubled per retry (default 500).
    pub initial_retry_delay_ms: u64,
    /// Cap in ms on any retry delay, including the server's `retry-after` (default 8000).
    pub max_retry_delay_ms: u64,
}

impl Default for OpenAiConfig {
    fn default() -> Self {
        Self {
            base_url: "https://api.openai.com/v1".into(),
            model: "gpt-4o-mini".into(),
            api_key: None,
            token_limit_field: None,
            max_output_tokens: Some(400),
            temperature: Some(0.3),
            include_usage: true,
            connect_timeout_ms: 3000,
            stall_timeout_ms: 10_000,
            max_retries: 2,
            initial_retry_delay_ms: 500,
            max_retry_delay_ms: 8000,
        }
    }
}
