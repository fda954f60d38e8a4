//! Booking a new appointment: collecting service, vehicle, day and time into the draft,
//! offering slots, the read-back, and the booking itself.

use chrono::{NaiveTime, Timelike};

use otto_core::domain::Vin;
use otto_core::shop::ServiceDef;

use super::{Lines, RuleDialogue, Stage};
use crate::context::CallerContext;
use crate::nlu::{self, TimeOfDay, VehicleMention, VinMention};
use crate::speak;
use crate::tools::{AddVehicleArgs, DayPart, RegisterCustomerArgs, SlotView, ToolError};

impl RuleDialogue {
    /// Takes a day or time said in `text` as the booking's new preference; a time alone
    /// stays on the day of the `offered` slot. False when `text` names neither.
    pub(super) fn retime(
        &mut self,
        ctx: &mut CallerContext,
        text: &str,
        offered: &SlotView,
    ) -> bool {
        let Some((date, time)) = other_time(ctx, text, offered) else {
            return false;
        };
        ctx.frame_mut().date = Some(date);
        ctx.frame_mut().time = Some(time);
        true
    }

    /// A valid VIN in `text` for the vehicle being booked, which has none on file: kept in
    /// the frame until the booking is confirmed. Returns what to say about it.
    pub(super) fn late_vin(&mut self, ctx: &mut CallerContext, text: &str) -> Option<String> {
        if !self.booking || ctx.vehicle().is_none_or(|v| v.vin.is_some()) {
            return None;
        }
        let Some(VinMention::Valid(v)) = nlu::vin(text) else {
            return None;
        };
        Some(note_vin(ctx, v))
    }

    pub(super) fn booking_summary(&self, ctx: &CallerContext, slot: &SlotView) -> String {
        let names: Vec<String> = ctx
            .frame()
            .service
            .iter()
            .chain(&ctx.frame().more)
            .map(|s| s.name.clone())
            .collect();
        let service = if names.is_empty() {
            "appointment".to_string()
        } else {
            speak::join_or(&names, "and")
        };
        let (it, back_to_back) = if names.len() > 1 {
            ("them", ", back to back")
        } else {
            ("it", "")
        };
        let vin = ctx
            .frame()
            .vin
            .as_ref()
            .map(|v| format!(" (VIN ending in {})", vin_tail(v)))
            .unwrap_or_default();
        let vehicle = ctx
            .vehicle()
            .map(|v| format!(" for your {}{vin}", speak::vehicle(v)))
            .unwrap_or_default();
        format!(
            "To confirm: {service}{vehicle} on {}{back_to_back}. Shall I book {it}?",
            slot.spoken
        )
    }

    /// A VIN heard while collecting a vehicle: read it back, or say what is wrong.
    pub(super) fn vin_heard(&mut self, text: &str) -> Option<Lines> {
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

    /// Reads what `text` says into the call's frame ([`CallerContext::hear`]); "no VIN on
    /// me" said up front means the VIN question is not asked.
    pub(super) fn merge(&mut self, ctx: &mut CallerContext, text: &str) {
        ctx.hear(text);
        if [
            "no vin",
            "don't have the vin",
            "dont have the vin",
            "vin isn't on me",
        ]
        .iter()
        .any(|p| text.to_lowercase().contains(p))
        {
            self.vin_asks = self.vin_asks.max(1);
        }
    }

    /// With several vehicles on file: the one the caller named ([`nlu::own_vehicle`]), or
    /// picked by position once Otto listed them.
    pub(super) async fn pick_own_vehicle(&mut self, ctx: &mut CallerContext, text: &str) -> bool {
        if ctx.vehicle().is_some() {
            return false;
        }
        let vehicles = ctx.vehicles().await.unwrap_or_default();
        // "The first one", after Otto listed their vehicles.
        let listed = matches!(self.stage, Stage::AskVehicle) && vehicles.len() > 1;
        let named = nlu::own_vehicle(text, &vehicles).or_else(|| {
            listed
                .then(|| nlu::position(text, vehicles.len()))
                .flatten()
        });
        match named {
            Some(i) => {
                ctx.focus_vehicle(vehicles[i].clone());
                true
            }
            None => false,
        }
    }

    /// Asks for the next missing piece of the booking, or offers slots.
    pub(super) async fn advance_booking(
        &mut self,
        ctx: &mut CallerContext,
        mut lines: Lines,
    ) -> Lines {
        if ctx.customer().is_none()
            && ctx.caller().is_some()
            && let Some(name) = ctx.frame_mut().name.take()
        {
            match ctx
                .register_customer(RegisterCustomerArgs { name: name.clone() })
                .await
            {
                Ok(_) => lines.push(format!("Thanks, {}.", speak::first_name(&name))),
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
            let v = ctx.frame().vehicle.clone();
            if let Some(own) = vehicles.iter().find(|o| {
                v.model
                    .as_ref()
                    .is_some_and(|m| nlu::same_model(&o.model, m))
                    || (v.model.is_none()
                        && v.make
                            .as_ref()
                            .is_some_and(|m| o.make.eq_ignore_ascii_case(m)))
            }) {
                ctx.focus_vehicle(own.clone());
            } else if let (Some(year), Some(make), Some(model)) =
                (v.year, v.make.clone(), v.model.clone())
            {
                if ctx.frame().vin.is_none() && self.vin_asks == 0 {
                    // Asked once; the caller may read it or go on without.
                    self.vin_asks = 1;
                    self.stage = Stage::AskVin;
                    lines.push(self.question(ctx));
                    return lines;
                }
                let vin = ctx.frame_mut().vin.take().map(|v| v.to_string());
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
                        ctx.frame_mut().vehicle = VehicleMention::default();
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
                    lines.push(format!(
                        "Is this for your {}?",
                        speak::join_or(&names, "or")
                    ));
                } else if v.make.is_some() || ctx.frame().vin.is_some() {
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
        let Some(service) = ctx.frame().service.clone() else {
            self.stage = Stage::AskService;
            lines.push(self.question(ctx));
            return lines;
        };
        if ctx.frame().date.is_none() && ctx.frame().time.is_none() {
            self.stage = Stage::AskWhen;
            lines.push(format!(
                "Got it, {} for your {}.",
                service.name,
                ctx.vehicle().map(speak::vehicle).unwrap_or_default()
            ));
            lines.push(self.question(ctx));
            return lines;
        }
        if let Some(day) = ctx.frame().date.filter(|d| *d < ctx.today()) {
            ctx.frame_mut().date = None;
            ctx.frame_mut().time = None;
            self.stage = Stage::AskWhen;
            lines.push(format!(
                "{} has already gone by, so I can't book it then.",
                day.format("%A, %B %-d")
            ));
            lines.push(self.question(ctx));
            return lines;
        }
        let (part, near) = preference(ctx.frame().time);
        let from = ctx.frame().date.unwrap_or_else(|| ctx.today());
        match ctx.slots(&service, from, part, near).await {
            Ok(slots) if slots.is_empty() => {
                ctx.frame_mut().date = None;
                ctx.frame_mut().time = None;
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
                        && ctx
                            .frame()
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
                    let wanted = ctx.frame().date.unwrap_or(first_day);
                    lines.extend(unavailable_note(ctx, wanted, near, first_day));
                    self.stage = Stage::ChooseSlot(slots);
                    lines.push(self.question(ctx));
                }
                lines
            }
            Err(e) => self.tool_failed(ctx, e).await,
        }
    }

    pub(super) async fn register(&mut self, ctx: &mut CallerContext, name: &str) -> Lines {
        match ctx
            .register_customer(RegisterCustomerArgs {
                name: name.to_string(),
            })
            .await
        {
            Ok(_) | Err(ToolError::AlreadyRegistered) => {
                let lines = vec![format!("Thanks, {}.", speak::first_name(name))];
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

    pub(super) async fn book(&mut self, ctx: &mut CallerContext, slot: SlotView) -> Lines {
        let Some(service) = ctx.frame().service.clone() else {
            self.stage = Stage::AskService;
            return vec![self.question(ctx)];
        };
        // A VIN read out after the vehicle was added, confirmed with the read-back.
        let mut vin_failed = false;
        if let (Some(vin), Some(v)) = (ctx.frame_mut().vin.take(), ctx.vehicle().cloned()) {
            let args = AddVehicleArgs {
                year: v.year,
                make: v.make,
                model: v.model,
                vin: Some(vin.to_string()),
            };
            // The booking goes ahead either way; the VIN can be taken at the counter.
            vin_failed = ctx.add_vehicle(args).await.is_err();
        }
        match ctx
            .book(&service, slot.at, None, ctx.frame().notes.clone())
            .await
        {
            Ok(v) => {
                let mut lines = vec![format!("You're all set: {} on {}.", v.service, v.spoken)];
                if vin_failed {
                    lines.push(
                        "I couldn't record that VIN; we'll check it when you come in.".into(),
                    );
                }
                // Further services of the same visit, each right after the one before.
                let minutes =
                    |s: &ServiceDef| chrono::Duration::minutes(i64::from(s.duration_minutes));
                // Each next job starts on the shop's slot grid, right after the one before.
                let step = i64::from(ctx.config().slot_step_minutes.max(1));
                let on_grid = |t: chrono::DateTime<chrono::Utc>| {
                    let late = (t - slot.at).num_minutes().rem_euclid(step);
                    if late == 0 {
                        t
                    } else {
                        t + chrono::Duration::minutes(step - late)
                    }
                };
                let mut next = on_grid(slot.at + minutes(&service));
                for more in std::mem::take(&mut ctx.frame_mut().more) {
                    match ctx.book(&more, next, None, ctx.frame().notes.clone()).await {
                        Ok(_) => {
                            lines.push(format!(
                                "And the {} right after, at {}.",
                                more.name,
                                speak::time(next, ctx.tz())
                            ));
                            next = on_grid(next + minutes(&more));
                        }
                        Err(_) => lines.push(format!(
                            "I couldn't fit the {} right after; I can find it another time.",
                            more.name
                        )),
                    }
                }
                self.stage = Stage::Open;
                self.booking = false;
                *ctx.frame_mut() = crate::frame::Frame::default();
                lines.push("Is there anything else I can help with?".into());
                lines
            }
            Err(ToolError::SlotTaken) => {
                self.stage = Stage::AskWhen;
                self.advance_booking(ctx, vec!["Sorry, that time was just taken.".into()])
                    .await
            }
            Err(e) => self.tool_failed(ctx, e).await,
        }
    }
}

/// (day part, exact time) for a time-of-day preference.
pub(super) fn preference(t: Option<TimeOfDay>) -> (DayPart, Option<NaiveTime>) {
    match t {
        None => (DayPart::Any, None),
        Some(TimeOfDay::At(t)) => (DayPart::Any, Some(t)),
        Some(TimeOfDay::Morning) => (DayPart::Morning, None),
        Some(TimeOfDay::Afternoon) => (DayPart::Afternoon, None),
        Some(TimeOfDay::AfterLunch) => (DayPart::AfterLunch, None),
        Some(TimeOfDay::Evening) => (DayPart::Evening, None),
    }
}

/// The offered slot the caller chose: by position ("the first", "the last one"), by order
/// ("the earlier one", "whichever is sooner", "the later one"), by time ("2:30", "ten
/// thirty"), or the first offer for a plain acceptance ("sure", "yeah go ahead", "any of
/// them"), which the read-back then confirms. `None` when the text picks none of them.
pub(super) fn choose(
    text: &str,
    slots: &[SlotView],
    ctx: &CallerContext,
    yn: Option<bool>,
) -> Option<SlotView> {
    if let Some(i) = nlu::position(text, slots.len()) {
        return slots.get(i).cloned();
    }
    if let Some(at) = nlu::clock_time(text, ctx.today()) {
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
    let any = [
        "any",
        "either",
        "whichever",
        "whatever",
        "go ahead",
        "book it",
    ]
    .iter()
    .any(|p| nlu::has_phrase(&nlu::tokens(text), p));
    (yn == Some(true) || any).then(|| slots[0].clone())
}

/// The offer the caller picked ([`choose`]), unless they named another day: "can we do
/// Thursday the 22nd" is a new request even with a word that could pick an offer ("second").
pub(super) fn pick_offer(
    text: &str,
    slots: &[SlotView],
    ctx: &CallerContext,
    yn: Option<bool>,
) -> Option<SlotView> {
    let offered_day = slots
        .first()
        .map(|s| s.at.with_timezone(&ctx.tz()).date_naive());
    let other_day = nlu::names_a_day(text)
        && nlu::when(text, ctx.today())
            .date
            .is_some_and(|d| Some(d) != offered_day);
    (!other_day).then(|| choose(text, slots, ctx, yn)).flatten()
}

/// Another day or time than those offered, said while `slots` are on offer ("ten thirty",
/// "Wednesday the ninth at two"): the day to look up (the offers' day when none is said) and
/// the time; `None` when the text names neither.
pub(super) fn asked_instead(
    text: &str,
    slots: &[SlotView],
    ctx: &CallerContext,
) -> Option<(Option<chrono::NaiveDate>, Option<TimeOfDay>)> {
    let w = nlu::when(text, ctx.today());
    let at = nlu::clock_time(text, ctx.today()).map(TimeOfDay::At);
    if w.date.is_none() && w.time.is_none() && at.is_none() {
        return None;
    }
    let offered_day = slots
        .first()
        .map(|s| s.at.with_timezone(&ctx.tz()).date_naive());
    Some((w.date.or(offered_day), w.time.or(at)))
}

/// Keeps the VIN `v` in the frame until the booking is confirmed; returns what to say.
pub(super) fn note_vin(ctx: &mut CallerContext, v: Vin) -> String {
    let note = format!("Thanks, I've noted the VIN ending in {}.", vin_tail(&v));
    ctx.frame_mut().vin = Some(v);
    note
}

/// The last four characters of a VIN, as read back.
pub(super) fn vin_tail(v: &Vin) -> String {
    v.as_str().chars().skip(13).collect()
}

/// Another day or time than `offered`, said while it is read back ("actually make it 2",
/// "okay, the eight o'clock one", "I meant Thursday"): the day (the offered one when none is
/// said) and the time (the offered one when none is said, so a new day keeps the agreed
/// hour). `None` when the text names no day or time, or names the offered one again.
pub(super) fn other_time(
    ctx: &CallerContext,
    text: &str,
    offered: &SlotView,
) -> Option<(chrono::NaiveDate, TimeOfDay)> {
    let mut new = nlu::when(text, ctx.today());
    if new.time.is_none() {
        // A bare time while a time is on the table.
        new.time = nlu::clock_time(text, ctx.today()).map(TimeOfDay::At);
    }
    if new.date.is_none() && new.time.is_none() {
        return None;
    }
    let offered = offered.at.with_timezone(&ctx.tz());
    let date = new.date.unwrap_or(offered.date_naive());
    let same_time = match new.time {
        None => true,
        // "2:30" may have been read as 14:30 or 2:30; either half of the day is the same.
        Some(TimeOfDay::At(t)) => {
            t.hour() % 12 == offered.hour() % 12 && t.minute() == offered.minute()
        }
        Some(_) => false,
    };
    if date == offered.date_naive() && same_time {
        return None;
    }
    let time = match new.time {
        Some(t) if !same_time => t,
        _ => TimeOfDay::At(offered.time()),
    };
    Some((date, time))
}

/// Why the wanted day or time is not among the offers, when it is not: the shop is closed
/// then (a closed weekday, a holiday, outside opening hours, the lunch break) — said with
/// the opening hours, never as "full" — or the day is fully booked. `None` when the offers
/// are on the wanted day and no exact time was asked for.
pub(super) fn unavailable_note(
    ctx: &CallerContext,
    wanted: chrono::NaiveDate,
    at: Option<NaiveTime>,
    first_offer_day: chrono::NaiveDate,
) -> Option<String> {
    use chrono::Datelike;
    let shop = ctx.config();
    let day = wanted.format("%A, %B %-d");
    let fmt = |t: NaiveTime| t.format("%-I:%M %p").to_string().replace(":00", "");
    if shop.holidays.contains(&wanted) {
        return Some(format!("We're closed on {day} for the holiday."));
    }
    let Some(hours) = shop.hours.on(wanted.weekday()) else {
        return Some(format!(
            "We're closed on {}s. {}",
            speak::day_name(wanted.weekday()),
            speak::hours(shop, ctx.today())
        ));
    };
    if let Some(t) = at {
        if t < hours.open || t >= hours.close {
            return Some(format!(
                "We're closed at {}; on {} we're open {} to {}.",
                fmt(t),
                day,
                fmt(hours.open),
                fmt(hours.close)
            ));
        }
        if let Some(lunch) = shop.lunch
            && t >= lunch.open
            && t < lunch.close
        {
            return Some(format!(
                "We're closed for lunch from {} to {}.",
                fmt(lunch.open),
                fmt(lunch.close)
            ));
        }
        if first_offer_day == wanted {
            return Some(format!("{} is taken.", fmt(t)));
        }
    }
    (first_offer_day != wanted).then(|| format!("{day} is fully booked."))
}
