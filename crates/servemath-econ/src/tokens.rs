//! Dollars per million tokens from a GPU-hour price and a throughput, input and output apart.

/// Dollars per million tokens when `gpus` GPUs at `usd_per_gpu_hour` each produce
/// `tokens_per_s` together, busy all the time: price·gpus/3600 dollars a second over the
/// tokens of that second, times 10^6. Idle hours are not charged here: pass a busy-hour price
/// ([`crate::GpuHourCost::usd_per_busy_gpu_hour`]) to spread them over the tokens. Nothing is
/// checked; zero tokens/s gives infinity.
pub fn usd_per_mtok(usd_per_gpu_hour: f64, gpus: f64, tokens_per_s: f64) -> f64 {
    usd_per_gpu_hour * gpus / 3600.0 / tokens_per_s * 1e6
}

/// What an input and an output token cost, and their ratio.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TokenCost {
    /// Dollars per million input (prompt) tokens: their prefill time at the deployment's
    /// price per busy second.
    pub input_usd_per_mtok: f64,
    /// Dollars per million output (generated) tokens: their decode time at the deployment's
    /// price per busy second.
    pub output_usd_per_mtok: f64,
    /// Output cost over input cost (decode time per output token over prefill time per input
    /// token).
    pub output_over_input: f64,
}

/// Input and output $/Mtok of a deployment of `gpus` GPUs at `usd_per_gpu_hour` per held
/// GPU-hour, which spends `prefill_s_per_input_token` seconds of the whole deployment per
/// input token (TTFT / (batch · input length)) and `decode_s_per_output_token` per output
/// token (TPOT / batch), busy a fraction `utilization` of the time: the seconds a token takes,
/// at gpus·price/3600 dollars a second, divided by the utilization (idle hours are paid too).
///
/// Nothing is checked: the caller passes a utilization in \[0.001, 1\] (see
/// [`crate::check_utilization`]) and positive times; a zero prefill time makes the ratio
/// infinite.
pub fn token_cost(
    usd_per_gpu_hour: f64,
    gpus: f64,
    prefill_s_per_input_token: f64,
    decode_s_per_output_token: f64,
    utilization: f64,
) -> TokenCost {
    let usd_per_s = usd_per_gpu_hour * gpus / 3600.0 / utilization;
    TokenCost {
        input_usd_per_mtok: usd_per_s * prefill_s_per_input_token * 1e6,
        output_usd_per_mtok: usd_per_s * decode_s_per_output_token * 1e6,
        output_over_input: decode_s_per_output_token / prefill_s_per_input_token,
    }
}
