//! Numeric formats of weights, KV cache and activations, with their storage cost including block scales.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A storage/compute format. Block-scaled formats include their scales in
/// [`Precision::bytes_per_element`], so weight bytes are what HBM really holds.
///
/// Parsed (case-insensitive, trimmed) from its [`Precision::name`] or an alias: `float32`/`f32`,
/// `bfloat16`, `float16`/`f16`/`half`, `e4m3`/`float8`/`fp8-e4m3`, `fp4` (NVFP4),
/// `w4a16`/`awq`/`gptq` (INT4); anything else is an [`UnknownPrecision`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Precision {
    /// IEEE single precision: 4 bytes per element.
    Fp32,
    /// bfloat16: 2 bytes per element.
    Bf16,
    /// IEEE half precision: 2 bytes per element.
    Fp16,
    /// FP8 (e4m3/e5m2) with per-tensor or per-channel scales (negligible size).
    Fp8,
    /// FP8 with one fp32 scale per 128x128 weight block (DeepSeek-V3 checkpoints).
    Fp8Block128,
    /// 8-bit integers with per-tensor or per-channel scales (negligible size): 1 byte per
    /// element.
    Int8,
    /// 4-bit integer weights with one fp16 scale and zero per group of 128 (AWQ/GPTQ).
    Int4,
    /// 4-bit symmetric integer weights with one bf16 scale per group of 32 (compressed-tensors
    /// `pack-quantized`, Kimi-K2's experts).
    Int4G32,
    /// OCP MXFP4: e2m1 elements with one e8m0 (1-byte) scale per 32 elements.
    Mxfp4,
    /// NVIDIA NVFP4: e2m1 elements with one fp8 scale per 16 elements.
    Nvfp4,
}

/// The tensor-core rate class a matmul runs at; selects the peak FLOP/s figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MathPrecision {
    /// FP32 inputs. The hardware catalog states no FP32 peak, so a matmul priced at this class
    /// is refused there.
    Fp32,
    /// BF16 and FP16 run at the same tensor-core rate on every catalogued part.
    Bf16,
    /// FP8 inputs (e4m3/e5m2), whatever their scaling.
    Fp8,
    /// INT8 inputs; also the class of 4-bit integer weights ([`Precision::Int4`],
    /// [`Precision::Int4G32`]).
    Int8,
    /// 4-bit floating-point inputs (MXFP4, NVFP4).
    Fp4,
}

impl Precision {
    /// Every format, in the order names are listed and matched.
    pub const ALL: [Precision; 10] = [
        Precision::Fp32,
        Precision::Bf16,
        Precision::Fp16,
        Precision::Fp8,
        Precision::Fp8Block128,
        Precision::Int8,
        Precision::Int4,
        Precision::Int4G32,
        Precision::Mxfp4,
        Precision::Nvfp4,
    ];

    /// Bytes per element including block scales:
    /// fp8 block-128: 1 + 4/(128·128); int4 group-128: 0.5 + (2+2)/128;
    /// mxfp4: 0.5 + 1/32; nvfp4: 0.5 + 1/16.
    pub fn bytes_per_element(self) -> f64 {
        match self {
            Precision::Fp32 => 4.0,
            Precision::Bf16 | Precision::Fp16 => 2.0,
            Precision::Fp8 | Precision::Int8 => 1.0,
            Precision::Fp8Block128 => 1.0 + 4.0 / (128.0 * 128.0),
            Precision::Int4 => 0.5 + 4.0 / 128.0,
            Precision::Int4G32 => 0.5 + 2.0 / 32.0,
            Precision::Mxfp4 => 0.5 + 1.0 / 32.0,
            Precision::Nvfp4 => 0.5 + 1.0 / 16.0,
        }
    }

    /// The math rate class when this format is also the matmul input format.
    pub fn math(self) -> MathPrecision {
        match self {
            Precision::Fp32 => MathPrecision::Fp32,
            Precision::Bf16 | Precision::Fp16 => MathPrecision::Bf16,
            Precision::Fp8 | Precision::Fp8Block128 => MathPrecision::Fp8,
            Precision::Int8 => MathPrecision::Int8,
            Precision::Int4 | Precision::Int4G32 => MathPrecision::Int8,
            Precision::Mxfp4 | Precision::Nvfp4 => MathPrecision::Fp4,
        }
    }

    /// The canonical lowercase name (`bf16`, `fp8-block128`, `int4-g32`), as accepted by
    /// [`str::parse`] and written by `Display` and serde.
    pub fn name(self) -> &'static str {
        match self {
            Precision::Fp32 => "fp32",
            Precision::Bf16 => "bf16",
            Precision::Fp16 => "fp16",
            Precision::Fp8 => "fp8",
            Precision::Fp8Block128 => "fp8-block128",
            Precision::Int8 => "int8",
            Precision::Int4 => "int4",
            Precision::Int4G32 => "int4-g32",
            Precision::Mxfp4 => "mxfp4",
            Precision::Nvfp4 => "nvfp4",
        }
    }
}

impl MathPrecision {
    /// The lowercase name (`bf16`, `fp8`, `fp4`), as written by `Display` and serde.
    pub fn name(self) -> &'static str {
        match self {
            MathPrecision::Fp32 => "fp32",
            MathPrecision::Bf16 => "bf16",
            MathPrecision::Fp8 => "fp8",
            MathPrecision::Int8 => "int8",
            MathPrecision::Fp4 => "fp4",
        }
    }
}

impl fmt::Display for Precision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Display for MathPrecision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A precision name that is not known; carries the nearest valid name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown precision `{given}`{}", suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
pub struct UnknownPrecision {
    /// The text as given, untrimmed.
    pub given: String,
    /// The nearest canonical name, when one is close enough to be a likely typo; `None`
    /// otherwise.
    pub suggestion: Option<String>,
}

impl FromStr for Precision {
    type Err = UnknownPrecision;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        let alias = match lower.as_str() {
            "float32" | "f32" => Some(Precision::Fp32),
            "bfloat16" => Some(Precision::Bf16),
            "float16" | "f16" | "half" => Some(Precision::Fp16),
            "e4m3" | "float8" | "fp8-e4m3" => Some(Precision::Fp8),
            "fp4" => Some(Precision::Nvfp4),
            "w4a16" | "awq" | "gptq" => Some(Precision::Int4),
            _ => None,
        };
        if let Some(p) = alias {
            return Ok(p);
        }
        if let Some(p) = Precision::ALL.iter().find(|p| p.name() == lower) {
            return Ok(*p);
        }
        let names: Vec<&str> = Precision::ALL.iter().map(|p| p.name()).collect();
        Err(UnknownPrecision {
            given: s.to_string(),
            suggestion: crate::nearest(&lower, &names).map(str::to_string),
        })
    }
}

impl MathPrecision {
    /// Every matmul rate class, narrowest last.
    pub const ALL: [MathPrecision; 5] = [
        MathPrecision::Fp32,
        MathPrecision::Bf16,
        MathPrecision::Fp8,
        MathPrecision::Int8,
        MathPrecision::Fp4,
    ];
}

/// A matmul rate class name that is not known; carries the nearest valid name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown compute precision `{given}`{}; known: fp32, bf16, fp8, int8, fp4", suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
pub struct UnknownMathPrecision {
    /// The text as given.
    pub given: String,
    /// The nearest class name, when one is close enough to be a likely typo.
    pub suggestion: Option<String>,
}

impl FromStr for MathPrecision {
    type Err = UnknownMathPrecision;

    /// A rate class by name; a storage format names the class it runs at (`fp16` and
    /// `bfloat16` run at the BF16 rate, `nvfp4` and `mxfp4` at the FP4 rate).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        let lower = match lower.as_str() {
            "fp16" | "float16" | "bfloat16" => "bf16".to_string(),
            "nvfp4" | "mxfp4" => "fp4".to_string(),
            _ => lower,
        };
        if let Some(p) = MathPrecision::ALL.iter().find(|p| p.name() == lower) {
            return Ok(*p);
        }
        let names: Vec<&str> = MathPrecision::ALL.iter().map(|p| p.name()).collect();
        Err(UnknownMathPrecision {
            given: s.to_string(),
            suggestion: crate::nearest(&lower, &names).map(str::to_string),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_classes_parse_by_name_and_by_the_format_that_runs_at_them() {
        assert_eq!("bf16".parse(), Ok(MathPrecision::Bf16));
        assert_eq!("FP16".parse(), Ok(MathPrecision::Bf16));
        assert_eq!("nvfp4".parse(), Ok(MathPrecision::Fp4));
        let e = "bf61".parse::<MathPrecision>().expect_err("typo");
        assert_eq!(e.suggestion.as_deref(), Some("bf16"));
        assert!(
            e.to_string().contains("known: fp32, bf16, fp8, int8, fp4"),
            "{e}"
        );
    }

    #[test]
    fn block_scaled_formats_include_their_scales() {
        // mxfp4: 32 four-bit elements (16 B) + one e8m0 scale (1 B) = 17 B / 32 = 0.53125 B.
        assert!((Precision::Mxfp4.bytes_per_element() - 0.53125).abs() < 1e-12);
        // nvfp4: 16 elements (8 B) + one fp8 scale (1 B) = 9 B / 16 = 0.5625 B.
        assert!((Precision::Nvfp4.bytes_per_element() - 0.5625).abs() < 1e-12);
        // int4 group-32: 32 four-bit elements (16 B) + one bf16 scale (2 B) = 18 B / 32 = 0.5625 B.
        assert!((Precision::Int4G32.bytes_per_element() - 0.5625).abs() < 1e-12);
        // fp8 block-128: 16384 B + 4 B scale per block = 1.000244 B.
        assert!((Precision::Fp8Block128.bytes_per_element() - 1.000_244_140_625).abs() < 1e-12);
    }

    #[test]
    fn parses_names_and_suggests_near_misses() {
        assert_eq!("bf16".parse::<Precision>(), Ok(Precision::Bf16));
        assert_eq!("MXFP4".parse::<Precision>(), Ok(Precision::Mxfp4));
        let err = "bf61".parse::<Precision>().err();
        assert_eq!(err.and_then(|e| e.suggestion), Some("bf16".to_string()));
    }
}
