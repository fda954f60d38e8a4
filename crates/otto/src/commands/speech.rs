//! `otto models fetch`, `otto speech transcribe FILE` and `otto speech say TEXT -o FILE`:
//! the local speech engines from the command line. All of them block on CPU or processes, so
//! they run on the blocking pool.

use anyhow::Context;
use otto_speech::model::{ModelSource, fetch_model};
use otto_speech::stt::whisper::{WhisperModel, WhisperSettings};
use otto_speech::tts::flite::Voice;

use crate::cli::{ModelsCommand, SpeechCommand};
use crate::config::Config;

/// Runs `otto models fetch`.
///
/// # Errors
/// The step of the fetch that failed (download, conversion, verification) and why.
pub async fn models(config: &Config, cmd: ModelsCommand) -> anyhow::Result<()> {
    let ModelsCommand::Fetch = cmd;
    let dest = config.whisper_model();
    let source = match config.speech.model_source.as_deref().map(str::trim) {
        None | Some("") => ModelSource::Default,
        Some(s) if s.starts_with("http://") || s.starts_with("https://") => {
            ModelSource::Url(s.to_string())
        }
        Some(path) => ModelSource::Path(path.into()),
    };
    let shown = dest.display().to_string();
    let report = tokio::task::spawn_blocking(move || fetch_model(&dest, &source))
        .await?
        .with_context(|| format!("could not put a speech model at {shown}"))?;
    println!(
        "{} model {} ({:.1} MB); test transcription: {:?}",
        if report.kept_existing {
            "kept verified"
        } else {
            "installed"
        },
        report.path.display(),
        report.bytes as f64 / 1e6,
        report.verify_transcript
    );
    Ok(())
}

/// Runs `otto speech …`.
///
/// # Errors
/// A missing or corrupt model (with a hint to run `otto models fetch`), unreadable or
/// unsupported audio, or a file that cannot be written.
pub async fn run(config: &Config, cmd: SpeechCommand) -> anyhow::Result<()> {
    match cmd {
        SpeechCommand::Transcribe { file } => {
            let model_path = config.whisper_model();
            let transcript = tokio::task::spawn_blocking(move || {
                let model = WhisperModel::load(&model_path, WhisperSettings::default())?;
                otto_speech::files::transcribe_wav(&file, &model)
            })
            .await??;
            println!("{}", transcript.text);
            eprintln!(
                "({} ms of audio, decoded in {} ms)",
                transcript.timing.audio_ms, transcript.timing.decode_ms
            );
        }
        SpeechCommand::Say { text, output } => {
            let voice: Voice = config.speech.voice.parse()?;
            let shown = output.display().to_string();
            let ms = tokio::task::spawn_blocking(move || {
                otto_speech::files::say_to_wav(&text, voice, &output)
            })
            .await??;
            println!("wrote {ms} ms of μ-law 8 kHz audio to {shown}");
        }
    }
    Ok(())
}
