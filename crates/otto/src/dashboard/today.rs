//! `GET /`: Today. The day's schedule by bay as a timeline, the calls today with their
//! outcomes, the messages waiting, the calls live now, and bookings whose Google Calendar
//! event was moved or deleted by hand (issue #12's drift report).

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use chrono::{Datelike, Duration, NaiveTime, Timelike, Utc};
use otto_core::records::{Appointment, Customer, Id};
use otto_store::{CallQuery, Store};

use super::auth::Staff;
use super::calls::CallRow;
use super::live::LiveRow;
use super::messages::MessageRow;
use super::{Layout, PageResult, render, view};
use crate::server::AppState;

/// One appointment on the timeline.
pub struct Bar {
    pub id: Id,
    /// Offset from the opening time, % of the day's width.
    pub left: f64,
    /// Length, % of the day's width.
    pub width: f64,
    pub label: String,
    pub title: String,
}

/// A booking whose calendar event no longer matches it.
pub struct DriftRow {
    pub id: Id,
    pub service: String,
    /// The booking, local time.
    pub booked: String,
    /// Where the event is now, local time, or that it was deleted.
    pub event: String,
    pub found: String,
}

/// One bay's row of the timeline.
pub struct BayRow {
    pub bay: u32,
    pub bars: Vec<Bar>,
}

#[derive(Template)]
#[template(path = "today.html")]
struct TodayPage {
    layout: Layout,
    day: String,
    open: String,
    close: String,
    bays: Vec<BayRow>,
    calls: Vec<CallRow>,
    messages: Vec<MessageRow>,
    live: Vec<LiveRow>,
    drifts: Vec<DriftRow>,
}

/// The customers with these ids, by id (one lookup each; missing ones are left out).
pub async fn customer_names(
    store: &Arc<dyn Store>,
    ids: Vec<Id>,
) -> Result<HashMap<Id, Customer>, otto_store::StoreError> {
    let mut out = HashMap::new();
    for id in ids {
        if let std::collections::hash_map::Entry::Vacant(e) = out.entry(id)
            && let Some(c) = store.customer(id).await?
        {
            e.insert(c);
        }
    }
    Ok(out)
}

/// `GET /`.
pub async fn page(State(state): State<Arc<AppState>>, staff: Staff) -> PageResult {
    let shop = state.calls.shop.config();
    let tz = shop.time_zone;
    let store = state.calls.shop.store();
    let now = Utc::now();
    let today = now.with_timezone(&tz).date_naive();
    let start = view::day_start(today, tz);
    let end = view::day_start(today + Duration::days(1), tz);
    let hours = shop.hours.on(today.weekday());
    let (open, close) = hours.map_or(
        (
            NaiveTime::from_hms_opt(8, 0, 0).unwrap_or_default(),
            NaiveTime::from_hms_opt(18, 0, 0).unwrap_or_default(),
        ),
        |h| (h.open, h.close),
    );
    let open_at = view::local_instant(today, open.hour(), open.minute(), tz).unwrap_or(start);
    let close_at = view::local_instant(today, close.hour(), close.minute(), tz).unwrap_or(end);
    let span = (close_at - open_at).num_minutes().max(1) as f64;

    let appointments: Vec<Appointment> = store.active_appointments_between(start, end).await?;
    let names = customer_names(store, appointments.iter().map(|a| a.customer_id).collect()).await?;
    let mut bays: Vec<BayRow> = (1..=shop.bays)
        .map(|bay| BayRow {
            bay,
            bars: Vec::new(),
        })
        .collect();
    for a in &appointments {
        let from = (a.start - open_at).num_minutes() as f64;
        let to = (a.end - open_at).num_minutes() as f64;
        let left = (from / span * 100.0).clamp(0.0, 100.0);
        let width = ((to / span * 100.0).clamp(0.0, 100.0) - left).max(1.0);
        let who = names.get(&a.customer_id).map_or("?", |c| c.name.as_str());
        let service = view::service(shop, &a.service);
        let bar = Bar {
            id: a.id,
            left,
            width,
            label: format!("{} {service}", view::time(a.start, tz)),
            title: format!(
                "{}–{} {service}, {who}",
                view::time(a.start, tz),
                view::time(a.end, tz)
            ),
        };
        if let Some(row) = bays.iter_mut().find(|r| r.bay == a.bay) {
            row.bars.push(bar);
        }
    }
    let calls = store
        .calls(&CallQuery {
            since: Some(start),
            until: Some(end),
            limit: 200,
            ..CallQuery::default()
        })
        .await?;
    let calls = CallRow::many(store, &calls, tz).await?;
    let messages = MessageRow::many(&store.messages(true, 50).await?, tz);
    let live = LiveRow::all(&state).await;
    let mut drifts = Vec::new();
    for d in store.calendar_drifts(20).await? {
        let Some(a) = store.appointment(d.appointment_id).await? else {
            continue;
        };
        drifts.push(DriftRow {
            id: a.id,
            service: view::service(shop, &a.service),
            booked: view::date_time(a.start, tz),
            event: d.event.map_or_else(
                || "deleted in Google".to_owned(),
                |(start, _)| format!("moved in Google to {}", view::date_time(start, tz)),
            ),
            found: view::date_time(d.found_at, tz),
        });
    }
    render(&TodayPage {
        layout: Layout::new(&state, &staff, "Today", "today"),
        day: view::date(today),
        open: view::time(open_at, tz),
        close: view::time(close_at, tz),
        bays,
        calls,
        messages,
        live,
        drifts,
    })
}
