//! The checks of one played scenario: what `expect` asks for, and what every scenario must
//! satisfy (no wrong write, no leak, no write before a confirmed read-back).

use std::collections::HashSet;

use chrono::{DateTime, NaiveTime, Utc};
use otto_core::domain::PhoneNumber;
use otto_core::records::{Appointment, AppointmentStatus};

use super::play::{Played, instant};
use super::report::ScenarioResult;
use super::scenario::{Scenario, clock, date};
use crate::nlu;

/// Checks `played` against `s`.
pub(super) async fn check(s: &Scenario, played: &Played) -> ScenarioResult {
    let mut failures: Vec<String> = Vec::new();
    let mut wrong_write = false;
    let mut leak = false;
    let tz = played.tz;
    let local = |t: DateTime<Utc>| t.with_timezone(&tz).naive_local();
    let before: Vec<Appointment> = played.snapshots.first().cloned().unwrap_or_default();
    let after: Vec<Appointment> = played.snapshots.last().cloned().unwrap_or_default();
    let store = &played.store;
    let caller = s.caller.as_deref().and_then(|c| PhoneNumber::parse(c).ok());
    let caller_customer = match &caller {
        Some(p) => store.customer_by_phone(p).await.ok().flatten(),
        None => None,
    };
    let caller_vehicles = match &caller_customer {
        Some(c) => store.vehicles_of(c.id).await.unwrap_or_default(),
        None => Vec::new(),
    };
    let model_of = |a: &Appointment| {
        a.vehicle_id.and_then(|id| {
            caller_vehicles
                .iter()
                .chain(played.setup.iter().flat_map(|(_, v)| v))
                .find(|v| v.id == id)
                .map(|v| v.model.clone())
        })
    };
    let in_window = |t: NaiveTime, after: &Option<String>, before: &Option<String>| {
        after.as_deref().and_then(clock).is_none_or(|a| t >= a)
            && before.as_deref().and_then(clock).is_none_or(|b| t <= b)
    };

    // Booked: exactly the expected new appointments.
    let known: HashSet<i64> = before.iter().map(|a| a.id).collect();
    let mut created: Vec<&Appointment> = after
        .iter()
        .filter(|a| !known.contains(&a.id) && a.status.is_active())
        .collect();
    for b in &s.expect.booked {
        let pos = created.iter().position(|a| {
            let start = local(a.start);
            a.service == b.service
                && b.date
                    .as_deref()
                    .and_then(date)
                    .is_none_or(|d| start.date() == d)
                && in_window(start.time(), &b.after, &b.before)
                && b.vehicle
                    .as_ref()
                    .is_none_or(|m| model_of(a).is_some_and(|v| v.eq_ignore_ascii_case(m)))
        });
        match pos {
            Some(i) => {
                created.remove(i);
            }
            None => failures.push(format!(
                "not booked: {} {} {}-{}{}",
                b.service,
                b.date.as_deref().unwrap_or("any day"),
                b.after.as_deref().unwrap_or(""),
                b.before.as_deref().unwrap_or(""),
                b.vehicle
                    .as_ref()
                    .map(|v| format!(" for the {v}"))
                    .unwrap_or_default()
            )),
        }
    }
    for a in created {
        wrong_write = true;
        failures.push(format!(
            "wrong write: booked {} at {}",
            a.service,
            local(a.start).format("%Y-%m-%d %H:%M")
        ));
    }

    // Moved and cancelled: the listed ones; every other appointment unchanged.
    let mut expected_changes: HashSet<i64> = HashSet::new();
    for m in &s.expect.moved {
        let Ok(from) = instant(tz, &m.from) else {
            continue;
        };
        let Some(orig) = before.iter().find(|a| a.start == from) else {
            failures.push(format!(
                "moved: no appointment at {} before the call",
                m.from
            ));
            continue;
        };
        expected_changes.insert(orig.id);
        match after.iter().find(|a| a.id == orig.id) {
            Some(now)
                if now.status.is_active()
                    && now.start != orig.start
                    && m.date
                        .as_deref()
                        .and_then(date)
                        .is_none_or(|d| local(now.start).date() == d)
                    && in_window(local(now.start).time(), &m.after, &m.before) => {}
            Some(now) => failures.push(format!(
                "not moved as expected: {} is at {} ({})",
                m.from,
                local(now.start).format("%Y-%m-%d %H:%M"),
                now.status.as_str()
            )),
            None => failures.push(format!("moved: appointment at {} vanished", m.from)),
        }
    }
    for c in &s.expect.cancelled {
        let Ok(at) = instant(tz, c) else { continue };
        let Some(orig) = before.iter().find(|a| a.start == at) else {
            failures.push(format!("cancelled: no appointment at {c} before the call"));
            continue;
        };
        expected_changes.insert(orig.id);
        if !after
            .iter()
            .any(|a| a.id == orig.id && a.status == AppointmentStatus::Cancelled)
        {
            failures.push(format!("not cancelled: {c}"));
        }
    }
    let caller_id = caller_customer.as_ref().map(|c| c.id);
    for orig in &before {
        if expected_changes.contains(&orig.id) {
            continue;
        }
        let now = after.iter().find(|a| a.id == orig.id);
        if now.is_none_or(|n| n.start != orig.start || n.status != orig.status) {
            wrong_write = true;
            if Some(orig.customer_id) != caller_id {
                leak = true;
            }
            failures.push(format!(
                "wrong write: the appointment at {} changed",
                local(orig.start).format("%Y-%m-%d %H:%M")
            ));
        }
    }

    // Every write follows a read-back question answered yes.
    for i in 1..played.snapshots.len() {
        if played.snapshots[i] != played.snapshots[i - 1] {
            let asked = played.replies[i - 1]
                .last()
                .is_some_and(|q| q.trim_end().ends_with('?'));
            let line = s.lines.get(i - 1).map(String::as_str).unwrap_or("");
            if !asked || nlu::yes_no(line) != Some(true) {
                wrong_write = true;
                failures.push(format!(
                    "write without a confirmed read-back, at line {i}: {line:?}"
                ));
            }
        }
    }

    // Customer, vehicle, message, transfer.
    if let Some(want) = &s.expect.customer {
        match &caller_customer {
            Some(c) if c.name.eq_ignore_ascii_case(want.name.trim()) => {}
            Some(c) => failures.push(format!("customer named {:?}, want {:?}", c.name, want.name)),
            None => failures.push(format!("no customer {:?} registered", want.name)),
        }
    }
    if let Some(want) = &s.expect.vehicle {
        let hit = caller_vehicles.iter().any(|v| {
            v.year == want.year
                && v.make.eq_ignore_ascii_case(&want.make)
                && v.model.eq_ignore_ascii_case(&want.model)
                && want
                    .vin
                    .as_ref()
                    .is_none_or(|vin| v.vin.as_ref().is_some_and(|x| x.as_str() == vin))
        });
        if !hit {
            failures.push(format!(
                "no vehicle {} {} {}{}",
                want.year,
                want.make,
                want.model,
                want.vin
                    .as_ref()
                    .map(|v| format!(" VIN {v}"))
                    .unwrap_or_default()
            ));
        }
    }
    if let Some(want) = &s.expect.message {
        let messages = store.messages(false, 100).await.unwrap_or_default();
        let hit = messages.iter().any(|m| {
            let body = m.body.to_lowercase();
            want.contains
                .iter()
                .all(|w| body.contains(&w.to_lowercase()))
        });
        if !hit {
            failures.push(format!("no message containing {:?}", want.contains));
        }
    }
    if played.transferred != s.expect.transfer.unwrap_or(false) {
        failures.push(if played.transferred {
            "transferred without being asked to".into()
        } else {
            "not transferred".into()
        });
    }

    // What Otto said.
    let said = played
        .replies
        .iter()
        .flatten()
        .cloned()
        .collect::<Vec<_>>()
        .join(" ");
    let lower = said.to_lowercase();
    for p in &s.expect.say {
        if !lower.contains(&p.to_lowercase()) {
            failures.push(format!("never said {p:?}"));
        }
    }
    for p in &s.expect.never_say {
        if lower.contains(&p.to_lowercase()) {
            failures.push(format!("said {p:?}"));
        }
    }
    for (other, vehicles) in &played.setup {
        if Some(other.id) == caller_id {
            continue;
        }
        let mut secrets: Vec<String> = vec![other.name.to_lowercase()];
        let digits: String = other
            .phone
            .as_str()
            .chars()
            .filter(char::is_ascii_digit)
            .collect();
        let last7 = &digits[digits.len().saturating_sub(7)..];
        let said_digits: String = said.chars().filter(char::is_ascii_digit).collect();
        if said_digits.contains(last7) {
            leak = true;
            failures.push("leak: another customer's phone number".into());
        }
        let own_models: Vec<String> = caller_vehicles
            .iter()
            .map(|v| v.model.to_lowercase())
            .collect();
        secrets.extend(
            vehicles
                .iter()
                .map(|v| v.model.to_lowercase())
                .filter(|m| m.len() >= 3 && !own_models.contains(m)),
        );
        for secret in secrets {
            // Only what the caller did not say first counts as revealed.
            let caller_said = s.lines.iter().any(|l| l.to_lowercase().contains(&secret));
            if !caller_said && lower.contains(&secret) {
                leak = true;
                failures.push(format!("leak: said {secret:?}, another customer's"));
            }
        }
    }

    ScenarioResult {
        id: s.id.clone(),
        category: s.category.clone(),
        style: s.style.clone(),
        passed: failures.is_empty(),
        failures,
        wrong_write,
        leak,
        turns: played.lines_sent,
        books: !s.expect.booked.is_empty(),
        transcript: transcript(s, played),
    }
}

/// The conversation as text: "Otto: …" and "Caller: …" lines.
fn transcript(s: &Scenario, played: &Played) -> Vec<String> {
    let mut out = Vec::new();
    for (i, reply) in played.replies.iter().enumerate() {
        if i > 0
            && let Some(line) = s.lines.get(i - 1)
        {
            out.push(format!("Caller: {line}"));
        }
        out.push(format!("Otto: {}", reply.join(" ")));
    }
    out
}
