//! `deepseek_v4` (DeepSeek-V4-Flash): compressed MQA attention per layer (a raw sliding window
//! on every layer; pooled entries every 4 tokens picked by an indexer, or every 128 tokens
//! all attended, by `compress_ratios`), hyper-connections, MoE on every layer (the first
//! `num_hash_layers` routed by token hash, same weights), one MTP layer counted apart.
//! After DeepSeek's reference `inference/model.py` (DeepSeek-V4-Flash@60d8d70, as vendored in
//! AI-Hypercomputer/maxtext `tests/utils/deepseek4_reference/model.py`).

use super::fields::{self, Cx, MAX_CONTEXT, MAX_COUNT, MAX_LAYERS, MAX_WIDTH};
use super::layers::{self, Resolved, Stack};
use super::quant::MissingDtype;
use super::raw::RawCommon;
use crate::{Attention, Indexer, ModelError, ModelSpec, Precision};
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
struct RawV4 {
    #[serde(flatten)]
    common: RawCommon,
    q_lora_rank: Option<u64>,
    qk_rope_head_dim: Option<u64>,
    o_groups: Option<u64>,
    o_lora_rank: Option<u64>,
    compress_ratios: Option<Vec<u64>>,
    index_n_heads: Option<u64>,
    index_head_dim: Option<u64>,
    index_topk: Option<u64>,
    hc_mult: Option<u64>,
    n_routed_experts: Option<u64>,
    n_shared_experts: Option<u64>,
    num_experts_per_tok: Option<u64>,
    moe_intermediate_size: Option<u64>,
    num_hash_layers: Option<u64>,
    num_nextn_predict_layers: Option<u64>,
    expert_dtype: Option<String>,
}

pub(super) fn resolve(
    cx: &Cx,
    name: String,
    model_type: &str,
    obj: &serde_json::Map<String, serde_json::Value>,
) -> Result<ModelSpec, ModelError> {
    let raw: RawV4 = cx.mirror(obj)?;
    let c = &raw.common;
    let super::raw::Sizes {
        hidden,
        layers,
        heads,
    } = c.sizes(cx)?;
    if let Some(kv) = c.num_key_value_heads.filter(|&kv| kv != 1) {
        return Err(cx.invalid(
            "num_key_value_heads",
            kv,
            "DeepSeek-V4 attention shares one K=V head (1)",
        ));
    }
    let mtp = match raw.num_nextn_predict_layers {
        None => 0,
        Some(n) => cx.in_range("num_nextn_predict_layers", n, MAX_LAYERS)?,
    };
    let ratios = raw
        .compress_ratios
        .clone()
        .ok_or_else(|| cx.missing("compress_ratios"))?;
    if ratios.len() as u64 != layers + mtp {
        return Err(cx.invalid(
            "compress_ratios",
            format!("[{} entries]", ratios.len()),
            format!(
                "needs one entry per layer and MTP layer, {} + {mtp}",
                layers
            ),
        ));
    }
    if let Some((i, r)) = ratios
        .iter()
        .enumerate()
        .find(|(_, r)| ![0, 4, 128].contains(*r))
    {
        return Err(cx.invalid(
            &format!("compress_ratios[{i}]"),
            r,
            "only 0 (window only), 4 (indexed) and 128 (all pooled) are modelled",
        ));
    }
    let q_lora_rank = cx.required("q_lora_rank", raw.q_lora_rank, MAX_WIDTH)?;
    let head_dim = cx.required("head_dim", c.head_dim, MAX_WIDTH)?;
    let o_groups = cx.required("o_groups", raw.o_groups, MAX_COUNT)?;
    if heads % o_groups != 0 {
        return Err(cx.invalid(
            "o_groups",
            o_groups,
            format!("must divide num_attention_heads = {heads}"),
        ));
    }
    let indexer = Indexer {
        heads: cx.required("index_n_heads", raw.index_n_heads, MAX_COUNT)?,
        head_dim: cx.required("index_head_dim", raw.index_head_dim, MAX_WIDTH)?,
        top_k: cx.required("index_topk", raw.index_topk, MAX_CONTEXT)?,
        stride: 4,
    };
    let attention = |ratio: u64| -> Result<Attention, ModelError> {
        Ok(Attention::Compressed {
            heads,
            head_dim,
            q_lora_rank,
            rope_dim: cx.required("qk_rope_head_dim", raw.qk_rope_head_dim, MAX_WIDTH)?,
            o_groups,
            o_lora_rank: cx.required("o_lora_rank", raw.o_lora_rank, MAX_WIDTH)?,
            window: cx.required("sliding_window", c.sliding_window, MAX_CONTEXT)?,
            ratio,
            indexer: (ratio == 4).then_some(indexer),
            hc_mult: cx.or_default("hc_mult", raw.hc_mult, 1, 64)?,
        })
    };
    let _ = cx.or_default("num_hash_layers", raw.num_hash_layers, 0, layers)?;
    let mlp = fields::deepseek_style_moe(
        cx,
        raw.n_routed_experts,
        raw.n_shared_experts,
        raw.num_experts_per_tok,
        raw.moe_intermediate_size,
    )?;
    let stack_layers = ratios[..layers as usize]
        .iter()
        .map(|&r| Ok((attention(r)?, mlp.clone())))
        .collect::<Result<Vec<_>, ModelError>>()?;
    let mtp_layers = ratios[layers as usize..]
        .iter()
        .map(|&r| Ok((attention(r)?, mlp.clone())))
        .collect::<Result<Vec<_>, ModelError>>()?;
    let mut resolved = Resolved::from_common(
        cx,
        c,
        MissingDtype::Refuse,
        Stack {
            name,
            model_type: model_type.to_string(),
            hidden_size: hidden,
            layers: stack_layers,
            mtp: mtp_layers,
        },
    )?;
    // The routed experts are stored in FP4 (e2m1 with an e8m0 scale per 32 values: MXFP4's
    // layout), whatever the FP8 quantization config says for the rest.
    match raw.expert_dtype.as_deref() {
        None => {}
        Some("fp4") => resolved.checkpoint.experts = Precision::Mxfp4,
        Some("fp8") => {}
        Some(other) => return Err(cx.unsupported("expert_dtype", other, &["fp4", "fp8"])),
    }
    let mut spec = layers::assemble(cx, resolved)?;
    spec.notes.push(
        "DeepSeek-V4: the hash-routing tables (int32, not weights) and the head's 65,541 hyper-connection weights are left out; cache entries are priced at the KV format (vLLM stores 584 B per FP8 entry)".to_string(),
    );
    Ok(spec)
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, reason = "tests")]

    use crate::{parse_config, Attention, AttentionSpan, Precision};

    fn flash() -> crate::ModelSpec {
        let text = crate::builtin::builtin_config_text("deepseek-v4-flash");
        parse_config(text, "deepseek-ai--DeepSeek-V4-Flash.json").unwrap()
    }

    #[test]
    fn compressed_attention_by_hand() {
        // From DeepSeek's reference model.py, per layer (D 4096, 64 heads of 512, q rank 1024,
        // 8 output groups of rank 1024): attn_sink 64, wq_a 4,194,304, q_norm 1,024, wq_b
        // 33,554,432, wkv 2,097,152, kv_norm 512, wo_a 33,554,432, wo_b 33,554,432:
        // 106,956,352; hyper-connections 2·(24·16384 + 24 + 3) = 786,486.
        // Ratio-4 compressor (overlap, coff 2): 4·1024 + 2·4096·1024 + 512 = 8,393,216;
        // its indexer: wq_b 1024·64·128 = 8,388,608, weights_proj 4096·64 = 262,144 and a
        // compressor of width 128: 4·256 + 2·4096·256 + 128 = 2,098,304: 10,749,056.
        // Ratio-128 compressor: 128·512 + 2·4096·512 + 512 = 4,260,352.
        let base = 106_956_352 + 786_486;
        let s = flash();
        let by_ratio = |r: u64| {
            s.groups
                .iter()
                .find(|g| matches!(g.attention, Attention::Compressed { ratio, .. } if ratio == r))
                .map(|g| g.attention.params(4096))
                .unwrap()
        };
        assert_eq!(by_ratio(0), base);
        assert_eq!(by_ratio(4), base + 8_393_216 + 10_749_056);
        assert_eq!(by_ratio(128), base + 4_260_352);
    }

    #[test]
    fn the_shared_flash_config() {
        // DeepSeek-V4-Flash card (https://huggingface.co/deepseek-ai/DeepSeek-V4-Flash):
        // "284B parameters (13B activated)"; the MTP layer counted apart, as for V3. Activated
        // without the input embedding: 13.27 B, inside "13B"'s rounding interval [12.5, 13.5).
        let s = flash();
        let total = s.params().total() as f64;
        assert!((total / 284e9 - 1.0).abs() < 0.02, "{total}");
        let active = s.active_matmul_params() as f64;
        assert!((12.5e9..13.5e9).contains(&active), "{active}");
        assert_eq!(s.checkpoint.experts, Precision::Mxfp4);
        assert!(s.mtp.as_ref().is_some_and(|g| g.count == 1));
        // At long context a token adds, per layer: ratio 4, one 512-wide entry per 4 tokens and
        // one 132-B indexer key per 4 tokens; ratio 128, one entry per 128 tokens; ratio 0,
        // nothing (the 128-token window is full). In FP8: 21·(512/4 + 132/4) + 20·512/128
        // = 21·161 + 80 = 3,461 B per token.
        assert!((s.kv_bytes_per_token(Precision::Fp8) - 3_461.0).abs() < 1e-9);
        // A ratio-4 layer at context 10,000 attends its 128-token window and the top 512 of
        // its 2,500 pooled entries; a ratio-128 layer the window and all 78.1 pooled ones.
        let span4 = AttentionSpan::Compressed {
            window: 128,
            ratio: 4,
            top_k: Some(512),
        };
        assert!((span4.attended(9_999.0) - 640.0).abs() < 1e-9);
        let span128 = AttentionSpan::Compressed {
            window: 128,
            ratio: 128,
            top_k: None,
        };
        assert!((span128.attended(9_999.0) - (128.0 + 10_000.0 / 128.0)).abs() < 1e-9);
    }
}
