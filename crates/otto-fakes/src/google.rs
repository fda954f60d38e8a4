//! [`FakeGoogle`]: Google's OAuth token endpoint and the Calendar API v3 calls Otto makes
//! (`shared/protocols/google-calendar.md`), on `127.0.0.1:0`, answering with the fixtures'
//! shapes and error bodies.
//!
//! # Routes
//!
//! - `POST /token` (form): `grant_type=refresh_token` with the fixture's client id, secret
//!   and refresh token ([`CLIENT_ID`], [`CLIENT_SECRET`], [`REFRESH_TOKEN`]) → the fixture's
//!   token answer with a fresh access token (`ya29.fake-N`, `expires_in` 3599 unless
//!   [`FakeGoogle::set_expires_in`]); `grant_type=authorization_code` with [`CONSENT_CODE`]
//!   → the same plus `refresh_token`. Wrong client → 401 `invalid_client`; a wrong or revoked
//!   ([`FakeGoogle::revoke_refresh_token`]) refresh token → 400 `invalid_grant` (fixtures).
//! - Every Calendar route needs `Authorization: Bearer` with a live token from `/token`,
//!   else 401 (`google-error-401.json`); [`FakeGoogle::expire_access_tokens`] kills them all.
//! - `POST /calendar/v3/freeBusy`: busy periods of the opaque, not cancelled events of each
//!   known calendar overlapping `[timeMin, timeMax)`, in UTC; an unknown calendar comes back
//!   with `errors: [{domain: global, reason: notFound}]`. Known calendars: `primary`,
//!   `frontdesk@example-garage.com`, and any added with [`FakeGoogle::add_calendar`].
//! - `POST …/calendars/{cal}/events`: the id must match `^[a-v0-9]{5,1024}$` (else 400); an id
//!   stored before, even deleted, → 409 `duplicate`; else stored with `kind`, `etag`,
//!   `created`, `updated`, `iCalUID`, `htmlLink`, `status` (default `confirmed`).
//! - `GET …/events/{id}`: the stored event (a deleted one with `status: cancelled`), or 404.
//! - `PATCH …/events/{id}`: top-level fields replaced, `extendedProperties.private` merged;
//!   `If-Match` other than the stored etag → 412 (`google-error-412.json`); 404 if missing.
//! - `DELETE …/events/{id}`: 204; 404 if never stored; 410 `deleted` if deleted already.
//! - `GET …/events`: without `syncToken` a full list, always two pages: first
//!   `items: []` with a `nextPageToken` (as `google-events-list-page-empty.json`), then every
//!   live event whose end is after `timeMin`, with `nextSyncToken`; with `syncToken` every
//!   event changed since (deleted ones as `{kind, etag, id, status: cancelled}` stubs, as
//!   `google-events-sync-delta.json`); a token from before [`FakeGoogle::expire_sync_tokens`]
//!   → 410 `fullSyncRequired`.
//!
//! # Failures
//!
//! [`FakeGoogle::fail_next`] scripts the next answers of one operation ([`Op`]): an error
//! status with its fixture body, a stall, or — for inserts — storing the event and then
//! stalling (a timeout after Google stored it). [`FakeGoogle::set_down`] answers every
//! Calendar and token request with 503. [`FakeGoogle::set_busy_delay_ms`] slows freeBusy.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use crate::fixtures;
use crate::server::{Running, serve};

/// The OAuth client id the fake accepts (from `google-oauth-refresh-request.form.txt`).
pub const CLIENT_ID: &str = "1234567890-abc123def456.apps.googleusercontent.com";
/// The client secret the fake accepts.
pub const CLIENT_SECRET: &str = "GOCSPX-FakeSecretForTests000000";
/// The refresh token the fake accepts until revoked.
pub const REFRESH_TOKEN: &str = "1//0gFakeRefreshTokenForTestsOnly-abcdefghijklmnop";
/// The consent code `grant_type=authorization_code` accepts.
pub const CONSENT_CODE: &str = "4/0AfakeConsentCode";
/// The calendar the fixtures write to.
pub const FRONTDESK: &str = "frontdesk@example-garage.com";

/// An operation of the fake, for [`FakeGoogle::fail_next`] and [`FakeGoogle::count`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    /// `POST /token`.
    Token,
    /// `POST /freeBusy`.
    FreeBusy,
    /// `events.insert`.
    Insert,
    /// `events.get`.
    Get,
    /// `events.patch`.
    Patch,
    /// `events.delete`.
    Delete,
    /// `events.list`.
    List,
}

/// A scripted answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer this status with this fixture's body (e.g. 429, `google-error-429.json`).
    Status(u16, &'static str),
    /// Wait this long before answering normally.
    Stall(Duration),
    /// Inserts only: store the event, then wait this long before answering (the client's
    /// deadline passes after Google stored it).
    StoreThenStall(Duration),
}

/// A stored event with its change number.
#[derive(Debug, Clone)]
struct Stored {
    event: Value,
    seq: u64,
}

#[derive(Default)]
struct Data {
    events: BTreeMap<(String, String), Stored>,
    calendars: BTreeSet<String>,
    tokens: BTreeSet<String>,
    faults: HashMap<Op, VecDeque<Fault>>,
    counts: HashMap<Op, usize>,
    seq: u64,
    min_sync_seq: u64,
    issued: u64,
    expires_in: u64,
}

#[derive(Default)]
struct Inner {
    data: Mutex<Data>,
    revoked: AtomicBool,
    down: AtomicBool,
    busy_delay_ms: AtomicU64,
}

impl Inner {
    fn data(&self) -> MutexGuard<'_, Data> {
        self.data.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Counts `op` and takes its next scripted fault.
    fn begin(&self, op: Op) -> Option<Fault> {
        let mut d = self.data();
        *d.counts.entry(op).or_default() += 1;
        d.faults.get_mut(&op).and_then(VecDeque::pop_front)
    }
}

/// A fake Google (token endpoint + Calendar API) on `127.0.0.1`; stops when dropped.
pub struct FakeGoogle {
    running: Running,
    inner: Arc<Inner>,
}

impl FakeGoogle {
    /// Starts the fake on a free loopback port with no events.
    pub async fn start() -> Self {
        let inner = Arc::new(Inner::default());
        {
            let mut d = inner.data();
            d.calendars.insert("primary".into());
            d.calendars.insert(FRONTDESK.into());
            d.expires_in = 3599;
        }
        let router = Router::new()
            .route("/token", post(token))
            .route("/calendar/v3/freeBusy", post(free_busy))
            .route(
                "/calendar/v3/calendars/{cal}/events",
                post(insert).get(list),
            )
            .route(
                "/calendar/v3/calendars/{cal}/events/{id}",
                get(get_event).patch(patch).delete(delete),
            )
            .with_state(inner.clone());
        Self {
            running: serve(router).await,
            inner,
        }
    }

    /// Token endpoint: `http://127.0.0.1:{port}/token`.
    pub fn token_url(&self) -> String {
        format!("http://{}/token", self.running.addr)
    }

    /// Consent page (never served; for `otto calendar connect`'s printed URL).
    pub fn auth_url(&self) -> String {
        format!("http://{}/auth", self.running.addr)
    }

    /// Calendar API base: `http://127.0.0.1:{port}/calendar/v3`.
    pub fn api_base_url(&self) -> String {
        format!("http://{}/calendar/v3", self.running.addr)
    }

    /// Makes `calendar` readable by freeBusy and writable.
    pub fn add_calendar(&self, calendar: &str) {
        self.inner.data().calendars.insert(calendar.to_owned());
    }

    /// Scripts the next answers of `op`, in order (after any scripted before).
    pub fn fail_next(&self, op: Op, faults: impl IntoIterator<Item = Fault>) {
        self.inner
            .data()
            .faults
            .entry(op)
            .or_default()
            .extend(faults);
    }

    /// While `down`, every request gets 503 with a `backendError` body.
    pub fn set_down(&self, down: bool) {
        self.inner.down.store(down, Ordering::SeqCst);
    }

    /// Delays every freeBusy answer by `ms`.
    pub fn set_busy_delay_ms(&self, ms: u64) {
        self.inner.busy_delay_ms.store(ms, Ordering::SeqCst);
    }

    /// The `expires_in` of access tokens issued from now on, s.
    pub fn set_expires_in(&self, secs: u64) {
        self.inner.data().expires_in = secs;
    }

    /// From now on the refresh token is dead: `/token` answers `invalid_grant`.
    pub fn revoke_refresh_token(&self) {
        self.inner.revoked.store(true, Ordering::SeqCst);
    }

    /// Every access token issued so far stops working (401).
    pub fn expire_access_tokens(&self) {
        self.inner.data().tokens.clear();
    }

    /// Every sync token issued so far gets 410 `fullSyncRequired`.
    pub fn expire_sync_tokens(&self) {
        let mut d = self.inner.data();
        d.min_sync_seq = d.seq + 1;
    }

    /// How many requests `op` has received (scripted ones included).
    pub fn count(&self, op: Op) -> usize {
        self.inner.data().counts.get(&op).copied().unwrap_or(0)
    }

    /// Adds an event by hand, as a person would in Google (opaque, `confirmed`); its id.
    pub fn add_external_event(
        &self,
        calendar: &str,
        summary: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> String {
        let mut d = self.inner.data();
        d.issued += 1;
        let id = format!("ext{:06}", d.issued);
        let event = json!({
            "id": id,
            "summary": summary,
            "start": {"dateTime": rfc3339(start), "timeZone": "UTC"},
            "end": {"dateTime": rfc3339(end), "timeZone": "UTC"},
        });
        store_new(&mut d, calendar, &id, event);
        id
    }

    /// Moves event `id` by hand, as a person would in Google (new etag, new change number).
    pub fn move_event(&self, calendar: &str, id: &str, start: DateTime<Utc>, end: DateTime<Utc>) {
        let mut d = self.inner.data();
        d.seq += 1;
        let seq = d.seq;
        if let Some(s) = d.events.get_mut(&(calendar.to_owned(), id.to_owned())) {
            s.event["start"] = json!({"dateTime": rfc3339(start), "timeZone": "UTC"});
            s.event["end"] = json!({"dateTime": rfc3339(end), "timeZone": "UTC"});
            touch(&mut s.event, seq);
            s.seq = seq;
        }
    }

    /// Every event of `calendar` as stored (deleted ones with `status: cancelled`), by id.
    pub fn events(&self, calendar: &str) -> Vec<Value> {
        self.inner
            .data()
            .events
            .iter()
            .filter(|((c, _), _)| c == calendar)
            .map(|(_, s)| s.event.clone())
            .collect()
    }

    /// The events of `calendar` that are not cancelled.
    pub fn live_events(&self, calendar: &str) -> Vec<Value> {
        self.events(calendar)
            .into_iter()
            .filter(|e| e["status"] != "cancelled")
            .collect()
    }
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn now_text() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Sets the read-only fields of a changed event: `etag` from `seq`, `updated`.
fn touch(event: &mut Value, seq: u64) {
    event["etag"] = Value::String(format!("\"{}\"", 3_479_245_100_000_000u64 + seq));
    event["updated"] = Value::String(now_text());
}

fn store_new(d: &mut Data, calendar: &str, id: &str, mut event: Value) {
    d.seq += 1;
    let seq = d.seq;
    event["kind"] = json!("calendar#event");
    event["id"] = json!(id);
    if event.get("status").is_none() {
        event["status"] = json!("confirmed");
    }
    event["created"] = json!(now_text());
    event["iCalUID"] = json!(format!("{id}@google.com"));
    event["htmlLink"] = json!(format!("https://www.google.com/calendar/event?eid={id}"));
    event["creator"] = json!({"email": calendar, "self": true});
    event["organizer"] = json!({"email": calendar, "self": true});
    event["sequence"] = json!(0);
    event["eventType"] = json!("default");
    touch(&mut event, seq);
    d.events
        .insert((calendar.to_owned(), id.to_owned()), Stored { event, seq });
}

fn json_response(status: u16, body: Value) -> Response {
    let mut resp = (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        body.to_string(),
    )
        .into_response();
    resp.headers_mut().insert(
        "content-type",
        HeaderValue::from_static("application/json; charset=UTF-8"),
    );
    resp
}

fn fixture(status: u16, name: &str) -> Response {
    json_response(status, fixtures::json(name))
}

fn unavailable() -> Response {
    let mut body = fixtures::json("google-error-500.json");
    body["error"]["code"] = json!(503);
    json_response(503, body)
}

/// The outage switch, then the scripted fault of `op` (a status answers at once, a stall
/// waits). `Some` ends the request with that answer.
async fn preamble(inner: &Inner, op: Op) -> (Option<Response>, Option<Duration>) {
    if inner.down.load(Ordering::SeqCst) {
        inner.begin(op);
        return (Some(unavailable()), None);
    }
    match inner.begin(op) {
        Some(Fault::Status(status, name)) => (Some(fixture(status, name)), None),
        Some(Fault::Stall(d)) => {
            tokio::time::sleep(d).await;
            (None, None)
        }
        Some(Fault::StoreThenStall(d)) => (None, Some(d)),
        None => (None, None),
    }
}

fn authorised(inner: &Inner, headers: &HeaderMap) -> bool {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    token.is_some_and(|t| inner.data().tokens.contains(t))
}

async fn token(State(inner): State<Arc<Inner>>, body: axum::body::Bytes) -> Response {
    let form: HashMap<String, String> = form_urlencoded::parse(&body).into_owned().collect();
    if let (Some(r), _) = preamble(&inner, Op::Token).await {
        return r;
    }
    let get = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
    if get("client_id") != CLIENT_ID || get("client_secret") != CLIENT_SECRET {
        return fixture(401, "google-oauth-invalid-client.json");
    }
    let with_refresh = match get("grant_type") {
        "refresh_token" => {
            if get("refresh_token") != REFRESH_TOKEN || inner.revoked.load(Ordering::SeqCst) {
                return fixture(400, "google-oauth-invalid-grant.json");
            }
            false
        }
        "authorization_code" if get("code") == CONSENT_CODE => true,
        "authorization_code" => return fixture(400, "google-oauth-invalid-grant.json"),
        _ => {
            return json_response(
                400,
                json!({"error": "unsupported_grant_type", "error_description": "Invalid grant_type"}),
            );
        }
    };
    let mut body = fixtures::json("google-oauth-refresh-response.json");
    let mut d = inner.data();
    d.issued += 1;
    let access = format!("ya29.fake-{}", d.issued);
    d.tokens.insert(access.clone());
    body["access_token"] = json!(access);
    body["expires_in"] = json!(d.expires_in);
    if with_refresh {
        body["refresh_token"] = json!(REFRESH_TOKEN);
    }
    json_response(200, body)
}

fn parse_time(v: &Value) -> Option<DateTime<Utc>> {
    v.as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
}

fn event_span(e: &Value) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    Some((
        parse_time(&e["start"]["dateTime"])?,
        parse_time(&e["end"]["dateTime"])?,
    ))
}

async fn free_busy(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    axum::Json(req): axum::Json<Value>,
) -> Response {
    let delay = inner.busy_delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    if let (Some(r), _) = preamble(&inner, Op::FreeBusy).await {
        return r;
    }
    if !authorised(&inner, &headers) {
        return fixture(401, "google-error-401.json");
    }
    let (Some(min), Some(max)) = (parse_time(&req["timeMin"]), parse_time(&req["timeMax"])) else {
        return fixture(400, "google-error-400-time-range-empty.json");
    };
    if max <= min {
        return fixture(400, "google-error-400-time-range-empty.json");
    }
    let d = inner.data();
    let mut calendars = serde_json::Map::new();
    for item in req["items"].as_array().into_iter().flatten() {
        let Some(id) = item["id"].as_str() else {
            continue;
        };
        if !d.calendars.contains(id) {
            calendars.insert(
                id.to_owned(),
                json!({"errors": [{"domain": "global", "reason": "notFound"}], "busy": []}),
            );
            continue;
        }
        let busy: Vec<Value> = d
            .events
            .iter()
            .filter(|((c, _), s)| {
                c == id
                    && s.event["status"] != "cancelled"
                    && s.event["transparency"] != "transparent"
            })
            .filter_map(|(_, s)| event_span(&s.event))
            .filter(|(s, e)| *s < max && *e > min)
            .map(|(s, e)| json!({"start": rfc3339(s), "end": rfc3339(e)}))
            .collect();
        calendars.insert(id.to_owned(), json!({"busy": busy}));
    }
    json_response(
        200,
        json!({
            "kind": "calendar#freeBusy",
            "timeMin": min.to_rfc3339_opts(SecondsFormat::Millis, true),
            "timeMax": max.to_rfc3339_opts(SecondsFormat::Millis, true),
            "calendars": calendars,
        }),
    )
}

fn valid_id(id: &str) -> bool {
    (5..=1024).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'v').contains(&b))
}

async fn insert(
    State(inner): State<Arc<Inner>>,
    Path(cal): Path<String>,
    headers: HeaderMap,
    axum::Json(event): axum::Json<Value>,
) -> Response {
    let (answer, stall_after) = preamble(&inner, Op::Insert).await;
    if let Some(r) = answer {
        return r;
    }
    if !authorised(&inner, &headers) {
        return fixture(401, "google-error-401.json");
    }
    let stored = {
        let mut d = inner.data();
        if !d.calendars.contains(&cal) {
            return fixture(404, "google-error-404.json");
        }
        let id = match event["id"].as_str() {
            Some(id) if valid_id(id) => id.to_owned(),
            Some(_) => {
                return json_response(
                    400,
                    json!({"error": {"errors": [{"domain": "global", "reason": "invalid", "message": "Invalid resource id value."}], "code": 400, "message": "Invalid resource id value."}}),
                );
            }
            None => {
                d.issued += 1;
                format!("gen{:08}", d.issued)
            }
        };
        if d.events.contains_key(&(cal.clone(), id.clone())) {
            return fixture(409, "google-error-409-duplicate.json");
        }
        store_new(&mut d, &cal, &id, event);
        d.events
            .get(&(cal.clone(), id))
            .map(|s| s.event.clone())
            .unwrap_or(Value::Null)
    };
    if let Some(d) = stall_after {
        tokio::time::sleep(d).await;
    }
    json_response(200, stored)
}

async fn get_event(
    State(inner): State<Arc<Inner>>,
    Path((cal, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let (Some(r), _) = preamble(&inner, Op::Get).await {
        return r;
    }
    if !authorised(&inner, &headers) {
        return fixture(401, "google-error-401.json");
    }
    match inner.data().events.get(&(cal, id)) {
        Some(s) => json_response(200, s.event.clone()),
        None => fixture(404, "google-error-404.json"),
    }
}

async fn patch(
    State(inner): State<Arc<Inner>>,
    Path((cal, id)): Path<(String, String)>,
    headers: HeaderMap,
    axum::Json(fields): axum::Json<Value>,
) -> Response {
    if let (Some(r), _) = preamble(&inner, Op::Patch).await {
        return r;
    }
    if !authorised(&inner, &headers) {
        return fixture(401, "google-error-401.json");
    }
    let mut d = inner.data();
    d.seq += 1;
    let seq = d.seq;
    let Some(s) = d.events.get_mut(&(cal, id)) else {
        return fixture(404, "google-error-404.json");
    };
    let if_match = headers.get("if-match").and_then(|v| v.to_str().ok());
    if if_match.is_some_and(|m| Some(m) != s.event["etag"].as_str()) {
        return fixture(412, "google-error-412.json");
    }
    if let Value::Object(map) = fields {
        for (k, v) in map {
            if k == "extendedProperties" {
                for scope in ["private", "shared"] {
                    if let Value::Object(props) = &v[scope] {
                        for (pk, pv) in props {
                            s.event["extendedProperties"][scope][pk] = pv.clone();
                        }
                    }
                }
            } else if !matches!(k.as_str(), "id" | "etag" | "kind") {
                s.event[k] = v;
            }
        }
    }
    touch(&mut s.event, seq);
    s.seq = seq;
    json_response(200, s.event.clone())
}

async fn delete(
    State(inner): State<Arc<Inner>>,
    Path((cal, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let (Some(r), _) = preamble(&inner, Op::Delete).await {
        return r;
    }
    if !authorised(&inner, &headers) {
        return fixture(401, "google-error-401.json");
    }
    let mut d = inner.data();
    d.seq += 1;
    let seq = d.seq;
    let Some(s) = d.events.get_mut(&(cal, id)) else {
        return fixture(404, "google-error-404.json");
    };
    if s.event["status"] == "cancelled" {
        return fixture(410, "google-error-410-deleted.json");
    }
    s.event["status"] = json!("cancelled");
    touch(&mut s.event, seq);
    s.seq = seq;
    StatusCode::NO_CONTENT.into_response()
}

async fn list(
    State(inner): State<Arc<Inner>>,
    Path(cal): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let (Some(r), _) = preamble(&inner, Op::List).await {
        return r;
    }
    if !authorised(&inner, &headers) {
        return fixture(401, "google-error-401.json");
    }
    let d = inner.data();
    if !d.calendars.contains(&cal) {
        return fixture(404, "google-error-404.json");
    }
    let mut page = fixtures::json("google-events-list-response.json");
    page["summary"] = json!(cal);
    let mine = d.events.iter().filter(|((c, _), _)| *c == cal);
    let items: Vec<Value> = if let Some(token) = q.get("syncToken") {
        let since: Option<u64> = token.strip_prefix("sync-").and_then(|n| n.parse().ok());
        match since {
            Some(n) if n >= d.min_sync_seq => mine
                .filter(|(_, s)| s.seq > n)
                .map(|(_, s)| {
                    if s.event["status"] == "cancelled" {
                        json!({"kind": "calendar#event", "etag": s.event["etag"], "id": s.event["id"], "status": "cancelled"})
                    } else {
                        s.event.clone()
                    }
                })
                .collect(),
            _ => return fixture(410, "google-error-410-full-sync.json"),
        }
    } else if q.get("pageToken").map(String::as_str) != Some("page-2") {
        let mut empty = fixtures::json("google-events-list-page-empty.json");
        empty["summary"] = json!(cal);
        empty["nextPageToken"] = json!("page-2");
        return json_response(200, empty);
    } else {
        let from = q.get("timeMin").and_then(|t| parse_time(&json!(t)));
        mine.filter(|(_, s)| s.event["status"] != "cancelled")
            .filter(|(_, s)| match (from, event_span(&s.event)) {
                (Some(from), Some((_, end))) => end > from,
                _ => true,
            })
            .map(|(_, s)| s.event.clone())
            .collect()
    };
    page["items"] = Value::Array(items);
    page["nextSyncToken"] = json!(format!("sync-{}", d.seq));
    json_response(200, page)
}
