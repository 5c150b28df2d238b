//! A deployment as a front end describes it (a loaded model, a hardware entry, a layout whose
//! tensor-parallel degree may be left open, precisions, cost parameters), and the one rule for
//! "the smallest layout that fits" that `estimate`, `prices` and `simulate` share.

use anyhow::Context;
use servemath_cost::{CostParams, Deployment, Parallelism, Precisions};
use servemath_hardware::Hardware;
use servemath_model::{MathPrecision, ModelSpec, Precision};

/// Tensor-parallel degrees tried by [`DeploymentRequest::smallest_fitting_tp`]: powers of two up
/// to 1,024, the largest scale-up domain in the catalog being 576.
const MAX_TP_EXPONENT: u32 = 10;

/// What to deploy, where, and how, with everything read: no names left to look up.
#[derive(Debug, Clone)]
pub struct DeploymentRequest {
    /// The model, resolved from its config (a built-in name or a loaded `config.json`).
    pub model: ModelSpec,
    /// The hardware entry one replica runs on (catalog or user file).
    pub hardware: Hardware,
    /// The tensor-parallel degree, or `None` to let the command choose (TP1, or the smallest
    /// that fits where the command says so).
    pub tp: Option<u32>,
    /// The other degrees of the layout; its `tp` is ignored in favour of [`Self::tp`].
    pub layout: Parallelism,
    /// Precisions of weights, KV cache, activations and math, as the front end chose them (by
    /// default from the model's config and the rates the hardware has).
    pub precisions: Precisions,
    /// The step model's parameters: the hardware family's calibration plus any
    /// [`crate::ParamOverride`]s.
    pub params: CostParams,
}

/// The formats a caller chose; everything left `None` takes the one default rule: the
/// checkpoint's own formats, with the matmuls at the narrowest rate the hardware has a
/// published peak for ([`Precisions::defaults_for`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PrecisionChoice {
    /// Every linear layer's weights (attention, dense MLP, experts).
    pub weights: Option<Precision>,
    /// Attention projections' weights, overriding `weights`.
    pub attention_weights: Option<Precision>,
    /// Dense MLP weights, overriding `weights`.
    pub dense_weights: Option<Precision>,
    /// Routed and shared experts' weights, overriding `weights`.
    pub expert_weights: Option<Precision>,
    /// The KV cache.
    pub kv: Option<Precision>,
    /// Activations between layers.
    pub activations: Precision,
    /// The rate class the GEMMs run at.
    pub compute: Option<MathPrecision>,
    /// The rate class attention runs at.
    pub attention_math: Option<MathPrecision>,
}

impl Default for PrecisionChoice {
    fn default() -> Self {
        PrecisionChoice {
            weights: None,
            attention_weights: None,
            dense_weights: None,
            expert_weights: None,
            kv: None,
            activations: Precision::Bf16,
            compute: None,
            attention_math: None,
        }
    }
}

impl PrecisionChoice {
    /// The precisions of `model` on `hardware` with this choice applied over the defaults.
    pub fn resolve(&self, model: &ModelSpec, hardware: &Hardware) -> Precisions {
        let has = |p: MathPrecision| hardware.peak_flop_per_s(p).is_ok();
        let mut prec = Precisions::defaults_for(model, has);
        if let Some(w) = self.weights {
            prec = prec.with_linear_weights(w, has);
        }
        if let Some(kv) = self.kv {
            prec.kv = kv;
        }
        prec.activations = self.activations;
        if let Some(w) = self.attention_weights {
            prec.weights.attention = w;
        }
        if let Some(w) = self.dense_weights {
            prec.weights.dense_mlp = w;
        }
        if let Some(w) = self.expert_weights {
            prec.weights.experts = w;
        }
        if let Some(c) = self.compute {
            prec.compute = c;
        }
        if let Some(a) = self.attention_math {
            prec.attention = a;
        }
        prec
    }
}

impl DeploymentRequest {
    /// `model` on `hardware` at the default precisions ([`PrecisionChoice::default`]) with
    /// the hardware family's calibration, TP left open and no other parallelism: the one
    /// "deployment with defaults" rule.
    pub fn with_defaults(model: ModelSpec, hardware: Hardware) -> DeploymentRequest {
        DeploymentRequest {
            precisions: PrecisionChoice::default().resolve(&model, &hardware),
            params: servemath_cost::Calibration::builtin().for_family(&hardware.family),
            model,
            hardware,
            tp: None,
            layout: Parallelism::default(),
        }
    }

    /// The request at its tensor-parallel degree (TP1 when none was given).
    pub fn deploy(&self) -> anyhow::Result<Deployment> {
        self.deploy_at(self.tp.unwrap_or(1))
    }

    /// The request at tensor-parallel degree `tp`.
    pub fn deploy_at(&self, tp: u32) -> anyhow::Result<Deployment> {
        let par = Parallelism { tp, ..self.layout };
        Deployment::new(
            &self.model,
            &self.hardware,
            par,
            self.precisions,
            self.params,
        )
        .with_context(|| format!("cannot deploy {} on {}", self.model.name, self.hardware.id))
    }

    /// The one rule for "the smallest layout that fits": the power-of-two tensor-parallel
    /// degrees above `above` whose TP × attention-DP group stays inside the hardware's scale-up
    /// domain (pipeline stages may span domains), the first at which one sequence of `context`
    /// tokens fits. `None` when none does.
    pub fn smallest_fitting_tp(&self, context: f64, above: u32) -> Option<(u32, Deployment)> {
        let domain = self.hardware.scale_up_domain.max(1);
        (0..=MAX_TP_EXPONENT)
            .map(|s| 1u32 << s)
            .filter(|&tp| tp > above && tp * self.layout.dp_attn.max(1) <= domain)
            .find_map(|tp| {
                self.deploy_at(tp)
                    .ok()
                    .filter(|d| d.max_batch(context) > 0)
                    .map(|d| (tp, d))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use servemath_hardware::Catalog;

    fn request(model: &str, hardware: &str) -> DeploymentRequest {
        let model = servemath_model::builtin(model).expect("built-in model");
        let hardware = Catalog::builtin().get(hardware).expect("entry").clone();
        DeploymentRequest::with_defaults(model, hardware)
    }

    #[test]
    fn the_smallest_fitting_tp_is_the_first_power_of_two_with_room_for_one_sequence() {
        // Llama-3.1-70B in BF16 is 141.1 GB of weights: above one H100's 80 GB, above two
        // (160 GB less activations and reserve leaves < 141.1 GB + KV), so TP4 is the first.
        let r = request("llama-3.1-70b", "h100-sxm");
        let (tp, dep) = r.smallest_fitting_tp(2304.0, 0).expect("fits at some TP");
        assert_eq!(tp, 4);
        assert!(dep.max_batch(2304.0) > 0);
        assert!(r.deploy_at(2).map_or(true, |d| d.max_batch(2304.0) == 0));
        // Above 4: the next power of two.
        assert_eq!(r.smallest_fitting_tp(2304.0, 4).map(|(tp, _)| tp), Some(8));
        // H100's scale-up domain is 8 GPUs: nothing above 8 is tried.
        assert!(r.smallest_fitting_tp(2304.0, 8).is_none());
    }

    #[test]
    fn attention_data_parallel_groups_count_against_the_scale_up_domain() {
        // Qwen3-235B-A22B in BF16 (470.2 GB) with DP-attn 2 and EP2 on H200 (141 GB, 8 GPUs per
        // domain): TP1 puts 243.1 GB of weights on a GPU and does not fit; TP2 (4 GPUs) does.
        // TP4 × DP-attn 2 fills the 8-GPU domain; TP8 × 2 = 16 would leave it, so nothing
        // above TP4 is tried.
        let mut r = request("qwen3-235b-a22b", "h200");
        r.layout.dp_attn = 2;
        r.layout.ep = 2;
        assert_eq!(r.smallest_fitting_tp(2304.0, 0).map(|(tp, _)| tp), Some(2));
        assert_eq!(r.smallest_fitting_tp(2304.0, 2).map(|(tp, _)| tp), Some(4));
        assert!(r.smallest_fitting_tp(2304.0, 4).is_none());
    }
}
