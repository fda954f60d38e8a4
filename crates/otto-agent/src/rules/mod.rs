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
//!
//! This module holds the dialogue's state and its turn dispatch; the jobs live beside it:
//! [`booking`] (a new appointment), [`manage`] (listing, moving, cancelling) and
//! [`questions`] (recalls, a person, the way out). How things are said is [`crate::speak`].

mod booking;
mod manage;
mod questions;

use otto_core::domain::Vin;
use otto_core::engine::ReplyInput;
use otto_core::records::Appointment;
use tokio_util::sync::CancellationToken;

use crate::context::CallerContext;
use crate::dialogue::{Dialogue, DialogueError, ReplyEvent, ReplySink, say};
use crate::nlu::{self, Intent, VinMention};
use crate::speak;
use crate::tools::{NoArgs, SlotView, TakeMessageArgs, ToolError};
use booking::{asked_instead, pick_offer};
use manage::{pick_appointment, request};

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
    /// A new vehicle is complete: its VIN, if the caller has it.
    AskVin,
    ConfirmVin(Vin),
    AskService,
    AskWhen,
    ChooseSlot(Vec<SlotView>),
    ConfirmBooking(SlotView),
    PickAppointment(Purpose, Vec<Appointment>),
    ConfirmCancel(Appointment),
    /// Cancel every one of these (the caller asked for all of them).
    ConfirmCancelAll(Vec<Appointment>),
    AskNewTime(Appointment),
    ChooseNewSlot(Appointment, Vec<SlotView>),
    ConfirmMove(Appointment, SlotView),
    AskMessage,
    AskRecallVehicle,
    /// A reminder call asked whether the customer can still make it.
    ConfirmAttendance(Appointment),
    /// Goodbye said; anything more gets a short goodbye again.
    Ended,
}

/// The rule-based dialogue. Create one per conversation with [`RuleDialogue::new`].
#[derive(Debug)]
pub struct RuleDialogue {
    stage: Stage,
    booking: bool,
    misunderstood: u32,
    greeted: bool,
    /// Times Otto asked for the VIN of a new vehicle (at most twice: once, and once more
    /// when the first reading did not check out).
    vin_asks: u8,
    /// On a reminder call: the appointment the call is about.
    reminding: Option<i64>,
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
            misunderstood: 0,
            greeted: false,
            vin_asks: 0,
            reminding: None,
        }
    }

    /// A dialogue for an outbound reminder call about `appointment_id`: it opens by naming
    /// the appointment and asking whether the customer can still make it; yes confirms it,
    /// and the customer may move or cancel it instead. When the appointment is not the called
    /// customer's own, active and ahead, it opens like an ordinary call.
    pub fn reminding(appointment_id: i64) -> Self {
        Self {
            reminding: Some(appointment_id),
            ..Self::new()
        }
    }

    /// The reminder call's opening, when its appointment is the customer's and still ahead.
    async fn remind(&mut self, ctx: &mut CallerContext, appointment_id: i64) -> Option<Lines> {
        let name = ctx.lookup_caller(NoArgs {}).await.ok()?.name?;
        let a = ctx
            .upcoming()
            .await
            .ok()?
            .into_iter()
            .find(|a| a.id == appointment_id && a.start > ctx.now())?;
        let vehicles = ctx.vehicles().await.unwrap_or_default();
        let line = format!(
            "Hi {}, this is Otto from {}, calling about your {}.",
            speak::first_name(&name),
            ctx.config().name,
            speak::describe(ctx.config(), &a, &vehicles)
        );
        self.stage = Stage::ConfirmAttendance(a);
        Some(vec![line, self.question(ctx)])
    }

    async fn greet(&mut self, ctx: &mut CallerContext) -> Lines {
        self.greeted = true;
        if let Some(id) = self.reminding
            && let Some(lines) = self.remind(ctx, id).await
        {
            return lines;
        }
        let shop = ctx.config().name.clone();
        let known = ctx.lookup_caller(NoArgs {}).await.ok().and_then(|v| v.name);
        match known {
            Some(name) => vec![
                format!(
                    "Hi {}, thanks for calling {shop}.",
                    speak::first_name(&name)
                ),
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
            // A booking it was collecting goes on from the frame, asking for nothing said.
            if ctx.frame().service.is_some()
                && matches!(nlu::intent(text), None | Some(Intent::Book))
            {
                self.booking = true;
                self.merge(ctx, text);
                self.pick_own_vehicle(ctx, text).await;
                return self.advance_booking(ctx, Vec::new()).await;
            }
        }
        if self.stage == Stage::Ended {
            return vec!["Goodbye!".into()];
        }
        // At the open question, naming a service is asking to book it; so is asking whether
        // the shop does a service or is open for it on a day ("can you do an alignment on
        // Tuesday afternoon", "what's open Thursday morning for an oil change").
        let names_service = nlu::service(text, ctx.config()).is_some();
        let intent = match nlu::intent(text) {
            Some(Intent::Services) if names_service => Some(Intent::Book),
            Some(Intent::Hours) if names_service && nlu::when(text, ctx.today()).date.is_some() => {
                Some(Intent::Book)
            }
            None if self.stage == Stage::Open && names_service => Some(Intent::Book),
            found => found,
        };
        // "Sorry, did you say eight or nine?": the question again, not an answer to it.
        if self.stage != Stage::Open && nlu::asks_repeat(text) {
            return vec!["Sure.".into(), self.question(ctx)];
        }
        // A VIN read out once the vehicle is settled ("found it, it's 1C4…" while times are
        // on offer) is kept for the read-back; the rest of the line is read without it, and
        // no yes in it picks anything.
        let late_vin = self.late_vin(ctx, text);
        let rest;
        let text = if late_vin.is_some() {
            rest = nlu::without_vin(text);
            rest.as_str()
        } else {
            text
        };
        let yn = nlu::yes_no(text).filter(|_| late_vin.is_none());
        // Yes/no stages first: a "no" there is an answer, not a goodbye.
        if let Some(lines) = self.confirmations(ctx, text, yn, intent).await {
            self.misunderstood = 0;
            return lines;
        }
        if let Some(mut lines) = self.global(ctx, text, intent, yn).await {
            self.misunderstood = 0;
            // A shop question asked beside the main request is answered first.
            let side: Vec<String> = nlu::side_questions(text)
                .into_iter()
                .filter(|s| Some(*s) != intent)
                .map(|s| match s {
                    Intent::Address => format!("We're at {}.", ctx.config().address),
                    _ => speak::hours(ctx.config(), ctx.today()),
                })
                .collect();
            lines.splice(0..0, side);
            return lines;
        }
        if let Some(lines) = self.collect(ctx, text).await {
            self.misunderstood = 0;
            return lines;
        }
        if let Some(note) = late_vin {
            return vec![note, self.question(ctx)];
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
                format!(
                    "What service do you need? For example {}.",
                    speak::examples(ctx.config())
                )
            }
            Stage::AskWhen => "What day and time would work for you?".into(),
            Stage::ChooseSlot(slots) | Stage::ChooseNewSlot(_, slots) => {
                format!("I have {}. Which works best?", speak::list_slots(slots))
            }
            Stage::ConfirmBooking(slot) => self.booking_summary(ctx, slot),
            Stage::PickAppointment(_, list) => {
                format!(
                    "You have {}. Which one?",
                    speak::list_appointments(ctx.config(), list, &[])
                )
            }
            Stage::ConfirmCancelAll(list) => format!(
                "Should I cancel all {} of them: {}?",
                list.len(),
                speak::list_appointments(ctx.config(), list, &[])
            ),
            Stage::ConfirmCancel(a) => {
                format!(
                    "Should I cancel your {}?",
                    speak::describe(ctx.config(), a, &[])
                )
            }
            Stage::AskNewTime(_) => "What day and time would you like instead?".into(),
            Stage::ConfirmMove(a, slot) => format!(
                "Should I move your {} to {}?",
                speak::service_name(ctx.config(), &a.service),
                slot.spoken
            ),
            Stage::AskMessage => "What message should I pass on?".into(),
            Stage::AskRecallVehicle => "What's the year, make and model of the vehicle?".into(),
            Stage::ConfirmAttendance(_) => {
                "Can you still make it? You can also move it or cancel it.".into()
            }
            Stage::AskVin => {
                "Do you have the VIN handy? You can read it to me, or just say no.".into()
            }
        }
    }

    /// Answers to yes/no questions (and choices among offered slots).
    async fn confirmations(
        &mut self,
        ctx: &mut CallerContext,
        text: &str,
        yn: Option<bool>,
        intent: Option<Intent>,
    ) -> Option<Lines> {
        match &self.stage {
            Stage::ConfirmVin(vin) => match yn {
                Some(true) => {
                    let vin = vin.clone();
                    let info = vin.decode_offline();
                    ctx.frame_mut().vehicle.year = ctx.frame().vehicle.year.or(info.model_year);
                    if ctx.frame().vehicle.make.is_none() {
                        ctx.frame_mut().vehicle.make = info.make.map(String::from);
                    }
                    ctx.frame_mut().vin = Some(vin);
                    self.stage = Stage::AskVehicle;
                    Some(self.advance_booking(ctx, vec!["Thanks.".into()]).await)
                }
                Some(false) => {
                    self.stage = Stage::AskVehicle;
                    Some(vec!["Sorry about that. Could you read me the VIN again, or tell me the year, make and model?".into()])
                }
                None => None,
            },
            Stage::ConfirmBooking(slot) => match (yn, slot.clone()) {
                // "Actually, make it 2 p.m.", "okay, the eight o'clock one": another time
                // than the one read back is a new time, not an answer, even beside a yes.
                (_, slot) if self.retime(ctx, text, &slot) => {
                    Some(self.advance_booking(ctx, Vec::new()).await)
                }
                (Some(true), slot) => Some(self.book(ctx, slot).await),
                (Some(false), _) => {
                    ctx.frame_mut().date = None;
                    ctx.frame_mut().time = None;
                    self.stage = Stage::AskWhen;
                    Some(vec![
                        "No problem. What day and time would suit you better?".into(),
                    ])
                }
                (None, _) => None,
            },
            Stage::ConfirmCancelAll(list) => match yn {
                Some(true) => {
                    let ids: Vec<_> = list.iter().map(|a| a.id).collect();
                    let mut done = Vec::new();
                    for appointment_id in ids {
                        match ctx
                            .cancel_appointment(crate::tools::CancelArgs { appointment_id })
                            .await
                        {
                            Ok(v) => done.push(format!("{} on {}", v.service, v.spoken)),
                            Err(e) => return Some(self.tool_failed(ctx, e).await),
                        }
                    }
                    self.stage = Stage::Open;
                    Some(vec![
                        format!(
                            "Done. I've cancelled your {}.",
                            speak::join_or(&done, "and")
                        ),
                        "Is there anything else I can help with?".into(),
                    ])
                }
                Some(false) => {
                    self.stage = Stage::Open;
                    Some(vec![
                        "Okay, I'll leave them as they are. Anything else?".into(),
                    ])
                }
                None => None,
            },
            Stage::ConfirmAttendance(a) => {
                let a = a.clone();
                match (intent, yn) {
                    (Some(Intent::Cancel), _) => {
                        let q = format!(
                            "Should I cancel your {}?",
                            speak::describe(ctx.config(), &a, &[])
                        );
                        self.stage = Stage::ConfirmCancel(a);
                        Some(vec![q])
                    }
                    (Some(Intent::Reschedule), _) | (_, Some(false)) => {
                        let when = nlu::when(text, ctx.today());
                        if when.date.is_some() || when.time.is_some() {
                            Some(self.offer_new_time(ctx, a, when.date, when.time).await)
                        } else {
                            self.stage = Stage::AskNewTime(a);
                            Some(vec![
                                "No problem. What day and time would work better?".into(),
                            ])
                        }
                    }
                    (_, Some(true)) => Some(match ctx.confirm_appointment(a.id).await {
                        Ok(v) => {
                            let mut lines = vec![format!(
                                "Great, you're confirmed for {}. See you then!",
                                v.spoken
                            )];
                            let _ = ctx.end_call(NoArgs {}).await;
                            self.stage = Stage::Ended;
                            lines.push("Goodbye!".into());
                            lines
                        }
                        Err(e) => self.tool_failed(ctx, e).await,
                    }),
                    _ => None,
                }
            }
            Stage::ConfirmCancel(a) => match yn {
                Some(true) => {
                    let appointment_id = a.id;
                    let r = ctx
                        .cancel_appointment(crate::tools::CancelArgs { appointment_id })
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
                // "Actually make that Thursday, still 4": a new day or time, not an answer.
                _ if let Some((date, time)) = booking::other_time(ctx, text, slot) => {
                    let a = a.clone();
                    Some(self.offer_new_time(ctx, a, Some(date), Some(time)).await)
                }
                Some(true) => {
                    let (a, at) = (a.clone(), slot.at);
                    let r = ctx.move_appointment(a.id, at).await;
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
                    self.stage = Stage::AskNewTime(a.clone());
                    Some(vec![
                        "Okay. What day and time would you like instead?".into(),
                    ])
                }
                None => None,
            },
            Stage::ChooseSlot(slots) => {
                let Some(pick) = pick_offer(text, slots, ctx, yn) else {
                    let (date, time) = asked_instead(text, slots, ctx)?;
                    ctx.frame_mut().date = date;
                    ctx.frame_mut().time = time;
                    return Some(self.advance_booking(ctx, Vec::new()).await);
                };
                self.stage = Stage::ConfirmBooking(pick.clone());
                Some(vec![self.booking_summary(ctx, &pick)])
            }
            Stage::ChooseNewSlot(a, slots) => {
                let Some(pick) = pick_offer(text, slots, ctx, yn) else {
                    let (date, time) = asked_instead(text, slots, ctx)?;
                    let a = a.clone();
                    return Some(self.offer_new_time(ctx, a, date, time).await);
                };
                let a = a.clone();
                let q = format!(
                    "Should I move your {} to {}?",
                    speak::service_name(ctx.config(), &a.service),
                    pick.spoken
                );
                self.stage = Stage::ConfirmMove(a, pick);
                Some(vec![q])
            }
            Stage::Open
                if intent.is_none()
                    && yn.is_none()
                    && nlu::has_phrase(&nlu::tokens(text), "thank") =>
            {
                Some(vec![
                    "You're welcome! Is there anything else I can help with?".into(),
                ])
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
        if matches!(intent, Intent::Hours | Intent::Address | Intent::Prices) {
            ctx.set_outcome(crate::context::Outcome::Informed);
        }
        match intent {
            Intent::Goodbye if yn != Some(true) => Some(self.goodbye(ctx).await),
            Intent::Goodbye => None,
            Intent::Person => Some(self.person(ctx).await),
            // "Leave a message for the service desk: my warranty papers are in the
            // glovebox…": the message came with the request.
            Intent::Message if nlu::message_included(text) => {
                self.stage = Stage::AskMessage;
                Box::pin(self.collect(ctx, text)).await
            }
            Intent::Message => {
                self.stage = Stage::AskMessage;
                Some(vec![
                    "Sure, I can pass a message on to the staff.".into(),
                    self.question(ctx),
                ])
            }
            Intent::SmallTalk => Some(
                self.resume(ctx, text, vec![speak::small_talk(text, &ctx.config().name)])
                    .await,
            ),
            Intent::Hours => Some(
                self.resume(ctx, text, vec![speak::hours(ctx.config(), ctx.today())])
                    .await,
            ),
            Intent::Address => Some(
                self.resume(
                    ctx,
                    text,
                    vec![format!("We're at {}.", ctx.config().address)],
                )
                .await,
            ),
            Intent::Services => {
                let _ = ctx.list_services(NoArgs {}).await;
                let names: Vec<String> = ctx
                    .config()
                    .services
                    .iter()
                    .map(|s| s.name.clone())
                    .collect();
                Some(
                    self.resume(
                        ctx,
                        text,
                        vec![format!("We do {}.", speak::join_or(&names, "and"))],
                    )
                    .await,
                )
            }
            Intent::Prices => Some(
                self.resume(
                    ctx,
                    text,
                    vec![speak::prices(
                        ctx.config(),
                        nlu::service(text, ctx.config()),
                    )],
                )
                .await,
            ),
            Intent::Recalls => Some(self.recalls(ctx, text).await),
            Intent::ListUpcoming => Some(self.list_upcoming(ctx).await),
            Intent::Cancel => Some(self.pick(ctx, text, Purpose::Cancel).await),
            Intent::Reschedule => Some(self.pick(ctx, text, Purpose::Reschedule).await),
            Intent::Book => {
                if self.booking && self.stage != Stage::Open {
                    return None; // keep collecting; entities are read below
                }
                self.booking = true;
                *ctx.frame_mut() = crate::frame::Frame::default();
                self.merge(ctx, text);
                self.pick_own_vehicle(ctx, text).await;
                Some(self.advance_booking(ctx, Vec::new()).await)
            }
        }
    }

    /// After answering a side question (`lines`): what else the line gave for the booking
    /// under way ("2015 Toyota Sienna; oh, and where are you?"), or the question Otto is
    /// waiting on, or an offer of more help.
    async fn resume(&mut self, ctx: &mut CallerContext, text: &str, mut lines: Lines) -> Lines {
        let collecting = matches!(
            self.stage,
            Stage::AskVehicle | Stage::AskService | Stage::AskWhen | Stage::ChooseSlot(_)
        );
        if collecting && let Some(more) = Box::pin(self.collect(ctx, text)).await {
            lines.extend(more);
        } else if self.stage != Stage::Open {
            lines.push(self.question(ctx));
        } else {
            lines.push("Is there anything else I can help with?".into());
        }
        lines
    }

    /// Entities for the stage that is waiting on them.
    async fn collect(&mut self, ctx: &mut CallerContext, text: &str) -> Option<Lines> {
        match &self.stage {
            Stage::AskName => {
                let Some(name) = nlu::name(text, true) else {
                    // "Next Friday" instead of a name: kept for the booking; the name still
                    // asked.
                    let before = (ctx.frame().clone(), ctx.frame().vin.clone());
                    self.merge(ctx, text);
                    ctx.frame_mut().name = None;
                    if (ctx.frame().clone(), ctx.frame().vin.clone()) == before {
                        return None;
                    }
                    return Some(vec!["Got it.".into(), self.question(ctx)]);
                };
                self.merge(ctx, text);
                Some(self.register(ctx, &name).await)
            }
            Stage::AskVehicle | Stage::AskService | Stage::AskWhen | Stage::ChooseSlot(_) => {
                let before = ctx.frame().clone();
                let vin_before = ctx.frame().vin.clone();
                // What else the line says ("a 2003 Accord, the VIN is …") is kept either way.
                self.merge(ctx, text);
                if let Some(lines) = self.vin_heard(text) {
                    return Some(lines);
                }
                // One of their vehicles, by any name ("the twenty twenty one").
                let picked = self.pick_own_vehicle(ctx, text).await;
                if *ctx.frame() == before && ctx.frame().vin == vin_before && !picked {
                    return None;
                }
                if matches!(self.stage, Stage::ChooseSlot(_)) {
                    self.stage = Stage::AskWhen;
                }
                Some(self.advance_booking(ctx, Vec::new()).await)
            }
            Stage::PickAppointment(Purpose::Cancel, list) if manage::all_of_them(text) => {
                self.stage = Stage::ConfirmCancelAll(list.clone());
                Some(vec![self.question(ctx)])
            }
            Stage::PickAppointment(purpose, list) => {
                let (purpose, list) = (*purpose, list.clone());
                let (which, new) = request(text, purpose, ctx.today());
                let vehicles = ctx.vehicles().await.unwrap_or_default();
                let a = pick_appointment(&which, &list, &vehicles, ctx)?;
                Some(self.picked(ctx, purpose, a, new).await)
            }
            Stage::AskNewTime(a) | Stage::ChooseNewSlot(a, _) => {
                let w = manage::keep_hour(text, a, nlu::when(text, ctx.today()), ctx);
                if w.date.is_none() && w.time.is_none() {
                    return None;
                }
                let a = a.clone();
                Some(self.offer_new_time(ctx, a, w.date, w.time).await)
            }
            Stage::AskMessage
                if nlu::yes_no(text).is_some() && text.split_whitespace().count() <= 3 =>
            {
                // "Yeah, okay" is agreeing to leave one, not the message.
                Some(vec!["Go ahead, what's the message?".into()])
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
            Stage::AskVin => {
                // Whatever else the line says (a day, a time) is kept.
                self.merge(ctx, text);
                let declined = nlu::yes_no(text) == Some(false)
                    || ["don't", "dont", "not on me", "skip", "no idea", "no vin"]
                        .iter()
                        .any(|p| text.to_lowercase().contains(p));
                let lines = match nlu::vin(text).filter(|_| !declined) {
                    Some(VinMention::Valid(v)) => vec![booking::note_vin(ctx, v)],
                    Some(VinMention::Invalid { .. } | VinMention::Incomplete(_))
                        if self.vin_asks < 2 =>
                    {
                        self.vin_asks = 2;
                        return Some(vec![
                            "That VIN doesn't check out; one of the characters may be off.".into(),
                            "Could you read it again, or just say skip?".into(),
                        ]);
                    }
                    _ => vec!["No problem, we can get it when you come in.".into()],
                };
                Some(self.advance_booking(ctx, lines).await)
            }
            Stage::AskRecallVehicle => {
                let v = nlu::vehicle(text);
                if !v.is_complete() {
                    return None;
                }
                self.stage = Stage::Open;
                let mut lines = self.recall_lines(ctx, &v).await;
                lines.push("Is there anything else I can help with?".into());
                Some(lines)
            }
            _ => None,
        }
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
