//! `servemath.prices/1`: a provider price list with its ratios, set beside the ratios the cost
//! model predicts for a deployment the user names as the provider's likely setup.

use crate::Schema;
use serde::Serialize;
use servemath_econ::ProviderPrice;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PricesReport {
    /// Where the price list came from.
    pub file: String,
    pub prices: Vec<PriceRow>,
    /// The cost model's ratios for the named deployment.
    pub model: ModelRatios,
}

impl Schema for PricesReport {
    const SCHEMA_VERSION: &'static str = "servemath.prices/1";
}

/// One price-list entry and its ratios.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PriceRow {
    #[serde(flatten)]
    pub price: ProviderPrice,
    pub output_over_input: f64,
    pub cached_over_uncached: Option<f64>,
    pub long_input_over_base: Option<f64>,
    pub long_output_over_base: Option<f64>,
}

impl PriceRow {
    pub fn new(p: &ProviderPrice) -> PriceRow {
        PriceRow {
            price: p.clone(),
            output_over_input: p.output_over_input(),
            cached_over_uncached: p.cached_over_uncached(),
            long_input_over_base: p.long_input_over_base(),
            long_output_over_base: p.long_output_over_base(),
        }
    }
}

/// The cost model's side: a deployment serving batches of identical requests.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelRatios {
    pub model: String,
    pub hardware: String,
    /// `TP4`, `TP8 · EP8` ...
    pub layout: String,
    pub gpus: u32,
    pub batch: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub usd_per_gpu_hour: f64,
    pub utilization: f64,
    pub input_usd_per_mtok: f64,
    pub output_usd_per_mtok: f64,
    /// Decode time per output token over prefill time per input token.
    pub output_over_input: f64,
    /// Share of the prompt taken as cached in the cached/uncached comparison.
    pub cached_fraction: f64,
    /// What a cached input token costs (its KV read while the rest is prefilled) over what a
    /// computed one costs.
    pub cached_over_uncached: f64,
    /// Context at which a decode step's KV-cache reads equal its weight reads at this batch;
    /// `null` when no context reaches it (sliding-window layers, or beyond 100 M tokens).
    pub kv_crossover_tokens: Option<f64>,
    /// The same crossover for one sequence alone (it scales as 1/batch).
    pub kv_crossover_tokens_batch1: Option<f64>,
    /// One row per long-context tier in the list.
    pub long_context: Vec<LongContextCheck>,
    /// Plain-language readings of each ratio.
    pub readings: Vec<String>,
}

/// A provider's long-context threshold, priced by the cost model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LongContextCheck {
    pub provider: String,
    pub model: String,
    pub threshold_tokens: f64,
    /// Largest batch (at most the base batch) whose KV fits at the threshold; 0: none.
    pub batch_at_threshold: u64,
    /// Cost model: decode cost per output token at the threshold over the base request's.
    pub model_output_over_base: Option<f64>,
    /// Cost model: prefill cost per input token at the threshold over the base request's.
    pub model_input_over_base: Option<f64>,
    pub provider_output_over_base: f64,
    pub provider_input_over_base: f64,
    /// The threshold over the KV crossover context.
    pub threshold_over_crossover: Option<f64>,
}
