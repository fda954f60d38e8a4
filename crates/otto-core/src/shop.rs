//! The shop's configuration: identity, opening hours, lunch break, holidays, service bays,
//! booking lead time and the service catalog.
//!
//! This is plain data deserialised from the `[shop]` table of Otto's config (see
//! `otto.example.toml`). [`ShopConfig::validate`] checks the invariants the scheduling rules rely
//! on; configuration loading calls it once at start, so the rest of Otto can trust the values.
//! Defaults describe the demo shop, "Otto's Auto".

use chrono::{NaiveDate, NaiveTime, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::domain::PhoneNumber;

/// The whole shop configuration (`[shop]` in `otto.toml`, `OTTO_SHOP__*` in the environment).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ShopConfig {
    /// Display name, spoken in greetings. Default "Otto's Auto".
    pub name: String,
    /// The shop's own phone number (E.164): calls are transferred here when a caller asks for a
    /// person during opening hours.
    pub phone: PhoneNumber,
    /// Street address as it should be read to callers.
    pub address: String,
    /// IANA time zone of the shop, e.g. "America/New_York". All hours, holidays and dates that
    /// callers say are in this zone.
    pub time_zone: Tz,
    /// Opening hours per weekday; a missing day means closed.
    pub hours: WeeklyHours,
    /// Daily lunch break during which no appointment may run; `None` for no break.
    pub lunch: Option<TimeRange>,
    /// Dates (in the shop's zone) on which the shop is closed all day.
    pub holidays: Vec<NaiveDate>,
    /// Number of service bays: at most this many appointments overlap at any instant. ≥ 1.
    pub bays: u32,
    /// Minimum time between now and the start of a bookable slot, in minutes.
    pub min_lead_minutes: u32,
    /// Granularity of slot start times, in minutes (slots start on multiples of this from
    /// opening). 5..=120, divides 1440.
    pub slot_step_minutes: u32,
    /// The service catalog. At least one service; names and aliases unique (case-insensitive).
    pub services: Vec<ServiceDef>,
}

/// The days of the week in calendar order, Monday first (as opening hours are listed).
pub const WEEK: [Weekday; 7] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
    Weekday::Sun,
];

/// Opening hours for each weekday, in the shop's local time. `None` = closed that day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WeeklyHours {
    pub monday: Option<TimeRange>,
    pub tuesday: Option<TimeRange>,
    pub wednesday: Option<TimeRange>,
    pub thursday: Option<TimeRange>,
    pub friday: Option<TimeRange>,
    pub saturday: Option<TimeRange>,
    pub sunday: Option<TimeRange>,
}

/// A half-open local time range `[open, close)`, written "08:00" / "17:30" in config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeRange {
    #[serde(with = "hhmm")]
    pub open: NaiveTime,
    #[serde(with = "hhmm")]
    pub close: NaiveTime,
}

/// Whether the customer waits at the shop or leaves the vehicle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceKind {
    /// The customer waits in the lounge (short jobs).
    Waiter,
    /// The customer drops the vehicle off and collects it later.
    DropOff,
}

/// One entry of the service catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceDef {
    /// Stable identifier stored with appointments, e.g. "oil_change". `[a-z0-9_]+`.
    pub id: String,
    /// Name as spoken to callers, e.g. "oil change".
    pub name: String,
    /// Other words callers use for it, e.g. ["lube", "oil and filter"]. Matched case-insensitively.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// How long the job occupies a bay, in minutes. > 0.
    pub duration_minutes: u32,
    /// Lowest usual price, in US cents.
    pub price_min_cents: u32,
    /// Highest usual price, in US cents. ≥ `price_min_cents`.
    pub price_max_cents: u32,
    /// Waiter or drop-off.
    pub kind: ServiceKind,
}

/// A configuration value that breaks an invariant; the message names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid shop config: {0}")]
pub struct ShopConfigError(pub String);

impl WeeklyHours {
    /// Opening hours on `day`, `None` when closed.
    pub fn on(&self, day: Weekday) -> Option<TimeRange> {
        match day {
            Weekday::Mon => self.monday,
            Weekday::Tue => self.tuesday,
            Weekday::Wed => self.wednesday,
            Weekday::Thu => self.thursday,
            Weekday::Fri => self.friday,
            Weekday::Sat => self.saturday,
            Weekday::Sun => self.sunday,
        }
    }
}

impl Default for WeeklyHours {
    /// Monday–Friday 08:00–18:00, Saturday 09:00–14:00, Sunday closed.
    fn default() -> Self {
        let weekday = Some(TimeRange::hm(8, 0, 18, 0));
        Self {
            monday: weekday,
            tuesday: weekday,
            wednesday: weekday,
            thursday: weekday,
            friday: weekday,
            saturday: Some(TimeRange::hm(9, 0, 14, 0)),
            sunday: None,
        }
    }
}

impl TimeRange {
    /// A range from `oh:om` to `ch:cm`. Panics on out-of-range literals: for constants only.
    pub fn hm(oh: u32, om: u32, ch: u32, cm: u32) -> Self {
        let t = |h, m| NaiveTime::from_hms_opt(h, m, 0).expect("valid time literal");
        Self {
            open: t(oh, om),
            close: t(ch, cm),
        }
    }

    /// True when `t` is inside `[open, close)`.
    pub fn contains(&self, t: NaiveTime) -> bool {
        self.open <= t && t < self.close
    }
}

impl ServiceDef {
    /// True when `text` names this service: its id, name or an alias, ignoring case and
    /// surrounding space.
    pub fn is_named(&self, text: &str) -> bool {
        let t = text.trim().to_lowercase();
        !t.is_empty()
            && (self.id == t
                || self.name.to_lowercase() == t
                || self.aliases.iter().any(|a| a.to_lowercase() == t))
    }
}

impl ShopConfig {
    /// The service whose id, name or alias is `text` (case-insensitive), if any.
    pub fn service(&self, text: &str) -> Option<&ServiceDef> {
        self.services.iter().find(|s| s.is_named(text))
    }

    /// Checks the invariants documented on each field.
    ///
    /// # Errors
    /// [`ShopConfigError`] naming the first offending field.
    pub fn validate(&self) -> Result<(), ShopConfigError> {
        let err = |m: String| Err(ShopConfigError(m));
        if self.name.trim().is_empty() {
            return err("shop.name is empty".into());
        }
        if self.bays == 0 {
            return err("shop.bays must be at least 1".into());
        }
        if !(5..=120).contains(&self.slot_step_minutes) || 1440 % self.slot_step_minutes != 0 {
            return err("shop.slot_step_minutes must be 5..=120 and divide 1440".into());
        }
        if self.min_lead_minutes > 60 * 24 * 30 {
            return err("shop.min_lead_minutes must be at most 30 days".into());
        }
        for day in WEEK {
            if let Some(r) = self.hours.on(day)
                && r.open >= r.close
            {
                return err(format!("shop.hours.{day}: open must be before close"));
            }
        }
        if let Some(l) = self.lunch
            && l.open >= l.close
        {
            return err("shop.lunch: start must be before end".into());
        }
        if self.services.is_empty() {
            return err("shop.services: at least one service is required".into());
        }
        let mut names: Vec<String> = Vec::new();
        let mut ids: Vec<&str> = Vec::new();
        for s in &self.services {
            // Appointments store the id: two services with one id would mix up bookings.
            if ids.contains(&s.id.as_str()) {
                return err(format!("service id {:?} is used twice", s.id));
            }
            ids.push(&s.id);
            if s.id.is_empty()
                || !s
                    .id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            {
                return err(format!("service id {:?} must match [a-z0-9_]+", s.id));
            }
            if s.duration_minutes == 0 || s.duration_minutes > 24 * 60 {
                return err(format!(
                    "service {}: duration_minutes must be 1..=1440",
                    s.id
                ));
            }
            if s.price_min_cents > s.price_max_cents {
                return err(format!(
                    "service {}: price_min_cents exceeds price_max_cents",
                    s.id
                ));
            }
            for n in std::iter::once(&s.name).chain(&s.aliases) {
                let n = n.trim().to_lowercase();
                if n.is_empty() {
                    return err(format!("service {}: empty name or alias", s.id));
                }
                if names.contains(&n) {
                    return err(format!("service name or alias {n:?} is used twice"));
                }
                names.push(n);
            }
        }
        Ok(())
    }
}

impl Default for ShopConfig {
    /// The demo shop, Otto's Auto, in America/New_York with two bays.
    fn default() -> Self {
        Self {
            name: "Otto's Auto".into(),
            phone: PhoneNumber::parse("+15555550100").expect("valid demo number"),
            address: "1200 Main Street, Springfield, Virginia 22150".into(),
            time_zone: chrono_tz::America::New_York,
            hours: WeeklyHours::default(),
            lunch: Some(TimeRange::hm(12, 0, 13, 0)),
            holidays: Vec::new(),
            bays: 2,
            min_lead_minutes: 60,
            slot_step_minutes: 30,
            services: default_catalog(),
        }
    }
}

fn service(
    id: &str,
    name: &str,
    aliases: &[&str],
    minutes: u32,
    dollars: (u32, u32),
    kind: ServiceKind,
) -> ServiceDef {
    ServiceDef {
        id: id.into(),
        name: name.into(),
        aliases: aliases.iter().map(|a| (*a).into()).collect(),
        duration_minutes: minutes,
        price_min_cents: dollars.0 * 100,
        price_max_cents: dollars.1 * 100,
        kind,
    }
}

/// The demo shop's service catalog.
pub fn default_catalog() -> Vec<ServiceDef> {
    use ServiceKind::{DropOff, Waiter};
    vec![
        service(
            "oil_change",
            "oil change",
            &["lube", "oil and filter", "oil service", "lube oil filter"],
            30,
            (49, 89),
            Waiter,
        ),
        service(
            "tire_rotation",
            "tire rotation",
            &["rotate tires", "rotation", "tire rotate"],
            30,
            (25, 40),
            Waiter,
        ),
        service(
            "state_inspection",
            "state inspection",
            &["inspection", "safety inspection", "emissions"],
            45,
            (20, 40),
            Waiter,
        ),
        service(
            "brake_service",
            "brake service",
            &[
                "brakes",
                "brake pads",
                "brake job",
                "brake repair",
                "break service",
            ],
            120,
            (150, 400),
            DropOff,
        ),
        service(
            "diagnostic",
            "diagnostic",
            &[
                "check engine light",
                "diagnosis",
                "engine light",
                "diagnostics",
            ],
            60,
            (90, 150),
            DropOff,
        ),
        service(
            "battery_replacement",
            "battery replacement",
            &["battery", "new battery", "battery change"],
            30,
            (150, 250),
            Waiter,
        ),
        service(
            "ac_service",
            "air conditioning service",
            &["ac", "a/c", "air conditioning", "ac recharge"],
            90,
            (120, 250),
            DropOff,
        ),
        service(
            "wheel_alignment",
            "wheel alignment",
            &["alignment", "front end alignment"],
            60,
            (90, 150),
            DropOff,
        ),
    ]
}

/// Serde helpers for "HH:MM" times.
mod hhmm {
    use chrono::NaiveTime;
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(t: &NaiveTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&t.format("%H:%M").to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveTime, D::Error> {
        let s = String::deserialize(d)?;
        NaiveTime::parse_from_str(&s, "%H:%M")
            .map_err(|_| D::Error::custom(format!("expected a time as HH:MM, got {s:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_config_is_valid() {
        ShopConfig::default().validate().unwrap();
    }

    #[test]
    fn finds_services_by_alias_ignoring_case() {
        let shop = ShopConfig::default();
        assert_eq!(shop.service("  LUBE ").unwrap().id, "oil_change");
        assert_eq!(shop.service("Brakes").unwrap().id, "brake_service");
        assert!(shop.service("teleportation").is_none());
    }

    #[test]
    fn rejects_broken_invariants() {
        let mut shop = ShopConfig {
            bays: 0,
            ..ShopConfig::default()
        };
        assert!(shop.validate().unwrap_err().0.contains("bays"));
        shop.bays = 2;
        shop.services[1].aliases.push("LUBE".into());
        assert!(shop.validate().unwrap_err().0.contains("lube"));
        shop.services = default_catalog();
        let mut twin = shop.services[0].clone();
        twin.name = "another service".into();
        twin.aliases.clear();
        shop.services.push(twin);
        let e = shop.validate().unwrap_err().0;
        assert!(
            e.contains("used twice") && e.contains(&shop.services[0].id),
            "{e}"
        );
        shop.services = default_catalog();
        shop.hours.monday = Some(TimeRange::hm(18, 0, 8, 0));
        assert!(shop.validate().unwrap_err().0.contains("Mon"));
    }

    #[test]
    fn times_parse_as_hhmm_only() {
        let r: TimeRange = serde_json::from_str(r#"{"open":"08:30","close":"17:00"}"#).unwrap();
        assert_eq!(r, TimeRange::hm(8, 30, 17, 0));
        assert!(serde_json::from_str::<TimeRange>(r#"{"open":"8.30","close":"17:00"}"#).is_err());
    }
}
