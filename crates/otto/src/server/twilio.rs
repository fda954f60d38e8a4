//! Twilio's side of the server: the incoming-call webhook, status callbacks and the Media
//! Streams WebSocket (`shared/protocols/twilio.md` sections a, b, c.1 and d).
//!
//! Every request is checked against `X-Twilio-Signature` (unless validation is switched off):
//! webhooks over the public URL and their form parameters, the media upgrade over the exact
//! `wss://` stream URL we put in the TwiML. A bad signature gets 403 and a log line.
//! Call data reaches the media socket as `<Parameter>`s, because Twilio drops query strings
//! from stream URLs; a per-call token among them ([`otto_twilio::stream_token`]) binds the
//! socket to its call, caller and callee, since the upgrade's signature covers only the URL.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use otto_core::records::CallDirection;
use otto_shop::CallOutcome;
use otto_twilio::media::MAX_MESSAGE_BYTES;
use otto_twilio::signature::SIGNATURE_HEADER;
use otto_twilio::stream_token;
use otto_twilio::twiml::{self, Say, Stream};
use otto_twilio::webhook::{IncomingCall, Party, StatusCallback, parse_form};
use tracing::{info, warn};

use super::AppState;
use super::error::HttpError;
use crate::call::runner;

/// What the caller hears when Otto is at its call limit or shutting down.
fn busy_twiml(shop: &str) -> twiml::Response {
    twiml::Response::new()
        .say(Say::new(format!(
            "Thanks for calling {shop}. All of our lines are busy right now. Please call back in a few minutes. Goodbye."
        )))
        .hangup()
}

/// What a caller hears who has called too often in the last minute.
fn too_many_twiml(shop: &str) -> twiml::Response {
    twiml::Response::new()
        .say(Say::new(format!(
            "Thanks for calling {shop}. We've had several calls from your number in the last minute. Please wait a moment before calling again. Goodbye."
        )))
        .hangup()
}

/// What the caller hears when the shop's records cannot be reached.
fn unavailable_twiml(shop: &str) -> twiml::Response {
    twiml::Response::new()
        .say(Say::new(format!(
            "Thanks for calling {shop}. We're sorry, our booking system is down for a moment. Please call back in a few minutes. Goodbye."
        )))
        .hangup()
}

/// How long the webhook waits for the database before answering with an apology (Twilio
/// waits 15 s for a webhook; a caller should not hear seconds of silence).
const STORE_DEADLINE: std::time::Duration = std::time::Duration::from_millis(1_500);

pub(super) fn xml(response: &twiml::Response) -> Result<Response, HttpError> {
    let body = response.to_xml().map_err(HttpError::internal)?;
    Ok(([(header::CONTENT_TYPE, twiml::CONTENT_TYPE)], body).into_response())
}

/// Rejection of a request whose signature does not validate.
const FORBIDDEN: HttpError = HttpError::Forbidden("invalid signature");

/// Checks the signature of a form webhook.
fn check_form(
    state: &AppState,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    params: &[(String, String)],
) -> Result<(), HttpError> {
    let Some(validator) = &state.validator else {
        return Ok(());
    };
    let path = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
    let url = format!("{}{}", state.public_url(), path);
    let header = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    validator.validate_form(&url, params, header).map_err(|e| {
        warn!(error = %e, path = uri.path(), "webhook rejected: bad signature");
        FORBIDDEN
    })
}

/// Parses a webhook form, checks its signature, then reads it with `read`: 400 for a
/// malformed body or form, 403 for a bad signature (checked before the fields are trusted).
pub(super) fn signed_form<T>(
    state: &AppState,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    body: &[u8],
    read: impl FnOnce(&[(String, String)]) -> Result<T, otto_twilio::TwilioError>,
) -> Result<T, HttpError> {
    let bad = |e: otto_twilio::TwilioError| HttpError::BadRequest(e.to_string());
    let params = parse_form(body).map_err(bad)?;
    check_form(state, uri, headers, &params)?;
    read(&params).map_err(bad)
}

fn party_text(p: &Party) -> Option<String> {
    match p {
        Party::Phone(n) => Some(n.as_str().to_string()),
        Party::OtherNumber(n) => Some(n.clone()),
        _ => None,
    }
}

/// `POST /twilio/voice`: answers an incoming call with `<Connect><Stream>`, or a polite busy
/// message when Otto is at its call limit or shutting down, an apology when the database
/// does not answer within 1.5 s, or a request to wait when this caller ID has called more than
/// `server.calls_per_caller_per_minute` times in the last minute.
pub async fn voice(
    State(state): State<Arc<AppState>>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, HttpError> {
    let incoming = signed_form(&state, &uri, &headers, &body, IncomingCall::from_form)?.call;
    // A reminder call we placed (`?reminder=ID` on its answer URL): the customer is the
    // called party, and the conversation opens about their appointment.
    let reminder = super::messaging::reminder_id(&uri)
        .filter(|_| incoming.direction == otto_twilio::webhook::Direction::OutboundApi);
    let (from, to) = match reminder {
        Some(_) => (
            party_text(&incoming.to),
            party_text(&incoming.from).unwrap_or_default(),
        ),
        None => (
            party_text(&incoming.from),
            party_text(&incoming.to).unwrap_or_default(),
        ),
    };
    let direction = match reminder {
        Some(_) => CallDirection::Outbound,
        None => CallDirection::Inbound,
    };
    let recorder = &state.calls.recorder;
    let call_sid = incoming.call_sid.as_str();
    // The call log exists from the first webhook, so status callbacks always find it. Without
    // the database Otto cannot hold a conversation (every tool needs it): the caller hears an
    // apology at once rather than silence on a dead stream.
    let caller = from.as_deref().unwrap_or("anonymous");
    let shop = &state.calls.shop.config().name;
    // A redial loop gets a polite refusal before it can take a line (withheld numbers are
    // not one caller, so they are not counted together).
    if let Some(number) = &from
        && reminder.is_none()
        && state.caller_limits.check_key(number).is_err()
    {
        info!(call_sid, "refused: too many calls from this number");
        return xml(&too_many_twiml(shop));
    }
    let started = tokio::time::timeout(
        STORE_DEADLINE,
        recorder.start(call_sid, direction, caller, &to),
    )
    .await;
    let failure = match started {
        Ok(Ok(_)) => None,
        Ok(Err(e)) => Some(e.to_string()),
        Err(_) => Some(format!(
            "no answer within {} ms",
            STORE_DEADLINE.as_millis()
        )),
    };
    if let Some(why) = failure {
        warn!(error = %why, "database unavailable: the caller hears an apology");
        crate::call::metrics::provider_error("database");
        return xml(&unavailable_twiml(shop));
    }
    if state.shutting_down.is_cancelled() || !state.admission.reserve(call_sid) {
        info!(
            call_sid = incoming.call_sid.as_str(),
            "busy: at the call limit"
        );
        let busy = CallOutcome {
            outcome: Some("busy".into()),
            ..CallOutcome::default()
        };
        if let Err(e) = recorder.end(call_sid, None, busy).await {
            warn!(error = %e, "busy call not recorded");
        }
        return xml(&busy_twiml(shop));
    }
    // The token binds the socket Twilio opens next to this call, caller and callee.
    let token = state.calls.stream_tokens.issue(
        call_sid,
        from.as_deref().unwrap_or(""),
        &to,
        Utc::now().timestamp(),
    );
    let mut stream = Stream::new(state.stream_url())
        .parameter("to", to)
        .parameter(stream_token::PARAMETER, token);
    if let Some(f) = from {
        stream = stream.parameter("from", f);
    }
    if let Some(id) = reminder
        && let Ok(Some(r)) = state.calls.shop.store().reminder(id).await
    {
        stream = stream.parameter("appointment", r.appointment_id.to_string());
    }
    info!(call_sid = incoming.call_sid.as_str(), from = %incoming.from.masked(), "incoming call");
    xml(&twiml::Response::new().connect(stream).say(Say::new(
        "Sorry, we could not connect your call. Please try again in a moment.",
    )))
}

/// `POST /twilio/status`: call status callbacks. A terminal status ends the call log
/// (idempotent: repeated or out-of-order callbacks change nothing once it has ended).
pub async fn status(
    State(state): State<Arc<AppState>>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, HttpError> {
    let callback = signed_form(&state, &uri, &headers, &body, StatusCallback::from_form)?;
    if callback.call.status.is_terminal() {
        let at = callback.timestamp.map(|t| t.with_timezone(&Utc));
        match state
            .calls
            .recorder
            .terminal_status(
                callback.call.call_sid.as_str(),
                callback.call.status.as_str(),
                at,
            )
            .await
        {
            Ok(true) => {}
            Ok(false) => info!("status callback for a call we never answered"),
            Err(e) => {
                return Err(HttpError::internal(format!(
                    "status callback not recorded: {e}"
                )));
            }
        }
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /twilio/media`: the Media Streams WebSocket. The upgrade is signature-checked over the
/// stream URL; each accepted socket runs one call, which takes its call's reserved permit when
/// `start` arrives ([`crate::call::admission`]).
pub async fn media(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Result<Response, HttpError> {
    if let Some(validator) = &state.validator {
        let header = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
        if let Err(e) = validator.validate_form(&state.stream_url(), &[], header) {
            warn!(error = %e, "media stream rejected: bad signature");
            return Err(FORBIDDEN);
        }
    }
    if state.shutting_down.is_cancelled() {
        return Err(HttpError::Unavailable("shutting down"));
    }
    let admission = state.admission.clone();
    let calls = state.calls.clone();
    let end_calls = state.end_calls.clone();
    let tasks = state.tasks.clone();
    Ok(ws
        .read_buffer_size(otto_twilio::media::READ_BUFFER_BYTES)
        .max_message_size(MAX_MESSAGE_BYTES)
        .max_frame_size(MAX_MESSAGE_BYTES)
        .on_upgrade(move |socket| {
            tasks.track_future(runner::run(calls, admission, socket, end_calls))
        }))
}
