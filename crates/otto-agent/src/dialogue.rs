//! The dialogue interface shared by the rule-based dialogue and the LLM agent.
//!
//! A reply is streamed: the dialogue sends [`ReplyEvent::Sentence`]s as soon as each is ready
//! and [`ReplyEvent::Action`]s (transfer, hang-up) for the channel to perform after the reply
//! has been delivered. The caller interrupting (barge-in) cancels the `CancellationToken`: the
//! dialogue stops sending soon after, but a write it already started (a booking) completes and
//! its result stays in the [`CallerContext`]. Callers must await a cancelled `reply` rather than
//! drop it. [`Dialogue::truncated`] then tells the dialogue which part of its last reply the
//! caller actually heard, so its history keeps only that.

use otto_core::engine::{CallAction, ReplyInput};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::context::CallerContext;

/// One piece of a streamed reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyEvent {
    /// The next sentence to say, complete and trimmed.
    Sentence(String),
    /// An action to perform once the reply has been delivered.
    Action(CallAction),
}

/// Where a dialogue sends its reply.
pub type ReplySink = mpsc::Sender<ReplyEvent>;

/// Why a dialogue could not reply. The conversation falls back to the rule-based dialogue.
#[derive(Debug, thiserror::Error)]
pub enum DialogueError {
    /// The model (or its provider) failed; the text is for logs.
    #[error("dialogue failed: {0}")]
    Failed(String),
    /// The reply sink was closed (the channel went away).
    #[error("the reply channel is closed")]
    Closed,
}

/// A brain that answers caller turns. See the module docs for the streaming contract.
///
/// `Sync` because conversations are held across awaits in spawned tasks (a server runs one
/// per call or chat).
#[async_trait::async_trait]
pub trait Dialogue: Send + Sync + std::fmt::Debug {
    /// Answers `input`, sending sentences and actions to `out`, acting through the tools on
    /// `ctx`. Stops sending once `cancel` fires.
    ///
    /// # Errors
    /// [`DialogueError`] when the brain cannot produce a reply.
    async fn reply(
        &mut self,
        ctx: &mut CallerContext,
        input: &ReplyInput,
        out: &ReplySink,
        cancel: &CancellationToken,
    ) -> Result<(), DialogueError>;

    /// The caller heard only `heard` of the last reply (barge-in).
    fn truncated(&mut self, heard: &str);
}

/// Sends `sentences` unless `cancel` has fired; the rule-based dialogue's way to speak.
pub(crate) async fn say(
    out: &ReplySink,
    cancel: &CancellationToken,
    sentences: impl IntoIterator<Item = String>,
) -> Result<(), DialogueError> {
    for s in sentences {
        if cancel.is_cancelled() {
            return Ok(());
        }
        let s = s.trim().to_string();
        if !s.is_empty() {
            out.send(ReplyEvent::Sentence(s))
                .await
                .map_err(|_| DialogueError::Closed)?;
        }
    }
    Ok(())
}
