//! Hand-built models and hardware for golden tests, independent of the catalogs.

use crate::{CostParams, Deployment, Parallelism, Precisions};
use servemath_hardware::{Hardware, PeakFlops};
use servemath_model::{
    Attention, AttentionSpan, LayerGroup, MathPrecision, Mlp, ModelSpec, Precision,
    WeightPrecisions,
};

/// Llama-3.1-70B: d 8192, 80 layers, 64 heads, 8 KV heads of 128, SwiGLU 28672, vocab 128256, untied.
pub fn llama70b() -> ModelSpec {
    ModelSpec {
        name: "llama70b".into(),
        model_type: "llama".into(),
        hidden_size: 8192,
        vocab_size: 128_256,
        tie_word_embeddings: false,
        groups: vec![LayerGroup {
            count: 80,
            attention: Attention::Gqa {
                heads: 64,
                kv_heads: 8,
                head_dim: 128,
                span: AttentionSpan::Full,
                sinks: false,
                qkv_bias: false,
                o_bias: false,
                qk_norm: false,
                output_gate: false,
            },
            mlp: Mlp::Dense {
                intermediate: 28_672,
                gated: true,
                bias: false,
            },
        }],
        mtp: None,
        checkpoint: WeightPrecisions::uniform(Precision::Bf16),
        kv_cache: None,
        max_context: 131_072,
        vision_params: 0,
        notes: Vec::new(),
    }
}

/// A toy MoE whose MLP is `experts` experts of which each token picks `top_k`, with a tiny attention.
pub fn toy_moe(experts: u64, top_k: u64) -> ModelSpec {
    let mut m = llama70b();
    m.groups[0].mlp = Mlp::Moe {
        experts,
        top_k,
        expert_intermediate: 2048,
        shared_intermediate: 0,
        gated: true,
        bias: false,
        latent: 0,
    };
    m.vocab_size = 1;
    m
}

/// H100 SXM figures from the catalog's sources: 989.4 TFLOP/s bf16 dense, 3.35 TB/s, 80 GB,
/// NVLink 450 GB/s per direction, 8 per domain, 50 GB/s NIC. Its id is not the catalog's, so
/// it has no measured kernel curves: the pure roofline at the fallback efficiencies.
pub fn h100() -> Hardware {
    Hardware {
        id: "test-h100".into(),
        name: "H100".into(),
        vendor: "NVIDIA".into(),
        family: "hopper".into(),
        peak: PeakFlops {
            bf16: Some(989.4e12),
            fp8: Some(1978.9e12),
            int8: Some(1978.9e12),
            fp4: None,
        },
        hbm_bytes: 80e9,
        hbm_bytes_per_s: 3.35e12,
        scale_up_domain: 8,
        scale_up_bytes_per_s: 450e9,
        scale_out_bytes_per_s: Some(50e9),
        scale_up_latency_s: 5e-6,
        scale_out_latency_s: 10e-6,
        tdp_w: Some(700.0),
        price: None,
        sources: Default::default(),
        notes: String::new(),
    }
}

/// Ideal parameters: peak rates, no overheads, no activation traffic: the pure roofline.
pub fn ideal() -> CostParams {
    CostParams {
        compute_efficiency: 1.0,
        memory_efficiency: 1.0,
        attention_efficiency: 1.0,
        comm_efficiency: 1.0,
        comm_overlap: 0.0,
        step_overhead_s: 0.0,
        layer_overhead_s: 0.0,
        seq_overhead_s: 0.0,
        host_overlap: 1.0,
        kernel_launch_s: 0.0,
        graph_launch_overlap: 0.0,
        elementwise_kernel_s: 0.0,
        allreduce_latency_s: 5e-6,
        all_to_all_latency_s: 0.0,
        request_overhead_s: 0.0,
        activation_io_per_layer: 0.0,
        moe_load_imbalance: 1.0,
        hbm_usable_fraction: 0.9,
        runtime_reserve_bytes: 2e9,
        max_batched_tokens: 8192.0,
        kv_block_tokens: 1.0,
    }
}

pub fn deploy(model: &ModelSpec, par: Parallelism, params: CostParams) -> Deployment {
    let hw = h100();
    let prec = Precisions::defaults_for(model, |p| hw.peak_flop_per_s(p).is_ok());
    assert_eq!(prec.compute, MathPrecision::Bf16);
    match Deployment::new(model, &hw, par, prec, params) {
        Ok(d) => d,
        Err(e) => panic!("test deployment failed: {e}"),
    }
}

/// Relative closeness with a message showing golden, actual and difference.
#[track_caller]
pub fn assert_close(actual: f64, golden: f64, rel: f64) {
    let diff = (actual - golden) / golden;
    assert!(
        diff.abs() <= rel,
        "golden {golden:.6e}, actual {actual:.6e}, relative difference {diff:+.3e} > {rel:e}"
    );
}
