//! The vision tower of a multimodal wrapper, counted apart from the decoder: a ViT of `depth`
//! blocks plus its patch embedding and the projector into the decoder's width.
//!
//! Two layouts are read:
//! - Qwen-VL (`depth`, `hidden_size`, `intermediate_size`, `patch_size`,
//!   `temporal_patch_size`, `in_channels`, `num_position_embeddings`, `out_hidden_size`,
//!   `spatial_merge_size`, `deepstack_visual_indexes`), after `transformers`'
//!   `Qwen3VLVisionModel`: a Conv3d patch embedding with bias, learned position embeddings,
//!   blocks of LayerNorm + attention (fused qkv with bias, proj with bias) + LayerNorm + a
//!   non-gated MLP (fc1, fc2 with biases), and one patch merger (LayerNorm over the merged
//!   width, two linears with biases) plus one per DeepStack index;
//! - Kimi's MoonViT (`vt_num_hidden_layers`, `vt_hidden_size`, `vt_intermediate_size`,
//!   `patch_size`, `merge_kernel_size`, `text_hidden_size`): the same block, a Conv2d patch
//!   embedding and a two-linear patch-merger projector.
//!
//! Anything else is not counted, with a note saying so (never a guessed number).

use super::fields::{show, Cx, MAX_COUNT, MAX_LAYERS, MAX_WIDTH};
use crate::ModelError;
use serde_json::{Map, Value};

/// Vision parameters of a wrapper (0 when it has no `vision_config`) and a note when a tower is
/// present but its layout is not one this reads.
pub(super) fn params(
    cx: &Cx,
    obj: &Map<String, Value>,
) -> Result<(u64, Option<String>), ModelError> {
    let Some(v) = obj.get("vision_config") else {
        return Ok((0, None));
    };
    let Value::Object(v) = v else {
        return Err(cx.invalid("vision_config", show(v), "expected an object"));
    };
    let vcx = cx.nested("vision_config.");
    let get = |key: &str, max: u64| -> Result<Option<u64>, ModelError> {
        match v.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(x) => match x.as_u64() {
                Some(n) => vcx.in_range(key, n, max).map(Some),
                None => Err(vcx.invalid(key, show(x), "expected a positive integer")),
            },
        }
    };
    if let (Some(depth), Some(h), Some(ff)) = (
        get("depth", MAX_LAYERS)?,
        get("hidden_size", MAX_WIDTH)?,
        get("intermediate_size", MAX_WIDTH)?,
    ) {
        let patch = get("patch_size", 1024)?.unwrap_or(14);
        let temporal = get("temporal_patch_size", 64)?.unwrap_or(1);
        let channels = get("in_channels", 16)?.unwrap_or(3);
        let positions = get("num_position_embeddings", 1 << 24)?.unwrap_or(0);
        let merge = get("spatial_merge_size", 16)?.unwrap_or(2);
        let out = get("out_hidden_size", MAX_WIDTH)?.unwrap_or(h);
        let deepstack = match v.get("deepstack_visual_indexes") {
            Some(Value::Array(a)) => a.len() as u64,
            _ => 0,
        };
        let embed = channels * temporal * patch * patch * h + h + positions * h;
        let merged = h * merge * merge;
        // Both linears of a merger; the main merger normalises each patch (width h) before
        // merging, the DeepStack ones the merged row (width 4h: `use_postshuffle_norm`).
        let linears = merged * merged + merged + merged * out + out;
        let total =
            embed + depth * block(h, ff) + (2 * h + linears) + deepstack * (2 * merged + linears);
        return Ok((total, None));
    }
    if let (Some(depth), Some(h), Some(ff)) = (
        get("vt_num_hidden_layers", MAX_LAYERS)?,
        get("vt_hidden_size", MAX_WIDTH)?,
        get("vt_intermediate_size", MAX_WIDTH)?,
    ) {
        let patch = get("patch_size", 1024)?.unwrap_or(14);
        let out = get("text_hidden_size", MAX_WIDTH)?.unwrap_or(h);
        let merge: u64 = match v.get("merge_kernel_size") {
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_u64).product(),
            _ => 4,
        };
        let _ = get("vt_num_attention_heads", MAX_COUNT)?;
        let embed = 3 * patch * patch * h + h;
        let merged = h * merge;
        let projector = 2 * merged + merged * merged + merged + merged * out + out;
        let total = embed + depth * block(h, ff) + projector;
        return Ok((total, None));
    }
    // SigLIP (`siglip_vision_model`, as in Gemma 3): a ViT with learned positions, a post
    // LayerNorm and no pooling head when `vision_use_head` is false.
    if v.get("model_type").and_then(Value::as_str) == Some("siglip_vision_model") {
        if let (Some(depth), Some(h), Some(ff)) = (
            get("num_hidden_layers", MAX_LAYERS)?,
            get("hidden_size", MAX_WIDTH)?,
            get("intermediate_size", MAX_WIDTH)?,
        ) {
            if v.get("vision_use_head").and_then(Value::as_bool) != Some(false) {
                return Err(vcx.invalid(
                    "vision_use_head",
                    v.get("vision_use_head").map_or("absent".to_string(), show),
                    "SigLIP's attention-pooling head is not modelled; only false is supported",
                ));
            }
            let patch = get("patch_size", 1024)?.unwrap_or(14);
            let image = get("image_size", 1 << 16)?.unwrap_or(224);
            let channels = get("num_channels", 16)?.unwrap_or(3);
            let side = image / patch.max(1);
            let embed = channels * patch * patch * h + h + side * side * h;
            let tower = embed + depth * block(h, ff) + 2 * h;
            // Gemma 3's projector: an RMSNorm over the tower's width and one linear into the
            // decoder's width, without bias.
            let text_hidden = obj
                .get("text_config")
                .and_then(|t| t.get("hidden_size"))
                .and_then(Value::as_u64);
            return Ok(
                match (obj.get("model_type").and_then(Value::as_str), text_hidden) {
                    (Some("gemma3"), Some(d)) if d <= MAX_WIDTH => (tower + h + h * d, None),
                    _ => (
                        tower,
                        Some(
                            "the SigLIP tower is counted; the projector into the decoder is not"
                                .to_string(),
                        ),
                    ),
                },
            );
        }
    }
    Ok((
        0,
        Some(
            "the vision tower's layout is not one servemath reads: its parameters are not counted"
                .to_string(),
        ),
    ))
}

/// One ViT block of width `h` and MLP width `ff`: two LayerNorms (weight and bias), fused qkv
/// and the output projection with biases, a non-gated MLP with biases.
fn block(h: u64, ff: u64) -> u64 {
    4 * h + (3 * h * h + 3 * h) + (h * h + h) + (h * ff + ff) + (ff * h + h)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn qwen3_vl_tower_by_hand() {
        // Qwen3-VL-8B's tower (shared/models/Qwen--Qwen3-VL-8B-Instruct.json): h 1152, ff 4304,
        // 27 blocks, patch 16 x 16 x 2 frames x 3 channels, 2,304 positions, 2x2 merge into 4096,
        // 3 DeepStack mergers.
        // block: 4·1152 + (3·1152² + 3·1152) + (1152² + 1152) + 2·1152·4304 + 4304 + 1152
        //      = 4,608 + 3,984,768 + 1,328,256 + 9,916,416 + 5,456 = 15,239,504
        // embed: 3·2·16·16·1152 + 1152 + 2304·1152 = 1,769,472 + 1,152 + 2,654,208 = 4,424,832
        // merger linears (width 4608): 4608² + 4608 + 4608·4096 + 4096 = 40,116,736;
        // main merger + LayerNorm(1152) 2,304 = 40,119,040; each DeepStack merger + LayerNorm(4608)
        // 9,216 = 40,125,952
        // total: 4,424,832 + 27·15,239,504 + 40,119,040 + 3·40,125,952 = 576,388,336
        assert_eq!(block(1152, 4304), 15_239_504);
        let obj = json!({"vision_config": {"depth": 27, "hidden_size": 1152, "intermediate_size": 4304,
            "patch_size": 16, "temporal_patch_size": 2, "in_channels": 3, "num_position_embeddings": 2304,
            "out_hidden_size": 4096, "spatial_merge_size": 2, "deepstack_visual_indexes": [8, 16, 24]}});
        let (n, note) =
            params(&Cx::new("t"), obj.as_object().unwrap_or(&Map::new())).unwrap_or((0, None));
        assert_eq!(n, 576_388_336);
        assert!(note.is_none());
    }

    #[test]
    fn gemma3_siglip_tower_by_hand() {
        // Gemma 3 4B-27B's SigLIP tower: h 1152, ff 4304, 27 blocks of 15,239,504
        // (411,466,608), patch 14 x 14 x 3 channels with bias (678,528), 896/14 = 64² = 4,096
        // positions (4,718,592), a post LayerNorm (2,304): 416,866,032, the "417M" vision
        // encoder of the Gemma 3 report's Table 1 (https://arxiv.org/abs/2503.19786). The
        // projector into a 5376-wide decoder: RMSNorm 1,152 + 1152·5376 = 6,194,304.
        let obj = json!({"model_type": "gemma3", "text_config": {"hidden_size": 5376},
            "vision_config": {"model_type": "siglip_vision_model", "hidden_size": 1152,
            "image_size": 896, "intermediate_size": 4304, "num_attention_heads": 16,
            "num_hidden_layers": 27, "patch_size": 14, "vision_use_head": false}});
        let (n, note) =
            params(&Cx::new("t"), obj.as_object().unwrap_or(&Map::new())).unwrap_or((0, None));
        assert_eq!(n, 416_866_032 + 6_194_304);
        assert!(note.is_none());
        // A pooling head is refused by name.
        let mut head = obj.clone();
        head["vision_config"]["vision_use_head"] = json!(true);
        let e = params(&Cx::new("t"), head.as_object().unwrap_or(&Map::new()))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("vision_config.vision_use_head"), "{e}");
    }

    #[test]
    fn an_unknown_tower_is_noted_and_a_bad_field_refused() {
        let obj = json!({"vision_config": {"layers": 12}});
        let (n, note) =
            params(&Cx::new("t"), obj.as_object().unwrap_or(&Map::new())).unwrap_or((1, None));
        assert_eq!(n, 0);
        assert!(note.is_some_and(|s| s.contains("not counted")));
        let bad = json!({"vision_config": {"depth": -1, "hidden_size": 8, "intermediate_size": 8}});
        let e = params(&Cx::new("t"), bad.as_object().unwrap_or(&Map::new()))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("vision_config.depth"), "{e}");
    }
}
