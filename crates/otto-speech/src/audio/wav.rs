//! WAV (RIFF/WAVE) files: read μ-law (format 7) and PCM16 (format 1, or WAVE_FORMAT_EXTENSIBLE
//! with a PCM subformat) at any rate and channel count; write μ-law 8 kHz mono.
//!
//! Own code rather than `hound`: `hound` reads and writes PCM and float only, not G.711 μ-law.
//! Layout follows the Microsoft RIFF/WAVE spec (`fmt ` chunk, `fact` chunk for non-PCM data,
//! `data` chunk; chunks are padded to even length).

use std::path::Path;

use otto_core::speech::SAMPLE_RATE_HZ;

use otto_core::speech::SpeechError;
use otto_core::speech::mulaw;

const FORMAT_PCM: u16 = 1;
const FORMAT_MULAW: u16 = 7;
const FORMAT_EXTENSIBLE: u16 = 0xFFFE;
/// Largest WAV accepted, in bytes (about 1 h of 16 kHz PCM16).
const MAX_WAV_BYTES: u64 = 128 * 1024 * 1024;

/// Decoded mono audio from a WAV file.
#[derive(Debug, Clone, PartialEq)]
pub struct WavAudio {
    /// Sample rate in Hz, as the file declares it.
    pub sample_rate: u32,
    /// Mono samples in [-1.0, 1.0] (channels averaged).
    pub samples: Vec<f32>,
}

/// Reads a μ-law or PCM16 WAV file into mono `f32` samples.
///
/// Errors: [`SpeechError::Io`] when the file cannot be read; [`SpeechError::InvalidAudio`]
/// for anything that is not a well-formed μ-law/PCM16 WAV (other formats, missing chunks,
/// zero channels or rate, a file over 128 MiB).
pub fn read_wav(path: &Path) -> Result<WavAudio, SpeechError> {
    let meta = std::fs::metadata(path).map_err(|e| SpeechError::io(path, e))?;
    if meta.len() > MAX_WAV_BYTES {
        return Err(SpeechError::InvalidAudio(format!(
            "{}: {} bytes is over the {MAX_WAV_BYTES}-byte limit",
            path.display(),
            meta.len()
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| SpeechError::io(path, e))?;
    parse_wav(&bytes)
        .map_err(|reason| SpeechError::InvalidAudio(format!("{}: {reason}", path.display())))
}

/// Parses WAV bytes (see [`read_wav`]); the error is a human-readable reason.
pub fn parse_wav(bytes: &[u8]) -> Result<WavAudio, String> {
    if bytes.len() < 12 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return Err("not a RIFF/WAVE file".into());
    }
    let mut pos = 12;
    let mut format: Option<(u16, u16, u32, u16)> = None;
    while pos + 8 <= bytes.len() {
        let id = &bytes[pos..pos + 4];
        let declared = u32_at(bytes, pos + 4) as usize;
        let body_start = pos + 8;
        // Streaming writers may leave the size unset (0 or 0xFFFFFFFF): take what is there.
        let body_end = body_start.saturating_add(declared).min(bytes.len());
        let body = &bytes[body_start..body_end];
        match id {
            b"fmt " => {
                if body.len() < 16 {
                    return Err("fmt chunk shorter than 16 bytes".into());
                }
                let mut tag = u16_at(body, 0);
                let channels = u16_at(body, 2);
                let rate = u32_at(body, 4);
                let bits = u16_at(body, 14);
                if tag == FORMAT_EXTENSIBLE {
                    if body.len() < 26 {
                        return Err("extensible fmt chunk too short".into());
                    }
                    tag = u16_at(body, 24);
                }
                format = Some((tag, channels, rate, bits));
            }
            b"data" => {
                let (tag, channels, rate, bits) = format.ok_or("data chunk before fmt chunk")?;
                return decode_data(body, tag, channels, rate, bits);
            }
            _ => {}
        }
        pos = body_start
            .saturating_add(declared)
            .saturating_add(declared & 1);
    }
    Err("no data chunk".into())
}

fn decode_data(
    data: &[u8],
    tag: u16,
    channels: u16,
    rate: u32,
    bits: u16,
) -> Result<WavAudio, String> {
    if channels == 0 || rate == 0 {
        return Err(format!("invalid fmt: {channels} channels at {rate} Hz"));
    }
    let mono_of = |frame_values: Vec<f32>| -> Vec<f32> {
        frame_values
            .chunks_exact(usize::from(channels))
            .map(|f| f.iter().sum::<f32>() / f32::from(channels))
            .collect()
    };
    let samples = match (tag, bits) {
        (FORMAT_MULAW, 8) => mono_of(mulaw::decode_to_f32(data)),
        (FORMAT_PCM, 16) => mono_of(
            data.chunks_exact(2)
                .map(|b| f32::from(i16::from_le_bytes([b[0], b[1]])) / 32768.0)
                .collect(),
        ),
        _ => {
            return Err(format!(
                "unsupported WAV encoding (format tag {tag}, {bits} bits): use μ-law 8-bit or PCM 16-bit"
            ));
        }
    };
    Ok(WavAudio {
        sample_rate: rate,
        samples,
    })
}

/// Writes μ-law 8 kHz mono bytes as a WAV file (format 7, with `fact` chunk).
///
/// Errors: [`SpeechError::Io`] when the file cannot be written.
pub fn write_mulaw_wav(path: &Path, mulaw: &[u8]) -> Result<(), SpeechError> {
    std::fs::write(path, mulaw_wav_bytes(mulaw)).map_err(|e| SpeechError::io(path, e))
}

/// The bytes of a μ-law 8 kHz mono WAV file holding `mulaw`.
pub fn mulaw_wav_bytes(mulaw: &[u8]) -> Vec<u8> {
    let data_len = mulaw.len() as u32;
    let pad = data_len & 1;
    let mut out = Vec::with_capacity(58 + mulaw.len() + 1);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(4 + 26 + 12 + 8 + data_len + pad).to_le_bytes());
    out.extend_from_slice(b"WAVE");
    out.extend_from_slice(b"fmt ");
    out.extend_from_slice(&18u32.to_le_bytes());
    out.extend_from_slice(&FORMAT_MULAW.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // channels
    out.extend_from_slice(&SAMPLE_RATE_HZ.to_le_bytes());
    out.extend_from_slice(&SAMPLE_RATE_HZ.to_le_bytes()); // byte rate: 1 byte per sample
    out.extend_from_slice(&1u16.to_le_bytes()); // block align
    out.extend_from_slice(&8u16.to_le_bytes()); // bits per sample
    out.extend_from_slice(&0u16.to_le_bytes()); // cbSize
    out.extend_from_slice(b"fact");
    out.extend_from_slice(&4u32.to_le_bytes());
    out.extend_from_slice(&data_len.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    out.extend_from_slice(mulaw);
    if pad == 1 {
        out.push(0);
    }
    out
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pcm16_wav(rate: u32, channels: u16, samples: &[i16]) -> Vec<u8> {
        let data: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
        let mut out = b"RIFF".to_vec();
        out.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
        out.extend_from_slice(b"WAVEfmt ");
        out.extend_from_slice(&16u32.to_le_bytes());
        out.extend_from_slice(&FORMAT_PCM.to_le_bytes());
        out.extend_from_slice(&channels.to_le_bytes());
        out.extend_from_slice(&rate.to_le_bytes());
        out.extend_from_slice(&(rate * 2 * u32::from(channels)).to_le_bytes());
        out.extend_from_slice(&(2 * channels).to_le_bytes());
        out.extend_from_slice(&16u16.to_le_bytes());
        out.extend_from_slice(b"LIST");
        out.extend_from_slice(&3u32.to_le_bytes());
        out.extend_from_slice(b"abc\0"); // odd chunk plus pad byte
        out.extend_from_slice(b"data");
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(&data);
        out
    }

    #[test]
    fn mulaw_round_trip() {
        let codes: Vec<u8> = (0..=255u8).collect();
        let wav = parse_wav(&mulaw_wav_bytes(&codes)).expect("own output parses");
        assert_eq!(wav.sample_rate, 8000);
        let back = mulaw::encode_from_f32(&wav.samples);
        let expected: Vec<u8> = codes
            .iter()
            .map(|&c| if c == 0x7F { 0xFF } else { c })
            .collect();
        assert_eq!(back, expected);
    }

    #[test]
    fn pcm16_stereo_is_mixed_to_mono_and_skips_unknown_chunks() {
        let wav = parse_wav(&pcm16_wav(44100, 2, &[16384, 0, -16384, -16384])).expect("valid");
        assert_eq!(wav.sample_rate, 44100);
        assert_eq!(wav.samples, vec![0.25, -0.5]);
    }

    #[test]
    fn rejects_bad_input() {
        assert!(parse_wav(b"hello").is_err());
        assert!(
            parse_wav(b"RIFF\0\0\0\0WAVE")
                .unwrap_err()
                .contains("no data")
        );
        let mut float = pcm16_wav(8000, 1, &[1, 2]);
        float[20] = 3; // IEEE float tag
        assert!(parse_wav(&float).unwrap_err().contains("unsupported"));
        let mut zero_ch = pcm16_wav(8000, 1, &[1]);
        zero_ch[22] = 0;
        assert!(parse_wav(&zero_ch).is_err());
    }
}
