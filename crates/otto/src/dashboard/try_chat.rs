//! `GET /try?customer=ID` (or `?from=+1…`): a staff member talks to Otto in text as a chosen
//! customer, shown as such, over the `/chat` WebSocket (which needs the same staff session).

use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use otto_core::domain::PhoneNumber;
use otto_core::records::Id;
use serde::Deserialize;

use super::auth::Staff;
use super::{Layout, PageError, PageResult, render};
use crate::server::AppState;
use crate::server::error::HttpError;

#[derive(Template)]
#[template(path = "try.html")]
struct TryPage {
    layout: Layout,
    /// The caller ID the conversation uses (E.164), empty for none chosen yet.
    from: String,
    /// Who that is: "Jordan Smith" or "a new caller".
    who: String,
}

/// Query of `GET /try`.
#[derive(Debug, Deserialize)]
pub struct TryQuery {
    customer: Option<Id>,
    from: Option<String>,
}

/// `GET /try`.
pub async fn page(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Query(q): Query<TryQuery>,
) -> PageResult {
    let store = state.calls.shop.store();
    let (from, who) = match (
        q.customer,
        q.from.as_deref().filter(|f| !f.trim().is_empty()),
    ) {
        (Some(id), _) => {
            let c = store.customer(id).await?.ok_or(PageError::NotFound)?;
            (c.phone.to_string(), c.name)
        }
        (None, Some(f)) => {
            let phone = PhoneNumber::parse(f).map_err(|e| HttpError::BadRequest(e.to_string()))?;
            let who = store
                .customer_by_phone(&phone)
                .await?
                .map_or_else(|| "a new caller".to_string(), |c| c.name);
            (phone.to_string(), who)
        }
        (None, None) => (String::new(), String::new()),
    };
    render(&TryPage {
        layout: Layout::new(&state, &staff, "Try Otto", "try"),
        from,
        who,
    })
}
