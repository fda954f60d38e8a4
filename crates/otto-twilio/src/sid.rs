//! Twilio SIDs: 34 characters, a two-letter prefix naming the resource (`AC` account, `CA`
//! call, `MZ` media stream, `SM`/`MM` message) followed by 32 hex digits
//! (`shared/protocols/twilio.md`, conventions). Parsing checks both; hex digits of either case
//! are accepted (Twilio writes lowercase).

use std::fmt;

use crate::TwilioError;

/// Number of hex digits after the prefix.
const HEX_DIGITS: usize = 32;

fn check(text: &str, prefixes: &[&'static str]) -> Result<(), TwilioError> {
    let ok = text.len() == 2 + HEX_DIGITS
        && prefixes.iter().any(|p| text.starts_with(p))
        && text.as_bytes()[2..].iter().all(u8::is_ascii_hexdigit);
    if ok {
        Ok(())
    } else {
        Err(TwilioError::Sid {
            expected: prefixes[0],
        })
    }
}

macro_rules! sid_type {
    ($(#[$doc:meta])* $name:ident, [$($prefix:literal),+]) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Parses a SID.
            ///
            /// # Errors
            /// [`TwilioError::Sid`] unless `text` is the prefix plus 32 hex digits.
            pub fn parse(text: &str) -> Result<Self, TwilioError> {
                check(text, &[$($prefix),+])?;
                Ok(Self(text.to_string()))
            }

            /// A fresh random SID (as Twilio would assign; used by the simulator and tests).
            pub fn random() -> Self {
                let prefixes: &[&str] = &[$($prefix),+];
                Self(format!("{}{}", prefixes[0], uuid::Uuid::new_v4().simple()))
            }

            /// The SID text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl TryFrom<String> for $name {
            type Error = TwilioError;
            fn try_from(text: String) -> Result<Self, TwilioError> {
                check(&text, &[$($prefix),+])?;
                Ok(Self(text))
            }
        }

        impl From<$name> for String {
            fn from(sid: $name) -> String {
                sid.0
            }
        }
    };
}

sid_type!(
    /// An account SID (`AC…`).
    AccountSid, ["AC"]
);
sid_type!(
    /// A call SID (`CA…`): one call leg.
    CallSid, ["CA"]
);
sid_type!(
    /// A media stream SID (`MZ…`): one Media Streams WebSocket session.
    StreamSid, ["MZ"]
);
sid_type!(
    /// A message SID (`SM…` for SMS, `MM…` for MMS).
    MessageSid, ["SM", "MM"]
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_prefix_and_32_hex_digits() {
        let sid = CallSid::parse("CA00000000000000000000000000000002").expect("valid");
        assert_eq!(sid.as_str(), "CA00000000000000000000000000000002");
        assert!(CallSid::parse("CAabcdefABCDEF0123456789abcdef0123").is_ok());
        assert!(MessageSid::parse("MM00000000000000000000000000000005").is_ok());
    }

    #[test]
    fn rejects_wrong_prefix_length_or_digits() {
        for bad in [
            "",
            "CA",
            "CA0000000000000000000000000000000",   // 31 digits
            "CA000000000000000000000000000000022", // 33 digits
            "AC00000000000000000000000000000002",  // wrong prefix
            "CA0000000000000000000000000000000g",  // not hex
            "ca00000000000000000000000000000002",  // lowercase prefix
            "CA0000000000000000000000000000000é",
        ] {
            assert!(CallSid::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn random_sids_are_valid_and_distinct() {
        let a = StreamSid::random();
        let b = StreamSid::random();
        assert!(StreamSid::parse(a.as_str()).is_ok());
        assert_ne!(a, b);
    }

    #[test]
    fn serde_validates() {
        let ok: Result<AccountSid, _> =
            serde_json::from_str("\"AC00000000000000000000000000000001\"");
        assert!(ok.is_ok());
        let bad: Result<AccountSid, _> = serde_json::from_str("\"AC1\"");
        assert!(bad.is_err());
    }
}
