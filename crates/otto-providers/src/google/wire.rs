//! The JSON of the Calendar API as Otto sends and reads it (`google-calendar.md` §3–4).
//! Optional fields are skipped when `None`; unknown fields in answers are ignored.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `EventDateTime`: `dateTime` (RFC 3339 with offset) with an IANA `timeZone`, or an all-day
/// `date` (`YYYY-MM-DD`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventDateTime {
    /// E.g. `2025-03-11T09:00:00-05:00`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date_time: Option<String>,
    /// E.g. `America/New_York`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// All-day events only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
}

/// `extendedProperties`: string maps; Otto keeps its appointment id in `private`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ExtendedProperties {
    /// Visible only on this calendar's copy.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub private: BTreeMap<String, String>,
    /// Visible to every attendee.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub shared: BTreeMap<String, String>,
}

/// An `Event` resource, the fields Otto writes or reads. In patches only the fields set are
/// sent.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    /// Base32hex, 5..=1024 characters (§4.2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `confirmed`, `tentative` or `cancelled`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Quoted version tag, for `If-Match` (read-only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// Title.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Free text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Free text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Start (inclusive).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<EventDateTime>,
    /// End (exclusive).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end: Option<EventDateTime>,
    /// `opaque` (busy) or `transparent` (not busy in freeBusy).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transparency: Option<String>,
    /// Otto's keys (`otto_appointment_id`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extended_properties: Option<ExtendedProperties>,
    /// Last modification time, RFC 3339 (read-only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated: Option<String>,
}

impl Event {
    /// The value of private extended property `key`, if any.
    pub fn private(&self, key: &str) -> Option<&str> {
        self.extended_properties
            .as_ref()
            .and_then(|p| p.private.get(key))
            .map(String::as_str)
    }
}

/// One page of `events.list` (`Events`): exactly one of the tokens is present.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct EventsPage {
    #[serde(default)]
    pub items: Vec<Event>,
    #[serde(default)]
    pub next_page_token: Option<String>,
    #[serde(default)]
    pub next_sync_token: Option<String>,
}

/// `FreeBusyRequest` (§3).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FreeBusyRequest<'a> {
    pub time_min: String,
    pub time_max: String,
    pub time_zone: &'a str,
    pub items: Vec<FreeBusyItem<'a>>,
}

/// One calendar of a [`FreeBusyRequest`].
#[derive(Debug, Serialize)]
pub(crate) struct FreeBusyItem<'a> {
    pub id: &'a str,
}

/// `FreeBusyResponse` (§3): calendars by requested id.
#[derive(Debug, Deserialize)]
pub(crate) struct FreeBusyResponse {
    #[serde(default)]
    pub calendars: BTreeMap<String, FreeBusyCalendar>,
}

/// One calendar's busy periods, or its errors.
#[derive(Debug, Deserialize)]
pub(crate) struct FreeBusyCalendar {
    #[serde(default)]
    pub busy: Vec<TimePeriod>,
    #[serde(default)]
    pub errors: Vec<ErrorItem>,
}

/// `TimePeriod`: `[start, end)` in RFC 3339.
#[derive(Debug, Deserialize)]
pub(crate) struct TimePeriod {
    pub start: String,
    pub end: String,
}

/// One item of `error.errors` (§5), or of a freeBusy calendar's `errors`.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct ErrorItem {
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
}

/// The Calendar error envelope `{"error": {"errors": [...], "code", "message"}}` (§5).
#[derive(Debug, Deserialize)]
pub(crate) struct ErrorEnvelope {
    pub error: ErrorBody,
}

/// The inside of [`ErrorEnvelope`]; `errors` may be missing.
#[derive(Debug, Deserialize)]
pub(crate) struct ErrorBody {
    #[serde(default)]
    pub errors: Vec<ErrorItem>,
    #[serde(default)]
    pub message: Option<String>,
}

/// The token endpoint's answer (§1.1); `refresh_token` only on a code exchange.
#[derive(Debug, Deserialize)]
pub(crate) struct TokenResponse {
    pub access_token: String,
    pub expires_in: u64,
    #[serde(default)]
    pub refresh_token: Option<String>,
}

/// The token endpoint's error (RFC 6749 §5.2): `{"error", "error_description"}`.
#[derive(Debug, Deserialize)]
pub(crate) struct TokenError {
    pub error: String,
    #[serde(default)]
    pub error_description: Option<String>,
}
