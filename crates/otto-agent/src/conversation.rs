//! [`Conversation`]: one call or chat from start to end — the caller context, the active
//! dialogue (with the rule-based dialogue as fallback), and the call log.
//!
//! The call log is written as the conversation goes, through the one call-log writer
//! ([`CallRecorder`], stamping with the context's clock): `start` creates it (a generated
//! conversation id for chats, the Twilio call SID for calls), [`Conversation::commit_turn`]
//! appends each finished turn at once (the channel decides when a turn is finished: the text
//! channel right after each message, the voice call engine when playback ends or the caller
//! barges in; the voice call writes through [`Conversation::call_log`] from a task of its
//! own), and [`Conversation::end`] records the outcome and summary. A message taken for
//! the staff is the call log's outcome "message" with the message in its summary; the caller's
//! own words are in the turns.
//!
//! If the active dialogue fails mid-conversation, the rule-based dialogue takes over the same
//! [`CallerContext`] and answers the same input.

use otto_core::engine::ReplyInput;
use otto_core::records::{self, CallDirection, Id, Speaker};
use otto_shop::{CallLog, CallOutcome, CallRecorder};
use otto_store::StoreError;
use tokio_util::sync::CancellationToken;
use tracing::warn;

use crate::context::CallerContext;
use crate::dialogue::{Dialogue, DialogueError, ReplySink};
use crate::rules::RuleDialogue;

/// Why the conversation could not write its call log.
#[derive(Debug, thiserror::Error)]
pub enum ConversationError {
    #[error("call log: {0}")]
    Store(#[from] StoreError),
    #[error(transparent)]
    Dialogue(#[from] DialogueError),
}

/// One conversation. See the module docs.
#[derive(Debug)]
pub struct Conversation {
    ctx: CallerContext,
    dialogue: Box<dyn Dialogue>,
    /// True once the rule-based dialogue has taken over (or was the only one).
    on_rules: bool,
    call: CallLog,
}

impl Conversation {
    /// Starts a conversation: writes the call log entry (`call_sid` is the Twilio call SID or
    /// a generated id, `to` the number or channel called) and binds `dialogue`, or the
    /// rule-based dialogue when `None`.
    ///
    /// # Errors
    /// [`ConversationError::Store`] when the call log cannot be written.
    pub async fn start(
        ctx: CallerContext,
        dialogue: Option<Box<dyn Dialogue>>,
        call_sid: String,
        direction: CallDirection,
        to: String,
    ) -> Result<Self, ConversationError> {
        let from = ctx
            .caller()
            .map_or_else(|| "anonymous".to_string(), |p| p.to_string());
        let call = CallRecorder::new(ctx.store().clone(), ctx.clock().clone())
            .start(&call_sid, direction, &from, &to)
            .await?;
        let mut ctx = ctx;
        ctx.call_id = Some(call.id());
        let on_rules = dialogue.is_none();
        Ok(Self {
            ctx,
            dialogue: dialogue.unwrap_or_else(|| Box::new(RuleDialogue::new())),
            on_rules,
            call,
        })
    }

    /// The same conversation led by `rules` alone (a reminder call opens with
    /// [`RuleDialogue::reminding`]); the LLM, if any, is dropped.
    pub fn with_rules(mut self, rules: RuleDialogue) -> Self {
        self.dialogue = Box::new(rules);
        self.on_rules = true;
        self
    }

    /// A generated conversation id for chats: "chat-" and 16 hex digits from a per-process
    /// random seed and a process-wide counter (unique per process, unlikely to repeat across
    /// processes; the store's unique index guards the rest). Reads no clock.
    pub fn new_chat_id() -> String {
        use std::hash::{BuildHasher, RandomState};
        use std::sync::OnceLock;
        use std::sync::atomic::{AtomicU64, Ordering};
        static NEXT: AtomicU64 = AtomicU64::new(0);
        static SEED: OnceLock<u64> = OnceLock::new();
        let seed = *SEED.get_or_init(|| RandomState::new().hash_one("otto-chat"));
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        format!("chat-{:016x}", seed.rotate_left(20) ^ n)
    }

    /// The shared caller context.
    pub fn context(&self) -> &CallerContext {
        &self.ctx
    }

    /// The call log row as started.
    pub fn call(&self) -> &records::CallLog {
        self.call.row()
    }

    /// The call log id.
    pub fn call_id(&self) -> Id {
        self.call.id()
    }

    /// The call being recorded, for a channel that writes turns from a task of its own.
    pub fn call_log(&self) -> &CallLog {
        &self.call
    }

    /// True when the rule-based dialogue is answering.
    pub fn on_rules(&self) -> bool {
        self.on_rules
    }

    /// Produces the reply to `input` on `out` (see [`Dialogue::reply`]). When the active
    /// dialogue fails, the rule-based dialogue takes over and answers the same input.
    ///
    /// # Errors
    /// [`DialogueError::Closed`] when `out` is closed; a failure of the rule-based dialogue.
    pub async fn reply(
        &mut self,
        input: &ReplyInput,
        out: &ReplySink,
        cancel: &CancellationToken,
    ) -> Result<(), DialogueError> {
        // The frame hears every caller turn whichever brain answers, so that the rules can
        // take over a booking mid-call (the rules read it themselves, stage by stage).
        if !self.on_rules
            && let ReplyInput::Caller(text) = input
        {
            self.ctx.hear(text);
        }
        match self.dialogue.reply(&mut self.ctx, input, out, cancel).await {
            Err(DialogueError::Failed(why)) if !self.on_rules => {
                warn!(%why, "dialogue failed; the rule-based dialogue takes over");
                self.dialogue = Box::new(RuleDialogue::new());
                self.on_rules = true;
                self.dialogue.reply(&mut self.ctx, input, out, cancel).await
            }
            other => other,
        }
    }

    /// The caller heard only `heard` of the last reply (barge-in).
    pub fn truncated(&mut self, heard: &str) {
        self.dialogue.truncated(heard);
    }

    /// Appends a finished turn to the call log now.
    ///
    /// # Errors
    /// [`StoreError`] when the turn cannot be written.
    pub async fn commit_turn(
        &self,
        speaker: Speaker,
        text: &str,
        interrupted: bool,
    ) -> Result<(), StoreError> {
        self.call
            .append(&self.call.turn(speaker, text, interrupted))
            .await
    }

    /// Ends the call log with the outcome, summary and identified customer.
    ///
    /// # Errors
    /// [`StoreError`] when the call log cannot be written.
    pub async fn end(self) -> Result<records::CallLog, StoreError> {
        self.call
            .end(CallOutcome {
                outcome: self.ctx.outcome().map(|o| o.as_str().to_string()),
                summary: self.ctx.summary(),
                customer_id: self.ctx.customer().map(|c| c.id),
            })
            .await
    }
}
