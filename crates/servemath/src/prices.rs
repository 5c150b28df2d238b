//! What a provider's price list reveals: its ratios (output/input, cached/uncached,
//! long-context tiers) beside the ratios the cost model predicts for a deployment named as the
//! provider's likely setup, with a plain-language reading of each.

use crate::{DeploymentRequest, Diagnostic, Invalid};
use anyhow::{anyhow, bail};
use servemath_cost::{Deployment, StepLoad};
use servemath_econ::{CostInputs, PriceList, ProviderPrice};
use servemath_report::{
    human, LayoutReport, LongContextCheck, ModelRatios, PriceRow, PricesReport,
};

/// Context lengths searched for the KV crossover, tokens.
const MAX_CONTEXT: f64 = 1e8;

/// What `prices` is asked.
#[derive(Debug, Clone)]
pub struct PricesRequest {
    /// The provider's likely setup. Without a tensor-parallel degree, when one sequence does
    /// not fit at TP1, the smallest degree that fits is used and said so.
    pub deployment: DeploymentRequest,
    /// The cost inputs of the deployment's hardware (GPU-hour price, mode).
    pub costs: CostInputs,
    /// The providers' prices to read (the built-in list or a user's file).
    pub prices: PriceList,
    /// Only entries whose provider or model contains this (case-insensitive).
    pub provider: Option<String>,
    /// Concurrent requests on the replica.
    pub batch: u64,
    /// Prompt tokens per request, at least 2.
    pub input: u64,
    /// Generated tokens per request, at least 1.
    pub output: u64,
    /// Share of the prompt found in the prompt cache, in (0, 1).
    pub cached_fraction: f64,
    /// Fraction of held GPU-hours doing useful work, in \[0.001, 1\].
    pub utilization: f64,
}

/// The price list beside the model's ratios, with notes on what was chosen for the caller.
pub fn prices(request: &PricesRequest) -> anyhow::Result<(PricesReport, Vec<Diagnostic>)> {
    let u = servemath_econ::check_utilization(request.utilization, "utilization")?;
    if !(request.cached_fraction > 0.0 && request.cached_fraction < 1.0) {
        return Err(Invalid(format!(
            "cached fraction = {}: must be in (0, 1)",
            request.cached_fraction
        ))
        .into());
    }
    if request.batch == 0 || request.output == 0 {
        return Err(Invalid("batch and output tokens must be at least 1".into()).into());
    }
    if request.input < 2 {
        return Err(Invalid(format!(
            "input tokens = {}: must be at least 2 (the cached-token ratio splits the prompt into a cached prefix and new tokens)",
            request.input
        ))
        .into());
    }
    let list = &request.prices;
    let prices: Vec<&ProviderPrice> = match &request.provider {
        Some(p) => list.matching(p),
        None => list.prices.iter().collect(),
    };
    if prices.is_empty() {
        let mut known: Vec<&str> = list.prices.iter().map(|p| p.provider.as_str()).collect();
        known.dedup();
        bail!(
            "provider `{}` matches no entry of {}; providers: {}",
            request.provider.as_deref().unwrap_or(""),
            list.file,
            known.join(", ")
        );
    }
    let mut diagnostics = Vec::new();
    let dep = deployment(request, &mut diagnostics)?;
    request.costs.check()?;
    let usd_per_gpu_hour = servemath_econ::gpu_hour_cost(&request.costs, u).total_usd;
    let model = model_ratios(request, &dep, usd_per_gpu_hour, &prices, &mut diagnostics);
    let report = PricesReport {
        file: list.file.clone(),
        prices: prices.iter().map(|p| PriceRow::new(p)).collect(),
        model,
    };
    Ok((report, diagnostics))
}

/// The named deployment; with no tensor-parallel degree given and no room for one sequence at
/// TP1, the smallest wider degree that fits in the scale-up domain (with a note). A degree
/// given is kept: if one sequence does not fit, the error names the smallest that would.
fn deployment(
    request: &PricesRequest,
    diagnostics: &mut Vec<Diagnostic>,
) -> anyhow::Result<Deployment> {
    let context = (request.input + request.output) as f64;
    let d = &request.deployment;
    let dep = d.deploy()?;
    if dep.max_batch(context) > 0 {
        return Ok(dep);
    }
    let given = d.tp;
    if let Some((tp, fitted)) = d.smallest_fitting_tp(context, given.unwrap_or(1)) {
        if let Some(g) = given {
            bail!(
                "{} does not fit one {} at context {} at TP{g}; TP{tp} would",
                d.model.name,
                d.hardware.id,
                human::int(context)
            );
        }
        diagnostics.push(Diagnostic::Note(format!(
            "{} does not fit one {} at context {}; priced at TP{tp}, the smallest \
             tensor-parallel degree that fits (give one to choose)",
            d.model.name,
            d.hardware.id,
            human::int(context)
        )));
        return Ok(fitted);
    }
    Err(anyhow!(
        "{} does not fit on {} at context {} with any tensor-parallel degree up to its scale-up domain of {}",
        d.model.name,
        d.hardware.id,
        human::int(context),
        d.hardware.scale_up_domain
    ))
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
    request: &PricesRequest,
    dep: &Deployment,
    usd_per_gpu_hour: f64,
    prices: &[&ProviderPrice],
    diagnostics: &mut Vec<Diagnostic>,
) -> ModelRatios {
    let u = request.utilization;
    let (input, output) = (request.input as f64, request.output as f64);
    let fit = dep.max_batch(input + output);
    let batch = request.batch.min(fit);
    if batch < request.batch {
        diagnostics.push(Diagnostic::Note(format!(
            "batch {} does not fit at context {}; using {batch}, the largest that does",
            request.batch,
            human::int(input + output)
        )));
    }
    let b = batch as f64;
    let gpus = f64::from(dep.gpus());
    let (prefill_s, decode_s) = per_token_s(dep, b, input, output);
    let t = servemath_econ::token_cost(usd_per_gpu_hour, gpus, prefill_s, decode_s, u);

    // A cached prompt token is not recomputed: what remains is reading its KV while the new
    // part of the prompt attends to it. Its cost is the extra prefill time a cached prefix adds
    // to the new tokens, per cached token.
    let cached = (request.cached_fraction * input)
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
        model: dep.model().name.clone(),
        hardware: dep.hardware().id.clone(),
        layout: human::layout(&LayoutReport::of(dep)),
        gpus: dep.gpus(),
        batch,
        input_tokens: request.input,
        output_tokens: request.output,
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
    m
}

fn range(v: &[f64]) -> String {
    let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if (hi - lo).abs() < 1e-9 {
        format!("{}x", human::num(lo))
    } else {
        format!("{}x to {}x", human::num(lo), human::num(hi))
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
        human::int((m.batch * m.input_tokens) as f64),
        human::num(m.output_over_input),
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
            human::percent(1.0 - m.cached_fraction),
            human::percent(m.cached_over_uncached),
            percent_range(&co)
        ));
    }
    match m.kv_crossover_tokens {
        Some(c) => {
            r.push(format!(
            "long context: at batch {}, a decode step reads more KV cache than weights once the \
             context passes {} tokens ({} for one sequence alone: the crossover falls as the \
             batch grows); beyond it an output token's cost grows with its context instead of \
             being set by the weights.",
            m.batch,
            human::int(c),
            m.kv_crossover_tokens_batch1
                .map_or("none".to_string(), |c1| format!("{} tokens", human::int(c1)))
        ))
        }
        None => r.push(format!(
            "long context: at batch {}, KV-cache reads never reach the weight reads below {} \
             tokens (sliding-window or compressed attention): a long-context price step is not \
             paying for KV reads here.",
            m.batch,
            human::count(MAX_CONTEXT)
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
                human::int(l.threshold_tokens),
                human::num(o),
                human::num(i),
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
                human::int(l.threshold_tokens)
            ),
        };
        let place = l
            .threshold_over_crossover
            .map(|x| format!(" ({}x the KV crossover)", human::num(x)))
            .unwrap_or_default();
        r.push(format!(
            "{} {} steps up above {} tokens{place}: the provider charges {}x for output and {}x \
             for input; {model}.",
            l.provider,
            l.model,
            human::int(l.threshold_tokens),
            human::num(l.provider_output_over_base),
            human::num(l.provider_input_over_base),
        ));
    }
    r
}

fn percent_range(v: &[f64]) -> String {
    let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if (hi - lo).abs() < 1e-12 {
        human::percent(lo)
    } else {
        format!("{} to {}", human::percent(lo), human::percent(hi))
    }
}
