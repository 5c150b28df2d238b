//! The application layer's text values (`servemath`): durations and windows, demands, day
//! shapes, precisions, and a workload request assembled from them, as a web form or a Python
//! keyword would pass them. A value is refused with an error or accepted with what it
//! promises; nothing panics.

use servemath::fleet::{DayShape, Demand};
use servemath::simulate::{resolve_slo, resolve_workload, SloRequest, WorkloadRequest};
use servemath::units::{parse_duration_s, parse_positive_duration_s, parse_window};
use servemath_model::{MathPrecision, Precision};

/// Each line of the input read as every kind of value, then the first lines as a workload
/// request's fields (duration, input, output, arrivals, requests, concurrency, SLOs). Returns
/// how many readings accepted their value.
pub fn request_text(data: &[u8]) -> usize {
    let Ok(text) = std::str::from_utf8(data) else {
        return 0;
    };
    let mut accepted = 0;
    for line in text.lines().take(16) {
        if let Ok(s) = parse_duration_s(line) {
            accepted += 1;
            assert!(s.is_finite() && s >= 0.0, "{line:?} read as {s} s");
        }
        if let Ok(s) = parse_positive_duration_s(line) {
            assert!(s.is_finite() && s > 0.0, "{line:?} read as {s} s");
        }
        if let Ok((start, end)) = parse_window(line) {
            accepted += 1;
            assert!(
                start >= 0.0 && end > start,
                "{line:?} read as [{start}, {end})"
            );
        }
        if let Ok(d) = line.parse::<Demand>() {
            accepted += 1;
            let per_day = match d {
                Demand::TokensPerDay(v) | Demand::RequestsPerDay(v) => v,
            };
            assert!(
                per_day.is_finite() && per_day > 0.0,
                "{line:?} read as {d:?}"
            );
        }
        if let Ok(shape) = line.parse::<DayShape>() {
            accepted += 1;
            let sum: f64 = shape.hourly.iter().sum();
            assert!(
                shape.hourly.iter().all(|m| m.is_finite() && *m >= 0.0) && sum.is_finite(),
                "{line:?} read as {:?}",
                shape.hourly
            );
        }
        accepted += usize::from(line.parse::<MathPrecision>().is_ok());
        accepted += usize::from(line.parse::<Precision>().is_ok());
    }
    let mut fields = text.lines();
    let mut next = || fields.next().map(str::to_string).filter(|s| !s.is_empty());
    let number = |s: Option<String>| s.and_then(|s| s.trim().parse::<i64>().ok());
    let request = WorkloadRequest {
        duration: next(),
        input: next(),
        output: next(),
        arrivals: next(),
        requests: number(next()),
        concurrency: number(next()),
        ..WorkloadRequest::default()
    };
    let slo = SloRequest {
        ttft: next(),
        tpot: next(),
    };
    if let Ok(plan) = resolve_workload(&request, &servemath::Keys) {
        accepted += 1;
        let r = &plan.report;
        assert!(
            r.mean_input_tokens.is_finite() && r.mean_output_tokens.is_finite(),
            "{request:?} gave means {} and {}",
            r.mean_input_tokens,
            r.mean_output_tokens
        );
        if let Some(n) = plan.expected.requests {
            assert!(
                n <= servemath::simulate::MAX_SIM_REQUESTS || request.concurrency.is_some(),
                "{request:?} expects {n} requests"
            );
        }
    }
    if let Ok(Some((slo, _))) = resolve_slo(&slo, &servemath::Keys) {
        accepted += 1;
        assert!(slo.ttft_s > 0.0 && slo.tpot_s > 0.0, "{slo:?}");
    }
    accepted
}
