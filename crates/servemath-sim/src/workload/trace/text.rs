//! Line and CSV plumbing shared by the readers: numbered lines (LF or CRLF, with or without a
//! final newline, an optional UTF-8 BOM), a header that finds columns by name, and rows split
//! into exactly the header's number of fields.

use super::error::{snippet, Field, TraceError};
use crate::workload::lengths::tokens_or_reason;

/// `(1-based line number, line without its `\r\n` / `\n`)`. Line endings at the very end of
/// the text end the last line rather than starting empty ones; an empty line anywhere else is
/// yielded, for the reader to refuse.
pub(crate) fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let body = text.trim_end_matches(['\n', '\r']);
    body.split('\n')
        .enumerate()
        .map(|(i, l)| (i + 1, l.strip_suffix('\r').unwrap_or(l)))
}

/// A CSV header: column names in order, trimmed.
pub(crate) struct Header<'a> {
    pub names: Vec<&'a str>,
    pub text: &'a str,
}

impl<'a> Header<'a> {
    pub fn parse(text: &'a str) -> Self {
        Self {
            names: text.split(',').map(str::trim).collect(),
            text,
        }
    }

    pub fn has(&self, name: &str) -> bool {
        self.names.contains(&name)
    }

    /// The 0-based index of `name`, or the error naming it.
    pub fn column(&self, file: &str, name: &'static str) -> Result<usize, TraceError> {
        self.names
            .iter()
            .position(|n| *n == name)
            .ok_or_else(|| TraceError::MissingColumn {
                file: file.to_string(),
                column: name,
                header: snippet(self.text),
            })
    }

    pub fn field(&self, index: usize) -> Field {
        Field::Column {
            index: index + 1,
            name: self.names.get(index).copied().unwrap_or("").to_string(),
        }
    }
}

/// One CSV data row split into the header's number of fields, with its position for errors.
pub(crate) struct Row<'a, 'h> {
    pub file: &'a str,
    pub line: usize,
    pub text: &'a str,
    pub fields: Vec<&'a str>,
    pub header: &'h Header<'h>,
}

impl<'a, 'h> Row<'a, 'h> {
    pub fn split(
        file: &'a str,
        line: usize,
        text: &'a str,
        header: &'h Header<'h>,
    ) -> Result<Self, TraceError> {
        if text.trim().is_empty() {
            return Err(TraceError::EmptyLine {
                file: file.to_string(),
                line,
            });
        }
        let fields: Vec<&str> = text.split(',').map(str::trim).collect();
        let expected = header.names.len();
        if fields.len() < expected {
            return Err(TraceError::MissingField {
                file: file.to_string(),
                line,
                at: header.field(fields.len()),
                row: snippet(text),
            });
        }
        if fields.len() > expected {
            return Err(TraceError::ExtraFields {
                file: file.to_string(),
                line,
                expected,
                found: fields.len(),
                row: snippet(text),
            });
        }
        Ok(Self {
            file,
            line,
            text,
            fields,
            header,
        })
    }

    pub fn get(&self, index: usize) -> &'a str {
        self.fields.get(index).copied().unwrap_or("")
    }

    /// The error for column `index` holding a bad value.
    pub fn invalid(&self, index: usize, reason: impl Into<String>) -> TraceError {
        TraceError::InvalidValue {
            file: self.file.to_string(),
            line: self.line,
            at: self.header.field(index),
            value: snippet(self.get(index)),
            reason: reason.into(),
        }
    }

    /// Column `index` as a token count in `[1, MAX_TOKENS]`.
    pub fn tokens(&self, index: usize) -> Result<u32, TraceError> {
        let value = self.get(index);
        if value.is_empty() {
            return Err(TraceError::MissingField {
                file: self.file.to_string(),
                line: self.line,
                at: self.header.field(index),
                row: snippet(self.text),
            });
        }
        tokens_or_reason(value).map_err(|reason| self.invalid(index, reason))
    }
}
