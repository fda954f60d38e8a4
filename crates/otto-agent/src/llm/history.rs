//! The LLM conversation history: token counting (tiktoken), trimming to a budget without ever
//! separating an assistant tool call from its tool results, and cutting the last reply to what
//! the caller heard (barge-in).

use otto_providers::openai::ChatMessage;
use tiktoken_rs::CoreBPE;

/// Tokens a chat message costs beyond its text (role and separators; OpenAI's cookbook
/// figure for current chat models).
const PER_MESSAGE_OVERHEAD: usize = 4;

/// Tokens of `m` under `bpe`: content, tool call names and arguments, plus the overhead.
pub(crate) fn tokens(m: &ChatMessage, bpe: &CoreBPE) -> usize {
    let count = |s: &str| bpe.encode_ordinary(s).len();
    PER_MESSAGE_OVERHEAD
        + match m {
            ChatMessage::System { content } | ChatMessage::User { content } => count(content),
            ChatMessage::Assistant {
                content,
                tool_calls,
            } => {
                content.as_deref().map_or(0, count)
                    + tool_calls
                        .iter()
                        .map(|c| count(&c.name) + count(&c.arguments) + PER_MESSAGE_OVERHEAD)
                        .sum::<usize>()
            }
            ChatMessage::Tool { content, .. } => count(content),
        }
}

/// Drops the oldest messages until the total is within `budget` tokens, in whole units: a
/// message together with the tool results that follow it. The last unit is always kept.
/// Returns how many messages were dropped.
pub(crate) fn trim(messages: &mut Vec<ChatMessage>, budget: usize, bpe: &CoreBPE) -> usize {
    // Unit starts: every message that is not a tool result.
    let starts: Vec<usize> = messages
        .iter()
        .enumerate()
        .filter(|(_, m)| !matches!(m, ChatMessage::Tool { .. }))
        .map(|(i, _)| i)
        .collect();
    let costs: Vec<usize> = messages.iter().map(|m| tokens(m, bpe)).collect();
    let mut total: usize = costs.iter().sum();
    let mut drop_to = 0;
    for (u, start) in starts.iter().enumerate().skip(1) {
        if total <= budget {
            break;
        }
        total -= costs[starts[u - 1]..*start].iter().sum::<usize>();
        drop_to = *start;
    }
    // Orphan tool results at the very front (cannot happen when built by the dialogue, but a
    // tool message must never lead the history).
    while drop_to < messages.len().saturating_sub(1)
        && matches!(messages[drop_to], ChatMessage::Tool { .. })
    {
        drop_to += 1;
    }
    messages.drain(..drop_to);
    drop_to
}

/// Cuts the assistant text of the reply that starts at `messages[from..]` to `heard`, the
/// prefix of the spoken sentences the caller heard (sentences joined by single spaces).
/// Assistant messages past what was heard lose their text; a text-only assistant message left
/// empty is removed (tool calls and their results stay: they happened).
pub(crate) fn truncate_reply(messages: &mut Vec<ChatMessage>, from: usize, heard: &str) {
    let mut left = heard.trim();
    let mut i = from.min(messages.len());
    while i < messages.len() {
        if let ChatMessage::Assistant {
            content,
            tool_calls,
        } = &mut messages[i]
        {
            if let Some(text) = content.as_mut() {
                let said = text.trim();
                if left.starts_with(said) {
                    left = left[said.len()..].trim_start();
                } else {
                    // The cut falls inside this message: keep what was heard of it.
                    *text = std::mem::take(&mut left).to_owned();
                }
                if text.trim().is_empty() {
                    *content = None;
                }
            }
            if content.is_none() && tool_calls.is_empty() {
                messages.remove(i);
                continue;
            }
        }
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use otto_providers::openai::ToolCall;

    fn user(s: &str) -> ChatMessage {
        ChatMessage::User { content: s.into() }
    }
    fn said(s: &str) -> ChatMessage {
        ChatMessage::Assistant {
            content: Some(s.into()),
            tool_calls: vec![],
        }
    }
    fn calls(ids: &[&str]) -> ChatMessage {
        ChatMessage::Assistant {
            content: None,
            tool_calls: ids
                .iter()
                .map(|id| ToolCall {
                    id: (*id).into(),
                    name: "list_upcoming".into(),
                    arguments: "{}".into(),
                })
                .collect(),
        }
    }
    fn result(id: &str) -> ChatMessage {
        ChatMessage::Tool {
            tool_call_id: id.into(),
            content: "{\"appointments\":[]}".repeat(20),
        }
    }

    #[test]
    fn trimming_drops_whole_units_and_keeps_the_last() {
        let bpe = tiktoken_rs::o200k_base_singleton();
        let mut h = vec![
            user("first question"),
            calls(&["a", "b"]),
            result("a"),
            result("b"),
            said("answer"),
            user("next"),
        ];
        let all: usize = h.iter().map(|m| tokens(m, bpe)).sum();
        assert_eq!(trim(&mut h, all, bpe), 0, "within budget: untouched");
        // A budget just too small for everything drops the first unit only.
        assert_eq!(trim(&mut h, all - 1, bpe), 1);
        assert!(matches!(h[0], ChatMessage::Assistant { .. }));
        // Smaller: the tool-call unit goes as a whole, never leaving tool results in front.
        let dropped = trim(
            &mut h,
            tokens(&said("answer"), bpe) + tokens(&user("next"), bpe),
            bpe,
        );
        assert_eq!(dropped, 3);
        assert_eq!(h, vec![said("answer"), user("next")]);
        // The last unit survives any budget.
        trim(&mut h, 0, bpe);
        assert_eq!(h, vec![user("next")]);
    }

    #[test]
    fn truncation_keeps_only_what_was_heard() {
        let mut h = vec![
            user("hi"),
            said("Let me check."),
            calls(&["a"]),
            result("a"),
            said("You have none. Anything else?"),
        ];
        truncate_reply(&mut h, 1, "Let me check. You have none.");
        assert_eq!(h[4], said("You have none."));
        let mut h = vec![
            user("hi"),
            said("Let me check."),
            calls(&["a"]),
            result("a"),
            said("You have none."),
        ];
        truncate_reply(&mut h, 1, "Let me");
        assert_eq!(h[1], said("Let me"));
        assert_eq!(
            h.len(),
            4,
            "unheard text-only message removed; the tool call stays"
        );
        assert!(matches!(h[2], ChatMessage::Assistant { content: None, .. }));
    }
}
