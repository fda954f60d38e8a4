//! Whole calls over the Twilio protocol against the real server: the simulator plays Twilio
//! (signed webhook, media stream in real time, marks, clear), the caller's words are
//! synthesised with flite and heard by the local Whisper recogniser, and the records are
//! checked in the database afterwards: a booking, a move and a cancellation.

// Test code: a panic on a broken precondition is the failure message.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use chrono::Utc;
use otto_core::records::{AppointmentStatus, BookingSource, Speaker};
use otto_speech::tts::flite::Voice;
use otto_speech::tts::local::synthesize_mulaw;
use otto_twilio::sim::{CallerStep, SimConfig, SimRecord};
use secrecy::SecretString;

use common::{
    AUTH_TOKEN, JORDAN, appointment, book_for_jordan, call_log, jordan, run_script, spawn_app,
    speakable_slot,
};

fn say(text: &str) -> CallerStep {
    CallerStep::Speak(synthesize_mulaw(text, Voice::Kal).expect("flite synthesises"))
}

fn wait() -> CallerStep {
    CallerStep::WaitForReply {
        quiet: Duration::from_millis(1_500),
        max: Duration::from_secs(45),
    }
}

fn sim(app: &common::TestApp) -> SimConfig {
    SimConfig::new(
        app.url(),
        app.account_sid.clone(),
        SecretString::from(AUTH_TOKEN),
        JORDAN,
        "+15555550100",
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spoken_call_books_an_appointment() {
    let app = spawn_app(|_| {}).await;
    let (start, when) = speakable_slot(&app.shop).await;
    let script = [
        wait(),
        say(&format!("I need an oil change on {when}.")),
        wait(),
        say("Yes, please."),
        wait(),
    ];
    let record = run_script(&sim(&app), script).await;

    let store = app.shop.store();
    let customer = store.customer_by_phone(&jordan()).await.unwrap().unwrap();
    let upcoming = app.shop.upcoming(customer.id, Utc::now()).await.unwrap();
    assert_eq!(upcoming.len(), 1, "one booking: {upcoming:?}\n{record}");
    let a = &upcoming[0];
    assert_eq!(a.service, "oil_change");
    assert_eq!(a.start, start, "booked the time the caller asked for");
    assert_eq!(a.source, BookingSource::Phone);
    assert_eq!(a.status, AppointmentStatus::Scheduled);

    // The call log holds the conversation, committed turn by turn.
    let call = call_log(&app, &record).await;
    let caller_turns: Vec<&str> = call
        .turns
        .iter()
        .filter(|t| t.speaker == Speaker::Caller)
        .map(|t| t.text.as_str())
        .collect();
    assert!(caller_turns.len() >= 2, "{caller_turns:?}");
    assert!(
        call.turns
            .iter()
            .any(|t| t.speaker == Speaker::Agent && t.text.contains("Jordan")),
        "greeted by name: {:?}",
        call.turns
    );
    assert_eq!(call.call.outcome.as_deref(), Some("booked"));
    // Twilio behaviour held: `run_script` found nothing Twilio would reject.
    app.server.shutdown().await.unwrap();
}

/// The caller says each line after Otto's previous reply, then waits for the last reply.
async fn spoken_call(app: &common::TestApp, lines: &[&str]) -> SimRecord {
    let mut script = vec![wait()];
    for line in lines {
        script.push(say(line));
        script.push(wait());
    }
    run_script(&sim(app), script).await
}

async fn outcome(app: &common::TestApp, record: &SimRecord) -> Option<String> {
    call_log(app, record).await.call.outcome
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spoken_call_moves_an_appointment() {
    let app = spawn_app(|_| {}).await;
    let (booked, (new_start, new_when)) = book_for_jordan(&app.shop).await;
    let record = spoken_call(
        &app,
        &[
            &format!("I need to move my appointment to {new_when}."),
            "Yes, please.",
        ],
    )
    .await;
    let moved = appointment(&app, booked.id).await;
    assert_eq!(moved.start, new_start, "moved to {new_when}\n{record}");
    assert_eq!(moved.status, AppointmentStatus::Scheduled);
    assert_eq!(outcome(&app, &record).await.as_deref(), Some("rescheduled"));
    app.server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spoken_call_cancels_an_appointment() {
    let app = spawn_app(|_| {}).await;
    let (booked, _) = book_for_jordan(&app.shop).await;
    let record = spoken_call(&app, &["Please cancel my appointment.", "Yes."]).await;
    let after = appointment(&app, booked.id).await;
    assert_eq!(after.status, AppointmentStatus::Cancelled, "{record}");
    assert_eq!(outcome(&app, &record).await.as_deref(), Some("cancelled"));
    app.server.shutdown().await.unwrap();
}
