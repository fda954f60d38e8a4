//! Audio plumbing for telephone speech: G.711 μ-law ([`mulaw`]), 20 ms framing ([`frames`]),
//! sample-rate conversion ([`resample`]) and WAV files ([`wav`]).
//!
//! Samples are mono. Linear samples are `i16` (PCM16) or `f32` in [-1.0, 1.0] (what whisper.cpp
//! takes); telephone audio is μ-law 8 kHz, one byte per sample.

pub mod frames;
pub mod mulaw;
pub mod resample;
pub mod wav;
