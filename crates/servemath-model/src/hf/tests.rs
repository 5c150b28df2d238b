//! Parsing behaviour per family, every refusal path, and the no-panic properties.

#![expect(clippy::unwrap_used, reason = "tests")]

use super::fields::name_stem;
use super::*;
use crate::{builtin_models, Attention, AttentionSpan, Mlp, Precision};
use proptest::prelude::*;
use serde_json::json;

fn parse(v: &Value) -> Result<ModelSpec, ModelError> {
    parse_config(&v.to_string(), "test.json")
}

fn with(mut v: Value, key: &str, val: Value) -> Value {
    v.as_object_mut().unwrap().insert(key.to_string(), val);
    v
}

fn without(mut v: Value, key: &str) -> Value {
    v.as_object_mut().unwrap().remove(key);
    v
}

/// A small llama: 2 layers, d 256, 8 heads of 32, 2 KV heads.
fn llama() -> Value {
    json!({
        "model_type": "llama",
        "hidden_size": 256,
        "num_hidden_layers": 2,
        "num_attention_heads": 8,
        "num_key_value_heads": 2,
        "intermediate_size": 512,
        "vocab_size": 1000,
        "max_position_embeddings": 4096,
        "torch_dtype": "bfloat16"
    })
}

/// Asserts an `InvalidField` on `field` whose value renders as `value`.
fn assert_invalid(r: Result<ModelSpec, ModelError>, field: &str, value: &str) {
    match r {
        Err(ModelError::InvalidField {
            field: f, value: v, ..
        }) => assert_eq!((f.as_str(), v.as_str()), (field, value)),
        other => panic!("expected invalid `{field}`, got {other:?}"),
    }
}

fn assert_missing(r: Result<ModelSpec, ModelError>, field: &str) {
    match r {
        Err(ModelError::MissingField { field: f, .. }) => assert_eq!(f, field),
        other => panic!("expected missing `{field}`, got {other:?}"),
    }
}

fn assert_unsupported(r: Result<ModelSpec, ModelError>, field: &str, suggestion: Option<&str>) {
    match r {
        Err(ModelError::UnsupportedValue {
            field: f,
            suggestion: s,
            ..
        }) => assert_eq!((f.as_str(), s.as_deref()), (field, suggestion)),
        other => panic!("expected unsupported `{field}`, got {other:?}"),
    }
}

fn gqa(spec: &ModelSpec, group: usize) -> (u64, u64, u64, AttentionSpan, bool, bool) {
    match spec.groups[group].attention {
        Attention::Gqa {
            heads,
            kv_heads,
            head_dim,
            span,
            qkv_bias,
            o_bias,
            ..
        } => (heads, kv_heads, head_dim, span, qkv_bias, o_bias),
        Attention::Mla { .. }
        | Attention::Linear { .. }
        | Attention::Mamba2 { .. }
        | Attention::Compressed { .. }
        | Attention::None => {
            panic!("not gqa")
        }
    }
}

// ---- defaults and families --------------------------------------------------------------

#[test]
fn llama_defaults_head_dim_and_kv_heads() {
    let s = parse(&without(llama(), "num_key_value_heads")).unwrap();
    assert_eq!(s.name, "test");
    assert_eq!(gqa(&s, 0), (8, 8, 32, AttentionSpan::Full, false, false));
    assert!(!s.tie_word_embeddings);
    assert_eq!(s.groups[0].count, 2);
    let s = parse(&with(llama(), "attention_bias", json!(true))).unwrap();
    assert!(gqa(&s, 0).4);
    assert!(gqa(&s, 0).5);
}

#[test]
fn mistral_slides_every_layer_when_a_window_is_set() {
    let v = with(
        with(llama(), "model_type", json!("mistral")),
        "sliding_window",
        json!(4096),
    );
    let s = parse(&v).unwrap();
    assert_eq!(gqa(&s, 0).3, AttentionSpan::Sliding { window: 4096 });
    let v = with(v, "sliding_window", Value::Null);
    assert_eq!(gqa(&parse(&v).unwrap(), 0).3, AttentionSpan::Full);
}

#[test]
fn qwen2_biases_and_window_after_max_window_layers() {
    let v = with(llama(), "model_type", json!("qwen2"));
    let v = with(
        with(v, "num_hidden_layers", json!(4)),
        "sliding_window",
        json!(1024),
    );
    // Window configured but switched off: every layer attends fully.
    let s = parse(&v).unwrap();
    assert_eq!(s.groups.len(), 1);
    assert_eq!(gqa(&s, 0), (8, 2, 32, AttentionSpan::Full, true, false));
    let v = with(v, "use_sliding_window", json!(true));
    assert_missing(parse(&v), "max_window_layers");
    let s = parse(&with(v, "max_window_layers", json!(3))).unwrap();
    let counts: Vec<(u64, AttentionSpan)> = s
        .groups
        .iter()
        .map(|g| (g.count, g.attention.span()))
        .collect();
    assert_eq!(
        counts,
        [
            (3, AttentionSpan::Full),
            (1, AttentionSpan::Sliding { window: 1024 })
        ]
    );
}

#[test]
fn explicit_layer_types_win_and_unknown_entries_are_refused() {
    let v = with(llama(), "model_type", json!("qwen3"));
    let v = with(v, "sliding_window", json!(512));
    let v = with(
        v,
        "layer_types",
        json!(["sliding_attention", "full_attention"]),
    );
    let s = parse(&v).unwrap();
    assert_eq!(gqa(&s, 0).3, AttentionSpan::Sliding { window: 512 });
    assert_eq!(gqa(&s, 1).3, AttentionSpan::Full);
    let bad = with(
        v.clone(),
        "layer_types",
        json!(["sliding_attention", "full_atention"]),
    );
    assert_unsupported(parse(&bad), "layer_types entry", Some("full_attention"));
    let short = with(v.clone(), "layer_types", json!(["full_attention"]));
    assert_invalid(parse(&short), "layer_types", "[1 entries]");
    let no_window = without(v, "sliding_window");
    assert_missing(parse(&no_window), "sliding_window");
}

#[test]
fn qwen2_moe_sparse_step_mlp_only_layers_and_shared_expert() {
    let v = with(llama(), "model_type", json!("qwen2_moe"));
    let v = with(v, "num_hidden_layers", json!(6));
    let v = with(v, "num_experts", json!(8));
    let v = with(v, "num_experts_per_tok", json!(2));
    let v = with(v, "moe_intermediate_size", json!(128));
    let v = with(v, "decoder_sparse_step", json!(2));
    let v = with(v, "mlp_only_layers", json!([3]));
    assert_missing(parse(&v), "shared_expert_intermediate_size");
    let v = with(v, "shared_expert_intermediate_size", json!(256));
    let s = parse(&v).unwrap();
    // Layers 1, 3, 5 are sparse by the step; 3 is forced dense: 4 dense + 2 MoE.
    let kinds: Vec<(u64, bool)> = s
        .groups
        .iter()
        .map(|g| (g.count, g.mlp.routing().is_some()))
        .collect();
    assert_eq!(kinds, [(4, false), (2, true)]);
    assert_eq!(
        s.groups[1].mlp,
        Mlp::Moe {
            experts: 8,
            top_k: 2,
            expert_intermediate: 128,
            shared_intermediate: 256,
            gated: true,
            bias: false,
            latent: 0,
        }
    );
    let out_of_range = with(v.clone(), "mlp_only_layers", json!([6]));
    assert_invalid(parse(&out_of_range), "mlp_only_layers", "6");
    let too_many = with(v, "num_experts_per_tok", json!(9));
    assert_invalid(parse(&too_many), "num_experts_per_tok", "9");
}

#[test]
fn mixtral_and_qwen_expert_count_names_must_agree() {
    let v = with(llama(), "model_type", json!("mixtral"));
    assert_missing(parse(&v), "num_local_experts");
    let v = with(
        with(v, "num_local_experts", json!(8)),
        "num_experts_per_tok",
        json!(2),
    );
    assert_eq!(parse(&v).unwrap().groups[0].mlp.routing(), Some((8, 2)));
    assert_invalid(
        parse(&with(v, "num_experts", json!(4))),
        "num_local_experts",
        "8",
    );
}

/// DeepSeek-V2-Lite (deepseek-ai/DeepSeek-V2-Lite config.json): queries without a LoRA
/// (`q_lora_rank: null`), 64 routed + 2 shared experts, top-6, first layer dense. Published:
/// 15.7 B total, 2.4 B activated. By hand: MLA per layer 2048·16·192 + 2048·576 + 512 +
/// 512·16·256 + 16·128·2048 = 13,763,072; experts 3·2048·1408 = 8,650,752. Activated
/// without the embedding lookup (DeepSeek's convention) is 2.45 B; with it 2.66 B.
#[test]
fn deepseek_v2_lite_without_q_lora() {
    let v = json!({
        "model_type": "deepseek_v2",
        "hidden_size": 2048, "intermediate_size": 10944, "moe_intermediate_size": 1408,
        "num_hidden_layers": 27, "num_attention_heads": 16, "num_key_value_heads": 16,
        "n_shared_experts": 2, "n_routed_experts": 64, "num_experts_per_tok": 6,
        "first_k_dense_replace": 1, "moe_layer_freq": 1, "q_lora_rank": null,
        "kv_lora_rank": 512, "qk_nope_head_dim": 128, "qk_rope_head_dim": 64,
        "v_head_dim": 128, "vocab_size": 102400, "max_position_embeddings": 163840,
        "tie_word_embeddings": false, "torch_dtype": "bfloat16"
    });
    let s = parse(&v).unwrap();
    assert_eq!(s.groups[0].attention.params(2048), 13_763_072);
    let total = s.params().total() as f64;
    assert!((total / 15.7e9 - 1.0).abs() < 0.015, "total {total:.4e}");
    let active = s.active_matmul_params() as f64;
    assert!((active / 2.4e9 - 1.0).abs() < 0.025, "active {active:.4e}");
    assert!(s.mtp.is_none());
    let biased = with(v, "attention_bias", json!(true));
    assert_invalid(parse(&biased), "attention_bias", "true");
}

#[test]
fn gpt_oss_defaults_alternate_when_layer_types_are_absent() {
    let text = crate::builtin::builtin_config_text("gpt-oss-20b");
    let v: Value = serde_json::from_str(text).unwrap();
    let from_file = parse(&v).unwrap();
    let defaulted = parse(&without(v.clone(), "layer_types")).unwrap();
    assert_eq!(from_file.groups, defaulted.groups);
    // No dtype and no quantization: the experts' storage is unknown.
    assert_missing(
        parse(&without(v.clone(), "quantization_config")),
        "torch_dtype",
    );
    let bf16 = with(
        without(v, "quantization_config"),
        "torch_dtype",
        json!("bfloat16"),
    );
    assert_eq!(parse(&bf16).unwrap().checkpoint.experts, Precision::Bf16);
}

#[test]
fn llama4_interleaving_chunking_and_explicit_lists() {
    let text = json!({
        "model_type": "llama4_text",
        "hidden_size": 512, "num_hidden_layers": 8, "num_attention_heads": 8,
        "num_key_value_heads": 2, "head_dim": 64, "intermediate_size": 256,
        "intermediate_size_mlp": 1024, "num_local_experts": 4, "num_experts_per_tok": 1,
        "interleave_moe_layer_step": 2, "vocab_size": 1000,
        "max_position_embeddings": 8192, "torch_dtype": "bfloat16"
    });
    let s = parse(&json!({"model_type": "llama4", "text_config": text})).unwrap();
    // Layers 3 and 7 are global (NoPE); MoE on odd layers: chunked dense 0, 2, 4, 6;
    // chunked MoE 1, 5; global MoE 3, 7.
    let shape: Vec<(u64, AttentionSpan, bool)> = s
        .groups
        .iter()
        .map(|g| (g.count, g.attention.span(), g.mlp.routing().is_some()))
        .collect();
    let chunked = AttentionSpan::Chunked { chunk: 8192 };
    assert_eq!(
        shape,
        [
            (4, chunked, false),
            (2, chunked, true),
            (2, AttentionSpan::Full, true)
        ]
    );
    let no_chunk = with(text.clone(), "attention_chunk_size", Value::Null);
    let wrapped = json!({"model_type": "llama4", "text_config": no_chunk});
    assert_missing(parse(&wrapped), "text_config.attention_chunk_size");
    let bad = with(text.clone(), "hidden_size", json!(-1));
    let wrapped = json!({"model_type": "llama4", "text_config": bad});
    assert_invalid(parse(&wrapped), "text_config.hidden_size", "-1");
    let rope = with(
        text.clone(),
        "no_rope_layers",
        json!([1, 1, 1, 1, 1, 1, 1, 0]),
    );
    let rope = with(rope, "moe_layers", json!([0]));
    let s = parse(&rope).unwrap();
    assert_eq!(
        s.groups.iter().map(|g| g.count).collect::<Vec<_>>(),
        [1, 6, 1]
    );
    assert_missing(parse(&json!({"model_type": "llama4"})), "text_config");
}

#[test]
fn gptj_defaults_n_inner_and_checks_rotary_dim() {
    let v = json!({
        "model_type": "gptj", "n_embd": 256, "n_layer": 2, "n_head": 4, "n_inner": null,
        "rotary_dim": 64, "vocab_size": 1000, "n_positions": 2048, "torch_dtype": "float16"
    });
    let s = parse(&v).unwrap();
    assert_eq!(
        s.groups[0].mlp,
        Mlp::Dense {
            intermediate: 1024,
            gated: false,
            bias: true
        }
    );
    assert_invalid(
        parse(&with(v.clone(), "rotary_dim", json!(65))),
        "rotary_dim",
        "65",
    );
    assert_invalid(parse(&with(v, "n_head", json!(3))), "n_head", "3");
}

// ---- precision --------------------------------------------------------------------------

#[test]
fn quantization_configs() {
    let q = |cfg: Value| parse(&with(llama(), "quantization_config", cfg));
    let fp8_block = q(json!({"quant_method": "fp8", "weight_block_size": [128, 128]})).unwrap();
    assert_eq!(fp8_block.checkpoint.attention, Precision::Fp8Block128);
    assert_eq!(fp8_block.checkpoint.dense_mlp, Precision::Fp8Block128);
    assert_eq!(fp8_block.checkpoint.embeddings, Precision::Bf16);
    let fp8 = q(json!({"quant_method": "fp8"})).unwrap();
    assert_eq!(fp8.checkpoint.attention, Precision::Fp8);
    assert_invalid(
        q(json!({"quant_method": "fp8", "weight_block_size": [64, 64]})),
        "quantization_config.weight_block_size",
        "[64,64]",
    );
    let modelopt = q(json!({"quant_method": "modelopt", "quant_algo": "NVFP4",
        "exclude_modules": ["lm_head", "model.layers.0.self_attn"]}))
    .unwrap();
    assert_eq!(modelopt.checkpoint.dense_mlp, Precision::Nvfp4);
    assert_eq!(modelopt.checkpoint.attention, Precision::Bf16);
    let ct = q(
        json!({"quant_method": "compressed-tensors", "ignore": ["lm_head"],
        "config_groups": {"group_0": {"targets": ["Linear"],
            "weights": {"num_bits": 8, "type": "float", "strategy": "channel"}}}}),
    )
    .unwrap();
    assert_eq!(ct.checkpoint.attention, Precision::Fp8);
    let awq = q(json!({"quant_method": "awq", "bits": 4, "group_size": 128})).unwrap();
    assert_eq!(awq.checkpoint.dense_mlp, Precision::Int4);
    assert_unsupported(
        q(json!({"quant_method": "fp9"})),
        "quantization_config.quant_method",
        Some("fp8"),
    );
    assert_missing(q(json!({"bits": 4})), "quantization_config.quant_method");
    assert_invalid(
        q(json!({"quant_method": "fp8", "modules_to_not_convert": ["layers.3"]})),
        "quantization_config.modules_to_not_convert",
        "\"layers.3\"",
    );
    // Exclusions that change no part's format, as NVIDIA's and Z.ai's checkpoints write them:
    // norms (never quantized), MTP modules and layers past the stack (counted apart), and a
    // whole layer of the 2-layer stack (precision is per part, not per layer).
    let untouched = q(json!({"quant_method": "modelopt", "quant_algo": "NVFP4",
        "ignore": ["model.layers.0.input_layernorm", "mtp*", "model.layers.2.eh_proj",
            "model.layers.0*", "language_model.model.layers.1*", "lm_head"]}))
    .unwrap();
    assert_eq!(untouched.checkpoint.attention, Precision::Nvfp4);
    assert_eq!(untouched.checkpoint.dense_mlp, Precision::Nvfp4);
    // A Mamba mixer's projection is the token mixer: it keeps the mixers at the base dtype.
    let mixer = q(json!({"quant_method": "modelopt", "quant_algo": "NVFP4",
        "ignore": ["backbone.layers.1.mixer.in_proj"]}))
    .unwrap();
    assert_eq!(mixer.checkpoint.attention, Precision::Bf16);
    assert_eq!(mixer.checkpoint.dense_mlp, Precision::Nvfp4);
}

#[test]
fn dtype_is_required_and_checked() {
    assert_missing(parse(&without(llama(), "torch_dtype")), "torch_dtype");
    let v = with(without(llama(), "torch_dtype"), "dtype", json!("float16"));
    assert_eq!(parse(&v).unwrap().checkpoint.attention, Precision::Fp16);
    assert_unsupported(
        parse(&with(llama(), "torch_dtype", json!("bfloat61"))),
        "torch_dtype",
        Some("bfloat16"),
    );
}

// ---- refusals ---------------------------------------------------------------------------

#[test]
fn sizes_are_validated_with_field_and_value() {
    assert_missing(parse(&without(llama(), "hidden_size")), "hidden_size");
    assert_invalid(
        parse(&with(llama(), "hidden_size", json!(-5))),
        "hidden_size",
        "-5",
    );
    assert_invalid(
        parse(&with(llama(), "hidden_size", json!("4096"))),
        "hidden_size",
        "\"4096\"",
    );
    assert_invalid(
        parse(&with(llama(), "hidden_size", json!(4096.5))),
        "hidden_size",
        "4096.5",
    );
    assert_invalid(
        parse(&with(llama(), "hidden_size", json!(0))),
        "hidden_size",
        "0",
    );
    assert_invalid(
        parse(&with(llama(), "hidden_size", json!(20_000_000))),
        "hidden_size",
        "20000000",
    );
    assert_invalid(
        parse(&with(llama(), "num_hidden_layers", json!(100_000))),
        "num_hidden_layers",
        "100000",
    );
    // hidden 250 is not a multiple of 8 heads and no head_dim is given.
    assert_invalid(
        parse(&with(llama(), "hidden_size", json!(250))),
        "num_attention_heads",
        "8",
    );
    assert_invalid(
        parse(&with(llama(), "num_key_value_heads", json!(3))),
        "num_key_value_heads",
        "3",
    );
    let msg = parse(&with(llama(), "hidden_size", json!(-5)))
        .unwrap_err()
        .to_string();
    assert!(
        msg.starts_with("test.json: field `hidden_size` = -5: "),
        "{msg}"
    );
}

#[test]
fn absurd_combinations_are_too_large_not_overflowing() {
    let v = with(llama(), "hidden_size", json!(1 << 20));
    let v = with(v, "intermediate_size", json!(1 << 20));
    let v = with(v, "num_hidden_layers", json!(10_000));
    assert!(matches!(parse(&v), Err(ModelError::TooLarge { .. })));
}

#[test]
fn unsupported_model_types_suggest_the_nearest() {
    // Without `intermediate_size` the fields name no known block, so an unknown type is not
    // read from them (see the unknown-type tests below) and the error suggests a type.
    let check = |given: &str, suggestion: Option<&str>| match parse(&with(
        without(llama(), "intermediate_size"),
        "model_type",
        json!(given),
    )) {
        Err(ModelError::UnsupportedModelType {
            model_type,
            suggestion: s,
            supported,
            ..
        }) => {
            assert_eq!(model_type, given);
            assert_eq!(s.as_deref(), suggestion);
            // The supported types and the aliases read as one of them.
            assert_eq!(supported.len(), SUPPORTED_MODEL_TYPES.len() + ALIASES.len());
        }
        other => panic!("{given}: {other:?}"),
    };
    check("qwen3moe", Some("qwen3_moe"));
    check("gpt-oss", Some("gpt_oss"));
    check("lama", Some("llama"));
    check("bert", None);
    assert_missing(parse(&without(llama(), "model_type")), "model_type");
    assert_invalid(
        parse(&with(llama(), "model_type", json!(3))),
        "model_type",
        "3",
    );
}

#[test]
fn malformed_json_reports_line_and_column() {
    match parse_config(
        "{\n  \"model_type\": \"llama\",\n  \"hidden_size\": }",
        "bad.json",
    ) {
        Err(ModelError::Json {
            origin,
            line,
            column,
            message,
        }) => {
            assert_eq!((origin.as_str(), line, column), ("bad.json", 3, 18));
            assert!(!message.contains(" at line "), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert_invalid(parse_config("[1, 2]", "a.json"), "(document)", "[1,2]");
}

#[test]
fn names_come_from_the_file_stem() {
    assert_eq!(name_stem("models/Qwen--Qwen3-8B.json"), "Qwen--Qwen3-8B");
    assert_eq!(name_stem("/tmp/Llama-3.1-8B/config.json"), "Llama-3.1-8B");
    assert_eq!(name_stem("config.json"), "config");
    assert_eq!(name_stem("llama-3.1-8b"), "llama-3.1-8b");
    assert_eq!(name_stem(r"C:\m\x.json"), "x");
}

// ---- no panics ----------------------------------------------------------------------------

/// Every derived quantity of an accepted spec, so an overflow anywhere would panic here.
fn exercise(r: Result<ModelSpec, ModelError>) {
    let Ok(s) = r else { return };
    let p = s.params();
    let _ = (
        p.total(),
        s.active_params(),
        s.active_matmul_params(),
        s.mtp_params(),
    );
    let _ = (
        s.non_embedding_params(),
        s.embedding_params(),
        s.num_layers(),
    );
    for prec in Precision::ALL {
        let _ = s.weight_bytes(&crate::WeightPrecisions::uniform(prec));
        let _ = s.kv_bytes_per_token(prec) + s.kv_bytes_per_token_short(prec);
        let _ = s.kv_bytes_for_context(u64::MAX, prec);
    }
    for g in s.groups.iter().chain(s.mtp.iter()) {
        let _ =
            g.attention.flops_per_attended_pair(true) + g.attention.flops_per_attended_pair(false);
        let _ = g.attention.span().attended(1e12);
    }
}

/// Values that break naive code: negatives, zero, huge, wrong types.
fn nasty_values() -> Vec<Value> {
    vec![
        json!(-1),
        json!(0),
        json!(1),
        json!(0.5),
        json!(1e300),
        json!(u64::MAX),
        json!(i64::MIN),
        json!("x"),
        json!(null),
        json!(true),
        json!([]),
        json!([0, -1, 1_000_000]),
        json!({}),
    ]
}

fn shipped() -> Vec<(&'static str, Value)> {
    builtin_models()
        .iter()
        .map(|m| {
            (
                m.name,
                serde_json::from_str(&python_literals(m.config_json)).unwrap(),
            )
        })
        .collect()
}

#[test]
fn shipped_configs_truncated_at_every_prefix_never_panic() {
    for m in builtin_models() {
        let text = m.config_json;
        for (i, _) in text.char_indices() {
            exercise(parse_config(&text[..i], m.name));
        }
    }
}

#[test]
fn shipped_configs_with_a_field_deleted_or_replaced_never_panic() {
    for (name, v) in shipped() {
        let mut variants = Vec::new();
        let obj = v.as_object().unwrap();
        for key in obj.keys() {
            variants.push(without(v.clone(), key));
            variants.push(with(
                without(v.clone(), key),
                &format!("{key}_renamed"),
                obj[key].clone(),
            ));
            for bad in nasty_values() {
                variants.push(with(v.clone(), key, bad));
            }
        }
        // Llama-4 and the multimodal wrappers nest the decoder one level down: delete, rename
        // and replace its fields too.
        if let Some(Value::Object(text)) = obj.get("text_config") {
            for key in text.keys() {
                let mut gone = text.clone();
                gone.remove(key);
                variants.push(with(v.clone(), "text_config", Value::Object(gone.clone())));
                let mut renamed = gone;
                renamed.insert(format!("{key}_renamed"), text[key].clone());
                variants.push(with(v.clone(), "text_config", Value::Object(renamed)));
                for bad in nasty_values() {
                    let mut t = text.clone();
                    t.insert(key.clone(), bad);
                    variants.push(with(v.clone(), "text_config", Value::Object(t)));
                }
            }
        }
        for variant in variants {
            let r = parse_config(&variant.to_string(), name);
            // Every refusal names a field (or the document); none is a bare failure.
            if let Err(e) = &r {
                let text = e.to_string();
                assert!(
                    text.contains('`') || text.contains("field"),
                    "{name}: a refusal without a field: {text}"
                );
            }
            exercise(r);
        }
    }
}

/// Every field name the mirrors read, so random objects reach deep into resolution.
const FIELDS: &[&str] = &[
    "hidden_size",
    "num_hidden_layers",
    "num_attention_heads",
    "num_key_value_heads",
    "head_dim",
    "intermediate_size",
    "vocab_size",
    "tie_word_embeddings",
    "max_position_embeddings",
    "torch_dtype",
    "dtype",
    "attention_bias",
    "quantization_config",
    "layer_types",
    "sliding_window",
    "mlp_bias",
    "use_sliding_window",
    "max_window_layers",
    "num_local_experts",
    "num_experts",
    "num_experts_per_tok",
    "moe_intermediate_size",
    "decoder_sparse_step",
    "mlp_only_layers",
    "shared_expert_intermediate_size",
    "q_lora_rank",
    "kv_lora_rank",
    "qk_nope_head_dim",
    "qk_rope_head_dim",
    "v_head_dim",
    "n_routed_experts",
    "n_shared_experts",
    "first_k_dense_replace",
    "moe_layer_freq",
    "num_nextn_predict_layers",
    "experts_per_token",
    "text_config",
    "intermediate_size_mlp",
    "moe_layers",
    "interleave_moe_layer_step",
    "no_rope_layers",
    "no_rope_layer_interval",
    "attention_chunk_size",
    "n_embd",
    "n_layer",
    "n_head",
    "n_inner",
    "rotary_dim",
    "n_positions",
    "index_n_heads",
    "index_head_dim",
    "index_topk",
    "linear_num_key_heads",
    "linear_num_value_heads",
    "linear_key_head_dim",
    "linear_value_head_dim",
    "linear_conv_kernel_dim",
    "full_attention_interval",
    "mtp_num_hidden_layers",
    "num_mtp_modules",
    "hybrid_override_pattern",
    "mamba_num_heads",
    "mamba_head_dim",
    "ssm_state_size",
    "n_groups",
    "conv_kernel",
    "moe_shared_expert_intermediate_size",
    "block_configs",
    "compress_ratios",
    "o_groups",
    "o_lora_rank",
    "num_hash_layers",
    "hc_mult",
    "attention_k_eq_v",
    "num_global_key_value_heads",
    "global_head_dim",
    "sliding_window_pattern",
    "enable_moe_block",
    "vision_config",
    "partial_rotary_factor",
    "hidden_size_per_layer_input",
    "num_kv_shared_layers",
    "use_bidirectional_attention",
    "model_type",
];

fn arb_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        (0u64..70).prop_map(Value::from),
        (0u64..5000).prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        prop::sample::select(vec![
            "bfloat16",
            "float16",
            "fp8",
            "mxfp4",
            "modelopt",
            "full_attention",
            "sliding_attention",
            "chunked_attention",
            "llama",
            "gpt_oss",
            "llama4",
            "x",
        ])
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop::sample::select(vec![
                    "quant_method",
                    "weight_block_size",
                    "modules_to_not_convert",
                    "quant_algo",
                    "bits",
                    "group_size",
                    "config_groups",
                    "weights",
                    "num_bits",
                    "type",
                    "hidden_size",
                    "num_hidden_layers",
                ]),
                inner,
                0..5
            )
            .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect())),
        ]
    })
}

proptest! {
    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        exercise(parse_config(&String::from_utf8_lossy(&bytes), "fuzz"));
    }

    #[test]
    fn random_objects_never_panic(
        model_type in prop::sample::select([SUPPORTED_MODEL_TYPES, &["acme_lm"]].concat()),
        fields in prop::collection::btree_map(prop::sample::select(FIELDS.to_vec()), arb_value(), 0..25),
    ) {
        let mut obj: serde_json::Map<String, Value> =
            fields.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        obj.entry("model_type").or_insert_with(|| json!(model_type));
        let text = Value::Object(obj.clone());
        exercise(parse(&text));
        exercise(parse(&json!({"model_type": "llama4", "text_config": text})));
    }

    #[test]
    fn shipped_configs_with_random_overrides_never_panic(
        which in 0usize..64,
        overrides in prop::collection::vec((prop::sample::select(FIELDS.to_vec()), arb_value()), 0..6),
    ) {
        let all = shipped();
        let (name, mut v) = all[which % all.len()].clone();
        for (k, val) in overrides {
            v = with(v, k, val);
        }
        exercise(parse_config(&v.to_string(), name));
    }
}

#[test]
fn python_json_literals_are_read_where_harmless_and_refused_by_name_where_not() {
    // Python's json writes NaN and Infinity bare; a field the model does not read is ignored.
    let text = llama()
        .to_string()
        .replacen('{', r#"{"router_aux_loss_coef": NaN, "rope_scaling": {"factor": Infinity, "low": -Infinity}, "note": "NaN and Infinity in a string stay", "#, 1);
    let spec = parse_config(&text, "py.json").unwrap();
    assert_eq!(spec.hidden_size, 256);
    // A structural field holding one is refused, naming the field and the value.
    let bad = llama()
        .to_string()
        .replace(r#""hidden_size":256"#, r#""hidden_size":Infinity"#);
    assert!(bad.contains("Infinity"), "{bad}");
    let e = parse_config(&bad, "py.json")
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("hidden_size") && e.contains("Infinity"), "{e}");
    // Strings are left as they are, escaped quotes included.
    assert_eq!(
        python_literals(r#"{"a": "x\"NaN", "b": NaN}"#),
        r#"{"a": "x\"NaN", "b": "NaN"}"#
    );
}

#[test]
fn a_modelopt_snapshot_reads_its_quant_file() {
    // ModelOpt NVFP4 with attention excluded, KV in FP8 (as the DeepSeek-V3.2 NVFP4 folder).
    let quant = r#"{"producer": {"name": "modelopt"}, "quantization": {"quant_algo": "NVFP4",
        "kv_cache_quant_algo": "FP8", "group_size": 16,
        "exclude_modules": ["lm_head", "model.layers.0.self_attn.q_proj", "model.layers.*.mlp.gate"]}}"#;
    let spec = parse_snapshot(&llama().to_string(), Some(quant), "snap").unwrap();
    assert_eq!(spec.name, "snap");
    assert_eq!(spec.checkpoint.attention, Precision::Bf16);
    assert_eq!(spec.checkpoint.dense_mlp, Precision::Nvfp4);
    assert_eq!(spec.checkpoint.embeddings, Precision::Bf16);
    assert_eq!(spec.kv_cache, Some(Precision::Fp8));
    // Without the quant file the folder is its config alone.
    let plain = parse_snapshot(&llama().to_string(), None, "snap").unwrap();
    assert_eq!(plain.checkpoint.dense_mlp, Precision::Bf16);
    assert_eq!(plain.kv_cache, None);
    // A broken quant file is refused naming the file and field.
    let e = parse_snapshot(&llama().to_string(), Some(r#"{"quantization": 3}"#), "snap")
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        e.contains("snap/hf_quant_config.json") && e.contains("quantization"),
        "{e}"
    );
    let e = parse_snapshot(
        &llama().to_string(),
        Some(r#"{"quantization": {"quant_algo": "NVFP4", "kv_cache_quant_algo": "INT2"}}"#),
        "snap",
    )
    .err()
    .map(|e| e.to_string())
    .unwrap_or_default();
    assert!(
        e.contains("kv_cache_quant_algo") && e.contains("INT2"),
        "{e}"
    );
}

#[test]
fn the_shared_qwen3_nvfp4_snapshot() {
    // nvidia/Qwen3-235B-A22B-NVFP4: the qwen3_moe config plus ModelOpt's NVFP4 file excluding
    // only the routers and the head (https://huggingface.co/nvidia/Qwen3-235B-A22B-NVFP4).
    // Qwen's card: 235B total, 22B activated (https://huggingface.co/Qwen/Qwen3-235B-A22B).
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/models/nvidia--Qwen3-235B-A22B-NVFP4");
    let config = std::fs::read_to_string(dir.join("config.json")).unwrap();
    let quant = std::fs::read_to_string(dir.join("hf_quant_config.json")).unwrap();
    let spec = parse_snapshot(&config, Some(&quant), &dir.to_string_lossy()).unwrap();
    assert_eq!(spec.checkpoint.experts, Precision::Nvfp4);
    assert_eq!(spec.checkpoint.attention, Precision::Nvfp4);
    assert_eq!(spec.checkpoint.embeddings, Precision::Bf16);
    assert_eq!(spec.kv_cache, Some(Precision::Fp8));
    let total = spec.params().total() as f64;
    assert!((total / 235e9 - 1.0).abs() < 0.02, "{total}");
    let active = spec.active_params() as f64;
    assert!((active / 22e9 - 1.0).abs() < 0.02, "{active}");
}

// ---- unknown model types ----------------------------------------------------------------

#[test]
fn an_unknown_type_with_known_blocks_is_read_with_a_note() {
    // The small llama under a new name and a new architecture: read from its fields as a dense
    // GQA decoder, with exactly the llama's counts. Per layer: q, o 256·256 each; k, v
    // 256·64 each; MLP 3·256·512; two norms 2·256: 65,536·2 + 16,384·2 + 393,216 + 512
    // = 557,568; two layers 1,115,136, plus embedding and head 2·256,000 and the final norm
    // 256: 1,627,392.
    let known = parse(&llama()).unwrap();
    let acme = || {
        with(
            with(llama(), "model_type", json!("acme_lm")),
            "tie_word_embeddings",
            json!(false),
        )
    };
    let v = with(acme(), "architectures", json!(["AcmeForCausalLM"]));
    // Harmless fields of its own are ignored and listed.
    let v = with(v, "acme_release_note", json!("2026-11"));
    let s = parse(&v).unwrap();
    assert_eq!(s.params().total(), 1_627_392);
    assert_eq!(s.params().total(), known.params().total());
    assert_eq!(s.model_type, "acme_lm");
    let notes = s.notes.join("\n");
    assert!(notes.contains("read as `llama` from its fields"), "{notes}");
    assert!(notes.contains("acme_release_note"), "{notes}");
    // A known architecture names the family directly.
    let v = with(acme(), "architectures", json!(["Qwen3ForCausalLM"]));
    let notes = parse(&v).unwrap().notes.join("\n");
    assert!(
        notes.contains("read as `qwen3` from architectures `Qwen3ForCausalLM`"),
        "{notes}"
    );
    // Whether the embeddings are tied is the config class's default, unknown here: refused.
    let e = parse(&with(llama(), "model_type", json!("acme_lm")))
        .unwrap_err()
        .to_string();
    assert!(e.contains("tie_word_embeddings"), "{e}");
    // Through a known architecture the family's default holds (Llama: untied).
    let v = with(
        with(llama(), "model_type", json!("acme_lm")),
        "architectures",
        json!(["LlamaForCausalLM"]),
    );
    assert_eq!(parse(&v).unwrap().params().total(), 1_627_392);
}

#[test]
fn an_unknown_type_with_a_structural_field_it_does_not_carry_is_refused_by_name() {
    // `num_parallel_blocks` could double the layer count: refused with its name and value,
    // never read as a llama of half the size.
    let v = with(
        with(
            with(llama(), "model_type", json!("acme_lm")),
            "tie_word_embeddings",
            json!(false),
        ),
        "num_parallel_blocks",
        json!(2),
    );
    let e = parse(&v).unwrap_err().to_string();
    assert!(
        e.contains("num_parallel_blocks") && e.contains('2') && e.contains("llama"),
        "{e}"
    );
    // Through a known architecture too.
    let v = with(
        with(
            with(llama(), "architectures", json!(["LlamaForCausalLM"])),
            "tie_word_embeddings",
            json!(false),
        ),
        "model_type",
        json!("acme_lm"),
    );
    let e = parse(&with(v, "expert_width", json!(1024)))
        .unwrap_err()
        .to_string();
    assert!(e.contains("expert_width"), "{e}");
    // Without the fields of any known block it stays an unsupported type.
    let e = parse(&json!({"model_type": "acme_lm", "hidden_size": 256}))
        .unwrap_err()
        .to_string();
    assert!(e.contains("unsupported model_type `acme_lm`"), "{e}");
}

#[test]
fn an_unknown_type_with_latent_attention_reads_as_deepseek() {
    // DeepSeek-V3's config under a new name and architecture: the same 671 B.
    let text = crate::builtin::builtin_config_text("deepseek-v3");
    let mut v: Value = serde_json::from_str(text).unwrap();
    v = with(v, "model_type", json!("acme_mla"));
    v = with(v, "architectures", json!(["AcmeMlaForCausalLM"]));
    v.as_object_mut().unwrap().remove("auto_map");
    let s = parse(&v).unwrap();
    let known = crate::builtin("deepseek-v3").unwrap();
    assert_eq!(s.params().total(), known.params().total());
    assert!(s.notes.join(" ").contains("`kv_lora_rank`"));
}

// ---- GLM-4.5 (glm4_moe) ------------------------------------------------------------------

/// GLM-4.5-Air's `config.json` (https://huggingface.co/zai-org/GLM-4.5-Air/blob/main/config.json,
/// as printed by ms-swift's model registry dump).
fn glm45_air() -> Value {
    json!({
            "architectures": [
                    "Glm4MoeForCausalLM"
            ],
            "attention_bias": true,
            "attention_dropout": 0.0,
            "eos_token_id": [
                    151329,
                    151336,
                    151338
            ],
            "first_k_dense_replace": 1,
            "head_dim": 128,
            "hidden_act": "silu",
            "hidden_size": 4096,
            "initializer_range": 0.02,
            "intermediate_size": 10944,
            "max_position_embeddings": 131072,
            "model_type": "glm4_moe",
            "moe_intermediate_size": 1408,
            "n_group": 1,
            "n_routed_experts": 128,
            "n_shared_experts": 1,
            "norm_topk_prob": true,
            "num_attention_heads": 96,
            "num_experts_per_tok": 8,
            "num_hidden_layers": 46,
            "num_key_value_heads": 8,
            "num_nextn_predict_layers": 1,
            "pad_token_id": 151329,
            "partial_rotary_factor": 0.5,
            "rms_norm_eps": 1e-05,
            "rope_scaling": null,
            "rope_theta": 1000000,
            "routed_scaling_factor": 1.0,
            "tie_word_embeddings": false,
            "topk_group": 1,
            "torch_dtype": "bfloat16",
            "transformers_version": "4.54.1",
            "use_cache": true,
            "use_qk_norm": false,
            "vocab_size": 151552
    })
}

#[test]
fn glm4_moe_is_gqa_with_deepseek_style_experts() {
    // Per layer, attention: q 4096·12,288 + bias 12,288; k, v 4096·1024 + bias 1024 each;
    // o 12,288·4096 without bias: 109,066,240. 46 layers: 5,017,047,040.
    // Layer 0 is dense (first_k_dense_replace 1): 3·4096·10,944 = 134,479,872.
    // Layers 1-45: 128 routed experts of 3·4096·1408 = 17,301,504 (2,214,592,512), one shared
    // expert of the same size and a 128·4096 router: 2,232,418,304 each, 100,458,823,680.
    // Embedding and head 2·151,552·4096 = 1,241,513,984; norms 46·2·4096 + 4096 = 380,928.
    // Total 106,852,245,504: the card's "106B total parameters"
    // (https://huggingface.co/zai-org/GLM-4.5-Air).
    let s = parse(&glm45_air()).unwrap();
    assert_eq!(s.params().attention, 5_017_047_040);
    assert_eq!(s.params().total(), 106_852_245_504);
    // Active: 8 of 128 experts, 45·8·17,301,504 = 6,228,541,440 in place of the routed total:
    // 13,424,123,904; without the embedding and the head, 12,182,609,920, the card's "12B
    // active".
    assert_eq!(s.active_params(), 13_424_123_904);
    assert_eq!(s.active_params() - 2 * 620_756_992, 12_182_609_920);
    // KV: 46 layers · 2 · 8 heads · 128 · 2 B = 188,416 B per token in BF16.
    assert!((s.kv_bytes_per_token(Precision::Bf16) - 188_416.0).abs() < 1e-9);
    assert_eq!(s.mtp.as_ref().map(|g| g.count), Some(1));
    // GLM-4.5 (92 layers, d 5120, 160 experts of 1536, 3 dense layers of 12,288, q/k norms):
    // the card's 355 B total, 32 B active.
    let big = with(
        with(
            with(
                with(
                    with(
                        with(
                            with(glm45_air(), "hidden_size", json!(5120)),
                            "intermediate_size",
                            json!(12288),
                        ),
                        "num_hidden_layers",
                        json!(92),
                    ),
                    "n_routed_experts",
                    json!(160),
                ),
                "moe_intermediate_size",
                json!(1536),
            ),
            "first_k_dense_replace",
            json!(3),
        ),
        "use_qk_norm",
        json!(true),
    );
    let s = parse(&big).unwrap();
    let total = s.params().total() as f64;
    assert!((total / 355e9 - 1.0).abs() < 0.02, "{total}");
    let active = (s.active_params() - 2 * s.params().embedding) as f64;
    assert!((31.5e9..32.5e9).contains(&active), "{active}");
    // No experts named: refused by field.
    let e = parse(&without(glm45_air(), "n_routed_experts"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("n_routed_experts"), "{e}");
}
