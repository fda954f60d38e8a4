//! A minimal FFI binding to flite (CMU Flite 2.2, Debian `libflite1` / `flite1-dev`).
//!
//! Calls used: `flite_init()`, `register_cmu_us_kal(NULL)`, `register_cmu_us_slt(NULL)`,
//! `flite_text_to_wave(text, voice)` and `delete_wave(wave)` (see `flite/flite.h`,
//! `flite/cst_wave.h`). Linking is done by `build.rs`.
//!
//! Thread-safety relied on: none. flite keeps global state (its init and voice registration
//! are not safe to run concurrently, and synthesis shares lexicon caches), so flite is
//! initialised once behind a [`OnceLock`] and every call into it is serialised through one
//! [`Mutex`]. A sentence takes about 17 ms (kal) to 60 ms (slt), so the lock is held briefly;
//! callers on an async runtime run [`synthesize`] on the blocking pool.

// The flite FFI binding: the one place Otto calls C. Each unsafe block says why it is sound.
#![allow(unsafe_code)]

use std::ffi::{CString, c_char, c_int, c_short, c_void};
use std::sync::{Mutex, OnceLock};

use otto_core::speech::SpeechError;

#[repr(C)]
struct CstWave {
    kind: *const c_char,
    sample_rate: c_int,
    num_samples: c_int,
    num_channels: c_int,
    samples: *mut c_short,
}

unsafe extern "C" {
    fn flite_init() -> c_int;
    fn register_cmu_us_kal(voxdir: *const c_char) -> *mut c_void;
    fn register_cmu_us_slt(voxdir: *const c_char) -> *mut c_void;
    fn flite_text_to_wave(text: *const c_char, voice: *mut c_void) -> *mut CstWave;
    fn delete_wave(wave: *mut CstWave);
}

/// A flite voice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Voice {
    /// `cmu_us_kal`: male diphone voice, native 8 kHz (the telephone rate); the default.
    #[default]
    Kal,
    /// `cmu_us_slt`: female voice, native 16 kHz (resampled to 8 kHz for calls).
    Slt,
}

impl std::str::FromStr for Voice {
    type Err = SpeechError;

    /// Parses `kal` or `slt` (case-insensitive, optional `cmu_us_` prefix).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let name = s.trim().to_ascii_lowercase();
        match name.strip_prefix("cmu_us_").unwrap_or(&name) {
            "kal" => Ok(Voice::Kal),
            "slt" => Ok(Voice::Slt),
            _ => Err(SpeechError::Synthesis(format!(
                "unknown flite voice {s:?}: expected \"kal\" or \"slt\""
            ))),
        }
    }
}

/// Linear PCM16 mono audio as flite produced it.
#[derive(Debug, Clone, PartialEq)]
pub struct Pcm {
    /// Sample rate in Hz (8000 for kal, 16000 for slt).
    pub sample_rate: u32,
    /// Samples.
    pub samples: Vec<i16>,
}

struct Voices {
    kal: *mut c_void,
    slt: *mut c_void,
}

// SAFETY: the voice pointers are only dereferenced by flite while the `FLITE` mutex is held,
// so they are never used from two threads at once.
unsafe impl Send for Voices {}

static FLITE: OnceLock<Result<Mutex<Voices>, String>> = OnceLock::new();

fn flite() -> Result<&'static Mutex<Voices>, SpeechError> {
    FLITE
        .get_or_init(|| {
            // SAFETY: runs exactly once (OnceLock), before any other flite call.
            let (kal, slt) = unsafe {
                flite_init();
                (
                    register_cmu_us_kal(std::ptr::null()),
                    register_cmu_us_slt(std::ptr::null()),
                )
            };
            if kal.is_null() || slt.is_null() {
                return Err("flite voice registration failed (cmu_us_kal / cmu_us_slt)".into());
            }
            Ok(Mutex::new(Voices { kal, slt }))
        })
        .as_ref()
        .map_err(|e| SpeechError::Synthesis(e.clone()))
}

/// Initialises flite and registers both voices (idempotent). Engines call it at
/// construction so a broken flite fails at start, not mid-call.
///
/// Errors: [`SpeechError::Synthesis`] when a voice cannot be registered.
pub fn init() -> Result<(), SpeechError> {
    flite().map(|_| ())
}

/// Synthesises `text` with `voice`. Blocking (about 17 ms per sentence for kal).
///
/// NUL characters are removed; text with no speakable characters gives empty audio.
/// Errors: [`SpeechError::Synthesis`] when flite fails or returns malformed audio.
pub fn synthesize(text: &str, voice: Voice) -> Result<Pcm, SpeechError> {
    let clean: String = text.chars().filter(|&c| c != '\0').collect();
    if !clean.chars().any(char::is_alphanumeric) {
        let sample_rate = match voice {
            Voice::Kal => 8000,
            Voice::Slt => 16000,
        };
        return Ok(Pcm {
            sample_rate,
            samples: Vec::new(),
        });
    }
    let c_text = CString::new(clean).expect("NUL characters were filtered out");
    let voices = flite()?
        .lock()
        .map_err(|_| SpeechError::Synthesis("flite lock poisoned by an earlier panic".into()))?;
    let voice_ptr = match voice {
        Voice::Kal => voices.kal,
        Voice::Slt => voices.slt,
    };
    // SAFETY: flite is initialised, the voice pointer is valid for the process lifetime,
    // calls are serialised by the mutex guard held here, and the wave is freed exactly once.
    unsafe {
        let wave = flite_text_to_wave(c_text.as_ptr(), voice_ptr);
        if wave.is_null() {
            return Err(SpeechError::Synthesis(
                "flite_text_to_wave returned NULL".into(),
            ));
        }
        let w = &*wave;
        let result = if w.num_channels != 1 || w.sample_rate <= 0 || w.num_samples < 0 {
            Err(SpeechError::Synthesis(format!(
                "flite returned {} channels at {} Hz",
                w.num_channels, w.sample_rate
            )))
        } else if w.num_samples == 0 || w.samples.is_null() {
            Ok(Pcm {
                sample_rate: w.sample_rate as u32,
                samples: Vec::new(),
            })
        } else {
            let samples = std::slice::from_raw_parts(w.samples, w.num_samples as usize).to_vec();
            Ok(Pcm {
                sample_rate: w.sample_rate as u32,
                samples,
            })
        };
        delete_wave(wave);
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn voices_speak_at_native_rates() {
        let kal = synthesize("Hello, thanks for calling.", Voice::Kal).expect("kal works");
        assert_eq!(kal.sample_rate, 8000);
        // About a second of speech: well over 0.5 s, well under 3 s.
        assert!(
            (4000..24000).contains(&kal.samples.len()),
            "{} samples",
            kal.samples.len()
        );
        let peak = kal
            .samples
            .iter()
            .map(|s| s.unsigned_abs())
            .max()
            .unwrap_or(0);
        assert!(peak > 1000, "audible speech, peak {peak}");
        let slt = synthesize("Hello, thanks for calling.", Voice::Slt).expect("slt works");
        assert_eq!(slt.sample_rate, 16000);
        assert!(!slt.samples.is_empty());
    }

    #[test]
    fn unspeakable_text_gives_no_audio() {
        assert!(
            synthesize("  \0 ... ", Voice::Kal)
                .expect("no error")
                .samples
                .is_empty()
        );
    }

    #[test]
    fn voice_names_parse() {
        assert_eq!("KAL".parse::<Voice>().expect("valid"), Voice::Kal);
        assert_eq!("cmu_us_slt".parse::<Voice>().expect("valid"), Voice::Slt);
        assert!("awb".parse::<Voice>().is_err());
    }

    #[test]
    fn concurrent_synthesis_is_serialised_safely() {
        let handles: Vec<_> = (0..4)
            .map(|i| std::thread::spawn(move || synthesize(&format!("Number {i}."), Voice::Kal)))
            .collect();
        for h in handles {
            let pcm = h.join().expect("no panic").expect("synthesis works");
            assert!(!pcm.samples.is_empty());
        }
    }
}
