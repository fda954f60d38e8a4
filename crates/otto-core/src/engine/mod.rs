//! The call engine: one sans-IO state machine per call that owns turn-taking, barge-in,
//! playback bookkeeping, silence handling and the call's time limit.
//!
//! The engine never reads the clock, spawns a task or touches a socket. Its driver (the call
//! runner in the server) feeds it [`Input`]s stamped with `now`, executes every [`Output`] it
//! drains with [`CallEngine::poll_output`], and calls [`CallEngine::handle_timeout`] when the
//! instant from [`CallEngine::poll_timeout`] passes. Tests drive it with explicit time.
//!
//! Model (see `shared/design/ARCHITECTURE.md`, "Rules that keep calls correct"):
//! - **Caller turns.** Final transcripts accumulate; the turn ends on a speech-final result, an
//!   utterance end, or the engine's own endpointing backstop (no speech activity for
//!   [`EngineConfig::endpoint_backstop_ms`] after a final). The turn is committed and a reply
//!   generation starts at once.
//! - **Early endpointing.** The driver runs its own voice activity detector on the caller's
//!   audio, which notices the end of speech sooner than the recogniser's endpointing does, and
//!   reports it ([`Input::SpeechEnded`]). When it is the caller's turn the engine asks the
//!   recogniser to finalise what it holds ([`Output::FinalizeStt`], Deepgram `Finalize`), and
//!   a finalize result ends the turn when the caller's words read as finished
//!   ([`reads_complete`]); otherwise the turn waits for the recogniser as above.
//! - **Generations.** Every reply has a [`GenerationId`]; text, audio and actions tagged with a
//!   stale id are dropped. Reply text arrives sentence by sentence; each sentence becomes a TTS
//!   segment whose audio is sent to Twilio frame by frame, followed by marks.
//! - **Know what was heard.** Marks echoed by Twilio advance the played position. On barge-in
//!   the engine cancels the generation, clears Twilio's buffer and the TTS, and commits the
//!   assistant turn cut to what was played.
//! - **Barge-in or backchannel.** Caller speech before the reply's audio has gone out cancels
//!   it at once (the caller is still talking). Once Otto's audio plays, a sound is judged
//!   first: words other than a backchannel ("mm-hmm", "okay", "right", "yeah", see
//!   [`is_backchannel`]) barge in at once; a backchannel or a short sound (a cough, a click)
//!   does not, and the reply plays on uninterrupted. Speech goes on too long to be one when
//!   the recogniser reports activity [`EngineConfig::barge_in_min_speech_ms`] after it began,
//!   or when nothing has ended it [`EngineConfig::barge_in_max_wait_ms`] after it began (for
//!   recognisers that give no words until the speaker stops): then it barges in. A backchannel
//!   heard during the reply is not a turn, except when the reply ends with a question and
//!   nothing else was said: it then answers that question once the reply has played (so a
//!   read-back is always heard whole before an "uh-huh" can confirm it).
//! - **Silence.** After a reply has played, silence longer than
//!   [`EngineConfig::silence_reprompt_ms`] gets a reprompt; after
//!   [`EngineConfig::max_reprompts`] of them, a goodbye and a hang-up.
//! - **Limits.** At [`EngineConfig::max_call_ms`] the engine says goodbye and hangs up.
//!
//! Control outputs (cancel, clear) are emitted before any audio queued by the same input, so a
//! driver that executes outputs in order never delays barge-in behind media.

mod playback;
mod words;

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::records::Speaker;
use crate::speech::{FRAME_BYTES, GenerationId, SttEvent, TtsEvent};

use playback::Reply;
pub use words::{is_backchannel, reads_complete};

/// Timing and wording knobs of the engine. Defaults follow common practice for phone agents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineConfig {
    /// Silence after Otto finished speaking before a reprompt, ms. Default 6000.
    pub silence_reprompt_ms: u64,
    /// Reprompts before Otto says goodbye and hangs up. Default 2.
    pub max_reprompts: u32,
    /// Endpointing backstop: with caller text pending and no speech activity for this long
    /// after a final transcript, the caller's turn ends, ms. Default 1200.
    pub endpoint_backstop_ms: u64,
    /// Longest call, ms. Default 15 minutes.
    pub max_call_ms: u64,
    /// Caller sound without words other than a backchannel, heard while Otto's audio plays,
    /// that the recogniser still reports as activity this long after it began is a barge-in,
    /// ms. Default 600.
    pub barge_in_min_speech_ms: u64,
    /// Such a sound that nothing has ended (no final, no utterance end) this long after it
    /// began is a barge-in, ms. Default 1000.
    pub barge_in_max_wait_ms: u64,
    /// A goodbye that has not finished playing after this long is cut by the hang-up, ms.
    /// Default 10000.
    pub goodbye_grace_ms: u64,
    /// Audio frames (20 ms each) sent between two playback marks, however the TTS chunks its
    /// audio; a sentence's last frame is always followed by a mark. Default 5 (100 ms), the
    /// resolution of "what was played" at barge-in.
    pub frames_per_mark: usize,
    /// Said after silence.
    pub reprompt_text: String,
    /// Said before hanging up after repeated silence.
    pub silence_goodbye_text: String,
    /// Said before hanging up at the call's time limit.
    pub time_limit_goodbye_text: String,
    /// Said when a reply generation fails without producing any text.
    pub apology_text: String,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            silence_reprompt_ms: 6_000,
            max_reprompts: 2,
            endpoint_backstop_ms: 1_200,
            max_call_ms: 15 * 60 * 1_000,
            barge_in_min_speech_ms: 600,
            barge_in_max_wait_ms: 1_000,
            goodbye_grace_ms: 10_000,
            frames_per_mark: 5,
            reprompt_text: "Are you still there?".into(),
            silence_goodbye_text: "I haven't heard anything, so I'll hang up now. Goodbye!".into(),
            time_limit_goodbye_text:
                "I'm sorry, we've reached the time limit for this call. Please call back if you need anything else. Goodbye!"
                    .into(),
            apology_text: "Sorry, I'm having trouble right now. Could you say that again?".into(),
        }
    }
}

/// Something that happened, fed to the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Twilio `start`: the media stream is open. Audio time 0 of the STT stream is `now`.
    Start,
    /// An event from the speech-to-text stream.
    Stt(SttEvent),
    /// The driver's voice activity detector saw the caller stop speaking (its own, shorter,
    /// endpointing silence after speech). See the module docs, "Early endpointing".
    SpeechEnded,
    /// Twilio `dtmf`: a key the caller pressed (`0`-`9`, `*`, `#`).
    Dtmf(char),
    /// Twilio `mark`: playback reached (or `clear` discarded) the mark with this name.
    MarkEchoed(String),
    /// Twilio `stop` or the media socket closed: the call is over.
    Stop,
    /// The dialogue produced the next sentence of its reply.
    ReplySentence {
        generation: GenerationId,
        text: String,
    },
    /// The dialogue asks for a call action once its reply has played. Send it before the
    /// generation's [`Input::ReplyDone`].
    ReplyAction {
        generation: GenerationId,
        action: CallAction,
    },
    /// The dialogue finished its reply (all sentences given).
    ReplyDone { generation: GenerationId },
    /// The dialogue failed; Otto apologises unless the reply already said something.
    ReplyFailed { generation: GenerationId },
    /// An event from the text-to-speech stream.
    Tts(TtsEvent),
    /// The text-to-speech session failed (a `speak`, `flush` or `clear` error, or its event
    /// stream ended) and the driver tried to open a new one: `reopened` tells whether it did.
    /// With a new session the engine synthesises again every sentence of the current reply
    /// whose audio had not finished; without one, or after [`MAX_TTS_RETRIES`] losses in a row
    /// with no audio in between, it skips them, so the call goes on instead of falling silent.
    TtsLost { reopened: bool },
}

/// Text-to-speech losses in a row (no audio arriving in between) after which the engine stops
/// synthesising the current sentences again and skips them.
pub const MAX_TTS_RETRIES: u32 = 2;

/// What a reply generation responds to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyInput {
    /// The call just connected: greet the caller.
    Greeting,
    /// The caller's finished turn.
    Caller(String),
    /// A key the caller pressed.
    Dtmf(char),
}

/// An action the dialogue may ask for; the engine performs it after the reply has played.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallAction {
    /// Transfer the call to this number (E.164).
    Transfer { to: String },
    /// End the call.
    HangUp,
}

/// Why the call ended, as far as the engine knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// Twilio stopped the stream (the caller hung up or the call was redirected).
    Stopped,
    /// Otto hung up (the dialogue's choice, repeated silence or the time limit).
    HungUp,
    /// Otto transferred the call.
    Transferred,
}

/// Stage latencies of one caller turn, all measured from the end of the caller's speech.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TurnLatency {
    /// End of speech (per the recogniser's word timing) to the turn being committed.
    pub transcript: Duration,
    /// End of speech to the first sentence of the reply.
    pub first_text: Duration,
    /// End of speech to the first TTS audio byte. (The first frame written to Twilio is
    /// measured by the driver, at its socket writer: the engine never sees it.)
    pub first_audio: Duration,
}

/// Something the driver must do, drained with [`CallEngine::poll_output`] in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Start a dialogue reply generation for this input.
    StartReply {
        generation: GenerationId,
        input: ReplyInput,
    },
    /// Cancel the reply generation (barge-in, hang-up). Writes it started still complete.
    CancelReply { generation: GenerationId },
    /// Tell the dialogue what part of its reply the caller actually heard (barge-in).
    ReplyTruncated {
        generation: GenerationId,
        heard: String,
    },
    /// Synthesise `text` and flush it, tagging the audio with `generation`.
    Synthesize {
        generation: GenerationId,
        text: String,
    },
    /// Drop all text buffered in the TTS and stop its audio (TTS `Clear`).
    ClearTts,
    /// Ask the recogniser to finalise the audio it holds now ([`crate::speech::stt::SttStream::finalize`],
    /// Deepgram `Finalize`): its result comes back as a final with `from_finalize`.
    FinalizeStt,
    /// Send one μ-law frame (160 bytes, 20 ms) to Twilio.
    SendAudio(Vec<u8>),
    /// Send a Twilio `mark` with this name.
    SendMark(String),
    /// Send a Twilio `clear`: discard audio buffered for playback.
    ClearPlayback,
    /// Commit a finished turn to the call log now.
    CommitTurn {
        speaker: Speaker,
        text: String,
        interrupted: bool,
    },
    /// Transfer the call (Twilio REST: update the call with `<Dial>`).
    Transfer { to: String },
    /// End the call (Twilio REST: update the call with `Status=completed`).
    HangUp,
    /// The caller barged in on a reply (for metrics and logs).
    BargedIn { generation: GenerationId },
    /// Stage latencies of a caller turn, once its reply's first frame is sent.
    Latency(TurnLatency),
    /// The call is over; the driver closes the stream. No further outputs follow.
    Ended(EndReason),
}

/// Phase of the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Before Twilio's `start`.
    Connecting,
    /// The stream is up.
    Live,
    /// Otto is saying goodbye; the call ends when it has played (or at the grace deadline).
    Closing,
    /// Over.
    Ended,
}

/// Latency bookkeeping for the caller turn being answered.
#[derive(Debug, Clone, Copy)]
struct TurnClock {
    generation: GenerationId,
    speech_end: Instant,
    committed: Instant,
    first_text: Option<Instant>,
    first_audio: Option<Instant>,
}

/// The per-call state machine. See the module docs.
#[derive(Debug)]
pub struct CallEngine {
    config: EngineConfig,
    phase: Phase,
    started_at: Option<Instant>,
    /// Audio time 0 of the STT stream.
    audio_origin: Option<Instant>,
    next_generation: u64,
    next_mark: u64,
    reply: Option<Reply>,
    /// Caller text of the turn in progress (finals so far).
    caller_text: String,
    /// End of the caller's latest words, wall-clock, for latency figures.
    caller_speech_end: Option<Instant>,
    /// Speech activity seen since the caller's last committed turn.
    caller_active: bool,
    endpoint_deadline: Option<Instant>,
    silence_deadline: Option<Instant>,
    reprompts: u32,
    closing_deadline: Option<Instant>,
    turn_clock: Option<TurnClock>,
    /// [`Input::TtsLost`] in a row with no TTS audio or `Flushed` in between.
    tts_losses: u32,
    /// Caller sound heard over the playing reply, not (yet) a barge-in.
    overlap: Option<Overlap>,
    outputs: VecDeque<Output>,
}

/// Caller sound over Otto's playing audio that has not been judged a barge-in.
#[derive(Debug, Clone, Default)]
struct Overlap {
    /// When the sound began; `None` once it ended.
    since: Option<Instant>,
    /// Backchannel words heard ("okay", "mm-hmm"), held rather than made a turn.
    held: String,
}

impl CallEngine {
    /// A new engine for one call, waiting for [`Input::Start`].
    pub fn new(config: EngineConfig) -> Self {
        Self {
            config,
            phase: Phase::Connecting,
            started_at: None,
            audio_origin: None,
            next_generation: 1,
            next_mark: 1,
            reply: None,
            caller_text: String::new(),
            caller_speech_end: None,
            caller_active: false,
            endpoint_deadline: None,
            silence_deadline: None,
            reprompts: 0,
            closing_deadline: None,
            turn_clock: None,
            tts_losses: 0,
            overlap: None,
            outputs: VecDeque::new(),
        }
    }

    /// True once the call has ended; inputs are then ignored.
    pub fn is_ended(&self) -> bool {
        self.phase == Phase::Ended
    }

    /// The generation currently being spoken or prepared, if any.
    pub fn current_generation(&self) -> Option<GenerationId> {
        self.reply.as_ref().map(|r| r.generation)
    }

    /// Next output to execute, in order; `None` when there is nothing to do until the next
    /// input or timeout.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// The earliest instant at which [`CallEngine::handle_timeout`] must be called, if any.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.phase == Phase::Ended {
            return None;
        }
        let limit = self
            .started_at
            .map(|s| s + Duration::from_millis(self.config.max_call_ms));
        let barge = self
            .overlap_since()
            .map(|since| since + Duration::from_millis(self.config.barge_in_max_wait_ms));
        [
            self.endpoint_deadline,
            self.silence_deadline,
            self.closing_deadline,
            barge,
            if self.phase == Phase::Live {
                limit
            } else {
                None
            },
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Feeds one input that happened at `now`.
    pub fn handle_input(&mut self, now: Instant, input: Input) {
        if self.phase == Phase::Ended {
            return;
        }
        match input {
            Input::Start => self.on_start(now),
            Input::Stt(event) => self.on_stt(now, event),
            Input::SpeechEnded => {
                if self.phase == Phase::Live && self.reply.is_none() {
                    self.outputs.push_back(Output::FinalizeStt);
                }
            }
            Input::Dtmf(digit) => self.on_dtmf(digit),
            Input::MarkEchoed(name) => self.on_mark(now, &name),
            Input::Stop => self.end(EndReason::Stopped),
            Input::ReplySentence { generation, text } => self.on_sentence(now, generation, text),
            Input::ReplyAction { generation, action } => {
                if let Some(r) = self.reply_mut(generation) {
                    r.action = Some(action);
                }
            }
            Input::ReplyDone { generation } => {
                if let Some(r) = self.reply_mut(generation) {
                    r.text_done = true;
                }
                self.check_reply_played(now);
            }
            Input::ReplyFailed { generation } => self.on_reply_failed(now, generation),
            Input::Tts(event) => self.on_tts(now, event),
            Input::TtsLost { reopened } => self.on_tts_lost(now, reopened),
        }
    }

    /// Handles every deadline at or before `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.phase == Phase::Ended {
            return;
        }
        if self.phase == Phase::Live
            && let Some(start) = self.started_at
            && now >= start + Duration::from_millis(self.config.max_call_ms)
        {
            let text = self.config.time_limit_goodbye_text.clone();
            self.interrupt_reply(false);
            self.say_goodbye(now, text);
            return;
        }
        if self.closing_deadline.is_some_and(|d| now >= d) {
            self.closing_deadline = None;
            self.outputs.push_back(Output::HangUp);
            self.end(EndReason::HungUp);
            return;
        }
        self.check_sustained(now, self.config.barge_in_max_wait_ms);
        if self.endpoint_deadline.is_some_and(|d| now >= d) {
            self.endpoint_deadline = None;
            self.end_caller_turn(now);
        }
        if self.silence_deadline.is_some_and(|d| now >= d) {
            self.silence_deadline = None;
            self.on_silence(now);
        }
    }

    fn reply_mut(&mut self, generation: GenerationId) -> Option<&mut Reply> {
        self.reply.as_mut().filter(|r| r.generation == generation)
    }

    fn allocate_generation(&mut self) -> GenerationId {
        let g = GenerationId(self.next_generation);
        self.next_generation += 1;
        g
    }

    fn on_start(&mut self, now: Instant) {
        if self.phase != Phase::Connecting {
            return; // a second `start` is a protocol error: ignore it
        }
        self.phase = Phase::Live;
        self.started_at = Some(now);
        self.audio_origin = Some(now);
        self.start_reply(ReplyInput::Greeting);
    }

    fn start_reply(&mut self, input: ReplyInput) {
        self.overlap = None;
        let generation = self.allocate_generation();
        self.reply = Some(Reply::new(generation, true));
        self.silence_deadline = None;
        self.outputs
            .push_back(Output::StartReply { generation, input });
    }

    /// Speaks fixed engine text (reprompts, goodbyes) as a reply of its own.
    fn speak_engine_text(&mut self, text: String, action: Option<CallAction>) {
        let generation = self.allocate_generation();
        let mut reply = Reply::new(generation, false);
        reply.push_sentence(text.clone());
        reply.text_done = true;
        reply.action = action;
        self.reply = Some(reply);
        self.silence_deadline = None;
        self.outputs
            .push_back(Output::Synthesize { generation, text });
    }

    fn audio_instant(&self, audio_ms: u64, now: Instant) -> Instant {
        self.audio_origin
            .map_or(now, |o| o + Duration::from_millis(audio_ms))
            .min(now)
    }

    fn on_stt(&mut self, now: Instant, event: SttEvent) {
        if self.phase != Phase::Live {
            return;
        }
        match event {
            SttEvent::SpeechStarted { .. } => self.on_caller_activity(now, None),
            SttEvent::Interim { text } => {
                if !text.trim().is_empty() {
                    self.on_caller_activity(now, Some(&text));
                } else if self.caller_active {
                    // Ongoing speech: keep the backstop from firing mid-utterance.
                    self.rearm_backstop(now);
                    self.check_sustained(now, self.config.barge_in_min_speech_ms);
                }
            }
            SttEvent::Final {
                text,
                speech_final,
                from_finalize,
                start_ms,
                duration_ms,
            } => {
                let text = text.trim();
                if !text.is_empty() {
                    if self.reply.is_some() {
                        // Words while Otto talks: a barge-in even without a VAD event,
                        // unless they are a backchannel over its playing audio.
                        self.on_caller_activity(now, Some(text));
                    }
                    if let Some(o) = self.overlap.as_mut() {
                        if !o.held.is_empty() {
                            o.held.push(' ');
                        }
                        o.held.push_str(text);
                    } else {
                        if !self.caller_text.is_empty() {
                            self.caller_text.push(' ');
                        }
                        self.caller_text.push_str(text);
                        self.caller_speech_end =
                            Some(self.audio_instant(start_ms + duration_ms, now));
                        self.reprompts = 0;
                        self.silence_deadline = None;
                        self.rearm_backstop(now);
                    }
                }
                // A finalize result ends the turn early only when it is the caller's turn and
                // their words read as finished.
                let finished =
                    from_finalize && self.reply.is_none() && reads_complete(&self.caller_text);
                if speech_final || finished {
                    self.end_caller_turn(now);
                }
            }
            SttEvent::UtteranceEnd { last_word_end_ms } => {
                if self.caller_speech_end.is_none() && !self.caller_text.is_empty() {
                    self.caller_speech_end = Some(self.audio_instant(last_word_end_ms, now));
                }
                self.end_caller_turn(now);
            }
        }
    }

    fn rearm_backstop(&mut self, now: Instant) {
        if !self.caller_text.is_empty() {
            self.endpoint_deadline =
                Some(now + Duration::from_millis(self.config.endpoint_backstop_ms));
        }
    }

    /// The caller is making a sound (`words`, when the recogniser gave any): stop the silence
    /// timer, and barge in on a reply that has no audio out yet, or on a playing one when the
    /// words are more than a backchannel (see the module docs).
    fn on_caller_activity(&mut self, now: Instant, words: Option<&str>) {
        self.caller_active = true;
        self.silence_deadline = None;
        self.rearm_backstop(now);
        let Some(reply) = &self.reply else {
            return;
        };
        if !reply.audio_sent() || words.is_some_and(|w| !is_backchannel(w)) {
            self.barge_in();
            return;
        }
        let o = self.overlap.get_or_insert_with(Overlap::default);
        o.since.get_or_insert(now);
        if words.is_none() {
            self.check_sustained(now, self.config.barge_in_min_speech_ms);
        }
    }

    /// When the overlap is a sound that has not ended.
    fn overlap_since(&self) -> Option<Instant> {
        self.overlap.as_ref().and_then(|o| o.since)
    }

    /// Barges in on an overlap that has gone on `after_ms` or longer.
    fn check_sustained(&mut self, now: Instant, after_ms: u64) {
        if self
            .overlap_since()
            .is_some_and(|since| now >= since + Duration::from_millis(after_ms))
        {
            self.barge_in();
        }
    }

    /// Interrupts the reply for the caller; backchannel words held so far start their turn.
    fn barge_in(&mut self) {
        if let Some(o) = self.overlap.take()
            && !o.held.is_empty()
        {
            self.caller_text = if self.caller_text.is_empty() {
                o.held
            } else {
                format!("{} {}", o.held, self.caller_text)
            };
        }
        self.interrupt_reply(true);
    }

    /// Cancels the current reply, clears playback and commits what was heard.
    fn interrupt_reply(&mut self, barge_in: bool) {
        self.overlap = None;
        let Some(reply) = self.reply.take() else {
            return;
        };
        let generation = reply.generation;
        if barge_in {
            self.outputs.push_back(Output::BargedIn { generation });
        }
        if reply.from_dialogue {
            self.outputs.push_back(Output::CancelReply { generation });
        }
        if reply.audio_sent() {
            self.outputs.push_back(Output::ClearPlayback);
        }
        self.outputs.push_back(Output::ClearTts);
        let heard = reply.heard_text();
        if reply.from_dialogue {
            self.outputs.push_back(Output::ReplyTruncated {
                generation,
                heard: heard.clone(),
            });
        }
        if !heard.is_empty() {
            self.outputs.push_back(Output::CommitTurn {
                speaker: Speaker::Agent,
                text: heard,
                interrupted: true,
            });
        }
        if self.turn_clock.is_some_and(|c| c.generation == generation) {
            self.turn_clock = None;
        }
    }

    fn end_caller_turn(&mut self, now: Instant) {
        self.endpoint_deadline = None;
        self.caller_active = false;
        if let Some(o) = self.overlap.as_mut() {
            o.since = None; // the sound over the reply ended without being a barge-in
        }
        let text = std::mem::take(&mut self.caller_text);
        let speech_end = self.caller_speech_end.take().unwrap_or(now);
        if text.is_empty() || self.phase != Phase::Live {
            if self.reply.is_none() && self.phase == Phase::Live {
                self.arm_silence(now);
            }
            return;
        }
        if self.reply.is_some() {
            self.interrupt_reply(true);
        }
        self.outputs.push_back(Output::CommitTurn {
            speaker: Speaker::Caller,
            text: text.clone(),
            interrupted: false,
        });
        self.start_reply(ReplyInput::Caller(text));
        if let Some(generation) = self.current_generation() {
            self.turn_clock = Some(TurnClock {
                generation,
                speech_end,
                committed: now,
                first_text: None,
                first_audio: None,
            });
        }
    }

    fn on_dtmf(&mut self, digit: char) {
        if self.phase != Phase::Live || !(digit.is_ascii_digit() || digit == '*' || digit == '#') {
            return;
        }
        self.interrupt_reply(true);
        self.reprompts = 0;
        self.start_reply(ReplyInput::Dtmf(digit));
    }

    fn on_sentence(&mut self, now: Instant, generation: GenerationId, text: String) {
        let text = text.trim().to_string();
        let Some(reply) = self.reply_mut(generation) else {
            return;
        };
        if text.is_empty() || reply.text_done {
            return;
        }
        reply.push_sentence(text.clone());
        if let Some(clock) = self
            .turn_clock
            .as_mut()
            .filter(|c| c.generation == generation)
            && clock.first_text.is_none()
        {
            clock.first_text = Some(now);
        }
        self.outputs
            .push_back(Output::Synthesize { generation, text });
    }

    fn on_reply_failed(&mut self, now: Instant, generation: GenerationId) {
        let Some(reply) = self.reply_mut(generation) else {
            return;
        };
        reply.text_done = true;
        if reply.is_silent() {
            let text = self.config.apology_text.clone();
            self.reply = None;
            self.speak_engine_text(text, None);
        } else {
            self.check_reply_played(now);
        }
    }

    /// See [`Input::TtsLost`].
    fn on_tts_lost(&mut self, now: Instant, reopened: bool) {
        self.tts_losses += 1;
        let Some(reply) = self.reply.as_ref() else {
            return;
        };
        let generation = reply.generation;
        let unfinished = reply.unflushed_texts();
        // Whatever synthesis was still queued went to the lost session's successor anyway:
        // drop it here and queue every unfinished sentence once, in order.
        self.outputs
            .retain(|o| !matches!(o, Output::Synthesize { .. }));
        if reopened && self.tts_losses <= MAX_TTS_RETRIES {
            for text in unfinished {
                self.outputs
                    .push_back(Output::Synthesize { generation, text });
            }
        } else {
            for _ in 0..unfinished.len() {
                self.on_tts(now, TtsEvent::Flushed { generation });
            }
        }
    }

    fn on_tts(&mut self, now: Instant, event: TtsEvent) {
        if matches!(event, TtsEvent::Audio { .. } | TtsEvent::Flushed { .. }) {
            self.tts_losses = 0;
        }
        match event {
            TtsEvent::Audio { generation, mulaw } => {
                let every = self.config.frames_per_mark.max(1);
                let Some(reply) = self.reply.as_mut().filter(|r| r.generation == generation) else {
                    return; // stale audio of a cancelled reply
                };
                if let Some(clock) = self
                    .turn_clock
                    .as_mut()
                    .filter(|c| c.generation == generation)
                    && clock.first_audio.is_none()
                    && !mulaw.is_empty()
                {
                    clock.first_audio = Some(now);
                    let latency = TurnLatency {
                        transcript: clock.committed.saturating_duration_since(clock.speech_end),
                        first_text: clock
                            .first_text
                            .unwrap_or(now)
                            .saturating_duration_since(clock.speech_end),
                        first_audio: now.saturating_duration_since(clock.speech_end),
                    };
                    self.outputs.push_back(Output::Latency(latency));
                }
                for frame in mulaw.chunks(FRAME_BYTES) {
                    let mut frame = frame.to_vec();
                    frame.resize(FRAME_BYTES, crate::speech::MULAW_SILENCE);
                    reply.record_audio(frame.len());
                    self.outputs.push_back(Output::SendAudio(frame));
                    if reply.unmarked_frames() >= every {
                        let name = format!("m{}", self.next_mark);
                        self.next_mark += 1;
                        reply.push_mark(name.clone());
                        self.outputs.push_back(Output::SendMark(name));
                    }
                }
            }
            TtsEvent::Flushed { generation } => {
                if let Some(reply) = self.reply.as_mut().filter(|r| r.generation == generation) {
                    // A mark after the sentence's last frame tells when it has all played.
                    if reply.unmarked_frames() > 0 {
                        let name = format!("m{}", self.next_mark);
                        self.next_mark += 1;
                        reply.push_mark(name.clone());
                        self.outputs.push_back(Output::SendMark(name));
                    }
                    reply.segment_flushed();
                }
                self.check_reply_played(now);
            }
            TtsEvent::Cleared => {}
        }
    }

    fn on_mark(&mut self, now: Instant, name: &str) {
        if let Some(reply) = self.reply.as_mut() {
            reply.mark_played(name);
        }
        self.check_reply_played(now);
    }

    /// When the current reply has fully played: commit it and run its action, or listen.
    fn check_reply_played(&mut self, now: Instant) {
        if !self.reply.as_ref().is_some_and(Reply::fully_played) {
            return;
        }
        let Some(reply) = self.reply.take() else {
            return;
        };
        let text = reply.full_text();
        // A backchannel said over the reply answers it only when it ended with a question.
        let answer = self
            .overlap
            .take()
            .map(|o| o.held)
            .filter(|held| !held.is_empty() && text.trim_end().ends_with('?'));
        if !text.is_empty() {
            self.outputs.push_back(Output::CommitTurn {
                speaker: Speaker::Agent,
                text,
                interrupted: false,
            });
        }
        match reply.action {
            Some(CallAction::HangUp) => {
                self.outputs.push_back(Output::HangUp);
                self.end(EndReason::HungUp);
            }
            Some(CallAction::Transfer { to }) => {
                self.outputs.push_back(Output::Transfer { to });
                self.end(EndReason::Transferred);
            }
            None if self.phase == Phase::Closing => {
                self.outputs.push_back(Output::HangUp);
                self.end(EndReason::HungUp);
            }
            None => match answer {
                Some(held) if self.caller_text.is_empty() => {
                    self.caller_text = held;
                    self.end_caller_turn(now);
                }
                _ => self.arm_silence(now),
            },
        }
    }

    fn arm_silence(&mut self, now: Instant) {
        if self.phase == Phase::Live && !self.caller_active {
            self.silence_deadline =
                Some(now + Duration::from_millis(self.config.silence_reprompt_ms));
        }
    }

    fn on_silence(&mut self, now: Instant) {
        if self.phase != Phase::Live || self.reply.is_some() || self.caller_active {
            return;
        }
        if self.reprompts >= self.config.max_reprompts {
            let text = self.config.silence_goodbye_text.clone();
            self.say_goodbye(now, text);
        } else {
            self.reprompts += 1;
            let text = self.config.reprompt_text.clone();
            self.speak_engine_text(text, None);
        }
    }

    fn say_goodbye(&mut self, now: Instant, text: String) {
        self.phase = Phase::Closing;
        self.endpoint_deadline = None;
        self.silence_deadline = None;
        self.closing_deadline = Some(now + Duration::from_millis(self.config.goodbye_grace_ms));
        self.speak_engine_text(text, Some(CallAction::HangUp));
    }

    fn end(&mut self, reason: EndReason) {
        if self.phase == Phase::Ended {
            return;
        }
        if reason == EndReason::Stopped {
            self.interrupt_reply(false);
            // Words the caller said before hanging up still belong in the transcript.
            let text = std::mem::take(&mut self.caller_text);
            if !text.is_empty() {
                self.outputs.push_back(Output::CommitTurn {
                    speaker: Speaker::Caller,
                    text,
                    interrupted: false,
                });
            }
        }
        self.phase = Phase::Ended;
        self.endpoint_deadline = None;
        self.silence_deadline = None;
        self.closing_deadline = None;
        self.outputs.push_back(Output::Ended(reason));
    }
}

#[cfg(test)]
mod tests;
