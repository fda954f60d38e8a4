//! Otto's background work: [`Worker`], the one loop every job kind runs in (the outbox and
//! reminders next), and [`JobHandler`], what a job kind implements.
//!
//! Jobs live in the store (`Store::enqueue_job`, `claim_jobs`, …), so they survive restarts
//! and several instances share them. The worker:
//! 1. claims due jobs in batches with a lease (`lease_ms`), so a job whose worker died is
//!    claimed again once the lease runs out;
//! 2. runs each with its kind's handler, several at a time (`concurrency`), each under a
//!    deadline shorter than the lease;
//! 3. completes it, retries it with exponential backoff and jitter (a retryable failure, while
//!    attempts remain), or buries it (a permanent failure, out of attempts, an unknown kind);
//! 4. stops on its cancellation token after the jobs in flight have finished.
//!
//! Due times, leases and retry times are read from a `otto_shop::Clock` (the system clock
//! unless [`Worker::with_clock`] says otherwise), so tests move time by hand instead of
//! sleeping. With no handler registered (the state of this build until reminders and the
//! calendar outbox arrive) the worker polls and idles; a job of a kind it does not know is
//! buried with "no handler for job kind …".
//!
//! At-least-once: a handler may run again after a crash or a lost lease, so handlers are
//! idempotent (e.g. they record the provider's id before reporting success). Outcomes are
//! counted in `otto_jobs_total{kind, outcome}`, `outcome` one of `done`, `retried`, `buried`.

mod worker;

pub use worker::{JobError, JobHandler, Registry, Worker, WorkerConfig, worker_name};
