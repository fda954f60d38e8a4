//! `GET /live`: calls in progress on every instance (the shared sessions: Redis when
//! configured), with their phase; the page refreshes itself every 5 s. `GET /performance`: the
//! last 24 hours: reply latency by stage (p50/p95) as a chart, calls per hour, barge-ins, and
//! provider errors counted by this instance since it started.

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use chrono::{Duration, Timelike, Utc};
use otto_core::records::Speaker;
use otto_core::stats::nearest_rank;
use otto_store::CallQuery;

use super::auth::Staff;
use super::{Layout, PageResult, render, view};
use crate::server::AppState;

/// One live call.
pub struct LiveRow {
    pub call_sid: String,
    pub caller: String,
    pub phase: String,
    pub instance: String,
    pub turns: u32,
    pub since: String,
}

impl LiveRow {
    /// Every live call, oldest first; empty (and logged) when the sessions cannot be read.
    pub async fn all(state: &AppState) -> Vec<Self> {
        let tz = state.calls.shop.config().time_zone;
        match state.calls.sessions.list().await {
            Ok(list) => list
                .into_iter()
                .map(|c| Self {
                    call_sid: c.call_sid,
                    caller: c.from,
                    phase: format!("{:?}", c.phase).to_lowercase(),
                    instance: c.instance,
                    turns: c.turns,
                    since: view::time(c.started_at, tz),
                })
                .collect(),
            Err(e) => {
                tracing::warn!(error = %e, "cannot list live calls");
                Vec::new()
            }
        }
    }
}

#[derive(Template)]
#[template(path = "live.html")]
struct LivePage {
    layout: Layout,
    live: Vec<LiveRow>,
}

/// `GET /live`.
pub async fn live(State(state): State<Arc<AppState>>, staff: Staff) -> PageResult {
    let live = LiveRow::all(&state).await;
    render(&LivePage {
        layout: Layout::new(&state, &staff, "Live calls", "live"),
        live,
    })
}

/// One bar of a chart, in SVG user units.
pub struct Bar {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
    pub label: String,
    pub class: &'static str,
}

/// Latency of one stage.
pub struct StageRow {
    pub stage: &'static str,
    pub p50: String,
    pub p95: String,
}

#[derive(Template)]
#[template(path = "performance.html")]
struct PerformancePage {
    layout: Layout,
    replies: usize,
    stages: Vec<StageRow>,
    latency_bars: Vec<Bar>,
    latency_max: u32,
    hour_bars: Vec<Bar>,
    hour_labels: Vec<(u32, String)>,
    calls: usize,
    barge_ins: usize,
    provider_errors: Vec<(String, String)>,
}

/// Chart height, SVG units.
const CHART_H: u32 = 160;

/// `otto_provider_errors_total` by provider, from this instance's Prometheus registry.
fn provider_errors() -> Vec<(String, String)> {
    let text = crate::server::ops::prometheus().render();
    text.lines()
        .filter_map(|l| l.strip_prefix("otto_provider_errors_total{provider=\""))
        .filter_map(|rest| {
            let (provider, value) = rest.split_once("\"}")?;
            Some((provider.to_string(), value.trim().to_string()))
        })
        .collect()
}

/// `GET /performance`.
pub async fn performance(State(state): State<Arc<AppState>>, staff: Staff) -> PageResult {
    let tz = state.calls.shop.config().time_zone;
    let store = state.calls.shop.store();
    let now = Utc::now();
    let since = now - Duration::hours(24);
    let turns = store.agent_turns_between(since, now, 10_000).await?;
    let timings: Vec<_> = turns.iter().filter_map(|t| t.timings).collect();
    let barge_ins = turns
        .iter()
        .filter(|t| t.speaker == Speaker::Agent && t.interrupted)
        .count();
    type Pick = fn(&otto_core::records::TurnTimings) -> u32;
    let stages: [(&'static str, Pick); 4] = [
        ("transcript", |t| t.transcript_ms),
        ("first text", |t| t.first_text_ms),
        ("first audio", |t| t.first_audio_ms),
        ("first frame", |t| t.first_frame_ms),
    ];
    let mut rows = Vec::new();
    let mut figures = Vec::new();
    for (stage, pick) in stages {
        let mut v: Vec<f64> = timings.iter().map(|t| f64::from(pick(t))).collect();
        v.sort_by(f64::total_cmp);
        // Whole ms, as stored.
        let at = |p: f64| (!v.is_empty()).then(|| nearest_rank(&v, p) as u32);
        let (p50, p95) = (at(0.50), at(0.95));
        let ms = |p: Option<u32>| p.map_or_else(|| "–".to_string(), |p| format!("{p} ms"));
        rows.push(StageRow {
            stage,
            p50: ms(p50),
            p95: ms(p95),
        });
        figures.push((stage, p50.unwrap_or(0), p95.unwrap_or(0)));
    }
    let latency_max = figures.iter().map(|f| f.2).max().unwrap_or(0).max(1);
    let mut latency_bars = Vec::new();
    for (i, (stage, p50, p95)) in figures.iter().enumerate() {
        let x = u32::try_from(i).unwrap_or(0) * 100 + 10;
        for (dx, value, class, which) in [(0, p50, "p50", "p50"), (40, p95, "p95", "p95")] {
            let height = value * CHART_H / latency_max;
            latency_bars.push(Bar {
                x: x + dx,
                y: CHART_H - height,
                width: 36,
                height,
                label: format!("{stage} {which}: {value} ms"),
                class,
            });
        }
    }
    let calls = store
        .calls(&CallQuery {
            since: Some(since),
            limit: 10_000,
            ..CallQuery::default()
        })
        .await?;
    let mut per_hour = [0u32; 24];
    for c in &calls {
        let ago = (now - c.started_at).num_hours().clamp(0, 23);
        per_hour[23 - usize::try_from(ago).unwrap_or(23)] += 1;
    }
    let hour_max = per_hour.iter().copied().max().unwrap_or(0).max(1);
    let hour_bars = per_hour
        .iter()
        .enumerate()
        .map(|(i, &n)| {
            let height = n * CHART_H / hour_max;
            Bar {
                x: u32::try_from(i).unwrap_or(0) * 16 + 2,
                y: CHART_H - height,
                width: 12,
                height,
                label: format!("{n} calls"),
                class: "calls",
            }
        })
        .collect();
    let hour_labels = (0..24u32)
        .step_by(6)
        .map(|i| {
            let at = now - Duration::hours(23 - i64::from(i));
            (i * 16 + 2, format!("{}h", at.with_timezone(&tz).hour()))
        })
        .collect();
    render(&PerformancePage {
        layout: Layout::new(&state, &staff, "Performance", "performance"),
        replies: timings.len(),
        stages: rows,
        latency_bars,
        latency_max,
        hour_bars,
        hour_labels,
        calls: calls.len(),
        barge_ins,
        provider_errors: provider_errors(),
    })
}
