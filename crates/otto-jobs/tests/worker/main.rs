//! The worker against a real store: once, retries with backoff, burial, a dead worker's job
//! reclaimed, two workers racing over 500 jobs, and a clean stop. Each test runs on SQLite
//! and, when `OTTO_TEST_DATABASE_URL` is set, on PostgreSQL.

// Test code: a panic on a broken precondition is the failure message.
#![allow(clippy::unwrap_used)]

mod runs;

use otto_store::story;

story! {
    runs: [
        a_job_runs_once_and_is_done,
        retryable_failures_are_retried_with_backoff_then_succeed,
        permanent_failures_unknown_kinds_and_spent_attempts_are_buried,
        a_dead_workers_job_is_claimed_again_after_its_lease,
        a_job_claimed_past_its_attempts_is_buried_without_running,
        stopping_finishes_the_jobs_in_flight,
        two_workers_run_each_of_500_jobs_exactly_once,
    ],
}
