//! NHTSA clients (`shared/protocols/nhtsa.md`): vPIC `DecodeVinValues` (§1–2) and recalls by
//! make/model/year (§4), each answer cached in-process for 7 days.
//!
//! VINs are validated locally ([`otto_core::domain::Vin`]) before any request. vPIC answers
//! HTTP 200 for every decode; the outcome is its `ErrorCode` list, summarised by
//! [`VinDecode::verdict`]. The recalls API answers an empty envelope, sometimes with HTTP 400,
//! when it knows no recalls; both mean "no recalls". HTML error pages and 5xx are
//! [`ProviderError::Status`] (retryable); no retries happen here (retries live in the shell).

use std::time::Duration;

use chrono::NaiveDate;
use otto_core::domain::Vin;
use serde::{Deserialize, Serialize};

use crate::ProviderError;

const VENDOR: &str = "nhtsa";
/// How long answers stay cached.
const CACHE_TTL: Duration = Duration::from_secs(7 * 24 * 3600);
/// Most cached answers per kind (decodes, recall lists).
const CACHE_CAPACITY: u64 = 10_000;

/// Configuration of [`NhtsaClient`]; every field has a default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NhtsaConfig {
    /// Whether lookups are made at all (default false: calls get [`ProviderError::Disabled`]).
    pub enabled: bool,
    /// vPIC base (default `https://vpic.nhtsa.dot.gov/api/vehicles`).
    pub vpic_base_url: String,
    /// Recalls API base (default `https://api.nhtsa.gov`).
    pub recalls_base_url: String,
    /// Deadline per request in ms, connect to last byte (default 10000).
    pub timeout_ms: u64,
}

impl Default for NhtsaConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            vpic_base_url: "https://vpic.nhtsa.dot.gov/api/vehicles".into(),
            recalls_base_url: "https://api.nhtsa.gov".into(),
            timeout_ms: 10_000,
        }
    }
}

/// What a VIN decode means for the conversation (`nhtsa.md` §2, suggested policy).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DecodeVerdict {
    /// Codes `0` and/or `14` only: use the data.
    Clean,
    /// Codes `1`, `6` or `11` (or unknown codes with make, model and year decoded): read the
    /// vehicle back to the caller before using it.
    Confirm,
    /// Codes `2`, `3`, `4`, `5`, `7`, `8` or `400`, or nothing decoded: ask for the VIN again.
    Reject,
}

/// The useful part of a vPIC `DecodeVinValues` result. Text fields are `None` when vPIC sent
/// `""`, `null` or `Not Applicable`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VinDecode {
    /// The VIN as vPIC echoed it.
    pub vin: String,
    /// `Make`, upper case as vPIC sends it (e.g. `HONDA`).
    pub make: Option<String>,
    /// `Model` (e.g. `Accord`).
    pub model: Option<String>,
    /// `ModelYear`.
    pub model_year: Option<u16>,
    /// `Trim`.
    pub trim: Option<String>,
    /// `BodyClass` (e.g. `Coupe`).
    pub body_class: Option<String>,
    /// `VehicleType` (e.g. `PASSENGER CAR`).
    pub vehicle_type: Option<String>,
    /// `DriveType`.
    pub drive_type: Option<String>,
    /// `EngineCylinders`.
    pub engine_cylinders: Option<u8>,
    /// `DisplacementL`, litres, as text (e.g. `2.998832712`).
    pub displacement_l: Option<String>,
    /// `FuelTypePrimary`.
    pub fuel_type: Option<String>,
    /// `ErrorCode` split into numbers (e.g. `"6,14"` → `[6, 14]`); unparsable items dropped.
    pub error_codes: Vec<u32>,
    /// `ErrorText` (`N - text` items joined by `; `).
    pub error_text: String,
    /// `SuggestedVIN` (`!` marks the suspect position).
    pub suggested_vin: Option<String>,
}

impl VinDecode {
    /// The verdict for this decode (see [`DecodeVerdict`]).
    pub fn verdict(&self) -> DecodeVerdict {
        let decoded = self.make.is_some() && self.model.is_some() && self.model_year.is_some();
        if !decoded
            || self
                .error_codes
                .iter()
                .any(|c| matches!(c, 2 | 3 | 4 | 5 | 7 | 8 | 400))
        {
            DecodeVerdict::Reject
        } else if !self.error_codes.is_empty()
            && self.error_codes.iter().all(|c| matches!(c, 0 | 14))
        {
            DecodeVerdict::Clean
        } else {
            DecodeVerdict::Confirm
        }
    }
}

/// One recall campaign (`nhtsa.md` §4). Applies to the make/model/year, not necessarily to
/// every vehicle of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Recall {
    /// `NHTSACampaignNumber` (e.g. `19V182000`).
    pub campaign_number: String,
    /// `Component` (e.g. `AIR BAGS`).
    pub component: String,
    /// `Summary`.
    pub summary: String,
    /// `Consequence`.
    pub consequence: String,
    /// `Remedy`.
    pub remedy: String,
    /// `ReportReceivedDate` parsed day-first (`DD/MM/YYYY`), falling back to month-first.
    pub report_received: Option<NaiveDate>,
    /// `ReportReceivedDate` as sent.
    pub report_received_raw: String,
    /// `parkIt`: do not drive; `None` when null or absent.
    pub park_it: Option<bool>,
    /// `parkOutSide`: park outside; `None` when null or absent.
    pub park_outside: Option<bool>,
    /// `overTheAirUpdate`; `None` when null or absent.
    pub over_the_air_update: Option<bool>,
}

#[derive(Deserialize)]
struct DecodeEnvelope {
    #[serde(rename = "Results")]
    results: Vec<std::collections::HashMap<String, Option<String>>>,
}

#[derive(Deserialize)]
struct RecallsEnvelope {
    #[serde(alias = "Results")]
    results: Vec<RawRecall>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawRecall {
    #[serde(rename = "NHTSACampaignNumber", default)]
    campaign_number: Option<String>,
    #[serde(default)]
    component: Option<String>,
    #[serde(default)]
    summary: Option<String>,
    #[serde(default)]
    consequence: Option<String>,
    #[serde(default)]
    remedy: Option<String>,
    #[serde(default)]
    report_received_date: Option<String>,
    #[serde(rename = "parkIt", default)]
    park_it: Option<bool>,
    #[serde(rename = "parkOutSide", default)]
    park_outside: Option<bool>,
    #[serde(rename = "overTheAirUpdate", default)]
    over_the_air_update: Option<bool>,
}

/// NHTSA vPIC + recalls client with a 7-day in-process cache. Cheap to clone (the cache is
/// shared between clones).
#[derive(Debug, Clone)]
pub struct NhtsaClient {
    http: reqwest::Client,
    config: NhtsaConfig,
    vpic: String,
    recalls: String,
    decode_cache: moka::sync::Cache<String, VinDecode>,
    recall_cache: moka::sync::Cache<(String, String, u16), Vec<Recall>>,
}

fn base_url(name: &str, url: &str) -> Result<String, ProviderError> {
    let trimmed = url.trim().trim_end_matches('/');
    match reqwest::Url::parse(trimmed) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {
            Ok(trimmed.to_owned())
        }
        _ => Err(ProviderError::Config(format!(
            "nhtsa: {name} {url:?} is not an http(s) URL"
        ))),
    }
}

impl NhtsaClient {
    /// Validates `config` and builds the client (also when disabled, so a bad URL is reported
    /// at startup).
    ///
    /// # Errors
    /// [`ProviderError::Config`] for a base URL that is not absolute `http(s)` or a zero timeout.
    pub fn new(config: NhtsaConfig) -> Result<Self, ProviderError> {
        let vpic = base_url("vpic_base_url", &config.vpic_base_url)?;
        let recalls = base_url("recalls_base_url", &config.recalls_base_url)?;
        if config.timeout_ms == 0 {
            return Err(ProviderError::Config(
                "nhtsa: timeout_ms must be positive".into(),
            ));
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_millis(config.timeout_ms))
            .build()
            .map_err(|e| ProviderError::Config(format!("nhtsa: HTTP client: {e}")))?;
        Ok(Self {
            http,
            config,
            vpic,
            recalls,
            decode_cache: ttl_cache(),
            recall_cache: ttl_cache(),
        })
    }

    /// Decodes `vin` with vPIC `DecodeVinValues` (cached 7 days per VIN).
    ///
    /// # Errors
    /// [`ProviderError::Disabled`] when switched off; [`ProviderError::Status`] for HTTP errors
    /// (5xx and HTML pages are retryable); [`ProviderError::Timeout`] / [`ProviderError::Transport`];
    /// [`ProviderError::Protocol`] for a body that is not the documented JSON.
    pub async fn decode_vin(&self, vin: &Vin) -> Result<VinDecode, ProviderError> {
        self.ensure_enabled()?;
        if let Some(hit) = self.decode_cache.get(vin.as_str()) {
            return Ok(hit);
        }
        let url = format!("{}/DecodeVinValues/{}?format=json", self.vpic, vin.as_str());
        let (status, body) = self.get(&url, &[]).await?;
        if status != 200 {
            return Err(status_error(status, &body));
        }
        let envelope: DecodeEnvelope = parse(&body)?;
        let Some(r) = envelope.results.into_iter().next() else {
            return Err(protocol("decode answer has no Results", false));
        };
        let field = |k: &str| {
            r.get(k)
                .and_then(|v| v.as_deref())
                .map(str::trim)
                .filter(|v| !v.is_empty() && *v != "Not Applicable")
                .map(str::to_owned)
        };
        let decode = VinDecode {
            vin: field("VIN").unwrap_or_else(|| vin.as_str().to_owned()),
            make: field("Make"),
            model: field("Model"),
            model_year: field("ModelYear").and_then(|y| y.parse().ok()),
            trim: field("Trim"),
            body_class: field("BodyClass"),
            vehicle_type: field("VehicleType"),
            drive_type: field("DriveType"),
            engine_cylinders: field("EngineCylinders").and_then(|c| c.parse().ok()),
            displacement_l: field("DisplacementL"),
            fuel_type: field("FuelTypePrimary"),
            error_codes: field("ErrorCode")
                .unwrap_or_default()
                .split(',')
                .filter_map(|c| c.trim().parse().ok())
                .collect(),
            error_text: field("ErrorText").unwrap_or_default(),
            suggested_vin: field("SuggestedVIN"),
        };
        self.decode_cache
            .insert(vin.as_str().to_owned(), decode.clone());
        Ok(decode)
    }

    /// Recalls for `make`/`model`/`model_year` (use vPIC's `Make`/`Model`; case-insensitive),
    /// cached 7 days. An empty list means NHTSA knows no recalls.
    ///
    /// # Errors
    /// [`ProviderError::InvalidInput`] for an empty or over-long (> 64 chars) make/model, control
    /// characters, or a year outside 1950–2100; otherwise as [`Self::decode_vin`].
    pub async fn recalls(
        &self,
        make: &str,
        model: &str,
        model_year: u16,
    ) -> Result<Vec<Recall>, ProviderError> {
        self.ensure_enabled()?;
        let (make, model) = (make.trim().to_uppercase(), model.trim().to_uppercase());
        for (what, v) in [("make", &make), ("model", &model)] {
            if v.is_empty() || v.chars().count() > 64 || v.chars().any(char::is_control) {
                return Err(ProviderError::InvalidInput(format!("vehicle {what} {v:?}")));
            }
        }
        if !(1950..=2100).contains(&model_year) {
            return Err(ProviderError::InvalidInput(format!(
                "model year {model_year}"
            )));
        }
        let key = (make, model, model_year);
        if let Some(hit) = self.recall_cache.get(&key) {
            return Ok(hit);
        }
        let url = format!("{}/recalls/recallsByVehicle", self.recalls);
        let year = model_year.to_string();
        let query = [
            ("make", key.0.as_str()),
            ("model", key.1.as_str()),
            ("modelYear", &year),
        ];
        let (status, body) = self.get(&url, &query).await?;
        let envelope = match (status, serde_json::from_slice::<RecallsEnvelope>(&body)) {
            (200, Ok(e)) => e,
            (200, Err(e)) => {
                return Err(protocol(&format!("recalls answer: {e}"), looks_html(&body)));
            }
            // NHTSA answers "no recalls" for unknown vehicles with HTTP 400 and the empty envelope.
            (400, Ok(e)) if e.results.is_empty() => e,
            _ => return Err(status_error(status, &body)),
        };
        let recalls: Vec<Recall> = envelope.results.into_iter().map(Recall::from).collect();
        self.recall_cache.insert(key, recalls.clone());
        Ok(recalls)
    }

    fn ensure_enabled(&self) -> Result<(), ProviderError> {
        if self.config.enabled {
            Ok(())
        } else {
            Err(ProviderError::Disabled("NHTSA lookup"))
        }
    }

    async fn get(
        &self,
        url: &str,
        query: &[(&str, &str)],
    ) -> Result<(u16, bytes::Bytes), ProviderError> {
        let map =
            |e: reqwest::Error| ProviderError::from_reqwest(VENDOR, &e, self.config.timeout_ms);
        let response = self.http.get(url).query(query).send().await.map_err(map)?;
        let status = response.status().as_u16();
        let body = response.bytes().await.map_err(map)?;
        tracing::debug!(status, bytes = body.len(), "nhtsa answered");
        Ok((status, body))
    }
}

impl From<RawRecall> for Recall {
    fn from(r: RawRecall) -> Self {
        let raw = r.report_received_date.unwrap_or_default();
        let date = NaiveDate::parse_from_str(raw.trim(), "%d/%m/%Y")
            .or_else(|_| NaiveDate::parse_from_str(raw.trim(), "%m/%d/%Y"))
            .ok();
        Self {
            campaign_number: r.campaign_number.unwrap_or_default(),
            component: r.component.unwrap_or_default(),
            summary: r.summary.unwrap_or_default(),
            consequence: r.consequence.unwrap_or_default(),
            remedy: r.remedy.unwrap_or_default(),
            report_received: date,
            report_received_raw: raw,
            park_it: r.park_it,
            park_outside: r.park_outside,
            over_the_air_update: r.over_the_air_update,
        }
    }
}

fn ttl_cache<K, V>() -> moka::sync::Cache<K, V>
where
    K: std::hash::Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    moka::sync::Cache::builder()
        .max_capacity(CACHE_CAPACITY)
        .time_to_live(CACHE_TTL)
        .build()
}

fn looks_html(body: &[u8]) -> bool {
    let start = String::from_utf8_lossy(&body[..body.len().min(64)]).to_ascii_lowercase();
    start.trim_start().starts_with('<')
}

fn protocol(message: &str, transient: bool) -> ProviderError {
    ProviderError::Protocol {
        vendor: VENDOR,
        message: message.to_owned(),
        transient,
    }
}

fn parse<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, ProviderError> {
    serde_json::from_slice(body).map_err(|e| {
        if looks_html(body) {
            protocol("got an HTML page instead of JSON", true)
        } else {
            protocol(&format!("unexpected JSON: {e}"), false)
        }
    })
}

fn status_error(status: u16, body: &[u8]) -> ProviderError {
    let message = if looks_html(body) {
        "HTML error page".to_owned()
    } else {
        String::from_utf8_lossy(&body[..body.len().min(300)])
            .trim()
            .to_owned()
    };
    ProviderError::Status {
        vendor: VENDOR,
        status,
        message,
        code: None,
        retry_after: None,
        should_retry: None,
    }
}
