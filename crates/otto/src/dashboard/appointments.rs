//! Appointments: `GET /appointments` (a week view, or a search of the next 90 days with
//! `?q=`), `GET /appointments/{id}`, and the writes, which go through exactly the booking
//! rules the phone uses (the [`otto_shop::Shop`] façade) and are recorded in the audit log:
//! `GET/POST /appointments/new` (book for a customer), `POST /appointments/{id}/move`,
//! `POST /appointments/{id}/cancel`. A refused write comes back to its form with the reason.

use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use chrono::{Datelike, Duration, NaiveDate, NaiveTime, Timelike, Utc};
use otto_core::records::{Appointment, BookingSource, Id};
use otto_shop::{BookingError, BookingRequest};
use serde::Deserialize;

use super::auth::Staff;
use super::today::customer_names;
use super::{Layout, PageError, PageResult, audit, back_with, render, view};
use crate::server::AppState;
use crate::server::error::HttpError;

/// One appointment in a list.
pub struct AppointmentRow {
    pub id: Id,
    pub when: String,
    pub time: String,
    pub service: String,
    pub customer_id: Id,
    pub customer: String,
    pub bay: u32,
    pub status: String,
}

/// One day of the week view.
pub struct DayColumn {
    pub day: String,
    pub today: bool,
    pub appointments: Vec<AppointmentRow>,
}

#[derive(Template)]
#[template(path = "appointments.html")]
struct AppointmentsPage {
    layout: Layout,
    q: String,
    week_of: String,
    prev_week: String,
    next_week: String,
    days: Vec<DayColumn>,
    found: Vec<AppointmentRow>,
}

/// Query of `GET /appointments`.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    /// Any day of the week to show, YYYY-MM-DD; this week by default.
    week: Option<String>,
    /// Search text (customer name or phone, service).
    q: Option<String>,
}

fn parse_day(text: &str) -> Result<NaiveDate, HttpError> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| HttpError::BadRequest("a date must be YYYY-MM-DD".into()))
}

async fn rows(state: &AppState, list: &[Appointment]) -> Result<Vec<AppointmentRow>, PageError> {
    let shop = state.calls.shop.config();
    let tz = shop.time_zone;
    let names = customer_names(
        state.calls.shop.store(),
        list.iter().map(|a| a.customer_id).collect(),
    )
    .await?;
    Ok(list
        .iter()
        .map(|a| AppointmentRow {
            id: a.id,
            when: view::date_time(a.start, tz),
            time: view::time(a.start, tz),
            service: view::service(shop, &a.service),
            customer_id: a.customer_id,
            customer: names
                .get(&a.customer_id)
                .map_or_else(String::new, |c| format!("{} {}", c.name, c.phone)),
            bay: a.bay,
            status: a.status.to_string(),
        })
        .collect())
}

/// `GET /appointments`.
pub async fn list(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Query(q): Query<ListQuery>,
) -> PageResult {
    let tz = state.calls.shop.config().time_zone;
    let store = state.calls.shop.store();
    let today = Utc::now().with_timezone(&tz).date_naive();
    let any_day = match q.week.as_deref().filter(|w| !w.trim().is_empty()) {
        Some(w) => parse_day(w)?,
        None => today,
    };
    let monday = any_day - Duration::days(i64::from(any_day.weekday().num_days_from_monday()));
    let text = q.q.unwrap_or_default().trim().to_lowercase();
    let mut days = Vec::new();
    let mut found = Vec::new();
    if text.is_empty() {
        let list = store
            .active_appointments_between(
                view::day_start(monday, tz),
                view::day_start(monday + Duration::days(7), tz),
            )
            .await?;
        let all = rows(&state, &list).await?;
        let mut all = list.iter().zip(all).collect::<Vec<_>>();
        for i in 0..7 {
            let day = monday + Duration::days(i);
            let (this, rest): (Vec<_>, Vec<_>) = all
                .into_iter()
                .partition(|(a, _)| a.start.with_timezone(&tz).date_naive() == day);
            all = rest;
            days.push(DayColumn {
                day: view::date(day),
                today: day == today,
                appointments: this.into_iter().map(|(_, r)| r).collect(),
            });
        }
    } else {
        let now = Utc::now();
        let list = store
            .active_appointments_between(now - Duration::days(1), now + Duration::days(90))
            .await?;
        found = rows(&state, &list)
            .await?
            .into_iter()
            .filter(|r| {
                r.customer.to_lowercase().contains(&text)
                    || r.service.to_lowercase().contains(&text)
            })
            .collect();
    }
    render(&AppointmentsPage {
        layout: Layout::new(&state, &staff, "Appointments", "appointments"),
        q: text,
        week_of: view::date(monday),
        prev_week: (monday - Duration::days(7)).to_string(),
        next_week: (monday + Duration::days(7)).to_string(),
        days,
        found,
    })
}

#[derive(Template)]
#[template(path = "appointment.html")]
struct AppointmentPage {
    layout: Layout,
    a: AppointmentRow,
    end: String,
    vehicle: String,
    notes: String,
    source: String,
    active: bool,
    day: String,
    time: String,
    reminders: Vec<super::reminders::ReminderRow>,
}

/// Query of pages that show a form's error.
#[derive(Debug, Deserialize)]
pub struct FlashQuery {
    pub error: Option<String>,
}

/// `GET /appointments/{id}`.
pub async fn detail(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(id): Path<Id>,
    Query(q): Query<FlashQuery>,
) -> PageResult {
    let tz = state.calls.shop.config().time_zone;
    let store = state.calls.shop.store();
    let a = store.appointment(id).await?.ok_or(PageError::NotFound)?;
    let vehicle = match a.vehicle_id {
        Some(v) => store.vehicle(v).await?.map(|v| view::vehicle(&v)),
        None => None,
    };
    let local = a.start.with_timezone(&tz);
    let row = rows(&state, std::slice::from_ref(&a)).await?.remove(0);
    render(&AppointmentPage {
        layout: Layout::new(&state, &staff, format!("Appointment #{id}"), "appointments")
            .flash(q.error),
        end: view::time(a.end, tz),
        vehicle: vehicle.unwrap_or_default(),
        notes: a.notes.clone().unwrap_or_default(),
        source: a.source.to_string(),
        active: a.status.is_active(),
        day: local.date_naive().to_string(),
        time: format!("{:02}:{:02}", local.hour(), local.minute()),
        reminders: super::reminders::ReminderRow::many(
            &store
                .reminders(&otto_store::ReminderQuery {
                    appointment_id: Some(id),
                    limit: 50,
                    ..otto_store::ReminderQuery::default()
                })
                .await?,
            tz,
        ),
        a: row,
    })
}

/// The shop-local start a form gives (`day` YYYY-MM-DD, `time` HH:MM).
fn form_start(
    state: &AppState,
    day: &str,
    time: &str,
) -> Result<chrono::DateTime<Utc>, &'static str> {
    let tz = state.calls.shop.config().time_zone;
    let day = NaiveDate::parse_from_str(day.trim(), "%Y-%m-%d")
        .map_err(|_| "the date must be YYYY-MM-DD")?;
    let time =
        NaiveTime::parse_from_str(time.trim(), "%H:%M").map_err(|_| "the time must be HH:MM")?;
    view::local_instant(day, time.hour(), time.minute(), tz)
        .ok_or("that local time does not exist (daylight saving change)")
}

/// A refused booking write: back to `back` with the rule that refused it; a store failure is
/// an internal error.
fn refused(e: BookingError, back: &str) -> PageResult {
    match e {
        BookingError::Store(e) => Err(HttpError::internal(e).into()),
        other => Ok(back_with(back, Some(&format!("Not done: {other}.")))),
    }
}

/// The move form.
#[derive(Debug, Deserialize)]
pub struct MoveForm {
    csrf: String,
    day: String,
    time: String,
}

/// `POST /appointments/{id}/move`.
pub async fn move_to(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(id): Path<Id>,
    Form(f): Form<MoveForm>,
) -> PageResult {
    staff.check_csrf(&f.csrf)?;
    let page = format!("/appointments/{id}");
    let store = state.calls.shop.store();
    let before = store.appointment(id).await?.ok_or(PageError::NotFound)?;
    let start = match form_start(&state, &f.day, &f.time) {
        Ok(s) => s,
        Err(why) => return Ok(back_with(&page, Some(why))),
    };
    let tz = state.calls.shop.config().time_zone;
    match state
        .calls
        .shop
        .reschedule(before.customer_id, id, start, Utc::now())
        .await
    {
        Ok(after) => {
            audit(
                &state,
                &staff,
                "appointment.move",
                format!("appointment #{id}"),
                format!(
                    "{} → {} (bay {} → {})",
                    view::date_time(before.start, tz),
                    view::date_time(after.start, tz),
                    before.bay,
                    after.bay
                ),
            )
            .await;
            Ok(back_with(&page, None))
        }
        Err(e) => refused(e, &page),
    }
}

/// The cancel form.
#[derive(Debug, Deserialize)]
pub struct CancelForm {
    csrf: String,
}

/// `POST /appointments/{id}/cancel`.
pub async fn cancel(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(id): Path<Id>,
    Form(f): Form<CancelForm>,
) -> PageResult {
    staff.check_csrf(&f.csrf)?;
    let page = format!("/appointments/{id}");
    let store = state.calls.shop.store();
    let before = store.appointment(id).await?.ok_or(PageError::NotFound)?;
    let tz = state.calls.shop.config().time_zone;
    match state
        .calls
        .shop
        .cancel(before.customer_id, id, Utc::now())
        .await
    {
        Ok(_) => {
            audit(
                &state,
                &staff,
                "appointment.cancel",
                format!("appointment #{id}"),
                format!(
                    "{} on {}",
                    view::service(state.calls.shop.config(), &before.service),
                    view::date_time(before.start, tz)
                ),
            )
            .await;
            Ok(back_with(&page, None))
        }
        Err(e) => refused(e, &page),
    }
}

#[derive(Template)]
#[template(path = "appointment_new.html")]
struct NewPage {
    layout: Layout,
    customer_id: Id,
    customer: String,
    vehicles: Vec<(Id, String)>,
    services: Vec<(String, String)>,
    day: String,
}

/// Query of `GET /appointments/new`.
#[derive(Debug, Deserialize)]
pub struct NewQuery {
    customer: Id,
    error: Option<String>,
}

/// `GET /appointments/new?customer=ID`.
pub async fn new_form(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Query(q): Query<NewQuery>,
) -> PageResult {
    let store = state.calls.shop.store();
    let shop = state.calls.shop.config();
    let c = store
        .customer(q.customer)
        .await?
        .ok_or(PageError::NotFound)?;
    let vehicles = store
        .vehicles_of(c.id)
        .await?
        .iter()
        .map(|v| (v.id, view::vehicle(v)))
        .collect();
    let tomorrow = Utc::now().with_timezone(&shop.time_zone).date_naive() + Duration::days(1);
    render(&NewPage {
        layout: Layout::new(&state, &staff, "New appointment", "appointments").flash(q.error),
        customer_id: c.id,
        customer: format!("{} {}", c.name, c.phone),
        vehicles,
        services: shop
            .services
            .iter()
            .map(|s| (s.id.clone(), s.name.clone()))
            .collect(),
        day: tomorrow.to_string(),
    })
}

/// The new-appointment form.
#[derive(Debug, Deserialize)]
pub struct NewForm {
    csrf: String,
    customer_id: Id,
    /// A vehicle id, or empty.
    vehicle_id: Option<String>,
    service: String,
    day: String,
    time: String,
    notes: Option<String>,
}

/// `POST /appointments/new`.
pub async fn create(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Form(f): Form<NewForm>,
) -> PageResult {
    staff.check_csrf(&f.csrf)?;
    let back = format!("/appointments/new?customer={}", f.customer_id);
    let vehicle_id = match f.vehicle_id.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(v) => match v.parse::<Id>() {
            Ok(v) => Some(v),
            Err(_) => return Ok(back_with(&back, Some("choose a vehicle from the list"))),
        },
    };
    let notes = f
        .notes
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_string);
    if notes.as_ref().is_some_and(|n| n.chars().count() > 500) {
        return Ok(back_with(
            &back,
            Some("notes may be at most 500 characters"),
        ));
    }
    let start = match form_start(&state, &f.day, &f.time) {
        Ok(s) => s,
        Err(why) => return Ok(back_with(&back, Some(why))),
    };
    let req = BookingRequest {
        customer_id: f.customer_id,
        vehicle_id,
        service_id: f.service.clone(),
        start,
        source: BookingSource::Dashboard,
        notes,
    };
    match state.calls.shop.book(req, Utc::now()).await {
        Ok(a) => {
            let tz = state.calls.shop.config().time_zone;
            audit(
                &state,
                &staff,
                "appointment.book",
                format!("appointment #{}", a.id),
                format!(
                    "{} on {} for customer #{} (bay {})",
                    view::service(state.calls.shop.config(), &a.service),
                    view::date_time(a.start, tz),
                    a.customer_id,
                    a.bay
                ),
            )
            .await;
            Ok(back_with(&format!("/appointments/{}", a.id), None))
        }
        Err(e) => refused(e, &back),
    }
}
