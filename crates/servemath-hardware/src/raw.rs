//! The serde mirror of a catalog file, and its resolution into validated [`Hardware`].
//!
//! Every field of [`RawEntry`] is optional so that one type serves both full entries and the
//! partial overrides of a user overlay; [`resolve`] then demands what a full entry must state
//! and checks every figure's range, once.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::accelerator::{figure, Hardware, HardwareError, PeakFlops, Price};

/// Calibration families an entry may name; `other` is the escape hatch for parts that fit none.
pub const FAMILIES: [&str; 8] = [
    "ampere",
    "hopper",
    "blackwell",
    "rubin",
    "cdna3",
    "cdna4",
    "tpu",
    "other",
];

/// The date a user override's price carries when its file gives none.
pub(crate) const UNSPECIFIED_DATE: &str = "unspecified";

// Plausibility ceilings. They catch unit slips (GB typed where bytes are meant, TFLOP/s where
// FLOP/s are) rather than bound real hardware: each is orders of magnitude above any part.
const MAX_PEAK: f64 = 1e18;
const MAX_HBM_BYTES: f64 = 1e13;
const MAX_HBM_BYTES_PER_S: f64 = 1e15;
const MAX_LINK_BYTES_PER_S: f64 = 1e14;
const MAX_LATENCY_S: f64 = 0.1;
const MAX_TDP_W: f64 = 1e5;
const MAX_USD_PER_HOUR: f64 = 1e3;
const MAX_DOMAIN: i64 = 1_000_000;
/// Every figure's plausible minimum is its maximum divided by this.
const MAX_OVER_MIN: f64 = 1e9;

/// A catalog file: a list of `[[hardware]]` tables and nothing else.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFile {
    #[serde(default)]
    pub hardware: Vec<RawEntry>,
}

/// One `[[hardware]]` table as written. Key names carry their SI unit; see `catalog/README.md`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawEntry {
    pub id: Option<String>,
    #[serde(default)]
    pub aliases: Vec<String>,
    pub name: Option<String>,
    pub vendor: Option<String>,
    pub family: Option<String>,
    pub bf16_dense_flop_per_s: Option<f64>,
    pub fp8_dense_flop_per_s: Option<f64>,
    pub int8_dense_op_per_s: Option<f64>,
    pub fp4_dense_flop_per_s: Option<f64>,
    pub hbm_bytes: Option<f64>,
    pub hbm_bytes_per_s: Option<f64>,
    /// Signed so that a negative domain gets our error rather than a serde type mismatch.
    pub scale_up_domain: Option<i64>,
    pub scale_up_bytes_per_s_per_dir: Option<f64>,
    pub scale_out_bytes_per_s_per_dir: Option<f64>,
    pub scale_up_latency_s: Option<f64>,
    pub scale_out_latency_s: Option<f64>,
    pub tdp_w: Option<f64>,
    pub usd_per_gpu_hour: Option<f64>,
    pub price_source: Option<String>,
    pub price_date: Option<String>,
    pub notes: Option<String>,
    #[serde(default)]
    pub sources: BTreeMap<String, String>,
}

/// A validated entry with the (normalized) aliases it declares.
#[derive(Debug, Clone)]
pub(crate) struct Resolved {
    pub hardware: Hardware,
    pub aliases: Vec<String>,
}

/// Parses a catalog file; syntax errors and unknown keys name the line and column.
pub(crate) fn parse_file(text: &str, file: &str) -> Result<RawFile, HardwareError> {
    toml::from_str(text).map_err(|e| HardwareError::Parse {
        file: file.to_string(),
        message: describe_toml_error(text, &e),
    })
}

/// `line L, column C: message`, one line, from the toml crate's byte span.
fn describe_toml_error(text: &str, e: &toml::de::Error) -> String {
    let message = e.message().trim().trim_end_matches('.');
    match e.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            format!("line {line}, column {column}: {message}")
        }
        None => message.to_string(),
    }
}

/// Lowercase, trimmed, `_` and spaces as `-`: the form ids and aliases are stored and looked up in.
pub fn normalize_name(name: &str) -> String {
    name.trim()
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c == '_' || c == ' ' { '-' } else { c })
        .collect()
}

fn is_valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
}

/// Where an entry came from, for error messages.
struct Ctx<'a> {
    file: &'a str,
    id: &'a str,
}

impl Ctx<'_> {
    fn invalid(&self, field: &str, value: impl ToString, reason: impl ToString) -> HardwareError {
        HardwareError::Invalid {
            file: self.file.to_string(),
            id: self.id.to_string(),
            field: field.to_string(),
            value: value.to_string(),
            reason: reason.to_string(),
        }
    }

    fn missing(&self, field: &str) -> HardwareError {
        HardwareError::Missing {
            file: self.file.to_string(),
            id: self.id.to_string(),
            field: field.to_string(),
        }
    }

    fn required<T>(&self, field: &str, value: Option<T>) -> Result<T, HardwareError> {
        value.ok_or_else(|| self.missing(field))
    }

    /// A positive, finite figure no larger than `max`.
    fn figure(&self, field: &str, value: f64, max: f64) -> Result<f64, HardwareError> {
        if !value.is_finite() {
            return Err(self.invalid(field, value, "must be a finite number"));
        }
        if value <= 0.0 {
            return Err(self.invalid(field, value, "must be positive"));
        }
        if value > max {
            return Err(self.invalid(
                field,
                format!("{value:e}"),
                format!("exceeds the plausible maximum {max:e}; figures are in SI base units (bytes, FLOP/s, seconds), not GB or TFLOP/s"),
            ));
        }
        // Nine orders of magnitude below the ceiling is no real figure either: `3.35` for
        // 3.35 TB/s, or `1` for a bandwidth, would price a step in hours.
        let min = max / MAX_OVER_MIN;
        if value < min {
            return Err(self.invalid(
                field,
                format!("{value:e}"),
                format!("is below the plausible minimum {min:e}; figures are in SI base units (bytes, FLOP/s, seconds), not GB or TFLOP/s"),
            ));
        }
        Ok(value)
    }

    fn optional_figure(
        &self,
        field: &str,
        value: Option<f64>,
        max: f64,
    ) -> Result<Option<f64>, HardwareError> {
        value.map(|v| self.figure(field, v, max)).transpose()
    }

    fn text(&self, field: &str, value: Option<String>) -> Result<String, HardwareError> {
        let value = self.required(field, value)?;
        if value.trim().is_empty() {
            return Err(self.invalid(field, "\"\"", "must not be empty"));
        }
        Ok(value)
    }
}

/// Validates a raw entry (the `index`-th of `file`) into [`Hardware`]. Every figure the entry
/// states must have a source; overlays fill theirs first with [`RawEntry::fill_missing_sources`].
pub(crate) fn resolve(raw: RawEntry, file: &str, index: usize) -> Result<Resolved, HardwareError> {
    let position = format!("#{}", index + 1);
    let Some(given_id) = raw.id.clone() else {
        return Err(Ctx {
            file,
            id: &position,
        }
        .missing("id"));
    };
    let id = normalize_name(&given_id);
    let ctx = Ctx { file, id: &id };
    if !is_valid_name(&id) {
        return Err(Ctx {
            file,
            id: &position,
        }
        .invalid(
            "id",
            format!("{given_id:?}"),
            "must be letters, digits, `-` and `.`",
        ));
    }

    let peak = PeakFlops {
        bf16: ctx.optional_figure(figure::BF16, raw.bf16_dense_flop_per_s, MAX_PEAK)?,
        fp8: ctx.optional_figure(figure::FP8, raw.fp8_dense_flop_per_s, MAX_PEAK)?,
        int8: ctx.optional_figure(figure::INT8, raw.int8_dense_op_per_s, MAX_PEAK)?,
        fp4: ctx.optional_figure(figure::FP4, raw.fp4_dense_flop_per_s, MAX_PEAK)?,
    };
    if [peak.bf16, peak.fp8, peak.int8, peak.fp4]
        .iter()
        .all(Option::is_none)
    {
        return Err(ctx.invalid(
            figure::BF16,
            "(absent)",
            "an entry must state at least one dense peak (bf16, fp8, int8 or fp4)",
        ));
    }

    let hardware = Hardware {
        id: id.clone(),
        name: ctx.text("name", raw.name)?,
        vendor: ctx.text("vendor", raw.vendor)?,
        family: resolve_family(&ctx, raw.family)?,
        peak,
        hbm_bytes: ctx.figure(
            figure::HBM_BYTES,
            ctx.required(figure::HBM_BYTES, raw.hbm_bytes)?,
            MAX_HBM_BYTES,
        )?,
        hbm_bytes_per_s: ctx.figure(
            figure::HBM_BYTES_PER_S,
            ctx.required(figure::HBM_BYTES_PER_S, raw.hbm_bytes_per_s)?,
            MAX_HBM_BYTES_PER_S,
        )?,
        scale_up_domain: resolve_domain(&ctx, raw.scale_up_domain)?,
        scale_up_bytes_per_s: ctx.figure(
            figure::SCALE_UP_BYTES_PER_S,
            ctx.required(
                figure::SCALE_UP_BYTES_PER_S,
                raw.scale_up_bytes_per_s_per_dir,
            )?,
            MAX_LINK_BYTES_PER_S,
        )?,
        scale_out_bytes_per_s: ctx.optional_figure(
            figure::SCALE_OUT_BYTES_PER_S,
            raw.scale_out_bytes_per_s_per_dir,
            MAX_LINK_BYTES_PER_S,
        )?,
        scale_up_latency_s: ctx.figure(
            figure::SCALE_UP_LATENCY_S,
            ctx.required(figure::SCALE_UP_LATENCY_S, raw.scale_up_latency_s)?,
            MAX_LATENCY_S,
        )?,
        scale_out_latency_s: ctx.figure(
            figure::SCALE_OUT_LATENCY_S,
            ctx.required(figure::SCALE_OUT_LATENCY_S, raw.scale_out_latency_s)?,
            MAX_LATENCY_S,
        )?,
        tdp_w: ctx.optional_figure(figure::TDP_W, raw.tdp_w, MAX_TDP_W)?,
        price: resolve_price(&ctx, raw.usd_per_gpu_hour, raw.price_source, raw.price_date)?,
        sources: BTreeMap::new(),
        notes: raw.notes.unwrap_or_default(),
    };
    let sources = resolve_sources(&ctx, &hardware, raw.sources)?;
    let aliases = resolve_aliases(&ctx, &raw.aliases)?;
    Ok(Resolved {
        hardware: Hardware {
            sources,
            ..hardware
        },
        aliases,
    })
}

fn resolve_family(ctx: &Ctx, family: Option<String>) -> Result<String, HardwareError> {
    let given = ctx.required("family", family)?;
    let family = given.trim().to_ascii_lowercase();
    if FAMILIES.contains(&family.as_str()) {
        return Ok(family);
    }
    let hint = servemath_model::nearest(&family, &FAMILIES)
        .map(|s| format!("; did you mean `{s}`?"))
        .unwrap_or_default();
    Err(ctx.invalid(
        "family",
        format!("{given:?}"),
        format!("unknown family (one of {}){hint}", FAMILIES.join(", ")),
    ))
}

fn resolve_domain(ctx: &Ctx, domain: Option<i64>) -> Result<u32, HardwareError> {
    let domain = ctx.required(figure::SCALE_UP_DOMAIN, domain)?;
    if domain < 1 {
        return Err(ctx.invalid(
            figure::SCALE_UP_DOMAIN,
            domain,
            "must be at least 1 (a lone accelerator is a domain of 1)",
        ));
    }
    if domain > MAX_DOMAIN {
        return Err(ctx.invalid(
            figure::SCALE_UP_DOMAIN,
            domain,
            format!("exceeds the plausible maximum {MAX_DOMAIN}"),
        ));
    }
    u32::try_from(domain).map_err(|_| ctx.invalid(figure::SCALE_UP_DOMAIN, domain, "too large"))
}

/// A price needs all three of figure, source and date; a source or date alone is a mistake.
fn resolve_price(
    ctx: &Ctx,
    usd: Option<f64>,
    source: Option<String>,
    date: Option<String>,
) -> Result<Option<Price>, HardwareError> {
    let Some(usd) = usd else {
        if let Some(source) = source {
            return Err(ctx.invalid(
                "price_source",
                format!("{source:?}"),
                "given without usd_per_gpu_hour",
            ));
        }
        if let Some(date) = date {
            return Err(ctx.invalid(
                "price_date",
                format!("{date:?}"),
                "given without usd_per_gpu_hour",
            ));
        }
        return Ok(None);
    };
    let usd_per_gpu_hour = ctx.figure("usd_per_gpu_hour", usd, MAX_USD_PER_HOUR)?;
    let source = ctx.text("price_source", source)?;
    let date = ctx.text("price_date", date)?;
    if date != UNSPECIFIED_DATE && !is_iso_date(&date) {
        return Err(ctx.invalid(
            "price_date",
            format!("{date:?}"),
            "must be an ISO date, YYYY-MM-DD",
        ));
    }
    Ok(Some(Price {
        usd_per_gpu_hour,
        source,
        date,
    }))
}

fn is_iso_date(date: &str) -> bool {
    let parts: Vec<&str> = date.split('-').collect();
    let [year, month, day] = parts.as_slice() else {
        return false;
    };
    let number = |s: &str, len: usize, max: u32| {
        s.len() == len
            && s.chars().all(|c| c.is_ascii_digit())
            && s.parse::<u32>().is_ok_and(|n| (1..=max).contains(&n))
    };
    number(year, 4, 9999) && number(month, 2, 12) && number(day, 2, 31)
}

/// Every stated figure has a non-empty source, and every source names a stated figure.
fn resolve_sources(
    ctx: &Ctx,
    hardware: &Hardware,
    sources: BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, HardwareError> {
    let stated = hardware.stated_figures();
    for (key, source) in &sources {
        let field = format!("sources.{key}");
        if !figure::ALL.contains(&key.as_str()) {
            return Err(ctx.invalid(
                &field,
                format!("{source:?}"),
                "not a figure key; sources are keyed like the figures they cite",
            ));
        }
        if !stated.contains(&key.as_str()) {
            return Err(ctx.invalid(
                &field,
                format!("{source:?}"),
                "cites a figure this entry does not state",
            ));
        }
        if source.trim().is_empty() {
            return Err(ctx.invalid(&field, "\"\"", "must not be empty"));
        }
    }
    if let Some(key) = stated.iter().find(|key| !sources.contains_key(**key)) {
        return Err(ctx.missing(&format!("sources.{key}")));
    }
    Ok(sources)
}

fn resolve_aliases(ctx: &Ctx, aliases: &[String]) -> Result<Vec<String>, HardwareError> {
    let mut out: Vec<String> = Vec::new();
    for given in aliases {
        let alias = normalize_name(given);
        if !is_valid_name(&alias) {
            return Err(ctx.invalid(
                "aliases",
                format!("{given:?}"),
                "must be letters, digits, `-` and `.`",
            ));
        }
        if alias != ctx.id && !out.contains(&alias) {
            out.push(alias);
        }
    }
    Ok(out)
}

impl RawEntry {
    /// The raw form of a resolved entry, so that an overlay can be laid over it.
    pub(crate) fn from_hardware(h: &Hardware, aliases: Vec<String>) -> RawEntry {
        let (usd_per_gpu_hour, price_source, price_date) = match &h.price {
            Some(p) => (
                Some(p.usd_per_gpu_hour),
                Some(p.source.clone()),
                Some(p.date.clone()),
            ),
            None => (None, None, None),
        };
        RawEntry {
            id: Some(h.id.clone()),
            aliases,
            name: Some(h.name.clone()),
            vendor: Some(h.vendor.clone()),
            family: Some(h.family.clone()),
            bf16_dense_flop_per_s: h.peak.bf16,
            fp8_dense_flop_per_s: h.peak.fp8,
            int8_dense_op_per_s: h.peak.int8,
            fp4_dense_flop_per_s: h.peak.fp4,
            hbm_bytes: Some(h.hbm_bytes),
            hbm_bytes_per_s: Some(h.hbm_bytes_per_s),
            scale_up_domain: Some(i64::from(h.scale_up_domain)),
            scale_up_bytes_per_s_per_dir: Some(h.scale_up_bytes_per_s),
            scale_out_bytes_per_s_per_dir: h.scale_out_bytes_per_s,
            scale_up_latency_s: Some(h.scale_up_latency_s),
            scale_out_latency_s: Some(h.scale_out_latency_s),
            tdp_w: h.tdp_w,
            usd_per_gpu_hour,
            price_source,
            price_date,
            notes: Some(h.notes.clone()),
            sources: h.sources.clone(),
        }
    }

    /// This entry laid over `base`: every field this entry states wins, aliases accumulate, and
    /// sources merge key by key, so an overridden figure carries the override's source.
    pub(crate) fn over(self, base: RawEntry) -> RawEntry {
        let mut sources = base.sources;
        sources.extend(self.sources);
        let mut aliases = base.aliases;
        aliases.extend(self.aliases);
        // A new price replaces the whole price: the old source and date describe the old figure.
        let (usd_per_gpu_hour, price_source, price_date) = if self.usd_per_gpu_hour.is_some() {
            (self.usd_per_gpu_hour, self.price_source, self.price_date)
        } else {
            (
                base.usd_per_gpu_hour,
                self.price_source.or(base.price_source),
                self.price_date.or(base.price_date),
            )
        };
        RawEntry {
            id: self.id.or(base.id),
            aliases,
            name: self.name.or(base.name),
            vendor: self.vendor.or(base.vendor),
            family: self.family.or(base.family),
            bf16_dense_flop_per_s: self.bf16_dense_flop_per_s.or(base.bf16_dense_flop_per_s),
            fp8_dense_flop_per_s: self.fp8_dense_flop_per_s.or(base.fp8_dense_flop_per_s),
            int8_dense_op_per_s: self.int8_dense_op_per_s.or(base.int8_dense_op_per_s),
            fp4_dense_flop_per_s: self.fp4_dense_flop_per_s.or(base.fp4_dense_flop_per_s),
            hbm_bytes: self.hbm_bytes.or(base.hbm_bytes),
            hbm_bytes_per_s: self.hbm_bytes_per_s.or(base.hbm_bytes_per_s),
            scale_up_domain: self.scale_up_domain.or(base.scale_up_domain),
            scale_up_bytes_per_s_per_dir: self
                .scale_up_bytes_per_s_per_dir
                .or(base.scale_up_bytes_per_s_per_dir),
            scale_out_bytes_per_s_per_dir: self
                .scale_out_bytes_per_s_per_dir
                .or(base.scale_out_bytes_per_s_per_dir),
            scale_up_latency_s: self.scale_up_latency_s.or(base.scale_up_latency_s),
            scale_out_latency_s: self.scale_out_latency_s.or(base.scale_out_latency_s),
            tdp_w: self.tdp_w.or(base.tdp_w),
            usd_per_gpu_hour,
            price_source,
            price_date,
            notes: self.notes.or(base.notes),
            sources,
        }
    }

    /// Gives every figure this entry states, and its price, a source naming `file` where the
    /// file gave none: a user's override is its own source, and says so.
    pub(crate) fn fill_missing_sources(&mut self, file: &str) {
        let note = format!("{file}: user override (no source given)");
        let stated = [
            (figure::BF16, self.bf16_dense_flop_per_s.is_some()),
            (figure::FP8, self.fp8_dense_flop_per_s.is_some()),
            (figure::INT8, self.int8_dense_op_per_s.is_some()),
            (figure::FP4, self.fp4_dense_flop_per_s.is_some()),
            (figure::HBM_BYTES, self.hbm_bytes.is_some()),
            (figure::HBM_BYTES_PER_S, self.hbm_bytes_per_s.is_some()),
            (figure::SCALE_UP_DOMAIN, self.scale_up_domain.is_some()),
            (
                figure::SCALE_UP_BYTES_PER_S,
                self.scale_up_bytes_per_s_per_dir.is_some(),
            ),
            (
                figure::SCALE_OUT_BYTES_PER_S,
                self.scale_out_bytes_per_s_per_dir.is_some(),
            ),
            (
                figure::SCALE_UP_LATENCY_S,
                self.scale_up_latency_s.is_some(),
            ),
            (
                figure::SCALE_OUT_LATENCY_S,
                self.scale_out_latency_s.is_some(),
            ),
            (figure::TDP_W, self.tdp_w.is_some()),
        ];
        for (key, present) in stated {
            if present {
                self.sources
                    .entry(key.to_string())
                    .or_insert_with(|| note.clone());
            }
        }
        if self.usd_per_gpu_hour.is_some() {
            self.price_source.get_or_insert_with(|| note.clone());
            self.price_date
                .get_or_insert_with(|| UNSPECIFIED_DATE.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_normalize_to_the_stored_form() {
        assert_eq!(normalize_name(" H100_SXM "), "h100-sxm");
        assert_eq!(normalize_name("GB200 NVL72"), "gb200-nvl72");
        assert!(is_valid_name("tpu-v5e"));
        assert!(!is_valid_name("-h100"));
        assert!(!is_valid_name("h100/sxm"));
    }

    #[test]
    fn iso_dates() {
        assert!(is_iso_date("2026-09-25"));
        assert!(!is_iso_date("2026-9-25"));
        assert!(!is_iso_date("2026-13-01"));
        assert!(!is_iso_date("25/09/2026"));
    }

    #[test]
    fn toml_errors_name_line_and_column() {
        let text = "[[hardware]]\nid = \"x\"\nhbm_bytes = = 3\n";
        let err = parse_file(text, "f.toml").err();
        let Some(HardwareError::Parse { message, .. }) = err else {
            panic!("expected a parse error, got {err:?}");
        };
        assert!(message.starts_with("line 3, column "), "{message}");
    }
}
