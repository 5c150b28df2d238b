//! Readers for the public serving traces in `../shared/traces/` (formats in its README), and
//! the replay options: k× rate, a time window, spreading quantized timestamps.
//!
//! Pure: every reader takes the file's text and a display name used in errors. Malformed rows
//! are errors naming file, line, column or field, and value; nothing is skipped silently. Rows
//! with zero input or output tokens are errors too (the shipped files have none).
//!
//! Formats:
//! - [`TraceFormat::Azure`]: `TIMESTAMP,ContextTokens,GeneratedTokens` ([`read_azure`]);
//! - [`TraceFormat::Mooncake`]: JSONL with `timestamp` in ms and `hash_ids` ([`read_mooncake`]);
//! - [`TraceFormat::Lengths`]: `num_prefill_tokens,num_decode_tokens,...` without times
//!   ([`read_lengths`]), returned as an [`Empirical`] table for a synthetic arrival process;
//! - [`TraceFormat::Vidur`]: the same with an `arrived_at` column in seconds ([`read_vidur`]).

mod azure;
mod error;
mod lengths_csv;
mod mooncake;
mod text;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

use std::fmt;
use std::str::FromStr;

use rand::Rng;

pub use azure::read_azure;
pub use error::{Field, TraceError};
pub use lengths_csv::{read_lengths, read_vidur};
pub use mooncake::{read_mooncake, MOONCAKE_BLOCK_TOKENS};

use super::rng::{stream_rng, SPREAD_STREAM};
use super::{Empirical, LengthPair, Request};

/// The file formats this module reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceFormat {
    /// Azure LLM inference trace CSV (timed).
    Azure,
    /// Mooncake JSONL (timed, with prefix hashes).
    Mooncake,
    /// A lengths-only CSV (ShareGPT, arXiv statistics): no arrival times.
    Lengths,
    /// Vidur's processed traces: `arrived_at` (s) and the lengths CSV's columns (timed).
    Vidur,
}

impl TraceFormat {
    /// Every format, in the order error messages list them.
    pub const ALL: [TraceFormat; 4] = [Self::Azure, Self::Mooncake, Self::Lengths, Self::Vidur];

    /// The lower-case name [`FromStr`] reads: `azure`, `mooncake`, `lengths` or `vidur`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Azure => "azure",
            Self::Mooncake => "mooncake",
            Self::Lengths => "lengths",
            Self::Vidur => "vidur",
        }
    }
}

impl fmt::Display for TraceFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for TraceFormat {
    type Err = TraceError;

    /// `azure`, `mooncake`, `lengths` or `vidur` (any case).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|f| f.name() == lower)
            .ok_or_else(|| TraceError::InvalidOption {
                option: "trace format",
                value: s.to_string(),
                reason: "expected azure, mooncake, lengths or vidur".into(),
            })
    }
}

/// Tells the format from the first line: a `{` opens a Mooncake JSON object; a CSV header with
/// `ContextTokens` and `GeneratedTokens` is Azure; one with `num_prefill_tokens` and
/// `num_decode_tokens` is Vidur's timed format if it also has `arrived_at`, else a lengths
/// table.
pub fn detect_format(text: &str, file: &str) -> Result<TraceFormat, TraceError> {
    let first = text::lines(text).next().map_or("", |(_, l)| l);
    if first.trim().is_empty() && text.trim().is_empty() {
        return Err(TraceError::Empty {
            file: file.to_string(),
        });
    }
    if first.trim_start().starts_with('{') {
        return Ok(TraceFormat::Mooncake);
    }
    let header = text::Header::parse(first);
    if header.has(azure::CONTEXT) && header.has(azure::GENERATED) {
        Ok(TraceFormat::Azure)
    } else if header.has(lengths_csv::PREFILL) && header.has(lengths_csv::DECODE) {
        if header.has(lengths_csv::ARRIVED_AT) {
            Ok(TraceFormat::Vidur)
        } else {
            Ok(TraceFormat::Lengths)
        }
    } else {
        Err(TraceError::UnknownFormat {
            file: file.to_string(),
            first_line: error::snippet(first),
        })
    }
}

/// How to replay timestamps that are quantized into buckets (the Mooncake conversation trace
/// records arrivals in ~3 s steps, so 90 % of its gaps are 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BucketReplay {
    /// Every request at its recorded time: each bucket arrives as one burst. The default,
    /// because it is what the file says and does not invent timing.
    #[default]
    AsRecorded,
    /// Spread each bucket's requests uniformly over the bucket, seeded (see
    /// [`Trace::spread_buckets`]).
    Spread {
        /// Seed of the spreading stream ([`SPREAD_STREAM`]).
        seed: u64,
    },
}

/// How [`read`] reads a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReadOptions {
    /// `None`: detect from the first line ([`detect_format`]).
    pub format: Option<TraceFormat>,
    /// Applied to timed traces only.
    pub buckets: BucketReplay,
}

/// What a trace file holds: timed requests, or only (input, output) lengths.
#[derive(Debug, Clone, PartialEq)]
pub enum TraceContents {
    /// Requests with arrival times (Azure, Mooncake, Vidur).
    Timed(Trace),
    /// (input, output) pairs only (a lengths CSV), to resample under an arrival process.
    Lengths(Empirical),
}

/// Reads any supported trace, detecting its format unless `options.format` says it.
pub fn read(text: &str, file: &str, options: &ReadOptions) -> Result<TraceContents, TraceError> {
    let format = match options.format {
        Some(f) => f,
        None => detect_format(text, file)?,
    };
    let timed = match format {
        TraceFormat::Azure => read_azure(text, file)?,
        TraceFormat::Mooncake => read_mooncake(text, file)?,
        TraceFormat::Vidur => read_vidur(text, file)?,
        TraceFormat::Lengths => return Ok(TraceContents::Lengths(read_lengths(text, file)?)),
    };
    Ok(TraceContents::Timed(match options.buckets {
        BucketReplay::AsRecorded => timed,
        BucketReplay::Spread { seed } => timed.spread_buckets(seed),
    }))
}

/// Timed requests in arrival order (non-decreasing `arrival_s`), the first at 0 as read.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Trace {
    /// The requests, each with its arrival in seconds from the first and its token counts in
    /// `[1, MAX_TOKENS]`.
    pub requests: Vec<Request>,
}

impl Trace {
    /// Requests in the trace.
    pub fn len(&self) -> usize {
        self.requests.len()
    }

    /// No requests (never the case for a trace a reader returned).
    pub fn is_empty(&self) -> bool {
        self.requests.is_empty()
    }

    /// Last arrival minus first; 0 for fewer than two requests.
    pub fn span_s(&self) -> f64 {
        match (self.requests.first(), self.requests.last()) {
            (Some(a), Some(b)) => b.arrival_s - a.arrival_s,
            _ => 0.0,
        }
    }

    /// The (input, output) pairs without the timing, to resample under another arrival
    /// process; `None` for an empty trace.
    pub fn lengths(&self) -> Option<Empirical> {
        let pairs = self
            .requests
            .iter()
            .map(|r| LengthPair {
                input_tokens: r.input_tokens,
                output_tokens: r.output_tokens,
            })
            .collect();
        Empirical::new(pairs).ok()
    }

    /// Replays at `k` times the recorded rate: every arrival time divided by `k` (finite, > 0).
    pub fn scale_rate(mut self, k: f64) -> Result<Self, TraceError> {
        if !(k.is_finite() && k > 0.0) {
            return Err(TraceError::InvalidOption {
                option: "rate scale",
                value: k.to_string(),
                reason: "must be a positive, finite factor".into(),
            });
        }
        for r in &mut self.requests {
            r.arrival_s /= k;
        }
        Ok(self)
    }

    /// Keeps arrivals with `start_s ≤ t < end_s` and shifts them by `−start_s`, so the window
    /// starts at 0 (an idle stretch at the window's start is kept). `end_s` may be infinite.
    /// A window that keeps nothing is an error, not an empty run.
    pub fn window(mut self, start_s: f64, end_s: f64) -> Result<Self, TraceError> {
        if !(start_s.is_finite() && start_s >= 0.0) {
            return Err(TraceError::InvalidOption {
                option: "window start",
                value: start_s.to_string(),
                reason: "must be a finite number of seconds, at least 0".into(),
            });
        }
        if end_s.is_nan() || end_s <= start_s {
            return Err(TraceError::InvalidOption {
                option: "window end",
                value: end_s.to_string(),
                reason: format!("must be later than the start, {start_s} s"),
            });
        }
        let (first_s, last_s) = match (self.requests.first(), self.requests.last()) {
            (Some(a), Some(b)) => (a.arrival_s, b.arrival_s),
            _ => (0.0, 0.0),
        };
        self.requests
            .retain(|r| r.arrival_s >= start_s && r.arrival_s < end_s);
        if self.requests.is_empty() {
            return Err(TraceError::EmptyWindow {
                start_s,
                end_s,
                first_s,
                last_s,
            });
        }
        for r in &mut self.requests {
            r.arrival_s -= start_s;
        }
        Ok(self)
    }

    /// Spreads requests that share a timestamp over their bucket, uniformly and seeded.
    ///
    /// A bucket is a run of equal timestamps `t`; it lasts until the next distinct timestamp
    /// (the last bucket lasts the mean bucket length, `(t_last − t_first) / (buckets − 1)`).
    /// Its `n` requests get the sorted values of `n` uniform draws in `[t, t + length)`,
    /// assigned in file order, so the order within a bucket (turns of one conversation, say)
    /// is kept and the arrival order stays sorted. With distinct timestamps (Azure, the
    /// Mooncake synthetic trace) nothing moves except ties.
    pub fn spread_buckets(mut self, seed: u64) -> Self {
        let mut rng = stream_rng(seed, SPREAD_STREAM);
        let starts: Vec<usize> = (0..self.requests.len())
            .filter(|&i| i == 0 || self.requests[i].arrival_s > self.requests[i - 1].arrival_s)
            .collect();
        let buckets = starts.len();
        let mean_len = if buckets > 1 {
            self.span_s() / (buckets - 1) as f64
        } else {
            0.0
        };
        let mut offsets = Vec::new();
        for (b, &start) in starts.iter().enumerate() {
            let end = starts.get(b + 1).copied().unwrap_or(self.requests.len());
            let t = self.requests[start].arrival_s;
            let (len, next_t) = match starts.get(b + 1) {
                Some(&next) => {
                    let next_t = self.requests[next].arrival_s;
                    (next_t - t, next_t)
                }
                None => (mean_len, f64::INFINITY),
            };
            offsets.clear();
            offsets.extend((start..end).map(|_| rng.random::<f64>() * len));
            offsets.sort_by(f64::total_cmp);
            for (r, off) in self.requests[start..end].iter_mut().zip(&offsets) {
                // `t + off < next_t` up to rounding; the bounds keep the order exact.
                r.arrival_s = (t + off).max(t).min(next_t);
            }
        }
        self
    }
}
