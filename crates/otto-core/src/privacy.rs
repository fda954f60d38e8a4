//! Masking of personal data (phone numbers, names, transcripts) in logs, and of secrets when
//! configuration is printed.
//!
//! Logs must not carry personal data unless the operator turns it on (`log.reveal_pii = true`).
//! Code that logs such a value wraps it in [`Pii`], whose `Display` shows a short mask unless
//! [`set_reveal`] enabled revealing for this process. The flag is process-wide and set once at
//! start from config.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};

static REVEAL: AtomicBool = AtomicBool::new(false);

/// Enables (`true`) or disables showing personal data in logs for the whole process.
pub fn set_reveal(reveal: bool) {
    REVEAL.store(reveal, Ordering::Relaxed);
}

/// True when personal data may appear in logs.
pub fn revealed() -> bool {
    REVEAL.load(Ordering::Relaxed)
}

/// A personal value for a log line. Displays the value when revealing is on; otherwise a value
/// that looks like a phone number is masked by the one rule for numbers in logs,
/// [`crate::domain::PhoneNumber::masked`] (country code and last four digits, `+1******4567`),
/// and any other text shows only its length, `[N chars]`.
pub struct Pii<'a>(pub &'a str);

impl fmt::Display for Pii<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if revealed() {
            return f.write_str(self.0);
        }
        let s = self.0;
        let phone_like = s.len() >= 7
            && s.chars()
                .all(|c| c.is_ascii_digit() || "+-() .".contains(c));
        if phone_like {
            match crate::domain::PhoneNumber::parse(s) {
                Ok(p) => f.write_str(&p.masked()),
                // Not a valid number: nothing but its last four digits.
                Err(_) => {
                    let digits: Vec<char> = s.chars().filter(char::is_ascii_digit).collect();
                    let tail: String = digits[digits.len().saturating_sub(4)..].iter().collect();
                    write!(f, "+******{tail}")
                }
            }
        } else {
            write!(f, "[{} chars]", s.chars().count())
        }
    }
}

impl fmt::Debug for Pii<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Serde `serialize_with` for a secret (API key, auth token): writes `"[redacted]"`, never the
/// value. Used wherever configuration is printed (`otto config`).
///
/// # Errors
/// The serializer's own errors.
pub fn serialize_redacted<T, S: serde::Serializer>(_secret: &T, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str("[redacted]")
}

/// [`serialize_redacted`] for an optional secret: `None` stays `None`.
///
/// # Errors
/// The serializer's own errors.
pub fn serialize_redacted_option<T, S: serde::Serializer>(
    secret: &Option<T>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match secret {
        Some(_) => s.serialize_str("[redacted]"),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_unless_revealed() {
        // The same rule as PhoneNumber::masked, whatever the number's format.
        assert_eq!(Pii("+15551234567").to_string(), "+1******4567");
        assert_eq!(
            Pii("(555) 123-4567").to_string(),
            crate::domain::PhoneNumber::parse("(555) 123-4567")
                .unwrap()
                .masked()
        );
        assert_eq!(Pii("0000000").to_string(), "+******0000");
        assert_eq!(Pii("Jordan Smith").to_string(), "[12 chars]");
        set_reveal(true);
        assert_eq!(Pii("Jordan Smith").to_string(), "Jordan Smith");
        set_reveal(false);
        assert_eq!(Pii("book me in").to_string(), "[10 chars]");
    }

    #[test]
    fn secrets_serialise_redacted() {
        #[derive(serde::Serialize)]
        struct Keys {
            #[serde(serialize_with = "serialize_redacted")]
            token: String,
            #[serde(serialize_with = "serialize_redacted_option")]
            key: Option<String>,
            #[serde(serialize_with = "serialize_redacted_option")]
            none: Option<String>,
        }
        let json = serde_json::to_string(&Keys {
            token: "hunter2".into(),
            key: Some("sk-123".into()),
            none: None,
        })
        .unwrap();
        assert_eq!(
            json,
            r#"{"token":"[redacted]","key":"[redacted]","none":null}"#
        );
    }
}
