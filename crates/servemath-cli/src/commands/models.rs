//! `servemath models`: the built-in model names with their size and shape.

use crate::commands::write_json;
use crate::common::fmt::{self, Align, Table};
use clap::Args;
use servemath_report::{ModelListReport, ModelListRow, Versioned};
use std::io::Write;

/// List the built-in models: short name, Hugging Face id, family, parameters, layers.
#[derive(Debug, Clone, Args)]
pub struct ModelsArgs {
    /// Print the versioned JSON report (`servemath.models/1`) instead of the table.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &ModelsArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let mut rows = Vec::new();
    for m in servemath_model::builtin_models() {
        let spec = servemath_model::builtin(m.name)?;
        rows.push(ModelListRow::new(m.name, m.hf_id, m.description, &spec));
    }
    let report = ModelListReport { models: rows };
    if args.json {
        return write_json(out, &Versioned::new(report));
    }
    let mut t = Table::new(&[
        ("name", Align::Left),
        ("Hugging Face id", Align::Left),
        ("type", Align::Left),
        ("params", Align::Right),
        ("active", Align::Right),
        ("layers", Align::Right),
        ("weights", Align::Right),
    ]);
    for r in &report.models {
        t.row(vec![
            r.name.clone(),
            r.hf_id.clone().unwrap_or_else(|| "-".to_string()),
            r.model_type.clone(),
            fmt::count(r.total_params as f64),
            fmt::count(r.active_params as f64),
            r.layers.to_string(),
            fmt::bytes(r.weight_bytes),
        ]);
    }
    write!(out, "{}", t.render(0))?;
    writeln!(
        out,
        "\nweights: as stored in the checkpoint. Details: servemath model NAME; any other model: --model path/to/config.json"
    )?;
    Ok(())
}
