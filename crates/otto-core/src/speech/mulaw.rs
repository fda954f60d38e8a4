//! G.711 μ-law codec (ITU-T G.711, the reference algorithm of Sun's `g711.c`).
//!
//! Linear side: 16-bit PCM (`i16`). The codec works on the 14-bit magnitude (`sample >> 2`) with
//! bias 33, eight segments and four mantissa bits; codes are stored bit-inverted. Decoding is
//! exact for all 256 codes; `encode(decode(c)) == c` for every code except the negative zero
//! 0x7F, which encodes back as positive zero 0xFF.

/// Bias added to the magnitude before segment search (0x84 in 16-bit units).
const BIAS: i32 = 0x84;
/// Largest 14-bit magnitude before biasing (G.711 clip level).
const CLIP: i32 = 8159;

/// Decodes one μ-law byte to 16-bit linear PCM (range -32124..=32124).
pub fn decode(code: u8) -> i16 {
    DECODE_TABLE[code as usize]
}

/// Encodes one 16-bit linear PCM sample to μ-law (values beyond ±32635 clip).
pub fn encode(sample: i16) -> u8 {
    let mut pcm = i32::from(sample) >> 2;
    let mask: u8 = if pcm < 0 {
        pcm = -pcm;
        0x7F
    } else {
        0xFF
    };
    let biased = pcm.min(CLIP) + (BIAS >> 2);
    // Segment: position of the highest set bit above bit 5 (biased value is in 33..=8192).
    let seg = (31 - (biased as u32).leading_zeros()).saturating_sub(5);
    if seg >= 8 {
        return 0x7F ^ mask;
    }
    let mantissa = ((biased >> (seg + 1)) & 0x0F) as u8;
    (((seg as u8) << 4) | mantissa) ^ mask
}

/// Decodes μ-law bytes to `f32` samples in [-1.0, 1.0].
pub fn decode_to_f32(mulaw: &[u8]) -> Vec<f32> {
    let mut samples = vec![0.0; mulaw.len()];
    decode_into_f32(mulaw, &mut samples);
    samples
}

/// Decodes μ-law bytes into `out` as `f32` samples in [-1.0, 1.0], without allocating (the
/// per-frame audio path); decodes `min(mulaw.len(), out.len())` samples.
pub fn decode_into_f32(mulaw: &[u8], out: &mut [f32]) {
    for (sample, &code) in out.iter_mut().zip(mulaw) {
        *sample = f32::from(decode(code)) / 32768.0;
    }
}

/// Encodes `f32` samples (nominally [-1.0, 1.0]; beyond that they clip) to μ-law bytes.
pub fn encode_from_f32(samples: &[f32]) -> Vec<u8> {
    samples
        .iter()
        .map(|&s| encode((s * 32767.0).clamp(-32768.0, 32767.0) as i16))
        .collect()
}

/// Decode table for all 256 codes, built at compile time from the G.711 expansion formula.
const DECODE_TABLE: [i16; 256] = build_decode_table();

const fn build_decode_table() -> [i16; 256] {
    let mut table = [0i16; 256];
    let mut code = 0;
    while code < 256 {
        let u = !(code as u8);
        let mut t = (((u & 0x0F) as i32) << 3) + BIAS;
        t <<= (u & 0x70) >> 4;
        table[code] = if u & 0x80 != 0 {
            (BIAS - t) as i16
        } else {
            (t - BIAS) as i16
        };
        code += 1;
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The G.711 μ-law decoding rule written from the standard's description: sign bit,
    /// 3-bit segment (exponent), 4-bit step (mantissa), all inverted; magnitude in 14-bit
    /// units is `((2 * step + 33) << segment) - 33`, scaled by 4 to 16 bits.
    fn itu_decode(code: u8) -> i32 {
        let c = !code;
        let sign = c & 0x80 != 0;
        let segment = i32::from((c >> 4) & 0x07);
        let step = i32::from(c & 0x0F);
        let magnitude = (((2 * step + 33) << segment) - 33) * 4;
        if sign { -magnitude } else { magnitude }
    }

    #[test]
    fn decode_all_codes_match_itu_rule() {
        for code in 0..=255u8 {
            assert_eq!(
                i32::from(decode(code)),
                itu_decode(code),
                "code {code:#04x}"
            );
        }
    }

    #[test]
    fn decode_spot_values_from_g711_table() {
        assert_eq!(decode(0x00), -32124);
        assert_eq!(decode(0x80), 32124);
        assert_eq!(decode(0xFF), 0);
        assert_eq!(decode(0x7F), 0);
        assert_eq!(decode(0xFE), 8);
        assert_eq!(decode(0x7E), -8);
        assert_eq!(decode(0x8F), 16764);
    }

    #[test]
    fn encode_of_decode_round_trips_except_negative_zero() {
        for code in 0..=255u8 {
            let expected = if code == 0x7F { 0xFF } else { code };
            assert_eq!(encode(decode(code)), expected, "code {code:#04x}");
        }
    }

    #[test]
    fn encode_clips_extremes() {
        assert_eq!(encode(i16::MAX), 0x80);
        assert_eq!(encode(i16::MIN), 0x00);
    }

    proptest! {
        #[test]
        fn quantisation_error_within_half_step(sample in any::<i16>()) {
            let clipped = i32::from(sample).clamp(-32635, 32635);
            let decoded = i32::from(decode(encode(sample)));
            let segment = i32::from(((!encode(sample)) >> 4) & 0x07);
            // Step size in 16-bit units is 8 << segment; truncation to 14 bits adds up to 3.
            let bound = (4 << segment) + 4;
            prop_assert!((decoded - clipped).abs() <= bound,
                "sample {} decoded {} bound {}", sample, decoded, bound);
        }

        #[test]
        fn encoding_is_monotonic(a in any::<i16>(), b in any::<i16>()) {
            let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
            prop_assert!(decode(encode(lo)) <= decode(encode(hi)));
        }
    }
}
