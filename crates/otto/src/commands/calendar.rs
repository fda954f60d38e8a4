//! `otto calendar connect` (the owner's consent, ending in a refresh token stored in the
//! database, or printed for the configuration) and `otto calendar check` (a token, then the
//! busy times of the configured calendars for the coming days),
//! `shared/protocols/google-calendar.md` §1.1 and §3.

use std::io::BufRead;

use anyhow::{Context, bail};
use chrono::{Duration, Utc};
use otto_core::scheduling::Interval;
use otto_providers::google::token::{SCOPES, TokenSource, consent_url};
use otto_store::calendar::REFRESH_TOKEN;
use secrecy::ExposeSecret;

use crate::cli::CalendarCommand;
use crate::config::Config;

/// Runs `otto calendar …`.
///
/// # Errors
/// No `calendar` section, a refused code, or Google unreachable or refusing access.
pub async fn run(config: &Config, cmd: CalendarCommand) -> anyhow::Result<()> {
    let Some(c) = &config.calendar else {
        bail!(
            "no calendar configured: set calendar.client_id and calendar.client_secret (the \
             OAuth client of the shop's Google Cloud project) first"
        );
    };
    match cmd {
        CalendarCommand::Connect {
            code,
            redirect_uri,
            print,
        } => {
            let secret = c
                .client_secret
                .as_ref()
                .context("calendar.client_secret is required")?;
            println!(
                "1. Open this address, sign in with the shop's Google account and allow access \
                 ({SCOPES}):\n\n   {}\n",
                consent_url(&c.auth_url, &c.client_id, &redirect_uri)
            );
            println!(
                "2. Google then sends the browser to {redirect_uri}?code=… (the page may not \
                 load). Paste that whole address, or just the code:"
            );
            let given = match code {
                Some(code) => code,
                None => {
                    let mut line = String::new();
                    std::io::stdin().lock().read_line(&mut line)?;
                    line
                }
            };
            let code = code_of(&given).context("no consent code given")?;
            let refresh = TokenSource::exchange_code(
                &c.token_url,
                &c.client_id,
                secret,
                &code,
                &redirect_uri,
                c.request_timeout_ms,
            )
            .await
            .context("Google refused the code (it is single-use and expires in minutes)")?;
            if print {
                println!(
                    "\n3. Connected. Put the refresh token in the configuration (keep it \
                     secret):\n\n   [calendar]\n   refresh_token = \"{}\"\n\n   or \
                     OTTO_CALENDAR__REFRESH_TOKEN in the environment, then restart Otto.",
                    refresh.expose_secret()
                );
                return Ok(());
            }
            let store = super::open_store(config).await?;
            store
                .set_calendar_state(REFRESH_TOKEN, Some(refresh.expose_secret()))
                .await
                .context("cannot store the refresh token")?;
            println!(
                "\n3. Connected. The refresh token is stored in the database; restart Otto to \
                 use it."
            );
            if c.refresh_token.is_some() {
                println!(
                    "   calendar.refresh_token is also set in the configuration and is used \
                     instead: remove it."
                );
            }
            Ok(())
        }
        CalendarCommand::Check { days } => {
            let store = super::open_store(config).await?;
            let client = crate::calendar::client(c, store.as_ref()).await?;
            client
                .tokens()
                .access_token()
                .await
                .context("no access token: run `otto calendar connect` again")?;
            println!("authorised as OAuth client {}", c.client_id);
            let now = Utc::now();
            let window = Interval {
                start: now,
                end: now + Duration::days(i64::from(days)),
            };
            let calendars = c.busy_calendar_ids();
            let mut busy = client
                .free_busy(&window, &calendars)
                .await
                .context("freeBusy failed")?;
            busy.sort_by_key(|b| b.start);
            let tz = config.shop.time_zone;
            println!(
                "busy in {} over the next {days} days ({tz}):",
                calendars.join(", ")
            );
            if busy.is_empty() {
                println!("  nothing");
            }
            for b in busy {
                println!(
                    "  {} – {}",
                    b.start.with_timezone(&tz).format("%a %Y-%m-%d %H:%M"),
                    b.end.with_timezone(&tz).format("%a %Y-%m-%d %H:%M")
                );
            }
            Ok(())
        }
    }
}

/// The consent code in `given`: the `code` parameter of a pasted address, or the text itself.
fn code_of(given: &str) -> Option<String> {
    let given = given.trim();
    if given.is_empty() {
        return None;
    }
    match reqwest::Url::parse(given) {
        Ok(u) => u
            .query_pairs()
            .find(|(k, _)| k == "code")
            .map(|(_, v)| v.into_owned()),
        Err(_) => Some(given.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_code_comes_from_an_address_or_as_is() {
        assert_eq!(
            code_of("http://127.0.0.1:8765/?code=4%2F0Aabc&scope=x\n").as_deref(),
            Some("4/0Aabc")
        );
        assert_eq!(code_of(" 4/0Aabc ").as_deref(), Some("4/0Aabc"));
        assert_eq!(code_of("  "), None);
        assert_eq!(code_of("http://127.0.0.1:8765/?error=access_denied"), None);
    }
}
