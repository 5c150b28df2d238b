//! Why a trace was refused: every row error names the file, the 1-based line, the column (CSV,
//! with its header name) or field (JSON), and the offending value or row text.

use std::fmt;

/// Where in a row a bad value sits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    /// A CSV column: 1-based position and header name.
    Column {
        /// 1-based position in the row.
        index: usize,
        /// The header's name for it.
        name: String,
    },
    /// A JSON key (`input_length`, `hash_ids[3]`).
    Key(String),
    /// The row as a whole (a JSON line that is not an object).
    Row,
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Column { index, name } => write!(f, "column {index} (`{name}`)"),
            Self::Key(key) => write!(f, "field `{key}`"),
            Self::Row => f.write_str("row"),
        }
    }
}

/// A trace that cannot be read, or a replay option that cannot be honoured.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TraceError {
    /// Auto-detection found neither a known CSV header nor a JSON object on line 1.
    #[error("{file}: line 1: cannot tell the trace format from `{first_line}`; expected an azure csv header (TIMESTAMP,ContextTokens,GeneratedTokens), a lengths csv header ([arrived_at,]num_prefill_tokens,num_decode_tokens,...) or a mooncake json object")]
    UnknownFormat {
        /// The file's display name, as the caller gave it.
        file: String,
        /// The first line, at most 80 characters (`…` when cut).
        first_line: String,
    },

    /// The CSV header lacks a column this format needs.
    #[error("{file}: line 1: the header has no `{column}` column (header: `{header}`)")]
    MissingColumn {
        /// The file's display name.
        file: String,
        /// The column the format needs (`ContextTokens`).
        column: &'static str,
        /// The header line as read.
        header: String,
    },

    /// Nothing but a header (or nothing at all).
    #[error("{file}: no requests in the file")]
    Empty {
        /// The file's display name.
        file: String,
    },

    /// An empty line before the end of the file.
    #[error("{file}: line {line}: empty line")]
    EmptyLine {
        /// The file's display name.
        file: String,
        /// 1-based line number.
        line: usize,
    },

    /// A row too short for its header, or a JSON object without a needed key.
    #[error("{file}: line {line}, {at}: missing (row `{row}`)")]
    MissingField {
        /// The file's display name.
        file: String,
        /// 1-based line number.
        line: usize,
        /// The first column or key missing.
        at: Field,
        /// The row, at most 80 characters.
        row: String,
    },

    /// A CSV row with more fields than its header.
    #[error("{file}: line {line}: {found} fields where the header has {expected} (row `{row}`)")]
    ExtraFields {
        /// The file's display name.
        file: String,
        /// 1-based line number.
        line: usize,
        /// Fields in the header.
        expected: usize,
        /// Fields in the row.
        found: usize,
        /// The row, at most 80 characters.
        row: String,
    },

    /// A value that is not a number, out of range, of the wrong type or inconsistent.
    #[error("{file}: line {line}, {at} = `{value}`: {reason}")]
    InvalidValue {
        /// The file's display name.
        file: String,
        /// 1-based line number.
        line: usize,
        /// The column, key or row holding it.
        at: Field,
        /// The value as written, at most 80 characters.
        value: String,
        /// Why it is refused, lowercase (`must be at least 1 token`).
        reason: String,
    },

    /// A line that is not JSON (truncated, say). Column as `serde_json` reports it.
    #[error("{file}: line {line}, column {column}: malformed json: {message} (row `{row}`)")]
    Json {
        /// The file's display name.
        file: String,
        /// 1-based line number.
        line: usize,
        /// 1-based column where parsing failed.
        column: usize,
        /// `serde_json`'s description of the fault.
        message: String,
        /// The row, at most 80 characters.
        row: String,
    },

    /// Timestamps must not decrease: replay needs arrival order and every shipped file has it.
    #[error("{file}: line {line}, {at} = `{value}`: earlier than the previous row's `{previous}`; the trace must be sorted by time")]
    OutOfOrder {
        /// The file's display name.
        file: String,
        /// 1-based line number of the earlier timestamp.
        line: usize,
        /// The timestamp's column or key.
        at: Field,
        /// The timestamp as read.
        value: String,
        /// The previous row's timestamp as read.
        previous: String,
    },

    /// A replay option (`scale_rate`, `window`) or explicit format name that cannot be honoured.
    #[error("{option} = `{value}`: {reason}")]
    InvalidOption {
        /// The option (`rate scale`, `window start`, `trace format`).
        option: &'static str,
        /// The value given.
        value: String,
        /// What it must be, lowercase.
        reason: String,
    },

    /// A window that keeps no arrival.
    #[error("window [{start_s} s, {end_s} s) holds no arrival; the trace's arrivals lie in [{first_s} s, {last_s} s]")]
    EmptyWindow {
        /// Window start, seconds into the trace.
        start_s: f64,
        /// Window end (exclusive), seconds into the trace; may be infinite.
        end_s: f64,
        /// The trace's first arrival, seconds.
        first_s: f64,
        /// The trace's last arrival, seconds.
        last_s: f64,
    },
}

/// At most 80 characters of `s` (on a character boundary), with `…` when cut.
pub(crate) fn snippet(s: &str) -> String {
    const MAX: usize = 80;
    match s.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &s[..cut]),
        None => s.to_string(),
    }
}
