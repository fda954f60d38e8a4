//! The worker loop and its parts: [`WorkerConfig`], [`JobHandler`], [`Registry`], [`Worker`].
//!
//! The worker reads "now" (due times, leases, retry times) only through its [`Clock`], so
//! tests move time by hand; handler deadlines and the poll pause are real (tokio) time.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use otto_core::records::Job;
use otto_shop::{Clock, SystemClock};
use otto_store::{Store, StoreError};
use tokio::task::{JoinError, JoinSet};
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, debug, error, info, info_span, warn};

/// How the worker polls, leases and retries. Defaults suit a small shop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerConfig {
    /// This worker's name in leases; it must differ between live workers, see
    /// [`worker_name`]. E.g. "otto-1:4242:9f3a".
    pub name: String,
    /// Pause between polls when nothing was due, ms. Default 1000.
    pub poll_ms: u64,
    /// Most jobs claimed per poll; a poll never claims more than the free `concurrency`
    /// slots, so a claimed job starts at once and its lease is not spent waiting. Default 16.
    pub batch: u32,
    /// Jobs run at the same time. Default 4.
    pub concurrency: usize,
    /// Lease per claim, ms; a handler gets three quarters of it before it is cancelled and
    /// its job retried. Default 60,000.
    pub lease_ms: u64,
    /// First retry delay, ms; doubled per attempt, with ±20 % jitter. Default 5,000.
    pub backoff_base_ms: u64,
    /// Longest retry delay before jitter, ms (so at most 1.2 × this; values above 30 days
    /// count as 30 days). Default 600,000.
    pub backoff_max_ms: u64,
}

/// A lease owner name for this process: `{prefix}:{pid}:{4 random hex digits}`. The random
/// part keeps two containers that share a host name setting and a pid (often 1) apart.
pub fn worker_name(prefix: &str) -> String {
    format!("{prefix}:{}:{:04x}", std::process::id(), fastrand::u16(..))
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            name: worker_name("otto"),
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
    /// When set, a retry runs at this instant instead of after the backoff delay (a send
    /// waiting for the end of quiet hours, or for a callback).
    pub retry_at: Option<DateTime<Utc>>,
}

impl JobError {
    /// A failure worth retrying later.
    pub fn retry(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            retryable: true,
            retry_at: None,
        }
    }

    /// A job that should run again at `at` (it still counts as an attempt).
    pub fn retry_at(at: DateTime<Utc>, message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            retryable: true,
            retry_at: Some(at),
        }
    }

    /// A failure no retry will fix (bad payload, invalid number).
    pub fn permanent(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            retryable: false,
            retry_at: None,
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
    clock: Arc<dyn Clock>,
}

impl Worker {
    /// A worker over `store` running `registry`'s handlers, on the system clock.
    pub fn new(store: Arc<dyn Store>, registry: Registry, config: WorkerConfig) -> Self {
        Self {
            store,
            registry,
            config,
            clock: Arc::new(SystemClock),
        }
    }

    /// The same worker reading "now" from `clock` (tests move it by hand).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Runs until `stop` fires, then waits for the jobs in flight (claiming no more). Store
    /// errors are logged and the loop goes on after a poll interval; a handler that panics is
    /// logged and its job left to be claimed again when its lease runs out.
    pub async fn run(self, stop: CancellationToken) {
        info!(worker = %self.config.name, kinds = ?self.registry.kinds(), "job worker started");
        let worker = Arc::new(self);
        let mut running: JoinSet<()> = JoinSet::new();
        let poll = Duration::from_millis(worker.config.poll_ms.max(1));
        loop {
            while let Some(ended) = running.try_join_next() {
                reap(ended);
            }
            let free = worker
                .config
                .concurrency
                .max(1)
                .saturating_sub(running.len());
            let mut claimed = 0;
            if free > 0 && !stop.is_cancelled() {
                let batch = worker.config.batch.min(free as u32).max(1);
                match worker.claim(worker.clock.now(), batch).await {
                    Ok(jobs) => {
                        claimed = jobs.len();
                        for job in jobs {
                            let w = worker.clone();
                            let span = info_span!("job", id = job.id, kind = %job.kind);
                            running.spawn(async move { w.execute(job).await }.instrument(span));
                        }
                    }
                    Err(e) => warn!(error = %e, "claiming jobs failed"),
                }
            }
            let wait = if claimed > 0 { Duration::ZERO } else { poll };
            tokio::select! {
                () = stop.cancelled() => break,
                Some(ended) = running.join_next(), if !running.is_empty() => reap(ended),
                () = tokio::time::sleep(wait) => {}
            }
        }
        while let Some(ended) = running.join_next().await {
            reap(ended);
        }
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
                let deadline =
                    Duration::from_millis((self.config.lease_ms.saturating_mul(3) / 4).max(1));
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
                let at = e
                    .retry_at
                    .unwrap_or_else(|| self.clock.now() + backoff(&self.config, job.attempts));
                debug!(error = %e, retry_at = %at, "job failed; retrying");
                (
                    "retried",
                    self.store.retry_job(job.id, owner, at, &e.message).await,
                )
            }
            Err(e) => {
                warn!(error = %e, attempts = job.attempts, "job buried");
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
                warn!("job outcome not recorded: its lease ran out and another worker holds it");
            }
            Err(e) => warn!(error = %e, "job outcome not recorded"),
        }
    }
}

/// The longest retry delay whatever the configuration says: 30 days, ms.
const BACKOFF_LIMIT_MS: f64 = 30.0 * 86_400_000.0;

/// The delay before retry number `attempts` (1 after the first failure):
/// `backoff_base_ms × 2^(attempts-1)`, capped at `backoff_max_ms` (and 30 days), then ±20 %
/// jitter so jobs that failed together do not retry together.
fn backoff(config: &WorkerConfig, attempts: u32) -> chrono::Duration {
    let base = config.backoff_base_ms as f64;
    let max = (config.backoff_max_ms as f64).min(BACKOFF_LIMIT_MS);
    let exp = base * 2f64.powi(attempts.saturating_sub(1).min(30) as i32);
    let ms = exp.min(max) * (0.8 + 0.4 * fastrand::f64());
    chrono::Duration::milliseconds(ms as i64)
}

/// Logs a job task that did not end normally (a handler panicked). Its job stays `running`
/// until the lease runs out, then is claimed again and counts the attempt.
fn reap(ended: Result<(), JoinError>) {
    if let Err(e) = ended {
        error!(error = %e, "job task failed; its job will be claimed again after its lease");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_per_attempt_within_jitter_and_stops_at_the_cap() {
        let config = WorkerConfig {
            backoff_base_ms: 1_000,
            backoff_max_ms: 10_000,
            ..WorkerConfig::default()
        };
        for _ in 0..200 {
            for (attempts, centre) in [(1, 1_000), (2, 2_000), (3, 4_000), (4, 8_000), (9, 10_000)]
            {
                let ms = backoff(&config, attempts).num_milliseconds();
                assert!(
                    (centre * 8 / 10..=centre * 12 / 10).contains(&ms),
                    "attempt {attempts}: {ms} ms"
                );
            }
        }
        assert!(backoff(&config, u32::MAX).num_milliseconds() <= 12_000);
        let huge = WorkerConfig {
            backoff_base_ms: u64::MAX,
            backoff_max_ms: u64::MAX,
            ..WorkerConfig::default()
        };
        assert!(backoff(&huge, u32::MAX) <= chrono::Duration::days(36));
    }

    #[test]
    fn worker_names_carry_the_prefix_and_pid_and_differ() {
        let a = worker_name("host");
        assert!(
            a.starts_with(&format!("host:{}:", std::process::id())),
            "{a}"
        );
        let names: std::collections::HashSet<_> = (0..20).map(|_| worker_name("host")).collect();
        assert!(names.len() > 1, "the random part varies");
    }
}
