//! Golden tests: every built-in (and every file of the project's reference set
//! `shared/models/`, which the built-ins copy) against its published parameter counts, with
//! hand-derived KV-cache and weight bytes.
//!
//! Two conventions for "active parameters" appear in public figures, and each test names the
//! one its source uses:
//! - [`ModelSpec::active_params`] counts the input embedding table (Mistral, Qwen, Meta);
//! - [`ModelSpec::active_matmul_params`] leaves the embedding lookup out but keeps the output
//!   head (OpenAI's gpt-oss card, DeepSeek's README_WEIGHTS.md).

#![expect(clippy::unwrap_used, reason = "tests")]

use super::*;
use crate::parse_config;
use crate::{AttentionSpan, Mlp};
use std::path::PathBuf;

/// Published figures are given to 2-4 significant digits; 1.5 % covers their rounding.
const PUBLISHED: f64 = 0.015;

/// Asserts `actual` is within `rel_tol` of the `golden` figure, printing golden, actual and
/// the difference on failure.
fn check(what: &str, actual: f64, golden: f64, rel_tol: f64) {
    let diff = (actual - golden) / golden;
    assert!(
        diff.abs() <= rel_tol,
        "{what}: golden {golden:.6e}, actual {actual:.6e}, difference {:+.3} % (tolerance {:.2} %)",
        diff * 100.0,
        rel_tol * 100.0
    );
}

/// Exact integer golden (a count derived by hand).
fn exact(what: &str, actual: u64, golden: u64) {
    assert_eq!(actual, golden, "{what}: golden {golden}, actual {actual}");
}

fn shared_dir() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/models"
    ))
}

/// The built-in, and the same model parsed from the reference-set file it copies (when it
/// is one of those), so every golden runs against both.
fn both(name: &str) -> Vec<ModelSpec> {
    let m = builtin_models().iter().find(|m| m.name == name).unwrap();
    let mut specs = vec![builtin(name).unwrap()];
    let path = shared_dir().join(m.file);
    if path.exists() {
        let text = std::fs::read_to_string(&path).unwrap();
        let mut spec = parse_config(&text, &path.to_string_lossy()).unwrap();
        if let Some(declared) = m.declared_checkpoint {
            spec.checkpoint = declared.precisions;
        }
        specs.push(spec);
    }
    specs
}

fn total(s: &ModelSpec) -> f64 {
    s.params().total() as f64
}

/// Every built-in has a golden test below; a new built-in must add one.
const WITH_GOLDEN_TEST: &[&str] = &[
    "llama-3.1-8b",
    "llama-3.1-70b",
    "llama-3.1-70b-fp8",
    "llama-3.1-405b",
    "llama-3.3-70b",
    "llama-2-70b",
    "llama-4-scout",
    "qwen3-0.6b",
    "qwen3-8b",
    "qwen3-32b",
    "qwen3-30b-a3b",
    "qwen3-235b-a22b",
    "mixtral-8x7b",
    "mixtral-8x22b",
    "deepseek-v3",
    "deepseek-r1",
    "gpt-oss-20b",
    "gpt-oss-120b",
    "gpt-j-6b",
    "palm-540b",
    "kimi-k2.5",
    "minimax-m2.7",
    "mimo-7b",
    "qwen3-vl-8b",
    "qwen3-vl-30b-a3b",
    "glm-5.1",
    "deepseek-v3.2",
    "gemma-4-31b",
    "qwen3.5-35b-a3b",
    "nemotron-3-nano",
    "deepseek-v4-flash",
    "nemotron-3-super",
];

#[test]
fn every_builtin_parses_and_has_a_golden_test() {
    for m in builtin_models() {
        let spec = m.spec().unwrap_or_else(|e| panic!("{}: {e}", m.name));
        assert_eq!(spec.name, m.name);
        assert!(
            WITH_GOLDEN_TEST.contains(&m.name),
            "{} has no golden test",
            m.name
        );
    }
    assert_eq!(WITH_GOLDEN_TEST.len(), builtin_models().len());
}

/// The reference-set files the built-ins copy, named: the set in `shared/models/` grows (2026
/// configs, snapshot folders, `SOURCES.md`), and a new entry there must not fail this test.
const SHARED_BUILTIN_COPIES: &[&str] = &[
    "Qwen--Qwen3-0.6B.json",
    "Qwen--Qwen3-235B-A22B.json",
    "Qwen--Qwen3-30B-A3B.json",
    "Qwen--Qwen3-32B.json",
    "Qwen--Qwen3-8B.json",
    "deepseek-ai--DeepSeek-R1.json",
    "deepseek-ai--DeepSeek-V3.json",
    "meta-llama--Llama-4-Scout-17B-16E-Instruct.json",
    "meta-llama--Meta-Llama-3.1-405B.json",
    "meta-llama--Meta-Llama-3.1-70B.json",
    "meta-llama--Meta-Llama-3.1-8B.json",
    "mistralai--Mixtral-8x22B-v0.1.json",
    "mistralai--Mixtral-8x7B-v0.1.json",
    "nvidia--Llama-3.1-70B-Instruct-FP8.json",
    "openai--gpt-oss-120b.json",
    "openai--gpt-oss-20b.json",
    "moonshotai--Kimi-K2.5.json",
    "MiniMaxAI--MiniMax-M2.7.json",
    "XiaomiMiMo--MiMo-7B-Base.json",
    "Qwen--Qwen3-VL-8B-Instruct.json",
    "Qwen--Qwen3-VL-30B-A3B-Instruct.json",
    "zai-org--GLM-5.1.json",
    "Qwen--Qwen3.5-35B-A3B.json",
    "nvidia--NVIDIA-Nemotron-3-Nano-30B-A3B-BF16.json",
    "deepseek-ai--DeepSeek-V4-Flash.json",
];

/// Each named file of the reference set is a built-in, copied byte for byte into `configs/`.
#[test]
fn the_named_shared_model_files_are_builtin_copies() {
    let dir = shared_dir();
    for file in SHARED_BUILTIN_COPIES {
        let path = dir.join(file);
        let m = builtin_models()
            .iter()
            .find(|m| m.file == *file)
            .unwrap_or_else(|| panic!("{file} of the reference set is not a built-in"));
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(
            text,
            m.config_json,
            "configs/{file} differs from {}",
            path.display()
        );
        parse_config(&text, &path.to_string_lossy()).unwrap();
    }
}

#[test]
fn lookup_by_name_or_hf_id_and_suggestions() {
    assert_eq!(builtin("Llama-3.1-8B").unwrap().name, "llama-3.1-8b");
    assert_eq!(builtin("openai/gpt-oss-120b").unwrap().name, "gpt-oss-120b");
    match builtin("llama3.1-8b") {
        Err(ModelError::UnknownBuiltin {
            suggestion, known, ..
        }) => {
            assert_eq!(suggestion.as_deref(), Some("llama-3.1-8b"));
            assert_eq!(known.len(), builtin_models().len());
        }
        other => panic!("{other:?}"),
    }
    let msg = builtin("mixtrel-8x7b").unwrap_err().to_string();
    assert!(
        msg.starts_with("unknown built-in model `mixtrel-8x7b` (did you mean `mixtral-8x7b`?)"),
        "{msg}"
    );
}

// ---- dense models -------------------------------------------------------------------------

/// Llama-3.1-8B, model card: 8.03 B. By hand, per layer: attention 4096·(4096 + 2·1024) +
/// 4096·4096 = 41,943,040; MLP 3·4096·14336 = 176,160,768; norms 2·4096 → 218,112,000 × 32 =
/// 6,979,584,000; embedding and head 2·128256·4096 = 1,050,673,152; final norm 4096.
/// Total 8,030,261,248 (the safetensors count). KV: 2·32·8·128·2 B = 131,072 B per token.
#[test]
fn llama_3_1_8b() {
    for s in both("llama-3.1-8b") {
        exact("total", s.params().total(), 8_030_261_248);
        check("total vs card", total(&s), 8.03e9, PUBLISHED);
        exact(
            "dense: active = total",
            s.active_params(),
            s.params().total(),
        );
        check(
            "kv",
            s.kv_bytes_per_token(Precision::Bf16),
            131_072.0,
            1e-12,
        );
    }
}

/// Llama-3.1-70B, model card: 70.6 B (70,553,706,496 by hand: 80 × (150,994,944 attention +
/// 704,643,072 MLP + 16,384 norms) + 2·128256·8192 + 8192). Llama-3.3-70B is the same network.
/// KV bf16: 2·80·8·128·2 = 327,680 B per token. Weights bf16: 2 B × 70.55 B = 141.1 GB.
#[test]
fn llama_3_1_70b_and_3_3_70b() {
    for name in ["llama-3.1-70b", "llama-3.3-70b"] {
        for s in both(name) {
            exact("total", s.params().total(), 70_553_706_496);
            check("total vs card", total(&s), 70.6e9, PUBLISHED);
            check(
                "kv",
                s.kv_bytes_per_token(Precision::Bf16),
                327_680.0,
                1e-12,
            );
            assert_eq!(s.checkpoint, WeightPrecisions::uniform(Precision::Bf16));
            let bytes = s.weight_bytes(&s.checkpoint);
            check("weight bytes", bytes, 2.0 * 70_553_706_496.0, 1e-12);
            assert_eq!(s.max_context, 131_072);
        }
    }
}

/// NVIDIA's FP8 checkpoint: linear layers 1 B, embedding and head (2·128256·8192 =
/// 2,101,346,304) 2 B: 68,452,360,192 + 4,202,692,608 = 72,655,052,800 B.
#[test]
fn llama_3_1_70b_fp8_declares_its_checkpoint() {
    let m = builtin_models()
        .iter()
        .find(|m| m.name == "llama-3.1-70b-fp8")
        .unwrap();
    assert!(m
        .declared_checkpoint
        .unwrap()
        .reason
        .contains("hf_quant_config.json"));
    for s in both("llama-3.1-70b-fp8") {
        assert_eq!(s.checkpoint.attention, Precision::Fp8);
        assert_eq!(s.checkpoint.embeddings, Precision::Bf16);
        exact("total", s.params().total(), 70_553_706_496);
        check(
            "weight bytes",
            s.weight_bytes(&s.checkpoint),
            72_655_052_800.0,
            1e-12,
        );
    }
}

/// Llama-3.1-405B, Meta: 405.85 B (405,853,388,800 by hand: 126 × 3,187,703,808 +
/// 2·128256·16384 + 16384). KV bf16: 2·126·8·128·2 = 516,096 B.
#[test]
fn llama_3_1_405b() {
    for s in both("llama-3.1-405b") {
        exact("total", s.params().total(), 405_853_388_800);
        check("total vs meta", total(&s), 405.85e9, PUBLISHED);
        check("total vs brief", total(&s), 405.9e9, PUBLISHED);
        check(
            "kv",
            s.kv_bytes_per_token(Precision::Bf16),
            516_096.0,
            1e-12,
        );
    }
}

/// Llama-2-70B, Hugging Face: 69 B (Meta rounds to 70 B). Per layer as Llama-3.1-70B
/// (855,654,400); vocabulary 32000: 80 × 855,654,400 + 2·32000·8192 + 8192 = 68,976,648,192.
/// The checkpoint is fp16; context 4096.
#[test]
fn llama_2_70b() {
    for s in both("llama-2-70b") {
        exact("total", s.params().total(), 68_976_648_192);
        check("total vs hf", total(&s), 69e9, PUBLISHED);
        assert_eq!(s.checkpoint, WeightPrecisions::uniform(Precision::Fp16));
        assert_eq!(s.max_context, 4096);
    }
}

/// Qwen3 dense, model cards: 0.6B / non-embedding 0.44B, 8.2B / 6.95B, 32.8B / 31.2B.
/// Qwen counts non-embedding as total less embedding and head. Qwen3-0.6B by hand: per layer
/// attention 1024·(2048 + 2·1024) + 2048·1024 = 6,291,456, q/k norms 2·128, MLP
/// 3·1024·3072 = 9,437,184, norms 2048 → 15,730,944 × 28 = 440,466,432 (the q/k norms,
/// 7,168 in all, sit in `norms`); tied embedding 151936·1024 = 155,582,464; final norm 1024.
/// Total 596,049,920 — 0.6 B is rounded; 0.44 B is the non-embedding part.
#[test]
fn qwen3_dense() {
    for s in both("qwen3-0.6b") {
        exact("total", s.params().total(), 596_049_920);
        check("total", total(&s), 0.6e9, PUBLISHED);
        check(
            "non-embedding",
            s.non_embedding_params() as f64,
            0.44e9,
            PUBLISHED,
        );
        assert!(s.tie_word_embeddings);
        exact(
            "qk norms are norms",
            s.params().norms,
            28 * (2 * 1024 + 256) + 1024,
        );
        // 28 layers × 2 · 8 KV heads · 128 · 2 B.
        check(
            "kv",
            s.kv_bytes_per_token(Precision::Bf16),
            114_688.0,
            1e-12,
        );
    }
    for s in both("qwen3-8b") {
        check("total", total(&s), 8.2e9, PUBLISHED);
        check(
            "non-embedding",
            s.non_embedding_params() as f64,
            6.95e9,
            PUBLISHED,
        );
    }
    for s in both("qwen3-32b") {
        check("total", total(&s), 32.8e9, PUBLISHED);
        check(
            "non-embedding",
            s.non_embedding_params() as f64,
            31.2e9,
            PUBLISHED,
        );
    }
}

/// GPT-J-6B, model card: n_parameters 6,053,381,344. By hand: per layer attention 4·4096² =
/// 67,108,864, MLP 2·4096·16384 + 16384 + 4096 = 134,238,208, one LayerNorm 2·4096 →
/// 201,355,264 × 28 = 5,637,947,392; untied embedding and head 2·50400·4096 = 412,876,800;
/// final norm weight 4096. Total 6,050,828,288 (−0.04 %: the head's bias and final norm bias,
/// 54,496, are not represented; the card's figure is 2.5 M above even with them).
/// KV fp16: 2·28·16·256·2 = 458,752 B per token.
#[test]
fn gpt_j_6b() {
    for s in both("gpt-j-6b") {
        exact("total", s.params().total(), 6_050_828_288);
        check("total vs card", total(&s), 6_053_381_344.0, PUBLISHED);
        check(
            "kv",
            s.kv_bytes_per_token(Precision::Fp16),
            458_752.0,
            1e-12,
        );
        assert_eq!(s.max_context, 2048);
        assert!(matches!(
            s.groups[0].mlp,
            Mlp::Dense {
                intermediate: 16384,
                gated: false,
                bias: true
            }
        ));
    }
}

/// PaLM 540B, Chowdhery et al. 2022 Table 1: 540.35 B. By hand: per layer attention
/// 18432·(48·256) · 2 + 2·18432·256 = 462,422,016, SwiGLU 3·18432·73728 = 4,076,863,488,
/// norms 36,864 → 4,539,322,368 × 118 = 535,640,039,424; tied embedding 256000·18432 =
/// 4,718,592,000; final norm 18432. Total 540,358,649,856. Multi-query KV bf16:
/// 2·118·1·256·2 = 120,832 B per token.
#[test]
fn palm_540b() {
    for s in both("palm-540b") {
        exact("total", s.params().total(), 540_358_649_856);
        check("total vs paper", total(&s), 540.35e9, PUBLISHED);
        check(
            "kv",
            s.kv_bytes_per_token(Precision::Bf16),
            120_832.0,
            1e-12,
        );
    }
}

// ---- mixture of experts ---------------------------------------------------------------------

/// Mixtral, Mistral: 8x7B 46.7 B total / 12.9 B active; 8x22B 141 B / 39 B. Mistral's active
/// figure counts the embedding table: 8x7B per layer attention 41,943,040 + 2 experts ·
/// 176,160,768 + router 32,768 + norms 8,192 = 394,305,536 × 32 = 12,617,777,152, plus
/// embedding and head 262,144,000 and final norm: 12,879,925,248 (12.9 B; leaving the
/// embedding out would give 12.75 B).
#[test]
fn mixtral() {
    for s in both("mixtral-8x7b") {
        exact("total", s.params().total(), 46_702_792_704);
        check("total", total(&s), 46.7e9, PUBLISHED);
        exact("active", s.active_params(), 12_879_925_248);
        check("active", s.active_params() as f64, 12.9e9, PUBLISHED);
        check(
            "kv",
            s.kv_bytes_per_token(Precision::Bf16),
            131_072.0,
            1e-12,
        );
    }
    for s in both("mixtral-8x22b") {
        check("total", total(&s), 141e9, PUBLISHED);
        check("active", s.active_params() as f64, 39e9, PUBLISHED);
    }
}

/// Qwen3 MoE, model cards: 30.5 B total / 3.3 B activated / 29.9 B non-embedding, and
/// 235 B / 22 B / 234 B. Qwen's activated figure counts embedding and head (without them
/// 30B-A3B would be 3.04 B). 30B-A3B active by hand: per layer attention 18,874,624 (q/k
/// norms included), 8 of 128 experts 8 · 4,718,592, router 262,144, norms 4,096 →
/// 56,889,600 × 48 = 2,730,700,800, plus 622,329,856 embedding and head and 2,048: 3,353,032,704.
/// Qwen truncates to two digits (30.53 → 30.5, 235.09 → 235, 22.19 → 22, 29.91 → 29.9), so
/// "3.3 B" means [3.3, 3.4) B and the rounding allowance of 1.5 % does not apply; 3.353 B is
/// 1.6 % above 3.3 B and inside that interval.
#[test]
fn qwen3_moe() {
    for s in both("qwen3-30b-a3b") {
        check("total", total(&s), 30.5e9, PUBLISHED);
        check(
            "non-embedding",
            s.non_embedding_params() as f64,
            29.9e9,
            PUBLISHED,
        );
        exact("active", s.active_params(), 3_353_032_704);
        let active = s.active_params() as f64;
        assert!(
            (3.3e9..3.4e9).contains(&active),
            "active {active:.4e} outside [3.3, 3.4) B"
        );
        // 48 layers × 2 · 4 KV heads · 128 · 2 B.
        check("kv", s.kv_bytes_per_token(Precision::Bf16), 98_304.0, 1e-12);
    }
    for s in both("qwen3-235b-a22b") {
        check("total", total(&s), 235e9, PUBLISHED);
        check("active", s.active_params() as f64, 22e9, PUBLISHED);
        check(
            "non-embedding",
            s.non_embedding_params() as f64,
            234e9,
            PUBLISHED,
        );
    }
}

/// DeepSeek-V3 and R1: 671 B total, 37 B activated (technical report); README_WEIGHTS.md
/// refines this to 36.6 B "including 0.9 B for the output head", i.e. without the
/// embedding lookup: [`ModelSpec::active_matmul_params`] (DeepSeek-V2-Lite confirms the
/// convention: 2.4 B activated is 2.45 B without the embedding, 2.66 B with it).
///
/// By hand: MLA per layer q_a 7168·1536 + 1536 + q_b 1536·128·192 + kv_a 7168·576 + 512 +
/// kv_b 512·128·256 + o 128·128·7168 = 187,107,328. Dense layers (3): 3·7168·18432 =
/// 396,361,728. MoE layers (58): 256 experts · 44,040,192 + shared 44,040,192 + router
/// 1,835,008. Total 671,026,404,352; active without embedding 36,625,603,584.
///
/// MTP: layer 61 (MoE, 11,506,286,016) + eh_proj 2·7168² + 3 norms = 11,610,067,968
/// against DeepSeek's "11.5 B unique parameters" (which matches the layer alone). The 685 B
/// checkpoint adds the MTP module and a stored copy of embedding and head (1.85 B).
///
/// KV (MLA latent + RoPE key) bf16: 61 · (512 + 64) · 2 = 70,272 B per token; the MTP layer
/// is not part of a normal step and is not counted.
#[test]
fn deepseek_v3_and_r1() {
    for name in ["deepseek-v3", "deepseek-r1"] {
        for s in both(name) {
            exact("total", s.params().total(), 671_026_404_352);
            check("total", total(&s), 671e9, PUBLISHED);
            exact("active", s.active_matmul_params(), 36_625_603_584);
            check(
                "active vs readme",
                s.active_matmul_params() as f64,
                36.6e9,
                PUBLISHED,
            );
            check(
                "active vs paper",
                s.active_matmul_params() as f64,
                37e9,
                PUBLISHED,
            );
            exact("mtp", s.mtp_params(), 11_610_067_968);
            check("mtp", s.mtp_params() as f64, 11.5e9, PUBLISHED);
            let checkpoint = total(&s) + s.mtp_params() as f64 + s.embedding_params() as f64;
            check("checkpoint with mtp", checkpoint, 685e9, PUBLISHED);
            check("kv", s.kv_bytes_per_token(Precision::Bf16), 70_272.0, 1e-12);
            let counts: Vec<u64> = s.groups.iter().map(|g| g.count).collect();
            assert_eq!(counts, [3, 58], "3 dense layers then 58 MoE layers");
            assert_eq!(s.checkpoint.attention, Precision::Fp8Block128);
            assert_eq!(s.checkpoint.embeddings, Precision::Bf16);
            // Weights: embedding and head 2 B each, the rest FP8 with one fp32 scale per
            // 128×128 block: 1 + 4/16384 B. ≈ 671e9 · 1.0002 + 1.85e9 ≈ 673.05 GB.
            let emb = s.embedding_params() as f64;
            let golden = 2.0 * emb + (total(&s) - emb) * (1.0 + 4.0 / 16384.0);
            check("weight bytes", s.weight_bytes(&s.checkpoint), golden, 1e-12);
            check(
                "weight bytes, rough",
                s.weight_bytes(&s.checkpoint),
                673.05e9,
                1e-3,
            );
        }
    }
}

/// gpt-oss, OpenAI model card: 120b 116.83 B total / 5.13 B active, 20b 20.91 B / 3.61 B.
/// The card's active figure counts the unembedding but not the embedding. 120b by hand, per
/// layer: 128 experts of 3·2880·2880 + biases 2·2880 + 2880 = 24,891,840 → 3,186,155,520;
/// router 2880·128 + 128 = 368,768; attention 2880·(4096 + 2·512) + 4096·2880 + biases
/// 5,120 + 2,880 + sinks 64 = 26,550,144; norms 5,760 → 3,213,080,192 × 36 =
/// 115,670,886,912; embedding and head 2·201088·2880 = 1,158,266,880; final norm 2,880:
/// 116,829,156,672. Active: 4 of 128 experts, no embedding: 5.13 B.
///
/// Weights: experts MXFP4 (0.53125 B), the rest bf16: 120b 114,701,598,720 · 0.53125 +
/// 2,127,557,952 · 2 = 65.19 GB = 60.71 GiB against the card's 60.8 GiB; 20b 12.81 GiB
/// against 12.8 GiB.
///
/// KV: 18 of 36 layers attend fully (2·8·64·2 = 2,048 B each per token); the other 18 hold
/// at most 128 tokens.
#[test]
fn gpt_oss() {
    const GIB: f64 = 1024.0 * 1024.0 * 1024.0;
    for s in both("gpt-oss-120b") {
        exact("total", s.params().total(), 116_829_156_672);
        check("total", total(&s), 116.83e9, PUBLISHED);
        check("active", s.active_matmul_params() as f64, 5.13e9, PUBLISHED);
        check(
            "checkpoint",
            s.weight_bytes(&s.checkpoint) / GIB,
            60.8,
            PUBLISHED,
        );
        check(
            "kv long",
            s.kv_bytes_per_token(Precision::Bf16),
            18.0 * 2048.0,
            1e-12,
        );
        check(
            "kv short",
            s.kv_bytes_per_token_short(Precision::Bf16),
            36.0 * 2048.0,
            1e-12,
        );
        let at_100k = 18.0 * 2048.0 * 100_000.0 + 18.0 * 2048.0 * 128.0;
        check(
            "kv 100k",
            s.kv_bytes_for_context(100_000, Precision::Bf16),
            at_100k,
            1e-12,
        );
        let spans: Vec<(u64, AttentionSpan)> = s
            .groups
            .iter()
            .map(|g| (g.count, g.attention.span()))
            .collect();
        assert_eq!(
            spans,
            [
                (18, AttentionSpan::Sliding { window: 128 }),
                (18, AttentionSpan::Full)
            ]
        );
        assert_eq!(s.checkpoint.experts, Precision::Mxfp4);
        assert_eq!(s.checkpoint.attention, Precision::Bf16);
    }
    for s in both("gpt-oss-20b") {
        check("total", total(&s), 20.91e9, PUBLISHED);
        check("active", s.active_matmul_params() as f64, 3.61e9, PUBLISHED);
        check(
            "checkpoint",
            s.weight_bytes(&s.checkpoint) / GIB,
            12.8,
            PUBLISHED,
        );
    }
}

/// Llama-4-Scout-17B-16E, Meta: 109 B total / 17 B active. The text model alone (counted
/// here) is 107.77 B, −1.1 %: the rest of Meta's figure is the vision tower and projector
/// (≈ 0.9 B, not described by this crate). By hand, per layer: attention 5120·(5120 +
/// 2·1024) + 5120·5120 = 62,914,560; 16 experts + 1 shared of 3·5120·8192 = 125,829,120;
/// router 81,920; norms 10,240. Active counts the embedding (Meta's convention): 48 ·
/// (62,914,560 + 2 · 125,829,120 + 81,920 + 10,240) + 2·202048·5120 + 5120 = 17.17 B.
/// KV: 12 global (NoPE) layers grow without bound, 2·8·128·2 = 4,096 B each per token; the 36
/// chunked layers hold at most 8,192 tokens.
#[test]
fn llama_4_scout() {
    for s in both("llama-4-scout") {
        check("total", total(&s), 109e9, PUBLISHED);
        check("active", s.active_params() as f64, 17e9, PUBLISHED);
        exact("active", s.active_params(), 17_172_894_720);
        check(
            "kv long",
            s.kv_bytes_per_token(Precision::Bf16),
            12.0 * 4096.0,
            1e-12,
        );
        let at_100k = 12.0 * 4096.0 * 100_000.0 + 36.0 * 4096.0 * 8192.0;
        check(
            "kv 100k",
            s.kv_bytes_for_context(100_000, Precision::Bf16),
            at_100k,
            1e-12,
        );
        let spans: Vec<(u64, AttentionSpan)> = s
            .groups
            .iter()
            .map(|g| (g.count, g.attention.span()))
            .collect();
        assert_eq!(
            spans,
            [
                (36, AttentionSpan::Chunked { chunk: 8192 }),
                (12, AttentionSpan::Full)
            ]
        );
        assert_eq!(s.model_type, "llama4_text");
    }
}

#[test]
fn kimi_k2_5() {
    // https://github.com/MoonshotAI/Kimi-K2.5 (README, same as the Hugging Face card): "Total
    // Parameters 1T", "Activated Parameters 32B", "Parameters of Vision Encoder 400M" (listed
    // apart); the Kimi K2.5 tech report: "1.04 trillion total parameters with 32 billion
    // activated". Activated excludes the input embedding (DeepSeek's convention; the config is
    // a DeepSeek-V3 decoder): 31.69 B.
    for s in both("kimi-k2.5") {
        assert_eq!(s.model_type, "kimi_k2");
        check("kimi-k2.5 total", total(&s), 1.04e12, 0.02);
        check(
            "kimi-k2.5 active",
            s.active_matmul_params() as f64,
            32e9,
            0.02,
        );
        // The INT4 experts (compressed-tensors, groups of 32, bf16 scales), everything else
        // bf16 by the config's ignore list.
        assert_eq!(s.checkpoint.experts, Precision::Int4G32);
        assert_eq!(s.checkpoint.attention, Precision::Bf16);
        assert_eq!(s.checkpoint.dense_mlp, Precision::Bf16);
        // MoonViT: 27 blocks of width 1152 (MLP 4304) + patch embed 3·14²·1152 + 1152 +
        // projector over 2x2 merged rows: 2·4608 + 4608² + 4608 + 4608·7168 + 7168
        // = 411,466,608 + 678,528 + 54,284,800 = 466,429,936 (the card's "400M", rounded).
        assert_eq!(s.vision_params, 466_429_936);
    }
}

#[test]
fn minimax_m2_7() {
    // https://github.com/MiniMax-AI/MiniMax-M2 (README): "230 billion total parameters with 10
    // billion active parameters"; the M2.7 README states no count, and vLLM's MiniMax-M2 recipe
    // (https://docs.vllm.ai/projects/recipes/en/latest/MiniMax/MiniMax-M2.html) gives the same
    // "10B activated parameters (230B total)" for M2.7's architecture. The 3 MTP modules are
    // counted apart. "10B" has two significant digits: the embedding-free active count 10.42 B
    // lies inside its rounding interval [9.5, 10.5).
    for s in both("minimax-m2.7") {
        check("minimax-m2.7 total", total(&s), 230e9, 0.02);
        let active = s.active_matmul_params() as f64;
        assert!((9.5e9..10.5e9).contains(&active), "{active}");
        assert_eq!(s.checkpoint.experts, Precision::Fp8Block128);
        assert!(s.mtp.is_some_and(|g| g.count == 3));
    }
}

#[test]
fn mimo_7b() {
    // MiMo-7B (https://arxiv.org/abs/2505.07608): "36 layers, hidden 4,096"; no exact count is
    // published. By hand: attention 36·(4096·(32+2·8)·128 + 4096·4096) = 1,509,949,440, q/k/v
    // biases 36·48·128 = 221,184; MLP 36·3·4096·11008 = 4,869,586,944; norms 36·2·4096 + 4096
    // = 299,008; embedding and head 2·151680·4096 = 1,242,562,560: 7,622,619,136.
    for s in both("mimo-7b") {
        exact("mimo-7b total", s.params().total(), 7_622_619_136);
        assert!(s.mtp.is_some_and(|g| g.count == 1));
    }
}

#[test]
fn qwen3_vl_8b() {
    // Qwen3-VL tech report (https://arxiv.org/abs/2511.21631): dense 8B with the
    // SigLIP2-So400m encoder; the card gives no exact count. The decoder is Qwen3-8B's shape
    // with a 12,288 MLP: attention 36·(4096·(32+16)·128 + 4096·4096) = 1,509,949,440 and q/k
    // norms 36·2·128 = 9,216; MLP 36·3·4096·12288 = 5,435,817,984; norms 36·2·4096 + 4096
    // = 299,008; embedding and head 2·151936·4096 = 1,244,659,712: 8,190,735,360. The tower, counted
    // apart: 576,388,336 (hand-derived in hf/vision.rs); 8.77 B together.
    for s in both("qwen3-vl-8b") {
        exact("qwen3-vl-8b decoder", s.params().total(), 8_190_735_360);
        exact("qwen3-vl-8b vision", s.vision_params, 576_388_336);
        assert_eq!(s.model_type, "qwen3_vl_text");
    }
}

#[test]
fn qwen3_vl_30b_a3b() {
    // The same decoder as Qwen3-30B-A3B (48 layers, 2048 wide, 128 experts top-8 of 768), whose
    // card says "30.5B in total and 3.3B activated"
    // (https://huggingface.co/Qwen/Qwen3-30B-A3B); 3.353 B against Qwen's truncated "3.3B".
    for s in both("qwen3-vl-30b-a3b") {
        check("qwen3-vl-30b-a3b total", total(&s), 30.5e9, 0.02);
        check(
            "qwen3-vl-30b-a3b active",
            s.active_params() as f64,
            3.3e9,
            0.02,
        );
        assert!(s.vision_params > 500_000_000 && s.vision_params < 600_000_000);
    }
}

#[test]
fn glm_5_1() {
    // https://github.com/zai-org/GLM-5 (README): "GLM-5.1 | 744B-A40B"; "GLM-5 scales ... to 744B
    // parameters (40B active)". The MTP layer is counted apart. GLM's active figure leaves out
    // both embedding tables (39.9 B here; 40.8 B with the output head, 41.8 B with both).
    for s in both("glm-5.1") {
        check("glm-5.1 total", total(&s), 744e9, 0.02);
        let p = s.params();
        let active = (s.active_params() - p.embedding - p.lm_head) as f64;
        check("glm-5.1 active", active, 40e9, 0.02);
        // DSA on every layer: indexer 32 heads x 128, top 2,048.
        assert!(s
            .groups
            .iter()
            .all(|g| g.attention.span() == AttentionSpan::Sparse { top_k: 2048 }));
    }
}

#[test]
fn deepseek_v3_2() {
    // DeepSeek-V3.2 is DeepSeek-V3 plus DSA's lightning indexer (https://arxiv.org/abs/2512.02556:
    // "the only architectural modification"). DeepSeek's V4 card lists V3.2-Base at 671B total,
    // 37B activated (https://huggingface.co/deepseek-ai/DeepSeek-V4-Flash); NVIDIA's NVFP4 card
    // says "Undisclosed". By hand, the indexer per layer: wq_b 1536·64·128 = 12,582,912, wk
    // 7168·128 = 917,504, its LayerNorm 2·128 = 256, weights_proj 7168·64 = 458,752:
    // 13,959,424, x 61 layers = 851,524,864 on top of DeepSeek-V3's 671.03 B.
    let v3 = builtin("deepseek-v3").unwrap().params().total();
    let s = builtin("deepseek-v3.2").unwrap();
    exact(
        "deepseek-v3.2 indexer",
        s.params().total() - v3,
        851_524_864,
    );
    check("deepseek-v3.2 total", total(&s), 671e9, 0.02);
    check(
        "deepseek-v3.2 active",
        s.active_matmul_params() as f64,
        37e9,
        0.02,
    );
    // NVIDIA's NVFP4 snapshot: experts (and shared experts, dense MLP, o_proj) in NVFP4, the
    // MLA projections and indexer kept BF16 by `exclude_modules`, FP8 KV.
    assert_eq!(s.checkpoint.experts, Precision::Nvfp4);
    assert_eq!(s.checkpoint.attention, Precision::Bf16);
    assert_eq!(s.kv_cache, Some(Precision::Fp8));
    // Cache per token per layer: the latent 512 + rope 64 in FP8 (576 B) and the indexer key
    // 128 B + one FP32 scale (132 B): 61 x 708 = 43,188 B.
    assert!((s.kv_bytes_per_token(Precision::Fp8) - 43_188.0).abs() < 1e-9);
}

#[test]
fn gemma_4_31b() {
    // NVIDIA's card (https://huggingface.co/nvidia/Gemma-4-31B-IT-NVFP4): "Number of model
    // parameters: 30.7B" (the decoder; the vision tower is counted apart where its layout is
    // read, and here it is not: a note says so). The spec counts a V projection on the 10
    // global layers, whose checkpoint reuses K (`attention_k_eq_v`: +110 M, +0.36 %; see
    // hf/gemma4.rs), so the KV cache of those layers holds K and V as engines store them.
    let s = builtin("gemma-4-31b").unwrap();
    check("gemma-4-31b total", total(&s), 30.7e9, 0.02);
    assert_eq!(s.checkpoint.dense_mlp, Precision::Nvfp4);
    assert_eq!(s.checkpoint.attention, Precision::Bf16);
    assert_eq!(s.kv_cache, Some(Precision::Fp8));
    // The hybrid's point: at 128k tokens (131,072) its FP8 KV cache is 50 sliding layers of
    // 1,024 tokens x 2·16·256 B plus 10 global layers x 131,072 x 2·4·512 B = 419,430,400 +
    // 5,368,709,120 = 5,788,139,520 B; the same 60 layers all global (16 KV heads x 256, the
    // sliding layers' shape, attending everything) would hold 60·131,072·8,192 B
    // = 64,424,509,440 B: 11.1x more.
    let hybrid = s.kv_bytes_for_context(131_072, Precision::Fp8);
    exact("gemma-4-31b KV at 128k", hybrid as u64, 5_788_139_520);
    assert!(64_424_509_440.0 / hybrid > 11.0);
}

#[test]
fn qwen3_5_35b_a3b() {
    // "35B total/3B active" (https://huggingface.co/docs/transformers/model_doc/qwen3_5_moe);
    // active without the input embedding (2.94 B), as Qwen's "3B". Hand-derived layer figures
    // are in hf/qwen35.rs.
    for s in both("qwen3.5-35b-a3b") {
        check("qwen3.5 total", total(&s), 35e9, 0.02);
        check("qwen3.5 active", s.active_matmul_params() as f64, 3e9, 0.02);
        // The hybrid's point: at 128k tokens (131,072) its BF16 cache is the 10 full layers'
        // 10·2·2·256·2 B = 20,480 B per token, 2,684,354,560 B, plus the 30 linear layers'
        // fixed 30·2,146,304 = 64,389,120 B of state: 2,748,743,680 B. The same 40 layers all
        // full attention would hold 40·2·2·256·2·131,072 = 10,737,418,240 B: 3.9x more.
        let kv = s.kv_bytes_for_context(131_072, Precision::Bf16);
        let state: f64 = s
            .groups
            .iter()
            .map(|g| g.count as f64 * g.attention.state_bytes_per_sequence())
            .sum();
        exact("qwen3.5 KV at 128k", kv as u64, 2_684_354_560);
        exact("qwen3.5 state", state as u64, 64_389_120);
        assert!(10_737_418_240.0 / (kv + state) > 3.9);
    }
}

#[test]
fn nemotron_3_nano() {
    // https://arxiv.org/abs/2512.20848: "31.6B parameters ... 3.2B are activated per forward pass
    // (3.6B including embeddings)". Hand-derived mixer figures are in hf/nemotron_h.rs.
    for s in both("nemotron-3-nano") {
        check("nemotron total", total(&s), 31.6e9, 0.02);
        check("nemotron active", s.active_params() as f64, 3.6e9, 0.02);
        // At 128k tokens (131,072) its BF16 cache is the 6 attention layers' 6·2·2·128·2 B
        // = 6,144 B per token, 805,306,368 B, plus 23 Mamba states of 2,134,016 B = 49,082,368 B:
        // 854,388,736 B. The same 29 mixers all attention would hold 29·1,024·131,072
        // = 3,892,314,112 B: 4.6x more.
        let kv = s.kv_bytes_for_context(131_072, Precision::Bf16);
        let state: f64 = s
            .groups
            .iter()
            .map(|g| g.count as f64 * g.attention.state_bytes_per_sequence())
            .sum();
        exact("nemotron KV at 128k", kv as u64, 805_306_368);
        exact("nemotron state", state as u64, 49_082_368);
        assert!(3_892_314_112.0 / (kv + state) > 4.5);
    }
}

#[test]
fn deepseek_v4_flash() {
    // https://huggingface.co/deepseek-ai/DeepSeek-V4-Flash: "284B parameters (13B activated)".
    // Layer-by-layer figures derived by hand are in hf/deepseek_v4.rs.
    for s in both("deepseek-v4-flash") {
        check("v4-flash total", total(&s), 284e9, 0.02);
        let active = s.active_matmul_params() as f64;
        assert!(
            (12.5e9..13.5e9).contains(&active),
            "v4-flash active {active}"
        );
        // Long-context cache per token in FP8 (hand-derived in hf/deepseek_v4.rs): 3,461 B, so
        // 1M tokens (1,048,576) hold about 3.63 GB of compressed entries and indexer keys,
        // beside each layer's fixed 128-token window.
        assert!((s.kv_bytes_per_token(Precision::Fp8) - 3_461.0).abs() < 1e-9);
        // V3 stores 61·(512+64) = 35,136 B per FP8 token: V4-Flash's long-context cache is
        // more than ten times smaller.
        assert!(35_136.0 / s.kv_bytes_per_token(Precision::Fp8) > 10.0);
    }
}

#[test]
fn nemotron_3_super() {
    // https://huggingface.co/nvidia/NVIDIA-Nemotron-3-Super-120B-A12B-FP8: 120B total, 12B
    // active ("A12B"). LatentMoE by hand, per MoE layer: 512 experts of 2·1024·2688 (squared
    // ReLU, not gated) = 2,818,572,288, working in a 1,024-wide latent reached by 4096·1024 down
    // and 1024·4096 up: 8,388,608. 40 MoE layers: 112,742,891,520 routed.
    let s = builtin("nemotron-3-super").unwrap();
    assert_eq!(s.params().routed_experts, 40 * 2_818_572_288);
    assert_eq!(s.params().dense_mlp, 40 * 8_388_608);
    check("super total", total(&s), 120e9, 0.01);
    let active = s.active_matmul_params() as f64;
    assert!((11.5e9..12.5e9).contains(&active), "super active {active}");
    assert_eq!(s.checkpoint.experts, Precision::Fp8);
    assert_eq!(s.kv_cache, Some(Precision::Fp8));
}
