//! Turning streamed chunks (`openai.md` §3.2) into [`ChatDelta`]s: text as it comes, tool-call
//! fragments accumulated by `index` into complete calls (§3.3), tolerating the compatible-server
//! quirks of §6 (empty `choices`, choices without `delta`, missing `index`/`id`, whole calls in
//! one fragment, `x_groq.usage`, unknown `finish_reason`s and keys).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Deserialize;

use super::types::{ChatDelta, FinishReason, ToolCall, Usage};

#[derive(Debug, Deserialize)]
pub(crate) struct Chunk {
    #[serde(default)]
    choices: Vec<Choice>,
    #[serde(default)]
    usage: Option<Usage>,
    #[serde(default)]
    x_groq: Option<XGroq>,
}

#[derive(Debug, Deserialize)]
struct XGroq {
    #[serde(default)]
    usage: Option<Usage>,
}

#[derive(Debug, Deserialize)]
struct Choice {
    #[serde(default)]
    index: u32,
    #[serde(default)]
    delta: Delta,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct Delta {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    tool_calls: Option<Vec<ToolCallFragment>>,
}

#[derive(Debug, Deserialize)]
struct ToolCallFragment {
    #[serde(default)]
    index: Option<u32>,
    #[serde(default)]
    id: Option<String>,
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    function: Option<FunctionFragment>,
}

#[derive(Debug, Deserialize)]
struct FunctionFragment {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    arguments: Option<String>,
}

#[derive(Debug, Default)]
struct PartialCall {
    id: String,
    kind: Option<String>,
    name: String,
    arguments: String,
}

/// Source of ids for tool calls the server sent without one (vLLM, `openai.md` §6).
static SYNTHETIC_ID: AtomicU64 = AtomicU64::new(1);

/// Accumulates one completion's chunks.
#[derive(Debug, Default)]
pub(crate) struct Accumulator {
    calls: BTreeMap<u32, PartialCall>,
    last_key: Option<u32>,
    finish: Option<String>,
    usage: Option<Usage>,
}

impl Accumulator {
    /// Applies one chunk; returns the text fragment it carried, if any.
    pub(crate) fn apply(&mut self, chunk: Chunk) -> Option<String> {
        if let Some(u) = chunk.usage.or(chunk.x_groq.and_then(|g| g.usage)) {
            self.usage = Some(u);
        }
        let mut text = String::new();
        // Only choice 0 is read: Otto never asks for n > 1.
        for choice in chunk.choices.into_iter().filter(|c| c.index == 0) {
            if let Some(t) = choice.delta.content {
                text.push_str(&t);
            }
            for fragment in choice.delta.tool_calls.unwrap_or_default() {
                self.add_fragment(fragment);
            }
            if let Some(f) = choice.finish_reason {
                self.finish = Some(f);
            }
        }
        (!text.is_empty()).then_some(text)
    }

    fn add_fragment(&mut self, f: ToolCallFragment) {
        let (name, arguments) = f
            .function
            .map(|func| (func.name, func.arguments))
            .unwrap_or_default();
        let starts_call = f.id.as_deref().is_some_and(|s| !s.is_empty())
            || name.as_deref().is_some_and(|s| !s.is_empty());
        // Without `index`: a fragment naming an id or function starts a new call, anything else
        // continues the last one (`openai.md` §6 rule 7).
        let key = match (f.index, self.last_key) {
            (Some(i), _) => i,
            (None, Some(last)) if !starts_call => last,
            (None, _) => self.calls.keys().next_back().map_or(0, |k| k + 1),
        };
        self.last_key = Some(key);
        let entry = self.calls.entry(key).or_default();
        if let Some(id) = f.id.filter(|s| !s.is_empty())
            && entry.id.is_empty()
        {
            entry.id = id;
        }
        if let Some(kind) = f.kind {
            entry.kind.get_or_insert(kind);
        }
        if let Some(n) = name {
            entry.name.push_str(&n);
        }
        if let Some(a) = arguments {
            entry.arguments.push_str(&a);
        }
    }

    /// Whether a `finish_reason` has been seen (an EOF after it counts as success).
    pub(crate) fn finished(&self) -> bool {
        self.finish.is_some()
    }

    /// The complete tool calls in `index` order, then [`ChatDelta::Finished`].
    ///
    /// Calls of a type other than `function`, and calls without a name, cannot be run and are
    /// dropped (with a warning). Empty arguments become `"{}"`.
    pub(crate) fn finish(self) -> Vec<ChatDelta> {
        let mut out = Vec::new();
        for (index, call) in self.calls {
            if call.kind.as_deref().is_some_and(|k| k != "function") || call.name.is_empty() {
                tracing::warn!(index, kind = ?call.kind, "dropping a tool call that is not a named function");
                continue;
            }
            let id = if call.id.is_empty() {
                format!("call_otto_{}", SYNTHETIC_ID.fetch_add(1, Ordering::Relaxed))
            } else {
                call.id
            };
            let arguments = if call.arguments.trim().is_empty() {
                "{}".to_owned()
            } else {
                call.arguments
            };
            out.push(ChatDelta::ToolCall(ToolCall {
                id,
                name: call.name,
                arguments,
            }));
        }
        out.push(ChatDelta::Finished {
            reason: self.finish.as_deref().map(FinishReason::parse),
            usage: self.usage,
        });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(chunks: &[&str]) -> (String, Vec<ChatDelta>) {
        let mut acc = Accumulator::default();
        let mut text = String::new();
        for c in chunks {
            let chunk: Chunk = serde_json::from_str(c).expect("test chunk is valid");
            if let Some(t) = acc.apply(chunk) {
                text.push_str(&t);
            }
        }
        (text, acc.finish())
    }

    fn call(id: &str, name: &str, args: &str) -> ChatDelta {
        ChatDelta::ToolCall(ToolCall {
            id: id.into(),
            name: name.into(),
            arguments: args.into(),
        })
    }

    #[test]
    fn interleaved_fragments_accumulate_by_index() {
        let (_, out) = run(&[
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"b","type":"function","function":{"name":"two","arguments":""}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"a","type":"function","function":{"name":"one","arguments":"{\"x\""}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"{\"y\":2}"}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":":1}"}}]},"finish_reason":"stop"}]}"#,
        ]);
        assert_eq!(out[0], call("a", "one", r#"{"x":1}"#));
        assert_eq!(out[1], call("b", "two", r#"{"y":2}"#));
        // Tools were called even though finish_reason says "stop" (Ollama, forced tool_choice).
        assert_eq!(
            out[2],
            ChatDelta::Finished {
                reason: Some(FinishReason::Stop),
                usage: None
            }
        );
    }

    #[test]
    fn missing_index_and_id_are_tolerated() {
        let (_, out) = run(&[
            r#"{"choices":[{"delta":{"tool_calls":[{"function":{"name":"one","arguments":"{\"a\""}}]}}]}"#,
            r#"{"choices":[{"delta":{"tool_calls":[{"function":{"arguments":":1}"}}]}}]}"#,
            r#"{"choices":[{"delta":{"tool_calls":[{"id":"z","function":{"name":"two"}}]}}]}"#,
        ]);
        let ChatDelta::ToolCall(first) = &out[0] else {
            panic!("expected a tool call, got {out:?}")
        };
        assert!(
            first.id.starts_with("call_otto_"),
            "synthesized id {}",
            first.id
        );
        assert_eq!(
            (first.name.as_str(), first.arguments.as_str()),
            ("one", r#"{"a":1}"#)
        );
        assert_eq!(out[1], call("z", "two", "{}"));
        assert_eq!(
            out[2],
            ChatDelta::Finished {
                reason: None,
                usage: None
            }
        );
    }

    #[test]
    fn quirks_empty_choices_no_delta_groq_usage_custom_tools_unknown_reason() {
        let (text, out) = run(&[
            r#"{"choices":[],"id":"","model":"","object":"","created":0}"#,
            r#"{"choices":[{"index":0,"content_filter_results":{}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"role":"assistant","content":"Hi","reasoning_content":"x"}}]}"#,
            r#"{"choices":[{"index":1,"delta":{"content":"other choice"}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c","type":"custom","function":{"name":"raw"}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{},"finish_reason":"end_turn"}],"x_groq":{"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}}"#,
        ]);
        assert_eq!(text, "Hi");
        assert_eq!(
            out,
            vec![ChatDelta::Finished {
                reason: Some(FinishReason::Other("end_turn".into())),
                usage: Some(Usage {
                    prompt_tokens: 3,
                    completion_tokens: 1,
                    total_tokens: 4
                }),
            }]
        );
    }
}
