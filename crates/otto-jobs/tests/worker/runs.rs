//! The worker's test functions, run on each backend by `main.rs`.
//!
//! Time that matters (due times, leases, retry times) is a [`ManualClock`] the tests move by
//! hand; the only real waiting is the worker's 2 ms poll and checks of the store every 2 ms,
//! bounded by [`WAIT`] so a broken worker fails instead of hanging.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use otto_core::records::{Job, JobStatus};
use otto_jobs::{JobError, JobHandler, Registry, Worker, WorkerConfig};
use otto_shop::Clock;
use otto_store::testing::utc;
use otto_store::{NewJob, Store, StoreError};
use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// The longest a test waits for the worker to reach a state before it fails.
const WAIT: Duration = Duration::from_secs(20);
/// First retry delay in these tests, ms (the clock is moved past it by hand).
const BASE_MS: i64 = 1_000;

/// A clock that stands still until a test moves it.
#[derive(Debug)]
struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    fn new() -> Arc<Self> {
        Arc::new(Self(Mutex::new(utc(2026, 8, 6, 13, 0))))
    }

    fn advance(&self, by: chrono::Duration) {
        *self.0.lock().unwrap() += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

/// Counts runs per job id; fails the first `fail_first` runs of each job. With a `gate`,
/// each run first says it started and then waits for a permit.
struct Counting {
    runs: Mutex<HashMap<i64, u32>>,
    fail_first: u32,
    retryable: bool,
    gate: Option<(Arc<Notify>, Arc<Semaphore>)>,
}

impl Counting {
    fn new(fail_first: u32, retryable: bool) -> Arc<Self> {
        Arc::new(Self {
            runs: Mutex::new(HashMap::new()),
            fail_first,
            retryable,
            gate: None,
        })
    }

    fn runs(&self, id: i64) -> u32 {
        self.runs.lock().unwrap().get(&id).copied().unwrap_or(0)
    }
}

#[async_trait::async_trait]
impl JobHandler for Counting {
    fn kind(&self) -> &'static str {
        "count"
    }

    async fn run(&self, job: &Job) -> Result<(), JobError> {
        if let Some((started, permits)) = &self.gate {
            started.notify_one();
            permits.acquire().await.unwrap().forget();
        }
        let n = {
            let mut runs = self.runs.lock().unwrap();
            let n = runs.entry(job.id).or_insert(0);
            *n += 1;
            *n
        };
        if n <= self.fail_first {
            return Err(JobError {
                message: format!("failure {n}"),
                retryable: self.retryable,
                retry_at: None,
            });
        }
        Ok(())
    }
}

fn config(name: &str) -> WorkerConfig {
    WorkerConfig {
        name: name.into(),
        poll_ms: 2,
        batch: 16,
        concurrency: 4,
        lease_ms: 60_000,
        backoff_base_ms: BASE_MS as u64,
        backoff_max_ms: 8 * BASE_MS as u64,
    }
}

async fn enqueue(store: &Arc<dyn Store>, kind: &str, max_attempts: u32, at: DateTime<Utc>) -> Job {
    store
        .enqueue_job(&NewJob {
            kind: kind.into(),
            payload: "{}".into(),
            dedup_key: None,
            run_at: at,
            max_attempts,
        })
        .await
        .unwrap()
}

async fn job(store: &Arc<dyn Store>, id: i64) -> Job {
    store
        .jobs(None, 10_000)
        .await
        .unwrap()
        .into_iter()
        .find(|j| j.id == id)
        .unwrap()
}

/// Waits until job `id` satisfies `done`, returning it; fails after [`WAIT`].
async fn wait_for(store: &Arc<dyn Store>, id: i64, what: &str, done: impl Fn(&Job) -> bool) -> Job {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let j = job(store, id).await;
        if done(&j) {
            return j;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "job never became {what}: {j:?}"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

fn finished(j: &Job) -> bool {
    matches!(j.status, JobStatus::Done | JobStatus::Dead)
}

/// A worker running `handler` on `clock`, started.
fn start(
    store: &Arc<dyn Store>,
    handler: Arc<Counting>,
    clock: &Arc<ManualClock>,
    config: WorkerConfig,
) -> (CancellationToken, JoinHandle<()>) {
    let stop = CancellationToken::new();
    let worker =
        Worker::new(store.clone(), Registry::new().with(handler), config).with_clock(clock.clone());
    (stop.clone(), tokio::spawn(worker.run(stop)))
}

async fn stop(worker: (CancellationToken, JoinHandle<()>)) {
    worker.0.cancel();
    tokio::time::timeout(WAIT, worker.1)
        .await
        .expect("the worker stops")
        .unwrap();
}

/// Milliseconds from `clock`'s now to `at`.
fn ms_after(clock: &ManualClock, at: DateTime<Utc>) -> i64 {
    (at - clock.now()).num_milliseconds()
}

pub async fn a_job_runs_once_and_is_done(store: Arc<dyn Store>) {
    let clock = ManualClock::new();
    let handler = Counting::new(0, true);
    let j = enqueue(&store, "count", 3, clock.now()).await;
    let worker = start(&store, handler.clone(), &clock, config("w"));
    let done = wait_for(&store, j.id, "finished", finished).await;
    stop(worker).await;
    assert_eq!(handler.runs(j.id), 1);
    assert_eq!((done.status, done.attempts), (JobStatus::Done, 1));
    assert_eq!(done.lease_owner, None, "the lease is released");
}

pub async fn retryable_failures_are_retried_with_backoff_then_succeed(store: Arc<dyn Store>) {
    let clock = ManualClock::new();
    let handler = Counting::new(2, true);
    let j = enqueue(&store, "count", 5, clock.now()).await;
    let worker = start(&store, handler.clone(), &clock, config("w"));

    // First failure: back to pending, due one base delay (±20 %) later.
    let first = wait_for(&store, j.id, "retried once", |j| {
        j.status == JobStatus::Pending && j.attempts == 1
    })
    .await;
    assert_eq!(first.last_error.as_deref(), Some("failure 1"));
    let delay = ms_after(&clock, first.run_at);
    assert!((800..=1_200).contains(&delay), "first backoff {delay} ms");
    // Not due while the clock stands still: a few polls later it has not run again.
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(handler.runs(j.id), 1);
    assert_eq!(job(&store, j.id).await.status, JobStatus::Pending);

    // Second failure: the delay doubles.
    clock.advance(chrono::Duration::milliseconds(delay));
    let second = wait_for(&store, j.id, "retried twice", |j| {
        j.status == JobStatus::Pending && j.attempts == 2
    })
    .await;
    let delay = ms_after(&clock, second.run_at);
    assert!(
        (1_600..=2_400).contains(&delay),
        "second backoff {delay} ms"
    );

    clock.advance(chrono::Duration::milliseconds(delay));
    let done = wait_for(&store, j.id, "finished", finished).await;
    stop(worker).await;
    assert_eq!(handler.runs(j.id), 3);
    assert_eq!((done.status, done.attempts), (JobStatus::Done, 3));
    assert_eq!(done.last_error.as_deref(), Some("failure 2"));
}

pub async fn permanent_failures_unknown_kinds_and_spent_attempts_are_buried(store: Arc<dyn Store>) {
    let clock = ManualClock::new();
    let permanent = Counting::new(1, false);
    let j = enqueue(&store, "count", 5, clock.now()).await;
    let stranger = enqueue(&store, "no.such.kind", 5, clock.now()).await;
    let worker = start(&store, permanent.clone(), &clock, config("w"));
    let dead = wait_for(&store, j.id, "finished", finished).await;
    let s = wait_for(&store, stranger.id, "finished", finished).await;
    stop(worker).await;
    assert_eq!(
        permanent.runs(j.id),
        1,
        "a permanent failure is not retried"
    );
    assert_eq!(
        (dead.status, dead.last_error.as_deref()),
        (JobStatus::Dead, Some("failure 1"))
    );
    assert_eq!(s.status, JobStatus::Dead);
    assert!(
        s.last_error.as_deref().unwrap_or("").contains("no handler"),
        "{s:?}"
    );

    // A job that keeps failing retryably is buried after max_attempts runs.
    let always = Counting::new(u32::MAX, true);
    let spent = enqueue(&store, "count", 3, clock.now()).await;
    let worker = start(&store, always.clone(), &clock, config("w"));
    for attempt in 1..=2 {
        wait_for(&store, spent.id, "retried", |j| {
            j.status == JobStatus::Pending && j.attempts == attempt
        })
        .await;
        clock.advance(chrono::Duration::milliseconds(10 * BASE_MS));
    }
    let dead = wait_for(&store, spent.id, "finished", finished).await;
    stop(worker).await;
    assert_eq!(always.runs(spent.id), 3, "tried max_attempts times");
    assert_eq!(
        (dead.status, dead.attempts, dead.last_error.as_deref()),
        (JobStatus::Dead, 3, Some("failure 3"))
    );
}

pub async fn a_dead_workers_job_is_claimed_again_after_its_lease(store: Arc<dyn Store>) {
    let clock = ManualClock::new();
    let j = enqueue(&store, "count", 3, clock.now()).await;
    // A worker claims the job and dies without finishing it.
    let lease = Duration::from_secs(60);
    let claimed = store
        .claim_jobs("dead-worker", clock.now(), lease, 10)
        .await
        .unwrap();
    assert_eq!(claimed.iter().map(|j| j.id).collect::<Vec<_>>(), vec![j.id]);

    let handler = Counting::new(0, true);
    let worker = start(&store, handler.clone(), &clock, config("live"));
    // While the lease holds, the live worker leaves the job alone.
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(handler.runs(j.id), 0);
    let held = job(&store, j.id).await;
    assert_eq!(held.lease_owner.as_deref(), Some("dead-worker"));

    clock.advance(chrono::Duration::seconds(61));
    let done = wait_for(&store, j.id, "finished", finished).await;
    stop(worker).await;
    assert_eq!(handler.runs(j.id), 1);
    assert_eq!((done.status, done.attempts), (JobStatus::Done, 2));
    // The dead worker's late report changes nothing.
    let e = store.complete_job(j.id, "dead-worker").await.unwrap_err();
    assert!(matches!(e, StoreError::LeaseLost(_)), "{e:?}");
}

pub async fn a_job_claimed_past_its_attempts_is_buried_without_running(store: Arc<dyn Store>) {
    let clock = ManualClock::new();
    let j = enqueue(&store, "count", 1, clock.now()).await;
    // Its only attempt's worker dies; the next claim would be attempt 2 of 1.
    store
        .claim_jobs("dead-worker", clock.now(), Duration::from_secs(60), 10)
        .await
        .unwrap();
    clock.advance(chrono::Duration::seconds(61));
    let handler = Counting::new(0, true);
    let worker = start(&store, handler.clone(), &clock, config("live"));
    let dead = wait_for(&store, j.id, "finished", finished).await;
    stop(worker).await;
    assert_eq!(handler.runs(j.id), 0);
    assert_eq!((dead.status, dead.attempts), (JobStatus::Dead, 2));
    assert!(
        dead.last_error
            .as_deref()
            .unwrap_or("")
            .contains("out of attempts")
    );
}

pub async fn stopping_finishes_the_jobs_in_flight(store: Arc<dyn Store>) {
    let clock = ManualClock::new();
    let started = Arc::new(Notify::new());
    let permits = Arc::new(Semaphore::new(0));
    let handler = Arc::new(Counting {
        runs: Mutex::new(HashMap::new()),
        fail_first: 0,
        retryable: true,
        gate: Some((started.clone(), permits.clone())),
    });
    let first = enqueue(&store, "count", 3, clock.now()).await;
    let second = enqueue(&store, "count", 3, clock.now()).await;
    let worker = start(
        &store,
        handler.clone(),
        &clock,
        WorkerConfig {
            concurrency: 1,
            ..config("w")
        },
    );
    tokio::time::timeout(WAIT, started.notified())
        .await
        .expect("the first job starts");
    worker.0.cancel();
    // The worker waits for the job in flight: it cannot end while the handler is held.
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(!worker.1.is_finished(), "the worker ended mid-job");
    permits.add_permits(1);
    tokio::time::timeout(WAIT, worker.1)
        .await
        .expect("the worker stops")
        .unwrap();
    assert_eq!(handler.runs(first.id), 1);
    assert_eq!(job(&store, first.id).await.status, JobStatus::Done);
    let waiting = job(&store, second.id).await;
    assert_eq!(
        (waiting.status, waiting.attempts),
        (JobStatus::Pending, 0),
        "nothing is claimed after the stop"
    );
}

pub async fn two_workers_run_each_of_500_jobs_exactly_once(store: Arc<dyn Store>) {
    let clock = ManualClock::new();
    let handler = Counting::new(0, true);
    let mut ids = Vec::new();
    for _ in 0..500 {
        ids.push(enqueue(&store, "count", 3, clock.now()).await.id);
    }
    let a = start(&store, handler.clone(), &clock, config("a"));
    let b = start(&store, handler.clone(), &clock, config("b"));
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let done = store.jobs(Some(JobStatus::Done), 10_000).await.unwrap();
        if done.len() == 500 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} of 500 done",
            done.len()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop(a).await;
    stop(b).await;
    let runs: Vec<u32> = ids.iter().map(|id| handler.runs(*id)).collect();
    assert!(
        runs.iter().all(|&n| n == 1),
        "{} jobs ran other than once",
        runs.iter().filter(|&&n| n != 1).count()
    );
    let done = store.jobs(Some(JobStatus::Done), 10_000).await.unwrap();
    assert!(
        done.iter().all(|j| j.attempts == 1),
        "no job was claimed twice"
    );
}
