//! Operations endpoints: `/health` (the process answers), `/ready` (the database and, when
//! configured, Redis answer within a deadline; what an operator must fix about the calendar is
//! told without failing, since calls go on without it) and `/metrics` (Prometheus text format, behind a
//! bearer token or for loopback peers only).

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use secrecy::ExposeSecret;
use subtle::ConstantTimeEq;

use super::AppState;

/// Deadline of each readiness check.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// The process-wide Prometheus recorder, installed on first use.
pub fn prometheus() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let seconds = [
            0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0,
        ];
        let builder = PrometheusBuilder::new()
            // Latency histograms (`otto_turn_stage_seconds`, `otto_tts_ttfb_seconds`, …).
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &seconds)
            .unwrap_or_else(|_| PrometheusBuilder::new());
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        // Another recorder may already be installed (e.g. by a test harness): keep serving
        // this one's (empty) view rather than failing.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

/// `GET /health`: 200 while the process runs.
pub async fn health() -> &'static str {
    "ok"
}

/// `GET /ready`: 200 when the database (and Redis, when configured) answer; 503 naming what
/// failed otherwise. A calendar problem only an operator can fix is appended to either answer
/// (`ready; calendar: reauthorise`) without making it fail: calls and bookings go on.
pub async fn ready(State(state): State<Arc<AppState>>) -> Response {
    let mut failed = Vec::new();
    let store = state.calls.shop.store();
    match tokio::time::timeout(READY_TIMEOUT, store.customer(0)).await {
        Ok(Ok(_)) => {}
        _ => failed.push("database"),
    }
    if !state.config.redis_url.trim().is_empty() {
        match tokio::time::timeout(READY_TIMEOUT, state.calls.sessions.ping()).await {
            Ok(Ok(())) => {}
            _ => failed.push("redis"),
        }
    }
    if state.shutting_down.is_cancelled() {
        failed.push("shutting down");
    }
    let calendar = state
        .calls
        .shop
        .calendar_health()
        .map(|h| format!("; calendar: {h}"))
        .unwrap_or_default();
    if failed.is_empty() {
        (StatusCode::OK, format!("ready{calendar}")).into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {}{calendar}", failed.join(", ")),
        )
            .into_response()
    }
}

/// `GET /metrics`: Prometheus text exposition. With `server.metrics_token` set, only for
/// `Authorization: Bearer <token>` (compared in constant time); without, only for loopback
/// peers. Anything else gets 401.
pub async fn metrics(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    let allowed = match &state.config.server.metrics_token {
        Some(token) => headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|given| {
                given
                    .as_bytes()
                    .ct_eq(token.expose_secret().as_bytes())
                    .into()
            }),
        None => peer.ip().is_loopback(),
    };
    if !allowed {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            "metrics need a bearer token",
        )
            .into_response();
    }
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        prometheus().render(),
    )
        .into_response()
}
