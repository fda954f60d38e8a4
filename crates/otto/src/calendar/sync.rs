//! [`SyncCalendar`]: the `calendar.sync` job handler. Its payload is an appointment id; it
//! makes the appointment's event match the appointment as it is now (level-triggered, so
//! repeated, late or out-of-order jobs do no harm):
//!
//! - active, completed or no-show: the event is read (`events.get`) and patched to the
//!   appointment's time, summary and description, or inserted when missing; the event id is
//!   recorded on the appointment (`calendar_event_id`);
//! - cancelled: the event is deleted (404 and 410 count as done).
//!
//! The event id is derived from the appointment (id and creation instant,
//! [`otto_providers::google::event_id_for`]), so an insert retried after a timeout finds the
//! event Google stored and never makes a second one. Retryable Google errors (429, 5xx, 403
//! `rateLimitExceeded`, timeouts) are retried by the worker with backoff; a dead refresh
//! token is retried every 10 minutes, so the events appear once the owner reconnects.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use otto_core::records::{Appointment, AppointmentStatus, CALENDAR_SYNC_JOB, Job};
use otto_jobs::{JobError, JobHandler};
use otto_providers::ProviderError;
use otto_providers::google::config::EventDetails;
use otto_providers::google::wire::{Event, EventDateTime, ExtendedProperties};
use otto_providers::google::{
    APPOINTMENT_KEY, GoogleCalendarClient, GoogleCalendarConfig, event_id_for, invalidate_all,
};
use otto_shop::Shop;

/// How long a job waits after `invalid_grant` before trying again.
const REAUTHORISE_WAIT: chrono::Duration = chrono::Duration::minutes(10);

/// The `calendar.sync` handler.
pub struct SyncCalendar {
    shop: Shop,
    client: GoogleCalendarClient,
    config: GoogleCalendarConfig,
}

impl SyncCalendar {
    /// A handler writing `shop`'s appointments to `config.calendar_id`.
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

    /// The event Otto keeps for `a`: summary with service and vehicle, description with no
    /// more of the customer than `calendar.event_details` allows, the shop's time zone,
    /// `transparent`, and the appointment id in `extendedProperties.private`.
    ///
    /// # Errors
    /// The store failed reading the customer or vehicle.
    pub async fn event_for(&self, a: &Appointment) -> anyhow::Result<Event> {
        let store = self.shop.store();
        let shop = self.shop.config();
        let service = shop
            .service(&a.service)
            .map_or_else(|| a.service.clone(), |s| s.name.clone());
        let vehicle = match a.vehicle_id {
            Some(id) => store.vehicle(id).await?,
            None => None,
        };
        let mut chars = service.chars();
        let service: String = chars
            .next()
            .map(|c| c.to_uppercase().chain(chars).collect())
            .unwrap_or_default();
        let summary = match &vehicle {
            Some(v) => format!("{service} — {} {} {}", v.year, v.make, v.model),
            None => service,
        };
        let mut description = format!("Booked through Otto ({}).", a.source.as_str());
        if self.config.event_details != EventDetails::ServiceAndVehicle
            && let Some(c) = store.customer(a.customer_id).await?
        {
            description.push_str(&format!("\nCustomer: {}", c.name));
            if self.config.event_details == EventDetails::WithNameAndPhone {
                description.push_str(&format!(", {}", c.phone));
            }
        }
        let tz = shop.time_zone;
        let at = |t: DateTime<Utc>| EventDateTime {
            date_time: Some(t.with_timezone(&tz).to_rfc3339()),
            time_zone: Some(tz.name().to_owned()),
            date: None,
        };
        Ok(Event {
            id: Some(event_id(a)),
            status: Some("confirmed".into()),
            summary: Some(summary),
            description: Some(description),
            location: Some(shop.name.clone()),
            start: Some(at(a.start)),
            end: Some(at(a.end)),
            transparency: Some("transparent".into()),
            extended_properties: Some(ExtendedProperties {
                private: BTreeMap::from([(APPOINTMENT_KEY.to_owned(), a.id.to_string())]),
                shared: BTreeMap::new(),
            }),
            ..Event::default()
        })
    }

    /// Makes appointment `id`'s event match it (see the module docs).
    async fn sync(&self, id: i64) -> Result<(), JobError> {
        let store = self.shop.store();
        let Some(a) = store.appointment(id).await.map_err(store_error)? else {
            return Ok(()); // gone from the database: nothing to mirror
        };
        let calendar = self.config.calendar_id.as_str();
        let event_id = a.calendar_event_id.clone().unwrap_or_else(|| event_id(&a));
        if a.status == AppointmentStatus::Cancelled {
            self.client
                .delete_event(calendar, &event_id)
                .await
                .map_err(google_error)?;
            tracing::info!(appointment = a.id, "calendar event deleted");
        } else {
            let wanted = self
                .event_for(&a)
                .await
                .map_err(|e| JobError::retry(e.to_string()))?;
            let current = self
                .client
                .get_event(calendar, &event_id)
                .await
                .map_err(google_error)?;
            match current {
                None => {
                    self.client
                        .insert_event(calendar, &wanted)
                        .await
                        .map_err(google_error)?;
                    tracing::info!(appointment = a.id, "calendar event created");
                }
                Some(_) => {
                    let patch = Event { id: None, ..wanted };
                    self.client
                        .patch_event(calendar, &event_id, &patch)
                        .await
                        .map_err(google_error)?;
                    tracing::info!(appointment = a.id, "calendar event updated");
                }
            }
            if a.calendar_event_id.as_deref() != Some(event_id.as_str()) {
                store
                    .set_calendar_event_id(a.id, Some(&event_id))
                    .await
                    .map_err(store_error)?;
            }
        }
        invalidate_all();
        Ok(())
    }
}

#[async_trait]
impl JobHandler for SyncCalendar {
    fn kind(&self) -> &'static str {
        CALENDAR_SYNC_JOB
    }

    async fn run(&self, job: &Job) -> Result<(), JobError> {
        let id: i64 =
            job.payload.trim().parse().map_err(|_| {
                JobError::permanent(format!("bad appointment id {:?}", job.payload))
            })?;
        self.sync(id).await
    }
}

/// The event id of appointment `a`: derived from its id and creation instant (ms), so ids
/// stay unique when a database is reset and its ids start again.
pub fn event_id(a: &Appointment) -> String {
    event_id_for(&format!(
        "otto:{}:{}",
        a.id,
        a.created_at.timestamp_millis()
    ))
}

fn store_error(e: otto_store::StoreError) -> JobError {
    JobError::retry(format!("store: {e}"))
}

fn google_error(e: ProviderError) -> JobError {
    match &e {
        ProviderError::Status { code: Some(c), .. } if c == "invalid_grant" => JobError::retry_at(
            Utc::now() + REAUTHORISE_WAIT,
            "google calendar: reauthorise (run `otto calendar connect`)",
        ),
        _ if e.retryable() => JobError::retry(e.to_string()),
        _ => JobError::permanent(e.to_string()),
    }
}
