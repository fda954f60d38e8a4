//! [`Email`]: an email address, trimmed and lowercased.
//!
//! The check is deliberately practical rather than full RFC 5322: one `@`, a non-empty local part
//! of at most 64 bytes, a dotted domain of letters, digits and hyphens (labels 1..=63 bytes, not
//! starting or ending with a hyphen), no whitespace or control characters, at most 254 bytes in
//! all (the RFC 5321 path limit). Quoted local parts and IP-literal domains are rejected: no
//! customer of a repair shop gives one, and they are far more often transcription noise.
//! Lowercasing the local part is technically lossy, but every mainstream provider treats it
//! case-insensitively and it keeps lookups by email simple.

use serde::{Deserialize, Serialize};

use super::DomainError;

/// Longest address accepted, in bytes (RFC 5321 §4.5.3.1.3 path limit minus the angle brackets).
const MAX_LEN: usize = 254;
/// Longest local part, in bytes (RFC 5321 §4.5.3.1.1).
const MAX_LOCAL_LEN: usize = 64;

/// An email address, trimmed and lowercased. Serialises as that string.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    /// Parses `text`: trims it, lowercases it and checks the rules in the module docs.
    ///
    /// # Errors
    /// [`DomainError::Email`] with what is wrong (the address itself is not repeated: it is
    /// personal data and errors end up in logs).
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        let err = |why: &str| Err(DomainError::Email(why.to_string()));
        let t = text.trim().to_lowercase();
        if t.is_empty() {
            return err("it is empty");
        }
        if t.len() > MAX_LEN {
            return err("it is longer than 254 characters");
        }
        if t.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return err("it contains a space");
        }
        let Some((local, domain)) = t.split_once('@') else {
            return err("it has no @");
        };
        if domain.contains('@') {
            return err("it has more than one @");
        }
        if local.is_empty() || local.len() > MAX_LOCAL_LEN {
            return err("the part before the @ must be 1 to 64 characters");
        }
        let local_ok = local
            .chars()
            .all(|c| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c));
        if !local_ok || local.starts_with('.') || local.ends_with('.') || local.contains("..") {
            return err("the part before the @ has characters an address cannot have");
        }
        let labels: Vec<&str> = domain.split('.').collect();
        if labels.len() < 2 {
            return err("the domain after the @ needs a dot, like example.com");
        }
        let label_ok = |l: &str| {
            (1..=63).contains(&l.len())
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        };
        if !labels.iter().all(|l| label_ok(l)) {
            return err("the domain after the @ is not a valid domain");
        }
        if labels
            .last()
            .is_some_and(|tld| tld.chars().all(|c| c.is_ascii_digit()))
        {
            return err("the domain after the @ cannot end in a number");
        }
        Ok(Self(t))
    }

    /// The address as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The address for logs: first character of the local part, then `***@` and the domain,
    /// e.g. "j***@example.com".
    pub fn masked(&self) -> String {
        let (local, domain) = self
            .0
            .split_once('@')
            .expect("a parsed email always has an @");
        let first: String = local.chars().take(1).collect();
        format!("{first}***@{domain}")
    }
}

impl std::fmt::Display for Email {
    /// Writes the address (unmasked: use [`Email::masked`] for logs).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Email {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Email> for String {
    fn from(e: Email) -> String {
        e.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn trims_and_lowercases() {
        let e = Email::parse("  Jane.Doe+cars@Example.COM ").unwrap();
        assert_eq!(e.as_str(), "jane.doe+cars@example.com");
        assert_eq!(e.masked(), "j***@example.com");
        assert_eq!(
            Email::parse("a@mail.example.co.uk").unwrap().as_str(),
            "a@mail.example.co.uk"
        );
    }

    #[test]
    fn rejects_malformed_addresses() {
        let long_local = format!("{}@example.com", "a".repeat(65));
        let long_total = format!("a@{}.com", "b".repeat(250));
        for text in [
            "",
            "   ",
            "jane",
            "jane@",
            "@example.com",
            "jane@example",
            "jane@@example.com",
            "jane@exa@mple.com",
            "jane doe@example.com",
            "jane@example .com",
            "jane@.example.com",
            "jane@example..com",
            "jane@example.com.",
            "jane@-example.com",
            "jane@example-.com",
            ".jane@example.com",
            "jane.@example.com",
            "ja..ne@example.com",
            "jane@exa_mple.com",
            "\"jane\"@example.com",
            "jane@[127.0.0.1]",
            "jane@127.0.0.1",
            "jane\u{0}@example.com",
            long_local.as_str(),
            long_total.as_str(),
        ] {
            assert!(Email::parse(text).is_err(), "{text:?} accepted");
        }
    }

    #[test]
    fn error_says_why_without_the_address() {
        let msg = Email::parse("jane.secret").unwrap_err().to_string();
        assert!(msg.contains("no @"), "{msg}");
        assert!(!msg.contains("secret"), "{msg}");
    }

    #[test]
    fn serde_round_trips_and_validates() {
        let e: Email = serde_json::from_str("\"Bob@Example.com\"").unwrap();
        assert_eq!(serde_json::to_string(&e).unwrap(), "\"bob@example.com\"");
        assert!(serde_json::from_str::<Email>("\"bob\"").is_err());
    }

    proptest! {
        #[test]
        fn never_panics_and_output_is_canonical(text in "\\PC{0,80}") {
            if let Ok(e) = Email::parse(&text) {
                prop_assert_eq!(e.as_str(), e.as_str().trim().to_lowercase());
                prop_assert_eq!(Email::parse(e.as_str()).unwrap(), e.clone());
                prop_assert!(e.as_str().len() <= MAX_LEN);
                let _ = e.masked();
            }
        }
    }
}
