//! [`Reconcile`]: the periodic drift check (every `calendar.reconcile_secs`). It follows the
//! calendar with `events.list` — a full list of events ending after a day ago, then
//! incremental syncs with the `nextSyncToken` (a full list again after 410
//! `fullSyncRequired`) — and compares each of Otto's events (those with
//! `extendedProperties.private.otto_appointment_id`) with its appointment.
//!
//! An active appointment whose event was moved or deleted by hand in Google is a
//! [`CalendarDrift`]: logged, counted in `otto_calendar_drift_total`, kept in the store for the
//! dashboard's Today page until the event matches the booking again, and handled by
//! `calendar.drift_policy`:
//! `report` (the default) leaves the booking and the event as they are; `restore_event`
//! enqueues a `calendar.sync` job that puts the event back at the booking's time. The
//! booking itself is never moved by the reconcile.
//!
//! The sync token is kept in the store (`calendar_state`, [`SYNC_TOKEN_PREFIX`] + calendar id),
//! so a restart goes on from where the last pass stopped and instances share one token.
//!
//! Each pass also gives a second life to `calendar.sync` jobs that ran out of attempts (a
//! Google outage longer than their retries): one new job per dead one, so no booking's event
//! is lost to an outage. Jobs buried for a permanent failure (before their last attempt) stay
//! buried.

use std::time::Duration;

use chrono::{DateTime, Utc};
use otto_core::records::{Appointment, CALENDAR_SYNC_JOB, Id, JobStatus};
use otto_providers::google::config::DriftPolicy;
use otto_providers::google::wire::{Event, EventDateTime};
use otto_providers::google::{
    APPOINTMENT_KEY, GoogleCalendarClient, GoogleCalendarConfig, SyncPage,
};
use otto_shop::Shop;
use otto_store::calendar::SYNC_TOKEN_PREFIX;
use otto_store::{CalendarDrift, NewJob};
use tokio_util::sync::CancellationToken;

/// The drift reconcile of one calendar.
pub struct Reconcile {
    shop: Shop,
    client: GoogleCalendarClient,
    config: GoogleCalendarConfig,
}

impl Reconcile {
    /// A reconcile of `config.calendar_id` against `shop`'s appointments.
    ///
    /// # Errors
    /// As [`super::client`].
    pub async fn new(config: &GoogleCalendarConfig, shop: Shop) -> anyhow::Result<Self> {
        Ok(Self {
            client: super::client(config, shop.store().as_ref()).await?,
            shop,
            config: config.clone(),
        })
    }

    /// Runs [`Self::once`] every `reconcile_secs` until `stop`; failures are logged.
    pub async fn run(self, stop: CancellationToken) {
        let every = Duration::from_secs(self.config.reconcile_secs.max(1));
        loop {
            if let Err(e) = self.once(Utc::now()).await {
                tracing::warn!(error = %e, "calendar reconcile failed; trying again later");
            }
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(every) => {}
            }
        }
    }

    /// One reconcile pass at `now`: the drifts found among the events changed since the last
    /// pass (all of them on the first), after applying the drift policy.
    ///
    /// # Errors
    /// Google or the store failed (the sync token is kept, so nothing is skipped).
    pub async fn once(&self, now: DateTime<Utc>) -> anyhow::Result<Vec<CalendarDrift>> {
        self.revive_exhausted_syncs().await?;
        let store = self.shop.store();
        let calendar = self.config.calendar_id.as_str();
        let token_name = format!("{SYNC_TOKEN_PREFIX}{calendar}");
        let full_from = now - chrono::Duration::days(1);
        let token = store.calendar_state(&token_name).await?;
        let mut page = self
            .client
            .sync_events(calendar, token.as_deref(), full_from)
            .await?;
        if page == SyncPage::FullSyncRequired {
            tracing::info!("calendar sync token expired: listing every event again");
            page = self.client.sync_events(calendar, None, full_from).await?;
        }
        let SyncPage::Changes {
            events,
            next_sync_token,
        } = page
        else {
            anyhow::bail!("a full events.list answered fullSyncRequired");
        };
        let mut drifts = Vec::new();
        for event in &events {
            match self.drift_of(event, now).await? {
                Seen::Drift(d) => drifts.push(d),
                Seen::Matches(id) => store.clear_calendar_drift(id).await?,
                Seen::NotOurs => {}
            }
        }
        for d in &drifts {
            store.record_calendar_drift(d).await?;
            metrics::counter!("otto_calendar_drift_total").increment(1);
            tracing::warn!(
                appointment = d.appointment_id,
                booked_start = %d.booked.0,
                event_start = ?d.event.map(|e| e.0),
                policy = ?self.config.drift_policy,
                "calendar event changed by hand in Google; the booking stays as it is"
            );
            if self.config.drift_policy == DriftPolicy::RestoreEvent {
                self.shop
                    .store()
                    .enqueue_job(&NewJob {
                        kind: CALENDAR_SYNC_JOB.into(),
                        payload: d.appointment_id.to_string(),
                        dedup_key: None,
                        max_attempts: otto_store::CALENDAR_SYNC_ATTEMPTS,
                        run_at: Utc::now(),
                    })
                    .await?;
            }
        }
        store
            .set_calendar_state(&token_name, Some(&next_sync_token))
            .await?;
        Ok(drifts)
    }

    /// Enqueues again, once, every `calendar.sync` job that died out of attempts.
    async fn revive_exhausted_syncs(&self) -> anyhow::Result<()> {
        let store = self.shop.store();
        let dead = store.jobs(Some(JobStatus::Dead), 10_000).await?;
        for job in dead
            .iter()
            .filter(|j| j.kind == CALENDAR_SYNC_JOB && j.attempts >= j.max_attempts)
        {
            let revived = store
                .enqueue_job(&NewJob {
                    kind: CALENDAR_SYNC_JOB.into(),
                    payload: job.payload.clone(),
                    dedup_key: Some(format!("{CALENDAR_SYNC_JOB}:revive:{}", job.id)),
                    max_attempts: otto_store::CALENDAR_SYNC_ATTEMPTS,
                    run_at: Utc::now(),
                })
                .await?;
            if revived.attempts == 0 && revived.status == JobStatus::Pending {
                tracing::info!(
                    appointment = %job.payload,
                    "calendar sync ran out of attempts; trying again"
                );
            }
        }
        Ok(())
    }

    /// What `event` shows: a drift when it is Otto's and no longer matches an active booking.
    async fn drift_of(&self, event: &Event, now: DateTime<Utc>) -> anyhow::Result<Seen> {
        // Cancelled stubs carry only their id: find the appointment by its event id.
        let appointment = match event.private(APPOINTMENT_KEY) {
            Some(id) => match id.parse::<Id>() {
                Ok(id) => self.shop.store().appointment(id).await?,
                Err(_) => None,
            },
            None if event.status.as_deref() == Some("cancelled") => {
                self.by_event_id(event.id.as_deref().unwrap_or_default())
                    .await?
            }
            None => None,
        };
        let Some(a) = appointment.filter(|a| a.status.is_active()) else {
            return Ok(Seen::NotOurs);
        };
        if a.calendar_event_id.as_deref() != event.id.as_deref() {
            return Ok(Seen::NotOurs);
        }
        let booked = (a.start, a.end);
        let now_at = if event.status.as_deref() == Some("cancelled") {
            None
        } else {
            match (time(event.start.as_ref()), time(event.end.as_ref())) {
                (Some(s), Some(e)) => Some((s, e)),
                _ => return Ok(Seen::NotOurs), // an all-day event is not one of Otto's
            }
        };
        if now_at == Some(booked) {
            return Ok(Seen::Matches(a.id));
        }
        Ok(Seen::Drift(CalendarDrift {
            appointment_id: a.id,
            booked,
            event: now_at,
            found_at: now,
        }))
    }

    /// The active appointment whose event has id `event_id`, among those of the coming days.
    async fn by_event_id(&self, event_id: &str) -> anyhow::Result<Option<Appointment>> {
        if event_id.is_empty() {
            return Ok(None);
        }
        let now = Utc::now();
        let active = self
            .shop
            .store()
            .active_appointments_between(
                now - chrono::Duration::days(1),
                now + chrono::Duration::days(366),
            )
            .await?;
        Ok(active
            .into_iter()
            .find(|a| a.calendar_event_id.as_deref() == Some(event_id)))
    }
}

/// What one changed event tells the reconcile.
enum Seen {
    /// Not an event of an active appointment of Otto's.
    NotOurs,
    /// The event of appointment `.0` matches its booking.
    Matches(Id),
    /// The event no longer matches its booking.
    Drift(CalendarDrift),
}

fn time(t: Option<&EventDateTime>) -> Option<DateTime<Utc>> {
    t.and_then(|t| t.date_time.as_deref())
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
}
