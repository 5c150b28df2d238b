//! The Azure LLM inference trace CSV (2023 "Splitwise" files, and the 2024 week-long files'
//! format): `TIMESTAMP,ContextTokens,GeneratedTokens`, columns found by header name so that
//! extra columns (the 2025 multimodal file's `NumImages`) are tolerated.
//!
//! Timestamps are naive wall-clock `YYYY-MM-DD HH:MM:SS[.f{1,9}]` (the 2023 files have 7
//! fractional digits, 100-ns ticks), optionally followed by `Z` or a `±HH:MM` offset (2024
//! files). They are parsed by hand into integer nanoseconds, so differences are exact; arrival
//! times are seconds after the first row.

use super::error::TraceError;
use super::text::{lines, Header, Row};
use super::Trace;
use crate::workload::Request;

pub(crate) const TIMESTAMP: &str = "TIMESTAMP";
pub(crate) const CONTEXT: &str = "ContextTokens";
pub(crate) const GENERATED: &str = "GeneratedTokens";

const TIMESTAMP_FORMAT: &str =
    "expected a date-time like 2023-11-16 18:17:03.9799600 (YYYY-MM-DD HH:MM:SS[.fraction][Z|±HH:MM])";

/// Reads an Azure trace. Rows must be in time order; times are relative to the first row.
pub fn read_azure(text: &str, file: &str) -> Result<Trace, TraceError> {
    let mut lines = lines(text);
    let header = match lines.next() {
        Some((_, h)) if !h.trim().is_empty() => Header::parse(h),
        _ => return Err(empty(file)),
    };
    let (ts_col, in_col, out_col) = (
        header.column(file, TIMESTAMP)?,
        header.column(file, CONTEXT)?,
        header.column(file, GENERATED)?,
    );
    let mut requests = Vec::new();
    let mut first_ns: Option<i128> = None;
    let mut previous: Option<(i128, &str)> = None;
    for (line, text) in lines {
        let row = Row::split(file, line, text, &header)?;
        let stamp = row.get(ts_col);
        let ns = parse_timestamp_ns(stamp).map_err(|why| row.invalid(ts_col, why))?;
        if let Some((prev_ns, prev)) = previous {
            if ns < prev_ns {
                return Err(TraceError::OutOfOrder {
                    file: file.to_string(),
                    line,
                    at: header.field(ts_col),
                    value: stamp.to_string(),
                    previous: prev.to_string(),
                });
            }
        }
        previous = Some((ns, stamp));
        let first = *first_ns.get_or_insert(ns);
        requests.push(Request::new(
            (ns - first) as f64 / 1e9,
            row.tokens(in_col)?,
            row.tokens(out_col)?,
        ));
    }
    if requests.is_empty() {
        return Err(empty(file));
    }
    Ok(Trace { requests })
}

fn empty(file: &str) -> TraceError {
    TraceError::Empty {
        file: file.to_string(),
    }
}

/// Nanoseconds since 1970-01-01T00:00:00 (UTC when an offset is given, else naive), or why not.
pub(crate) fn parse_timestamp_ns(s: &str) -> Result<i128, String> {
    let b = s.as_bytes();
    let bad = || TIMESTAMP_FORMAT.to_string();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !(b[10] == b' ' || b[10] == b'T') {
        return Err(bad());
    }
    if b[13] != b':' || b[16] != b':' {
        return Err(bad());
    }
    let num = |from: usize, to: usize| -> Result<i64, String> {
        let digits = s.get(from..to).ok_or_else(bad)?;
        if !digits.bytes().all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        digits.parse::<i64>().map_err(|_| bad())
    };
    let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hour, minute, second) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return Err(format!("no such date {year:04}-{month:02}-{day:02}"));
    }
    if hour > 23 || minute > 59 || second > 59 {
        return Err(format!("no such time {hour:02}:{minute:02}:{second:02}"));
    }
    let mut rest = &s[19..];
    let mut frac_ns: i64 = 0;
    if let Some(after) = rest.strip_prefix('.') {
        let n = after.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 || n > 9 {
            return Err(bad());
        }
        frac_ns = after[..n].parse::<i64>().map_err(|_| bad())? * 10i64.pow(9 - n as u32);
        rest = &after[n..];
    }
    let offset_s: i64 = match rest.as_bytes() {
        [] | [b'Z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let digits = [*h1, *h2, *m1, *m2];
            if !digits.iter().all(u8::is_ascii_digit) {
                return Err(bad());
            }
            let d = |c: u8| i64::from(c - b'0');
            let (oh, om) = (d(*h1) * 10 + d(*h2), d(*m1) * 10 + d(*m2));
            if oh > 23 || om > 59 {
                return Err(bad());
            }
            let o = oh * 3600 + om * 60;
            if *sign == b'+' {
                o
            } else {
                -o
            }
        }
        _ => return Err(bad()),
    };
    let seconds =
        days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset_s;
    Ok(i128::from(seconds) * 1_000_000_000 + i128::from(frac_ns))
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to the proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12; // March = 0
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;

    #[test]
    fn civil_days_match_known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        // 2023-11-16 is 19,677 days after the epoch (date -d 2023-11-16 +%s = 1700092800).
        assert_eq!(days_from_civil(2023, 11, 16) * 86_400, 1_700_092_800);
        assert_eq!(
            days_from_civil(2024, 2, 29) + 1,
            days_from_civil(2024, 3, 1)
        );
    }

    #[test]
    fn timestamps_parse_to_exact_nanoseconds() {
        let ns = |s| parse_timestamp_ns(s).unwrap();
        assert_eq!(
            ns("2023-11-16 18:17:03.9799600"),
            (1_700_092_800 + 18 * 3600 + 17 * 60 + 3) * 1_000_000_000 + 979_960_000
        );
        assert_eq!(
            ns("2023-11-16 19:14:19.9280160") - ns("2023-11-16 18:17:03.9799600"),
            3_435_948_056_000
        );
        assert_eq!(ns("2024-05-10 00:00:00+00:00"), ns("2024-05-10 00:00:00"));
        assert_eq!(
            ns("2024-05-10 02:00:00.5+02:00"),
            ns("2024-05-10 00:00:00.500")
        );
        assert_eq!(ns("2024-05-10T00:00:00Z"), ns("2024-05-10 00:00:00"));
        assert_eq!(
            ns("2024-05-10 00:00:00.000000001") - ns("2024-05-10 00:00:00"),
            1
        );
        for bad in [
            "",
            "2023-11-16",
            "2023-11-16 18:17",
            "2023-13-16 18:17:03",
            "2023-02-29 18:17:03",
            "2023-11-16 24:00:00",
            "2023-11-16 18:17:03.",
            "2023-11-16 18:17:03.1234567890",
            "2023-11-16 18:17:03 PM",
            "2023-11-16 18:17:03+5",
            "２023-11-16 18:17:03",
            "2023-1a-16 18:17:03",
            "+023-11-16 18:17:03",
        ] {
            assert!(parse_timestamp_ns(bad).is_err(), "{bad:?} accepted");
        }
    }
}
