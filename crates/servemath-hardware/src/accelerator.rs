//! One catalog entry: an accelerator as deployed in its scale-up system.

use serde::Serialize;
use servemath_model::MathPrecision;

/// Dense (never "with sparsity") peak matmul rates per precision, FLOP/s per accelerator.
/// `None`: the part has no published figure for it (or no support).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct PeakFlops {
    pub bf16: Option<f64>,
    pub fp8: Option<f64>,
    pub int8: Option<f64>,
    pub fp4: Option<f64>,
}

/// A default rental price with where it came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Price {
    pub usd_per_gpu_hour: f64,
    pub source: String,
    /// ISO date the price was read.
    pub date: String,
}

/// An accelerator in its scale-up system (one GPU of an HGX board, of an NVL72 rack, a TPU chip in its pod).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hardware {
    /// Catalog key used on the command line, e.g. `h100-sxm`, `gb200-nvl72`.
    pub id: String,
    pub name: String,
    pub vendor: String,
    /// Calibration family (`hopper`, `blackwell`, `rubin`, `ampere`, `cdna3`, `cdna4`, `tpu`):
    /// one set of efficiencies per family at most.
    pub family: String,
    pub peak: PeakFlops,
    pub hbm_bytes: f64,
    pub hbm_bytes_per_s: f64,
    /// Accelerators in one scale-up (NVLink / Infinity Fabric / ICI) domain.
    pub scale_up_domain: u32,
    /// Per-accelerator scale-up bandwidth, one direction.
    pub scale_up_bytes_per_s: f64,
    /// Per-accelerator scale-out (NIC / DCN) bandwidth, one direction; `None` where unpublished.
    pub scale_out_bytes_per_s: Option<f64>,
    /// Base latency of one collective step inside the scale-up domain.
    pub scale_up_latency_s: f64,
    /// Base latency of one collective step across domains.
    pub scale_out_latency_s: f64,
    /// Board / module power; `None` where unpublished.
    pub tdp_w: Option<f64>,
    pub price: Option<Price>,
    /// Field name -> source, as in the catalog.
    pub sources: std::collections::BTreeMap<String, String>,
    pub notes: String,
}

/// Errors from the catalog and from asking an entry for a figure it does not have.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum HardwareError {
    #[error("unknown hardware `{given}`{}", suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
    Unknown {
        given: String,
        suggestion: Option<String>,
    },
    #[error("{hardware} has no published dense {precision} peak FLOP/s; choose another compute precision")]
    NoPeak {
        hardware: String,
        precision: MathPrecision,
    },
    #[error("{hardware} has no published scale-out bandwidth; a group spanning scale-up domains cannot be priced")]
    NoScaleOut { hardware: String },
    /// The file is not valid TOML, or has a key the schema does not know; `message` names the
    /// line and column.
    #[error("{file}: {message}")]
    Parse { file: String, message: String },
    /// An entry lacks a field it must state.
    #[error("{file}: entry `{id}`: missing required field `{field}`")]
    Missing {
        file: String,
        id: String,
        field: String,
    },
    #[error("{file}: entry `{id}`: field `{field}` = {value}: {reason}")]
    Invalid {
        file: String,
        id: String,
        field: String,
        value: String,
        reason: String,
    },
}

/// Catalog keys of the figures an entry can state, in catalog order. They are also the keys of
/// [`Hardware::sources`].
pub mod figure {
    pub const BF16: &str = "bf16_dense_flop_per_s";
    pub const FP8: &str = "fp8_dense_flop_per_s";
    pub const INT8: &str = "int8_dense_op_per_s";
    pub const FP4: &str = "fp4_dense_flop_per_s";
    pub const HBM_BYTES: &str = "hbm_bytes";
    pub const HBM_BYTES_PER_S: &str = "hbm_bytes_per_s";
    pub const SCALE_UP_DOMAIN: &str = "scale_up_domain";
    pub const SCALE_UP_BYTES_PER_S: &str = "scale_up_bytes_per_s_per_dir";
    pub const SCALE_OUT_BYTES_PER_S: &str = "scale_out_bytes_per_s_per_dir";
    pub const SCALE_UP_LATENCY_S: &str = "scale_up_latency_s";
    pub const SCALE_OUT_LATENCY_S: &str = "scale_out_latency_s";
    pub const TDP_W: &str = "tdp_w";

    /// Every figure key; a `[hardware.sources]` key must be one of these.
    pub const ALL: [&str; 12] = [
        BF16,
        FP8,
        INT8,
        FP4,
        HBM_BYTES,
        HBM_BYTES_PER_S,
        SCALE_UP_DOMAIN,
        SCALE_UP_BYTES_PER_S,
        SCALE_OUT_BYTES_PER_S,
        SCALE_UP_LATENCY_S,
        SCALE_OUT_LATENCY_S,
        TDP_W,
    ];
}

impl Hardware {
    /// Keys of the figures this entry states (the optional ones only when present), in catalog
    /// order. Each has a source in [`Hardware::sources`].
    pub fn stated_figures(&self) -> Vec<&'static str> {
        let optional = [
            (figure::BF16, self.peak.bf16.is_some()),
            (figure::FP8, self.peak.fp8.is_some()),
            (figure::INT8, self.peak.int8.is_some()),
            (figure::FP4, self.peak.fp4.is_some()),
            (
                figure::SCALE_OUT_BYTES_PER_S,
                self.scale_out_bytes_per_s.is_some(),
            ),
            (figure::TDP_W, self.tdp_w.is_some()),
        ];
        figure::ALL
            .into_iter()
            .filter(|key| {
                optional
                    .iter()
                    .find(|(k, _)| k == key)
                    .is_none_or(|(_, present)| *present)
            })
            .collect()
    }

    /// The source of the figure stored under catalog key `key`, if the entry states one.
    pub fn source(&self, key: &str) -> Option<&str> {
        self.sources.get(key).map(String::as_str)
    }

    /// Dense peak FLOP/s at `p`, or an error naming the missing figure.
    pub fn peak_flop_per_s(&self, p: MathPrecision) -> Result<f64, HardwareError> {
        let v = match p {
            MathPrecision::Bf16 => self.peak.bf16,
            MathPrecision::Fp8 => self.peak.fp8,
            MathPrecision::Int8 => self.peak.int8,
            MathPrecision::Fp4 => self.peak.fp4,
            MathPrecision::Fp32 => None,
        };
        v.ok_or_else(|| HardwareError::NoPeak {
            hardware: self.id.clone(),
            precision: p,
        })
    }

    /// Scale-out bandwidth per accelerator, one direction, or an error if unpublished.
    pub fn scale_out(&self) -> Result<f64, HardwareError> {
        self.scale_out_bytes_per_s
            .ok_or_else(|| HardwareError::NoScaleOut {
                hardware: self.id.clone(),
            })
    }
}
