//! [`ToolError`]: why a tool call failed, as a short structured error the model (or the
//! rule-based dialogue) can act on: `{"error":"slot_taken","message":"…"}`.

use serde_json::{Value, json};

/// Why a tool call failed. [`ToolError::code`] is the stable machine-readable name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ToolError {
    /// No tool has this name.
    #[error("there is no tool named {0:?}")]
    UnknownTool(String),
    /// The arguments are not valid JSON for the tool, or a value does not parse.
    #[error("{0}")]
    InvalidArguments(String),
    /// The caller is not identified yet: call lookup_caller or register_customer first.
    #[error("the caller is not identified yet; look them up or register them first")]
    NotIdentified,
    /// The channel gave no caller ID, so nothing can be registered or booked.
    #[error(
        "the caller's number is withheld, so I cannot register or book; offer to take a message"
    )]
    NoCallerId,
    /// The caller is already a customer.
    #[error("the caller is already registered")]
    AlreadyRegistered,
    /// Nothing with that id belongs to this caller.
    #[error("no such {0} for this caller")]
    NotFound(&'static str),
    /// Another booking took the slot.
    #[error("that time is no longer free; find free slots again")]
    SlotTaken,
    /// The time breaks the shop's rules (closed, lunch, lead time, …); the message says which.
    #[error("{0}")]
    NotBookable(String),
    /// The shop is closed now, so no one can take a transfer.
    #[error("the shop is closed now; offer to take a message")]
    Closed,
    /// A dependency (recalls service) is disabled or failed.
    #[error("{0}")]
    Unavailable(String),
    /// The store failed; details are logged, not shown.
    #[error("something went wrong on our side; try again or offer to take a message")]
    Internal,
}

impl ToolError {
    /// The machine-readable code: "unknown_tool", "invalid_arguments", "not_identified",
    /// "no_caller_id", "already_registered", "not_found", "slot_taken", "not_bookable",
    /// "closed", "unavailable", "internal".
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownTool(_) => "unknown_tool",
            Self::InvalidArguments(_) => "invalid_arguments",
            Self::NotIdentified => "not_identified",
            Self::NoCallerId => "no_caller_id",
            Self::AlreadyRegistered => "already_registered",
            Self::NotFound(_) => "not_found",
            Self::SlotTaken => "slot_taken",
            Self::NotBookable(_) => "not_bookable",
            Self::Closed => "closed",
            Self::Unavailable(_) => "unavailable",
            Self::Internal => "internal",
        }
    }

    /// `{"error": code, "message": text}`.
    pub fn to_json(&self) -> Value {
        json!({"error": self.code(), "message": self.to_string()})
    }
}
