//! `otto demo`: the main job on a fresh machine, end to end with no keys and no network.
//!
//! It migrates the store and seeds the demo shop (once), starts Otto on a loopback port with
//! the local speech engines and the rule-based dialogue (or the LLM, when configured), and
//! places a simulated phone call: the demo customer asks, in synthesised speech heard by the
//! local recogniser, for an oil change at a free time, and confirms. It then prints the
//! conversation from the call log and the appointment now in the database.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use anyhow::{Context, bail};
use chrono::{DateTime, Datelike, Duration, Timelike, Utc, Weekday};
use otto_shop::Shop;
use otto_shop::seed::{DEMO_CUSTOMER_PHONE, SeedSize, seed_demo};

use super::{appointment_line, open_shop, today};
use crate::call::CallServices;
use crate::config::Config;
use crate::sessions::Sessions;

/// Free oil-change slots on the hour, 2 to 6 days ahead on weekdays (so a weekday name is
/// unambiguous), between 9 a.m. and 4 p.m. outside lunch, in time order: each as its start and
/// the way a caller says it ("Wednesday at 2 p.m.").
///
/// # Errors
/// A store error.
pub async fn speakable_slots(
    shop: &Shop,
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<(DateTime<Utc>, String)>> {
    let tz = shop.config().time_zone;
    let first = today(tz, now);
    let mut found = Vec::new();
    for ahead in 2..=6 {
        let day = first + Duration::days(ahead);
        if matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
            continue;
        }
        for s in shop.free_slots("oil change", day, day, now).await? {
            let local = s.start.with_timezone(&tz);
            let hour = local.hour();
            if local.minute() == 0 && (9..=16).contains(&hour) && hour != 12 {
                let (h12, half) = if hour > 12 {
                    (hour - 12, "p.m.")
                } else {
                    (hour, "a.m.")
                };
                found.push((s.start, format!("{} at {h12} {half}", local.format("%A"))));
            }
        }
    }
    Ok(found)
}

/// The first of [`speakable_slots`].
///
/// # Errors
/// A store error, or no such slot in the coming week.
pub async fn speakable_slot(
    shop: &Shop,
    now: DateTime<Utc>,
) -> anyhow::Result<(DateTime<Utc>, String)> {
    speakable_slots(shop, now)
        .await?
        .into_iter()
        .next()
        .context("the shop has no free oil-change slot on the hour in the coming week")
}

/// Runs the demo.
///
/// # Errors
/// Store, speech model (run `otto models fetch`), server or call failures.
pub async fn run(config: &Config) -> anyhow::Result<()> {
    let shop = open_shop(config).await?;
    let now = Utc::now();
    let tz = shop.config().time_zone;
    let report = seed_demo(&shop, SeedSize::default(), today(tz, now)).await?;
    println!("{} — {report}", shop.config().name);

    // Otto on a loopback port, signature validation off: the simulator is the only caller.
    let mut server_config = config.clone();
    server_config.server.listen = "127.0.0.1:0".parse()?;
    server_config.server.public_url = crate::config::ServerConfig::default().public_url;
    server_config.server.validate_signatures = false;
    server_config.twilio = None;
    let calls = Arc::new(
        CallServices::from_config(
            &server_config,
            shop.clone(),
            Sessions::from_url("", 3_600, 500)?,
        )
        .context("starting the speech engines (run `otto models fetch` if the model is missing)")?,
    );
    let server = crate::server::spawn(server_config, calls).await?;

    let (start, when) = speakable_slot(&shop, now).await?;
    let lines = vec![
        format!("Hi, I'd like to book an oil change on {when}"),
        "Yes, please.".to_string(),
        "No, that's all. Thank you, goodbye.".to_string(),
    ];
    println!(
        "\nPlacing a simulated call from {} to Otto at {} (real time, about a minute)…\n",
        DEMO_CUSTOMER_PHONE,
        server.url()
    );
    let sim = super::call::sim_config(config, &server.url(), DEMO_CUSTOMER_PHONE);
    let steps = super::call::script(&lines, config.speech.voice.parse()?)?;
    let record = otto_twilio::sim::run_call(&sim, otto_twilio::sim::CallerAudio::script(steps))
        .await
        .context("the simulated call")?;
    print!("{}", super::call::summary(&record, &lines));
    let wav = config.data_dir.join("demo-call.wav");
    if record.save_wav(&wav).is_ok() {
        println!("(both sides saved to {})", wav.display());
    }
    // Let the call runner finish writing the call log.
    server.shutdown().await?;
    tokio::time::sleep(StdDuration::from_millis(100)).await;

    let store = shop.store();
    println!("\nConversation, as committed to the call log:");
    let log = store.call_by_sid(record.call_sid.as_str()).await?;
    let call = match log {
        Some(log) => store.call_with_turns(log.id).await?,
        None => None,
    };
    let call_id = call.as_ref().map(|c| c.call.id);
    if let Some(call) = call {
        for turn in &call.turns {
            let who = match turn.speaker {
                otto_core::records::Speaker::Caller => "Caller",
                otto_core::records::Speaker::Agent => "Otto  ",
            };
            let cut = if turn.interrupted {
                " [interrupted]"
            } else {
                ""
            };
            println!("  {who}: {}{cut}", turn.text);
        }
        println!(
            "  outcome: {}",
            call.call.outcome.as_deref().unwrap_or("none recorded")
        );
    }
    let phone = otto_core::domain::PhoneNumber::parse(DEMO_CUSTOMER_PHONE)?;
    let customer = store
        .customer_by_phone(&phone)
        .await?
        .context("the demo customer is missing")?;
    let booked: Vec<_> = shop
        .upcoming(customer.id, Utc::now())
        .await?
        .into_iter()
        .filter(|a| a.start == start)
        .collect();
    match booked.first() {
        Some(a) => println!("\nIn the database now: {}", appointment_line(&shop, a)),
        None => bail!("the call did not book the {when} oil change; see the conversation above"),
    }
    dashboard_login(config, &shop, call_id).await
}

/// Prints the dashboard's address and a one-time login: the account `demo` (an owner), with a
/// new random password each run.
async fn dashboard_login(
    config: &Config,
    shop: &Shop,
    call_id: Option<otto_core::records::Id>,
) -> anyhow::Result<()> {
    let password = crate::dashboard::auth::random_token(15);
    let hash = crate::dashboard::auth::hash_password(&password)?;
    let store = shop.store();
    if store.staff_account(DEMO_STAFF).await?.is_some() {
        store.set_staff_password(DEMO_STAFF, &hash).await?;
    } else {
        store
            .create_staff(&otto_store::NewStaff {
                name: DEMO_STAFF.into(),
                role: otto_core::records::StaffRole::Owner,
                password_hash: hash,
            })
            .await?;
    }
    let base = config.server.public_url.trim_end_matches('/');
    let page = call_id.map_or_else(|| format!("{base}/"), |id| format!("{base}/calls/{id}"));
    println!(
        "\nThe dashboard: run `./target/debug/otto serve`, open {page} and sign in as \
         {DEMO_STAFF} with the password {password}\n(made for this demo; the next demo run \
         replaces it. Add your own accounts with `otto staff add NAME --role owner`.)"
    );
    Ok(())
}

/// The dashboard account the demo signs in with.
const DEMO_STAFF: &str = "demo";
