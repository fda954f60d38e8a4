//! [`FakeNhtsa`]: vPIC `DecodeVinValues` and the recalls API (`shared/protocols/nhtsa.md`).
//!
//! Decode answers are HTTP 200 whatever the `ErrorCode`, as vPIC does. Known VINs come from the
//! fixtures (`1HGCM82633A004352` clean, `1HGCM82643A004352` check-digit error, `1HGCM826*3A`
//! partial); any other VIN gets an all-blank result with `ErrorCode "7"` (manufacturer not
//! registered). Recalls for HONDA ACCORD 2003 come from `nhtsa-recalls-by-vehicle.json`; any other
//! vehicle gets the empty envelope with HTTP 400 (what NHTSA does for unknown make/model/years)
//! unless a test sets an answer. An outage switch answers everything with an HTML 503 page.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::Value;

use crate::fixtures;
use crate::server::{Running, serve};

/// The HTML page the fake serves with HTTP 503 during an outage.
pub const OUTAGE_HTML: &str = "<!DOCTYPE html>\n<html><head><title>503 Service Unavailable</title></head>\n<body><h1>Service Unavailable</h1><p>The server is temporarily unable to service your request due to maintenance downtime or capacity problems. Please try again later.</p></body></html>\n";

#[derive(Default)]
struct Data {
    decodes: HashMap<String, String>,
    recalls: HashMap<(String, String, String), (u16, String)>,
}

#[derive(Default)]
struct Inner {
    data: Mutex<Data>,
    outage: AtomicBool,
    delay_ms: AtomicU64,
    requests: AtomicUsize,
}

impl Inner {
    fn data(&self) -> MutexGuard<'_, Data> {
        self.data.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A fake NHTSA (vPIC + recalls) on `127.0.0.1`; stops when dropped.
pub struct FakeNhtsa {
    running: Running,
    inner: Arc<Inner>,
}

impl FakeNhtsa {
    /// Starts the fake on a free loopback port with the fixture answers loaded.
    pub async fn start() -> Self {
        let inner = Arc::new(Inner::default());
        {
            let mut d = inner.data();
            for name in [
                "nhtsa-decodevinvalues-1HGCM82633A004352.json",
                "nhtsa-decodevinvalues-check-digit-error.json",
                "nhtsa-decodevinvalues-partial-wildcard.json",
            ] {
                let body = fixtures::text(name);
                let vin = fixtures::json(name)["Results"][0]["VIN"]
                    .as_str()
                    .expect("decode fixture has Results[0].VIN")
                    .to_owned();
                d.decodes.insert(vin, body);
            }
            d.recalls.insert(
                key("HONDA", "ACCORD", "2003"),
                (200, fixtures::text("nhtsa-recalls-by-vehicle.json")),
            );
        }
        let router = Router::new()
            .route("/api/vehicles/DecodeVinValues/{vin}", get(decode))
            .route("/recalls/recallsByVehicle", get(recalls))
            .with_state(inner.clone());
        Self {
            running: serve(router).await,
            inner,
        }
    }

    /// vPIC base URL: `http://127.0.0.1:{port}/api/vehicles` (production:
    /// `https://vpic.nhtsa.dot.gov/api/vehicles`).
    pub fn vpic_base_url(&self) -> String {
        format!("http://{}/api/vehicles", self.running.addr)
    }

    /// Recalls base URL: `http://127.0.0.1:{port}` (production: `https://api.nhtsa.gov`).
    pub fn recalls_base_url(&self) -> String {
        format!("http://{}", self.running.addr)
    }

    /// While `on`, every request gets HTTP 503 with [`OUTAGE_HTML`].
    pub fn set_outage(&self, on: bool) {
        self.inner.outage.store(on, Ordering::SeqCst);
    }

    /// Delays every answer by `ms` milliseconds (for client timeout tests).
    pub fn set_delay_ms(&self, ms: u64) {
        self.inner.delay_ms.store(ms, Ordering::SeqCst);
    }

    /// Answers decodes of `vin` (upper case, as sent) with `body` and HTTP 200.
    pub fn set_decode(&self, vin: &str, body: impl Into<String>) {
        self.inner
            .data()
            .decodes
            .insert(vin.to_owned(), body.into());
    }

    /// Answers recalls for `make`/`model`/`model_year` (case-insensitive) with `status`, `body`.
    pub fn set_recalls(
        &self,
        make: &str,
        model: &str,
        model_year: &str,
        status: u16,
        body: impl Into<String>,
    ) {
        self.inner
            .data()
            .recalls
            .insert(key(make, model, model_year), (status, body.into()));
    }

    /// How many requests the fake has received (decodes and recalls).
    pub fn request_count(&self) -> usize {
        self.inner.requests.load(Ordering::SeqCst)
    }
}

fn key(make: &str, model: &str, year: &str) -> (String, String, String) {
    (
        make.to_uppercase(),
        model.to_uppercase(),
        year.trim().to_owned(),
    )
}

fn json(status: u16, body: String) -> Response {
    let mut resp = (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        body,
    )
        .into_response();
    resp.headers_mut().insert(
        "content-type",
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    resp
}

/// Counts the request, waits the configured delay, and answers the outage page if on.
async fn preamble(inner: &Inner) -> Option<Response> {
    inner.requests.fetch_add(1, Ordering::SeqCst);
    let delay = inner.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    if inner.outage.load(Ordering::SeqCst) {
        let mut resp = (StatusCode::SERVICE_UNAVAILABLE, OUTAGE_HTML).into_response();
        resp.headers_mut()
            .insert("content-type", HeaderValue::from_static("text/html"));
        return Some(resp);
    }
    None
}

async fn decode(State(inner): State<Arc<Inner>>, Path(vin): Path<String>) -> Response {
    if let Some(resp) = preamble(&inner).await {
        return resp;
    }
    let known = inner.data().decodes.get(&vin).cloned();
    json(200, known.unwrap_or_else(|| unregistered(&vin)))
}

/// An all-blank decode result for `vin` with `ErrorCode "7"`.
fn unregistered(vin: &str) -> String {
    let mut body = fixtures::json("nhtsa-decodevinvalues-1HGCM82633A004352.json");
    if let Some(Value::Object(r)) = body.pointer_mut("/Results/0") {
        for v in r.values_mut() {
            *v = Value::String(String::new());
        }
        r.insert("VIN".into(), Value::String(vin.to_owned()));
        r.insert("ErrorCode".into(), Value::String("7".into()));
        r.insert("ErrorText".into(), Value::String("7 - Manufacturer is not registered with NHTSA for sale or importation in the U.S. for use on U.S roads; Please contact the manufacturer directly for more information.".into()));
    }
    body["SearchCriteria"] = Value::String(format!("VIN:{vin}"));
    body.to_string()
}

async fn recalls(
    State(inner): State<Arc<Inner>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Some(resp) = preamble(&inner).await {
        return resp;
    }
    let get = |k: &str| q.get(k).map(String::as_str).unwrap_or("");
    let found = inner
        .data()
        .recalls
        .get(&key(get("make"), get("model"), get("modelYear")))
        .cloned();
    let (status, body) =
        found.unwrap_or_else(|| (400, fixtures::text("nhtsa-recalls-by-vehicle-empty.json")));
    json(status, body)
}
