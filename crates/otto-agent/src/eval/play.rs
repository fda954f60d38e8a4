//! Plays one scenario: a fresh in-memory shop with the scenario's records, a conversation at
//! the scenario's time with its caller ID, the greeting and then each line (until Otto hangs
//! up or transfers), and a snapshot of every appointment after each exchange.

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;
use otto_core::domain::{PhoneNumber, Vin};
use otto_core::engine::{CallAction, ReplyInput};
use otto_core::records::{
    Appointment, AppointmentStatus, BookingSource, CallDirection, Customer, NewCustomer,
    NewVehicle, Speaker, Vehicle,
};
use otto_core::shop::ShopConfig;
use otto_store::{ImportedAppointment, NewAppointment, Store};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::scenario::{Scenario, local_time, same_phone};
use crate::context::CallerContext;
use crate::conversation::Conversation;
use crate::dialogue::{Dialogue, ReplyEvent};
use otto_shop::FixedClock;

/// What happened in one played scenario.
pub(super) struct Played {
    /// The store after the call, for the final checks.
    pub store: Arc<dyn Store>,
    pub tz: Tz,
    /// Otto's sentences per exchange: the greeting first, then one entry per line sent.
    pub replies: Vec<Vec<String>>,
    /// Caller lines sent (lines after a hang-up or transfer are not).
    pub lines_sent: usize,
    pub transferred: bool,
    /// Every appointment of every customer, after the greeting and after each line.
    pub snapshots: Vec<Vec<Appointment>>,
    /// The customers created before the call, with their vehicles.
    pub setup: Vec<(Customer, Vec<Vehicle>)>,
}

/// Why a scenario could not be played (not a dialogue failure: the setup itself failed).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(super) struct PlayError(String);

fn fail(what: &str, e: impl std::fmt::Display) -> PlayError {
    PlayError(format!("{what}: {e}"))
}

/// A shop-local "YYYY-MM-DD HH:MM" as an instant in `tz`.
pub(super) fn instant(tz: Tz, local: &str) -> Result<DateTime<Utc>, PlayError> {
    let n = local_time(local).ok_or_else(|| PlayError(format!("bad time {local:?}")))?;
    tz.from_local_datetime(&n)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| PlayError(format!("{local} does not exist in {tz}")))
}

pub(super) async fn play(
    s: &Scenario,
    shop: Arc<ShopConfig>,
    dialogue: Option<Box<dyn Dialogue>>,
) -> Result<Played, PlayError> {
    let tz = shop.time_zone;
    let store = otto_store::connect("sqlite::memory:")
        .await
        .map_err(|e| fail("database", e))?;
    let setup = create_records(s, &store, tz, &shop).await?;
    let now = instant(tz, &s.now)?;
    let caller = s.caller.as_deref().and_then(|c| PhoneNumber::parse(c).ok());
    let ctx = CallerContext::new(
        otto_shop::Shop::new(store.clone(), shop.clone()),
        Arc::new(FixedClock(now)),
        None,
        caller.clone(),
        BookingSource::Phone,
    );
    let mut conversation = Conversation::start(
        ctx,
        dialogue,
        format!("eval-{}", s.id),
        CallDirection::Inbound,
        "eval".into(),
    )
    .await
    .map_err(|e| fail("conversation", e))?;
    let mut played = Played {
        store: store.clone(),
        tz,
        replies: Vec::new(),
        lines_sent: 0,
        transferred: false,
        snapshots: Vec::new(),
        setup,
    };
    let mut input = ReplyInput::Greeting;
    let mut lines = s.lines.iter();
    loop {
        let (said, action) = exchange(&mut conversation, &input).await?;
        played.replies.push(said);
        played
            .snapshots
            .push(snapshot(&store, &played.setup, caller.as_ref()).await?);
        match action {
            Some(CallAction::Transfer { .. }) => {
                played.transferred = true;
                break;
            }
            Some(CallAction::HangUp) => break,
            None => {}
        }
        let Some(line) = lines.next() else { break };
        played.lines_sent += 1;
        conversation
            .commit_turn(Speaker::Caller, line, false)
            .await
            .map_err(|e| fail("call log", e))?;
        input = ReplyInput::Caller(line.clone());
    }
    conversation.end().await.map_err(|e| fail("call log", e))?;
    Ok(played)
}

/// One reply: Otto's sentences and the call action it asked for, if any.
async fn exchange(
    conversation: &mut Conversation,
    input: &ReplyInput,
) -> Result<(Vec<String>, Option<CallAction>), PlayError> {
    let (tx, mut rx) = mpsc::channel(32);
    let cancel = CancellationToken::new();
    let reply = async {
        let tx = tx;
        conversation.reply(input, &tx, &cancel).await
    };
    let collect = async {
        let mut said = Vec::new();
        let mut action = None;
        while let Some(ev) = rx.recv().await {
            match ev {
                ReplyEvent::Sentence(s) => said.push(s),
                ReplyEvent::Action(a) => action = Some(a),
            }
        }
        (said, action)
    };
    let (r, (said, action)) = tokio::join!(reply, collect);
    r.map_err(|e| fail("dialogue", e))?;
    if !said.is_empty() {
        conversation
            .commit_turn(Speaker::Agent, &said.join(" "), false)
            .await
            .map_err(|e| fail("call log", e))?;
    }
    Ok((said, action))
}

/// Every appointment of the setup customers and of the caller, by id.
async fn snapshot(
    store: &Arc<dyn Store>,
    setup: &[(Customer, Vec<Vehicle>)],
    caller: Option<&PhoneNumber>,
) -> Result<Vec<Appointment>, PlayError> {
    let mut ids: Vec<i64> = setup.iter().map(|(c, _)| c.id).collect();
    if let Some(p) = caller
        && let Some(c) = store
            .customer_by_phone(p)
            .await
            .map_err(|e| fail("snapshot", e))?
        && !ids.contains(&c.id)
    {
        ids.push(c.id);
    }
    let epoch = DateTime::<Utc>::UNIX_EPOCH;
    let mut all = Vec::new();
    for id in ids {
        all.extend(
            store
                .appointments_of(id, epoch)
                .await
                .map_err(|e| fail("snapshot", e))?,
        );
    }
    all.sort_by_key(|a| a.id);
    Ok(all)
}

/// Creates the scenario's customers, vehicles and appointments.
async fn create_records(
    s: &Scenario,
    store: &Arc<dyn Store>,
    tz: Tz,
    shop: &ShopConfig,
) -> Result<Vec<(Customer, Vec<Vehicle>)>, PlayError> {
    let mut setup = Vec::new();
    for c in &s.customers {
        let customer = store
            .create_customer(&NewCustomer {
                name: c.name.clone(),
                phone: PhoneNumber::parse(&c.phone).map_err(|e| fail("customer phone", e))?,
                email: c
                    .email
                    .as_deref()
                    .and_then(|e| otto_core::domain::Email::parse(e).ok()),
                address: None,
            })
            .await
            .map_err(|e| fail("customer", e))?;
        let mut vehicles = Vec::new();
        for v in &c.vehicles {
            vehicles.push(
                store
                    .add_vehicle(&NewVehicle {
                        customer_id: customer.id,
                        vin: v.vin.as_deref().and_then(|x| Vin::parse(x).ok()),
                        year: v.year,
                        make: v.make.clone(),
                        model: v.model.clone(),
                        trim: None,
                        mileage: None,
                        plate: None,
                    })
                    .await
                    .map_err(|e| fail("vehicle", e))?,
            );
        }
        setup.push((customer, vehicles));
    }
    let mut placed: Vec<(DateTime<Utc>, DateTime<Utc>, u32)> = Vec::new();
    let mut rows = Vec::new();
    for a in &s.appointments {
        let (customer, vehicles) = setup
            .iter()
            .find(|(c, _)| same_phone(c.phone.as_str(), &a.phone))
            .ok_or_else(|| PlayError(format!("no customer for {}", a.phone)))?;
        let service = shop
            .service(&a.service)
            .ok_or_else(|| PlayError(format!("unknown service {}", a.service)))?;
        let start = instant(tz, &a.start)?;
        let end = start + chrono::Duration::minutes(i64::from(service.duration_minutes));
        let status: AppointmentStatus = a
            .status
            .as_deref()
            .unwrap_or("scheduled")
            .parse()
            .map_err(|e: String| PlayError(e))?;
        let busy: Vec<u32> = placed
            .iter()
            .filter(|(s0, e0, _)| *s0 < end && start < *e0)
            .map(|(_, _, b)| *b)
            .collect();
        let bay = (1..).find(|b| !busy.contains(b)).unwrap_or(1);
        if status.is_active() {
            placed.push((start, end, bay));
        }
        let vehicle_id = a.vehicle.as_ref().and_then(|m| {
            vehicles
                .iter()
                .find(|v| v.model.eq_ignore_ascii_case(m))
                .map(|v| v.id)
        });
        rows.push(ImportedAppointment {
            appointment: NewAppointment {
                customer_id: customer.id,
                vehicle_id,
                service: service.id.clone(),
                start,
                end,
                source: BookingSource::Phone,
                notes: None,
            },
            bay,
            status,
        });
    }
    store
        .import_appointments(&rows)
        .await
        .map_err(|e| fail("appointments", e))?;
    Ok(setup)
}
