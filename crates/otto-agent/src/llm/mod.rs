//! The LLM dialogue: an OpenAI-compatible model (streamed, with tool calls) behind the
//! [`Dialogue`] interface, acting through the same tools as the rule-based dialogue.
//!
//! One caller turn is up to [`LlmSettings::max_tool_rounds`] rounds of "model calls tools,
//! Otto runs them", then a final answer (the round after the limit is sent with
//! `tool_choice: "none"`). Reply text is split into sentences and sent as each completes.
//! Every model request of the turn must finish before the turn deadline
//! ([`LlmSettings::turn_deadline_ms`]); requests are retried (429/5xx, `retry-after`) by
//! [`otto_providers::openai::with_retries`] while nothing was streamed yet. When the model
//! fails or misses the deadline, `reply` returns [`DialogueError::Failed`] and the
//! [`crate::Conversation`] hands the same input, with the same [`CallerContext`], to the
//! rule-based dialogue. Tool runs are never cut by the deadline or by barge-in: a write that
//! started completes and its result stays in the context.
//!
//! Identity comes only from the context (caller ID); tool arguments the model writes are
//! validated by the tools. Caller words are delimited (see `prompt`) so they cannot pose as
//! instructions. The history is trimmed to a token budget (tiktoken) in whole units, never
//! separating an assistant tool call from its results.

mod history;
mod prompt;
mod sentences;

use std::time::Duration;

use futures_util::StreamExt;
use otto_core::engine::ReplyInput;
use otto_providers::openai::{
    ChatDelta, ChatMessage, ChatRequest, OpenAiClient, ToolCall, ToolChoice, ToolDefinition,
};
use serde::{Deserialize, Serialize};
use tiktoken_rs::CoreBPE;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::context::CallerContext;
use crate::dialogue::{Dialogue, DialogueError, ReplyEvent, ReplySink};
use crate::tools;
use sentences::SentenceSplitter;

/// The tokenizer used to count history tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tokenizer {
    /// `o200k_base` (GPT-4o, GPT-4.1, o-series).
    O200k,
    /// `cl100k_base` (GPT-4, GPT-3.5; a fair estimate for most open models).
    Cl100k,
}

/// Settings of the LLM dialogue; every field has a default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LlmSettings {
    /// Deadline in ms for all model requests of one caller turn (default 8000). Tool runs are
    /// not cut by it.
    pub turn_deadline_ms: u64,
    /// Most tool rounds per turn (default 5).
    pub max_tool_rounds: u32,
    /// History budget in tokens, system prompt excluded (default 6000).
    pub history_tokens: usize,
    /// Tokenizer for the budget (default `o200k`).
    pub tokenizer: Tokenizer,
    /// Send `strict: true` on tools (OpenAI structured outputs; default true). Switch off for
    /// compatible servers that reject the key.
    pub strict_tools: bool,
}

impl Default for LlmSettings {
    fn default() -> Self {
        Self {
            turn_deadline_ms: 8000,
            max_tool_rounds: 5,
            history_tokens: 6000,
            tokenizer: Tokenizer::O200k,
            strict_tools: true,
        }
    }
}

/// The LLM dialogue for one conversation. See the module docs.
pub struct LlmDialogue {
    client: OpenAiClient,
    settings: LlmSettings,
    tools: Vec<ToolDefinition>,
    bpe: &'static CoreBPE,
    /// The conversation without the system prompt (rebuilt per request from the shop config).
    history: Vec<ChatMessage>,
    /// Index in `history` of the first message of the last reply.
    reply_start: usize,
}

impl std::fmt::Debug for LlmDialogue {
    // The history holds caller transcripts: never print it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmDialogue")
            .field("model", &self.client.config().model)
            .field("settings", &self.settings)
            .field("history_messages", &self.history.len())
            .finish()
    }
}

impl LlmDialogue {
    /// A dialogue talking to `client` with every tool of [`tools::specs`].
    pub fn new(client: OpenAiClient, settings: LlmSettings) -> Self {
        let strict = settings.strict_tools.then_some(true);
        let tools = tools::specs()
            .into_iter()
            .map(|s| ToolDefinition {
                name: s.name.to_owned(),
                description: s.description.to_owned(),
                parameters: s.parameters,
                strict,
            })
            .collect();
        let bpe = match settings.tokenizer {
            Tokenizer::O200k => tiktoken_rs::o200k_base_singleton(),
            Tokenizer::Cl100k => tiktoken_rs::cl100k_base_singleton(),
        };
        Self {
            client,
            settings,
            tools,
            bpe,
            history: Vec::new(),
            reply_start: 0,
        }
    }
}

/// What one model round produced.
struct Round {
    /// The sentences sent to the caller, joined by spaces.
    spoken: String,
    calls: Vec<ToolCall>,
    cancelled: bool,
}

#[async_trait::async_trait]
impl Dialogue for LlmDialogue {
    async fn reply(
        &mut self,
        ctx: &mut CallerContext,
        input: &ReplyInput,
        out: &ReplySink,
        cancel: &CancellationToken,
    ) -> Result<(), DialogueError> {
        let deadline = Instant::now() + Duration::from_millis(self.settings.turn_deadline_ms);
        history::trim(&mut self.history, self.settings.history_tokens, self.bpe);
        self.reply_start = self.history.len();
        self.history.push(ChatMessage::User {
            content: prompt::user_message(input),
        });
        let system = ChatMessage::System {
            content: prompt::system_prompt(ctx.config(), ctx.now()),
        };

        for round in 0..=self.settings.max_tool_rounds {
            let may_call = round < self.settings.max_tool_rounds;
            let request = ChatRequest {
                messages: std::iter::once(system.clone())
                    .chain(self.history.iter().cloned())
                    .collect(),
                tools: self.tools.clone(),
                tool_choice: Some(if may_call {
                    ToolChoice::Auto
                } else {
                    ToolChoice::None
                }),
                parallel_tool_calls: None,
            };
            let result = tokio::time::timeout_at(
                deadline,
                stream_round(&self.client, &request, out, cancel),
            )
            .await;
            let r = match result {
                Ok(r) => r?,
                Err(_) => {
                    return Err(DialogueError::Failed(format!(
                        "the model missed the {} ms turn deadline",
                        self.settings.turn_deadline_ms
                    )));
                }
            };
            // Calls beyond the limit (a server ignoring tool_choice "none") are not run.
            let calls = if may_call { r.calls } else { Vec::new() };
            if !r.spoken.is_empty() || !calls.is_empty() {
                self.history.push(ChatMessage::Assistant {
                    content: (!r.spoken.is_empty()).then_some(r.spoken),
                    tool_calls: calls.clone(),
                });
            }
            for call in &calls {
                let content = if r.cancelled {
                    r#"{"error":"not_run","message":"The caller interrupted before this ran."}"#
                        .to_owned()
                } else {
                    let outcome = tools::execute(&call.name, &call.arguments, ctx).await;
                    tracing::info!(tool = %call.name, is_error = outcome.is_error, "LLM tool call ran");
                    outcome.content.to_string()
                };
                self.history.push(ChatMessage::Tool {
                    tool_call_id: call.id.clone(),
                    content,
                });
            }
            if calls.is_empty() || r.cancelled {
                break;
            }
        }
        for action in ctx.take_actions() {
            out.send(ReplyEvent::Action(action))
                .await
                .map_err(|_| DialogueError::Closed)?;
        }
        Ok(())
    }

    fn truncated(&mut self, heard: &str) {
        history::truncate_reply(&mut self.history, self.reply_start + 1, heard);
    }
}

/// Streams one model request, sending each completed sentence to `out` until `cancel` fires.
async fn stream_round(
    client: &OpenAiClient,
    request: &ChatRequest,
    out: &ReplySink,
    cancel: &CancellationToken,
) -> Result<Round, DialogueError> {
    let failed = |e: otto_providers::ProviderError| DialogueError::Failed(e.to_string());
    let mut stream = tokio::select! {
        biased;
        _ = cancel.cancelled() => return Ok(Round { spoken: String::new(), calls: Vec::new(), cancelled: true }),
        s = client.stream_with_retries(request) => s.map_err(failed)?,
    };
    let mut splitter = SentenceSplitter::default();
    let mut round = Round {
        spoken: String::new(),
        calls: Vec::new(),
        cancelled: false,
    };
    let say = |sentence: String, round: &mut Round| {
        if !round.spoken.is_empty() {
            round.spoken.push(' ');
        }
        round.spoken.push_str(&sentence);
        out.send(ReplyEvent::Sentence(sentence))
    };
    loop {
        let item = tokio::select! {
            biased;
            _ = cancel.cancelled() => {
                round.cancelled = true;
                return Ok(round);
            }
            item = stream.next() => item,
        };
        match item {
            Some(Ok(ChatDelta::Text(t))) => {
                for s in splitter.push(&t) {
                    say(s, &mut round)
                        .await
                        .map_err(|_| DialogueError::Closed)?;
                }
            }
            Some(Ok(ChatDelta::ToolCall(call))) => round.calls.push(call),
            Some(Ok(ChatDelta::Finished { .. })) | None => break,
            Some(Err(e)) => return Err(failed(e)),
        }
    }
    if let Some(rest) = splitter.finish() {
        say(rest, &mut round)
            .await
            .map_err(|_| DialogueError::Closed)?;
    }
    Ok(round)
}
