//! Fuzz harness for the model-config parser: a Hugging Face `config.json`, or a snapshot
//! folder's `config.json` and `hf_quant_config.json` joined by a NUL byte (JSON text never
//! holds a raw NUL). Shared by the `model_config` fuzz target and servemath-model's
//! `tests/fuzz_regressions.rs`.

use servemath_model::{
    parse_config, parse_snapshot, ModelError, ModelSpec, Precision, WeightPrecisions,
};

/// Parses `data` and, when it is accepted, computes every derived quantity a command prints,
/// so an overflow in any of them panics here. Returns whether the input was accepted.
pub fn config(data: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(data) else {
        return false;
    };
    let parsed = match text.split_once('\0') {
        None => parse_config(text, "fuzz/config.json"),
        Some((config, quant)) => parse_snapshot(config, Some(quant), "fuzz"),
    };
    exercise(parsed)
}

fn exercise(parsed: Result<ModelSpec, ModelError>) -> bool {
    let Ok(s) = parsed else {
        return false;
    };
    let _ = (
        s.params().total(),
        s.active_params(),
        s.active_matmul_params(),
    );
    let _ = (
        s.mtp_params(),
        s.non_embedding_params(),
        s.embedding_params(),
    );
    let _ = (s.num_layers(), s.active_routed_params(), s.is_moe());
    let _ = s.weight_bytes(&s.checkpoint);
    for prec in Precision::ALL {
        let _ = s.weight_bytes(&WeightPrecisions::uniform(prec));
        let _ = s.kv_bytes_per_token(prec) + s.kv_bytes_per_token_short(prec);
        let _ = s.kv_bytes_for_context(s.max_context, prec);
        let _ = s.kv_bytes_for_context(u64::MAX, prec);
    }
    for g in s.groups.iter().chain(s.mtp.iter()) {
        let a = &g.attention;
        let _ = a.flops_per_attended_pair(true) + a.flops_per_attended_pair(false);
        let _ = a.span().attended(1e12) + a.span().growth();
        let _ = a.span().kv_tokens(u64::MAX);
        let _ = (g.mlp.params(s.hidden_size), g.params(s.hidden_size));
    }
    true
}
