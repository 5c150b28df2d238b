//! `servemath prices`: a provider price list and its ratios (output/input, cached/uncached,
//! long-context tiers), set beside the ratios the cost model predicts for a deployment the user
//! names as the provider's likely setup, with a plain-language reading of each.

use crate::args::{check_utilization, resolve_cost_inputs, CostFlags};
use crate::commands::write_json;
use crate::common::fmt::{self, Align, Table};
use crate::common::fmt::{layout, money};
use crate::common::{self, DeployArgs};
use anyhow::bail;
use clap::Args;
use servemath_cost::{Deployment, StepLoad};
use servemath_econ::{PriceList, ProviderPrice};
use servemath_report::{
    LayoutReport, LongContextCheck, ModelRatios, PriceRow, PricesReport, Versioned,
};
use std::io::Write;
use std::path::PathBuf;

/// Compare a provider price list with what the cost model predicts for a deployment you name as
/// the provider's likely setup: output/input, cached/uncached, and where a long-context tier
/// would pay for its KV-cache reads.
///
/// The built-in list (crates/servemath-econ/data/prices.toml) has each price's source and
/// date. The model side serves `--batch` requests of `--input` + `--output` tokens; without
/// --tp, when one sequence does not fit at TP1, the smallest tensor-parallel degree that fits is
/// used and said so; a --tp given is kept.
#[derive(Debug, Clone, Args)]
pub struct PricesArgs {
    #[command(flatten)]
    pub deploy: DeployArgs,

    /// A TOML price list to read instead of the built-in one (same schema).
    #[arg(long = "prices", value_name = "FILE.toml")]
    pub prices_file: Option<PathBuf>,

    /// Only entries whose provider or model contains this (case-insensitive).
    #[arg(long, value_name = "NAME")]
    pub provider: Option<String>,

    /// Concurrent requests on the replica (a realistic serving batch).
    #[arg(long, default_value_t = 64, value_name = "B")]
    pub batch: u64,

    /// Prompt tokens per request.
    #[arg(long, default_value_t = 2048, value_name = "TOKENS")]
    pub input: u64,

    /// Generated tokens per request.
    #[arg(long, default_value_t = 256, value_name = "TOKENS")]
    pub output: u64,

    /// Share of the prompt found in the prompt cache, for the cached/uncached comparison.
    #[arg(long = "cached-fraction", default_value_t = 0.5, value_name = "F")]
    pub cached_fraction: f64,

    /// Fraction of held GPU-hours doing useful work, in (0, 1].
    #[arg(long, default_value_t = 0.7, value_name = "U")]
    pub utilization: f64,

    #[command(flatten)]
    pub costs: CostFlags,

    /// Print the versioned JSON report (`servemath.prices/1`) instead of the tables.
    #[arg(long)]
    pub json: bool,
}

/// Context lengths searched for the KV crossover, tokens.
const MAX_CONTEXT: f64 = 1e8;

pub fn run(args: &PricesArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let u = check_utilization(args.utilization)?;
    if !(args.cached_fraction > 0.0 && args.cached_fraction < 1.0) {
        return Err(crate::usage!(
            "--cached-fraction = {}: must be in (0, 1)",
            args.cached_fraction
        ));
    }
    if args.batch == 0 || args.output == 0 {
        return Err(crate::usage!("--batch and --output must be at least 1"));
    }
    if args.input < 2 {
        return Err(crate::usage!(
            "--input = {}: must be at least 2 (the cached-token ratio splits the prompt into a cached prefix and new tokens)",
            args.input
        ));
    }
    let list = load_prices(args.prices_file.as_ref())?;
    let prices: Vec<&ProviderPrice> = match &args.provider {
        Some(p) => list.matching(p),
        None => list.prices.iter().collect(),
    };
    if prices.is_empty() {
        let known: Vec<&str> = list.prices.iter().map(|p| p.provider.as_str()).collect();
        bail!(
            "--provider `{}` matches no entry of {}; providers: {}",
            args.provider.as_deref().unwrap_or(""),
            list.file,
            dedup(known).join(", ")
        );
    }
    let dep = deployment(args)?;
    let costs = resolve_cost_inputs(&args.costs, &dep.hardware)?;
    let usd_per_gpu_hour = servemath_econ::gpu_hour_cost(&costs, u).total_usd;
    let model = model_ratios(args, &dep, usd_per_gpu_hour, u, &prices)?;
    let report = PricesReport {
        file: list.file.clone(),
        prices: prices.iter().map(|p| PriceRow::new(p)).collect(),
        model,
    };
    if args.json {
        return write_json(out, &Versioned::new(report));
    }
    write!(out, "{}", render(&report))?;
    Ok(())
}

fn dedup(mut v: Vec<&str>) -> Vec<&str> {
    v.dedup();
    v
}

fn load_prices(file: Option<&PathBuf>) -> anyhow::Result<PriceList> {
    Ok(match file {
        Some(f) => {
            let text = crate::common::read_input(f, "price list")?;
            PriceList::parse(&text, &f.display().to_string())?
        }
        None => PriceList::builtin()?,
    })
}

/// The named deployment; without --tp and no room for one sequence at TP1, the smallest wider
/// TP that fits in the scale-up domain (said on stderr). A --tp given is kept: if one sequence
/// does not fit, the error names the smallest that would.
fn deployment(args: &PricesArgs) -> anyhow::Result<Deployment> {
    let context = (args.input + args.output) as f64;
    let dep = common::build_deployment(&args.deploy)?;
    if dep.max_batch(context) > 0 {
        return Ok(dep);
    }
    let given = args.deploy.tp;
    if let Some((tp, d)) = common::smallest_fitting_tp(&args.deploy, context, given.unwrap_or(1))? {
        if let Some(g) = given {
            bail!(
                "{} does not fit one {} at context {} at --tp {g}; --tp {tp} would",
                dep.model.name,
                dep.hardware.id,
                fmt::int(context)
            );
        }
        crate::note(&format!(
            "note: {} does not fit one {} at context {}; priced at --tp {tp}, the smallest \
             that fits (pass --tp to choose)",
            dep.model.name,
            dep.hardware.id,
            fmt::int(context)
        ));
        return Ok(d);
    }
    let domain = dep.hardware.scale_up_domain;
    bail!(
        "{} does not fit on {} at context {} with any --tp up to its scale-up domain of {}",
        dep.model.name,
        dep.hardware.id,
        fmt::int(context),
        domain
    )
}

/// Prefill seconds of the replica per input token, and decode seconds per output token, for
/// `batch` requests of `input` + `output` tokens.
fn per_token_s(dep: &Deployment, batch: f64, input: f64, output: f64) -> (f64, f64) {
    let e = dep.estimate(batch, input, output);
    (e.ttft_s / (batch * input), e.tpot_s / batch)
}

/// The smallest context at which a decode step's KV reads reach its weight reads at `batch`.
fn kv_crossover(dep: &Deployment, batch: f64) -> Option<f64> {
    let reads = |ctx: f64| {
        let s = dep.step(&StepLoad::decode(batch, ctx));
        s.bytes.kv_read - s.bytes.weights
    };
    if reads(MAX_CONTEXT) < 0.0 {
        return None;
    }
    let (mut lo, mut hi) = (1.0f64, MAX_CONTEXT);
    while hi / lo > 1.001 {
        let mid = (lo * hi).sqrt();
        if reads(mid) < 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Some(hi)
}

fn model_ratios(
    args: &PricesArgs,
    dep: &Deployment,
    usd_per_gpu_hour: f64,
    u: f64,
    prices: &[&ProviderPrice],
) -> anyhow::Result<ModelRatios> {
    let (input, output) = (args.input as f64, args.output as f64);
    let fit = dep.max_batch(input + output);
    let batch = args.batch.min(fit);
    if batch < args.batch {
        crate::note(&format!(
            "note: --batch {} does not fit at context {}; using {batch}, the largest that does",
            args.batch,
            fmt::int(input + output)
        ));
    }
    let b = batch as f64;
    let gpus = f64::from(dep.gpus());
    let (prefill_s, decode_s) = per_token_s(dep, b, input, output);
    let t = servemath_econ::token_cost(usd_per_gpu_hour, gpus, prefill_s, decode_s, u);

    // A cached prompt token is not recomputed: what remains is reading its KV while the new
    // part of the prompt attends to it. Its cost is the extra prefill time a cached prefix adds
    // to the new tokens, per cached token.
    let cached = (args.cached_fraction * input)
        .round()
        .clamp(1.0, input - 1.0);
    let fresh = input - cached;
    let with_prefix = dep.step(&StepLoad::prefill(b, fresh, cached)).time_s;
    let without = dep.step(&StepLoad::prefill(b, fresh, 0.0)).time_s;
    let cached_s = ((with_prefix - without) / (b * cached)).max(0.0);
    let cached_over_uncached = cached_s / prefill_s;

    let crossover = kv_crossover(dep, b);
    let long_context: Vec<LongContextCheck> = prices
        .iter()
        .filter_map(|p| p.long_context.as_ref().map(|l| (p, l)))
        .map(|(p, l)| {
            let threshold = l.threshold_tokens;
            let b_long = batch.min(dep.max_batch(threshold + output));
            let (model_in, model_out) = if b_long == 0 {
                (None, None)
            } else {
                let (pi, po) = per_token_s(dep, b_long as f64, threshold, output);
                (Some(pi / prefill_s), Some(po / decode_s))
            };
            LongContextCheck {
                provider: p.provider.clone(),
                model: p.model.clone(),
                threshold_tokens: threshold,
                batch_at_threshold: b_long,
                model_output_over_base: model_out,
                model_input_over_base: model_in,
                provider_output_over_base: l.output_usd_per_mtok / p.output_usd_per_mtok,
                provider_input_over_base: l.input_usd_per_mtok / p.input_usd_per_mtok,
                threshold_over_crossover: crossover.map(|c| threshold / c),
            }
        })
        .collect();
    let mut m = ModelRatios {
        model: dep.model.name.clone(),
        hardware: dep.hardware.id.clone(),
        layout: layout(&LayoutReport::of(dep)),
        gpus: dep.gpus(),
        batch,
        input_tokens: args.input,
        output_tokens: args.output,
        usd_per_gpu_hour,
        utilization: u,
        input_usd_per_mtok: t.input_usd_per_mtok,
        output_usd_per_mtok: t.output_usd_per_mtok,
        output_over_input: t.output_over_input,
        cached_fraction: cached / input,
        cached_over_uncached,
        kv_crossover_tokens: crossover,
        kv_crossover_tokens_batch1: kv_crossover(dep, 1.0),
        long_context,
        readings: Vec::new(),
    };
    m.readings = readings(&m, prices);
    Ok(m)
}

fn range(v: &[f64]) -> String {
    let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if (hi - lo).abs() < 1e-9 {
        format!("{}x", fmt::num(lo))
    } else {
        format!("{}x to {}x", fmt::num(lo), fmt::num(hi))
    }
}

/// A plain-language reading of each ratio.
fn readings(m: &ModelRatios, prices: &[&ProviderPrice]) -> Vec<String> {
    let mut r = Vec::new();
    let oi: Vec<f64> = prices.iter().map(|p| p.output_over_input()).collect();
    r.push(format!(
        "output/input: on {} ({}) at batch {}, a decode step reads the weights for {} tokens while \
         prefill shares one read among {} prompt tokens, so an output token costs {}x an input \
         token. The list charges {}. A provider charging more than the model's ratio earns its \
         margin on output; a flat price (1x) earns it on input.",
        m.hardware,
        m.layout,
        m.batch,
        m.batch,
        fmt::int((m.batch * m.input_tokens) as f64),
        fmt::num(m.output_over_input),
        range(&oi)
    ));
    let co: Vec<f64> = prices
        .iter()
        .filter_map(|p| p.cached_over_uncached())
        .collect();
    if !co.is_empty() {
        r.push(format!(
            "cached/uncached: a cached prompt token is not recomputed; reading its KV while the \
             other {} of the prompt is prefilled costs {} of a computed token. The list charges \
             {} of the input price: the difference pays for keeping the cache in memory between \
             requests, which a step model does not price.",
            fmt::percent(1.0 - m.cached_fraction),
            fmt::percent(m.cached_over_uncached),
            percent_range(&co)
        ));
    }
    match m.kv_crossover_tokens {
        Some(c) => r.push(format!(
            "long context: at batch {}, a decode step reads more KV cache than weights once the \
             context passes {} tokens ({} for one sequence alone: the crossover falls as the \
             batch grows); beyond it an output token's cost grows with its context instead of \
             being set by the weights.",
            m.batch,
            fmt::int(c),
            m.kv_crossover_tokens_batch1
                .map_or("none".to_string(), |c1| format!("{} tokens", fmt::int(c1)))
        )),
        None => r.push(format!(
            "long context: at batch {}, KV-cache reads never reach the weight reads below {} \
             tokens (sliding-window or compressed attention): a long-context price step is not \
             paying for KV reads here.",
            m.batch,
            fmt::count(MAX_CONTEXT)
        )),
    }
    for l in &m.long_context {
        let model = match (l.model_output_over_base, l.model_input_over_base) {
            (Some(o), Some(i)) => format!(
                "on this setup {} at {} tokens, and an output token costs {}x and an input token \
                 {}x the base request's, {}",
                if l.batch_at_threshold == 1 {
                    "one sequence fits".to_string()
                } else {
                    format!("{} sequences fit", l.batch_at_threshold)
                },
                fmt::int(l.threshold_tokens),
                fmt::num(o),
                fmt::num(i),
                if o > l.provider_output_over_base {
                    "more than the step charges: serving it at that price takes a setup that \
                     holds and reads KV far more cheaply (more HBM per sequence, compressed or \
                     fewer KV heads)"
                } else {
                    "within what the step charges"
                }
            ),
            _ => format!(
                "not one sequence of {} tokens fits this layout",
                fmt::int(l.threshold_tokens)
            ),
        };
        let place = l
            .threshold_over_crossover
            .map(|x| format!(" ({}x the KV crossover)", fmt::num(x)))
            .unwrap_or_default();
        r.push(format!(
            "{} {} steps up above {} tokens{place}: the provider charges {}x for output and {}x \
             for input; {model}.",
            l.provider,
            l.model,
            fmt::int(l.threshold_tokens),
            fmt::num(l.provider_output_over_base),
            fmt::num(l.provider_input_over_base),
        ));
    }
    r
}

fn percent_range(v: &[f64]) -> String {
    let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if (hi - lo).abs() < 1e-12 {
        fmt::percent(lo)
    } else {
        format!("{} to {}", fmt::percent(lo), fmt::percent(hi))
    }
}

/// `200K`, `1M`, or the plain count.
fn threshold(t: f64) -> String {
    if t >= 1e6 && t % 1e6 == 0.0 {
        format!("{}M", t / 1e6)
    } else if t >= 1e3 && t % 1e3 == 0.0 {
        format!("{}K", t / 1e3)
    } else {
        fmt::int(t)
    }
}

fn opt_money(v: Option<f64>) -> String {
    v.map_or("-".to_string(), money)
}

/// The price list with its ratios, then the model's side and the readings.
pub fn render(r: &PricesReport) -> String {
    let mut s = String::new();
    s.push_str(&format!("price list   {} ($ per million tokens)\n", r.file));
    let mut t = Table::new(&[
        ("provider", Align::Left),
        ("model", Align::Left),
        ("input", Align::Right),
        ("output", Align::Right),
        ("cached", Align::Right),
        ("out/in", Align::Right),
        ("cached/in", Align::Right),
        ("long tier", Align::Left),
        ("date", Align::Left),
        ("checked", Align::Left),
    ]);
    for p in &r.prices {
        let q = &p.price;
        t.row(vec![
            q.provider.clone(),
            q.model.clone(),
            money(q.input_usd_per_mtok),
            money(q.output_usd_per_mtok),
            opt_money(q.cached_input_usd_per_mtok),
            format!("{}x", fmt::num(p.output_over_input)),
            p.cached_over_uncached.map_or("-".to_string(), fmt::percent),
            q.long_context.as_ref().map_or("-".to_string(), |l| {
                format!(
                    "> {}: {} / {}",
                    threshold(l.threshold_tokens),
                    money(l.input_usd_per_mtok),
                    money(l.output_usd_per_mtok)
                )
            }),
            q.date.clone(),
            if q.confirmed { "yes" } else { "unconfirmed" }.to_string(),
        ]);
    }
    s.push_str(&t.render(0));
    let m = &r.model;
    s.push_str(&format!(
        "\ncost model   {} on {} ({} = {} GPUs), batch {} of {} + {} tokens, {}/GPU-hour at {} utilization\n",
        m.model,
        m.hardware,
        m.layout,
        m.gpus,
        m.batch,
        fmt::int(m.input_tokens as f64),
        fmt::int(m.output_tokens as f64),
        money(m.usd_per_gpu_hour),
        fmt::percent(m.utilization)
    ));
    s.push_str(&format!(
        "             input {} /Mtok, output {} /Mtok: output/input {}x; cached/uncached {}; KV crossover {}\n\n",
        money(m.input_usd_per_mtok),
        money(m.output_usd_per_mtok),
        fmt::num(m.output_over_input),
        fmt::percent(m.cached_over_uncached),
        m.kv_crossover_tokens
            .map_or("none below 100 M tokens".to_string(), |c| format!(
                "{} tokens",
                fmt::int(c)
            ))
    ));
    for line in &m.readings {
        s.push_str(&format!("- {line}\n"));
    }
    s.push_str("sources: --json or the price file; definitions: docs/economics.md\n");
    s
}
