//! [`FakeTwilioRest`]: a fake Twilio REST API (`shared/protocols/twilio.md` §e) on
//! `127.0.0.1:0`.
//!
//! Routes (all `POST`, form bodies, HTTP Basic auth `AccountSid:AuthToken`):
//! - `/2010-04-01/Accounts/{AccountSid}/Calls.json` → 201 with
//!   `twilio-rest-call-create-response.json`;
//! - `/2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json` → 200 with that call resource
//!   (its `sid` the path's, `status` `completed` for `Status=completed`, else `in-progress`);
//! - `/2010-04-01/Accounts/{AccountSid}/Messages.json` → 201 with
//!   `twilio-rest-message-create-response.json`.
//!
//! Wrong or missing credentials (or a path account other than the configured one) answer 401
//! with `twilio-rest-error-20003.json`; a `To` that is not `+` and digits answers 400 with
//! `twilio-rest-error-21211.json`; unknown paths answer 404 with `twilio-rest-error-20404.json`.
//! A test can script failures with [`FakeTwilioRest::fail_next`]; every request is recorded
//! (after the auth check) for assertions.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::server::{Running, serve};

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

struct Shared {
    account_sid: String,
    auth_token: String,
    failures: Mutex<VecDeque<ScriptedFailure>>,
    requests: Mutex<Vec<TwilioRequest>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking test thread cannot leave these plain collections half-updated.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A running fake Twilio REST API; stops when dropped.
pub struct FakeTwilioRest {
    running: Running,
    shared: Arc<Shared>,
}

impl FakeTwilioRest {
    /// Starts the fake for an account with these credentials.
    pub async fn start(account_sid: &str, auth_token: &str) -> Self {
        let shared = Arc::new(Shared {
            account_sid: account_sid.to_string(),
            auth_token: auth_token.to_string(),
            failures: Mutex::new(VecDeque::new()),
            requests: Mutex::new(Vec::new()),
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
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let valid_to = field("To").is_some_and(|to| {
        to.len() > 2 && to.starts_with('+') && to[1..].bytes().all(|b| b.is_ascii_digit())
    });
    match resource {
        "Calls.json" | "Messages.json" if !valid_to => fixture(400, "twilio-rest-error-21211.json"),
        "Calls.json" => fixture(201, "twilio-rest-call-create-response.json"),
        "Messages.json" => fixture(201, "twilio-rest-message-create-response.json"),
        _ => match resource
            .strip_prefix("Calls/")
            .and_then(|r| r.strip_suffix(".json"))
        {
            Some(call_sid) if !call_sid.contains('/') => {
                let mut call = crate::fixtures::json("twilio-rest-call-create-response.json");
                call["sid"] = call_sid.into();
                call["status"] = if field("Status") == Some("completed") {
                    "completed"
                } else {
                    "in-progress"
                }
                .into();
                call["direction"] = "inbound".into();
                json(200, call.to_string())
            }
            _ => fixture(404, "twilio-rest-error-20404.json"),
        },
    }
}
