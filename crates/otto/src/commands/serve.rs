//! `otto serve`: runs the server (and, unless `worker.enabled = false`, the job worker and the
//! reminder scheduler) until
//! Ctrl-C or SIGTERM, then shuts down gracefully. An hourly task deletes expired recordings
//! and transcripts (`call.recording_days`, `call.transcript_days`).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::Context;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::open_shop;
use crate::call::CallServices;
use crate::call::recording;
use crate::config::Config;
use crate::server::{AppState, serve};
use crate::sessions::Sessions;

/// Starts every engine, binds `server.listen` and serves.
///
/// # Errors
/// Startup failures (store, models, configuration, address in use) with what to fix.
pub async fn run(mut config: Config) -> anyhow::Result<()> {
    super::raise_open_file_limit();
    let shop = open_shop(&config).await?;
    let store_for_retention = shop.store().clone();
    let sessions = Sessions::from_url(&config.redis_url, crate::sessions::TTL_SECS, 500)?;
    let calls = Arc::new(CallServices::from_config(&config, shop, sessions)?);
    let listener = TcpListener::bind(config.server.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.server.listen))?;
    crate::server::follow_listen(&mut config, listener.local_addr()?);
    let stop = CancellationToken::new();
    tokio::spawn(retention(
        store_for_retention,
        config.call.record.then(|| config.recording_dir()),
        config.call.recording_days,
        config.call.transcript_days,
        stop.child_token(),
    ));
    tracing::info!(
        database = %crate::config::redact_url_password(&config.database_url()),
        sessions = if config.redis_url.trim().is_empty() { "in-process" } else { "redis" },
        stt = if config.deepgram.is_some() { "deepgram" } else { "local whisper" },
        tts = if config.deepgram.is_some() { "deepgram" } else { "local flite" },
        dialogue = if config.llm.is_some() { "llm, rules as fallback" } else { "rules" },
        public_url = %config.server.public_url,
        record = config.call.record,
        worker = config.worker.enabled,
        "starting Otto"
    );
    let state = Arc::new(AppState::new(config, calls)?);
    let calendar = super::jobs::calendar_work(&state.config, &state.reminders.shop).await?;
    let worker = state.config.worker.enabled.then(|| {
        tokio::spawn(super::jobs::run_background(
            state.reminders.clone(),
            calendar,
            super::jobs::worker_config(&state.config),
            stop.child_token(),
        ))
    });
    let signal = stop.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        signal.cancel();
    });
    let served = serve(listener, state, stop.clone()).await;
    // The worker stops with the server and finishes its jobs in flight.
    stop.cancel();
    if let Some(w) = worker
        && let Err(e) = w.await
    {
        tracing::warn!(error = %e, "job worker ended abnormally");
    }
    match &served {
        Ok(()) => tracing::info!("Otto has shut down"),
        Err(e) => tracing::error!(error = %e, "Otto stopped with an error"),
    }
    served
}

/// How often expired recordings and transcripts are deleted.
const SWEEP_EVERY: Duration = Duration::from_secs(3600);

/// PII retention, at start and then every hour until `stop`: deletes call recordings older
/// than `recording_days` (when recording is on: `recordings` is the directory) and transcripts
/// of calls older than `transcript_days`.
async fn retention(
    store: Arc<dyn otto_store::Store>,
    recordings: Option<std::path::PathBuf>,
    recording_days: u32,
    transcript_days: u32,
    stop: CancellationToken,
) {
    let mut every = tokio::time::interval(SWEEP_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = every.tick() => {}
        }
        if let Some(dir) = &recordings {
            match recording::sweep(dir, recording_days, SystemTime::now()).await {
                Ok(deleted) => {
                    tracing::info!(deleted, recording_days, "expired call recordings deleted");
                }
                Err(e) => tracing::warn!(error = %e, "call recordings could not be swept"),
            }
        }
        let cutoff = chrono::Utc::now() - chrono::Duration::days(i64::from(transcript_days));
        match store.forget_transcripts_before(cutoff).await {
            Ok(0) => {}
            Ok(turns) => tracing::info!(turns, transcript_days, "expired transcripts deleted"),
            Err(e) => tracing::warn!(error = %e, "expired transcripts could not be deleted"),
        }
    }
}

/// Resolves on Ctrl-C or (on Unix) SIGTERM.
pub(crate) async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(t) => t,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
