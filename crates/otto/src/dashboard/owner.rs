//! Owners only: `GET /staff` (accounts and the audit log of staff writes) and `POST /staff`
//! (add an account, as `otto staff add` does). Another role gets 403.

use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use otto_core::records::{AuditEntry, StaffMember, StaffRole};
use otto_store::{NewStaff, StoreError};
use serde::Deserialize;

use super::appointments::FlashQuery;
use super::auth::{Staff, hash_password};
use super::{Layout, PageResult, audit, back_with, render, view};
use crate::server::AppState;

#[derive(Template)]
#[template(path = "staff.html")]
struct StaffPage {
    layout: Layout,
    members: Vec<StaffMember>,
    log: Vec<(String, AuditEntry)>,
}

/// `GET /staff`.
pub async fn page(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Query(q): Query<FlashQuery>,
) -> PageResult {
    staff.owner()?;
    let tz = state.calls.shop.config().time_zone;
    let store = state.calls.shop.store();
    let members = store.list_staff().await?;
    let log = store
        .audit_log(200)
        .await?
        .into_iter()
        .map(|e| (view::date_time(e.at, tz), e))
        .collect();
    render(&StaffPage {
        layout: Layout::new(&state, &staff, "Staff", "staff").flash(q.error),
        members,
        log,
    })
}

/// The add-account form.
#[derive(Debug, Deserialize)]
pub struct AddForm {
    csrf: String,
    name: String,
    role: String,
    password: String,
}

/// `POST /staff`.
pub async fn add(
    State(state): State<Arc<AppState>>,
    staff: Staff,
    Form(f): Form<AddForm>,
) -> PageResult {
    staff.check_csrf(&f.csrf)?;
    staff.owner()?;
    let Ok(role) = f.role.parse::<StaffRole>() else {
        return Ok(back_with("/staff", Some("the role must be owner or staff")));
    };
    let password = f.password;
    let hash = match tokio::task::spawn_blocking(move || hash_password(&password)).await {
        Ok(Ok(h)) => h,
        Ok(Err(e)) => return Ok(back_with("/staff", Some(&e.to_string()))),
        Err(e) => return Err(crate::server::error::HttpError::internal(e).into()),
    };
    let new = NewStaff {
        name: f.name.trim().to_string(),
        role,
        password_hash: hash,
    };
    match state.calls.shop.store().create_staff(&new).await {
        Ok(m) => {
            audit(
                &state,
                &staff,
                "staff.add",
                format!("staff {}", m.name),
                format!("role {}", m.role),
            )
            .await;
            Ok(back_with("/staff", None))
        }
        Err(e @ (StoreError::Conflict(_) | StoreError::Rejected(_))) => {
            Ok(back_with("/staff", Some(&e.to_string())))
        }
        Err(e) => Err(e.into()),
    }
}
