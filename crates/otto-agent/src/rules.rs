//! The rule-based dialogue: intents from patterns, entities from [`crate::nlu`], slot filling
//! and confirmation, acting through the same tool executors as the LLM agent.
//!
//! Stages: greeting → (identifying: lookup by caller ID, asking a new caller's name) → intent
//! → collecting (vehicle, service, day and time, which appointment) → confirming (yes/no before
//! every write) → done. Everything it knows about the caller lives in the shared
//! [`CallerContext`], so it can take over mid-call from the LLM agent: a customer already
//! identified is not asked again, a vehicle already chosen is reused.
//!
//! Questions (hours, address, services, prices, recalls) are answered at any point, after which
//! the pending question is asked again. After [`MAX_MISUNDERSTOOD`] turns in a row that it
//! cannot use, it offers a way out: a transfer while the shop is open, a message otherwise.

use chrono::{Duration, NaiveDate, NaiveTime, Timelike};
use otto_core::domain::Vin;
use otto_core::engine::ReplyInput;
use otto_core::records::Appointment;
use otto_core::shop::ServiceDef;
use tokio_util::sync::CancellationToken;

use crate::context::CallerContext;
use crate::dialogue::{Dialogue, DialogueError, ReplyEvent, ReplySink, say};
use crate::nlu::{self, Intent, TimeOfDay, VehicleMention, VinMention, When};
use crate::speak;
use crate::tools::{
    AddVehicleArgs, DayPart, NoArgs, RegisterCustomerArgs, SlotView, TakeMessageArgs, ToolError,
};

/// Turns in a row Otto may fail to understand before it offers a person or a message.
pub const MAX_MISUNDERSTOOD: u32 = 3;

/// What an appointment is being picked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    Cancel,
    Reschedule,
}

/// Where the conversation is.
#[derive(Debug, Clone, PartialEq)]
enum Stage {
    /// Waiting for what the caller wants.
    Open,
    AskName,
    AskVehicle,
    ConfirmVin(Vin),
    AskService,
    AskWhen,
    ChooseSlot(Vec<SlotView>),
    ConfirmBooking(SlotView),
    PickAppointment(Purpose, Vec<Appointment>),
    ConfirmCancel(Appointment),
    AskNewTime(Appointment),
    ChooseNewSlot(Appointment, Vec<SlotView>),
    ConfirmMove(Appointment, SlotView),
    AskMessage,
    AskRecallVehicle,
    /// Goodbye said; anything more gets a short goodbye again.
    Ended,
}

/// What a booking in progress has collected.
#[derive(Debug, Clone, Default, PartialEq)]
struct Draft {
    service: Option<ServiceDef>,
    date: Option<NaiveDate>,
    time: Option<TimeOfDay>,
    vehicle: VehicleMention,
    notes: Option<String>,
    /// A name the caller volunteered ("my name is …") before being asked.
    name: Option<String>,
}

/// The rule-based dialogue. Create one per conversation with [`RuleDialogue::new`].
#[derive(Debug)]
pub struct RuleDialogue {
    stage: Stage,
    booking: bool,
    draft: Draft,
    misunderstood: u32,
    greeted: bool,
    /// A VIN the caller confirmed, stored with the vehicle once it is complete.
    vin: Option<Vin>,
}

impl Default for RuleDialogue {
    fn default() -> Self {
        Self::new()
    }
}

/// The sentences of one reply.
type Lines = Vec<String>;

impl RuleDialogue {
    /// A dialogue at the greeting.
    pub fn new() -> Self {
        Self {
            stage: Stage::Open,
            booking: false,
            draft: Draft::default(),
            misunderstood: 0,
            greeted: false,
            vin: None,
        }
    }

    async fn greet(&mut self, ctx: &mut CallerContext) -> Lines {
        self.greeted = true;
        let shop = ctx.config().name.clone();
        let known = ctx.lookup_caller(NoArgs {}).await.ok().and_then(|v| v.name);
        match known {
            Some(name) => vec![
                format!("Hi {}, thanks for calling {shop}.", first_name(&name)),
                "How can I help you today?".into(),
            ],
            None => vec![
                format!("Thanks for calling {shop}, this is Otto."),
                "How can I help you today?".into(),
            ],
        }
    }

    /// Handles one caller turn and returns what to say.
    async fn turn(&mut self, ctx: &mut CallerContext, text: &str) -> Lines {
        if !self.greeted {
            // Taking over from another brain: identify quietly.
            self.greeted = true;
            let _ = ctx.lookup_caller(NoArgs {}).await;
        }
        if self.stage == Stage::Ended {
            return vec!["Goodbye!".into()];
        }
        // At the open question, naming a service is asking to book it.
        let intent = nlu::intent(text).or_else(|| {
            (self.stage == Stage::Open && nlu::service(text, ctx.config()).is_some())
                .then_some(Intent::Book)
        });
        let yn = nlu::yes_no(text);
        // Yes/no stages first: a "no" there is an answer, not a goodbye.
        if let Some(lines) = self.confirmations(ctx, text, yn, intent).await {
            self.misunderstood = 0;
            return lines;
        }
        if let Some(lines) = self.global(ctx, text, intent, yn).await {
            self.misunderstood = 0;
            return lines;
        }
        if let Some(lines) = self.collect(ctx, text).await {
            self.misunderstood = 0;
            return lines;
        }
        self.misunderstood += 1;
        if self.misunderstood >= MAX_MISUNDERSTOOD {
            self.misunderstood = 0;
            return self.way_out(ctx).await;
        }
        let mut lines = vec!["Sorry, I didn't catch that.".to_string()];
        lines.push(self.question(ctx));
        lines
    }

    /// The question that the current stage waits on.
    fn question(&self, ctx: &CallerContext) -> String {
        match &self.stage {
            Stage::Open | Stage::Ended => "How can I help you today?".into(),
            Stage::AskName => "May I have your name, please?".into(),
            Stage::AskVehicle => "What vehicle is it? The year, make and model, or the VIN.".into(),
            Stage::ConfirmVin(v) => {
                format!("I heard the VIN {}. Is that right?", speak::vin(v.as_str()))
            }
            Stage::AskService => {
                format!("What service do you need? For example {}.", examples(ctx))
            }
            Stage::AskWhen => "What day and time would work for you?".into(),
            Stage::ChooseSlot(slots) | Stage::ChooseNewSlot(_, slots) => {
                format!("I have {}. Which works best?", list_slots(slots))
            }
            Stage::ConfirmBooking(slot) => self.booking_summary(ctx, slot),
            Stage::PickAppointment(_, list) => {
                format!("You have {}. Which one?", list_appointments(ctx, list))
            }
            Stage::ConfirmCancel(a) => {
                format!("Should I cancel your {}?", describe(ctx, a))
            }
            Stage::AskNewTime(_) => "What day and time would you like instead?".into(),
            Stage::ConfirmMove(a, slot) => format!(
                "Should I move your {} to {}?",
                service_name(ctx, &a.service),
                slot.spoken
            ),
            Stage::AskMessage => "What message should I pass on?".into(),
            Stage::AskRecallVehicle => "What's the year, make and model of the vehicle?".into(),
        }
    }

    /// Takes a day or time said in `text` as the booking's new preference; a time alone
    /// stays on the day of the `offered` slot. False when `text` names neither.
    fn retime(&mut self, ctx: &CallerContext, text: &str, offered: &SlotView) -> bool {
        let new = nlu::when(text, ctx.today());
        if new.date.is_none() && new.time.is_none() {
            return false;
        }
        let offered_day = offered.at.with_timezone(&ctx.tz()).date_naive();
        self.draft.date = new.date.or(Some(offered_day));
        self.draft.time = new.time;
        true
    }

    fn booking_summary(&self, ctx: &CallerContext, slot: &SlotView) -> String {
        let service = self
            .draft
            .service
            .as_ref()
            .map_or("appointment".into(), |s| s.name.clone());
        let vehicle = ctx
            .vehicle()
            .map(|v| format!(" for your {}", speak::vehicle(v)))
            .unwrap_or_default();
        format!(
            "To confirm: {service}{vehicle} on {}. Shall I book it?",
            slot.spoken
        )
    }

    /// Answers to yes/no questions (and choices among offered slots).
    async fn confirmations(
        &mut self,
        ctx: &mut CallerContext,
        text: &str,
        yn: Option<bool>,
        intent: Option<Intent>,
    ) -> Option<Lines> {
        match self.stage.clone() {
            Stage::ConfirmVin(vin) => match yn {
                Some(true) => {
                    let info = vin.decode_offline();
                    self.draft.vehicle.year = self.draft.vehicle.year.or(info.model_year);
                    if self.draft.vehicle.make.is_none() {
                        self.draft.vehicle.make = info.make.map(String::from);
                    }
                    self.vin = Some(vin);
                    self.stage = Stage::AskVehicle;
                    Some(self.advance_booking(ctx, vec!["Thanks.".into()]).await)
                }
                Some(false) => {
                    self.stage = Stage::AskVehicle;
                    Some(vec!["Sorry about that. Could you read me the VIN again, or tell me the year, make and model?".into()])
                }
                None => None,
            },
            // "Actually, make it 2 p.m.": a new time, not an answer.
            Stage::ConfirmBooking(slot) if yn != Some(true) && self.retime(ctx, text, &slot) => {
                Some(self.advance_booking(ctx, Vec::new()).await)
            }
            Stage::ConfirmBooking(slot) => match yn {
                Some(true) => Some(self.book(ctx, slot).await),
                Some(false) => {
                    self.draft.date = None;
                    self.draft.time = None;
                    self.stage = Stage::AskWhen;
                    Some(vec![
                        "No problem. What day and time would suit you better?".into(),
                    ])
                }
                None => None,
            },
            Stage::ConfirmCancel(a) => match yn {
                Some(true) => {
                    let r = ctx
                        .cancel_appointment(crate::tools::CancelArgs {
                            appointment_id: a.id,
                        })
                        .await;
                    self.stage = Stage::Open;
                    Some(match r {
                        Ok(v) => vec![
                            format!("Done. Your {} on {} is cancelled.", v.service, v.spoken),
                            "Is there anything else I can help with?".into(),
                        ],
                        Err(e) => self.tool_failed(ctx, e).await,
                    })
                }
                Some(false) => {
                    self.stage = Stage::Open;
                    Some(vec!["Okay, I'll leave it as it is. Anything else?".into()])
                }
                None => None,
            },
            Stage::ConfirmMove(a, slot) => match yn {
                Some(true) => {
                    let r = ctx.move_appointment(a.id, slot.at).await;
                    self.stage = Stage::Open;
                    Some(match r {
                        Ok(v) => vec![
                            format!("All set. Your {} is now on {}.", v.service, v.spoken),
                            "Is there anything else I can help with?".into(),
                        ],
                        Err(ToolError::SlotTaken) => {
                            self.stage = Stage::AskNewTime(a);
                            vec!["Sorry, that time was just taken. What other day or time would work?".into()]
                        }
                        Err(e) => self.tool_failed(ctx, e).await,
                    })
                }
                Some(false) => {
                    self.stage = Stage::AskNewTime(a);
                    Some(vec![
                        "Okay. What day and time would you like instead?".into(),
                    ])
                }
                None => None,
            },
            Stage::ChooseSlot(slots) => {
                let pick = choose(text, &slots, ctx, yn)?;
                self.stage = Stage::ConfirmBooking(pick.clone());
                Some(vec![self.booking_summary(ctx, &pick)])
            }
            Stage::ChooseNewSlot(a, slots) => {
                let pick = choose(text, &slots, ctx, yn)?;
                let q = format!(
                    "Should I move your {} to {}?",
                    service_name(ctx, &a.service),
                    pick.spoken
                );
                self.stage = Stage::ConfirmMove(a, pick);
                Some(vec![q])
            }
            Stage::Open if intent.is_none() => match yn {
                Some(false) => Some(self.goodbye(ctx).await),
                Some(true) => Some(vec!["Sure, what can I help you with?".into()]),
                None => None,
            },
            _ => None,
        }
    }

    /// Intents that apply at any stage.
    async fn global(
        &mut self,
        ctx: &mut CallerContext,
        text: &str,
        intent: Option<Intent>,
        yn: Option<bool>,
    ) -> Option<Lines> {
        let intent = intent?;
        // While collecting free text (a name, a message), only strong intents interrupt.
        if matches!(self.stage, Stage::AskMessage) && intent != Intent::Goodbye {
            return None;
        }
        if matches!(self.stage, Stage::AskName)
            && nlu::name(text, true).is_some()
            && intent == Intent::Book
        {
            return None;
        }
        let resume = |s: &Self, ctx: &CallerContext, mut lines: Lines| {
            if s.stage != Stage::Open {
                lines.push(s.question(ctx));
            } else {
                lines.push("Is there anything else I can help with?".into());
            }
            lines
        };
        if matches!(intent, Intent::Hours | Intent::Address | Intent::Prices) {
            ctx.set_outcome(crate::context::Outcome::Informed);
        }
        match intent {
            Intent::Goodbye if yn != Some(true) => Some(self.goodbye(ctx).await),
            Intent::Goodbye => None,
            Intent::Person => Some(self.person(ctx).await),
            Intent::Hours => Some(resume(self, ctx, vec![hours(ctx)])),
            Intent::Address => Some(resume(
                self,
                ctx,
                vec![format!("We're at {}.", ctx.config().address)],
            )),
            Intent::Services => {
                let _ = ctx.list_services(NoArgs {}).await;
                let names: Vec<String> = ctx
                    .config()
                    .services
                    .iter()
                    .map(|s| s.name.clone())
                    .collect();
                Some(resume(
                    self,
                    ctx,
                    vec![format!("We do {}.", join_or(&names, "and"))],
                ))
            }
            Intent::Prices => Some(resume(self, ctx, vec![prices(ctx, text)])),
            Intent::Recalls => Some(self.recalls(ctx, text).await),
            Intent::ListUpcoming => Some(self.list_upcoming(ctx).await),
            Intent::Cancel => Some(self.pick(ctx, text, Purpose::Cancel).await),
            Intent::Reschedule => Some(self.pick(ctx, text, Purpose::Reschedule).await),
            Intent::Book => {
                if self.booking && self.stage != Stage::Open {
                    return None; // keep collecting; entities are read below
                }
                self.booking = true;
                self.draft = Draft::default();
                self.merge(ctx, text);
                Some(self.advance_booking(ctx, Vec::new()).await)
            }
        }
    }

    /// Entities for the stage that is waiting on them.
    async fn collect(&mut self, ctx: &mut CallerContext, text: &str) -> Option<Lines> {
        match self.stage.clone() {
            Stage::AskName => {
                let name = nlu::name(text, true)?;
                self.merge(ctx, text);
                Some(self.register(ctx, &name).await)
            }
            Stage::AskVehicle | Stage::AskService | Stage::AskWhen | Stage::ChooseSlot(_) => {
                let before = self.draft.clone();
                let vin_before = self.vin.clone();
                if let Some(lines) = self.vin_heard(text) {
                    return Some(lines);
                }
                self.merge(ctx, text);
                if self.draft == before
                    && self.vin == vin_before
                    && !self.pick_own_vehicle(ctx, text).await
                {
                    return None;
                }
                if matches!(self.stage, Stage::ChooseSlot(_)) {
                    self.stage = Stage::AskWhen;
                }
                Some(self.advance_booking(ctx, Vec::new()).await)
            }
            Stage::PickAppointment(purpose, list) => {
                let (which, new) = request(text, purpose, ctx.today());
                let a = pick_appointment(&which, &list, ctx)?;
                Some(self.picked(ctx, purpose, a, new).await)
            }
            Stage::AskNewTime(a) | Stage::ChooseNewSlot(a, _) => {
                let w = nlu::when(text, ctx.today());
                if w.date.is_none() && w.time.is_none() {
                    return None;
                }
                Some(self.offer_new_time(ctx, a, w.date, w.time).await)
            }
            Stage::AskMessage => {
                let r = ctx
                    .take_message(TakeMessageArgs {
                        message: text.to_string(),
                    })
                    .await;
                self.stage = Stage::Open;
                Some(match r {
                    Ok(_) => vec![
                        "Thanks, I've passed your message on and someone will call you back."
                            .into(),
                        "Is there anything else?".into(),
                    ],
                    Err(_) => {
                        vec!["Sorry, I couldn't take that down. Could you say it again?".into()]
                    }
                })
            }
            Stage::AskRecallVehicle => {
                let v = nlu::vehicle(text);
                if !v.is_complete() {
                    return None;
                }
                self.stage = Stage::Open;
                Some(self.recalls_for(ctx, &v).await)
            }
            _ => None,
        }
    }

    /// A VIN heard while collecting a vehicle: read it back, or say what is wrong.
    fn vin_heard(&mut self, text: &str) -> Option<Lines> {
        if !matches!(self.stage, Stage::AskVehicle) {
            return None;
        }
        match nlu::vin(text)? {
            VinMention::Valid(v) => {
                self.stage = Stage::ConfirmVin(v.clone());
                Some(vec![format!(
                    "I heard the VIN {}. Is that right?",
                    speak::vin(v.as_str())
                )])
            }
            VinMention::Invalid { .. } => Some(vec![
                "That VIN doesn't check out; one of the characters may be off.".into(),
                "Could you read it again, or tell me the year, make and model?".into(),
            ]),
            VinMention::Incomplete(n) => Some(vec![format!(
                "I only got {n} characters, and a VIN has 17. Could you read it again?"
            )]),
        }
    }

    /// Reads service, vehicle, day and time from `text` into the draft (keeping what was
    /// already known when the text does not say).
    fn merge(&mut self, ctx: &CallerContext, text: &str) {
        if let Some(n) = nlu::name(text, false) {
            self.draft.name = Some(n);
        }
        if let Some(s) = nlu::service(text, ctx.config()) {
            self.draft.service = Some(s.clone());
        }
        let v = nlu::vehicle(text);
        if v.year.is_some() {
            self.draft.vehicle.year = v.year;
        }
        if v.make.is_some() {
            self.draft.vehicle.make = v.make;
        }
        if v.model.is_some() {
            self.draft.vehicle.model = v.model;
        }
        let w = nlu::when(text, ctx.today());
        if w.date.is_some() {
            self.draft.date = w.date;
        }
        if w.time.is_some() {
            self.draft.time = w.time;
        }
    }

    /// With several vehicles on file: the one the caller named.
    async fn pick_own_vehicle(&mut self, ctx: &mut CallerContext, text: &str) -> bool {
        if ctx.vehicle().is_some() {
            return false;
        }
        let vehicles = ctx.vehicles().await.unwrap_or_default();
        let t = text.to_lowercase();
        let hit = vehicles
            .into_iter()
            .find(|v| t.contains(&v.model.to_lowercase()) || t.contains(&v.make.to_lowercase()));
        match hit {
            Some(v) => {
                ctx.focus_vehicle(v);
                true
            }
            None => false,
        }
    }

    /// Asks for the next missing piece of the booking, or offers slots.
    async fn advance_booking(&mut self, ctx: &mut CallerContext, mut lines: Lines) -> Lines {
        if ctx.customer().is_none()
            && ctx.caller().is_some()
            && let Some(name) = self.draft.name.take()
        {
            match ctx
                .register_customer(RegisterCustomerArgs { name: name.clone() })
                .await
            {
                Ok(_) => lines.push(format!("Thanks, {}.", first_name(&name))),
                Err(e) => return self.tool_failed(ctx, e).await,
            }
        }
        if ctx.customer().is_none() {
            if ctx.caller().is_none() {
                self.stage = Stage::AskMessage;
                self.booking = false;
                lines.push("I'm sorry, I can't book without a caller ID on the line, but I can take a message for the shop.".into());
                lines.push(self.question(ctx));
                return lines;
            }
            self.stage = Stage::AskName;
            lines.push(
                "I can help with that. Since you're new with us, may I have your name?".into(),
            );
            return lines;
        }
        if ctx.vehicle().is_none() {
            let vehicles = ctx.vehicles().await.unwrap_or_default();
            let v = self.draft.vehicle.clone();
            if let Some(own) = vehicles.iter().find(|o| {
                v.model
                    .as_ref()
                    .is_some_and(|m| o.model.eq_ignore_ascii_case(m))
                    || (v.model.is_none()
                        && v.make
                            .as_ref()
                            .is_some_and(|m| o.make.eq_ignore_ascii_case(m)))
            }) {
                ctx.focus_vehicle(own.clone());
            } else if let (Some(year), Some(make), Some(model)) =
                (v.year, v.make.clone(), v.model.clone())
            {
                let vin = self.vin.take().map(|v| v.to_string());
                match ctx
                    .add_vehicle(AddVehicleArgs {
                        year,
                        make,
                        model,
                        vin,
                    })
                    .await
                {
                    Ok(_) => {}
                    Err(e) => {
                        self.draft.vehicle = VehicleMention::default();
                        self.stage = Stage::AskVehicle;
                        lines.push(format!("Sorry, {e}."));
                        lines.push(self.question(ctx));
                        return lines;
                    }
                }
            } else {
                self.stage = Stage::AskVehicle;
                if vehicles.len() > 1 {
                    let names: Vec<String> = vehicles.iter().map(speak::vehicle).collect();
                    lines.push(format!("Is this for your {}?", join_or(&names, "or")));
                } else if v.make.is_some() || self.vin.is_some() {
                    let have = [v.year.map(|y| y.to_string()), v.make.clone()]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(" ");
                    let ask = if v.year.is_some() {
                        "What model is it?"
                    } else {
                        "What's the year and model?"
                    };
                    lines.push(format!("A {have}. {ask}"));
                } else {
                    lines.push(self.question(ctx));
                }
                return lines;
            }
        }
        let Some(service) = self.draft.service.clone() else {
            self.stage = Stage::AskService;
            lines.push(self.question(ctx));
            return lines;
        };
        if self.draft.date.is_none() && self.draft.time.is_none() {
            self.stage = Stage::AskWhen;
            lines.push(format!(
                "Got it, {} for your {}.",
                service.name,
                ctx.vehicle().map(speak::vehicle).unwrap_or_default()
            ));
            lines.push(self.question(ctx));
            return lines;
        }
        let (part, near) = preference(self.draft.time);
        let from = self.draft.date.unwrap_or_else(|| ctx.today());
        match ctx.slots(&service, from, part, near).await {
            Ok(slots) if slots.is_empty() => {
                self.draft.date = None;
                self.draft.time = None;
                self.stage = Stage::AskWhen;
                lines.push(
                    "I'm sorry, I don't have anything open then in the next two weeks.".into(),
                );
                lines.push("Is there another day or time that would work?".into());
                lines
            }
            Ok(slots) => {
                let exact = near.is_some_and(|n| {
                    slots
                        .iter()
                        .any(|s| s.at.with_timezone(&ctx.tz()).time() == n)
                        && self
                            .draft
                            .date
                            .is_none_or(|d| slots[0].at.with_timezone(&ctx.tz()).date_naive() == d)
                });
                if exact {
                    let n = near.unwrap_or(NaiveTime::MIN);
                    let slot = slots
                        .iter()
                        .find(|s| s.at.with_timezone(&ctx.tz()).time() == n)
                        .cloned()
                        .unwrap_or_else(|| slots[0].clone());
                    lines.push(self.booking_summary(ctx, &slot));
                    self.stage = Stage::ConfirmBooking(slot);
                } else {
                    let first_day = slots[0].at.with_timezone(&ctx.tz()).date_naive();
                    if self.draft.date.is_some_and(|d| d != first_day) {
                        lines.push("That day is full.".into());
                    }
                    self.stage = Stage::ChooseSlot(slots);
                    lines.push(self.question(ctx));
                }
                lines
            }
            Err(e) => self.tool_failed(ctx, e).await,
        }
    }

    async fn register(&mut self, ctx: &mut CallerContext, name: &str) -> Lines {
        match ctx
            .register_customer(RegisterCustomerArgs {
                name: name.to_string(),
            })
            .await
        {
            Ok(_) | Err(ToolError::AlreadyRegistered) => {
                let lines = vec![format!("Thanks, {}.", first_name(name))];
                if self.booking {
                    self.advance_booking(ctx, lines).await
                } else {
                    self.stage = Stage::Open;
                    let mut l = lines;
                    l.push("How can I help you today?".into());
                    l
                }
            }
            Err(e) => self.tool_failed(ctx, e).await,
        }
    }

    async fn book(&mut self, ctx: &mut CallerContext, slot: SlotView) -> Lines {
        let Some(service) = self.draft.service.clone() else {
            self.stage = Stage::AskService;
            return vec![self.question(ctx)];
        };
        match ctx
            .book(&service, slot.at, None, self.draft.notes.clone())
            .await
        {
            Ok(v) => {
                self.stage = Stage::Open;
                self.booking = false;
                self.draft = Draft::default();
                vec![
                    format!("You're all set: {} on {}.", v.service, v.spoken),
                    "Is there anything else I can help with?".into(),
                ]
            }
            Err(ToolError::SlotTaken) => {
                self.stage = Stage::AskWhen;
                self.advance_booking(ctx, vec!["Sorry, that time was just taken.".into()])
                    .await
            }
            Err(e) => self.tool_failed(ctx, e).await,
        }
    }

    async fn list_upcoming(&mut self, ctx: &mut CallerContext) -> Lines {
        self.stage = Stage::Open;
        if ctx.customer().is_none() {
            return vec![
                "I don't see any appointments for the number you're calling from.".into(),
                "Is there anything else I can help with?".into(),
            ];
        }
        let _ = ctx.list_upcoming(NoArgs {}).await;
        match ctx.upcoming().await {
            Ok(list) if list.is_empty() => vec![
                "You don't have any upcoming appointments.".into(),
                "Would you like to book one?".into(),
            ],
            Ok(list) => vec![
                format!("You have {}.", list_appointments(ctx, &list)),
                "Is there anything else I can help with?".into(),
            ],
            Err(e) => self.tool_failed(ctx, e).await,
        }
    }

    /// Starts picking one of the caller's appointments to cancel or move; a new day or time
    /// said in the same utterance ("move it to Wednesday at 2pm") is offered straight away.
    async fn pick(&mut self, ctx: &mut CallerContext, text: &str, purpose: Purpose) -> Lines {
        self.booking = false;
        if ctx.customer().is_none() {
            self.stage = Stage::Open;
            return vec![
                "I don't see any appointments for the number you're calling from.".into(),
                "Is there anything else I can help with?".into(),
            ];
        }
        let mut list = match ctx.upcoming().await {
            Ok(l) => l,
            Err(e) => return self.tool_failed(ctx, e).await,
        };
        // A job already under way is listed as upcoming but can no longer be changed.
        let now = ctx.now();
        list.retain(|a| a.start > now);
        let (which, new) = request(text, purpose, ctx.today());
        match list.len() {
            0 => {
                self.stage = Stage::Open;
                vec![
                    "You don't have any upcoming appointments.".into(),
                    "Is there anything else I can help with?".into(),
                ]
            }
            1 => self.picked(ctx, purpose, list[0].clone(), new).await,
            _ => match pick_appointment(&which, &list, ctx) {
                Some(a) => self.picked(ctx, purpose, a, new).await,
                None => {
                    self.stage = Stage::PickAppointment(purpose, list);
                    vec![self.question(ctx)]
                }
            },
        }
    }

    /// The appointment `a` is chosen: confirm a cancellation, or offer the `new` day and time
    /// of a move (asking for one when the caller gave none).
    async fn picked(
        &mut self,
        ctx: &mut CallerContext,
        purpose: Purpose,
        a: Appointment,
        new: When,
    ) -> Lines {
        match purpose {
            Purpose::Cancel => {
                self.stage = Stage::ConfirmCancel(a);
                vec![self.question(ctx)]
            }
            Purpose::Reschedule => {
                // A bare date that is the appointment's own ("my Wednesday appointment")
                // names it; it is not where to move it.
                let own_day = a.start.with_timezone(&ctx.tz()).date_naive();
                let date = new.date.filter(|d| new.time.is_some() || *d != own_day);
                if date.is_some() || new.time.is_some() {
                    return self.offer_new_time(ctx, a, date, new.time).await;
                }
                self.stage = Stage::AskNewTime(a.clone());
                vec![format!(
                    "Your {}. {}",
                    describe(ctx, &a),
                    self.question(ctx)
                )]
            }
        }
    }

    async fn offer_new_time(
        &mut self,
        ctx: &mut CallerContext,
        a: Appointment,
        date: Option<NaiveDate>,
        time: Option<TimeOfDay>,
    ) -> Lines {
        let Some(service) = ctx.config().service(&a.service).cloned() else {
            return self.tool_failed(ctx, ToolError::NotFound("service")).await;
        };
        let (part, near) = preference(time);
        let from = date.unwrap_or_else(|| ctx.today());
        match ctx.slots(&service, from, part, near).await {
            Ok(slots) if slots.is_empty() => {
                self.stage = Stage::AskNewTime(a);
                vec!["I don't have anything open then. Is there another day or time?".into()]
            }
            Ok(slots) => {
                let tz = ctx.tz();
                let first_day = slots[0].at.with_timezone(&tz).date_naive();
                let on_day = date.is_none_or(|d| d == first_day);
                let exact = near.filter(|_| on_day).and_then(|n| {
                    slots
                        .iter()
                        .find(|s| s.at.with_timezone(&tz).time() == n)
                        .cloned()
                });
                match exact {
                    Some(slot) => {
                        let q = format!("Should I move your {} to {}?", service.name, slot.spoken);
                        self.stage = Stage::ConfirmMove(a, slot);
                        vec![q]
                    }
                    None => {
                        let mut lines = Vec::new();
                        if !on_day {
                            lines.push("That day is full.".to_string());
                        }
                        self.stage = Stage::ChooseNewSlot(a, slots);
                        lines.push(self.question(ctx));
                        lines
                    }
                }
            }
            Err(e) => self.tool_failed(ctx, e).await,
        }
    }

    async fn recalls(&mut self, ctx: &mut CallerContext, text: &str) -> Lines {
        let mut v = nlu::vehicle(text);
        if !v.is_complete()
            && let Some(own) = ctx.vehicle()
        {
            v = VehicleMention {
                year: Some(own.year),
                make: Some(own.make.clone()),
                model: Some(own.model.clone()),
            };
        }
        if !v.is_complete() {
            self.stage = Stage::AskRecallVehicle;
            return vec![self.question(ctx)];
        }
        self.recalls_for(ctx, &v).await
    }

    async fn recalls_for(&mut self, ctx: &mut CallerContext, v: &VehicleMention) -> Lines {
        let (Some(year), Some(make), Some(model)) = (v.year, v.make.clone(), v.model.clone())
        else {
            return vec![self.question(ctx)];
        };
        let name = format!("{year} {make} {model}");
        let r = ctx
            .recalls(crate::tools::RecallsArgs { year, make, model })
            .await;
        let mut lines = match r {
            Ok(v) => match v["count"].as_u64().unwrap_or(0) {
                0 => vec![format!("I don't see any recalls listed for the {name}.")],
                n => {
                    let first = v["recalls"][0]["component"].as_str().unwrap_or("a component").to_lowercase();
                    vec![
                        format!("There {} {n} recall{} listed for the {name} that may apply, including one for the {first}.", if n == 1 { "is" } else { "are" }, if n == 1 { "" } else { "s" }),
                        "Not every vehicle is affected, so please confirm with your VIN; we can check it when you come in.".into(),
                    ]
                }
            },
            Err(_) => vec!["I'm sorry, I can't check recalls right now. You can look them up by VIN at nhtsa.gov.".into()],
        };
        lines.push("Is there anything else I can help with?".into());
        lines
    }

    async fn person(&mut self, ctx: &mut CallerContext) -> Lines {
        match ctx.transfer_to_person(NoArgs {}).await {
            Ok(_) => {
                self.stage = Stage::Ended;
                vec!["Sure, let me transfer you to someone at the shop. One moment.".into()]
            }
            Err(_) => {
                self.stage = Stage::AskMessage;
                vec![
                    "We're closed right now, so no one can take the call, but I can take a message and someone will call you back.".into(),
                    self.question(ctx),
                ]
            }
        }
    }

    async fn way_out(&mut self, ctx: &mut CallerContext) -> Lines {
        let mut lines = vec!["I'm sorry, I'm having trouble understanding.".to_string()];
        lines.extend(self.person(ctx).await);
        lines
    }

    async fn goodbye(&mut self, ctx: &mut CallerContext) -> Lines {
        let _ = ctx.end_call(NoArgs {}).await;
        self.stage = Stage::Ended;
        vec![format!(
            "Thanks for calling {}. Goodbye!",
            ctx.config().name
        )]
    }

    async fn tool_failed(&mut self, ctx: &mut CallerContext, e: ToolError) -> Lines {
        self.stage = Stage::Open;
        self.booking = false;
        match e {
            ToolError::NotBookable(m) => {
                vec![format!("Sorry, {m}."), "What other time would work?".into()]
            }
            _ => {
                let mut l = vec!["I'm sorry, something went wrong on my end.".to_string()];
                l.extend(self.person(ctx).await);
                l
            }
        }
    }
}

/// (day part, exact time) for a time-of-day preference.
fn preference(t: Option<TimeOfDay>) -> (DayPart, Option<NaiveTime>) {
    match t {
        None => (DayPart::Any, None),
        Some(TimeOfDay::At(t)) => (DayPart::Any, Some(t)),
        Some(TimeOfDay::Morning) => (DayPart::Morning, None),
        Some(TimeOfDay::Afternoon) => (DayPart::Afternoon, None),
        Some(TimeOfDay::AfterLunch) => (DayPart::AfterLunch, None),
        Some(TimeOfDay::Evening) => (DayPart::Evening, None),
    }
}

/// The offered slot the caller chose: by position ("the first", "the last one"), by time
/// ("2:30"), or "yes" when only one was offered.
fn choose(
    text: &str,
    slots: &[SlotView],
    ctx: &CallerContext,
    yn: Option<bool>,
) -> Option<SlotView> {
    let t = nlu::tokens(text);
    let has = |w: &str| t.iter().any(|x| x == w);
    let idx = if has("first") || has("1st") || has("earliest") {
        Some(0)
    } else if has("second") || has("2nd") || has("middle") {
        Some(1)
    } else if has("third") || has("3rd") {
        Some(2)
    } else if has("last") || has("latest") {
        Some(slots.len().saturating_sub(1))
    } else {
        None
    };
    if let Some(i) = idx {
        return slots.get(i).cloned();
    }
    if let Some(TimeOfDay::At(at)) = nlu::when(text, ctx.today()).time {
        let tz = ctx.tz();
        // "2:30" may have been read as 14:30 or 2:30; match either half of the day.
        return slots
            .iter()
            .find(|s| {
                let st = s.at.with_timezone(&tz).time();
                st == at || (st.hour() % 12 == at.hour() % 12 && st.minute() == at.minute())
            })
            .cloned();
    }
    (yn == Some(true) && slots.len() == 1).then(|| slots[0].clone())
}

/// A request about an appointment split into the words that say which one and, for a move,
/// when to: "move my Wednesday oil change to Friday at 2" → ("move my wednesday oil change",
/// Friday at 2 p.m.). The new time follows the last "to", "for", "till" or "until" that is
/// followed by one; without such a word the whole text says both. A cancellation has no new
/// time.
fn request(text: &str, purpose: Purpose, today: NaiveDate) -> (String, When) {
    if purpose == Purpose::Cancel {
        return (text.to_string(), When::default());
    }
    let t = nlu::tokens(text);
    let split = t
        .iter()
        .enumerate()
        .rev()
        .filter(|(_, w)| matches!(w.as_str(), "to" | "for" | "till" | "until"))
        .find_map(|(i, _)| {
            let w = nlu::when(&t[i + 1..].join(" "), today);
            (w.date.is_some() || w.time.is_some()).then(|| (t[..i].join(" "), w))
        });
    split.unwrap_or_else(|| (text.to_string(), nlu::when(text, today)))
}

/// The appointment the caller means: by service, by date, or by position.
fn pick_appointment(text: &str, list: &[Appointment], ctx: &CallerContext) -> Option<Appointment> {
    if let Some(s) = nlu::service(text, ctx.config())
        && let Some(a) = list.iter().find(|a| a.service == s.id)
    {
        return Some(a.clone());
    }
    if let Some(d) = nlu::when(text, ctx.today()).date
        && let Some(a) = list
            .iter()
            .find(|a| a.start.with_timezone(&ctx.tz()).date_naive() == d)
    {
        return Some(a.clone());
    }
    let t = nlu::tokens(text);
    let has = |w: &str| t.iter().any(|x| x == w);
    if has("first") || has("earlier") || has("1st") {
        return list.first().cloned();
    }
    if has("second") || has("last") || has("later") || has("2nd") {
        return list.get(1).cloned();
    }
    None
}

fn service_name(ctx: &CallerContext, id: &str) -> String {
    ctx.config()
        .service(id)
        .map_or_else(|| id.to_string(), |s| s.name.clone())
}

/// "oil change on Tuesday, March 11 at 2:00 PM".
fn describe(ctx: &CallerContext, a: &Appointment) -> String {
    format!(
        "{} on {}",
        service_name(ctx, &a.service),
        speak::date_time(a.start, ctx.tz())
    )
}

fn list_appointments(ctx: &CallerContext, list: &[Appointment]) -> String {
    let items: Vec<String> = list
        .iter()
        .map(|a| {
            format!(
                "{}{}",
                a_or_an(&service_name(ctx, &a.service)),
                describe(ctx, a)
            )
        })
        .collect();
    join_or(&items, "and")
}

fn a_or_an(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an "
    } else {
        "a "
    }
}

fn list_slots(slots: &[SlotView]) -> String {
    let items: Vec<String> = slots.iter().map(|s| s.spoken.clone()).collect();
    join_or(&items, "or")
}

/// "a, b or c".
fn join_or(items: &[String], last: &str) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., tail] => format!("{} {last} {tail}", rest.join(", ")),
    }
}

fn first_name(name: &str) -> &str {
    name.split_whitespace().next().unwrap_or(name)
}

fn examples(ctx: &CallerContext) -> String {
    let names: Vec<String> = ctx
        .config()
        .services
        .iter()
        .take(3)
        .map(|s| s.name.clone())
        .collect();
    join_or(&names, "or")
}

fn hours(ctx: &CallerContext) -> String {
    use chrono::Weekday::*;
    let cfg = ctx.config();
    let fmt = |t: NaiveTime| t.format("%-I:%M %p").to_string().replace(":00", "");
    let days = [Mon, Tue, Wed, Thu, Fri, Sat, Sun];
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < days.len() {
        let h = cfg.hours.on(days[i]);
        let mut j = i;
        while j + 1 < days.len() && cfg.hours.on(days[j + 1]) == h {
            j += 1;
        }
        let span = if i == j {
            day_name(days[i]).to_string()
        } else {
            format!("{} to {}", day_name(days[i]), day_name(days[j]))
        };
        parts.push(match h {
            Some(r) => format!("{span} {} to {}", fmt(r.open), fmt(r.close)),
            None => format!("closed {span}"),
        });
        i = j + 1;
    }
    let today = ctx.today();
    let holiday = cfg
        .holidays
        .iter()
        .filter(|d| **d >= today && **d < today + Duration::days(14))
        .map(|d| format!(" We're also closed on {}.", d.format("%A, %B %-d")))
        .collect::<String>();
    format!("We're open {}.{holiday}", join_or(&parts, "and"))
}

fn day_name(d: chrono::Weekday) -> &'static str {
    use chrono::Weekday::*;
    match d {
        Mon => "Monday",
        Tue => "Tuesday",
        Wed => "Wednesday",
        Thu => "Thursday",
        Fri => "Friday",
        Sat => "Saturday",
        Sun => "Sunday",
    }
}

fn prices(ctx: &CallerContext, text: &str) -> String {
    match nlu::service(text, ctx.config()) {
        Some(s) => format!(
            "A {} usually runs {} to {}; the exact price depends on the vehicle.",
            s.name,
            speak::dollars(s.price_min_cents),
            speak::dollars(s.price_max_cents)
        ),
        None => {
            let items: Vec<String> = ctx
                .config()
                .services
                .iter()
                .map(|s| {
                    format!(
                        "{} {} to {}",
                        s.name,
                        speak::dollars(s.price_min_cents),
                        speak::dollars(s.price_max_cents)
                    )
                })
                .collect();
            format!("Our usual price ranges: {}.", join_or(&items, "and"))
        }
    }
}

#[async_trait::async_trait]
impl Dialogue for RuleDialogue {
    async fn reply(
        &mut self,
        ctx: &mut CallerContext,
        input: &ReplyInput,
        out: &ReplySink,
        cancel: &CancellationToken,
    ) -> Result<(), DialogueError> {
        let lines = match input {
            ReplyInput::Greeting => self.greet(ctx).await,
            ReplyInput::Caller(text) => self.turn(ctx, text).await,
            ReplyInput::Dtmf('0') => self.person(ctx).await,
            ReplyInput::Dtmf(_) => vec![self.question(ctx)],
        };
        say(out, cancel, lines).await?;
        for action in ctx.take_actions() {
            if cancel.is_cancelled() {
                break;
            }
            out.send(ReplyEvent::Action(action))
                .await
                .map_err(|_| DialogueError::Closed)?;
        }
        Ok(())
    }

    fn truncated(&mut self, _heard: &str) {
        // The rule-based dialogue keeps no model history; its stage already reflects what it
        // asked, and an unheard question is asked again on the next unclear turn.
    }
}
