//! The call log's one writer: [`CallRecorder`]. The voice call, the text channel and Twilio's
//! status callbacks record calls only through it, so every row and turn is stamped by one
//! [`Clock`] and the rules below hold whoever writes.
//!
//! - A call log starts at the first webhook (or chat) and is idempotent by call SID: a
//!   repeated start returns the stored call.
//! - Turns are appended as they finish ([`CallLog::turn`] stamps, [`CallLog::append`]
//!   writes), each committed at once, numbered by the store.
//! - The first end wins: a later or repeated end (a conversation ending after Twilio's
//!   `completed` callback, or the reverse) fills only what is still missing, never replaces an
//!   end time or outcome already recorded.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use otto_core::records::{self, CallDirection, Id, Speaker};
use otto_store::{CallEnd, NewCall, NewTurn, Store, StoreError};

use crate::clock::Clock;

/// Records calls in the store. Cheap to clone.
#[derive(Debug, Clone)]
pub struct CallRecorder {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
}

/// A call being recorded: its log row and the recorder. Cheap to clone, so a turn writer task
/// can hold one.
#[derive(Debug, Clone)]
pub struct CallLog {
    recorder: CallRecorder,
    log: records::CallLog,
}

/// How a call ended, as its channel knows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallOutcome {
    /// Short machine-readable outcome ("booked", "message", "busy", "no_answer", …).
    pub outcome: Option<String>,
    /// What was done, for staff.
    pub summary: Option<String>,
    /// The customer identified during the call.
    pub customer_id: Option<Id>,
}

impl CallRecorder {
    /// A recorder over `store`, stamping with `clock`.
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }

    /// Starts (or finds) the log of call `call_sid` (a Twilio call SID, or a generated chat
    /// id) from `from` (E.164, another caller ID Twilio gave, or "anonymous") to `to`, started
    /// now.
    ///
    /// # Errors
    /// [`StoreError`] when the log cannot be written.
    pub async fn start(
        &self,
        call_sid: &str,
        direction: CallDirection,
        from: &str,
        to: &str,
    ) -> Result<CallLog, StoreError> {
        let log = self
            .store
            .start_call(&NewCall {
                call_sid: call_sid.to_string(),
                direction,
                from: from.to_string(),
                to: to.to_string(),
                started_at: self.clock.now(),
                customer_id: None,
            })
            .await?;
        Ok(CallLog {
            recorder: self.clone(),
            log,
        })
    }

    /// Ends the log of call `call_sid` at `at` (now when `None`) with `outcome`; the first end
    /// wins (see the module docs). Returns the stored log.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for a call never started; other [`StoreError`]s.
    pub async fn end(
        &self,
        call_sid: &str,
        at: Option<DateTime<Utc>>,
        outcome: CallOutcome,
    ) -> Result<records::CallLog, StoreError> {
        let end = CallEnd {
            ended_at: at.unwrap_or_else(|| self.clock.now()),
            outcome: outcome.outcome,
            summary: outcome.summary,
            customer_id: outcome.customer_id,
        };
        self.store.end_call(call_sid, &end).await
    }

    /// A Twilio status callback with a terminal `status` ("completed", "busy", "no-answer",
    /// "failed", "canceled") at `at` (now when `None`) ends the call, unless it has ended
    /// already. "completed" records no outcome (the conversation records the real one); the
    /// others record the status ("no_answer", …). Returns `false` for a call never started.
    ///
    /// # Errors
    /// [`StoreError`] other than not-found.
    pub async fn terminal_status(
        &self,
        call_sid: &str,
        status: &str,
        at: Option<DateTime<Utc>>,
    ) -> Result<bool, StoreError> {
        match self.store.call_by_sid(call_sid).await? {
            None => return Ok(false),
            Some(log) if log.ended_at.is_some() => return Ok(true),
            Some(_) => {}
        }
        let outcome = (status != "completed").then(|| status.replace('-', "_"));
        match self
            .end(
                call_sid,
                at,
                CallOutcome {
                    outcome,
                    ..CallOutcome::default()
                },
            )
            .await
        {
            Ok(_) => Ok(true),
            Err(StoreError::NotFound { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }
}

impl CallLog {
    /// The log row as started.
    pub fn row(&self) -> &records::CallLog {
        &self.log
    }

    /// The call log id.
    pub fn id(&self) -> Id {
        self.log.id
    }

    /// A finished turn stamped now, without timings, ready for [`CallLog::append`] (stamp when
    /// the turn finishes, write whenever the writer gets to it).
    pub fn turn(&self, speaker: Speaker, text: &str, interrupted: bool) -> NewTurn {
        NewTurn {
            speaker,
            text: text.to_string(),
            at: self.recorder.clock.now(),
            interrupted,
            timings: None,
            seq: None,
        }
    }

    /// Appends `turn` to the call's transcript, committed before returning.
    ///
    /// # Errors
    /// [`StoreError`] when it cannot be written.
    pub async fn append(&self, turn: &NewTurn) -> Result<(), StoreError> {
        self.recorder
            .store
            .append_turn(self.log.id, turn)
            .await
            .map(|_| ())
    }

    /// Ends the call now with `outcome` (the first end wins). Returns the stored log.
    ///
    /// # Errors
    /// [`StoreError`] when it cannot be written.
    pub async fn end(&self, outcome: CallOutcome) -> Result<records::CallLog, StoreError> {
        self.recorder.end(&self.log.call_sid, None, outcome).await
    }
}
