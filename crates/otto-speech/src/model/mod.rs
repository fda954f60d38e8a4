//! Getting a whisper model: reading CTranslate2 Whisper models ([`ct2`]), converting them to
//! whisper.cpp's ggml format ([`convert`], with the mel filterbank from [`mel`]), and fetching
//! and verifying a usable model ([`fetch`]).
//!
//! Format facts follow `shared/speech/LOCAL-SPEECH.md` ("CTranslate2 model.bin", "ggml file",
//! "Name mapping"), which were checked against whisper.cpp's `convert-pt-to-ggml.py`.

pub mod convert;
pub mod ct2;
pub mod fetch;
pub mod mel;

pub use convert::{GGML_MAGIC, convert_ct2_to_ggml};
pub use fetch::{FetchReport, ModelSource, fetch_model, verify_model};
