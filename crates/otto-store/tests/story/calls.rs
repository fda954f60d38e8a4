//! Call logs, transcript turns and reminders.

use std::sync::Arc;

use chrono::Duration;
use otto_core::records::{CallDirection, Speaker, TurnTimings};
use otto_store::{CallEnd, CallQuery, NewCall, NewToolAction, NewTurn, Store, StoreError};

use otto_store::testing::{customer, utc};

fn call(sid: &str, minute: u32) -> NewCall {
    NewCall {
        call_sid: sid.into(),
        direction: CallDirection::Inbound,
        from: "+15555550123".into(),
        to: "+15555550100".into(),
        started_at: utc(2030, 3, 5, 15, minute),
        customer_id: None,
    }
}

fn turn(speaker: Speaker, text: &str) -> NewTurn {
    NewTurn {
        speaker,
        text: text.into(),
        at: utc(2030, 3, 5, 15, 1),
        interrupted: false,
        timings: None,
        seq: None,
    }
}

pub async fn start_call_is_idempotent_and_turns_are_numbered(store: Arc<dyn Store>) {
    let first = store.start_call(&call("CA1", 0)).await.unwrap();
    assert_eq!(first.call_sid, "CA1");
    assert_eq!(first.direction, CallDirection::Inbound);
    assert_eq!(first.ended_at, None);
    // A repeated start (webhook retry) returns the same call, unchanged.
    let again = store.start_call(&call("CA1", 5)).await.unwrap();
    assert_eq!(again, first);

    let t0 = store
        .append_turn(
            first.id,
            &turn(Speaker::Agent, "Thanks for calling Otto's Auto."),
        )
        .await
        .unwrap();
    let t1 = store
        .append_turn(first.id, &turn(Speaker::Caller, "I need an oil change."))
        .await
        .unwrap();
    let mut cut = turn(Speaker::Agent, "Sure, what day");
    cut.interrupted = true;
    let t2 = store.append_turn(first.id, &cut).await.unwrap();
    assert_eq!((t0.seq, t1.seq, t2.seq), (0, 1, 2));
    assert!(t2.interrupted);

    // Another call numbers its turns from 0.
    let other = store.start_call(&call("CA2", 10)).await.unwrap();
    let o0 = store
        .append_turn(other.id, &turn(Speaker::Caller, "hi"))
        .await
        .unwrap();
    assert_eq!(o0.seq, 0);

    let record = store.call_with_turns(first.id).await.unwrap().unwrap();
    assert_eq!(record.call, first);
    assert_eq!(record.turns, vec![t0, t1, t2]);
    assert_eq!(store.call_with_turns(9999).await.unwrap(), None);

    let e = store
        .append_turn(9999, &turn(Speaker::Caller, "x"))
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::NotFound { .. }), "{e:?}");

    let all = CallQuery {
        limit: 10,
        ..CallQuery::default()
    };
    let recent = store.calls(&all).await.unwrap();
    let sids: Vec<&str> = recent.iter().map(|c| c.call_sid.as_str()).collect();
    assert_eq!(sids, ["CA2", "CA1"]);
    let one = CallQuery {
        limit: 1,
        ..all.clone()
    };
    assert_eq!(store.calls(&one).await.unwrap().len(), 1);
    // Filters: by start time (half-open), by outcome ("" = none yet), by customer.
    let since = CallQuery {
        since: Some(utc(2030, 3, 5, 15, 10)),
        ..all.clone()
    };
    assert_eq!(sid_list(&store, &since).await, ["CA2"]);
    let until = CallQuery {
        until: Some(utc(2030, 3, 5, 15, 10)),
        ..all.clone()
    };
    assert_eq!(sid_list(&store, &until).await, ["CA1"]);
    let no_outcome = CallQuery {
        outcome: Some(String::new()),
        ..all.clone()
    };
    assert_eq!(sid_list(&store, &no_outcome).await, ["CA2", "CA1"]);
    let booked = CallQuery {
        outcome: Some("booked".into()),
        ..all.clone()
    };
    assert!(sid_list(&store, &booked).await.is_empty());
    let nobody = CallQuery {
        customer_id: Some(4242),
        ..all
    };
    assert!(sid_list(&store, &nobody).await.is_empty());
}

async fn sid_list(store: &Arc<dyn Store>, q: &CallQuery) -> Vec<String> {
    store
        .calls(q)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.call_sid)
        .collect()
}

pub async fn timings_and_tool_actions_are_kept_with_the_call(store: Arc<dyn Store>) {
    let c = store.start_call(&call("CA7", 0)).await.unwrap();
    store
        .append_turn(c.id, &turn(Speaker::Caller, "oil change tomorrow"))
        .await
        .unwrap();
    let timings = TurnTimings {
        transcript_ms: 310,
        first_text_ms: 420,
        first_audio_ms: 560,
        first_frame_ms: 575,
    };
    let reply = NewTurn {
        timings: Some(timings),
        ..turn(Speaker::Agent, "Nine works.")
    };
    store.append_turn(c.id, &reply).await.unwrap();
    store
        .record_tool_action(&NewToolAction {
            call_id: c.id,
            at: utc(2030, 3, 5, 15, 2),
            tool: "book_appointment".into(),
            detail: "x".repeat(2500),
        })
        .await
        .unwrap();
    let record = store.call_with_turns(c.id).await.unwrap().unwrap();
    assert_eq!(record.turns[0].timings, None);
    assert_eq!(record.turns[1].timings, Some(timings));
    assert_eq!(record.actions.len(), 1);
    assert_eq!(record.actions[0].tool, "book_appointment");
    assert_eq!(
        record.actions[0].detail.chars().count(),
        2000,
        "cut, not refused"
    );
    // An action on a call that does not exist is refused.
    let e = store
        .record_tool_action(&NewToolAction {
            call_id: 9999,
            at: utc(2030, 3, 5, 15, 2),
            tool: "book_appointment".into(),
            detail: "x".into(),
        })
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Rejected(_)), "{e:?}");
    // Progress noted before the end stays, and the end's own fields win only when given.
    store
        .note_call(c.id, Some("booked"), Some("Booked oil change."), None)
        .await
        .unwrap();
    let noted = store.call_by_sid("CA7").await.unwrap().unwrap();
    assert_eq!(noted.outcome.as_deref(), Some("booked"));
    assert_eq!(noted.summary.as_deref(), Some("Booked oil change."));
    assert_eq!(noted.ended_at, None);
    let e = store.note_call(9999, None, None, None).await.unwrap_err();
    assert!(matches!(e, StoreError::NotFound { .. }), "{e:?}");

    // Otto's turns by time: [since, until).
    let turns = store
        .agent_turns_between(utc(2030, 3, 5, 15, 0), utc(2030, 3, 5, 15, 2), 100)
        .await
        .unwrap();
    assert_eq!(turns.len(), 1);
    assert_eq!(turns[0].text, "Nine works.");
    let none = store
        .agent_turns_between(utc(2030, 3, 5, 15, 2), utc(2030, 3, 5, 16, 0), 100)
        .await
        .unwrap();
    assert!(none.is_empty());

    // PII retention: a cutoff after the call forgets what was said, keeps the call.
    let other = store.start_call(&call("CA6", 59)).await.unwrap();
    store
        .append_turn(other.id, &turn(Speaker::Caller, "a later call"))
        .await
        .unwrap();
    let kept_turns = store
        .agent_turns_between(utc(2030, 3, 5, 15, 0), utc(2030, 3, 5, 15, 2), 100)
        .await
        .unwrap();
    assert_eq!(kept_turns.len(), 1);
    let forgotten = store
        .forget_transcripts_before(utc(2030, 3, 5, 15, 30))
        .await
        .unwrap();
    assert_eq!(forgotten, 2, "the two turns of CA7");
    let record = store.call_with_turns(c.id).await.unwrap().unwrap();
    assert!(record.turns.is_empty() && record.actions.is_empty());
    assert_eq!(record.call.summary, None);
    assert_eq!(
        record.call.outcome.as_deref(),
        Some("booked"),
        "the call stays"
    );
    let later = store.call_with_turns(other.id).await.unwrap().unwrap();
    assert_eq!(
        later.turns.len(),
        1,
        "a call after the cutoff keeps its transcript"
    );
}

pub async fn writer_numbered_turns_are_idempotent_and_never_renumbered(store: Arc<dyn Store>) {
    let c = store.start_call(&call("CA8", 0)).await.unwrap();
    let at = |seq: u32, text: &str| NewTurn {
        seq: Some(seq),
        ..turn(Speaker::Caller, text)
    };
    store.append_turn(c.id, &at(0, "zero")).await.unwrap();
    // Turn 1 was lost (a database outage outlasted its retries): turn 2 keeps its place.
    let two = store.append_turn(c.id, &at(2, "two")).await.unwrap();
    assert_eq!(two.seq, 2);
    // A retried write (the first commit's answer was lost) changes nothing.
    let again = store.append_turn(c.id, &at(2, "two, again")).await.unwrap();
    assert_eq!(again, two);
    // A store-numbered turn comes after the highest.
    let next = store
        .append_turn(c.id, &turn(Speaker::Agent, "next"))
        .await
        .unwrap();
    assert_eq!(next.seq, 3);
    let record = store.call_with_turns(c.id).await.unwrap().unwrap();
    let seqs: Vec<(u32, &str)> = record
        .turns
        .iter()
        .map(|t| (t.seq, t.text.as_str()))
        .collect();
    assert_eq!(seqs, [(0, "zero"), (2, "two"), (3, "next")]);
    let e = store.append_turn(9999, &at(0, "x")).await.unwrap_err();
    assert!(matches!(e, StoreError::NotFound { .. }), "{e:?}");
}

pub async fn concurrent_turns_get_distinct_seq(store: Arc<dyn Store>) {
    let c = store.start_call(&call("CA9", 0)).await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..12 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .append_turn(c.id, &turn(Speaker::Caller, &format!("turn {i}")))
                .await
        }));
    }
    let mut seqs = Vec::new();
    for t in tasks {
        seqs.push(t.await.unwrap().unwrap().seq);
    }
    seqs.sort_unstable();
    assert_eq!(seqs, (0..12).collect::<Vec<u32>>());
}

pub async fn end_call_is_safe_to_repeat_and_out_of_order(store: Arc<dyn Store>) {
    let owner = store
        .create_customer(&customer("Jordan Smith", "555-555-0123"))
        .await
        .unwrap();
    let c = store.start_call(&call("CA3", 0)).await.unwrap();
    let end = CallEnd {
        ended_at: c.started_at + Duration::seconds(95),
        outcome: Some("booked".into()),
        summary: None,
        customer_id: Some(owner.id),
    };
    let ended = store.end_call("CA3", &end).await.unwrap();
    assert_eq!(ended.ended_at, Some(end.ended_at));
    assert_eq!(ended.duration_secs, Some(95));
    assert_eq!(ended.outcome.as_deref(), Some("booked"));
    assert_eq!(ended.customer_id, Some(owner.id));

    // A later, partial end (e.g. the status callback) fills in without losing anything.
    let later = CallEnd {
        ended_at: end.ended_at + Duration::seconds(30),
        outcome: None,
        summary: Some("Booked an oil change.".into()),
        customer_id: None,
    };
    let merged = store.end_call("CA3", &later).await.unwrap();
    assert_eq!(merged.ended_at, Some(end.ended_at));
    assert_eq!(merged.duration_secs, Some(95));
    assert_eq!(merged.outcome.as_deref(), Some("booked"));
    assert_eq!(merged.summary.as_deref(), Some("Booked an oil change."));
    assert_eq!(merged.customer_id, Some(owner.id));

    // Turns may still arrive after the end.
    let t = store
        .append_turn(c.id, &turn(Speaker::Agent, "Goodbye."))
        .await
        .unwrap();
    assert_eq!(t.seq, 0);

    // An end stamped before the start (clock skew) gives duration 0, not an error.
    let d = store.start_call(&call("CA4", 30)).await.unwrap();
    let skewed = CallEnd {
        ended_at: d.started_at - Duration::seconds(3),
        outcome: None,
        summary: None,
        customer_id: None,
    };
    assert_eq!(
        store.end_call("CA4", &skewed).await.unwrap().duration_secs,
        Some(0)
    );

    let e = store.end_call("CA-missing", &end).await.unwrap_err();
    assert!(matches!(e, StoreError::NotFound { .. }), "{e:?}");
    assert_eq!(store.call_by_sid("CA-missing").await.unwrap(), None);
}

pub async fn reset_deletes_shop_records_and_keeps_staff(store: Arc<dyn Store>) {
    let jordan = store
        .create_customer(&customer("Jordan Smith", "555-555-0123"))
        .await
        .unwrap();
    store
        .add_vehicle(&otto_store::testing::civic(jordan.id, None))
        .await
        .unwrap();
    let c = store.start_call(&call("CA9", 0)).await.unwrap();
    store
        .append_turn(c.id, &turn(Speaker::Caller, "hello"))
        .await
        .unwrap();
    store
        .create_message(&otto_store::NewMessage {
            call_id: Some(c.id),
            customer_id: Some(jordan.id),
            from_phone: "+15555550123".into(),
            caller_name: None,
            body: "call me back".into(),
            created_at: utc(2030, 3, 5, 15, 2),
        })
        .await
        .unwrap();
    store
        .create_staff(&otto_store::NewStaff {
            name: "kim".into(),
            role: otto_core::records::StaffRole::Staff,
            password_hash: "$argon2id$fake$kim".into(),
        })
        .await
        .unwrap();

    assert_eq!(store.reset_records().await.unwrap(), 1);
    assert_eq!(store.count_customers().await.unwrap(), 0);
    assert!(store.call_with_turns(c.id).await.unwrap().is_none());
    assert!(store.messages(false, 10).await.unwrap().is_empty());
    assert_eq!(store.list_staff().await.unwrap().len(), 1, "staff stay");
    // The store works as before: the same number can be a customer again.
    store
        .create_customer(&customer("Jordan Smith", "555-555-0123"))
        .await
        .unwrap();
}
