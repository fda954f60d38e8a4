//! `otto worker` (the background job worker alone) and `otto jobs list`.

use std::sync::Arc;

use otto_core::records::JobStatus;
use otto_jobs::{Registry, Worker};
use otto_store::Store;
use tokio_util::sync::CancellationToken;

use super::open_shop;
use crate::config::Config;

/// The job kinds this build runs. None yet: reminders and the calendar outbox register
/// theirs here; until then a worker idles (and buries any job of an unknown kind).
pub fn registry() -> Registry {
    Registry::new()
}

/// The worker over `store` (the one the server uses, so an in-memory database is shared),
/// configured by `config.worker`, ready to run.
pub fn worker(store: Arc<dyn Store>, config: &Config) -> Worker {
    Worker::new(
        store,
        registry(),
        config.worker.worker_config(&config.server.instance),
    )
}

/// `otto worker`: runs the job worker until Ctrl-C or SIGTERM, then lets jobs in flight
/// finish.
///
/// # Errors
/// The database cannot be opened.
pub async fn run_worker(config: Config) -> anyhow::Result<()> {
    let shop = open_shop(&config).await?;
    let worker = worker(shop.store().clone(), &config);
    let stop = CancellationToken::new();
    let signal = stop.clone();
    tokio::spawn(async move {
        super::serve::shutdown_signal().await;
        signal.cancel();
    });
    worker.run(stop).await;
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
