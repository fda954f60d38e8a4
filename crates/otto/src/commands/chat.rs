//! `otto chat --from +15551234567 [--now "2026-08-06 09:15"]`: a conversation with Otto in
//! the terminal, as the caller with that number, at the system time or at a fixed shop-local
//! time. Lines typed after "You: " are caller turns; Otto's replies are printed after
//! "Otto: ". Uses the LLM when one is configured, else the rule-based dialogue; every turn is
//! committed to the call log as it happens.

use std::sync::Arc;

use chrono::NaiveDateTime;
use otto_agent::{
    CallerContext, Clock, Conversation, FixedClock, SystemClock, TextStyle, run_styled_session,
};
use otto_core::domain::PhoneNumber;
use otto_core::records::{BookingSource, CallDirection};
use tokio::io::BufReader;

use super::open_shop;
use crate::call::{LlmFactory, recalls_from_config};
use crate::config::Config;

/// Runs the conversation on stdin/stdout until end of input or a hang-up; with `now` (a
/// shop-local time), the conversation's clock stands still at that instant.
///
/// # Errors
/// Store, LLM configuration or terminal I/O errors; a `now` that does not exist in the shop's
/// time zone (a spring-forward gap).
pub async fn run(
    config: &Config,
    from: PhoneNumber,
    now: Option<NaiveDateTime>,
) -> anyhow::Result<()> {
    let shop = open_shop(config).await?;
    let llm = LlmFactory::from_config(config)?;
    let clock: Arc<dyn Clock> = match now {
        Some(local) => Arc::new(FixedClock(super::local_to_utc(
            config.shop.time_zone,
            local,
        )?)),
        None => Arc::new(SystemClock),
    };
    let ctx = CallerContext::new(
        shop.clone(),
        clock,
        recalls_from_config(config)?,
        Some(from),
        BookingSource::Text,
    );
    let conversation = Conversation::start(
        ctx,
        llm.as_ref().map(LlmFactory::dialogue),
        Conversation::new_chat_id(),
        CallDirection::Inbound,
        "chat".into(),
    )
    .await?;
    let log = run_styled_session(
        conversation,
        BufReader::new(tokio::io::stdin()),
        tokio::io::stdout(),
        TextStyle::TERMINAL,
    )
    .await?;
    eprintln!(
        "(conversation {} saved{})",
        log.call_sid,
        log.outcome
            .map(|o| format!(", outcome: {o}"))
            .unwrap_or_default()
    );
    Ok(())
}
