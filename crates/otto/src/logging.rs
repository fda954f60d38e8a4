//! Logging setup: a `tracing` subscriber writing to stderr, text or JSON, filtered by
//! `log.filter` (overridden by `RUST_LOG` when set), with colour only when stderr is a
//! terminal, and the process-wide personal-data switch (`log.reveal_pii`, see
//! [`otto_core::privacy`]).

use tracing_subscriber::EnvFilter;

use crate::config::{LogConfig, LogFormat};

/// Installs the global subscriber. Call once, before anything logs.
///
/// # Errors
/// An invalid filter string (already rejected by config validation, so only `RUST_LOG` can
/// cause this).
pub fn init(config: &LogConfig) -> anyhow::Result<()> {
    otto_core::privacy::set_reveal(config.reveal_pii);
    let filter = match std::env::var("RUST_LOG") {
        Ok(f) if !f.is_empty() => EnvFilter::try_new(f)?,
        _ => EnvFilter::try_new(&config.filter)?,
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let result = match config.format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
    result.map_err(|e| anyhow::anyhow!("cannot install the log subscriber: {e}"))
}
