//! `otto reminders list` (what was sent, is due or failed) and `otto sms` (text a running
//! Otto as a customer would, through its signed Twilio SMS webhook).

use otto_core::records::{Id, ReminderStatus};
use otto_store::ReminderQuery;
use otto_twilio::AccountSid;
use secrecy::SecretString;

use super::open_shop;
use crate::cli::SmsArgs;
use crate::config::Config;

/// Prints reminders latest due first, or with `json` one JSON array of the records (instants
/// in UTC, RFC 3339).
///
/// # Errors
/// The database cannot be opened or read.
pub async fn list(
    config: &Config,
    status: Option<ReminderStatus>,
    appointment: Option<Id>,
    limit: u32,
    json: bool,
) -> anyhow::Result<()> {
    let shop = open_shop(config).await?;
    let tz = shop.config().time_zone;
    let reminders = shop
        .store()
        .reminders(&ReminderQuery {
            statuses: status.into_iter().collect(),
            appointment_id: appointment,
            limit,
        })
        .await?;
    if json {
        return super::print_json(&reminders);
    }
    if reminders.is_empty() {
        println!("no reminders");
    }
    for r in reminders {
        println!(
            "{:>6}  {:<9} {:<12} {:<4} appointment {:>5} at {}  due {}  attempts {}{}{}",
            r.id,
            r.status.as_str(),
            r.kind.as_str(),
            r.channel.as_str(),
            r.appointment_id,
            r.appointment_start
                .with_timezone(&tz)
                .format("%a %b %-d %H:%M"),
            r.due_at.with_timezone(&tz).format("%a %b %-d %H:%M"),
            r.attempts,
            r.provider_status
                .map(|s| format!("  twilio: {s}"))
                .unwrap_or_default(),
            r.last_error.map(|e| format!("  ({e})")).unwrap_or_default(),
        );
    }
    Ok(())
}

/// Runs `otto sms`: POSTs the text to `{url}/twilio/sms` signed with the configured Twilio
/// credentials (placeholders for a server with signature validation off) and prints Otto's
/// answer.
///
/// # Errors
/// The server cannot be reached or refuses the webhook.
pub async fn sms(config: &Config, args: SmsArgs) -> anyhow::Result<()> {
    let (sid, token) = match &config.twilio {
        Some(t) => (t.account_sid.clone(), t.auth_token.clone()),
        None => (
            AccountSid::random(),
            SecretString::from("unsigned-local-sms"),
        ),
    };
    let url = format!("{}/twilio/sms", args.url.trim_end_matches('/'));
    let answers = otto_twilio::messaging::send_inbound(
        &url,
        &sid,
        &token,
        &args.from,
        &config.shop.phone,
        &args.text,
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e} ({url})"))?;
    if answers.is_empty() {
        println!("(no answer)");
    }
    for a in answers {
        println!("{a}");
    }
    Ok(())
}
