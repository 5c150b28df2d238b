//! `servemath.lifecycle/1`: a model's lifetime compute and cost (pre-training, RL, inference),
//! the training-token multiple at which they balance, the cost-minimising model at fixed
//! quality, and the what-ifs of seed claim 17.

use crate::Schema;
use serde::Serialize;
use servemath_econ::{Lifecycle, LifecycleInputs, LossModel, Optimum};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LifecycleReport {
    pub inputs: LifecycleInputs,
    /// Hardware and cost basis of the dollar figures.
    pub hardware: String,
    pub mode: &'static str,
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

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SensitivityRow {
    pub inference_tokens: f64,
    pub equal_multiple: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WhatIf {
    /// `pruned` or `sparse`.
    pub kind: &'static str,
    pub description: String,
    pub inputs: LifecycleInputs,
    pub lifecycle: Lifecycle,
    /// Base total cost over this one's.
    pub total_saving: f64,
    /// Base inference cost over this one's.
    pub inference_saving: f64,
}
