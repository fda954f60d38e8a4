//! Twilio for Otto: everything that speaks Twilio's wire protocols
//! (`shared/protocols/twilio.md`), and a simulator that speaks them *as* Twilio.
//!
//! - [`sid`]: validated Twilio SIDs ([`CallSid`], [`AccountSid`], [`StreamSid`], [`MessageSid`]).
//! - [`webhook`]: typed incoming-call webhooks and call status callbacks (§a).
//! - [`messaging`]: incoming SMS and message status callbacks, and playing an incoming SMS.
//! - [`signature`]: `X-Twilio-Signature` validation and signing (§b).
//! - [`twiml`]: writing and reading the TwiML verbs Otto uses (§c).
//! - [`media`]: Media Streams WebSocket messages in both directions (§d).
//! - [`rest`]: the REST client: update, hang up or create calls, send SMS (§e).
//! - [`sim`]: a call simulator that behaves like Twilio towards a running Otto server.
//! - [`stream_token`]: Otto's per-call tokens binding a media socket to its call.
//!
//! Everything received from outside (webhook forms, WebSocket messages, REST responses) is
//! validated and turned into [`TwilioError`] on bad input; nothing here panics on input.

pub mod error;
pub mod media;
pub mod messaging;
pub mod rest;
pub mod sid;
pub mod signature;
pub mod sim;
pub mod stream_token;
pub mod twiml;
pub mod webhook;

pub use error::{ApiError, TwilioError};
pub use sid::{AccountSid, CallSid, MessageSid, StreamSid};
