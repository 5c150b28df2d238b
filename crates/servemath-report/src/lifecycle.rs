//! `servemath.lifecycle/1`: a model's lifetime compute and cost (pre-training, RL, inference),
//! the training-token multiple at which they balance, the cost-minimising model at fixed
//! quality, and the what-ifs of seed claim 17.

use crate::Schema;
use serde::Serialize;
use servemath_econ::{Lifecycle, LifecycleInputs, LossModel, Optimum, Phase};

/// A model's lifetime cost by phase, where training and inference balance, and what would
/// change it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LifecycleReport {
    /// The figures the lifecycle is computed from (parameters, tokens, MFUs, $ per busy
    /// GPU-hour, peak FLOP/s).
    pub inputs: LifecycleInputsReport,
    /// Hardware and cost basis of the dollar figures.
    pub hardware: String,
    /// Cost mode of the dollar figures: `rental` or `owned`.
    pub mode: &'static str,
    /// FLOPs, GPU-hours and dollars of pre-training, RL and inference, and the balance points.
    pub lifecycle: LifecycleFigures,
    /// RL cost over pre-training cost (1 when the three phases can be equal).
    pub rl_over_pretrain: f64,
    /// The loss model that holds quality fixed.
    pub loss_model: LossModelReport,
    /// The cheapest model at the input model's loss; `null` when out of reach.
    pub optimum: Option<OptimumReport>,
    /// How the equalising multiple moves with lifetime inference volume.
    pub sensitivity: Vec<SensitivityRow>,
    /// Seed claim 17's what-ifs, when asked for.
    pub what_ifs: Vec<WhatIf>,
}

impl Schema for LifecycleReport {
    const SCHEMA_VERSION: &'static str = "servemath.lifecycle/1";
}

/// The equalising multiple at one lifetime inference volume.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SensitivityRow {
    /// Tokens served over the model's life (0.01x to 100x the input volume).
    pub inference_tokens: f64,
    /// Training tokens per parameter, as a multiple of Chinchilla's 20, at which pre-training
    /// and inference cost the same.
    pub equal_multiple: f64,
}

/// One of seed claim 17's alternatives to the input model, priced the same way.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WhatIf {
    /// `pruned` or `sparse`.
    pub kind: &'static str,
    /// The change, in a sentence.
    pub description: String,
    /// The inputs with the change applied.
    pub inputs: LifecycleInputsReport,
    /// The changed model's lifecycle.
    pub lifecycle: LifecycleFigures,
    /// Base total cost over this one's.
    pub total_saving: f64,
    /// Base inference cost over this one's.
    pub inference_saving: f64,
}

/// The loss model holding quality fixed, `L(N, D) = E + A/N^α + B/D^β` (the JSON form of
/// `servemath_econ::LossModel`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LossModelReport {
    /// `E`: the irreducible loss, nats per token, approached with infinite parameters and data.
    pub e: f64,
    /// `A`: the coefficient of the parameter term `A / N^α`.
    pub a: f64,
    /// `B`: the coefficient of the data term `B / D^β`.
    pub b: f64,
    /// `α`: the exponent on parameters `N`.
    pub alpha: f64,
    /// `β`: the exponent on training tokens `D`.
    pub beta: f64,
    /// Where the fit comes from (paper, equation, the values).
    pub source: &'static str,
}

impl From<LossModel> for LossModelReport {
    fn from(x: LossModel) -> Self {
        LossModelReport {
            e: x.e,
            a: x.a,
            b: x.b,
            alpha: x.alpha,
            beta: x.beta,
            source: x.source,
        }
    }
}

/// The figures a lifecycle is computed from (the JSON form of
/// `servemath_econ::LifecycleInputs`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LifecycleInputsReport {
    /// Total parameters N.
    pub params: f64,
    /// Parameters a token touches in training (N for a dense model).
    pub active_params: f64,
    /// Parameters a token touches when served (smaller than `active_params` for a pruned
    /// what-if).
    pub serve_active_params: f64,
    /// Pre-training tokens D.
    pub train_tokens: f64,
    /// RL compute as a fraction of pre-training FLOPs.
    pub rl_fraction: f64,
    /// Lifetime tokens processed in serving (input and output together).
    pub inference_tokens: f64,
    /// What a busy GPU-hour costs, $/GPU-hour.
    pub usd_per_gpu_hour: f64,
    /// Dense peak FLOP/s of one GPU at the precision used.
    pub peak_flop_per_s: f64,
    /// Achieved fraction of peak (MFU) in pre-training, in (0, 1].
    pub train_mfu: f64,
    /// Achieved fraction of peak in RL, in (0, 1].
    pub rl_mfu: f64,
    /// Achieved fraction of peak in serving, in (0, 1].
    pub inference_mfu: f64,
}

impl From<LifecycleInputs> for LifecycleInputsReport {
    fn from(x: LifecycleInputs) -> Self {
        LifecycleInputsReport {
            params: x.params,
            active_params: x.active_params,
            serve_active_params: x.serve_active_params,
            train_tokens: x.train_tokens,
            rl_fraction: x.rl_fraction,
            inference_tokens: x.inference_tokens,
            usd_per_gpu_hour: x.usd_per_gpu_hour,
            peak_flop_per_s: x.peak_flop_per_s,
            train_mfu: x.train_mfu,
            rl_mfu: x.rl_mfu,
            inference_mfu: x.inference_mfu,
        }
    }
}

/// One phase's compute and cost (the JSON form of `servemath_econ::Phase`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PhaseReport {
    /// Floating-point operations the phase performs.
    pub flop: f64,
    /// Busy GPU-hours: `flop / (peak · mfu) / 3600`.
    pub gpu_hours: f64,
    /// Dollars: `gpu_hours` at the busy-hour price.
    pub usd: f64,
}

impl From<Phase> for PhaseReport {
    fn from(x: Phase) -> Self {
        PhaseReport {
            flop: x.flop,
            gpu_hours: x.gpu_hours,
            usd: x.usd,
        }
    }
}

/// A model's lifetime compute and cost by phase, and where training and inference balance
/// (the JSON form of `servemath_econ::Lifecycle`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LifecycleFigures {
    /// Pre-training: `6·N_a·D` FLOP at `train_mfu`.
    pub pretrain: PhaseReport,
    /// Reinforcement learning: `rl_fraction` of pre-training's FLOP at `rl_mfu`.
    pub rl: PhaseReport,
    /// Serving the lifetime tokens: `2·N_serve·I` FLOP at `inference_mfu`.
    pub inference: PhaseReport,
    /// Dollars of the three phases together.
    pub total_usd: f64,
    /// `D / N`.
    pub tokens_per_param: f64,
    /// `D / (20·N)`: the training-token multiple over compute-optimal.
    pub chinchilla_multiple: f64,
    /// Training tokens at which pre-training costs what inference costs:
    /// `6·N_a·D / mfu_t = 2·N_serve·I / mfu_i`, so `D = N_serve·I·mfu_t / (3·N_a·mfu_i)`.
    pub equal_train_tokens: f64,
    /// `equal_train_tokens / (20·N)`.
    pub equal_multiple: f64,
}

impl From<Lifecycle> for LifecycleFigures {
    fn from(x: Lifecycle) -> Self {
        LifecycleFigures {
            pretrain: x.pretrain.into(),
            rl: x.rl.into(),
            inference: x.inference.into(),
            total_usd: x.total_usd,
            tokens_per_param: x.tokens_per_param,
            chinchilla_multiple: x.chinchilla_multiple,
            equal_train_tokens: x.equal_train_tokens,
            equal_multiple: x.equal_multiple,
        }
    }
}

/// The cheapest model at a fixed loss (the JSON form of `servemath_econ::Optimum`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct OptimumReport {
    /// Total parameters of the cheapest model.
    pub params: f64,
    /// Its pre-training tokens: the `D` at which it reaches `loss`.
    pub train_tokens: f64,
    /// `train_tokens / (20·params)`: its training-token multiple over compute-optimal.
    pub chinchilla_multiple: f64,
    /// The loss held fixed (the input model's), nats per token.
    pub loss: f64,
    /// Its lifetime compute and cost, serving the same inference tokens.
    pub lifecycle: LifecycleFigures,
}

impl From<Optimum> for OptimumReport {
    fn from(x: Optimum) -> Self {
        OptimumReport {
            params: x.params,
            train_tokens: x.train_tokens,
            chinchilla_multiple: x.chinchilla_multiple,
            loss: x.loss,
            lifecycle: x.lifecycle.into(),
        }
    }
}
