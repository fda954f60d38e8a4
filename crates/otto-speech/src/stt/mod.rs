//! Local speech-to-text, implementing `otto_core::speech::stt::SpeechToText`. The local
//! engine's parts: [`whisper`] (model and shared decode pool), [`local`] (VAD-driven streams)
//! and [`normalize`] (transcript normalisation and word error rate).
//!
//! Events follow Deepgram live STT (see `otto_core::speech::SttEvent` and
//! `shared/protocols/deepgram.md` section a.4).

pub mod local;
pub mod normalize;
pub mod whisper;
