//! The tool executors: typed methods on [`CallerContext`], each validating its arguments,
//! acting only for the bound customer, and returning a serialisable view or a [`ToolError`].
//!
//! Every booking rule (free slots, book, move, cancel, upcoming) goes through the
//! [`otto_shop::Shop`] façade the context holds; its [`BookingError`]s become the short
//! [`ToolError`] codes the model sees. This module adds only what a caller hears: views, the
//! day-part and nearest-time choice of which slots to offer, and the call's outcome and summary.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Timelike, Utc};
use otto_core::domain::Vin;
use otto_core::engine::CallAction;
use otto_core::records::{Appointment, Customer, NewCustomer, NewVehicle, Vehicle};
use otto_core::scheduling::Slot;
use otto_core::shop::ServiceDef;
use otto_shop::{BookingError, BookingRequest};
use otto_store::{NewMessage, StoreError};
use serde::Serialize;
use serde_json::{Value, json};
use tracing::warn;

use super::args::*;
use super::error::ToolError;
use crate::context::{CallerContext, Outcome};
use crate::speak;

/// How many days `find_free_slots` searches from its start date.
const SEARCH_DAYS: i64 = 14;
/// How many slots are offered at once.
const OFFER: usize = 3;

/// A vehicle as tools show it.
#[derive(Debug, Clone, Serialize)]
pub struct VehicleView {
    pub id: i64,
    pub year: u16,
    pub make: String,
    pub model: String,
    pub vin: Option<String>,
}

/// The caller's record as tools show it.
#[derive(Debug, Clone, Serialize)]
pub struct CustomerView {
    pub known: bool,
    pub name: Option<String>,
    pub vehicles: Vec<VehicleView>,
}

/// An appointment as tools show it; `start` is local "YYYY-MM-DDTHH:MM", `spoken` how to say it.
#[derive(Debug, Clone, Serialize)]
pub struct AppointmentView {
    pub id: i64,
    pub service: String,
    pub start: String,
    pub spoken: String,
    pub vehicle: Option<String>,
    pub status: String,
}

/// A free slot; `start` is local "YYYY-MM-DDTHH:MM", `spoken` how to say it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SlotView {
    pub start: String,
    pub spoken: String,
    #[serde(skip)]
    pub at: DateTime<Utc>,
}

impl From<&Vehicle> for VehicleView {
    fn from(v: &Vehicle) -> Self {
        Self {
            id: v.id,
            year: v.year,
            make: v.make.clone(),
            model: v.model.clone(),
            vin: v.vin.as_ref().map(|v| v.to_string()),
        }
    }
}

/// A store failure outside the booking rules (customers, vehicles): logged, shown as
/// `internal`.
fn internal(e: StoreError) -> ToolError {
    warn!(error = %e, "store call failed in a tool");
    ToolError::Internal
}

/// The [`Shop`](otto_shop::Shop)'s refusal as the code the model sees. Another customer's
/// appointment or vehicle is `not_found`, exactly like a missing one; so is one of the
/// caller's own that is no longer upcoming and changeable (cancelled, done, under way).
fn booking(e: BookingError) -> ToolError {
    match e {
        BookingError::UnknownService(s) => invalid(format!(
            "unknown service {:?}; see list_services",
            clean_preview(&s)
        )),
        BookingError::Rule(rule) => ToolError::NotBookable(rule.to_string()),
        BookingError::SlotTaken => ToolError::SlotTaken,
        BookingError::NotFound(what) => ToolError::NotFound(what),
        BookingError::NotActive => ToolError::NotFound("appointment"),
        BookingError::Store(e) => internal(e),
    }
}

fn invalid(msg: impl Into<String>) -> ToolError {
    ToolError::InvalidArguments(msg.into())
}

/// Trims `text` and checks it is 1..=`max` characters without control characters.
fn clean_text(text: &str, what: &str, max: usize) -> Result<String, ToolError> {
    let t = text.trim();
    if t.is_empty() || t.chars().count() > max || t.chars().any(char::is_control) {
        return Err(invalid(format!(
            "{what} must be 1 to {max} printable characters"
        )));
    }
    Ok(t.to_string())
}

impl CallerContext {
    fn customer_id(&self) -> Result<i64, ToolError> {
        self.customer
            .as_ref()
            .map(|c| c.id)
            .ok_or(ToolError::NotIdentified)
    }

    fn service_def(&self, text: &str) -> Result<ServiceDef, ToolError> {
        self.config()
            .service(text)
            .or_else(|| crate::nlu::service(text, self.config()))
            .cloned()
            .ok_or_else(|| {
                invalid(format!(
                    "unknown service {:?}; see list_services",
                    clean_preview(text)
                ))
            })
    }

    /// Local "YYYY-MM-DDTHH:MM" in the shop's zone → UTC (earliest instant when ambiguous).
    fn local_start(&self, text: &str) -> Result<DateTime<Utc>, ToolError> {
        let naive = NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%dT%H:%M")
            .map_err(|_| invalid("start must be a local time YYYY-MM-DDTHH:MM"))?;
        self.tz()
            .from_local_datetime(&naive)
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .ok_or_else(|| invalid("that local time does not exist (daylight saving change)"))
    }

    fn slot_view(&self, at: DateTime<Utc>) -> SlotView {
        SlotView {
            start: at
                .with_timezone(&self.tz())
                .format("%Y-%m-%dT%H:%M")
                .to_string(),
            spoken: speak::date_time(at, self.tz()),
            at,
        }
    }

    async fn appointment_view(&self, a: &Appointment) -> AppointmentView {
        let service = self
            .config()
            .service(&a.service)
            .map_or_else(|| a.service.clone(), |s| s.name.clone());
        let vehicle = match a.vehicle_id {
            Some(id) => self
                .store()
                .vehicle(id)
                .await
                .ok()
                .flatten()
                .map(|v| speak::vehicle(&v)),
            None => None,
        };
        AppointmentView {
            id: a.id,
            service,
            start: self.slot_view(a.start).start,
            spoken: speak::date_time(a.start, self.tz()),
            vehicle,
            status: a.status.to_string(),
        }
    }

    async fn customer_view(&mut self, c: Customer) -> Result<CustomerView, ToolError> {
        let vehicles = self.store().vehicles_of(c.id).await.map_err(internal)?;
        if self.vehicle.is_none() && vehicles.len() == 1 {
            self.vehicle = vehicles.first().cloned();
        }
        let view = CustomerView {
            known: true,
            name: Some(c.name.clone()),
            vehicles: vehicles.iter().map(VehicleView::from).collect(),
        };
        self.customer = Some(c);
        Ok(view)
    }

    /// The caller's vehicles (empty when not identified).
    pub async fn vehicles(&self) -> Result<Vec<Vehicle>, ToolError> {
        match &self.customer {
            Some(c) => self.store().vehicles_of(c.id).await.map_err(internal),
            None => Ok(Vec::new()),
        }
    }

    /// Makes one of the caller's own vehicles the one being discussed.
    pub(crate) fn focus_vehicle(&mut self, v: Vehicle) {
        if self
            .customer
            .as_ref()
            .is_some_and(|c| c.id == v.customer_id)
        {
            self.vehicle = Some(v);
        }
    }

    /// `lookup_caller`: finds the customer by the channel's caller ID and binds them.
    pub async fn lookup_caller(&mut self, _: NoArgs) -> Result<CustomerView, ToolError> {
        if let Some(c) = self.customer.clone() {
            return self.customer_view(c).await;
        }
        let Some(phone) = self.caller.clone() else {
            return Ok(CustomerView {
                known: false,
                name: None,
                vehicles: Vec::new(),
            });
        };
        match self
            .store()
            .customer_by_phone(&phone)
            .await
            .map_err(internal)?
        {
            Some(c) => self.customer_view(c).await,
            None => Ok(CustomerView {
                known: false,
                name: None,
                vehicles: Vec::new(),
            }),
        }
    }

    /// `register_customer`: creates a customer with the caller ID and the given name.
    pub async fn register_customer(
        &mut self,
        a: RegisterCustomerArgs,
    ) -> Result<CustomerView, ToolError> {
        if self.customer.is_some() {
            return Err(ToolError::AlreadyRegistered);
        }
        let phone = self.caller.clone().ok_or(ToolError::NoCallerId)?;
        let name = clean_text(&a.name, "name", 80)?;
        if !name.chars().any(char::is_alphabetic) {
            return Err(invalid("name must contain letters"));
        }
        let new = NewCustomer {
            name,
            phone: phone.clone(),
            email: None,
            address: None,
        };
        match self.store().create_customer(&new).await {
            Ok(c) => {
                self.act(
                    "register_customer",
                    &format!("Registered {} (#{}).", c.name, c.id),
                )
                .await;
                self.customer_view(c).await
            }
            Err(StoreError::Conflict(_)) => {
                // Registered meanwhile (another call): bind the existing record.
                match self
                    .store()
                    .customer_by_phone(&phone)
                    .await
                    .map_err(internal)?
                {
                    Some(c) => self.customer_view(c).await,
                    None => Err(ToolError::Internal),
                }
            }
            Err(e) => Err(internal(e)),
        }
    }

    /// `add_vehicle`: adds (or reuses, by VIN or year/make/model) one of the caller's vehicles;
    /// a VIN given for one of them that has none is recorded.
    pub async fn add_vehicle(&mut self, a: AddVehicleArgs) -> Result<VehicleView, ToolError> {
        let customer_id = self.customer_id()?;
        let this_year = self
            .today()
            .format("%Y")
            .to_string()
            .parse::<u16>()
            .unwrap_or(2100);
        if !(1950..=this_year + 2).contains(&a.year) {
            return Err(invalid(format!(
                "year must be between 1950 and {}",
                this_year + 2
            )));
        }
        let make = clean_text(&a.make, "make", 40)?;
        let model = clean_text(&a.model, "model", 40)?;
        let vin = match a.vin.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            Some(v) => Some(Vin::parse(v).map_err(|e| invalid(e.to_string()))?),
            None => None,
        };
        let existing = self.vehicles().await?.into_iter().find(|v| {
            (vin.is_some() && v.vin == vin)
                || (v.year == a.year
                    && v.make.eq_ignore_ascii_case(&make)
                    && v.model.eq_ignore_ascii_case(&model))
        });
        let v = match (existing, &vin) {
            // Its VIN, read out after the vehicle was added.
            (Some(v), Some(vin)) if v.vin.is_none() => {
                match self.store().set_vehicle_vin(v.id, vin).await {
                    Ok(v) => v,
                    Err(StoreError::Conflict(_)) => {
                        return Err(invalid(
                            "that VIN is registered to another record; please check it",
                        ));
                    }
                    Err(e) => return Err(internal(e)),
                }
            }
            (Some(v), _) => v,
            (None, _) => {
                let new = NewVehicle {
                    customer_id,
                    vin,
                    year: a.year,
                    make,
                    model,
                    trim: None,
                    mileage: None,
                    plate: None,
                };
                match self.store().add_vehicle(&new).await {
                    Ok(v) => v,
                    Err(StoreError::Conflict(_)) => {
                        return Err(invalid(
                            "that VIN is registered to another record; please check it",
                        ));
                    }
                    Err(e) => return Err(internal(e)),
                }
            }
        };
        let view = VehicleView::from(&v);
        self.vehicle = Some(v);
        Ok(view)
    }

    /// `decode_vin`: validates the check digit and decodes year and make offline.
    pub async fn decode_vin(&mut self, a: DecodeVinArgs) -> Result<Value, ToolError> {
        let vin = Vin::parse(&a.vin).map_err(|e| invalid(e.to_string()))?;
        let info = vin.decode_offline();
        Ok(json!({
            "vin": vin.to_string(),
            "read_back": speak::vin(vin.as_str()),
            "model_year": info.model_year,
            "make": info.make,
            "manufacturer": info.manufacturer,
        }))
    }

    /// `recalls`: recalls for the vehicle via the configured [`crate::RecallLookup`].
    pub async fn recalls(&mut self, a: RecallsArgs) -> Result<Value, ToolError> {
        let make = clean_text(&a.make, "make", 40)?;
        let model = clean_text(&a.model, "model", 40)?;
        let lookup = self
            .recalls
            .clone()
            .ok_or_else(|| ToolError::Unavailable("recall lookups are not available".into()))?;
        self.set_outcome(Outcome::Informed);
        let list = lookup.recalls(&make, &model, a.year).await.map_err(|e| {
            warn!(error = %e, "recall lookup failed");
            ToolError::Unavailable("the recall service did not answer; try later".into())
        })?;
        Ok(json!({
            "count": list.len(),
            "recalls": list.iter().take(3).collect::<Vec<_>>(),
            "note": "These may apply to this model; the caller should confirm by VIN.",
        }))
    }

    /// `list_services`: the catalog with durations and price ranges from config.
    pub async fn list_services(&mut self, _: NoArgs) -> Result<Value, ToolError> {
        self.set_outcome(Outcome::Informed);
        let list: Vec<Value> = self
            .config()
            .services
            .iter()
            .map(|s| {
                json!({
                    "id": s.id,
                    "name": s.name,
                    "minutes": s.duration_minutes,
                    "price": format!("{} to {}", speak::dollars(s.price_min_cents), speak::dollars(s.price_max_cents)),
                })
            })
            .collect();
        Ok(json!({ "services": list }))
    }

    /// Free slots for `service` from `from` (up to [`SEARCH_DAYS`]), best [`OFFER`] for the
    /// preference, on the first day that has any.
    pub(crate) async fn slots(
        &self,
        service: &ServiceDef,
        from: NaiveDate,
        part: DayPart,
        near: Option<NaiveTime>,
    ) -> Result<Vec<SlotView>, ToolError> {
        let cfg = self.config();
        let tz = self.tz();
        let from = from.max(self.today());
        let to = from + Duration::days(SEARCH_DAYS - 1);
        let all = self
            .shop
            .free_slots(&service.id, from, to, self.now())
            .await
            .map_err(booking)?;
        let lunch_end = cfg
            .lunch
            .map_or(NaiveTime::from_hms_opt(13, 0, 0), |l| Some(l.close));
        let fits = |s: &Slot| {
            let t = s.start.with_timezone(&tz).time();
            match part {
                DayPart::Any => true,
                DayPart::Morning => t.hour() < 12,
                DayPart::Afternoon => t.hour() >= 12,
                DayPart::AfterLunch => lunch_end.is_none_or(|l| t >= l),
                DayPart::Evening => t.hour() >= 15,
            }
        };
        let matching: Vec<&Slot> = all.iter().filter(|s| fits(s)).collect();
        let Some(first) = matching.first() else {
            return Ok(Vec::new());
        };
        let day = first.start.with_timezone(&tz).date_naive();
        let mut same_day: Vec<&Slot> = matching
            .into_iter()
            .filter(|s| s.start.with_timezone(&tz).date_naive() == day)
            .collect();
        if let Some(near) = near {
            let dist = |s: &&Slot| {
                (s.start.with_timezone(&tz).time() - near)
                    .num_minutes()
                    .abs()
            };
            same_day.sort_by_key(dist);
            same_day.truncate(OFFER);
            same_day.sort_by_key(|s| s.start);
        }
        Ok(same_day
            .into_iter()
            .take(OFFER)
            .map(|s| self.slot_view(s.start))
            .collect())
    }

    /// `find_free_slots`.
    pub async fn find_free_slots(&mut self, a: FindSlotsArgs) -> Result<Value, ToolError> {
        let service = self.service_def(&a.service)?;
        let from = match a.date.as_deref() {
            Some(d) => NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d")
                .map_err(|_| invalid("date must be YYYY-MM-DD"))?,
            None => self.today(),
        };
        let near = match a.near_time.as_deref() {
            Some(t) => Some(
                NaiveTime::parse_from_str(t.trim(), "%H:%M")
                    .map_err(|_| invalid("near_time must be HH:MM"))?,
            ),
            None => None,
        };
        let slots = self.slots(&service, from, a.day_part, near).await?;
        Ok(json!({ "service": service.name, "slots": slots }))
    }

    /// Books `service` at `start` for the bound customer (the rule-based dialogue's entry).
    pub(crate) async fn book(
        &mut self,
        service: &ServiceDef,
        start: DateTime<Utc>,
        vehicle_id: Option<i64>,
        notes: Option<String>,
    ) -> Result<AppointmentView, ToolError> {
        let req = BookingRequest {
            customer_id: self.customer_id()?,
            // The shop checks an explicit vehicle is this customer's.
            vehicle_id: vehicle_id.or_else(|| self.vehicle.as_ref().map(|v| v.id)),
            service_id: service.id.clone(),
            start,
            source: self.source,
            notes,
        };
        let a = self.shop.book(req, self.now()).await.map_err(booking)?;
        let view = self.appointment_view(&a).await;
        self.set_outcome(Outcome::Booked);
        let line = format!(
            "Booked {} for {} (#{}).",
            view.service, view.spoken, view.id
        );
        self.done("book_appointment", line).await;
        Ok(view)
    }

    /// `book_appointment`.
    pub async fn book_appointment(&mut self, a: BookArgs) -> Result<AppointmentView, ToolError> {
        let service = self.service_def(&a.service)?;
        let start = self.local_start(&a.start)?;
        let notes = match a.notes.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
            Some(n) => Some(clean_text(n, "notes", 500)?),
            None => None,
        };
        let view = self.book(&service, start, a.vehicle_id, notes).await?;
        // What the caller asked for is booked: nothing is left in the frame to resume.
        *self.frame_mut() = crate::frame::Frame::default();
        Ok(view)
    }

    /// The bound customer's active appointments that have not ended (including a job under
    /// way), by start.
    pub(crate) async fn upcoming(&self) -> Result<Vec<Appointment>, ToolError> {
        let id = self.customer_id()?;
        self.shop.upcoming(id, self.now()).await.map_err(booking)
    }

    /// `list_upcoming`.
    pub async fn list_upcoming(&mut self, _: NoArgs) -> Result<Value, ToolError> {
        let list = self.upcoming().await?;
        let mut views = Vec::new();
        for a in &list {
            views.push(self.appointment_view(a).await);
        }
        self.set_outcome(Outcome::Informed);
        Ok(json!({ "appointments": views }))
    }

    /// Moves one of the caller's appointments (the rule-based dialogue's entry).
    pub(crate) async fn move_appointment(
        &mut self,
        id: i64,
        start: DateTime<Utc>,
    ) -> Result<AppointmentView, ToolError> {
        let customer_id = self.customer_id()?;
        let a = self
            .shop
            .reschedule(customer_id, id, start, self.now())
            .await
            .map_err(booking)?;
        let view = self.appointment_view(&a).await;
        self.set_outcome(Outcome::Rescheduled);
        let line = format!("Moved {} to {} (#{}).", view.service, view.spoken, view.id);
        self.done("reschedule_appointment", line).await;
        Ok(view)
    }

    /// `reschedule_appointment`.
    pub async fn reschedule_appointment(
        &mut self,
        a: RescheduleArgs,
    ) -> Result<AppointmentView, ToolError> {
        let start = self.local_start(&a.new_start)?;
        self.move_appointment(a.appointment_id, start).await
    }

    /// `cancel_appointment`.
    pub async fn cancel_appointment(
        &mut self,
        a: CancelArgs,
    ) -> Result<AppointmentView, ToolError> {
        let customer_id = self.customer_id()?;
        let c = self
            .shop
            .cancel(customer_id, a.appointment_id, self.now())
            .await
            .map_err(booking)?;
        let view = self.appointment_view(&c).await;
        self.set_outcome(Outcome::Cancelled);
        let line = format!(
            "Cancelled {} on {} (#{}).",
            view.service, view.spoken, view.id
        );
        self.done("cancel_appointment", line).await;
        Ok(view)
    }

    /// Confirms one of the caller's appointments (a yes to a reminder call).
    pub(crate) async fn confirm_appointment(
        &mut self,
        id: i64,
    ) -> Result<AppointmentView, ToolError> {
        let customer_id = self.customer_id()?;
        let a = self
            .shop
            .confirm(customer_id, id, self.now())
            .await
            .map_err(booking)?;
        let view = self.appointment_view(&a).await;
        self.set_outcome(Outcome::Confirmed);
        let line = format!(
            "Confirmed {} on {} (#{}).",
            view.service, view.spoken, view.id
        );
        self.done("confirm_appointment", line).await;
        Ok(view)
    }

    /// True when the shop is open at this moment (opening hours, not a holiday).
    pub fn shop_open_now(&self) -> bool {
        let local = self.now().with_timezone(&self.tz());
        let cfg = self.config();
        !cfg.holidays.contains(&local.date_naive())
            && cfg
                .hours
                .on(chrono::Datelike::weekday(&local))
                .is_some_and(|h| h.contains(local.time()))
    }

    /// `transfer_to_person`: transfers to the shop's number while open.
    pub async fn transfer_to_person(&mut self, _: NoArgs) -> Result<Value, ToolError> {
        if !self.shop_open_now() {
            return Err(ToolError::Closed);
        }
        let to = self.config().phone.to_string();
        self.actions.push(CallAction::Transfer { to });
        self.set_outcome(Outcome::Transferred);
        self.done("transfer_to_person", "Transferred to the shop.".into())
            .await;
        Ok(json!({ "transferring": true }))
    }

    /// `take_message`: records a message for the staff — a message record with the caller's
    /// number, their name when known and the call — and marks the call (outcome "message",
    /// the text in the summary).
    pub async fn take_message(&mut self, a: TakeMessageArgs) -> Result<Value, ToolError> {
        let message = clean_text(&a.message, "message", 1000)?;
        let new = NewMessage {
            call_id: self.call_id,
            customer_id: self.customer.as_ref().map(|c| c.id),
            from_phone: self
                .caller
                .as_ref()
                .map_or_else(|| "anonymous".to_string(), |p| p.to_string()),
            caller_name: self.customer.as_ref().map(|c| c.name.clone()),
            body: message.clone(),
            created_at: self.now(),
        };
        self.store().create_message(&new).await.map_err(internal)?;
        self.set_outcome(Outcome::Message);
        self.done("take_message", format!("Message: {message}"))
            .await;
        Ok(json!({ "taken": true }))
    }

    /// `end_call`: hangs up after the reply.
    pub async fn end_call(&mut self, _: NoArgs) -> Result<Value, ToolError> {
        self.actions.push(CallAction::HangUp);
        Ok(json!({ "ending": true }))
    }
}

/// At most 40 characters of model-written text, for error messages.
fn clean_preview(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(40).collect()
}
