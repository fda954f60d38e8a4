//! [`FakeOpenAi`]: a scripted OpenAI-compatible chat completions server
//! (`POST {base_url}/chat/completions`, `shared/protocols/openai.md`).
//!
//! A test pushes [`FakeReply`]s onto a queue; each request pops the next one. Replies can be
//! SSE bodies (the `openai-stream-*.sse` fixtures byte-for-byte, or bodies built with [`sse`]),
//! optionally written in small pieces or with a stall in the middle, or any HTTP status with
//! headers and body (e.g. `openai-error-429.http`). Every request body is recorded as JSON so
//! tests can assert on what the client sent. With the queue empty the fake answers HTTP 500
//! with an OpenAI error body saying so.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::post;
use bytes::Bytes;

use crate::server::{Running, serve};

/// What the fake answers to one request.
#[derive(Debug, Clone)]
pub enum FakeReply {
    /// HTTP 200, `Content-Type: text/event-stream`, `body` sent as is.
    Sse {
        /// The SSE body, byte-for-byte.
        body: Bytes,
        /// Write the body in pieces of this many bytes (`None`: one write).
        write_size: Option<usize>,
        /// After this many bytes of the body, pause for the duration before the rest.
        stall: Option<(usize, Duration)>,
    },
    /// Any status with headers and a body.
    Http {
        /// HTTP status code (100–999; anything else is answered as 500).
        status: u16,
        /// Response headers, in order.
        headers: Vec<(String, String)>,
        /// Response body.
        body: Bytes,
    },
}

impl FakeReply {
    /// A 200 SSE reply with `body` written at once.
    pub fn sse(body: impl Into<Bytes>) -> Self {
        Self::Sse {
            body: body.into(),
            write_size: None,
            stall: None,
        }
    }

    /// A 200 SSE reply with the fixture file `name` (e.g. `"openai-stream-text.sse"`).
    pub fn sse_fixture(name: &str) -> Self {
        Self::sse(crate::fixtures::bytes(name))
    }

    /// Writes an SSE body in pieces of `bytes` bytes (1 and 7 exercise client buffering).
    /// No effect on [`FakeReply::Http`].
    pub fn in_writes_of(mut self, bytes: usize) -> Self {
        if let Self::Sse { write_size, .. } = &mut self {
            *write_size = Some(bytes.max(1));
        }
        self
    }

    /// Sends the first `after_bytes` of an SSE body, then nothing for `ms` milliseconds, then
    /// the rest. No effect on [`FakeReply::Http`].
    pub fn stall_after(mut self, after_bytes: usize, ms: u64) -> Self {
        if let Self::Sse { stall, .. } = &mut self {
            *stall = Some((after_bytes, Duration::from_millis(ms)));
        }
        self
    }

    /// A reply with `status` and a JSON `body` (`Content-Type: application/json`).
    pub fn status(status: u16, body: impl Into<Bytes>) -> Self {
        Self::Http {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.into(),
        }
    }

    /// Adds a response header (e.g. `retry-after-ms: 250`). No effect on [`FakeReply::Sse`].
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        if let Self::Http { headers, .. } = &mut self {
            headers.push((name.to_ascii_lowercase(), value.to_owned()));
        }
        self
    }

    /// A reply from a raw HTTP response text such as `openai-error-429.http`: a status line
    /// (`HTTP/1.1 429 Too Many Requests`), header lines, a blank line, the body. Line ends may
    /// be CRLF or LF. `content-length` is dropped (the server computes its own).
    ///
    /// # Panics
    /// When the status line has no numeric status: the fixture is broken.
    pub fn http_text(raw: &str) -> Self {
        let raw = raw.replace("\r\n", "\n");
        let (head, body) = raw.split_once("\n\n").unwrap_or((raw.as_str(), ""));
        let mut lines = head.lines();
        let status = lines
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|s| s.parse::<u16>().ok())
            .expect("raw HTTP response: status line with a numeric status");
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .filter(|(n, _)| n != "content-length")
            .collect();
        Self::Http {
            status,
            headers,
            body: Bytes::from(body.to_owned()),
        }
    }
}

/// One request the fake received.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    /// The `Authorization` header, if any (e.g. `Bearer sk-test`).
    pub authorization: Option<String>,
    /// The request body as JSON (a JSON string holding the raw text if it was not JSON).
    pub body: serde_json::Value,
}

#[derive(Default)]
struct Script {
    replies: VecDeque<FakeReply>,
    requests: Vec<RecordedRequest>,
}

type Shared = Arc<Mutex<Script>>;

fn lock(s: &Shared) -> MutexGuard<'_, Script> {
    // A panic while holding this lock can only come from a failing test thread; the data
    // (queues of plain values) stays consistent, so keep going.
    s.lock().unwrap_or_else(|p| p.into_inner())
}

/// A scripted OpenAI-compatible server on `127.0.0.1`; stops when dropped.
pub struct FakeOpenAi {
    running: Running,
    script: Shared,
}

impl FakeOpenAi {
    /// Starts the fake on a free loopback port (needs a tokio runtime).
    pub async fn start() -> Self {
        let script: Shared = Arc::default();
        let router = Router::new()
            .route("/v1/chat/completions", post(chat_completions))
            .with_state(script.clone());
        Self {
            running: serve(router).await,
            script,
        }
    }

    /// The base URL to configure clients with: `http://127.0.0.1:{port}/v1`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.running.addr)
    }

    /// Queues `reply` for a later request (first in, first out).
    pub fn push(&self, reply: FakeReply) {
        lock(&self.script).replies.push_back(reply);
    }

    /// Every request received so far, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.script).requests.clone()
    }

    /// How many scripted replies are still queued.
    pub fn pending(&self) -> usize {
        lock(&self.script).replies.len()
    }
}

async fn chat_completions(
    State(script): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let reply = {
        let mut s = lock(&script);
        s.requests.push(RecordedRequest {
            authorization: headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            body: serde_json::from_slice(&body).unwrap_or_else(|_| {
                serde_json::Value::String(String::from_utf8_lossy(&body).into_owned())
            }),
        });
        s.replies.pop_front()
    };
    match reply {
        Some(reply) => respond(reply),
        None => respond(FakeReply::status(
            500,
            r#"{"error":{"message":"FakeOpenAi: no scripted reply left","type":"server_error","param":null,"code":null}}"#,
        )),
    }
}

fn respond(reply: FakeReply) -> Response {
    match reply {
        FakeReply::Http {
            status,
            headers,
            body,
        } => {
            let mut resp = Response::new(Body::from(body));
            *resp.status_mut() =
                StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            for (name, value) in headers {
                if let (Ok(n), Ok(v)) = (
                    HeaderName::from_bytes(name.as_bytes()),
                    HeaderValue::from_str(&value),
                ) {
                    resp.headers_mut().append(n, v);
                }
            }
            resp
        }
        FakeReply::Sse {
            body,
            write_size,
            stall,
        } => {
            let mut resp = Response::new(Body::from_stream(pieces(body, write_size, stall)));
            resp.headers_mut().insert(
                "content-type",
                HeaderValue::from_static("text/event-stream; charset=utf-8"),
            );
            resp
        }
    }
}

/// The body as a stream of writes: split at `stall` (pausing there) and into `write_size` pieces.
fn pieces(
    body: Bytes,
    write_size: Option<usize>,
    stall: Option<(usize, Duration)>,
) -> impl futures_util::Stream<Item = Result<Bytes, Infallible>> + Send {
    let (first, pause, rest) = match stall {
        Some((at, pause)) => {
            let at = at.min(body.len());
            (body.slice(..at), Some(pause), body.slice(at..))
        }
        None => (body, None, Bytes::new()),
    };
    let split = move |b: Bytes| -> Vec<Bytes> {
        let size = write_size.unwrap_or(b.len()).max(1);
        (0..b.len())
            .step_by(size)
            .map(|i| b.slice(i..(i + size).min(b.len())))
            .collect()
    };
    let (first, rest) = (split(first), split(rest));
    futures_util::stream::unfold(
        (first.into_iter(), pause, rest.into_iter()),
        |(mut first, mut pause, mut rest)| async move {
            let next = match first.next() {
                Some(b) => b,
                None => {
                    if let Some(p) = pause.take() {
                        tokio::time::sleep(p).await;
                    }
                    rest.next()?
                }
            };
            // Give the connection a chance to flush each piece as its own write.
            tokio::task::yield_now().await;
            Some((Ok(next), (first, pause, rest)))
        },
    )
}

/// Builders for OpenAI-style SSE bodies, so tests can script conversations in one line.
///
/// The bodies follow `openai.md` §3.6: a role chunk, fragments, a chunk with `finish_reason`,
/// a usage chunk with `choices: []`, then `data: [DONE]`. Every chunk carries `"usage": null`
/// except the last, as OpenAI does with `stream_options.include_usage`.
pub mod sse {
    use std::sync::atomic::{AtomicU64, Ordering};

    use serde_json::{Value, json};

    static NEXT_ID: AtomicU64 = AtomicU64::new(1);

    fn chunk(choices: Value) -> String {
        let c = json!({
            "id": "chatcmpl-fake",
            "object": "chat.completion.chunk",
            "created": 1741570283,
            "model": "fake-model",
            "choices": choices,
            "usage": null,
        });
        format!("data: {c}\n\n")
    }

    fn tail(finish_reason: &str) -> String {
        let mut out = chunk(json!([{ "index": 0, "delta": {}, "finish_reason": finish_reason }]));
        let usage = json!({
            "id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1741570283,
            "model": "fake-model", "choices": [],
            "usage": { "prompt_tokens": 50, "completion_tokens": 10, "total_tokens": 60 },
        });
        out.push_str(&format!("data: {usage}\n\ndata: [DONE]\n\n"));
        out
    }

    /// The assistant says `text`, streamed word by word (each fragment keeps its leading space).
    pub fn says(text: &str) -> String {
        let mut out = chunk(json!([{ "index": 0,
            "delta": { "role": "assistant", "content": "" }, "finish_reason": null }]));
        let mut start = 0;
        for (i, ch) in text.char_indices() {
            if ch == ' ' && i > start {
                out.push_str(&content(&text[start..i]));
                start = i;
            }
        }
        if start < text.len() {
            out.push_str(&content(&text[start..]));
        }
        out.push_str(&tail("stop"));
        out
    }

    fn content(fragment: &str) -> String {
        chunk(json!([{ "index": 0, "delta": { "content": fragment }, "finish_reason": null }]))
    }

    /// The assistant calls tools (`(name, arguments)`), in parallel when more than one. Each
    /// call gets a fresh id `call_fake_N`; its arguments (serialized JSON) are split into three
    /// fragments, so clients must accumulate by `index`. Returns the body and the ids, in order.
    pub fn calls(calls: &[(&str, Value)]) -> (String, Vec<String>) {
        let mut out = String::new();
        let mut ids = Vec::new();
        for (index, (name, args)) in calls.iter().enumerate() {
            let id = format!("call_fake_{}", NEXT_ID.fetch_add(1, Ordering::Relaxed));
            let mut delta = json!({ "tool_calls": [{ "index": index, "id": id, "type": "function",
                "function": { "name": name, "arguments": "" } }] });
            if index == 0 {
                delta["role"] = json!("assistant");
                delta["content"] = Value::Null;
            }
            out.push_str(&chunk(
                json!([{ "index": 0, "delta": delta, "finish_reason": null }]),
            ));
            let args = args.to_string();
            let cuts: Vec<usize> = (0..=args.len())
                .filter(|i| args.is_char_boundary(*i))
                .collect();
            let (a, b) = (cuts[cuts.len() / 3], cuts[2 * cuts.len() / 3]);
            for piece in [&args[..a], &args[a..b], &args[b..]] {
                out.push_str(&chunk(json!([{ "index": 0, "delta": { "tool_calls": [{
                    "index": index, "function": { "arguments": piece } }] }, "finish_reason": null }])));
            }
            ids.push(id);
        }
        out.push_str(&tail("tool_calls"));
        (out, ids)
    }

    /// The assistant calls one tool `name` with `args`; returns the body and the call id.
    pub fn call(name: &str, args: Value) -> (String, String) {
        let (body, mut ids) = calls(&[(name, args)]);
        (body, ids.remove(0))
    }
}
