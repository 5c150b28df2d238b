//! Named properties of the readers and replay options.

use proptest::prelude::*;

use super::*;

const AZURE_HEAD: &str = "TIMESTAMP,ContextTokens,GeneratedTokens\r\n";
const LENGTHS_HEAD: &str = "num_prefill_tokens,num_decode_tokens,num_total_tokens,pd_ratio\n";
const VALID_ROWS: [&str; 3] = [
    "2023-11-16 18:17:03.9799600,4808,10",
    "{\"timestamp\": 0, \"input_length\": 600, \"output_length\": 5, \"hash_ids\": [0, 1]}",
    "74,918,992,0.0806100217864923",
];

/// Runs every reader on `text`; none may panic, whatever it returns.
fn read_everything(text: &str) {
    let _ = detect_format(text, "p");
    let _ = read(text, "p", &ReadOptions::default());
    for format in TraceFormat::ALL {
        let options = ReadOptions {
            format: Some(format),
            buckets: BucketReplay::Spread { seed: 1 },
        };
        let _ = read(text, "p", &options);
    }
}

/// A valid row of format `f` with one character replaced and possibly truncated.
fn mutated_row() -> impl Strategy<Value = (usize, String)> {
    (
        0..3usize,
        any::<prop::sample::Index>(),
        any::<char>(),
        any::<prop::sample::Index>(),
        any::<bool>(),
    )
        .prop_map(|(f, at, c, cut, truncate)| {
            let row = VALID_ROWS[f];
            let chars: Vec<char> = row.chars().collect();
            let i = at.index(chars.len());
            let mut out: String = chars[..i]
                .iter()
                .chain([c].iter())
                .chain(chars[i + 1..].iter())
                .collect();
            if truncate {
                let n = cut.index(out.chars().count() + 1);
                out = out.chars().take(n).collect();
            }
            (f, out)
        })
}

proptest! {
    #[test]
    fn random_text_never_panics_a_reader(text in "\\PC{0,200}") {
        read_everything(&text);
    }

    #[test]
    fn random_bytes_of_trace_alphabet_never_panic(
        text in "[0-9 ,.:\\-+eE{}\"a-zA-Z_\\[\\]\r\n\u{feff}é]{0,300}",
        head in 0..4usize,
    ) {
        let heads = ["", AZURE_HEAD, LENGTHS_HEAD, "{\"timestamp\": 0, "];
        read_everything(&format!("{}{text}", heads[head]));
    }

    #[test]
    fn a_mutated_row_is_read_or_refused_with_its_line(
        rows in prop::collection::vec(mutated_row(), 1..6),
    ) {
        for (f, row) in rows {
            let head = [AZURE_HEAD, "", LENGTHS_HEAD][f];
            let text = format!("{head}{}\n{row}\n", VALID_ROWS[f]);
            let line = if head.is_empty() { 2 } else { 3 };
            let options = ReadOptions { format: Some(TraceFormat::ALL[f]), ..ReadOptions::default() };
            if let Err(e) = read(&text, "m.txt", &options) {
                // The mutated row may have gained a line break: the error names one of its lines.
                let msg = e.to_string();
                let lines = line..=line + row.matches('\n').count();
                let named = lines.clone().any(|l| {
                    msg.starts_with(&format!("m.txt: line {l},")) || msg.starts_with(&format!("m.txt: line {l}:"))
                });
                prop_assert!(named, "{} (expected one of lines {:?})", msg, lines);
            }
        }
    }

    #[test]
    fn spreading_keeps_order_and_requests(
        gaps in prop::collection::vec(prop_oneof![Just(0.0), 0.0..5.0f64], 1..200),
        seed in any::<u64>(),
    ) {
        let mut t = 0.0;
        let requests: Vec<Request> = gaps.iter().enumerate().map(|(i, g)| {
            t += g;
            Request::new(t, i as u32 + 1, 1)
        }).collect();
        let trace = Trace { requests };
        let spread = trace.clone().spread_buckets(seed);
        prop_assert_eq!(spread.len(), trace.len());
        for (s, r) in spread.requests.iter().zip(&trace.requests) {
            prop_assert_eq!(s.input_tokens, r.input_tokens);
            prop_assert!(s.arrival_s >= r.arrival_s);
        }
        prop_assert!(spread.requests.windows(2).all(|w| w[0].arrival_s <= w[1].arrival_s));
    }

    #[test]
    fn a_window_keeps_exactly_its_arrivals_rebased(
        times in prop::collection::vec(0.0..100.0f64, 1..100),
        start in 0.0..100.0f64,
        len in 0.001..50.0f64,
    ) {
        let mut times = times;
        times.sort_by(f64::total_cmp);
        let trace = Trace { requests: times.iter().map(|&t| Request::new(t, 1, 1)).collect() };
        let inside = times.iter().filter(|&&t| t >= start && t < start + len).count();
        match trace.window(start, start + len) {
            Ok(w) => {
                prop_assert_eq!(w.len(), inside);
                prop_assert!(w.requests.iter().all(|r| r.arrival_s >= 0.0 && r.arrival_s < len + 1e-9));
            }
            Err(TraceError::EmptyWindow { .. }) => prop_assert_eq!(inside, 0),
            Err(e) => prop_assert!(false, "{}", e),
        }
    }
}
