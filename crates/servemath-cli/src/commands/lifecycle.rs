//! `servemath lifecycle`: a model's lifetime compute and cost (pre-training `6·N·D`, RL,
//! inference `2·N_active·I`), the training-token multiple over Chinchilla at which they
//! balance, the cheapest model at the same quality, and seed claim 17's what-ifs.

use crate::args::{check_utilization, resolve_cost_inputs, CostFlags, Origins};
use crate::commands::write_json;
use crate::common::fmt::money;
use crate::common::fmt::{self, Align, Table};
use clap::Args;
use servemath::LifecycleRequest;
use servemath_report::{LifecycleReport, Versioned};
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

fn sci(v: f64) -> String {
    format!("{v:.2e}").replace("e", "e+").replace("e+-", "e-")
}

fn tokens(v: f64) -> String {
    if v >= 1e15 {
        format!("{} tokens", sci(v))
    } else {
        format!("{} tokens", fmt::count(v))
    }
}

/// The phases, the balance point, how it moves, the optimum and the what-ifs.
pub fn render(r: &LifecycleReport) -> String {
    let i = &r.inputs;
    let l = &r.lifecycle;
    let mut s = String::new();
    s.push_str(&format!(
        "model        {} parameters ({} active), trained on {} = {} per parameter = {}x Chinchilla\n",
        fmt::count(i.params),
        fmt::count(i.active_params),
        tokens(i.train_tokens),
        fmt::num(l.tokens_per_param),
        fmt::num(l.chinchilla_multiple)
    ));
    s.push_str(&format!(
        "serving      {} over its life\n",
        tokens(i.inference_tokens)
    ));
    s.push_str(&format!(
        "cost basis   {} ({}): {} per busy GPU-hour, {} bf16 dense peak\n\n",
        r.hardware,
        r.mode,
        money(i.usd_per_gpu_hour),
        fmt::flop_per_s(i.peak_flop_per_s)
    ));
    let mut t = Table::new(&[
        ("phase", Align::Left),
        ("FLOP", Align::Right),
        ("MFU", Align::Right),
        ("GPU-hours", Align::Right),
        ("cost", Align::Right),
        ("share", Align::Right),
    ]);
    for (name, p, mfu) in [
        ("pre-training 6·N·D", &l.pretrain, i.train_mfu),
        ("RL", &l.rl, i.rl_mfu),
        ("inference 2·N·I", &l.inference, i.inference_mfu),
    ] {
        t.row(vec![
            name.into(),
            sci(p.flop),
            fmt::percent(mfu),
            fmt::count(p.gpu_hours),
            money(p.usd),
            fmt::percent(p.usd / l.total_usd),
        ]);
    }
    t.row(vec![
        "total".into(),
        sci(l.pretrain.flop + l.rl.flop + l.inference.flop),
        String::new(),
        fmt::count(l.pretrain.gpu_hours + l.rl.gpu_hours + l.inference.gpu_hours),
        money(l.total_usd),
        String::new(),
    ]);
    s.push_str(&t.render(0));
    let rl = if (r.rl_over_pretrain - 1.0).abs() < 1e-9 {
        "RL costs what pre-training costs (--rl-fraction 1), so there all three phases are equal"
            .to_string()
    } else {
        format!(
            "RL costs {}x pre-training, so the three are equal only with RL as large as \
             pre-training (--rl-fraction 1 at equal MFU)",
            fmt::num(r.rl_over_pretrain)
        )
    };
    s.push_str(&format!(
        "\nbalance      pre-training costs what inference costs at D = {} = {}x Chinchilla\n\
         \x20            (6·N·D/mfu_train = 2·N·I/mfu_inference, so D = I·mfu_train/(3·mfu_inference));\n\
         \x20            {rl}\n",
        tokens(l.equal_train_tokens),
        fmt::num(l.equal_multiple),
    ));
    s.push_str("how it moves lifetime tokens served -> balancing multiple: ");
    let moves: Vec<String> = r
        .sensitivity
        .iter()
        .map(|x| {
            format!(
                "{} -> {}x",
                sci(x.inference_tokens),
                fmt::num(x.equal_multiple)
            )
        })
        .collect();
    s.push_str(&moves.join(", "));
    s.push_str(
        "\n             (it scales with I/N and with mfu_train/mfu_inference; try --inference-mfu 0.1)\n",
    );
    match &r.optimum {
        Some(o) => s.push_str(&format!(
            "optimum      at the same loss ({:.3} nats/token under Hoffmann et al. 2022's fit), the cheapest\n\
             \x20            lifetime is N = {}, D = {} ({}x Chinchilla): {} ({} of this model's)\n",
            o.loss,
            fmt::count(o.params),
            tokens(o.train_tokens),
            fmt::num(o.chinchilla_multiple),
            money(o.lifecycle.total_usd),
            fmt::percent(o.lifecycle.total_usd / l.total_usd)
        )),
        None => s.push_str("optimum      none: the loss model cannot reach this model's loss\n"),
    }
    for w in &r.what_ifs {
        s.push_str(&format!(
            "what if      {}: inference {} ({}x cheaper), lifetime {} ({}x cheaper), balance at {}x\n",
            w.description,
            money(w.lifecycle.inference.usd),
            fmt::num(w.inference_saving),
            money(w.lifecycle.total_usd),
            fmt::num(w.total_saving),
            fmt::num(w.lifecycle.equal_multiple)
        ));
    }
    s.push_str("formulas, the loss model and sources: docs/economics.md\n");
    s
}
