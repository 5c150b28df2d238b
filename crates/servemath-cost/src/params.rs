//! Named, documented, overridable non-physical constants: efficiencies, overheads, reserves.
//!
//! Defaults live in `calibration.toml` (compiled in): a `[default]` table and at most one
//! `[family.<name>]` table per hardware family, fitted globally against the measured results
//! of `published.toml` (see `docs/validation.md`). Users override any of them with a TOML file
//! or `--param name=value`.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Every tunable constant of the cost model. Fractions are in (0, 1]; times in seconds; sizes in bytes or tokens.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CostParams {
    /// GEMM fraction of dense peak FLOP/s where the hardware has no measured kernel curve
    /// (datasheet entries); measured entries take theirs from `catalog/kernels.toml`.
    pub compute_efficiency: f64,
    /// Fraction of HBM bandwidth in streaming kernels (elementwise, norms) and, where no
    /// measured curve exists, in GEMMs and attention.
    pub memory_efficiency: f64,
    /// Attention-kernel fraction of the BF16 (or FP8) peak where no measured curve exists
    /// (FlashAttention-3 reaches 0.75 of BF16 peak on H100).
    pub attention_efficiency: f64,
    /// Achievable fraction of link bandwidth in collectives without a measured table
    /// (NCCL bus bandwidth over line rate).
    pub comm_efficiency: f64,
    /// Fraction of communication time hidden behind compute (0: fully exposed; 1: fully hidden).
    pub comm_overlap: f64,
    /// Fixed GPU-side cost per step not overlapped with anything: graph launch, sampling,
    /// host-device synchronisation. Fitted globally on end-to-end results.
    pub step_overhead_s: f64,
    /// Extra cost per layer per step beyond the kernel curves (0: the curves' launch times
    /// cover it).
    pub layer_overhead_s: f64,
    /// Host (CPU) time per sequence per step: scheduling, sampling bookkeeping,
    /// detokenization. Fitted globally.
    pub seq_overhead_s: f64,
    /// 1: the engine prepares step n+1 on the CPU while the GPU runs step n (TensorRT-LLM's
    /// overlap scheduler, SGLang's zero-overhead scheduler, vLLM async scheduling), so a step
    /// takes max(GPU, host); 0: host time adds to the GPU time.
    pub host_overlap: f64,
    /// Fixed time of one kernel where no measured curve exists (launch, ramp and tail under
    /// CUDA graphs).
    pub kernel_launch_s: f64,
    /// Fraction of a measured kernel's fixed time (its curve's `launch_s`) hidden when kernels
    /// run back to back in a CUDA graph: the tables time each kernel alone, while in a graph
    /// with programmatic dependent launch a kernel's prologue overlaps its predecessor's tail.
    /// Fitted globally on end-to-end latency.
    pub graph_launch_overlap: f64,
    /// Time of one small elementwise kernel (norm, rotary, activation, residual) beyond its
    /// bytes: the floor of a tiny memory-bound kernel under CUDA graphs.
    pub elementwise_kernel_s: f64,
    /// Small-message all-reduce latency inside a scale-up domain where no measured table
    /// exists (custom one-shot/two-shot all-reduce, NVLS): nearly flat in the GPU count.
    pub allreduce_latency_s: f64,
    /// Fixed latency of one expert-parallel dispatch or combine inside a scale-up domain
    /// (DeepEP-style kernels); across domains the scale-out latency is added.
    pub all_to_all_latency_s: f64,
    /// Per-request front end in a client-measured TTFT: HTTP, tokenization, scheduling of
    /// the new request, detokenization and streaming of its first token. Added to the
    /// client-side TTFT of `estimate` and of client-measured validation cases.
    pub request_overhead_s: f64,
    /// Hidden-state-sized tensors read or written per token per layer (norms, residuals, matmul inputs and outputs) with fused kernels.
    pub activation_io_per_layer: f64,
    /// Routing skew: the busiest expert-parallel rank's load over what uniform routing would
    /// give it (the balls-into-bins maximum is computed; this multiplies it; 1: uniform).
    pub moe_load_imbalance: f64,
    /// Fraction of HBM the serving engine may use (vLLM `gpu_memory_utilization`, TRT-LLM `kv_cache_free_gpu_mem_fraction` analogue).
    pub hbm_usable_fraction: f64,
    /// Bytes per device held by the runtime outside weights, KV and activations (CUDA context, NCCL buffers, graphs).
    pub runtime_reserve_bytes: f64,
    /// Largest number of tokens in one step; sizes the activation workspace (vLLM `max_num_batched_tokens`).
    pub max_batched_tokens: f64,
    /// KV-cache block (page) size in tokens; a sequence's KV is rounded up to whole blocks.
    pub kv_block_tokens: f64,
}

/// What a parameter is, for `--help`, errors and docs.
pub struct ParamDoc {
    /// The [`CostParams`] field name, also the key in calibration files and `--param`.
    pub name: &'static str,
    /// `fraction`, `s`, `bytes`, `tokens`, ...: the unit of the value.
    pub unit: &'static str,
    /// One line on what the parameter means.
    pub doc: &'static str,
    /// Lower hard limit (excluded for fractions other than the overlaps).
    pub min: f64,
    /// Upper hard limit (included).
    pub max: f64,
    /// The limits in words, for errors.
    pub range: &'static str,
    /// The range a physical value falls in, with its source: a fit outside it has failed.
    pub plausible: &'static str,
}

/// Every [`CostParams`] field with its unit, meaning and limits, in field order.
/// [`CostParams::validate`] checks values against these limits.
pub const PARAM_DOCS: &[ParamDoc] = &[
    ParamDoc {
        name: "compute_efficiency",
        unit: "fraction",
        doc: "GEMM fraction of dense peak FLOP/s without a measured curve",
        min: 0.01,
        max: 1.0,
        range: "must be in (0.01, 1]: no kernel runs below 1 % of its peak",
        plausible: "0.3-0.8 (DeepGEMM H800 FP8 0.30-0.69; B200 FP4 0.34-0.63)",
    },
    ParamDoc {
        name: "memory_efficiency",
        unit: "fraction",
        doc: "fraction of HBM bandwidth in streaming kernels",
        min: 0.01,
        max: 1.0,
        range: "must be in (0.01, 1]: no kernel runs below 1 % of its peak",
        plausible: "0.7-0.95 (FlashMLA 3000 of 3350 GB/s = 0.9)",
    },
    ParamDoc {
        name: "attention_efficiency",
        unit: "fraction",
        doc: "attention fraction of BF16/FP8 peak without a measured curve",
        min: 0.01,
        max: 1.0,
        range: "must be in (0.01, 1]: no kernel runs below 1 % of its peak",
        plausible: "0.4-0.8 (FA3 0.75 BF16, FlashMLA 0.67)",
    },
    ParamDoc {
        name: "comm_efficiency",
        unit: "fraction",
        doc: "fraction of link bandwidth in collectives without a measured table",
        min: 0.01,
        max: 1.0,
        range: "must be in (0.01, 1]: no kernel runs below 1 % of its peak",
        plausible: "0.6-0.9 (NCCL ring 370 of 450 GB/s = 0.82)",
    },
    ParamDoc {
        name: "comm_overlap",
        unit: "fraction",
        doc: "fraction of communication hidden behind compute",
        min: 0.0,
        max: 1.0,
        range: "must be in [0, 1]",
        plausible: "0 (TP decode) to 0.9 (two-batch overlap)",
    },
    ParamDoc {
        name: "step_overhead_s",
        unit: "s",
        doc: "fixed GPU-side cost per step (launch, sampling, sync)",
        min: 0.0,
        max: 1.0,
        range: "must be in [0, 1] s",
        plausible: "0.2-2 ms (small-model floors: Qwen3-0.6B 2.4 ms per step on H100)",
    },
    ParamDoc {
        name: "layer_overhead_s",
        unit: "s",
        doc: "extra cost per layer per step beyond the kernel curves",
        min: 0.0,
        max: 0.1,
        range: "must be in [0, 0.1] s",
        plausible: "0-20 us",
    },
    ParamDoc {
        name: "seq_overhead_s",
        unit: "s",
        doc: "host time per sequence per step (scheduling, sampling)",
        min: 0.0,
        max: 0.01,
        range: "must be in [0, 0.01] s",
        plausible: "2-40 us",
    },
    ParamDoc {
        name: "host_overlap",
        unit: "0 or 1",
        doc: "1: host work overlaps the GPU step (overlap scheduler)",
        min: 0.0,
        max: 1.0,
        range: "must be in [0, 1]",
        plausible: "1 for TRT-LLM >= 0.17, SGLang >= 0.4, vLLM async; 0 for older engines",
    },
    ParamDoc {
        name: "kernel_launch_s",
        unit: "s",
        doc: "fixed time of one kernel without a measured curve",
        min: 0.0,
        max: 0.001,
        range: "must be in [0, 1 ms]",
        plausible: "2-10 us",
    },
    ParamDoc {
        name: "graph_launch_overlap",
        unit: "fraction",
        doc: "fraction of a measured kernel's launch time hidden in a CUDA graph",
        min: 0.0,
        max: 1.0,
        range: "must be in [0, 1]",
        plausible:
            "0-0.8 (PDL overlaps prologue and tail; isolated timings include event overhead)",
    },
    ParamDoc {
        name: "elementwise_kernel_s",
        unit: "s",
        doc: "floor of one small elementwise kernel",
        min: 0.0,
        max: 0.001,
        range: "must be in [0, 1 ms]",
        plausible: "1-5 us",
    },
    ParamDoc {
        name: "allreduce_latency_s",
        unit: "s",
        doc: "small-message all-reduce latency without a measured table",
        min: 0.0,
        max: 0.001,
        range: "must be in [0, 1 ms]",
        plausible: "3-10 us (SGLang custom all-reduce on H100: 3.7-7.8 us for TP 2-8)",
    },
    ParamDoc {
        name: "all_to_all_latency_s",
        unit: "s",
        doc: "fixed latency of one EP dispatch or combine in a domain",
        min: 0.0,
        max: 0.01,
        range: "must be in [0, 10 ms]",
        plausible: "5-80 us (DeepEP low-latency kernels: tens of us)",
    },
    ParamDoc {
        name: "request_overhead_s",
        unit: "s",
        doc: "per-request front end in client-side TTFT (HTTP, tokenizer)",
        min: 0.0,
        max: 10.0,
        range: "must be in [0, 10] s",
        plausible: "1-50 ms (NIM c=1 TTFT minus the prefill step)",
    },
    ParamDoc {
        name: "activation_io_per_layer",
        unit: "hidden-size tensors",
        doc: "activation tensors moved per token per layer",
        min: 0.0,
        max: 1000.0,
        range: "must not be negative (or absurdly large)",
        plausible: "4-16",
    },
    ParamDoc {
        name: "moe_load_imbalance",
        unit: "ratio >= 1",
        doc: "routing skew over uniform routing on the busiest expert rank",
        min: 1.0,
        max: 64.0,
        range: "must be in [1, 64]",
        plausible: "1.0-1.5 (1 with EPLB)",
    },
    ParamDoc {
        name: "hbm_usable_fraction",
        unit: "fraction",
        doc: "fraction of HBM the engine may use",
        min: 0.0,
        max: 1.0,
        range: "must be in (0, 1]",
        plausible: "0.85-0.95",
    },
    ParamDoc {
        name: "runtime_reserve_bytes",
        unit: "bytes",
        doc: "runtime memory outside weights, KV and activations",
        min: 0.0,
        max: 1000000000000.0,
        range: "must not be negative (or absurdly large)",
        plausible: "1-4 GB",
    },
    ParamDoc {
        name: "max_batched_tokens",
        unit: "tokens",
        doc: "most tokens in one step (activation workspace)",
        min: 1.0,
        max: 1000000000.0,
        range: "must be at least 1 (and at most 1e9)",
        plausible: "2048-16384",
    },
    ParamDoc {
        name: "kv_block_tokens",
        unit: "tokens",
        doc: "KV-cache page size",
        min: 1.0,
        max: 65536.0,
        range: "must be in [1, 65536]",
        plausible: "16-64 (vLLM 16, TRT-LLM 32/64)",
    },
];

/// A value as written in an error: plain, or in exponent form when tiny or huge (1e-300 is
/// not 300 zeros).
fn show_value(v: f64) -> String {
    if v != 0.0 && v.is_finite() && (v.abs() < 1e-4 || v.abs() >= 1e12) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

/// A bad parameter value or name.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParamError {
    /// No parameter has this name.
    #[error("{origin}: unknown cost parameter `{name}`{}", suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
    Unknown {
        /// Where the name came from (a file, `--param`), quoted in the message.
        origin: String,
        /// The name as given.
        name: String,
        /// The nearest parameter name, when one is close enough.
        suggestion: Option<String>,
    },
    /// A value is not finite or lies outside the parameter's limits.
    #[error("{origin}: cost parameter `{name}` = {}: {reason}", show_value(*value))]
    OutOfRange {
        /// Where the value came from, quoted in the message.
        origin: String,
        /// The parameter name.
        name: String,
        /// The value refused.
        value: f64,
        /// The limits in words ([`ParamDoc::range`]).
        reason: &'static str,
    },
    /// A calibration file is not valid TOML or not of the expected shape.
    #[error("{origin}: {message}")]
    Parse {
        /// The file name, quoted in the message.
        origin: String,
        /// The parser's message or the shape error.
        message: String,
    },
}

impl CostParams {
    /// Value of a parameter by name.
    pub fn get(&self, name: &str) -> Option<f64> {
        self.as_map().get(name).copied()
    }

    /// All parameters as name -> value.
    pub fn as_map(&self) -> BTreeMap<&'static str, f64> {
        BTreeMap::from([
            ("compute_efficiency", self.compute_efficiency),
            ("memory_efficiency", self.memory_efficiency),
            ("attention_efficiency", self.attention_efficiency),
            ("comm_efficiency", self.comm_efficiency),
            ("comm_overlap", self.comm_overlap),
            ("step_overhead_s", self.step_overhead_s),
            ("layer_overhead_s", self.layer_overhead_s),
            ("seq_overhead_s", self.seq_overhead_s),
            ("host_overlap", self.host_overlap),
            ("kernel_launch_s", self.kernel_launch_s),
            ("graph_launch_overlap", self.graph_launch_overlap),
            ("elementwise_kernel_s", self.elementwise_kernel_s),
            ("allreduce_latency_s", self.allreduce_latency_s),
            ("all_to_all_latency_s", self.all_to_all_latency_s),
            ("request_overhead_s", self.request_overhead_s),
            ("activation_io_per_layer", self.activation_io_per_layer),
            ("moe_load_imbalance", self.moe_load_imbalance),
            ("hbm_usable_fraction", self.hbm_usable_fraction),
            ("runtime_reserve_bytes", self.runtime_reserve_bytes),
            ("max_batched_tokens", self.max_batched_tokens),
            ("kv_block_tokens", self.kv_block_tokens),
        ])
    }

    /// Sets one parameter by name, validating its range. `origin` names where the value came from.
    pub fn set(&mut self, name: &str, value: f64, origin: &str) -> Result<(), ParamError> {
        let slot = match name {
            "compute_efficiency" => &mut self.compute_efficiency,
            "memory_efficiency" => &mut self.memory_efficiency,
            "attention_efficiency" => &mut self.attention_efficiency,
            "comm_efficiency" => &mut self.comm_efficiency,
            "comm_overlap" => &mut self.comm_overlap,
            "step_overhead_s" => &mut self.step_overhead_s,
            "layer_overhead_s" => &mut self.layer_overhead_s,
            "seq_overhead_s" => &mut self.seq_overhead_s,
            "host_overlap" => &mut self.host_overlap,
            "kernel_launch_s" => &mut self.kernel_launch_s,
            "graph_launch_overlap" => &mut self.graph_launch_overlap,
            "elementwise_kernel_s" => &mut self.elementwise_kernel_s,
            "allreduce_latency_s" => &mut self.allreduce_latency_s,
            "all_to_all_latency_s" => &mut self.all_to_all_latency_s,
            "request_overhead_s" => &mut self.request_overhead_s,
            "activation_io_per_layer" => &mut self.activation_io_per_layer,
            "moe_load_imbalance" => &mut self.moe_load_imbalance,
            "hbm_usable_fraction" => &mut self.hbm_usable_fraction,
            "runtime_reserve_bytes" => &mut self.runtime_reserve_bytes,
            "max_batched_tokens" => &mut self.max_batched_tokens,
            "kv_block_tokens" => &mut self.kv_block_tokens,
            _ => {
                let names: Vec<&str> = PARAM_DOCS.iter().map(|d| d.name).collect();
                return Err(ParamError::Unknown {
                    origin: origin.to_string(),
                    name: name.to_string(),
                    suggestion: servemath_model::nearest(name, &names).map(str::to_string),
                });
            }
        };
        *slot = value;
        self.validate(origin)
    }

    /// Checks every parameter's range; the first violation names the parameter and value.
    pub fn validate(&self, origin: &str) -> Result<(), ParamError> {
        let bad = |name: &str, value: f64, reason: &'static str| ParamError::OutOfRange {
            origin: origin.to_string(),
            name: name.to_string(),
            value,
            reason,
        };
        for (name, value) in self.as_map() {
            if !value.is_finite() {
                return Err(bad(name, value, "must be a finite number"));
            }
        }
        for d in PARAM_DOCS {
            let value = self.get(d.name).unwrap_or(f64::NAN);
            let fraction = d.unit == "fraction";
            let ok = if fraction && d.name != "comm_overlap" && d.name != "graph_launch_overlap" {
                value > d.min && value <= d.max
            } else {
                value >= d.min && value <= d.max
            };
            if !ok {
                return Err(ParamError::OutOfRange {
                    origin: origin.to_string(),
                    name: d.name.to_string(),
                    value,
                    reason: d.range,
                });
            }
        }
        if self.host_overlap.fract().abs() > 0.0 {
            return Err(bad("host_overlap", self.host_overlap, "must be 0 or 1"));
        }
        Ok(())
    }

    /// Applies a TOML table of `name = value` overrides.
    pub fn apply_table(&mut self, table: &toml::Table, origin: &str) -> Result<(), ParamError> {
        for (name, value) in table {
            let v = value
                .as_float()
                .or_else(|| value.as_integer().map(|i| i as f64))
                .ok_or_else(|| ParamError::Parse {
                    origin: origin.to_string(),
                    message: format!("cost parameter `{name}` = {value}: expected a number"),
                })?;
            self.set(name, v, origin)?;
        }
        Ok(())
    }
}

const CALIBRATION_TOML: &str = include_str!("../calibration.toml");

/// The calibrated parameter sets: one default and at most one per hardware family.
#[derive(Debug, Clone)]
pub struct Calibration {
    /// The `[default]` set: every parameter, validated.
    pub default: CostParams,
    /// Hardware family (`hopper`, `blackwell`, ...) -> the overrides of its `[family.*]`
    /// table, validated against the default.
    pub families: BTreeMap<String, toml::Table>,
}

impl Calibration {
    /// The compiled-in calibration (its validity is pinned by a unit test).
    pub fn builtin() -> Calibration {
        #[expect(
            clippy::expect_used,
            reason = "the embedded file is checked by the calibration_parses test"
        )]
        Calibration::parse(CALIBRATION_TOML, "calibration.toml")
            .expect("embedded calibration.toml is valid")
    }

    /// Parses a calibration file: a complete `[default]` table and optional `[family.<name>]`
    /// override tables. `origin` is the name quoted in errors. Fails with
    /// [`ParamError::Parse`] on bad TOML, a missing `[default]` or an unknown top-level key,
    /// and with [`ParamError::Unknown`] or [`ParamError::OutOfRange`] on a bad parameter.
    pub fn parse(text: &str, origin: &str) -> Result<Calibration, ParamError> {
        let mut doc: toml::Table =
            text.parse()
                .map_err(|e: toml::de::Error| ParamError::Parse {
                    origin: origin.to_string(),
                    message: e.to_string(),
                })?;
        let default: CostParams = doc
            .remove("default")
            .ok_or_else(|| ParamError::Parse {
                origin: origin.to_string(),
                message: "missing [default] table".to_string(),
            })?
            .try_into()
            .map_err(|e: toml::de::Error| ParamError::Parse {
                origin: origin.to_string(),
                message: format!("[default]: {e}"),
            })?;
        default.validate(origin)?;
        let mut families = BTreeMap::new();
        if let Some(toml::Value::Table(fams)) = doc.remove("family") {
            for (name, table) in fams {
                let toml::Value::Table(table) = table else {
                    return Err(ParamError::Parse {
                        origin: origin.to_string(),
                        message: format!("[family.{name}] must be a table"),
                    });
                };
                // Validate by applying to the default.
                let mut probe = default;
                probe.apply_table(&table, &format!("{origin} [family.{name}]"))?;
                families.insert(name, table);
            }
        }
        if let Some(key) = doc.keys().next() {
            return Err(ParamError::Parse {
                origin: origin.to_string(),
                message: format!(
                    "unknown top-level key `{key}` (expected [default] and [family.*])"
                ),
            });
        }
        Ok(Calibration { default, families })
    }

    /// Parameters for a hardware family: the default with the family's overrides applied.
    pub fn for_family(&self, family: &str) -> CostParams {
        let mut p = self.default;
        if let Some(t) = self.families.get(family) {
            // Validated at parse time, so this cannot fail.
            let _ = p.apply_table(t, "calibration");
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calibration_parses() {
        let c = Calibration::parse(CALIBRATION_TOML, "calibration.toml");
        assert!(c.is_ok(), "{c:?}");
    }

    #[test]
    fn every_param_is_documented_and_settable() {
        let mut p = Calibration::builtin().default;
        for d in PARAM_DOCS {
            let v = p.get(d.name);
            assert!(v.is_some(), "{} not readable", d.name);
            assert!(p.set(d.name, v.unwrap_or(0.0), "test").is_ok());
        }
        assert_eq!(PARAM_DOCS.len(), p.as_map().len());
    }

    #[test]
    fn absurd_magnitudes_are_refused_and_written_in_exponent_form() {
        let mut p = Calibration::builtin().default;
        let e = p
            .set("compute_efficiency", 1e-300, "--param")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("= 1e-300: must be in (0.01, 1]"), "{e}");
        assert_eq!(show_value(0.5), "0.5");
        assert_eq!(show_value(1e30), "1e30");
    }

    #[test]
    fn out_of_range_names_the_parameter() {
        let mut p = Calibration::builtin().default;
        let e = p
            .set("memory_efficiency", 1.5, "--param")
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some(
                "--param: cost parameter `memory_efficiency` = 1.5: must be in (0.01, 1]: no kernel runs below 1 % of its peak"
            )
        );
        let e = p
            .set("memory_eficiency", 0.5, "--param")
            .err()
            .map(|e| e.to_string());
        assert!(e
            .unwrap_or_default()
            .contains("did you mean `memory_efficiency`"));
    }
}
