//! `GET /customers?q=` (search by name, phone or VIN) and `GET /customers/{id}` (vehicles with
//! their service history, upcoming and past appointments, calls).

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use chrono::{DateTime, Utc};
use otto_core::records::{Customer, Id};
use otto_store::CallQuery;
use serde::Deserialize;

use super::appointments::AppointmentRow;
use super::auth::Staff;
use super::calls::CallRow;
use super::{Layout, PageError, PageResult, render, view};
use crate::server::AppState;

#[derive(Template)]
#[template(path = "customers.html")]
struct CustomersPage {
    layout: Layout,
    q: String,
    customers: Vec<Customer>,
}

/// Query of `GET /customers`.
#[derive(Debug, Deserialize)]
pub struct SearchQuery {
    q: Option<String>,
}

/// `GET /customers`.
pub async fn list(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Query(q): Query<SearchQuery>,
) -> PageResult {
    let text = q.q.unwrap_or_default();
    let text = text.trim();
    if text.chars().count() > 100 {
        return Err(
            crate::server::error::HttpError::BadRequest("search text is too long".into()).into(),
        );
    }
    let customers = state.calls.shop.store().search_customers(text, 100).await?;
    render(&CustomersPage {
        layout: Layout::new(&state, &staff, "Customers", "customers"),
        q: text.to_string(),
        customers,
    })
}

/// A vehicle with its history, as the customer page shows it.
pub struct VehicleBlock {
    pub name: String,
    pub vin: String,
    pub plate: String,
    pub mileage: String,
    /// (date, work, cost)
    pub history: Vec<(String, String, String)>,
}

#[derive(Template)]
#[template(path = "customer.html")]
struct CustomerPage {
    layout: Layout,
    c: Customer,
    address: String,
    vehicles: Vec<VehicleBlock>,
    upcoming: Vec<AppointmentRow>,
    past: Vec<AppointmentRow>,
    calls: Vec<CallRow>,
}

/// `GET /customers/{id}`.
pub async fn detail(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Path(id): Path<Id>,
) -> PageResult {
    let shop = state.calls.shop.config();
    let tz = shop.time_zone;
    let store = state.calls.shop.store();
    let c = store.customer(id).await?.ok_or(PageError::NotFound)?;
    let mut vehicles = Vec::new();
    for v in store.vehicles_of(id).await? {
        let history = store
            .service_history(v.id)
            .await?
            .into_iter()
            .map(|h| {
                (
                    view::date(h.date),
                    h.work,
                    format!("${}.{:02}", h.cost_cents / 100, h.cost_cents % 100),
                )
            })
            .collect();
        vehicles.push(VehicleBlock {
            name: view::vehicle(&v),
            vin: v.vin.map(|v| v.to_string()).unwrap_or_default(),
            plate: v.plate.clone().unwrap_or_default(),
            mileage: v.mileage.map(|m| format!("{m} mi")).unwrap_or_default(),
            history,
        });
    }
    let now = Utc::now();
    let all = store
        .appointments_of(id, DateTime::<Utc>::UNIX_EPOCH)
        .await?;
    let (upcoming, past): (Vec<_>, Vec<_>) = all
        .into_iter()
        .partition(|a| a.end > now && a.status.is_active());
    let row = |a: &otto_core::records::Appointment| AppointmentRow {
        id: a.id,
        when: view::date_time(a.start, tz),
        time: view::time(a.start, tz),
        service: view::service(shop, &a.service),
        customer_id: a.customer_id,
        customer: c.name.clone(),
        bay: a.bay,
        status: a.status.to_string(),
    };
    let upcoming = upcoming.iter().map(row).collect();
    let past = past.iter().rev().map(row).collect();
    let calls = store
        .calls(&CallQuery {
            customer_id: Some(id),
            limit: 100,
            ..CallQuery::default()
        })
        .await?;
    let calls = CallRow::many(store, &calls, tz).await?;
    let address = c
        .address
        .as_ref()
        .map(|a| format!("{}, {}, {} {}", a.street, a.city, a.state, a.postal_code))
        .unwrap_or_default();
    render(&CustomerPage {
        layout: Layout::new(&state, &staff, c.name.clone(), "customers"),
        c,
        address,
        vehicles,
        upcoming,
        past,
        calls,
    })
}
