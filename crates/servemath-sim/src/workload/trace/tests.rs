//! One test per file in `../shared/traces/` against its README's summary table, and the
//! malformed-input cases, each checking the whole error message.

#![expect(clippy::unwrap_used, reason = "tests")]

use std::collections::HashSet;

use super::*;

fn shipped(name: &str) -> String {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/traces/");
    let path = format!("{dir}{name}");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Linear-interpolation percentile (numpy's default), as the README computed them.
fn percentile(sorted: &[u32], p: f64) -> f64 {
    let pos = p / 100.0 * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    let frac = pos - lo as f64;
    f64::from(sorted[lo]) + frac * (f64::from(sorted[hi]) - f64::from(sorted[lo]))
}

/// The README's row for one file. Means and percentiles to the README's rounding (±0.05 and
/// ±0.5 token), maxima exact.
struct Expect {
    file: &'static str,
    format: TraceFormat,
    requests: usize,
    /// (span in s, mean rate (N−1)/span in req/s), for timed files.
    timing: Option<(f64, f64)>,
    /// (mean, p50, p90, p99, max) of input, then of output tokens.
    input: (f64, f64, f64, f64, u32),
    output: (f64, f64, f64, f64, u32),
}

const EXPECT: [Expect; 6] = [
    Expect {
        file: "AzureLLMInferenceTrace_code.csv",
        format: TraceFormat::Azure,
        requests: 8_819,
        timing: Some((3_435.9, 2.57)),
        input: (2047.8, 1469.0, 5188.0, 7436.0, 7437),
        output: (27.9, 13.0, 55.0, 251.0, 1899),
    },
    Expect {
        file: "AzureLLMInferenceTrace_conv.csv",
        format: TraceFormat::Azure,
        requests: 19_366,
        timing: Some((3_501.7, 5.53)),
        input: (1154.7, 1020.0, 2734.0, 4142.0, 14050),
        output: (211.1, 129.0, 424.0, 601.0, 1000),
    },
    Expect {
        file: "mooncake_conversation_trace.jsonl",
        format: TraceFormat::Mooncake,
        requests: 12_031,
        timing: Some((3_537.0, 3.40)),
        input: (12035.1, 6909.0, 27367.0, 85400.0, 126_195),
        output: (342.6, 350.0, 597.0, 1119.0, 2000),
    },
    Expect {
        file: "mooncake_synthetic_trace.jsonl",
        format: TraceFormat::Mooncake,
        requests: 3_993,
        timing: Some((1_022.0, 3.91)),
        input: (15325.5, 11587.0, 38611.0, 66456.0, 191_378),
        output: (149.1, 69.0, 389.0, 768.0, 893),
    },
    Expect {
        file: "sharegpt_8k_filtered_stats_llama2_tokenizer.csv",
        format: TraceFormat::Lengths,
        requests: 30_731,
        timing: None,
        input: (2340.0, 1730.0, 5696.0, 7434.0, 8141),
        output: (438.7, 415.0, 834.0, 998.0, 1024),
    },
    Expect {
        file: "arxiv_summarization_stats_llama2_tokenizer_filtered_v2.csv",
        format: TraceFormat::Lengths,
        requests: 28_257,
        timing: None,
        input: (2588.1, 2730.0, 3702.0, 3933.0, 4054),
        output: (291.4, 167.0, 372.0, 3271.0, 4056),
    },
];

fn check_lengths(name: &str, what: &str, mut xs: Vec<u32>, e: (f64, f64, f64, f64, u32)) {
    let mean = xs.iter().map(|&x| f64::from(x)).sum::<f64>() / xs.len() as f64;
    xs.sort_unstable();
    let got = (
        mean,
        percentile(&xs, 50.0),
        percentile(&xs, 90.0),
        percentile(&xs, 99.0),
        xs.last().copied().unwrap_or(0),
    );
    println!("{name} {what}: mean/p50/p90/p99/max {got:?}, README {e:?}");
    // Within the README's rounding (±0.05 token), which is tighter than 0.1 % on every row.
    assert!(
        (got.0 - e.0).abs() <= 0.05,
        "{name} {what} mean {} vs {}",
        got.0,
        e.0
    );
    assert!((got.0 / e.0 - 1.0).abs() < 1e-3);
    for (p, g, x) in [
        ("p50", got.1, e.1),
        ("p90", got.2, e.2),
        ("p99", got.3, e.3),
    ] {
        assert!((g - x).abs() <= 0.5, "{name} {what} {p} {g} vs {x}");
    }
    assert_eq!(got.4, e.4, "{name} {what} max");
}

fn check_file(e: &Expect) {
    let text = shipped(e.file);
    assert_eq!(
        detect_format(&text, e.file).unwrap(),
        e.format,
        "{}",
        e.file
    );
    let contents = read(&text, e.file, &ReadOptions::default()).unwrap();
    let pairs: Vec<LengthPair> = match (&contents, e.timing) {
        (TraceContents::Timed(trace), Some((span_s, rate))) => {
            assert_eq!(trace.len(), e.requests, "{}", e.file);
            let first = trace.requests[0].arrival_s;
            assert!(first.abs() < 1e-12, "{}: first arrival {first}", e.file);
            assert!(trace
                .requests
                .windows(2)
                .all(|w| w[0].arrival_s <= w[1].arrival_s));
            let got_rate = (trace.len() - 1) as f64 / trace.span_s();
            println!("{}: span {} s, rate {got_rate}", e.file, trace.span_s());
            assert!(
                (trace.span_s() - span_s).abs() <= 0.05,
                "{}: span {}",
                e.file,
                trace.span_s()
            );
            assert!(
                (got_rate - rate).abs() <= 0.005,
                "{}: rate {got_rate}",
                e.file
            );
            trace.lengths().unwrap().pairs().to_vec()
        }
        (TraceContents::Lengths(table), None) => {
            assert_eq!(table.len(), e.requests, "{}", e.file);
            table.pairs().to_vec()
        }
        (c, t) => panic!(
            "{}: timing {t:?} but read {:?}",
            e.file,
            std::mem::discriminant(c)
        ),
    };
    check_lengths(
        e.file,
        "input",
        pairs.iter().map(|p| p.input_tokens).collect(),
        e.input,
    );
    check_lengths(
        e.file,
        "output",
        pairs.iter().map(|p| p.output_tokens).collect(),
        e.output,
    );
}

#[test]
fn azure_code() {
    check_file(&EXPECT[0]);
}

#[test]
fn azure_conv() {
    check_file(&EXPECT[1]);
}

#[test]
fn mooncake_conversation() {
    check_file(&EXPECT[2]);
}

#[test]
fn mooncake_synthetic() {
    check_file(&EXPECT[3]);
}

#[test]
fn sharegpt() {
    check_file(&EXPECT[4]);
}

#[test]
fn arxiv() {
    check_file(&EXPECT[5]);
}

#[test]
fn every_shipped_file_is_checked() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/traces/");
    let mut on_disk: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "README.md")
        .collect();
    on_disk.sort();
    let mut tested: Vec<String> = EXPECT.iter().map(|e| e.file.to_string()).collect();
    tested.sort();
    assert_eq!(on_disk, tested);
}

#[test]
fn azure_exact_span() {
    // code: 18:17:03.9799600 -> 19:14:19.9280160 = 57 min 15.9480560 s = 3435.948056 s;
    // conv: 18:15:46.6805900 -> 19:14:08.4025270 = 58 min 21.7219370 s = 3501.721937 s.
    for (file, span) in [
        ("AzureLLMInferenceTrace_code.csv", 3435.948056),
        ("AzureLLMInferenceTrace_conv.csv", 3501.721937),
    ] {
        let trace = read_azure(&shipped(file), file).unwrap();
        assert!(
            (trace.span_s() - span).abs() < 1e-9,
            "{file}: {}",
            trace.span_s()
        );
    }
}

/// (distinct timestamps, share of block references repeating an earlier block, share of input
/// tokens an infinite prefix cache would hit: leading already-seen blocks × 512, capped at the
/// input length).
fn prefix_figures(trace: &Trace) -> (usize, f64, f64) {
    let mut stamps = HashSet::new();
    let mut seen = HashSet::new();
    let (mut refs, mut repeats, mut hit, mut input) = (0u64, 0u64, 0u64, 0u64);
    for r in &trace.requests {
        stamps.insert(r.arrival_s.to_bits());
        let prefix = r.prefix.as_ref().unwrap();
        assert_eq!(prefix.block_tokens, 512);
        assert_eq!(prefix.hashes.len(), r.input_tokens.div_ceil(512) as usize);
        refs += prefix.hashes.len() as u64;
        repeats += prefix.hashes.iter().filter(|h| seen.contains(*h)).count() as u64;
        let leading = prefix
            .hashes
            .iter()
            .take_while(|h| seen.contains(*h))
            .count() as u64;
        hit += (leading * 512).min(u64::from(r.input_tokens));
        input += u64::from(r.input_tokens);
        seen.extend(prefix.hashes.iter().copied());
    }
    (
        stamps.len(),
        repeats as f64 / refs as f64,
        hit as f64 / input as f64,
    )
}

#[test]
fn mooncake_prefix_hashes_match_the_readme() {
    // README §2: conversation 1,180 distinct timestamps, 36.6 % block reuse, 37.4 % hit;
    // synthetic 64.0 % reuse, 65.1 % hit. Within the README's rounding (0.05 points).
    for (file, stamps, reuse, hit) in [
        (
            "mooncake_conversation_trace.jsonl",
            Some(1180),
            0.366,
            0.374,
        ),
        ("mooncake_synthetic_trace.jsonl", None, 0.640, 0.651),
    ] {
        let trace = read_mooncake(&shipped(file), file).unwrap();
        let (n, got_reuse, got_hit) = prefix_figures(&trace);
        println!("{file}: {n} timestamps, reuse {got_reuse:.4}, hit {got_hit:.4}");
        if let Some(s) = stamps {
            assert_eq!(n, s, "{file}");
        }
        assert!(
            (got_reuse - reuse).abs() <= 0.0005,
            "{file}: reuse {got_reuse}"
        );
        assert!((got_hit - hit).abs() <= 0.0005, "{file}: hit {got_hit}");
    }
}

#[test]
fn spreading_the_conversation_buckets() {
    let file = "mooncake_conversation_trace.jsonl";
    let text = shipped(file);
    let recorded = read_mooncake(&text, file).unwrap();
    let options = ReadOptions {
        format: None,
        buckets: BucketReplay::Spread { seed: 1 },
    };
    let TraceContents::Timed(spread) = read(&text, file, &options).unwrap() else {
        panic!("not timed");
    };
    assert_eq!(spread.len(), recorded.len());
    let mut distinct = HashSet::new();
    for (s, r) in spread.requests.iter().zip(&recorded.requests) {
        // Same request, moved forward by less than one ~3 s bucket.
        assert_eq!(
            (s.input_tokens, s.output_tokens),
            (r.input_tokens, r.output_tokens)
        );
        assert_eq!(s.prefix, r.prefix);
        assert!(s.arrival_s >= r.arrival_s && s.arrival_s < r.arrival_s + 3.01);
        distinct.insert(s.arrival_s.to_bits());
    }
    assert!(spread
        .requests
        .windows(2)
        .all(|w| w[0].arrival_s <= w[1].arrival_s));
    assert_eq!(
        distinct.len(),
        spread.len(),
        "no two requests share a time any more"
    );
    // Reproducible.
    let again = recorded.clone().spread_buckets(1);
    assert_eq!(again, spread);
    assert_ne!(recorded.spread_buckets(2), spread);
}

#[test]
fn scale_and_window() {
    let file = "AzureLLMInferenceTrace_conv.csv";
    let trace = read_azure(&shipped(file), file).unwrap();
    let fast = trace.clone().scale_rate(2.0).unwrap();
    assert!((fast.span_s() - trace.span_s() / 2.0).abs() < 1e-9);
    let w = trace.clone().window(600.0, 1200.0).unwrap();
    assert!(w
        .requests
        .iter()
        .all(|r| (0.0..600.0).contains(&r.arrival_s)));
    let expect = trace
        .requests
        .iter()
        .filter(|r| (600.0..1200.0).contains(&r.arrival_s))
        .count();
    assert_eq!(w.len(), expect);
    // ~5.5 req/s over 600 s.
    assert!((2_500..4_500).contains(&w.len()), "{}", w.len());
    let all = trace.clone().window(0.0, f64::INFINITY).unwrap();
    assert_eq!(all, trace);

    let check = |r: Result<Trace, TraceError>, msg: &str| {
        assert_eq!(r.unwrap_err().to_string(), msg);
    };
    check(
        trace.clone().scale_rate(0.0),
        "rate scale = `0`: must be a positive, finite factor",
    );
    check(
        trace.clone().scale_rate(f64::NAN),
        "rate scale = `NaN`: must be a positive, finite factor",
    );
    check(
        trace.clone().window(-1.0, 5.0),
        "window start = `-1`: must be a finite number of seconds, at least 0",
    );
    check(
        trace.clone().window(5.0, 5.0),
        "window end = `5`: must be later than the start, 5 s",
    );
    let msg = trace.window(9000.0, 9999.0).unwrap_err().to_string();
    assert!(
        msg.starts_with(
            "window [9000 s, 9999 s) holds no arrival; the trace's arrivals lie in [0 s, 3501.72"
        ),
        "{msg}"
    );
}

/// Reads `text` as `file` and checks the whole error message.
fn check_err(file: &str, text: &str, expect: &str) {
    match read(text, file, &ReadOptions::default()) {
        Ok(c) => panic!("{file}: accepted {text:?} as {c:?}"),
        Err(e) => assert_eq!(e.to_string(), expect, "{text:?}"),
    }
}

const AZ: &str =
    "TIMESTAMP,ContextTokens,GeneratedTokens\r\n2023-11-16 18:17:03.9799600,4808,10\r\n";
const MC: &str =
    "{\"timestamp\": 0, \"input_length\": 600, \"output_length\": 5, \"hash_ids\": [0, 1]}\n";
const LN: &str =
    "num_prefill_tokens,num_decode_tokens,num_total_tokens,pd_ratio\n74,918,992,0.08\n";

#[test]
fn malformed_azure_rows() {
    let f = "az.csv";
    let row = |r: &str| format!("{AZ}{r}");
    check_err(
        f,
        &row("2023-11-16 18:17:04.0319600,31x0,8"),
        "az.csv: line 3, column 2 (`ContextTokens`) = `31x0`: not a number",
    );
    check_err(
        f,
        &row("2023-11-16 18:17:04.0319600,3180"),
        "az.csv: line 3, column 3 (`GeneratedTokens`): missing (row `2023-11-16 18:17:04.0319600,3180`)",
    );
    check_err(
        f,
        &row("2023-11-16 18:17:04.0319600,3180,"),
        "az.csv: line 3, column 3 (`GeneratedTokens`): missing (row `2023-11-16 18:17:04.0319600,3180,`)",
    );
    check_err(
        f,
        &row("2023-11-16 18:17:04.0319600,3180,-8"),
        "az.csv: line 3, column 3 (`GeneratedTokens`) = `-8`: must be positive",
    );
    check_err(
        f,
        &row("2023-11-16 18:17:04.0319600,0,8"),
        "az.csv: line 3, column 2 (`ContextTokens`) = `0`: must be at least 1 token",
    );
    check_err(
        f,
        &row("2023-11-16 18:17:04.0319600,3180.5,8"),
        "az.csv: line 3, column 2 (`ContextTokens`) = `3180.5`: must be a whole number of tokens",
    );
    check_err(
        f,
        &row("2023-11-16 18:17:04.0319600,3180,8,9"),
        "az.csv: line 3: 4 fields where the header has 3 (row `2023-11-16 18:17:04.0319600,3180,8,9`)",
    );
    check_err(
        f,
        &row("2023-11-31 18:17:04.0319600,3180,8"),
        "az.csv: line 3, column 1 (`TIMESTAMP`) = `2023-11-31 18:17:04.0319600`: no such date 2023-11-31",
    );
    check_err(
        f,
        &row("16/11/2023 18:17,3180,8"),
        "az.csv: line 3, column 1 (`TIMESTAMP`) = `16/11/2023 18:17`: expected a date-time like 2023-11-16 18:17:03.9799600 (YYYY-MM-DD HH:MM:SS[.fraction][Z|±HH:MM])",
    );
    check_err(
        f,
        &row("2023-11-16 18:17:03.0000000,3180,8"),
        "az.csv: line 3, column 1 (`TIMESTAMP`) = `2023-11-16 18:17:03.0000000`: earlier than the previous row's `2023-11-16 18:17:03.9799600`; the trace must be sorted by time",
    );
    check_err(
        f,
        &row("\r\n2023-11-16 18:17:05,1,1"),
        "az.csv: line 3: empty line",
    );
    check_err(
        f,
        "TIMESTAMP,Context,GeneratedTokens,ContextTokens\n",
        "az.csv: no requests in the file",
    );
    check_err(
        f,
        "TIME,ContextTokens,GeneratedTokens\n2023-11-16 18:17:03,1,1\n",
        "az.csv: line 1: the header has no `TIMESTAMP` column (header: `TIME,ContextTokens,GeneratedTokens`)",
    );
    // A final newline (or none, as shipped) and extra columns are fine.
    let ok = "TIMESTAMP,NumImages,ContextTokens,GeneratedTokens\n2023-11-16 18:17:03,2,7,9\n\n";
    let t = read_azure(ok, f).unwrap();
    assert_eq!(t.requests, vec![Request::new(0.0, 7, 9)]);
}

#[test]
fn malformed_mooncake_rows() {
    let f = "mc.jsonl";
    let row = |r: &str| format!("{MC}{r}");
    check_err(
        f,
        &row("{\"timestamp\": 3000, \"input_length\": 6758, \"output_len"),
        "mc.jsonl: line 2, column 53: malformed json: EOF while parsing a string (row `{\"timestamp\": 3000, \"input_length\": 6758, \"output_len`)",
    );
    check_err(
        f,
        &row("{\"timestamp\": 3000, \"input_length\": 6758, \"output_length\": 5"),
        "mc.jsonl: line 2, column 60: malformed json: EOF while parsing an object (row `{\"timestamp\": 3000, \"input_length\": 6758, \"output_length\": 5`)",
    );
    check_err(
        f,
        &row("{\"timestamp\": 3000, \"input_length\": -5, \"output_length\": 5}"),
        "mc.jsonl: line 2, field `input_length` = `-5`: must be positive",
    );
    check_err(
        f,
        &row("{\"timestamp\": 3000, \"input_length\": \"12\", \"output_length\": 5}"),
        "mc.jsonl: line 2, field `input_length` = `\"12\"`: expected a whole number of tokens",
    );
    check_err(
        f,
        &row("{\"timestamp\": 3000, \"input_length\": 12, \"output_length\": 0}"),
        "mc.jsonl: line 2, field `output_length` = `0`: must be at least 1 token",
    );
    check_err(
        f,
        &row("{\"timestamp\": 3000, \"input_length\": 12}"),
        "mc.jsonl: line 2, field `output_length`: missing (row `{\"timestamp\": 3000, \"input_length\": 12}`)",
    );
    check_err(
        f,
        &row("{\"timestamp\": -1, \"input_length\": 12, \"output_length\": 1}"),
        "mc.jsonl: line 2, field `timestamp` = `-1`: must not be negative",
    );
    check_err(
        f,
        &format!("{{\"timestamp\": 5, \"input_length\": 1, \"output_length\": 1}}\n{MC}"),
        "mc.jsonl: line 2, field `timestamp` = `0`: earlier than the previous row's `5`; the trace must be sorted by time",
    );
    check_err(
        f,
        &row("{\"timestamp\": 1, \"input_length\": 513, \"output_length\": 1, \"hash_ids\": [1]}"),
        "mc.jsonl: line 2, field `hash_ids` = `1 hashes`: input_length 513 needs ceil(513/512) = 2 blocks",
    );
    check_err(
        f,
        &row("{\"timestamp\": 1, \"input_length\": 12, \"output_length\": 1, \"hash_ids\": [-4]}"),
        "mc.jsonl: line 2, field `hash_ids[0]` = `-4`: expected a non-negative integer hash",
    );
    check_err(
        f,
        &row("[1, 2]"),
        "mc.jsonl: line 2, row = `[1,2]`: expected a json object",
    );
    check_err(f, &row("\n{}"), "mc.jsonl: line 2: empty line");
    // Without hashes a row is still a request; unknown keys are ignored.
    let t = read_mooncake(
        "{\"timestamp\": 1500, \"input_length\": 3, \"output_length\": 4, \"turn\": 2}",
        f,
    )
    .unwrap();
    assert_eq!(t.requests, vec![Request::new(0.0, 3, 4)]);
}

#[test]
fn malformed_lengths_rows() {
    let f = "len.csv";
    let row = |r: &str| format!("{LN}{r}");
    check_err(
        f,
        &row("290,9o5,1195,0.32"),
        "len.csv: line 3, column 2 (`num_decode_tokens`) = `9o5`: not a number",
    );
    check_err(
        f,
        &row("290,-905,1195,0.32"),
        "len.csv: line 3, column 2 (`num_decode_tokens`) = `-905`: must be positive",
    );
    check_err(
        f,
        &row("290,905"),
        "len.csv: line 3, column 3 (`num_total_tokens`): missing (row `290,905`)",
    );
    check_err(
        f,
        &row("2000001,905,0,0"),
        "len.csv: line 3, column 1 (`num_prefill_tokens`) = `2000001`: more than 1000000 tokens",
    );
}

#[test]
fn format_detection_and_choice() {
    check_err(
        "x.txt",
        "time,prompt,response\n1,2,3\n",
        "x.txt: line 1: cannot tell the trace format from `time,prompt,response`; expected an azure csv header (TIMESTAMP,ContextTokens,GeneratedTokens), a lengths csv header ([arrived_at,]num_prefill_tokens,num_decode_tokens,...) or a mooncake json object",
    );
    check_err("x.txt", "", "x.txt: no requests in the file");
    check_err("x.txt", "\r\n", "x.txt: no requests in the file");
    assert_eq!(detect_format(AZ, "a").unwrap(), TraceFormat::Azure);
    assert_eq!(detect_format(MC, "m").unwrap(), TraceFormat::Mooncake);
    assert_eq!(detect_format(LN, "l").unwrap(), TraceFormat::Lengths);
    assert_eq!(
        detect_format(&format!("\u{feff}{LN}"), "l").unwrap(),
        TraceFormat::Lengths
    );
    // An explicit format reads the file as told, and fails as that format would.
    let options = ReadOptions {
        format: Some(TraceFormat::Mooncake),
        ..ReadOptions::default()
    };
    let e = read(AZ, "a.csv", &options).unwrap_err().to_string();
    assert!(
        e.starts_with("a.csv: line 1, column 1: malformed json"),
        "{e}"
    );
    assert_eq!(
        "Mooncake".parse::<TraceFormat>().unwrap(),
        TraceFormat::Mooncake
    );
    assert_eq!(
        "csv".parse::<TraceFormat>().unwrap_err().to_string(),
        "trace format = `csv`: expected azure, mooncake, lengths or vidur"
    );
}

#[test]
fn vidur_timed_lengths() {
    // The head of vidur's splitwise_conv.csv: seconds from the first request.
    let f = "splitwise_conv.csv";
    let text = "arrived_at,num_prefill_tokens,num_decode_tokens\n0.0,374,44\n4.314579,396,109\n4.541877,879,55\n";
    assert_eq!(detect_format(text, f).unwrap(), TraceFormat::Vidur);
    let TraceContents::Timed(t) = read(text, f, &ReadOptions::default()).unwrap() else {
        panic!("not timed");
    };
    assert_eq!(t.len(), 3);
    assert_eq!(t.requests[2], Request::new(4.541877, 879, 55));
    // Read as a lengths table when asked.
    assert_eq!(read_lengths(text, f).unwrap().len(), 3);
    let row = |r: &str| format!("arrived_at,num_prefill_tokens,num_decode_tokens\n1.5,1,1\n{r}");
    check_err(
        f,
        &row("-2,1,1"),
        "splitwise_conv.csv: line 3, column 1 (`arrived_at`) = `-2`: must not be negative",
    );
    check_err(
        f,
        &row("1.0,1,1"),
        "splitwise_conv.csv: line 3, column 1 (`arrived_at`) = `1.0`: earlier than the previous row's `1.5`; the trace must be sorted by time",
    );
    check_err(
        f,
        &row("soon,1,1"),
        "splitwise_conv.csv: line 3, column 1 (`arrived_at`) = `soon`: not a number",
    );
    check_err(
        f,
        &row("inf,1,1"),
        "splitwise_conv.csv: line 3, column 1 (`arrived_at`) = `inf`: must be a finite number of seconds",
    );
}

#[test]
fn vidur_arrival_times_past_1e12_s_are_refused() {
    // At 1e15 s a double's step is 0.125 s: the second request's 85.8 ms TTFT would read as
    // 125 ms. The row is refused by line and column instead.
    let text = "arrived_at,num_prefill_tokens,num_decode_tokens\n1e15,100,10\n1.0000000000000001e15,100,10\n";
    let e = read_vidur(text, "t.csv")
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        e.contains("t.csv") && e.contains("line 2") && e.contains("1e12"),
        "{e}"
    );
    // Large but resolvable stamps still read, relative to the first.
    let ok = "arrived_at,num_prefill_tokens,num_decode_tokens\n1e9,100,10\n1000000000.5,100,10\n";
    let t = read_vidur(ok, "t.csv").unwrap_or_default();
    assert_eq!(t.requests.len(), 2);
    assert!((t.requests[1].arrival_s - 0.5).abs() < 1e-6);
}
