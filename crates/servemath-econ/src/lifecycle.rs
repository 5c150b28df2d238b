//! A model's lifetime compute and cost: pre-training `6·N·D`, RL as a named fraction of it,
//! inference `2·N_active·I`; the training-token multiple over compute-optimal at which
//! pre-training and inference cost the same; and, at fixed quality under a fitted loss
//! `L(N, D)`, the model size and training tokens that minimise the lifetime cost.
//!
//! `N` in `6·N·D` is the parameters a token touches: all of them for a dense model, the
//! active ones for a mixture of experts. The Chinchilla multiple `D / (20·N)` uses total
//! parameters, as "tokens per parameter" does.

/// Compute-optimal training tokens per parameter (Hoffmann et al. 2022's rule of thumb).
pub const CHINCHILLA_TOKENS_PER_PARAM: f64 = 20.0;

/// A fitted loss `L(N, D) = E + A / N^α + B / D^β` (nats per token).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LossModel {
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

/// Hoffmann et al. 2022 ("Training Compute-Optimal Large Language Models",
/// arXiv:2203.15556), approach 3's published fit.
pub const HOFFMANN_2022: LossModel = LossModel {
    e: 1.69,
    a: 406.4,
    b: 410.7,
    alpha: 0.34,
    beta: 0.28,
    source: "Hoffmann et al. 2022, arXiv:2203.15556, eq. 10 (approach 3): E = 1.69, A = 406.4, \
             B = 410.7, alpha = 0.34, beta = 0.28. Besiroglu et al. 2024 (arXiv:2404.10102) \
             refit the same data to E = 1.82, A = 482.01, B = 2085.43, alpha = 0.3478, \
             beta = 0.3658",
};

impl LossModel {
    /// The loss `L(N, D)`, nats per token, of a model of `params` total parameters trained on
    /// `tokens` tokens.
    pub fn loss(&self, params: f64, tokens: f64) -> f64 {
        self.e + self.a / params.powf(self.alpha) + self.b / tokens.powf(self.beta)
    }

    /// Training tokens that bring a model of `params` to `target` loss; `None` when no amount
    /// of data does (the parameter term alone is above the target).
    pub fn tokens_for(&self, params: f64, target: f64) -> Option<f64> {
        let room = target - self.e - self.a / params.powf(self.alpha);
        (room > 0.0).then(|| (self.b / room).powf(1.0 / self.beta))
    }

    /// The smallest model (total parameters) that can reach `target` loss with unlimited
    /// data; `None` when `target` is at or below the irreducible loss `E`.
    pub fn min_params_for(&self, target: f64) -> Option<f64> {
        let room = target - self.e;
        (room > 0.0).then(|| (self.a / room).powf(1.0 / self.alpha))
    }
}

/// Everything a lifecycle needs, in base units (parameters, tokens, FLOP/s, dollars).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LifecycleInputs {
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

/// One phase's compute and cost.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Phase {
    /// Floating-point operations the phase performs.
    pub flop: f64,
    /// Busy GPU-hours: `flop / (peak · mfu) / 3600`.
    pub gpu_hours: f64,
    /// Dollars: `gpu_hours` at the busy-hour price.
    pub usd: f64,
}

/// A model's lifetime.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Lifecycle {
    /// Pre-training: `6·N_a·D` FLOP at `train_mfu`.
    pub pretrain: Phase,
    /// Reinforcement learning: `rl_fraction` of pre-training's FLOP at `rl_mfu`.
    pub rl: Phase,
    /// Serving the lifetime tokens: `2·N_serve·I` FLOP at `inference_mfu`.
    pub inference: Phase,
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

impl Phase {
    fn new(flop: f64, mfu: f64, inp: &LifecycleInputs) -> Phase {
        let gpu_hours = flop / (inp.peak_flop_per_s * mfu) / 3600.0;
        Phase {
            flop,
            gpu_hours,
            usd: gpu_hours * inp.usd_per_gpu_hour,
        }
    }
}

/// Prices a lifecycle: pre-training `6·N_a·D`, RL `rl_fraction` of it, inference
/// `2·N_serve·I`, each at its MFU on GPUs at `usd_per_gpu_hour`.
pub fn lifecycle(inp: &LifecycleInputs) -> Lifecycle {
    let pre_flop = 6.0 * inp.active_params * inp.train_tokens;
    let pretrain = Phase::new(pre_flop, inp.train_mfu, inp);
    let rl = Phase::new(inp.rl_fraction * pre_flop, inp.rl_mfu, inp);
    let inference = Phase::new(
        2.0 * inp.serve_active_params * inp.inference_tokens,
        inp.inference_mfu,
        inp,
    );
    let equal_train_tokens = inp.serve_active_params * inp.inference_tokens * inp.train_mfu
        / (3.0 * inp.active_params * inp.inference_mfu);
    Lifecycle {
        pretrain,
        rl,
        inference,
        total_usd: pretrain.usd + rl.usd + inference.usd,
        tokens_per_param: inp.train_tokens / inp.params,
        chinchilla_multiple: inp.train_tokens / (CHINCHILLA_TOKENS_PER_PARAM * inp.params),
        equal_train_tokens,
        equal_multiple: equal_train_tokens / (CHINCHILLA_TOKENS_PER_PARAM * inp.params),
    }
}

/// The cheapest model at fixed quality.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Optimum {
    /// Total parameters of the cheapest model.
    pub params: f64,
    /// Its pre-training tokens: the `D` at which it reaches `loss`.
    pub train_tokens: f64,
    /// `train_tokens / (20·params)`: its training-token multiple over compute-optimal.
    pub chinchilla_multiple: f64,
    /// The loss held fixed (the input model's), nats per token.
    pub loss: f64,
    /// Its lifetime compute and cost, serving the same inference tokens.
    pub lifecycle: Lifecycle,
}

/// The model size and training tokens that reach the loss of `inp`'s model at the least
/// lifetime cost, serving `inp.inference_tokens`. The ratio of active to total parameters
/// (and of served to trained) is held, so a mixture of experts stays one; the loss model is
/// a dense fit and sees total parameters. `None` when the target loss is out of reach.
pub fn cost_optimal(inp: &LifecycleInputs, loss: &LossModel) -> Option<Optimum> {
    let target = loss.loss(inp.params, inp.train_tokens);
    let n_min = loss.min_params_for(target)?;
    let at = |n: f64| -> Option<(f64, LifecycleInputs)> {
        let d = loss.tokens_for(n, target)?;
        let scale = n / inp.params;
        let trial = LifecycleInputs {
            params: n,
            active_params: inp.active_params * scale,
            serve_active_params: inp.serve_active_params * scale,
            train_tokens: d,
            ..*inp
        };
        Some((lifecycle(&trial).total_usd, trial))
    };
    // A log-spaced scan from just above the smallest feasible model to 10^4 times it, then a
    // golden-section refinement around the best point (the cost is unimodal in log N: the
    // training term falls then rises, the inference term only rises).
    let (lo, hi) = (
        (n_min * 1.000_001).ln(),
        (n_min * 1e4).max(inp.params * 10.0).ln(),
    );
    let steps = 400;
    let mut best = (f64::INFINITY, lo);
    for i in 0..=steps {
        let x = lo + (hi - lo) * f64::from(i) / f64::from(steps);
        if let Some((c, _)) = at(x.exp()) {
            if c < best.0 {
                best = (c, x);
            }
        }
    }
    let h = (hi - lo) / f64::from(steps);
    let (mut a, mut b) = ((best.1 - h).max(lo), (best.1 + h).min(hi));
    let phi = (5f64.sqrt() - 1.0) / 2.0;
    for _ in 0..80 {
        let (x1, x2) = (b - phi * (b - a), a + phi * (b - a));
        let c1 = at(x1.exp()).map_or(f64::INFINITY, |r| r.0);
        let c2 = at(x2.exp()).map_or(f64::INFINITY, |r| r.0);
        if c1 <= c2 {
            b = x2;
        } else {
            a = x1;
        }
    }
    let n = ((a + b) / 2.0).exp();
    let (_, trial) = at(n)?;
    let life = lifecycle(&trial);
    Some(Optimum {
        params: n,
        train_tokens: trial.train_tokens,
        chinchilla_multiple: life.chinchilla_multiple,
        loss: target,
        lifecycle: life,
    })
}
