//! [`GoogleCalendarConfig`]: the `calendar` section of Otto's configuration (absent: no
//! calendar). Every field but the credentials has a default; [`GoogleCalendarConfig::validate`]
//! checks ranges and URLs once at load.

use otto_core::calendar::BusyEffect;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::ProviderError;

/// What of the customer an event may carry beyond the service and the vehicle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventDetails {
    /// Service and vehicle only (the default): no name, phone or e-mail in Google.
    #[default]
    ServiceAndVehicle,
    /// Also the customer's name in the description.
    WithName,
    /// Also the customer's name and phone number in the description.
    WithNameAndPhone,
}

/// What Otto does when an event it wrote was moved by hand in Google.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftPolicy {
    /// Report it in the log and on the dashboard; the booking stays (the default).
    #[default]
    Report,
    /// Report it and move the event back to the booking's time.
    RestoreEvent,
}

/// Google Calendar settings (`shared/protocols/google-calendar.md`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GoogleCalendarConfig {
    /// OAuth client id (`….apps.googleusercontent.com`); required unless
    /// `service_account_key_file` is set.
    pub client_id: String,
    /// OAuth client secret (`GOCSPX-…`); required with `client_id`.
    #[serde(serialize_with = "otto_core::privacy::serialize_redacted_option")]
    pub client_secret: Option<SecretString>,
    /// The owner's refresh token (`1//…`, printed by `otto calendar connect --print`); when
    /// absent, the one `otto calendar connect` stored in the database is used.
    #[serde(serialize_with = "otto_core::privacy::serialize_redacted_option")]
    pub refresh_token: Option<SecretString>,
    /// The alternative to the owner's consent: a service account's JSON key file (§1.2). The
    /// calendars must be shared with the account, or `service_account_subject` set with
    /// domain-wide delegation.
    pub service_account_key_file: Option<std::path::PathBuf>,
    /// The Google Workspace user the service account acts as (the JWT's `sub`).
    pub service_account_subject: Option<String>,
    /// The calendar appointments are written to (default `primary`).
    pub calendar_id: String,
    /// The calendars whose busy time closes the shop or a bay (default: `calendar_id` only).
    pub busy_calendars: Vec<String>,
    /// What a busy block takes: `close_shop` (every bay, the default) or `one_bay`.
    pub busy_takes: BusyEffect,
    /// What events carry of the customer (default `service_and_vehicle`).
    pub event_details: EventDetails,
    /// What to do with an event moved by hand in Google (default `report`).
    pub drift_policy: DriftPolicy,
    /// How long a freeBusy answer is reused, s (0..=3600, default 60; 0 = not cached).
    pub busy_cache_secs: u64,
    /// Deadline for a freeBusy answer while a caller waits, ms (100..=10000, default 1500);
    /// past it slots come from Otto's own records.
    pub busy_deadline_ms: u64,
    /// Deadline per request in the background (events, tokens), ms (100..=60000, default 10000).
    pub request_timeout_ms: u64,
    /// How often the drift reconcile runs, s (10..=86400, default 300).
    pub reconcile_secs: u64,
    /// Token endpoint (default `https://oauth2.googleapis.com/token`).
    pub token_url: String,
    /// Consent page (default `https://accounts.google.com/o/oauth2/v2/auth`).
    pub auth_url: String,
    /// Calendar API base (default `https://www.googleapis.com/calendar/v3`).
    pub api_base_url: String,
}

impl Default for GoogleCalendarConfig {
    fn default() -> Self {
        Self {
            client_id: String::new(),
            client_secret: None,
            refresh_token: None,
            service_account_key_file: None,
            service_account_subject: None,
            calendar_id: "primary".into(),
            busy_calendars: Vec::new(),
            busy_takes: BusyEffect::CloseShop,
            event_details: EventDetails::ServiceAndVehicle,
            drift_policy: DriftPolicy::Report,
            busy_cache_secs: 60,
            busy_deadline_ms: 1500,
            request_timeout_ms: 10_000,
            reconcile_secs: 300,
            token_url: "https://oauth2.googleapis.com/token".into(),
            auth_url: "https://accounts.google.com/o/oauth2/v2/auth".into(),
            api_base_url: "https://www.googleapis.com/calendar/v3".into(),
        }
    }
}

impl GoogleCalendarConfig {
    /// The calendars freeBusy asks about: `busy_calendars`, or `calendar_id` alone.
    pub fn busy_calendar_ids(&self) -> Vec<String> {
        if self.busy_calendars.is_empty() {
            vec![self.calendar_id.clone()]
        } else {
            self.busy_calendars.clone()
        }
    }

    /// Checks ranges, ids and URLs.
    ///
    /// # Errors
    /// [`ProviderError::Config`] naming the first bad key.
    pub fn validate(&self) -> Result<(), ProviderError> {
        let bad = |m: &str| Err(ProviderError::Config(format!("calendar.{m}")));
        if self.service_account_key_file.is_none()
            && (self.client_id.trim().is_empty() || self.client_secret.is_none())
        {
            return bad("client_id and client_secret (or service_account_key_file) are required");
        }
        let id_ok = |id: &str| {
            !id.trim().is_empty() && id.len() <= 1024 && !id.chars().any(char::is_control)
        };
        if !id_ok(&self.calendar_id) || !self.busy_calendars.iter().all(|c| id_ok(c)) {
            return bad("calendar_id and busy_calendars must be non-empty calendar ids");
        }
        if self.busy_calendars.len() > 50 {
            return bad("busy_calendars: at most 50 calendars");
        }
        if self.busy_cache_secs > 3600 {
            return bad("busy_cache_secs must be 0..=3600");
        }
        if !(100..=10_000).contains(&self.busy_deadline_ms) {
            return bad("busy_deadline_ms must be 100..=10000");
        }
        if !(100..=60_000).contains(&self.request_timeout_ms) {
            return bad("request_timeout_ms must be 100..=60000");
        }
        if !(10..=86_400).contains(&self.reconcile_secs) {
            return bad("reconcile_secs must be 10..=86400");
        }
        for (name, url) in [
            ("token_url", &self.token_url),
            ("auth_url", &self.auth_url),
            ("api_base_url", &self.api_base_url),
        ] {
            match reqwest::Url::parse(url.trim()) {
                Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {}
                _ => return bad(&format!("{name} {url:?} is not an http(s) URL")),
            }
        }
        Ok(())
    }
}
