//! `otto call`: a simulated phone call to a running Otto through `otto_twilio::sim`, which
//! behaves like Twilio (signed webhook, `<Connect><Stream>`, media in real time, marks echoed
//! at playback, `clear` honoured). The caller's lines are synthesised with the local voice.
//! What Otto said is printed as the caller heard it: its audio, cut into replies at pauses
//! and transcribed with the local Whisper model when that is installed. Also used by
//! `otto demo`.

use std::time::Duration;

use anyhow::Context;
use otto_core::speech::mulaw;
use otto_speech::stt::whisper::{WhisperModel, WhisperSettings};
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
    let record = run_call(&sim, caller)
        .await
        .with_context(|| format!("the simulated call to Otto at {}", args.url))?;
    print!("{}", summary(&record, &args.lines));
    print!("{}", heard(config, &record).await);
    if let Some(path) = args.save {
        record.save_wav(&path)?;
        println!("saved both sides to {}", path.display());
    }
    Ok(())
}

/// Bytes per 20 ms μ-law frame at 8 kHz.
const FRAME_BYTES: usize = 160;
/// A pause at least this long (in 20 ms frames: 700 ms) ends one of Otto's replies.
const REPLY_GAP_FRAMES: usize = 35;
/// A frame whose loudest sample is below this (16-bit PCM) is silence.
const QUIET_PEAK: u16 = 200;

/// Otto's replies in the audio the caller heard: `(offset from the stream's first frame,
/// μ-law 8 kHz audio)`, split at pauses of 700 ms or more. Sentence pauses inside a reply are
/// shorter; the caller speaking in between makes the gap between replies longer.
pub fn replies(played: &[u8]) -> Vec<(Duration, &[u8])> {
    let loud = |frame: &[u8]| {
        frame
            .iter()
            .any(|&b| mulaw::decode(b).unsigned_abs() >= QUIET_PEAK)
    };
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    let mut last_loud = 0;
    for (i, frame) in played.chunks(FRAME_BYTES).enumerate() {
        if loud(frame) {
            start.get_or_insert(i);
            last_loud = i;
        } else if let Some(s) = start
            && i - last_loud >= REPLY_GAP_FRAMES
        {
            out.push((s, last_loud));
            start = None;
        }
    }
    if let Some(s) = start {
        out.push((s, last_loud));
    }
    out.into_iter()
        .map(|(s, e)| {
            let end = ((e + 1) * FRAME_BYTES).min(played.len());
            (
                Duration::from_millis(s as u64 * 20),
                &played[s * FRAME_BYTES..end],
            )
        })
        .collect()
}

/// What Otto said, as the caller heard it: each reply transcribed with the local Whisper
/// model, one line per reply with its offset from the stream's first frame. Without the model
/// (or when it fails) the lines say so instead; this never fails the call.
pub async fn heard(config: &Config, record: &SimRecord) -> String {
    let path = config.whisper_model();
    let played = record.played_audio.clone();
    let result = tokio::task::spawn_blocking(move || {
        let model = WhisperModel::load(&path, WhisperSettings::default())?;
        replies(&played)
            .into_iter()
            .map(|(at, audio)| Ok((at, model.transcribe_mulaw(audio)?.text)))
            .collect::<Result<Vec<_>, otto_core::speech::SpeechError>>()
    })
    .await;
    let mut out = String::from("\nWhat Otto said, as the caller heard it:\n");
    match result {
        Ok(Ok(lines)) if lines.is_empty() => out.push_str("  (nothing)\n"),
        Ok(Ok(lines)) => {
            for (at, text) in lines {
                out.push_str(&format!(
                    "{:7.2} s  Otto: {}\n",
                    at.as_secs_f64(),
                    text.trim()
                ));
            }
        }
        Ok(Err(e)) => out.push_str(&format!("  (not transcribed: {e})\n")),
        Err(e) => out.push_str(&format!("  (not transcribed: {e})\n")),
    }
    out
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

#[cfg(test)]
mod tests {
    use super::*;

    /// μ-law for a loud sample and for silence.
    const LOUD: u8 = 0x00;
    const QUIET: u8 = 0xFF;

    fn frames(code: u8, n: usize) -> Vec<u8> {
        vec![code; n * FRAME_BYTES]
    }

    #[test]
    fn replies_split_at_long_pauses_only() {
        let mut played = frames(QUIET, 10);
        played.extend(frames(LOUD, 50)); // reply 1 at 200 ms
        played.extend(frames(QUIET, 20)); // a 400 ms sentence pause: same reply
        played.extend(frames(LOUD, 30));
        played.extend(frames(QUIET, 100)); // the caller's turn
        played.extend(frames(LOUD, 5)); // reply 2 at 4.2 s, cut off by the end
        let got = replies(&played);
        assert_eq!(
            got.len(),
            2,
            "{:?}",
            got.iter().map(|r| r.0).collect::<Vec<_>>()
        );
        assert_eq!(got[0].0, Duration::from_millis(200));
        assert_eq!(got[0].1.len(), 100 * FRAME_BYTES);
        assert_eq!(got[1].0, Duration::from_millis(4_200));
        assert_eq!(got[1].1.len(), 5 * FRAME_BYTES);
        assert!(replies(&frames(QUIET, 100)).is_empty());
        assert!(replies(&[]).is_empty());
    }
}
