//! Local fake vendor servers for Otto's tests and benches.
//!
//! Each fake is a real HTTP server (axum) bound to `127.0.0.1:0` that speaks the vendor's wire
//! protocol as documented in `shared/protocols/` and replays the fixtures there. A fake returns
//! its base URL(s), which production clients receive through their ordinary configuration; the
//! server shuts down when its handle is dropped. Nothing here ever talks to a non-loopback
//! address.
//!
//! - [`fixtures`]: reading the shared protocol fixtures (`shared/protocols/fixtures/`).
//! - [`openai`]: [`FakeOpenAi`], a scripted OpenAI-compatible `/v1/chat/completions` server,
//!   and [`openai::sse`], builders for SSE bodies ("assistant says X", "assistant calls T").
//! - [`google`]: [`FakeGoogle`], Google's OAuth token endpoint and Calendar API v3 (freeBusy,
//!   events insert/get/patch/delete/list with sync tokens) with scripted failures.
//! - [`nhtsa`]: [`FakeNhtsa`], vPIC `DecodeVinValues` and the recalls API.
//! - [`deepgram`]: Deepgram live STT and TTS (WebSocket and REST) fakes.
//! - [`twilio`]: [`twilio::FakeTwilioRest`], the Twilio REST API (calls, messages) with
//!   scripted outcomes and signed status / AMD callbacks.

pub mod deepgram;
pub mod fixtures;
pub mod google;
pub mod nhtsa;
pub mod openai;
mod server;
pub mod twilio;

pub use google::FakeGoogle;
pub use nhtsa::FakeNhtsa;
pub use openai::{FakeOpenAi, FakeReply, RecordedRequest};
