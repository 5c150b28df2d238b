//! Kernel curves: compact fits of measured kernel latencies per accelerator, compiled in from
//! `catalog/kernels.toml`.
//!
//! The file is produced by `tools/kernel-fit/fit.py` from NVIDIA AIConfigurator's measured
//! kernel tables (the `aiconfigurator-core` 0.12.0 wheel, Apache-2.0; see
//! `catalog/NOTICE-aiconfigurator.md`). Each curve is a few physical coefficients (a launch
//! time, fractions of the catalog's peak FLOP/s and HBM bandwidth, a wave-quantization tile)
//! whose formulas are in `docs/kernels.md`; `servemath-cost` evaluates them. Entries without
//! measured tables get no curves here and the cost model falls back to its calibrated
//! efficiencies, labelled with a lower [`Confidence`].

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::LazyLock;

const KERNELS_TOML: &str = include_str!("../catalog/kernels.toml");

/// How the kernel-level efficiencies of an entry were obtained, weakest last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    /// Fitted from measured kernel tables of this accelerator.
    Measured,
    /// Fitted from measured tables of a sibling with the same silicon (H800 from H100).
    Derived,
    /// No kernel tables: datasheet peaks times calibrated end-to-end efficiencies.
    Datasheet,
}

impl Confidence {
    /// The lowercase label used in the kernels file and in reports: `measured`, `derived` or
    /// `datasheet`.
    pub fn name(self) -> &'static str {
        match self {
            Confidence::Measured => "measured",
            Confidence::Derived => "derived",
            Confidence::Datasheet => "datasheet",
        }
    }
}

/// GEMM: `t = launch + max(2mnk / (peak·η_c·wave(m, n)), bytes / (HBM·η_m))`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GemmCurve {
    /// Fixed time per kernel launch, seconds; fitted in \[0, 1 ms\].
    pub launch_s: f64,
    /// Fraction η_c of the dtype's dense peak FLOP/s a full wave reaches, in (0, 1].
    pub compute_efficiency: f64,
    /// Fraction of the catalog's HBM bandwidth the kernel reaches, in (0, 1].
    pub memory_efficiency: f64,
    /// Wave-quantization tile rows; 0 turns wave quantization off.
    #[serde(default)]
    pub tile_m: u32,
    /// Wave-quantization tile columns.
    #[serde(default)]
    pub tile_n: u32,
    /// Median relative error `|t_fit/t_measured − 1|` over the fitted points (0.08 = 8 %); 0
    /// when the file does not state it.
    #[serde(default)]
    pub median_abs_error: f64,
    /// The measured table the curve was fitted from.
    pub source: String,
}

/// Decode attention:
/// `t = launch + b·per_seq + b·h·per_seq_head + max(kv / (HBM·η_m), flops / (peak·η_c))`
/// with `h` the query heads per GPU.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecodeAttentionCurve {
    /// Fixed time per kernel launch, seconds; fitted in \[0, 1 ms\].
    pub launch_s: f64,
    /// Time per sequence in the batch, seconds; fitted in \[0, 10 µs\].
    pub per_seq_s: f64,
    /// Time per sequence and query head on the GPU, seconds; fitted in \[0, 1 µs\].
    #[serde(default)]
    pub per_seq_head_s: f64,
    /// Fraction of the catalog's HBM bandwidth the kernel reaches, in (0, 1].
    pub memory_efficiency: f64,
    /// Fraction of the BF16 peak the score and value products reach, in (0, 1]; 1 means the
    /// FLOP roof was not needed by the data and never binds.
    pub compute_efficiency: f64,
    /// Median relative error `|t_fit/t_measured − 1|` over the fitted points (0.08 = 8 %); 0
    /// when the file does not state it.
    #[serde(default)]
    pub median_abs_error: f64,
    /// The measured table the curve was fitted from.
    pub source: String,
}

/// Prefill attention: `t = launch + max(flops / (peak·η_c·s/(s + half_seq)), bytes / (HBM·η_m))`
/// with `s` the keys a query attends to (`half_seq = 0`: no ramp).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrefillAttentionCurve {
    /// Fixed time per kernel launch, seconds; fitted in \[0, 1 ms\].
    pub launch_s: f64,
    /// Fraction η_c of the peak FLOP/s reached at long sequences, in (0, 1].
    pub compute_efficiency: f64,
    /// Sequence length, tokens, at which the compute rate is half of η_c; 0 means no ramp.
    #[serde(default)]
    pub half_seq: f64,
    /// Fraction of the catalog's HBM bandwidth the kernel reaches, in (0, 1].
    pub memory_efficiency: f64,
    /// Median relative error `|t_fit/t_measured − 1|` over the fitted points (0.08 = 8 %); 0
    /// when the file does not state it.
    #[serde(default)]
    pub median_abs_error: f64,
    /// The measured table the curve was fitted from.
    pub source: String,
}

/// Grouped expert GEMMs of one MoE layer:
/// `t = launch + max(flops / (peak·η_max·tpe/(tpe + half)·ffr/(ffr + half_ffn)), weight bytes / (HBM·η_m))`
/// with `tpe` the tokens per expert and `ffr` the expert width per GPU (`half_ffn = 0`: off).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MoeCurve {
    /// Fixed time per kernel launch, seconds; fitted in \[0, 1 ms\].
    pub launch_s: f64,
    /// Fraction η_max of the peak FLOP/s reached with many tokens per expert and wide experts,
    /// in (0, 1].
    pub compute_efficiency_max: f64,
    /// Tokens per expert at which the token factor halves the compute efficiency.
    pub half_tokens_per_expert: f64,
    /// Expert intermediate width per GPU at which the width factor halves the compute
    /// efficiency; 0 turns the width factor off.
    #[serde(default)]
    pub half_ffn_per_rank: f64,
    /// The math rate the efficiency is a fraction of (`bf16`, `fp8`, `fp4`), where it is not
    /// the key's own (MXFP4 experts run W4A16 on Hopper, W4A8 on Blackwell).
    #[serde(default)]
    pub math: Option<String>,
    /// Fraction of the catalog's HBM bandwidth the kernel reaches, in (0, 1].
    pub memory_efficiency: f64,
    /// Median relative error `|t_fit/t_measured − 1|` over the fitted points (0.08 = 8 %); 0
    /// when the file does not state it.
    #[serde(default)]
    pub median_abs_error: f64,
    /// The measured table the curve was fitted from.
    pub source: String,
}

/// A collective on `gpus` GPUs of one domain: `t = latency + traffic(S) / bus bandwidth`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CollectiveCurve {
    /// The kernel measured: `nccl`, `trtllm-custom` (all-reduce), or an MoE dispatch / combine
    /// kernel such as `trtllm-deepep-ll-dispatch`.
    pub implementation: String,
    /// GPUs taking part, at least 2.
    pub gpus: u32,
    /// Fixed time of one collective, seconds; at least 0.
    pub latency_s: f64,
    /// Bus bandwidth, bytes/s: the rate the traffic term `2(n−1)/n · S` (all-reduce) or
    /// `(n−1)/n · S` (all-to-all) moves at; positive.
    pub bus_bytes_per_s: f64,
    /// Median relative error `|t_fit/t_measured − 1|` over the fitted points (0.08 = 8 %); 0
    /// when the file does not state it.
    #[serde(default)]
    pub median_abs_error: f64,
    /// The measured table the curve was fitted from.
    pub source: String,
}

/// Every kernel curve of one accelerator. Curve maps are keyed by data type (`bf16`, `fp8`,
/// `fp8_block`, `fp4` for GEMMs and MoE; the KV-cache type for decode attention; the math type
/// for prefill attention).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KernelCurves {
    /// How the curves were obtained: measured on this accelerator or derived from a sibling.
    pub confidence: Confidence,
    /// Engine and version whose tables were fitted.
    pub engine: String,
    /// Streaming multiprocessors (compute units) per GPU, for GEMM wave quantization; at
    /// least 1.
    pub sm_count: u32,
    /// Where the SM count was read.
    #[serde(default)]
    pub sm_count_source: String,
    /// Dense GEMMs (projections, dense FFN), by data type.
    #[serde(default)]
    pub gemm: BTreeMap<String, GemmCurve>,
    /// Decode (generation) attention over the KV cache, by KV-cache type.
    #[serde(default)]
    pub decode_attention: BTreeMap<String, DecodeAttentionCurve>,
    /// Causal prefill (context) attention, by math type.
    #[serde(default)]
    pub prefill_attention: BTreeMap<String, PrefillAttentionCurve>,
    /// Absorbed multi-head latent attention in decode, by KV-cache type.
    #[serde(default)]
    pub mla_decode: BTreeMap<String, DecodeAttentionCurve>,
    /// Multi-head latent attention in prefill, by math type.
    #[serde(default)]
    pub mla_prefill: BTreeMap<String, PrefillAttentionCurve>,
    /// Grouped expert GEMMs of one MoE layer, by expert weight type (`mxfp4` included).
    #[serde(default)]
    pub moe: BTreeMap<String, MoeCurve>,
    /// All-reduce inside the scale-up domain, one curve per implementation and GPU count; empty
    /// for derived entries, whose sibling's links differ.
    #[serde(default)]
    pub all_reduce: Vec<CollectiveCurve>,
    /// MoE dispatch / combine and NCCL all-to-all, one curve per implementation and GPU count;
    /// empty for derived entries.
    #[serde(default)]
    pub all_to_all: Vec<CollectiveCurve>,
}

/// Catalog ids whose curves are borrowed from a sibling with the same silicon, and why.
const DERIVED: &[(&str, &str, &str)] = &[(
    "h800",
    "h100-sxm",
    "H800 is the H100 SXM die with NVLink cut to 400 GB/s (same SMs, clocks and HBM3): its compute and memory kernels are H100's; collectives are priced from its own link figures",
)];

static BUILTIN: LazyLock<BTreeMap<String, KernelCurves>> = LazyLock::new(|| {
    #[expect(
        clippy::expect_used,
        reason = "the embedded file is checked by the builtin_kernels_parse test"
    )]
    let mut curves = parse(KERNELS_TOML).expect("embedded catalog/kernels.toml is valid");
    for (id, from, _) in DERIVED {
        if let Some(c) = curves.get(*from).cloned() {
            curves.insert(
                (*id).to_string(),
                KernelCurves {
                    confidence: Confidence::Derived,
                    // The sibling's collectives ran over other links.
                    all_reduce: Vec::new(),
                    all_to_all: Vec::new(),
                    ..c
                },
            );
        }
    }
    curves
});

/// Parses a kernels file: a table of [`KernelCurves`] per catalog id.
///
/// Fails with a message naming the entry and field when the TOML does not match the schema, a
/// GEMM efficiency is outside (0, 1\] or its launch time outside \[0, 1 ms), a collective has
/// fewer than 2 GPUs, a negative latency or no bandwidth, or `sm_count` is 0.
pub fn parse(text: &str) -> Result<BTreeMap<String, KernelCurves>, String> {
    let curves: BTreeMap<String, KernelCurves> = toml::from_str(text).map_err(|e| e.to_string())?;
    for (id, c) in &curves {
        let bad = |what: &str, v: f64| format!("kernels `{id}`: {what} = {v} is out of range");
        for (k, g) in &c.gemm {
            for (name, v) in [
                ("compute_efficiency", g.compute_efficiency),
                ("memory_efficiency", g.memory_efficiency),
            ] {
                if !(v > 0.0 && v <= 1.0) {
                    return Err(bad(&format!("gemm.{k}.{name}"), v));
                }
            }
            if !(0.0..1e-3).contains(&g.launch_s) {
                return Err(bad(&format!("gemm.{k}.launch_s"), g.launch_s));
            }
        }
        for r in c.all_reduce.iter().chain(&c.all_to_all) {
            if r.gpus < 2 || !(r.latency_s >= 0.0 && r.bus_bytes_per_s > 0.0) {
                return Err(bad("collective latency_s", r.latency_s));
            }
        }
        if c.sm_count == 0 {
            return Err(bad("sm_count", 0.0));
        }
    }
    Ok(curves)
}

/// The compiled-in curves of catalog entry `id`, if it has measured (or derived) tables.
pub fn builtin_curves(id: &str) -> Option<&'static KernelCurves> {
    BUILTIN.get(id)
}

/// Why an entry's curves are derived from another's, if they are.
pub fn derived_from(id: &str) -> Option<(&'static str, &'static str)> {
    DERIVED
        .iter()
        .find(|(i, _, _)| *i == id)
        .map(|(_, from, why)| (*from, *why))
}

/// The confidence label of catalog entry `id`'s kernel-level efficiencies.
pub fn confidence(id: &str) -> Confidence {
    builtin_curves(id).map_or(Confidence::Datasheet, |c| c.confidence)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_kernels_parse() {
        let parsed = parse(KERNELS_TOML);
        assert!(parsed.is_ok(), "{parsed:?}");
        for id in ["h100-sxm", "h200", "b200"] {
            let c = builtin_curves(id);
            assert!(c.is_some(), "{id} has no curves");
            assert_eq!(confidence(id), Confidence::Measured);
            assert!(c.is_some_and(|c| c.gemm.contains_key("bf16")), "{id}");
        }
        assert_eq!(confidence("h800"), Confidence::Derived);
        assert_eq!(confidence("mi300x"), Confidence::Datasheet);
    }

    #[test]
    fn out_of_range_curves_are_refused() {
        let text = r#"
[x]
confidence = "measured"
engine = "e"
sm_count = 1
[x.gemm.bf16]
launch_s = 1e-6
compute_efficiency = 1.5
memory_efficiency = 0.8
source = "s"
"#;
        let e = parse(text).err().unwrap_or_default();
        assert!(e.contains("gemm.bf16.compute_efficiency = 1.5"), "{e}");
    }
}
