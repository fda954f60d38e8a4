//! Audio plumbing for local speech: sample-rate conversion ([`resample`]) and WAV files
//! ([`wav`]). The G.711 μ-law codec and 20 ms framing are `otto_core::speech::{mulaw, frames}`.
//!
//! Samples are mono. Linear samples are `i16` (PCM16) or `f32` in [-1.0, 1.0] (what whisper.cpp
//! takes); telephone audio is μ-law 8 kHz, one byte per sample.

pub mod resample;
pub mod wav;
