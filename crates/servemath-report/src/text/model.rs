//! A model's architecture, parameters and memory as the CLI prints them.

use crate::human;
use crate::*;

/// The human view of a model report.
pub fn render(r: &ModelReport) -> String {
    let mut s = String::new();
    let mut line = |label: &str, value: String| {
        s.push_str(&format!("{label:<12}{value}\n"));
    };
    line("model", format!("{} ({})", r.name, r.model_type));
    line(
        "layers",
        format!(
            "{} (hidden {}, vocab {}, max context {} tokens{})",
            r.layers,
            human::int(r.hidden_size as f64),
            human::int(r.vocab_size as f64),
            human::int(r.max_context_tokens as f64),
            if r.tie_word_embeddings {
                ", tied embeddings"
            } else {
                ""
            }
        ),
    );
    for (i, (count, g)) in merged_groups(&r.groups).iter().enumerate() {
        let label = if i == 0 { "stack" } else { "" };
        line(
            label,
            format!("{count} x {}; {}", attention(&g.attention), mlp(&g.mlp)),
        );
    }
    if r.mtp_layers > 0 {
        line(
            "mtp",
            format!(
                "{} multi-token-prediction layer(s), {} params, not counted below",
                r.mtp_layers,
                human::count(r.mtp_params as f64)
            ),
        );
    }
    line(
        "parameters",
        format!(
            "{} total, {} active per token",
            human::count(r.total_params as f64),
            human::count(r.active_params as f64)
        ),
    );
    let p = &r.params;
    let parts = [
        ("embedding", p.embedding),
        ("lm head", p.lm_head),
        ("attention", p.attention),
        ("dense mlp", p.dense_mlp),
        ("routed experts", p.routed_experts),
        (
            "  active",
            if p.routed_experts > 0 {
                p.active_routed_experts
            } else {
                0
            },
        ),
        ("shared experts", p.shared_experts),
        ("router", p.router),
        ("norms", p.norms),
    ];
    for (name, n) in parts.iter().filter(|(_, n)| *n > 0) {
        line(
            "",
            format!(
                "{name:<16}{:>9}  {:>5.1}%",
                human::count(*n as f64),
                100.0 * *n as f64 / r.total_params.max(1) as f64
            ),
        );
    }
    line(
        "weights",
        format!(
            "{} as stored: {}",
            human::bytes(r.weight_bytes),
            human::precisions(&r.checkpoint)
        ),
    );
    let by_format: Vec<String> = r
        .weight_bytes_by_format
        .iter()
        .map(|w| format!("{} {}", w.format, human::bytes(w.bytes)))
        .collect();
    line(
        "",
        format!(
            "linear layers in {} (embeddings as stored)",
            by_format.join(", ")
        ),
    );
    let kv = if (r.kv_bytes_per_token - r.kv_bytes_per_token_short_context).abs() > 0.5 {
        format!(
            "{} per token ({}) at long context; {} while shorter than every window",
            human::bytes(r.kv_bytes_per_token),
            r.kv_format,
            human::bytes(r.kv_bytes_per_token_short_context)
        )
    } else {
        format!(
            "{} per token ({})",
            human::bytes(r.kv_bytes_per_token),
            r.kv_format
        )
    };
    line("kv cache", kv);
    if r.state_bytes_per_sequence > 0.0 {
        line(
            "state",
            format!(
                "{} per sequence in the recurrent (linear-attention, state-space) layers, whatever the context",
                human::bytes(r.state_bytes_per_sequence)
            ),
        );
    }
    if r.vision_params > 0 {
        line(
            "vision",
            format!(
                "{} params in the vision tower and projector, counted apart (bf16: {})",
                human::count(r.vision_params as f64),
                human::bytes(r.vision_params as f64 * 2.0)
            ),
        );
    }
    for (i, note) in r.notes.iter().enumerate() {
        line(if i == 0 { "read as" } else { "" }, note.clone());
    }
    s
}

/// Identical layer kinds merged (interleaved stacks list each kind once), in first-seen order.
fn merged_groups(groups: &[LayerGroupReport]) -> Vec<(u64, LayerGroupReport)> {
    let mut merged: Vec<(u64, LayerGroupReport)> = Vec::new();
    for g in groups {
        match merged
            .iter_mut()
            .find(|(_, m)| m.attention == g.attention && m.mlp == g.mlp)
        {
            Some((count, _)) => *count += g.count,
            None => merged.push((g.count, g.clone())),
        }
    }
    merged
}

fn attention(a: &AttentionReport) -> String {
    match a {
        AttentionReport::Gqa {
            heads,
            kv_heads,
            head_dim,
            span,
            sinks,
            qkv_bias,
            ..
        } => {
            let kind = if kv_heads == heads {
                "MHA"
            } else if *kv_heads == 1 {
                "MQA"
            } else {
                "GQA"
            };
            let span = match span {
                SpanReport::Full => "full".to_string(),
                SpanReport::Sliding { window_tokens } => {
                    format!("sliding window {}", human::int(*window_tokens as f64))
                }
                SpanReport::Chunked { chunk_tokens } => {
                    format!("chunked {}", human::int(*chunk_tokens as f64))
                }
                SpanReport::Sparse { top_k_tokens } => {
                    format!("sparse top-{}", human::int(*top_k_tokens as f64))
                }
                SpanReport::Recurrent => "recurrent".to_string(),
                SpanReport::Compressed { .. } => "compressed".to_string(),
            };
            let mut s = format!("{kind} {heads} heads / {kv_heads} KV x {head_dim}, {span}");
            if *sinks {
                s.push_str(", sinks");
            }
            if *qkv_bias {
                s.push_str(", qkv bias");
            }
            s
        }
        AttentionReport::None => "no attention".to_string(),
        AttentionReport::Compressed {
            heads,
            head_dim,
            window,
            ratio,
            indexer,
            ..
        } => {
            let pooled = match (ratio, indexer) {
                (0, _) => String::new(),
                (r, Some(i)) => format!(
                    " + 1 entry per {r} tokens, top-{} by an indexer of {} heads x {}",
                    human::int(i.top_k as f64),
                    i.heads,
                    i.head_dim
                ),
                (r, None) => format!(" + all entries pooled per {r} tokens"),
            };
            format!("compressed MQA {heads} heads x {head_dim}: window {window}{pooled}")
        }
        AttentionReport::Mamba2 {
            heads,
            head_dim,
            state_size,
            groups,
            state_bytes_per_sequence,
            ..
        } => format!(
            "Mamba-2 {heads} heads x {head_dim}, state {state_size} in {groups} groups, {} per sequence",
            human::bytes(*state_bytes_per_sequence)
        ),
        AttentionReport::Linear {
            key_heads,
            value_heads,
            key_head_dim,
            value_head_dim,
            state_bytes_per_sequence,
            ..
        } => format!(
            "Gated DeltaNet {key_heads} K / {value_heads} V heads x {key_head_dim}/{value_head_dim}, state {} per sequence",
            human::bytes(*state_bytes_per_sequence)
        ),
        AttentionReport::Mla {
            heads,
            q_lora_rank,
            kv_lora_rank,
            qk_rope_head_dim,
            indexer,
            ..
        } => {
            let q = q_lora_rank.map_or(String::new(), |r| format!(", q rank {r}"));
            let dsa = indexer.map_or(String::new(), |i| {
                format!(
                    "; sparse (DSA): top-{} keys by an indexer of {} heads x {}",
                    human::int(i.top_k as f64),
                    i.heads,
                    i.head_dim
                )
            });
            format!("MLA {heads} heads, latent {kv_lora_rank} + rope {qk_rope_head_dim}{q}{dsa}")
        }
    }
}

fn mlp(m: &MlpReport) -> String {
    match m {
        MlpReport::None => "no FFN".to_string(),
        MlpReport::Dense {
            intermediate,
            gated,
            ..
        } => format!(
            "dense MLP {}{}",
            human::int(*intermediate as f64),
            if *gated { " (gated)" } else { "" }
        ),
        MlpReport::Moe {
            experts,
            top_k,
            expert_intermediate,
            shared_intermediate,
            latent,
            ..
        } => {
            let shared = if *shared_intermediate > 0 {
                format!(" + shared {}", human::int(*shared_intermediate as f64))
            } else {
                String::new()
            };
            let latent = if *latent > 0 {
                format!(" in a {}-wide latent", human::int(*latent as f64))
            } else {
                String::new()
            };
            format!(
                "MoE {top_k} of {experts} experts x {}{latent}{shared}",
                human::int(*expert_intermediate as f64)
            )
        }
    }
}
