//! CTranslate2 Whisper → whisper.cpp ggml (f16) converter.
//!
//! Writes the file as whisper.cpp's `models/convert-pt-to-ggml.py` does: i32 magic
//! `0x67676d6c`; 11 i32 hyper-parameters (n_vocab, n_audio_ctx, n_audio_state, n_audio_head,
//! n_audio_layer, n_text_ctx, n_text_state, n_text_head, n_text_layer, n_mels, ftype = 1);
//! the mel filterbank (i32 n_mels, i32 201, f32 values); the vocabulary (i32 count, then i32
//! length + bytes per token); then each tensor as i32 n_dims, i32 name length, i32 type (0 f32,
//! 1 f16), dims innermost first, name, data. 1-D tensors, positional embeddings and the conv
//! biases (reshaped to `[n, 1]`) are f32; all other tensors f16.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use super::ct2::{Ct2Model, DType, Variable};
use super::mel;
use otto_core::speech::SpeechError;

/// The ggml file magic, "ggml" as a little-endian i32.
pub const GGML_MAGIC: u32 = 0x6767_6d6c;

/// Hyper-parameters of a Whisper model, as written in the ggml header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hparams {
    /// Vocabulary size including special tokens (51864 for `.en` models).
    pub n_vocab: i32,
    /// Encoder positions (1500).
    pub n_audio_ctx: i32,
    /// Encoder width.
    pub n_audio_state: i32,
    /// Encoder attention heads.
    pub n_audio_head: i32,
    /// Encoder layers.
    pub n_audio_layer: i32,
    /// Decoder positions (448).
    pub n_text_ctx: i32,
    /// Decoder width.
    pub n_text_state: i32,
    /// Decoder attention heads.
    pub n_text_head: i32,
    /// Decoder layers.
    pub n_text_layer: i32,
    /// Mel bands (80).
    pub n_mels: i32,
}

/// Converts the CTranslate2 Whisper model in `ct2_dir` (`model.bin`, `vocabulary.txt`) to a
/// ggml f16 file at `out`, written to a temporary name and renamed when complete.
///
/// Errors: [`SpeechError::Io`] for unreadable input or unwritable output;
/// [`SpeechError::Convert`] when the model is not a Whisper CTranslate2 model or is inconsistent.
pub fn convert_ct2_to_ggml(ct2_dir: &Path, out: &Path) -> Result<Hparams, SpeechError> {
    let model_path = ct2_dir.join("model.bin");
    let vocab_path = ct2_dir.join("vocabulary.txt");
    let bytes = std::fs::read(&model_path).map_err(|e| SpeechError::io(&model_path, e))?;
    let vocab_text =
        std::fs::read_to_string(&vocab_path).map_err(|e| SpeechError::io(&vocab_path, e))?;
    let model = Ct2Model::parse(&bytes)?;
    if model.spec != "WhisperSpec" {
        return Err(SpeechError::Convert(format!(
            "{} holds a {}, not a WhisperSpec",
            model_path.display(),
            model.spec
        )));
    }
    let tokens = vocabulary_bytes(&vocab_text)?;
    let hparams = hparams(&model)?;
    let tensors = tensors(&model, &hparams)?;

    let tmp = out.with_extension("bin.part");
    let file = std::fs::File::create(&tmp).map_err(|e| SpeechError::io(&tmp, e))?;
    let mut w = std::io::BufWriter::new(file);
    write_ggml(&mut w, &hparams, &tokens, &tensors).map_err(|e| SpeechError::io(&tmp, e))?;
    w.into_inner()
        .map_err(|e| SpeechError::io(&tmp, e.into_error()))?
        .sync_all()
        .map_err(|e| SpeechError::io(&tmp, e))?;
    std::fs::rename(&tmp, out).map_err(|e| SpeechError::io(out, e))?;
    Ok(hparams)
}

fn layer_count(model: &Ct2Model, prefix: &str) -> i32 {
    let mut n = 0;
    while model
        .variables
        .keys()
        .any(|k| k.starts_with(&format!("{prefix}/layer_{n}/")))
    {
        n += 1;
    }
    n
}

fn dim(v: &Variable, i: usize, name: &str) -> Result<i32, SpeechError> {
    v.dims
        .get(i)
        .and_then(|&d| i32::try_from(d).ok())
        .ok_or_else(|| SpeechError::Convert(format!("{name}: unexpected shape {:?}", v.dims)))
}

fn hparams(model: &Ct2Model) -> Result<Hparams, SpeechError> {
    let head = |name: &str| -> Result<i32, SpeechError> {
        i32::try_from(model.get(name)?.scalar_int()?)
            .map_err(|_| SpeechError::Convert(format!("{name} out of range")))
    };
    let enc_pos = model.get("encoder/position_encodings/encodings")?;
    let dec_pos = model.get("decoder/position_encodings/encodings")?;
    let embed = model.get("decoder/embeddings/weight")?;
    let conv1 = model.get("encoder/conv1/weight")?;
    let h = Hparams {
        n_vocab: dim(embed, 0, "decoder embeddings")?,
        n_audio_ctx: dim(enc_pos, 0, "encoder positions")?,
        n_audio_state: dim(enc_pos, 1, "encoder positions")?,
        n_audio_head: head("encoder/num_heads")?,
        n_audio_layer: layer_count(model, "encoder"),
        n_text_ctx: dim(dec_pos, 0, "decoder positions")?,
        n_text_state: dim(dec_pos, 1, "decoder positions")?,
        n_text_head: head("decoder/num_heads")?,
        n_text_layer: layer_count(model, "decoder"),
        n_mels: dim(conv1, 1, "conv1")?,
    };
    if h.n_audio_layer == 0 || h.n_text_layer == 0 || h.n_audio_head <= 0 || h.n_text_head <= 0 {
        return Err(SpeechError::Convert(format!(
            "implausible hyper-parameters {h:?}"
        )));
    }
    Ok(h)
}

/// GPT-2's byte-to-unicode alphabet, inverted: printable char → raw byte.
fn unicode_to_byte() -> HashMap<char, u8> {
    let mut printable: Vec<u32> = (u32::from('!')..=u32::from('~')).collect();
    printable.extend(u32::from('¡')..=u32::from('¬'));
    printable.extend(u32::from('®')..=u32::from('ÿ'));
    let mut map = HashMap::new();
    let mut extra = 0;
    for b in 0u32..256 {
        let c = if printable.contains(&b) {
            b
        } else {
            extra += 1;
            255 + extra
        };
        map.insert(
            char::from_u32(c).expect("code points below 512 are valid chars"),
            b as u8,
        );
    }
    map
}

/// Token byte strings: `vocabulary.txt` lines before `<|endoftext|>`, mapped from GPT-2's
/// byte-level alphabet back to raw bytes.
fn vocabulary_bytes(text: &str) -> Result<Vec<Vec<u8>>, SpeechError> {
    let map = unicode_to_byte();
    let mut tokens = Vec::new();
    for line in text.lines() {
        if line == "<|endoftext|>" {
            return Ok(tokens);
        }
        let bytes = line
            .chars()
            .map(|c| map.get(&c).copied())
            .collect::<Option<Vec<u8>>>()
            .ok_or_else(|| {
                SpeechError::Convert(format!(
                    "vocabulary token {} is not byte-level BPE",
                    tokens.len()
                ))
            })?;
        tokens.push(bytes);
    }
    Err(SpeechError::Convert(
        "vocabulary.txt has no <|endoftext|> token".into(),
    ))
}

/// A tensor ready to write: ggml name, dims outermost first, and f32 values or raw f16 bytes.
struct Tensor {
    name: String,
    dims: Vec<usize>,
    data: TensorData,
}

enum TensorData {
    F32(Vec<f32>),
    F16(Vec<u8>),
}

/// Rows `[from, to)` of a row-major variable, as a new variable view.
fn rows<'a>(v: &Variable<'a>, from: usize, to: usize) -> Variable<'a> {
    let row_elems: usize = v.dims[1..].iter().product();
    let size = v.dtype.size();
    let mut dims = v.dims.clone();
    dims[0] = to - from;
    Variable {
        dims,
        dtype: v.dtype,
        data: &v.data[from * row_elems * size..to * row_elems * size],
    }
}

fn tensor(name: String, v: &Variable, force_f32: bool) -> Result<Tensor, SpeechError> {
    let as_f32 = force_f32 || v.dims.len() < 2;
    let data = match (as_f32, v.dtype) {
        (true, _) => TensorData::F32(v.to_f32()?),
        (false, DType::F16) => TensorData::F16(v.data.to_vec()),
        (false, _) => TensorData::F16(
            v.to_f32()?
                .iter()
                .flat_map(|&x| half::f16::from_f32(x).to_le_bytes())
                .collect(),
        ),
    };
    Ok(Tensor {
        name,
        dims: v.dims.clone(),
        data,
    })
}

fn tensors(model: &Ct2Model, h: &Hparams) -> Result<Vec<Tensor>, SpeechError> {
    let mut out = Vec::new();
    let mut add = |name: String, v: &Variable, force_f32: bool| -> Result<(), SpeechError> {
        out.push(tensor(name, v, force_f32)?);
        Ok(())
    };
    let get = |n: &str| model.get(n);
    let linear = |add: &mut dyn FnMut(String, &Variable, bool) -> Result<(), SpeechError>,
                  src: &str,
                  dst: &str|
     -> Result<(), SpeechError> {
        add(
            format!("{dst}.weight"),
            get(&format!("{src}/weight"))?,
            false,
        )?;
        add(format!("{dst}.bias"), get(&format!("{src}/bias"))?, false)
    };
    let norm = |add: &mut dyn FnMut(String, &Variable, bool) -> Result<(), SpeechError>,
                src: &str,
                dst: &str|
     -> Result<(), SpeechError> {
        add(
            format!("{dst}.weight"),
            get(&format!("{src}/gamma"))?,
            false,
        )?;
        add(format!("{dst}.bias"), get(&format!("{src}/beta"))?, false)
    };
    // Fused projections split by rows: (name, has bias) per part.
    let split = |add: &mut dyn FnMut(String, &Variable, bool) -> Result<(), SpeechError>,
                 src: &str,
                 parts: &[(&str, bool)]|
     -> Result<(), SpeechError> {
        let w = get(&format!("{src}/weight"))?;
        let b = get(&format!("{src}/bias"))?;
        let n = parts.len();
        if w.dims.len() != 2 || w.dims[0] % n != 0 || b.dims != [w.dims[0]] {
            return Err(SpeechError::Convert(format!(
                "{src}: fused shape {:?} does not split in {n}",
                w.dims
            )));
        }
        let part = w.dims[0] / n;
        for (i, (dst, has_bias)) in parts.iter().enumerate() {
            add(
                format!("{dst}.weight"),
                &rows(w, i * part, (i + 1) * part),
                false,
            )?;
            if *has_bias {
                add(
                    format!("{dst}.bias"),
                    &rows(b, i * part, (i + 1) * part),
                    false,
                )?;
            }
        }
        Ok(())
    };

    add(
        "encoder.positional_embedding".into(),
        get("encoder/position_encodings/encodings")?,
        true,
    )?;
    for conv in ["conv1", "conv2"] {
        add(
            format!("encoder.{conv}.weight"),
            get(&format!("encoder/{conv}/weight"))?,
            false,
        )?;
        let bias = get(&format!("encoder/{conv}/bias"))?;
        let mut column = bias.clone();
        column.dims = vec![bias.len(), 1];
        add(format!("encoder.{conv}.bias"), &column, true)?;
    }
    for i in 0..h.n_audio_layer {
        let (s, d) = (format!("encoder/layer_{i}"), format!("encoder.blocks.{i}"));
        split(
            &mut add,
            &format!("{s}/self_attention/linear_0"),
            &[
                (format!("{d}.attn.query").as_str(), true),
                (format!("{d}.attn.key").as_str(), false),
                (format!("{d}.attn.value").as_str(), true),
            ],
        )?;
        linear(
            &mut add,
            &format!("{s}/self_attention/linear_1"),
            &format!("{d}.attn.out"),
        )?;
        norm(
            &mut add,
            &format!("{s}/self_attention/layer_norm"),
            &format!("{d}.attn_ln"),
        )?;
        linear(
            &mut add,
            &format!("{s}/ffn/linear_0"),
            &format!("{d}.mlp.0"),
        )?;
        linear(
            &mut add,
            &format!("{s}/ffn/linear_1"),
            &format!("{d}.mlp.2"),
        )?;
        norm(
            &mut add,
            &format!("{s}/ffn/layer_norm"),
            &format!("{d}.mlp_ln"),
        )?;
    }
    norm(&mut add, "encoder/layer_norm", "encoder.ln_post")?;

    add(
        "decoder.positional_embedding".into(),
        get("decoder/position_encodings/encodings")?,
        true,
    )?;
    add(
        "decoder.token_embedding.weight".into(),
        get("decoder/embeddings/weight")?,
        false,
    )?;
    for i in 0..h.n_text_layer {
        let (s, d) = (format!("decoder/layer_{i}"), format!("decoder.blocks.{i}"));
        split(
            &mut add,
            &format!("{s}/self_attention/linear_0"),
            &[
                (format!("{d}.attn.query").as_str(), true),
                (format!("{d}.attn.key").as_str(), false),
                (format!("{d}.attn.value").as_str(), true),
            ],
        )?;
        linear(
            &mut add,
            &format!("{s}/self_attention/linear_1"),
            &format!("{d}.attn.out"),
        )?;
        norm(
            &mut add,
            &format!("{s}/self_attention/layer_norm"),
            &format!("{d}.attn_ln"),
        )?;
        linear(
            &mut add,
            &format!("{s}/attention/linear_0"),
            &format!("{d}.cross_attn.query"),
        )?;
        split(
            &mut add,
            &format!("{s}/attention/linear_1"),
            &[
                (format!("{d}.cross_attn.key").as_str(), false),
                (format!("{d}.cross_attn.value").as_str(), true),
            ],
        )?;
        linear(
            &mut add,
            &format!("{s}/attention/linear_2"),
            &format!("{d}.cross_attn.out"),
        )?;
        norm(
            &mut add,
            &format!("{s}/attention/layer_norm"),
            &format!("{d}.cross_attn_ln"),
        )?;
        linear(
            &mut add,
            &format!("{s}/ffn/linear_0"),
            &format!("{d}.mlp.0"),
        )?;
        linear(
            &mut add,
            &format!("{s}/ffn/linear_1"),
            &format!("{d}.mlp.2"),
        )?;
        norm(
            &mut add,
            &format!("{s}/ffn/layer_norm"),
            &format!("{d}.mlp_ln"),
        )?;
    }
    norm(&mut add, "decoder/layer_norm", "decoder.ln")?;
    Ok(out)
}

fn write_ggml(
    w: &mut impl Write,
    h: &Hparams,
    tokens: &[Vec<u8>],
    tensors: &[Tensor],
) -> std::io::Result<()> {
    let i32s = |w: &mut dyn Write, vals: &[i32]| -> std::io::Result<()> {
        vals.iter().try_for_each(|v| w.write_all(&v.to_le_bytes()))
    };
    w.write_all(&GGML_MAGIC.to_le_bytes())?;
    let ftype_f16 = 1;
    i32s(
        w,
        &[
            h.n_vocab,
            h.n_audio_ctx,
            h.n_audio_state,
            h.n_audio_head,
            h.n_audio_layer,
            h.n_text_ctx,
            h.n_text_state,
            h.n_text_head,
            h.n_text_layer,
            h.n_mels,
            ftype_f16,
        ],
    )?;
    let n_mels = usize::try_from(h.n_mels).unwrap_or(0);
    let filters = mel::mel_filters(n_mels);
    i32s(w, &[h.n_mels, (mel::N_FFT / 2 + 1) as i32])?;
    filters
        .iter()
        .try_for_each(|f| w.write_all(&f.to_le_bytes()))?;
    i32s(w, &[tokens.len() as i32])?;
    for t in tokens {
        i32s(w, &[t.len() as i32])?;
        w.write_all(t)?;
    }
    for t in tensors {
        let kind = match t.data {
            TensorData::F32(_) => 0,
            TensorData::F16(_) => 1,
        };
        i32s(w, &[t.dims.len() as i32, t.name.len() as i32, kind])?;
        for &d in t.dims.iter().rev() {
            i32s(w, &[d as i32])?;
        }
        w.write_all(t.name.as_bytes())?;
        match &t.data {
            TensorData::F32(v) => v.iter().try_for_each(|x| w.write_all(&x.to_le_bytes()))?,
            TensorData::F16(b) => w.write_all(b)?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gpt2_byte_alphabet_inverts() {
        let map = unicode_to_byte();
        assert_eq!(map.len(), 256);
        assert_eq!(map[&'Ġ'], b' ');
        assert_eq!(map[&'Ċ'], b'\n');
        assert_eq!(map[&'a'], b'a');
        let tokens =
            vocabulary_bytes("!\nĠthe\n<|endoftext|>\n<|startoftranscript|>").expect("valid");
        assert_eq!(tokens, vec![b"!".to_vec(), b" the".to_vec()]);
        assert!(vocabulary_bytes("abc\n").is_err());
        assert!(vocabulary_bytes("日本\n<|endoftext|>").is_err());
    }

    #[test]
    fn missing_model_files_are_reported() {
        let dir = std::env::temp_dir().join(format!("otto-ct2-missing-{}", std::process::id()));
        let err = convert_ct2_to_ggml(&dir, &dir.join("out.bin")).unwrap_err();
        assert!(matches!(err, SpeechError::Io { .. }), "{err}");
    }

    #[test]
    fn fused_qkv_splits_into_thirds() {
        let data: Vec<u8> = (0..6u8).flat_map(|i| f32::from(i).to_le_bytes()).collect();
        let v = Variable {
            dims: vec![3, 2],
            dtype: DType::F32,
            data: &data,
        };
        let key = rows(&v, 1, 2);
        assert_eq!(key.dims, vec![1, 2]);
        assert_eq!(key.to_f32().expect("floats"), vec![2.0, 3.0]);
    }
}
