//! `servemath model NAME|PATH`: one model's architecture, parameters, weight and KV bytes.

use crate::commands::write_json;
use crate::common::{self};
use clap::Args;
use servemath_report::text::model::render;
use servemath_report::{ModelReport, Versioned};
use std::io::Write;

/// Show a model: layers, attention (GQA/MLA, windows, sinks), experts, parameters with their
/// breakdown, weight bytes per format, KV-cache bytes per token.
#[derive(Debug, Clone, Args)]
pub struct ModelArgs {
    /// Built-in model name (see `servemath models`) or path to a Hugging Face config.json.
    #[arg(value_name = "NAME|PATH")]
    pub model: String,

    /// Print the versioned JSON report (`servemath.model/1`) instead of text.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &ModelArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let spec = common::load_model(&args.model)?;
    let report = ModelReport::new(&spec);
    if args.json {
        return write_json(out, &Versioned::new(report));
    }
    write!(out, "{}", render(&report))?;
    Ok(())
}
