//! The call runner: the I/O shell around one call's [`CallEngine`].
//!
//! It owns the Twilio media socket, the STT and TTS streams, the dialogue task and the turn
//! writer, and loops on a biased `select!` over them: Twilio messages first (stop, marks and
//! DTMF come in order with media), then speech events (barge-in), then reply text, then TTS
//! audio, then the engine's timer, then the session heartbeat. Every input goes to the engine with the time it happened,
//! and every output the engine produces is executed at once, in order:
//!
//! - caller audio goes straight from the socket to the STT stream (never through the engine,
//!   never blocking: a busy recogniser drops frames and counts them), and through the early
//!   endpointing voice activity detector, whose end of speech is an input
//!   ([`Input::SpeechEnded`]; the engine may answer it with a finalize request);
//! - reply generations run in the dialogue task, one at a time, cancelled by token on
//!   barge-in; their sentences, actions and completion come back tagged with the generation;
//! - finished turns are written to the call log by the turn writer as they happen, in order;
//! - audio, marks and `clear` go to Twilio through [`super::writer`].

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket};
use chrono::Utc;
use futures_util::StreamExt;
use otto_agent::rules::RuleDialogue;
use otto_agent::{CallerContext, Conversation, ReplyEvent, SystemClock};
use otto_core::domain::PhoneNumber;
use otto_core::engine::{CallAction, CallEngine, Input, Output, ReplyInput, TurnLatency};
use otto_core::privacy::Pii;
use otto_core::records::{BookingSource, CallDirection, Speaker, TurnTimings};
use otto_core::speech::stt::SttStream;
use otto_core::speech::tts::TtsStream;
use otto_core::speech::{GenerationId, TtsEvent};
use otto_shop::CallLog;
use otto_speech::vad::{Vad, VadEvent};
use otto_store::NewTurn;
use otto_twilio::media::{FromTwilio, Start};
use otto_twilio::rest::CallUpdate;
use otto_twilio::stream_token;
use otto_twilio::twiml::{Dial, Response};
use otto_twilio::{CallSid, StreamSid};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, debug, info, info_span, warn};

use super::recording::{self, Recorder};
use super::writer::{self, Outbound, OutboundError};
use super::{CallServices, metrics as m};
use crate::sessions::{CallPhase, LiveCall, SessionUpdate, SessionWriter};

/// How long Twilio may take between opening the socket and sending `start`.
const START_TIMEOUT: Duration = Duration::from_secs(10);
/// Malformed or unexpected messages tolerated before the socket is closed.
const MAX_BAD_MESSAGES: u32 = 50;
/// Deadline of one call-log write.
const STORE_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a media stream could not become a call.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error("no start message within {0:?}")]
    NoStart(Duration),
    #[error("the socket closed before start")]
    ClosedBeforeStart,
    #[error("unsupported media format {0}")]
    MediaFormat(String),
    #[error("call log: {0}")]
    Conversation(#[from] otto_agent::ConversationError),
    #[error("speech engine: {0}")]
    Speech(#[from] otto_core::speech::SpeechError),
    #[error("media stream refused: {0}")]
    Token(#[from] otto_twilio::stream_token::TokenError),
}

/// A command for the dialogue task.
enum DialogueCmd {
    Reply {
        generation: GenerationId,
        input: ReplyInput,
        cancel: CancellationToken,
    },
    Truncated(String),
}

/// What the dialogue task reports about a generation.
enum ReplyMsg {
    Event(ReplyEvent),
    Done,
    Failed,
}

/// Runs one call on an accepted media socket until it ends, holding its call permit.
pub async fn run(
    services: Arc<CallServices>,
    admission: Arc<super::admission::Admission>,
    socket: WebSocket,
    shutdown: CancellationToken,
) {
    let (sink, mut stream) = socket.split();
    let (stream_sid, start) = match wait_for_start(&mut stream).await {
        Ok(s) => s,
        Err(e) => {
            warn!(error = %e, "media stream rejected");
            return;
        }
    };
    // Held until the call ends: the call's place under `server.max_concurrent_calls`.
    let Some(_permit) = admission.claim(start.call_sid.as_str()) else {
        warn!("media stream refused: at the call limit");
        return;
    };
    let span = info_span!("call", call_sid = %start.call_sid.as_str());
    async move {
        m::call_started();
        let (outbound, writer) =
            writer::channel(stream_sid.clone(), sink, |s| Message::Text(s.into()));
        let writer_task = tokio::spawn(writer);
        match Call::open(services, &stream_sid, &start, outbound).await {
            Ok(call) => call.run(stream, stream_sid, shutdown).await,
            Err(e @ CallError::Token(_)) => warn!(error = %e, "forged or stale stream closed"),
            Err(e) => {
                m::provider_error("call_setup");
                warn!(error = %e, "call could not start");
            }
        }
        // Dropping the outbound side ends the writer once queued messages are out.
        let _ = writer_task.await;
        m::call_ended();
    }
    .instrument(span)
    .await;
}

/// The early-endpointing detector for a recogniser stream, when configured and when that
/// recogniser's finalize results tell a pause from finished words.
fn early_endpointing(services: &CallServices, finalize_tells_pauses: bool) -> Option<Vad> {
    services
        .speech_end
        .clone()
        .filter(|_| finalize_tells_pauses)
        .map(Vad::new)
}

/// Reads until Twilio's `start`, answering nothing; `connected` is skipped.
async fn wait_for_start(
    stream: &mut futures_util::stream::SplitStream<WebSocket>,
) -> Result<(StreamSid, Start), CallError> {
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        let msg = tokio::time::timeout_at(deadline, stream.next())
            .await
            .map_err(|_| CallError::NoStart(START_TIMEOUT))?;
        let text = match msg {
            Some(Ok(Message::Text(t))) => t,
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            Some(Ok(Message::Binary(_))) => {
                m::bad_message("binary");
                continue;
            }
            _ => return Err(CallError::ClosedBeforeStart),
        };
        match FromTwilio::parse(text.as_str()) {
            Ok(FromTwilio::Start {
                stream_sid, start, ..
            }) => {
                let f = &start.media_format;
                if f.encoding != otto_twilio::media::MULAW_ENCODING
                    || f.sample_rate_hz != 8_000
                    || f.channels != 1
                {
                    return Err(CallError::MediaFormat(format!(
                        "{} {} Hz × {}",
                        f.encoding, f.sample_rate_hz, f.channels
                    )));
                }
                return Ok((stream_sid, start));
            }
            Ok(FromTwilio::Connected { .. }) => continue,
            Ok(other) => {
                m::bad_message("before_start");
                debug!(?other, "message before start ignored");
            }
            Err(e) => {
                m::bad_message("malformed");
                debug!(error = %e, "malformed message before start");
            }
        }
    }
}

/// One live call's parts.
struct Call {
    services: Arc<CallServices>,
    call_sid: CallSid,
    engine: CallEngine,
    stt: Box<dyn SttStream>,
    stt_events: mpsc::Receiver<otto_core::speech::SttEvent>,
    /// The voice activity detector on the caller's audio that tells the engine when the
    /// caller stopped speaking (early endpointing); `None` when that is off, or when the
    /// recogniser's finalize results cannot tell a pause from finished words
    /// (`SttSession::finalize_tells_pauses`).
    speech_end: Option<Vad>,
    /// False after the STT stream ended and no new one could be opened.
    stt_alive: bool,
    tts: Box<dyn TtsStream>,
    tts_events: mpsc::Receiver<TtsEvent>,
    /// False after the TTS session died and could not be reopened; the next sentence retries.
    tts_alive: bool,
    outbound: Outbound,
    dialogue: mpsc::Sender<DialogueCmd>,
    dialogue_task: tokio::task::JoinHandle<()>,
    replies: mpsc::Receiver<(GenerationId, ReplyMsg)>,
    /// The call being recorded: stamps finished turns for the turn writer.
    call_log: CallLog,
    turns: mpsc::Sender<NewTurn>,
    turn_task: tokio::task::JoinHandle<()>,
    current: Option<(GenerationId, CancellationToken)>,
    /// Stage latencies of the reply being played, stored with its agent turn when it commits.
    reply_timings: Option<ReplyTimings>,
    /// Which TTS engine the current session is (`TtsSession::provider`), for metrics.
    tts_provider: &'static str,
    /// The next turn's place in the call log (the runner numbers turns, see [`write_turns`]).
    next_seq: u32,
    bad_messages: u32,
    /// Inputs produced while executing outputs (e.g. a TTS failure), fed next.
    follow_ups: Vec<Input>,
    /// Both sides of the call, when `call.record` is on; written when the call ends.
    recording: Option<Recorder>,
    /// This call's live session, written in the background.
    session: SessionWriter,
}

impl Call {
    async fn open(
        services: Arc<CallServices>,
        stream_sid: &StreamSid,
        start: &Start,
        outbound: Outbound,
    ) -> Result<Self, CallError> {
        let params = &start.custom_parameters;
        let call_sid = start.call_sid.clone();
        let from = params.get("from").map_or("", String::as_str);
        let to = params.get("to").cloned().unwrap_or_default();
        // Nothing in `start` is trusted before its token shows our webhook answered this
        // call, for this caller and callee.
        services.stream_tokens.verify(
            params.get(stream_token::PARAMETER).map(String::as_str),
            call_sid.as_str(),
            from,
            &to,
            Utc::now().timestamp(),
        )?;
        let caller = PhoneNumber::parse(from).ok();
        info!(stream_sid = %stream_sid.as_str(), caller = %Pii(caller.as_ref().map_or("", |p| p.as_str())), "call started");

        let shop = &services.shop;
        let ctx = CallerContext::new(
            shop.clone(),
            Arc::new(SystemClock),
            services.recalls.clone(),
            caller.clone(),
            BookingSource::Phone,
        );
        // A reminder call we placed opens about its appointment, led by the rules.
        let reminding = params
            .get("appointment")
            .and_then(|v| v.parse::<i64>().ok());
        let dialogue = services.llm.as_ref().map(|f| f.dialogue());
        let direction = match reminding {
            Some(_) => CallDirection::Outbound,
            None => CallDirection::Inbound,
        };
        let mut conversation = Conversation::start(
            ctx,
            dialogue,
            call_sid.as_str().to_string(),
            direction,
            to.clone(),
        )
        .await?;
        if let Some(id) = reminding {
            conversation = conversation.with_rules(RuleDialogue::reminding(id));
        }
        let call_log = conversation.call_log().clone();

        let stt = services.stt.open().await?;
        let tts = services.tts.open().await?;

        let (dialogue_tx, dialogue_rx) = mpsc::channel(DIALOGUE_QUEUE);
        let (reply_tx, reply_rx) = mpsc::channel(64);
        let notice = services
            .recording_dir
            .is_some()
            .then_some(recording::NOTICE);
        let dialogue_task = tokio::spawn(
            dialogue_loop(conversation, dialogue_rx, reply_tx, notice).in_current_span(),
        );
        let recorder = services
            .recording_dir
            .is_some()
            .then(|| Recorder::new(services.engine.max_call_ms.div_ceil(1000)));
        let (turn_tx, turn_rx) = mpsc::channel(TURN_QUEUE);
        let turn_task = tokio::spawn(turn_writer(call_log.clone(), turn_rx).in_current_span());

        let now = Utc::now();
        let session = services.sessions.writer(LiveCall {
            call_sid: call_sid.as_str().to_string(),
            from: caller.map_or_else(|| "anonymous".into(), |p| p.to_string()),
            to,
            customer_id: None,
            instance: services.instance.clone(),
            phase: CallPhase::Speaking,
            turns: 0,
            started_at: now,
            updated_at: now,
        });

        Ok(Self {
            engine: CallEngine::new(services.engine.clone()),
            speech_end: early_endpointing(&services, stt.finalize_tells_pauses),
            services,
            call_sid,
            stt: stt.stream,
            stt_events: stt.events,
            stt_alive: true,
            tts: tts.stream,
            tts_events: tts.events,
            tts_alive: true,
            outbound,
            dialogue: dialogue_tx,
            dialogue_task,
            replies: reply_rx,
            call_log,
            turns: turn_tx,
            turn_task,
            current: None,
            reply_timings: None,
            tts_provider: tts.provider,
            next_seq: 0,
            bad_messages: 0,
            follow_ups: Vec::new(),
            recording: recorder,
            session,
        })
    }

    async fn run(
        mut self,
        mut stream: futures_util::stream::SplitStream<WebSocket>,
        stream_sid: StreamSid,
        shutdown: CancellationToken,
    ) {
        self.input(Input::Start).await;
        let mut heartbeat = tokio::time::interval(crate::sessions::HEARTBEAT);
        heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        heartbeat.reset();
        while !self.engine.is_ended() {
            let timer = self.engine.poll_timeout();
            let sleep = async move {
                match timer {
                    Some(at) => tokio::time::sleep_until(at.into()).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                biased;
                () = shutdown.cancelled() => {
                    info!("server shutting down: ending the call");
                    self.input(Input::Stop).await;
                }
                msg = stream.next() => self.on_socket(msg, &stream_sid).await,
                event = self.stt_events.recv(), if self.stt_alive => match event {
                    Some(event) => self.input(Input::Stt(event)).await,
                    None => self.reopen_stt().await,
                },
                Some((generation, msg)) = self.replies.recv() => {
                    let input = match msg {
                        ReplyMsg::Event(ReplyEvent::Sentence(text)) => Input::ReplySentence { generation, text },
                        ReplyMsg::Event(ReplyEvent::Action(action)) => Input::ReplyAction { generation, action },
                        ReplyMsg::Done => Input::ReplyDone { generation },
                        ReplyMsg::Failed => Input::ReplyFailed { generation },
                    };
                    self.input(input).await;
                }
                event = self.tts_events.recv(), if self.tts_alive => match event {
                    Some(event) => self.input(Input::Tts(event)).await,
                    None => {
                        warn!("text-to-speech stream ended; reopening it");
                        self.tts_lost().await;
                        self.execute().await;
                    }
                },
                () = sleep => {
                    self.engine.handle_timeout(std::time::Instant::now());
                    self.execute().await;
                }
                _ = heartbeat.tick() => self.heartbeat(),
            }
            if self.bad_messages > MAX_BAD_MESSAGES {
                warn!(
                    bad = self.bad_messages,
                    "too many malformed media messages: closing the stream"
                );
                self.input(Input::Stop).await;
            }
        }
        self.close().await;
    }

    async fn on_socket(
        &mut self,
        msg: Option<Result<Message, axum::Error>>,
        stream_sid: &StreamSid,
    ) {
        let text = match msg {
            Some(Ok(Message::Text(t))) => t,
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => return,
            Some(Ok(Message::Binary(_))) => {
                self.bad_messages += 1;
                m::bad_message("binary");
                return;
            }
            Some(Ok(Message::Close(_))) | None | Some(Err(_)) => {
                self.input(Input::Stop).await;
                return;
            }
        };
        let parsed = match FromTwilio::parse(text.as_str()) {
            Ok(p) => p,
            Err(e) => {
                self.bad_messages += 1;
                m::bad_message("malformed");
                debug!(error = %e, "malformed media message");
                return;
            }
        };
        let sid_matches = |sid: &StreamSid| sid == stream_sid;
        match parsed {
            FromTwilio::Media {
                stream_sid, media, ..
            } if sid_matches(&stream_sid) => {
                if media.track != otto_twilio::media::Track::Inbound || media.payload.is_empty() {
                    return;
                }
                if let Some(r) = &mut self.recording {
                    r.inbound(&media.payload);
                }
                if let Err(e) = self.stt.push_audio(&media.payload) {
                    m::stt_frame_dropped();
                    debug!(error = %e, "caller audio dropped");
                }
                let speech_ended = self.speech_end.as_mut().is_some_and(|vad| {
                    vad.push_mulaw(&media.payload)
                        .iter()
                        .any(|e| matches!(e, VadEvent::Utterance(u) if u.speech_final))
                });
                if speech_ended {
                    self.input(Input::SpeechEnded).await;
                }
            }
            FromTwilio::Dtmf {
                stream_sid, digit, ..
            } if sid_matches(&stream_sid) => self.input(Input::Dtmf(digit)).await,
            FromTwilio::Mark {
                stream_sid, name, ..
            } if sid_matches(&stream_sid) => self.input(Input::MarkEchoed(name)).await,
            FromTwilio::Stop { stream_sid, .. } if sid_matches(&stream_sid) => {
                self.input(Input::Stop).await;
            }
            FromTwilio::Connected { .. } | FromTwilio::Start { .. } => {
                self.bad_messages += 1;
                m::bad_message("out_of_order");
            }
            FromTwilio::Unknown { event } => debug!(%event, "unknown media event ignored"),
            _ => {
                self.bad_messages += 1;
                m::bad_message("unknown_stream_sid");
                warn!("media message for another stream SID rejected");
            }
        }
    }

    /// Feeds one input, then executes what it produced.
    async fn input(&mut self, input: Input) {
        self.engine.handle_input(std::time::Instant::now(), input);
        self.execute().await;
    }

    /// Executes every pending output. Inputs an output produced (a closed socket, a lost TTS
    /// session) are fed before the next output, so the engine decides about what is still
    /// queued.
    async fn execute(&mut self) {
        loop {
            for input in std::mem::take(&mut self.follow_ups) {
                self.engine.handle_input(std::time::Instant::now(), input);
            }
            let Some(output) = self.engine.poll_output() else {
                break;
            };
            self.perform(output).await;
        }
    }

    async fn perform(&mut self, output: Output) {
        match output {
            Output::StartReply { generation, input } => {
                let cancel = CancellationToken::new();
                self.current = Some((generation, cancel.clone()));
                // The engine asks for one reply at a time, so the queue never fills unless
                // the dialogue task is stuck: then the reply fails (the engine falls back)
                // rather than the call loop waiting.
                if let Err(e) = self.dialogue.try_send(DialogueCmd::Reply {
                    generation,
                    input,
                    cancel,
                }) {
                    warn!(error = %e, "the dialogue task is not taking replies");
                    self.follow_ups.push(Input::ReplyFailed { generation });
                }
                self.session.update(SessionUpdate {
                    phase: Some(CallPhase::Speaking),
                    ..SessionUpdate::default()
                });
            }
            Output::CancelReply { generation } => {
                if let Some((g, token)) = &self.current
                    && *g == generation
                {
                    token.cancel();
                }
            }
            Output::ReplyTruncated { heard, .. } => {
                if let Err(e) = self.dialogue.try_send(DialogueCmd::Truncated(heard)) {
                    debug!(error = %e, "truncation not delivered to the dialogue task");
                }
            }
            Output::Synthesize { generation, text } => {
                // After a session that could not be reopened, each sentence tries again.
                if !self.tts_alive && !self.reopen_tts().await {
                    self.follow_ups.push(Input::TtsLost { reopened: false });
                    return;
                }
                if let Err(e) = synthesize(self.tts.as_mut(), generation, &text).await {
                    m::provider_error("tts");
                    warn!(error = %e, "text-to-speech failed; reopening it");
                    self.tts_lost().await;
                }
            }
            Output::FinalizeStt => {
                // Without the finalize result the turn ends on the recogniser's endpointing.
                if let Err(e) = self.stt.finalize().await {
                    debug!(error = %e, "speech-to-text finalize not sent");
                }
            }
            Output::ClearTts => {
                if let Err(e) = self.tts.clear().await {
                    m::provider_error("tts");
                    warn!(error = %e, "text-to-speech clear failed; reopening it");
                    self.tts_lost().await;
                }
            }
            Output::SendAudio(frame) => {
                // Recorded once queued: a dropped frame never reaches the caller.
                let copy = self.recording.is_some().then(|| frame.clone());
                // The reply's first frame reports when the socket takes it.
                let queued = match self.reply_timings.as_mut() {
                    Some(f) if f.written.is_none() => {
                        let (tx, rx) = tokio::sync::oneshot::channel();
                        f.written = Some(rx);
                        self.outbound.audio_reporting(frame, tx)
                    }
                    _ => self.outbound.audio(frame),
                };
                match queued {
                    Ok(()) => {
                        if let (Some(r), Some(frame)) = (&mut self.recording, copy) {
                            r.outbound(&frame);
                        }
                    }
                    Err(e) => {
                        m::outbound_frame_dropped();
                        if matches!(e, OutboundError::Closed) {
                            self.follow_ups.push(Input::Stop);
                        }
                    }
                }
            }
            Output::SendMark(name) => {
                if self.outbound.mark(name).is_err() {
                    m::outbound_frame_dropped();
                }
            }
            Output::ClearPlayback => {
                if let Some(r) = &mut self.recording {
                    r.clear();
                }
                if self.outbound.clear().is_err() {
                    self.follow_ups.push(Input::Stop);
                }
            }
            Output::CommitTurn {
                speaker,
                text,
                interrupted,
            } => {
                let mut turn = self.call_log.turn(speaker, &text, interrupted);
                turn.seq = Some(self.next_seq);
                self.next_seq += 1;
                if speaker == Speaker::Agent {
                    turn.timings = self.reply_timings.take().map(ReplyTimings::timings);
                }
                // Never dropped, never waited for: a full queue (the store has been down for
                // a long time) hands the turn to a task that waits for room.
                match self.turns.try_send(turn) {
                    Ok(()) => {}
                    Err(mpsc::error::TrySendError::Full(turn)) => {
                        let turns = self.turns.clone();
                        tokio::spawn(async move { turns.send(turn).await });
                    }
                    Err(mpsc::error::TrySendError::Closed(_)) => {
                        warn!("the turn writer has ended: a turn was not logged");
                    }
                }
                self.session.update(SessionUpdate {
                    phase: (speaker == Speaker::Agent).then_some(CallPhase::Listening),
                    add_turns: 1,
                    ..SessionUpdate::default()
                });
            }
            Output::Transfer { to } => self.control_call(CallAction::Transfer { to }),
            Output::HangUp => self.control_call(CallAction::HangUp),
            Output::BargedIn { .. } => m::barge_in(),
            Output::Latency(latency) => {
                m::turn_latency(&latency);
                m::tts_ttfb(
                    self.tts_provider,
                    latency.first_audio.saturating_sub(latency.first_text),
                );
                self.reply_timings = Some(ReplyTimings {
                    latency,
                    at: std::time::Instant::now(),
                    written: None,
                });
            }
            Output::Ended(reason) => {
                info!(?reason, "call ended");
                m::call_outcome(reason);
            }
        }
    }

    /// Transfers or hangs up through Twilio's REST API. Without a Twilio account configured
    /// (local development, the simulator), closing the media stream ends the call instead.
    fn control_call(&self, action: CallAction) {
        let Some((rest, guard)) = self.services.rest.clone() else {
            if let CallAction::Transfer { .. } = action {
                warn!("no Twilio account configured: cannot transfer, ending the stream");
            }
            return;
        };
        let sid = self.call_sid.clone();
        let update = match action {
            CallAction::HangUp => CallUpdate::Hangup,
            CallAction::Transfer { to } => CallUpdate::Twiml(Response::new().dial(Dial::new(to))),
        };
        tokio::spawn(
            async move {
                if let Err(e) = guard
                    .run(
                        || rest.update_call(&sid, &update),
                        otto_twilio::TwilioError::retryable,
                    )
                    .await
                {
                    warn!(error = %e, "Twilio call update failed");
                }
            }
            .in_current_span(),
        );
    }

    /// The TTS session failed or ended mid-call: opens a new one and tells the engine
    /// ([`Input::TtsLost`]), which decides what to synthesise again or skip. Callers run
    /// [`Call::execute`] afterwards to deliver that input.
    async fn tts_lost(&mut self) {
        let reopened = self.reopen_tts().await;
        self.follow_ups.push(Input::TtsLost { reopened });
    }

    /// The recogniser's stream ended mid-call (Deepgram's reconnects ran out): opens a new
    /// one, which behind [`super::speech_fallback::FallbackStt`] is the local recogniser when
    /// Deepgram still refuses, so the call is never left deaf. Audio in between is lost.
    /// When nothing opens (logged), the call goes on without hearing the caller.
    async fn reopen_stt(&mut self) {
        warn!("speech-to-text stream ended; reopening it");
        m::provider_error("stt");
        match self.services.stt.open().await {
            Ok(session) => {
                let old = std::mem::replace(&mut self.stt, session.stream);
                self.stt_events = session.events;
                self.speech_end = early_endpointing(&self.services, session.finalize_tells_pauses);
                tokio::spawn(async move {
                    let _ = old.close().await;
                });
                info!("speech-to-text reopened");
            }
            Err(e) => {
                self.stt_alive = false;
                warn!(error = %e, "speech-to-text cannot be reopened: the caller is not heard");
            }
        }
    }

    /// Replaces the TTS session with a new one; `false` (logged) when none can be opened.
    async fn reopen_tts(&mut self) -> bool {
        let reopened = match self.services.tts.open().await {
            Ok(session) => {
                let old = std::mem::replace(&mut self.tts, session.stream);
                self.tts_events = session.events;
                self.tts_provider = session.provider;
                tokio::spawn(async move {
                    let _ = old.close().await;
                });
                true
            }
            Err(e) => {
                m::provider_error("tts");
                warn!(error = %e, "text-to-speech cannot be reopened");
                false
            }
        };
        self.tts_alive = reopened;
        reopened
    }

    /// Refreshes this call's session record so it outlives [`crate::sessions::TTL_SECS`].
    fn heartbeat(&self) {
        self.session.update(SessionUpdate::default());
    }

    async fn close(self) {
        let Self {
            services,
            call_sid,
            stt,
            tts,
            dialogue,
            dialogue_task,
            turns,
            turn_task,
            current,
            outbound,
            recording,
            session,
            ..
        } = self;
        if let Some((_, token)) = current {
            token.cancel();
        }
        drop(outbound);
        if let Err(e) = stt.close().await {
            debug!(error = %e, "closing speech-to-text");
        }
        if let Err(e) = tts.close().await {
            debug!(error = %e, "closing text-to-speech");
        }
        // The dialogue task finishes its current reply (writes complete), then ends the call
        // log; the turn writer flushes every committed turn first.
        drop(dialogue);
        drop(turns);
        let _ = turn_task.await;
        let _ = dialogue_task.await;
        session.finish().await;
        if let (Some(recorder), Some(dir)) = (recording, &services.recording_dir) {
            save_recording(recorder, dir, call_sid.as_str()).await;
        }
    }
}

/// Speaks and flushes one sentence tagged with `generation`.
async fn synthesize(
    tts: &mut dyn TtsStream,
    generation: GenerationId,
    text: &str,
) -> Result<(), otto_core::speech::SpeechError> {
    tts.speak(text).await?;
    tts.flush(generation).await
}

/// Runs reply generations one at a time and forwards their events; ends the call log when
/// the runner drops its sender.
async fn dialogue_loop(
    mut conversation: Conversation,
    mut commands: mpsc::Receiver<DialogueCmd>,
    replies: mpsc::Sender<(GenerationId, ReplyMsg)>,
    notice: Option<&'static str>,
) {
    while let Some(cmd) = commands.recv().await {
        match cmd {
            DialogueCmd::Reply {
                generation,
                input,
                cancel,
            } => {
                if cancel.is_cancelled() {
                    let _ = replies.send((generation, ReplyMsg::Done)).await;
                    continue;
                }
                let (sink_tx, mut sink_rx) = mpsc::channel(16);
                let reply = async {
                    let sink = sink_tx;
                    let result = conversation.reply(&input, &sink, &cancel).await;
                    drop(sink);
                    result
                };
                let notice = notice.filter(|_| input == ReplyInput::Greeting);
                let forward = forward_reply(generation, &mut sink_rx, &replies, notice);
                let (result, ()) = tokio::join!(reply, forward);
                let msg = match result {
                    Ok(()) => ReplyMsg::Done,
                    Err(e) => {
                        m::provider_error("dialogue");
                        warn!(error = %e, "reply failed");
                        ReplyMsg::Failed
                    }
                };
                let _ = replies.send((generation, msg)).await;
            }
            DialogueCmd::Truncated(heard) => conversation.truncated(&heard),
        }
    }
    if let Err(e) = conversation.end().await {
        warn!(error = %e, "could not end the call log");
    }
}

/// A reply's stage latencies from the engine, and the writer's report of its first frame.
struct ReplyTimings {
    latency: TurnLatency,
    /// When the engine reported `latency` (its `first_audio` instant).
    at: std::time::Instant,
    /// The writer's report for the reply's first frame, once that frame is queued.
    written: Option<tokio::sync::oneshot::Receiver<std::time::Instant>>,
}

impl ReplyTimings {
    /// The stage latencies in whole ms, as the call log stores them. `first_frame_ms` is end
    /// of speech to the first frame the socket took (Otto's voice-to-voice), recorded in
    /// `otto_turn_stage_seconds{stage="first_frame_sent"}`; when no frame was written (the
    /// reply was cut off first) it is `first_audio_ms`, and the metric is not recorded.
    fn timings(mut self) -> TurnTimings {
        let ms = |d: Duration| u32::try_from(d.as_millis()).unwrap_or(u32::MAX);
        let l = &self.latency;
        let written = self
            .written
            .as_mut()
            .and_then(|rx| rx.try_recv().ok())
            .map(|t| l.first_audio + t.saturating_duration_since(self.at));
        if let Some(d) = written {
            m::first_frame_sent(d);
        }
        TurnTimings {
            transcript_ms: ms(l.transcript),
            first_text_ms: ms(l.first_text),
            first_audio_ms: ms(l.first_audio),
            first_frame_ms: ms(written.unwrap_or(l.first_audio)),
        }
    }
}

/// Reply requests and truncations waiting for the dialogue task (it takes one reply at a
/// time; the engine never asks for a second before the first is done or cancelled).
const DIALOGUE_QUEUE: usize = 8;
/// Finished turns waiting for the turn writer: far more than a call makes while the store is
/// briefly away.
const TURN_QUEUE: usize = 256;

/// How long one turn's write is retried before it is given up as lost: long enough to ride
/// out a database restart. After a turn is lost, later turns get one attempt each until a
/// write succeeds again, so a long outage cannot hold the call's end for minutes per turn.
const TURN_RETRY_FOR: Duration = Duration::from_secs(120);

/// Writes finished turns to the call log in order, each attempt under a deadline, retrying
/// with backoff (see [`write_turns`]).
async fn turn_writer(call_log: CallLog, turns: mpsc::Receiver<NewTurn>) {
    let write = |turn: NewTurn| {
        let log = call_log.clone();
        async move {
            match tokio::time::timeout(STORE_TIMEOUT, log.append(&turn)).await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(e.to_string()),
                Err(_) => Err("store timed out".to_string()),
            }
        }
    };
    let lost = write_turns(turns, write, TURN_RETRY_FOR).await;
    if lost > 0 {
        tracing::error!(
            lost,
            "turns lost from the call log: the store stayed unreachable"
        );
    }
}

/// Writes each turn with `write`, in order, retrying a failed write with backoff (100 ms
/// doubling to 5 s) for up to `retry_for`; returns how many turns were given up. Turns carry
/// their own `seq`, so a retry never duplicates a turn and a lost one never renumbers the rest.
async fn write_turns<F, Fut>(
    mut turns: mpsc::Receiver<NewTurn>,
    write: F,
    retry_for: Duration,
) -> u32
where
    F: Fn(NewTurn) -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    let mut lost = 0;
    let mut degraded = false;
    while let Some(turn) = turns.recv().await {
        let started = Instant::now();
        let mut backoff = Duration::from_millis(100);
        loop {
            match write(turn.clone()).await {
                Ok(()) => {
                    degraded = false;
                    break;
                }
                Err(e) if degraded || started.elapsed() >= retry_for => {
                    warn!(error = %e, seq = ?turn.seq, "turn lost from the call log");
                    lost += 1;
                    degraded = true;
                    break;
                }
                Err(e) => {
                    warn!(error = %e, retry_ms = backoff.as_millis() as u64, "turn not written yet; retrying");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
            }
        }
    }
    lost
}

/// Forwards one generation's reply events to the runner, in order. `notice` (the recording
/// notice, on the greeting) is said right after the reply's first sentence, or alone at the
/// end when the reply has none.
async fn forward_reply(
    generation: GenerationId,
    events: &mut mpsc::Receiver<ReplyEvent>,
    replies: &mpsc::Sender<(GenerationId, ReplyMsg)>,
    mut notice: Option<&'static str>,
) {
    let send = |event| replies.send((generation, ReplyMsg::Event(event)));
    while let Some(event) = events.recv().await {
        let sentence = matches!(event, ReplyEvent::Sentence(_));
        if send(event).await.is_err() {
            return;
        }
        if sentence
            && let Some(text) = notice.take()
            && send(ReplyEvent::Sentence(text.into())).await.is_err()
        {
            return;
        }
    }
    if let Some(text) = notice {
        let _ = send(ReplyEvent::Sentence(text.into())).await;
    }
}

/// Writes the call's recording to `<dir>/<call_sid>.wav` (off the async threads); a failure
/// is logged, never fatal.
async fn save_recording(recorder: Recorder, dir: &Path, call_sid: &str) {
    if recorder.is_empty() {
        debug!("no audio: no call recording written");
        return;
    }
    let Some(path) = recording::recording_path(dir, call_sid) else {
        warn!("call recording not written: the call SID cannot name a file");
        return;
    };
    match tokio::task::spawn_blocking(move || recorder.finish(&path)).await {
        Ok(Ok(())) => debug!("call recording written"),
        Ok(Err(e)) => warn!(error = %e, "call recording not written"),
        Err(e) => warn!(error = %e, "call recording not written: the writer failed"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    fn numbered(n: u32) -> mpsc::Receiver<NewTurn> {
        let (tx, rx) = mpsc::channel(n.max(1) as usize);
        for seq in 0..n {
            tx.try_send(NewTurn {
                speaker: Speaker::Caller,
                text: format!("turn {seq}"),
                at: Utc::now(),
                interrupted: false,
                timings: None,
                seq: Some(seq),
            })
            .unwrap();
        }
        rx
    }

    #[tokio::test(start_paused = true)]
    async fn turn_writes_ride_out_a_store_outage_in_order() {
        // The store refuses the first 6 attempts (an outage of a few seconds), then works.
        let attempts = Mutex::new(0u32);
        let written = Mutex::new(Vec::new());
        let write = |turn: NewTurn| {
            let mut a = attempts.lock().unwrap();
            *a += 1;
            let ok = *a > 6;
            if ok {
                written.lock().unwrap().push(turn.seq);
            }
            async move {
                if ok {
                    Ok(())
                } else {
                    Err("connection refused".to_string())
                }
            }
        };
        let lost = write_turns(numbered(15), write, Duration::from_secs(120)).await;
        assert_eq!(lost, 0);
        let written = written.into_inner().unwrap();
        assert_eq!(
            written,
            (0..15).map(Some).collect::<Vec<_>>(),
            "all, in order"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_long_outage_loses_turns_without_holding_the_call_for_each() {
        let write = |_: NewTurn| async { Err::<(), _>("connection refused".to_string()) };
        let started = Instant::now();
        let lost = write_turns(numbered(15), write, Duration::from_secs(120)).await;
        assert_eq!(lost, 15);
        // The first turn is retried for the whole window; the rest get one attempt each.
        assert!(
            started.elapsed() < Duration::from_secs(130),
            "{:?}",
            started.elapsed()
        );
    }

    /// The sentences the runner receives for one reply of `sentences`.
    async fn forwarded(sentences: &[&str], notice: Option<&'static str>) -> Vec<String> {
        let (sink, mut events) = mpsc::channel(16);
        for s in sentences {
            sink.send(ReplyEvent::Sentence((*s).to_owned()))
                .await
                .unwrap();
        }
        drop(sink);
        let (replies, mut received) = mpsc::channel(16);
        forward_reply(GenerationId(1), &mut events, &replies, notice).await;
        drop(replies);
        let mut out = Vec::new();
        while let Some((generation, msg)) = received.recv().await {
            assert_eq!(generation, GenerationId(1));
            if let ReplyMsg::Event(ReplyEvent::Sentence(text)) = msg {
                out.push(text);
            }
        }
        out
    }

    #[tokio::test]
    async fn a_recorded_call_is_announced_after_the_first_sentence_of_the_greeting() {
        let greeting = [
            "Hi Jordan, thanks for calling Otto's Auto.",
            "How can I help you today?",
        ];
        assert_eq!(
            forwarded(&greeting, Some(recording::NOTICE)).await,
            [greeting[0], "This call is recorded.", greeting[1]]
        );
        assert_eq!(forwarded(&greeting, None).await, greeting);
        assert_eq!(
            forwarded(&[], Some(recording::NOTICE)).await,
            [recording::NOTICE]
        );
    }
}
