//! Mooncake (FAST'25) JSONL traces: one object per line with `timestamp` (ms from the trace
//! start), `input_length`, `output_length` and `hash_ids` (prefix-block hashes, 512 tokens per
//! block). Unknown keys are ignored; `hash_ids` may be absent (no prefix information), but when
//! present it must hold exactly `ceil(input_length / 512)` non-negative integers, as on every
//! row of the shipped files: any other count means the block size is not 512 and the hashes
//! would be misread.
//!
//! Arrival times are seconds after the first row, exactly as recorded: the conversation
//! trace's ~3 s quantization is kept unless the caller asks for
//! [`super::BucketReplay::Spread`].

use serde_json::{Map, Value};

use super::error::{snippet, Field, TraceError};
use super::text::lines;
use super::Trace;
use crate::workload::lengths::MAX_TOKENS;
use crate::workload::{Prefix, Request};

/// Tokens per `hash_ids` block in the Mooncake traces.
pub const MOONCAKE_BLOCK_TOKENS: u32 = 512;

/// Reads a Mooncake trace. Rows must be in time order; times are relative to the first row.
pub fn read_mooncake(text: &str, file: &str) -> Result<Trace, TraceError> {
    let mut requests = Vec::new();
    let mut first_ms: Option<f64> = None;
    let mut previous_ms: Option<f64> = None;
    if text.trim().is_empty() {
        return Err(TraceError::Empty {
            file: file.to_string(),
        });
    }
    for (line, row_text) in lines(text) {
        let row = RowCtx {
            file,
            line,
            text: row_text,
        };
        if row_text.trim().is_empty() {
            return Err(TraceError::EmptyLine {
                file: file.to_string(),
                line,
            });
        }
        let obj = row.object()?;
        let ms = row.timestamp_ms(&obj)?;
        if let Some(prev) = previous_ms {
            if ms < prev {
                return Err(TraceError::OutOfOrder {
                    file: file.to_string(),
                    line,
                    at: Field::Key("timestamp".into()),
                    value: number(ms),
                    previous: number(prev),
                });
            }
        }
        previous_ms = Some(ms);
        let first = *first_ms.get_or_insert(ms);
        let input_tokens = row.tokens(&obj, "input_length")?;
        let output_tokens = row.tokens(&obj, "output_length")?;
        let prefix = row.prefix(&obj, input_tokens)?;
        requests.push(Request {
            arrival_s: (ms - first) / 1000.0,
            input_tokens,
            output_tokens,
            prefix,
        });
    }
    if requests.is_empty() {
        return Err(TraceError::Empty {
            file: file.to_string(),
        });
    }
    Ok(Trace { requests })
}

/// Prints a millisecond value as the file most likely wrote it.
fn number(ms: f64) -> String {
    ms.to_string()
}

struct RowCtx<'a> {
    file: &'a str,
    line: usize,
    text: &'a str,
}

impl RowCtx<'_> {
    fn object(&self) -> Result<Map<String, Value>, TraceError> {
        match serde_json::from_str::<Value>(self.text) {
            Ok(Value::Object(obj)) => Ok(obj),
            Ok(other) => Err(TraceError::InvalidValue {
                file: self.file.to_string(),
                line: self.line,
                at: Field::Row,
                value: snippet(&other.to_string()),
                reason: "expected a json object".into(),
            }),
            Err(e) => {
                let full = e.to_string();
                // serde_json appends " at line 1 column N"; the position is reported apart.
                let message = match full.rfind(" at line ") {
                    Some(i) => full[..i].to_string(),
                    None => full,
                };
                Err(TraceError::Json {
                    file: self.file.to_string(),
                    line: self.line,
                    column: e.column(),
                    message,
                    row: snippet(self.text),
                })
            }
        }
    }

    fn get<'v>(&self, obj: &'v Map<String, Value>, key: &str) -> Result<&'v Value, TraceError> {
        match obj.get(key) {
            Some(Value::Null) | None => Err(TraceError::MissingField {
                file: self.file.to_string(),
                line: self.line,
                at: Field::Key(key.to_string()),
                row: snippet(self.text),
            }),
            Some(v) => Ok(v),
        }
    }

    fn invalid(&self, key: &str, value: &Value, reason: impl Into<String>) -> TraceError {
        TraceError::InvalidValue {
            file: self.file.to_string(),
            line: self.line,
            at: Field::Key(key.to_string()),
            value: snippet(&value.to_string()),
            reason: reason.into(),
        }
    }

    fn timestamp_ms(&self, obj: &Map<String, Value>) -> Result<f64, TraceError> {
        let v = self.get(obj, "timestamp")?;
        match v.as_f64() {
            Some(ms) if ms >= 0.0 && ms.is_finite() => Ok(ms),
            Some(_) => Err(self.invalid("timestamp", v, "must not be negative")),
            None => Err(self.invalid("timestamp", v, "expected a number of milliseconds")),
        }
    }

    fn tokens(&self, obj: &Map<String, Value>, key: &str) -> Result<u32, TraceError> {
        let v = self.get(obj, key)?;
        let reason = match (v.as_u64(), v.as_f64()) {
            (Some(0), _) => "must be at least 1 token".to_string(),
            (Some(n), _) => match u32::try_from(n) {
                Ok(n) if n <= MAX_TOKENS => return Ok(n),
                _ => format!("more than {MAX_TOKENS} tokens"),
            },
            (None, Some(x)) if x <= 0.0 => "must be positive".to_string(),
            (None, Some(x)) if x > f64::from(MAX_TOKENS) => {
                format!("more than {MAX_TOKENS} tokens")
            }
            (None, Some(_)) => "must be a whole number of tokens".to_string(),
            (None, None) => "expected a whole number of tokens".to_string(),
        };
        Err(self.invalid(key, v, reason))
    }

    fn prefix(
        &self,
        obj: &Map<String, Value>,
        input_tokens: u32,
    ) -> Result<Option<Prefix>, TraceError> {
        let v = match obj.get("hash_ids") {
            None | Some(Value::Null) => return Ok(None),
            Some(v) => v,
        };
        let Some(items) = v.as_array() else {
            return Err(self.invalid("hash_ids", v, "expected an array of block hashes"));
        };
        let blocks = input_tokens.div_ceil(MOONCAKE_BLOCK_TOKENS) as usize;
        if items.len() != blocks {
            return Err(TraceError::InvalidValue {
                file: self.file.to_string(),
                line: self.line,
                at: Field::Key("hash_ids".into()),
                value: format!("{} hashes", items.len()),
                reason: format!(
                    "input_length {input_tokens} needs ceil({input_tokens}/{MOONCAKE_BLOCK_TOKENS}) = {blocks} blocks"
                ),
            });
        }
        let hashes = items
            .iter()
            .enumerate()
            .map(|(i, h)| {
                h.as_u64().ok_or_else(|| {
                    self.invalid(
                        &format!("hash_ids[{i}]"),
                        h,
                        "expected a non-negative integer hash",
                    )
                })
            })
            .collect::<Result<Box<[u64]>, _>>()?;
        Ok(Some(Prefix {
            block_tokens: MOONCAKE_BLOCK_TOKENS,
            hashes,
        }))
    }
}
