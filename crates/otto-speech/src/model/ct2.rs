//! Reader for CTranslate2 `model.bin` files (binary format version 6).
//!
//! Layout (little-endian): u32 version, str spec name, u32 revision, u32 variable count; per
//! variable: str name, u8 rank, u32 dims[rank], u8 dtype, u32 byte count, data; then u32 alias
//! count and (alias str, target str) pairs. A str is a u16 length counting a trailing NUL,
//! the UTF-8 bytes, then the NUL. dtype: 0 f32, 1 i8, 2 i16, 3 i32, 4 f16, 5 bf16.

use std::collections::HashMap;

use otto_core::speech::SpeechError;

/// Element type of a CTranslate2 variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DType {
    /// 32-bit float.
    F32,
    /// 8-bit integer.
    I8,
    /// 16-bit integer.
    I16,
    /// 32-bit integer.
    I32,
    /// IEEE half float.
    F16,
    /// bfloat16.
    Bf16,
}

impl DType {
    fn from_code(code: u8) -> Result<Self, SpeechError> {
        Ok(match code {
            0 => DType::F32,
            1 => DType::I8,
            2 => DType::I16,
            3 => DType::I32,
            4 => DType::F16,
            5 => DType::Bf16,
            _ => {
                return Err(SpeechError::Convert(format!(
                    "unknown CTranslate2 dtype {code}"
                )));
            }
        })
    }

    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            DType::I8 => 1,
            DType::I16 | DType::F16 | DType::Bf16 => 2,
            DType::F32 | DType::I32 => 4,
        }
    }
}

/// One variable (tensor) of the model, borrowing its data from the file bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct Variable<'a> {
    /// Shape, outermost first (row-major).
    pub dims: Vec<usize>,
    /// Element type.
    pub dtype: DType,
    /// Raw little-endian data, `dims.product() * dtype.size()` bytes.
    pub data: &'a [u8],
}

impl Variable<'_> {
    /// Number of elements.
    pub fn len(&self) -> usize {
        self.dims.iter().product()
    }

    /// Whether the variable holds no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The values as `f32` (from f32, f16 or bf16 data).
    ///
    /// Errors: [`SpeechError::Convert`] for integer dtypes.
    pub fn to_f32(&self) -> Result<Vec<f32>, SpeechError> {
        Ok(match self.dtype {
            DType::F32 => self
                .data
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
            DType::F16 => self
                .data
                .chunks_exact(2)
                .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
            DType::Bf16 => self
                .data
                .chunks_exact(2)
                .map(|b| half::bf16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
            other => {
                return Err(SpeechError::Convert(format!(
                    "expected float data, found {other:?}"
                )));
            }
        })
    }

    /// A scalar integer (e.g. `num_heads`).
    ///
    /// Errors: [`SpeechError::Convert`] when it is not a single integer.
    pub fn scalar_int(&self) -> Result<i64, SpeechError> {
        let d = self.data;
        match (self.dtype, d.len()) {
            (DType::I8, 1) => Ok(i64::from(d[0] as i8)),
            (DType::I16, 2) => Ok(i64::from(i16::from_le_bytes([d[0], d[1]]))),
            (DType::I32, 4) => Ok(i64::from(i32::from_le_bytes([d[0], d[1], d[2], d[3]]))),
            _ => Err(SpeechError::Convert(format!(
                "expected an integer scalar, found {:?} of {} bytes",
                self.dtype,
                d.len()
            ))),
        }
    }
}

/// A parsed CTranslate2 model: spec name and variables by name (aliases resolved).
#[derive(Debug)]
pub struct Ct2Model<'a> {
    /// The spec name (e.g. `WhisperSpec`).
    pub spec: String,
    /// Variables by name.
    pub variables: HashMap<String, Variable<'a>>,
}

impl<'a> Ct2Model<'a> {
    /// Parses `model.bin` bytes.
    ///
    /// Errors: [`SpeechError::Convert`] on an unsupported version, truncation or
    /// inconsistent sizes.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, SpeechError> {
        let mut r = Reader { bytes, pos: 0 };
        let version = r.u32()?;
        if version != 6 {
            return Err(SpeechError::Convert(format!(
                "CTranslate2 binary version {version} is not supported (expected 6)"
            )));
        }
        let spec = r.string()?;
        let _revision = r.u32()?;
        let count = r.u32()?;
        let mut variables = HashMap::new();
        for _ in 0..count {
            let name = r.string()?;
            let rank = r.u8()?;
            let dims = (0..rank)
                .map(|_| r.u32().map(|d| d as usize))
                .collect::<Result<Vec<_>, _>>()?;
            let dtype = DType::from_code(r.u8()?)?;
            let byte_count = r.u32()? as usize;
            let data = r.take(byte_count)?;
            let elements = dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
            if elements.and_then(|n| n.checked_mul(dtype.size())) != Some(byte_count) {
                return Err(SpeechError::Convert(format!(
                    "variable {name}: {byte_count} bytes do not match shape {dims:?} of {dtype:?}"
                )));
            }
            variables.insert(name, Variable { dims, dtype, data });
        }
        let aliases = r.u32()?;
        for _ in 0..aliases {
            let alias = r.string()?;
            let target = r.string()?;
            if let Some(v) = variables.get(&target).cloned() {
                variables.insert(alias, v);
            }
        }
        Ok(Self { spec, variables })
    }

    /// The variable `name`.
    ///
    /// Errors: [`SpeechError::Convert`] naming the missing variable.
    pub fn get(&self, name: &str) -> Result<&Variable<'a>, SpeechError> {
        self.variables
            .get(name)
            .ok_or_else(|| SpeechError::Convert(format!("variable {name} missing from model.bin")))
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], SpeechError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or_else(|| {
                SpeechError::Convert(format!(
                    "model.bin truncated at byte {} (wanted {n} more)",
                    self.pos
                ))
            })?;
        let out = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, SpeechError> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<u32, SpeechError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn string(&mut self) -> Result<String, SpeechError> {
        let b = self.take(2)?;
        let len = u16::from_le_bytes([b[0], b[1]]) as usize;
        let raw = self.take(len)?;
        let text = raw.strip_suffix(&[0]).unwrap_or(raw);
        String::from_utf8(text.to_vec())
            .map_err(|_| SpeechError::Convert("non-UTF-8 name in model.bin".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a model.bin in memory from (name, dims, dtype code, data) records.
    fn model_bin(vars: &[(&str, Vec<u32>, u8, Vec<u8>)], aliases: &[(&str, &str)]) -> Vec<u8> {
        fn string(out: &mut Vec<u8>, s: &str) {
            out.extend_from_slice(&((s.len() + 1) as u16).to_le_bytes());
            out.extend_from_slice(s.as_bytes());
            out.push(0);
        }
        let mut out = 6u32.to_le_bytes().to_vec();
        string(&mut out, "WhisperSpec");
        out.extend_from_slice(&3u32.to_le_bytes());
        out.extend_from_slice(&(vars.len() as u32).to_le_bytes());
        for (name, dims, dtype, data) in vars {
            string(&mut out, name);
            out.push(dims.len() as u8);
            for d in dims {
                out.extend_from_slice(&d.to_le_bytes());
            }
            out.push(*dtype);
            out.extend_from_slice(&(data.len() as u32).to_le_bytes());
            out.extend_from_slice(data);
        }
        out.extend_from_slice(&(aliases.len() as u32).to_le_bytes());
        for (a, t) in aliases {
            string(&mut out, a);
            string(&mut out, t);
        }
        out
    }

    #[test]
    fn parses_variables_and_aliases() {
        let bytes = model_bin(
            &[
                ("a/num_heads", vec![], 2, 6i16.to_le_bytes().to_vec()),
                (
                    "a/w",
                    vec![2],
                    0,
                    [1.5f32.to_le_bytes(), (-2.0f32).to_le_bytes()].concat(),
                ),
            ],
            &[("b/w", "a/w")],
        );
        let model = Ct2Model::parse(&bytes).expect("valid");
        assert_eq!(model.spec, "WhisperSpec");
        assert_eq!(
            model
                .get("a/num_heads")
                .expect("present")
                .scalar_int()
                .expect("int"),
            6
        );
        assert_eq!(
            model.get("b/w").expect("alias").to_f32().expect("float"),
            vec![1.5, -2.0]
        );
        assert!(model.get("c").is_err());
    }

    #[test]
    fn rejects_truncation_and_bad_sizes() {
        let bytes = model_bin(&[("w", vec![4], 0, vec![0; 16])], &[]);
        for cut in [3, 10, bytes.len() - 5] {
            assert!(
                matches!(Ct2Model::parse(&bytes[..cut]), Err(SpeechError::Convert(_))),
                "cut {cut}"
            );
        }
        let wrong = model_bin(&[("w", vec![4], 0, vec![0; 12])], &[]);
        assert!(Ct2Model::parse(&wrong).is_err());
        let mut version = bytes.clone();
        version[0] = 5;
        assert!(
            Ct2Model::parse(&version)
                .unwrap_err()
                .to_string()
                .contains("version 5")
        );
    }
}
