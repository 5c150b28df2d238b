//! Durations (`500ms`, `90s`, `30m`, `1h`) and time windows (`0,60`) as requests write them.

/// Seconds from `500ms`, `1.5s`, `30m`, `1h` or a bare number of seconds. Refuses negative,
/// non-finite and unknown units.
pub fn parse_duration_s(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || ".+-eE ".contains(c)))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let factor = match unit.trim() {
        "" | "s" => 1.0,
        "ms" => 1e-3,
        "us" | "µs" => 1e-6,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        other => {
            return Err(format!(
                "`{s}`: unknown unit `{other}`; use ms, s, m or h (e.g. 500ms, 90s, 30m, 1h)"
            ))
        }
    };
    let v: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a duration; use e.g. 500ms, 90s, 30m, 1h"))?;
    if !v.is_finite() || v < 0.0 {
        return Err(format!("`{s}` must be a finite duration, at least 0"));
    }
    // A finite number can still overflow in seconds (`1.51e308h`).
    let seconds = v * factor;
    if !seconds.is_finite() {
        return Err(format!("`{s}` is too long a duration to count in seconds"));
    }
    Ok(seconds)
}

/// A positive duration (for periods, intervals, horizons and SLOs).
pub fn parse_positive_duration_s(s: &str) -> Result<f64, String> {
    let v = parse_duration_s(s)?;
    if v > 0.0 {
        Ok(v)
    } else {
        Err(format!("`{s}` must be longer than 0"))
    }
}

/// `START,END` in seconds (each a duration, `END` may be empty or `inf` for the trace's end).
pub fn parse_window(s: &str) -> Result<(f64, f64), String> {
    let Some((start, end)) = s.split_once(',') else {
        return Err(format!(
            "`{s}`: expected START,END in seconds (e.g. 0,600 or 10m,20m)"
        ));
    };
    let start = parse_duration_s(start)?;
    let end = match end.trim() {
        "" | "inf" | "end" => f64::INFINITY,
        e => parse_duration_s(e)?,
    };
    if end <= start {
        return Err(format!("`{s}`: the end must come after the start"));
    }
    Ok((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_with_their_units() {
        let cases: &[(&str, Result<f64, &str>)] = &[
            ("500ms", Ok(0.5)),
            ("90s", Ok(90.0)),
            ("30m", Ok(1800.0)),
            ("1h", Ok(3600.0)),
            ("1.5h", Ok(5400.0)),
            ("2", Ok(2.0)),
            (" 20 ms ", Ok(0.02)),
            ("1e3ms", Ok(1.0)),
            ("3d", Err("unknown unit `d`")),
            ("-1s", Err("at least 0")),
            ("fast", Err("unknown unit `fast`")),
            ("ms", Err("not a duration")),
            // Found by fuzzing: finite in hours, infinite in seconds.
            ("1.51e308h", Err("too long")),
        ];
        for (text, want) in cases {
            match (parse_duration_s(text), want) {
                (Ok(got), Ok(w)) => assert!((got - w).abs() < 1e-12, "{text}: {got}"),
                (Err(e), Err(frag)) => assert!(e.contains(frag), "{text}: {e}"),
                (got, want) => panic!("{text}: {got:?} vs {want:?}"),
            }
        }
        assert!(parse_positive_duration_s("0s").is_err());
    }

    #[test]
    fn windows_read_start_and_end() {
        assert_eq!(parse_window("0,60"), Ok((0.0, 60.0)));
        assert_eq!(parse_window("10m,20m"), Ok((600.0, 1200.0)));
        assert_eq!(parse_window("5,"), Ok((5.0, f64::INFINITY)));
        assert!(parse_window("60,0").is_err());
        assert!(parse_window("60").is_err());
    }
}
