//! Tool argument types. Each derives its JSON Schema; unknown fields are rejected. Values
//! are parsed into domain types by the executors, which report bad values as
//! `invalid_arguments`.

use schemars::JsonSchema;
use serde::Deserialize;

/// No arguments.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoArgs {}

/// `register_customer`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterCustomerArgs {
    /// The caller's full name as they gave it.
    pub name: String,
}

/// `add_vehicle`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AddVehicleArgs {
    /// Model year, e.g. 2019.
    pub year: u16,
    /// Make, e.g. "Honda".
    pub make: String,
    /// Model, e.g. "Civic".
    pub model: String,
    /// 17-character VIN if the caller gave one, else null.
    pub vin: Option<String>,
}

/// `decode_vin`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DecodeVinArgs {
    /// 17-character VIN.
    pub vin: String,
}

/// `recalls`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecallsArgs {
    /// Model year.
    pub year: u16,
    pub make: String,
    pub model: String,
}

/// A part of the day the caller prefers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DayPart {
    Any,
    Morning,
    Afternoon,
    AfterLunch,
    Evening,
}

/// `find_free_slots`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FindSlotsArgs {
    /// Service id or name from list_services.
    pub service: String,
    /// First local date to search, YYYY-MM-DD; null for today. Up to 14 days are searched.
    pub date: Option<String>,
    /// Preferred part of the day.
    pub day_part: DayPart,
    /// Preferred local time HH:MM, or null; slots nearest to it come first.
    pub near_time: Option<String>,
}

/// `book_appointment`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BookArgs {
    /// Service id or name from list_services.
    pub service: String,
    /// Local start time in the shop's time zone, YYYY-MM-DDTHH:MM (from find_free_slots).
    pub start: String,
    /// One of the caller's vehicle ids, or null for the vehicle being discussed.
    pub vehicle_id: Option<i64>,
    /// Short note for the technician (symptoms), or null.
    pub notes: Option<String>,
}

/// `reschedule_appointment`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RescheduleArgs {
    /// Id from list_upcoming.
    pub appointment_id: i64,
    /// New local start time, YYYY-MM-DDTHH:MM.
    pub new_start: String,
}

/// `cancel_appointment`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelArgs {
    /// Id from list_upcoming.
    pub appointment_id: i64,
}

/// `take_message`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TakeMessageArgs {
    /// The message in the caller's words (what they need, when to call back).
    pub message: String,
}
