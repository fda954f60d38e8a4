//! Engine tests with explicit time: every scenario feeds inputs at chosen instants and asserts
//! the exact outputs.

use super::*;
use proptest::prelude::*;

const G1: GenerationId = GenerationId(1);
const G2: GenerationId = GenerationId(2);

struct Harness {
    engine: CallEngine,
    t0: Instant,
    now: Instant,
}

impl Harness {
    fn new() -> Self {
        let t0 = Instant::now();
        Self {
            engine: CallEngine::new(EngineConfig::default()),
            t0,
            now: t0,
        }
    }

    fn at(&mut self, ms: u64) -> &mut Self {
        self.now = self.t0 + Duration::from_millis(ms);
        self
    }

    fn input(&mut self, input: Input) -> Vec<Output> {
        self.engine.handle_input(self.now, input);
        self.drain()
    }

    fn tick(&mut self) -> Vec<Output> {
        self.engine.handle_timeout(self.now);
        self.drain()
    }

    fn drain(&mut self) -> Vec<Output> {
        std::iter::from_fn(|| self.engine.poll_output()).collect()
    }

    fn sentence(&mut self, generation: GenerationId, text: &str) -> Vec<Output> {
        self.input(Input::ReplySentence {
            generation,
            text: text.into(),
        })
    }

    /// TTS audio of `frames` frames for `generation`; returns the mark names sent.
    fn audio(&mut self, generation: GenerationId, frames: usize) -> Vec<String> {
        let out = self.input(Input::Tts(TtsEvent::Audio {
            generation,
            mulaw: vec![0x55; frames * FRAME_BYTES],
        }));
        marks(&out)
    }

    fn flushed(&mut self, generation: GenerationId) -> Vec<Output> {
        self.input(Input::Tts(TtsEvent::Flushed { generation }))
    }

    /// A whole sentence's audio (`frames` frames) then its `Flushed`; returns every mark sent.
    fn sentence_audio(&mut self, generation: GenerationId, frames: usize) -> Vec<String> {
        let mut m = self.audio(generation, frames);
        m.extend(marks(&self.flushed(generation)));
        m
    }

    fn echo(&mut self, names: &[String]) -> Vec<Output> {
        names
            .iter()
            .flat_map(|n| self.input(Input::MarkEchoed(n.clone())))
            .collect()
    }

    fn caller_says(&mut self, text: &str, start_ms: u64, duration_ms: u64) -> Vec<Output> {
        self.input(Input::Stt(SttEvent::Final {
            text: text.into(),
            speech_final: true,
            from_finalize: false,
            start_ms,
            duration_ms,
        }))
    }

    /// Greets with one sentence of `frames` frames, fully played.
    fn greet(&mut self, frames: usize) {
        self.at(0).input(Input::Start);
        self.sentence(G1, "Thanks for calling Otto's Auto.");
        let m = self.sentence_audio(G1, frames);
        self.input(Input::ReplyDone { generation: G1 });
        self.echo(&m);
    }
}

fn marks(out: &[Output]) -> Vec<String> {
    out.iter()
        .filter_map(|o| match o {
            Output::SendMark(n) => Some(n.clone()),
            _ => None,
        })
        .collect()
}

fn commits(out: &[Output]) -> Vec<(Speaker, String, bool)> {
    out.iter()
        .filter_map(|o| match o {
            Output::CommitTurn {
                speaker,
                text,
                interrupted,
            } => Some((*speaker, text.clone(), *interrupted)),
            _ => None,
        })
        .collect()
}

#[test]
fn greets_at_once_on_start() {
    let mut h = Harness::new();
    let out = h.at(0).input(Input::Start);
    assert_eq!(
        out,
        vec![Output::StartReply {
            generation: G1,
            input: ReplyInput::Greeting
        }]
    );
    assert!(
        h.engine.poll_timeout().is_some(),
        "the call time limit is armed"
    );
}

#[test]
fn a_reply_streams_audio_with_marks_and_commits_when_played() {
    let mut h = Harness::new();
    h.at(0).input(Input::Start);
    let out = h.at(300).sentence(G1, "Hello there.");
    assert_eq!(
        out,
        vec![Output::Synthesize {
            generation: G1,
            text: "Hello there.".into()
        }]
    );
    let out = h.at(320).input(Input::Tts(TtsEvent::Audio {
        generation: G1,
        mulaw: vec![1; 12 * FRAME_BYTES],
    }));
    let frames = out
        .iter()
        .filter(|o| matches!(o, Output::SendAudio(f) if f.len() == FRAME_BYTES))
        .count();
    assert_eq!(frames, 12);
    let mut m = marks(&out);
    assert_eq!(m.len(), 2, "a mark every 5 frames");
    m.extend(marks(&h.flushed(G1)));
    assert_eq!(m.len(), 3, "and one after the sentence's last frame");
    let done = h.input(Input::ReplyDone { generation: G1 });
    assert!(commits(&done).is_empty(), "not committed before it played");
    let played = h.at(560).echo(&m);
    assert_eq!(
        commits(&played),
        vec![(Speaker::Agent, "Hello there.".into(), false)]
    );
    assert_eq!(
        h.engine.poll_timeout(),
        Some(h.t0 + Duration::from_millis(560 + 6_000)),
        "silence timer armed after playback"
    );
}

#[test]
fn a_speech_final_transcript_ends_the_caller_turn_and_starts_a_reply() {
    let mut h = Harness::new();
    h.greet(10);
    h.at(2_000)
        .input(Input::Stt(SttEvent::SpeechStarted { at_ms: 1_990 }));
    let out = h
        .at(3_500)
        .caller_says("I need an oil change", 2_000, 1_200);
    assert_eq!(
        out,
        vec![
            Output::CommitTurn {
                speaker: Speaker::Caller,
                text: "I need an oil change".into(),
                interrupted: false
            },
            Output::StartReply {
                generation: G2,
                input: ReplyInput::Caller("I need an oil change".into())
            }
        ]
    );
}

#[test]
fn finals_accumulate_until_utterance_end() {
    let mut h = Harness::new();
    h.greet(5);
    let part = |text: &str| {
        Input::Stt(SttEvent::Final {
            text: text.into(),
            speech_final: false,
            from_finalize: false,
            start_ms: 0,
            duration_ms: 0,
        })
    };
    assert!(commits(&h.at(2_000).input(part("My name is"))).is_empty());
    assert!(commits(&h.at(2_400).input(part("Jordan Smith."))).is_empty());
    let out = h.at(3_100).input(Input::Stt(SttEvent::UtteranceEnd {
        last_word_end_ms: 2_400,
    }));
    assert_eq!(
        commits(&out),
        vec![(Speaker::Caller, "My name is Jordan Smith.".into(), false)]
    );
}

#[test]
fn the_endpointing_backstop_ends_a_turn_the_recogniser_never_closed() {
    let mut h = Harness::new();
    h.greet(5);
    h.at(2_000).input(Input::Stt(SttEvent::Final {
        text: "Tomorrow morning".into(),
        speech_final: false,
        from_finalize: false,
        start_ms: 1_000,
        duration_ms: 900,
    }));
    assert_eq!(
        h.engine.poll_timeout(),
        Some(h.t0 + Duration::from_millis(3_200))
    );
    assert!(h.at(3_199).tick().is_empty());
    let out = h.at(3_200).tick();
    assert_eq!(
        commits(&out),
        vec![(Speaker::Caller, "Tomorrow morning".into(), false)]
    );
}

#[test]
fn barge_in_clears_playback_first_and_keeps_only_what_was_heard() {
    let mut h = Harness::new();
    h.at(0).input(Input::Start);
    h.sentence(G1, "Thanks for calling Otto's Auto.");
    let first = h.sentence_audio(G1, 10);
    h.sentence(G1, "We can fit you in tomorrow at nine or at ten thirty.");
    let second = h.audio(G1, 20);
    h.input(Input::ReplyDone { generation: G1 });
    // Twilio played the first sentence and half of the second (2 of 4 marks).
    h.echo(&first);
    h.echo(&second[..2]);

    // A sound alone over playing audio is not yet a barge-in; words are, at once.
    assert!(
        h.at(1_000)
            .input(Input::Stt(SttEvent::SpeechStarted { at_ms: 990 }))
            .is_empty()
    );
    let out = h.at(1_150).input(Input::Stt(SttEvent::Interim {
        text: "wait, hold on".into(),
    }));
    // 12 words, half of the audio played: the first 6 words.
    let heard = "Thanks for calling Otto's Auto. We can fit you in tomorrow";
    assert_eq!(
        out,
        vec![
            Output::BargedIn { generation: G1 },
            Output::CancelReply { generation: G1 },
            Output::ClearPlayback,
            Output::ClearTts,
            Output::ReplyTruncated {
                generation: G1,
                heard: heard.into()
            },
            Output::CommitTurn {
                speaker: Speaker::Agent,
                text: heard.into(),
                interrupted: true
            },
        ]
    );
    // Late audio and mark echoes of the cancelled generation change nothing.
    assert!(h.audio(G1, 5).is_empty());
    assert!(h.echo(&second[2..]).is_empty());
    assert_eq!(h.engine.current_generation(), None);
}

#[test]
fn barge_in_before_any_audio_cancels_without_clearing_twilio() {
    let mut h = Harness::new();
    h.greet(5);
    h.at(2_000).caller_says("What are your hours", 1_000, 800);
    let out = h
        .at(2_100)
        .input(Input::Stt(SttEvent::SpeechStarted { at_ms: 2_090 }));
    assert!(out.contains(&Output::CancelReply { generation: G2 }));
    assert!(!out.contains(&Output::ClearPlayback), "{out:?}");
    assert!(commits(&out).is_empty(), "nothing was heard");
}

#[test]
fn silence_reprompts_then_says_goodbye_and_hangs_up() {
    let mut h = Harness::new();
    h.greet(5);
    let mut t = 6_000;
    for _ in 0..2 {
        let out = h.at(t).tick();
        let g = h.engine.current_generation().expect("reprompt generation");
        assert_eq!(
            out,
            vec![Output::Synthesize {
                generation: g,
                text: "Are you still there?".into()
            }]
        );
        let m = h.sentence_audio(g, 5);
        h.at(t + 100).echo(&m);
        t += 100 + 6_000;
    }
    let out = h.at(t).tick();
    let g = h.engine.current_generation().expect("goodbye generation");
    assert!(matches!(&out[0], Output::Synthesize { text, .. } if text.contains("hang up")));
    let m = h.sentence_audio(g, 5);
    let out = h.at(t + 100).echo(&m);
    assert_eq!(out.last(), Some(&Output::Ended(EndReason::HungUp)));
    assert!(out.contains(&Output::HangUp));
    assert!(h.engine.is_ended());
    assert_eq!(h.engine.poll_timeout(), None);
}

#[test]
fn caller_speech_resets_the_reprompt_count() {
    let mut h = Harness::new();
    h.greet(5);
    h.at(6_000).tick(); // first reprompt
    let g = h.engine.current_generation().expect("reprompt");
    h.input(Input::ReplyDone { generation: g });
    h.at(6_500).caller_says("Yes, sorry", 6_000, 400);
    assert_eq!(h.engine.reprompts, 0);
}

#[test]
fn dtmf_zero_barges_in_and_goes_to_the_dialogue() {
    let mut h = Harness::new();
    h.at(0).input(Input::Start);
    h.sentence(G1, "Hello.");
    let out = h.at(100).input(Input::Dtmf('0'));
    assert!(out.contains(&Output::CancelReply { generation: G1 }));
    assert_eq!(
        out.last(),
        Some(&Output::StartReply {
            generation: G2,
            input: ReplyInput::Dtmf('0')
        })
    );
    assert!(h.input(Input::Dtmf('x')).is_empty(), "not a DTMF digit");
}

#[test]
fn actions_run_after_their_reply_has_played() {
    let mut h = Harness::new();
    h.greet(5);
    h.at(2_000)
        .caller_says("Can I talk to a person", 1_000, 900);
    h.sentence(G2, "Transferring you now.");
    let m = h.sentence_audio(G2, 5);
    h.input(Input::ReplyAction {
        generation: G2,
        action: CallAction::Transfer {
            to: "+15555550100".into(),
        },
    });
    let out = h.input(Input::ReplyDone { generation: G2 });
    assert!(!out.iter().any(|o| matches!(o, Output::Transfer { .. })));
    let out = h.at(2_500).echo(&m);
    assert_eq!(
        out[1..],
        [
            Output::Transfer {
                to: "+15555550100".into()
            },
            Output::Ended(EndReason::Transferred)
        ]
    );
}

#[test]
fn the_time_limit_says_goodbye_and_hangs_up_even_if_playback_stalls() {
    let mut h = Harness::new();
    h.greet(5);
    let limit = 15 * 60 * 1_000;
    let out = h.at(limit).tick();
    assert!(matches!(&out[0], Output::Synthesize { text, .. } if text.contains("time limit")));
    // No audio or marks ever come back: the grace deadline ends the call.
    let out = h.at(limit + 10_000).tick();
    assert_eq!(out, vec![Output::HangUp, Output::Ended(EndReason::HungUp)]);
}

#[test]
fn stop_commits_what_was_heard_and_ignores_everything_after() {
    let mut h = Harness::new();
    h.at(0).input(Input::Start);
    h.sentence(G1, "one two three four");
    let m = h.audio(G1, 10);
    h.echo(&m[..1]);
    let out = h.at(500).input(Input::Stop);
    assert_eq!(
        commits(&out),
        vec![(Speaker::Agent, "one two".into(), true)]
    );
    assert_eq!(out.last(), Some(&Output::Ended(EndReason::Stopped)));
    assert!(h.input(Input::Start).is_empty());
    assert!(h.caller_says("hello", 0, 100).is_empty());
}

#[test]
fn a_failed_reply_with_no_text_apologises() {
    let mut h = Harness::new();
    h.greet(5);
    h.at(2_000).caller_says("book me in", 1_000, 600);
    let out = h.input(Input::ReplyFailed { generation: G2 });
    assert!(
        matches!(&out[..], [Output::Synthesize { text, .. }] if text.contains("trouble")),
        "{out:?}"
    );
}

fn synthesized(out: &[Output]) -> Vec<String> {
    out.iter()
        .filter_map(|o| match o {
            Output::Synthesize { text, .. } => Some(text.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_lost_tts_session_that_reopens_synthesises_the_unfinished_sentences_again_once() {
    let mut h = Harness::new();
    h.greet(5);
    h.at(2_000).caller_says("when are you open", 1_000, 600);
    h.sentence(G2, "We open at eight.");
    h.sentence_audio(G2, 5);
    h.sentence(G2, "We close at six.");
    h.sentence(G2, "Anything else?");
    h.audio(G2, 2); // part of "We close at six." arrived before the session died
    let out = h.input(Input::TtsLost { reopened: true });
    assert_eq!(
        synthesized(&out),
        vec!["We close at six.".to_string(), "Anything else?".to_string()]
    );
    // A sentence queued in the same batch as the loss is synthesised once, not twice.
    h.engine.handle_input(
        h.now,
        Input::ReplySentence {
            generation: G2,
            text: "Goodbye.".into(),
        },
    );
    h.engine
        .handle_input(h.now, Input::TtsLost { reopened: true });
    assert_eq!(
        synthesized(&h.drain()),
        vec![
            "We close at six.".to_string(),
            "Anything else?".to_string(),
            "Goodbye.".to_string()
        ]
    );
}

#[test]
fn a_lost_tts_session_that_cannot_reopen_skips_its_sentences_and_the_call_goes_on() {
    let mut h = Harness::new();
    h.greet(5);
    h.at(2_000).caller_says("when are you open", 1_000, 600);
    h.sentence(G2, "We open at eight.");
    let m = h.sentence_audio(G2, 5);
    h.sentence(G2, "We close at six.");
    h.input(Input::ReplyDone { generation: G2 });
    let out = h.input(Input::TtsLost { reopened: false });
    assert!(synthesized(&out).is_empty(), "{out:?}");
    // What was played is committed once its marks echo; Otto then listens again.
    let out = h.at(2_500).echo(&m);
    assert_eq!(
        commits(&out),
        vec![(
            Speaker::Agent,
            "We open at eight. We close at six.".into(),
            false
        )]
    );
    assert!(h.engine.poll_timeout().is_some(), "silence timer armed");
    assert!(!h.engine.is_ended());
}

#[test]
fn repeated_tts_losses_without_audio_stop_retrying() {
    let mut h = Harness::new();
    h.greet(5);
    h.at(2_000).caller_says("hi", 1_000, 300);
    h.sentence(G2, "Hello there.");
    h.input(Input::ReplyDone { generation: G2 });
    for _ in 0..MAX_TTS_RETRIES {
        let out = h.input(Input::TtsLost { reopened: true });
        assert_eq!(synthesized(&out), vec!["Hello there.".to_string()]);
    }
    let out = h.input(Input::TtsLost { reopened: true });
    assert!(synthesized(&out).is_empty(), "{out:?}");
    assert_eq!(
        commits(&out),
        vec![(Speaker::Agent, "Hello there.".into(), false)]
    );
}

#[test]
fn turn_latency_is_measured_from_the_end_of_speech() {
    let mut h = Harness::new();
    h.greet(5);
    // Words ended at audio time 2.8 s; the final arrives at 3.0 s.
    h.at(3_000).caller_says("Do you do brakes", 2_000, 800);
    h.at(3_400).sentence(G2, "Yes, we do.");
    h.at(3_500);
    let out = h.input(Input::Tts(TtsEvent::Audio {
        generation: G2,
        mulaw: vec![0; FRAME_BYTES],
    }));
    let latency = out.iter().find_map(|o| match o {
        Output::Latency(l) => Some(*l),
        _ => None,
    });
    assert_eq!(
        latency,
        Some(TurnLatency {
            transcript: Duration::from_millis(200),
            first_text: Duration::from_millis(600),
            first_audio: Duration::from_millis(700),
        })
    );
}

#[derive(Debug, Clone)]
enum Step {
    Input(u8, u64),
    Tick(u64),
}

fn arbitrary_input(kind: u8, n: u64) -> Input {
    let g = GenerationId(n % 4);
    match kind % 13 {
        0 => Input::Start,
        1 => Input::Stt(SttEvent::SpeechStarted { at_ms: n }),
        2 => Input::Stt(SttEvent::Interim {
            text: if n.is_multiple_of(2) {
                String::new()
            } else {
                "uh".into()
            },
        }),
        3 => Input::Stt(SttEvent::Final {
            text: ["", "yes", "book it"][(n % 3) as usize].into(),
            speech_final: n.is_multiple_of(2),
            from_finalize: false,
            start_ms: n,
            duration_ms: n % 5_000,
        }),
        4 => Input::Stt(SttEvent::UtteranceEnd {
            last_word_end_ms: n,
        }),
        5 => Input::Dtmf(char::from(b'0' + (n % 10) as u8)),
        6 => Input::MarkEchoed(format!("m{}", n % 20)),
        7 => Input::ReplySentence {
            generation: g,
            text: "Some words here.".into(),
        },
        8 => Input::ReplyDone { generation: g },
        9 => Input::Tts(TtsEvent::Audio {
            generation: g,
            mulaw: vec![0; (n % 700) as usize],
        }),
        10 => Input::Tts(TtsEvent::Flushed { generation: g }),
        11 => Input::TtsLost {
            reopened: n.is_multiple_of(2),
        },
        _ => Input::ReplyFailed { generation: g },
    }
}

proptest! {
    /// Any sequence of inputs: no panic, frames are whole, nothing follows `Ended`, and the
    /// engine never asks to speak two generations' text at once.
    #[test]
    fn arbitrary_input_sequences_keep_the_invariants(
        steps in proptest::collection::vec(
            prop_oneof![
                (any::<u8>(), 0u64..100_000).prop_map(|(k, n)| Step::Input(k, n)),
                (0u64..20_000).prop_map(Step::Tick),
            ],
            0..80,
        )
    ) {
        let mut h = Harness::new();
        let mut t = 0;
        let mut ended = false;
        for step in steps {
            let out = match step {
                Step::Input(kind, n) => {
                    t += n % 300;
                    h.at(t).input(arbitrary_input(kind, n))
                }
                Step::Tick(dt) => {
                    t += dt;
                    h.at(t).tick()
                }
            };
            for o in &out {
                prop_assert!(!ended, "output after Ended: {o:?}");
                if let Output::SendAudio(f) = o {
                    prop_assert_eq!(f.len(), FRAME_BYTES);
                }
                if matches!(o, Output::Ended(_)) {
                    ended = true;
                }
            }
            if let Some(deadline) = h.engine.poll_timeout() {
                prop_assert!(deadline >= h.t0);
            }
        }
    }
}

/// Otto mid-sentence: "We can fit you in tomorrow at nine or at ten thirty." (20 frames sent,
/// the first 2 of its 4 marks echoed); returns the marks not yet echoed.
fn mid_reply(h: &mut Harness, sentence: &str) -> Vec<String> {
    h.at(0).input(Input::Start);
    h.sentence(G1, sentence);
    let marks = h.sentence_audio(G1, 20);
    h.input(Input::ReplyDone { generation: G1 });
    h.echo(&marks[..2]);
    marks[2..].to_vec()
}

fn barged(out: &[Output]) -> bool {
    out.iter().any(|o| matches!(o, Output::BargedIn { .. }))
}

#[test]
fn backchannels_and_short_sounds_over_otto_do_not_interrupt_it() {
    let mut h = Harness::new();
    let rest = mid_reply(
        &mut h,
        "We can fit you in tomorrow at nine or at ten thirty.",
    );
    for (t, event) in [
        (1_000, SttEvent::SpeechStarted { at_ms: 990 }),
        (
            1_200,
            SttEvent::Interim {
                text: "mm-hmm".into(),
            },
        ),
        (
            1_300,
            SttEvent::Final {
                text: "Mm-hmm.".into(),
                speech_final: true,
                from_finalize: false,
                start_ms: 1_000,
                duration_ms: 250,
            },
        ),
        // A cough: activity, no words, over before it counts as speech.
        (2_000, SttEvent::SpeechStarted { at_ms: 1_990 }),
        (
            2_300,
            SttEvent::Final {
                text: String::new(),
                speech_final: true,
                from_finalize: false,
                start_ms: 2_000,
                duration_ms: 250,
            },
        ),
        (
            2_400,
            SttEvent::Interim {
                text: "okay".into(),
            },
        ),
        (
            2_500,
            SttEvent::Final {
                text: "Okay, right.".into(),
                speech_final: true,
                from_finalize: false,
                start_ms: 2_350,
                duration_ms: 300,
            },
        ),
    ] {
        let out = h.at(t).input(Input::Stt(event));
        assert!(!barged(&out), "at {t} ms: {out:?}");
        assert!(commits(&out).is_empty(), "no caller turn: {out:?}");
    }
    // The reply plays to its end and is logged whole; the backchannels were no turn (the
    // reply asked nothing).
    let out = h.at(3_000).echo(&rest);
    assert_eq!(
        commits(&out),
        vec![(
            Speaker::Agent,
            "We can fit you in tomorrow at nine or at ten thirty.".into(),
            false
        )]
    );
    assert!(
        !out.iter().any(|o| matches!(o, Output::StartReply { .. })),
        "{out:?}"
    );
}

#[test]
fn words_barge_in_at_once_and_sustained_sound_after_the_minimum() {
    let mut h = Harness::new();
    mid_reply(
        &mut h,
        "We can fit you in tomorrow at nine or at ten thirty.",
    );
    // "Okay" then real words: a barge-in at the words, and the turn keeps both.
    h.at(1_000)
        .input(Input::Stt(SttEvent::SpeechStarted { at_ms: 990 }));
    h.at(1_150).input(Input::Stt(SttEvent::Final {
        text: "Okay,".into(),
        speech_final: false,
        from_finalize: false,
        start_ms: 1_000,
        duration_ms: 150,
    }));
    let out = h.at(1_300).input(Input::Stt(SttEvent::Interim {
        text: "no, Thursday".into(),
    }));
    assert!(barged(&out), "{out:?}");
    let out = h.at(1_700).input(Input::Stt(SttEvent::Final {
        text: "no, Thursday instead.".into(),
        speech_final: true,
        from_finalize: false,
        start_ms: 1_150,
        duration_ms: 500,
    }));
    assert_eq!(
        commits(&out),
        vec![(Speaker::Caller, "Okay, no, Thursday instead.".into(), false)]
    );

    // Sound without words that goes on: a barge-in once it has lasted 600 ms.
    let mut h = Harness::new();
    mid_reply(
        &mut h,
        "We can fit you in tomorrow at nine or at ten thirty.",
    );
    h.at(1_000)
        .input(Input::Stt(SttEvent::SpeechStarted { at_ms: 990 }));
    let early = h.at(1_500).input(Input::Stt(SttEvent::Interim {
        text: String::new(),
    }));
    assert!(!barged(&early), "{early:?}");
    let out = h.at(1_600).input(Input::Stt(SttEvent::Interim {
        text: String::new(),
    }));
    assert!(barged(&out), "{out:?}");
    assert!(out.contains(&Output::ClearPlayback));

    // A recogniser that reports nothing until the speaker stops: a sound nothing has ended
    // is a barge-in at the longest wait; one that ended (a cough) is not.
    let mut h = Harness::new();
    mid_reply(
        &mut h,
        "We can fit you in tomorrow at nine or at ten thirty.",
    );
    h.at(1_000)
        .input(Input::Stt(SttEvent::SpeechStarted { at_ms: 990 }));
    h.at(1_300).input(Input::Stt(SttEvent::Final {
        text: String::new(),
        speech_final: true,
        from_finalize: false,
        start_ms: 990,
        duration_ms: 200,
    }));
    assert!(!barged(&h.at(2_500).tick()), "the cough ended");
    h.at(3_000)
        .input(Input::Stt(SttEvent::SpeechStarted { at_ms: 2_990 }));
    assert_eq!(
        h.engine.poll_timeout(),
        Some(h.t0 + Duration::from_millis(4_000))
    );
    assert!(!barged(&h.at(3_999).tick()));
    assert!(barged(&h.at(4_000).tick()));
}

#[test]
fn an_uh_huh_answers_a_question_only_once_it_has_been_heard_whole() {
    let mut h = Harness::new();
    let rest = mid_reply(&mut h, "Should I book your oil change for Tuesday at nine?");
    let out = h.at(1_000).input(Input::Stt(SttEvent::Final {
        text: "Uh-huh.".into(),
        speech_final: true,
        from_finalize: false,
        start_ms: 800,
        duration_ms: 300,
    }));
    assert!(!barged(&out) && commits(&out).is_empty(), "{out:?}");
    // Nothing happens until the read-back has played whole; then the uh-huh is the answer.
    let out = h.at(2_000).echo(&rest);
    assert_eq!(
        commits(&out),
        vec![
            (
                Speaker::Agent,
                "Should I book your oil change for Tuesday at nine?".into(),
                false
            ),
            (Speaker::Caller, "Uh-huh.".into(), false),
        ]
    );
    assert!(out.contains(&Output::StartReply {
        generation: G2,
        input: ReplyInput::Caller("Uh-huh.".into())
    }));
}

/// A final produced by a finalize request (Deepgram `from_finalize`).
fn finalized(text: &str, start_ms: u64, duration_ms: u64) -> Input {
    Input::Stt(SttEvent::Final {
        text: text.into(),
        speech_final: false,
        from_finalize: true,
        start_ms,
        duration_ms,
    })
}

#[test]
fn early_endpointing_answers_a_finished_sentence_without_waiting_for_the_recogniser() {
    let mut h = Harness::new();
    h.greet(5);
    h.at(3_000)
        .input(Input::Stt(SttEvent::SpeechStarted { at_ms: 3_000 }));
    // The caller stopped at 4_000; the VAD heard 160 ms of silence.
    assert_eq!(
        h.at(4_160).input(Input::SpeechEnded),
        vec![Output::FinalizeStt]
    );
    let out = h
        .at(4_270)
        .input(finalized("How much is an oil change?", 3_000, 1_000));
    assert_eq!(
        out,
        vec![
            Output::CommitTurn {
                speaker: Speaker::Caller,
                text: "How much is an oil change?".into(),
                interrupted: false
            },
            Output::StartReply {
                generation: G2,
                input: ReplyInput::Caller("How much is an oil change?".into())
            }
        ]
    );
    // The latency figures count from the end of the words, not from the finalize.
    h.at(4_300).sentence(G2, "An oil change is $49.");
    let out = h.at(4_400).input(Input::Tts(TtsEvent::Audio {
        generation: G2,
        mulaw: vec![0x55; FRAME_BYTES],
    }));
    assert!(out.contains(&Output::Latency(TurnLatency {
        transcript: Duration::from_millis(270),
        first_text: Duration::from_millis(300),
        first_audio: Duration::from_millis(400),
    })));
}

#[test]
fn early_endpointing_waits_for_the_recogniser_when_the_words_lead_on() {
    let mut h = Harness::new();
    h.greet(5);
    h.at(3_000)
        .input(Input::Stt(SttEvent::SpeechStarted { at_ms: 3_000 }));
    assert_eq!(
        h.at(4_660).input(Input::SpeechEnded),
        vec![Output::FinalizeStt]
    );
    let out = h.at(4_760).input(finalized(
        "I'd like to book an oil change and",
        3_000,
        1_500,
    ));
    assert!(
        out.is_empty(),
        "a sentence that leads on is not a turn: {out:?}"
    );
    // The caller goes on after the pause; the recogniser's endpointing ends the turn.
    h.at(5_000)
        .input(Input::Stt(SttEvent::SpeechStarted { at_ms: 5_000 }));
    let out = h.at(6_400).caller_says("a tire rotation.", 5_000, 1_000);
    assert_eq!(
        commits(&out),
        vec![(
            Speaker::Caller,
            "I'd like to book an oil change and a tire rotation.".into(),
            false
        )]
    );
}

#[test]
fn an_unfinished_finalize_result_still_ends_at_the_backstop() {
    let mut h = Harness::new();
    h.greet(5);
    h.at(4_200).input(Input::SpeechEnded);
    h.at(4_300)
        .input(finalized("My number is 555-123", 3_000, 1_000));
    assert!(h.at(5_499).tick().is_empty());
    let out = h.at(5_500).tick();
    assert_eq!(
        commits(&out),
        vec![(Speaker::Caller, "My number is 555-123".into(), false)]
    );
}

#[test]
fn early_endpointing_does_nothing_while_otto_speaks() {
    let mut h = Harness::new();
    h.at(0).input(Input::Start);
    h.sentence(G1, "Thanks for calling Otto's Auto. Can I have your name?");
    h.audio(G1, 50);
    // A backchannel over the reply: the VAD's end of it asks nothing of the recogniser, and
    // its finalize-shaped final does not end a turn or cut the reply.
    h.at(1_000)
        .input(Input::Stt(SttEvent::SpeechStarted { at_ms: 1_000 }));
    assert!(h.at(1_500).input(Input::SpeechEnded).is_empty());
    let out = h.at(1_600).input(finalized("Okay.", 1_000, 300));
    assert!(
        !out.iter().any(|o| matches!(
            o,
            Output::StartReply { .. } | Output::ClearPlayback | Output::CommitTurn { .. }
        )),
        "{out:?}"
    );
    assert_eq!(h.engine.current_generation(), Some(G1));
}
