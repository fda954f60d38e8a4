//! `otto worker` (the background job worker, the reminder scheduler and, with a calendar, its
//! drift reconcile alone) and `otto jobs list`.

use std::sync::Arc;

use otto_core::records::JobStatus;
use otto_jobs::{Registry, Worker, WorkerConfig};
use tokio_util::sync::CancellationToken;

use super::open_shop;
use crate::calendar::reconcile::Reconcile;
use crate::calendar::sync::SyncCalendar;
use crate::config::Config;
use crate::reminders::send::SendReminder;
use crate::reminders::{Reminders, Scheduler};

/// The job kinds this build runs: sending reminders and, with a calendar, mirroring
/// appointments into it (a job of an unknown kind is buried).
pub fn registry(reminders: &Reminders, calendar: Option<Arc<SyncCalendar>>) -> Registry {
    let registry = Registry::new().with(Arc::new(SendReminder::new(reminders.clone())));
    match calendar {
        Some(c) => registry.with(c),
        None => registry,
    }
}

/// The calendar parts of the background work for `config` over `shop`: the `calendar.sync`
/// handler and the drift reconcile; `None` without a `calendar` section.
///
/// # Errors
/// As [`crate::calendar::client`].
pub async fn calendar_work(
    config: &Config,
    shop: &otto_shop::Shop,
) -> anyhow::Result<Option<(Arc<SyncCalendar>, Reconcile)>> {
    let Some(c) = &config.calendar else {
        return Ok(None);
    };
    Ok(Some((
        Arc::new(SyncCalendar::new(c, shop.clone()).await?),
        Reconcile::new(c, shop.clone()).await?,
    )))
}

/// The worker settings of `config` (`worker`, lease names from `server.instance`).
pub fn worker_config(config: &Config) -> WorkerConfig {
    config.worker.worker_config(&config.server.instance)
}

/// Runs the job worker over `reminders`' store (the one the server uses, so an in-memory
/// database is shared), the reminder scheduler and, with `calendar`, the drift reconcile
/// until `stop`, then waits for the jobs in flight.
pub async fn run_background(
    reminders: Reminders,
    calendar: Option<(Arc<SyncCalendar>, Reconcile)>,
    config: WorkerConfig,
    stop: CancellationToken,
) {
    let (sync, reconcile) = calendar.unzip();
    let worker = Worker::new(
        reminders.shop.store().clone(),
        registry(&reminders, sync),
        config,
    );
    let scheduler = tokio::spawn(Scheduler::new(reminders).run(stop.clone()));
    let reconcile = reconcile.map(|r| tokio::spawn(r.run(stop.clone())));
    worker.run(stop).await;
    if let Err(e) = scheduler.await {
        tracing::warn!(error = %e, "reminder scheduler ended abnormally");
    }
    if let Some(r) = reconcile
        && let Err(e) = r.await
    {
        tracing::warn!(error = %e, "calendar reconcile ended abnormally");
    }
}

/// `otto worker`: runs the job worker until Ctrl-C or SIGTERM, then lets jobs in flight
/// finish.
///
/// # Errors
/// The database cannot be opened.
pub async fn run_worker(config: Config) -> anyhow::Result<()> {
    let shop = open_shop(&config).await?;
    let calendar = calendar_work(&config, &shop).await?;
    let reminders = Reminders::from_config(&config, shop)?;
    let stop = CancellationToken::new();
    let signal = stop.clone();
    tokio::spawn(async move {
        super::serve::shutdown_signal().await;
        signal.cancel();
    });
    run_background(reminders, calendar, worker_config(&config), stop).await;
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
