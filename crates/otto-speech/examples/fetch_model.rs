//! `cargo run -p otto-speech --example fetch_model [DEST]`: puts a verified whisper model at
//! DEST (default `data/models/ggml-tiny.en.bin`), as `otto models fetch` does.

// Test code: a panic on a broken precondition is the failure message.
#![allow(clippy::unwrap_used)]

fn main() {
    let dest = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "data/models/ggml-tiny.en.bin".into());
    match otto_speech::model::fetch_model(dest.as_ref(), &otto_speech::model::ModelSource::Default)
    {
        Ok(report) => println!("{report:?}"),
        Err(e) => {
            eprintln!("model fetch failed: {e}");
            std::process::exit(1);
        }
    }
}
