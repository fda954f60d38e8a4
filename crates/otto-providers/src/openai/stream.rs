//! [`ChatStream`]: the SSE body of a streamed completion (`openai.md` §3.1, §4.2) as a stream
//! of [`ChatDelta`]s, with a stall deadline between reads.
//!
//! SSE framing (CRLF/CR/LF line ends, comments, multi-line `data`, chunks split anywhere,
//! including inside a UTF-8 sequence) is handled by `eventsource-stream`. `[DONE]` ends the
//! stream; EOF after a `finish_reason` is success, EOF before one is a (retryable) truncation;
//! an event with a truthy `error` key or `event: error` is a [`ProviderError::InStream`].
//! After the first error the stream ends.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use eventsource_stream::{Event, EventStreamError, Eventsource};
use futures_util::stream::BoxStream;
use futures_util::{Stream, StreamExt};

use super::accumulate::{Accumulator, Chunk};
use super::types::ChatDelta;
use crate::ProviderError;

const VENDOR: &str = "openai";

/// A streamed completion. Yields `Ok` deltas in the order documented on [`ChatDelta`], ending
/// with one [`ChatDelta::Finished`], or one `Err` after which it ends.
pub struct ChatStream {
    peeked: Option<Result<ChatDelta, ProviderError>>,
    inner: BoxStream<'static, Result<ChatDelta, ProviderError>>,
}

impl std::fmt::Debug for ChatStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatStream").finish_non_exhaustive()
    }
}

impl ChatStream {
    /// Parses an SSE body given as byte chunks (split anywhere). `stall` is the longest wait for
    /// the next chunk before [`ProviderError::Timeout`].
    pub fn from_bytes<S, B>(bytes: S, stall: Duration) -> Self
    where
        S: Stream<Item = Result<B, ProviderError>> + Send + 'static,
        B: AsRef<[u8]> + Send + 'static,
    {
        let state = State {
            events: Box::pin(bytes.eventsource()),
            acc: Accumulator::default(),
            pending: VecDeque::new(),
            stall,
            done: false,
        };
        let inner = futures_util::stream::unfold(state, |mut s| async move {
            let item = s.next_delta().await.transpose()?;
            if item.is_err() {
                s.done = true;
            }
            Some((item, s))
        });
        Self {
            peeked: None,
            inner: inner.boxed(),
        }
    }

    /// Puts `item` back in front (used by retries, which must look at the first item).
    pub(crate) fn prepend(mut self, item: Result<ChatDelta, ProviderError>) -> Self {
        self.peeked = Some(item);
        self
    }
}

impl Stream for ChatStream {
    type Item = Result<ChatDelta, ProviderError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if let Some(item) = self.peeked.take() {
            return Poll::Ready(Some(item));
        }
        self.inner.poll_next_unpin(cx)
    }
}

type Events = Pin<Box<dyn Stream<Item = Result<Event, EventStreamError<ProviderError>>> + Send>>;

struct State {
    events: Events,
    acc: Accumulator,
    pending: VecDeque<ChatDelta>,
    stall: Duration,
    done: bool,
}

impl State {
    async fn next_delta(&mut self) -> Result<Option<ChatDelta>, ProviderError> {
        loop {
            if let Some(d) = self.pending.pop_front() {
                return Ok(Some(d));
            }
            if self.done {
                return Ok(None);
            }
            let next = tokio::time::timeout(self.stall, self.events.next())
                .await
                .map_err(|_| ProviderError::Timeout {
                    vendor: VENDOR,
                    after_ms: u64::try_from(self.stall.as_millis()).unwrap_or(u64::MAX),
                })?;
            match next {
                None if self.acc.finished() => self.end(),
                None => {
                    return Err(ProviderError::Protocol {
                        vendor: VENDOR,
                        message: "stream ended before a finish_reason".into(),
                        transient: true,
                    });
                }
                Some(Err(EventStreamError::Transport(e))) => return Err(e),
                Some(Err(e)) => {
                    return Err(ProviderError::Protocol {
                        vendor: VENDOR,
                        message: format!("bad SSE framing: {e}"),
                        transient: false,
                    });
                }
                Some(Ok(event)) => self.on_event(event)?,
            }
        }
    }

    fn end(&mut self) {
        self.done = true;
        self.pending.extend(std::mem::take(&mut self.acc).finish());
    }

    fn on_event(&mut self, event: Event) -> Result<(), ProviderError> {
        if event.data.starts_with("[DONE]") {
            self.end();
            return Ok(());
        }
        if event.data.trim().is_empty() {
            return Ok(());
        }
        let value: serde_json::Value =
            serde_json::from_str(&event.data).map_err(|e| ProviderError::Protocol {
                vendor: VENDOR,
                message: format!("chunk is not JSON: {e}"),
                transient: false,
            })?;
        if event.event == "error" || is_truthy(value.get("error")) {
            return Err(in_stream_error(&value));
        }
        let chunk: Chunk = serde_json::from_value(value).map_err(|e| ProviderError::Protocol {
            vendor: VENDOR,
            message: format!("unexpected chunk shape: {e}"),
            transient: false,
        })?;
        if let Some(text) = self.acc.apply(chunk) {
            self.pending.push_back(ChatDelta::Text(text));
        }
        Ok(())
    }
}

fn is_truthy(v: Option<&serde_json::Value>) -> bool {
    use serde_json::Value;
    match v {
        None | Some(Value::Null) | Some(Value::Bool(false)) => false,
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Number(n)) => n.as_f64() != Some(0.0),
        Some(Value::Bool(true)) => true,
    }
}

fn in_stream_error(value: &serde_json::Value) -> ProviderError {
    let err = value.get("error").unwrap_or(value);
    let message = err
        .get("message")
        .and_then(|m| m.as_str())
        .or_else(|| err.as_str())
        .unwrap_or("unspecified error")
        .to_owned();
    let kind = err.get("type").and_then(|t| t.as_str()).map(str::to_owned);
    ProviderError::InStream {
        vendor: VENDOR,
        message,
        kind,
    }
}
