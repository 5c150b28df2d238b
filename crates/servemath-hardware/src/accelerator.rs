//! One catalog entry: an accelerator as deployed in its scale-up system.

use serde::Serialize;
use servemath_model::MathPrecision;

/// Dense (never "with sparsity") peak matmul rates per precision, FLOP/s per accelerator.
/// `None`: the part has no published figure for it (or no support).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct PeakFlops {
    /// Dense BF16 (= FP16) tensor peak, FLOP/s (catalog key `bf16_dense_flop_per_s`).
    pub bf16: Option<f64>,
    /// Dense FP8 tensor peak, FLOP/s (`fp8_dense_flop_per_s`); also the rate of block-scaled FP8.
    pub fp8: Option<f64>,
    /// Dense INT8 tensor peak, OP/s (`int8_dense_op_per_s`).
    pub int8: Option<f64>,
    /// Dense FP4 (NVFP4 / MXFP4) tensor peak, FLOP/s (`fp4_dense_flop_per_s`).
    pub fp4: Option<f64>,
}

/// A default rental price with where it came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Price {
    /// Rental price per accelerator-hour (per chip-hour for TPUs), USD/h; positive, at most
    /// 1000.
    pub usd_per_gpu_hour: f64,
    /// Where the price was read (catalog key `price_source`).
    pub source: String,
    /// ISO date (`YYYY-MM-DD`) the price was read or published; `unspecified` when an overlay
    /// gave a price without one.
    pub date: String,
}

/// An accelerator in its scale-up system (one GPU of an HGX board, of an NVL72 rack, a TPU chip in its pod).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hardware {
    /// Catalog key used on the command line, e.g. `h100-sxm`, `gb200-nvl72`.
    pub id: String,
    /// Human name, with memory size and system (e.g. "NVIDIA H100 SXM5 80GB (HGX)").
    pub name: String,
    /// `NVIDIA`, `AMD`, `Google`, ...
    pub vendor: String,
    /// Calibration family (`hopper`, `blackwell`, `rubin`, `ampere`, `cdna3`, `cdna4`, `tpu`):
    /// one set of efficiencies per family at most.
    pub family: String,
    /// Dense tensor peaks per precision; at least one is stated.
    pub peak: PeakFlops,
    /// HBM capacity, bytes (80e9 for an 80 GB part).
    pub hbm_bytes: f64,
    /// HBM bandwidth, bytes/s (3.35e12 for H100 SXM).
    pub hbm_bytes_per_s: f64,
    /// Accelerators in one scale-up (NVLink / Infinity Fabric / ICI) domain.
    pub scale_up_domain: u32,
    /// Per-accelerator scale-up bandwidth, bytes/s, one direction, summed over all scale-up
    /// links (catalog key `scale_up_bytes_per_s_per_dir`; 450e9 for H100 NVLink 4).
    pub scale_up_bytes_per_s: f64,
    /// Per-accelerator scale-out (NIC / DCN) bandwidth, bytes/s, one direction; `None` where
    /// unpublished (then [`Hardware::scale_out`] fails).
    pub scale_out_bytes_per_s: Option<f64>,
    /// Fixed cost α of one collective (ring) step inside the scale-up domain, seconds.
    pub scale_up_latency_s: f64,
    /// Fixed cost α of one collective (ring) step across domains, seconds.
    pub scale_out_latency_s: f64,
    /// Board / module power, watts; `None` where unpublished.
    pub tdp_w: Option<f64>,
    /// Default rental price; `None` where the catalog states none.
    pub price: Option<Price>,
    /// Field name -> source, as in the catalog.
    pub sources: std::collections::BTreeMap<String, String>,
    /// Caveats: alternative figures, what was left out and why; empty when none.
    pub notes: String,
}

/// Errors from the catalog and from asking an entry for a figure it does not have.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum HardwareError {
    /// No entry has this id or alias.
    #[error("unknown hardware `{given}`{}", suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
    Unknown {
        /// The name as asked for.
        given: String,
        /// The nearest id or alias, when one is close enough.
        suggestion: Option<String>,
    },
    #[error("{hardware} has no published dense {precision} peak FLOP/s; choose another compute precision")]
    /// The entry states no dense peak for the asked math precision.
    NoPeak {
        /// The entry's id.
        hardware: String,
        /// The precision without a figure.
        precision: MathPrecision,
    },
    #[error("{hardware} has no published scale-out bandwidth; a group spanning scale-up domains cannot be priced")]
    /// The entry states no scale-out bandwidth, so nothing crossing domains can be priced.
    NoScaleOut {
        /// The entry's id.
        hardware: String,
    },
    /// The file is not valid TOML, or has a key the schema does not know; `message` names the
    /// line and column.
    #[error("{file}: {message}")]
    Parse {
        /// The file name as given by the caller.
        file: String,
        /// The TOML parser's message.
        message: String,
    },
    /// An entry lacks a field it must state.
    #[error("{file}: entry `{id}`: missing required field `{field}`")]
    Missing {
        /// The file name as given by the caller.
        file: String,
        /// The entry's id (its position, e.g. `#3`, when the id itself is missing).
        id: String,
        /// The catalog key that is missing.
        field: String,
    },
    /// A figure or name is out of range or malformed (not finite, not positive, beyond the
    /// plausibility ceiling or under its floor, a bad id, an unknown source key).
    #[error("{file}: entry `{id}`: field `{field}` = {value}: {reason}")]
    Invalid {
        /// The file name as given by the caller.
        file: String,
        /// The entry's id.
        id: String,
        /// The catalog key.
        field: String,
        /// The value as written.
        value: String,
        /// Why it was refused (e.g. `must be positive`).
        reason: String,
    },
}

/// Catalog keys of the figures an entry can state, in catalog order. They are also the keys of
/// [`Hardware::sources`].
pub mod figure {
    /// Dense BF16 tensor peak, FLOP/s ([`PeakFlops::bf16`](super::PeakFlops::bf16)).
    pub const BF16: &str = "bf16_dense_flop_per_s";
    /// Dense FP8 tensor peak, FLOP/s ([`PeakFlops::fp8`](super::PeakFlops::fp8)).
    pub const FP8: &str = "fp8_dense_flop_per_s";
    /// Dense INT8 tensor peak, OP/s ([`PeakFlops::int8`](super::PeakFlops::int8)).
    pub const INT8: &str = "int8_dense_op_per_s";
    /// Dense FP4 tensor peak, FLOP/s ([`PeakFlops::fp4`](super::PeakFlops::fp4)).
    pub const FP4: &str = "fp4_dense_flop_per_s";
    /// HBM capacity, bytes ([`Hardware::hbm_bytes`](super::Hardware::hbm_bytes)).
    pub const HBM_BYTES: &str = "hbm_bytes";
    /// HBM bandwidth, bytes/s ([`Hardware::hbm_bytes_per_s`](super::Hardware::hbm_bytes_per_s)).
    pub const HBM_BYTES_PER_S: &str = "hbm_bytes_per_s";
    /// Accelerators in one scale-up domain
    /// ([`Hardware::scale_up_domain`](super::Hardware::scale_up_domain)).
    pub const SCALE_UP_DOMAIN: &str = "scale_up_domain";
    /// Scale-up bandwidth, bytes/s, one direction
    /// ([`Hardware::scale_up_bytes_per_s`](super::Hardware::scale_up_bytes_per_s)).
    pub const SCALE_UP_BYTES_PER_S: &str = "scale_up_bytes_per_s_per_dir";
    /// Scale-out bandwidth, bytes/s, one direction
    /// ([`Hardware::scale_out_bytes_per_s`](super::Hardware::scale_out_bytes_per_s)).
    pub const SCALE_OUT_BYTES_PER_S: &str = "scale_out_bytes_per_s_per_dir";
    /// Collective step latency inside the domain, seconds
    /// ([`Hardware::scale_up_latency_s`](super::Hardware::scale_up_latency_s)).
    pub const SCALE_UP_LATENCY_S: &str = "scale_up_latency_s";
    /// Collective step latency across domains, seconds
    /// ([`Hardware::scale_out_latency_s`](super::Hardware::scale_out_latency_s)).
    pub const SCALE_OUT_LATENCY_S: &str = "scale_out_latency_s";
    /// Board or module power, watts ([`Hardware::tdp_w`](super::Hardware::tdp_w)).
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

    /// Seconds to read the whole HBM once (capacity / bandwidth): seed claim 7's train
    /// period.
    pub fn hbm_read_s(&self) -> f64 {
        self.hbm_bytes / self.hbm_bytes_per_s
    }

    /// Scale-out bandwidth per accelerator, one direction, or an error if unpublished.
    pub fn scale_out(&self) -> Result<f64, HardwareError> {
        self.scale_out_bytes_per_s
            .ok_or_else(|| HardwareError::NoScaleOut {
                hardware: self.id.clone(),
            })
    }
}
