//! `servemath.prices/1`: a provider price list with its ratios, set beside the ratios the cost
//! model predicts for a deployment the user names as the provider's likely setup.

use crate::Schema;
use serde::Serialize;
use servemath_econ::{LongContextTier, ProviderPrice};

/// A provider price list with its ratios, beside the cost model's ratios for a deployment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PricesReport {
    /// Where the price list came from.
    pub file: String,
    /// Every entry of the list, in file order.
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
    /// The entry as in its TOML; its fields are flattened into the row's JSON object.
    #[serde(flatten)]
    pub price: ProviderPriceReport,
    /// Output price over input price.
    pub output_over_input: f64,
    /// Cached-input price over uncached-input price; `null` without a cached price.
    pub cached_over_uncached: Option<f64>,
    /// Long-context input price over the base input price; `null` without a long-context tier.
    pub long_input_over_base: Option<f64>,
    /// Long-context output price over the base output price; `null` without a long-context
    /// tier.
    pub long_output_over_base: Option<f64>,
}

impl PriceRow {
    /// The entry `p` with its ratios computed.
    pub fn new(p: &ProviderPrice) -> PriceRow {
        PriceRow {
            price: p.into(),
            output_over_input: p.output_over_input(),
            cached_over_uncached: p.cached_over_uncached(),
            long_input_over_base: p.long_input_over_base(),
            long_output_over_base: p.long_output_over_base(),
        }
    }
}

/// A provider's published prices for one model, $ per million tokens (the JSON form of
/// `servemath_econ::ProviderPrice`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProviderPriceReport {
    /// The API provider (`Anthropic`, `OpenAI`, ...), as the file writes it.
    pub provider: String,
    /// The provider's model name, as the file writes it.
    pub model: String,
    /// The built-in servemath model closest to what is served; `null` when none is named.
    pub serves: Option<String>,
    /// $ per million uncached input tokens.
    pub input_usd_per_mtok: f64,
    /// $ per million output tokens.
    pub output_usd_per_mtok: f64,
    /// $ per million cached input tokens; `null` when the provider lists none.
    pub cached_input_usd_per_mtok: Option<f64>,
    /// The higher prices above a context threshold; `null` when there is no such tier.
    pub long_context: Option<LongContextTierReport>,
    /// Where the prices were read (a URL or a document).
    pub source: String,
    /// ISO date the price was read, or `unknown`.
    pub date: String,
    /// `false` where the figure could not be checked against the provider's own page.
    pub confirmed: bool,
    /// A caveat on the entry (what else is billed, what was not confirmed); `null` when none.
    pub note: Option<String>,
}

impl From<&ProviderPrice> for ProviderPriceReport {
    fn from(p: &ProviderPrice) -> Self {
        ProviderPriceReport {
            provider: p.provider.clone(),
            model: p.model.clone(),
            serves: p.serves.clone(),
            input_usd_per_mtok: p.input_usd_per_mtok,
            output_usd_per_mtok: p.output_usd_per_mtok,
            cached_input_usd_per_mtok: p.cached_input_usd_per_mtok,
            long_context: p.long_context.as_ref().map(LongContextTierReport::from),
            source: p.source.clone(),
            date: p.date.clone(),
            confirmed: p.confirmed,
            note: p.note.clone(),
        }
    }
}

/// Prices above a context threshold (the JSON form of `servemath_econ::LongContextTier`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LongContextTierReport {
    /// Prompt tokens above which these prices apply.
    pub threshold_tokens: f64,
    /// $ per million input tokens above the threshold.
    pub input_usd_per_mtok: f64,
    /// $ per million output tokens above the threshold.
    pub output_usd_per_mtok: f64,
}

impl From<&LongContextTier> for LongContextTierReport {
    fn from(l: &LongContextTier) -> Self {
        LongContextTierReport {
            threshold_tokens: l.threshold_tokens,
            input_usd_per_mtok: l.input_usd_per_mtok,
            output_usd_per_mtok: l.output_usd_per_mtok,
        }
    }
}

/// The cost model's side: a deployment serving batches of identical requests.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelRatios {
    /// The model's name.
    pub model: String,
    /// The hardware's catalog id.
    pub hardware: String,
    /// `TP4`, `TP8 · EP8` ...
    pub layout: String,
    /// GPUs in one replica.
    pub gpus: u32,
    /// Concurrent requests per replica.
    pub batch: u64,
    /// Prompt tokens of each request.
    pub input_tokens: u64,
    /// Generated tokens of each request.
    pub output_tokens: u64,
    /// Dollars per held GPU-hour.
    pub usd_per_gpu_hour: f64,
    /// Fraction of held hours doing useful work, in (0, 1].
    pub utilization: f64,
    /// Dollars per million prompt tokens, from prefill time per input token.
    pub input_usd_per_mtok: f64,
    /// Dollars per million output tokens, from decode time per output token.
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
    /// The provider whose tier this is.
    pub provider: String,
    /// The model as the provider lists it.
    pub model: String,
    /// Prompt length above which the long-context prices apply.
    pub threshold_tokens: f64,
    /// Largest batch (at most the base batch) whose KV fits at the threshold; 0: none.
    pub batch_at_threshold: u64,
    /// Cost model: decode cost per output token at the threshold over the base request's;
    /// `null` when nothing fits.
    pub model_output_over_base: Option<f64>,
    /// Cost model: prefill cost per input token at the threshold over the base request's;
    /// `null` when nothing fits.
    pub model_input_over_base: Option<f64>,
    /// The provider's long-context output price over its base output price.
    pub provider_output_over_base: f64,
    /// The provider's long-context input price over its base input price.
    pub provider_input_over_base: f64,
    /// The threshold over the KV crossover context; `null` without a crossover.
    pub threshold_over_crossover: Option<f64>,
}
