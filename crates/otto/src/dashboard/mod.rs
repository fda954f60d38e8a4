//! The staff dashboard, served by `otto serve`: server-rendered pages (askama templates in
//! `crates/otto/templates`, one stylesheet and one small script embedded from
//! `crates/otto/assets`), readable on a phone and a desktop. Every page needs a signed-in staff
//! member ([`auth`]); every form carries the session's CSRF token.
//!
//! | route | page |
//! |---|---|
//! | `GET /login`, `POST /login`, `POST /logout` | sign in and out ([`login`]) |
//! | `GET /` | Today: the day's schedule by bay, calls today, messages waiting, live calls ([`today`]) |
//! | `GET /appointments`, `GET/POST /appointments/new`, `GET /appointments/{id}`, `POST /appointments/{id}/move`, `POST /appointments/{id}/cancel` | week view, search, create, move, cancel through the [`otto_shop::Shop`] rules ([`appointments`]) |
//! | `GET /customers`, `GET /customers/{id}` | search by name, phone or VIN; a customer's vehicles, appointments, history and calls ([`customers`]) |
//! | `GET /calls`, `GET /calls/{id}`, `GET /calls/{id}/recording` | calls with filters; transcript, tool actions, latency, recording ([`calls`]) |
//! | `GET /messages`, `POST /messages/{id}/handled` | messages Otto took, on calls and by text ([`messages`]) |
//! | `GET /reminders` | confirmations and reminders with their state; also on each appointment's page ([`reminders`]) |
//! | `GET /live`, `GET /performance` | live calls on every instance; latency, calls per hour, barge-ins, provider errors ([`live`]) |
//! | `GET /staff`, `POST /staff` | owners only: accounts and the audit log ([`owner`]) |
//! | `GET /try` | staff talk to Otto as a chosen customer over `/chat` ([`try_chat`]) |
//! | `GET /assets/{name}` | the stylesheet and script (public: no data) |

pub mod appointments;
pub mod auth;
pub mod calls;
pub mod customers;
pub mod live;
pub mod login;
pub mod messages;
pub mod owner;
pub mod reminders;
pub mod today;
pub mod try_chat;
pub mod view;

use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::Utc;
use otto_store::{NewAudit, StoreError};

use crate::server::AppState;
use crate::server::error::HttpError;
use auth::{AuthError, Staff};

/// What every page's frame shows: the title, who is signed in, the CSRF token for its forms,
/// and which navigation entry is current.
#[derive(Debug, Clone)]
pub struct Layout {
    pub title: String,
    pub shop: String,
    pub staff: String,
    pub owner: bool,
    pub csrf: String,
    /// The current navigation entry: "today", "appointments", "customers", "calls",
    /// "messages", "live", "performance", "staff".
    pub nav: &'static str,
    /// A message to show at the top (an error from the last form), if any.
    pub flash: Option<String>,
}

impl Layout {
    /// The frame for `staff` on page `nav`.
    pub fn new(
        state: &AppState,
        staff: &Staff,
        title: impl Into<String>,
        nav: &'static str,
    ) -> Self {
        Self {
            title: title.into(),
            shop: state.calls.shop.config().name.clone(),
            staff: staff.name().to_string(),
            owner: staff.is_owner(),
            csrf: staff.session.csrf.clone(),
            nav,
            flash: None,
        }
    }

    /// With a flash message.
    #[must_use]
    pub fn flash(mut self, flash: Option<String>) -> Self {
        self.flash = flash.filter(|f| !f.trim().is_empty());
        self
    }
}

/// Why a dashboard request failed.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error(transparent)]
    Http(#[from] HttpError),
    #[error("not found")]
    NotFound,
}

impl From<StoreError> for PageError {
    fn from(e: StoreError) -> Self {
        Self::Http(HttpError::internal(e))
    }
}

impl From<askama::Error> for PageError {
    fn from(e: askama::Error) -> Self {
        Self::Http(HttpError::internal(e))
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            Self::Auth(e) => e.into_response(),
            Self::Http(e) => e.into_response(),
            Self::NotFound => (StatusCode::NOT_FOUND, "not found").into_response(),
        }
    }
}

/// A page handler's result.
pub type PageResult = Result<Response, PageError>;

/// Renders a template as an HTML response.
///
/// # Errors
/// A template failing to render (internal).
pub fn render(t: &impl Template) -> PageResult {
    Ok(Html(t.render()?).into_response())
}

/// A 303 redirect to `to` with `error` as a flash message in the query (`?error=…`).
pub fn back_with(to: &str, error: Option<&str>) -> Response {
    match error {
        None => Redirect::to(to).into_response(),
        Some(e) => {
            let sep = if to.contains('?') { '&' } else { '?' };
            let e: String = form_urlencoded::byte_serialize(e.as_bytes()).collect();
            Redirect::to(&format!("{to}{sep}error={e}")).into_response()
        }
    }
}

/// Records a staff write in the audit log; a failure is logged (the write itself stands).
pub async fn audit(state: &AppState, staff: &Staff, action: &str, subject: String, detail: String) {
    let entry = NewAudit {
        at: Utc::now(),
        staff: staff.name().to_string(),
        action: action.to_string(),
        subject,
        detail,
    };
    if let Err(e) = state.calls.shop.store().audit(&entry).await {
        tracing::error!(error = %e, action, "audit log entry not written");
    }
}

/// `GET /assets/{name}`: the embedded stylesheet and script.
async fn asset(Path(name): Path<String>) -> Response {
    let (body, kind) = match name.as_str() {
        "otto.css" => (
            include_str!("../../assets/otto.css"),
            "text/css; charset=utf-8",
        ),
        "chat.js" => (
            include_str!("../../assets/chat.js"),
            "text/javascript; charset=utf-8",
        ),
        _ => return (StatusCode::NOT_FOUND, "not found").into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

/// The dashboard's routes.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/login", get(login::form).post(login::submit))
        .route("/logout", post(login::logout))
        .route("/", get(today::page))
        .route("/appointments", get(appointments::list))
        .route(
            "/appointments/new",
            get(appointments::new_form).post(appointments::create),
        )
        .route("/appointments/{id}", get(appointments::detail))
        .route("/appointments/{id}/move", post(appointments::move_to))
        .route("/appointments/{id}/cancel", post(appointments::cancel))
        .route("/customers", get(customers::list))
        .route("/customers/{id}", get(customers::detail))
        .route("/calls", get(calls::list))
        .route("/calls/{id}", get(calls::detail))
        .route("/calls/{id}/recording", get(calls::recording))
        .route("/messages", get(messages::list))
        .route("/messages/{id}/handled", post(messages::handled))
        .route("/reminders", get(reminders::list))
        .route("/live", get(live::live))
        .route("/performance", get(live::performance))
        .route("/staff", get(owner::page).post(owner::add))
        .route("/try", get(try_chat::page))
        .route("/assets/{name}", get(asset))
}
