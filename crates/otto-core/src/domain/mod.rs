//! Domain newtypes that parse, not validate: once a value of one of these types exists, it is
//! well-formed, so code past the boundary never re-checks it.
//!
//! Each type parses from caller-, staff- or config-supplied text with `parse`, serialises as its
//! canonical string, and rejects bad input with a [`DomainError`] whose message can be shown to a
//! person.

mod email;
mod phone;
mod us_state;
mod vin;

pub use email::Email;
pub use phone::PhoneNumber;
pub use us_state::UsState;
pub use vin::{Vin, VinError, VinInfo};

/// Why a piece of text is not a valid domain value. The message is fit to show to a caller or
/// staff member. Phone and email errors carry the *reason* only, never the input (personal data
/// ends up in logs otherwise); state errors quote at most 40 characters of the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// Why the text is not a phone number, e.g. "it has 9 digits; a US number has 10".
    #[error("not a valid phone number: {0}")]
    Phone(String),
    /// Why the text is not an email address, e.g. "it has no @".
    #[error("not a valid email address: {0}")]
    Email(String),
    /// The rejected text (at most 40 characters).
    #[error("not a US state or territory: {0}")]
    UsState(String),
    /// Why the text is not a VIN.
    #[error(transparent)]
    Vin(#[from] VinError),
}
