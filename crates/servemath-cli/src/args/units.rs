//! The loose scalar a scenario file may write where a flag takes text (`duration = "1h"` or
//! `duration = 3600`); the units themselves are parsed by `servemath::units`.

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::Deserialize;
pub use servemath::units::{parse_duration_s, parse_positive_duration_s, parse_window};
use std::fmt;
use std::str::FromStr;

/// A flag's or a file's value as text, before it is parsed: TOML strings, numbers and arrays of
/// numbers (`window = [0, 60]` reads as `0,60`) all become text, so that the command line and
/// the file go through the same parser and the same error messages.
#[derive(Debug, Clone, PartialEq)]
pub struct Text(pub String);

impl FromStr for Text {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Text(s.to_string()))
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string, a number or an array of numbers")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Text, A::Error> {
                let mut parts = Vec::new();
                while let Some(v) = seq.next_element::<Text>()? {
                    parts.push(v.0);
                }
                Ok(Text(parts.join(",")))
            }
        }
        d.deserialize_any(V)
    }
}
