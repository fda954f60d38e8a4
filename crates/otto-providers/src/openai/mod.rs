//! OpenAI-compatible chat completions, streamed with tools (`shared/protocols/openai.md`).
//!
//! [`OpenAiClient::stream`] sends one `POST {base_url}/chat/completions` with `stream: true`
//! and returns a [`ChatStream`] of [`ChatDelta`]s; [`with_retries`] (or
//! [`OpenAiClient::stream_with_retries`]) retries failures that happen before the first delta.
//! The API key is sent as a bearer token and never logged; request and response bodies
//! (caller transcripts) are never logged either.

mod accumulate;
mod config;
mod retry;
mod stream;
mod types;

use std::time::Duration;

use futures_util::StreamExt;
use secrecy::ExposeSecret;
use serde_json::{Value, json};

pub use config::{OpenAiConfig, TokenLimitField};
pub use retry::{RetryPolicy, with_retries};
pub use stream::ChatStream;
pub use types::{
    ChatDelta, ChatMessage, ChatRequest, FinishReason, ToolCall, ToolChoice, ToolDefinition, Usage,
};

use crate::ProviderError;

const VENDOR: &str = "openai";
/// Error bodies longer than this are cut before parsing (bytes).
const MAX_ERROR_BODY: usize = 64 * 1024;

/// A client for one OpenAI-compatible server and model. Cheap to clone.
#[derive(Debug, Clone)]
pub struct OpenAiClient {
    http: reqwest::Client,
    url: reqwest::Url,
    token_field: TokenLimitField,
    config: OpenAiConfig,
}

impl OpenAiClient {
    /// Validates `config` and builds the client.
    ///
    /// # Errors
    /// [`ProviderError::Config`] when the base URL is not an absolute `http(s)` URL, the model
    /// is empty, a timeout is 0, or the temperature is outside 0..=2.
    pub fn new(config: OpenAiConfig) -> Result<Self, ProviderError> {
        let bad = |m: String| Err(ProviderError::Config(format!("openai: {m}")));
        let base = config.base_url.trim().trim_end_matches('/');
        let url = match reqwest::Url::parse(&format!("{base}/chat/completions")) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => u,
            _ => {
                return bad(format!(
                    "base_url {:?} is not an http(s) URL",
                    config.base_url
                ));
            }
        };
        if config.model.trim().is_empty() {
            return bad("model is empty".into());
        }
        if config.connect_timeout_ms == 0 || config.stall_timeout_ms == 0 {
            return bad("timeouts must be positive".into());
        }
        if config
            .temperature
            .is_some_and(|t| !(0.0..=2.0).contains(&t))
        {
            return bad("temperature must be within 0..=2".into());
        }
        let token_field = config.token_limit_field.unwrap_or_else(|| {
            if url.host_str() == Some("api.openai.com") {
                TokenLimitField::MaxCompletionTokens
            } else {
                TokenLimitField::MaxTokens
            }
        });
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_millis(config.connect_timeout_ms))
            .build()
            .map_err(|e| ProviderError::Config(format!("openai: HTTP client: {e}")))?;
        Ok(Self {
            http,
            url,
            token_field,
            config,
        })
    }

    /// The configuration this client was built from.
    pub fn config(&self) -> &OpenAiConfig {
        &self.config
    }

    /// The JSON body [`Self::stream`] sends for `request` (`openai.md` §1.1): unset fields are
    /// omitted; `tool_choice` and `parallel_tool_calls` only go with tools.
    pub fn request_body(&self, request: &ChatRequest) -> Value {
        let mut body = json!({
            "model": self.config.model,
            "stream": true,
            "messages": request.messages,
        });
        if self.config.include_usage {
            body["stream_options"] = json!({ "include_usage": true });
        }
        if let Some(t) = self.config.temperature {
            body["temperature"] = json!(t);
        }
        if let Some(max) = self.config.max_output_tokens {
            let field = match self.token_field {
                TokenLimitField::MaxCompletionTokens => "max_completion_tokens",
                TokenLimitField::MaxTokens => "max_tokens",
            };
            body[field] = json!(max);
        }
        if !request.tools.is_empty() {
            body["tools"] = request
                .tools
                .iter()
                .map(|t| {
                    let mut f = json!({
                        "name": t.name,
                        "description": t.description,
                        "parameters": t.parameters,
                    });
                    if let Some(strict) = t.strict {
                        f["strict"] = json!(strict);
                    }
                    json!({ "type": "function", "function": f })
                })
                .collect();
            if let Some(choice) = &request.tool_choice {
                body["tool_choice"] = match choice {
                    ToolChoice::None => json!("none"),
                    ToolChoice::Auto => json!("auto"),
                    ToolChoice::Required => json!("required"),
                    ToolChoice::Function(name) => {
                        json!({ "type": "function", "function": { "name": name } })
                    }
                };
            }
            if let Some(p) = request.parallel_tool_calls {
                body["parallel_tool_calls"] = json!(p);
            }
        }
        body
    }

    /// Sends `request` once and returns the streamed answer.
    ///
    /// # Errors
    /// [`ProviderError::Status`] for a non-2xx answer (message, code, `retry-after(-ms)` and
    /// `x-should-retry` parsed from it), [`ProviderError::Timeout`] when the headers take longer
    /// than `stall_timeout_ms`, [`ProviderError::Transport`] when the connection fails,
    /// [`ProviderError::Protocol`] when a 200 answer is not `text/event-stream`. Errors while
    /// streaming arrive as items of the [`ChatStream`].
    pub async fn stream(&self, request: &ChatRequest) -> Result<ChatStream, ProviderError> {
        let stall_ms = self.config.stall_timeout_ms;
        let stall = Duration::from_millis(stall_ms);
        let mut builder = self
            .http
            .post(self.url.clone())
            .header("accept", "text/event-stream")
            .json(&self.request_body(request));
        if let Some(key) = &self.config.api_key {
            builder = builder.bearer_auth(key.expose_secret());
        }
        let response = tokio::time::timeout(stall, builder.send())
            .await
            .map_err(|_| ProviderError::Timeout {
                vendor: VENDOR,
                after_ms: stall_ms,
            })?
            .map_err(|e| ProviderError::from_reqwest(VENDOR, &e, stall_ms))?;
        let request_id = header(&response, "x-request-id").unwrap_or_default();
        tracing::debug!(status = response.status().as_u16(), request_id, model = %self.config.model, "chat completion answered");
        if !response.status().is_success() {
            return Err(status_error(response, stall).await);
        }
        let media_type = header(&response, "content-type").map(|c| {
            c.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
        if media_type
            .as_deref()
            .is_some_and(|m| m != "text/event-stream")
        {
            return Err(ProviderError::Protocol {
                vendor: VENDOR,
                message: format!(
                    "expected text/event-stream, got {}",
                    media_type.unwrap_or_default()
                ),
                transient: false,
            });
        }
        let bytes = response
            .bytes_stream()
            .map(move |r| r.map_err(|e| ProviderError::from_reqwest(VENDOR, &e, stall_ms)));
        Ok(ChatStream::from_bytes(bytes, stall))
    }

    /// [`Self::stream`] under [`with_retries`] with the configured [`RetryPolicy`].
    ///
    /// # Errors
    /// As [`with_retries`].
    pub async fn stream_with_retries(
        &self,
        request: &ChatRequest,
    ) -> Result<ChatStream, ProviderError> {
        with_retries(&RetryPolicy::from_config(&self.config), || {
            self.stream(request)
        })
        .await
    }
}

fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// The retry delay a response asks for: `retry-after-ms` (float ms), else `retry-after`
/// (float seconds or an HTTP date); only used within (0, 60 s] (`openai.md` §4.1).
fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    let from_ms = header(response, "retry-after-ms")
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map(|ms| ms / 1000.0);
    let from_s = || {
        let v = header(response, "retry-after")?;
        let v = v.trim();
        v.parse::<f64>().ok().or_else(|| {
            let at = httpdate::parse_http_date(v).ok()?;
            Some(
                at.duration_since(std::time::SystemTime::now())
                    .ok()?
                    .as_secs_f64(),
            )
        })
    };
    let secs = from_ms.or_else(from_s)?;
    (secs > 0.0 && secs <= 60.0).then(|| Duration::from_secs_f64(secs))
}

/// Builds [`ProviderError::Status`] from an error response, parsing the body leniently
/// (`openai.md` §4: `{"error":{…}}`, `{"error":"…"}`, `{"detail":…}`, vLLM's flat form, text).
async fn status_error(response: reqwest::Response, stall: Duration) -> ProviderError {
    let status = response.status().as_u16();
    let retry_after = retry_after(&response);
    let should_retry = header(&response, "x-should-retry").and_then(|v| match v.trim() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    });
    let body = match tokio::time::timeout(stall, response.bytes()).await {
        Ok(Ok(b)) => b.slice(..b.len().min(MAX_ERROR_BODY)),
        _ => Default::default(),
    };
    let (message, code) = parse_error_body(&body);
    ProviderError::Status {
        vendor: VENDOR,
        status,
        message,
        code,
        retry_after,
        should_retry,
    }
}

fn parse_error_body(body: &[u8]) -> (String, Option<String>) {
    let text = String::from_utf8_lossy(body);
    let short = || text.chars().take(300).collect::<String>().trim().to_owned();
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return (short(), None);
    };
    let err = match v.get("error") {
        Some(e @ Value::Object(_)) => e,
        Some(Value::String(s)) => return (s.clone(), None),
        _ => &v,
    };
    let message = err
        .get("message")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| {
            v.get("detail")
                .map(|d| d.as_str().map_or(d.to_string(), str::to_owned))
        })
        .unwrap_or_else(short);
    let as_text = |x: &Value| match x {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    let code = err
        .get("code")
        .and_then(as_text)
        .or_else(|| err.get("type").and_then(as_text));
    (message, code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_parse_leniently() {
        let cases: [(&str, &str, Option<&str>); 5] = [
            (
                r#"{"error":{"message":"bad key","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}"#,
                "bad key",
                Some("invalid_api_key"),
            ),
            (
                r#"{"error":{"message":"over","type":"insufficient_quota","code":null}}"#,
                "over",
                Some("insufficient_quota"),
            ),
            (r#"{"error":"model not found"}"#, "model not found", None),
            (
                r#"{"object":"error","message":"too long","type":"BadRequestError","param":null,"code":400}"#,
                "too long",
                Some("400"),
            ),
            ("<html>bad gateway</html>", "<html>bad gateway</html>", None),
        ];
        for (body, message, code) in cases {
            let (m, c) = parse_error_body(body.as_bytes());
            assert_eq!((m.as_str(), c.as_deref()), (message, code), "{body}");
        }
        assert_eq!(
            parse_error_body(br#"{"detail":"Not Found"}"#).0,
            "Not Found"
        );
    }

    #[test]
    fn config_is_validated() {
        for base_url in ["", "not a url", "ftp://x/v1", "/v1"] {
            let cfg = OpenAiConfig {
                base_url: base_url.into(),
                ..OpenAiConfig::default()
            };
            assert!(
                matches!(OpenAiClient::new(cfg), Err(ProviderError::Config(_))),
                "{base_url:?}"
            );
        }
        let cfg = OpenAiConfig {
            temperature: Some(3.0),
            ..OpenAiConfig::default()
        };
        assert!(OpenAiClient::new(cfg).is_err());
    }

    #[test]
    fn token_limit_field_defaults_by_host() {
        let body = |base_url: &str| {
            let client = OpenAiClient::new(OpenAiConfig {
                base_url: base_url.into(),
                ..OpenAiConfig::default()
            })
            .expect("valid config");
            client.request_body(&ChatRequest::default())
        };
        assert_eq!(
            body("https://api.openai.com/v1/")["max_completion_tokens"],
            400
        );
        assert!(
            body("https://api.openai.com/v1")
                .get("max_tokens")
                .is_none()
        );
        assert_eq!(body("http://localhost:8080/v1")["max_tokens"], 400);
    }

    #[test]
    fn api_key_never_printed() {
        let cfg = OpenAiConfig {
            api_key: Some("sk-very-secret".into()),
            ..OpenAiConfig::default()
        };
        let debug = format!("{cfg:?}");
        let json = serde_json::to_string(&cfg).expect("config serializes");
        let client = format!("{:?}", OpenAiClient::new(cfg).expect("valid config"));
        for shown in [debug, json, client] {
            assert!(!shown.contains("sk-very-secret"), "{shown}");
        }
    }
}
