//! The Twilio REST client (`shared/protocols/twilio.md` §e): update a live call (new TwiML,
//! e.g. a `<Dial>` transfer, or hang up), create an outbound call, send an SMS.
//!
//! Requests go to `{api_base_url}/2010-04-01/Accounts/{AccountSid}/…json` with HTTP Basic auth
//! (`AccountSid:AuthToken`, §e.0) and form bodies with Twilio's PascalCase names, written in the
//! order of the `twilio-rest-*.form.txt` fixtures. `api_base_url` comes from configuration
//! (tests point it at `otto_fakes::twilio::FakeTwilioRest`). Non-2xx answers become
//! [`TwilioError::Api`] with Twilio's error code (§e.4); [`TwilioError::retryable`] tells the
//! shell whether a retry may help (this client never retries: creating calls and messages is
//! not idempotent). The auth token is a [`SecretString`] and is never logged; phone numbers
//! are logged masked.

use std::time::{Duration, Instant};

use otto_core::domain::PhoneNumber;
use otto_core::notify::{Notifier, NotifyError};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use tracing::Instrument;

use crate::webhook::{CallStatus, Direction};
use crate::{AccountSid, ApiError, CallSid, MessageSid, TwilioError, twiml};

/// Default `api_base_url`.
pub const DEFAULT_API_BASE_URL: &str = "https://api.twilio.com";
/// Default request deadline, ms.
pub const DEFAULT_TIMEOUT_MS: u64 = 10_000;
/// Longest inline `Twiml` Twilio accepts, in characters (§e.1).
pub const MAX_TWIML_CHARS: usize = 4000;
/// Longest SMS `Body` Twilio accepts, in characters (§e.3).
pub const MAX_SMS_CHARS: usize = 1600;
/// Largest response body read, in bytes.
const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

fn default_api_base_url() -> String {
    DEFAULT_API_BASE_URL.to_string()
}

fn default_timeout_ms() -> u64 {
    DEFAULT_TIMEOUT_MS
}

/// Twilio settings (the `twilio` section of Otto's config). Serialises with the auth token
/// redacted.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TwilioConfig {
    /// The account SID (`AC…`), Basic-auth user and part of every path.
    pub account_sid: AccountSid,
    /// The account's auth token: Basic-auth password and the webhook signing key. Secret.
    #[serde(serialize_with = "otto_core::privacy::serialize_redacted")]
    pub auth_token: SecretString,
    /// Base URL of the REST API, default `https://api.twilio.com`. `http://` is accepted only
    /// for loopback hosts (local fakes), so the token never crosses a network in clear text.
    #[serde(default = "default_api_base_url")]
    pub api_base_url: String,
    /// Deadline of each REST request, ms (default 10 000).
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// Our Twilio number: `From` of calls and SMS we create.
    pub from_number: PhoneNumber,
}

/// What to do with a live call ([`RestClient::update_call`], §e.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallUpdate {
    /// Replace the running TwiML (e.g. `<Dial>` to transfer); ends any `<Connect><Stream>`.
    Twiml(twiml::Response),
    /// `Status=completed`: hang up an in-progress call.
    Hangup,
}

/// What an outbound call runs when answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// `Url`: Twilio fetches TwiML from this URL (POST).
    Url(String),
    /// `Twiml`: inline TwiML.
    Twiml(twiml::Response),
}

/// A `StatusCallbackEvent` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallEvent {
    /// `initiated`.
    Initiated,
    /// `ringing`.
    Ringing,
    /// `answered`.
    Answered,
    /// `completed`.
    Completed,
}

impl CallEvent {
    fn as_str(self) -> &'static str {
        match self {
            Self::Initiated => "initiated",
            Self::Ringing => "ringing",
            Self::Answered => "answered",
            Self::Completed => "completed",
        }
    }
}

/// An outbound call ([`RestClient::create_call`], §e.1). `From` is the configured number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateCall {
    /// `To`.
    pub to: PhoneNumber,
    /// `Url` or `Twiml`.
    pub answer: Answer,
    /// `StatusCallback` URL (sent with `StatusCallbackMethod=POST`).
    pub status_callback: Option<String>,
    /// `StatusCallbackEvent`s (repeated field); empty means only `completed` is sent.
    pub status_callback_events: Vec<CallEvent>,
    /// `AsyncAmdStatusCallback`: when set, answering-machine detection runs in the background
    /// (`MachineDetection=Enable&AsyncAmd=true`) and posts its result here.
    pub async_amd_callback: Option<String>,
    /// With `async_amd_callback`: `MachineDetection=DetectMessageEnd` (the result waits for
    /// a voicemail greeting's beep, so a message left then is recorded whole) instead of
    /// `Enable` (the result comes as soon as a machine is recognised).
    pub amd_waits_for_beep: bool,
    /// `Timeout`: ring seconds (Twilio's default 60, max 600).
    pub timeout_s: Option<u32>,
}

/// The fields of a call resource Otto uses (§e.1; other fields are ignored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallResource {
    /// `sid`.
    pub sid: CallSid,
    /// `status` (`queued` for a fresh call).
    pub status: CallStatus,
    /// `direction`.
    pub direction: Direction,
    /// `duration`: seconds, once the call ended.
    pub duration_s: Option<u32>,
}

/// The fields of a message resource Otto uses (§e.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageResource {
    /// `sid` (`SM…`).
    pub sid: MessageSid,
    /// `status`: `queued`, `accepted`, `sending`, `sent`, `delivered`, `undelivered`, `failed`.
    pub status: String,
    /// `num_segments`: SMS parts billed.
    pub num_segments: Option<u32>,
}

#[derive(Deserialize)]
struct WireCall {
    sid: String,
    status: String,
    direction: String,
    duration: Option<String>,
}

#[derive(Deserialize)]
struct WireMessage {
    sid: String,
    status: String,
    num_segments: Option<String>,
}

/// A client for one Twilio account. Cheap to clone (shares the connection pool).
#[derive(Clone)]
pub struct RestClient {
    http: reqwest::Client,
    account_sid: AccountSid,
    auth_token: SecretString,
    api_base_url: String,
    from_number: PhoneNumber,
}

impl std::fmt::Debug for RestClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RestClient")
            .field("account_sid", &self.account_sid)
            .field("api_base_url", &self.api_base_url)
            .finish_non_exhaustive()
    }
}

impl RestClient {
    /// A client for `config`.
    ///
    /// # Errors
    /// [`TwilioError::Invalid`] when `api_base_url` is not an `https://` URL (or `http://` to
    /// a loopback host), `timeout_ms` is 0, or the HTTP client cannot be built.
    pub fn new(config: &TwilioConfig) -> Result<Self, TwilioError> {
        let url = reqwest::Url::parse(&config.api_base_url)
            .map_err(|_| TwilioError::Invalid("twilio.api_base_url is not a URL".into()))?;
        let loopback = matches!(url.host(), Some(url::Host::Domain("localhost")))
            || matches!(url.host(), Some(url::Host::Ipv4(ip)) if ip.is_loopback())
            || matches!(url.host(), Some(url::Host::Ipv6(ip)) if ip.is_loopback());
        match url.scheme() {
            "https" => {}
            "http" if loopback => {}
            _ => {
                return Err(TwilioError::Invalid(
                    "twilio.api_base_url must be https:// (http:// only for loopback)".into(),
                ));
            }
        }
        if config.timeout_ms == 0 {
            return Err(TwilioError::Invalid("twilio.timeout_ms must be > 0".into()));
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_millis(config.timeout_ms))
            .build()
            .map_err(|e| TwilioError::Invalid(format!("HTTP client: {e}")))?;
        Ok(Self {
            http,
            account_sid: config.account_sid.clone(),
            auth_token: config.auth_token.clone(),
            api_base_url: config.api_base_url.trim_end_matches('/').to_string(),
            from_number: config.from_number.clone(),
        })
    }

    /// Updates a live call (§e.2): `POST …/Calls/{call_sid}.json` with `Twiml=…` or
    /// `Status=completed`.
    ///
    /// # Errors
    /// [`TwilioError::Twiml`] / [`TwilioError::Invalid`] for TwiML that cannot be written or
    /// is longer than [`MAX_TWIML_CHARS`]; [`TwilioError::Api`] for a non-2xx answer (e.g.
    /// 21220 call not in progress, 20404 unknown call); [`TwilioError::Transport`] and
    /// [`TwilioError::BadResponse`] as [`RestClient::create_call`].
    pub async fn update_call(
        &self,
        call_sid: &CallSid,
        update: &CallUpdate,
    ) -> Result<CallResource, TwilioError> {
        // Built in its own scope: the serializer is not `Send` and must not live across an
        // await (callers spawn these futures).
        let form = {
            let mut form = form_urlencoded::Serializer::new(String::new());
            match update {
                CallUpdate::Twiml(doc) => form.append_pair("Twiml", &inline_twiml(doc)?),
                CallUpdate::Hangup => form.append_pair("Status", "completed"),
            };
            form.finish()
        };
        let path = format!("Calls/{call_sid}.json");
        let op = match update {
            CallUpdate::Twiml(_) => "update_call_twiml",
            CallUpdate::Hangup => "hang_up",
        };
        let body = self.post(op, &path, form).await?;
        parse_call(&body)
    }

    /// Creates an outbound call from the configured number (§e.1): `POST …/Calls.json`.
    ///
    /// # Errors
    /// [`TwilioError::Invalid`] / [`TwilioError::Twiml`] for bad arguments (inline TwiML too
    /// long, status-callback events without a URL); [`TwilioError::Api`] for a non-2xx answer
    /// (e.g. 21211 invalid `To`); [`TwilioError::Transport`] when no answer arrived (the call
    /// may or may not exist); [`TwilioError::BadResponse`] when a 2xx body is unreadable.
    pub async fn create_call(&self, request: &CreateCall) -> Result<CallResource, TwilioError> {
        let form = self.create_call_form(request)?;
        tracing::debug!(to = %request.to.masked(), "creating call");
        let body = self.post("create_call", "Calls.json", form).await?;
        parse_call(&body)
    }

    /// The form body of [`RestClient::create_call`] (a plain function: the serializer is not
    /// `Send` and must not live across an await).
    fn create_call_form(&self, request: &CreateCall) -> Result<String, TwilioError> {
        let mut form = form_urlencoded::Serializer::new(String::new());
        form.append_pair("To", request.to.as_str());
        form.append_pair("From", self.from_number.as_str());
        match &request.answer {
            Answer::Url(url) => form.append_pair("Url", url),
            Answer::Twiml(doc) => form.append_pair("Twiml", &inline_twiml(doc)?),
        };
        match &request.status_callback {
            Some(url) => {
                form.append_pair("StatusCallback", url);
                for event in &request.status_callback_events {
                    form.append_pair("StatusCallbackEvent", event.as_str());
                }
                form.append_pair("StatusCallbackMethod", "POST");
            }
            None if !request.status_callback_events.is_empty() => {
                return Err(TwilioError::Invalid(
                    "status callback events given without a status callback URL".into(),
                ));
            }
            None => {}
        }
        if let Some(url) = &request.async_amd_callback {
            let mode = if request.amd_waits_for_beep {
                "DetectMessageEnd"
            } else {
                "Enable"
            };
            form.append_pair("MachineDetection", mode);
            form.append_pair("AsyncAmd", "true");
            form.append_pair("AsyncAmdStatusCallback", url);
        }
        if let Some(t) = request.timeout_s {
            if !(1..=600).contains(&t) {
                return Err(TwilioError::Invalid("Timeout must be 1..=600 s".into()));
            }
            form.append_pair("Timeout", &t.to_string());
        }
        Ok(form.finish())
    }

    /// Sends an SMS from the configured number (§e.3): `POST …/Messages.json` with `To`,
    /// `From`, `Body` and optionally `StatusCallback`.
    ///
    /// # Errors
    /// [`TwilioError::Invalid`] for an empty body, one over [`MAX_SMS_CHARS`] characters, or
    /// with NUL characters; otherwise as [`RestClient::create_call`] (e.g. 21610 unsubscribed
    /// recipient).
    pub async fn send_sms(
        &self,
        to: &PhoneNumber,
        body: &str,
        status_callback: Option<&str>,
    ) -> Result<MessageResource, TwilioError> {
        if body.trim().is_empty() || body.chars().count() > MAX_SMS_CHARS || body.contains('\0') {
            return Err(TwilioError::Invalid(format!(
                "SMS body must be 1..={MAX_SMS_CHARS} characters without NUL"
            )));
        }
        let form = {
            let mut form = form_urlencoded::Serializer::new(String::new());
            form.append_pair("To", to.as_str());
            form.append_pair("From", self.from_number.as_str());
            form.append_pair("Body", body);
            if let Some(url) = status_callback {
                form.append_pair("StatusCallback", url);
            }
            form.finish()
        };
        tracing::debug!(to = %to.masked(), chars = body.chars().count(), "sending SMS");
        let raw = self.post("send_sms", "Messages.json", form).await?;
        let wire: WireMessage = serde_json::from_slice(&raw)
            .map_err(|e| TwilioError::BadResponse(format!("message resource: {e}")))?;
        Ok(MessageResource {
            sid: MessageSid::parse(&wire.sid)
                .map_err(|e| TwilioError::BadResponse(format!("message sid: {e}")))?,
            status: wire.status.chars().take(32).collect(),
            num_segments: wire.num_segments.and_then(|n| n.parse().ok()),
        })
    }

    /// POSTs `form` to `{base}/2010-04-01/Accounts/{sid}/{path}`; the 2xx body, or the error.
    async fn post(
        &self,
        op: &'static str,
        path: &str,
        form: String,
    ) -> Result<Vec<u8>, TwilioError> {
        let url = format!(
            "{}/2010-04-01/Accounts/{}/{path}",
            self.api_base_url, self.account_sid
        );
        let span = tracing::info_span!("twilio_rest", op);
        async {
            let started = Instant::now();
            let mut response = self
                .http
                .post(&url)
                .basic_auth(
                    self.account_sid.as_str(),
                    Some(self.auth_token.expose_secret()),
                )
                .header("Content-Type", "application/x-www-form-urlencoded")
                .header("Accept", "application/json")
                .body(form)
                .send()
                .await
                .map_err(|e| transport(&e))?;
            let status = response.status().as_u16();
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await.map_err(|e| transport(&e))? {
                if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                    return Err(TwilioError::BadResponse("response body too large".into()));
                }
                body.extend_from_slice(&chunk);
            }
            let elapsed_ms = started.elapsed().as_millis() as u64;
            if (200..300).contains(&status) {
                tracing::debug!(status, elapsed_ms, "Twilio answered");
                Ok(body)
            } else {
                let err = ApiError::from_response(status, &body);
                tracing::warn!(status, code = ?err.code, elapsed_ms, "Twilio refused the request");
                Err(err.into())
            }
        }
        .instrument(span)
        .await
    }
}

/// Twilio Messaging as the shop's [`Notifier`]: [`RestClient::send_sms`] without a status
/// callback; the message SID is the returned id.
#[async_trait::async_trait]
impl Notifier for RestClient {
    async fn send_sms(&self, to: &PhoneNumber, body: &str) -> Result<String, NotifyError> {
        RestClient::send_sms(self, to, body, None)
            .await
            .map(|m| m.sid.as_str().to_string())
            .map_err(|e| NotifyError {
                retryable: e.retryable(),
                message: e.to_string(),
            })
    }
}

/// A transport error, described without the URL (it carries the account SID) or the body.
fn transport(e: &reqwest::Error) -> TwilioError {
    let kind = if e.is_timeout() {
        "deadline exceeded"
    } else if e.is_connect() {
        "cannot connect"
    } else if e.is_body() || e.is_decode() {
        "response broken off"
    } else {
        "request failed"
    };
    TwilioError::Transport(kind.into())
}

fn inline_twiml(doc: &twiml::Response) -> Result<String, TwilioError> {
    let xml = doc.to_xml()?;
    if xml.chars().count() > MAX_TWIML_CHARS {
        return Err(TwilioError::Invalid(format!(
            "inline TwiML is longer than {MAX_TWIML_CHARS} characters"
        )));
    }
    Ok(xml)
}

fn parse_call(raw: &[u8]) -> Result<CallResource, TwilioError> {
    let wire: WireCall = serde_json::from_slice(raw)
        .map_err(|e| TwilioError::BadResponse(format!("call resource: {e}")))?;
    Ok(CallResource {
        sid: CallSid::parse(&wire.sid)
            .map_err(|e| TwilioError::BadResponse(format!("call sid: {e}")))?,
        status: CallStatus::parse(&wire.status),
        direction: Direction::parse(&wire.direction),
        duration_s: wire.duration.and_then(|d| d.parse().ok()),
    })
}
