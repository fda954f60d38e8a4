//! [`Shop`]: the one place the booking rules meet the store. The dialogue tools, the CLI and
//! the dashboard book, move and cancel appointments only through it.
//!
//! It resolves services from the catalog, applies [`otto_core::scheduling`] (hours, lunch,
//! holidays, lead time, grid), keeps callers to their own records (another customer's
//! appointment or vehicle is reported as not found, never revealed), and lets the store make
//! the capacity decision atomically ([`Store::book`]). Slot offers use the same bay rule as
//! booking ([`otto_core::scheduling::bays`]), so an offered slot can be booked unless someone
//! takes it first.
//!
//! The shop's calendar ([`Calendar`], when one is attached with [`Shop::with_calendar`]) takes
//! time from the shop while it is busy, as its [`BusyEffect`] says: `CloseShop` closes every
//! bay (busy blocks are neither offered nor booked), `OneBay` takes one bay per overlapping
//! busy block (like an appointment with no bay number). When the calendar cannot answer,
//! slots and bookings follow the shop's own records and the failure is logged: a caller never
//! hears about it.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use otto_core::calendar::{BusyEffect, Calendar};
use otto_core::records::{Appointment, AppointmentStatus, BookingSource, Id};
use otto_core::scheduling::{self, Interval, Slot, SlotError, SlotQuery};
use otto_core::shop::{ServiceDef, ShopConfig};

use otto_core::scheduling::bays::free_bays_during;
use otto_store::{NewAppointment, Store, StoreError};
use tracing::warn;

/// Why a booking, move or cancellation was refused. Messages are fit to say to a caller.
#[derive(Debug, thiserror::Error)]
pub enum BookingError {
    /// No service in the catalog has this id, name or alias.
    #[error("we do not offer a service called {0:?}")]
    UnknownService(String),
    /// The time breaks a shop rule (closed, lunch, lead time, …).
    #[error(transparent)]
    Rule(#[from] SlotError),
    /// Every bay is taken at that time (or the shop's calendar is busy).
    #[error("that time is already fully booked")]
    SlotTaken,
    /// No such record for this customer: missing, or belonging to someone else. The argument
    /// names the kind ("customer", "vehicle", "appointment").
    #[error("no such {0} on your account")]
    NotFound(&'static str),
    /// The appointment is cancelled, completed, a no-show or already under way.
    #[error("that appointment can no longer be changed")]
    NotActive,
    /// The store failed.
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for BookingError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::SlotTaken => Self::SlotTaken,
            StoreError::NotActive(_) => Self::NotActive,
            StoreError::NotFound { what, .. } => Self::NotFound(what),
            other => Self::Store(other),
        }
    }
}

/// A booking as a caller or staff member asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingRequest {
    /// The customer the booking is for (from caller ID or verification, never from free text).
    pub customer_id: Id,
    /// One of the customer's vehicles, if known.
    pub vehicle_id: Option<Id>,
    /// Service id, name or alias from the catalog.
    pub service_id: String,
    /// Wanted start; must satisfy [`scheduling::check_bookable`].
    pub start: DateTime<Utc>,
    pub source: BookingSource,
    pub notes: Option<String>,
}

/// The shop: its configuration, its records and, optionally, its calendar.
#[derive(Debug, Clone)]
pub struct Shop {
    store: Arc<dyn Store>,
    config: Arc<ShopConfig>,
    calendar: Option<(Arc<dyn Calendar>, BusyEffect)>,
}

impl Shop {
    /// A shop over `store` with `config` (already validated by config loading) and no calendar.
    pub fn new(store: Arc<dyn Store>, config: Arc<ShopConfig>) -> Self {
        Self {
            store,
            config,
            calendar: None,
        }
    }

    /// The same shop with `calendar`'s busy blocks taking what `effect` says.
    pub fn with_calendar(mut self, calendar: Arc<dyn Calendar>, effect: BusyEffect) -> Self {
        self.calendar = Some((calendar, effect));
        self
    }

    /// What an operator must fix about the shop's calendar ([`Calendar::health`]), if any.
    pub fn calendar_health(&self) -> Option<String> {
        self.calendar.as_ref().and_then(|(c, _)| c.health())
    }

    /// The shop's configuration.
    pub fn config(&self) -> &ShopConfig {
        &self.config
    }

    /// The store, for reads and writes that involve no booking rule (customers, calls, …).
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The catalog entry named `service` (id, name or alias, case-insensitive).
    ///
    /// # Errors
    /// [`BookingError::UnknownService`].
    pub fn service(&self, service: &str) -> Result<&ServiceDef, BookingError> {
        self.config
            .service(service)
            .ok_or_else(|| BookingError::UnknownService(service.to_string()))
    }

    /// Bookable slots for `service_id` on local dates `from..=to` (at most
    /// [`scheduling::MAX_QUERY_DAYS`] days), sorted by start. `free_bays` counts bays free for
    /// the whole slot.
    ///
    /// # Errors
    /// [`BookingError::UnknownService`], [`BookingError::Store`].
    pub async fn free_slots(
        &self,
        service_id: &str,
        from: NaiveDate,
        to: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<Vec<Slot>, BookingError> {
        let service = self.service(service_id)?;
        if to < from {
            return Ok(Vec::new());
        }
        let window = Interval {
            start: scheduling::local_day_bounds(self.config.time_zone, from).start,
            end: scheduling::local_day_bounds(self.config.time_zone, to).end,
        };
        let booked = self
            .store
            .active_appointments_between(window.start, window.end)
            .await?;
        let mut intervals: Vec<Interval> = booked
            .iter()
            .map(|a| Interval {
                start: a.start,
                end: a.end,
            })
            .collect();
        let (busy, effect) = self.calendar_busy(&window).await;
        let (closed, bay_blocks) = match effect {
            BusyEffect::CloseShop => (busy, Vec::new()),
            BusyEffect::OneBay => (Vec::new(), busy),
        };
        intervals.extend(bay_blocks.iter().copied());
        let slots = scheduling::free_slots(&SlotQuery {
            shop: &self.config,
            service,
            from,
            to,
            now,
            booked: &intervals,
            closed: &closed,
        });
        Ok(slots
            .into_iter()
            .filter_map(|mut s| {
                let job = Interval {
                    start: s.start,
                    end: s.end,
                };
                let taken = scheduling::peak_overlap(&bay_blocks, &job);
                let bays = self.config.bays.saturating_sub(taken);
                s.free_bays = s
                    .free_bays
                    .min(free_bays_during(&booked, s.start, s.end, bays));
                (s.free_bays > 0).then_some(s)
            })
            .collect())
    }

    /// Books `req` for its customer.
    ///
    /// # Errors
    /// [`BookingError::UnknownService`]; [`BookingError::NotFound`] when the customer does not
    /// exist or the vehicle is not theirs; [`BookingError::Rule`] when the time breaks a shop
    /// rule; [`BookingError::SlotTaken`] when every bay is taken; [`BookingError::Store`].
    pub async fn book(
        &self,
        req: BookingRequest,
        now: DateTime<Utc>,
    ) -> Result<Appointment, BookingError> {
        let service = self.service(&req.service_id)?;
        if self.store.customer(req.customer_id).await?.is_none() {
            return Err(BookingError::NotFound("customer"));
        }
        if let Some(vehicle_id) = req.vehicle_id {
            match self.store.vehicle(vehicle_id).await? {
                Some(v) if v.customer_id == req.customer_id => {}
                _ => return Err(BookingError::NotFound("vehicle")),
            }
        }
        let (job, bays) = self.bookable(service, req.start, now).await?;
        let new = NewAppointment {
            customer_id: req.customer_id,
            vehicle_id: req.vehicle_id,
            service: service.id.clone(),
            start: job.start,
            end: job.end,
            source: req.source,
            notes: req.notes,
        };
        Ok(self.store.book(&new, bays).await?)
    }

    /// Moves `acting_customer`'s active, not yet started appointment to `new_start` (same
    /// service, new end).
    ///
    /// # Errors
    /// [`BookingError::NotFound`] (missing or another customer's), [`BookingError::NotActive`],
    /// [`BookingError::UnknownService`] (its service left the catalog), [`BookingError::Rule`],
    /// [`BookingError::SlotTaken`], [`BookingError::Store`].
    pub async fn reschedule(
        &self,
        acting_customer: Id,
        appointment_id: Id,
        new_start: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Appointment, BookingError> {
        let current = self
            .own_changeable(acting_customer, appointment_id, now)
            .await?;
        let service = self.service(&current.service)?;
        let (job, bays) = self.bookable(service, new_start, now).await?;
        Ok(self
            .store
            .reschedule(appointment_id, job.start, job.end, bays)
            .await?)
    }

    /// Cancels `acting_customer`'s active, not yet started appointment.
    ///
    /// # Errors
    /// [`BookingError::NotFound`] (missing or another customer's), [`BookingError::NotActive`],
    /// [`BookingError::Store`].
    pub async fn cancel(
        &self,
        acting_customer: Id,
        appointment_id: Id,
        now: DateTime<Utc>,
    ) -> Result<Appointment, BookingError> {
        self.own_changeable(acting_customer, appointment_id, now)
            .await?;
        Ok(self
            .store
            .set_appointment_status(appointment_id, AppointmentStatus::Cancelled)
            .await?)
    }

    /// Confirms `acting_customer`'s active, not yet started appointment (the customer said
    /// they will come: a reply C to a text, a yes to a reminder call). Confirming twice is
    /// no error: a confirmed appointment is returned as it is.
    ///
    /// # Errors
    /// As [`Shop::cancel`].
    pub async fn confirm(
        &self,
        acting_customer: Id,
        appointment_id: Id,
        now: DateTime<Utc>,
    ) -> Result<Appointment, BookingError> {
        let a = self
            .own_changeable(acting_customer, appointment_id, now)
            .await?;
        if a.status == AppointmentStatus::Confirmed {
            return Ok(a);
        }
        Ok(self
            .store
            .set_appointment_status(appointment_id, AppointmentStatus::Confirmed)
            .await?)
    }

    /// The customer's active appointments that have not ended by `now`, by start.
    ///
    /// # Errors
    /// [`BookingError::Store`].
    pub async fn upcoming(
        &self,
        customer_id: Id,
        now: DateTime<Utc>,
    ) -> Result<Vec<Appointment>, BookingError> {
        // Look back one day so a job under way (started, not ended) is still listed.
        let from = now - chrono::Duration::days(1);
        let mut list = self.store.appointments_of(customer_id, from).await?;
        list.retain(|a| a.status.is_active() && a.end > now);
        Ok(list)
    }

    /// Busy blocks of the shop's calendar overlapping `window`, with what they take; none
    /// without a calendar, or when the calendar cannot answer (logged).
    async fn calendar_busy(&self, window: &Interval) -> (Vec<Interval>, BusyEffect) {
        let Some((calendar, effect)) = &self.calendar else {
            return (Vec::new(), BusyEffect::CloseShop);
        };
        match calendar.busy(window).await {
            Ok(busy) => (busy, *effect),
            Err(e) => {
                warn!(error = %e, "calendar unavailable: slots follow the shop's own records");
                (Vec::new(), *effect)
            }
        }
    }

    /// Checks the shop rules and the calendar's busy blocks for `service` at `start`: the
    /// job's interval and the bays the store may use for it (`bays` less those the calendar
    /// takes at its busiest instant).
    async fn bookable(
        &self,
        service: &ServiceDef,
        start: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(Interval, u32), BookingError> {
        let job = scheduling::check_bookable(&self.config, service, start, now)?;
        let (busy, effect) = self.calendar_busy(&job).await;
        let taken = match effect {
            BusyEffect::CloseShop if busy.iter().any(|c| c.overlaps(&job)) => self.config.bays,
            BusyEffect::CloseShop => 0,
            BusyEffect::OneBay => scheduling::peak_overlap(&busy, &job),
        };
        match self.config.bays.saturating_sub(taken) {
            0 => Err(BookingError::SlotTaken),
            bays => Ok((job, bays)),
        }
    }

    /// The appointment, if it is `customer`'s, active and not yet started.
    async fn own_changeable(
        &self,
        customer: Id,
        appointment_id: Id,
        now: DateTime<Utc>,
    ) -> Result<Appointment, BookingError> {
        match self.store.appointment(appointment_id).await? {
            Some(a) if a.customer_id == customer => {
                if a.status.is_active() && a.start > now {
                    Ok(a)
                } else {
                    Err(BookingError::NotActive)
                }
            }
            _ => Err(BookingError::NotFound("appointment")),
        }
    }
}
