//! 20 ms framing of μ-law audio: Twilio Media Streams carry 160-byte frames (8 kHz, 20 ms).

use super::{FRAME_BYTES, FRAME_MS, MULAW_SILENCE};

/// Pads μ-law bytes in place with silence up to a whole number of 160-byte frames.
pub fn pad_to_frames(mulaw: &mut Vec<u8>) {
    let rem = mulaw.len() % FRAME_BYTES;
    if rem != 0 {
        mulaw.resize(mulaw.len() + FRAME_BYTES - rem, MULAW_SILENCE);
    }
}

/// `ms` milliseconds of μ-law silence, rounded up to whole 20 ms frames.
pub fn silence(ms: u32) -> Vec<u8> {
    let frames = ms.div_ceil(FRAME_MS) as usize;
    vec![MULAW_SILENCE; frames * FRAME_BYTES]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pad_and_silence_are_whole_frames() {
        let mut bytes = vec![1u8; 161];
        pad_to_frames(&mut bytes);
        assert_eq!(bytes.len(), 320);
        assert_eq!(silence(30).len(), 320);
        assert_eq!(silence(0).len(), 0);
    }
}
