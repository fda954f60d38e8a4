//! `GET /calls` (filtered by day and outcome), `GET /calls/{id}` (the transcript turn by turn,
//! interruptions marked, tool actions in between, per-reply latency, the recording with a
//! player) and `GET /calls/{id}/recording` (the WAV file).

use std::sync::Arc;

use askama::Template;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use otto_core::records::{CallLog, Id, Speaker};
use otto_store::{CallQuery, Store, StoreError};
use serde::Deserialize;

use super::auth::Staff;
use super::today::customer_names;
use super::{Layout, PageError, PageResult, render, view};
use crate::call::recording::recording_path;
use crate::server::AppState;

/// Outcomes a call can be filtered by.
pub const OUTCOMES: [&str; 8] = [
    "booked",
    "rescheduled",
    "cancelled",
    "message",
    "transferred",
    "informed",
    "busy",
    "no_stream",
];

/// One call in a list.
pub struct CallRow {
    pub id: Id,
    pub when: String,
    pub caller: String,
    pub customer: Option<(Id, String)>,
    pub duration: String,
    pub outcome: String,
    pub booked: bool,
    pub live: bool,
}

impl CallRow {
    /// Rows for `calls`, with customer names looked up.
    ///
    /// # Errors
    /// The store failing.
    pub async fn many(
        store: &Arc<dyn Store>,
        calls: &[CallLog],
        tz: Tz,
    ) -> Result<Vec<Self>, StoreError> {
        let names =
            customer_names(store, calls.iter().filter_map(|c| c.customer_id).collect()).await?;
        Ok(calls
            .iter()
            .map(|c| Self {
                id: c.id,
                when: view::date_time(c.started_at, tz),
                caller: c.from.clone(),
                customer: c
                    .customer_id
                    .and_then(|id| names.get(&id).map(|n| (id, n.name.clone()))),
                duration: view::duration(c.duration_secs),
                outcome: c.outcome.clone().unwrap_or_else(|| {
                    if c.ended_at.is_some() {
                        "–"
                    } else {
                        "in progress"
                    }
                    .into()
                }),
                booked: c.outcome.as_deref() == Some("booked"),
                live: c.ended_at.is_none(),
            })
            .collect())
    }
}

#[derive(Template)]
#[template(path = "calls.html")]
struct CallsPage {
    layout: Layout,
    day: String,
    outcome: String,
    outcomes: [&'static str; 8],
    calls: Vec<CallRow>,
}

/// Query of `GET /calls`.
#[derive(Debug, Deserialize)]
pub struct CallsQuery {
    /// A shop-local day, YYYY-MM-DD; all days when absent or empty.
    day: Option<String>,
    /// One of [`OUTCOMES`], or "none"; any when absent or empty.
    outcome: Option<String>,
}

/// `GET /calls`.
pub async fn list(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Query(q): Query<CallsQuery>,
) -> PageResult {
    let tz = state.calls.shop.config().time_zone;
    let store = state.calls.shop.store();
    let day = q.day.as_deref().map(str::trim).filter(|d| !d.is_empty());
    let mut query = CallQuery {
        limit: 500,
        ..CallQuery::default()
    };
    if let Some(d) = day {
        let d = NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| {
            crate::server::error::HttpError::BadRequest("day must be YYYY-MM-DD".into())
        })?;
        query.since = Some(view::day_start(d, tz));
        query.until = Some(view::day_start(d + Duration::days(1), tz));
    }
    let outcome = q.outcome.as_deref().map(str::trim).unwrap_or("");
    match outcome {
        "" => {}
        "none" => query.outcome = Some(String::new()),
        o if OUTCOMES.contains(&o) => query.outcome = Some(o.to_string()),
        _ => {
            return Err(crate::server::error::HttpError::BadRequest(format!(
                "outcome must be one of: none, {}",
                OUTCOMES.join(", ")
            ))
            .into());
        }
    }
    let calls = store.calls(&query).await?;
    render(&CallsPage {
        layout: Layout::new(&state, &staff, "Calls", "calls"),
        day: day.unwrap_or("").to_string(),
        outcome: outcome.to_string(),
        outcomes: OUTCOMES,
        calls: CallRow::many(store, &calls, tz).await?,
    })
}

/// One line of a call's page: a turn or a tool action.
pub struct Line {
    pub at: String,
    /// "caller", "agent" or "action".
    pub kind: &'static str,
    pub text: String,
    pub interrupted: bool,
    /// "transcript 310 ms · first text 420 ms · first audio 560 ms · first frame 575 ms".
    pub latency: Option<String>,
}

#[derive(Template)]
#[template(path = "call.html")]
struct CallPage {
    layout: Layout,
    call: CallRow,
    to: String,
    summary: String,
    lines: Vec<Line>,
    recording: bool,
}

/// `GET /calls/{id}`.
pub async fn detail(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(id): Path<Id>,
) -> PageResult {
    let tz = state.calls.shop.config().time_zone;
    let store = state.calls.shop.store();
    let record = store
        .call_with_turns(id)
        .await?
        .ok_or(PageError::NotFound)?;
    let mut timed: Vec<(DateTime<Utc>, u8, Line)> = Vec::new();
    for t in &record.turns {
        let latency = t.timings.map(|l| {
            format!(
                "transcript {} ms · first text {} ms · first audio {} ms · first frame {} ms",
                l.transcript_ms, l.first_text_ms, l.first_audio_ms, l.first_frame_ms
            )
        });
        timed.push((
            t.at,
            1,
            Line {
                at: view::time(t.at, tz),
                kind: match t.speaker {
                    Speaker::Caller => "caller",
                    Speaker::Agent => "agent",
                },
                text: t.text.clone(),
                interrupted: t.interrupted,
                latency,
            },
        ));
    }
    for a in &record.actions {
        timed.push((
            a.at,
            0,
            Line {
                at: view::time(a.at, tz),
                kind: "action",
                text: format!("{}: {}", a.tool, a.detail),
                interrupted: false,
                latency: None,
            },
        ));
    }
    // Stable: turns keep their order; an action comes before a turn stamped at the same time
    // (a turn is stamped when it finishes playing, after the tool ran).
    timed.sort_by_key(|(at, rank, _)| (*at, *rank));
    let recording = recording_path(&state.config.recording_dir(), &record.call.call_sid)
        .is_some_and(|p| p.is_file());
    let call = CallRow::many(store, std::slice::from_ref(&record.call), tz)
        .await?
        .remove(0);
    render(&CallPage {
        layout: Layout::new(&state, &staff, format!("Call {}", call.when), "calls"),
        call,
        to: record.call.to.clone(),
        summary: record.call.summary.clone().unwrap_or_default(),
        lines: timed.into_iter().map(|(_, _, l)| l).collect(),
        recording,
    })
}

/// `GET /calls/{id}/recording`: the call's WAV (404 when there is none).
pub async fn recording(
    State(state): State<Arc<AppState>>,
    _staff: Staff,
    Path(id): Path<Id>,
) -> PageResult {
    let store = state.calls.shop.store();
    let record = store
        .call_with_turns(id)
        .await?
        .ok_or(PageError::NotFound)?;
    let path = recording_path(&state.config.recording_dir(), &record.call.call_sid)
        .ok_or(PageError::NotFound)?;
    let file = tokio::fs::File::open(&path)
        .await
        .map_err(|_| PageError::NotFound)?;
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(file));
    Ok((
        [
            (header::CONTENT_TYPE, "audio/wav"),
            (header::CACHE_CONTROL, "private, no-store"),
        ],
        body,
    )
        .into_response())
}
