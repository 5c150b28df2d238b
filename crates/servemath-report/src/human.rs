//! Human forms of the reports' numbers, shared by every front end's text (tables, the
//! plain-language readings of `prices`): SI prefixes, units and a precision that shows what
//! matters (`31.2 ms`, `1.84 TB/s`, `70.6 B`, `2,909 tok/s`, `$0.444`). Never raw floats.

use crate::{LayoutReport, WeightPrecisionsReport, WorkloadReport};

/// Three significant figures, and one decimal at least: `1.84`, `31.2`, `141.1`.
fn sig(v: f64) -> String {
    if v.abs() < 10.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.1}")
    }
}

/// `v` scaled to the largest of `prefixes` (factor, symbol; ascending) that keeps it at least
/// 1, followed by the symbol and `unit`.
fn scaled(v: f64, prefixes: &[(f64, &str)], unit: &str) -> String {
    if !v.is_finite() {
        return non_finite(v);
    }
    let mag = v.abs();
    let idx = prefixes.iter().rposition(|p| mag >= p.0).unwrap_or(0);
    let Some(&(factor, sym)) = prefixes.get(idx) else {
        return sig(v);
    };
    // Rounding can carry into the next prefix (999.96 GB -> 1000.0 GB): move up.
    let text = sig(v / factor);
    if text.trim_start_matches('-').starts_with("1000") {
        if let Some(&(f, s)) = prefixes.get(idx + 1) {
            return format!("{} {s}{unit}", sig(v / f));
        }
    }
    format!("{text} {sym}{unit}")
}

fn non_finite(v: f64) -> String {
    if v.is_nan() {
        "n/a".to_string()
    } else if v > 0.0 {
        "∞".to_string()
    } else {
        "-∞".to_string()
    }
}

const DECIMAL: [(f64, &str); 6] = [
    (1.0, ""),
    (1e3, "k"),
    (1e6, "M"),
    (1e9, "G"),
    (1e12, "T"),
    (1e15, "P"),
];

/// Seconds as `s`, `ms`, `µs` or `ns`: `31.2 ms`.
pub fn seconds(s: f64) -> String {
    if s == 0.0 {
        return "0 s".to_string();
    }
    if s.abs() >= 1000.0 && s.is_finite() {
        return format!("{} s", int(s));
    }
    scaled(s, &[(1e-9, "n"), (1e-6, "µ"), (1e-3, "m"), (1.0, "")], "s")
}

/// Bytes with decimal prefixes (1 GB = 10⁹ B): `141.1 GB`.
pub fn bytes(b: f64) -> String {
    if b.abs() < 1000.0 && b.is_finite() {
        return format!("{} B", b.round());
    }
    scaled(b, &DECIMAL, "B")
}

/// Bandwidth: `3.35 TB/s`.
pub fn bytes_per_s(b: f64) -> String {
    scaled(b, &DECIMAL, "B/s")
}

/// Compute rate: `989.4 TFLOP/s`.
pub fn flop_per_s(f: f64) -> String {
    scaled(f, &DECIMAL, "FLOP/s")
}

/// FLOPs: `290.3 TFLOP`.
pub fn flops(f: f64) -> String {
    scaled(f, &DECIMAL, "FLOP")
}

/// A large count with a word-style prefix, as parameter counts are quoted: `70.6 B`, `596.0 M`.
pub fn count(n: f64) -> String {
    if n.abs() < 1000.0 && n.is_finite() {
        return format!("{}", n.round());
    }
    scaled(
        n,
        &[(1.0, ""), (1e3, "K"), (1e6, "M"), (1e9, "B"), (1e12, "T")],
        "",
    )
    .trim_end()
    .to_string()
}

/// An integer with thousands separators: `2,909`. Rounds to the nearest integer.
pub fn int(v: f64) -> String {
    if !v.is_finite() {
        return non_finite(v);
    }
    let r = v.round();
    let digits = format!("{:.0}", r.abs());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if r < 0.0 {
        format!("-{out}")
    } else {
        out
    }
}

/// A rate or ratio: integers with separators from 100 up, three significant figures below
/// (`2,909`, `35.4`, `0.52`).
pub fn num(v: f64) -> String {
    if !v.is_finite() {
        return non_finite(v);
    }
    if v.abs() >= 99.95 {
        int(v)
    } else {
        sig(v)
    }
}

/// Tokens per second: `2,909 tok/s`.
pub fn tok_per_s(v: f64) -> String {
    format!("{} tok/s", num(v))
}

/// A fraction as a percentage with one decimal: `42.1%`.
pub fn percent(f: f64) -> String {
    if !f.is_finite() {
        return non_finite(f);
    }
    format!("{:.1}%", f * 100.0)
}

/// Watts: `700 W`, `1.2 kW`.
pub fn watts(w: f64) -> String {
    if w.abs() < 1000.0 && w.is_finite() {
        return format!("{} W", w.round());
    }
    scaled(w, &DECIMAL, "W")
}

/// US dollars: `$2.99`.
pub fn usd(v: f64) -> String {
    format!("${v:.2}")
}

/// Dollars at a precision that shows what matters: `$0.444`, `$2.05`, `$12,345`, `$10.7 M`.
pub fn money(v: f64) -> String {
    if !v.is_finite() {
        return num(v);
    }
    let a = v.abs();
    if a == 0.0 {
        "$0".to_string()
    } else if a < 1.0 {
        format!("${v:.3}")
    } else if a < 1000.0 {
        format!("${v:.2}")
    } else if a < 1e6 {
        format!("${}", int(v))
    } else {
        format!("${}", count(v))
    }
}

/// `TP4`, `TP8 · EP8 · DP-attn8 · PP2` (degrees of 1 omitted, TP always shown).
pub fn layout(l: &LayoutReport) -> String {
    let mut parts = vec![format!("TP{}", l.tp)];
    if l.dp_attn > 1 {
        parts.push(format!("DP-attn{}", l.dp_attn));
    }
    if l.ep > 1 {
        parts.push(format!("EP{}", l.ep));
    }
    if l.pp > 1 {
        parts.push(format!("PP{}", l.pp));
    }
    if l.redundant_experts > 0 {
        parts.push(format!("+{} redundant experts", l.redundant_experts));
    }
    if l.two_batch_overlap {
        parts.push("TBO".to_string());
    }
    parts.join(" · ")
}

/// One line describing a workload: its arrivals or trace, lengths, limits and seed.
pub fn workload(w: &WorkloadReport) -> String {
    let means = format!(
        "mean {} + {} tokens",
        int(w.mean_input_tokens),
        int(w.mean_output_tokens)
    );
    let limits = {
        let mut l = Vec::new();
        if let Some(n) = w.requests_limit {
            l.push(format!("{} requests", int(n as f64)));
        }
        if let Some(d) = w.duration_limit_s {
            l.push(seconds(d));
        }
        l.join(" or ")
    };
    let lengths = match (&w.lengths_from, &w.input, &w.output) {
        (Some(file), _, _) => format!("lengths from {file}"),
        (None, Some(i), Some(o)) => format!("input {i}, output {o}"),
        _ => String::new(),
    };
    let seed = w.seed;
    match w.kind {
        "trace" => {
            let mut what = w.trace.clone().unwrap_or_default();
            if let Some((a, b)) = w.window_s {
                let end = b.map_or("end".to_string(), seconds);
                what.push_str(&format!(", window {} to {end}", seconds(a)));
            }
            if let Some(k) = w.trace_speed {
                what.push_str(&format!(", at {}× speed", num(k)));
            }
            let rate = w
                .mean_rate_per_s
                .map(|r| format!(" ({} req/s)", num(r)))
                .unwrap_or_default();
            let limits = if limits.is_empty() {
                String::new()
            } else {
                format!(", first {limits}")
            };
            format!("replay of {what}{limits}{rate}; {means}")
        }
        "closed_loop" => format!(
            "closed loop of {} users for {limits}; {lengths} ({means}); seed {seed}",
            w.users.unwrap_or(0)
        ),
        _ => format!(
            "{} for {limits}; {lengths} ({means}); seed {seed}",
            w.arrivals.as_deref().unwrap_or("")
        ),
    }
}

/// `bf16`, or the common format with the parts that differ: `bf16 (experts mxfp4)`.
pub fn precisions(w: &WeightPrecisionsReport) -> String {
    let parts = [
        ("embeddings", w.embeddings),
        ("attention", w.attention),
        ("dense mlp", w.dense_mlp),
        ("experts", w.experts),
    ];
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for (_, p) in parts {
        match counts.iter_mut().find(|(q, _)| *q == p) {
            Some((_, n)) => *n += 1,
            None => counts.push((p, 1)),
        }
    }
    let Some(&(common, _)) = counts.iter().max_by_key(|(_, n)| *n) else {
        return String::new();
    };
    let odd: Vec<String> = parts
        .iter()
        .filter(|(_, p)| *p != common)
        .map(|(name, p)| format!("{name} {p}"))
        .collect();
    if odd.is_empty() {
        common.to_string()
    } else {
        format!("{common} ({})", odd.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_like_the_examples() {
        let cases: &[(String, &str)] = &[
            (seconds(0.031_21), "31.2 ms"),
            (seconds(0.000_85), "850.0 µs"),
            (seconds(1.5), "1.50 s"),
            (seconds(0.0), "0 s"),
            (bytes_per_s(1.84e12), "1.84 TB/s"),
            (count(70.553e9), "70.6 B"),
            (count(595.8e6), "595.8 M"),
            (bytes(141.1e9), "141.1 GB"),
            (bytes(999.97e9), "1.00 TB"),
            (bytes(512.0), "512 B"),
            (tok_per_s(2909.4), "2,909 tok/s"),
            (tok_per_s(35.42), "35.4 tok/s"),
            (int(1_234_567.0), "1,234,567"),
            (int(-1234.0), "-1,234"),
            (percent(0.4213), "42.1%"),
            (flop_per_s(989.4e12), "989.4 TFLOP/s"),
            (num(f64::INFINITY), "∞"),
            (seconds(f64::NAN), "n/a"),
        ];
        for (got, want) in cases {
            assert_eq!(got, want);
        }
    }
}
