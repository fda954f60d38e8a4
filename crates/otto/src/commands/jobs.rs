//! `otto worker` (the background job worker and the reminder scheduler alone) and
//! `otto jobs list`.

use std::sync::Arc;

use otto_core::records::JobStatus;
use otto_jobs::{Registry, Worker, WorkerConfig};
use tokio_util::sync::CancellationToken;

use super::open_shop;
use crate::config::Config;
use crate::reminders::send::SendReminder;
use crate::reminders::{Reminders, Scheduler};

/// The job kinds this build runs: sending reminders (a job of an unknown kind is buried).
pub fn registry(reminders: &Reminders) -> Registry {
    Registry::new().with(Arc::new(SendReminder::new(reminders.clone())))
}

/// The worker settings of `config` (`worker`, lease names from `server.instance`).
pub fn worker_config(config: &Config) -> WorkerConfig {
    config.worker.worker_config(&config.server.instance)
}

/// Runs the job worker over `reminders`' store (the one the server uses, so an in-memory
/// database is shared) and the reminder scheduler until `stop`, then waits for the jobs in
/// flight.
pub async fn run_background(reminders: Reminders, config: WorkerConfig, stop: CancellationToken) {
    let worker = Worker::new(reminders.shop.store().clone(), registry(&reminders), config);
    let scheduler = tokio::spawn(Scheduler::new(reminders).run(stop.clone()));
    worker.run(stop).await;
    if let Err(e) = scheduler.await {
        tracing::warn!(error = %e, "reminder scheduler ended abnormally");
    }
}

/// `otto worker`: runs the job worker until Ctrl-C or SIGTERM, then lets jobs in flight
/// finish.
///
/// # Errors
/// The database cannot be opened.
pub async fn run_worker(config: Config) -> anyhow::Result<()> {
    let shop = open_shop(&config).await?;
    let reminders = Reminders::from_config(&config, shop)?;
    let stop = CancellationToken::new();
    let signal = stop.clone();
    tokio::spawn(async move {
        super::serve::shutdown_signal().await;
        signal.cancel();
    });
    run_background(reminders, worker_config(&config), stop).await;
    Ok(())
}

/// `otto jobs list`: the newest jobs, one line each, or with `json` one JSON array.
///
/// # Errors
/// The database cannot be opened or read.
pub async fn list(
    config: &Config,
    status: Option<JobStatus>,
    limit: u32,
    json: bool,
) -> anyhow::Result<()> {
    let shop = open_shop(config).await?;
    let jobs = shop.store().jobs(status, limit).await?;
    if json {
        return super::print_json(&jobs);
    }
    if jobs.is_empty() {
        println!("no jobs");
    }
    for j in jobs {
        println!(
            "{:>6}  {:<8} {:<24} attempts {}/{}  run at {}{}",
            j.id,
            j.status.as_str(),
            j.kind,
            j.attempts,
            j.max_attempts,
            j.run_at.format("%Y-%m-%d %H:%M:%S UTC"),
            j.last_error
                .map(|e| format!("  last error: {e}"))
                .unwrap_or_default()
        );
    }
    Ok(())
}
