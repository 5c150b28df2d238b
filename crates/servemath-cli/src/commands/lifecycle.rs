//! `servemath lifecycle`: a model's lifetime compute and cost (pre-training `6·N·D`, RL,
//! inference `2·N_active·I`), the training-token multiple over Chinchilla at which they
//! balance, the cheapest model at the same quality, and seed claim 17's what-ifs.

use crate::args::{check_utilization, resolve_cost_inputs, CostFlags, Origins};
use crate::commands::write_json;
use clap::Args;
use servemath::LifecycleRequest;
use servemath_report::text::lifecycle::render;
use servemath_report::Versioned;
use std::io::Write;

/// A model's lifetime cost: pre-training, RL and inference; the training-token multiple over
/// Chinchilla (20 tokens per parameter) at which pre-training and inference cost the same; and
/// the model size and training tokens that minimise the total at the same quality.
///
/// Defaults reproduce seed claim 16: a dense 400 B model serving 2.4e15 tokens over its life,
/// with RL as large as pre-training, balances at about 100x Chinchilla. Numbers accept SI
/// suffixes: 8e12, 8T, 2.4P. Formulas and sources: docs/economics.md.
#[derive(Debug, Clone, Args)]
pub struct LifecycleArgs {
    /// Total parameters, billions.
    #[arg(long = "params-b", default_value_t = 400.0, value_name = "N")]
    pub params_b: f64,

    /// Parameters a token touches, billions (a mixture of experts' active ones). Default: all.
    #[arg(long = "active-b", value_name = "A")]
    pub active_b: Option<f64>,

    /// Pre-training tokens. Default: 20 per parameter (compute-optimal).
    #[arg(long = "train-tokens", value_parser = parse_quantity, value_name = "D", conflicts_with = "multiple")]
    pub train_tokens: Option<f64>,

    /// Pre-training tokens as a multiple of Chinchilla's 20 per parameter.
    #[arg(long, value_name = "M")]
    pub multiple: Option<f64>,

    /// RL compute as a fraction of pre-training FLOPs (1: as large as pre-training, claim
    /// 16's premise).
    #[arg(
        long = "rl-fraction",
        default_value_t = 1.0,
        value_name = "F",
        conflicts_with = "rl_flops"
    )]
    pub rl_fraction: f64,

    /// RL compute in FLOPs, instead of a fraction.
    #[arg(long = "rl-flops", value_parser = parse_quantity, value_name = "FLOP")]
    pub rl_flops: Option<f64>,

    /// Lifetime tokens served (input and output). Default 2.4e15: an assumption of 400 T
    /// tokens a month for six months.
    #[arg(long = "inference-tokens", default_value = "2.4e15", value_parser = parse_quantity, value_name = "I")]
    pub inference_tokens: f64,

    /// Achieved fraction of peak in pre-training (Llama 3 405B: 38-43 % on H100s).
    #[arg(long = "train-mfu", default_value_t = 0.4, value_name = "F")]
    pub train_mfu: f64,

    /// Achieved fraction of peak in RL (generation makes it lower in practice).
    #[arg(long = "rl-mfu", default_value_t = 0.4, value_name = "F")]
    pub rl_mfu: f64,

    /// Achieved fraction of peak in serving (decode is memory-bound: often far below
    /// training's; equal by default so that the balance is a FLOP ratio).
    #[arg(long = "inference-mfu", default_value_t = 0.4, value_name = "F")]
    pub inference_mfu: f64,

    /// What-if (claim 17): a pruned model at this fraction of the size keeps the accuracy and
    /// serves the same tokens.
    #[arg(long, value_name = "FRACTION")]
    pub pruned: Option<f64>,

    /// What-if (claim 17): a sparse mixture of experts with this many active parameters
    /// (billions) matches the model's quality, trained and served.
    #[arg(long = "sparse-active-b", value_name = "A")]
    pub sparse_active_b: Option<f64>,

    /// Hardware the dollars are priced on (its bf16 dense peak and GPU-hour cost).
    #[arg(long = "hardware", default_value = "h100-sxm", value_name = "ID")]
    pub hardware: String,

    /// Fraction of held GPU-hours doing useful work, in (0, 1].
    #[arg(long, default_value_t = 0.7, value_name = "U")]
    pub utilization: f64,

    #[command(flatten)]
    pub costs: CostFlags,

    /// Print the versioned JSON report (`servemath.lifecycle/1`) instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// A number with an optional SI suffix: `8e12`, `8T`, `2.4P`, `15_000`.
pub(crate) fn parse_quantity(s: &str) -> Result<f64, String> {
    let t = s.trim().replace('_', "");
    let (num, mult) = match t.chars().last() {
        Some('K' | 'k') => (&t[..t.len() - 1], 1e3),
        Some('M') => (&t[..t.len() - 1], 1e6),
        Some('B' | 'G') => (&t[..t.len() - 1], 1e9),
        Some('T') => (&t[..t.len() - 1], 1e12),
        Some('P') => (&t[..t.len() - 1], 1e15),
        _ => (t.as_str(), 1.0),
    };
    let v: f64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a number (e.g. 8e12 or 8T)"))?;
    let v = v * mult;
    if !(v.is_finite() && v > 0.0) {
        return Err(format!("`{s}` must be a positive number"));
    }
    Ok(v)
}

pub fn run(args: &LifecycleArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    check_utilization(args.utilization)?;
    let catalog = crate::common::load_catalog(&[])?;
    let hardware = catalog.get(&args.hardware)?.clone();
    let costs = resolve_cost_inputs(&args.costs, &hardware)?;
    let report = servemath::lifecycle(
        &LifecycleRequest {
            params: args.params_b * 1e9,
            active_params: args.active_b.map(|a| a * 1e9),
            train_tokens: args.train_tokens,
            multiple: args.multiple,
            rl_flops: args.rl_flops,
            rl_fraction: args.rl_fraction,
            inference_tokens: args.inference_tokens,
            train_mfu: args.train_mfu,
            rl_mfu: args.rl_mfu,
            inference_mfu: args.inference_mfu,
            pruned: args.pruned,
            sparse_active_params: args.sparse_active_b.map(|a| a * 1e9),
            hardware,
            costs,
            utilization: args.utilization,
        },
        &Origins::default(),
    )?;
    if args.json {
        return write_json(out, &Versioned::new(report));
    }
    write!(out, "{}", render(&report))?;
    Ok(())
}
