//! Fuzz harnesses for the simulator's input parsers: every trace reader (format detection
//! and each format forced), and the workload specs the command line takes as text (length
//! distributions, arrival processes, daily profiles). Shared by the `trace` and
//! `workload_spec` fuzz targets and servemath-sim's `tests/fuzz_regressions.rs`.

use servemath_sim::workload::trace::{self, read};
use servemath_sim::workload::{
    Arrivals, BucketReplay, DailyProfile, LengthDist, LengthSampler, Lengths, ReadOptions, Trace,
    TraceContents, TraceFormat, MAX_TOKENS,
};

const FILE: &str = "fuzz/trace";

/// Reads `data` as a trace with its format detected, then as each format in turn, recorded
/// and with buckets spread. An accepted timed trace starts at 0, is in arrival order with
/// finite times and has lengths in `[1, MAX_TOKENS]`. Returns how many readings accepted it.
pub fn traces(data: &[u8]) -> usize {
    let Ok(text) = std::str::from_utf8(data) else {
        return 0;
    };
    let _ = trace::detect_format(text, FILE);
    let mut accepted = 0;
    let formats = std::iter::once(None).chain(TraceFormat::ALL.map(Some));
    for format in formats {
        for buckets in [BucketReplay::AsRecorded, BucketReplay::Spread { seed: 7 }] {
            let options = ReadOptions { format, buckets };
            match read(text, FILE, &options) {
                Ok(TraceContents::Timed(t)) => check_timed(&t, buckets),
                Ok(TraceContents::Lengths(e)) => {
                    assert!(!e.is_empty(), "an empty lengths table");
                    for p in e.pairs() {
                        check_tokens(p.input_tokens, p.output_tokens);
                    }
                }
                Err(_) => continue,
            }
            accepted += 1;
        }
    }
    accepted
}

fn check_tokens(input: u32, output: u32) {
    assert!((1..=MAX_TOKENS).contains(&input), "input tokens {input}");
    assert!((1..=MAX_TOKENS).contains(&output), "output tokens {output}");
}

fn check_timed(t: &Trace, buckets: BucketReplay) {
    assert!(!t.is_empty(), "an empty timed trace");
    // As recorded, times are relative to the first row; spreading moves the first bucket too.
    let first = t.requests.first().map(|r| r.arrival_s);
    if buckets == BucketReplay::AsRecorded {
        assert_eq!(first, Some(0.0), "first arrival");
    } else {
        assert!(first.is_some_and(|s| s >= 0.0), "first arrival {first:?}");
    }
    for w in t.requests.windows(2) {
        let (a, b) = (w[0].arrival_s, w[1].arrival_s);
        assert!(
            b.is_finite() && a <= b,
            "arrivals out of order: {a} then {b}"
        );
    }
    for r in &t.requests {
        check_tokens(r.input_tokens, r.output_tokens);
    }
    let _ = (t.span_s(), t.lengths());
    if let Ok(scaled) = t.clone().scale_rate(3.0) {
        let _ = scaled.window(0.0, f64::INFINITY);
    }
}

/// Parses `data` as a length distribution, an arrival process and a daily profile. What is
/// accepted prints back to the same value and samples in range. Returns how many accepted it.
pub fn workload_spec(data: &[u8]) -> usize {
    let Ok(spec) = std::str::from_utf8(data) else {
        return 0;
    };
    let mut accepted = 0;
    if let Ok(d) = spec.parse::<LengthDist>() {
        accepted += 1;
        let back = d.to_string().parse::<LengthDist>();
        assert_eq!(
            back.as_ref().ok(),
            Some(&d),
            "{d} does not read back: {back:?}"
        );
        let lengths = Lengths::Independent {
            input: d.clone(),
            output: d,
        };
        if let Ok(mut s) = LengthSampler::new(lengths, 1) {
            for _ in 0..8 {
                let p = s.next_pair();
                check_tokens(p.input_tokens, p.output_tokens);
            }
        }
    }
    if let Ok(a) = spec.parse::<Arrivals>() {
        accepted += 1;
        let back = a.to_string().parse::<Arrivals>();
        assert_eq!(
            back.as_ref().ok(),
            Some(&a),
            "{a} does not read back: {back:?}"
        );
        let rate = a.mean_rate_per_s();
        assert!(rate.is_finite() && rate > 0.0, "mean rate {rate} of {a}");
        if let Ok(mut clock) = a.clock(1) {
            let mut last = 0.0;
            for _ in 0..8 {
                let t = clock.next_arrival_s();
                assert!(
                    t.is_finite() && t >= last,
                    "arrival {t} after {last} from {a}"
                );
                last = t;
            }
        }
    }
    if let Ok(p) = spec.parse::<DailyProfile>() {
        accepted += 1;
        let back = p.to_string().parse::<DailyProfile>();
        assert_eq!(
            back.as_ref().ok(),
            Some(&p),
            "{p} does not read back: {back:?}"
        );
        let _ = (
            p.to_operational_s(1e6),
            p.to_real_s(1e6),
            p.multiplier_at(1e9),
        );
    }
    accepted
}
