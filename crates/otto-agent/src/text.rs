//! The text channel: a conversation over lines of text (the CLI's `otto chat`, the server's
//! chat WebSocket, tests with in-memory pipes).
//!
//! Protocol: Otto's greeting first, then for each line the caller writes (UTF-8, trimmed,
//! blank lines ignored, at most [`MAX_LINE_BYTES`]) Otto writes its reply, one sentence per
//! line. Call actions are written as
//! `[transfer to +15555550100]` and `[hang up]`; after a hang-up or transfer the session ends.
//! End of input ends the session. Every turn is committed to the call log as it ends.

use otto_core::engine::{CallAction, ReplyInput};
use otto_core::records::Speaker;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::conversation::Conversation;
use crate::dialogue::{DialogueError, ReplyEvent};

/// Longest accepted caller line, bytes; longer lines are refused with a short notice.
pub const MAX_LINE_BYTES: usize = 2000;

/// Why a text session stopped abnormally.
#[derive(Debug, thiserror::Error)]
pub enum TextError {
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("call log: {0}")]
    Store(#[from] otto_store::StoreError),
    #[error(transparent)]
    Dialogue(#[from] DialogueError),
}

/// How a text session shows who speaks. [`TextStyle::PLAIN`] is the protocol above; a
/// terminal adds labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextStyle {
    /// Written before each of Otto's lines, e.g. "Otto: ".
    pub agent_label: &'static str,
    /// Written (without a newline) when Otto waits for the caller, e.g. "You: ".
    pub prompt: &'static str,
}

impl TextStyle {
    /// No labels, no prompt: the line protocol of the chat WebSocket and the tests.
    pub const PLAIN: Self = Self {
        agent_label: "",
        prompt: "",
    };
    /// For a person at a terminal: "Otto: " before Otto's lines and a "You: " prompt.
    pub const TERMINAL: Self = Self {
        agent_label: "Otto: ",
        prompt: "You: ",
    };
}

/// Runs `conversation` over `reader`/`writer` until end of input, a hang-up or a transfer,
/// then ends its call log and returns it. Plain lines ([`TextStyle::PLAIN`]).
///
/// # Errors
/// [`TextError`] on I/O, call log or dialogue failure (the call log is still ended when
/// possible).
pub async fn run_text_session(
    conversation: Conversation,
    reader: impl AsyncBufRead + Unpin,
    writer: impl AsyncWrite + Unpin,
) -> Result<otto_core::records::CallLog, TextError> {
    run_styled_session(conversation, reader, writer, TextStyle::PLAIN).await
}

/// [`run_text_session`] showing who speaks with `style`.
///
/// # Errors
/// As [`run_text_session`].
pub async fn run_styled_session(
    mut conversation: Conversation,
    reader: impl AsyncBufRead + Unpin,
    mut writer: impl AsyncWrite + Unpin,
    style: TextStyle,
) -> Result<otto_core::records::CallLog, TextError> {
    let result = talk(&mut conversation, reader, &mut writer, style).await;
    let log = conversation.end().await?;
    result.map(|()| log)
}

async fn talk(
    conversation: &mut Conversation,
    reader: impl AsyncBufRead + Unpin,
    writer: &mut (impl AsyncWrite + Unpin),
    style: TextStyle,
) -> Result<(), TextError> {
    let mut lines = reader.lines();
    let mut input = ReplyInput::Greeting;
    loop {
        if exchange(conversation, &input, writer, style).await? {
            return Ok(());
        }
        if !style.prompt.is_empty() {
            writer.write_all(style.prompt.as_bytes()).await?;
            writer.flush().await?;
        }
        let text = loop {
            let Some(line) = lines.next_line().await? else {
                return Ok(());
            };
            let line = line.trim();
            if line.len() > MAX_LINE_BYTES {
                writer
                    .write_all(b"That message is too long; please keep it shorter.\n")
                    .await?;
                writer.flush().await?;
                continue;
            }
            if !line.is_empty() {
                break line.to_string();
            }
        };
        conversation
            .commit_turn(Speaker::Caller, &text, false)
            .await?;
        input = ReplyInput::Caller(text);
    }
}

/// One reply: streams it to `writer`, commits the agent turn, and returns true when the
/// session must end (hang-up or transfer).
async fn exchange(
    conversation: &mut Conversation,
    input: &ReplyInput,
    writer: &mut (impl AsyncWrite + Unpin),
    style: TextStyle,
) -> Result<bool, TextError> {
    let (tx, mut rx) = mpsc::channel(32);
    let cancel = CancellationToken::new();
    let mut said = Vec::new();
    let mut end = false;
    let drain = async {
        while let Some(ev) = rx.recv().await {
            match ev {
                ReplyEvent::Sentence(s) => {
                    writer.write_all(style.agent_label.as_bytes()).await?;
                    writer.write_all(s.as_bytes()).await?;
                    writer.write_all(b"\n").await?;
                    said.push(s);
                }
                ReplyEvent::Action(CallAction::HangUp) => {
                    writer.write_all(b"[hang up]\n").await?;
                    end = true;
                }
                ReplyEvent::Action(CallAction::Transfer { to }) => {
                    writer
                        .write_all(format!("[transfer to {to}]\n").as_bytes())
                        .await?;
                    end = true;
                }
            }
            writer.flush().await?;
        }
        Ok::<(), std::io::Error>(())
    };
    let (r, w) = tokio::join!(
        async {
            // Owns the sender, so the drain ends when the reply is complete.
            let tx = tx;
            conversation.reply(input, &tx, &cancel).await
        },
        drain
    );
    w?;
    r?;
    if !said.is_empty() {
        conversation
            .commit_turn(Speaker::Agent, &said.join(" "), false)
            .await?;
    }
    Ok(end)
}
