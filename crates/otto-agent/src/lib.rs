//! Otto's conversation layer: what a caller says in, what Otto says and does out.
//!
//! - [`nlu`]: pure entity and intent extraction (dates, times, services, vehicles, VINs,
//!   phone numbers, names, yes/no) for the rule-based dialogue.
//! - [`context`]: [`CallerContext`], the identity and shared state of one conversation.
//! - [`tools`]: the tool registry (OpenAI `tools` JSON, [`tools::execute`]) and executors.
//! - [`dialogue`]: the [`Dialogue`] interface both brains implement (streamed sentences,
//!   actions, cancellation, barge-in truncation).
//! - [`rules`]: the rule-based dialogue.
//! - [`llm`]: [`llm::LlmDialogue`], the LLM dialogue (OpenAI-compatible, streamed, with tools).
//! - [`recalls`]: the [`RecallLookup`] trait the NHTSA client implements.
//! - [`conversation`]: [`Conversation`]: dialogue + context + call log.
//! - [`text`]: [`run_text_session`], the text channel.
//! - [`speak`]: how dates, times, money, records and the shop's facts are said.
//! - [`eval`]: `otto eval`, scenario tests for the dialogue.

pub mod context;
pub mod conversation;
pub mod dialogue;
pub mod eval;
pub mod frame;
pub mod llm;
pub mod nlu;
pub mod recalls;
pub mod rules;
pub mod speak;
pub mod text;
pub mod tools;

pub use context::{CallerContext, Outcome};
pub use conversation::{Conversation, ConversationError};
pub use dialogue::{Dialogue, DialogueError, ReplyEvent, ReplySink};
pub use frame::Frame;
/// Where "now" comes from: the clock types of the shop's services, re-exported for the
/// dialogue's users.
pub use otto_shop::{Clock, FixedClock, SystemClock};
pub use recalls::{Recall, RecallError, RecallLookup};
pub use rules::RuleDialogue;
pub use text::{TextError, TextStyle, run_styled_session, run_text_session};
