//! `GET /reminders`: confirmations and reminders with their state (pending, sent, delivered,
//! failed, cancelled), Twilio's status and the last error, latest due first, with counts per
//! state; the same rows appear on each appointment's page.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use chrono_tz::Tz;
use otto_core::records::{Id, Reminder, ReminderStatus};
use otto_store::ReminderQuery;
use serde::Deserialize;

use super::auth::Staff;
use super::{Layout, PageResult, render, view};
use crate::server::AppState;

/// One reminder in a list.
pub struct ReminderRow {
    pub id: Id,
    pub appointment_id: Id,
    /// "confirmation" or "reminder".
    pub kind: String,
    /// "sms" or "call".
    pub channel: String,
    pub status: String,
    /// The appointment start it is about, shop-local.
    pub about: String,
    /// When it is (or was) due, shop-local.
    pub due: String,
    pub attempts: u32,
    /// Twilio's last status, or "".
    pub provider: String,
    /// Why it was not sent or failed, or "".
    pub note: String,
}

impl ReminderRow {
    /// Rows for `reminders`.
    pub fn many(reminders: &[Reminder], tz: Tz) -> Vec<Self> {
        reminders
            .iter()
            .map(|r| Self {
                id: r.id,
                appointment_id: r.appointment_id,
                kind: r.kind.to_string(),
                channel: r.channel.to_string(),
                status: r.status.to_string(),
                about: view::date_time(r.appointment_start, tz),
                due: view::date_time(r.due_at, tz),
                attempts: r.attempts,
                provider: r.provider_status.clone().unwrap_or_default(),
                note: r.last_error.clone().unwrap_or_default(),
            })
            .collect()
    }
}

#[derive(Template)]
#[template(path = "reminders.html")]
struct RemindersPage {
    layout: Layout,
    counts: Vec<(String, u64)>,
    status: String,
    reminders: Vec<ReminderRow>,
}

/// Query of `GET /reminders`.
#[derive(Debug, Deserialize)]
pub struct RemindersQuery {
    /// Only this status (pending, claimed, sent, delivered, failed, cancelled).
    status: Option<String>,
}

/// `GET /reminders`.
pub async fn list(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Query(q): Query<RemindersQuery>,
) -> PageResult {
    let tz = state.calls.shop.config().time_zone;
    let store = state.calls.shop.store();
    let status: Option<ReminderStatus> = q.status.as_deref().and_then(|s| s.parse().ok());
    let reminders = store
        .reminders(&ReminderQuery {
            statuses: status.into_iter().collect(),
            appointment_id: None,
            limit: 300,
        })
        .await?;
    let counts = store
        .reminder_counts()
        .await?
        .into_iter()
        .map(|(s, n)| (s.to_string(), n))
        .collect();
    render(&RemindersPage {
        layout: Layout::new(&state, &staff, "Reminders", "reminders"),
        counts,
        status: status.map(|s| s.to_string()).unwrap_or_default(),
        reminders: ReminderRow::many(&reminders, tz),
    })
}
