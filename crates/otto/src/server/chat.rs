//! `GET /chat?from=+15551234567`: a text conversation with Otto over a WebSocket, for the
//! dashboard and tests. Each text message from the client is one caller turn; Otto answers
//! with one text message per line of its reply (sentences, and `[hang up]` / `[transfer to …]`
//! for actions), exactly as `otto chat` prints them. The socket closes when the conversation
//! ends.
//!
//! The caller's identity comes from `from`, so this endpoint lets its user act as any customer:
//! it is meant for staff, and served only when `server.chat = true` (off by default, until
//! staff sign-in guards it).

use std::sync::Arc;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::response::Response;
use futures_util::{SinkExt, StreamExt};
use otto_agent::{CallerContext, Conversation, SystemClock, run_text_session};
use otto_core::domain::PhoneNumber;
use otto_core::records::{BookingSource, CallDirection};
use serde::Deserialize;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tracing::warn;

use super::AppState;
use super::error::HttpError;

/// Longest chat message accepted, bytes.
const MAX_CHAT_MESSAGE: usize = 4 * 1024;

/// Query of `/chat`.
#[derive(Debug, Deserialize)]
pub struct ChatQuery {
    /// The caller's phone number (any common format).
    from: String,
}

/// Upgrades to a chat socket for the caller `from`.
pub async fn chat(
    State(state): State<Arc<AppState>>,
    Query(query): Query<ChatQuery>,
    ws: WebSocketUpgrade,
) -> Result<Response, HttpError> {
    let caller =
        PhoneNumber::parse(&query.from).map_err(|e| HttpError::BadRequest(e.to_string()))?;
    let tasks = state.tasks.clone();
    Ok(ws
        .max_message_size(MAX_CHAT_MESSAGE)
        .on_upgrade(move |socket| tasks.track_future(run(state, caller, socket))))
}

async fn run(state: Arc<AppState>, caller: PhoneNumber, socket: WebSocket) {
    let calls = &state.calls;
    let ctx = CallerContext::new(
        Arc::new(calls.shop.config().clone()),
        calls.shop.store().clone(),
        Arc::new(SystemClock),
        calls.recalls.clone(),
        Some(caller),
        BookingSource::Text,
    );
    let dialogue = calls.llm.as_ref().map(|f| f.dialogue());
    let conversation = match Conversation::start(
        ctx,
        dialogue,
        Conversation::new_chat_id(),
        CallDirection::Inbound,
        "chat".into(),
    )
    .await
    {
        Ok(c) => c,
        Err(e) => {
            warn!(error = %e, "chat could not start");
            return;
        }
    };
    // Bridge the socket to the line-based text channel through two in-memory pipes.
    let (mut sink, mut stream) = socket.split();
    let (to_otto, otto_reads) = tokio::io::duplex(16 * 1024);
    let (otto_writes, from_otto) = tokio::io::duplex(16 * 1024);
    let inbound = async move {
        let mut to_otto = to_otto;
        while let Some(Ok(msg)) = stream.next().await {
            let text = match msg {
                Message::Text(t) => t.to_string(),
                Message::Close(_) => break,
                _ => continue,
            };
            let line = text.replace(['\r', '\n'], " ");
            if to_otto
                .write_all(format!("{line}\n").as_bytes())
                .await
                .is_err()
            {
                break;
            }
        }
    };
    let outbound = async move {
        let mut lines = BufReader::new(from_otto).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if sink.send(Message::Text(line.into())).await.is_err() {
                break;
            }
        }
        if let Err(e) = sink.close().await {
            tracing::debug!(error = %e, "chat socket already closed");
        }
    };
    let session = async move {
        if let Err(e) =
            run_text_session(conversation, BufReader::new(otto_reads), otto_writes).await
        {
            warn!(error = %e, "chat ended with an error");
        }
    };
    // The session ends on a hang-up (its writer closes, the outbound side closes the socket),
    // or when the client leaves (the inbound side drops its pipe: end of input), after which
    // it still ends the call log.
    let chat = async {
        tokio::join!(session, outbound);
    };
    tokio::pin!(chat);
    tokio::select! {
        () = &mut chat => {}
        () = inbound => chat.await,
    }
}
