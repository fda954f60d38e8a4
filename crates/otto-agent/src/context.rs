//! [`CallerContext`]: the state one conversation shares between the LLM and the rule-based
//! dialogue, and the identity the tools act for.
//!
//! The caller's number is bound by the channel (caller ID) when the context is created; the
//! customer is set only by the tools that look the caller up by that number or register them
//! with it, never from tool arguments. Everything a tool changes is scoped to that customer.
//! The context also carries what both brains must agree on to take over from each other: the
//! call's [`crate::frame::Frame`] (what the caller asked for so far), the vehicle in focus, the call's outcome so far, and call actions (transfer, hang-up) requested
//! by a tool and not yet handed to the channel. Booking rules (slots, book, move, cancel,
//! upcoming) are the [`Shop`] façade's; the context holds one.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use otto_core::domain::PhoneNumber;
use otto_core::engine::CallAction;
use otto_core::records::{BookingSource, Customer, Vehicle};
use otto_core::shop::ShopConfig;
use otto_shop::{Clock, Shop};
use otto_store::Store;

use crate::recalls::RecallLookup;

/// How the call is going, as the call log's `outcome` (see [`otto_core::records::CallLog`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Booked,
    Rescheduled,
    Cancelled,
    /// The caller confirmed an appointment (a reminder call).
    Confirmed,
    Transferred,
    /// A message for the shop was taken (the call log summary holds it).
    Message,
    /// Only questions were answered.
    Informed,
}

impl Outcome {
    /// The call log's outcome string: "booked", "rescheduled", "cancelled", "confirmed",
    /// "transferred", "message", "informed".
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Booked => "booked",
            Self::Rescheduled => "rescheduled",
            Self::Cancelled => "cancelled",
            Self::Confirmed => "confirmed",
            Self::Transferred => "transferred",
            Self::Message => "message",
            Self::Informed => "informed",
        }
    }
}

/// One conversation's identity and shared state. See the module docs.
#[derive(Debug)]
pub struct CallerContext {
    /// The shop's configuration and records, through which every booking rule runs.
    pub(crate) shop: Shop,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) recalls: Option<Arc<dyn RecallLookup>>,
    pub(crate) caller: Option<PhoneNumber>,
    pub(crate) source: BookingSource,
    pub(crate) customer: Option<Customer>,
    pub(crate) vehicle: Option<Vehicle>,
    pub(crate) outcome: Option<Outcome>,
    /// Lines for the call log summary ("Booked oil change …", "Message: …").
    pub(crate) summary: Vec<String>,
    pub(crate) actions: Vec<CallAction>,
    /// The call log this conversation writes (set when it starts), linked from messages.
    pub(crate) call_id: Option<otto_core::records::Id>,
    /// What the caller has asked for so far ([`crate::frame`]).
    pub(crate) frame: crate::frame::Frame,
}

impl CallerContext {
    /// A context for a conversation with `caller` (caller ID from the channel; `None` when
    /// withheld: such a caller can ask questions and leave a message but not book).
    /// `source` is stored on bookings ([`BookingSource::Phone`] for calls, `Text` for chat).
    /// `shop` is the one the channel runs on, with its calendar when one is configured, so
    /// what a caller is offered and booked follows the same rules as everywhere else.
    pub fn new(
        shop: Shop,
        clock: Arc<dyn Clock>,
        recalls: Option<Arc<dyn RecallLookup>>,
        caller: Option<PhoneNumber>,
        source: BookingSource,
    ) -> Self {
        Self {
            shop,
            clock,
            recalls,
            caller,
            source,
            customer: None,
            vehicle: None,
            outcome: None,
            summary: Vec::new(),
            actions: Vec::new(),
            call_id: None,
            frame: crate::frame::Frame::default(),
        }
    }

    /// The shop's configuration (validated at start).
    pub fn config(&self) -> &ShopConfig {
        self.shop.config()
    }

    /// The store, for records that involve no booking rule (customers, vehicles, calls).
    pub fn store(&self) -> &Arc<dyn Store> {
        self.shop.store()
    }

    /// The current instant.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The clock the conversation reads time from.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The shop's time zone.
    pub fn tz(&self) -> Tz {
        self.config().time_zone
    }

    /// Today's date in the shop's time zone.
    pub fn today(&self) -> NaiveDate {
        self.now().with_timezone(&self.tz()).date_naive()
    }

    /// The caller's number from the channel.
    pub fn caller(&self) -> Option<&PhoneNumber> {
        self.caller.as_ref()
    }

    /// The identified customer, once looked up or registered.
    pub fn customer(&self) -> Option<&Customer> {
        self.customer.as_ref()
    }

    /// The vehicle the conversation is about, once chosen or added.
    pub fn vehicle(&self) -> Option<&Vehicle> {
        self.vehicle.as_ref()
    }

    /// The call's outcome so far.
    pub fn outcome(&self) -> Option<Outcome> {
        self.outcome
    }

    /// The call log summary so far (one line per thing done), `None` when nothing was done.
    pub fn summary(&self) -> Option<String> {
        (!self.summary.is_empty()).then(|| self.summary.join(" "))
    }

    /// Call actions requested by tools since the last call, in order; the dialogue forwards
    /// them to the channel after its reply.
    pub fn take_actions(&mut self) -> Vec<CallAction> {
        std::mem::take(&mut self.actions)
    }

    /// Records something done on the call: a line of the call log summary and a tool action
    /// shown beside the transcript ([`CallerContext::act`]). The call log gets the outcome,
    /// summary and customer at once, not only at the end, so a crash mid-call loses none of
    /// them (best effort: a failed write is logged).
    pub(crate) async fn done(&mut self, tool: &str, line: String) {
        self.act(tool, &line).await;
        self.summary.push(line);
        if let Some(call_id) = self.call_id {
            let summary = self.summary();
            let noted = self
                .store()
                .note_call(
                    call_id,
                    self.outcome.map(|o| o.as_str()),
                    summary.as_deref(),
                    self.customer.as_ref().map(|c| c.id),
                )
                .await;
            if let Err(e) = noted {
                tracing::warn!(error = %e, "call progress not recorded");
            }
        }
    }

    /// Records a tool action beside the call's transcript (nothing outside a call log). Best
    /// effort: a failed write is logged and the conversation goes on.
    pub(crate) async fn act(&self, tool: &str, detail: &str) {
        let Some(call_id) = self.call_id else {
            return;
        };
        let action = otto_store::NewToolAction {
            call_id,
            at: self.now(),
            tool: tool.to_string(),
            detail: detail.to_string(),
        };
        if let Err(e) = self.store().record_tool_action(&action).await {
            tracing::warn!(error = %e, tool, "tool action not recorded");
        }
    }

    /// Records `o` unless a stronger outcome is already set (a booking outranks a question).
    pub(crate) fn set_outcome(&mut self, o: Outcome) {
        if o != Outcome::Informed || self.outcome.is_none() {
            self.outcome = Some(o);
        }
    }
}
