//! Plumbing every subcommand shares: loading models and the hardware catalog, resolving cost
//! parameters, building a deployment from the common flags, and human number formats.
//!
//! This is where the CLI does its I/O on the library's behalf: files are read here and their
//! text handed to the pure parsers, with the file named in every error.

pub mod fmt;
pub mod plot;

use crate::usage;
use anyhow::Context;
use clap::Args;
use servemath::{DeploymentRequest, ParamOverride, PrecisionChoice};
use servemath_cost::{Calibration, CostParams, Parallelism, PARAM_DOCS};
use servemath_hardware::{Catalog, Hardware};
use servemath_model::{MathPrecision, ModelSpec, Precision};
use std::path::{Path, PathBuf};

/// A built-in model by short name (`llama-3.1-70b`), a path to a Hugging Face `config.json`,
/// or a downloaded snapshot folder holding `config.json` (and perhaps ModelOpt's
/// `hf_quant_config.json`). A name that is none of these suggests the nearest built-in name.
pub fn load_model(name_or_path: &str) -> anyhow::Result<ModelSpec> {
    // Built-in names (and Hugging Face ids of built-ins, which contain a `/`) win over files.
    match servemath_model::builtin(name_or_path) {
        Ok(spec) => return Ok(spec),
        Err(e) if !looks_like_path(name_or_path) => return Err(e.into()),
        Err(_) => {}
    }
    let path = Path::new(name_or_path);
    if path.is_dir() {
        let config = path.join("config.json");
        let text = read_input(&config, "model config").with_context(|| {
            format!(
                "model folder `{}` has no readable config.json",
                path.display()
            )
        })?;
        let quant_path = path.join("hf_quant_config.json");
        let quant = if quant_path.is_file() {
            Some(read_input(&quant_path, "quantization config")?)
        } else {
            None
        };
        let folder = path.display().to_string();
        let folder = folder.trim_end_matches(['/', std::path::MAIN_SEPARATOR]);
        return Ok(servemath_model::parse_snapshot(
            &text,
            quant.as_deref(),
            folder,
        )?);
    }
    let text = read_input(path, "model config")?;
    Ok(servemath_model::parse_config(
        &text,
        &path.display().to_string(),
    )?)
}

/// A name is taken as a file when it names an existing file or looks like a path.
fn looks_like_path(s: &str) -> bool {
    s.contains('/')
        || s.contains(std::path::MAIN_SEPARATOR)
        || s.ends_with(".json")
        || Path::new(s).exists()
}

/// The built-in catalog with each `--hardware-file` overlaid in order (later files win).
pub fn load_catalog(hardware_files: &[PathBuf]) -> anyhow::Result<Catalog> {
    let mut catalog = Catalog::builtin();
    for file in hardware_files {
        let text = read_input(file, "hardware file")?;
        catalog.overlay(&text, &file.display().to_string())?;
    }
    Ok(catalog)
}

/// Overrides of the cost model's named parameters (efficiencies, overheads, reserves).
#[derive(Debug, Clone, Default, Args)]
pub struct ParamArgs {
    /// Set a cost parameter, e.g. `--param memory_efficiency=0.85` (repeatable; applied after
    /// --params). `--help` lists the names.
    #[arg(long = "param", value_name = "NAME=VALUE", long_help = param_long_help())]
    pub param: Vec<String>,

    /// A TOML file of `name = value` cost parameters, applied over the hardware family's
    /// calibration.
    #[arg(long = "params", value_name = "FILE.toml")]
    pub params_file: Option<PathBuf>,

    /// Parameters from a scenario file's `[deployment] param` table, each with its file and
    /// key as the origin; applied after `--params` and before `--param`.
    #[arg(skip)]
    pub from_scenario: Vec<ParamOverride>,
}

/// The long help of `--param`: every parameter with its unit and meaning, from the cost model's
/// own table so that it cannot drift.
fn param_long_help() -> String {
    let mut help = String::from(
        "Set a cost parameter, e.g. `--param memory_efficiency=0.85` (repeatable; applied after \
         --params). Definitions: docs/metrics.md. Names:",
    );
    for p in PARAM_DOCS {
        help.push_str(&format!("\n  {:<24} {} ({})", p.name, p.doc, p.unit));
    }
    help
}

/// The cost parameters for `hw`: the calibration of its family, then the `--params` file, then
/// each `--param`. Errors name where the bad value came from.
pub fn resolve_params(args: &ParamArgs, hw: &Hardware) -> anyhow::Result<CostParams> {
    let mut params = Calibration::builtin().for_family(&hw.family);
    if let Some(file) = &args.params_file {
        let origin = file.display().to_string();
        let text = read_input(file, "parameter file")?;
        let table: toml::Table = text.parse().map_err(|e| toml_error(&origin, &text, &e))?;
        params.apply_table(&table, &origin)?;
    }
    for o in args
        .from_scenario
        .iter()
        .cloned()
        .chain(param_overrides(&args.param)?)
    {
        params.set(&o.name, o.value, &o.origin)?;
    }
    Ok(params)
}

/// `--param NAME=VALUE` flags as typed overrides, each with its flag as the origin; a
/// malformed one is a usage error.
pub fn param_overrides(flags: &[String]) -> anyhow::Result<Vec<ParamOverride>> {
    flags
        .iter()
        .map(|p| {
            let origin = format!("--param {p}");
            let Some((name, value)) = p.split_once('=') else {
                return Err(usage!("{origin}: expected NAME=VALUE"));
            };
            let value: f64 = value
                .trim()
                .parse()
                .map_err(|_| usage!("{origin}: `{}` is not a number", value.trim()))?;
            Ok(ParamOverride {
                name: name.trim().to_string(),
                value,
                origin,
            })
        })
        .collect()
}

/// What to deploy, where, and how: the flags `estimate` (and later commands) share.
#[derive(Debug, Clone, Args)]
pub struct DeployArgs {
    /// Built-in model name (see `servemath models`) or path to a Hugging Face config.json.
    #[arg(
        long,
        short = 'm',
        default_value = "llama-3.1-70b",
        value_name = "NAME|PATH"
    )]
    pub model: String,

    /// Hardware catalog id (see `servemath hardware`).
    #[arg(long = "hardware", default_value = "h100-sxm", value_name = "ID")]
    pub hardware: String,

    /// TOML file adding or overriding hardware entries (repeatable; later files win).
    #[arg(long = "hardware-file", value_name = "FILE.toml")]
    pub hardware_file: Vec<PathBuf>,

    /// Tensor-parallel degree (attention and dense layers) [default: 1; `simulate`, `fleet` and
    /// `prices`: the smallest power of two that fits one request].
    #[arg(long, value_name = "N")]
    pub tp: Option<u32>,

    /// Pipeline-parallel stages.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub pp: u32,

    /// Expert-parallel degree for MoE layers (must divide tp x dp-attn).
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub ep: u32,

    /// Attention data-parallel groups, paired with expert parallelism (the DeepSeek layout).
    #[arg(long = "dp-attn", default_value_t = 1, value_name = "N")]
    pub dp_attn: u32,

    /// Redundant expert slots (EPLB): lets an EP degree that does not divide the experts run
    /// (256 experts on EP72 with 32 redundant) and balances the routing skew away.
    #[arg(long = "redundant-experts", default_value_t = 0, value_name = "N")]
    pub redundant_experts: u32,

    /// Two-batch overlap: split each step into two micro-batches and hide one's communication
    /// behind the other's GEMMs.
    #[arg(long)]
    pub tbo: bool,

    /// Store the linear layers in this format (bf16, fp8, fp8-block128, int8, int4, mxfp4,
    /// nvfp4); embeddings keep the checkpoint's. Default: the checkpoint's own formats.
    #[arg(long, value_name = "PRECISION")]
    pub weights: Option<Precision>,

    /// KV-cache format. Default: the checkpoint's (a ModelOpt or compressed-tensors config
    /// may prescribe FP8), else bf16.
    #[arg(long, value_name = "PRECISION")]
    pub kv: Option<Precision>,

    /// Matmul rate class (bf16, fp8, int8, fp4). Default: the weights' rate where the hardware
    /// has it, else bf16.
    #[arg(long, value_parser = parse_math_precision, value_name = "PRECISION")]
    pub compute: Option<MathPrecision>,

    /// Format of activations sent over the network.
    #[arg(long, default_value = "bf16", value_name = "PRECISION")]
    pub activations: Precision,

    /// Attention projections' weight format, after `--weights` (checkpoints often keep them
    /// FP8 or BF16 when the experts are FP4).
    #[arg(long = "attention-weights", value_name = "PRECISION")]
    pub attention_weights: Option<Precision>,

    /// Dense MLP and shared experts' weight format, after `--weights`.
    #[arg(long = "dense-weights", value_name = "PRECISION")]
    pub dense_weights: Option<Precision>,

    /// Routed experts' weight format, after `--weights`.
    #[arg(long = "expert-weights", value_name = "PRECISION")]
    pub expert_weights: Option<Precision>,

    /// Math rate of the attention kernels (bf16, or fp8 where the engine runs FP8 attention).
    #[arg(long = "attention-math", value_parser = parse_math_precision, value_name = "PRECISION")]
    pub attention_math: Option<MathPrecision>,

    #[command(flatten)]
    pub params: ParamArgs,
}

impl DeployArgs {
    /// The tensor-parallel degree asked for, 1 when none was.
    pub fn tp(&self) -> u32 {
        self.tp.unwrap_or(1)
    }
}

impl Default for DeployArgs {
    fn default() -> Self {
        DeployArgs {
            model: "llama-3.1-70b".to_string(),
            hardware: "h100-sxm".to_string(),
            hardware_file: Vec::new(),
            tp: None,
            pp: 1,
            ep: 1,
            dp_attn: 1,
            redundant_experts: 0,
            tbo: false,
            weights: None,
            kv: None,
            compute: None,
            activations: Precision::Bf16,
            attention_weights: None,
            dense_weights: None,
            expert_weights: None,
            attention_math: None,
            params: ParamArgs::default(),
        }
    }
}

/// The matmul rate classes by name (`servemath_model::MathPrecision`'s own parser).
pub(crate) fn parse_math_precision(s: &str) -> Result<MathPrecision, String> {
    s.parse()
        .map_err(|e: servemath_model::UnknownMathPrecision| e.to_string())
}

/// The deployment the flags describe, with its files read once: model, hardware, layout (the
/// tensor-parallel degree left open when `--tp` is not given), precisions and parameters.
pub fn deployment_request(args: &DeployArgs) -> anyhow::Result<DeploymentRequest> {
    let model = load_model(&args.model)?;
    let catalog = load_catalog(&args.hardware_file)?;
    let hw = catalog.get(&args.hardware)?;
    let prec = PrecisionChoice {
        weights: args.weights,
        attention_weights: args.attention_weights,
        dense_weights: args.dense_weights,
        expert_weights: args.expert_weights,
        kv: args.kv,
        activations: args.activations,
        compute: args.compute,
        attention_math: args.attention_math,
    }
    .resolve(&model, hw);
    let params = resolve_params(&args.params, hw)?;
    Ok(DeploymentRequest {
        model,
        hardware: hw.clone(),
        tp: args.tp,
        layout: Parallelism {
            tp: args.tp(),
            pp: args.pp,
            ep: args.ep,
            dp_attn: args.dp_attn,
            redundant_experts: args.redundant_experts,
            two_batch_overlap: args.tbo,
        },
        precisions: prec,
        params,
    })
}

/// A TOML syntax or schema error as `FILE: line L, column C: message`, the position found from
/// the error's byte span in `text`.
pub fn toml_error(origin: &str, text: &str, e: &toml::de::Error) -> anyhow::Error {
    let at = e.span().map_or(String::new(), |span| {
        let before = text.get(..span.start).unwrap_or("");
        let line = before.matches('\n').count() + 1;
        let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
        format!(": line {line}, column {column}")
    });
    anyhow::anyhow!("{origin}{at}: {}", e.message().trim_end())
}

/// Largest input file read by default, in MiB: the largest real input (a 24 MB Azure trace, a
/// 200 KB config) is far below. `SERVEMATH_MAX_INPUT_MB` raises or lowers it.
pub const MAX_INPUT_MB: u64 = 1024;

/// The text of the input file `path` (`what` names it in errors): a regular file (not a
/// device, FIFO or folder: `/dev/zero` would never end) of at most [`MAX_INPUT_MB`] MiB or
/// `SERVEMATH_MAX_INPUT_MB`.
pub fn read_input(path: &Path, what: &str) -> anyhow::Result<String> {
    use std::io::Read;
    let limit_mb = match std::env::var("SERVEMATH_MAX_INPUT_MB") {
        Ok(v) => v.trim().parse::<u64>().map_err(|_| {
            anyhow::anyhow!("SERVEMATH_MAX_INPUT_MB = `{v}`: expected a whole number of MiB")
        })?,
        Err(_) => MAX_INPUT_MB,
    };
    let limit = limit_mb.saturating_mul(1 << 20);
    let meta = std::fs::metadata(path)
        .with_context(|| format!("cannot read {what} `{}`", path.display()))?;
    if !meta.is_file() {
        anyhow::bail!(
            "{what} `{}` is not a regular file (a device, FIFO or folder never ends or is not text)",
            path.display()
        );
    }
    if meta.len() > limit {
        anyhow::bail!(
            "{what} `{}` is {} bytes, above the {limit_mb} MiB limit on input files (set SERVEMATH_MAX_INPUT_MB to raise it)",
            path.display(),
            meta.len()
        );
    }
    let file = std::fs::File::open(path)
        .with_context(|| format!("cannot read {what} `{}`", path.display()))?;
    let mut text = String::new();
    file.take(limit.saturating_add(1))
        .read_to_string(&mut text)
        .with_context(|| format!("cannot read {what} `{}`", path.display()))?;
    if text.len() as u64 > limit {
        anyhow::bail!(
            "{what} `{}` grew past the {limit_mb} MiB limit while being read (set SERVEMATH_MAX_INPUT_MB to raise it)",
            path.display()
        );
    }
    Ok(text)
}
