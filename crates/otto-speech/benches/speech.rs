//! `cargo bench -p otto-speech`: runs [`otto_speech::bench::bench`] with the model at
//! `OTTO_WHISPER_MODEL` or `data/models/ggml-tiny.en.bin` (repo root) and prints the figures.

// Test code: a panic on a broken precondition is the failure message.
#![allow(clippy::unwrap_used)]

fn main() {
    let model = std::env::var_os("OTTO_WHISPER_MODEL")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../data/models/ggml-tiny.en.bin")
        });
    match otto_speech::bench::bench(&model) {
        Ok(report) => println!("{report}"),
        Err(e) => {
            eprintln!("speech benchmark failed: {e}");
            std::process::exit(1);
        }
    }
}
