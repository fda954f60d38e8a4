//! Otto's vendor clients: the I/O edge towards external services.
//!
//! - [`openai`]: OpenAI-compatible chat completions, streamed over SSE with tool calls
//!   (`shared/protocols/openai.md`), plus [`openai::with_retries`].
//! - [`nhtsa`]: NHTSA vPIC VIN decoding and recalls by make/model/year
//!   (`shared/protocols/nhtsa.md`), cached in-process.
//! - [`deepgram`]: Deepgram live STT (`/v1/listen`) and TTS (`/v1/speak`, WebSocket with REST
//!   fallback) behind the `otto-speech` interfaces (`shared/protocols/deepgram.md`).
//! - [`google`]: Google Calendar: OAuth tokens, freeBusy, events insert/patch/delete/list
//!   (`shared/protocols/google-calendar.md`), and the shop's busy-time source.
//! - [`error`]: [`ProviderError`], the one error type of this layer, with
//!   [`ProviderError::retryable`].
//!
//! Every base URL comes from configuration, so tests point the same code at the local fakes in
//! `otto-fakes`. Secrets (API keys) are [`secrecy::SecretString`]s and never logged.

pub mod deepgram;
pub mod error;
pub mod google;
pub mod nhtsa;
pub mod openai;

pub use error::ProviderError;
