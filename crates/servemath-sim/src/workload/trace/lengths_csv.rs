//! Lengths-only CSVs (Sarathi-Serve's ShareGPT and Vidur's arXiv-summarization statistics):
//! `num_prefill_tokens,num_decode_tokens,...`, no timestamps. Read as a table of (input,
//! output) pairs to resample under a synthetic arrival process. Other columns
//! (`num_total_tokens`, `pd_ratio`) must be present as the header says but are not read.
//!
//! With an `arrived_at` column (Vidur's processed traces) the same rows are timed: see
//! [`read_vidur`].

use super::error::TraceError;
use super::text::{lines, Header, Row};
use super::Trace;
use crate::workload::{Empirical, LengthPair, Request};

pub(crate) const PREFILL: &str = "num_prefill_tokens";
pub(crate) const DECODE: &str = "num_decode_tokens";

/// Reads a lengths-only CSV into an [`Empirical`] table, in file order.
pub fn read_lengths(text: &str, file: &str) -> Result<Empirical, TraceError> {
    let empty = || TraceError::Empty {
        file: file.to_string(),
    };
    let mut lines = lines(text);
    let header = match lines.next() {
        Some((_, h)) if !h.trim().is_empty() => Header::parse(h),
        _ => return Err(empty()),
    };
    let (in_col, out_col) = (header.column(file, PREFILL)?, header.column(file, DECODE)?);
    let mut pairs = Vec::new();
    for (line, text) in lines {
        let row = Row::split(file, line, text, &header)?;
        pairs.push(LengthPair {
            input_tokens: row.tokens(in_col)?,
            output_tokens: row.tokens(out_col)?,
        });
    }
    // Every pair was range-checked above, so only emptiness can fail here.
    Empirical::new(pairs).map_err(|_| empty())
}

pub(crate) const ARRIVED_AT: &str = "arrived_at";

/// Largest `arrived_at` accepted, seconds (see [`read_vidur`]).
pub(crate) const MAX_ARRIVAL_S: f64 = 1e12;

/// Reads Vidur's processed traces (`arrived_at,num_prefill_tokens,num_decode_tokens`, as in
/// `microsoft/vidur` `data/processed_traces/splitwise_*.csv`): the lengths CSV with arrival
/// times in seconds. Rows must be in time order; times are relative to the first row.
pub fn read_vidur(text: &str, file: &str) -> Result<Trace, TraceError> {
    let mut lines = lines(text);
    let header = match lines.next() {
        Some((_, h)) if !h.trim().is_empty() => Header::parse(h),
        _ => {
            return Err(TraceError::Empty {
                file: file.to_string(),
            })
        }
    };
    let t_col = header.column(file, ARRIVED_AT)?;
    let (in_col, out_col) = (header.column(file, PREFILL)?, header.column(file, DECODE)?);
    let mut requests: Vec<Request> = Vec::new();
    let mut first_s = None;
    let mut previous: Option<(f64, &str)> = None;
    for (line, text) in lines {
        let row = Row::split(file, line, text, &header)?;
        let stamp = row.get(t_col);
        let t = match stamp.parse::<f64>() {
            // Past 1e12 s a double no longer resolves a tenth of a millisecond (at 1e15 s its
            // step is 0.125 s): latencies from such stamps would be rounding noise.
            Ok(t) if t.is_finite() && t > MAX_ARRIVAL_S => {
                return Err(row.invalid(
                    t_col,
                    "above 1e12 s, where a double no longer resolves a tenth of a millisecond; subtract the first arrival",
                ))
            }
            Ok(t) if t.is_finite() && t >= 0.0 => t,
            Ok(t) if t < 0.0 => return Err(row.invalid(t_col, "must not be negative")),
            Ok(_) => return Err(row.invalid(t_col, "must be a finite number of seconds")),
            Err(_) => return Err(row.invalid(t_col, "not a number")),
        };
        if let Some((prev, prev_text)) = previous {
            if t < prev {
                return Err(TraceError::OutOfOrder {
                    file: file.to_string(),
                    line,
                    at: header.field(t_col),
                    value: stamp.to_string(),
                    previous: prev_text.to_string(),
                });
            }
        }
        previous = Some((t, stamp));
        let first = *first_s.get_or_insert(t);
        requests.push(Request::new(
            t - first,
            row.tokens(in_col)?,
            row.tokens(out_col)?,
        ));
    }
    if requests.is_empty() {
        return Err(TraceError::Empty {
            file: file.to_string(),
        });
    }
    Ok(Trace { requests })
}
