//! Per-call stream tokens: Otto's own binding of a Media Streams socket to the call it was
//! opened for (not a Twilio protocol; carried through Twilio unchanged).
//!
//! Twilio signs the media upgrade only over the fixed stream URL, so one captured
//! `X-Twilio-Signature` opens any number of sockets, and the caller's number in
//! `start.customParameters` is not signed at all. The `<Connect><Stream>` Otto answers a call
//! with therefore carries a [`PARAMETER`] `<Parameter>`: `"{expiry}.{mac}"`, where `expiry` is
//! a Unix time in seconds and `mac` the unpadded URL-safe base64 of an HMAC-SHA256 over the
//! call SID, caller, callee and expiry. The media runner verifies it against the `start`
//! message before it trusts `from`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The name of the `<Parameter>` (and `customParameters` key) holding the token.
pub const PARAMETER: &str = "token";

/// How long a token stays valid after it is issued, in seconds. Twilio opens the stream
/// within a second or two of the TwiML; the token only has to outlive that.
pub const LIFETIME_SECS: i64 = 300;

/// Why a token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// No token, or not `"{expiry}.{mac}"`.
    #[error("stream token missing or malformed")]
    Malformed,
    /// The expiry has passed.
    #[error("stream token expired")]
    Expired,
    /// The MAC does not match this call, caller and callee.
    #[error("stream token does not match the call")]
    Mismatch,
}

/// Issues and verifies stream tokens with one secret key. Instances that share calls (behind
/// one Twilio number) must share the key.
#[derive(Clone)]
pub struct StreamTokens {
    key: Vec<u8>,
}

impl std::fmt::Debug for StreamTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StreamTokens([redacted])")
    }
}

type HmacSha256 = Hmac<Sha256>;

impl StreamTokens {
    /// Tokens keyed with `key` (any length; at least 32 random bytes, or the Twilio auth
    /// token).
    pub fn new(key: &[u8]) -> Self {
        Self { key: key.to_vec() }
    }

    fn mac(&self, call_sid: &str, from: &str, to: &str, expiry: i64) -> HmacSha256 {
        // HMAC takes a key of any length, so this cannot fail.
        let mut mac = HmacSha256::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
        for part in [call_sid, from, to, &expiry.to_string()] {
            mac.update(part.as_bytes());
            mac.update(b"\n");
        }
        mac
    }

    /// The token for this call (`from` empty when the caller ID is withheld), valid until
    /// `now_unix + LIFETIME_SECS`.
    pub fn issue(&self, call_sid: &str, from: &str, to: &str, now_unix: i64) -> String {
        let expiry = now_unix.saturating_add(LIFETIME_SECS);
        let tag = self.mac(call_sid, from, to, expiry).finalize().into_bytes();
        format!("{expiry}.{}", URL_SAFE_NO_PAD.encode(tag))
    }

    /// Checks `token` for this call at `now_unix` (seconds), in constant time.
    ///
    /// # Errors
    /// [`TokenError`] when it is missing, malformed, expired or made for another call.
    pub fn verify(
        &self,
        token: Option<&str>,
        call_sid: &str,
        from: &str,
        to: &str,
        now_unix: i64,
    ) -> Result<(), TokenError> {
        let (expiry, tag) = token
            .and_then(|t| t.split_once('.'))
            .ok_or(TokenError::Malformed)?;
        let expiry: i64 = expiry.parse().map_err(|_| TokenError::Malformed)?;
        let tag = URL_SAFE_NO_PAD
            .decode(tag)
            .map_err(|_| TokenError::Malformed)?;
        self.mac(call_sid, from, to, expiry)
            .verify_slice(&tag)
            .map_err(|_| TokenError::Mismatch)?;
        if now_unix > expiry {
            return Err(TokenError::Expired);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SID: &str = "CA0123456789abcdef0123456789abcdef";

    #[test]
    fn a_token_opens_its_own_call_only() {
        let tokens = StreamTokens::new(b"secret key");
        let t = tokens.issue(SID, "+15555550123", "+15555550100", 1_000);
        let ok = |token: &str, from: &str, now: i64| {
            tokens.verify(Some(token), SID, from, "+15555550100", now)
        };
        assert_eq!(ok(&t, "+15555550123", 1_000), Ok(()));
        assert_eq!(ok(&t, "+15555550123", 1_300), Ok(()));
        assert_eq!(ok(&t, "+15555550123", 1_301), Err(TokenError::Expired));
        assert_eq!(ok(&t, "+15555550999", 1_000), Err(TokenError::Mismatch));
        assert_eq!(
            tokens.verify(Some(&t), "CA0000", "+15555550123", "+15555550100", 1_000),
            Err(TokenError::Mismatch)
        );
        let other_key = StreamTokens::new(b"another key");
        assert_eq!(
            other_key.verify(Some(&t), SID, "+15555550123", "+15555550100", 1_000),
            Err(TokenError::Mismatch)
        );
        // A later expiry written over the token breaks its MAC.
        let (_, tag) = t.split_once('.').unwrap();
        let stretched = format!("99999.{tag}");
        assert_eq!(
            ok(&stretched, "+15555550123", 1_000),
            Err(TokenError::Mismatch)
        );
        for bad in ["", "1000", "x.y", "1000.!!!"] {
            assert_eq!(
                ok(bad, "+15555550123", 1_000),
                Err(TokenError::Malformed),
                "{bad}"
            );
        }
        assert_eq!(
            tokens.verify(None, SID, "", "", 0),
            Err(TokenError::Malformed)
        );
    }
}
