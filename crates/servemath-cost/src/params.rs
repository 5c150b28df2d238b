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
    /// Achievable fraction of dense peak FLOP/s in large matmuls and attention.
    pub compute_efficiency: f64,
    /// Achievable fraction of HBM bandwidth in streaming reads (weights, KV cache).
    pub memory_efficiency: f64,
    /// Achievable fraction of link bandwidth in collectives (NCCL "bus bandwidth" over line rate).
    pub comm_efficiency: f64,
    /// Fraction of communication time hidden behind compute (0: fully exposed; 1: fully hidden).
    pub comm_overlap: f64,
    /// Fixed cost per step: scheduling, sampling, launch of the step's graph.
    pub step_overhead_s: f64,
    /// Fixed cost per layer per step: kernel launches and small ops not covered by the roofline.
    pub layer_overhead_s: f64,
    /// Cost per sequence in a step: host-side scheduling, sampling and bookkeeping that grow with the batch.
    pub seq_overhead_s: f64,
    /// Hidden-state-sized tensors read or written per token per layer (norms, residuals, matmul inputs and outputs) with fused kernels.
    pub activation_io_per_layer: f64,
    /// Busiest expert-parallel device's routed tokens over the mean (1: perfectly balanced).
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
    pub name: &'static str,
    pub unit: &'static str,
    pub doc: &'static str,
}

pub const PARAM_DOCS: &[ParamDoc] = &[
    ParamDoc {
        name: "compute_efficiency",
        unit: "fraction",
        doc: "achievable fraction of dense peak FLOP/s",
    },
    ParamDoc {
        name: "memory_efficiency",
        unit: "fraction",
        doc: "achievable fraction of HBM bandwidth",
    },
    ParamDoc {
        name: "comm_efficiency",
        unit: "fraction",
        doc: "achievable fraction of link bandwidth in collectives",
    },
    ParamDoc {
        name: "comm_overlap",
        unit: "fraction",
        doc: "fraction of communication hidden behind compute",
    },
    ParamDoc {
        name: "step_overhead_s",
        unit: "s",
        doc: "fixed cost per step (scheduling, sampling, launch)",
    },
    ParamDoc {
        name: "layer_overhead_s",
        unit: "s",
        doc: "fixed cost per layer per step",
    },
    ParamDoc {
        name: "seq_overhead_s",
        unit: "s",
        doc: "cost per sequence per step (scheduling, sampling)",
    },
    ParamDoc {
        name: "activation_io_per_layer",
        unit: "hidden-size tensors",
        doc: "activation tensors moved per token per layer",
    },
    ParamDoc {
        name: "moe_load_imbalance",
        unit: "ratio >= 1",
        doc: "busiest expert device's load over the mean",
    },
    ParamDoc {
        name: "hbm_usable_fraction",
        unit: "fraction",
        doc: "fraction of HBM the engine may use",
    },
    ParamDoc {
        name: "runtime_reserve_bytes",
        unit: "bytes",
        doc: "runtime memory outside weights, KV and activations",
    },
    ParamDoc {
        name: "max_batched_tokens",
        unit: "tokens",
        doc: "most tokens in one step (activation workspace)",
    },
    ParamDoc {
        name: "kv_block_tokens",
        unit: "tokens",
        doc: "KV-cache page size",
    },
];

/// A bad parameter value or name.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParamError {
    #[error("{origin}: unknown cost parameter `{name}`{}", suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
    Unknown {
        origin: String,
        name: String,
        suggestion: Option<String>,
    },
    #[error("{origin}: cost parameter `{name}` = {value}: {reason}")]
    OutOfRange {
        origin: String,
        name: String,
        value: f64,
        reason: &'static str,
    },
    #[error("{origin}: {message}")]
    Parse { origin: String, message: String },
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
            ("comm_efficiency", self.comm_efficiency),
            ("comm_overlap", self.comm_overlap),
            ("step_overhead_s", self.step_overhead_s),
            ("layer_overhead_s", self.layer_overhead_s),
            ("seq_overhead_s", self.seq_overhead_s),
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
            "comm_efficiency" => &mut self.comm_efficiency,
            "comm_overlap" => &mut self.comm_overlap,
            "step_overhead_s" => &mut self.step_overhead_s,
            "layer_overhead_s" => &mut self.layer_overhead_s,
            "seq_overhead_s" => &mut self.seq_overhead_s,
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
        for (name, value) in [
            ("compute_efficiency", self.compute_efficiency),
            ("memory_efficiency", self.memory_efficiency),
            ("comm_efficiency", self.comm_efficiency),
            ("hbm_usable_fraction", self.hbm_usable_fraction),
        ] {
            if !(value > 0.0 && value <= 1.0) {
                return Err(bad(name, value, "must be in (0, 1]"));
            }
        }
        if !(0.0..=1.0).contains(&self.comm_overlap) {
            return Err(bad("comm_overlap", self.comm_overlap, "must be in [0, 1]"));
        }
        for (name, value) in [
            ("step_overhead_s", self.step_overhead_s),
            ("layer_overhead_s", self.layer_overhead_s),
            ("seq_overhead_s", self.seq_overhead_s),
            ("activation_io_per_layer", self.activation_io_per_layer),
            ("runtime_reserve_bytes", self.runtime_reserve_bytes),
        ] {
            if value < 0.0 {
                return Err(bad(name, value, "must not be negative"));
            }
        }
        if self.step_overhead_s > 1.0 || self.layer_overhead_s > 0.1 || self.seq_overhead_s > 0.01 {
            return Err(bad(
                "step_overhead_s",
                self.step_overhead_s,
                "overheads above 1 s per step are absurd",
            ));
        }
        if self.moe_load_imbalance < 1.0 || self.moe_load_imbalance > 64.0 {
            return Err(bad(
                "moe_load_imbalance",
                self.moe_load_imbalance,
                "must be in [1, 64]",
            ));
        }
        if self.max_batched_tokens < 1.0 {
            return Err(bad(
                "max_batched_tokens",
                self.max_batched_tokens,
                "must be at least 1",
            ));
        }
        if self.kv_block_tokens < 1.0 || self.kv_block_tokens > 65536.0 {
            return Err(bad(
                "kv_block_tokens",
                self.kv_block_tokens,
                "must be in [1, 65536]",
            ));
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
    pub default: CostParams,
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
    fn out_of_range_names_the_parameter() {
        let mut p = Calibration::builtin().default;
        let e = p
            .set("memory_efficiency", 1.5, "--param")
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some("--param: cost parameter `memory_efficiency` = 1.5: must be in (0, 1]")
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
