//! Reaching customers outside a call: the [`Notifier`] interface that a messaging provider
//! (Twilio Programmable Messaging, `shared/protocols/twilio.md`) implements and the shop's
//! services (confirmations, reminders) use.
//!
//! Only the interface lives here; nothing in this module does I/O.

use async_trait::async_trait;

use crate::domain::PhoneNumber;

/// Why a notification could not be sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("notify: {message}")]
pub struct NotifyError {
    /// What went wrong, fit for a log line (never a secret).
    pub message: String,
    /// Whether sending again later may succeed (timeouts, 429, 5xx); `false` for a number
    /// that cannot receive messages or a rejected request.
    pub retryable: bool,
}

/// Sends text messages to customers.
#[async_trait]
pub trait Notifier: Send + Sync + std::fmt::Debug {
    /// Sends `body` (UTF-8, at most 1,600 characters) as an SMS to `to`; returns the provider's
    /// message id (a Twilio message SID `SM…`).
    ///
    /// # Errors
    /// [`NotifyError`], with `retryable` telling whether a later attempt may succeed.
    async fn send_sms(&self, to: &PhoneNumber, body: &str) -> Result<String, NotifyError>;
}
