//! The economics of serving: what a GPU-hour costs (rented, or owned with capital, financing,
//! power and facility), what a million input and output tokens cost at a throughput and a
//! utilization, provider price lists, and a model's lifecycle compute and cost.
//!
//! Pure: the crate reads no files and prints nothing. Its data (`data/costs.toml`,
//! `data/prices.toml`) is compiled in; user files reach it as `&str` or `toml::Table`.
//! `docs/economics.md` defines every figure and lists the defaults with their sources.
//!
//! # Example
//! ```
//! use servemath_econ::{token_cost, usd_per_mtok};
//!
//! // $2 per GPU-hour on 4 GPUs producing 1,000 tokens/s, busy all the time:
//! // 2 · 4 / 3600 = $0.002222 a second, over 1,000 tokens = $2.222e-6 a token, so
//! // $2.222 per million tokens.
//! let per_mtok = usd_per_mtok(2.0, 4.0, 1_000.0);
//! assert!((per_mtok - 20.0 / 9.0).abs() < 1e-9, "{per_mtok}");
//!
//! // The same deployment at 50 % utilization, prefilling an input token in 0.1 ms and
//! // decoding an output token in 1 ms of the whole deployment's time: $0.002222 / 0.5 =
//! // $0.004444 a busy second, so $0.444 per Mtok in and $4.444 per Mtok out, 10x apart.
//! let cost = token_cost(2.0, 4.0, 1e-4, 1e-3, 0.5);
//! assert!((cost.input_usd_per_mtok - 4.0 / 9.0).abs() < 1e-9);
//! assert!((cost.output_usd_per_mtok - 40.0 / 9.0).abs() < 1e-9);
//! assert!((cost.output_over_input - 10.0).abs() < 1e-9);
//! ```

#![warn(missing_docs)]

mod error;
mod gpu_hour;
mod inputs;
mod lifecycle;
mod prices;
mod tokens;

pub use error::EconError;
pub use gpu_hour::{
    annuity_per_year, gpu_hour_cost, scale_view, GpuHourCost, ScaleView, HOURS_PER_YEAR,
};
pub use inputs::{
    check_utilization, cost_inputs_for, costs_file_hardware_ids, CostInputs, InputDoc, Mode,
    BUILTIN_COSTS_FILE, INPUT_DOCS, MIN_UTILIZATION,
};
pub use lifecycle::*;
pub use prices::{LongContextTier, PriceList, ProviderPrice, BUILTIN_PRICES_FILE};
pub use tokens::{run_cost, token_cost, usd_per_mtok, RunCost, TokenCost};

/// [`gpu_hour_cost`] after checking the utilization and that the mode's figures exist.
pub fn try_gpu_hour_cost(inputs: &CostInputs, utilization: f64) -> Result<GpuHourCost, EconError> {
    check_utilization(utilization, "utilization")?;
    inputs.check()?;
    Ok(gpu_hour_cost(inputs, utilization))
}

#[cfg(test)]
mod tests;
