//! The store test story: one set of test functions, each run on a fresh SQLite file database
//! and, when `OTTO_TEST_DATABASE_URL` is set, on a fresh PostgreSQL database.

// Test code: a panic on a broken precondition is the failure message.
#![allow(clippy::unwrap_used)]

mod booking;
mod calendar;
mod calls;
mod jobs;
mod messages;
mod records;
mod reminders;
mod staff;

use otto_store::story;

story! {
    records: [
        customers_round_trip_and_phone_is_unique,
        customer_search_by_name_or_phone_digits,
        vehicles_enforce_vin_year_and_owner,
        service_history_newest_first_and_checked,
        migrations_are_idempotent,
    ],
    booking: [
        booking_fills_bays_then_refuses,
        reschedule_and_status_follow_the_rules,
        fifty_racing_bookings_for_two_bays_give_two,
    ],
    calendar: [
        bookings_moves_and_cancellations_enqueue_calendar_syncs,
        calendar_state_and_drift_are_kept,
    ],
    calls: [
        start_call_is_idempotent_and_turns_are_numbered,
        concurrent_turns_get_distinct_seq,
        writer_numbered_turns_are_idempotent_and_never_renumbered,
        end_call_is_safe_to_repeat_and_out_of_order,
        timings_and_tool_actions_are_kept_with_the_call,
        reset_deletes_shop_records_and_keeps_staff,
    ],
    staff: [
        staff_accounts_sessions_and_audit,
    ],
    messages: [
        messages_are_listed_newest_first_and_handled_once,
    ],
    jobs: [
        jobs_are_claimed_once_and_finished_only_under_lease,
    ],
    reminders: [
        bookings_get_a_confirmation_with_its_job_and_moves_replace_it,
        reminders_change_only_from_the_expected_status,
        opt_outs_and_sms_threads,
    ],
}

#[tokio::test]
async fn unsupported_urls_are_refused_without_echoing_them() {
    for url in ["mysql://root:secret@db/otto", "otto.db", ""] {
        let e = otto_store::connect(url).await.unwrap_err();
        assert!(
            matches!(e, otto_store::StoreError::UnsupportedUrl),
            "{url}: {e:?}"
        );
        assert!(!e.to_string().contains("secret"));
    }
}

#[tokio::test]
async fn in_memory_sqlite_keeps_its_data_across_calls() {
    let store = otto_store::connect("sqlite::memory:").await.unwrap();
    assert_eq!(store.backend(), "sqlite");
    store
        .create_customer(&otto_store::testing::customer(
            "Jordan Smith",
            "555-555-0123",
        ))
        .await
        .unwrap();
    assert_eq!(store.count_customers().await.unwrap(), 1);
}
