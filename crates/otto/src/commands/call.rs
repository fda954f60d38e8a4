//! `otto call`: a simulated phone call to a running Otto through `otto_twilio::sim`, which
//! behaves like Twilio (signed webhook, `<Connect><Stream>`, media in real time, marks echoed
//! at playback, `clear` honoured). The caller's lines are synthesised with the local voice.
//! Also used by `otto demo`.

use std::time::Duration;

use anyhow::Context;
use otto_speech::tts::flite::Voice;
use otto_speech::tts::local::synthesize_mulaw;
use otto_twilio::AccountSid;
use otto_twilio::sim::{CallerAudio, CallerStep, SimConfig, SimEvent, SimRecord, run_call};
use secrecy::SecretString;
use tokio::io::AsyncBufReadExt;

use crate::cli::CallArgs;
use crate::config::Config;

/// How long the caller waits for Otto to finish a reply.
fn wait_for_reply() -> CallerStep {
    CallerStep::WaitForReply {
        quiet: Duration::from_millis(1_500),
        max: Duration::from_secs(60),
    }
}

/// The caller speaking `text` with `voice`.
///
/// # Errors
/// flite failing to synthesise.
pub fn speak(text: &str, voice: Voice) -> anyhow::Result<CallerStep> {
    Ok(CallerStep::Speak(
        synthesize_mulaw(text, voice).context("synthesising the caller's line")?,
    ))
}

/// A script: wait for the greeting, then each line followed by waiting for the reply.
///
/// # Errors
/// flite failing to synthesise a line.
pub fn script(lines: &[String], voice: Voice) -> anyhow::Result<Vec<CallerStep>> {
    let mut steps = vec![wait_for_reply()];
    for line in lines {
        steps.push(speak(line, voice)?);
        steps.push(wait_for_reply());
    }
    Ok(steps)
}

/// The simulator's settings for calling `url` as `from`, signing with the configured Twilio
/// credentials (or placeholders, for a server with signature validation off).
pub fn sim_config(config: &Config, url: &str, from: &str) -> SimConfig {
    let (sid, token) = match &config.twilio {
        Some(t) => (t.account_sid.clone(), t.auth_token.clone()),
        None => (
            AccountSid::random(),
            SecretString::from("unsigned-local-call"),
        ),
    };
    SimConfig::new(url, sid, token, from, config.shop.phone.as_str())
}

/// Runs `otto call`.
///
/// # Errors
/// The webhook or media stream failing, or flite failing.
pub async fn run(config: &Config, args: CallArgs) -> anyhow::Result<()> {
    let voice: Voice = config.speech.voice.parse()?;
    let sim = sim_config(config, &args.url, &args.from);
    let caller = if args.lines.is_empty() {
        eprintln!("Type what the caller says, one line at a time; end with Ctrl-D.");
        let (tx, caller) = CallerAudio::live(16);
        tokio::spawn(async move {
            let _ = tx.send(wait_for_reply()).await;
            let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let line = line.trim().to_string();
                if line.is_empty() {
                    continue;
                }
                match speak(&line, voice) {
                    Ok(step) => {
                        if tx.send(step).await.is_err() {
                            break;
                        }
                    }
                    Err(e) => eprintln!("{e:#}"),
                }
            }
            let _ = tx.send(wait_for_reply()).await;
        });
        caller
    } else {
        CallerAudio::script(script(&args.lines, voice)?)
    };
    let record = run_call(&sim, caller).await.context("the simulated call")?;
    print!("{}", summary(&record, &args.lines));
    if let Some(path) = args.save {
        record.save_wav(&path)?;
        println!("saved both sides to {}", path.display());
    }
    Ok(())
}

/// The call as a person reads it: when the caller spoke which line, when Otto spoke, and any
/// barge-ins, with times from the start of the call.
pub fn summary(record: &SimRecord, lines: &[String]) -> String {
    let mut out = format!("call {}\n", record.call_sid.as_str());
    for e in &record.events {
        let t = e.at.as_secs_f64();
        let line = match &e.event {
            SimEvent::CallerSpeechStarted { step } => {
                // Steps alternate wait / speak, so speak step 2k+1 is line k.
                let text = lines
                    .get(step.saturating_sub(1) / 2)
                    .map_or("", String::as_str);
                format!("{t:7.2} s  caller: {text}")
            }
            SimEvent::PlaybackStarted => format!("{t:7.2} s  Otto starts speaking"),
            SimEvent::PlaybackIdle => format!("{t:7.2} s  Otto stops speaking"),
            SimEvent::ClearReceived { dropped } => format!(
                "{t:7.2} s  barge-in: Otto cleared {:.1} s of queued audio",
                dropped.as_secs_f64()
            ),
            SimEvent::ProtocolError { detail } => format!("{t:7.2} s  protocol error: {detail}"),
            SimEvent::HungUp => format!("{t:7.2} s  caller hangs up"),
            SimEvent::ServerClosed => format!("{t:7.2} s  Otto ends the call"),
            _ => continue,
        };
        out.push_str(&line);
        out.push('\n');
    }
    out
}
