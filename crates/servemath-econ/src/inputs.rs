//! The cost inputs: one named, documented, overridable set per hardware entry.
//!
//! Defaults come from `data/costs.toml` (compiled in): a `[default]` table of figures that do
//! not depend on the part (amortization, cost of capital, power prices, PUE, facility rent)
//! and one `[hardware.<id>]` table per catalog entry (capital per GPU, rack size, system
//! power). Every figure carries its source under `sources`. The rental price and the TDP
//! default to the hardware catalog's own sourced figures. Users override any input with a
//! TOML file or `--cost name=value`; the source then names the override.

use crate::error::EconError;
use servemath_hardware::Hardware;
use servemath_model::nearest;
use std::collections::BTreeMap;

/// How the GPU-hours are paid for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Rented capacity at `rental_usd_per_gpu_hour` (power, facility and the hardware included
    /// in the rate), plus the financing of any prepaid share of a multi-year contract.
    Rental,
    /// Owned hardware: capital amortization, financing, power and facility.
    Owned,
}

impl Mode {
    /// The mode as written in files, flags and JSON: `rental` or `owned`.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Rental => "rental",
            Mode::Owned => "owned",
        }
    }

    /// Parses `rental` or `owned` (also `rent`, `rented`, `own`, `ownership`; any case, spaces
    /// trimmed). Anything else is an [`EconError::Parse`] naming `origin`.
    pub fn parse(s: &str, origin: &str) -> Result<Mode, EconError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "rental" | "rent" | "rented" => Ok(Mode::Rental),
            "owned" | "own" | "ownership" => Ok(Mode::Owned),
            other => Err(EconError::Parse {
                origin: origin.to_string(),
                message: format!("unknown mode `{other}`; expected `rental` or `owned`"),
            }),
        }
    }
}

/// Every cost input of one hardware entry. Money in US dollars, power in watts, time in years
/// or hours as the name says; fractions in [0, 1].
#[derive(Debug, Clone, PartialEq)]
pub struct CostInputs {
    /// Catalog id these inputs were made for.
    pub hardware: String,
    /// How the GPU-hours are paid for: rental where the hardware has a rental price, else
    /// owned, unless overridden.
    pub mode: Mode,
    /// Rental price of one GPU for one hour (on-demand unless a contract rate is set).
    /// `None`: no public price.
    pub rental_usd_per_gpu_hour: Option<f64>,
    /// Share of a multi-year rental contract's value paid up front (0: pay as you go).
    pub prepaid_fraction: f64,
    /// Length of the rental contract the prepayment covers.
    pub contract_years: f64,
    /// Purchase price per GPU including its share of the server, rack and network.
    /// `None`: no public price.
    pub capital_usd_per_gpu: Option<f64>,
    /// Straight-line depreciation period of the capital.
    pub amortization_years: f64,
    /// Annual cost of capital (interest on debt, or the return equity asks), applied to the
    /// capital in owned mode and to a contract's prepayment in rental mode.
    pub cost_of_capital: f64,
    /// GPU board power. `None`: unpublished.
    pub tdp_w: Option<f64>,
    /// Server (or rack) power per GPU over the GPU's TDP: CPUs, memory, NICs, switches, fans.
    pub server_power_over_tdp: f64,
    /// Power an idle system draws, as a fraction of its full draw.
    pub idle_power_fraction: f64,
    /// Power usage effectiveness: facility power over IT power.
    pub pue: f64,
    /// Energy price under a long-term power purchase agreement.
    pub ppa_usd_per_mwh: f64,
    /// Energy price on the spot (wholesale) market.
    pub spot_usd_per_mwh: f64,
    /// Share of energy bought under the long-term agreement (the rest at spot).
    pub ppa_share: f64,
    /// Data-center space, cooling and power delivery per kW of provisioned IT load per month
    /// (wholesale colocation rent), energy excluded.
    pub facility_usd_per_kw_month: f64,
    /// GPUs in one rack (a rack-scale system, or the servers a rack's power budget holds).
    pub gpus_per_rack: f64,
    /// Input name -> where its value came from.
    pub sources: BTreeMap<String, String>,
}

/// What an input is, for `--help`, errors and docs.
pub struct InputDoc {
    /// The input's name, as in [`CostInputs`]' fields, `--cost NAME=VALUE` and TOML files.
    pub name: &'static str,
    /// Its unit as printed (`$/GPU-hour`, `fraction`, `ratio >= 1`, `W`).
    pub unit: &'static str,
    /// What it is, in a short lowercase phrase.
    pub doc: &'static str,
}

/// Every input by name, in display order.
pub const INPUT_DOCS: &[InputDoc] = &[
    InputDoc {
        name: "rental_usd_per_gpu_hour",
        unit: "$/GPU-hour",
        doc: "rental price of one GPU-hour",
    },
    InputDoc {
        name: "prepaid_fraction",
        unit: "fraction",
        doc: "share of a rental contract paid up front",
    },
    InputDoc {
        name: "contract_years",
        unit: "years",
        doc: "length of the rental contract",
    },
    InputDoc {
        name: "capital_usd_per_gpu",
        unit: "$",
        doc: "price per GPU incl. its share of server, rack and network",
    },
    InputDoc {
        name: "amortization_years",
        unit: "years",
        doc: "straight-line depreciation period",
    },
    InputDoc {
        name: "cost_of_capital",
        unit: "1/year",
        doc: "annual cost of capital",
    },
    InputDoc {
        name: "tdp_w",
        unit: "W",
        doc: "GPU board power (default: the hardware catalog)",
    },
    InputDoc {
        name: "server_power_over_tdp",
        unit: "ratio >= 1",
        doc: "system power per GPU over the GPU's TDP",
    },
    InputDoc {
        name: "idle_power_fraction",
        unit: "fraction",
        doc: "idle draw over full draw",
    },
    InputDoc {
        name: "pue",
        unit: "ratio >= 1",
        doc: "facility power over IT power",
    },
    InputDoc {
        name: "ppa_usd_per_mwh",
        unit: "$/MWh",
        doc: "energy under a long-term power agreement",
    },
    InputDoc {
        name: "spot_usd_per_mwh",
        unit: "$/MWh",
        doc: "energy at the spot price",
    },
    InputDoc {
        name: "ppa_share",
        unit: "fraction",
        doc: "share of energy under the agreement",
    },
    InputDoc {
        name: "facility_usd_per_kw_month",
        unit: "$/kW-month",
        doc: "colocation rent per kW of IT load",
    },
    InputDoc {
        name: "gpus_per_rack",
        unit: "GPUs",
        doc: "GPUs in one rack",
    },
];

const COSTS_TOML: &str = include_str!("../data/costs.toml");
/// Name of the compiled-in cost data, as errors cite it.
pub const BUILTIN_COSTS_FILE: &str = "servemath-econ/data/costs.toml";

/// The sourced default cost inputs for a hardware entry: `data/costs.toml`'s defaults and the
/// entry's own table, with the rental price and TDP from the hardware catalog unless the data
/// file overrides them. Mode: rental where a rental price exists, else owned.
///
/// Figures without a public source stay `None`; [`CostInputs::check`] then names them.
pub fn cost_inputs_for(hw: &Hardware) -> Result<CostInputs, EconError> {
    let doc: toml::Table = COSTS_TOML
        .parse()
        .map_err(|e: toml::de::Error| EconError::Parse {
            origin: BUILTIN_COSTS_FILE.to_string(),
            message: e.message().to_string(),
        })?;
    let mut inputs = CostInputs::empty(&hw.id);
    if let Some(t) = hw.tdp_w {
        inputs.tdp_w = Some(t);
        let src = hw.source("tdp_w").unwrap_or("hardware catalog");
        inputs
            .sources
            .insert("tdp_w".into(), format!("hardware catalog: {src}"));
    }
    if let Some(p) = &hw.price {
        inputs.rental_usd_per_gpu_hour = Some(p.usd_per_gpu_hour);
        inputs.sources.insert(
            "rental_usd_per_gpu_hour".into(),
            format!("hardware catalog ({}): {}", p.date, p.source),
        );
    }
    let default = doc.get("default").and_then(|v| v.as_table());
    let entry = doc
        .get("hardware")
        .and_then(|v| v.as_table())
        .and_then(|t| t.get(&hw.id))
        .and_then(|v| v.as_table());
    for (table, where_) in [
        (default, "[default]".to_string()),
        (entry, format!("[hardware.{}]", hw.id)),
    ] {
        let Some(table) = table else { continue };
        let origin = format!("{BUILTIN_COSTS_FILE} {where_}");
        apply_sourced(&mut inputs, table, &origin)?;
    }
    inputs.mode = if inputs.rental_usd_per_gpu_hour.is_some() {
        Mode::Rental
    } else {
        Mode::Owned
    };
    inputs.check_ranges(BUILTIN_COSTS_FILE)?;
    Ok(inputs)
}

/// The hardware ids `data/costs.toml` has an entry for.
pub fn costs_file_hardware_ids() -> Vec<String> {
    COSTS_TOML
        .parse::<toml::Table>()
        .ok()
        .and_then(|d| {
            d.get("hardware")
                .and_then(|v| v.as_table())
                .map(|t| t.keys().cloned().collect())
        })
        .unwrap_or_default()
}

/// Applies a data-file table: values, then its `sources` sub-table (every value needs one).
fn apply_sourced(
    inputs: &mut CostInputs,
    table: &toml::Table,
    origin: &str,
) -> Result<(), EconError> {
    let sources = table.get("sources").and_then(|v| v.as_table());
    for (name, value) in table {
        if name == "sources" {
            continue;
        }
        let v = number(name, value, origin)?;
        inputs.set(name, v, origin)?;
        let src = sources
            .and_then(|s| s.get(name))
            .and_then(|s| s.as_str())
            .ok_or_else(|| EconError::Parse {
                origin: origin.to_string(),
                message: format!("`{name}` has no entry in `sources`"),
            })?;
        inputs.sources.insert(name.clone(), src.to_string());
    }
    Ok(())
}

fn number(name: &str, value: &toml::Value, origin: &str) -> Result<f64, EconError> {
    value
        .as_float()
        .or_else(|| value.as_integer().map(|i| i as f64))
        .ok_or_else(|| EconError::Parse {
            origin: origin.to_string(),
            message: format!("cost input `{name}` = {value}: expected a number"),
        })
}

impl CostInputs {
    /// Inputs with generic placeholders; `cost_inputs_for` fills them from the data file.
    fn empty(hardware: &str) -> CostInputs {
        CostInputs {
            hardware: hardware.to_string(),
            mode: Mode::Rental,
            rental_usd_per_gpu_hour: None,
            prepaid_fraction: 0.0,
            contract_years: 1.0,
            capital_usd_per_gpu: None,
            amortization_years: 5.0,
            cost_of_capital: 0.0,
            tdp_w: None,
            server_power_over_tdp: 1.0,
            idle_power_fraction: 0.0,
            pue: 1.0,
            ppa_usd_per_mwh: 0.0,
            spot_usd_per_mwh: 0.0,
            ppa_share: 1.0,
            facility_usd_per_kw_month: 0.0,
            gpus_per_rack: 1.0,
            sources: BTreeMap::new(),
        }
    }

    /// Value of an input by name (`None` for an unknown name or a figure with no source).
    pub fn get(&self, name: &str) -> Option<f64> {
        match name {
            "rental_usd_per_gpu_hour" => self.rental_usd_per_gpu_hour,
            "capital_usd_per_gpu" => self.capital_usd_per_gpu,
            "tdp_w" => self.tdp_w,
            _ => self.as_map().get(name).copied().flatten(),
        }
    }

    /// Every input as name -> value, in [`INPUT_DOCS`] order of names.
    pub fn as_map(&self) -> BTreeMap<&'static str, Option<f64>> {
        BTreeMap::from([
            ("rental_usd_per_gpu_hour", self.rental_usd_per_gpu_hour),
            ("prepaid_fraction", Some(self.prepaid_fraction)),
            ("contract_years", Some(self.contract_years)),
            ("capital_usd_per_gpu", self.capital_usd_per_gpu),
            ("amortization_years", Some(self.amortization_years)),
            ("cost_of_capital", Some(self.cost_of_capital)),
            ("tdp_w", self.tdp_w),
            ("server_power_over_tdp", Some(self.server_power_over_tdp)),
            ("idle_power_fraction", Some(self.idle_power_fraction)),
            ("pue", Some(self.pue)),
            ("ppa_usd_per_mwh", Some(self.ppa_usd_per_mwh)),
            ("spot_usd_per_mwh", Some(self.spot_usd_per_mwh)),
            ("ppa_share", Some(self.ppa_share)),
            (
                "facility_usd_per_kw_month",
                Some(self.facility_usd_per_kw_month),
            ),
            ("gpus_per_rack", Some(self.gpus_per_rack)),
        ])
    }

    /// Sets one input by name, checking its range; the source becomes `origin`. A rejected
    /// value leaves the inputs unchanged.
    pub fn set(&mut self, name: &str, value: f64, origin: &str) -> Result<(), EconError> {
        let Some(range) = range_of(name) else {
            let names: Vec<&str> = INPUT_DOCS.iter().map(|d| d.name).collect();
            return Err(EconError::Unknown {
                origin: origin.to_string(),
                name: name.to_string(),
                suggestion: nearest(name, &names).map(str::to_string),
            });
        };
        let reason = if value.is_finite() {
            range.violation(value)
        } else {
            Some("must be a finite number")
        };
        if let Some(reason) = reason {
            return Err(EconError::OutOfRange {
                origin: origin.to_string(),
                name: name.to_string(),
                value,
                reason,
            });
        }
        match name {
            "rental_usd_per_gpu_hour" => self.rental_usd_per_gpu_hour = Some(value),
            "capital_usd_per_gpu" => self.capital_usd_per_gpu = Some(value),
            "tdp_w" => self.tdp_w = Some(value),
            "prepaid_fraction" => self.prepaid_fraction = value,
            "contract_years" => self.contract_years = value,
            "amortization_years" => self.amortization_years = value,
            "cost_of_capital" => self.cost_of_capital = value,
            "server_power_over_tdp" => self.server_power_over_tdp = value,
            "idle_power_fraction" => self.idle_power_fraction = value,
            "pue" => self.pue = value,
            "ppa_usd_per_mwh" => self.ppa_usd_per_mwh = value,
            "spot_usd_per_mwh" => self.spot_usd_per_mwh = value,
            "ppa_share" => self.ppa_share = value,
            "facility_usd_per_kw_month" => self.facility_usd_per_kw_month = value,
            _ => self.gpus_per_rack = value,
        }
        self.sources.insert(name.to_string(), origin.to_string());
        Ok(())
    }

    /// Applies a TOML table of `name = value` overrides; `mode = "owned"` sets the mode.
    pub fn apply_table(&mut self, t: &toml::Table, origin: &str) -> Result<(), EconError> {
        for (name, value) in t {
            if name == "mode" {
                let s = value.as_str().ok_or_else(|| EconError::Parse {
                    origin: origin.to_string(),
                    message: format!("`mode` = {value}: expected \"rental\" or \"owned\""),
                })?;
                self.mode = Mode::parse(s, origin)?;
                continue;
            }
            let v = number(name, value, origin)?;
            self.set(name, v, origin)?;
        }
        Ok(())
    }

    /// Re-checks every range (for inputs built field by field).
    fn check_ranges(&self, origin: &str) -> Result<(), EconError> {
        let mut probe = self.clone();
        for (name, value) in self.as_map() {
            if let Some(v) = value {
                probe.set(name, v, origin)?;
            }
        }
        Ok(())
    }

    /// Checks that the mode's figures exist: a rental price in rental mode; capital and TDP in
    /// owned mode. The error names the missing input and how to set it.
    pub fn check(&self) -> Result<(), EconError> {
        let missing = |name, why| EconError::Missing {
            hardware: self.hardware.clone(),
            name,
            why,
        };
        match self.mode {
            Mode::Rental if self.rental_usd_per_gpu_hour.is_none() => Err(missing(
                "rental_usd_per_gpu_hour",
                "no public rental price; or price it owned",
            )),
            Mode::Owned
                if self.capital_usd_per_gpu.is_none() && self.rental_usd_per_gpu_hour.is_none() =>
            {
                Err(missing(
                    "capital_usd_per_gpu",
                    "no public purchase or rental price",
                ))
            }
            Mode::Owned if self.capital_usd_per_gpu.is_none() => Err(missing(
                "capital_usd_per_gpu",
                "no public purchase price; or price it rented",
            )),
            Mode::Owned if self.tdp_w.is_none() => {
                Err(missing("tdp_w", "no published board power"))
            }
            _ => Ok(()),
        }
    }

    /// Blended energy price: the agreement's share at its price, the rest at spot.
    pub fn energy_usd_per_mwh(&self) -> f64 {
        self.ppa_share * self.ppa_usd_per_mwh + (1.0 - self.ppa_share) * self.spot_usd_per_mwh
    }

    /// Where an input's value came from.
    pub fn source(&self, name: &str) -> Option<&str> {
        self.sources.get(name).map(String::as_str)
    }
}

/// The valid range of each input, by name; `None` for an unknown name.
fn range_of(name: &str) -> Option<Range> {
    Some(match name {
        // Upper bounds far above any real figure (100x the dearest seen), so that a typo's
        // magnitude is refused instead of printed as a 30-digit dollar figure.
        "rental_usd_per_gpu_hour" => {
            Range::NonNegativeUpTo(1e4, "must be at most $1e4 per GPU-hour")
        }
        "capital_usd_per_gpu" => Range::NonNegativeUpTo(1e7, "must be at most $1e7 per GPU"),
        "ppa_usd_per_mwh" | "spot_usd_per_mwh" => {
            Range::NonNegativeUpTo(1e5, "must be at most $1e5 per MWh")
        }
        "facility_usd_per_kw_month" => {
            Range::NonNegativeUpTo(1e4, "must be at most $1e4 per kW-month")
        }
        // The hardware catalog's own cap on board power.
        "tdp_w" => Range::PositiveUpTo(1e5, "must be at most 1e5 W"),
        "prepaid_fraction" | "idle_power_fraction" | "ppa_share" => Range::Fraction,
        "contract_years" | "amortization_years" => Range::Years,
        "cost_of_capital" => Range::Rate,
        "server_power_over_tdp" => Range::AtLeastOneUpTo(10.0, "must be at most 10"),
        "gpus_per_rack" => Range::AtLeastOneUpTo(1e4, "must be at most 10,000"),
        "pue" => Range::Pue,
        _ => return None,
    })
}

/// The valid range of an input.
#[derive(Clone, Copy)]
/// `…UpTo(max, message)`: the message refuses a value above `max`.
enum Range {
    NonNegativeUpTo(f64, &'static str),
    PositiveUpTo(f64, &'static str),
    Fraction,
    Years,
    Rate,
    AtLeastOneUpTo(f64, &'static str),
    Pue,
}

impl Range {
    fn violation(self, v: f64) -> Option<&'static str> {
        match self {
            Range::NonNegativeUpTo(..) if v < 0.0 => Some("must not be negative"),
            Range::NonNegativeUpTo(max, what) if v > max => Some(what),
            Range::PositiveUpTo(..) if v <= 0.0 => Some("must be positive"),
            Range::PositiveUpTo(max, what) if v > max => Some(what),
            Range::Fraction if !(0.0..=1.0).contains(&v) => Some("must be in [0, 1]"),
            Range::Years if !(v > 0.0 && v <= 30.0) => Some("must be in (0, 30] years"),
            Range::Rate if !(0.0..=1.0).contains(&v) => {
                Some("must be in [0, 1] (an annual rate: 0.1 is 10 %)")
            }
            Range::AtLeastOneUpTo(..) if v < 1.0 => Some("must be at least 1"),
            Range::AtLeastOneUpTo(max, what) if v > max => Some(what),
            Range::Pue if !(1.0..=3.0).contains(&v) => Some("must be in [1, 3]"),
            _ => None,
        }
    }
}

/// The smallest utilization a GPU-hour is charged at: below 0.1 % a GPU-hour's price per token
/// is a rounding artefact (1e-320 gave 300-digit dollar figures). Measured utilizations below it
/// (an idle simulated fleet) are charged at it.
pub const MIN_UTILIZATION: f64 = 1e-3;

/// Checks a utilization: the fraction of held GPU-hours doing useful work, in
/// \[[`MIN_UTILIZATION`], 1\]. Returns it unchanged, or an [`EconError::OutOfRange`] for
/// `utilization` naming `origin` (also for NaN and infinities).
pub fn check_utilization(u: f64, origin: &str) -> Result<f64, EconError> {
    if u.is_finite() && (MIN_UTILIZATION..=1.0).contains(&u) {
        Ok(u)
    } else {
        Err(EconError::OutOfRange {
            origin: origin.to_string(),
            name: "utilization".to_string(),
            value: u,
            reason: "must be in [0.001, 1]",
        })
    }
}
