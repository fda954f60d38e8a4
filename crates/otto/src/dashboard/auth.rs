//! Staff sign-in: argon2id password hashes, session cookies, CSRF tokens and login rate limits.
//!
//! - **Passwords** are hashed with argon2id (the `argon2` crate's defaults: 19 MiB, 2 passes,
//!   a 16-byte random salt) into a PHC string; only the hash is stored.
//! - **Sessions.** Signing in sets the cookie `otto_session` to 32 random bytes (base64url);
//!   the database keeps only their SHA-256, so a leaked database opens no session. The cookie
//!   is `HttpOnly`, `SameSite=Strict`, `Path=/`, `Secure` when `server.public_url` is https,
//!   and lives [`SESSION_HOURS`].
//! - **CSRF.** Each session has a random token that every form carries as the field `csrf`;
//!   a post without it (or with another) is refused with 403. The login form, before any
//!   session, uses a double-submit cookie (`otto_login`) instead.
//! - **Rate limits** on sign-in attempts (GCRA, `governor`): [`LOGIN_PER_IP_PER_MIN`] per
//!   client address and [`LOGIN_PER_ACCOUNT_PER_MIN`] per account name; over the limit the
//!   answer is 429 without checking the password.
//!
//! Unauthenticated requests get a redirect to `/login` (GET) or 401 (anything else).

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use cookie::{Cookie, SameSite};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use otto_core::records::StaffRole;
use otto_store::StaffSession;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::server::AppState;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "otto_session";
/// The login form's double-submit CSRF cookie.
pub const LOGIN_COOKIE: &str = "otto_login";
/// How long a session lasts, hours.
pub const SESSION_HOURS: i64 = 12;
/// Sign-in attempts allowed per client address per minute.
pub const LOGIN_PER_IP_PER_MIN: u32 = 10;
/// Sign-in attempts allowed per account name per minute.
pub const LOGIN_PER_ACCOUNT_PER_MIN: u32 = 5;
/// Shortest password accepted, characters.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Longest password accepted, bytes (argon2 takes any length; this bounds the work).
pub const MAX_PASSWORD_BYTES: usize = 256;

/// Why a password cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PasswordError {
    #[error("a password needs at least {MIN_PASSWORD_CHARS} characters")]
    TooShort,
    #[error("a password may be at most {MAX_PASSWORD_BYTES} bytes")]
    TooLong,
    #[error("could not hash the password: {0}")]
    Hash(String),
}

/// Hashes `password` with argon2id and a fresh random salt, as a PHC string.
///
/// # Errors
/// [`PasswordError`] for a password outside the length limits.
pub fn hash_password(password: &str) -> Result<String, PasswordError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(PasswordError::TooShort);
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(PasswordError::TooLong);
    }
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>())
        .map_err(|e| PasswordError::Hash(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Hash(e.to_string()))
}

/// Whether `password` matches the PHC string `hash` (false for a hash that does not parse).
pub fn verify_password(password: &str, hash: &str) -> bool {
    if password.len() > MAX_PASSWORD_BYTES {
        return false;
    }
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// A random token: `bytes` random bytes, base64url without padding.
pub fn random_token(bytes: usize) -> String {
    let raw: Vec<u8> = (0..bytes).map(|_| rand::random::<u8>()).collect();
    URL_SAFE_NO_PAD.encode(raw)
}

/// The hex SHA-256 of a session token, as the database keys sessions.
pub fn token_hash(token: &str) -> String {
    format!("{:x}", Sha256::digest(token.as_bytes()))
}

/// Whether two tokens are equal, in constant time.
pub fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie_value(parts_headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    parts_headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_string())
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, Path=/, Secure when `secure`; removes the
/// cookie when `value` is `None`.
pub fn set_cookie(name: &str, value: Option<&str>, max_age_secs: i64, secure: bool) -> String {
    let mut c = Cookie::build((name.to_string(), value.unwrap_or("").to_string()))
        .http_only(true)
        .same_site(SameSite::Strict)
        .path("/")
        .secure(secure)
        .max_age(cookie::time::Duration::seconds(if value.is_some() {
            max_age_secs
        } else {
            0
        }))
        .build();
    if value.is_none() {
        c.make_removal();
    }
    c.to_string()
}

/// Sign-in attempt limits.
pub struct LoginLimits {
    per_ip: DefaultKeyedRateLimiter<IpAddr>,
    per_account: DefaultKeyedRateLimiter<String>,
}

impl Default for LoginLimits {
    fn default() -> Self {
        let per_min = |n: u32| Quota::per_minute(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN));
        Self {
            per_ip: RateLimiter::keyed(per_min(LOGIN_PER_IP_PER_MIN)),
            per_account: RateLimiter::keyed(per_min(LOGIN_PER_ACCOUNT_PER_MIN)),
        }
    }
}

impl LoginLimits {
    /// Counts an attempt from `ip` for `account`; false when either is over its limit.
    pub fn allow(&self, ip: IpAddr, account: &str) -> bool {
        // Both are counted, so a flood on one account also spends the address's budget.
        let ip_ok = self.per_ip.check_key(&ip).is_ok();
        let account_ok = self
            .per_account
            .check_key(&account.to_ascii_lowercase())
            .is_ok();
        self.per_ip.retain_recent();
        self.per_account.retain_recent();
        ip_ok && account_ok
    }
}

/// A signed-in staff member: the extractor every dashboard route takes.
#[derive(Debug, Clone)]
pub struct Staff {
    pub session: StaffSession,
    /// SHA-256 of the session token (for signing out).
    pub token_hash: String,
}

impl Staff {
    /// The staff member's name.
    pub fn name(&self) -> &str {
        &self.session.member.name
    }

    /// Whether this is an owner.
    pub fn is_owner(&self) -> bool {
        self.session.member.role == StaffRole::Owner
    }

    /// Checks a form's CSRF token against the session's.
    ///
    /// # Errors
    /// [`AuthError::Csrf`] when it differs.
    pub fn check_csrf(&self, token: &str) -> Result<(), AuthError> {
        if same_token(token, &self.session.csrf) {
            Ok(())
        } else {
            Err(AuthError::Csrf)
        }
    }

    /// Checks the staff member is an owner.
    ///
    /// # Errors
    /// [`AuthError::OwnerOnly`] otherwise.
    pub fn owner(&self) -> Result<(), AuthError> {
        if self.is_owner() {
            Ok(())
        } else {
            Err(AuthError::OwnerOnly)
        }
    }
}

/// Why a dashboard request was refused.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// No valid session: a GET is redirected to the login page (back to `next` after).
    #[error("sign in first")]
    SignIn { get: bool, next: String },
    /// A form without this session's CSRF token.
    #[error("this form has expired or did not come from Otto; reload the page and try again")]
    Csrf,
    /// An owner-only action by another role.
    #[error("only an owner can do this")]
    OwnerOnly,
    /// The sessions table could not be read.
    #[error("internal error")]
    Store,
}

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        match self {
            Self::SignIn { get: true, next } => {
                let next: String = form_urlencoded::byte_serialize(next.as_bytes()).collect();
                Redirect::to(&format!("/login?next={next}")).into_response()
            }
            Self::SignIn { get: false, .. } => {
                (StatusCode::UNAUTHORIZED, self.to_string()).into_response()
            }
            Self::Csrf | Self::OwnerOnly => {
                (StatusCode::FORBIDDEN, self.to_string()).into_response()
            }
            Self::Store => (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response(),
        }
    }
}

impl FromRequestParts<Arc<AppState>> for Staff {
    type Rejection = AuthError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let sign_in = || AuthError::SignIn {
            get: parts.method == Method::GET,
            next: parts
                .uri
                .path_and_query()
                .map_or("/", |p| p.as_str())
                .to_string(),
        };
        let Some(token) = cookie_value(&parts.headers, SESSION_COOKIE) else {
            return Err(sign_in());
        };
        let hash = token_hash(&token);
        match state
            .calls
            .shop
            .store()
            .staff_session(&hash, Utc::now())
            .await
        {
            Ok(Some(session)) => Ok(Self {
                session,
                token_hash: hash,
            }),
            Ok(None) => Err(sign_in()),
            Err(e) => {
                tracing::error!(error = %e, "cannot read staff sessions");
                Err(AuthError::Store)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_and_verify() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("correct horse batterY", &h));
        assert!(!verify_password("x", "not a phc string"));
        assert_ne!(h, hash_password("correct horse battery").unwrap(), "salted");
        assert_eq!(hash_password("short"), Err(PasswordError::TooShort));
        assert_eq!(
            hash_password(&"x".repeat(MAX_PASSWORD_BYTES + 1)),
            Err(PasswordError::TooLong)
        );
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let a = random_token(32);
        assert_eq!(a.len(), 43);
        assert_ne!(a, random_token(32));
        assert_eq!(token_hash("abc").len(), 64);
        assert!(same_token(&a, &a.clone()));
        assert!(!same_token(&a, &random_token(32)));
        assert!(!same_token("a", "ab"));
    }

    #[test]
    fn cookies_are_strict_and_http_only() {
        let c = set_cookie(SESSION_COOKIE, Some("tok"), 60, true);
        for part in [
            "otto_session=tok",
            "HttpOnly",
            "SameSite=Strict",
            "Path=/",
            "Secure",
        ] {
            assert!(c.contains(part), "{c}");
        }
        assert!(!set_cookie(SESSION_COOKIE, Some("t"), 60, false).contains("Secure"));
        assert!(set_cookie(SESSION_COOKIE, None, 60, false).contains("Max-Age=0"));
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(header::COOKIE, "a=1; otto_session=xyz".parse().unwrap());
        assert_eq!(
            cookie_value(&headers, SESSION_COOKIE).as_deref(),
            Some("xyz")
        );
        assert_eq!(cookie_value(&headers, "b"), None);
    }

    #[test]
    fn login_attempts_are_limited_per_account_and_address() {
        let limits = LoginLimits::default();
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let allowed = (0..20).filter(|_| limits.allow(ip, "otto")).count();
        assert_eq!(allowed, LOGIN_PER_ACCOUNT_PER_MIN as usize);
        // Another account from another address is not held back by that.
        assert!(limits.allow("10.0.0.2".parse().unwrap(), "desk"));
        // The first address is over its own limit now, whatever the account.
        let other = (0..20)
            .filter(|i| limits.allow(ip, &format!("user{i}")))
            .count();
        assert_eq!(other, 0);
    }
}
