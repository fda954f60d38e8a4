//! In-process live-call sessions: a map behind a mutex. The embedded default; visible only to
//! this instance.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{LiveCall, SessionError, SessionStore, SessionUpdate};

/// Sessions held in this process.
#[derive(Debug, Default)]
pub struct MemorySessions {
    calls: Mutex<HashMap<String, LiveCall>>,
}

impl MemorySessions {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, LiveCall>> {
        // A panic while holding this lock cannot leave a map half-updated (every change is one
        // insert/remove), so a poisoned lock is safe to reuse.
        self.calls.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait]
impl SessionStore for MemorySessions {
    async fn put(&self, call: &LiveCall) -> Result<(), SessionError> {
        self.lock().insert(call.call_sid.clone(), call.clone());
        Ok(())
    }

    async fn update(
        &self,
        call_sid: &str,
        update: &SessionUpdate,
        now: DateTime<Utc>,
    ) -> Result<(), SessionError> {
        if let Some(c) = self.lock().get_mut(call_sid) {
            c.apply(update, now);
        }
        Ok(())
    }

    async fn remove(&self, call_sid: &str) -> Result<(), SessionError> {
        self.lock().remove(call_sid);
        Ok(())
    }

    async fn get(&self, call_sid: &str) -> Result<Option<LiveCall>, SessionError> {
        Ok(self.lock().get(call_sid).cloned())
    }

    async fn list(&self) -> Result<Vec<LiveCall>, SessionError> {
        let mut calls: Vec<LiveCall> = self.lock().values().cloned().collect();
        calls.sort_by_key(|c| c.started_at);
        Ok(calls)
    }

    async fn ping(&self) -> Result<(), SessionError> {
        Ok(())
    }
}
