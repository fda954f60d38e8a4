//! Typed Twilio voice webhooks (`shared/protocols/twilio.md` §a): the incoming-call request
//! ([`IncomingCall`], §a.1) and call status callbacks ([`StatusCallback`], §a.2).
//!
//! Both arrive as `application/x-www-form-urlencoded` POST bodies. Decode the body once with
//! [`parse_form`]; the same pairs feed [`crate::signature::SignatureValidator::validate_form`]
//! and the typed parsers here. Fields Otto does not use are ignored; every field it uses is
//! validated, and a missing or malformed one is a [`TwilioError::Webhook`] naming the field
//! (never its value: values are personal data).

use chrono::{DateTime, FixedOffset};
use otto_core::domain::PhoneNumber;

use crate::{AccountSid, CallSid, TwilioError};

/// Largest webhook body accepted, in bytes. A real incoming-call form is about 1 KiB.
pub const MAX_FORM_BYTES: usize = 16 * 1024;

/// Longest single field value kept, in bytes (SIP URIs and caller names are far shorter).
const MAX_VALUE_BYTES: usize = 512;

/// Decodes a form body into its `(name, value)` pairs in order, repeats kept
/// (`+` → space, `%XX` → byte; invalid UTF-8 is replaced, as browsers do).
///
/// # Errors
/// [`TwilioError::Webhook`] when the body is larger than [`MAX_FORM_BYTES`].
pub fn parse_form(body: &[u8]) -> Result<Vec<(String, String)>, TwilioError> {
    if body.len() > MAX_FORM_BYTES {
        return Err(TwilioError::Webhook(format!(
            "body of {} bytes exceeds {MAX_FORM_BYTES}",
            body.len()
        )));
    }
    Ok(form_urlencoded::parse(body).into_owned().collect())
}

/// One party of a call as Twilio reports it in `From`/`To`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Party {
    /// An E.164 phone number that `otto_core` accepts.
    Phone(PhoneNumber),
    /// Caller ID withheld. Twilio sends `anonymous`, or keypad spellings such as
    /// `+266696687` (ANONYMOUS), `+7378742833` (RESTRICTED), `+2562533` (BLOCKED), `+8656696`
    /// (UNKNOWN), `+86282452253` (UNAVAILABLE) (from Twilio support articles as remembered,
    /// unverified), or an empty value.
    Withheld,
    /// A Voice SDK client, `client:name` (the text after `client:`).
    Client(String),
    /// A SIP URI, `sip:user@host` (the whole URI).
    Sip(String),
    /// An E.164-shaped number that `otto_core::domain::PhoneNumber` rejects (e.g. a range
    /// libphonenumber does not know yet). Kept verbatim so the call is still answered; treat it
    /// as an unknown caller.
    OtherNumber(String),
}

/// Keypad spellings of withheld caller IDs (see [`Party::Withheld`]).
const WITHHELD_NUMBERS: [&str; 5] = [
    "+266696687",
    "+7378742833",
    "+2562533",
    "+8656696",
    "+86282452253",
];
/// Words Twilio or carriers use for withheld caller IDs (compared case-insensitively).
const WITHHELD_WORDS: [&str; 5] = [
    "anonymous",
    "restricted",
    "blocked",
    "unknown",
    "unavailable",
];

impl Party {
    /// Parses a `From`/`To`/`ForwardedFrom` value.
    ///
    /// # Errors
    /// A reason (without the value) when it is none of the forms of [`Party`].
    pub fn parse(value: &str) -> Result<Self, String> {
        if value.len() > MAX_VALUE_BYTES || value.chars().any(char::is_control) {
            return Err("too long or has control characters".into());
        }
        let trimmed = value.trim();
        if trimmed.is_empty()
            || WITHHELD_NUMBERS.contains(&trimmed)
            || WITHHELD_WORDS
                .iter()
                .any(|w| w.eq_ignore_ascii_case(trimmed))
        {
            return Ok(Self::Withheld);
        }
        if let Some(name) = trimmed.strip_prefix("client:") {
            return if name.is_empty() {
                Err("empty client name".into())
            } else {
                Ok(Self::Client(name.to_string()))
            };
        }
        if trimmed.starts_with("sip:") || trimmed.starts_with("sips:") {
            return Ok(Self::Sip(trimmed.to_string()));
        }
        let e164_shaped = trimmed.len() >= 3
            && trimmed.len() <= 16
            && trimmed.starts_with('+')
            && trimmed[1..].bytes().all(|b| b.is_ascii_digit());
        if !e164_shaped {
            return Err("not E.164, client:, sip: or a withheld caller ID".into());
        }
        Ok(match PhoneNumber::parse(trimmed) {
            Ok(p) => Self::Phone(p),
            Err(_) => Self::OtherNumber(trimmed.to_string()),
        })
    }

    /// The phone number, when this party is one Otto can look up.
    pub fn phone(&self) -> Option<&PhoneNumber> {
        match self {
            Self::Phone(p) => Some(p),
            _ => None,
        }
    }

    /// A form for logs: masked number, `withheld`, `client:[N chars]`, `sip:[N chars]`.
    pub fn masked(&self) -> String {
        match self {
            Self::Phone(p) => p.masked(),
            Self::Withheld => "withheld".into(),
            Self::Client(c) => format!("client:[{} chars]", c.chars().count()),
            Self::Sip(s) => format!("sip:[{} chars]", s.chars().count()),
            Self::OtherNumber(n) => format!("other:[{} chars]", n.chars().count()),
        }
    }
}

macro_rules! string_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vdoc])* $variant,)+
            /// A value this code does not know (Twilio adds values over time), verbatim.
            Unknown(String),
        }

        impl $name {
            /// Parses Twilio's spelling; never fails (unknown values become `Unknown`).
            pub fn parse(text: &str) -> Self {
                match text {
                    $($text => Self::$variant,)+
                    other => Self::Unknown(other.chars().take(64).collect()),
                }
            }

            /// Twilio's spelling.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $text,)+
                    Self::Unknown(s) => s,
                }
            }
        }
    };
}

string_enum!(
    /// `CallStatus` (webhooks and REST share it; twilio-node `call.ts`). Note `canceled`.
    CallStatus {
        /// Created, not yet dialling.
        Queued = "queued",
        /// Ringing (a fresh inbound call).
        Ringing = "ringing",
        /// Answered and connected.
        InProgress = "in-progress",
        /// Ended normally.
        Completed = "completed",
        /// The callee was busy.
        Busy = "busy",
        /// The call could not be placed.
        Failed = "failed",
        /// Nobody answered.
        NoAnswer = "no-answer",
        /// Cancelled while queued or ringing.
        Canceled = "canceled",
    }
);

impl CallStatus {
    /// True for the states a call never leaves (`completed`, `busy`, `failed`, `no-answer`,
    /// `canceled`).
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            Self::Completed | Self::Busy | Self::Failed | Self::NoAnswer | Self::Canceled
        )
    }
}

string_enum!(
    /// `Direction` of a call leg.
    Direction {
        /// A caller dialled our number.
        Inbound = "inbound",
        /// Created through the REST API.
        OutboundApi = "outbound-api",
        /// A child leg created by `<Dial>`.
        OutboundDial = "outbound-dial",
    }
);

/// The fields both webhooks share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallInfo {
    /// `CallSid`: this call leg.
    pub call_sid: CallSid,
    /// `AccountSid`: the account owning the number (compare with the configured one).
    pub account_sid: AccountSid,
    /// `From`: the caller.
    pub from: Party,
    /// `To`: the called party (our number on inbound calls).
    pub to: Party,
    /// `CallStatus`.
    pub status: CallStatus,
    /// `Direction`.
    pub direction: Direction,
    /// `ParentCallSid`, on child legs.
    pub parent_call_sid: Option<CallSid>,
    /// `ForwardedFrom`, when the carrier reports a forwarding number.
    pub forwarded_from: Option<Party>,
    /// `CallerName` (CNAM), when caller-ID lookup is enabled. Personal data.
    pub caller_name: Option<String>,
}

/// The incoming-call webhook (§a.1, fixture `twilio-voice-incoming.form.txt`): Twilio asks
/// for TwiML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingCall {
    /// The call's identity and parties.
    pub call: CallInfo,
}

/// A call status callback (§a.2, fixture `twilio-status-callback-completed.form.txt`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusCallback {
    /// The call's identity, parties and the state reached.
    pub call: CallInfo,
    /// `CallDuration`: seconds connected (terminal event only).
    pub call_duration_s: Option<u32>,
    /// `Timestamp`: when the event happened (RFC 2822), when events were requested.
    pub timestamp: Option<DateTime<FixedOffset>>,
    /// `SequenceNumber`: 0, 1, 2… per call; callbacks may arrive out of order, sort by it.
    pub sequence_number: Option<u32>,
    /// `SipResponseCode`: final SIP code (terminal event on PSTN/SIP calls), e.g. 200, 486.
    pub sip_response_code: Option<u16>,
    /// `AnsweredBy`: answering-machine detection result (`human`, `machine_start`, …).
    pub answered_by: Option<String>,
}

/// Looks up fields in decoded form pairs (first occurrence wins).
pub(crate) struct Fields<'a>(pub(crate) &'a [(String, String)]);

impl Fields<'_> {
    pub(crate) fn get(&self, name: &'static str) -> Result<Option<&str>, TwilioError> {
        match self.0.iter().find(|(k, _)| k == name) {
            None => Ok(None),
            Some((_, v)) if v.len() > MAX_VALUE_BYTES => Err(bad(name, "value too long")),
            Some((_, v)) => Ok(Some(v.as_str())),
        }
    }

    pub(crate) fn required(&self, name: &'static str) -> Result<&str, TwilioError> {
        self.get(name)?.ok_or_else(|| bad(name, "missing"))
    }

    pub(crate) fn non_empty(&self, name: &'static str) -> Result<Option<&str>, TwilioError> {
        Ok(self.get(name)?.filter(|v| !v.is_empty()))
    }

    pub(crate) fn number<T: std::str::FromStr>(
        &self,
        name: &'static str,
    ) -> Result<Option<T>, TwilioError> {
        self.non_empty(name)?
            .map(|v| v.parse::<T>().map_err(|_| bad(name, "not a whole number")))
            .transpose()
    }
}

pub(crate) fn bad(field: &str, why: &str) -> TwilioError {
    TwilioError::Webhook(format!("{field}: {why}"))
}

impl CallInfo {
    fn from_fields(f: &Fields<'_>) -> Result<Self, TwilioError> {
        let party = |name: &'static str| -> Result<Party, TwilioError> {
            Party::parse(f.required(name)?).map_err(|why| bad(name, &why))
        };
        let caller_name = f
            .non_empty("CallerName")?
            .filter(|n| !n.chars().any(char::is_control))
            .map(str::to_string);
        Ok(Self {
            call_sid: CallSid::parse(f.required("CallSid")?)
                .map_err(|e| bad("CallSid", &e.to_string()))?,
            account_sid: AccountSid::parse(f.required("AccountSid")?)
                .map_err(|e| bad("AccountSid", &e.to_string()))?,
            from: party("From")?,
            to: party("To")?,
            status: CallStatus::parse(f.required("CallStatus")?),
            direction: Direction::parse(f.required("Direction")?),
            parent_call_sid: f
                .non_empty("ParentCallSid")?
                .map(CallSid::parse)
                .transpose()
                .map_err(|e| bad("ParentCallSid", &e.to_string()))?,
            forwarded_from: f
                .non_empty("ForwardedFrom")?
                .map(Party::parse)
                .transpose()
                .map_err(|why| bad("ForwardedFrom", &why))?,
            caller_name,
        })
    }
}

impl IncomingCall {
    /// Parses the decoded form of an incoming-call webhook (see [`parse_form`]).
    ///
    /// # Errors
    /// [`TwilioError::Webhook`] naming the first missing or malformed field among `CallSid`,
    /// `AccountSid`, `From`, `To`, `CallStatus`, `Direction` (and the optional
    /// `ParentCallSid`, `ForwardedFrom`).
    pub fn from_form(pairs: &[(String, String)]) -> Result<Self, TwilioError> {
        Ok(Self {
            call: CallInfo::from_fields(&Fields(pairs))?,
        })
    }
}

impl StatusCallback {
    /// Parses the decoded form of a status callback (see [`parse_form`]).
    ///
    /// # Errors
    /// As [`IncomingCall::from_form`], plus malformed `CallDuration`, `SequenceNumber`,
    /// `SipResponseCode` (not whole numbers) or `Timestamp` (not RFC 2822).
    pub fn from_form(pairs: &[(String, String)]) -> Result<Self, TwilioError> {
        let f = Fields(pairs);
        let timestamp = f
            .non_empty("Timestamp")?
            .map(|t| DateTime::parse_from_rfc2822(t).map_err(|_| bad("Timestamp", "not RFC 2822")))
            .transpose()?;
        Ok(Self {
            call: CallInfo::from_fields(&f)?,
            call_duration_s: f.number("CallDuration")?,
            timestamp,
            sequence_number: f.number("SequenceNumber")?,
            sip_response_code: f.number("SipResponseCode")?,
            answered_by: f
                .non_empty("AnsweredBy")?
                .map(|v| v.chars().take(64).collect()),
        })
    }
}

/// The asynchronous answering-machine detection callback (`AsyncAmdStatusCallback`, §a.2):
/// who or what answered an outbound call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmdCallback {
    /// `CallSid`.
    pub call_sid: CallSid,
    /// `AccountSid`.
    pub account_sid: AccountSid,
    /// `AnsweredBy`: `human`, `machine_start`, `machine_end_beep`, `machine_end_silence`,
    /// `machine_end_other`, `fax` or `unknown` (kept as sent, at most 64 characters).
    pub answered_by: String,
    /// `MachineDetectionDuration`: how long detection took, ms.
    pub detection_ms: Option<u32>,
}

impl AmdCallback {
    /// Parses the decoded form of an AMD callback.
    ///
    /// # Errors
    /// [`TwilioError::Webhook`] naming a missing or malformed `CallSid`, `AccountSid` or
    /// `AnsweredBy`, or a `MachineDetectionDuration` that is not a whole number.
    pub fn from_form(pairs: &[(String, String)]) -> Result<Self, TwilioError> {
        let f = Fields(pairs);
        Ok(Self {
            call_sid: CallSid::parse(f.required("CallSid")?)
                .map_err(|e| bad("CallSid", &e.to_string()))?,
            account_sid: AccountSid::parse(f.required("AccountSid")?)
                .map_err(|e| bad("AccountSid", &e.to_string()))?,
            answered_by: f
                .non_empty("AnsweredBy")?
                .ok_or_else(|| bad("AnsweredBy", "missing"))?
                .chars()
                .take(64)
                .collect(),
            detection_ms: f.number("MachineDetectionDuration")?,
        })
    }

    /// Whether a machine (or fax) answered: anything but `human` and `unknown`.
    pub fn is_machine(&self) -> bool {
        !matches!(self.answered_by.as_str(), "human" | "unknown")
    }
}
