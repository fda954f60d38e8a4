//! Twilio's messaging and reminder webhooks (`shared/protocols/twilio.md` §a.2, §b, §e.3),
//! each signature-checked like the voice webhook, then handed to [`crate::reminders`]:
//!
//! | route | what |
//! |---|---|
//! | `POST /twilio/sms` | a text from a customer → TwiML `<Message>` with the answer |
//! | `POST /twilio/sms/status?reminder=ID` | a reminder text's delivery status |
//! | `POST /twilio/reminder/amd?reminder=ID` | who answered a reminder call (voicemail on a machine) |
//! | `POST /twilio/reminder/status?reminder=ID` | a reminder call's terminal status (and its call log) |
//!
//! The reminder id rides in the callback URL Otto gave Twilio, so it is covered by the
//! signature; every change is further guarded by the reminder's status and SID.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use chrono::Utc;
use otto_twilio::messaging::{IncomingMessage, MessageStatusCallback};
use otto_twilio::twiml;
use otto_twilio::webhook::{AmdCallback, StatusCallback};
use tracing::warn;

use super::AppState;
use super::error::HttpError;
use super::twilio::{signed_form, xml};

/// The `reminder` query parameter of a callback URL, when it is a positive id.
pub(super) fn reminder_id(uri: &Uri) -> Option<i64> {
    form_urlencoded::parse(uri.query()?.as_bytes())
        .find(|(k, _)| k == "reminder")
        .and_then(|(_, v)| v.parse::<i64>().ok())
        .filter(|id| *id > 0)
}

fn required_reminder(uri: &Uri) -> Result<i64, HttpError> {
    reminder_id(uri).ok_or(HttpError::BadRequest(
        "the URL names no reminder (?reminder=ID)".into(),
    ))
}

fn failed(what: &str, e: &anyhow::Error) -> HttpError {
    warn!(error = %e, "{what} not recorded");
    HttpError::internal(format!("{what} not recorded"))
}

/// `POST /twilio/sms`: answers a customer's text. A text from a number that is not a phone
/// number (a short code, an email gateway) gets no answer.
pub async fn incoming(
    State(state): State<Arc<AppState>>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, HttpError> {
    let message = signed_form(&state, &uri, &headers, &body, IncomingMessage::from_form)?;
    let Some(from) = message.from.phone() else {
        return xml(&twiml::Response::new());
    };
    let answer = state
        .reminders
        .answer_sms(from, &message.body)
        .await
        .map_err(|e| failed("incoming text", &e))?;
    let mut doc = twiml::Response::new();
    if let Some(text) = answer {
        doc = doc.message(text);
    }
    xml(&doc)
}

/// `POST /twilio/sms/status?reminder=ID`.
pub async fn sms_status(
    State(state): State<Arc<AppState>>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, HttpError> {
    let cb = signed_form(
        &state,
        &uri,
        &headers,
        &body,
        MessageStatusCallback::from_form,
    )?;
    let id = required_reminder(&uri)?;
    state
        .reminders
        .message_status(id, &cb)
        .await
        .map_err(|e| failed("message status", &e))?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /twilio/reminder/amd?reminder=ID`.
pub async fn amd(
    State(state): State<Arc<AppState>>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, HttpError> {
    let cb = signed_form(&state, &uri, &headers, &body, AmdCallback::from_form)?;
    let id = required_reminder(&uri)?;
    state
        .reminders
        .machine_detected(id, &cb)
        .await
        .map_err(|e| failed("answering-machine result", &e))?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /twilio/reminder/status?reminder=ID`: the reminder's outcome, and the call log's
/// end when Otto had answered the call (a person or a voicemail greeting picked up).
pub async fn call_status(
    State(state): State<Arc<AppState>>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, HttpError> {
    let cb = signed_form(&state, &uri, &headers, &body, StatusCallback::from_form)?;
    let id = required_reminder(&uri)?;
    state
        .reminders
        .call_status(id, &cb)
        .await
        .map_err(|e| failed("reminder call status", &e))?;
    if cb.call.status.is_terminal() {
        let at = cb.timestamp.map(|t| t.with_timezone(&Utc));
        state
            .calls
            .recorder
            .terminal_status(cb.call.call_sid.as_str(), cb.call.status.as_str(), at)
            .await
            .map_err(|e| HttpError::internal(format!("status callback not recorded: {e}")))?;
    }
    Ok(StatusCode::NO_CONTENT)
}
