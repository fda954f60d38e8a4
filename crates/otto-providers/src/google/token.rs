//! [`TokenSource`]: OAuth 2.0 access tokens for the Calendar API from the refresh-token grant
//! (`google-calendar.md` §1.1), and the consent-code exchange `otto calendar connect` uses.
//!
//! The access token is cached until 60 s before its `expires_in`; [`TokenSource::invalidate`]
//! drops it after a 401 so the next call refreshes once. `invalid_grant` (the refresh token was
//! revoked or expired) is not retryable: the state becomes [`AuthState::Reauthorise`] (what
//! `/ready` reports), and the token endpoint is not asked again for 60 s so that slot queries
//! keep their deadline. Tokens and the client secret are [`SecretString`]s, never logged.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};

use super::VENDOR;
use super::wire::{TokenError, TokenResponse};
use crate::ProviderError;

/// Refresh this long before the access token expires.
const EXPIRY_MARGIN: Duration = Duration::from_secs(60);
/// After `invalid_grant`, the token endpoint is asked again only after this pause.
const DEAD_GRANT_PAUSE: Duration = Duration::from_secs(60);

/// Whether Otto can act on the owner's calendar, as `/ready` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthState {
    /// No token asked for yet.
    Unknown,
    /// The last token request succeeded.
    Authorised,
    /// The refresh token is dead (`invalid_grant`): the owner must run
    /// `otto calendar connect` again. Carries Google's `error_description`.
    Reauthorise(String),
    /// The last token request failed otherwise (network, 5xx, `invalid_client`).
    Failing(String),
}

struct Cached {
    token: SecretString,
    refresh_at: Instant,
}

/// Access tokens for one OAuth client and refresh token. Share it behind an `Arc`.
pub struct TokenSource {
    http: reqwest::Client,
    token_url: String,
    client_id: String,
    client_secret: SecretString,
    refresh_token: SecretString,
    timeout_ms: u64,
    cached: tokio::sync::Mutex<Option<Cached>>,
    state: Mutex<(AuthState, Option<Instant>)>,
}

impl std::fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSource")
            .field("token_url", &self.token_url)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl TokenSource {
    /// A source for `client_id`/`client_secret` and the owner's `refresh_token`, asking
    /// `token_url` with a `timeout_ms` deadline.
    ///
    /// # Errors
    /// [`ProviderError::Config`] when the HTTP client cannot be built.
    pub fn new(
        token_url: &str,
        client_id: &str,
        client_secret: SecretString,
        refresh_token: SecretString,
        timeout_ms: u64,
    ) -> Result<Self, ProviderError> {
        Ok(Self {
            http: http_client(timeout_ms)?,
            token_url: token_url.trim().to_owned(),
            client_id: client_id.trim().to_owned(),
            client_secret,
            refresh_token,
            timeout_ms,
            cached: tokio::sync::Mutex::new(None),
            state: Mutex::new((AuthState::Unknown, None)),
        })
    }

    /// The authorisation state after the last token request.
    pub fn state(&self) -> AuthState {
        self.lock_state().0.clone()
    }

    /// A valid access token: the cached one, or a fresh one from the refresh-token grant.
    ///
    /// # Errors
    /// [`ProviderError::Status`] with `code` `invalid_grant` (not retryable; the state becomes
    /// [`AuthState::Reauthorise`]) or another OAuth error code; timeouts and transport errors
    /// (retryable); [`ProviderError::Protocol`] for an answer that is not the documented JSON.
    pub async fn access_token(&self) -> Result<SecretString, ProviderError> {
        let mut cached = self.cached.lock().await;
        if let Some(c) = cached.as_ref().filter(|c| Instant::now() < c.refresh_at) {
            return Ok(c.token.clone());
        }
        if let (AuthState::Reauthorise(reason), Some(until)) = &*self.lock_state()
            && Instant::now() < *until
        {
            return Err(invalid_grant(reason));
        }
        let form = [
            ("client_id", self.client_id.as_str()),
            ("client_secret", self.client_secret.expose_secret()),
            ("refresh_token", self.refresh_token.expose_secret()),
            ("grant_type", "refresh_token"),
        ];
        let answer = match self.post_form(&form).await {
            Ok(a) => a,
            Err(e) => {
                self.record_failure(&e);
                return Err(e);
            }
        };
        let lifetime = Duration::from_secs(answer.expires_in);
        let token = SecretString::from(answer.access_token);
        *cached = Some(Cached {
            token: token.clone(),
            refresh_at: Instant::now() + lifetime.saturating_sub(EXPIRY_MARGIN),
        });
        *self.lock_state() = (AuthState::Authorised, None);
        Ok(token)
    }

    /// Drops the cached access token (Google answered 401), so the next call refreshes.
    pub async fn invalidate(&self) {
        *self.cached.lock().await = None;
    }

    /// Exchanges a consent `code` (from the page [`consent_url`] leads to) for tokens and
    /// returns the refresh token (`grant_type=authorization_code`).
    ///
    /// # Errors
    /// As [`Self::access_token`]; [`ProviderError::Protocol`] when Google sent no
    /// `refresh_token` (consent given earlier without `prompt=consent`).
    pub async fn exchange_code(
        token_url: &str,
        client_id: &str,
        client_secret: &SecretString,
        code: &str,
        redirect_uri: &str,
        timeout_ms: u64,
    ) -> Result<SecretString, ProviderError> {
        let source = Self::new(
            token_url,
            client_id,
            client_secret.clone(),
            SecretString::from(String::new()),
            timeout_ms,
        )?;
        let form = [
            ("client_id", client_id.trim()),
            ("client_secret", client_secret.expose_secret()),
            ("code", code.trim()),
            ("redirect_uri", redirect_uri),
            ("grant_type", "authorization_code"),
        ];
        let answer = source.post_form(&form).await?;
        answer
            .refresh_token
            .map(SecretString::from)
            .ok_or_else(|| ProviderError::Protocol {
                vendor: VENDOR,
                message: "the token answer has no refresh_token; revoke Otto's access in the \
                          Google account and connect again"
                    .into(),
                transient: false,
            })
    }

    async fn post_form(&self, form: &[(&str, &str)]) -> Result<TokenResponse, ProviderError> {
        let map = |e: reqwest::Error| ProviderError::from_reqwest(VENDOR, &e, self.timeout_ms);
        let response = self
            .http
            .post(&self.token_url)
            .form(form)
            .send()
            .await
            .map_err(map)?;
        let status = response.status().as_u16();
        let body = response.bytes().await.map_err(map)?;
        if status == 200 {
            let answer: TokenResponse =
                serde_json::from_slice(&body).map_err(|e| ProviderError::Protocol {
                    vendor: VENDOR,
                    message: format!("token answer: {e}"),
                    transient: false,
                })?;
            if answer.access_token.is_empty() || answer.expires_in == 0 {
                return Err(ProviderError::Protocol {
                    vendor: VENDOR,
                    message: "token answer without access_token or expires_in".into(),
                    transient: false,
                });
            }
            return Ok(answer);
        }
        let parsed: Option<TokenError> = serde_json::from_slice(&body).ok();
        let (code, message) = match parsed {
            Some(e) => (Some(e.error), e.error_description.unwrap_or_default()),
            None => (None, format!("token endpoint answered HTTP {status}")),
        };
        Err(ProviderError::Status {
            vendor: VENDOR,
            status,
            message,
            should_retry: Some(status >= 500 || status == 429),
            code,
            retry_after: None,
        })
    }

    fn record_failure(&self, e: &ProviderError) {
        let mut state = self.lock_state();
        match e {
            ProviderError::Status { code, message, .. }
                if code.as_deref() == Some("invalid_grant") =>
            {
                tracing::error!(
                    reason = %message,
                    "google calendar: the refresh token is expired or revoked; \
                     run `otto calendar connect` again"
                );
                *state = (
                    AuthState::Reauthorise(message.clone()),
                    Some(Instant::now() + DEAD_GRANT_PAUSE),
                );
            }
            other => {
                tracing::warn!(error = %other, "google calendar: token refresh failed");
                *state = (AuthState::Failing(other.to_string()), None);
            }
        }
    }

    fn lock_state(&self) -> std::sync::MutexGuard<'_, (AuthState, Option<Instant>)> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The consent page URL for `client_id` (`access_type=offline`, `prompt=consent` so Google
/// returns a refresh token) with the `calendar.events` and `calendar.readonly` scopes.
pub fn consent_url(auth_url: &str, client_id: &str, redirect_uri: &str) -> String {
    let query: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("client_id", client_id.trim())
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("response_type", "code")
        .append_pair("scope", SCOPES)
        .append_pair("access_type", "offline")
        .append_pair("prompt", "consent")
        .finish();
    format!("{}?{query}", auth_url.trim())
}

/// The scopes Otto asks for: events read/write, and read access for freeBusy (§1.2).
pub const SCOPES: &str = "https://www.googleapis.com/auth/calendar.events https://www.googleapis.com/auth/calendar.readonly";

fn invalid_grant(reason: &str) -> ProviderError {
    ProviderError::Status {
        vendor: VENDOR,
        status: 400,
        message: reason.to_owned(),
        code: Some("invalid_grant".into()),
        retry_after: None,
        should_retry: Some(false),
    }
}

/// An HTTP client with a whole-request deadline of `timeout_ms`.
pub(crate) fn http_client(timeout_ms: u64) -> Result<reqwest::Client, ProviderError> {
    reqwest::Client::builder()
        .timeout(Duration::from_millis(timeout_ms.max(1)))
        .build()
        .map_err(|e| ProviderError::Config(format!("google: HTTP client: {e}")))
}
