//! `GET /chat?from=+15551234567`: a text conversation with Otto over a WebSocket, for the
//! dashboard and tests. Each text message from the client is one caller turn; Otto answers
//! with one text message per line of its reply (sentences, and `[hang up]` / `[transfer to …]`
//! for actions), exactly as `otto chat` prints them. The socket closes when the conversation
//! ends.
//!
//! The caller's identity comes from `from`, so this endpoint lets its user act as any customer:
//! it needs a signed-in staff session (the dashboard's "Try Otto" page), an `Origin` of this
//! server when the browser sends one (no cross-site WebSocket), and is not served at all when
//! `server.chat = false`.

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
    staff: crate::dashboard::auth::Staff,
    headers: axum::http::HeaderMap,
    Query(query): Query<ChatQuery>,
    ws: WebSocketUpgrade,
) -> Result<Response, HttpError> {
    if let Some(origin) = headers.get(axum::http::header::ORIGIN) {
        let host = headers
            .get(axum::http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("");
        let origin = origin.to_str().unwrap_or("");
        let same = origin
            .split_once("://")
            .is_some_and(|(_, rest)| rest == host);
        if !same {
            return Err(HttpError::Forbidden("cross-origin chat refused"));
        }
    }
    tracing::info!(staff = %staff.name(), "staff chat started");
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
        calls.shop.clone(),
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
