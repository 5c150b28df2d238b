//! Kernel-class rates of one deployment: each kernel class (dense GEMM, expert GEMM, decode
//! and prefill attention, collectives) resolved once from the hardware's measured curves
//! (`servemath_hardware::kernels`) or, where none exist, from datasheet peaks times the
//! calibrated fallback efficiencies. Pricing a kernel is then a few multiplications.

use crate::params::CostParams;
use serde::Serialize;
use servemath_hardware::kernels::{
    CollectiveCurve, DecodeAttentionCurve, GemmCurve, MoeCurve, PrefillAttentionCurve,
};
use servemath_hardware::{Confidence, Hardware, KernelCurves};
use servemath_model::{MathPrecision, Precision};

/// Where one class's efficiency came from, for reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RateSource {
    /// The kernel class: `gemm`, `experts`, `decode_attention`, `prefill_attention`,
    /// `all_reduce`, or a GEMM component priced at its own format's rate (`attention_gemm`,
    /// `router_gemm`, `head_gemm`, ...).
    pub class: &'static str,
    /// Curve key (`gemm.fp8`) or `fallback`.
    pub curve: String,
    /// Effective fraction of peak FLOP/s, in (0, 1].
    pub compute_efficiency: f64,
    /// Effective fraction of HBM bandwidth, in (0, 1].
    pub memory_efficiency: f64,
    /// Fixed time per kernel as priced, seconds (a curve's launch time less the CUDA-graph
    /// overlap, or `kernel_launch_s`).
    pub launch_s: f64,
    /// File and engine of the fitted table, or the calibration parameter used.
    pub source: String,
}

/// A GEMM rate: `launch + max(2mnk / (flop/s · wave), bytes / bw)` per GEMM.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct GemmRate {
    pub launch_s: f64,
    pub flop_per_s: f64,
    pub bytes_per_s: f64,
    pub tile_m: f64,
    pub tile_n: f64,
    pub sms: f64,
    /// Bytes per input-activation element (the GEMM's input format).
    pub act_in_bytes: f64,
}

impl GemmRate {
    /// Wave quantization: the fraction of SM slots busy over the waves a GEMM's output tiles need.
    pub fn wave(&self, m: f64, n: f64) -> f64 {
        if self.tile_m <= 0.0 || m <= 0.0 {
            return 1.0;
        }
        let tiles = (m / self.tile_m).ceil() * (n / self.tile_n).ceil();
        tiles / ((tiles / self.sms).ceil() * self.sms)
    }

    /// Rows `m` over the wave efficiency, made non-decreasing in `m`: a partly filled last tile
    /// row never prices the GEMM below the full tile rows before it (the fitted form alone
    /// would dip just past each tile boundary, where real kernels take at least as long).
    fn effective_rows(&self, m: f64, n: f64) -> f64 {
        let here = m / self.wave(m, n);
        if self.tile_m <= 0.0 || m <= self.tile_m {
            return here;
        }
        let full = ((m / self.tile_m).ceil() - 1.0) * self.tile_m;
        here.max(full / self.wave(full, n))
    }

    /// Compute and memory seconds of one `m × n × k` GEMM whose weights take `w_bytes` per element.
    pub fn price(&self, m: f64, n: f64, k: f64, w_bytes: f64) -> (f64, f64) {
        let compute = 2.0 * self.effective_rows(m, n) * n * k / self.flop_per_s;
        let memory = (m * k * self.act_in_bytes + n * k * w_bytes + m * n * 2.0) / self.bytes_per_s;
        (compute, memory)
    }
}

/// Attention: `launch + seqs · per_seq + max(flops / flop/s, bytes / bw)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct AttentionRate {
    pub launch_s: f64,
    pub per_seq_s: f64,
    /// Per sequence and query head on the GPU (decode).
    pub per_seq_head_s: f64,
    /// Prefill: compute efficiency ramps as `s / (s + half_seq)` in the attended keys.
    pub half_seq: f64,
    pub flop_per_s: f64,
    pub bytes_per_s: f64,
}

/// Grouped expert GEMMs: efficiency grows with tokens per expert, `η_max · tpe / (tpe + half)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct MoeRate {
    pub launch_s: f64,
    pub flop_per_s_max: f64,
    pub half_tokens_per_expert: f64,
    pub half_ffn_per_rank: f64,
    pub bytes_per_s: f64,
}

impl MoeRate {
    /// FLOP/s at `tokens_per_expert` tokens per expert and experts `ffn_per_rank` wide on a GPU.
    pub fn flop_per_s(&self, tokens_per_expert: f64, ffn_per_rank: f64) -> f64 {
        let tokens = if tokens_per_expert > 0.0 {
            tokens_per_expert / (tokens_per_expert + self.half_tokens_per_expert)
        } else {
            1.0
        };
        let width = if ffn_per_rank > 0.0 {
            ffn_per_rank / (ffn_per_rank + self.half_ffn_per_rank)
        } else {
            1.0
        };
        self.flop_per_s_max * tokens * width
    }
}

impl AttentionRate {
    /// Compute rate of a prefill whose queries attend `keys` keys on average.
    pub fn flop_per_s_at(&self, keys: f64) -> f64 {
        if self.half_seq > 0.0 && keys > 0.0 {
            self.flop_per_s * keys / (keys + self.half_seq)
        } else {
            self.flop_per_s
        }
    }
}

/// Every class rate of one deployment.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Rates {
    pub gemm: GemmRate,
    pub experts: MoeRate,
    pub decode_attention: AttentionRate,
    pub prefill_attention: AttentionRate,
    /// All-reduce rows of the measured table (one per implementation and GPU count).
    pub all_reduce: Vec<CollectiveCurve>,
    pub confidence: Confidence,
    pub sources: Vec<RateSource>,
}

fn gemm_key(compute: MathPrecision, weights: Precision) -> &'static str {
    match compute {
        MathPrecision::Fp8 if weights == Precision::Fp8Block128 => "fp8_block",
        MathPrecision::Fp8 => "fp8",
        MathPrecision::Fp4 => "fp4",
        _ => "bf16",
    }
}

/// Bytes per element of a GEMM's input activations at its math precision.
fn act_in_bytes(compute: MathPrecision) -> f64 {
    match compute {
        MathPrecision::Fp32 => 4.0,
        MathPrecision::Bf16 => 2.0,
        MathPrecision::Fp8 | MathPrecision::Int8 => 1.0,
        MathPrecision::Fp4 => Precision::Nvfp4.bytes_per_element(),
    }
}

/// Looks `key` up, falling back along `fallbacks` (an FP8 block table stands in for per-tensor
/// FP8 and the reverse).
fn pick<'a, T>(
    map: &'a std::collections::BTreeMap<String, T>,
    keys: &[&str],
) -> Option<(&'a str, &'a T)> {
    keys.iter()
        .find_map(|k| map.get_key_value(*k))
        .map(|(k, v)| (k.as_str(), v))
}

/// The math rate a GEMM with weights stored as `w` runs at when the deployment's matmuls run at
/// `compute`: its own format's rate where that is the deployment's, BF16 for 16-bit weights
/// (a checkpoint's excluded modules), FP8 for FP8 weights in an FP4 deployment.
pub(crate) fn component_math(compute: MathPrecision, w: Precision) -> MathPrecision {
    match (compute, w.math()) {
        (c, m) if c == m => c,
        (_, MathPrecision::Bf16 | MathPrecision::Fp32) => MathPrecision::Bf16,
        (MathPrecision::Fp4, MathPrecision::Fp8) => MathPrecision::Fp8,
        (c, _) => c,
    }
}

/// The GEMM rate at `math` for weights stored as `w`, from the measured curve or the fallback.
pub(crate) fn gemm_rate(
    i: &RateInputs,
    math: MathPrecision,
    w: Precision,
    peak: f64,
) -> (GemmRate, RateSource) {
    let hbm = i.hardware.hbm_bytes_per_s;
    let p = i.params;
    let sms = i.curves.map_or(1.0, |c| f64::from(c.sm_count));
    let key = gemm_key(math, w);
    let alt: &[&str] = match key {
        "fp8_block" => &["fp8_block", "fp8"],
        "fp8" => &["fp8", "fp8_block"],
        "fp4" => &["fp4"],
        _ => &["bf16"],
    };
    let curve: Option<(&str, &GemmCurve)> = i.curves.and_then(|c| pick(&c.gemm, alt));
    match curve {
        Some((k, g)) => (
            GemmRate {
                launch_s: g.launch_s * (1.0 - p.graph_launch_overlap),
                flop_per_s: peak * g.compute_efficiency,
                bytes_per_s: hbm * g.memory_efficiency,
                tile_m: f64::from(g.tile_m),
                tile_n: f64::from(g.tile_n.max(1)),
                sms,
                act_in_bytes: act_in_bytes(math),
            },
            RateSource {
                class: "gemm",
                curve: format!("gemm.{k}"),
                compute_efficiency: g.compute_efficiency,
                memory_efficiency: g.memory_efficiency,
                launch_s: g.launch_s,
                source: g.source.clone(),
            },
        ),
        None => (
            GemmRate {
                launch_s: p.kernel_launch_s,
                flop_per_s: peak * p.compute_efficiency,
                bytes_per_s: hbm * p.memory_efficiency,
                tile_m: 0.0,
                tile_n: 1.0,
                sms,
                act_in_bytes: act_in_bytes(math),
            },
            RateSource {
                class: "gemm",
                curve: "fallback".to_string(),
                compute_efficiency: p.compute_efficiency,
                memory_efficiency: p.memory_efficiency,
                launch_s: p.kernel_launch_s,
                source: format!(
                    "no measured curve: calibrated compute_efficiency, memory_efficiency, kernel_launch_s ({})",
                    i.hardware.family
                ),
            },
        ),
    }
}

pub(crate) struct RateInputs<'a> {
    pub hardware: &'a Hardware,
    pub curves: Option<&'a KernelCurves>,
    pub params: &'a CostParams,
    pub compute: MathPrecision,
    pub gemm_weights: Precision,
    pub expert_weights: Precision,
    pub kv: Precision,
    pub attention_math: MathPrecision,
    pub mla: bool,
    pub peak: f64,
    pub attention_peak: f64,
}

pub(crate) fn resolve(i: &RateInputs) -> Rates {
    let hbm = i.hardware.hbm_bytes_per_s;
    let p = i.params;
    let mut sources = Vec::new();
    let fallback = |class: &'static str, ce: f64, me: f64, launch: f64, what: &str| RateSource {
        class,
        curve: "fallback".to_string(),
        compute_efficiency: ce,
        memory_efficiency: me,
        launch_s: launch,
        source: format!(
            "no measured curve: calibrated {what} ({})",
            i.hardware.family
        ),
    };
    let curves = i.curves;

    // Dense GEMMs: the MLP's rate; attention projections and the head get their own below.
    let (gemm, src) = gemm_rate(i, i.compute, i.gemm_weights, i.peak);
    sources.push(src);
    // Expert (grouped) GEMMs. MXFP4 experts (gpt-oss) have kernels of their own: W4A16 on
    // Hopper, W4A8 on Blackwell, each relative to the peak its curve names.
    let moe_key = gemm_key(i.compute, i.expert_weights);
    let mut moe_alt: Vec<&str> = match moe_key {
        "fp8_block" => vec!["fp8_block", "fp8"],
        "fp8" => vec!["fp8", "fp8_block"],
        k => vec![k],
    };
    if i.expert_weights == Precision::Mxfp4 {
        moe_alt.insert(0, "mxfp4");
    }
    let moe_curve: Option<(&str, &MoeCurve)> = curves.and_then(|c| pick(&c.moe, &moe_alt));
    let moe_peak = |m: &MoeCurve| -> f64 {
        let math = match m.math.as_deref() {
            Some("bf16") => MathPrecision::Bf16,
            Some("fp8") => MathPrecision::Fp8,
            Some("fp4") => MathPrecision::Fp4,
            _ => return i.peak,
        };
        i.hardware.peak_flop_per_s(math).unwrap_or(i.peak)
    };
    let experts = match moe_curve {
        Some((k, m)) => {
            sources.push(RateSource {
                class: "experts",
                curve: format!("moe.{k}"),
                compute_efficiency: m.compute_efficiency_max,
                memory_efficiency: m.memory_efficiency,
                launch_s: m.launch_s,
                source: m.source.clone(),
            });
            MoeRate {
                launch_s: m.launch_s * (1.0 - p.graph_launch_overlap),
                flop_per_s_max: moe_peak(m) * m.compute_efficiency_max,
                half_tokens_per_expert: m.half_tokens_per_expert,
                half_ffn_per_rank: m.half_ffn_per_rank,
                bytes_per_s: hbm * m.memory_efficiency,
            }
        }
        None => {
            // Without a grouped-GEMM table the dense GEMM's rates stand in, with no ramp.
            let s = &sources[sources.len() - 1];
            sources.push(RateSource {
                class: "experts",
                curve: format!("as {}", s.curve),
                ..s.clone()
            });
            MoeRate {
                launch_s: gemm.launch_s,
                flop_per_s_max: gemm.flop_per_s,
                half_tokens_per_expert: 0.0,
                half_ffn_per_rank: 0.0,
                bytes_per_s: gemm.bytes_per_s,
            }
        }
    };

    // Attention kernels: run at their own math precision (BF16 unless FP8 attention is asked
    // for), never at the GEMMs' FP8/FP4 rate.
    let kv_key = if i.kv.bytes_per_element() <= 1.0 + 1e-9 {
        "fp8"
    } else {
        "bf16"
    };
    let math_key = if i.attention_math == MathPrecision::Fp8 {
        "fp8"
    } else {
        "bf16"
    };
    let (dec_map, pf_map, dec_name, pf_name) = match curves {
        Some(c) if i.mla => (
            Some(&c.mla_decode),
            Some(&c.mla_prefill),
            "mla_decode",
            "mla_prefill",
        ),
        Some(c) => (
            Some(&c.decode_attention),
            Some(&c.prefill_attention),
            "decode_attention",
            "prefill_attention",
        ),
        None => (None, None, "", ""),
    };
    // Without a measured curve both attention kernels run at the calibrated fallbacks.
    let attention_fallback = |class: &'static str| {
        fallback(
            class,
            p.attention_efficiency,
            p.memory_efficiency,
            p.kernel_launch_s,
            "attention_efficiency, memory_efficiency",
        )
    };
    let fallback_attention = AttentionRate {
        launch_s: p.kernel_launch_s,
        per_seq_s: 0.0,
        per_seq_head_s: 0.0,
        half_seq: 0.0,
        flop_per_s: i.attention_peak * p.attention_efficiency,
        bytes_per_s: hbm * p.memory_efficiency,
    };
    let dec_curve: Option<(&str, &DecodeAttentionCurve)> = dec_map
        .and_then(|m| pick(m, &[kv_key, "bf16", "fp8"]))
        .or_else(|| curves.and_then(|c| pick(&c.decode_attention, &[kv_key, "bf16"])));
    let decode_attention = match dec_curve {
        Some((k, a)) => {
            sources.push(RateSource {
                class: "decode_attention",
                curve: format!("{dec_name}.{k}"),
                compute_efficiency: a.compute_efficiency,
                memory_efficiency: a.memory_efficiency,
                launch_s: a.launch_s,
                source: a.source.clone(),
            });
            AttentionRate {
                launch_s: a.launch_s * (1.0 - p.graph_launch_overlap),
                per_seq_s: a.per_seq_s,
                per_seq_head_s: a.per_seq_head_s,
                half_seq: 0.0,
                flop_per_s: i.attention_peak * a.compute_efficiency,
                bytes_per_s: hbm * a.memory_efficiency,
            }
        }
        None => {
            sources.push(attention_fallback("decode_attention"));
            fallback_attention
        }
    };
    let pf_curve: Option<(&str, &PrefillAttentionCurve)> = pf_map
        .and_then(|m| pick(m, &[math_key, "bf16"]))
        .or_else(|| curves.and_then(|c| pick(&c.prefill_attention, &[math_key, "bf16"])));
    let prefill_attention = match pf_curve {
        Some((k, a)) => {
            sources.push(RateSource {
                class: "prefill_attention",
                curve: format!("{pf_name}.{k}"),
                compute_efficiency: a.compute_efficiency,
                memory_efficiency: a.memory_efficiency,
                launch_s: a.launch_s,
                source: a.source.clone(),
            });
            AttentionRate {
                launch_s: a.launch_s * (1.0 - p.graph_launch_overlap),
                per_seq_s: 0.0,
                per_seq_head_s: 0.0,
                half_seq: a.half_seq,
                flop_per_s: i.attention_peak * a.compute_efficiency,
                bytes_per_s: hbm * a.memory_efficiency,
            }
        }
        None => {
            sources.push(attention_fallback("prefill_attention"));
            fallback_attention
        }
    };
    let all_reduce = curves.map(|c| c.all_reduce.clone()).unwrap_or_default();
    sources.push(match all_reduce.first() {
        Some(r) => RateSource {
            class: "all_reduce",
            curve: format!("all_reduce ({} rows)", all_reduce.len()),
            compute_efficiency: 0.0,
            memory_efficiency: 0.0,
            launch_s: all_reduce
                .iter()
                .map(|r| r.latency_s)
                .fold(f64::INFINITY, f64::min),
            source: r.source.clone(),
        },
        None => RateSource {
            class: "all_reduce",
            curve: "fallback".to_string(),
            compute_efficiency: 0.0,
            memory_efficiency: p.comm_efficiency,
            launch_s: p.allreduce_latency_s,
            source: "no measured table: allreduce_latency_s, comm_efficiency × link bandwidth"
                .to_string(),
        },
    });
    Rates {
        gemm,
        experts,
        decode_attention,
        prefill_attention,
        all_reduce,
        confidence: curves.map_or(Confidence::Datasheet, |c| c.confidence),
        sources,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wave_quantization_counts_idle_slots() {
        let g = GemmRate {
            launch_s: 0.0,
            flop_per_s: 1.0,
            bytes_per_s: 1.0,
            tile_m: 128.0,
            tile_n: 128.0,
            sms: 132.0,
            act_in_bytes: 2.0,
        };
        // DeepGEMM's example: M = 256, N = 7168 with 128x128 tiles: 2 · 56 = 112 tiles on 132
        // SMs, one wave, 112/132 = 0.8485 busy.
        assert!((g.wave(256.0, 7168.0) - 112.0 / 132.0).abs() < 1e-12);
        // 133 tiles need two waves: 133 / 264.
        assert!((g.wave(128.0, 133.0 * 128.0) - 133.0 / 264.0).abs() < 1e-12);
        let off = GemmRate { tile_m: 0.0, ..g };
        assert!((off.wave(256.0, 7168.0) - 1.0).abs() < 1e-15);
    }

    #[test]
    fn gemm_compute_never_falls_as_rows_grow() {
        let g = GemmRate {
            launch_s: 0.0,
            flop_per_s: 1e15,
            bytes_per_s: 1e12,
            tile_m: 128.0,
            tile_n: 128.0,
            sms: 132.0,
            act_in_bytes: 1.0,
        };
        // n = 4096: 32 tile columns. At m = 512 (4 tile rows, 128 tiles, one wave) the fitted
        // form gives 512/(128/132); at m = 513 (5 rows, 160 tiles, two waves) it would give
        // 513/(160/264) = 846 > 528, and within the fifth row it stays at least the m = 512 value.
        let mut last = 0.0;
        for m in 1..=4096 {
            let (c, _) = g.price(f64::from(m), 4096.0, 4096.0, 1.0);
            assert!(c >= last, "m {m}: {c} < {last}");
            last = c;
        }
        // By hand at m = 512: 2·(512·132/128)·4096·4096 / 1e15.
        let (c, _) = g.price(512.0, 4096.0, 4096.0, 1.0);
        assert!((c - 2.0 * 528.0 * 4096.0 * 4096.0 / 1e15).abs() < 1e-15);
    }

    #[test]
    fn gemm_price_by_hand() {
        let g = GemmRate {
            launch_s: 0.0,
            flop_per_s: 1e15,
            bytes_per_s: 1e12,
            tile_m: 0.0,
            tile_n: 1.0,
            sms: 1.0,
            act_in_bytes: 2.0,
        };
        // m 1, n 4096, k 4096, bf16: 2·4096² = 33.55 MFLOP / 1e15 = 33.55 ns; bytes
        // 4096·2 + 4096²·2 + 4096·2 = 33.571 MB / 1e12 = 33.571 us.
        let (c, m) = g.price(1.0, 4096.0, 4096.0, 2.0);
        assert!((c - 2.0 * 4096.0 * 4096.0 / 1e15).abs() < 1e-18);
        assert!((m - (8192.0 + 4096.0 * 4096.0 * 2.0 + 8192.0) / 1e12).abs() < 1e-15);
    }

    #[test]
    fn grouped_gemm_efficiency_ramps_with_tokens_per_expert() {
        let r = MoeRate {
            launch_s: 0.0,
            flop_per_s_max: 1.0,
            half_tokens_per_expert: 64.0,
            half_ffn_per_rank: 512.0,
            bytes_per_s: 1.0,
        };
        // Half of the ceiling at 64 tokens per expert, 0.8 at 256 (at full width: ffn 0 = off).
        assert!((r.flop_per_s(64.0, 0.0) - 0.5).abs() < 1e-12);
        assert!((r.flop_per_s(256.0, 0.0) - 0.8).abs() < 1e-12);
        // Experts 1536 wide on a GPU: 1536/(1536 + 512) = 0.75 of that.
        assert!((r.flop_per_s(256.0, 1536.0) - 0.6).abs() < 1e-12);
    }
}
