//! whisper.cpp (through `whisper-rs` 0.16) as the local recogniser: loading and checking a
//! ggml model ([`WhisperModel`]), decoding one utterance, and the shared decode pool
//! ([`DecodePool`]) that keeps this CPU-bound work off the async runtime.
//!
//! Settings follow `shared/speech/LOCAL-SPEECH.md`: language "en", no context, single segment,
//! no timestamps, `audio_ctx = 750` (a 15 s window; never sized to the utterance, which makes
//! tiny.en loop), audio upsampled from 8 kHz to 16 kHz, 200 ms of silence padded in front.
//!
//! Metrics (via the `metrics` facade): histograms `otto_stt_queue_wait_seconds` and
//! `otto_stt_decode_seconds`, counters `otto_stt_utterances_total` and
//! `otto_stt_decode_errors_total`.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::sync::{mpsc, oneshot};
use whisper_rs::{
    FullParams, SamplingStrategy, WhisperContext, WhisperContextParameters, WhisperState,
};

use crate::audio::resample;
use crate::model::mel::WHISPER_SAMPLE_RATE;
use otto_core::speech::SpeechError;
use otto_core::speech::mulaw;

/// Decoding settings.
#[derive(Debug, Clone, PartialEq)]
pub struct WhisperSettings {
    /// Encoder window in mel frames / 2 (750 = 15 s; 1500 = whisper's full 30 s).
    pub audio_ctx: i32,
    /// CPU threads per decode (default 2).
    pub threads: usize,
    /// Text that nudges spellings (shop name, services); empty for none.
    pub initial_prompt: String,
}

impl Default for WhisperSettings {
    fn default() -> Self {
        Self {
            audio_ctx: 750,
            threads: 2,
            initial_prompt: String::new(),
        }
    }
}

/// Timing of one decoded utterance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UtteranceTiming {
    /// Length of the audio decoded, ms.
    pub audio_ms: u64,
    /// Time waiting in the decode queue, ms (0 when decoded directly).
    pub queue_wait_ms: u64,
    /// Time whisper.cpp spent decoding, ms.
    pub decode_ms: u64,
}

/// A transcript with its timing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transcript {
    /// Written text; bracketed non-speech annotations (`[BLANK_AUDIO]`, `(music)`) removed.
    pub text: String,
    /// Timing.
    pub timing: UtteranceTiming,
}

/// A loaded ggml Whisper model (shared, read-only; each decoder thread has its own state).
pub struct WhisperModel {
    context: WhisperContext,
    path: PathBuf,
    settings: WhisperSettings,
}

impl std::fmt::Debug for WhisperModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WhisperModel")
            .field("path", &self.path)
            .field("settings", &self.settings)
            .finish()
    }
}

/// Whisper rejects input shorter than 1 s; shorter utterances are padded to this, samples at 16 kHz.
const MIN_SAMPLES: usize = WHISPER_SAMPLE_RATE as usize * 11 / 10;
/// Silence padded in front, samples at 16 kHz (200 ms).
const LEAD_SAMPLES: usize = WHISPER_SAMPLE_RATE as usize / 5;

impl WhisperModel {
    /// Loads the ggml model at `path`, checking it before whisper.cpp sees it.
    ///
    /// Errors: [`SpeechError::Model`] when the file is missing, not a ggml model, truncated or
    /// rejected by whisper.cpp, with a hint to run `otto models fetch`.
    pub fn load(path: &Path, settings: WhisperSettings) -> Result<Self, SpeechError> {
        let model_err = |reason: String| SpeechError::Model {
            path: path.to_path_buf(),
            reason,
        };
        if settings.audio_ctx <= 0 || settings.audio_ctx > 1500 || settings.threads == 0 {
            return Err(model_err(format!(
                "invalid settings {settings:?}: audio_ctx 1..=1500, threads ≥ 1"
            )));
        }
        check_model_file(path)?;
        whisper_rs::install_logging_hooks();
        let path_str = path
            .to_str()
            .ok_or_else(|| model_err("path is not UTF-8".into()))?;
        let context = WhisperContext::new_with_params(path_str, WhisperContextParameters::default())
            .map_err(|e| model_err(format!("whisper.cpp could not load it ({e}); the file may be truncated or corrupt: run `otto models fetch`")))?;
        Ok(Self {
            context,
            path: path.to_path_buf(),
            settings,
        })
    }

    /// The model file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A fresh decoder state (about 30 MB for tiny.en); one per decoding thread.
    ///
    /// Errors: [`SpeechError::Recognition`] when whisper.cpp cannot allocate it.
    pub fn new_state(&self) -> Result<WhisperState, SpeechError> {
        self.context
            .create_state()
            .map_err(|e| SpeechError::Recognition(format!("cannot create decoder state: {e}")))
    }

    /// Transcribes μ-law 8 kHz audio on the calling thread (blocking; about 0.6 s for tiny.en).
    ///
    /// Errors: [`SpeechError::Recognition`].
    pub fn transcribe_mulaw(&self, mulaw_audio: &[u8]) -> Result<Transcript, SpeechError> {
        let mut state = self.new_state()?;
        self.transcribe_8k(&mut state, &mulaw::decode_to_f32(mulaw_audio))
    }

    /// Transcribes 8 kHz mono samples with `state` (blocking).
    ///
    /// Errors: [`SpeechError::Recognition`]; [`SpeechError::InvalidAudio`] from resampling.
    pub fn transcribe_8k(
        &self,
        state: &mut WhisperState,
        samples_8k: &[f32],
    ) -> Result<Transcript, SpeechError> {
        let started = Instant::now();
        let upsampled = resample::resample(
            samples_8k,
            otto_core::speech::SAMPLE_RATE_HZ,
            WHISPER_SAMPLE_RATE,
        )?;
        let mut audio = vec![0f32; LEAD_SAMPLES];
        audio.extend_from_slice(&upsampled);
        if audio.len() < MIN_SAMPLES {
            audio.resize(MIN_SAMPLES, 0.0);
        }
        let mut params = FullParams::new(SamplingStrategy::Greedy { best_of: 1 });
        params.set_language(Some("en"));
        params.set_n_threads(self.settings.threads as i32);
        params.set_audio_ctx(self.settings.audio_ctx);
        params.set_no_context(true);
        params.set_single_segment(true);
        params.set_no_timestamps(true);
        params.set_print_progress(false);
        params.set_print_realtime(false);
        params.set_print_special(false);
        params.set_print_timestamps(false);
        if !self.settings.initial_prompt.is_empty() {
            params.set_initial_prompt(&self.settings.initial_prompt);
        }
        state
            .full(params, &audio)
            .map_err(|e| SpeechError::Recognition(e.to_string()))?;
        let mut text = String::new();
        for segment in state.as_iter() {
            let piece = segment
                .to_str_lossy()
                .map_err(|e| SpeechError::Recognition(e.to_string()))?;
            text.push_str(&piece);
        }
        let decode = started.elapsed();
        metrics::histogram!("otto_stt_decode_seconds").record(decode.as_secs_f64());
        metrics::counter!("otto_stt_utterances_total").increment(1);
        Ok(Transcript {
            text: strip_annotations(&text),
            timing: UtteranceTiming {
                audio_ms: samples_8k.len() as u64 / 8,
                queue_wait_ms: 0,
                decode_ms: decode.as_millis() as u64,
            },
        })
    }
}

/// Smallest plausible ggml Whisper model, bytes (quantised tiny models are about 30 MB).
const MIN_MODEL_BYTES: u64 = 8 * 1024 * 1024;

/// Checks that `path` is a readable file with the ggml magic and a plausible size; returns its
/// size in bytes. whisper.cpp is only given files that pass.
///
/// Errors: [`SpeechError::Model`] saying what is wrong, with a hint to run `otto models fetch`.
pub fn check_model_file(path: &Path) -> Result<u64, SpeechError> {
    use std::io::Read;
    let model_err = |reason: String| SpeechError::Model {
        path: path.to_path_buf(),
        reason,
    };
    let mut file = std::fs::File::open(path)
        .map_err(|e| model_err(format!("{e}; run `otto models fetch` to put a model there")))?;
    let len = file.metadata().map_err(|e| model_err(e.to_string()))?.len();
    let mut magic = [0u8; 4];
    file.read_exact(&mut magic)
        .map_err(|_| model_err("too short for a ggml header; run `otto models fetch`".into()))?;
    if u32::from_le_bytes(magic) != crate::model::GGML_MAGIC {
        return Err(model_err(
            "not a ggml whisper model (bad magic); run `otto models fetch`".into(),
        ));
    }
    if len < MIN_MODEL_BYTES {
        return Err(model_err(format!(
            "{len} bytes is too small for a whisper model (truncated?); run `otto models fetch`"
        )));
    }
    Ok(len)
}

/// Removes `[...]` and `(...)` annotations whisper writes for non-speech, and trims.
fn strip_annotations(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut depth = 0usize;
    for c in text.chars() {
        match c {
            '[' | '(' => depth += 1,
            ']' | ')' => depth = depth.saturating_sub(1),
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Settings of the shared decode pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolConfig {
    /// Decoder threads shared by all calls (default 1; each uses `WhisperSettings::threads`).
    pub workers: usize,
    /// Utterances that may wait for a decoder (default 16); callers wait asynchronously
    /// for a slot when it is full.
    pub queue_capacity: usize,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            workers: 1,
            queue_capacity: 16,
        }
    }
}

struct Job {
    samples_8k: Vec<f32>,
    enqueued: Instant,
    reply: oneshot::Sender<Result<Transcript, SpeechError>>,
}

/// A fixed pool of decoder threads behind a bounded queue, shared by all calls. Decoding
/// never runs on the async runtime; callers `await` the result.
#[derive(Clone)]
pub struct DecodePool {
    jobs: mpsc::Sender<Job>,
    model: Arc<WhisperModel>,
    /// Decodes run so far.
    decodes: Arc<AtomicU64>,
}

impl std::fmt::Debug for DecodePool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DecodePool")
            .field("model", &self.model)
            .finish()
    }
}

impl DecodePool {
    /// Starts `config.workers` decoder threads for `model`, each with its own decoder state.
    /// Threads end when the last clone of the pool is dropped.
    ///
    /// Errors: [`SpeechError::Recognition`] when a state cannot be created or a thread
    /// cannot be spawned; zero workers or capacity.
    pub fn start(model: Arc<WhisperModel>, config: PoolConfig) -> Result<Self, SpeechError> {
        if config.workers == 0 || config.queue_capacity == 0 {
            return Err(SpeechError::Recognition(format!(
                "invalid pool config {config:?}: workers and queue_capacity must be ≥ 1"
            )));
        }
        let (tx, rx) = mpsc::channel::<Job>(config.queue_capacity);
        let rx = Arc::new(Mutex::new(rx));
        let decodes = Arc::new(AtomicU64::new(0));
        for i in 0..config.workers {
            let mut state = model.new_state()?;
            let (model, rx, decodes) = (model.clone(), rx.clone(), decodes.clone());
            std::thread::Builder::new()
                .name(format!("otto-stt-{i}"))
                .spawn(move || {
                    loop {
                        let job = match rx.lock() {
                            Ok(mut guard) => guard.blocking_recv(),
                            Err(_) => None,
                        };
                        let Some(job) = job else { return };
                        if job.reply.is_closed() {
                            continue; // abandoned while queued (a dropped speculative decode)
                        }
                        decodes.fetch_add(1, Ordering::Relaxed);
                        let wait = job.enqueued.elapsed();
                        metrics::histogram!("otto_stt_queue_wait_seconds")
                            .record(wait.as_secs_f64());
                        let result =
                            model
                                .transcribe_8k(&mut state, &job.samples_8k)
                                .map(|mut t| {
                                    t.timing.queue_wait_ms = wait.as_millis() as u64;
                                    t
                                });
                        if result.is_err() {
                            metrics::counter!("otto_stt_decode_errors_total").increment(1);
                        }
                        // The caller may have gone (call ended): nothing to do then.
                        let _ = job.reply.send(result);
                    }
                })
                .map_err(|e| {
                    SpeechError::Recognition(format!("cannot spawn decoder thread: {e}"))
                })?;
        }
        Ok(Self {
            jobs: tx,
            model,
            decodes,
        })
    }

    /// Decodes started so far (jobs abandoned while queued are skipped, not counted).
    pub fn decodes(&self) -> u64 {
        self.decodes.load(Ordering::Relaxed)
    }

    /// The model the pool decodes with.
    pub fn model(&self) -> &Arc<WhisperModel> {
        &self.model
    }

    /// Decodes 8 kHz mono samples; waits (asynchronously) for a queue slot, then for the result.
    ///
    /// Errors: [`SpeechError::Recognition`]; [`SpeechError::Closed`] if the pool stopped.
    pub async fn transcribe(&self, samples_8k: Vec<f32>) -> Result<Transcript, SpeechError> {
        let (reply, result) = oneshot::channel();
        let job = Job {
            samples_8k,
            enqueued: Instant::now(),
            reply,
        };
        self.jobs.send(job).await.map_err(|_| SpeechError::Closed)?;
        result.await.map_err(|_| SpeechError::Closed)?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotations_are_stripped() {
        assert_eq!(strip_annotations(" [BLANK_AUDIO]"), "");
        assert_eq!(
            strip_annotations(" Hello (coughs) there.  "),
            "Hello there."
        );
    }

    #[test]
    fn missing_and_corrupt_models_fail_at_load() {
        let dir = std::env::temp_dir().join(format!("otto-whisper-load-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let err =
            WhisperModel::load(&dir.join("missing.bin"), WhisperSettings::default()).unwrap_err();
        assert!(err.to_string().contains("otto models fetch"), "{err}");
        let corrupt = dir.join("corrupt.bin");
        std::fs::write(&corrupt, b"definitely not ggml").expect("write");
        assert!(matches!(
            WhisperModel::load(&corrupt, WhisperSettings::default()),
            Err(SpeechError::Model { .. })
        ));
        // Right magic, truncated body: rejected before whisper.cpp reads past the end.
        let truncated = dir.join("truncated.bin");
        let mut bytes = crate::model::GGML_MAGIC.to_le_bytes().to_vec();
        bytes.extend_from_slice(&[1, 0, 0, 0, 2, 0]);
        std::fs::write(&truncated, bytes).expect("write");
        assert!(matches!(
            WhisperModel::load(&truncated, WhisperSettings::default()),
            Err(SpeechError::Model { .. })
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
