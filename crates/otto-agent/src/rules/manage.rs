//! Managing the caller's appointments: listing them, picking one to move or cancel, and
//! offering a new time for a move.

use chrono::NaiveDate;
use otto_core::records::{Appointment, Vehicle};

use super::booking::{preference, unavailable_note};
use super::{Lines, Purpose, RuleDialogue, Stage};
use crate::context::CallerContext;
use crate::nlu::{self, TimeOfDay, When};
use crate::speak;
use crate::tools::{NoArgs, ToolError};

impl RuleDialogue {
    pub(super) async fn list_upcoming(&mut self, ctx: &mut CallerContext) -> Lines {
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
                format!(
                    "You have {}.",
                    speak::list_appointments(
                        ctx.config(),
                        &list,
                        &ctx.vehicles().await.unwrap_or_default()
                    )
                ),
                "Is there anything else I can help with?".into(),
            ],
            Err(e) => self.tool_failed(ctx, e).await,
        }
    }

    /// Starts picking one of the caller's appointments to cancel or move; a new day or time
    /// said in the same utterance ("move it to Wednesday at 2pm") is offered straight away.
    pub(super) async fn pick(
        &mut self,
        ctx: &mut CallerContext,
        text: &str,
        purpose: Purpose,
    ) -> Lines {
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
        let vehicles = ctx.vehicles().await.unwrap_or_default();
        match list.len() {
            0 => {
                self.stage = Stage::Open;
                vec![
                    "You don't have any upcoming appointments.".into(),
                    "Is there anything else I can help with?".into(),
                ]
            }
            _ if purpose == Purpose::Cancel
                && (all_of_them(text)
                    || nlu::services(to_cancel(text), ctx.config()).len() > 1) =>
            {
                // "Both the brakes and the alignment on Tuesday", "the inspection and the oil
                // change, but keep the alignment": only those.
                let day = nlu::when(text, ctx.today()).date;
                let named: Vec<String> = nlu::services(to_cancel(text), ctx.config())
                    .iter()
                    .map(|s| s.id.clone())
                    .collect();
                let tz = ctx.tz();
                let chosen: Vec<Appointment> = list
                    .iter()
                    .filter(|a| day.is_none_or(|d| a.start.with_timezone(&tz).date_naive() == d))
                    .filter(|a| named.is_empty() || named.contains(&a.service))
                    .cloned()
                    .collect();
                self.stage = Stage::ConfirmCancelAll(if chosen.is_empty() { list } else { chosen });
                vec![self.question(ctx)]
            }
            1 => {
                let new = keep_hour(text, &list[0], new, ctx);
                self.picked(ctx, purpose, list[0].clone(), new).await
            }
            _ => match pick_appointment(&which, &list, &vehicles, ctx)
                // What says which one may stand anywhere in the line ("change the time for
                // the Ford's appointment on Friday, like 9").
                .or_else(|| pick_appointment(text, &list, &vehicles, ctx))
            {
                Some(a) => {
                    let new = keep_hour(text, &a, new, ctx);
                    self.picked(ctx, purpose, a, new).await
                }
                None => {
                    self.stage = Stage::PickAppointment(purpose, list);
                    vec![self.question(ctx)]
                }
            },
        }
    }

    /// The appointment `a` is chosen: confirm a cancellation, or offer the `new` day and time
    /// of a move (asking for one when the caller gave none).
    pub(super) async fn picked(
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
                    speak::describe(ctx.config(), &a, &ctx.vehicles().await.unwrap_or_default()),
                    self.question(ctx)
                )]
            }
        }
    }

    pub(super) async fn offer_new_time(
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
                        let wanted = date.unwrap_or(first_day);
                        let mut lines: Vec<String> = unavailable_note(ctx, wanted, near, first_day)
                            .into_iter()
                            .collect();
                        self.stage = Stage::ChooseNewSlot(a, slots);
                        lines.push(self.question(ctx));
                        lines
                    }
                }
            }
            Err(e) => self.tool_failed(ctx, e).await,
        }
    }
}

/// A request about an appointment split into the words that say which one and, for a move,
/// when to: "move my Wednesday oil change to Friday at 2" → ("move my wednesday oil change",
/// Friday at 2 p.m.). The new time follows the last "to", "for", "till" or "until" that is
/// followed by one; without such a word the whole text says both. A cancellation has no new
/// time.
pub(super) fn request(text: &str, purpose: Purpose, today: NaiveDate) -> (String, When) {
    if purpose == Purpose::Cancel {
        return (text.to_string(), When::default());
    }
    // Clause ends kept as "." tokens, so a refusal in one clause ("work won't let me out.")
    // stays out of the next ("does Saturday at 1 work instead?").
    let t: Vec<String> = nlu::clauses(text).join(&".".to_string());
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

/// The appointment the caller means: the one left when every thing the text says about it
/// (its service, start time, vehicle, day) is applied ("the one for the Pilot" among two oil
/// changes on Wednesday), or by position among those left ("the second one"). `None` when
/// nothing said narrows the list to one.
pub(super) fn pick_appointment(
    text: &str,
    list: &[Appointment],
    vehicles: &[Vehicle],
    ctx: &CallerContext,
) -> Option<Appointment> {
    let tz = ctx.tz();
    let mut left: Vec<&Appointment> = list.iter().collect();
    let mut narrowed = false;
    // A detail that fits none of those left is another thing ("my Tuesday inspection, can
    // we do Thursday": Thursday is the new day), so it narrows nothing.
    let mut keep = |left: &mut Vec<&Appointment>, fits: &dyn Fn(&Appointment) -> bool| {
        if left.iter().any(|a| fits(a)) {
            left.retain(|a| fits(a));
            narrowed = true;
        }
    };
    if let Some(s) = nlu::service(text, ctx.config()) {
        keep(&mut left, &|a| a.service == s.id);
    }
    // "the F-150's appointment": by vehicle.
    if let Some(v) = nlu::own_vehicle(text, vehicles) {
        let id = vehicles[v].id;
        keep(&mut left, &|a| a.vehicle_id == Some(id));
    }
    if let Some(d) = nlu::when(text, ctx.today()).date {
        keep(&mut left, &|a| a.start.with_timezone(&tz).date_naive() == d);
    }
    // "My nine thirty": by its start time, last, as a bare number may be something else.
    if let Some(at) = nlu::clock_time(text, ctx.today()) {
        keep(&mut left, &|a| a.start.with_timezone(&tz).time() == at);
    }
    match left.as_slice() {
        [one] if narrowed => Some((*one).clone()),
        _ => nlu::position(text, left.len()).map(|i| left[i].clone()),
    }
}

/// "Same time, just Monday": when `text` asks to keep the hour and names no time, the new
/// time is `a`'s own (shop-local).
pub(super) fn keep_hour(text: &str, a: &Appointment, mut new: When, ctx: &CallerContext) -> When {
    let t = nlu::tokens(text);
    let same = [
        "same time",
        "same hour",
        "same slot",
        "keep the time",
        "keep the same time",
    ]
    .iter()
    .any(|p| nlu::has_phrase(&t, p));
    let local = a.start.with_timezone(&ctx.tz());
    if same && new.time.is_none() {
        new.time = Some(TimeOfDay::At(local.time()));
    }
    // "Later the same day, like 4": its day, another time.
    if ["same day", "that day", "same date"]
        .iter()
        .any(|p| nlu::has_phrase(&t, p))
        && new.date.is_none()
    {
        new.date = Some(local.date_naive());
    }
    // "Push it back a week": the same time a week later.
    if [
        "back a week",
        "a week later",
        "week later",
        "push it a week",
    ]
    .iter()
    .any(|p| nlu::has_phrase(&t, p))
    {
        new.date = Some(local.date_naive() + chrono::Duration::days(7));
        new.time = new.time.or(Some(TimeOfDay::At(local.time())));
    }
    new
}

/// True when `text` asks about every appointment: "cancel all of them", "both", "everything".
pub(super) fn all_of_them(text: &str) -> bool {
    let t = nlu::tokens(text);
    ["all", "both", "everything", "every", "all of them"]
        .iter()
        .any(|p| nlu::has_phrase(&t, p))
}

/// The part of a cancellation request before what the caller keeps ("cancel the inspection
/// and the oil change, but keep the alignment" → "cancel the inspection and the oil change,").
pub(super) fn to_cancel(text: &str) -> &str {
    let lower = text.to_lowercase();
    let cut = ["keep", "except", "but not", "leave the", "leave my"]
        .iter()
        .filter_map(|w| lower.find(w))
        .min()
        .unwrap_or(text.len());
    text.get(..cut).unwrap_or(text)
}
