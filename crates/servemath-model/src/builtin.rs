//! Built-in model names: Hugging Face `config.json` files compiled into the crate
//! (`configs/`, provenance in `configs/SOURCES.md`) and parsed on each call, so there is no
//! global state and a built-in goes through exactly the path a user's file does.

use crate::{parse_snapshot, ModelError, ModelSpec, Precision, WeightPrecisions};

/// One entry of the built-in table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BuiltinModel {
    /// Short name accepted by [`builtin`] (lowercase).
    pub name: &'static str,
    /// Hugging Face repository id; `None` for a model that is not on Hugging Face.
    pub hf_id: Option<&'static str>,
    /// One line for `servemath models`: the model and its distinguishing building blocks
    /// (`Llama 3.1 8B: dense, GQA 32/8 heads, 128k context`).
    pub description: &'static str,
    /// File under `configs/`.
    pub file: &'static str,
    /// The embedded `config.json` text.
    pub config_json: &'static str,
    /// The `hf_quant_config.json` of a snapshot folder (NVIDIA ModelOpt), when the built-in is
    /// one; `file` then names the folder.
    pub hf_quant_json: Option<&'static str>,
    /// Checkpoint precision declared here because the shipped `config.json` does not say it.
    pub declared_checkpoint: Option<DeclaredCheckpoint>,
}

/// A checkpoint precision the table declares, with the reason the config cannot supply it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DeclaredCheckpoint {
    /// Storage precision of each part of the weights; replaces [`ModelSpec::checkpoint`].
    pub precisions: WeightPrecisions,
    /// Why the table states it: where the precision is recorded instead of the config
    /// (a sentence, lowercase, no final period).
    pub reason: &'static str,
}

impl BuiltinModel {
    /// Parses the embedded config (errors name `configs/<file>`), then applies the table's
    /// name and declared checkpoint precision.
    pub fn spec(&self) -> Result<ModelSpec, ModelError> {
        let mut spec = match self.hf_quant_json {
            Some(quant) => parse_snapshot(
                self.config_json,
                Some(quant),
                &format!("configs/{}", self.file),
            )?,
            None => crate::parse_config(self.config_json, &format!("configs/{}", self.file))?,
        };
        spec.name = self.name.to_string();
        if let Some(declared) = self.declared_checkpoint {
            spec.checkpoint = declared.precisions;
        }
        Ok(spec)
    }
}

/// The shipped `config.json` text of the built-in `name` (tests: the byte-identical copy of
/// the reference file, checked against `shared/models` by `builtin/tests.rs`).
#[cfg(test)]
pub(crate) fn builtin_config_text(name: &str) -> &'static str {
    builtin_models()
        .iter()
        .find(|m| m.name == name)
        .map_or_else(|| panic!("no built-in `{name}`"), |m| m.config_json)
}

/// The built-in table, in display order (the order `servemath models` lists). Each entry's
/// [`BuiltinModel::spec`] parses on every call; nothing is cached.
pub fn builtin_models() -> &'static [BuiltinModel] {
    BUILTINS
}

/// The [`ModelSpec`] of a built-in model, by short name or Hugging Face id (both
/// case-insensitive, surrounding spaces ignored).
///
/// Fails with [`ModelError::UnknownBuiltin`], listing the known names and the nearest one, when
/// nothing matches; the embedded configs themselves always parse (a test checks each).
pub fn builtin(name: &str) -> Result<ModelSpec, ModelError> {
    let wanted = name.trim().to_ascii_lowercase();
    let found = BUILTINS
        .iter()
        .find(|m| m.name == wanted || m.hf_id.is_some_and(|id| id.to_ascii_lowercase() == wanted));
    match found {
        Some(m) => m.spec(),
        None => {
            let names: Vec<&str> = BUILTINS.iter().map(|m| m.name).collect();
            Err(ModelError::UnknownBuiltin {
                name: name.to_string(),
                suggestion: crate::nearest(&wanted, &names).map(str::to_string),
                known: names.iter().map(|s| s.to_string()).collect(),
            })
        }
    }
}

/// `(file, text)` of a file under `configs/`.
macro_rules! config {
    ($file:literal) => {
        ($file, include_str!(concat!("../configs/", $file)))
    };
}

const fn entry(
    name: &'static str,
    hf_id: Option<&'static str>,
    description: &'static str,
    (file, config_json): (&'static str, &'static str),
) -> BuiltinModel {
    BuiltinModel {
        name,
        hf_id,
        description,
        file,
        config_json,
        hf_quant_json: None,
        declared_checkpoint: None,
    }
}

/// NVIDIA ModelOpt FP8 (per-tensor scales) on every linear layer; embeddings and head bf16.
const MODELOPT_FP8: DeclaredCheckpoint = DeclaredCheckpoint {
    precisions: WeightPrecisions {
        embeddings: Precision::Bf16,
        attention: Precision::Fp8,
        dense_mlp: Precision::Fp8,
        experts: Precision::Fp8,
    },
    reason: "the shipped config.json has no quantization_config: NVIDIA ModelOpt writes it to \
             hf_quant_config.json (quant_algo FP8, lm_head excluded)",
};

static BUILTINS: &[BuiltinModel] = &[
    entry(
        "llama-3.1-8b",
        Some("meta-llama/Meta-Llama-3.1-8B"),
        "Llama 3.1 8B: dense, GQA 32/8 heads, 128k context",
        config!("meta-llama--Meta-Llama-3.1-8B.json"),
    ),
    entry(
        "llama-3.1-70b",
        Some("meta-llama/Meta-Llama-3.1-70B"),
        "Llama 3.1 70B: dense, GQA 64/8 heads, 128k context",
        config!("meta-llama--Meta-Llama-3.1-70B.json"),
    ),
    BuiltinModel {
        declared_checkpoint: Some(MODELOPT_FP8),
        ..entry(
            "llama-3.1-70b-fp8",
            Some("nvidia/Llama-3.1-70B-Instruct-FP8"),
            "Llama 3.1 70B Instruct, NVIDIA ModelOpt FP8 checkpoint",
            config!("nvidia--Llama-3.1-70B-Instruct-FP8.json"),
        )
    },
    entry(
        "llama-3.1-405b",
        Some("meta-llama/Meta-Llama-3.1-405B"),
        "Llama 3.1 405B: dense, GQA 128/8 heads, 128k context",
        config!("meta-llama--Meta-Llama-3.1-405B.json"),
    ),
    entry(
        "llama-3.3-70b",
        Some("meta-llama/Llama-3.3-70B-Instruct"),
        "Llama 3.3 70B Instruct: the Llama 3.1 70B architecture",
        config!("meta-llama--Llama-3.3-70B-Instruct.json"),
    ),
    entry(
        "llama-2-70b",
        Some("meta-llama/Llama-2-70b-hf"),
        "Llama 2 70B: dense, GQA 64/8 heads, 4k context (MLPerf llama2-70b)",
        config!("meta-llama--Llama-2-70b-hf.json"),
    ),
    entry(
        "llama-4-scout",
        Some("meta-llama/Llama-4-Scout-17B-16E-Instruct"),
        "Llama 4 Scout 17B-16E: MoE 16 experts + shared, chunked attention (text model only)",
        config!("meta-llama--Llama-4-Scout-17B-16E-Instruct.json"),
    ),
    entry(
        "qwen3-0.6b",
        Some("Qwen/Qwen3-0.6B"),
        "Qwen3 0.6B: dense, GQA 16/8 heads, tied embeddings",
        config!("Qwen--Qwen3-0.6B.json"),
    ),
    entry(
        "qwen3-8b",
        Some("Qwen/Qwen3-8B"),
        "Qwen3 8B: dense, GQA 32/8 heads",
        config!("Qwen--Qwen3-8B.json"),
    ),
    entry(
        "qwen3-32b",
        Some("Qwen/Qwen3-32B"),
        "Qwen3 32B: dense, GQA 64/8 heads",
        config!("Qwen--Qwen3-32B.json"),
    ),
    entry(
        "qwen3-30b-a3b",
        Some("Qwen/Qwen3-30B-A3B"),
        "Qwen3 30B-A3B: MoE 128 experts, top-8",
        config!("Qwen--Qwen3-30B-A3B.json"),
    ),
    entry(
        "qwen3-235b-a22b",
        Some("Qwen/Qwen3-235B-A22B"),
        "Qwen3 235B-A22B: MoE 128 experts, top-8",
        config!("Qwen--Qwen3-235B-A22B.json"),
    ),
    entry(
        "mixtral-8x7b",
        Some("mistralai/Mixtral-8x7B-v0.1"),
        "Mixtral 8x7B: MoE 8 experts, top-2",
        config!("mistralai--Mixtral-8x7B-v0.1.json"),
    ),
    entry(
        "mixtral-8x22b",
        Some("mistralai/Mixtral-8x22B-v0.1"),
        "Mixtral 8x22B: MoE 8 experts, top-2",
        config!("mistralai--Mixtral-8x22B-v0.1.json"),
    ),
    entry(
        "deepseek-v3",
        Some("deepseek-ai/DeepSeek-V3"),
        "DeepSeek-V3: MLA, MoE 256 experts top-8 + 1 shared, FP8 block-scaled, 1 MTP layer",
        config!("deepseek-ai--DeepSeek-V3.json"),
    ),
    entry(
        "deepseek-r1",
        Some("deepseek-ai/DeepSeek-R1"),
        "DeepSeek-R1: the DeepSeek-V3 architecture",
        config!("deepseek-ai--DeepSeek-R1.json"),
    ),
    entry(
        "gpt-oss-20b",
        Some("openai/gpt-oss-20b"),
        "gpt-oss-20b: MoE 32 experts top-4, MXFP4 experts, alternating 128-token sliding window",
        config!("openai--gpt-oss-20b.json"),
    ),
    entry(
        "gpt-oss-120b",
        Some("openai/gpt-oss-120b"),
        "gpt-oss-120b: MoE 128 experts top-4, MXFP4 experts, alternating 128-token sliding window",
        config!("openai--gpt-oss-120b.json"),
    ),
    entry(
        "qwen3.5-35b-a3b",
        Some("Qwen/Qwen3.5-35B-A3B"),
        "Qwen3.5 35B-A3B: 30 Gated DeltaNet + 10 gated full-attention layers, 256 experts top-8 + shared, MTP",
        config!("Qwen--Qwen3.5-35B-A3B.json"),
    ),
    entry(
        "nemotron-3-nano",
        Some("nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-BF16"),
        "Nemotron 3 Nano 30B-A3B: 23 Mamba-2 + 6 attention mixers, 128 experts top-6 + shared",
        config!("nvidia--NVIDIA-Nemotron-3-Nano-30B-A3B-BF16.json"),
    ),
    entry(
        "deepseek-v4-flash",
        Some("deepseek-ai/DeepSeek-V4-Flash"),
        "DeepSeek-V4-Flash: compressed sparse attention (ratios 4/128 + 128-token window), 256 experts top-6 + 1 shared, MXFP4 experts, MTP",
        config!("deepseek-ai--DeepSeek-V4-Flash.json"),
    ),
    BuiltinModel {
        hf_quant_json: Some(include_str!(
            "../configs/nvidia--NVIDIA-Nemotron-3-Super-120B-A12B-FP8/hf_quant_config.json"
        )),
        ..entry(
            "nemotron-3-super",
            Some("nvidia/NVIDIA-Nemotron-3-Super-120B-A12B-FP8"),
            "Nemotron 3 Super 120B-A12B: 40 Mamba-2 + 8 attention mixers, LatentMoE 512 experts top-22 in a 1,024-wide latent, FP8",
            (
                "nvidia--NVIDIA-Nemotron-3-Super-120B-A12B-FP8",
                include_str!("../configs/nvidia--NVIDIA-Nemotron-3-Super-120B-A12B-FP8/config.json"),
            ),
        )
    },
    entry(
        "glm-5.1",
        Some("zai-org/GLM-5.1"),
        "GLM-5.1: MLA with DeepSeek Sparse Attention (top-2048 indexer), 256 experts top-8 + 1 shared",
        config!("zai-org--GLM-5.1.json"),
    ),
    BuiltinModel {
        hf_quant_json: Some(include_str!(
            "../configs/nvidia--DeepSeek-V3.2-NVFP4/hf_quant_config.json"
        )),
        ..entry(
            "deepseek-v3.2",
            Some("nvidia/DeepSeek-V3.2-NVFP4"),
            "DeepSeek-V3.2: DeepSeek-V3 with sparse attention (DSA), NVIDIA's NVFP4 experts, FP8 KV",
            (
                "nvidia--DeepSeek-V3.2-NVFP4",
                include_str!("../configs/nvidia--DeepSeek-V3.2-NVFP4/config.json"),
            ),
        )
    },
    BuiltinModel {
        hf_quant_json: Some(include_str!(
            "../configs/nvidia--Gemma-4-31B-IT-NVFP4/hf_quant_config.json"
        )),
        ..entry(
            "gemma-4-31b",
            Some("nvidia/Gemma-4-31B-IT-NVFP4"),
            "Gemma 4 31B: 50 sliding-window (1,024) and 10 global layers, NVIDIA's NVFP4 MLP, FP8 KV",
            (
                "nvidia--Gemma-4-31B-IT-NVFP4",
                include_str!("../configs/nvidia--Gemma-4-31B-IT-NVFP4/config.json"),
            ),
        )
    },
    entry(
        "kimi-k2.5",
        Some("moonshotai/Kimi-K2.5"),
        "Kimi-K2.5: DeepSeek-V3 decoder (MLA, 384 experts top-8 + 1 shared), INT4 experts, MoonViT vision",
        config!("moonshotai--Kimi-K2.5.json"),
    ),
    entry(
        "minimax-m2.7",
        Some("MiniMaxAI/MiniMax-M2.7"),
        "MiniMax-M2.7: MoE 256 experts top-8, no shared expert, FP8 blocks, 3 MTP modules",
        config!("MiniMaxAI--MiniMax-M2.7.json"),
    ),
    entry(
        "mimo-7b",
        Some("XiaomiMiMo/MiMo-7B-Base"),
        "MiMo 7B: dense Qwen2-style decoder with one multi-token-prediction layer",
        config!("XiaomiMiMo--MiMo-7B-Base.json"),
    ),
    entry(
        "qwen3-vl-8b",
        Some("Qwen/Qwen3-VL-8B-Instruct"),
        "Qwen3-VL 8B: Qwen3 decoder under a vision-language wrapper (SigLIP2-So400m tower)",
        config!("Qwen--Qwen3-VL-8B-Instruct.json"),
    ),
    entry(
        "qwen3-vl-30b-a3b",
        Some("Qwen/Qwen3-VL-30B-A3B-Instruct"),
        "Qwen3-VL 30B-A3B: Qwen3-MoE decoder (128 experts top-8) under a vision-language wrapper",
        config!("Qwen--Qwen3-VL-30B-A3B-Instruct.json"),
    ),
    entry(
        "gpt-j-6b",
        Some("EleutherAI/gpt-j-6b"),
        "GPT-J 6B: multi-head attention, GELU MLP, fp32 checkpoint (MLPerf gptj)",
        config!("EleutherAI--gpt-j-6b.json"),
    ),
    entry(
        "palm-540b",
        None,
        "PaLM 540B (Chowdhery et al. 2022) as a llama-format config: multi-query, SwiGLU",
        config!("google--PaLM-540B.llama-format.json"),
    ),
];

#[cfg(test)]
mod tests;
