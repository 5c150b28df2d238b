//! Provider price lists: what API providers charge per million input, output and cached input
//! tokens, and above a long-context threshold. Parsed from TOML (`data/prices.toml` is compiled
//! in; users pass their own), validated once into [`PriceList`].

use crate::error::EconError;
use serde::Deserialize;

const PRICES_TOML: &str = include_str!("../data/prices.toml");
/// Name of the compiled-in price list, as errors cite it.
pub const BUILTIN_PRICES_FILE: &str = "servemath-econ/data/prices.toml";

/// A price tier that applies to a whole request once its input exceeds a threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct LongContextTier {
    /// Input tokens above which the whole request is billed at this tier.
    pub threshold_tokens: f64,
    /// Dollars per million input tokens of a request above the threshold.
    pub input_usd_per_mtok: f64,
    /// Dollars per million output tokens of a request above the threshold.
    pub output_usd_per_mtok: f64,
}

/// One provider's price for one model.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderPrice {
    /// The API provider (`Anthropic`, `OpenAI`, ...), as the file writes it.
    pub provider: String,
    /// The provider's model name, as the file writes it.
    pub model: String,
    /// The built-in servemath model closest to what is served, if any (a suggestion for
    /// `--model`).
    pub serves: Option<String>,
    /// Dollars per million uncached input tokens; positive (ratios divide by it).
    pub input_usd_per_mtok: f64,
    /// Dollars per million output tokens; non-negative.
    pub output_usd_per_mtok: f64,
    /// Dollars per million input tokens read from the provider's prompt cache; `None` where
    /// the provider lists no cached price.
    pub cached_input_usd_per_mtok: Option<f64>,
    /// The price above a long-context threshold; `None` where there is no such tier.
    pub long_context: Option<LongContextTier>,
    /// Where the prices were read (a URL or a document).
    pub source: String,
    /// ISO date the price was read, or `unknown`.
    pub date: String,
    /// `false` where the figure could not be checked against the provider's own page.
    pub confirmed: bool,
    /// A caveat on the entry (what else is billed, what was not confirmed), if any.
    pub note: Option<String>,
}

impl ProviderPrice {
    /// Output price over input price.
    pub fn output_over_input(&self) -> f64 {
        self.output_usd_per_mtok / self.input_usd_per_mtok
    }

    /// Cached-input price over uncached-input price.
    pub fn cached_over_uncached(&self) -> Option<f64> {
        self.cached_input_usd_per_mtok
            .map(|c| c / self.input_usd_per_mtok)
    }

    /// Long-context output price over the base output price.
    pub fn long_output_over_base(&self) -> Option<f64> {
        self.long_context
            .as_ref()
            .map(|l| l.output_usd_per_mtok / self.output_usd_per_mtok)
    }

    /// Long-context input price over the base input price.
    pub fn long_input_over_base(&self) -> Option<f64> {
        self.long_context
            .as_ref()
            .map(|l| l.input_usd_per_mtok / self.input_usd_per_mtok)
    }
}

/// A validated price list.
#[derive(Debug, Clone, PartialEq)]
pub struct PriceList {
    /// Where the list came from.
    pub file: String,
    /// The entries in file order; never empty.
    pub prices: Vec<ProviderPrice>,
}

/// The serde mirror of the file: one `[[price]]` table per entry.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawList {
    price: Vec<RawPrice>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPrice {
    provider: String,
    model: String,
    serves: Option<String>,
    input_usd_per_mtok: f64,
    output_usd_per_mtok: f64,
    cached_input_usd_per_mtok: Option<f64>,
    long_context_threshold_tokens: Option<f64>,
    long_input_usd_per_mtok: Option<f64>,
    long_output_usd_per_mtok: Option<f64>,
    source: String,
    date: String,
    confirmed: bool,
    note: Option<String>,
}

impl PriceList {
    /// The compiled-in list (its validity is pinned by a unit test).
    pub fn builtin() -> Result<PriceList, EconError> {
        PriceList::parse(PRICES_TOML, BUILTIN_PRICES_FILE)
    }

    /// Parses and validates a price list; errors name the file, the entry and the field.
    pub fn parse(text: &str, origin: &str) -> Result<PriceList, EconError> {
        let raw: RawList = toml::from_str(text).map_err(|e| EconError::Parse {
            origin: origin.to_string(),
            message: e.message().trim_end().to_string(),
        })?;
        let prices = raw
            .price
            .into_iter()
            .map(|r| resolve(r, origin))
            .collect::<Result<Vec<_>, _>>()?;
        if prices.is_empty() {
            return Err(EconError::Parse {
                origin: origin.to_string(),
                message: "no [[price]] entries".to_string(),
            });
        }
        Ok(PriceList {
            file: origin.to_string(),
            prices,
        })
    }

    /// Entries whose provider or model contains `needle` (case-insensitive).
    pub fn matching(&self, needle: &str) -> Vec<&ProviderPrice> {
        let n = needle.to_ascii_lowercase();
        self.prices
            .iter()
            .filter(|p| {
                p.provider.to_ascii_lowercase().contains(&n)
                    || p.model.to_ascii_lowercase().contains(&n)
            })
            .collect()
    }
}

fn resolve(r: RawPrice, origin: &str) -> Result<ProviderPrice, EconError> {
    let at = format!("{origin}: {} {}", r.provider, r.model);
    let bad = |name: &str, value: f64, reason: &'static str| EconError::OutOfRange {
        origin: at.clone(),
        name: name.to_string(),
        value,
        reason,
    };
    let price = |name: &str, v: f64| {
        if !v.is_finite() || v < 0.0 {
            Err(bad(name, v, "must be a non-negative number"))
        } else {
            Ok(v)
        }
    };
    price("input_usd_per_mtok", r.input_usd_per_mtok)?;
    price("output_usd_per_mtok", r.output_usd_per_mtok)?;
    if r.input_usd_per_mtok == 0.0 {
        return Err(bad(
            "input_usd_per_mtok",
            0.0,
            "must be positive (ratios divide by it)",
        ));
    }
    if let Some(c) = r.cached_input_usd_per_mtok {
        price("cached_input_usd_per_mtok", c)?;
    }
    let long = match (
        r.long_context_threshold_tokens,
        r.long_input_usd_per_mtok,
        r.long_output_usd_per_mtok,
    ) {
        (None, None, None) => None,
        (Some(t), Some(i), Some(o)) => {
            if !(t.is_finite() && t >= 1.0) {
                return Err(bad(
                    "long_context_threshold_tokens",
                    t,
                    "must be at least 1",
                ));
            }
            Some(LongContextTier {
                threshold_tokens: t,
                input_usd_per_mtok: price("long_input_usd_per_mtok", i)?,
                output_usd_per_mtok: price("long_output_usd_per_mtok", o)?,
            })
        }
        _ => {
            return Err(EconError::Parse {
                origin: at,
                message: "a long-context tier needs all of long_context_threshold_tokens, \
                          long_input_usd_per_mtok and long_output_usd_per_mtok"
                    .to_string(),
            })
        }
    };
    Ok(ProviderPrice {
        provider: r.provider,
        model: r.model,
        serves: r.serves,
        input_usd_per_mtok: r.input_usd_per_mtok,
        output_usd_per_mtok: r.output_usd_per_mtok,
        cached_input_usd_per_mtok: r.cached_input_usd_per_mtok,
        long_context: long,
        source: r.source,
        date: r.date,
        confirmed: r.confirmed,
        note: r.note,
    })
}
