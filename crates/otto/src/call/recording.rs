//! Call recordings (`call.record = true`): the [`Recorder`] that lays both sides of one call on
//! a common timeline while it runs, the stereo WAV file it writes when the call ends
//! (left channel: the caller, right channel: Otto; 16-bit PCM at 8 kHz), where that file lives
//! ([`recording_path`], shared with whatever serves it), and the retention [`sweep`] that
//! deletes recordings older than `call.recording_days`.
//!
//! Timeline: Twilio sends the caller's audio continuously (a 20 ms frame every 20 ms, silence
//! included), so the number of caller samples received is the call's clock (`in_pos`). Otto's
//! audio is queued ahead of playback, faster than real time: each outbound frame plays at
//! `out_pos = max(out_pos, in_pos)` and moves `out_pos` on by its length. A `clear`
//! (barge-in) drops what was queued beyond `in_pos` — the caller never heard it — and playback
//! resumes from there. Both sides are kept as μ-law bytes (one byte a sample) until the file is
//! written, at most `max_call_secs` of them each.

use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use otto_core::speech::mulaw;
use tracing::warn;

/// Sample rate of Twilio media streams and of the recordings, Hz.
pub const SAMPLE_RATE: u32 = 8_000;
/// What the greeting says when calls are recorded.
pub const NOTICE: &str = "This call is recorded.";
/// The μ-law code of silence (decodes to 0).
const SILENCE: u8 = 0xFF;
/// Longest call SID accepted in a file name (Twilio's are 34 characters).
const MAX_SID_LEN: usize = 64;

/// Both sides of one call, aligned on the caller's audio clock.
#[derive(Debug)]
pub struct Recorder {
    /// The caller's μ-law samples; its length is the clock (`in_pos`).
    caller: Vec<u8>,
    /// Otto's μ-law samples at their playback positions, silence between replies.
    otto: Vec<u8>,
    /// Where the next outbound frame would start playing if the caller's clock were behind.
    out_pos: usize,
    /// Samples kept per side at most.
    max_samples: usize,
}

impl Recorder {
    /// An empty recording that keeps at most `max_call_secs` of audio per side.
    pub fn new(max_call_secs: u64) -> Self {
        let max = max_call_secs.saturating_mul(u64::from(SAMPLE_RATE));
        Self {
            caller: Vec::new(),
            otto: Vec::new(),
            out_pos: 0,
            max_samples: usize::try_from(max).unwrap_or(usize::MAX),
        }
    }

    /// The caller's clock: samples of caller audio received so far.
    pub fn in_pos(&self) -> usize {
        self.caller.len()
    }

    /// Where Otto's queued audio ends (never before the caller's clock).
    pub fn out_pos(&self) -> usize {
        self.out_pos.max(self.in_pos())
    }

    /// Appends one frame of the caller's μ-law audio (the timeline advances by its length).
    pub fn inbound(&mut self, mulaw: &[u8]) {
        let room = self.max_samples.saturating_sub(self.caller.len());
        self.caller
            .extend_from_slice(&mulaw[..mulaw.len().min(room)]);
    }

    /// Queues one frame of Otto's μ-law audio: it plays after what is already queued, and
    /// never before now (the caller's clock).
    pub fn outbound(&mut self, mulaw: &[u8]) {
        let start = self.out_pos();
        self.out_pos = start.saturating_add(mulaw.len());
        if start >= self.max_samples {
            return;
        }
        let kept = &mulaw[..mulaw.len().min(self.max_samples - start)];
        // Otto's side never reaches past `out_pos`: only silence goes before `start`.
        self.otto.resize(start, SILENCE);
        self.otto.extend_from_slice(kept);
    }

    /// Playback was cleared (barge-in): Otto's audio queued beyond now was never heard.
    pub fn clear(&mut self) {
        let now = self.in_pos();
        self.otto.truncate(now);
        self.out_pos = now;
    }

    /// Samples per channel the file will hold: up to the later of the two sides.
    pub fn len(&self) -> usize {
        self.caller.len().max(self.otto.len())
    }

    /// True before any audio was recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The interleaved 16-bit PCM samples (caller, Otto, caller, Otto, …).
    fn interleaved(&self) -> impl Iterator<Item = i16> + '_ {
        let side = |v: &[u8], i: usize| mulaw::decode(v.get(i).copied().unwrap_or(SILENCE));
        (0..self.len()).flat_map(move |i| [side(&self.caller, i), side(&self.otto, i)])
    }

    /// Writes the stereo WAV file at `path`, creating its directory. Blocking: run it with
    /// `spawn_blocking`. The file appears whole or not at all: it is written next to `path`
    /// as `*.wav.part` and renamed.
    ///
    /// # Errors
    /// The directory cannot be created or the file cannot be written or renamed.
    pub fn finish(self, path: &Path) -> io::Result<()> {
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir)?;
        }
        let part = path.with_extension("wav.part");
        let written = self
            .write_wav(&part)
            .and_then(|()| std::fs::rename(&part, path));
        if written.is_err() {
            let _ = std::fs::remove_file(&part);
        }
        written
    }

    fn write_wav(&self, path: &Path) -> io::Result<()> {
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: SAMPLE_RATE,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut wav = hound::WavWriter::create(path, spec).map_err(hound_error)?;
        for sample in self.interleaved() {
            wav.write_sample(sample).map_err(hound_error)?;
        }
        wav.finalize().map_err(hound_error)
    }
}

fn hound_error(e: hound::Error) -> io::Error {
    match e {
        hound::Error::IoError(e) => e,
        other => io::Error::other(other),
    }
}

/// The recording of call `call_sid` in `dir`: `<dir>/<call_sid>.wav`, or `None` when the SID
/// is empty, too long, or holds anything but ASCII letters and digits (nothing can name a file
/// outside `dir`).
pub fn recording_path(dir: &Path, call_sid: &str) -> Option<PathBuf> {
    let valid = !call_sid.is_empty()
        && call_sid.len() <= MAX_SID_LEN
        && call_sid.bytes().all(|b| b.is_ascii_alphanumeric());
    valid.then(|| dir.join(format!("{call_sid}.wav")))
}

/// Deletes the recordings in `dir` last modified more than `keep_days` days before `now`
/// (`*.wav`, and `*.wav.part` left by an interrupted write) and returns how many it deleted.
/// A missing directory holds none. A file that cannot be deleted is logged and skipped.
///
/// # Errors
/// `dir` exists but cannot be listed.
pub async fn sweep(dir: &Path, keep_days: u32, now: SystemTime) -> io::Result<usize> {
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || sweep_blocking(&dir, keep_days, now))
        .await
        .map_err(io::Error::other)?
}

fn sweep_blocking(dir: &Path, keep_days: u32, now: SystemTime) -> io::Result<usize> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let keep = Duration::from_secs(u64::from(keep_days) * 86_400);
    let mut deleted = 0;
    for entry in entries {
        let Ok(entry) = entry else { continue };
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !(name.ends_with(".wav") || name.ends_with(".wav.part")) {
            continue;
        }
        // Symlinks and directories are not recordings: `file_type` does not follow links.
        let Ok(meta) = entry.metadata() else { continue };
        if !meta.file_type().is_file() {
            continue;
        }
        let old = meta
            .modified()
            .ok()
            .and_then(|m| now.duration_since(m).ok())
            .is_some_and(|age| age > keep);
        if !old {
            continue;
        }
        match std::fs::remove_file(entry.path()) {
            Ok(()) => deleted += 1,
            Err(e) => warn!(error = %e, file = %name, "expired call recording not deleted"),
        }
    }
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FRAME: usize = 160;

    fn frame(code: u8) -> Vec<u8> {
        vec![code; FRAME]
    }

    #[test]
    fn outbound_audio_plays_from_the_caller_clock_and_queues_after_itself() {
        let mut r = Recorder::new(60);
        r.inbound(&frame(0xFF));
        r.inbound(&frame(0xFF));
        assert_eq!(r.in_pos(), 2 * FRAME);
        // Queued faster than real time: three frames at once, from the clock on.
        for _ in 0..3 {
            r.outbound(&frame(0x80));
        }
        assert_eq!(r.out_pos(), 5 * FRAME);
        assert!(r.otto[..2 * FRAME].iter().all(|&c| c == SILENCE));
        assert!(r.otto[2 * FRAME..].iter().all(|&c| c == 0x80));
        assert_eq!(r.len(), 5 * FRAME);
        // After the queue drained (the caller clock passed it), the next reply starts at now.
        for _ in 0..6 {
            r.inbound(&frame(0xFF));
        }
        r.outbound(&frame(0x00));
        assert_eq!(r.otto.len(), 9 * FRAME);
        assert!(r.otto[5 * FRAME..8 * FRAME].iter().all(|&c| c == SILENCE));
        assert!(r.otto[8 * FRAME..].iter().all(|&c| c == 0x00));
    }

    #[test]
    fn clear_drops_what_was_queued_beyond_now() {
        let mut r = Recorder::new(60);
        r.inbound(&frame(0xFF));
        for _ in 0..10 {
            r.outbound(&frame(0x80));
        }
        assert_eq!(r.out_pos(), 11 * FRAME);
        r.inbound(&frame(0x00));
        r.inbound(&frame(0x00));
        r.clear();
        assert_eq!(r.out_pos(), 3 * FRAME);
        assert_eq!(
            r.otto.len(),
            3 * FRAME,
            "only the two frames heard are kept"
        );
        assert_eq!(r.len(), 3 * FRAME);
        // The next reply plays from the clear on.
        r.outbound(&frame(0x8F));
        assert_eq!(r.otto.len(), 4 * FRAME);
        assert!(r.otto[3 * FRAME..].iter().all(|&c| c == 0x8F));
    }

    #[test]
    fn memory_is_capped_at_the_longest_call() {
        let mut r = Recorder::new(1);
        for _ in 0..100 {
            r.inbound(&frame(0xFF));
            r.outbound(&frame(0x80));
        }
        assert_eq!(r.caller.len(), SAMPLE_RATE as usize);
        assert_eq!(r.otto.len(), SAMPLE_RATE as usize);
        r.clear();
        assert_eq!(r.len(), SAMPLE_RATE as usize);
    }

    #[test]
    fn the_wav_file_is_stereo_8khz_caller_left_otto_right() {
        let dir = tempfile::tempdir().unwrap();
        let path = recording_path(&dir.path().join("new"), &format!("CA{}", "0a".repeat(16)))
            .expect("a valid SID");
        let mut r = Recorder::new(60);
        r.inbound(&frame(0x00));
        r.outbound(&frame(0x80));
        r.outbound(&frame(0x8F));
        r.outbound(&frame(0x7E));
        r.inbound(&frame(0xFF));
        assert_eq!(r.len(), 4 * FRAME);
        r.finish(&path).unwrap();
        assert!(!path.with_extension("wav.part").exists());

        let mut wav = hound::WavReader::open(&path).unwrap();
        let spec = wav.spec();
        assert_eq!(spec.channels, 2);
        assert_eq!(spec.sample_rate, 8_000);
        assert_eq!(spec.bits_per_sample, 16);
        assert_eq!(wav.duration() as usize, 4 * FRAME);
        let samples: Vec<i16> = wav.samples::<i16>().map(Result::unwrap).collect();
        let left: Vec<i16> = samples.iter().step_by(2).copied().collect();
        let right: Vec<i16> = samples.iter().skip(1).step_by(2).copied().collect();
        // G.711: 0x00 → -32124, 0xFF → 0, 0x80 → 32124, 0x8F → 16764, 0x7E → -8.
        let expect = |values: [i16; 4]| -> Vec<i16> {
            values
                .iter()
                .flat_map(|&v| std::iter::repeat_n(v, FRAME))
                .collect()
        };
        assert_eq!(
            left,
            expect([-32124, 0, 0, 0]),
            "caller, then the caller's silence"
        );
        assert_eq!(
            right,
            expect([0, 32124, 16764, -8]),
            "Otto from the caller's clock"
        );
    }

    #[test]
    fn recording_paths_refuse_anything_but_letters_and_digits() {
        let dir = Path::new("/rec");
        let sid = format!("CA{}", "f".repeat(32));
        assert_eq!(
            recording_path(dir, &sid),
            Some(PathBuf::from(format!("/rec/{sid}.wav")))
        );
        for bad in [
            "",
            "../x",
            "..",
            "CA12/../../etc",
            "CA12.wav",
            "CA 12",
            "CA12\0",
            "CAé",
            &"a".repeat(65),
        ] {
            assert_eq!(recording_path(dir, bad), None, "{bad:?}");
        }
    }

    fn touch(path: &Path, modified: SystemTime) {
        let f = std::fs::File::create(path).unwrap();
        f.set_modified(modified).unwrap();
    }

    #[tokio::test]
    async fn sweep_deletes_only_recordings_older_than_the_retention() {
        let dir = tempfile::tempdir().unwrap();
        let now = SystemTime::now();
        let days = |d: u64| Duration::from_secs(d * 86_400);
        let p = |name: &str| dir.path().join(name);
        touch(&p("old.wav"), now - days(31));
        touch(&p("stale.wav.part"), now - days(40));
        touch(&p("recent.wav"), now - days(29));
        touch(&p("old.txt"), now - days(100));
        std::fs::create_dir(p("dir.wav")).unwrap();

        assert_eq!(sweep(dir.path(), 30, now).await.unwrap(), 2);
        assert!(!p("old.wav").exists());
        assert!(!p("stale.wav.part").exists());
        assert!(p("recent.wav").exists());
        assert!(p("old.txt").exists(), "not a recording");
        assert!(p("dir.wav").is_dir());
        // A day later, the recent one has expired too.
        assert_eq!(sweep(dir.path(), 30, now + days(2)).await.unwrap(), 1);
        assert!(!p("recent.wav").exists());
    }

    #[tokio::test]
    async fn sweeping_a_missing_directory_deletes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("never-created");
        assert_eq!(sweep(&missing, 30, SystemTime::now()).await.unwrap(), 0);
    }
}
