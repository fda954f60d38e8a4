//! Playback bookkeeping for one reply generation: its sentences (TTS segments), the audio sent
//! for each, and the Twilio marks that tell how much of it the caller has heard.
//!
//! Audio for a generation arrives in segment order (the TTS flushes one sentence at a time), so
//! the segment receiving audio is always the first one not yet flushed. Each mark records the
//! byte position in its segment that playback has reached when Twilio echoes it.

use std::collections::VecDeque;

use super::CallAction;
use crate::speech::GenerationId;

/// One sentence of a reply and its audio progress, in bytes of μ-law (1 byte = 0.125 ms).
#[derive(Debug)]
struct Segment {
    text: String,
    bytes_sent: usize,
    bytes_played: usize,
    flushed: bool,
}

/// A mark in flight: its name, its segment and the byte offset in that segment it follows.
#[derive(Debug)]
struct PendingMark {
    name: String,
    segment: usize,
    bytes_end: usize,
}

/// A reply generation being prepared or played.
#[derive(Debug)]
pub(super) struct Reply {
    pub generation: GenerationId,
    /// True for dialogue replies (cancellable at the dialogue), false for engine prompts.
    pub from_dialogue: bool,
    /// All sentences have been given.
    pub text_done: bool,
    /// What to do once everything has played.
    pub action: Option<CallAction>,
    segments: Vec<Segment>,
    /// Index of the segment receiving audio (the first not yet flushed).
    synth_cursor: usize,
    marks: VecDeque<PendingMark>,
    /// Frames sent since the last mark.
    unmarked_frames: usize,
}

impl Reply {
    pub fn new(generation: GenerationId, from_dialogue: bool) -> Self {
        Self {
            generation,
            from_dialogue,
            text_done: false,
            action: None,
            segments: Vec::new(),
            synth_cursor: 0,
            marks: VecDeque::new(),
            unmarked_frames: 0,
        }
    }

    /// Adds the next sentence.
    pub fn push_sentence(&mut self, text: String) {
        self.segments.push(Segment {
            text,
            bytes_sent: 0,
            bytes_played: 0,
            flushed: false,
        });
    }

    /// Records one frame (`bytes` of audio) sent for the segment being synthesised.
    pub fn record_audio(&mut self, bytes: usize) {
        if let Some(s) = self.segments.get_mut(self.synth_cursor) {
            s.bytes_sent += bytes;
            self.unmarked_frames += 1;
        }
    }

    /// Frames sent since the last mark.
    pub fn unmarked_frames(&self) -> usize {
        self.unmarked_frames
    }

    /// Records a mark sent after the audio so far.
    pub fn push_mark(&mut self, name: String) {
        let bytes_end = self
            .segments
            .get(self.synth_cursor)
            .map_or(0, |s| s.bytes_sent);
        self.marks.push_back(PendingMark {
            name,
            segment: self.synth_cursor,
            bytes_end,
        });
        self.unmarked_frames = 0;
    }

    /// The TTS finished the current segment's audio.
    pub fn segment_flushed(&mut self) {
        if let Some(s) = self.segments.get_mut(self.synth_cursor) {
            s.flushed = true;
            self.synth_cursor += 1;
        }
    }

    /// The sentences whose audio has not been flushed yet, in order: those still owed by the
    /// TTS.
    pub fn unflushed_texts(&self) -> Vec<String> {
        self.segments[self.synth_cursor.min(self.segments.len())..]
            .iter()
            .map(|s| s.text.clone())
            .collect()
    }

    /// Twilio echoed mark `name`: playback reached it (marks echo in the order sent, so any
    /// earlier marks are implied). Unknown names are ignored.
    pub fn mark_played(&mut self, name: &str) {
        if !self.marks.iter().any(|m| m.name == name) {
            return;
        }
        while let Some(m) = self.marks.pop_front() {
            if let Some(s) = self.segments.get_mut(m.segment) {
                s.bytes_played = s.bytes_played.max(m.bytes_end);
            }
            if m.name == name {
                break;
            }
        }
    }

    /// Any audio of this reply went to Twilio.
    pub fn audio_sent(&self) -> bool {
        self.segments.iter().any(|s| s.bytes_sent > 0)
    }

    /// No sentence was given.
    pub fn is_silent(&self) -> bool {
        self.segments.is_empty()
    }

    /// All text given, all audio flushed, and every mark echoed.
    pub fn fully_played(&self) -> bool {
        self.text_done && self.synth_cursor >= self.segments.len() && self.marks.is_empty()
    }

    /// The whole reply text.
    pub fn full_text(&self) -> String {
        join(self.segments.iter().map(|s| s.text.as_str()))
    }

    /// The text the caller heard: whole sentences whose audio played to the end, then the
    /// words of the interrupted sentence in proportion to the audio played of it.
    pub fn heard_text(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        for s in &self.segments {
            if s.bytes_played == 0 {
                break;
            }
            if s.flushed && s.bytes_played >= s.bytes_sent {
                parts.push(s.text.clone());
                continue;
            }
            let words: Vec<&str> = s.text.split_whitespace().collect();
            let heard = words.len() * s.bytes_played / s.bytes_sent.max(1);
            if heard > 0 {
                parts.push(words[..heard.min(words.len())].join(" "));
            }
            break;
        }
        join(parts.iter().map(String::as_str))
    }
}

fn join<'a>(parts: impl Iterator<Item = &'a str>) -> String {
    parts.collect::<Vec<_>>().join(" ")
}
