//! Voice activity detection and endpointing for the local STT engine, on 20 ms frames of 8 kHz
//! audio.
//!
//! Energy + zero-crossing detector with an adaptive noise floor and hangover:
//! - a frame is speech when its energy is `threshold_db` above the noise floor (and above
//!   -50 dBFS), or, for unvoiced sounds (`s`, `f`), half that above the floor with a high
//!   zero-crossing rate;
//! - the floor follows non-speech frames (falls fast, rises slowly);
//! - `onset_frames` consecutive speech frames start an utterance ([`VadEvent::SpeechStarted`]
//!   at the first of them, so it is emitted `onset_frames * 20` ms after onset: 40 ms by
//!   default);
//! - `pause_ms` of non-speech inside an utterance is reported once ([`VadEvent::Paused`]), so
//!   a recogniser may start decoding before the utterance is over;
//! - `endpointing_ms` of non-speech ends it ([`VadEvent::Utterance`] with `speech_final`), and
//!   an utterance reaching `max_utterance_ms` is cut (`speech_final == false`), since whisper
//!   with `audio_ctx = 750` sees 15 s at most.
//!
//! Events mirror what Deepgram sends (`SpeechStarted`, interim activity, end of utterance), so
//! the call engine sees one interface whichever engine runs.

use std::collections::VecDeque;

use otto_core::speech::{FRAME_BYTES, FRAME_MS, FRAME_SAMPLES, mulaw};

/// Endpointing settings. Times in ms of audio.
#[derive(Debug, Clone, PartialEq)]
pub struct VadConfig {
    /// Silence that ends an utterance, ms (default 500).
    pub endpointing_ms: u32,
    /// Silence inside an utterance that is reported as a pause ([`VadEvent::Paused`]), ms
    /// (default 200); 0, or not less than `endpointing_ms`, reports none.
    pub pause_ms: u32,
    /// Consecutive speech frames that confirm onset (default 2 = 40 ms).
    pub onset_frames: u32,
    /// Energy above the noise floor that counts as speech, dB (default 9).
    pub threshold_db: f32,
    /// Utterances with less speech than this are dropped as clicks/noise, ms (default 120).
    pub min_speech_ms: u32,
    /// Longest utterance before it is cut, ms (default 14 000).
    pub max_utterance_ms: u32,
    /// Audio kept before onset and included in the utterance, ms (default 200).
    pub pre_roll_ms: u32,
    /// Interval of [`VadEvent::Activity`] while speech continues, ms (default 500).
    pub activity_every_ms: u32,
    /// Keep each utterance's samples (default true). Without them ([`Utterance::samples`]
    /// empty) the detector only tells when speech starts and ends, in constant memory.
    pub keep_audio: bool,
}

impl Default for VadConfig {
    fn default() -> Self {
        Self {
            endpointing_ms: 500,
            pause_ms: 200,
            onset_frames: 2,
            threshold_db: 9.0,
            min_speech_ms: 120,
            max_utterance_ms: 14_000,
            pre_roll_ms: 200,
            activity_every_ms: 500,
            keep_audio: true,
        }
    }
}

/// A finished (or cut) utterance.
#[derive(Debug, Clone, PartialEq)]
pub struct Utterance {
    /// Audio time where `samples` start (pre-roll included), ms from stream start.
    pub start_ms: u64,
    /// Length of `samples`, ms.
    pub duration_ms: u64,
    /// Audio time where the last speech frame ended, ms.
    pub last_speech_end_ms: u64,
    /// 8 kHz mono samples in [-1, 1]; empty unless [`VadConfig::keep_audio`].
    pub samples: Vec<f32>,
    /// `true` when ended by endpointing silence, `false` when cut (maximum length, finish).
    pub speech_final: bool,
}

/// What the detector saw in a frame.
#[derive(Debug, Clone, PartialEq)]
pub enum VadEvent {
    /// Speech onset confirmed; `at_ms` is the start of the first speech frame.
    SpeechStarted {
        /// Audio time of onset, ms.
        at_ms: u64,
    },
    /// Speech continues (every `activity_every_ms`).
    Activity {
        /// Audio time, ms.
        at_ms: u64,
    },
    /// `pause_ms` of silence inside the utterance in progress, which may still go on
    /// ([`Vad::samples_so_far`] holds its audio). Once per stretch of silence.
    Paused {
        /// Audio time where the last speech frame ended, ms: the utterance that ends after
        /// this pause without more speech has the same [`Utterance::last_speech_end_ms`].
        last_speech_end_ms: u64,
    },
    /// An utterance ended.
    Utterance(Utterance),
}

/// The detector. Feed it consecutive 20 ms frames with [`Vad::push_frame`].
#[derive(Debug)]
pub struct Vad {
    config: VadConfig,
    frames_seen: u64,
    noise_db: Option<f32>,
    pre_roll: VecDeque<f32>,
    onset_run: u32,
    current: Option<Current>,
    recent_db: VecDeque<f32>,
    /// μ-law bytes of an incomplete frame, held by [`Vad::push_mulaw`].
    partial: Vec<u8>,
}

#[derive(Debug)]
struct Current {
    start_ms: u64,
    /// Audio time where the latest frame ended, ms.
    end_ms: u64,
    samples: Vec<f32>,
    speech_ms: u64,
    last_speech_end_ms: u64,
    silence_ms: u64,
    next_activity_ms: u64,
    /// This stretch of silence has been reported as a pause.
    pause_reported: bool,
}

const ABS_MIN_DB: f32 = -50.0;

impl Vad {
    /// A detector with `config`.
    pub fn new(config: VadConfig) -> Self {
        Self {
            config,
            frames_seen: 0,
            noise_db: None,
            pre_roll: VecDeque::new(),
            onset_run: 0,
            current: None,
            recent_db: VecDeque::new(),
            partial: Vec::with_capacity(FRAME_BYTES),
        }
    }

    /// Processes μ-law 8 kHz audio of any length (Twilio sends 160-byte, 20 ms frames): whole
    /// frames go through [`Vad::push_frame`], a remainder waits for the next call. Returns the
    /// events of every frame, in order.
    pub fn push_mulaw(&mut self, audio: &[u8]) -> Vec<VadEvent> {
        let mut events = Vec::new();
        let mut audio = audio;
        if !self.partial.is_empty() {
            let take = (FRAME_BYTES - self.partial.len()).min(audio.len());
            self.partial.extend_from_slice(&audio[..take]);
            audio = &audio[take..];
            if self.partial.len() < FRAME_BYTES {
                return events;
            }
            let frame = std::mem::take(&mut self.partial);
            events.extend(self.push_mulaw_frame(&frame));
        }
        let mut frames = audio.chunks_exact(FRAME_BYTES);
        for frame in frames.by_ref() {
            events.extend(self.push_mulaw_frame(frame));
        }
        self.partial.extend_from_slice(frames.remainder());
        events
    }

    /// Whether an utterance is in progress.
    pub fn in_speech(&self) -> bool {
        self.current.is_some()
    }

    /// The audio of the utterance in progress so far (8 kHz mono samples in [-1, 1], pre-roll
    /// included); `None` between utterances, empty unless [`VadConfig::keep_audio`].
    pub fn samples_so_far(&self) -> Option<&[f32]> {
        self.current.as_ref().map(|c| c.samples.as_slice())
    }

    /// One whole 160-byte μ-law frame, decoded on the stack.
    fn push_mulaw_frame(&mut self, frame: &[u8]) -> Vec<VadEvent> {
        let mut samples = [0f32; FRAME_SAMPLES];
        mulaw::decode_into_f32(frame, &mut samples);
        self.push_frame(&samples)
    }

    /// Processes one frame of `FRAME_SAMPLES` (160) samples; shorter frames are zero-padded and
    /// longer ones truncated (the caller frames the audio). Returns the events it caused.
    pub fn push_frame(&mut self, frame: &[f32]) -> Vec<VadEvent> {
        let mut buf = [0f32; FRAME_SAMPLES];
        let n = frame.len().min(FRAME_SAMPLES);
        buf[..n].copy_from_slice(&frame[..n]);
        let frame_start_ms = self.frames_seen * u64::from(FRAME_MS);
        self.frames_seen += 1;
        let frame_end_ms = frame_start_ms + u64::from(FRAME_MS);

        let energy = buf.iter().map(|s| s * s).sum::<f32>() / FRAME_SAMPLES as f32;
        let db = 10.0 * (energy + 1e-10).log10();
        let zcr = buf
            .windows(2)
            .filter(|w| (w[0] >= 0.0) != (w[1] >= 0.0))
            .count() as f32
            / FRAME_SAMPLES as f32;
        let noise = *self.noise_db.get_or_insert(db.max(-90.0));
        let t = self.config.threshold_db;
        let is_speech = (db > (noise + t).max(ABS_MIN_DB))
            || (zcr > 0.3 && db > (noise + t / 2.0).max(ABS_MIN_DB));
        self.recent_db.push_back(db);
        if self.recent_db.len() > 50 {
            self.recent_db.pop_front();
        }
        if !is_speech {
            let rate = if db < noise { 0.3 } else { 0.05 };
            self.noise_db = Some(noise + (db - noise) * rate);
        }

        let mut events = Vec::new();
        match self.current.as_mut() {
            None => {
                self.onset_run = if is_speech { self.onset_run + 1 } else { 0 };
                self.pre_roll.extend(buf);
                let onset_samples = self.onset_run as usize * FRAME_SAMPLES;
                let keep = self.pre_roll_samples() + onset_samples;
                while self.pre_roll.len() > keep {
                    self.pre_roll.pop_front();
                }
                if self.onset_run >= self.config.onset_frames.max(1) {
                    let onset_ms = frame_end_ms - u64::from(self.onset_run * FRAME_MS);
                    let held = self.pre_roll.len();
                    let start_ms =
                        frame_end_ms - (held / FRAME_SAMPLES) as u64 * u64::from(FRAME_MS);
                    let samples: Vec<f32> = if self.config.keep_audio {
                        self.pre_roll.drain(..).collect()
                    } else {
                        self.pre_roll.clear();
                        Vec::new()
                    };
                    events.push(VadEvent::SpeechStarted { at_ms: onset_ms });
                    self.current = Some(Current {
                        start_ms,
                        end_ms: frame_end_ms,
                        samples,
                        speech_ms: u64::from(self.onset_run * FRAME_MS),
                        last_speech_end_ms: frame_end_ms,
                        silence_ms: 0,
                        next_activity_ms: onset_ms + u64::from(self.config.activity_every_ms),
                        pause_reported: false,
                    });
                    self.onset_run = 0;
                }
            }
            Some(cur) => {
                if self.config.keep_audio {
                    cur.samples.extend_from_slice(&buf);
                }
                cur.end_ms = frame_end_ms;
                if is_speech {
                    cur.speech_ms += u64::from(FRAME_MS);
                    cur.last_speech_end_ms = frame_end_ms;
                    cur.silence_ms = 0;
                    cur.pause_reported = false;
                } else {
                    cur.silence_ms += u64::from(FRAME_MS);
                }
                let pause_ms = self.config.pause_ms;
                if pause_ms > 0
                    && pause_ms < self.config.endpointing_ms
                    && !cur.pause_reported
                    && cur.silence_ms >= u64::from(pause_ms)
                {
                    cur.pause_reported = true;
                    events.push(VadEvent::Paused {
                        last_speech_end_ms: cur.last_speech_end_ms,
                    });
                }
                if is_speech && frame_end_ms >= cur.next_activity_ms {
                    events.push(VadEvent::Activity {
                        at_ms: frame_end_ms,
                    });
                    cur.next_activity_ms = frame_end_ms + u64::from(self.config.activity_every_ms);
                }
                if cur.silence_ms >= u64::from(self.config.endpointing_ms) {
                    events.extend(self.end_utterance(true).map(VadEvent::Utterance));
                } else if frame_end_ms - cur.start_ms >= u64::from(self.config.max_utterance_ms) {
                    events.extend(self.end_utterance(false).map(VadEvent::Utterance));
                    // A stationary noise louder than the old floor would otherwise count as
                    // speech forever: re-learn the floor from the recent second.
                    let mean =
                        self.recent_db.iter().sum::<f32>() / self.recent_db.len().max(1) as f32;
                    self.noise_db = Some(mean - 3.0);
                }
            }
        }
        events
    }

    /// Ends the stream (or a `finalize`): returns the utterance in progress, cut, if it holds
    /// enough speech.
    pub fn finish(&mut self) -> Option<Utterance> {
        self.onset_run = 0;
        self.end_utterance(false)
    }

    fn pre_roll_samples(&self) -> usize {
        (self.config.pre_roll_ms / FRAME_MS) as usize * FRAME_SAMPLES
    }

    fn end_utterance(&mut self, speech_final: bool) -> Option<Utterance> {
        let cur = self.current.take()?;
        if cur.speech_ms < u64::from(self.config.min_speech_ms) {
            return None;
        }
        Some(Utterance {
            start_ms: cur.start_ms,
            duration_ms: cur.end_ms - cur.start_ms,
            last_speech_end_ms: cur.last_speech_end_ms,
            samples: cur.samples,
            speech_final,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic pseudo-random noise in [-1, 1] (xorshift).
    fn noise(len: usize, amplitude: f32, seed: u32) -> Vec<f32> {
        let mut x = seed.max(1);
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                (x as f32 / u32::MAX as f32 * 2.0 - 1.0) * amplitude
            })
            .collect()
    }

    /// Synthetic voiced speech: a 140 Hz harmonic tone with syllable-rate (4 Hz) modulation.
    fn voiced(len: usize, amplitude: f32) -> Vec<f32> {
        (0..len)
            .map(|i| {
                let t = i as f32 / 8000.0;
                let f0 = 2.0 * std::f32::consts::PI * 140.0 * t;
                let tone = f0.sin() + 0.5 * (2.0 * f0).sin() + 0.3 * (3.0 * f0).sin();
                let syllables = 0.6 + 0.4 * (2.0 * std::f32::consts::PI * 4.0 * t).sin().abs();
                tone * syllables * amplitude / 1.8
            })
            .collect()
    }

    /// The utterances among `events`, in order.
    fn utterances(events: &[VadEvent]) -> Vec<&Utterance> {
        events
            .iter()
            .filter_map(|e| match e {
                VadEvent::Utterance(u) => Some(u),
                _ => None,
            })
            .collect()
    }

    fn run(vad: &mut Vad, audio: &[f32]) -> Vec<VadEvent> {
        audio
            .chunks(FRAME_SAMPLES)
            .flat_map(|f| vad.push_frame(f))
            .collect()
    }

    #[test]
    fn two_sentences_with_a_pause_give_two_utterances() {
        let floor = 0.003;
        let mut audio = noise(4000, floor, 1); // 500 ms background
        let first_onset_ms = 500;
        audio.extend(
            voiced(12000, 0.3)
                .iter()
                .zip(noise(12000, floor, 2))
                .map(|(a, b)| a + b),
        ); // 1.5 s
        audio.extend(noise(8000, floor, 3)); // 1 s pause
        let second_onset_ms = 3000;
        audio.extend(
            voiced(8000, 0.3)
                .iter()
                .zip(noise(8000, floor, 4))
                .map(|(a, b)| a + b),
        ); // 1 s
        audio.extend(noise(8000, floor, 5)); // 1 s tail
        let events = run(&mut Vad::new(VadConfig::default()), &audio);

        let starts: Vec<u64> = events
            .iter()
            .filter_map(|e| match e {
                VadEvent::SpeechStarted { at_ms } => Some(*at_ms),
                _ => None,
            })
            .collect();
        let utterances = utterances(&events);
        assert_eq!(starts.len(), 2, "{starts:?}");
        assert_eq!(utterances.len(), 2);
        for (start, onset) in starts.iter().zip([first_onset_ms, second_onset_ms]) {
            assert!(
                start.abs_diff(onset) <= 40,
                "onset {onset} reported at {start}"
            );
        }
        assert!(utterances.iter().all(|u| u.speech_final));
        assert!(utterances[0].last_speech_end_ms.abs_diff(2000) <= 40);
        assert_eq!(
            utterances[0].samples.len() as u64,
            utterances[0].duration_ms * 8
        );
        // Pre-roll: the utterance starts about 200 ms before onset.
        assert!(
            utterances[0].start_ms.abs_diff(300) <= 40,
            "start {}",
            utterances[0].start_ms
        );
        assert!(
            events
                .iter()
                .any(|e| matches!(e, VadEvent::Activity { .. }))
        );
    }

    #[test]
    fn speech_started_is_emitted_within_100_ms_of_onset() {
        let mut vad = Vad::new(VadConfig::default());
        let mut audio = noise(2400, 0.002, 9);
        audio.extend(voiced(4000, 0.2));
        for (i, frame) in audio.chunks(FRAME_SAMPLES).enumerate() {
            let events = vad.push_frame(frame);
            if events
                .iter()
                .any(|e| matches!(e, VadEvent::SpeechStarted { .. }))
            {
                let emitted_at_ms = (i as u64 + 1) * 20;
                assert!(
                    emitted_at_ms >= 300 && emitted_at_ms - 300 <= 100,
                    "emitted at {emitted_at_ms}"
                );
                return;
            }
        }
        panic!("speech never detected");
    }

    #[test]
    fn silence_and_steady_noise_give_no_utterance() {
        let mut vad = Vad::new(VadConfig::default());
        assert!(run(&mut vad, &vec![0.0; 40_000]).is_empty());
        let mut vad = Vad::new(VadConfig::default());
        assert!(
            run(&mut vad, &noise(80_000, 0.05, 7)).is_empty(),
            "steady white noise is not speech"
        );
        assert!(vad.finish().is_none());
    }

    #[test]
    fn clicks_are_dropped_and_long_speech_is_cut() {
        let mut vad = Vad::new(VadConfig::default());
        let mut audio = vec![0.0; 1600];
        audio.extend(voiced(480, 0.5)); // 60 ms click
        audio.extend(vec![0.0; 8000]);
        assert!(
            !run(&mut vad, &audio)
                .iter()
                .any(|e| matches!(e, VadEvent::Utterance(_)))
        );

        let config = VadConfig {
            max_utterance_ms: 2000,
            ..VadConfig::default()
        };
        let mut vad = Vad::new(config);
        let mut audio = vec![0.0; 1600];
        audio.extend(voiced(40_000, 0.3)); // 5 s without a pause
        let events = run(&mut vad, &audio);
        let cut = utterances(&events);
        assert!(
            !cut.is_empty(),
            "a 5 s stretch of speech must be cut at 2 s"
        );
        assert!(cut.iter().all(|u| !u.speech_final && u.duration_ms <= 2000));
    }

    #[test]
    fn finish_returns_the_open_utterance() {
        let mut vad = Vad::new(VadConfig::default());
        let mut audio = vec![0.0; 1600];
        audio.extend(voiced(4000, 0.3));
        run(&mut vad, &audio);
        assert!(vad.in_speech());
        let u = vad.finish().expect("open utterance");
        assert!(!u.speech_final);
        assert!(!vad.in_speech());
    }

    #[test]
    fn mulaw_of_any_chunking_gives_the_frames_events() {
        let mut audio = noise(2400, 0.002, 3);
        audio.extend(voiced(8000, 0.3));
        audio.extend(vec![0.0; 8000]);
        let bytes = mulaw::encode_from_f32(&audio);
        let whole = run(
            &mut Vad::new(VadConfig::default()),
            &mulaw::decode_to_f32(&bytes),
        );
        for chunk in [FRAME_BYTES, 100, 333] {
            let mut vad = Vad::new(VadConfig::default());
            let events: Vec<VadEvent> = bytes
                .chunks(chunk)
                .flat_map(|c| vad.push_mulaw(c))
                .collect();
            assert_eq!(events, whole, "chunks of {chunk} bytes");
        }
        assert!(whole.iter().any(|e| matches!(e, VadEvent::Utterance(_))));
    }

    #[test]
    fn without_audio_the_events_are_the_same_but_empty() {
        let mut audio = noise(2400, 0.002, 3);
        audio.extend(voiced(8000, 0.3));
        audio.extend(vec![0.0; 8000]);
        let kept = run(&mut Vad::new(VadConfig::default()), &audio);
        let light = run(
            &mut Vad::new(VadConfig {
                keep_audio: false,
                ..VadConfig::default()
            }),
            &audio,
        );
        assert_eq!(kept.len(), light.len());
        for (k, l) in kept.iter().zip(&light) {
            match (k, l) {
                (VadEvent::Utterance(k), VadEvent::Utterance(l)) => {
                    assert!(l.samples.is_empty());
                    assert_eq!(k.samples.len() as u64, k.duration_ms * 8);
                    assert_eq!(
                        (
                            k.start_ms,
                            k.duration_ms,
                            k.last_speech_end_ms,
                            k.speech_final
                        ),
                        (
                            l.start_ms,
                            l.duration_ms,
                            l.last_speech_end_ms,
                            l.speech_final
                        )
                    );
                }
                _ => assert_eq!(k, l),
            }
        }
    }

    #[test]
    fn a_pause_is_reported_once_and_matches_the_utterance_that_ends_after_it() {
        let mut vad = Vad::new(VadConfig::default());
        let mut audio = vec![0.0; 1600];
        audio.extend(voiced(8000, 0.3)); // 1 s of speech
        audio.extend(vec![0.0; 2400]); // a 300 ms pause
        audio.extend(voiced(4000, 0.3)); // 0.5 s more
        audio.extend(vec![0.0; 8000]); // the end
        let mut held = Vec::new();
        let mut events = Vec::new();
        for frame in audio.chunks(FRAME_SAMPLES) {
            for e in vad.push_frame(frame) {
                if matches!(e, VadEvent::Paused { .. }) {
                    held.push(vad.samples_so_far().map_or(0, <[f32]>::len));
                }
                events.push(e);
            }
        }
        let pauses: Vec<u64> = events
            .iter()
            .filter_map(|e| match e {
                VadEvent::Paused { last_speech_end_ms } => Some(*last_speech_end_ms),
                _ => None,
            })
            .collect();
        let utterances = utterances(&events);
        assert_eq!(utterances.len(), 1, "the 300 ms pause does not end it");
        assert_eq!(
            pauses.len(),
            2,
            "the pause mid-way and the one before the end"
        );
        assert!(pauses[0] < pauses[1]);
        assert_eq!(pauses[1], utterances[0].last_speech_end_ms);
        assert!(held[0] > 0 && held[1] > held[0], "{held:?}");

        let off = VadConfig {
            pause_ms: 0,
            ..VadConfig::default()
        };
        assert!(
            !run(&mut Vad::new(off), &audio)
                .iter()
                .any(|e| matches!(e, VadEvent::Paused { .. }))
        );
    }
}
