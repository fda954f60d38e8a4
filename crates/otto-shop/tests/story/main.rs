//! The shop services' test story: one set of test functions, each run on a fresh SQLite file
//! database and, when `OTTO_TEST_DATABASE_URL` is set, on a fresh PostgreSQL database.

// Test code: a panic on a broken precondition is the failure message.
#![allow(clippy::unwrap_used)]

mod calendar;
mod calls;
mod seed;
mod shop;

use otto_store::story;

story! {
    shop: [
        books_within_rules_and_hides_other_customers,
        offered_slots_match_bookable_bays,
    ],
    calendar: [
        busy_blocks_are_neither_offered_nor_booked,
        an_unavailable_calendar_leaves_the_shop_open,
        a_busy_block_takes_one_bay_when_so_configured,
    ],
    calls: [
        the_recorder_stamps_turns_and_the_first_end_wins,
    ],
    seed: [
        demo_seed_is_deterministic_valid_and_idempotent,
    ],
}
