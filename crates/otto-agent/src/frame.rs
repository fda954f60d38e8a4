//! The call's frame: what the caller has asked for so far (services, day and time, vehicle,
//! VIN, a volunteered name), read from every caller utterance whichever brain answers. It
//! lives in the [`CallerContext`], so the rule-based dialogue taking over from the LLM in the
//! middle of a call asks for nothing the caller already said.

use chrono::NaiveDate;
use otto_core::domain::Vin;
use otto_core::shop::ServiceDef;

use crate::context::CallerContext;
use crate::nlu::{self, TimeOfDay, VehicleMention, VinMention};

/// What the caller wants booked, as far as they have said. Nothing here is written to the
/// store until a read-back is confirmed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Frame {
    /// The service asked for (the first, when several were).
    pub(crate) service: Option<ServiceDef>,
    /// More services for the same visit, booked back to back after `service`.
    pub(crate) more: Vec<ServiceDef>,
    /// The day asked for (shop-local).
    pub(crate) date: Option<NaiveDate>,
    /// The time of day asked for.
    pub(crate) time: Option<TimeOfDay>,
    /// The vehicle as described (year, make, model; any part may be missing).
    pub(crate) vehicle: VehicleMention,
    /// Notes for the booking (what the caller describes).
    pub(crate) notes: Option<String>,
    /// A name the caller volunteered ("my name is …") before being asked.
    pub(crate) name: Option<String>,
    /// A VIN with a valid check digit the caller gave, not yet stored with a vehicle.
    pub(crate) vin: Option<Vin>,
}

impl Frame {
    /// The service asked for, if any: a booking is under way.
    pub fn service(&self) -> Option<&ServiceDef> {
        self.service.as_ref()
    }
}

impl CallerContext {
    /// The call's frame (see the module docs).
    pub fn frame(&self) -> &Frame {
        &self.frame
    }

    pub(crate) fn frame_mut(&mut self) -> &mut Frame {
        &mut self.frame
    }

    /// Reads a volunteered name, a VIN, services, vehicle, day and time from one caller
    /// utterance into the frame, keeping what was known where `text` does not say.
    pub fn hear(&mut self, text: &str) {
        let today = self.today();
        let named: Vec<ServiceDef> = nlu::services(text, self.config())
            .into_iter()
            .cloned()
            .collect();
        let diagnostic = self.config().service("diagnostic").cloned();
        let f = &mut self.frame;
        if let Some(n) = nlu::name(text, false) {
            f.name = Some(n);
        }
        // A VIN volunteered with other facts: its check digit vouches for it.
        if f.vin.is_none()
            && let Some(VinMention::Valid(v)) = nlu::vin(text)
        {
            f.vin = Some(v);
        }
        // Services named for this visit, not one the caller says they already have.
        if let Some((first, more)) = named.split_first() {
            f.service = Some(first.clone());
            if !more.is_empty() {
                f.more = more.to_vec();
            }
        } else if f.service.is_none() && nlu::describes_problem(text) {
            // "Can someone look at a grinding noise?" is a service request: a diagnosis.
            f.service = diagnostic;
        }
        let v = nlu::vehicle(text);
        if v.year.is_some() {
            f.vehicle.year = v.year;
        }
        if v.make.is_some() {
            f.vehicle.make = v.make;
        }
        if v.model.is_some() {
            f.vehicle.model = v.model;
        }
        let mut w = nlu::when(text, today);
        if w.time.is_none() && nlu::only_a_time(text) {
            // "Nine thirty", "eleven works for me": a clock time said on its own.
            w.time = nlu::clock_time(text, today).map(TimeOfDay::At);
        }
        if w.date.is_some() {
            f.date = w.date;
        }
        if w.time.is_some() {
            f.time = w.time;
        }
    }
}
