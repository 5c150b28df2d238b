//! A model's lifetime compute and cost (pre-training `6·N·D`, RL, inference `2·N_active·I`),
//! the training-token multiple over Chinchilla at which they balance, the cheapest model at the
//! same quality, and seed claim 17's what-ifs (pruned, sparse).

use crate::{Invalid, Spelling};
use servemath_econ::{
    cost_optimal, lifecycle as price_lifecycle, CostInputs, Lifecycle, LifecycleInputs,
    CHINCHILLA_TOKENS_PER_PARAM, HOFFMANN_2022,
};
use servemath_hardware::Hardware;
use servemath_model::MathPrecision;
use servemath_report::{human, LifecycleReport, SensitivityRow, WhatIf};

/// Inference-token multiples of the sensitivity table: how the balance point moves when the
/// model serves 1 % to 100× the tokens.
const SENSITIVITY: [f64; 5] = [0.01, 0.1, 1.0, 10.0, 100.0];

/// What `lifecycle` is asked (counts in units, not billions).
#[derive(Debug, Clone)]
pub struct LifecycleRequest {
    /// Total parameters (`lifecycle.params`).
    pub params: f64,
    /// Parameters a token touches; all of them when `None`.
    pub active_params: Option<f64>,
    /// Pre-training tokens; else `multiple` × Chinchilla's 20 per parameter (1 by default).
    pub train_tokens: Option<f64>,
    /// Pre-training tokens as a multiple of Chinchilla's 20 per parameter, positive; used only
    /// without `train_tokens` (1 when neither is given).
    pub multiple: Option<f64>,
    /// RL compute in FLOPs; else `rl_fraction` of pre-training's.
    pub rl_flops: Option<f64>,
    /// RL compute as a fraction of pre-training's FLOPs, not negative (1 by default: RL as
    /// large as pre-training); ignored when `rl_flops` is given.
    pub rl_fraction: f64,
    /// Lifetime tokens served.
    pub inference_tokens: f64,
    /// Achieved fraction of peak (MFU) in pre-training, in (0, 1].
    pub train_mfu: f64,
    /// Achieved fraction of peak in RL, in (0, 1].
    pub rl_mfu: f64,
    /// Achieved fraction of peak in serving, in (0, 1].
    pub inference_mfu: f64,
    /// What-if: pruned to this fraction of the size after training, in (0, 1].
    pub pruned: Option<f64>,
    /// What-if: a mixture of experts with this many active parameters.
    pub sparse_active_params: Option<f64>,
    /// The hardware the dollars are priced on (its BF16 dense peak).
    pub hardware: Hardware,
    /// Its cost inputs, checked.
    pub costs: CostInputs,
    /// Fraction of held GPU-hours doing useful work, in \[0.001, 1\]: the busy-hour price is
    /// the held-hour price over it.
    pub utilization: f64,
}

fn invalid(message: String) -> anyhow::Error {
    Invalid(message).into()
}

/// `v` in (0, 1], named by `key`.
fn fraction(key: &'static str, v: f64, spelling: &dyn Spelling) -> anyhow::Result<f64> {
    if !(v.is_finite() && v > 0.0 && v <= 1.0) {
        return Err(invalid(format!(
            "{} = {v}: must be in (0, 1]",
            spelling.name(key)
        )));
    }
    Ok(v)
}

/// `v` > 0, named by `key`; `scale` converts it back to the unit the user wrote (billions).
fn positive(key: &'static str, v: f64, scale: f64, spelling: &dyn Spelling) -> anyhow::Result<f64> {
    if !(v.is_finite() && v > 0.0) {
        return Err(invalid(format!(
            "{} = {}: must be positive",
            spelling.name(key),
            v / scale
        )));
    }
    Ok(v)
}

/// The lifetime cost, the balance point and how it moves, the optimum and the what-ifs.
pub fn lifecycle(
    request: &LifecycleRequest,
    spelling: &dyn Spelling,
) -> anyhow::Result<LifecycleReport> {
    let r = request;
    let u = servemath_econ::check_utilization(r.utilization, "utilization")?;
    let peak = r.hardware.peak_flop_per_s(MathPrecision::Bf16)?;
    r.costs.check()?;
    let price = servemath_econ::gpu_hour_cost(&r.costs, u).usd_per_busy_gpu_hour;
    let n = positive("lifecycle.params_b", r.params, 1e9, spelling)?;
    let active = positive(
        "lifecycle.active_b",
        r.active_params.unwrap_or(n),
        1e9,
        spelling,
    )?;
    if active > n {
        return Err(invalid(format!(
            "{} = {}: more than the {} B total parameters",
            spelling.name("lifecycle.active_b"),
            active / 1e9,
            n / 1e9
        )));
    }
    let d = match (r.train_tokens, r.multiple) {
        (Some(d), _) => d,
        (None, Some(m)) => {
            positive("lifecycle.multiple", m, 1.0, spelling)? * CHINCHILLA_TOKENS_PER_PARAM * n
        }
        (None, None) => CHINCHILLA_TOKENS_PER_PARAM * n,
    };
    let rl_fraction = match r.rl_flops {
        Some(f) => f / (6.0 * active * d),
        None => {
            if !(r.rl_fraction.is_finite() && r.rl_fraction >= 0.0) {
                return Err(invalid(format!(
                    "{} = {}: must not be negative",
                    spelling.name("lifecycle.rl_fraction"),
                    r.rl_fraction
                )));
            }
            r.rl_fraction
        }
    };
    let base = LifecycleInputs {
        params: n,
        active_params: active,
        serve_active_params: active,
        train_tokens: d,
        rl_fraction,
        inference_tokens: r.inference_tokens,
        usd_per_gpu_hour: price,
        peak_flop_per_s: peak,
        train_mfu: fraction("lifecycle.train_mfu", r.train_mfu, spelling)?,
        rl_mfu: fraction("lifecycle.rl_mfu", r.rl_mfu, spelling)?,
        inference_mfu: fraction("lifecycle.inference_mfu", r.inference_mfu, spelling)?,
    };
    let life = price_lifecycle(&base);
    let mut what_ifs = Vec::new();
    if let Some(p) = r.pruned {
        let p = fraction("lifecycle.pruned", p, spelling)?;
        let w = LifecycleInputs {
            serve_active_params: base.serve_active_params * p,
            ..base
        };
        what_ifs.push(what_if(
            "pruned",
            format!(
                "pruned to {} of its size after training, same accuracy, same tokens served",
                human::percent(p)
            ),
            w,
            &life,
        ));
    }
    if let Some(a) = r.sparse_active_params {
        let a = positive("lifecycle.sparse_active_b", a, 1e9, spelling)?;
        let w = LifecycleInputs {
            active_params: a,
            serve_active_params: a,
            ..base
        };
        what_ifs.push(what_if(
            "sparse",
            format!(
                "a mixture of experts with {} active parameters matching its quality, \
                 trained on the same tokens",
                human::count(a)
            ),
            w,
            &life,
        ));
    }
    let sensitivity = SENSITIVITY
        .iter()
        .map(|f| {
            let i = LifecycleInputs {
                inference_tokens: base.inference_tokens * f,
                ..base
            };
            SensitivityRow {
                inference_tokens: i.inference_tokens,
                equal_multiple: price_lifecycle(&i).equal_multiple,
            }
        })
        .collect();
    Ok(LifecycleReport {
        inputs: base.into(),
        hardware: r.hardware.id.clone(),
        mode: r.costs.mode.name(),
        lifecycle: life.into(),
        rl_over_pretrain: life.rl.usd / life.pretrain.usd,
        loss_model: HOFFMANN_2022.into(),
        optimum: cost_optimal(&base, &HOFFMANN_2022).map(Into::into),
        sensitivity,
        what_ifs,
    })
}

fn what_if(
    kind: &'static str,
    description: String,
    w: LifecycleInputs,
    base: &Lifecycle,
) -> WhatIf {
    let l = price_lifecycle(&w);
    WhatIf {
        kind,
        description,
        inputs: w.into(),
        lifecycle: l.into(),
        total_saving: base.total_usd / l.total_usd,
        inference_saving: base.inference.usd / l.inference.usd,
    }
}
