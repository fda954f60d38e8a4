//! Whole calls over the Twilio protocol that move and cancel an existing appointment, with
//! speech through the Deepgram fakes (selected by configuration, as in production) and the
//! rule-based dialogue; the records are checked in the database afterwards.

// Test code: a panic on a broken precondition is the failure message.
#![allow(clippy::unwrap_used)]

mod common;
mod vendors;

use chrono::Utc;
use otto_core::records::AppointmentStatus;

use common::{appointment, book_for_jordan, call_log, jordan, spawn_app};
use vendors::{Deepgram, two_turn_call};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_moves_an_appointment_to_the_time_asked_for() {
    let dg = Deepgram::start().await;
    let app = spawn_app(|c| dg.apply(c)).await;
    let (booked, (new_start, new_when)) = book_for_jordan(&app.shop).await;

    let record = two_turn_call(
        &app,
        &dg,
        &format!("I need to move my appointment to {new_when}."),
        "Yes, please.",
    )
    .await;

    let moved = appointment(&app, booked.id).await;
    assert_eq!(moved.start, new_start, "moved to {new_when}\n{record}");
    assert_eq!(moved.status, AppointmentStatus::Scheduled);
    assert_eq!(moved.service, booked.service);
    let store = app.shop.store();
    let customer = store.customer_by_phone(&jordan()).await.unwrap().unwrap();
    let upcoming = app.shop.upcoming(customer.id, Utc::now()).await.unwrap();
    assert_eq!(upcoming.len(), 1, "moved, not copied: {upcoming:?}");
    let call = call_log(&app, &record).await;
    assert_eq!(
        call.call.outcome.as_deref(),
        Some("rescheduled"),
        "{call:?}"
    );
    app.server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_cancels_an_appointment_after_confirming() {
    let dg = Deepgram::start().await;
    let app = spawn_app(|c| dg.apply(c)).await;
    let (booked, _) = book_for_jordan(&app.shop).await;

    let record = two_turn_call(&app, &dg, "Please cancel my appointment.", "Yes.").await;

    let after = appointment(&app, booked.id).await;
    assert_eq!(after.status, AppointmentStatus::Cancelled, "{record}");
    assert_eq!(after.start, booked.start);
    let call = call_log(&app, &record).await;
    assert_eq!(call.call.outcome.as_deref(), Some("cancelled"), "{call:?}");
    app.server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declining_the_cancellation_keeps_the_appointment() {
    let dg = Deepgram::start().await;
    let app = spawn_app(|c| dg.apply(c)).await;
    let (booked, _) = book_for_jordan(&app.shop).await;

    let record = two_turn_call(&app, &dg, "Please cancel my appointment.", "No, keep it.").await;

    let after = appointment(&app, booked.id).await;
    assert_eq!(after.status, AppointmentStatus::Scheduled, "{record}");
    assert_eq!(after.start, booked.start);
    app.server.shutdown().await.unwrap();
}
