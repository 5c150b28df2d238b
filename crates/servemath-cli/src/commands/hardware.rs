//! `servemath hardware [NAME]`: the catalog, or one entry with every figure and its source.

use crate::commands::write_json;
use crate::common::fmt::{Align, Table};
use crate::common::{self, fmt};
use clap::Args;
use servemath_hardware::{figure, Hardware};
use servemath_report::{HardwareListReport, HardwareReport, Versioned};
use std::io::Write;
use std::path::PathBuf;

/// List the hardware catalog, or show one entry with every figure and its source.
///
/// Peaks are dense (never "with sparsity"); bandwidths are per accelerator, one direction.
#[derive(Debug, Clone, Args)]
pub struct HardwareArgs {
    /// Catalog id or alias (e.g. h100-sxm, gb200-nvl72, mi300x); omit to list every entry.
    #[arg(value_name = "ID")]
    pub name: Option<String>,

    /// Print the versioned JSON report (`servemath.hardware/1`, or `servemath.hardware-list/1`
    /// for the list) instead of text.
    #[arg(long)]
    pub json: bool,

    /// TOML file adding or overriding entries (repeatable; later files win).
    #[arg(long = "hardware-file", value_name = "FILE.toml")]
    pub hardware_file: Vec<PathBuf>,
}

pub fn run(args: &HardwareArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let catalog = common::load_catalog(&args.hardware_file)?;
    match &args.name {
        Some(name) => {
            let hw = catalog.get(name)?;
            if args.json {
                write_json(out, &Versioned::new(HardwareReport::new(hw)))
            } else {
                let aliases = catalog.aliases_of(&hw.id);
                write!(out, "{}", render_entry(hw, &aliases))?;
                Ok(())
            }
        }
        None => {
            if args.json {
                let list: HardwareListReport = catalog.entries().iter().collect();
                write_json(out, &Versioned::new(list))
            } else {
                write!(out, "{}", render_list(catalog.entries()))?;
                Ok(())
            }
        }
    }
}

fn opt(v: Option<f64>, f: fn(f64) -> String) -> String {
    v.map_or_else(|| "-".to_string(), f)
}

fn render_list(entries: &[Hardware]) -> String {
    let mut t = Table::new(&[
        ("id", Align::Left),
        ("family", Align::Left),
        ("bf16", Align::Right),
        ("fp8", Align::Right),
        ("fp4", Align::Right),
        ("HBM", Align::Right),
        ("HBM bw", Align::Right),
        ("scale-up", Align::Right),
        ("scale-out", Align::Right),
        ("TDP", Align::Right),
        ("$/GPU-h", Align::Right),
        ("kernels", Align::Left),
    ]);
    for h in entries {
        t.row(vec![
            h.id.clone(),
            h.family.clone(),
            opt(h.peak.bf16, fmt::flop_per_s),
            opt(h.peak.fp8, fmt::flop_per_s),
            opt(h.peak.fp4, fmt::flop_per_s),
            fmt::bytes(h.hbm_bytes),
            fmt::bytes_per_s(h.hbm_bytes_per_s),
            format!(
                "{} x {}",
                h.scale_up_domain,
                fmt::bytes_per_s(h.scale_up_bytes_per_s)
            ),
            opt(h.scale_out_bytes_per_s, fmt::bytes_per_s),
            opt(h.tdp_w, fmt::watts),
            h.price
                .as_ref()
                .map_or_else(|| "-".to_string(), |p| fmt::usd(p.usd_per_gpu_hour)),
            servemath_hardware::kernels::confidence(&h.id)
                .name()
                .to_string(),
        ]);
    }
    let mut s = t.render(0);
    s.push_str(
        "\nDense peak FLOP/s per GPU; bandwidths per GPU, one direction; scale-up: GPUs per domain x bandwidth.\n\
         kernels: how kernel efficiencies are known (measured: fitted kernel tables; derived: a sibling's;\n\
         datasheet: calibrated fallbacks). Every figure with its source: servemath hardware ID\n",
    );
    s
}

/// Label and formatted value of the figure stored under catalog key `key`.
fn figure_line(h: &Hardware, key: &str) -> Option<(&'static str, String)> {
    let f = |v: Option<f64>, fmt: fn(f64) -> String| v.map(fmt);
    Some(match key {
        figure::BF16 => ("bf16 dense", f(h.peak.bf16, fmt::flop_per_s)?),
        figure::FP8 => ("fp8 dense", f(h.peak.fp8, fmt::flop_per_s)?),
        figure::INT8 => (
            "int8 dense",
            f(h.peak.int8, |v| fmt::flop_per_s(v).replace("FLOP", "OP"))?,
        ),
        figure::FP4 => ("fp4 dense", f(h.peak.fp4, fmt::flop_per_s)?),
        figure::HBM_BYTES => ("HBM", fmt::bytes(h.hbm_bytes)),
        figure::HBM_BYTES_PER_S => ("HBM bandwidth", fmt::bytes_per_s(h.hbm_bytes_per_s)),
        figure::SCALE_UP_DOMAIN => ("scale-up domain", format!("{} GPUs", h.scale_up_domain)),
        figure::SCALE_UP_BYTES_PER_S => (
            "scale-up bw",
            format!(
                "{} per GPU per direction",
                fmt::bytes_per_s(h.scale_up_bytes_per_s)
            ),
        ),
        figure::SCALE_OUT_BYTES_PER_S => (
            "scale-out bw",
            format!(
                "{} per GPU per direction",
                f(h.scale_out_bytes_per_s, fmt::bytes_per_s)?
            ),
        ),
        figure::SCALE_UP_LATENCY_S => (
            "scale-up lat",
            format!("{} per collective step", fmt::seconds(h.scale_up_latency_s)),
        ),
        figure::SCALE_OUT_LATENCY_S => (
            "scale-out lat",
            format!(
                "{} per collective step",
                fmt::seconds(h.scale_out_latency_s)
            ),
        ),
        figure::TDP_W => ("TDP", f(h.tdp_w, fmt::watts)?),
        _ => return None,
    })
}

fn render_entry(h: &Hardware, aliases: &[&str]) -> String {
    let mut s = String::new();
    let mut line = |label: &str, value: &str| {
        s.push_str(&format!("{label:<16}{value}\n"));
    };
    line("id", &h.id);
    if !aliases.is_empty() {
        line("aliases", &aliases.join(", "));
    }
    line("name", &h.name);
    line("vendor", &h.vendor);
    line(
        "family",
        &format!("{} (selects the cost-parameter calibration)", h.family),
    );
    for key in h.stated_figures() {
        if let Some((label, value)) = figure_line(h, key) {
            line(label, &value);
            if let Some(src) = h.source(key) {
                line("", &format!("source: {src}"));
            }
        }
    }
    match &h.price {
        Some(p) => {
            line(
                "price",
                &format!("{} per GPU-hour ({})", fmt::usd(p.usd_per_gpu_hour), p.date),
            );
            line("", &format!("source: {}", p.source));
        }
        None => line("price", "-"),
    }
    let confidence = servemath_hardware::kernels::confidence(&h.id);
    match servemath_hardware::kernels::builtin_curves(&h.id) {
        Some(c) => {
            line(
                "kernels",
                &format!(
                    "{} ({} tables, {} SMs; {} GEMM, {} attention, {} all-reduce curves)",
                    confidence.name(),
                    c.engine,
                    c.sm_count,
                    c.gemm.len(),
                    c.decode_attention.len() + c.prefill_attention.len() + c.mla_decode.len() + c.mla_prefill.len(),
                    c.all_reduce.len()
                ),
            );
            if let Some((from, why)) = servemath_hardware::kernels::derived_from(&h.id) {
                line("", &format!("from {from}: {why}"));
            }
            line(
                "",
                "source: crates/servemath-hardware/catalog/kernels.toml (fitted from aiconfigurator-core 0.12.0, Apache-2.0)",
            );
        }
        None => line(
            "kernels",
            &format!(
                "{}: no measured kernel tables; datasheet peaks times the calibrated efficiencies of family {}",
                confidence.name(),
                h.family
            ),
        ),
    }
    if !h.notes.is_empty() {
        line("notes", &h.notes);
    }
    s
}
