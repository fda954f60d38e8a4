//! Small builders shared by the story's tests.

use chrono::{DateTime, TimeZone, Utc};
use otto_core::domain::{Email, PhoneNumber, UsState, Vin};
use otto_core::records::{Address, Id, NewCustomer, NewVehicle};

/// A customer with a Virginia address.
pub fn customer(name: &str, phone: &str) -> NewCustomer {
    NewCustomer {
        name: name.into(),
        phone: PhoneNumber::parse(phone).expect("test phone"),
        email: Some(Email::parse(&format!("Customer.{}@Example.com", phone.len())).expect("email")),
        address: Some(Address {
            street: "12 Oak Street".into(),
            city: "Springfield".into(),
            state: UsState::parse("VA").expect("state"),
            postal_code: "22150".into(),
        }),
    }
}

/// A 2019 Honda Civic for `customer_id` with `vin` (if any).
pub fn civic(customer_id: Id, vin: Option<&str>) -> NewVehicle {
    NewVehicle {
        customer_id,
        vin: vin.map(|v| Vin::parse(v).expect("test VIN")),
        year: 2019,
        make: "Honda".into(),
        model: "Civic".into(),
        trim: Some("EX".into()),
        mileage: Some(42_000),
        plate: Some("ABC-1234".into()),
    }
}

/// A VIN with a correct check digit built from a 17-character template.
pub fn vin(template: &str) -> String {
    let digit = Vin::check_digit_for(template).expect("template");
    let mut v: Vec<char> = template.chars().collect();
    v[8] = digit;
    v.into_iter().collect()
}

/// A UTC instant.
pub fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
        .single()
        .expect("valid instant")
}
