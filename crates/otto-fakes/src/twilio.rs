//! [`FakeTwilioRest`]: a fake Twilio REST API (`shared/protocols/twilio.md` §e) on
//! `127.0.0.1:0` that also sends Twilio's asynchronous, signed callbacks (§a.2, §b.1).
//!
//! # Routes
//!
//! All `POST`, form bodies, HTTP Basic auth `AccountSid:AuthToken`:
//! - `/2010-04-01/Accounts/{AccountSid}/Messages.json` (§e.3) → 201 with
//!   `twilio-rest-message-create-response.json` whose `sid` is a fresh `SM` + 32 lowercase hex
//!   digits and whose `to`, `from`, `body` are the request's (`status` stays `queued`). The
//!   first message of a fake gets the fixture's sid `SM…05`, the next `SM…06`, and so on.
//!   Recorded in [`FakeTwilioRest::messages`].
//! - `/2010-04-01/Accounts/{AccountSid}/Calls.json` (§e.1) → 201 with
//!   `twilio-rest-call-create-response.json` whose `sid` is a fresh `CA` + 32 hex digits (the
//!   first call gets the fixture's `CA…02`) and whose `to`, `from` are the request's (`status`
//!   stays `queued`). Recorded in [`FakeTwilioRest::calls`].
//! - `/2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json` (§e.2) → 200 with that call
//!   resource (its `sid` the path's, `status` `completed` for `Status=completed`, else
//!   `in-progress`), for any sid, created here or not. Recorded in
//!   [`FakeTwilioRest::call_updates`].
//!
//! Wrong or missing credentials (or a path account other than the configured one) answer 401
//! with `twilio-rest-error-20003.json`; a `To` that is not `+` and digits answers 400 with
//! `twilio-rest-error-21211.json`; unknown paths answer 404 with `twilio-rest-error-20404.json`.
//! A test can script failures with [`FakeTwilioRest::fail_next`] (a scripted answer creates
//! nothing and sends no callback); every request is recorded (after the auth check) in
//! [`FakeTwilioRest::requests`].
//!
//! # Outcomes
//!
//! Scripted per `To` number; by default a message is delivered and a call is answered by a
//! human ([`FakeTwilioRest::set_message_outcome`], [`FakeTwilioRest::set_call_outcome`]). The
//! fake never fetches a call's `Url` nor streams its media: the test plays that part itself.
//!
//! # Callbacks
//!
//! Like Twilio's: `POST`s made by a spawned task after the REST answer was sent, each after the
//! callback delay (default 20 ms, [`FakeTwilioRest::set_callback_delay`]), with
//! `Content-Type: application/x-www-form-urlencoded`, `X-Twilio-Signature` ([`signature`] of
//! the full callback URL and the form, keyed with the auth token) and a per-delivery
//! `I-Twilio-Idempotency-Token`. Deliveries of one message or call go out one at a time, in
//! order; a failed delivery (no connection, timeout, non-2xx) is recorded and not retried.
//! Every attempt is recorded in [`FakeTwilioRest::callbacks`]. Only loopback `http` URLs
//! (`127.0.0.0/8`, `[::1]`, `localhost`) are contacted: any other URL (such as the fixtures'
//! `https://voice.example.com/…`) is recorded as a delivery with no status and never
//! contacted, so the fake never leaves the machine.
//!
//! - **Message** with a `StatusCallback`: `MessageStatus=sent`, then `delivered`, or
//!   `undelivered` / `failed` with `ErrorCode`. Fields in order: `SmsSid`, `SmsStatus` (same
//!   as `MessageStatus`), `MessageStatus`, `To`, `MessageSid`, `AccountSid`, `From`,
//!   `ApiVersion` (`2010-04-01`), then `ErrorCode` on `undelivered` / `failed` only.
//! - **Call answered** ([`CallOutcome::Human`] / [`CallOutcome::Machine`]) with an
//!   `AsyncAmdStatusCallback`: one POST there with `CallSid`, `AccountSid`, `AnsweredBy`
//!   (`human`; for a machine `machine_end_beep` when `MachineDetection=DetectMessageEnd`, else
//!   `machine_start`) and `MachineDetectionDuration` ([`MACHINE_DETECTION_DURATION_MS`]).
//!   The call then stays in progress until a test hangs it up:
//!   - an update with `Status=completed` or with `Twiml` (the fake plays the document to its
//!     end at once, e.g. a voicemail ending in `<Hangup/>`) sends the terminal status callback
//!     with `CallStatus=completed`, `CallDuration` = [`UPDATE_CALL_DURATION_S`];
//!   - [`FakeTwilioRest::complete_call`] sends it with the duration the test chooses.
//! - **Call not answered** ([`CallOutcome::NoAnswer`] / [`CallOutcome::Busy`]) with a
//!   `StatusCallback`: the terminal status callback with `CallStatus` `no-answer` / `busy`,
//!   `CallDuration=0`, `Duration=0`, `SipResponseCode` `487` / `486`.
//!
//! The terminal status callback goes to the call's `StatusCallback` (the latest one, if an
//! update set a new one) and carries, in order, the §a.1 fields `CallSid`, `AccountSid`,
//! `From`, `To`, `CallStatus`, `ApiVersion`, `Direction` (`outbound-api`), `Caller`,
//! `Called`, then `CallDuration` (seconds), `Duration` (whole minutes, rounded up),
//! `SipResponseCode` (`200` for `completed`) and, when AMD ran (the call was created with
//! `MachineDetection` or `AsyncAmdStatusCallback`), `AnsweredBy`. A call gets at most one
//! terminal callback; later updates of an ended call only answer 200.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use tokio::sync::{mpsc, oneshot};

use crate::server::{Running, serve};

/// `CallDuration` (seconds) of the terminal callback sent when a call is hung up or finished
/// by an update (`Status=completed` or `Twiml`); its `Duration` is then `1` (minute).
pub const UPDATE_CALL_DURATION_S: u32 = 12;

/// `MachineDetectionDuration` (milliseconds) of every async AMD callback.
pub const MACHINE_DETECTION_DURATION_MS: u32 = 1830;

/// The delay before each callback delivery unless [`FakeTwilioRest::set_callback_delay`]
/// changed it: 20 ms.
pub const DEFAULT_CALLBACK_DELAY: Duration = Duration::from_millis(20);

/// How long one callback delivery may take (connect, send, response head) before it is
/// recorded as failed (status `None`): 10 s.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);

/// The fixtures' sids: the first message and call of a fake get these.
const FIRST_MESSAGE_SID: u64 = 5;
const FIRST_CALL_SID: u64 = 2;
const FIXTURE_ACCOUNT_SID: &str = "AC00000000000000000000000000000001";
const FIXTURE_CALL_SID: &str = "CA00000000000000000000000000000002";
const FIXTURE_MESSAGE_SID: &str = "SM00000000000000000000000000000005";

/// A request the fake accepted for handling (credentials were right).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TwilioRequest {
    /// The request path, e.g. `/2010-04-01/Accounts/AC…/Calls.json`.
    pub path: String,
    /// The raw form body.
    pub body: String,
    /// The decoded form pairs, in order.
    pub form: Vec<(String, String)>,
}

/// A scripted answer replacing the next request's normal one.
#[derive(Debug, Clone)]
pub struct ScriptedFailure {
    /// HTTP status.
    pub status: u16,
    /// Response body (JSON error body, or anything).
    pub body: Bytes,
}

impl ScriptedFailure {
    /// Status `status` with the body of fixture `name` (e.g. `twilio-rest-error-21610.json`).
    pub fn fixture(status: u16, name: &str) -> Self {
        Self {
            status,
            body: crate::fixtures::bytes(name).into(),
        }
    }
}

/// How a message to a number ends (§e.3 `MessageStatus`); default [`MessageOutcome::Delivered`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum MessageOutcome {
    /// Status callbacks `sent`, then `delivered`.
    #[default]
    Delivered,
    /// Status callbacks `sent`, then `undelivered` with this `ErrorCode` (e.g. `30003`,
    /// unreachable handset).
    Undelivered(u32),
    /// Status callbacks `sent`, then `failed` with this `ErrorCode` (e.g. `30008`).
    Failed(u32),
}

/// How an outbound call to a number goes; default [`CallOutcome::Human`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CallOutcome {
    /// Answered by a person: async AMD reports `AnsweredBy=human`; the call stays in progress
    /// until an update or [`FakeTwilioRest::complete_call`] ends it.
    #[default]
    Human,
    /// Answered by voicemail: async AMD reports `machine_end_beep` when the call asked for
    /// `MachineDetection=DetectMessageEnd`, else `machine_start`; in progress as for `Human`.
    Machine,
    /// Rang out: terminal status `no-answer`, `SipResponseCode=487`.
    NoAnswer,
    /// Busy line: terminal status `busy`, `SipResponseCode=486`.
    Busy,
}

/// A message created through `Messages.json` (not a scripted failure).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentMessage {
    /// The new message's sid: `SM` + 32 lowercase hex digits.
    pub sid: String,
    /// The `To` field (E.164).
    pub to: String,
    /// The `From` field (empty when absent).
    pub from: String,
    /// The `Body` field (empty when absent).
    pub body: String,
    /// The `StatusCallback` URL, if given.
    pub status_callback: Option<String>,
}

/// A call created through `Calls.json` (not a scripted failure).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacedCall {
    /// The new call's sid: `CA` + 32 lowercase hex digits.
    pub sid: String,
    /// The `To` field (E.164).
    pub to: String,
    /// The `From` field (empty when absent).
    pub from: String,
    /// The `Url` field (TwiML fetched on answer; the fake never fetches it).
    pub url: Option<String>,
    /// The `Twiml` field (inline TwiML).
    pub twiml: Option<String>,
    /// The `StatusCallback` URL.
    pub status_callback: Option<String>,
    /// The `MachineDetection` field: `Enable` or `DetectMessageEnd`.
    pub machine_detection: Option<String>,
    /// The `AsyncAmdStatusCallback` URL.
    pub async_amd_callback: Option<String>,
}

/// One callback delivery attempt, recorded once it finished.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackDelivery {
    /// The URL posted to, query string included (the signed URL).
    pub url: String,
    /// The form fields sent, in order.
    pub form: Vec<(String, String)>,
    /// The HTTP status answered, or `None` when there was no answer (connection refused,
    /// timeout, or a non-loopback URL that the fake does not contact).
    pub status: Option<u16>,
}

/// The `X-Twilio-Signature` of a form POST to `url` (§b.1): base64 (standard, padded) of the
/// HMAC-SHA1, keyed with `auth_token`, of `url` (exactly as given, query string included)
/// followed by each parameter's name and value, sorted by name then value (byte order), with
/// no separators. With no `params` this is the signature of a GET or a `bodySHA256` request.
pub fn signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(auth_token.as_bytes())
        .expect("HMAC accepts a key of any length");
    mac.update(url.as_bytes());
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    BASE64.encode(mac.finalize().into_bytes())
}

/// Decoded form pairs, in order.
type Form = Vec<(String, String)>;

/// One callback to deliver; `done` hears when it was recorded.
struct Job {
    url: String,
    form: Vec<(String, String)>,
    done: Option<oneshot::Sender<()>>,
}

/// What the fake remembers of a call it created.
struct CallState {
    to: String,
    from: String,
    status_callback: Option<String>,
    /// `AnsweredBy` when AMD ran on an answered call.
    answered_by: Option<&'static str>,
    /// The call's delivery queue; `None` once the call ended (its terminal callback queued).
    queue: Option<mpsc::UnboundedSender<Job>>,
}

struct Shared {
    account_sid: String,
    auth_token: String,
    failures: Mutex<VecDeque<ScriptedFailure>>,
    requests: Mutex<Vec<TwilioRequest>>,
    messages: Mutex<Vec<SentMessage>>,
    calls: Mutex<Vec<PlacedCall>>,
    call_states: Mutex<HashMap<String, CallState>>,
    call_updates: Mutex<Vec<(String, Form)>>,
    message_outcomes: Mutex<HashMap<String, MessageOutcome>>,
    call_outcomes: Mutex<HashMap<String, CallOutcome>>,
    callbacks: Mutex<Vec<CallbackDelivery>>,
    callback_delay: Mutex<Duration>,
    next_message: AtomicU64,
    next_call: AtomicU64,
    next_token: AtomicU64,
    /// Distinguishes this fake's idempotency tokens from another fake's.
    token_prefix: String,
    /// `None` if the HTTP client could not be built: every delivery is then recorded as failed.
    client: Option<reqwest::Client>,
    stopped: AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking test thread cannot leave these plain collections half-updated.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A running fake Twilio REST API; stops when dropped (callbacks not yet sent are dropped).
pub struct FakeTwilioRest {
    running: Running,
    shared: Arc<Shared>,
}

impl Drop for FakeTwilioRest {
    fn drop(&mut self) {
        self.shared.stopped.store(true, Ordering::SeqCst);
        // Closing the call queues ends their delivery tasks.
        lock(&self.shared.call_states).clear();
    }
}

impl FakeTwilioRest {
    /// Starts the fake for an account with these credentials (`auth_token` also signs the
    /// callbacks).
    pub async fn start(account_sid: &str, auth_token: &str) -> Self {
        let started = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(DELIVERY_TIMEOUT)
            .build()
            .ok();
        let shared = Arc::new(Shared {
            account_sid: account_sid.to_string(),
            auth_token: auth_token.to_string(),
            failures: Mutex::new(VecDeque::new()),
            requests: Mutex::new(Vec::new()),
            messages: Mutex::new(Vec::new()),
            calls: Mutex::new(Vec::new()),
            call_states: Mutex::new(HashMap::new()),
            call_updates: Mutex::new(Vec::new()),
            message_outcomes: Mutex::new(HashMap::new()),
            call_outcomes: Mutex::new(HashMap::new()),
            callbacks: Mutex::new(Vec::new()),
            callback_delay: Mutex::new(DEFAULT_CALLBACK_DELAY),
            next_message: AtomicU64::new(FIRST_MESSAGE_SID),
            next_call: AtomicU64::new(FIRST_CALL_SID),
            next_token: AtomicU64::new(1),
            token_prefix: format!("{:08x}-{:016x}", std::process::id(), started as u64),
            client,
            stopped: AtomicBool::new(false),
        });
        let router = Router::new().fallback(handle).with_state(shared.clone());
        Self {
            running: serve(router).await,
            shared,
        }
    }

    /// The base URL to configure as `api_base_url`, e.g. `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.running.addr)
    }

    /// The next request (after the auth check) gets `failure` instead of its normal answer.
    pub fn fail_next(&self, failure: ScriptedFailure) {
        lock(&self.shared.failures).push_back(failure);
    }

    /// The requests accepted so far, in order.
    pub fn requests(&self) -> Vec<TwilioRequest> {
        lock(&self.shared.requests).clone()
    }

    /// The messages created so far (201 answers of `Messages.json`), in order.
    pub fn messages(&self) -> Vec<SentMessage> {
        lock(&self.shared.messages).clone()
    }

    /// The calls created so far (201 answers of `Calls.json`), in order.
    pub fn calls(&self) -> Vec<PlacedCall> {
        lock(&self.shared.calls).clone()
    }

    /// The call updates handled so far (`Calls/{CallSid}.json`, not scripted failures), in
    /// order: the path's call sid and the decoded form pairs.
    pub fn call_updates(&self) -> Vec<(String, Vec<(String, String)>)> {
        lock(&self.shared.call_updates).clone()
    }

    /// Messages created from now on to `to` (E.164, as sent in `To`) end with `outcome`.
    pub fn set_message_outcome(&self, to: &str, outcome: MessageOutcome) {
        lock(&self.shared.message_outcomes).insert(to.to_string(), outcome);
    }

    /// Calls created from now on to `to` (E.164, as sent in `To`) go as `outcome`.
    pub fn set_call_outcome(&self, to: &str, outcome: CallOutcome) {
        lock(&self.shared.call_outcomes).insert(to.to_string(), outcome);
    }

    /// Waits `d` before each callback delivery from now on (default
    /// [`DEFAULT_CALLBACK_DELAY`], 20 ms).
    pub fn set_callback_delay(&self, d: Duration) {
        *lock(&self.shared.callback_delay) = d;
    }

    /// Every callback delivery attempt finished so far, in the order they finished.
    pub fn callbacks(&self) -> Vec<CallbackDelivery> {
        lock(&self.shared.callbacks).clone()
    }

    /// Waits until at least `n` callback deliveries were recorded (see
    /// [`FakeTwilioRest::callbacks`]), polling every 5 ms; `false` if `timeout` passed first.
    pub async fn wait_for_callbacks(&self, n: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if lock(&self.shared.callbacks).len() >= n {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Ends the in-progress call `call_sid` as if the callee hung up after `duration_s`
    /// seconds: sends its terminal status callback (`CallStatus=completed`,
    /// `CallDuration=duration_s`, `Duration` = minutes rounded up, `SipResponseCode=200`,
    /// `AnsweredBy` if AMD ran) behind any callback still queued for the call, and returns
    /// once that delivery was recorded. Does nothing for a call the fake did not create, one
    /// that already ended, or one without a `StatusCallback` (which is then ended silently).
    pub async fn complete_call(&self, call_sid: &str, duration_s: u32) {
        let (tx, rx) = oneshot::channel();
        if end_call(&self.shared, call_sid, "completed", duration_s, Some(tx)) {
            // The sender is dropped without a word only when the fake stops.
            let _ = rx.await;
        }
    }
}

fn json(status: u16, body: impl Into<Body>) -> Response {
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("Content-Type", "application/json")
        .body(body.into())
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

fn fixture(status: u16, name: &str) -> Response {
    json(status, crate::fixtures::bytes(name))
}

/// Fixture `name` with its sid `fixture_sid` and the fixture account replaced everywhere
/// (`sid`, `uri`, `subresource_uris`, `account_sid`), as JSON.
fn resource(shared: &Shared, name: &str, fixture_sid: &str, sid: &str) -> serde_json::Value {
    let text = crate::fixtures::text(name)
        .replace(fixture_sid, sid)
        .replace(FIXTURE_ACCOUNT_SID, &shared.account_sid);
    serde_json::from_str(&text).unwrap_or_else(|_| crate::fixtures::json(name))
}

fn authorized(shared: &Shared, headers: &HeaderMap) -> bool {
    let Some(value) = headers.get("authorization").and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let Some(encoded) = value.strip_prefix("Basic ") else {
        return false;
    };
    let Ok(decoded) = BASE64.decode(encoded.trim()) else {
        return false;
    };
    decoded == format!("{}:{}", shared.account_sid, shared.auth_token).as_bytes()
}

/// The first value of form field `name`.
fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn pairs(fields: &[(&str, &str)]) -> Vec<(String, String)> {
    fields
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    let prefix = format!("/2010-04-01/Accounts/{}/", shared.account_sid);
    if !authorized(&shared, &headers) || !path.starts_with("/2010-04-01/Accounts/") {
        return fixture(401, "twilio-rest-error-20003.json");
    }
    let Some(resource) = path.strip_prefix(&prefix) else {
        return fixture(401, "twilio-rest-error-20003.json");
    };
    let form: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    lock(&shared.requests).push(TwilioRequest {
        path: path.clone(),
        body: String::from_utf8_lossy(&body).into_owned(),
        form: form.clone(),
    });
    if let Some(f) = lock(&shared.failures).pop_front() {
        return json(f.status, f.body);
    }
    let valid_to = field(&form, "To").is_some_and(|to| {
        to.len() > 2 && to.starts_with('+') && to[1..].bytes().all(|b| b.is_ascii_digit())
    });
    match resource {
        "Calls.json" | "Messages.json" if !valid_to => fixture(400, "twilio-rest-error-21211.json"),
        "Calls.json" => create_call(&shared, &form),
        "Messages.json" => create_message(&shared, &form),
        _ => match resource
            .strip_prefix("Calls/")
            .and_then(|r| r.strip_suffix(".json"))
        {
            Some(call_sid) if !call_sid.is_empty() && !call_sid.contains('/') => {
                update_call(&shared, call_sid, form)
            }
            _ => fixture(404, "twilio-rest-error-20404.json"),
        },
    }
}

fn create_message(shared: &Arc<Shared>, form: &[(String, String)]) -> Response {
    let n = shared.next_message.fetch_add(1, Ordering::SeqCst);
    let message = SentMessage {
        sid: format!("SM{n:032x}"),
        to: field(form, "To").unwrap_or_default().to_string(),
        from: field(form, "From").unwrap_or_default().to_string(),
        body: field(form, "Body").unwrap_or_default().to_string(),
        status_callback: field(form, "StatusCallback").map(str::to_string),
    };
    lock(&shared.messages).push(message.clone());
    let outcome = lock(&shared.message_outcomes)
        .get(&message.to)
        .copied()
        .unwrap_or_default();
    if let Some(url) = &message.status_callback {
        let queue = spawn_queue(shared.clone());
        let (last, error_code) = match outcome {
            MessageOutcome::Delivered => ("delivered", None),
            MessageOutcome::Undelivered(code) => ("undelivered", Some(code)),
            MessageOutcome::Failed(code) => ("failed", Some(code)),
        };
        for (status, error_code) in [("sent", None), (last, error_code)] {
            let form = message_status_form(shared, &message, status, error_code);
            let _ = queue.send(Job {
                url: url.clone(),
                form,
                done: None,
            });
        }
    }
    let mut body = resource(
        shared,
        "twilio-rest-message-create-response.json",
        FIXTURE_MESSAGE_SID,
        &message.sid,
    );
    body["sid"] = message.sid.as_str().into();
    body["to"] = message.to.as_str().into();
    body["from"] = message.from.as_str().into();
    body["body"] = message.body.as_str().into();
    body["status"] = "queued".into();
    json(201, body.to_string())
}

fn message_status_form(
    shared: &Shared,
    message: &SentMessage,
    status: &str,
    error_code: Option<u32>,
) -> Vec<(String, String)> {
    let mut form = pairs(&[
        ("SmsSid", &message.sid),
        ("SmsStatus", status),
        ("MessageStatus", status),
        ("To", &message.to),
        ("MessageSid", &message.sid),
        ("AccountSid", &shared.account_sid),
        ("From", &message.from),
        ("ApiVersion", "2010-04-01"),
    ]);
    if let Some(code) = error_code {
        form.push(("ErrorCode".into(), code.to_string()));
    }
    form
}

fn create_call(shared: &Arc<Shared>, form: &[(String, String)]) -> Response {
    let n = shared.next_call.fetch_add(1, Ordering::SeqCst);
    let owned = |name: &str| field(form, name).map(str::to_string);
    let call = PlacedCall {
        sid: format!("CA{n:032x}"),
        to: field(form, "To").unwrap_or_default().to_string(),
        from: field(form, "From").unwrap_or_default().to_string(),
        url: owned("Url"),
        twiml: owned("Twiml"),
        status_callback: owned("StatusCallback"),
        machine_detection: owned("MachineDetection"),
        async_amd_callback: owned("AsyncAmdStatusCallback"),
    };
    lock(&shared.calls).push(call.clone());
    let outcome = lock(&shared.call_outcomes)
        .get(&call.to)
        .copied()
        .unwrap_or_default();
    let amd_ran = call.machine_detection.is_some() || call.async_amd_callback.is_some();
    let answered_by = match outcome {
        CallOutcome::Human => Some("human"),
        CallOutcome::Machine if call.machine_detection.as_deref() == Some("DetectMessageEnd") => {
            Some("machine_end_beep")
        }
        CallOutcome::Machine => Some("machine_start"),
        CallOutcome::NoAnswer | CallOutcome::Busy => None,
    }
    .filter(|_| amd_ran);
    let queue = spawn_queue(shared.clone());
    if let (Some(url), Some(answered_by)) = (&call.async_amd_callback, answered_by) {
        let form = pairs(&[
            ("CallSid", &call.sid),
            ("AccountSid", &shared.account_sid),
            ("AnsweredBy", answered_by),
            (
                "MachineDetectionDuration",
                &MACHINE_DETECTION_DURATION_MS.to_string(),
            ),
        ]);
        let _ = queue.send(Job {
            url: url.clone(),
            form,
            done: None,
        });
    }
    let state = CallState {
        to: call.to.clone(),
        from: call.from.clone(),
        status_callback: call.status_callback.clone(),
        answered_by,
        queue: Some(queue),
    };
    lock(&shared.call_states).insert(call.sid.clone(), state);
    match outcome {
        CallOutcome::NoAnswer => {
            end_call(shared, &call.sid, "no-answer", 0, None);
        }
        CallOutcome::Busy => {
            end_call(shared, &call.sid, "busy", 0, None);
        }
        CallOutcome::Human | CallOutcome::Machine => {}
    }
    let mut body = resource(
        shared,
        "twilio-rest-call-create-response.json",
        FIXTURE_CALL_SID,
        &call.sid,
    );
    body["sid"] = call.sid.as_str().into();
    body["to"] = call.to.as_str().into();
    body["from"] = call.from.as_str().into();
    body["status"] = "queued".into();
    json(201, body.to_string())
}

fn update_call(shared: &Arc<Shared>, call_sid: &str, form: Vec<(String, String)>) -> Response {
    let hang_up = field(&form, "Status") == Some("completed");
    let ends = hang_up || field(&form, "Twiml").is_some();
    let known = {
        let mut states = lock(&shared.call_states);
        match states.get_mut(call_sid) {
            Some(state) => {
                if let Some(url) = field(&form, "StatusCallback") {
                    state.status_callback = Some(url.to_string());
                }
                Some((state.to.clone(), state.from.clone()))
            }
            None => None,
        }
    };
    lock(&shared.call_updates).push((call_sid.to_string(), form));
    if ends {
        end_call(shared, call_sid, "completed", UPDATE_CALL_DURATION_S, None);
    }
    let mut call = resource(
        shared,
        "twilio-rest-call-create-response.json",
        FIXTURE_CALL_SID,
        call_sid,
    );
    call["sid"] = call_sid.into();
    call["status"] = if hang_up { "completed" } else { "in-progress" }.into();
    match known {
        Some((to, from)) => {
            call["to"] = to.into();
            call["from"] = from.into();
        }
        None => call["direction"] = "inbound".into(),
    }
    json(200, call.to_string())
}

/// Ends call `call_sid` with terminal `status` after `call_duration_s` seconds: queues its
/// terminal status callback (if it has a `StatusCallback`) and closes its queue. `true` when a
/// callback was queued (then `done` hears when it was recorded).
fn end_call(
    shared: &Shared,
    call_sid: &str,
    status: &str,
    call_duration_s: u32,
    done: Option<oneshot::Sender<()>>,
) -> bool {
    let mut states = lock(&shared.call_states);
    let Some(state) = states.get_mut(call_sid) else {
        return false;
    };
    let Some(queue) = state.queue.take() else {
        return false;
    };
    let Some(url) = state.status_callback.clone() else {
        return false;
    };
    let sip = match status {
        "busy" => "486",
        "no-answer" => "487",
        _ => "200",
    };
    let minutes = call_duration_s.div_ceil(60);
    let mut form = pairs(&[
        ("CallSid", call_sid),
        ("AccountSid", &shared.account_sid),
        ("From", &state.from),
        ("To", &state.to),
        ("CallStatus", status),
        ("ApiVersion", "2010-04-01"),
        ("Direction", "outbound-api"),
        ("Caller", &state.from),
        ("Called", &state.to),
        ("CallDuration", &call_duration_s.to_string()),
        ("Duration", &minutes.to_string()),
        ("SipResponseCode", sip),
    ]);
    if let Some(answered_by) = state.answered_by {
        form.push(("AnsweredBy".into(), answered_by.into()));
    }
    queue.send(Job { url, form, done }).is_ok()
}

/// Starts the delivery task of one message or call: it delivers the queued callbacks one at a
/// time, in order, and ends when the queue is closed and empty or the fake stopped.
fn spawn_queue(shared: Arc<Shared>) -> mpsc::UnboundedSender<Job> {
    let (tx, mut rx) = mpsc::unbounded_channel::<Job>();
    tokio::spawn(async move {
        while let Some(job) = rx.recv().await {
            let delay = *lock(&shared.callback_delay);
            tokio::time::sleep(delay).await;
            if shared.stopped.load(Ordering::SeqCst) {
                break;
            }
            deliver(&shared, job).await;
        }
    });
    tx
}

/// Whether `url` names a loopback host (`127.0.0.0/8`, `[::1]`, `localhost`), the only hosts
/// the fake contacts.
fn loopback(url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => bare.eq_ignore_ascii_case("localhost"),
    }
}

/// POSTs one signed callback and records the attempt.
async fn deliver(shared: &Shared, job: Job) {
    let Job { url, form, done } = job;
    let n = shared.next_token.fetch_add(1, Ordering::SeqCst);
    let token = format!("{}-{n:08x}", shared.token_prefix);
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form.iter())
        .finish();
    let sig = signature(&shared.auth_token, &url, &form);
    let target = reqwest::Url::parse(&url).ok().filter(loopback);
    let status = match (target, &shared.client) {
        (Some(target), Some(client)) => client
            .post(target)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("X-Twilio-Signature", sig)
            .header("I-Twilio-Idempotency-Token", token)
            .body(body)
            .send()
            .await
            .ok()
            .map(|r| r.status().as_u16()),
        _ => None,
    };
    lock(&shared.callbacks).push(CallbackDelivery { url, form, status });
    if let Some(done) = done {
        let _ = done.send(());
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn signature_matches_every_vector() {
        let vectors = crate::fixtures::json("twilio-signature-vectors.json");
        let vectors = vectors["vectors"].as_array().unwrap();
        assert_eq!(vectors.len(), 8);
        for v in vectors {
            let params: Vec<(String, String)> = v["params"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| {
                    (
                        p[0].as_str().unwrap().to_string(),
                        p[1].as_str().unwrap().to_string(),
                    )
                })
                .collect();
            let got = signature(
                v["auth_token"].as_str().unwrap(),
                v["url"].as_str().unwrap(),
                &params,
            );
            assert_eq!(got, v["expected"].as_str().unwrap(), "vector {}", v["name"]);
        }
    }

    #[test]
    fn signature_sorts_params_whatever_their_order() {
        let params = pairs(&[
            ("To", "+18005551212"),
            ("Digits", "1234"),
            ("CallSid", "CA1234567890ABCDE"),
            ("From", "+14158675309"),
            ("Caller", "+14158675309"),
        ]);
        assert_eq!(
            signature(
                "12345",
                "https://mycompany.com/myapp.php?foo=1&bar=2",
                &params
            ),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        );
    }

    #[test]
    fn only_loopback_urls_are_contacted() {
        let yes = [
            "http://127.0.0.1:9/x",
            "http://[::1]:9/",
            "http://localhost/a?b=c",
        ];
        let no = [
            "https://voice.example.com/twilio/status",
            "http://10.0.0.1/",
            "http://192.168.1.1:80/",
        ];
        for u in yes {
            assert!(loopback(&reqwest::Url::parse(u).unwrap()), "{u}");
        }
        for u in no {
            assert!(!loopback(&reqwest::Url::parse(u).unwrap()), "{u}");
        }
    }
}
