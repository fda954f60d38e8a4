//! The call log's one writer: stamps with its clock, first end wins, unknown calls reported.

use std::sync::Arc;

use otto_core::records::{CallDirection, Speaker};
use otto_shop::{CallOutcome, CallRecorder, FixedClock};
use otto_store::Store;
use otto_store::testing::utc;

pub async fn the_recorder_stamps_turns_and_the_first_end_wins(store: Arc<dyn Store>) {
    let t0 = utc(2026, 8, 6, 13, 15);
    let recorder = CallRecorder::new(store.clone(), Arc::new(FixedClock(t0)));
    let call = recorder
        .start(
            "CA01",
            CallDirection::Inbound,
            "+15555550123",
            "+15555550100",
        )
        .await
        .unwrap();
    assert_eq!(call.row().started_at, t0);
    // A repeated start (Twilio retrying its webhook) finds the same call.
    let again = recorder
        .start(
            "CA01",
            CallDirection::Inbound,
            "+15555550123",
            "+15555550100",
        )
        .await
        .unwrap();
    assert_eq!(again.id(), call.id());

    let turn = call.turn(Speaker::Caller, "I need an oil change", false);
    assert_eq!(turn.at, t0);
    call.append(&turn).await.unwrap();
    call.append(&call.turn(Speaker::Agent, "Sure.", true))
        .await
        .unwrap();

    // The conversation ends first with its outcome; Twilio's late "completed" and a bogus
    // "failed" after it change nothing.
    call.end(CallOutcome {
        outcome: Some("booked".into()),
        summary: Some("Booked oil change".into()),
        customer_id: None,
    })
    .await
    .unwrap();
    let later = Some(utc(2026, 8, 6, 13, 30));
    assert!(
        recorder
            .terminal_status("CA01", "completed", later)
            .await
            .unwrap()
    );
    assert!(
        recorder
            .terminal_status("CA01", "failed", later)
            .await
            .unwrap()
    );
    let record = store.call_with_turns(call.id()).await.unwrap().unwrap();
    assert_eq!(record.call.outcome.as_deref(), Some("booked"));
    assert_eq!(record.call.ended_at, Some(t0));
    assert_eq!(record.turns.len(), 2);
    assert!(record.turns[1].interrupted);

    // A call that never connected ends with Twilio's status as its outcome.
    recorder
        .start("CA02", CallDirection::Inbound, "anonymous", "+15555550100")
        .await
        .unwrap();
    assert!(
        recorder
            .terminal_status("CA02", "no-answer", later)
            .await
            .unwrap()
    );
    let log = store.call_by_sid("CA02").await.unwrap().unwrap();
    assert_eq!(log.outcome.as_deref(), Some("no_answer"));
    assert_eq!(log.ended_at, later);

    // A callback for a call never started is reported, not recorded.
    assert!(
        !recorder
            .terminal_status("CA99", "completed", later)
            .await
            .unwrap()
    );
}
