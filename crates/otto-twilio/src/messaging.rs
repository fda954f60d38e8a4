//! Twilio Messaging webhooks: an incoming SMS ([`IncomingMessage`]) and a message's delivery
//! status callback ([`MessageStatusCallback`], `shared/protocols/twilio.md` §e.3), plus
//! [`send_inbound`], which plays Twilio (and a customer's phone) by POSTing a signed incoming
//! message and reading the TwiML `<Message>` reply (`otto sms` and the tests use it).
//!
//! Both webhooks are form POSTs signed like the voice webhooks (§b.1): decode with
//! [`crate::webhook::parse_form`], check the signature, then parse here. A body is at most
//! 1,600 characters ([`crate::rest::MAX_SMS_CHARS`]); other fields at most 512 bytes.

use otto_core::domain::PhoneNumber;
use secrecy::SecretString;

use crate::rest::MAX_SMS_CHARS;
use crate::twiml::Verb;
use crate::webhook::{Fields, Party, bad};
use crate::{AccountSid, MessageSid, TwilioError};

/// How long Twilio waits for a webhook's answer.
const ANSWER_DEADLINE: std::time::Duration = std::time::Duration::from_secs(15);

/// An SMS a customer sent to our number (the number's "A message comes in" webhook).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingMessage {
    /// `MessageSid` (`SM…`).
    pub message_sid: MessageSid,
    /// `AccountSid`.
    pub account_sid: AccountSid,
    /// `From`: the sender.
    pub from: Party,
    /// `To`: our number.
    pub to: Party,
    /// `Body`: the text, control characters other than line breaks removed. Personal data.
    pub body: String,
}

impl IncomingMessage {
    /// Parses the decoded form of an incoming-message webhook.
    ///
    /// # Errors
    /// [`TwilioError::Webhook`] naming a missing or malformed `MessageSid`, `AccountSid`,
    /// `From` or `To`, or a `Body` longer than 1,600 characters.
    pub fn from_form(pairs: &[(String, String)]) -> Result<Self, TwilioError> {
        let f = Fields(pairs);
        let party = |name: &'static str| -> Result<Party, TwilioError> {
            Party::parse(f.required(name)?).map_err(|why| bad(name, &why))
        };
        // The body may be longer than other fields: read it directly.
        let body = pairs
            .iter()
            .find(|(k, _)| k == "Body")
            .map_or("", |(_, v)| v.as_str());
        if body.chars().count() > MAX_SMS_CHARS {
            return Err(bad("Body", "longer than 1600 characters"));
        }
        let sid = f
            .non_empty("MessageSid")?
            .or(f.non_empty("SmsSid")?)
            .ok_or_else(|| bad("MessageSid", "missing"))?;
        Ok(Self {
            message_sid: MessageSid::parse(sid).map_err(|e| bad("MessageSid", &e.to_string()))?,
            account_sid: AccountSid::parse(f.required("AccountSid")?)
                .map_err(|e| bad("AccountSid", &e.to_string()))?,
            from: party("From")?,
            to: party("To")?,
            body: body
                .chars()
                .filter(|c| !c.is_control() || *c == '\n')
                .collect(),
        })
    }
}

/// A message's delivery status callback (the `StatusCallback` of a sent message, §e.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageStatusCallback {
    /// `MessageSid`.
    pub message_sid: MessageSid,
    /// `AccountSid`.
    pub account_sid: AccountSid,
    /// `MessageStatus`: `queued`, `sending`, `sent`, `delivered`, `undelivered`, `failed`
    /// (or another value Twilio adds; at most 32 characters kept).
    pub status: String,
    /// `ErrorCode` on `undelivered` / `failed`, e.g. 30003 (unreachable), 21610 (opted out).
    pub error_code: Option<u32>,
}

impl MessageStatusCallback {
    /// Parses the decoded form of a message status callback.
    ///
    /// # Errors
    /// [`TwilioError::Webhook`] naming a missing or malformed `MessageSid`, `AccountSid` or
    /// `MessageStatus`, or an `ErrorCode` that is not a whole number.
    pub fn from_form(pairs: &[(String, String)]) -> Result<Self, TwilioError> {
        let f = Fields(pairs);
        let sid = f
            .non_empty("MessageSid")?
            .or(f.non_empty("SmsSid")?)
            .ok_or_else(|| bad("MessageSid", "missing"))?;
        let status = f
            .non_empty("MessageStatus")?
            .or(f.non_empty("SmsStatus")?)
            .ok_or_else(|| bad("MessageStatus", "missing"))?;
        Ok(Self {
            message_sid: MessageSid::parse(sid).map_err(|e| bad("MessageSid", &e.to_string()))?,
            account_sid: AccountSid::parse(f.required("AccountSid")?)
                .map_err(|e| bad("AccountSid", &e.to_string()))?,
            status: status.chars().take(32).collect(),
            error_code: f.number("ErrorCode")?,
        })
    }

    /// Whether Twilio reports the message delivered.
    pub fn delivered(&self) -> bool {
        self.status == "delivered"
    }

    /// Whether Twilio reports that the message will not arrive (`undelivered`, `failed`).
    pub fn failed(&self) -> bool {
        matches!(self.status.as_str(), "undelivered" | "failed")
    }
}

/// Plays an incoming SMS as Twilio would deliver it: POSTs the signed webhook form
/// (`MessageSid`, `SmsSid`, `AccountSid`, `From`, `To`, `Body`, `NumMedia=0`,
/// `NumSegments=1`, `ApiVersion`) to `url` and returns the texts of the `<Message>`s in the
/// TwiML answer (empty when Otto sends no reply).
///
/// # Errors
/// [`TwilioError::Sim`] when the server cannot be reached within 15 s (Twilio's webhook
/// deadline), answers other than 2xx, or not with TwiML.
pub async fn send_inbound(
    url: &str,
    account_sid: &AccountSid,
    auth_token: &SecretString,
    from: &PhoneNumber,
    to: &PhoneNumber,
    body: &str,
) -> Result<Vec<String>, TwilioError> {
    let sid = format!("SM{}", uuid::Uuid::new_v4().simple());
    let params: Vec<(String, String)> = [
        ("MessageSid", sid.as_str()),
        ("SmsSid", sid.as_str()),
        ("AccountSid", account_sid.as_str()),
        ("From", from.as_str()),
        ("To", to.as_str()),
        ("Body", body),
        ("NumMedia", "0"),
        ("NumSegments", "1"),
        ("ApiVersion", "2010-04-01"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let answer = crate::sim::post_signed(url, auth_token, &params, ANSWER_DEADLINE).await?;
    Ok(answer
        .verbs
        .into_iter()
        .filter_map(|v| match v {
            Verb::Message(m) => Some(m),
            _ => None,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    const SID: &str = "SM0123456789abcdef0123456789abcdef";
    const AC: &str = "AC0123456789abcdef0123456789abcdef";

    #[test]
    fn an_incoming_message_is_read_and_bad_fields_are_named() {
        let m = IncomingMessage::from_form(&pairs(&[
            ("MessageSid", SID),
            ("AccountSid", AC),
            ("From", "+15555550123"),
            ("To", "+15555550100"),
            ("Body", "C\u{7}\nthanks"),
        ]))
        .unwrap();
        assert_eq!(m.body, "C\nthanks");
        assert_eq!(m.from.phone().unwrap().as_str(), "+15555550123");

        let long = "x".repeat(1601);
        let e = IncomingMessage::from_form(&pairs(&[
            ("MessageSid", SID),
            ("AccountSid", AC),
            ("From", "+15555550123"),
            ("To", "+15555550100"),
            ("Body", &long),
        ]))
        .unwrap_err();
        assert!(e.to_string().contains("Body"), "{e}");
        let e = IncomingMessage::from_form(&pairs(&[("AccountSid", AC)])).unwrap_err();
        assert!(e.to_string().contains("MessageSid"), "{e}");
    }

    #[test]
    fn status_callbacks_tell_delivered_from_failed() {
        let cb = MessageStatusCallback::from_form(&pairs(&[
            ("SmsSid", SID),
            ("SmsStatus", "undelivered"),
            ("MessageStatus", "undelivered"),
            ("MessageSid", SID),
            ("AccountSid", AC),
            ("ErrorCode", "30003"),
        ]))
        .unwrap();
        assert!(cb.failed() && !cb.delivered());
        assert_eq!(cb.error_code, Some(30003));
        let e = MessageStatusCallback::from_form(&pairs(&[
            ("MessageSid", SID),
            ("AccountSid", AC),
            ("MessageStatus", "failed"),
            ("ErrorCode", "x"),
        ]))
        .unwrap_err();
        assert!(e.to_string().contains("ErrorCode"), "{e}");
    }
}
