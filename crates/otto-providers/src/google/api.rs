//! [`GoogleCalendarClient`]: the Calendar API v3 calls (`google-calendar.md` §2–5).
//!
//! Every call carries `Authorization: Bearer` from the [`TokenSource`]; on 401 the token is
//! dropped, refreshed and the call made once more. Errors become [`ProviderError::Status`]
//! with `code` = Google's `errors[0].reason` and `should_retry` set by Google's policy (§5):
//! 429, 500, 502, 503, 504, and 403 `rateLimitExceeded` / `userRateLimitExceeded` are
//! retryable; everything else is not. Calendar ids are percent-encoded in paths.

use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, Utc};
use otto_core::scheduling::Interval;
use reqwest::Method;
use secrecy::ExposeSecret;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::VENDOR;
use super::token::{TokenSource, http_client};
use super::wire::{
    ErrorEnvelope, Event, EventsPage, FreeBusyItem, FreeBusyRequest, FreeBusyResponse,
};
use crate::ProviderError;

/// The private extended property holding Otto's appointment id.
pub const APPOINTMENT_KEY: &str = "otto_appointment_id";
/// How many times a patch is re-read and re-sent after 412 `conditionNotMet`.
const PRECONDITION_ROUNDS: usize = 3;
/// Most pages read in one `events.list` sync (250 events each).
const MAX_PAGES: usize = 200;

/// A client-supplied event id for `key` (§4.2): the first 20 bytes of SHA-256(`key`) in
/// lowercase base32hex without padding, 32 characters of `[a-v0-9]`. The same key always
/// gives the same id, which makes a retried insert idempotent.
pub fn event_id_for(key: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    data_encoding::BASE32HEX_NOPAD
        .encode(&digest[..20])
        .to_ascii_lowercase()
}

/// What `events.list` answered for a sync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncPage {
    /// The events changed since the token (or all, for a full sync), including cancelled
    /// stubs, and the token for next time.
    Changes {
        /// Changed events in Google's order; deleted ones as `status: "cancelled"` stubs.
        events: Vec<Event>,
        /// The `nextSyncToken` of the last page.
        next_sync_token: String,
    },
    /// The sync token expired (410 `fullSyncRequired`): list everything again.
    FullSyncRequired,
}

/// The Calendar API client. Cheap to clone.
#[derive(Debug, Clone)]
pub struct GoogleCalendarClient {
    http: reqwest::Client,
    base: String,
    tokens: Arc<TokenSource>,
    timeout_ms: u64,
}

impl GoogleCalendarClient {
    /// A client for the API at `api_base_url` (e.g. `https://www.googleapis.com/calendar/v3`)
    /// with a `timeout_ms` deadline per request.
    ///
    /// # Errors
    /// [`ProviderError::Config`] when the HTTP client cannot be built.
    pub fn new(
        api_base_url: &str,
        tokens: Arc<TokenSource>,
        timeout_ms: u64,
    ) -> Result<Self, ProviderError> {
        Ok(Self {
            http: http_client(timeout_ms)?,
            base: api_base_url.trim().trim_end_matches('/').to_owned(),
            tokens,
            timeout_ms,
        })
    }

    /// The token source (its [`super::AuthState`] is what `/ready` reports).
    pub fn tokens(&self) -> &Arc<TokenSource> {
        &self.tokens
    }

    /// `freeBusy.query` over `calendars` for `window`: the busy periods of all of them, as
    /// UTC intervals, in Google's order (not merged).
    ///
    /// # Errors
    /// A calendar answered with `errors` (e.g. `notFound`): [`ProviderError::Status`] 200 with
    /// that reason, since an empty busy list is then no proof of free time (§3); HTTP and
    /// protocol errors as in the module docs.
    pub async fn free_busy(
        &self,
        window: &Interval,
        calendars: &[String],
    ) -> Result<Vec<Interval>, ProviderError> {
        let request = FreeBusyRequest {
            time_min: rfc3339(window.start),
            time_max: rfc3339(window.end),
            time_zone: "UTC",
            items: calendars.iter().map(|id| FreeBusyItem { id }).collect(),
        };
        let url = format!("{}/freeBusy", self.base);
        let (status, body) = self.call(Method::POST, &url, Some(&request), None).await?;
        if status != 200 {
            return Err(api_error(status, &body));
        }
        let answer: FreeBusyResponse = parse(&body)?;
        let mut busy = Vec::new();
        for id in calendars {
            let Some(cal) = answer.calendars.get(id) else {
                return Err(protocol(&format!("freeBusy answer lacks calendar {id:?}")));
            };
            if let Some(e) = cal.errors.first() {
                let reason = e.reason.clone().unwrap_or_else(|| "unknown".into());
                return Err(ProviderError::Status {
                    vendor: VENDOR,
                    status,
                    message: format!("calendar {id:?} cannot be read: {reason}"),
                    should_retry: Some(reason == "internalError"),
                    code: Some(reason),
                    retry_after: None,
                });
            }
            for p in &cal.busy {
                let start = parse_time(&p.start)?;
                let end = parse_time(&p.end)?;
                if end > start {
                    busy.push(Interval { start, end });
                }
            }
        }
        Ok(busy)
    }

    /// `events.insert` of `event` (which carries its own `id`) with `sendUpdates=none`.
    /// Idempotent: when the id exists already (409 `duplicate`, e.g. a retry after a timeout
    /// that Google had stored), the stored event is read back and returned if its
    /// `otto_appointment_id` equals `event`'s.
    ///
    /// # Errors
    /// [`ProviderError::InvalidInput`] for an event without a valid id; a 409 for an event
    /// that is not ours: [`ProviderError::Status`] 409 `duplicate`, not retryable; otherwise
    /// as in the module docs.
    pub async fn insert_event(
        &self,
        calendar: &str,
        event: &Event,
    ) -> Result<Event, ProviderError> {
        let id = event.id.as_deref().unwrap_or_default();
        if !valid_event_id(id) {
            return Err(ProviderError::InvalidInput(format!("event id {id:?}")));
        }
        let url = format!("{}?sendUpdates=none", self.events_url(calendar));
        let (status, body) = self.call(Method::POST, &url, Some(event), None).await?;
        match status {
            200 => parse(&body),
            409 => {
                let stored = self.get_event(calendar, id).await?.ok_or_else(|| {
                    protocol(&format!("event {id} is a duplicate yet cannot be read"))
                })?;
                if stored.private(APPOINTMENT_KEY) == event.private(APPOINTMENT_KEY) {
                    tracing::info!(event_id = id, "event already stored by an earlier attempt");
                    Ok(stored)
                } else {
                    Err(ProviderError::Status {
                        vendor: VENDOR,
                        status,
                        message: format!("event id {id} belongs to another event"),
                        code: Some("duplicate".into()),
                        retry_after: None,
                        should_retry: Some(false),
                    })
                }
            }
            _ => Err(api_error(status, &body)),
        }
    }

    /// `events.get`: the event (also a deleted one, with `status: "cancelled"`), or `None`
    /// on 404.
    ///
    /// # Errors
    /// As in the module docs.
    pub async fn get_event(
        &self,
        calendar: &str,
        id: &str,
    ) -> Result<Option<Event>, ProviderError> {
        let url = self.event_url(calendar, id)?;
        let (status, body) = self.call::<()>(Method::GET, &url, None, None).await?;
        match status {
            200 => parse(&body).map(Some),
            404 => Ok(None),
            _ => Err(api_error(status, &body)),
        }
    }

    /// `events.patch` of event `id` with the fields set in `patch`, conditional on the etag
    /// just read (`If-Match`); on 412 the event is read again and the patch re-sent (up to 3
    /// rounds). Send `start` and `end` whole (§4.4).
    ///
    /// # Errors
    /// [`ProviderError::Status`] 404 when the event does not exist; 412 after the last round;
    /// otherwise as in the module docs.
    pub async fn patch_event(
        &self,
        calendar: &str,
        id: &str,
        patch: &Event,
    ) -> Result<Event, ProviderError> {
        let url = format!("{}?sendUpdates=none", self.event_url(calendar, id)?);
        let mut last = None;
        for _ in 0..PRECONDITION_ROUNDS {
            let Some(current) = self.get_event(calendar, id).await? else {
                return Err(ProviderError::Status {
                    vendor: VENDOR,
                    status: 404,
                    message: format!("event {id} not found"),
                    code: Some("notFound".into()),
                    retry_after: None,
                    should_retry: Some(false),
                });
            };
            let (status, body) = self
                .call(Method::PATCH, &url, Some(patch), current.etag.as_deref())
                .await?;
            match status {
                200 => return parse(&body),
                412 => {
                    tracing::debug!(event_id = id, "event changed meanwhile; reading it again");
                    last = Some(api_error(status, &body));
                }
                _ => return Err(api_error(status, &body)),
            }
        }
        Err(last.unwrap_or_else(|| protocol("patch rounds exhausted")))
    }

    /// `events.delete` with `sendUpdates=none`. Idempotent: 404 (no such event) and 410
    /// (already deleted) count as done (§4.5).
    ///
    /// # Errors
    /// As in the module docs.
    pub async fn delete_event(&self, calendar: &str, id: &str) -> Result<(), ProviderError> {
        let url = format!("{}?sendUpdates=none", self.event_url(calendar, id)?);
        let (status, body) = self.call::<()>(Method::DELETE, &url, None, None).await?;
        match status {
            200 | 204 | 404 | 410 => Ok(()),
            _ => Err(api_error(status, &body)),
        }
    }

    /// `events.list`, every page: with `sync_token` the changes since then; without, a full
    /// list of events ending after `full_from` (with `showDeleted=false`). Pages with no items
    /// but a `nextPageToken` are followed (§4.6).
    ///
    /// # Errors
    /// As in the module docs; a stale token is [`SyncPage::FullSyncRequired`], not an error.
    pub async fn sync_events(
        &self,
        calendar: &str,
        sync_token: Option<&str>,
        full_from: DateTime<Utc>,
    ) -> Result<SyncPage, ProviderError> {
        let mut events = Vec::new();
        let mut page_token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let query = {
                let mut q = form_urlencoded::Serializer::new(String::new());
                q.append_pair("maxResults", "250");
                match sync_token {
                    Some(t) => q.append_pair("syncToken", t),
                    None => q.append_pair("timeMin", &rfc3339(full_from)),
                };
                if let Some(p) = &page_token {
                    q.append_pair("pageToken", p);
                }
                q.finish()
            };
            let url = format!("{}?{query}", self.events_url(calendar));
            let (status, body) = self.call::<()>(Method::GET, &url, None, None).await?;
            if status == 410 && sync_token.is_some() {
                return Ok(SyncPage::FullSyncRequired);
            }
            if status != 200 {
                return Err(api_error(status, &body));
            }
            let page: EventsPage = parse(&body)?;
            events.extend(page.items);
            match (page.next_page_token, page.next_sync_token) {
                (Some(next), _) => page_token = Some(next),
                (None, Some(next_sync_token)) => {
                    return Ok(SyncPage::Changes {
                        events,
                        next_sync_token,
                    });
                }
                (None, None) => {
                    return Err(protocol(
                        "events page has neither nextPageToken nor nextSyncToken",
                    ));
                }
            }
        }
        Err(protocol("events.list gave more than 200 pages"))
    }

    fn events_url(&self, calendar: &str) -> String {
        format!("{}/calendars/{}/events", self.base, encode_path(calendar))
    }

    fn event_url(&self, calendar: &str, id: &str) -> Result<String, ProviderError> {
        if !valid_event_id(id) {
            return Err(ProviderError::InvalidInput(format!("event id {id:?}")));
        }
        Ok(format!("{}/{id}", self.events_url(calendar)))
    }

    /// Sends one request with the bearer token; on 401 refreshes the token and sends once more.
    async fn call<B: Serialize + ?Sized>(
        &self,
        method: Method,
        url: &str,
        body: Option<&B>,
        if_match: Option<&str>,
    ) -> Result<(u16, bytes::Bytes), ProviderError> {
        let map = |e: reqwest::Error| ProviderError::from_reqwest(VENDOR, &e, self.timeout_ms);
        let mut round = 0;
        loop {
            let token = self.tokens.access_token().await?;
            let mut request = self
                .http
                .request(method.clone(), url)
                .bearer_auth(token.expose_secret());
            if let Some(b) = body {
                request = request.json(b);
            }
            if let Some(etag) = if_match {
                request = request.header("If-Match", etag);
            }
            let response = request.send().await.map_err(map)?;
            let status = response.status().as_u16();
            let bytes = response.bytes().await.map_err(map)?;
            tracing::debug!(%method, status, bytes = bytes.len(), "google calendar answered");
            if status == 401 && round == 0 {
                self.tokens.invalidate().await;
                round += 1;
                continue;
            }
            return Ok((status, bytes));
        }
    }
}

/// Whether `id` is a valid client-supplied event id: `^[a-v0-9]{5,1024}$` (§4.2).
pub fn valid_event_id(id: &str) -> bool {
    (5..=1024).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'v').contains(&b))
}

/// `t` as RFC 3339 in UTC with a `Z`, whole seconds.
pub(crate) fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// An RFC 3339 time with any offset, as UTC.
pub(crate) fn parse_time(s: &str) -> Result<DateTime<Utc>, ProviderError> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| protocol(&format!("time {s:?}: {e}")))
}

/// `s` percent-encoded for one path segment (`@` → `%40`, `#` → `%23`, …).
fn encode_path(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn protocol(message: &str) -> ProviderError {
    ProviderError::Protocol {
        vendor: VENDOR,
        message: message.to_owned(),
        transient: false,
    }
}

fn parse<T: for<'de> serde::Deserialize<'de>>(body: &[u8]) -> Result<T, ProviderError> {
    serde_json::from_slice(body).map_err(|e| protocol(&format!("unexpected JSON: {e}")))
}

/// Google's error JSON (§5) as a [`ProviderError::Status`] with Google's retry policy.
fn api_error(status: u16, body: &[u8]) -> ProviderError {
    let parsed: Option<ErrorEnvelope> = serde_json::from_slice(body).ok();
    let (reason, message) = match parsed {
        Some(e) => {
            let first = e.error.errors.into_iter().next().unwrap_or_default();
            let message = e.error.message.or(first.message).unwrap_or_default();
            (first.reason, message)
        }
        None => (None, format!("HTTP {status} without Google's error JSON")),
    };
    let rate_limited = matches!(
        reason.as_deref(),
        Some("rateLimitExceeded" | "userRateLimitExceeded")
    );
    let retryable =
        matches!(status, 429 | 500 | 502 | 503 | 504) || (status == 403 && rate_limited);
    ProviderError::Status {
        vendor: VENDOR,
        status,
        message,
        code: reason,
        retry_after: None,
        should_retry: Some(retryable),
    }
}

/// Whether `e` is Google's rate limiting (429, or 403 `rateLimitExceeded`).
pub fn is_rate_limit(e: &ProviderError) -> bool {
    matches!(e, ProviderError::Status { status: 429, .. })
        || matches!(e, ProviderError::Status { status: 403, code: Some(c), .. }
            if c == "rateLimitExceeded" || c == "userRateLimitExceeded")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_ids_follow_the_recipe_and_the_alphabet() {
        // (The fixture's example id is invented, so only the shape is checked.)
        let id = event_id_for("BK-20250311-0042");
        assert_eq!(id.len(), 32);
        assert_eq!(id, event_id_for("BK-20250311-0042"), "deterministic");
        assert_ne!(id, event_id_for("BK-20250311-0043"));
        assert!(valid_event_id("tdm6rs6t2eogoj33o297orm8sgjgibgv"));
        assert!(valid_event_id(&event_id_for("otto:1:0")));
        assert!(!valid_event_id("abcw1"));
        assert!(!valid_event_id("ABCDE"));
        assert!(!valid_event_id("abc"));
    }

    #[test]
    fn calendar_ids_are_percent_encoded() {
        assert_eq!(
            encode_path("frontdesk@example-garage.com"),
            "frontdesk%40example-garage.com"
        );
        assert_eq!(encode_path("a#b/c"), "a%23b%2Fc");
    }

    #[test]
    fn google_errors_follow_the_retry_policy() {
        let body = |name: &str| {
            std::fs::read(format!(
                "{}/../../../shared/protocols/fixtures/{name}",
                env!("CARGO_MANIFEST_DIR")
            ))
            .expect("fixture")
        };
        for (status, name, retry) in [
            (403, "google-error-403-rate-limit.json", true),
            (403, "google-error-403-user-rate-limit.json", true),
            (403, "google-error-403-forbidden.json", false),
            (429, "google-error-429.json", true),
            (500, "google-error-500.json", true),
            (400, "google-error-400-time-range-empty.json", false),
            (404, "google-error-404.json", false),
        ] {
            let e = api_error(status, &body(name));
            assert_eq!(e.retryable(), retry, "{name}");
        }
        let e = api_error(403, &body("google-error-403-rate-limit.json"));
        assert!(is_rate_limit(&e));
        assert!(
            matches!(e, ProviderError::Status { code: Some(ref c), .. } if c == "rateLimitExceeded")
        );
    }
}
