//! Request and output types of the chat completions client, shaped as on the wire
//! (`openai.md` §1.2, §1.3, §3).

use serde::{Deserialize, Serialize};

/// One message of the conversation, serialized exactly as the API expects
/// (`{"role":"tool","tool_call_id":…,"content":…}` and so on).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "lowercase")]
pub enum ChatMessage {
    /// Instructions from Otto.
    System {
        /// The instructions.
        content: String,
    },
    /// What the caller said.
    User {
        /// The caller's words.
        content: String,
    },
    /// A model turn: text, tool calls, or both. `content` is sent as `null` when absent
    /// (the most widely accepted form, `openai.md` §1.2).
    Assistant {
        /// The spoken text, if any.
        content: Option<String>,
        /// Tool calls of this turn, answered by the [`ChatMessage::Tool`] messages after it.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        tool_calls: Vec<ToolCall>,
    },
    /// A tool result.
    Tool {
        /// The `id` of the [`ToolCall`] this answers.
        tool_call_id: String,
        /// The result, usually JSON text.
        content: String,
    },
}

/// A complete tool call made by the model.
///
/// Wire form: `{"id":…, "type":"function", "function":{"name":…, "arguments":"<JSON text>"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "WireToolCall", from = "WireToolCall")]
pub struct ToolCall {
    /// Server-chosen id (opaque; synthesized as `call_otto_N` when the server sent none).
    pub id: String,
    /// Function name.
    pub name: String,
    /// Arguments as the raw JSON text the model produced (`"{}"` when it sent none). Not
    /// validated here: the tool that runs it must parse and validate it.
    pub arguments: String,
}

#[derive(Serialize, Deserialize)]
struct WireToolCall {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    function: WireFunction,
}

#[derive(Serialize, Deserialize)]
struct WireFunction {
    name: String,
    arguments: String,
}

impl From<ToolCall> for WireToolCall {
    fn from(c: ToolCall) -> Self {
        Self {
            id: c.id,
            kind: "function".into(),
            function: WireFunction {
                name: c.name,
                arguments: c.arguments,
            },
        }
    }
}

impl From<WireToolCall> for ToolCall {
    fn from(w: WireToolCall) -> Self {
        Self {
            id: w.id,
            name: w.function.name,
            arguments: w.function.arguments,
        }
    }
}

/// A function the model may call (`openai.md` §1.3).
#[derive(Debug, Clone, PartialEq)]
pub struct ToolDefinition {
    /// `a-z A-Z 0-9 _ -`, at most 64 characters.
    pub name: String,
    /// What the tool does, for the model.
    pub description: String,
    /// JSON Schema of the arguments object.
    pub parameters: serde_json::Value,
    /// OpenAI structured outputs; omitted from the request when `None`.
    pub strict: Option<bool>,
}

/// `tool_choice`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolChoice {
    /// The model must not call tools.
    None,
    /// The model decides.
    Auto,
    /// The model must call at least one tool.
    Required,
    /// The model must call this function.
    Function(String),
}

/// One chat completion request (the model and limits come from the client's config).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChatRequest {
    /// The conversation, oldest first.
    pub messages: Vec<ChatMessage>,
    /// Tools offered; `tool_choice` and `parallel_tool_calls` are only sent with tools.
    pub tools: Vec<ToolDefinition>,
    /// `tool_choice`; `None` leaves the server default (`auto` with tools).
    pub tool_choice: Option<ToolChoice>,
    /// `parallel_tool_calls`; `None` leaves the server default.
    pub parallel_tool_calls: Option<bool>,
}

/// Why the model stopped (`openai.md` §3.4). Unknown values are kept in [`Self::Other`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FinishReason {
    /// Natural end or a stop sequence.
    Stop,
    /// Hit the token limit: text is cut and tool arguments may be truncated JSON.
    Length,
    /// The model called tools.
    ToolCalls,
    /// Content filter.
    ContentFilter,
    /// Anything else (`function_call`, `end_turn`, …).
    Other(String),
}

impl FinishReason {
    pub(crate) fn parse(s: &str) -> Self {
        match s {
            "stop" => Self::Stop,
            "length" => Self::Length,
            "tool_calls" => Self::ToolCalls,
            "content_filter" => Self::ContentFilter,
            other => Self::Other(other.to_owned()),
        }
    }
}

/// Token usage of one completion (`openai.md` §3.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub struct Usage {
    /// Tokens in the prompt.
    #[serde(default)]
    pub prompt_tokens: u32,
    /// Tokens generated.
    #[serde(default)]
    pub completion_tokens: u32,
    /// Their sum as reported by the server.
    #[serde(default)]
    pub total_tokens: u32,
}

/// One item of a streamed completion, in order: [`Self::Text`] fragments as they arrive, then
/// (at the end of the stream, since fragments of several calls may interleave) each complete
/// [`Self::ToolCall`] in `index` order, then exactly one [`Self::Finished`].
#[derive(Debug, Clone, PartialEq)]
pub enum ChatDelta {
    /// A fragment of the reply text (never empty).
    Text(String),
    /// A complete tool call.
    ToolCall(ToolCall),
    /// The completion ended.
    Finished {
        /// The last `finish_reason` seen; `None` when the server sent `[DONE]` without one.
        reason: Option<FinishReason>,
        /// Token usage, when the server reported it.
        usage: Option<Usage>,
    },
}
