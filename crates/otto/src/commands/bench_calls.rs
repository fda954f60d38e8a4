//! `otto bench calls`: many simultaneous simulated phone calls against a real `otto serve`,
//! with every vendor replaced by a local fake that answers after a fixed delay, so what is
//! left of each turn's latency is what Otto adds.
//!
//! How a run goes (Linux only: CPU and memory are read from `/proc`):
//! 1. The Deepgram STT and TTS fakes and the Twilio REST fake start in this process on
//!    127.0.0.1. The STT fake transcribes each burst of caller "speech" (a loud tone) on a
//!    connection as the next line of [`SCRIPT`] after `endpointing` ms of silence plus the STT
//!    delay; the TTS fake answers each flush after the TTS delay with 60 ms of audio per
//!    character, all at once (faster than real time, as Deepgram does).
//! 2. A temporary SQLite database is seeded with the demo shop, and `otto serve` is started as
//!    a child process (this same binary) configured to use those fakes, with signature
//!    validation on and room for every call.
//! 3. `concurrency` calls are placed by the Twilio simulator (`otto_twilio::sim`), evenly over
//!    the ramp, each from its own number and in real time: the caller waits 1.5 s into the
//!    greeting and talks over it (a barge-in), asks two questions and says goodbye, waiting for
//!    each reply. Calls last about 20 s, so with the default ramp all are live at once.
//! 4. While calls run, Otto's resident memory and its `otto_calls_active` gauge are sampled
//!    every 250 ms; Otto's CPU time is read before and after.
//! 5. With `batches` > 1 (a soak run), steps 3–4 repeat that many rounds, the same numbers
//!    calling again (the per-caller and per-IP rate limits are raised for the run: every
//!    call comes from 127.0.0.1), and Otto's memory is
//!    read after each round; latency figures come from the first round.
//!
//! With `--local` (the embedded default) there are no speech fakes: the caller speaks each
//! line of [`SCRIPT`] with flite after Otto's reply (no barge-in), Otto hears it with the
//! local whisper recogniser and answers with flite, and the turn latency is the whole
//! voice-to-voice time.
//!
//! What is reported ([`CallBenchReport`]):
//! - turn latency: the caller's last frame of speech sent → the first frame of Otto's reply
//!   received, as the simulator (Twilio) sees it; *added by Otto* is that minus the fakes'
//!   fixed delays (endpointing + STT delay + TTS first-byte delay). The fakes' own work and
//!   both loopback hops count against Otto, so the figure is an upper bound.
//! - clear latency: the caller's first frame over the greeting sent → `clear` received.
//! - late frames: reply frames that reached the simulator after its playback queue had run
//!   dry in the middle of a reply (an audible gap); frames Otto dropped (its
//!   `otto_outbound_frames_dropped_total` and `otto_stt_frames_dropped_total` counters).
//! - Otto's CPU (cores used over the run) and memory per call ((RSS at the sample with the
//!   most active calls − RSS when idle) / those calls).

use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::Utc;
use otto_core::stats::Latency;
use otto_fakes::deepgram::{FakeDeepgramStt, FakeDeepgramTts};
use otto_fakes::twilio::FakeTwilioRest;
use otto_shop::seed::{SeedSize, seed_demo};
use otto_twilio::AccountSid;
use otto_twilio::sim::{CallerAudio, CallerStep, SimConfig, SimEvent, SimRecord, run_call};
use secrecy::SecretString;
use tokio::process::{Child, Command};

use super::{open_shop, today};
use crate::config::Config;

/// What each caller says, one line per burst of speech, as the STT fake transcribes it. The
/// first line is spoken over the greeting.
pub const SCRIPT: [&str; 3] = [
    "What time do you open on Saturday?",
    "How much is an oil change?",
    "That's all, thank you. Goodbye.",
];
/// Audio the TTS fake makes per character, bytes of μ-law (60 ms: a talking pace).
const TTS_BYTES_PER_CHAR: usize = 480;
/// How long into the call the caller starts talking over the greeting.
const BARGE_IN_AT: Duration = Duration::from_millis(1_500);
/// The step index (in the caller script) of the speech over the greeting.
const BARGE_IN_STEP: usize = 1;
/// The fakes' API key and auth token (they are local fakes; nothing secret).
const FAKE_KEY: &str = "bench-fake-key";

/// How to run the benchmark.
#[derive(Debug, Clone)]
pub struct CallBenchOptions {
    /// Calls to place (1..=5000).
    pub calls: usize,
    /// The calls start evenly over this long.
    pub ramp: Duration,
    /// Silence after speech before the STT fake finalises, ms (sent as Deepgram
    /// `endpointing`).
    pub endpointing_ms: u32,
    /// The STT fake's delay before each utterance's results.
    pub stt_delay: Duration,
    /// The TTS fake's delay before the first audio of each flush.
    pub tts_delay: Duration,
    /// Rounds of `calls` calls, one after another (1..=1000); more than one makes a soak
    /// run, with Otto's memory read after each round.
    pub batches: usize,
    /// The embedded default's speech (local whisper and flite) instead of the Deepgram
    /// fakes: the caller speaks [`SCRIPT`] with flite, without talking over the greeting,
    /// and the fakes' delays do not apply (the baseline is 0).
    pub local: bool,
    /// Otto's `call.early_endpointing_ms` for the run, ms (0: off, the recogniser's
    /// endpointing alone ends each turn).
    pub early_endpointing_ms: u32,
}

impl CallBenchOptions {
    /// The fakes' fixed delay in every turn: endpointing + STT delay + TTS first byte.
    pub fn baseline(&self) -> Duration {
        if self.local {
            return Duration::ZERO;
        }
        Duration::from_millis(u64::from(self.endpointing_ms)) + self.stt_delay + self.tts_delay
    }
}

/// What the benchmark measured; `Display` prints it for a person.
#[derive(Debug, Clone)]
pub struct CallBenchReport {
    /// The options it ran with.
    pub options: CallBenchOptions,
    /// What the simulator saw on the calls.
    pub calls: CallsSummary,
    /// Frames Otto dropped towards Twilio (`otto_outbound_frames_dropped_total`).
    pub dropped_outbound: u64,
    /// Caller frames Otto dropped towards the STT (`otto_stt_frames_dropped_total`).
    pub dropped_stt: u64,
    /// Wall time from the first call placed to the last call ended.
    pub wall: Duration,
    /// Otto's CPU time over `wall`.
    pub otto_cpu: Duration,
    /// This process's CPU time (simulator and fakes) over `wall`.
    pub bench_cpu: Duration,
    /// Otto's resident memory before the calls, bytes.
    pub rss_idle: u64,
    /// Otto's resident memory at the sample with the most active calls, bytes.
    pub rss_busy: u64,
    /// The most calls Otto reported active at once (`otto_calls_active`, sampled every
    /// 250 ms).
    pub busy_calls: u64,
    /// After each round: (calls placed so far, calls completed in that round, Otto's RSS in
    /// bytes once the round's calls had ended).
    pub rounds: Vec<(usize, usize, u64)>,
}

/// The simulator's figures over every call (Twilio's side of the calls).
#[derive(Debug, Clone)]
pub struct CallsSummary {
    /// Calls that ran to the end with every reply heard and no protocol error.
    pub completed: usize,
    /// What went wrong in the others (at most one line per call).
    pub problems: Vec<String>,
    /// Caller speech end → first reply frame, as Twilio sees it.
    pub turn: Latency,
    /// `turn` minus the fakes' fixed delays, ms.
    pub added: Latency,
    /// Caller speech start over the greeting → `clear` received.
    pub clear: Latency,
    /// Reply frames received.
    pub frames: usize,
    /// Reply frames that arrived after playback had run dry mid-reply.
    pub late_frames: usize,
}

impl CallBenchReport {
    /// Memory per live call, bytes: (busy RSS − idle RSS) / calls active then.
    pub fn bytes_per_call(&self) -> u64 {
        self.rss_busy.saturating_sub(self.rss_idle) / self.busy_calls.max(1)
    }
}

impl std::fmt::Display for CallBenchReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const MIB: f64 = 1024.0 * 1024.0;
        let o = &self.options;
        let wall = self.wall.as_secs_f64().max(1e-9);
        writeln!(
            f,
            "call benchmark: {} calls over a {:.1} s ramp against `otto serve`, {}",
            o.calls,
            o.ramp.as_secs_f64(),
            if o.local {
                "local speech and the Twilio fake"
            } else {
                "Deepgram and Twilio fakes"
            }
        )?;
        if o.local {
            writeln!(
                f,
                "  speech                     local whisper and flite (no fakes): turn latency is voice-to-voice"
            )?;
        } else {
            writeln!(
                f,
                "  fake delays per turn       endpointing {} ms + STT {} ms + TTS first byte {} ms = {} ms",
                o.endpointing_ms,
                o.stt_delay.as_millis(),
                o.tts_delay.as_millis(),
                o.baseline().as_millis()
            )?;
        }
        writeln!(
            f,
            "  early endpointing          {}",
            match o.early_endpointing_ms {
                _ if o.local => "not with local speech (whisper)".to_owned(),
                0 => "off".to_owned(),
                ms => format!("after {ms} ms of silence"),
            }
        )?;
        writeln!(
            f,
            "  calls completed            {} of {} (peak {} active in Otto)",
            self.calls.completed, o.calls, self.busy_calls
        )?;
        let line = |f: &mut std::fmt::Formatter<'_>, name: &str, l: &Latency, what: &str| {
            writeln!(
                f,
                "  {name:<26} mean {:>7.1} ms   p50 {:>7.1} ms   p99 {:>7.1} ms   ({} {what})",
                l.mean_ms, l.p50_ms, l.p99_ms, l.samples
            )
        };
        line(f, "turn latency", &self.calls.turn, "turns")?;
        // Negative: faster than the fakes' delays add up to (early endpointing).
        line(f, "added by Otto", &self.calls.added, "turns")?;
        line(
            f,
            "clear after speech start",
            &self.calls.clear,
            "barge-ins",
        )?;
        writeln!(
            f,
            "  late frames                {} of {} received; dropped by Otto: {} towards Twilio, {} towards STT",
            self.calls.late_frames, self.calls.frames, self.dropped_outbound, self.dropped_stt
        )?;
        writeln!(
            f,
            "  Otto CPU                   {:.2} cores ({:.1} s over {:.1} s); simulator and fakes {:.2} cores",
            self.otto_cpu.as_secs_f64() / wall,
            self.otto_cpu.as_secs_f64(),
            wall,
            self.bench_cpu.as_secs_f64() / wall
        )?;
        writeln!(
            f,
            "  Otto memory                idle {:.1} MiB, {:.1} MiB with {} calls: {:.2} MiB per call",
            self.rss_idle as f64 / MIB,
            self.rss_busy as f64 / MIB,
            self.busy_calls,
            self.bytes_per_call() as f64 / MIB
        )?;
        if self.rounds.len() > 1 {
            let first = self.rounds.first().map_or(0, |r| r.2);
            let mut peak_drift = 0.0_f64;
            for &(placed, completed, rss) in &self.rounds {
                let drift = (rss as f64 - first as f64) / (first as f64).max(1.0) * 100.0;
                peak_drift = peak_drift.max(drift.abs());
                writeln!(
                    f,
                    "  after {placed:>6} calls         {completed} of {} completed in the round; Otto RSS {:.1} MiB ({drift:+.1} % from the first round)",
                    o.calls,
                    rss as f64 / MIB
                )?;
            }
            writeln!(
                f,
                "  soak                       RSS within {peak_drift:.1} % of the first round's over {} calls",
                self.rounds.len() * o.calls
            )?;
        }
        for p in self.calls.problems.iter().take(10) {
            writeln!(f, "  problem: {p}")?;
        }
        if self.calls.problems.len() > 10 {
            writeln!(
                f,
                "  … and {} more problems",
                self.calls.problems.len() - 10
            )?;
        }
        Ok(())
    }
}

/// Runs the benchmark; see the module docs.
///
/// # Errors
/// Bad options, the fakes or the database failing to start, or `otto serve` not becoming
/// ready. Failed calls are not errors: they are counted in the report.
pub async fn run(options: CallBenchOptions) -> anyhow::Result<CallBenchReport> {
    if !(1..=5_000).contains(&options.calls) {
        bail!("calls must be 1..=5000, got {}", options.calls);
    }
    if !(1..=1_000).contains(&options.batches) {
        bail!("batches must be 1..=1000, got {}", options.batches);
    }
    super::raise_open_file_limit();
    let dir = tempfile::tempdir().context("a temporary directory")?;
    let stt = FakeDeepgramStt::start(FAKE_KEY).await;
    stt.script_each_connection(&SCRIPT);
    stt.send_interims_while_speaking();
    stt.set_response_delay(options.stt_delay);
    let tts = FakeDeepgramTts::start(FAKE_KEY).await;
    tts.set_bytes_per_char(TTS_BYTES_PER_CHAR);
    tts.set_first_byte_delay(options.tts_delay);
    let account_sid = AccountSid::random();
    let twilio = FakeTwilioRest::start(account_sid.as_str(), FAKE_KEY).await;

    // The demo shop, seeded here into the database the server will open.
    let model = std::path::absolute(Config::default().whisper_model())?;
    let script = if options.local {
        let lines: Vec<String> = SCRIPT.iter().map(|l| (*l).to_owned()).collect();
        super::call::script(&lines, Config::default().speech.voice.parse()?)?
    } else {
        caller_script()
    };
    let mut config = Config {
        data_dir: dir.path().to_path_buf(),
        ..Config::default()
    };
    config.speech.whisper_model = Some(model);
    let shop = open_shop(&config).await?;
    seed_demo(
        &shop,
        SeedSize::default(),
        today(shop.config().time_zone, Utc::now()),
    )
    .await?;
    drop(shop);

    let port = free_port()?;
    config.server.listen = ([127, 0, 0, 1], port).into();
    let url = format!("http://127.0.0.1:{port}");
    let config_file = dir.path().join("otto.toml");
    std::fs::write(
        &config_file,
        server_config(
            &config,
            &options,
            &url,
            &stt,
            &tts,
            &twilio.base_url(),
            &account_sid,
        ),
    )?;
    let mut otto = OttoProcess::start(&config_file, &dir.path().join("otto.log"), &url).await?;

    let http = reqwest::Client::new();
    let idle = otto.sample()?;
    let me = procfs::process::Process::myself()?;
    let bench_cpu_before = cpu_time(&me)?;

    // Sample memory and active calls while the calls run.
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = {
        let sampling = sampling.clone();
        let http = http.clone();
        let url = url.clone();
        let pid = otto.pid;
        tokio::spawn(async move {
            let mut peak = (0_u64, 0_u64); // (active calls, RSS)
            let process = procfs::process::Process::new(pid).ok();
            while sampling.load(Ordering::Acquire) {
                tokio::time::sleep(Duration::from_millis(250)).await;
                let active = scrape(&http, &url)
                    .await
                    .and_then(|m| metric_sum(&m, "otto_calls_active"))
                    .unwrap_or(0.0) as u64;
                let rss = process
                    .as_ref()
                    .and_then(|p| rss_bytes(p).ok())
                    .unwrap_or(0);
                if active > peak.0 || (active == peak.0 && rss > peak.1) {
                    peak = (active, rss);
                }
            }
            peak
        })
    };

    let started = Instant::now();
    // Rounds run one after another; the first round's calls are the report's figures, later
    // rounds only count completions (their records, audio included, are dropped at once).
    let mut first = None;
    let mut rounds = Vec::with_capacity(options.batches);
    for round in 0..options.batches {
        let records = place_calls(&options, &url, &account_sid, &script).await;
        let summary = summarise(&options, &records);
        drop(records);
        rounds.push((
            (round + 1) * options.calls,
            summary.completed,
            otto.sample()?.rss,
        ));
        first.get_or_insert(summary);
    }
    let wall = started.elapsed();
    let after = otto.sample()?;
    let bench_cpu = cpu_time(&me)?.saturating_sub(bench_cpu_before);
    sampling.store(false, Ordering::Release);
    let (busy_calls, rss_busy) = sampler.await.unwrap_or((0, 0));
    let metrics = scrape(&http, &url).await.unwrap_or_default();
    otto.stop().await;

    let dropped = |name| metric_sum(&metrics, name).unwrap_or(0.0) as u64;
    Ok(CallBenchReport {
        calls: first.unwrap_or_else(|| summarise(&options, &[])),
        options,
        dropped_outbound: dropped("otto_outbound_frames_dropped_total"),
        dropped_stt: dropped("otto_stt_frames_dropped_total"),
        wall,
        otto_cpu: after.cpu.saturating_sub(idle.cpu),
        bench_cpu,
        rss_idle: idle.rss,
        rss_busy,
        busy_calls,
        rounds,
    })
}

/// One round: `options.calls` calls started evenly over the ramp; their records in order.
async fn place_calls(
    options: &CallBenchOptions,
    url: &str,
    account_sid: &AccountSid,
    script: &[CallerStep],
) -> Vec<Result<SimRecord, String>> {
    let calls: Vec<_> = (0..options.calls)
        .map(|i| {
            let sim = sim_config(url, account_sid, i);
            let at = options.ramp.mul_f64(i as f64 / options.calls as f64);
            let script = script.to_vec();
            tokio::spawn(async move {
                tokio::time::sleep(at).await;
                run_call(&sim, CallerAudio::script(script)).await
            })
        })
        .collect();
    let mut records = Vec::with_capacity(calls.len());
    for call in calls {
        records.push(match call.await {
            Ok(r) => r.map_err(|e| e.to_string()),
            Err(e) => Err(format!("simulator task failed: {e}")),
        });
    }
    records
}

/// The caller's side of every call (see the module docs).
fn caller_script() -> Vec<CallerStep> {
    let wait = || CallerStep::WaitForReply {
        quiet: Duration::from_millis(800),
        max: Duration::from_secs(20),
    };
    vec![
        CallerStep::Silence(BARGE_IN_AT),
        CallerStep::Speak(tone(Duration::from_millis(900))),
        wait(),
        CallerStep::Speak(tone(Duration::from_millis(800))),
        wait(),
        CallerStep::Speak(tone(Duration::from_millis(700))),
        wait(),
    ]
}

/// A loud 1 kHz square wave, μ-law 8 kHz: what the STT fake takes for speech.
fn tone(length: Duration) -> Vec<u8> {
    const WAVE: [u8; 8] = [0x1F, 0x1F, 0x1F, 0x1F, 0x9F, 0x9F, 0x9F, 0x9F];
    let bytes = (length.as_millis() * 8) as usize;
    WAVE.iter().copied().cycle().take(bytes).collect()
}

/// The simulator config of call `i`: its own caller number, real time.
fn sim_config(url: &str, account_sid: &AccountSid, i: usize) -> SimConfig {
    let mut c = SimConfig::new(
        url,
        account_sid.clone(),
        SecretString::from(FAKE_KEY),
        format!("+1555555{:04}", 1_000 + i),
        Config::default().shop.phone.to_string(),
    );
    c.max_call = Duration::from_secs(90);
    c.connect_timeout = Duration::from_secs(30);
    c
}

/// The `otto serve` configuration file for the run.
fn server_config(
    config: &Config,
    options: &CallBenchOptions,
    url: &str,
    stt: &FakeDeepgramStt,
    tts: &FakeDeepgramTts,
    twilio_url: &str,
    account_sid: &AccountSid,
) -> String {
    let toml_str = |s: &str| toml::Value::String(s.to_owned()).to_string();
    let deepgram = if options.local {
        format!(
            "[speech]\nwhisper_model = {}\n",
            toml_str(&config.whisper_model().display().to_string())
        )
    } else {
        format!(
            "[deepgram]\napi_key = {key}\nlisten_url = {listen_url}\nspeak_ws_url = {speak_ws}\n\
             speak_rest_url = {speak_rest}\nendpointing_ms = {endpointing}\n",
            key = toml_str(FAKE_KEY),
            listen_url = toml_str(&stt.listen_url()),
            speak_ws = toml_str(&tts.ws_url()),
            speak_rest = toml_str(&tts.rest_url()),
            endpointing = options.endpointing_ms,
        )
    };
    format!(
        "data_dir = {data}\n\
         [log]\nfilter = \"warn\"\n\
         [server]\nlisten = {listen}\npublic_url = {url}\nmax_concurrent_calls = {max}\n\
         calls_per_caller_per_minute = 1000\nrequests_per_ip_per_minute = 100000\n\
         [call]\nearly_endpointing_ms = {early}\n\
         {deepgram}\
         [twilio]\naccount_sid = {sid}\nauth_token = {key}\napi_base_url = {twilio}\n\
         from_number = {from}\n",
        data = toml_str(&config.data_dir.display().to_string()),
        listen = toml_str(&config.server.listen.to_string()),
        url = toml_str(url),
        max = options.calls + 10,
        early = options.early_endpointing_ms,
        key = toml_str(FAKE_KEY),
        sid = toml_str(account_sid.as_str()),
        twilio = toml_str(twilio_url),
        from = toml_str(config.shop.phone.as_str()),
    )
}

/// The simulator's figures over every call; a failed call is a problem line.
fn summarise(options: &CallBenchOptions, records: &[Result<SimRecord, String>]) -> CallsSummary {
    let baseline_ms = options.baseline().as_secs_f64() * 1e3;
    let mut turns = Vec::new();
    let mut clears = Vec::new();
    let mut frames = 0;
    let mut late_frames = 0;
    let mut problems = Vec::new();
    for (i, record) in records.iter().enumerate() {
        match record {
            Ok(record) => {
                let call = CallFigures::of(record, !options.local);
                turns.extend(call.turns);
                clears.extend(call.clear);
                frames += call.frames;
                late_frames += call.late_frames;
                if let Some(p) = call.problem {
                    problems.push(format!("call {i} ({}): {p}", record.call_sid));
                }
            }
            Err(e) => problems.push(format!("call {i}: {e}")),
        }
    }
    let added = turns
        .iter()
        .map(|t| t.as_secs_f64() * 1e3 - baseline_ms)
        .collect();
    CallsSummary {
        completed: records.len() - problems.len(),
        problems,
        turn: Latency::from_durations(turns),
        added: Latency::from_ms(added),
        clear: Latency::from_durations(clears),
        frames,
        late_frames,
    }
}

/// What one simulated call showed.
#[derive(Debug, Default, PartialEq)]
struct CallFigures {
    /// Per caller utterance: its last frame sent → the first reply frame received.
    turns: Vec<Duration>,
    /// The speech over the greeting → `clear`.
    clear: Option<Duration>,
    /// Reply frames received.
    frames: usize,
    /// Reply frames that arrived after playback ran dry mid-reply.
    late_frames: usize,
    /// Why the call does not count as completed.
    problem: Option<String>,
}

impl CallFigures {
    /// The figures of `record`; `barge_in`: the caller spoke over the greeting (step
    /// [`BARGE_IN_STEP`]) and a `clear` must follow.
    fn of(record: &SimRecord, barge_in: bool) -> Self {
        let mut figures = Self::default();
        let mut problems = Vec::new();
        // A starved frame is expected only as the first of a new reply: at the start, after
        // the caller spoke, and after a clear.
        let mut new_reply = true;
        let mut speech_end: Option<Duration> = None;
        for e in &record.events {
            match &e.event {
                SimEvent::CallerSpeechStarted { step } if barge_in && *step == BARGE_IN_STEP => {
                    figures.clear =
                        record.delay_after(e.at, |ev| matches!(ev, SimEvent::ClearReceived { .. }));
                    if figures.clear.is_none() {
                        problems.push("no clear after speaking over the greeting".to_owned());
                    }
                }
                SimEvent::CallerSpeechEnded { .. } => {
                    speech_end = Some(e.at);
                    new_reply = true;
                }
                SimEvent::ClearReceived { .. } => new_reply = true,
                SimEvent::MediaReceived { starved, .. } => {
                    figures.frames += 1;
                    if let Some(end) = speech_end.take() {
                        figures.turns.push(e.at.saturating_sub(end));
                    }
                    if starved.is_some() && !new_reply {
                        figures.late_frames += 1;
                    }
                    new_reply = false;
                }
                SimEvent::WaitTimedOut { step } => {
                    problems.push(format!("no reply after caller step {step}"));
                }
                SimEvent::ProtocolError { detail } => {
                    problems.push(format!("protocol error: {detail}"));
                }
                _ => {}
            }
        }
        if figures.turns.len() < SCRIPT.len() {
            problems.push(format!(
                "{} of {} caller turns answered",
                figures.turns.len(),
                SCRIPT.len()
            ));
        }
        if !problems.is_empty() {
            figures.problem = Some(problems.join("; "));
        }
        figures
    }
}

/// `otto serve` as a child process.
struct OttoProcess {
    child: Child,
    pid: i32,
    process: procfs::process::Process,
}

/// CPU time used so far and resident memory now.
struct Sample {
    cpu: Duration,
    rss: u64,
}

impl OttoProcess {
    /// Starts this binary as `otto --config FILE serve` (logs to `log`) and waits until
    /// `{url}/ready` answers 200.
    async fn start(config: &Path, log: &Path, url: &str) -> anyhow::Result<Self> {
        let exe = std::env::current_exe().context("locating the otto binary")?;
        let log_file = std::fs::File::create(log)?;
        let mut command = Command::new(exe);
        command
            .arg("--config")
            .arg(config)
            .arg("serve")
            .stdin(Stdio::null())
            .stdout(log_file.try_clone()?)
            .stderr(log_file)
            .kill_on_drop(true);
        // The child takes its configuration from the file only.
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("OTTO_") {
                command.env_remove(name);
            }
        }
        let mut child = command.spawn().context("starting otto serve")?;
        let pid = child.id().context("otto serve exited at once")? as i32;
        let process = procfs::process::Process::new(pid)?;
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = child.try_wait()? {
                let log = std::fs::read_to_string(log).unwrap_or_default();
                bail!("otto serve exited with {status} before it was ready:\n{log}");
            }
            let ready = http
                .get(format!("{url}/ready"))
                .timeout(Duration::from_secs(2))
                .send()
                .await;
            if ready.is_ok_and(|r| r.status().is_success()) {
                return Ok(Self {
                    child,
                    pid,
                    process,
                });
            }
            if Instant::now() > deadline {
                bail!("otto serve was not ready within 60 s");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn sample(&self) -> anyhow::Result<Sample> {
        Ok(Sample {
            cpu: cpu_time(&self.process)?,
            rss: rss_bytes(&self.process)?,
        })
    }

    /// Ends the server (it is a throwaway instance: no grace period needed).
    async fn stop(&mut self) {
        let _ = self.child.kill().await;
    }
}

/// User + system CPU time of a process.
fn cpu_time(p: &procfs::process::Process) -> anyhow::Result<Duration> {
    let stat = p.stat()?;
    let ticks = stat.utime + stat.stime;
    Ok(Duration::from_secs_f64(
        ticks as f64 / procfs::ticks_per_second() as f64,
    ))
}

/// Resident set size of a process, bytes.
fn rss_bytes(p: &procfs::process::Process) -> anyhow::Result<u64> {
    use procfs::WithCurrentSystemInfo;
    Ok(p.stat()?.rss_bytes().get())
}

/// A free loopback port (bound and released; the server binds it right after).
fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Otto's `/metrics` text, or `None` when it does not answer.
async fn scrape(http: &reqwest::Client, url: &str) -> Option<String> {
    let r = http
        .get(format!("{url}/metrics"))
        .timeout(Duration::from_secs(2))
        .send()
        .await
        .ok()?;
    r.text().await.ok()
}

/// The sum of every series of the Prometheus metric `name` in an exposition text, or `None`
/// when the metric is absent.
fn metric_sum(text: &str, name: &str) -> Option<f64> {
    let mut found = None;
    for line in text.lines() {
        let Some(rest) = line.strip_prefix(name) else {
            continue;
        };
        let value = match rest.chars().next() {
            Some(' ') => rest.trim(),
            Some('{') => rest.rsplit_once('}').map_or("", |(_, v)| v.trim()),
            _ => continue,
        };
        if let Ok(v) = value.parse::<f64>() {
            found = Some(found.unwrap_or(0.0) + v);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use otto_twilio::CallSid;
    use otto_twilio::sim::TimedEvent;

    fn record(events: &[(u64, SimEvent)]) -> SimRecord {
        SimRecord {
            call_sid: CallSid::random(),
            stream_sid: None,
            twiml: otto_twilio::twiml::Response::default(),
            events: events
                .iter()
                .map(|(ms, event)| TimedEvent {
                    at: Duration::from_millis(*ms),
                    event: event.clone(),
                })
                .collect(),
            caller_audio: Vec::new(),
            played_audio: Vec::new(),
        }
    }

    fn media(starved: Option<u64>) -> SimEvent {
        SimEvent::MediaReceived {
            bytes: 160,
            queued: Duration::ZERO,
            starved: starved.map(Duration::from_millis),
        }
    }

    #[test]
    fn a_call_yields_turn_clear_and_late_frame_figures() {
        use SimEvent::*;
        let r = record(&[
            (100, media(Some(100))), // greeting starts: expected
            (120, media(None)),
            (1_500, CallerSpeechStarted { step: 1 }),
            (
                1_504,
                ClearReceived {
                    dropped: Duration::from_millis(900),
                },
            ),
            (2_400, CallerSpeechEnded { step: 1 }),
            (2_960, media(Some(1_400))), // the reply: 560 ms after speech end
            (2_961, media(None)),
            (3_500, media(Some(20))), // a gap inside the reply: late
            (5_000, CallerSpeechStarted { step: 3 }),
            (5_800, CallerSpeechEnded { step: 3 }),
            (6_350, media(Some(900))),
            (8_000, CallerSpeechStarted { step: 5 }),
            (8_700, CallerSpeechEnded { step: 5 }),
            (9_260, media(Some(500))),
        ]);
        let f = CallFigures::of(&r, true);
        assert_eq!(
            f.turns,
            [560, 550, 560].map(Duration::from_millis).to_vec(),
            "{f:?}"
        );
        assert_eq!(f.clear, Some(Duration::from_millis(4)));
        assert_eq!((f.frames, f.late_frames), (7, 1));
        assert_eq!(f.problem, None);
    }

    #[test]
    fn missing_replies_and_clears_are_problems() {
        use SimEvent::*;
        let r = record(&[
            (100, media(Some(100))),
            (1_500, CallerSpeechStarted { step: 1 }),
            (2_400, CallerSpeechEnded { step: 1 }),
            (22_400, WaitTimedOut { step: 2 }),
        ]);
        let f = CallFigures::of(&r, true);
        let problem = f.problem.expect("a problem");
        assert!(problem.contains("no clear"), "{problem}");
        assert!(
            problem.contains("no reply after caller step 2"),
            "{problem}"
        );
        assert!(problem.contains("0 of 3 caller turns"), "{problem}");
    }

    #[test]
    fn the_report_subtracts_the_fakes_delays() {
        use SimEvent::*;
        let options = CallBenchOptions {
            calls: 2,
            ramp: Duration::from_secs(1),
            endpointing_ms: 300,
            stt_delay: Duration::from_millis(100),
            tts_delay: Duration::from_millis(150),
            batches: 1,
            local: false,
            early_endpointing_ms: 160,
        };
        let good = record(&[
            (100, media(Some(100))),
            (1_500, CallerSpeechStarted { step: 1 }),
            (
                1_502,
                ClearReceived {
                    dropped: Duration::ZERO,
                },
            ),
            (2_000, CallerSpeechEnded { step: 1 }),
            (2_560, media(Some(10))),
            (3_000, CallerSpeechEnded { step: 3 }),
            (3_552, media(Some(10))),
            (4_000, CallerSpeechEnded { step: 5 }),
            (4_570, media(Some(10))),
        ]);
        let report = summarise(&options, &[Ok(good), Err("webhook refused".into())]);
        assert_eq!(report.completed, 1);
        assert_eq!(report.problems, ["call 1: webhook refused"]);
        assert_eq!((report.added.samples, report.added.p50_ms), (3, 10.0));
        assert_eq!(report.added.p99_ms, 20.0);
        assert_eq!(report.clear.p50_ms, 2.0);
    }

    #[test]
    fn prometheus_series_are_summed_by_name() {
        let text = "# TYPE otto_calls_active gauge\notto_calls_active 12\n\
                    otto_calls_active_total 99\n\
                    otto_provider_errors_total{provider=\"stt\"} 2\n\
                    otto_provider_errors_total{provider=\"tts\"} 3\n";
        assert_eq!(metric_sum(text, "otto_calls_active"), Some(12.0));
        assert_eq!(metric_sum(text, "otto_provider_errors_total"), Some(5.0));
        assert_eq!(metric_sum(text, "otto_barge_ins_total"), None);
    }
}
