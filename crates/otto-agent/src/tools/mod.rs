//! The tool registry: every action the dialogue can take on the shop's records, as typed
//! arguments with JSON Schemas derived from the Rust types (`schemars`), exposed to an LLM as
//! OpenAI `tools` (shared/protocols/openai.md §1.3) and executed by [`execute`].
//!
//! Both brains use the same executors: the LLM through [`execute`] with JSON arguments, the
//! rule-based dialogue through the typed methods on [`CallerContext`] in `exec`. Arguments are
//! validated (serde with unknown fields denied, then domain parsing) before anything reaches
//! the store. Identity never comes from arguments: every executor acts for the customer bound
//! to the [`CallerContext`].

mod args;
mod error;
mod exec;

pub use args::*;
pub use error::ToolError;
pub use exec::{AppointmentView, CustomerView, SlotView, VehicleView};

use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::context::CallerContext;

/// One tool as offered to a model.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolSpec {
    /// `[a-z_]+`, ≤ 64 characters.
    pub name: &'static str,
    /// What the tool does and when to use it, for the model.
    pub description: &'static str,
    /// JSON Schema of the arguments object (subschemas inlined, `additionalProperties: false`,
    /// every property listed in `required`; optional ones are nullable), so it satisfies
    /// OpenAI's `strict` mode.
    pub parameters: Value,
}

/// The result of one tool call: `content` goes back to the model as the tool message.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolOutcome {
    /// The JSON result, or `{"error":…,"message":…}` when `is_error`.
    pub content: Value,
    pub is_error: bool,
}

impl ToolOutcome {
    fn from_result<T: serde::Serialize>(r: Result<T, ToolError>) -> Self {
        match r {
            Ok(v) => Self {
                content: serde_json::to_value(v).unwrap_or(Value::Null),
                is_error: false,
            },
            Err(e) => Self {
                content: e.to_json(),
                is_error: true,
            },
        }
    }
}

fn schema_of<T: JsonSchema>() -> Value {
    let generator = SchemaSettings::draft2020_12()
        .with(|s| s.inline_subschemas = true)
        .into_generator();
    let mut v = generator.into_root_schema_for::<T>().to_value();
    if let Some(obj) = v.as_object_mut() {
        obj.remove("$schema");
        obj.remove("title");
        obj.remove("description");
        obj.insert("additionalProperties".into(), Value::Bool(false));
        let names: Vec<Value> = obj
            .get("properties")
            .and_then(Value::as_object)
            .map(|p| p.keys().cloned().map(Value::String).collect())
            .unwrap_or_default();
        obj.insert(
            "properties".into(),
            obj.get("properties").cloned().unwrap_or(json!({})),
        );
        obj.insert("required".into(), Value::Array(names));
    }
    v
}

macro_rules! registry {
    ($( $name:literal => $args:ty, $method:ident, $desc:literal; )+) => {
        /// Every tool, in a stable order.
        pub fn specs() -> Vec<ToolSpec> {
            vec![$(ToolSpec { name: $name, description: $desc, parameters: schema_of::<$args>() }),+]
        }

        /// Runs tool `name` with `args_json` (a JSON object as the model wrote it) for the
        /// caller bound to `ctx`. Never fails: errors come back as a [`ToolOutcome`] with
        /// `is_error` and a [`ToolError`] JSON body. Writes run to completion once started.
        pub async fn execute(name: &str, args_json: &str, ctx: &mut CallerContext) -> ToolOutcome {
            match name {
                $($name => match parse_args::<$args>(args_json) {
                    Ok(a) => ToolOutcome::from_result(ctx.$method(a).await),
                    Err(e) => ToolOutcome::from_result::<()>(Err(e)),
                },)+
                other => ToolOutcome::from_result::<()>(Err(ToolError::UnknownTool(
                    other.chars().take(64).collect(),
                ))),
            }
        }
    };
}

registry! {
    "lookup_caller" => NoArgs, lookup_caller,
        "Identify the caller by their caller ID. Returns the customer's name and vehicles, or known=false for a new caller.";
    "register_customer" => RegisterCustomerArgs, register_customer,
        "Register a new caller as a customer under their caller ID, with the name they gave.";
    "add_vehicle" => AddVehicleArgs, add_vehicle,
        "Add a vehicle to the caller's record (year, make, model, optional VIN) and make it the vehicle being discussed.";
    "decode_vin" => DecodeVinArgs, decode_vin,
        "Check a 17-character VIN (check digit) and decode its model year and make offline. Read the VIN back to the caller.";
    "recalls" => RecallsArgs, recalls,
        "Look up safety recalls for a make, model and model year. Results may apply; the caller should confirm by VIN.";
    "list_services" => NoArgs, list_services,
        "The shop's services with duration and usual price range. Never quote a price that is not listed here.";
    "find_free_slots" => FindSlotsArgs, find_free_slots,
        "Find up to three free appointment slots for a service on or after a date, optionally near a time of day.";
    "book_appointment" => BookArgs, book_appointment,
        "Book a service for the caller at a start time from find_free_slots, after the caller confirmed.";
    "list_upcoming" => NoArgs, list_upcoming,
        "The caller's own upcoming appointments.";
    "reschedule_appointment" => RescheduleArgs, reschedule_appointment,
        "Move one of the caller's upcoming appointments to a new free start time, after the caller confirmed.";
    "cancel_appointment" => CancelArgs, cancel_appointment,
        "Cancel one of the caller's upcoming appointments, after the caller confirmed.";
    "transfer_to_person" => NoArgs, transfer_to_person,
        "Transfer the call to a person at the shop. Only works while the shop is open; otherwise take a message.";
    "take_message" => TakeMessageArgs, take_message,
        "Take a message for the shop's staff, who will call back.";
    "end_call" => NoArgs, end_call,
        "Hang up after saying goodbye, when the caller has nothing else.";
}

fn parse_args<T: DeserializeOwned>(json: &str) -> Result<T, ToolError> {
    let json = if json.trim().is_empty() { "{}" } else { json };
    serde_json::from_str(json)
        .map_err(|e| ToolError::InvalidArguments(format!("bad arguments: {e}")))
}

/// The tools as the OpenAI `tools` array: `{"type":"function","function":{name, description,
/// parameters, strict}}` per tool; `strict` is omitted when `None` (some compatible servers
/// reject unknown keys).
pub fn openai_tools(strict: Option<bool>) -> Value {
    Value::Array(
        specs()
            .into_iter()
            .map(|s| {
                let mut f = json!({
                    "name": s.name,
                    "description": s.description,
                    "parameters": s.parameters,
                });
                if let Some(strict) = strict {
                    f["strict"] = Value::Bool(strict);
                }
                json!({"type": "function", "function": f})
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openai_tools_have_strict_schemas() {
        let tools = openai_tools(Some(true));
        let list = tools.as_array().unwrap();
        assert_eq!(list.len(), 14);
        for t in list {
            assert_eq!(t["type"], "function");
            let f = &t["function"];
            let name = f["name"].as_str().unwrap();
            assert!(
                name.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{name}"
            );
            assert_eq!(f["strict"], true);
            let p = &f["parameters"];
            assert_eq!(p["type"], "object", "{name}: {p}");
            assert_eq!(p["additionalProperties"], false, "{name}");
            let props = p["properties"].as_object().unwrap();
            let required = p["required"].as_array().unwrap();
            assert_eq!(
                props.len(),
                required.len(),
                "{name}: every property required"
            );
            assert!(
                !p.to_string().contains("$ref"),
                "{name}: subschemas inlined"
            );
        }
        let book = list
            .iter()
            .find(|t| t["function"]["name"] == "book_appointment")
            .unwrap();
        let props = &book["function"]["parameters"]["properties"];
        assert!(props["start"].is_object() && props["service"].is_object());
        assert!(
            props.get("customer_id").is_none(),
            "identity never comes from arguments"
        );
        assert!(openai_tools(None)[0]["function"].get("strict").is_none());
    }

    #[test]
    fn arguments_are_parsed_strictly() {
        assert!(parse_args::<RegisterCustomerArgs>(r#"{"name":"Ann"}"#).is_ok());
        let e =
            parse_args::<RegisterCustomerArgs>(r#"{"name":"Ann","customer_id":7}"#).unwrap_err();
        assert_eq!(e.code(), "invalid_arguments");
        assert!(parse_args::<NoArgs>("").is_ok());
        assert!(parse_args::<CancelArgs>(r#"{"appointment_id":"all"}"#).is_err());
    }
}
