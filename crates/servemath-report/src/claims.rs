//! `servemath.claims/1`: the seed claims reproduced from first principles.

use crate::Schema;
use serde::Serialize;

/// Every reproduced claim, in the order of `seed-claims.md`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClaimsReport {
    /// One entry per reproduced figure.
    pub claims: Vec<Claim>,
}

impl Schema for ClaimsReport {
    const SCHEMA_VERSION: &'static str = "servemath.claims/1";
}

/// One reproduced figure.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Claim {
    /// Seed-claim item, with a letter when an item has several figures (`4b`).
    pub id: String,
    /// What the figure is, in a few words.
    pub title: String,
    /// The model, hardware and settings the figure comes from.
    pub inputs: String,
    /// The figure in base units (seconds, tokens, ratios).
    pub value: f64,
    /// Unit of `value`: `s`, `tokens`, `ratio` or `fraction`.
    pub unit: String,
    /// The figure as people read it.
    pub display: String,
    /// How the figure follows from the inputs, in sentences.
    pub explanation: String,
}
