//! The economics of serving: what a GPU-hour costs (rented, or owned with capital, financing,
//! power and facility), what a million input and output tokens cost at a throughput and a
//! utilization, provider price lists, and a model's lifecycle compute and cost.
//!
//! Pure: the crate reads no files and prints nothing. Its data (`data/costs.toml`,
//! `data/prices.toml`) is compiled in; user files reach it as `&str` or `toml::Table`.

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
pub use tokens::{token_cost, usd_per_mtok, TokenCost};

/// [`gpu_hour_cost`] after checking the utilization and that the mode's figures exist.
pub fn try_gpu_hour_cost(inputs: &CostInputs, utilization: f64) -> Result<GpuHourCost, EconError> {
    check_utilization(utilization, "utilization")?;
    inputs.check()?;
    Ok(gpu_hour_cost(inputs, utilization))
}

#[cfg(test)]
mod tests;
