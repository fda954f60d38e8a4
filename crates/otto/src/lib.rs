//! Otto's I/O shell: configuration, logging, the command-line commands, and live-call
//! sessions. The `otto` binary (`main.rs`) only parses arguments and calls in here.
//!
//! - [`call`]: the services calls share, the call runner around the pure call engine, the
//!   Twilio writer and call metrics.
//! - [`cli`]: the command line (clap).
//! - [`commands`]: one module per command.
//! - [`config`]: the typed configuration tree (defaults, `otto.toml`, `OTTO_*`).
//! - [`logging`]: the tracing subscriber and the personal-data switch.
//! - [`reminders`]: confirmations and reminders by SMS and phone, and two-way SMS.
//! - [`server`]: the HTTP server (Twilio webhooks, media WebSocket, chat, health, metrics).
//! - [`sessions`]: live-call state, in-process or in Redis.

pub mod calendar;
pub mod call;
pub mod cli;
pub mod commands;
pub mod config;
pub mod dashboard;
pub mod logging;
pub mod reminders;
pub mod server;
pub mod sessions;
