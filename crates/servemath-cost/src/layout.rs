//! Parallel layout of one replica and the precisions it runs at, validated against a model and a machine.

use serde::Serialize;
use servemath_model::{MathPrecision, ModelSpec, Precision, WeightPrecisions};

/// Degrees of parallelism of one model replica.
///
/// GPUs per replica = `tp · dp_attn · pp`. Attention runs tensor-parallel over `tp` GPUs and
/// data-parallel over `dp_attn` such groups; MoE layers run over the whole `tp · dp_attn` group
/// with `ep`-way expert parallelism and `tp · dp_attn / ep`-way tensor parallelism inside each
/// expert (the DeepSeek / SGLang / TRT-LLM attention-DP layout). Dense MLP layers are
/// tensor-parallel over the whole group. Pipeline stages split the layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Parallelism {
    /// Tensor-parallel degree of attention, at least 1; divides every layer's attention heads.
    pub tp: u32,
    /// Pipeline stages, at least 1 and at most the layer count.
    pub pp: u32,
    /// Expert-parallel degree of MoE layers, at least 1; divides the stage group `tp · dp_attn`
    /// and the expert slots (experts + `redundant_experts`). 1 for dense models.
    pub ep: u32,
    /// Attention data-parallel groups per stage, at least 1; each holds its own sequences.
    /// 1 for dense models (use replicas for data parallelism there).
    pub dp_attn: u32,
    /// Extra expert slots beyond the model's experts (EPLB's redundant experts): the
    /// `E + redundant_experts` slots are spread evenly over the `ep` ranks, so EP degrees that
    /// do not divide `E` work (256 experts on EP72 with 288 slots), hot experts are copied,
    /// and the routing skew (`moe_load_imbalance`) is balanced away; each slot adds one
    /// expert's weights.
    pub redundant_experts: u32,
    /// Two-batch overlap: each step runs as two micro-batches, the expert-parallel and
    /// tensor-parallel communication of one hidden behind the other's GEMMs (DeepSeek,
    /// SGLang `--enable-two-batch-overlap`, TensorRT-LLM); weights are read once per
    /// micro-batch.
    pub two_batch_overlap: bool,
}

impl Default for Parallelism {
    fn default() -> Self {
        Parallelism {
            tp: 1,
            pp: 1,
            ep: 1,
            dp_attn: 1,
            redundant_experts: 0,
            two_batch_overlap: false,
        }
    }
}

impl Parallelism {
    /// GPUs in one replica.
    pub fn gpus(&self) -> u32 {
        self.tp * self.dp_attn * self.pp
    }

    /// GPUs in one pipeline stage: the group an MoE or dense MLP layer is spread over.
    pub fn group(&self) -> u32 {
        self.tp * self.dp_attn
    }

    /// Tensor-parallel degree inside each expert.
    pub fn moe_tp(&self) -> u32 {
        self.group() / self.ep
    }
}

/// Number formats of one deployment, chosen independently.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Precisions {
    /// Storage formats of the weights, per component (attention, dense MLP, experts,
    /// embeddings).
    pub weights: WeightPrecisions,
    /// Storage format of the KV cache.
    pub kv: Precision,
    /// Matmul rate class: selects the peak FLOP/s figure.
    pub compute: MathPrecision,
    /// Format of activations sent over the network (all-reduce, all-to-all, pipeline hand-off).
    pub activations: Precision,
    /// Math rate class of the attention kernels: BF16 (FlashAttention, FlashInfer, FlashMLA,
    /// TensorRT-LLM FMHA by default) or FP8 where the engine runs FP8 attention. Never the
    /// GEMMs' FP4 rate.
    pub attention: MathPrecision,
}

impl Precisions {
    /// The checkpoint's own weights, its prescribed KV-cache format (else BF16) and BF16
    /// activations; matmuls at the weights' rate when the bulk of the weights is FP8/FP4 and
    /// the hardware has that rate, otherwise BF16 (weight-only quantization dequantizes into
    /// BF16 matmuls).
    pub fn defaults_for(model: &ModelSpec, peak_has: impl Fn(MathPrecision) -> bool) -> Precisions {
        let bulk = if model.is_moe() {
            model.checkpoint.experts
        } else {
            model.checkpoint.dense_mlp
        };
        Precisions {
            weights: model.checkpoint,
            kv: model.kv_cache.unwrap_or(Precision::Bf16),
            compute: compute_for(bulk, &peak_has),
            activations: Precision::Bf16,
            attention: MathPrecision::Bf16,
        }
    }

    /// Quantizes the linear layers (attention, MLP, experts) to `p`; embeddings keep the
    /// checkpoint's format, as TensorRT-LLM and vLLM quantization recipes do.
    pub fn with_linear_weights(
        mut self,
        p: Precision,
        peak_has: impl Fn(MathPrecision) -> bool,
    ) -> Self {
        self.weights.attention = p;
        self.weights.dense_mlp = p;
        self.weights.experts = p;
        self.compute = compute_for(p, &peak_has);
        self
    }
}

/// The matmul rate for weights stored as `p` on hardware that has the rates `peak_has` says.
pub fn compute_for(p: Precision, peak_has: &impl Fn(MathPrecision) -> bool) -> MathPrecision {
    match p.math() {
        m @ (MathPrecision::Fp8 | MathPrecision::Fp4) if peak_has(m) => m,
        MathPrecision::Fp4 if peak_has(MathPrecision::Fp8) => MathPrecision::Bf16,
        MathPrecision::Int8 if peak_has(MathPrecision::Int8) && p == Precision::Int8 => {
            MathPrecision::Int8
        }
        _ => MathPrecision::Bf16,
    }
}

/// A layout that cannot run the model.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LayoutError {
    /// A degree is 0.
    #[error("parallelism `{field}` = {value}: must be at least 1")]
    Zero {
        /// The [`Parallelism`] field (`tp`, `pp`, `ep`, `dp_attn`).
        field: &'static str,
        /// The value given (0).
        value: u32,
    },
    /// A degree is above 65,536, does not divide what it splits, or asks for experts or
    /// attention-DP on a dense model.
    #[error("parallelism `{field}` = {value}: {reason}")]
    Invalid {
        /// The [`Parallelism`] field.
        field: &'static str,
        /// The value given.
        value: u32,
        /// Why, naming what the model has (e.g. `does not divide the 64 attention heads of
        /// llama70b`).
        reason: String,
    },
}

/// Checks that the layout divides the model: heads by TP, layers by PP (at least one layer per
/// stage), experts by EP, and EP by the stage group.
pub fn validate(model: &ModelSpec, par: &Parallelism) -> Result<(), LayoutError> {
    for (field, value) in [
        ("tp", par.tp),
        ("pp", par.pp),
        ("ep", par.ep),
        ("dp_attn", par.dp_attn),
    ] {
        if value == 0 {
            return Err(LayoutError::Zero { field, value });
        }
        if value > 65536 {
            return Err(LayoutError::Invalid {
                field,
                value,
                reason: "more than 65,536 is absurd".to_string(),
            });
        }
    }
    for g in &model.groups {
        let heads = g.attention.heads();
        if heads % u64::from(par.tp) != 0 {
            return Err(LayoutError::Invalid {
                field: "tp",
                value: par.tp,
                reason: format!(
                    "does not divide the {heads} attention heads of {}",
                    model.name
                ),
            });
        }
    }
    let layers = model.num_layers();
    if u64::from(par.pp) > layers {
        return Err(LayoutError::Invalid {
            field: "pp",
            value: par.pp,
            reason: format!("more stages than the {layers} layers of {}", model.name),
        });
    }
    let experts = model
        .groups
        .iter()
        .filter_map(|g| g.mlp.routing())
        .map(|(e, _)| e)
        .max();
    match experts {
        None if par.ep > 1 => {
            return Err(LayoutError::Invalid {
                field: "ep",
                value: par.ep,
                reason: format!("{} has no experts", model.name),
            })
        }
        None if par.dp_attn > 1 => {
            return Err(LayoutError::Invalid {
                field: "dp_attn",
                value: par.dp_attn,
                reason: format!(
                    "attention data parallelism pairs with expert parallelism; {} is dense (use replicas for data parallelism)",
                    model.name
                ),
            })
        }
        None if par.redundant_experts > 0 => {
            return Err(LayoutError::Invalid {
                field: "redundant_experts",
                value: par.redundant_experts,
                reason: format!("{} has no experts", model.name),
            })
        }
        Some(e) if (e + u64::from(par.redundant_experts)) % u64::from(par.ep) != 0 => {
            let slots = e + u64::from(par.redundant_experts);
            let need = slots.div_ceil(u64::from(par.ep)) * u64::from(par.ep) - e;
            return Err(LayoutError::Invalid {
                field: "ep",
                value: par.ep,
                reason: format!(
                    "does not divide the {slots} expert slots of {} ({e} experts + {} redundant); \
                     {need} redundant experts would make {} slots",
                    model.name,
                    par.redundant_experts,
                    e + need
                ),
            })
        }
        _ => {}
    }
    if !par.group().is_multiple_of(par.ep) {
        return Err(LayoutError::Invalid {
            field: "ep",
            value: par.ep,
            reason: format!("must divide tp x dp_attn = {}", par.group()),
        });
    }
    Ok(())
}
