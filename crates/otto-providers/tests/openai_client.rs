//! The OpenAI-compatible client against `FakeOpenAi`, over real HTTP on loopback, with every
//! `openai-*` fixture.

// Test code: a panic on a broken precondition is the failure message.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use otto_fakes::{FakeOpenAi, FakeReply, fixtures, openai::sse};
use otto_providers::ProviderError;
use otto_providers::openai::{
    ChatDelta, ChatMessage, ChatRequest, ChatStream, FinishReason, OpenAiClient, OpenAiConfig,
    TokenLimitField, ToolCall, ToolChoice, ToolDefinition, Usage,
};

fn config(fake: &FakeOpenAi) -> OpenAiConfig {
    OpenAiConfig {
        base_url: fake.base_url(),
        api_key: Some("sk-test-key".into()),
        stall_timeout_ms: 2000,
        initial_retry_delay_ms: 10,
        ..OpenAiConfig::default()
    }
}

fn hello() -> ChatRequest {
    ChatRequest {
        messages: vec![ChatMessage::User {
            content: "Hello".into(),
        }],
        ..ChatRequest::default()
    }
}

/// Text and the final `Finished`, or the first error.
async fn collect(mut s: ChatStream) -> Result<(String, Vec<ToolCall>, ChatDelta), ProviderError> {
    let (mut text, mut calls) = (String::new(), Vec::new());
    while let Some(item) = s.next().await {
        match item? {
            ChatDelta::Text(t) => text.push_str(&t),
            ChatDelta::ToolCall(c) => calls.push(c),
            end @ ChatDelta::Finished { .. } => {
                assert!(s.next().await.is_none(), "nothing after Finished");
                return Ok((text, calls, end));
            }
        }
    }
    panic!("stream ended without Finished or an error")
}

#[tokio::test]
async fn text_fixture_streams_in_every_write_size() {
    let fake = FakeOpenAi::start().await;
    let client = OpenAiClient::new(config(&fake)).expect("valid config");
    for size in [None, Some(1), Some(7)] {
        let reply = FakeReply::sse_fixture("openai-stream-text.sse");
        fake.push(size.map_or(reply.clone(), |n| reply.in_writes_of(n)));
        let (text, calls, end) = collect(client.stream(&hello()).await.expect("stream opens"))
            .await
            .expect("stream completes");
        assert!(text.len() > 20, "{size:?}: {text:?}");
        assert!(calls.is_empty());
        let ChatDelta::Finished { reason, usage } = end else {
            unreachable!()
        };
        assert_eq!(reason, Some(FinishReason::Stop), "{size:?}");
        assert!(usage.is_some_and(
            |u| u.total_tokens > 0 && u.total_tokens == u.prompt_tokens + u.completion_tokens
        ));
    }
    // The three writes produced the same text: compare by re-running the 1-byte case.
    fake.push(FakeReply::sse_fixture("openai-stream-text.sse"));
    fake.push(FakeReply::sse_fixture("openai-stream-text.sse").in_writes_of(1));
    let a = collect(client.stream(&hello()).await.expect("opens"))
        .await
        .expect("ok")
        .0;
    let b = collect(client.stream(&hello()).await.expect("opens"))
        .await
        .expect("ok")
        .0;
    assert_eq!(a, b);
    let auth = fake.requests()[0].authorization.clone();
    assert_eq!(auth.as_deref(), Some("Bearer sk-test-key"));
}

#[tokio::test]
async fn two_tool_calls_fixture_accumulates_split_arguments() {
    let fake = FakeOpenAi::start().await;
    let client = OpenAiClient::new(config(&fake)).expect("valid config");
    for size in [None, Some(1), Some(7)] {
        let reply = FakeReply::sse_fixture("openai-stream-two-tools.sse");
        fake.push(size.map_or(reply.clone(), |n| reply.in_writes_of(n)));
        let (text, calls, end) = collect(client.stream(&hello()).await.expect("opens"))
            .await
            .expect("completes");
        assert_eq!(text, "");
        assert_eq!(calls.len(), 2, "{size:?}");
        assert_eq!(
            (calls[0].id.as_str(), calls[0].name.as_str()),
            ("call_Xk3q9v0aB1cD2eF3gH4iJ5kL", "decode_vin")
        );
        assert_eq!(calls[0].arguments, r#"{"vin":"1HGCM82633A004352"}"#);
        assert_eq!(calls[1].name, "check_availability");
        assert_eq!(
            calls[1].arguments,
            r#"{"date":"2025-03-11","time_zone":"America/Chicago"}"#
        );
        assert!(matches!(
            end,
            ChatDelta::Finished {
                reason: Some(FinishReason::ToolCalls),
                usage: Some(_)
            }
        ));
    }
}

#[tokio::test]
async fn azure_filter_fixture_without_usage_is_tolerated() {
    let fake = FakeOpenAi::start().await;
    let client = OpenAiClient::new(config(&fake)).expect("valid config");
    fake.push(FakeReply::sse_fixture("openai-stream-azure-filter.sse").in_writes_of(7));
    let (text, _, end) = collect(client.stream(&hello()).await.expect("opens"))
        .await
        .expect("completes");
    assert!(text.starts_with("Hi"), "{text:?}");
    assert!(
        matches!(
            end,
            ChatDelta::Finished {
                reason: Some(FinishReason::Stop),
                usage: None
            }
        ),
        "{end:?}"
    );
}

#[tokio::test]
async fn midstream_error_fixture_is_an_error_after_text() {
    let fake = FakeOpenAi::start().await;
    let client = OpenAiClient::new(config(&fake)).expect("valid config");
    fake.push(FakeReply::sse_fixture("openai-stream-midstream-error.sse"));
    let mut s = client.stream(&hello()).await.expect("opens");
    assert_eq!(s.next().await, Some(Ok(ChatDelta::Text("Let me".into()))));
    let err = s
        .next()
        .await
        .expect("an item")
        .expect_err("the in-stream error");
    assert!(
        matches!(&err, ProviderError::InStream { kind: Some(k), .. } if k == "server_error"),
        "{err:?}"
    );
    assert!(err.retryable());
    assert!(s.next().await.is_none(), "stream ends after an error");
}

#[tokio::test]
async fn sse_framing_variants_crlf_comments_no_done() {
    let fake = FakeOpenAi::start().await;
    let client = OpenAiClient::new(config(&fake)).expect("valid config");
    // CRLF line ends, comment keep-alives, and EOF after finish_reason without [DONE].
    let body = sse::says("Hello there")
        .replace("data: [DONE]\n\n", "")
        .replace('\n', "\r\n");
    fake.push(FakeReply::sse(format!(": OPENROUTER PROCESSING\r\n\r\n{body}")).in_writes_of(3));
    let (text, _, _) = collect(client.stream(&hello()).await.expect("opens"))
        .await
        .expect("completes");
    assert_eq!(text, "Hello there");
    // EOF before any finish_reason is a retryable truncation.
    let cut: String = sse::says("Hello there")
        .lines()
        .take(4)
        .map(|l| format!("{l}\n"))
        .collect();
    fake.push(FakeReply::sse(cut));
    let err = collect(client.stream(&hello()).await.expect("opens"))
        .await
        .expect_err("truncated");
    assert!(
        matches!(
            err,
            ProviderError::Protocol {
                transient: true,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn request_body_matches_the_tools_fixture() {
    let fixture = fixtures::json("openai-request-tools.json");
    // Messages round-trip through the typed form.
    let messages: Vec<ChatMessage> =
        serde_json::from_value(fixture["messages"].clone()).expect("fixture messages parse");
    assert!(
        matches!(&messages[2], ChatMessage::Assistant { content: None, tool_calls } if tool_calls.len() == 2)
    );
    let tools = fixture["tools"]
        .as_array()
        .expect("tools array")
        .iter()
        .map(|t| ToolDefinition {
            name: t["function"]["name"].as_str().expect("name").into(),
            description: t["function"]["description"]
                .as_str()
                .expect("description")
                .into(),
            parameters: t["function"]["parameters"].clone(),
            strict: t["function"]["strict"].as_bool(),
        })
        .collect();
    let client = OpenAiClient::new(OpenAiConfig {
        model: "gpt-4o".into(),
        temperature: Some(0.2),
        max_output_tokens: Some(512),
        token_limit_field: Some(TokenLimitField::MaxCompletionTokens),
        ..OpenAiConfig::default()
    })
    .expect("valid config");
    let request = ChatRequest {
        messages,
        tools,
        tool_choice: Some(ToolChoice::Auto),
        parallel_tool_calls: Some(true),
    };
    assert_eq!(client.request_body(&request), fixture);

    // And that is what goes over the wire.
    let fake = FakeOpenAi::start().await;
    let client = OpenAiClient::new(OpenAiConfig {
        base_url: fake.base_url(),
        ..client.config().clone()
    })
    .expect("valid config");
    fake.push(FakeReply::sse(sse::says("ok")));
    collect(client.stream(&request).await.expect("opens"))
        .await
        .expect("completes");
    assert_eq!(fake.requests()[0].body, fixture);
    assert_eq!(fake.requests()[0].authorization, None);
}

#[tokio::test]
async fn http_errors_map_to_retryable_or_not() {
    let fake = FakeOpenAi::start().await;
    let client = OpenAiClient::new(config(&fake)).expect("valid config");
    fake.push(FakeReply::http_text(&fixtures::text(
        "openai-error-429.http",
    )));
    let err = client.stream(&hello()).await.expect_err("429");
    assert!(err.retryable());
    assert_eq!(err.retry_after(), Some(Duration::from_millis(1980)));
    assert!(
        matches!(&err, ProviderError::Status { status: 429, code: Some(c), .. } if c == "rate_limit_exceeded")
    );

    for (status, name, retryable, code) in [
        (429, "openai-error-429.json", true, "rate_limit_exceeded"),
        (
            429,
            "openai-error-429-insufficient-quota.json",
            false,
            "insufficient_quota",
        ),
        (401, "openai-error-401.json", false, "invalid_api_key"),
    ] {
        fake.push(FakeReply::status(status, fixtures::bytes(name)));
        let err = client.stream(&hello()).await.expect_err("error status");
        assert_eq!(err.retryable(), retryable, "{name}");
        assert!(
            matches!(&err, ProviderError::Status { code: Some(c), .. } if c == code),
            "{err:?}"
        );
        assert!(!err.to_string().contains("sk-test-key"));
    }
    fake.push(FakeReply::status(503, "overloaded").with_header("x-should-retry", "false"));
    assert!(!client.stream(&hello()).await.expect_err("503").retryable());
    fake.push(FakeReply::status(200, "{}"));
    let err = client.stream(&hello()).await.expect_err("not SSE");
    assert!(
        matches!(
            err,
            ProviderError::Protocol {
                transient: false,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn retries_honour_retry_after_ms_then_succeed() {
    let fake = FakeOpenAi::start().await;
    let client = OpenAiClient::new(config(&fake)).expect("valid config");
    fake.push(
        FakeReply::status(429, fixtures::bytes("openai-error-429.json"))
            .with_header("retry-after-ms", "250"),
    );
    fake.push(FakeReply::status(
        500,
        r#"{"error":{"message":"boom","type":"server_error"}}"#,
    ));
    fake.push(FakeReply::sse(sse::says("Back again")));
    let started = Instant::now();
    let (text, _, _) = collect(
        client
            .stream_with_retries(&hello())
            .await
            .expect("third try works"),
    )
    .await
    .expect("completes");
    assert_eq!(text, "Back again");
    assert_eq!(fake.requests().len(), 3);
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "waited {:?}",
        started.elapsed()
    );

    // Non-retryable errors are not retried.
    fake.push(FakeReply::status(
        401,
        fixtures::bytes("openai-error-401.json"),
    ));
    fake.push(FakeReply::sse(sse::says("never")));
    client
        .stream_with_retries(&hello())
        .await
        .expect_err("401 is final");
    assert_eq!(fake.requests().len(), 4);
    assert_eq!(fake.pending(), 1);
}

#[tokio::test]
async fn stall_is_a_timeout_and_errors_after_output_are_not_retried() {
    let fake = FakeOpenAi::start().await;
    let client = OpenAiClient::new(OpenAiConfig {
        stall_timeout_ms: 150,
        max_retries: 1,
        ..config(&fake)
    })
    .expect("valid config");
    let body = sse::says("One two three");
    // Stall after the first content chunk: the text already reached the caller, so no retry.
    let after_first_text = body
        .find("\"One\"")
        .and_then(|i| body[i..].find("\n\n").map(|j| i + j + 2))
        .expect("content chunk");
    fake.push(FakeReply::sse(body.clone()).stall_after(after_first_text, 1000));
    fake.push(FakeReply::sse(body.clone()));
    let mut s = client.stream_with_retries(&hello()).await.expect("opens");
    assert_eq!(s.next().await, Some(Ok(ChatDelta::Text("One".into()))));
    let err = s.next().await.expect("item").expect_err("stall");
    assert!(
        matches!(err, ProviderError::Timeout { after_ms: 150, .. }),
        "{err:?}"
    );
    assert_eq!(fake.requests().len(), 1, "no retry after output");

    // A stall before any delta is retried.
    let (text, _, end) = {
        fake.push(FakeReply::sse(body.clone()).stall_after(0, 1000));
        fake.push(FakeReply::sse(body));
        collect(client.stream_with_retries(&hello()).await.expect("retried"))
            .await
            .expect("ok")
    };
    assert_eq!(text, "One two three");
    assert!(matches!(
        end,
        ChatDelta::Finished {
            usage: Some(Usage {
                total_tokens: 60,
                ..
            }),
            ..
        }
    ));
}

#[tokio::test]
async fn nothing_listening_is_a_retryable_transport_error() {
    let fake = FakeOpenAi::start().await;
    let base_url = fake.base_url();
    drop(fake);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let client = OpenAiClient::new(OpenAiConfig {
        base_url,
        ..OpenAiConfig::default()
    })
    .expect("valid");
    let err = client.stream(&hello()).await.expect_err("refused");
    assert!(
        matches!(
            err,
            ProviderError::Transport { .. } | ProviderError::Timeout { .. }
        ),
        "{err:?}"
    );
    assert!(err.retryable());
}
