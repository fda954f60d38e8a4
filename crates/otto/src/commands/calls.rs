//! `otto calls list` and `otto calls show ID`: the call log from the command line, as the
//! dashboard's Calls pages show it (times in the shop's zone).

use anyhow::bail;
use chrono::Duration;
use otto_core::records::Speaker;
use otto_store::CallQuery;

use super::open_shop;
use crate::cli::CallsCommand;
use crate::config::Config;
use crate::dashboard::view;

/// Runs a `calls` subcommand.
///
/// # Errors
/// The database; an unknown call id.
pub async fn run(config: &Config, cmd: CallsCommand) -> anyhow::Result<()> {
    let shop = open_shop(config).await?;
    let tz = shop.config().time_zone;
    let store = shop.store();
    match cmd {
        CallsCommand::List {
            date,
            outcome,
            limit,
            json,
        } => {
            let query = CallQuery {
                since: date.map(|d| view::day_start(d, tz)),
                until: date.map(|d| view::day_start(d + Duration::days(1), tz)),
                outcome,
                customer_id: None,
                limit,
            };
            let calls = store.calls(&query).await?;
            if json {
                super::print_json(&calls)?;
                return Ok(());
            }
            if calls.is_empty() {
                println!("no calls");
            }
            for c in calls {
                println!(
                    "{:>6}  {}  {:<16} {:>12}  {}",
                    c.id,
                    view::date_time(c.started_at, tz),
                    c.from,
                    view::duration(c.duration_secs),
                    c.outcome.as_deref().unwrap_or("–")
                );
            }
        }
        CallsCommand::Show { id } => {
            let Some(record) = store.call_with_turns(id).await? else {
                bail!("no call #{id}: see `otto calls list`");
            };
            let c = &record.call;
            println!("call #{} {}", c.id, c.call_sid);
            println!("  from {} to {}", c.from, c.to);
            println!(
                "  {} · {} · {}",
                view::date_time(c.started_at, tz),
                view::duration(c.duration_secs),
                c.outcome.as_deref().unwrap_or("no outcome")
            );
            if let Some(s) = &c.summary {
                println!("  {s}");
            }
            let mut lines: Vec<(chrono::DateTime<chrono::Utc>, u8, String)> = record
                .turns
                .iter()
                .map(|t| {
                    let who = match t.speaker {
                        Speaker::Caller => "Caller",
                        Speaker::Agent => "Otto  ",
                    };
                    let cut = if t.interrupted { " [interrupted]" } else { "" };
                    let latency = t.timings.map_or_else(String::new, |l| {
                        format!(" ({} ms to first audio)", l.first_frame_ms)
                    });
                    (t.at, 1, format!("  {who}: {}{cut}{latency}", t.text))
                })
                .collect();
            lines.extend(
                record
                    .actions
                    .iter()
                    .map(|a| (a.at, 0, format!("  [{}] {}", a.tool, a.detail))),
            );
            lines.sort_by_key(|(at, rank, _)| (*at, *rank));
            for (_, _, line) in lines {
                println!("{line}");
            }
        }
    }
    Ok(())
}
