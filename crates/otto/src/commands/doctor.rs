//! `otto doctor`: checks what Otto needs, one line per check (`ok`, `warn` or `FAIL` and what to
//! do), and fails when a check fails: the configuration, the database and its schema, Redis
//! when configured, the speech model or Deepgram, the public URL and signature checking, staff
//! accounts, and whether each configured vendor (Twilio, Deepgram, the LLM) answers at its base
//! URL. Reachability only: credentials are not spent on a test request, except Google
//! Calendar's, where getting an access token is the check (it tells "reauthorise" apart).

use std::time::Duration;

use anyhow::bail;

use super::open_store;
use crate::config::{Config, redact_url_password};
use crate::server::loopback_url;
use crate::sessions::Sessions;

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Ok,
    Warn,
    Fail,
}

/// One check's line.
struct Check {
    status: Status,
    what: &'static str,
    detail: String,
}

fn line(status: Status, what: &'static str, detail: impl Into<String>) -> Check {
    Check {
        status,
        what,
        detail: detail.into(),
    }
}

/// Whether something answers HTTP at `url` within 5 s (any status counts: the host is up).
async fn answers(http: &reqwest::Client, url: &str) -> Result<u16, String> {
    http.get(url)
        .send()
        .await
        .map(|r| r.status().as_u16())
        .map_err(|e| {
            if e.is_timeout() {
                "no answer within 5 s".to_string()
            } else if e.is_connect() {
                "cannot connect".to_string()
            } else {
                "request failed".to_string()
            }
        })
}

/// The vendor check for `url`.
async fn vendor(http: &reqwest::Client, what: &'static str, url: &str) -> Check {
    let shown = redact_url_password(url);
    match answers(http, url).await {
        Ok(status) => line(Status::Ok, what, format!("{shown} answers (HTTP {status})")),
        Err(why) => line(Status::Fail, what, format!("{shown}: {why}")),
    }
}

/// Whether Google gives Otto an access token for `config`'s credentials.
async fn calendar(
    config: &otto_providers::google::GoogleCalendarConfig,
    store: &dyn otto_store::Store,
) -> Check {
    let client = match crate::calendar::client(config, store).await {
        Ok(c) => c,
        Err(e) => return line(Status::Fail, "calendar", format!("{e:#}")),
    };
    match client.tokens().access_token().await {
        Ok(_) => line(
            Status::Ok,
            "calendar",
            format!("authorised for {}", config.calendar_id),
        ),
        Err(otto_providers::ProviderError::Status {
            code: Some(code), ..
        }) if code == "invalid_grant" => line(
            Status::Fail,
            "calendar",
            "reauthorise: Google refused the credentials; run `otto calendar connect`",
        ),
        Err(e) => line(Status::Fail, "calendar", e.to_string()),
    }
}

/// Runs every check and prints one line each.
///
/// # Errors
/// When any check fails (after printing them all).
pub async fn run(config: &Config) -> anyhow::Result<()> {
    let mut checks = vec![line(Status::Ok, "configuration", "valid")];
    let db = redact_url_password(&config.database_url());
    let mut opened = None;
    match tokio::time::timeout(Duration::from_secs(10), open_store(config)).await {
        Ok(Ok(store)) => {
            checks.push(line(
                Status::Ok,
                "database",
                format!("{} {db}, schema up to date", store.backend()),
            ));
            match store.list_staff().await {
                Ok(list) if list.is_empty() => checks.push(line(
                    Status::Warn,
                    "staff accounts",
                    "none: add one with `otto staff add NAME --role owner`",
                )),
                Ok(list) => checks.push(line(
                    Status::Ok,
                    "staff accounts",
                    format!("{} account(s)", list.len()),
                )),
                Err(e) => checks.push(line(Status::Fail, "staff accounts", e.to_string())),
            }
            opened = Some(store);
        }
        Ok(Err(e)) => checks.push(line(Status::Fail, "database", format!("{db}: {e:#}"))),
        Err(_) => checks.push(line(
            Status::Fail,
            "database",
            format!("{db}: no answer within 10 s"),
        )),
    }
    if config.redis_url.trim().is_empty() {
        checks.push(line(Status::Ok, "sessions", "in-process (one instance)"));
    } else {
        let shown = redact_url_password(&config.redis_url);
        match Sessions::from_url(&config.redis_url, 60, 2_000) {
            Ok(s) => match s.ping().await {
                Ok(()) => checks.push(line(Status::Ok, "redis", format!("{shown} answers"))),
                Err(e) => checks.push(line(Status::Fail, "redis", format!("{shown}: {e}"))),
            },
            Err(e) => checks.push(line(Status::Fail, "redis", format!("{shown}: {e:#}"))),
        }
    }
    if config.deepgram.is_none() {
        let model = config.whisper_model();
        match std::fs::metadata(&model) {
            Ok(m) if m.len() > 1_000_000 => checks.push(line(
                Status::Ok,
                "speech model",
                format!("{} ({} MB)", model.display(), m.len() / 1_000_000),
            )),
            _ => checks.push(line(
                Status::Fail,
                "speech model",
                format!("{} is missing: run `otto models fetch`", model.display()),
            )),
        }
    }
    let public = &config.server.public_url;
    checks.push(match (&config.twilio, loopback_url(public)) {
        (Some(_), _) => line(
            Status::Ok,
            "public URL",
            format!("{public}, signatures checked"),
        ),
        (None, true) => line(
            Status::Warn,
            "public URL",
            format!("{public} is loopback and no Twilio account is set: fine for trying Otto here"),
        ),
        (None, false) => line(
            Status::Fail,
            "public URL",
            format!("{public} is exposed but no Twilio auth token is set to check signatures"),
        ),
    });
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()?;
    if let Some(t) = &config.twilio {
        checks.push(vendor(&http, "twilio", &t.api_base_url).await);
    }
    if let Some(d) = &config.deepgram {
        let base = d
            .listen_url
            .replacen("wss://", "https://", 1)
            .replacen("ws://", "http://", 1);
        checks.push(vendor(&http, "deepgram", &base).await);
    }
    if let Some(l) = &config.llm {
        checks.push(vendor(&http, "llm", &l.base_url).await);
    }
    if let (Some(c), Some(store)) = (&config.calendar, &opened) {
        checks.push(calendar(c, store.as_ref()).await);
    }
    let mut failed = 0;
    for c in &checks {
        let mark = match c.status {
            Status::Ok => "ok  ",
            Status::Warn => "warn",
            Status::Fail => {
                failed += 1;
                "FAIL"
            }
        };
        println!("{mark}  {:<15} {}", c.what, c.detail);
    }
    if failed > 0 {
        bail!("{failed} check(s) failed");
    }
    Ok(())
}
