//! `otto bench pages`: dashboard page render time over real HTTP against the demo seed (about
//! 200 customers, 300 appointments) plus a day of synthetic calls (`--calls`, each with 10
//! timed turns and a tool action) and 20 messages, in a temporary SQLite database. Signs in
//! like a browser, then requests each page `--iterations` times in turn and prints p50, p99 and
//! the slowest, ms, per page.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use anyhow::{Context, bail};
use chrono::{Duration, Utc};
use otto_core::records::{CallDirection, Speaker, StaffRole, TurnTimings};
use otto_core::stats::Latency;
use otto_shop::seed::{DEMO_CUSTOMER_PHONE, SeedSize, seed_demo};
use otto_store::{CallEnd, NewCall, NewMessage, NewStaff, NewToolAction, NewTurn};

use super::{open_shop, today};
use crate::call::CallServices;
use crate::config::Config;
use crate::dashboard::auth::{hash_password, random_token};
use crate::sessions::Sessions;

/// Runs the benchmark and returns its report.
///
/// # Errors
/// The speech model missing, the database, a page answering other than 200.
pub async fn run(config: &Config, calls: u32, iterations: u32) -> anyhow::Result<String> {
    let dir = tempfile::tempdir()?;
    let mut config = config.clone();
    config.database_url = format!("sqlite://{}", dir.path().join("bench.db").display());
    config.server.listen = "127.0.0.1:0".parse()?;
    config.server.public_url = crate::config::ServerConfig::default().public_url;
    config.server.validate_signatures = false;
    config.twilio = None;
    config.worker.enabled = false;
    let shop = open_shop(&config).await?;
    let now = Utc::now();
    let tz = shop.config().time_zone;
    seed_demo(&shop, SeedSize::default(), today(tz, now)).await?;
    let store = shop.store().clone();
    let jordan = store
        .customer_by_phone(&otto_core::domain::PhoneNumber::parse(DEMO_CUSTOMER_PHONE)?)
        .await?
        .context("the demo customer is missing")?;
    let mut first_call = None;
    for i in 0..calls {
        let started = now - Duration::seconds(i64::from(i) * 86_400 / i64::from(calls.max(1)));
        let call = store
            .start_call(&NewCall {
                call_sid: format!("CA{:032x}", i),
                direction: CallDirection::Inbound,
                from: DEMO_CUSTOMER_PHONE.into(),
                to: shop.config().phone.to_string(),
                started_at: started,
                customer_id: Some(jordan.id),
            })
            .await?;
        first_call.get_or_insert(call.id);
        for t in 0..10u32 {
            let speaker = if t % 2 == 0 {
                Speaker::Agent
            } else {
                Speaker::Caller
            };
            store
                .append_turn(
                    call.id,
                    &NewTurn {
                        speaker,
                        text: "I'd like to book an oil change for Tuesday at nine.".into(),
                        at: started + Duration::seconds(i64::from(t) * 5),
                        interrupted: t == 4,
                        seq: None,
                        timings: (speaker == Speaker::Agent && t > 0).then_some(TurnTimings {
                            transcript_ms: 300 + t,
                            first_text_ms: 420 + t,
                            first_audio_ms: 560 + t,
                            first_frame_ms: 580 + t,
                        }),
                    },
                )
                .await?;
        }
        store
            .record_tool_action(&NewToolAction {
                call_id: call.id,
                at: started + Duration::seconds(30),
                tool: "book_appointment".into(),
                detail: "Booked oil change for Tuesday at 9:00 AM.".into(),
            })
            .await?;
        store
            .end_call(
                &call.call_sid,
                &CallEnd {
                    ended_at: started + Duration::seconds(55),
                    outcome: Some("booked".into()),
                    summary: Some("Booked oil change for Tuesday at 9:00 AM.".into()),
                    customer_id: Some(jordan.id),
                },
            )
            .await?;
    }
    for i in 0..20 {
        store
            .create_message(&NewMessage {
                call_id: first_call,
                customer_id: Some(jordan.id),
                from_phone: DEMO_CUSTOMER_PHONE.into(),
                caller_name: Some(jordan.name.clone()),
                body: format!("Please call me back about the quote ({i})."),
                created_at: now - Duration::minutes(i),
            })
            .await?;
    }
    let password = random_token(15);
    store
        .create_staff(&NewStaff {
            name: "bench".into(),
            role: StaffRole::Owner,
            password_hash: hash_password(&password)?,
        })
        .await?;
    let appointment = store
        .active_appointments_between(now - Duration::days(30), now + Duration::days(30))
        .await?
        .first()
        .map(|a| a.id)
        .context("the seed has no appointment")?;

    let services = Arc::new(
        CallServices::from_config(&config, shop.clone(), Sessions::from_url("", 3_600, 500)?)
            .context(
                "starting the speech engines (run `otto models fetch` if the model is missing)",
            )?,
    );
    let server = crate::server::spawn(config, services).await?;
    let base = server.url();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let cookie = sign_in(&http, &base, &password).await?;

    let pages = [
        "/".to_string(),
        "/appointments".into(),
        "/appointments?q=smith".into(),
        format!("/appointments/{appointment}"),
        "/customers?q=smith".into(),
        format!("/customers/{}", jordan.id),
        "/calls".into(),
        format!("/calls/{}", first_call.unwrap_or(1)),
        "/messages".into(),
        "/live".into(),
        "/performance".into(),
    ];
    let mut out = format!(
        "Dashboard pages over HTTP (loopback, SQLite, demo seed, {calls} calls with 10 turns, \
         20 messages), {iterations} requests each:\n\n| page | p50 ms | p99 ms | max ms |\n|---|---|---|---|\n"
    );
    let mut worst_p99 = 0.0_f64;
    for page in &pages {
        let mut times = Vec::new();
        for _ in 0..iterations {
            let t = Instant::now();
            let r = http
                .get(format!("{base}{page}"))
                .header(reqwest::header::COOKIE, &cookie)
                .send()
                .await?;
            if r.status() != reqwest::StatusCode::OK {
                bail!("{page} answered {}", r.status());
            }
            r.bytes().await?;
            times.push(t.elapsed());
        }
        let max = times.iter().max().map_or(0.0, |d| d.as_secs_f64() * 1e3);
        let Latency {
            p50_ms: p50,
            p99_ms: p99,
            ..
        } = Latency::from_durations(times);
        worst_p99 = worst_p99.max(p99);
        writeln!(out, "| `{page}` | {p50:.1} | {p99:.1} | {max:.1} |")?;
    }
    writeln!(out, "\nslowest page p99: {worst_p99:.1} ms")?;
    server.shutdown().await?;
    tokio::time::sleep(StdDuration::from_millis(50)).await;
    Ok(out)
}

/// Signs in as `bench`; returns the `Cookie` header value of the session.
async fn sign_in(http: &reqwest::Client, base: &str, password: &str) -> anyhow::Result<String> {
    let login = http.get(format!("{base}/login")).send().await?;
    let login_cookie = login
        .headers()
        .get(reqwest::header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .context("no login cookie")?
        .to_string();
    let token = login_cookie
        .split_once('=')
        .map(|(_, v)| v.to_string())
        .unwrap_or_default();
    let body: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("name", "bench")
        .append_pair("password", password)
        .append_pair("csrf", &token)
        .finish();
    let r = http
        .post(format!("{base}/login"))
        .header(reqwest::header::COOKIE, &login_cookie)
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body(body)
        .send()
        .await?;
    r.headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("otto_session="))
        .and_then(|v| v.split(';').next())
        .map(str::to_string)
        .context("signing in failed")
}
