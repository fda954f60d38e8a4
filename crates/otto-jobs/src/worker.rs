//! The worker loop and its parts: [`WorkerConfig`], [`JobHandler`], [`Registry`], [`Worker`].

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use otto_core::records::Job;
use otto_store::{Store, StoreError};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

/// How the worker polls, leases and retries. Defaults suit a small shop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerConfig {
    /// This worker's name in leases (unique per process), e.g. "otto-1:4242".
    pub name: String,
    /// Pause between polls when nothing was due, ms. Default 1000.
    pub poll_ms: u64,
    /// Jobs claimed per poll. Default 16.
    pub batch: u32,
    /// Jobs run at the same time. Default 4.
    pub concurrency: usize,
    /// Lease per claim, ms; a handler gets three quarters of it before it is cancelled and
    /// its job retried. Default 60,000.
    pub lease_ms: u64,
    /// First retry delay, ms; doubled per attempt, with ±20 % jitter. Default 5,000.
    pub backoff_base_ms: u64,
    /// Longest retry delay, ms. Default 600,000.
    pub backoff_max_ms: u64,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            name: format!("otto:{}", std::process::id()),
            poll_ms: 1_000,
            batch: 16,
            concurrency: 4,
            lease_ms: 60_000,
            backoff_base_ms: 5_000,
            backoff_max_ms: 600_000,
        }
    }
}

/// Why a job's attempt failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct JobError {
    /// What went wrong, for the job's `last_error` and the log (never a secret).
    pub message: String,
    /// Whether a later attempt may succeed (timeouts, 429, 5xx); `false` buries the job.
    pub retryable: bool,
}

impl JobError {
    /// A failure worth retrying later.
    pub fn retry(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            retryable: true,
        }
    }

    /// A failure no retry will fix (bad payload, invalid number).
    pub fn permanent(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            retryable: false,
        }
    }
}

/// What one job kind does. Handlers must be idempotent: a job may run again after a crash.
#[async_trait::async_trait]
pub trait JobHandler: Send + Sync {
    /// The job kind this handler runs, e.g. "reminder.sms".
    fn kind(&self) -> &'static str;

    /// Runs one attempt of `job`.
    ///
    /// # Errors
    /// [`JobError`]: retryable failures are tried again with backoff, others bury the job.
    async fn run(&self, job: &Job) -> Result<(), JobError>;
}

/// The handlers of every job kind, by kind.
#[derive(Default, Clone)]
pub struct Registry {
    handlers: HashMap<&'static str, Arc<dyn JobHandler>>,
}

impl Registry {
    /// An empty registry: a worker with it idles, burying any job it claims.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `handler` for its kind (a later handler for the same kind replaces it).
    pub fn with(mut self, handler: Arc<dyn JobHandler>) -> Self {
        self.handlers.insert(handler.kind(), handler);
        self
    }

    /// The registered kinds, sorted.
    pub fn kinds(&self) -> Vec<&'static str> {
        let mut k: Vec<_> = self.handlers.keys().copied().collect();
        k.sort_unstable();
        k
    }
}

/// One worker loop over a store. See the crate docs.
pub struct Worker {
    store: Arc<dyn Store>,
    registry: Registry,
    config: WorkerConfig,
}

impl Worker {
    /// A worker over `store` running `registry`'s handlers.
    pub fn new(store: Arc<dyn Store>, registry: Registry, config: WorkerConfig) -> Self {
        Self {
            store,
            registry,
            config,
        }
    }

    /// Runs until `stop` fires, then waits for the jobs in flight. Store errors are logged
    /// and the loop goes on after a poll interval.
    pub async fn run(self, stop: CancellationToken) {
        info!(worker = %self.config.name, kinds = ?self.registry.kinds(), "job worker started");
        let worker = Arc::new(self);
        let mut running: JoinSet<()> = JoinSet::new();
        let poll = Duration::from_millis(worker.config.poll_ms.max(1));
        loop {
            while running.try_join_next().is_some() {}
            let free = worker
                .config
                .concurrency
                .max(1)
                .saturating_sub(running.len());
            let mut claimed = 0;
            if free > 0 && !stop.is_cancelled() {
                let batch = worker.config.batch.min(free as u32).max(1);
                match worker.claim(Utc::now(), batch).await {
                    Ok(jobs) => {
                        claimed = jobs.len();
                        for job in jobs {
                            let w = worker.clone();
                            running.spawn(async move { w.execute(job).await });
                        }
                    }
                    Err(e) => warn!(error = %e, "claiming jobs failed"),
                }
            }
            let wait = if claimed > 0 { Duration::ZERO } else { poll };
            tokio::select! {
                () = stop.cancelled() => break,
                Some(_) = running.join_next(), if !running.is_empty() => {}
                () = tokio::time::sleep(wait) => {}
            }
        }
        while running.join_next().await.is_some() {}
        info!(worker = %worker.config.name, "job worker stopped");
    }

    /// Claims up to `limit` due jobs at `now`.
    async fn claim(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<Job>, StoreError> {
        let lease = Duration::from_millis(self.config.lease_ms.max(1));
        self.store
            .claim_jobs(&self.config.name, now, lease, limit)
            .await
    }

    /// Runs one claimed job and records its outcome.
    async fn execute(&self, job: Job) {
        let owner = self.config.name.as_str();
        let outcome = match self.registry.handlers.get(job.kind.as_str()) {
            None => Err(JobError::permanent(format!(
                "no handler for job kind {:?}",
                job.kind
            ))),
            Some(_) if job.attempts > job.max_attempts => Err(JobError::permanent(
                "out of attempts (its worker stopped mid-run)",
            )),
            Some(handler) => {
                let deadline = Duration::from_millis((self.config.lease_ms * 3 / 4).max(1));
                match tokio::time::timeout(deadline, handler.run(&job)).await {
                    Ok(result) => result,
                    Err(_) => Err(JobError::retry(format!(
                        "timed out after {} ms",
                        deadline.as_millis()
                    ))),
                }
            }
        };
        let (label, recorded) = match outcome {
            Ok(()) => ("done", self.store.complete_job(job.id, owner).await),
            Err(e) if e.retryable && job.attempts < job.max_attempts => {
                let at = Utc::now() + self.backoff(job.attempts);
                debug!(job = job.id, kind = %job.kind, error = %e, "job failed; retrying");
                (
                    "retried",
                    self.store.retry_job(job.id, owner, at, &e.message).await,
                )
            }
            Err(e) => {
                warn!(job = job.id, kind = %job.kind, error = %e, "job buried");
                (
                    "buried",
                    self.store.bury_job(job.id, owner, &e.message).await,
                )
            }
        };
        metrics::counter!("otto_jobs_total", "kind" => job.kind.clone(), "outcome" => label)
            .increment(1);
        match recorded {
            Ok(_) => {}
            Err(StoreError::LeaseLost(_)) => {
                warn!(job = job.id, "job outcome not recorded: its lease ran out");
            }
            Err(e) => warn!(job = job.id, error = %e, "job outcome not recorded"),
        }
    }

    /// The delay before retry number `attempts`: base × 2^(attempts-1), capped, ±20 %.
    fn backoff(&self, attempts: u32) -> chrono::Duration {
        let base = self.config.backoff_base_ms as f64;
        let max = self.config.backoff_max_ms as f64;
        let exp = base * 2f64.powi(attempts.saturating_sub(1).min(30) as i32);
        let ms = exp.min(max) * (0.8 + 0.4 * fastrand::f64());
        chrono::Duration::milliseconds(ms as i64)
    }
}
