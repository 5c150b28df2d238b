//! Why a trace was refused: every row error names the file, the 1-based line, the column (CSV,
//! with its header name) or field (JSON), and the offending value or row text.

use std::fmt;

/// Where in a row a bad value sits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    /// A CSV column: 1-based position and header name.
    Column { index: usize, name: String },
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
    UnknownFormat { file: String, first_line: String },

    /// The CSV header lacks a column this format needs.
    #[error("{file}: line 1: the header has no `{column}` column (header: `{header}`)")]
    MissingColumn {
        file: String,
        column: &'static str,
        header: String,
    },

    /// Nothing but a header (or nothing at all).
    #[error("{file}: no requests in the file")]
    Empty { file: String },

    /// An empty line before the end of the file.
    #[error("{file}: line {line}: empty line")]
    EmptyLine { file: String, line: usize },

    /// A row too short for its header, or a JSON object without a needed key.
    #[error("{file}: line {line}, {at}: missing (row `{row}`)")]
    MissingField {
        file: String,
        line: usize,
        at: Field,
        row: String,
    },

    /// A CSV row with more fields than its header.
    #[error("{file}: line {line}: {found} fields where the header has {expected} (row `{row}`)")]
    ExtraFields {
        file: String,
        line: usize,
        expected: usize,
        found: usize,
        row: String,
    },

    /// A value that is not a number, out of range, of the wrong type or inconsistent.
    #[error("{file}: line {line}, {at} = `{value}`: {reason}")]
    InvalidValue {
        file: String,
        line: usize,
        at: Field,
        value: String,
        reason: String,
    },

    /// A line that is not JSON (truncated, say). Column as `serde_json` reports it.
    #[error("{file}: line {line}, column {column}: malformed json: {message} (row `{row}`)")]
    Json {
        file: String,
        line: usize,
        column: usize,
        message: String,
        row: String,
    },

    /// Timestamps must not decrease: replay needs arrival order and every shipped file has it.
    #[error("{file}: line {line}, {at} = `{value}`: earlier than the previous row's `{previous}`; the trace must be sorted by time")]
    OutOfOrder {
        file: String,
        line: usize,
        at: Field,
        value: String,
        previous: String,
    },

    /// A replay option (`scale_rate`, `window`) or explicit format name that cannot be honoured.
    #[error("{option} = `{value}`: {reason}")]
    InvalidOption {
        option: &'static str,
        value: String,
        reason: String,
    },

    /// A window that keeps no arrival.
    #[error("window [{start_s} s, {end_s} s) holds no arrival; the trace's arrivals lie in [{first_s} s, {last_s} s]")]
    EmptyWindow {
        start_s: f64,
        end_s: f64,
        first_s: f64,
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
