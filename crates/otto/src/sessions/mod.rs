//! Live-call sessions: what is happening on each call right now, visible to every Otto
//! instance and to the dashboard.
//!
//! Two backends behind [`SessionStore`], chosen by configuration: in-process (the embedded
//! default, [`memory::MemorySessions`]) or Redis when `redis_url` is set
//! ([`redis::RedisSessions`]: one hash per call with a TTL, updates applied atomically in
//! `MULTI`/`EXEC`, every command under a deadline). [`Sessions`] wraps either and never fails a
//! call because of them: when Redis is unreachable, errors are logged (rate-limited by the
//! reconnecting client), counted in `otto_session_errors_total`, and the call goes on.
//!
//! A call writes its session through a [`SessionWriter`]: a background task per call applies
//! the writes in order, so the call loop never waits on the session store (a Redis that
//! accepts connections but never answers cannot delay a greeting).

pub mod memory;
pub mod redis;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use otto_core::records::Id;
use serde::{Deserialize, Serialize};

/// Where a live call stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallPhase {
    /// The webhook answered; the media stream is not open yet.
    Connecting,
    /// Otto is listening to the caller.
    Listening,
    /// Otto is preparing or playing a reply.
    Speaking,
    /// Otto is saying goodbye or transferring.
    Ending,
}

/// One live call as the dashboard sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveCall {
    /// Twilio call SID (or the text conversation id).
    pub call_sid: String,
    /// Caller's number as Twilio gave it.
    pub from: String,
    /// The number called.
    pub to: String,
    /// The caller's customer record, once known.
    pub customer_id: Option<Id>,
    /// Which Otto instance runs the call.
    pub instance: String,
    pub phase: CallPhase,
    /// Turns committed so far (caller and agent).
    pub turns: u32,
    pub started_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A change to a live call, applied atomically.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionUpdate {
    pub phase: Option<CallPhase>,
    pub customer_id: Option<Id>,
    /// Added to the turn count.
    pub add_turns: u32,
}

/// Why a session operation failed.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("session store unreachable: {0}")]
    Unavailable(String),
    #[error("session store timed out after {0} ms")]
    Timeout(u64),
    #[error("corrupt session record for {call_sid}: {reason}")]
    Corrupt { call_sid: String, reason: String },
}

/// A backend for live-call sessions.
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Creates or replaces the session of `call.call_sid`.
    async fn put(&self, call: &LiveCall) -> Result<(), SessionError>;
    /// Applies `update` atomically; a missing session is left missing.
    async fn update(
        &self,
        call_sid: &str,
        update: &SessionUpdate,
        now: DateTime<Utc>,
    ) -> Result<(), SessionError>;
    /// Removes the session (the call ended).
    async fn remove(&self, call_sid: &str) -> Result<(), SessionError>;
    /// One session.
    async fn get(&self, call_sid: &str) -> Result<Option<LiveCall>, SessionError>;
    /// All live sessions, oldest first.
    async fn list(&self) -> Result<Vec<LiveCall>, SessionError>;
    /// Checks the backend answers (for `/ready`).
    async fn ping(&self) -> Result<(), SessionError>;
}

/// How often a live call refreshes its session record, whether or not anything changed.
pub const HEARTBEAT: std::time::Duration = std::time::Duration::from_secs(5);
/// How long a session record lives after its last write, in seconds: four heartbeats. A call
/// whose instance died (SIGKILL, power loss) leaves the live calls page within this.
pub const TTL_SECS: u64 = 20;

/// Session updates a call may have waiting for the store; beyond this (the store is slow or
/// hanging) updates are dropped and counted in `otto_session_updates_dropped_total`.
const WRITER_QUEUE: usize = 32;

/// One call's session writes, applied by a background task (see [`Sessions::writer`]).
pub struct SessionWriter {
    tx: tokio::sync::mpsc::Sender<SessionUpdate>,
    task: tokio::task::JoinHandle<()>,
}

impl SessionWriter {
    /// Queues `update` without waiting; dropped and counted when the queue is full. The
    /// session is a view for the dashboard, so a lost update only makes it lag.
    pub fn update(&self, update: SessionUpdate) {
        if self.tx.try_send(update).is_err() {
            metrics::counter!("otto_session_updates_dropped_total").increment(1);
        }
    }

    /// Lets the queued writes finish, then forgets the call. Awaited when the call closes.
    pub async fn finish(self) {
        drop(self.tx);
        let _ = self.task.await;
    }
}

/// The sessions handle the server uses: never fails a call because of the backend.
#[derive(Clone)]
pub struct Sessions {
    store: Arc<dyn SessionStore>,
}

impl Sessions {
    /// Wraps a backend.
    pub fn new(store: Arc<dyn SessionStore>) -> Self {
        Self { store }
    }

    /// In-process sessions (`redis_url` empty) or Redis sessions.
    ///
    /// # Errors
    /// An invalid Redis URL. An unreachable server is not an error here: it is retried on use.
    pub fn from_url(redis_url: &str, ttl_secs: u64, timeout_ms: u64) -> anyhow::Result<Self> {
        if redis_url.trim().is_empty() {
            Ok(Self::new(Arc::new(memory::MemorySessions::default())))
        } else {
            Ok(Self::new(Arc::new(redis::RedisSessions::new(
                redis_url, ttl_secs, timeout_ms,
            )?)))
        }
    }

    fn report(op: &str, result: Result<(), SessionError>) {
        if let Err(e) = result {
            metrics::counter!("otto_session_errors_total").increment(1);
            tracing::warn!(op, error = %e, "session store error; the call goes on");
        }
    }

    /// Records a new live call.
    pub async fn start(&self, call: &LiveCall) {
        Self::report("put", self.store.put(call).await);
    }

    /// Applies an update to a live call.
    pub async fn update(&self, call_sid: &str, update: SessionUpdate) {
        Self::report(
            "update",
            self.store.update(call_sid, &update, Utc::now()).await,
        );
    }

    /// Forgets a call that ended.
    pub async fn end(&self, call_sid: &str) {
        Self::report("remove", self.store.remove(call_sid).await);
    }

    /// Starts `call`'s session writer: records the call, then applies the updates it is given
    /// in order, then forgets the call when [`SessionWriter::finish`] is called; all in a
    /// background task.
    pub fn writer(&self, call: LiveCall) -> SessionWriter {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<SessionUpdate>(WRITER_QUEUE);
        let sessions = self.clone();
        let task = tokio::spawn(async move {
            sessions.start(&call).await;
            while let Some(update) = rx.recv().await {
                sessions.update(&call.call_sid, update).await;
            }
            sessions.end(&call.call_sid).await;
        });
        SessionWriter { tx, task }
    }

    /// Live calls for the dashboard.
    ///
    /// # Errors
    /// The backend's error: the dashboard shows it.
    pub async fn list(&self) -> Result<Vec<LiveCall>, SessionError> {
        self.store.list().await
    }

    /// One live call.
    ///
    /// # Errors
    /// The backend's error.
    pub async fn get(&self, call_sid: &str) -> Result<Option<LiveCall>, SessionError> {
        self.store.get(call_sid).await
    }

    /// Readiness check.
    ///
    /// # Errors
    /// The backend's error.
    pub async fn ping(&self) -> Result<(), SessionError> {
        self.store.ping().await
    }
}

impl LiveCall {
    fn apply(&mut self, update: &SessionUpdate, now: DateTime<Utc>) {
        if let Some(p) = update.phase {
            self.phase = p;
        }
        if let Some(c) = update.customer_id {
            self.customer_id = Some(c);
        }
        self.turns = self.turns.saturating_add(update.add_turns);
        self.updated_at = now;
    }
}

#[cfg(test)]
mod tests;
