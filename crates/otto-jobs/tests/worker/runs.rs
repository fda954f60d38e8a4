//! The worker's test functions, run on each backend by `main.rs`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use otto_core::records::{Job, JobStatus};
use otto_jobs::{JobError, JobHandler, Registry, Worker, WorkerConfig};
use otto_store::{NewJob, Store};
use tokio_util::sync::CancellationToken;

/// Counts runs per job id; fails the first `fail_first` attempts of each job.
struct Counting {
    runs: Mutex<HashMap<i64, u32>>,
    fail_first: u32,
    retryable: bool,
    pause: Duration,
}

impl Counting {
    fn new(fail_first: u32, retryable: bool) -> Arc<Self> {
        Arc::new(Self {
            runs: Mutex::new(HashMap::new()),
            fail_first,
            retryable,
            pause: Duration::ZERO,
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
        tokio::time::sleep(self.pause).await;
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
            });
        }
        Ok(())
    }
}

fn config(name: &str) -> WorkerConfig {
    WorkerConfig {
        name: name.into(),
        poll_ms: 10,
        batch: 16,
        concurrency: 4,
        lease_ms: 2_000,
        backoff_base_ms: 20,
        backoff_max_ms: 100,
    }
}

async fn enqueue(store: &Arc<dyn Store>, kind: &str, max_attempts: u32) -> Job {
    store
        .enqueue_job(&NewJob {
            kind: kind.into(),
            payload: "{}".into(),
            dedup_key: None,
            run_at: Utc::now(),
            max_attempts,
        })
        .await
        .unwrap()
}

/// Runs a worker until every job in `ids` has left pending/running, or 10 s pass.
async fn drain(store: &Arc<dyn Store>, worker: Worker, ids: &[i64]) {
    let stop = CancellationToken::new();
    let task = tokio::spawn(worker.run(stop.clone()));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while tokio::time::Instant::now() < deadline {
        let jobs = store.jobs(None, 10_000).await.unwrap();
        let open = jobs.iter().any(|j| {
            ids.contains(&j.id) && matches!(j.status, JobStatus::Pending | JobStatus::Running)
        });
        if !open {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop.cancel();
    task.await.unwrap();
}

async fn status(store: &Arc<dyn Store>, id: i64) -> Job {
    store
        .jobs(None, 10_000)
        .await
        .unwrap()
        .into_iter()
        .find(|j| j.id == id)
        .unwrap()
}

pub async fn a_job_runs_once_and_is_done(store: Arc<dyn Store>) {
    let handler = Counting::new(0, true);
    let job = enqueue(&store, "count", 3).await;
    let worker = Worker::new(
        store.clone(),
        Registry::new().with(handler.clone()),
        config("w"),
    );
    drain(&store, worker, &[job.id]).await;
    assert_eq!(handler.runs(job.id), 1);
    assert_eq!(status(&store, job.id).await.status, JobStatus::Done);
}

pub async fn retryable_failures_are_retried_then_succeed(store: Arc<dyn Store>) {
    let handler = Counting::new(2, true);
    let job = enqueue(&store, "count", 5).await;
    let worker = Worker::new(
        store.clone(),
        Registry::new().with(handler.clone()),
        config("w"),
    );
    drain(&store, worker, &[job.id]).await;
    assert_eq!(handler.runs(job.id), 3);
    let done = status(&store, job.id).await;
    assert_eq!((done.status, done.attempts), (JobStatus::Done, 3));
    assert_eq!(done.last_error.as_deref(), Some("failure 2"));
}

pub async fn permanent_failures_unknown_kinds_and_spent_attempts_are_buried(store: Arc<dyn Store>) {
    let permanent = Counting::new(1, false);
    let job = enqueue(&store, "count", 5).await;
    let stranger = enqueue(&store, "no.such.kind", 5).await;
    let worker = Worker::new(
        store.clone(),
        Registry::new().with(permanent.clone()),
        config("w"),
    );
    drain(&store, worker, &[job.id, stranger.id]).await;
    assert_eq!(
        permanent.runs(job.id),
        1,
        "a permanent failure is not retried"
    );
    assert_eq!(status(&store, job.id).await.status, JobStatus::Dead);
    let s = status(&store, stranger.id).await;
    assert_eq!(s.status, JobStatus::Dead);
    assert!(s.last_error.unwrap().contains("no handler"));

    let always = Counting::new(u32::MAX, true);
    let spent = enqueue(&store, "count", 3).await;
    let worker = Worker::new(
        store.clone(),
        Registry::new().with(always.clone()),
        config("w"),
    );
    drain(&store, worker, &[spent.id]).await;
    assert_eq!(always.runs(spent.id), 3, "tried max_attempts times");
    assert_eq!(status(&store, spent.id).await.status, JobStatus::Dead);
}

pub async fn a_dead_workers_job_is_claimed_again_after_its_lease(store: Arc<dyn Store>) {
    let job = enqueue(&store, "count", 3).await;
    // A worker claims the job and dies without finishing it.
    let claimed = store
        .claim_jobs("dead-worker", Utc::now(), Duration::from_millis(200), 10)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    let handler = Counting::new(0, true);
    let worker = Worker::new(
        store.clone(),
        Registry::new().with(handler.clone()),
        config("live"),
    );
    drain(&store, worker, &[job.id]).await;
    assert_eq!(handler.runs(job.id), 1);
    let done = status(&store, job.id).await;
    assert_eq!((done.status, done.attempts), (JobStatus::Done, 2));
    // The dead worker's late report changes nothing.
    assert!(store.complete_job(job.id, "dead-worker").await.is_err());
}

pub async fn stopping_finishes_the_jobs_in_flight(store: Arc<dyn Store>) {
    let handler = Arc::new(Counting {
        runs: Mutex::new(HashMap::new()),
        fail_first: 0,
        retryable: true,
        pause: Duration::from_millis(300),
    });
    let job = enqueue(&store, "count", 3).await;
    let stop = CancellationToken::new();
    let worker = Worker::new(
        store.clone(),
        Registry::new().with(handler.clone()),
        config("w"),
    );
    let task = tokio::spawn(worker.run(stop.clone()));
    // Stop once the job is running: the worker waits for it.
    while status(&store, job.id).await.status != JobStatus::Running {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    stop.cancel();
    task.await.unwrap();
    assert_eq!(handler.runs(job.id), 1);
    assert_eq!(status(&store, job.id).await.status, JobStatus::Done);
}

pub async fn two_workers_run_each_of_500_jobs_exactly_once(store: Arc<dyn Store>) {
    let handler = Counting::new(0, true);
    let mut ids = Vec::new();
    for _ in 0..500 {
        ids.push(enqueue(&store, "count", 3).await.id);
    }
    let stop = CancellationToken::new();
    let a = tokio::spawn(
        Worker::new(
            store.clone(),
            Registry::new().with(handler.clone()),
            config("a"),
        )
        .run(stop.clone()),
    );
    let b = tokio::spawn(
        Worker::new(
            store.clone(),
            Registry::new().with(handler.clone()),
            config("b"),
        )
        .run(stop.clone()),
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while tokio::time::Instant::now() < deadline
        && store
            .jobs(Some(JobStatus::Done), 10_000)
            .await
            .unwrap()
            .len()
            < 500
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.cancel();
    a.await.unwrap();
    b.await.unwrap();
    let runs: Vec<u32> = ids.iter().map(|id| handler.runs(*id)).collect();
    assert!(
        runs.iter().all(|&n| n == 1),
        "duplicates or misses: {:?}",
        runs.iter().filter(|&&n| n != 1).count()
    );
    assert_eq!(
        store
            .jobs(Some(JobStatus::Done), 10_000)
            .await
            .unwrap()
            .len(),
        500
    );
}
