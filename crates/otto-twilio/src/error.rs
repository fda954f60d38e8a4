//! [`TwilioError`]: the one error type of this crate, and [`ApiError`], a parsed Twilio REST
//! error body (`shared/protocols/twilio.md` §e.4).

use serde::Deserialize;

/// Everything that can go wrong talking Twilio's protocols.
#[derive(Debug, thiserror::Error)]
pub enum TwilioError {
    /// A SID did not have its two-letter prefix followed by 32 hex digits.
    #[error("not a valid {expected} SID (want {expected} + 32 hex digits)")]
    Sid {
        /// The expected prefix, e.g. `"CA"`.
        expected: &'static str,
    },
    /// A webhook form (incoming call, status callback) is missing a field or has a bad value.
    #[error("invalid Twilio webhook: {0}")]
    Webhook(String),
    /// `X-Twilio-Signature` is missing or does not match (§b).
    #[error("X-Twilio-Signature does not match the request")]
    BadSignature,
    /// A Media Streams WebSocket message is malformed (§d).
    #[error("invalid Media Streams message: {0}")]
    Media(String),
    /// TwiML that cannot be written (bad URL, too long) or read.
    #[error("invalid TwiML: {0}")]
    Twiml(String),
    /// Configuration or request arguments rejected before anything was sent.
    #[error("invalid Twilio request or config: {0}")]
    Invalid(String),
    /// Twilio answered with a non-2xx status (§e.4).
    #[error(transparent)]
    Api(#[from] ApiError),
    /// The request did not complete: connect failure, reset, unreadable response, or deadline.
    #[error("Twilio request failed: {0}")]
    Transport(String),
    /// Twilio answered 2xx but the body is not the resource expected. Not retryable: the
    /// request may have taken effect.
    #[error("unreadable Twilio response: {0}")]
    BadResponse(String),
    /// The simulator could not run the call (webhook refused, no stream in the TwiML, socket
    /// failure).
    #[error("call simulator: {0}")]
    Sim(String),
}

impl TwilioError {
    /// True when the same request may succeed if retried later: transport failures and
    /// [`ApiError::retryable`] API errors. Bad input is never retryable.
    pub fn retryable(&self) -> bool {
        match self {
            Self::Transport(_) => true,
            Self::Api(e) => e.retryable(),
            _ => false,
        }
    }
}

/// A non-2xx answer of the Twilio REST API, from its JSON error body
/// (`{"code", "message", "more_info", "status"}`, §e.4). When the body is not that JSON,
/// `code` is `None` and `message` holds the start of the body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
/// `Display` leaves out `message`, which can quote phone numbers, so errors can be logged.
#[error("Twilio API error: HTTP {http_status}, code {code:?}")]
pub struct ApiError {
    /// The HTTP status of the response (e.g. 400, 401, 404, 429).
    pub http_status: u16,
    /// Twilio's error number (e.g. 21211 invalid `To`, 20003 authentication, 21610
    /// unsubscribed recipient), when the body carried one.
    pub code: Option<u32>,
    /// Twilio's message (may quote the request's phone numbers: personal data).
    pub message: String,
    /// Link to the error's documentation page.
    pub more_info: Option<String>,
}

/// Twilio error codes of throttling (`20429` too many requests).
const THROTTLED_CODES: [u32; 1] = [20429];

impl ApiError {
    /// Longest part of a non-JSON error body kept in `message`, in bytes.
    const MAX_RAW_MESSAGE_BYTES: usize = 200;

    /// Builds the error of a response with status `http_status` and body `body`.
    pub fn from_response(http_status: u16, body: &[u8]) -> Self {
        #[derive(Deserialize)]
        struct Body {
            code: Option<u32>,
            message: Option<String>,
            more_info: Option<String>,
        }
        match serde_json::from_slice::<Body>(body) {
            Ok(b) => Self {
                http_status,
                code: b.code,
                message: b.message.unwrap_or_default(),
                more_info: b.more_info,
            },
            Err(_) => {
                let text = String::from_utf8_lossy(body);
                let mut end = text.len().min(Self::MAX_RAW_MESSAGE_BYTES);
                while !text.is_char_boundary(end) {
                    end -= 1;
                }
                Self {
                    http_status,
                    code: None,
                    message: text[..end].to_string(),
                    more_info: None,
                }
            }
        }
    }

    /// True for throttling (HTTP 429 or code 20429) and server errors (HTTP 5xx); false for
    /// errors of the request itself (400 invalid number, 401 credentials, 404 unknown call…).
    pub fn retryable(&self) -> bool {
        self.http_status == 429
            || self.http_status >= 500
            || self.code.is_some_and(|c| THROTTLED_CODES.contains(&c))
    }
}
