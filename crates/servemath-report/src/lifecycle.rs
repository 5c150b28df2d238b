//! `servemath.lifecycle/1`: a model's lifetime compute and cost (pre-training, RL, inference),
//! the training-token multiple at which they balance, the cost-minimising model at fixed
//! quality, and the what-ifs of seed claim 17.

use crate::Schema;
use serde::Serialize;
use servemath_econ::{Lifecycle, LifecycleInputs, LossModel, Optimum};

/// A model's lifetime cost by phase, where training and inference balance, and what would
/// change it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LifecycleReport {
    /// The figures the lifecycle is computed from (parameters, tokens, MFUs, $ per busy
    /// GPU-hour, peak FLOP/s).
    pub inputs: LifecycleInputs,
    /// Hardware and cost basis of the dollar figures.
    pub hardware: String,
    /// Cost mode of the dollar figures: `rental` or `owned`.
    pub mode: &'static str,
    /// FLOPs, GPU-hours and dollars of pre-training, RL and inference, and the balance points.
    pub lifecycle: Lifecycle,
    /// RL cost over pre-training cost (1 when the three phases can be equal).
    pub rl_over_pretrain: f64,
    /// The loss model that holds quality fixed.
    pub loss_model: LossModel,
    /// The cheapest model at the input model's loss; `null` when out of reach.
    pub optimum: Option<Optimum>,
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
    pub inputs: LifecycleInputs,
    /// The changed model's lifecycle.
    pub lifecycle: Lifecycle,
    /// Base total cost over this one's.
    pub total_saving: f64,
    /// Base inference cost over this one's.
    pub inference_saving: f64,
}
