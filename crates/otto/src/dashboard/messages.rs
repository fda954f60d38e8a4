//! `GET /messages` (waiting ones, or all with `?all=1`) and `POST /messages/{id}/handled`.

use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use chrono::Utc;
use chrono_tz::Tz;
use otto_core::records::{Id, Message};
use serde::Deserialize;

use super::auth::Staff;
use super::login::CsrfForm;
use super::{Layout, PageError, PageResult, audit, back_with, render, view};
use crate::server::AppState;

/// One message in a list.
pub struct MessageRow {
    pub id: Id,
    pub when: String,
    pub caller: String,
    pub name: String,
    pub customer_id: Option<Id>,
    pub call_id: Option<Id>,
    pub body: String,
    /// "Handled by otto at Tue Dec 8, 9:00 AM", when handled.
    pub handled: Option<String>,
}

impl MessageRow {
    /// Rows for `messages`.
    pub fn many(messages: &[Message], tz: Tz) -> Vec<Self> {
        messages
            .iter()
            .map(|m| Self {
                id: m.id,
                when: view::date_time(m.created_at, tz),
                caller: m.from_phone.clone(),
                name: m.caller_name.clone().unwrap_or_default(),
                customer_id: m.customer_id,
                call_id: m.call_id,
                body: m.body.clone(),
                handled: m.handled_at.map(|at| {
                    format!(
                        "Handled by {} on {}",
                        m.handled_by.as_deref().unwrap_or("?"),
                        view::date_time(at, tz)
                    )
                }),
            })
            .collect()
    }
}

#[derive(Template)]
#[template(path = "messages.html")]
struct MessagesPage {
    layout: Layout,
    all: bool,
    messages: Vec<MessageRow>,
}

/// Query of `GET /messages`.
#[derive(Debug, Deserialize)]
pub struct MessagesQuery {
    all: Option<String>,
    error: Option<String>,
}

/// `GET /messages`.
pub async fn list(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Query(q): Query<MessagesQuery>,
) -> PageResult {
    let tz = state.calls.shop.config().time_zone;
    let all = q.all.as_deref() == Some("1");
    let messages = state.calls.shop.store().messages(!all, 500).await?;
    render(&MessagesPage {
        layout: Layout::new(&state, &staff, "Messages", "messages").flash(q.error),
        all,
        messages: MessageRow::many(&messages, tz),
    })
}

/// `POST /messages/{id}/handled`.
pub async fn handled(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(id): Path<Id>,
    Form(f): Form<CsrfForm>,
) -> PageResult {
    staff.check_csrf(&f.csrf)?;
    match state
        .calls
        .shop
        .store()
        .mark_message_handled(id, staff.name(), Utc::now())
        .await
    {
        Ok(_) => {
            audit(
                &state,
                &staff,
                "message.handled",
                format!("message #{id}"),
                "marked handled".into(),
            )
            .await;
            Ok(back_with("/messages", None))
        }
        Err(otto_store::StoreError::NotFound { .. }) => Err(PageError::NotFound),
        Err(e) => Err(e.into()),
    }
}
