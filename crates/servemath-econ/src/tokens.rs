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

/// What a finished run cost and what each token cost: held GPU time charged to the tokens it
/// produced, split between input and output by the share of busy time spent in prefill.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunCost {
    /// `usd_per_gpu_hour · gpus · duration_s / 3600`.
    pub total_usd: f64,
    /// The prefill share of `total_usd` over the input tokens, per million; NaN without any.
    pub input_usd_per_mtok: f64,
    /// The rest over the output tokens, per million; NaN without any.
    pub output_usd_per_mtok: f64,
    /// `total_usd` over all tokens, per million; NaN without any.
    pub blended_usd_per_mtok: f64,
    /// `output_usd_per_mtok / input_usd_per_mtok`.
    pub output_over_input: f64,
}

/// The one rule charging a run's GPU time to its tokens: `gpus` GPUs held for `duration_s`
/// seconds at `usd_per_gpu_hour` each (idle time included: it was held), the share
/// `prefill_time_share` of the money to the `input_tokens`, the rest to the `output_tokens`.
pub fn run_cost(
    usd_per_gpu_hour: f64,
    gpus: f64,
    duration_s: f64,
    prefill_time_share: f64,
    input_tokens: f64,
    output_tokens: f64,
) -> RunCost {
    let total_usd = usd_per_gpu_hour * gpus * duration_s / 3600.0;
    let per_mtok = |usd: f64, tokens: f64| {
        if tokens > 0.0 {
            usd / tokens * 1e6
        } else {
            f64::NAN
        }
    };
    let input = per_mtok(total_usd * prefill_time_share, input_tokens);
    let output = per_mtok(total_usd * (1.0 - prefill_time_share), output_tokens);
    RunCost {
        total_usd,
        input_usd_per_mtok: input,
        output_usd_per_mtok: output,
        blended_usd_per_mtok: per_mtok(total_usd, input_tokens + output_tokens),
        output_over_input: output / input,
    }
}

#[cfg(test)]
mod run_cost_tests {
    use super::*;

    #[test]
    fn a_run_is_charged_by_its_prefill_time_share() {
        // 4 GPUs for one hour at $2 = $8. A quarter of busy time is prefill: $2 on 1,000,000
        // prompt tokens = $2/Mtok in; $6 on 100,000 output tokens = $60/Mtok out (30x);
        // $8 on 1.1 M tokens = $7.27/Mtok blended.
        let c = run_cost(2.0, 4.0, 3600.0, 0.25, 1e6, 1e5);
        assert!((c.total_usd - 8.0).abs() < 1e-9);
        assert!((c.input_usd_per_mtok - 2.0).abs() < 1e-9);
        assert!((c.output_usd_per_mtok - 60.0).abs() < 1e-9);
        assert!((c.output_over_input - 30.0).abs() < 1e-9);
        assert!((c.blended_usd_per_mtok - 8.0 / 1.1).abs() < 1e-9);
        // No tokens: no per-token price, not a division by zero passed off as a figure.
        assert!(run_cost(2.0, 4.0, 3600.0, 0.25, 0.0, 0.0)
            .blended_usd_per_mtok
            .is_nan());
    }
}
