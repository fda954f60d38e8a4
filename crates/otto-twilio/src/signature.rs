//! `X-Twilio-Signature`: validating Twilio's webhook signatures and signing requests the way
//! Twilio does (`shared/protocols/twilio.md` §b, after twilio-python's `RequestValidator`).
//!
//! The signed string is the full URL Twilio requested (scheme, host, optional port, path,
//! query) followed, for form POSTs, by every parameter as `name` + `value`, sorted by name in
//! byte order, repeated names once per value with values sorted (§b.1). The signature is
//! base64(HMAC-SHA1(auth token, string)). Because Twilio is inconsistent about ports, a
//! validator accepts the signature of the URL without a port or with the port (the explicit
//! one, else the scheme default :443/:80) (§b.2). WebSocket upgrades are signed over the
//! `wss://` URL with no parameters. JSON bodies use the `bodySHA256` variant (§b.3).
//! Comparison is constant-time ([`hmac::Mac::verify_slice`]).

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha1::Sha1;
use sha2::{Digest, Sha256};

use crate::TwilioError;

/// The HTTP header carrying the signature.
pub const SIGNATURE_HEADER: &str = "X-Twilio-Signature";

type HmacSha1 = Hmac<Sha1>;

/// The signature Twilio would send for a request to `url` with form `params` (pass `&[]` for
/// GET requests, WebSocket upgrades and JSON bodies), signed with `auth_token`: base64 of
/// HMAC-SHA1 over the §b.1 string. The URL is signed exactly as given.
pub fn sign(auth_token: &SecretString, url: &str, params: &[(String, String)]) -> String {
    BASE64.encode(mac(auth_token, url, params).finalize().into_bytes())
}

fn mac(auth_token: &SecretString, url: &str, params: &[(String, String)]) -> HmacSha1 {
    let mut mac = HmacSha1::new_from_slice(auth_token.expose_secret().as_bytes())
        .expect("HMAC-SHA1 accepts keys of any length");
    mac.update(url.as_bytes());
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    mac
}

/// Checks `X-Twilio-Signature` headers against one or more auth tokens (the primary, and the
/// secondary during token rotation).
#[derive(Clone)]
pub struct SignatureValidator {
    auth_tokens: Vec<SecretString>,
}

impl std::fmt::Debug for SignatureValidator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignatureValidator")
            .field("auth_tokens", &self.auth_tokens.len())
            .finish()
    }
}

impl SignatureValidator {
    /// A validator for the account's primary auth token.
    pub fn new(auth_token: SecretString) -> Self {
        Self {
            auth_tokens: vec![auth_token],
        }
    }

    /// Also accepts signatures made with `secondary` (during auth token rotation).
    pub fn with_secondary(mut self, secondary: SecretString) -> Self {
        self.auth_tokens.push(secondary);
        self
    }

    /// Validates a form-encoded webhook (§b.1–b.2): `url` is the public URL Twilio requested
    /// (behind a proxy, rebuilt from the configured public URL), `params` the decoded body
    /// (see [`crate::webhook::parse_form`]), `header` the `X-Twilio-Signature` value.
    /// For a WebSocket upgrade pass the `wss://` URL and no params.
    ///
    /// # Errors
    /// [`TwilioError::BadSignature`] when the header is missing (`None`), not base64, or
    /// matches no URL variant under any token.
    pub fn validate_form(
        &self,
        url: &str,
        params: &[(String, String)],
        header: Option<&str>,
    ) -> Result<(), TwilioError> {
        let expected = decode_header(header)?;
        let matches = url_variants(url).iter().any(|u| {
            self.auth_tokens
                .iter()
                .any(|t| mac(t, u, params).verify_slice(&expected).is_ok())
        });
        if matches {
            Ok(())
        } else {
            Err(TwilioError::BadSignature)
        }
    }

    /// Validates a JSON-body request (§b.3): the URL must carry `bodySHA256=<lowercase hex
    /// SHA-256 of body>` matching `body`, and the signature covers the URL alone.
    ///
    /// # Errors
    /// [`TwilioError::BadSignature`] when `bodySHA256` is absent or differs from the body's
    /// hash, or the signature does not match.
    pub fn validate_json(
        &self,
        url: &str,
        body: &[u8],
        header: Option<&str>,
    ) -> Result<(), TwilioError> {
        let claimed = url
            .split_once('?')
            .map(|(_, q)| q)
            .unwrap_or("")
            .split('&')
            .find_map(|kv| kv.strip_prefix("bodySHA256="))
            .ok_or(TwilioError::BadSignature)?;
        let actual: String = Sha256::digest(body)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        // Not secret: the hash is in the URL; only the HMAC needs constant time.
        if !claimed.eq_ignore_ascii_case(&actual) {
            return Err(TwilioError::BadSignature);
        }
        self.validate_form(url, &[], header)
    }
}

fn decode_header(header: Option<&str>) -> Result<Vec<u8>, TwilioError> {
    let header = header.ok_or(TwilioError::BadSignature)?;
    BASE64
        .decode(header.trim())
        .map_err(|_| TwilioError::BadSignature)
}

/// The URL without its port and with its port (explicit, else the scheme's default), as
/// twilio-python's `remove_port` / `add_port` (§b.2). A URL without `scheme://` or with an
/// unknown scheme and no port is returned alone.
fn url_variants(url: &str) -> Vec<String> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return vec![url.to_string()];
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (format!("{u}@"), h),
        None => (String::new(), authority),
    };
    // The port is the digits after the last ':' that is not inside an IPv6 literal.
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) if !p.contains(']') && p.bytes().all(|b| b.is_ascii_digit()) => (h, Some(p)),
        _ => (hostport, None),
    };
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "https" | "wss" => Some("443"),
        "http" | "ws" => Some("80"),
        _ => None,
    };
    let without = format!("{scheme}://{userinfo}{host}{tail}");
    match port.or(default_port) {
        Some(p) if !p.is_empty() => vec![without, format!("{scheme}://{userinfo}{host}:{p}{tail}")],
        _ => vec![without],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_variants_follow_the_port_rule() {
        assert_eq!(
            url_variants("https://h.com/p?q=1"),
            ["https://h.com/p?q=1", "https://h.com:443/p?q=1"]
        );
        assert_eq!(
            url_variants("http://h.com:1234/p"),
            ["http://h.com/p", "http://h.com:1234/p"]
        );
        assert_eq!(
            url_variants("wss://h.com/twilio/media"),
            ["wss://h.com/twilio/media", "wss://h.com:443/twilio/media"]
        );
        assert_eq!(
            url_variants("http://[::1]:8080/x"),
            ["http://[::1]/x", "http://[::1]:8080/x"]
        );
        assert_eq!(
            url_variants("https://h.com"),
            ["https://h.com", "https://h.com:443"]
        );
        assert_eq!(url_variants("not a url"), ["not a url"]);
    }
}
