//! `otto chat --from +15551234567`: a conversation with Otto in the terminal, as the caller
//! with that number. Lines typed are caller turns; Otto's reply is printed line by line.
//! Uses the LLM when one is configured, else the rule-based dialogue; every turn is committed
//! to the call log as it happens.

use std::sync::Arc;

use otto_agent::{CallerContext, Conversation, SystemClock, run_text_session};
use otto_core::domain::PhoneNumber;
use otto_core::records::{BookingSource, CallDirection};
use tokio::io::BufReader;

use super::open_shop;
use crate::call::{LlmFactory, recalls_from_config};
use crate::config::Config;

/// Runs the conversation on stdin/stdout until end of input or a hang-up.
///
/// # Errors
/// Store, LLM configuration or terminal I/O errors.
pub async fn run(config: &Config, from: PhoneNumber) -> anyhow::Result<()> {
    let shop = open_shop(config).await?;
    let llm = LlmFactory::from_config(config)?;
    let ctx = CallerContext::new(
        Arc::new(shop.config().clone()),
        shop.store().clone(),
        Arc::new(SystemClock),
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
    let log = run_text_session(
        conversation,
        BufReader::new(tokio::io::stdin()),
        tokio::io::stdout(),
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
