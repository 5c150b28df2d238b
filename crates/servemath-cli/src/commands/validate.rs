//! `servemath validate`: the validation suite priced by [`servemath::validate`] (predicted
//! against published measurements) as a table or JSON, and the calibration fit
//! ([`servemath::calibrate`]) as the `calibration.toml` lines to commit.

use crate::commands::write_json;
use crate::common::param_overrides;
use anyhow::anyhow;
use clap::Args;
use servemath::{ParamOverride, ValidateRequest};
use servemath_report::Versioned;
use std::io::Write;

/// Run the validation suite: predicted vs measured for every published case the model can express.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Print the JSON report instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Search the global efficiencies and overheads that minimise the mean absolute log error and print them.
    #[arg(long)]
    pub fit: bool,
    /// Also run leave-one-family-out: refit the engine constants without each hardware family
    /// and predict that family's cases.
    #[arg(long)]
    pub lofo: bool,
    /// Override a cost parameter for every case (NAME=VALUE, repeatable).
    #[arg(long = "param", value_name = "NAME=VALUE")]
    pub params: Vec<String>,
}

pub fn run(args: &ValidateArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let overrides = param_overrides(&args.params)?;
    if args.fit {
        return fit(&overrides, args.json, out);
    }
    let report = servemath::validate(&ValidateRequest {
        overrides,
        leave_one_family_out: args.lofo,
    })?;
    if args.json {
        return write_json(out, &Versioned::new(report));
    }
    writeln!(
        out,
        "Validation against published measurements (global calibration; docs/validation.md)\n"
    )?;
    writeln!(
        out,
        "{:<62} {:<10} {:<20} {:>12} {:>12} {:>8} {:>7}  bound",
        "case", "category", "metric", "measured", "predicted", "error", "batch"
    )?;
    for o in &report.cases {
        writeln!(
            out,
            "{:<62} {:<10} {:<20} {:>12} {:>12} {:>+7.1}% {:>7} {}",
            if o.held_out {
                format!("{} (held out)", o.id)
            } else {
                o.id.clone()
            },
            o.category,
            o.metric,
            figure(o.measured),
            figure(o.predicted),
            o.error * 100.0,
            format!("{:.0}", o.batch),
            o.bound
        )?;
    }
    writeln!(out)?;
    for s in &report.summary {
        writeln!(
            out,
            "{:<20} {:>2} cases   median |error| {:>5.1}%   worst {:>5.1}% ({})",
            s.metric,
            s.cases,
            s.median_abs_error * 100.0,
            s.worst_abs_error * 100.0,
            s.worst_case
        )?;
    }
    writeln!(out)?;
    for g in &report.groups {
        writeln!(
            out,
            "{:<24} {:>3} cases   median |error| {:>5.1}%   worst {:>5.1}% ({})",
            g.group,
            g.cases,
            g.median_abs_error * 100.0,
            g.worst_abs_error * 100.0,
            g.worst_case
        )?;
    }
    if let Some(lofo) = &report.leave_one_family_out {
        writeln!(
            out,
            "\nLeave one family out (engine constants refitted without the family):"
        )?;
        for f in &lofo.families {
            writeln!(
                out,
                "  {:<12} {:>3} cases   median |error| {:>5.1}%   worst {:>5.1}%",
                f.family,
                f.cases,
                f.median_abs_error * 100.0,
                f.worst_abs_error * 100.0
            )?;
        }
        writeln!(
            out,
            "  all families: median |error| {:.1}%",
            lofo.median_abs_error * 100.0
        )?;
    }
    writeln!(
        out,
        "\nNot expressed (a layout servemath does not model yet):"
    )?;
    for p in &report.pending {
        writeln!(out, "  {}: {}", p.id, p.reason)?;
    }
    Ok(())
}

fn figure(v: f64) -> String {
    if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

/// `--fit`: the fitted values as `calibration.toml` sections (or JSON); fails (exit 1) after
/// printing them when a value landed on the edge of its search range.
fn fit(overrides: &[ParamOverride], json: bool, out: &mut dyn Write) -> anyhow::Result<()> {
    let report = servemath::calibrate(overrides)?;
    if json {
        write_json(out, &Versioned::new(report.clone()))?;
    } else {
        writeln!(
            out,
            "# global fit over {} cases on measured-kernel hardware: mean |log error| {:.4}",
            report.cases, report.mean_abs_log_error
        )?;
        writeln!(out, "[default]")?;
        for (name, value) in &report.global {
            writeln!(out, "{name} = {value:?}")?;
        }
        for (family, chosen) in &report.families {
            writeln!(out, "\n[family.{family}]")?;
            for (name, value) in chosen {
                writeln!(out, "{name} = {value:?}")?;
            }
        }
    }
    if !report.on_edge.is_empty() {
        return Err(anyhow!(
            "the fit failed: values on the edge of their search range: {}",
            report.on_edge.join("; ")
        ));
    }
    Ok(())
}
