//! Otto's call simulator: a client that behaves like Twilio towards a running Otto server
//! (used by `otto call` and the call-replay tests).
//!
//! [`run_call`] does what Twilio does for one inbound call (`shared/protocols/twilio.md`):
//! 1. signs (§b) and POSTs the incoming-call webhook form (§a.1) to
//!    `{base_url}{webhook_path}` with a fresh `CallSid`, and reads the TwiML answer (§c);
//! 2. follows `<Connect><Stream url>` by opening the WebSocket (signed upgrade, §d; `ws://`
//!    URLs only: the simulator talks to local servers), sends `connected` and `start`
//!    (fresh `MZ…` stream SID, the TwiML's `<Parameter>`s as `customParameters`, μ-law 8000 Hz
//!    mono), then one `media` frame of 160 bytes (20 ms) per tick from the [`CallerAudio`]
//!    source (silence frames when it is idle, as Twilio streams continuous audio), `dtmf` for
//!    key presses, and `stop` when the source is finished;
//! 3. plays the audio Otto sends at 8000 bytes/s (160 bytes per tick), echoes each `mark` when
//!    playback reaches it, and on `clear` drops queued audio and echoes every pending mark at
//!    once (§d.3).
//!
//! A tick is 20 ms of audio and lasts `20 ms / pace` of wall time: `pace = 1.0` is real time
//! (use it whenever timing is under test); a larger pace runs the same code faster. Everything
//! observed is recorded in a [`SimRecord`]: timed [`SimEvent`]s (wall time since the webhook
//! was sent), and both sides' audio aligned tick by tick, which [`SimRecord::save_wav`] writes
//! as a stereo WAV (left: caller, right: what Otto played).

use std::collections::{BTreeMap, VecDeque};
use std::path::Path;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use secrecy::SecretString;
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::media::{FromTwilio, MULAW_ENCODING, MediaFormat, Start, ToTwilio, Track};
use crate::signature::{SIGNATURE_HEADER, sign};
use crate::twiml::{self, MAX_TWIML_BYTES};
use crate::{AccountSid, CallSid, StreamSid, TwilioError};
use otto_core::speech::{FRAME_BYTES, FRAME_MS, MULAW_SILENCE as SILENCE, mulaw};

/// Audio length of one frame (one tick): [`FRAME_MS`].
pub const FRAME: Duration = Duration::from_millis(FRAME_MS as u64);

/// How to place the simulated call.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// The Otto server, e.g. `http://127.0.0.1:8080` (no trailing slash needed).
    pub base_url: String,
    /// Path of the incoming-call webhook (default `/twilio/voice`).
    pub webhook_path: String,
    /// `AccountSid` sent in the webhook and `start`.
    pub account_sid: AccountSid,
    /// Auth token the webhook and the WebSocket upgrade are signed with.
    pub auth_token: SecretString,
    /// `From`: the caller (E.164, or e.g. `anonymous`).
    pub from: String,
    /// `To`: the shop's Twilio number.
    pub to: String,
    /// Speed: 1.0 is real time (20 ms per frame); 4.0 runs four times faster. 0.1..=100.
    pub pace: f64,
    /// The simulator hangs up (sends `stop`) after this long, whatever the caller script says.
    pub max_call: Duration,
    /// Deadline for the webhook answer and for opening the WebSocket.
    pub connect_timeout: Duration,
    /// `Some(sid)`: play the answer of an outbound call Otto created through the REST API
    /// (§e.1): the webhook goes to `webhook_path` (the call's `Url`, query included) with
    /// this `CallSid`, `Direction=outbound-api` and `CallStatus=in-progress`; `from` is then
    /// Otto's number and `to` the person called. `None`: an inbound call with a fresh SID.
    pub answered_outbound: Option<CallSid>,
}

impl SimConfig {
    /// A config with the defaults: webhook path `/twilio/voice`, real-time pace, 10 min
    /// maximum call, 5 s connect timeout.
    pub fn new(
        base_url: impl Into<String>,
        account_sid: AccountSid,
        auth_token: SecretString,
        from: impl Into<String>,
        to: impl Into<String>,
    ) -> Self {
        Self {
            base_url: base_url.into(),
            webhook_path: "/twilio/voice".into(),
            account_sid,
            auth_token,
            from: from.into(),
            to: to.into(),
            pace: 1.0,
            max_call: Duration::from_secs(600),
            connect_timeout: Duration::from_secs(5),
            answered_outbound: None,
        }
    }
}

/// One step of what the caller does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallerStep {
    /// Say something: μ-law 8 kHz mono bytes, sent in 160-byte frames (the last padded with
    /// silence).
    Speak(Vec<u8>),
    /// Stay silent this long (rounded up to whole 20 ms frames).
    Silence(Duration),
    /// Press a key (`0`-`9`, `*`, `#`; other characters are skipped, Twilio has no such key);
    /// takes no audio time.
    Dtmf(char),
    /// Stay silent until Otto has played some audio and then been quiet for `quiet`, or until
    /// `max` passed (recorded as [`SimEvent::WaitTimedOut`]). Times are audio time (frames).
    WaitForReply {
        /// Quiet after the reply that counts as "Otto finished".
        quiet: Duration,
        /// Give up after this long.
        max: Duration,
    },
}

/// The caller's side of the call: a queue of [`CallerStep`]s. While the queue is empty the
/// caller is silent; when it is empty and closed (all senders dropped) the caller hangs up.
#[derive(Debug)]
pub struct CallerAudio {
    rx: mpsc::Receiver<CallerStep>,
}

impl CallerAudio {
    /// A fixed script: the steps in order, then hang up.
    pub fn script(steps: impl IntoIterator<Item = CallerStep>) -> Self {
        let steps: Vec<CallerStep> = steps.into_iter().collect();
        let (tx, rx) = mpsc::channel(steps.len().max(1));
        for step in steps {
            // Capacity equals the number of steps and the receiver is alive: cannot fail.
            let _ = tx.try_send(step);
        }
        Self { rx }
    }

    /// A live source fed through the returned sender (e.g. typed lines in `otto call`);
    /// dropping every sender hangs up once the queue is drained.
    pub fn live(capacity: usize) -> (mpsc::Sender<CallerStep>, Self) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        (tx, Self { rx })
    }
}

/// Something the simulator saw or did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SimEvent {
    /// The webhook answered 200 with TwiML.
    WebhookAnswered,
    /// The media WebSocket is open; `connected` and `start` were sent.
    StreamOpened,
    /// The first frame of caller step `step` (a [`CallerStep::Speak`]) was sent.
    CallerSpeechStarted {
        /// Index of the step in the order received.
        step: usize,
    },
    /// The last frame of caller step `step` was sent.
    CallerSpeechEnded {
        /// Index of the step.
        step: usize,
    },
    /// A `dtmf` message was sent.
    DtmfSent {
        /// The key.
        digit: char,
    },
    /// A [`CallerStep::WaitForReply`] gave up.
    WaitTimedOut {
        /// Index of the step.
        step: usize,
    },
    /// An outbound `media` message arrived.
    MediaReceived {
        /// Payload size, bytes of μ-law.
        bytes: usize,
        /// Audio still queued ahead of it on arrival.
        queued: Duration,
        /// When nothing was queued on arrival: how long playback had been starved (time since
        /// the queue ran dry, or since the stream opened). A frame of an ongoing reply that
        /// arrives with `starved` set came late and left an audible gap.
        starved: Option<Duration>,
    },
    /// Playback began after being idle.
    PlaybackStarted,
    /// Playback ran out of queued audio.
    PlaybackIdle,
    /// An outbound `mark` arrived.
    MarkReceived {
        /// Its name.
        name: String,
    },
    /// A mark was echoed back: playback reached it (`cleared: false`) or a `clear` discarded
    /// the audio before it (`cleared: true`).
    MarkEchoed {
        /// Its name.
        name: String,
        /// True when echoed because of `clear`.
        cleared: bool,
    },
    /// An outbound `clear` arrived.
    ClearReceived {
        /// Audio discarded from the queue.
        dropped: Duration,
    },
    /// Otto sent something Twilio would reject (bad JSON, wrong stream SID, binary frame).
    ProtocolError {
        /// What was wrong.
        detail: String,
    },
    /// The simulator hung up: sent `stop` and closed the socket.
    HungUp,
    /// The server closed the WebSocket (Twilio would continue with the TwiML after
    /// `</Connect>`, see [`SimRecord::twiml`]).
    ServerClosed,
    /// [`SimConfig::max_call`] was reached.
    MaxDurationReached,
}

/// A [`SimEvent`] with its wall time since the webhook was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimedEvent {
    /// Time since the webhook request started.
    pub at: Duration,
    /// What happened.
    pub event: SimEvent,
}

/// Everything one simulated call observed.
#[derive(Debug, Clone)]
pub struct SimRecord {
    /// The generated call SID.
    pub call_sid: CallSid,
    /// The stream SID, when a stream was opened.
    pub stream_sid: Option<StreamSid>,
    /// The TwiML the webhook answered.
    pub twiml: twiml::Response,
    /// Events in order.
    pub events: Vec<TimedEvent>,
    /// Caller audio sent, μ-law, one 160-byte frame per tick.
    pub caller_audio: Vec<u8>,
    /// Audio played to the caller, μ-law, aligned with `caller_audio` (silence when idle).
    pub played_audio: Vec<u8>,
}

impl SimRecord {
    /// Time of the first event matching `pred`.
    pub fn first(&self, pred: impl Fn(&SimEvent) -> bool) -> Option<Duration> {
        self.events.iter().find(|e| pred(&e.event)).map(|e| e.at)
    }

    /// Time of the first event at or after `after` matching `pred`, minus `after`: e.g. the
    /// barge-in latency is the `ClearReceived` delay after a `CallerSpeechStarted`.
    pub fn delay_after(
        &self,
        after: Duration,
        pred: impl Fn(&SimEvent) -> bool,
    ) -> Option<Duration> {
        self.events
            .iter()
            .find(|e| e.at >= after && pred(&e.event))
            .map(|e| e.at - after)
    }

    /// Names of the marks echoed, in order.
    pub fn echoed_marks(&self) -> Vec<&str> {
        self.events
            .iter()
            .filter_map(|e| match &e.event {
                SimEvent::MarkEchoed { name, .. } => Some(name.as_str()),
                _ => None,
            })
            .collect()
    }

    /// Writes both sides as a stereo WAV: 8000 Hz, 16-bit PCM (μ-law decoded per G.711),
    /// left channel the caller, right channel what Otto played.
    ///
    /// # Errors
    /// [`TwilioError::Sim`] when the file cannot be written.
    pub fn save_wav(&self, path: &Path) -> Result<(), TwilioError> {
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: 8000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let err = |e: hound::Error| TwilioError::Sim(format!("writing WAV: {e}"));
        let mut w = hound::WavWriter::create(path, spec).map_err(err)?;
        for (c, p) in self.caller_audio.iter().zip(&self.played_audio) {
            w.write_sample(mulaw::decode(*c)).map_err(err)?;
            w.write_sample(mulaw::decode(*p)).map_err(err)?;
        }
        w.finalize().map_err(err)
    }
}

/// A readable timeline, one event per line: `  1.234 s  PlaybackStarted` (for `otto call`
/// output and failing-test messages). Event details never include audio.
impl std::fmt::Display for SimRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "call {} stream {:?}",
            self.call_sid,
            self.stream_sid.as_ref().map(StreamSid::as_str)
        )?;
        for e in &self.events {
            writeln!(f, "{:>8.3} s  {:?}", e.at.as_secs_f64(), e.event)?;
        }
        Ok(())
    }
}

/// The HTTP client every simulated call shares, as Twilio's webhook sender is one client
/// for many calls (building a client loads TLS roots: milliseconds of CPU per call).
///
/// # Errors
/// [`TwilioError::Sim`] when the client cannot be built.
fn http_client() -> Result<reqwest::Client, TwilioError> {
    static HTTP: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    if let Some(client) = HTTP.get() {
        return Ok(client.clone());
    }
    let client = reqwest::Client::builder()
        .build()
        .map_err(|e| TwilioError::Sim(format!("HTTP client: {e}")))?;
    Ok(HTTP.get_or_init(|| client).clone())
}

/// Runs one simulated inbound call against the Otto server in `config` until the caller
/// hangs up, the server closes the stream, or [`SimConfig::max_call`] passes. A TwiML answer
/// without `<Connect><Stream>` ends the call after the webhook (the record has no stream).
///
/// # Errors
/// [`TwilioError::Sim`] when the config is invalid, the webhook fails or does not answer 200
/// with TwiML, the stream URL is not `ws://`, or the WebSocket cannot be opened or breaks.
/// What Otto sends on an open stream never fails the call: protocol mistakes are recorded as
/// [`SimEvent::ProtocolError`].
pub async fn run_call(config: &SimConfig, caller: CallerAudio) -> Result<SimRecord, TwilioError> {
    if !(config.pace.is_finite() && (0.1..=100.0).contains(&config.pace)) {
        return Err(TwilioError::Sim("pace must be within 0.1..=100".into()));
    }
    let t0 = Instant::now();
    let call_sid = config
        .answered_outbound
        .clone()
        .unwrap_or_else(CallSid::random);
    let twiml = post_webhook(config, &call_sid).await?;
    let mut rec = Recorder::new(t0);
    rec.push(SimEvent::WebhookAnswered);
    let Some(stream) = twiml.connect_stream().cloned() else {
        return Ok(rec.finish(call_sid, None, twiml));
    };
    let stream_sid = StreamSid::random();
    let mut call = StreamCall::open(config, &stream, &call_sid, &stream_sid, rec).await?;
    call.run(config, caller).await;
    Ok(call.rec.finish(call_sid, Some(stream_sid), twiml))
}

async fn post_webhook(
    config: &SimConfig,
    call_sid: &CallSid,
) -> Result<twiml::Response, TwilioError> {
    let url = format!(
        "{}{}",
        config.base_url.trim_end_matches('/'),
        config.webhook_path
    );
    let outbound = config.answered_outbound.is_some();
    let params: Vec<(String, String)> = [
        ("AccountSid", config.account_sid.as_str()),
        ("ApiVersion", "2010-04-01"),
        ("CallSid", call_sid.as_str()),
        (
            "CallStatus",
            if outbound { "in-progress" } else { "ringing" },
        ),
        ("Called", &config.to),
        ("Caller", &config.from),
        (
            "Direction",
            if outbound { "outbound-api" } else { "inbound" },
        ),
        ("From", &config.from),
        ("To", &config.to),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    post_signed(&url, &config.auth_token, &params, config.connect_timeout).await
}

/// POSTs `params` as a form to `url`, signed with `auth_token` as Twilio signs webhooks (§b)
/// and with a fresh `I-Twilio-Idempotency-Token`, and reads the TwiML answer (the simulator's
/// calls and [`crate::messaging::send_inbound`]'s texts).
///
/// # Errors
/// [`TwilioError::Sim`] when the request fails or takes longer than `timeout`, or the answer
/// is not 2xx, larger than [`MAX_TWIML_BYTES`] or not TwiML.
pub(crate) async fn post_signed(
    url: &str,
    auth_token: &SecretString,
    params: &[(String, String)],
    timeout: Duration,
) -> Result<twiml::Response, TwilioError> {
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    let response = http_client()?
        .post(url)
        .timeout(timeout)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header(SIGNATURE_HEADER, sign(auth_token, url, params))
        .header(
            "I-Twilio-Idempotency-Token",
            uuid::Uuid::new_v4().to_string(),
        )
        .body(body)
        .send()
        .await
        .map_err(|e| TwilioError::Sim(format!("webhook request failed: {e}")))?;
    let status = response.status();
    let bytes = response
        .bytes()
        .await
        .map_err(|e| TwilioError::Sim(format!("webhook answer broken off: {e}")))?;
    if !status.is_success() {
        return Err(TwilioError::Sim(format!("webhook answered HTTP {status}")));
    }
    if bytes.len() > MAX_TWIML_BYTES {
        return Err(TwilioError::Sim("webhook answer too large".into()));
    }
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| TwilioError::Sim("webhook answer is not UTF-8".into()))?;
    twiml::Response::parse(text).map_err(|e| TwilioError::Sim(format!("webhook answer: {e}")))
}

/// Collects timed events and both audio tracks.
struct Recorder {
    t0: Instant,
    events: Vec<TimedEvent>,
    caller_audio: Vec<u8>,
    played_audio: Vec<u8>,
}

impl Recorder {
    fn new(t0: Instant) -> Self {
        Self {
            t0,
            events: Vec::new(),
            caller_audio: Vec::new(),
            played_audio: Vec::new(),
        }
    }

    fn now(&self) -> Duration {
        self.t0.elapsed()
    }

    fn push(&mut self, event: SimEvent) {
        let at = self.now();
        self.events.push(TimedEvent { at, event });
    }

    fn finish(
        self,
        call_sid: CallSid,
        stream_sid: Option<StreamSid>,
        twiml: twiml::Response,
    ) -> SimRecord {
        SimRecord {
            call_sid,
            stream_sid,
            twiml,
            events: self.events,
            caller_audio: self.caller_audio,
            played_audio: self.played_audio,
        }
    }
}

fn bytes_to_duration(bytes: usize) -> Duration {
    Duration::from_micros(bytes as u64 * 125) // 8000 bytes per second
}

fn frames_for(d: Duration) -> u64 {
    d.as_micros().div_ceil(FRAME.as_micros()) as u64
}

/// Queued outbound audio and marks, played at 160 bytes per tick (§d.3).
#[derive(Default)]
struct Playback {
    queue: VecDeque<Queued>,
    queued_bytes: usize,
    playing: bool,
    /// When the queue last ran dry (or the stream opened).
    dry_since: Duration,
}

enum Queued {
    Audio(Vec<u8>, usize),
    Mark(String),
}

impl Playback {
    /// Plays one tick: up to 160 bytes, echoing marks reached. Returns the audio played and
    /// the marks to echo.
    fn tick(&mut self) -> (Vec<u8>, Vec<String>) {
        let mut played = Vec::with_capacity(FRAME_BYTES);
        let mut marks = Vec::new();
        loop {
            match self.queue.front_mut() {
                Some(Queued::Mark(_)) => {
                    if let Some(Queued::Mark(name)) = self.queue.pop_front() {
                        marks.push(name);
                    }
                }
                Some(Queued::Audio(audio, pos)) if played.len() < FRAME_BYTES => {
                    let take = (FRAME_BYTES - played.len()).min(audio.len() - *pos);
                    played.extend_from_slice(&audio[*pos..*pos + take]);
                    *pos += take;
                    self.queued_bytes -= take;
                    if *pos == audio.len() {
                        self.queue.pop_front();
                    }
                }
                _ => break,
            }
        }
        (played, marks)
    }
}

/// An open media stream.
struct StreamCall {
    ws: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    stream_sid: StreamSid,
    account_sid: AccountSid,
    call_sid: CallSid,
    sequence: u64,
    chunk: u64,
    rec: Recorder,
    playback: Playback,
}

/// Where the caller is in its steps.
enum Active {
    Speak {
        audio: Vec<u8>,
        pos: usize,
        step: usize,
    },
    Silence {
        frames_left: u64,
    },
    Wait {
        quiet_frames: u64,
        max_frames: u64,
        elapsed: u64,
        heard: bool,
        quiet_run: u64,
        step: usize,
    },
}

enum Ended {
    CallerHungUp,
    ServerClosed,
    MaxDuration,
}

impl StreamCall {
    async fn open(
        config: &SimConfig,
        stream: &twiml::Stream,
        call_sid: &CallSid,
        stream_sid: &StreamSid,
        mut rec: Recorder,
    ) -> Result<Self, TwilioError> {
        if !stream.url.starts_with("ws://") {
            return Err(TwilioError::Sim(
                "the simulator only connects to ws:// stream URLs (local servers)".into(),
            ));
        }
        let mut request = stream
            .url
            .as_str()
            .into_client_request()
            .map_err(|e| TwilioError::Sim(format!("stream URL: {e}")))?;
        let signature = HeaderValue::from_str(&sign(&config.auth_token, &stream.url, &[]))
            .map_err(|_| TwilioError::Sim("signature is not a header value".into()))?;
        request.headers_mut().insert(SIGNATURE_HEADER, signature);
        let ws_config = WebSocketConfig::default()
            .read_buffer_size(crate::media::READ_BUFFER_BYTES)
            .max_message_size(Some(crate::media::MAX_MESSAGE_BYTES))
            .max_frame_size(Some(crate::media::MAX_MESSAGE_BYTES));
        let (ws, _) = tokio::time::timeout(
            config.connect_timeout,
            tokio_tungstenite::connect_async_with_config(request, Some(ws_config), true),
        )
        .await
        .map_err(|_| TwilioError::Sim("WebSocket connect timed out".into()))?
        .map_err(|e| TwilioError::Sim(format!("WebSocket connect failed: {e}")))?;
        let mut call = Self {
            ws,
            stream_sid: stream_sid.clone(),
            account_sid: config.account_sid.clone(),
            call_sid: call_sid.clone(),
            sequence: 0,
            chunk: 0,
            playback: Playback {
                dry_since: rec.now(),
                ..Playback::default()
            },
            rec: {
                rec.push(SimEvent::StreamOpened);
                rec
            },
        };
        call.send(FromTwilio::Connected {
            protocol: "Call".into(),
            version: "1.0.0".into(),
        })
        .await?;
        let start = FromTwilio::Start {
            sequence_number: call.next_sequence(),
            stream_sid: stream_sid.clone(),
            start: Start {
                account_sid: config.account_sid.clone(),
                call_sid: call_sid.clone(),
                tracks: vec![Track::Inbound],
                custom_parameters: stream
                    .parameters
                    .iter()
                    .cloned()
                    .collect::<BTreeMap<_, _>>(),
                media_format: MediaFormat {
                    encoding: MULAW_ENCODING.into(),
                    sample_rate_hz: 8000,
                    channels: 1,
                },
            },
        };
        call.send(start).await?;
        Ok(call)
    }

    fn next_sequence(&mut self) -> u64 {
        self.sequence += 1;
        self.sequence
    }

    async fn send(&mut self, message: FromTwilio) -> Result<(), TwilioError> {
        let text = message.to_json()?;
        self.ws
            .send(Message::text(text))
            .await
            .map_err(|e| TwilioError::Sim(format!("WebSocket send failed: {e}")))
    }

    async fn echo_mark(&mut self, name: String, cleared: bool) -> Result<(), TwilioError> {
        let msg = FromTwilio::Mark {
            sequence_number: self.next_sequence(),
            stream_sid: self.stream_sid.clone(),
            name: name.clone(),
        };
        self.send(msg).await?;
        self.rec.push(SimEvent::MarkEchoed { name, cleared });
        Ok(())
    }

    /// Runs the stream until it ends; a broken socket ends it like a server close.
    async fn run(&mut self, config: &SimConfig, mut caller: CallerAudio) {
        let ended = match self.run_loop(config, &mut caller).await {
            Ok(ended) => ended,
            Err(e) => {
                self.rec.push(SimEvent::ProtocolError {
                    detail: e.to_string(),
                });
                Ended::ServerClosed
            }
        };
        match ended {
            Ended::ServerClosed => self.rec.push(SimEvent::ServerClosed),
            Ended::CallerHungUp | Ended::MaxDuration => {
                if matches!(ended, Ended::MaxDuration) {
                    self.rec.push(SimEvent::MaxDurationReached);
                }
                let stop = FromTwilio::Stop {
                    sequence_number: self.next_sequence(),
                    stream_sid: self.stream_sid.clone(),
                    account_sid: self.account_sid.clone(),
                    call_sid: self.call_sid.clone(),
                };
                let _ = self.send(stop).await;
                let _ = self.ws.close(None).await;
                self.rec.push(SimEvent::HungUp);
                // Let the server finish the closing handshake, briefly.
                let _ = tokio::time::timeout(Duration::from_secs(1), async {
                    while let Some(Ok(_)) = self.ws.next().await {}
                })
                .await;
            }
        }
    }

    async fn run_loop(
        &mut self,
        config: &SimConfig,
        caller: &mut CallerAudio,
    ) -> Result<Ended, TwilioError> {
        let mut ticker = tokio::time::interval(FRAME.div_f64(config.pace));
        ticker.set_missed_tick_behavior(MissedTickBehavior::Burst);
        let deadline = tokio::time::sleep(config.max_call);
        tokio::pin!(deadline);
        let mut active: Option<Active> = None;
        let mut steps_seen = 0usize;
        loop {
            tokio::select! {
                biased;
                incoming = self.ws.next() => match incoming {
                    None => return Ok(Ended::ServerClosed),
                    Some(Err(e)) => {
                        self.rec.push(SimEvent::ProtocolError { detail: format!("socket: {e}") });
                        return Ok(Ended::ServerClosed);
                    }
                    Some(Ok(Message::Text(text))) => self.on_outbound(text.as_str()).await?,
                    Some(Ok(Message::Close(_))) => return Ok(Ended::ServerClosed),
                    Some(Ok(Message::Binary(_))) => self.rec.push(SimEvent::ProtocolError {
                        detail: "binary frame (Twilio accepts only text frames)".into(),
                    }),
                    Some(Ok(_)) => {}
                },
                _ = &mut deadline => return Ok(Ended::MaxDuration),
                _ = ticker.tick() => {
                    if !self.tick(caller, &mut active, &mut steps_seen).await? {
                        return Ok(Ended::CallerHungUp);
                    }
                }
            }
        }
    }

    /// Handles one frame Otto sent.
    async fn on_outbound(&mut self, text: &str) -> Result<(), TwilioError> {
        let message = match ToTwilio::parse(text) {
            Ok(m) => m,
            Err(e) => {
                self.rec.push(SimEvent::ProtocolError {
                    detail: e.to_string(),
                });
                return Ok(());
            }
        };
        if message.stream_sid() != &self.stream_sid {
            self.rec.push(SimEvent::ProtocolError {
                detail: "message for another streamSid".into(),
            });
            return Ok(());
        }
        match message {
            ToTwilio::Media { payload, .. } => {
                let pb = &mut self.playback;
                let starved =
                    (pb.queued_bytes == 0).then(|| self.rec.now().saturating_sub(pb.dry_since));
                let event = SimEvent::MediaReceived {
                    bytes: payload.len(),
                    queued: bytes_to_duration(pb.queued_bytes),
                    starved,
                };
                pb.queued_bytes += payload.len();
                if !payload.is_empty() {
                    pb.queue.push_back(Queued::Audio(payload, 0));
                }
                self.rec.push(event);
            }
            ToTwilio::Mark { name, .. } => {
                self.rec.push(SimEvent::MarkReceived { name: name.clone() });
                if self.playback.queue.is_empty() {
                    self.echo_mark(name, false).await?;
                } else {
                    self.playback.queue.push_back(Queued::Mark(name));
                }
            }
            ToTwilio::Clear { .. } => {
                let dropped = bytes_to_duration(self.playback.queued_bytes);
                self.rec.push(SimEvent::ClearReceived { dropped });
                let queue = std::mem::take(&mut self.playback.queue);
                self.playback.queued_bytes = 0;
                for item in queue {
                    if let Queued::Mark(name) = item {
                        self.echo_mark(name, true).await?;
                    }
                }
                if self.playback.playing {
                    self.playback.playing = false;
                    self.playback.dry_since = self.rec.now();
                    self.rec.push(SimEvent::PlaybackIdle);
                }
            }
        }
        Ok(())
    }

    /// One 20 ms tick: play, then send the caller's frame. False when the caller hung up.
    async fn tick(
        &mut self,
        caller: &mut CallerAudio,
        active: &mut Option<Active>,
        steps_seen: &mut usize,
    ) -> Result<bool, TwilioError> {
        // Otto's side.
        let (mut played, marks) = self.playback.tick();
        let was_playing = self.playback.playing;
        let heard = !played.is_empty();
        if heard && !was_playing {
            self.playback.playing = true;
            self.rec.push(SimEvent::PlaybackStarted);
        }
        if self.playback.playing && self.playback.queued_bytes == 0 {
            self.playback.playing = false;
            self.playback.dry_since = self.rec.now();
            self.rec.push(SimEvent::PlaybackIdle);
        }
        for name in marks {
            self.echo_mark(name, false).await?;
        }
        played.resize(FRAME_BYTES, SILENCE);

        // The caller's side.
        let mut frame = [SILENCE; FRAME_BYTES];
        loop {
            match active {
                None => match caller.rx.try_recv() {
                    Ok(step) => {
                        let index = *steps_seen;
                        *steps_seen += 1;
                        *active = match step {
                            CallerStep::Speak(audio) if audio.is_empty() => None,
                            CallerStep::Speak(audio) => Some(Active::Speak {
                                audio,
                                pos: 0,
                                step: index,
                            }),
                            CallerStep::Silence(d) => Some(Active::Silence {
                                frames_left: frames_for(d),
                            }),
                            CallerStep::Dtmf(digit) => {
                                if digit.is_ascii_digit() || digit == '*' || digit == '#' {
                                    self.send_dtmf(digit).await?;
                                }
                                None
                            }
                            CallerStep::WaitForReply { quiet, max } => Some(Active::Wait {
                                quiet_frames: frames_for(quiet).max(1),
                                max_frames: frames_for(max),
                                elapsed: 0,
                                heard: false,
                                quiet_run: 0,
                                step: index,
                            }),
                        };
                    }
                    Err(mpsc::error::TryRecvError::Empty) => break,
                    Err(mpsc::error::TryRecvError::Disconnected) => return Ok(false),
                },
                Some(Active::Speak { audio, pos, step }) => {
                    if *pos == 0 {
                        self.rec.push(SimEvent::CallerSpeechStarted { step: *step });
                    }
                    let take = FRAME_BYTES.min(audio.len() - *pos);
                    frame[..take].copy_from_slice(&audio[*pos..*pos + take]);
                    *pos += take;
                    if *pos == audio.len() {
                        self.rec.push(SimEvent::CallerSpeechEnded { step: *step });
                        *active = None;
                    }
                    break;
                }
                Some(Active::Silence { frames_left }) => {
                    if *frames_left == 0 {
                        *active = None;
                        continue;
                    }
                    *frames_left -= 1;
                    break;
                }
                Some(Active::Wait {
                    quiet_frames,
                    max_frames,
                    elapsed,
                    heard: heard_any,
                    quiet_run,
                    step,
                }) => {
                    *heard_any |= heard;
                    *quiet_run = if heard || self.playback.queued_bytes > 0 {
                        0
                    } else {
                        *quiet_run + 1
                    };
                    if *heard_any && *quiet_run >= *quiet_frames {
                        *active = None;
                        continue;
                    }
                    if *elapsed >= *max_frames {
                        self.rec.push(SimEvent::WaitTimedOut { step: *step });
                        *active = None;
                        continue;
                    }
                    *elapsed += 1;
                    break;
                }
            }
        }
        // Recorded together so both tracks stay aligned tick by tick.
        self.rec.played_audio.extend_from_slice(&played);
        self.send_frame(frame).await?;
        Ok(true)
    }

    async fn send_dtmf(&mut self, digit: char) -> Result<(), TwilioError> {
        let msg = FromTwilio::Dtmf {
            sequence_number: self.next_sequence(),
            stream_sid: self.stream_sid.clone(),
            track: "inbound_track".into(),
            digit,
        };
        self.send(msg).await?;
        self.rec.push(SimEvent::DtmfSent { digit });
        Ok(())
    }

    async fn send_frame(&mut self, frame: [u8; FRAME_BYTES]) -> Result<(), TwilioError> {
        self.chunk += 1;
        let msg = FromTwilio::Media {
            sequence_number: self.next_sequence(),
            stream_sid: self.stream_sid.clone(),
            media: crate::media::Media {
                track: Track::Inbound,
                chunk: self.chunk,
                timestamp_ms: (self.chunk - 1) * FRAME.as_millis() as u64,
                payload: frame.to_vec(),
            },
        };
        self.send(msg).await?;
        self.rec.caller_audio.extend_from_slice(&frame);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn playback_plays_160_bytes_per_tick_and_echoes_marks_when_reached() {
        let mut pb = Playback::default();
        pb.queue.push_back(Queued::Audio(vec![1; 200], 0));
        pb.queue.push_back(Queued::Mark("a".into()));
        pb.queue.push_back(Queued::Audio(vec![2; 120], 0));
        pb.queue.push_back(Queued::Mark("b".into()));
        pb.queued_bytes = 320;
        let (played, marks) = pb.tick();
        assert_eq!(played, vec![1; 160]);
        assert!(marks.is_empty());
        let (played, marks) = pb.tick();
        assert_eq!(played.len(), 160);
        assert_eq!(&played[..40], &[1; 40]);
        assert_eq!(&played[40..], &[2; 120]);
        assert_eq!(marks, ["a", "b"]);
        assert_eq!(pb.queued_bytes, 0);
        let (played, marks) = pb.tick();
        assert!(played.is_empty() && marks.is_empty());
    }

    #[test]
    fn frames_round_up() {
        assert_eq!(frames_for(Duration::from_millis(0)), 0);
        assert_eq!(frames_for(Duration::from_millis(20)), 1);
        assert_eq!(frames_for(Duration::from_millis(21)), 2);
        assert_eq!(bytes_to_duration(8000), Duration::from_secs(1));
    }
}
