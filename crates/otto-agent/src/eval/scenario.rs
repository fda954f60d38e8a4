//! The scenario format (`evals/README.md` is its description for writers) and [`load`], which
//! reads JSON Lines files and validates every scenario, naming the file, line, scenario and
//! field at fault.

use std::collections::HashSet;
use std::path::Path;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use otto_core::domain::{PhoneNumber, Vin};
use otto_core::records::AppointmentStatus;
use otto_core::shop::ShopConfig;
use serde::Deserialize;

/// Why scenarios could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// A file could not be read.
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    /// A line is not a valid scenario.
    #[error("{path}:{line}: {message}")]
    Invalid {
        path: String,
        line: usize,
        message: String,
    },
}

/// One scenario. See `evals/README.md`.
#[derive(Debug, Clone, Deserialize)]
pub struct Scenario {
    pub id: String,
    pub category: String,
    pub style: String,
    /// Shop-local time of the call, "YYYY-MM-DD HH:MM".
    pub now: String,
    /// Caller ID (E.164), or `None` when withheld.
    pub caller: Option<String>,
    #[serde(default)]
    pub customers: Vec<SetupCustomer>,
    #[serde(default)]
    pub appointments: Vec<SetupAppointment>,
    pub lines: Vec<String>,
    #[serde(default)]
    pub expect: Expect,
}

/// A customer created before the call.
#[derive(Debug, Clone, Deserialize)]
pub struct SetupCustomer {
    pub name: String,
    pub phone: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub vehicles: Vec<SetupVehicle>,
}

/// A vehicle created before the call.
#[derive(Debug, Clone, Deserialize)]
pub struct SetupVehicle {
    pub year: u16,
    pub make: String,
    pub model: String,
    #[serde(default)]
    pub vin: Option<String>,
}

/// An appointment created before the call.
#[derive(Debug, Clone, Deserialize)]
pub struct SetupAppointment {
    /// The customer's phone.
    pub phone: String,
    /// A model of one of the customer's vehicles.
    #[serde(default)]
    pub vehicle: Option<String>,
    /// A catalog service id.
    pub service: String,
    /// Shop-local start, "YYYY-MM-DD HH:MM".
    pub start: String,
    /// Default "scheduled".
    #[serde(default)]
    pub status: Option<String>,
}

/// What must hold afterwards. Every key is optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    #[serde(default)]
    pub booked: Vec<Booked>,
    #[serde(default)]
    pub moved: Vec<Moved>,
    /// Shop-local starts of appointments that must end up cancelled.
    #[serde(default)]
    pub cancelled: Vec<String>,
    pub customer: Option<ExpectCustomer>,
    pub vehicle: Option<ExpectVehicle>,
    pub message: Option<ExpectMessage>,
    pub transfer: Option<bool>,
    #[serde(default)]
    pub say: Vec<String>,
    #[serde(default)]
    pub never_say: Vec<String>,
}

/// A new appointment that must exist.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Booked {
    pub service: String,
    pub vehicle: Option<String>,
    pub date: Option<String>,
    pub after: Option<String>,
    pub before: Option<String>,
}

/// An appointment that must have moved.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Moved {
    /// Its shop-local start before the call.
    pub from: String,
    pub date: Option<String>,
    pub after: Option<String>,
    pub before: Option<String>,
}

/// The caller registered as a customer.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectCustomer {
    pub name: String,
}

/// A vehicle added for the caller.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectVehicle {
    pub year: u16,
    pub make: String,
    pub model: String,
    pub vin: Option<String>,
}

/// A message taken from the caller.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectMessage {
    #[serde(default)]
    pub contains: Vec<String>,
}

/// "YYYY-MM-DD HH:MM".
pub(crate) fn local_time(s: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%d %H:%M").ok()
}

/// "YYYY-MM-DD".
pub(crate) fn date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()
}

/// "HH:MM".
pub(crate) fn clock(s: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(s.trim(), "%H:%M").ok()
}

impl Scenario {
    /// Checks every field against the format and `shop`'s catalog; the error names the field.
    fn validate(&self, shop: &ShopConfig) -> Result<(), String> {
        let bad = |field: &str, why: &str| Err(format!("{}: {field}: {why}", self.id));
        if self.id.trim().is_empty() {
            return Err("id: empty".into());
        }
        if local_time(&self.now).is_none() {
            return bad("now", "expected \"YYYY-MM-DD HH:MM\"");
        }
        if let Some(c) = &self.caller
            && PhoneNumber::parse(c).is_err()
        {
            return bad("caller", "not a phone number");
        }
        if self.lines.is_empty() || self.lines.iter().any(|l| l.trim().is_empty()) {
            return bad("lines", "needs at least one line, none blank");
        }
        for c in &self.customers {
            if c.name.trim().is_empty() || PhoneNumber::parse(&c.phone).is_err() {
                return bad("customers", "each needs a name and a valid phone");
            }
            for v in &c.vehicles {
                if let Some(vin) = &v.vin
                    && Vin::parse(vin).is_err()
                {
                    return bad("customers.vehicles.vin", "not a valid VIN (check digit?)");
                }
            }
        }
        for a in &self.appointments {
            if !self
                .customers
                .iter()
                .any(|c| same_phone(&c.phone, &a.phone))
            {
                return bad("appointments.phone", "no customer has this phone");
            }
            if shop.service(&a.service).is_none() {
                return bad("appointments.service", "not a service of the shop");
            }
            if local_time(&a.start).is_none() {
                return bad("appointments.start", "expected \"YYYY-MM-DD HH:MM\"");
            }
            if let Some(s) = &a.status
                && s.parse::<AppointmentStatus>().is_err()
            {
                return bad(
                    "appointments.status",
                    "scheduled, confirmed, cancelled or completed",
                );
            }
        }
        let e = &self.expect;
        for b in &e.booked {
            if shop.service(&b.service).is_none() {
                return bad("expect.booked.service", "not a service of the shop");
            }
            if b.date.as_deref().is_some_and(|d| date(d).is_none())
                || [&b.after, &b.before]
                    .into_iter()
                    .flatten()
                    .any(|t| clock(t).is_none())
            {
                return bad("expect.booked", "date is YYYY-MM-DD, after/before HH:MM");
            }
        }
        for m in &e.moved {
            if local_time(&m.from).is_none()
                || m.date.as_deref().is_some_and(|d| date(d).is_none())
                || [&m.after, &m.before]
                    .into_iter()
                    .flatten()
                    .any(|t| clock(t).is_none())
            {
                return bad(
                    "expect.moved",
                    "from is YYYY-MM-DD HH:MM, date YYYY-MM-DD, after/before HH:MM",
                );
            }
        }
        if e.cancelled.iter().any(|c| local_time(c).is_none()) {
            return bad("expect.cancelled", "expected \"YYYY-MM-DD HH:MM\" each");
        }
        if let Some(v) = &e.vehicle
            && let Some(vin) = &v.vin
            && Vin::parse(vin).is_err()
        {
            return bad("expect.vehicle.vin", "not a valid VIN");
        }
        Ok(())
    }
}

/// Whether two written phone numbers are the same number.
pub(crate) fn same_phone(a: &str, b: &str) -> bool {
    matches!((PhoneNumber::parse(a), PhoneNumber::parse(b)), (Ok(x), Ok(y)) if x == y)
}

/// Reads and validates the scenarios in `paths` (JSON Lines; blank lines skipped), in order.
///
/// # Errors
/// [`EvalError::Io`] for a file that cannot be read; [`EvalError::Invalid`] for a line that
/// is not JSON, breaks the format, or repeats an id.
pub fn load(paths: &[impl AsRef<Path>], shop: &ShopConfig) -> Result<Vec<Scenario>, EvalError> {
    let mut out = Vec::new();
    let mut ids = HashSet::new();
    for path in paths {
        let path = path.as_ref();
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| EvalError::Io {
            path: name.clone(),
            source,
        })?;
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let invalid = |message: String| EvalError::Invalid {
                path: name.clone(),
                line: i + 1,
                message,
            };
            let s: Scenario = serde_json::from_str(line).map_err(|e| invalid(e.to_string()))?;
            s.validate(shop).map_err(invalid)?;
            if !ids.insert(s.id.clone()) {
                return Err(invalid(format!("{}: id used twice", s.id)));
            }
            out.push(s);
        }
    }
    Ok(out)
}
