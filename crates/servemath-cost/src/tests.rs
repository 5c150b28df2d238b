//! Golden tests of the step model against hand derivations, and its invariants.

use crate::testkit::*;
use crate::{Bound, CostParams, Parallelism, Precisions, StepLoad};

fn tp(n: u32) -> Parallelism {
    Parallelism {
        tp: n,
        ..Parallelism::default()
    }
}

#[test]
fn batch_one_decode_reads_every_weight_once() {
    // Llama-3.1-70B parameters: attention 80·(2·8192·8192 + 2·8192·1024) = 12,079,595,520;
    // MLP 80·3·8192·28672 = 56,371,445,760; norms 80·2·8192 + 8192 = 1,318,912;
    // lm_head 128256·8192 = 1,050,673,152 (with the embedding table, 70,553,706,496 in all:
    // Meta's 70.6 B). A one-token step reads all but the embedding table, 69,503,033,344
    // params · 2 B (its one embedding row, 8192 · 2 B, is activation traffic).
    let d = deploy(&llama70b(), tp(1), ideal());
    let s = d.step(&StepLoad::decode(1.0, 0.0));
    let golden_bytes =
        (12_079_595_520u64 + 56_371_445_760 + 1_318_912 + 1_050_673_152) as f64 * 2.0;
    assert_close(s.bytes.weights, golden_bytes, 1e-12);
    // At 3.35 TB/s that is 41.49 ms; every GEMM is memory bound, so the GEMMs dominate. The
    // memory sides also stream each GEMM's input and output rows (under 0.02 %).
    assert_close(s.memory_s, s.bytes.total() / 3.35e12, 2e-4);
    // The step adds the elementwise kernels' reads (norms 2.6 MB, KV write 0.3 MB): +0.02 %.
    assert_close(s.time_s, golden_bytes / 3.35e12, 3e-4);
    assert_eq!(s.bound, Bound::Gemm);
    assert_eq!(s.kernels.gemm.limit(), "memory");
    assert_close(d.floor_s(), golden_bytes / 3.35e12, 1e-12);
}

#[test]
fn prefill_flops_are_two_per_param_per_token_plus_causal_attention() {
    // 2048-token prompt: every layer's matmuls on every token, 2·68,451,041,280·2048, and the
    // head on the last row only, 2·1,050,673,152·1;
    // attention 80 layers · 4·64·128 FLOPs per pair · 2048 tokens · (2049/2) mean keys.
    let d = deploy(&llama70b(), tp(1), ideal());
    let s = d.step(&StepLoad::prefill(1.0, 2048.0, 0.0));
    let body = (12_079_595_520u64 + 56_371_445_760) as f64;
    let golden = 2.0 * body * 2048.0
        + 2.0 * 1_050_673_152.0
        + 80.0 * 4.0 * 64.0 * 128.0 * 2048.0 * 2049.0 / 2.0;
    assert_close(s.flops, golden, 1e-12);
    assert_eq!(s.bound, Bound::Gemm);
    assert_eq!(s.kernels.gemm.limit(), "compute");
    assert_close(s.compute_s, golden / 989.4e12, 1e-12);
    // Attention is its own kernel class at the BF16 attention rate:
    // 80 · 4·64·128 · 2048·2049/2 = 5.5 TFLOP / 989.4 TFLOP/s = 5.56 ms.
    let attn = 80.0 * 4.0 * 64.0 * 128.0 * 2048.0 * 2049.0 / 2.0;
    assert_close(
        s.kernels.prefill_attention.compute_s,
        attn / 989.4e12,
        1e-12,
    );
}

#[test]
fn dense_balance_batch_is_the_hardware_ratio() {
    // Seed claim 4: B* ≈ (989.4e12 / 3.35e12) · (total/active = 1) · (2 bytes / 2) = 295.3.
    // The model adds attention FLOPs at context 0 (one key) and the embedding row: within 0.5 %.
    let d = deploy(&llama70b(), tp(1), ideal());
    assert_close(d.balance_batch(), 989.4 / 3.35, 5e-3);
}

#[test]
fn sparse_balance_batch_scales_with_total_over_active() {
    // 32 of 256 experts: once all experts are touched (T ≳ 100), weights are all 256 experts
    // while compute is 32 of them per token: B* ≈ 295 · 256/32 = 2,363, minus the share of
    // attention (dense, read once, computed per token) which pulls it slightly down.
    let m = toy_moe(256, 32);
    let d = deploy(&m, tp(1), ideal());
    let b = d.balance_batch();
    let p = m.params();
    let expert = p.routed_experts as f64;
    let dense = (p.attention + p.norms + p.router + p.lm_head) as f64;
    // Exact for all experts touched: B·2·(dense + expert·k/E)/peak = 2·(dense + expert)/bw.
    let golden = 989.4 / 3.35 * (dense + expert) / (dense + expert * 32.0 / 256.0);
    assert_close(b, golden, 5e-3);
    assert!(b > 2000.0 && b < 2400.0, "{b}");
}

#[test]
fn distinct_experts_follow_the_occupancy_formula() {
    // One token touches exactly k experts: weights = dense + 8/256 of the experts (embedding
    // rows are activation traffic, so the dense part does not grow with the tokens).
    let m = toy_moe(256, 8);
    let d = deploy(&m, tp(1), ideal());
    let p = m.params();
    let per_expert = p.routed_experts as f64 / 256.0 * 2.0;
    let base = d.step(&StepLoad::decode(1.0, 0.0)).bytes.weights - 8.0 * per_expert;
    for t in [2.0, 16.0, 100.0, 1000.0] {
        let w = d.step(&StepLoad::decode(t, 0.0)).bytes.weights;
        let touched = 256.0 * (1.0 - (1.0f64 - 8.0 / 256.0).powf(t));
        assert_close(w, base + touched * per_expert, 1e-9);
    }
}

#[test]
fn tensor_parallel_splits_weights_and_adds_two_all_reduces_per_layer() {
    // TP4 on one HGX: each GPU reads 1/4 of the weights; per layer two all-reduces of
    // S = T·d·2 bytes = 1,048,576 B at T = 64, the cheaper of one-shot, 5 us + 3·S/450e9 =
    // 11.99 us, and two-shot, 10 us + 1.5·S/450e9 = 13.50 us.
    let one = deploy(&llama70b(), tp(1), ideal());
    let four = deploy(&llama70b(), tp(4), ideal());
    let b = 64.0;
    let s1 = one.step(&StepLoad::decode(b, 0.0));
    let s4 = four.step(&StepLoad::decode(b, 0.0));
    // The norms (80 · 2 · 8192 · 2 B per layer, and the final 8192 · 2 B) are replicated, not split.
    let norms = 80.0 * 2.0 * 8192.0 * 2.0 + 8192.0 * 2.0;
    assert_close(
        s4.bytes.weights - norms,
        (s1.bytes.weights - norms) / 4.0,
        1e-9,
    );
    let size = b * 8192.0 * 2.0;
    let ar = (5e-6 + 3.0 * size / 450e9).min(10e-6 + 1.5 * size / 450e9);
    assert_close(s4.comm_s, 80.0 * 2.0 * ar, 1e-9);
}

#[test]
fn pipeline_keeps_the_decode_floor_and_splits_weight_memory() {
    // PP2: each stage holds half the layers; a decode token still crosses every layer, so a
    // weight-bound step takes as long as on one GPU (plus one hand-off).
    let one = deploy(&llama70b(), tp(1), ideal());
    let two = deploy(
        &llama70b(),
        Parallelism {
            pp: 2,
            ..Parallelism::default()
        },
        ideal(),
    );
    let s1 = one.step(&StepLoad::decode(8.0, 1000.0));
    let s2 = two.step(&StepLoad::decode(8.0, 1000.0));
    assert_close(s2.time_s, s1.time_s, 0.02);
    assert!(two.weight_bytes_per_device() < 0.51 * one.weight_bytes_per_device());
}

#[test]
fn kv_cache_bytes_match_the_gqa_formula() {
    // 2·80·8·128·2 B = 327,680 B per token; 4096 tokens = 1,342,177,280 B on one GPU, /8 at TP8.
    let d = deploy(&llama70b(), tp(1), ideal());
    assert_close(
        d.kv_bytes_per_seq_per_device(4096.0),
        4096.0 * 327_680.0,
        1e-12,
    );
    let d8 = deploy(&llama70b(), tp(8), ideal());
    assert_close(
        d8.kv_bytes_per_seq_per_device(4096.0),
        4096.0 * 327_680.0 / 8.0,
        1e-12,
    );
}

#[test]
fn memory_fit_reports_max_batch() {
    // TP4 H100: usable 72 GB; weights 141.1 GB/4 = 35.3 GB; reserve 2 GB; activations
    // 8192·(4·8192 + 2·28672/4)·2 B = 0.77 GB -> ~33.9 GB for KV; at 4096 tokens a sequence
    // needs 1.342 GB/4 = 0.3355 GB -> 101 sequences.
    let d = deploy(&llama70b(), tp(4), ideal());
    let m = d.memory(1.0, 4096.0);
    let act = 8192.0 * (4.0 * 8192.0 + 2.0 * 28_672.0 / 4.0) * 2.0;
    let budget = 72e9 - d.weight_bytes_per_device() - act - 2e9;
    assert_close(m.kv_budget_bytes, budget, 1e-9);
    assert_eq!(
        m.max_batch,
        (budget / (4096.0 * 327_680.0 / 4.0)).floor() as u64
    );
    assert!(m.max_batch > 95 && m.max_batch < 105, "{}", m.max_batch);
    assert!(!d.memory(200.0, 4096.0).fits);
    let one = deploy(&llama70b(), tp(1), ideal());
    assert!(one
        .memory(1.0, 1.0)
        .reason()
        .unwrap_or_default()
        .contains("weights need"));
}

#[test]
fn decode_line_sums_match_step_by_step() {
    // The closed form must equal pricing each step, for dense, MoE and windowed models, across
    // the compute/memory crossing.
    let mut windowed = llama70b();
    windowed.groups[0].attention = servemath_model::Attention::Gqa {
        heads: 64,
        kv_heads: 8,
        head_dim: 128,
        span: servemath_model::AttentionSpan::Sliding { window: 4096 },
        sinks: false,
        qkv_bias: false,
        o_bias: false,
        qk_norm: false,
        output_gate: false,
    };
    for (m, batch, ctx) in [
        (llama70b(), 64.0, 1000.0),
        (llama70b(), 600.0, 100.0),
        (toy_moe(64, 4), 32.0, 20.0),
        (windowed, 16.0, 4000.0),
    ] {
        let d = deploy(&m, tp(4), crate::testkit::ideal());
        let line = d.decode_line(batch, batch * ctx);
        let n = line.valid_steps.min(3000.0);
        let mut sum = 0.0;
        for k in 0..n as u64 {
            let t = d.step(&StepLoad::decode(batch, ctx + k as f64)).time_s;
            assert_close(line.step_s(k as f64), t, 1e-9);
            sum += t;
        }
        assert_close(line.total_s(n), sum, 1e-9);
    }
}

#[test]
fn the_busiest_expert_rank_follows_balls_into_bins() {
    use crate::expert_rank_imbalance;
    // One token picking 8 of 256 experts spread over 8 ranks: mean load 1 pick per rank;
    // a rank's picks are hypergeometric, variance 8·(1/8)(7/8)(248/255) = 0.85098, sigma 0.92248;
    // the expected maximum of 8 is about mean + sqrt(2 ln 8) = 2.03933 sigma: 2.8812 picks.
    let one = expert_rank_imbalance(1.0, 8.0, 256.0, 8.0);
    assert_close(
        one,
        1.0 + (8.0 * 0.125 * 0.875 * 248.0 / 255.0f64).sqrt() * (2.0 * 8.0f64.ln()).sqrt(),
        1e-12,
    );
    assert_close(one, 2.8812, 1e-4);
    // It fades with the batch: at a million tokens the busiest rank holds 1.0018x the mean.
    assert!(expert_rank_imbalance(1e6, 8.0, 256.0, 8.0) < 1.002);
    // No expert parallelism, no imbalance; never above every pick on one rank.
    assert!((expert_rank_imbalance(7.0, 8.0, 256.0, 1.0) - 1.0).abs() < 1e-15);
    assert!(expert_rank_imbalance(1.0, 2.0, 8.0, 8.0) <= 4.0);
}

#[test]
fn attention_dp_waits_for_the_rank_holding_the_prefill_chunk() {
    // 64 decode sequences and one 1,000-token prefill chunk over 8 attention-DP ranks: the
    // decode spreads (8 per rank) but the chunk lands on one rank, whose dense GEMMs see
    // m = 8 + 1000 tokens, not (64 + 1000)/8 = 133. So the step's dense GEMMs cost what a
    // single rank serving 8 decodes and the chunk costs.
    let m = toy_moe(64, 4);
    let wide = deploy(
        &m,
        Parallelism {
            dp_attn: 8,
            ep: 8,
            ..Parallelism::default()
        },
        ideal(),
    );
    let one = deploy(&m, Parallelism::default(), ideal());
    let mixed = StepLoad::decode(64.0, 500.0) + StepLoad::prefill(1.0, 1000.0, 0.0);
    let rank = StepLoad::decode(8.0, 500.0) + StepLoad::prefill(1.0, 1000.0, 0.0);
    assert_close(
        wide.step(&mixed).kernels.gemm.compute_s,
        one.step(&rank).kernels.gemm.compute_s,
        1e-12,
    );
    assert_close(
        wide.step(&mixed).kernels.prefill_attention.compute_s,
        one.step(&rank).kernels.prefill_attention.compute_s,
        1e-12,
    );
}

#[test]
fn two_batch_overlap_reads_weights_twice_and_hides_communication() {
    // DeepSeek-style layout of the toy MoE over 8 GPUs. With two-batch overlap each half of
    // the step reads the weights again (at 2,048 tokens per half every expert is touched), so
    // weight bytes double, and the communication exposed is what the other half's GEMMs do
    // not cover.
    let m = toy_moe(64, 4);
    let par = Parallelism {
        dp_attn: 8,
        ep: 8,
        ..Parallelism::default()
    };
    let plain = deploy(&m, par, ideal());
    let tbo = deploy(
        &m,
        Parallelism {
            two_batch_overlap: true,
            ..par
        },
        ideal(),
    );
    let load = StepLoad::decode(4096.0, 1000.0);
    let (a, b) = (plain.step(&load), tbo.step(&load));
    assert_close(b.bytes.weights, 2.0 * a.bytes.weights, 1e-9);
    assert!(b.comm_s < a.comm_s, "{} vs {}", b.comm_s, a.comm_s);
    // The same work, except that each half has its own busiest expert rank: 2,048 tokens
    // spread a little less evenly than 4,096 (balls into bins), so slightly more FLOPs there.
    assert!(b.flops >= a.flops && b.flops < a.flops * 1.02);
}

#[test]
fn redundant_experts_let_ep72_run_256_experts() {
    // 256 experts do not divide over 72 ranks; with 32 redundant slots 288 = 72 x 4 do, and
    // each rank holds 4 experts' weights, as EP64 does (256/64 = 4).
    let m = toy_moe(256, 8);
    let ep = |ep: u32, redundant: u32| Parallelism {
        dp_attn: ep,
        ep,
        redundant_experts: redundant,
        ..Parallelism::default()
    };
    let refused = crate::Deployment::new(
        &m,
        &h100(),
        ep(72, 0),
        Precisions::defaults_for(&m, |_| true),
        ideal(),
    );
    let e = refused.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(
        e.contains("32 redundant experts would make 288 slots"),
        "{e}"
    );
    let d72 = deploy(&m, ep(72, 32), ideal());
    let d64 = deploy(&m, ep(64, 0), ideal());
    assert_close(
        d72.weight_bytes_per_device(),
        d64.weight_bytes_per_device(),
        1e-12,
    );
}

#[test]
fn decode_line_with_host_time_above_the_gpu_matches_stepping() {
    // A host cost of 200 us per sequence (overlapped) exceeds the GPU time at first, and the
    // growing KV reads overtake it: the line has three pieces.
    let p = crate::CostParams {
        seq_overhead_s: 2e-4,
        step_overhead_s: 1e-4,
        ..ideal()
    };
    let d = deploy(&llama70b(), tp(4), p);
    let (batch, ctx) = (64.0, 100.0);
    let line = d.decode_line(batch, batch * ctx);
    let mut sum = 0.0;
    let n = 4000u64;
    let mut above = 0;
    for k in 0..n {
        let s = d.step(&StepLoad::decode(batch, ctx + k as f64));
        if s.host_s > s.gpu_s {
            above += 1;
        }
        assert_close(line.step_s(k as f64), s.time_s, 1e-9);
        sum += s.time_s;
    }
    assert!(above > 0 && above < n, "{above}");
    assert_close(line.total_s(n as f64), sum, 1e-9);
}

#[test]
fn sparse_attention_reads_the_top_k_latents_and_every_indexer_key() {
    // DeepSeek-V3.2 (DSA): at context 10,000 a decode token attends 2,048 latents (576 B each in
    // its FP8 KV) and the indexer scores all 10,001 keys (128 B + one 4 B scale each), in each of
    // 61 layers: 61·(2048·576 + 10001·132) = 61·(1,179,648 + 1,320,132) = 152,486,580 B, read at
    // the ideal 3.35 TB/s; 8 attention-DP ranks of one sequence each.
    let m = servemath_model::builtin("deepseek-v3.2").unwrap_or_else(|e| panic!("{e}"));
    let par = Parallelism {
        dp_attn: 8,
        ep: 8,
        ..Parallelism::default()
    };
    let d = deploy(&m, par, ideal());
    let s = d.step(&StepLoad::decode(8.0, 10_000.0));
    let per_seq = 61.0 * (2048.0 * 576.0 + 10_001.0 * 132.0);
    assert_close(
        s.kernels.decode_attention.memory_s,
        per_seq / 3.35e12,
        1e-12,
    );
    // Its FLOPs: absorbed MLA on 2,048 keys, 2·128·(512+64) + 2·128·512 = 278,528 per key, plus
    // the indexer's 2·64·128 + 2·64 = 16,512 per scored key.
    let flops = 61.0 * (2048.0 * 278_528.0 + 10_001.0 * 16_512.0);
    assert_close(
        s.kernels.decode_attention.compute_s,
        flops / 989.4e12,
        1e-12,
    );
    // The KV cache holds every token, latent and indexer key: 708 B per token per layer.
    assert_close(
        d.kv_bytes_per_seq_per_device(10_000.0),
        61.0 * 708.0 * 10_000.0,
        1e-12,
    );
}

#[test]
fn decode_line_crosses_the_sparse_top_k_like_a_window() {
    // Below 2,048 tokens DSA attends everything; past it only the top 2,048: the line stops at
    // the boundary and a new one starts, exactly as stepping prices it.
    let m = servemath_model::builtin("deepseek-v3.2").unwrap_or_else(|e| panic!("{e}"));
    let par = Parallelism {
        dp_attn: 8,
        ep: 8,
        ..Parallelism::default()
    };
    let d = deploy(&m, par, ideal());
    let (batch, ctx) = (64.0, 1900.0);
    let line = d.decode_line(batch, batch * ctx);
    assert!(line.valid_steps <= 148.0, "{}", line.valid_steps);
    let n = line.valid_steps as u64;
    let mut sum = 0.0;
    for k in 0..n {
        sum += d.step(&StepLoad::decode(batch, ctx + k as f64)).time_s;
    }
    assert_close(line.total_s(n as f64), sum, 1e-9);
}

#[test]
fn linear_attention_reads_and_writes_a_fixed_state() {
    // Qwen3.5-35B-A3B at context 10,000, one sequence, ideal rates: its decode attention reads
    // the 10 full layers' KV (10,001 keys x 2·2·256 x 2 B each) and reads and writes each of the
    // 30 Gated DeltaNet states (2,146,304 B): 10·10,001·2,048 + 30·2·2,146,304
    // = 204,820,480 + 128,778,240 = 333,598,720 B at 3.35 TB/s.
    let m = servemath_model::builtin("qwen3.5-35b-a3b").unwrap_or_else(|e| panic!("{e}"));
    let d = deploy(&m, Parallelism::default(), ideal());
    let s = d.step(&StepLoad::decode(1.0, 10_000.0));
    assert_close(
        s.kernels.decode_attention.memory_s,
        333_598_720.0 / 3.35e12,
        1e-12,
    );
    // The memory fit holds the state whatever the context: 30·2,146,304 B beside the KV.
    assert_close(
        d.kv_bytes_per_seq_per_device(16.0),
        30.0 * 2_146_304.0 + 10.0 * 2048.0 * 16.0,
        1e-12,
    );
}

#[test]
fn compressed_attention_reads_the_window_the_pooled_entries_and_the_indexer_keys() {
    // DeepSeek-V4-Flash at context 10,000, one sequence per attention-DP rank, BF16 KV
    // (1,024 B per 512-wide entry), ideal rates. A decode token (10,001 positions) attends
    // per layer kind:
    //   2 window-only layers: 128 entries                                  = 131,072 B
    //   21 ratio-4 layers: 128 + top-512 of 2,500.25 pooled = 640 entries  = 655,360 B
    //      plus the indexer scoring every pooled key, 132 B per 4 tokens:
    //      10,001·33 = 330,033 B
    //   20 ratio-128 layers: 128 + 10,001/128 = 206.1328125 entries        = 211,080 B
    // 2·131,072 + 21·(655,360 + 330,033) + 20·211,080 = 25,176,997 B at 3.35 TB/s.
    let m = servemath_model::builtin("deepseek-v4-flash").unwrap_or_else(|e| panic!("{e}"));
    let par = Parallelism {
        dp_attn: 4,
        ep: 4,
        ..Parallelism::default()
    };
    let d = deploy(&m, par, ideal());
    let s = d.step(&StepLoad::decode(4.0, 10_000.0));
    assert_close(
        s.kernels.decode_attention.memory_s,
        25_176_997.0 / 3.35e12,
        1e-12,
    );
    // FLOPs: 4·64·512 = 131,072 per attended entry; the indexer 2·64·128 + 2·64 = 16,512 per
    // pooled key, 4,128 per token. Entries 2·128 + 21·640 + 20·206.1328125 = 17,818.65625;
    // indexer 21·10,001·4,128 = 866,966,688.
    let flops = 17_818.656_25 * 131_072.0 + 866_966_688.0;
    assert_close(
        s.kernels.decode_attention.compute_s,
        flops / 989.4e12,
        1e-12,
    );
    // The cache holds, per layer, the window (full at 10,000) and the pooled entries:
    // 2·128 + 21·(128 + 2,500) + 20·(128 + 78) = 256 + 55,188 + 4,120 = 59,564 entries of
    // 1,024 B, plus the indexer keys, 21·33·10,000 = 6,930,000 B: 67,923,536 B in all.
    assert_close(
        d.kv_bytes_per_seq_per_device(10_000.0),
        59_564.0 * 1024.0 + 6_930_000.0,
        1e-12,
    );
}

#[test]
fn decode_line_crosses_the_compressed_top_k_like_a_window() {
    // V4-Flash's ratio-4 layers attend every pooled entry up to 512 of them, that is up to
    // 4·512 = 2,048 tokens: the line from 1,900 stops at that boundary (at most 148 steps)
    // and its sum equals stepping.
    let m = servemath_model::builtin("deepseek-v4-flash").unwrap_or_else(|e| panic!("{e}"));
    let par = Parallelism {
        dp_attn: 4,
        ep: 4,
        ..Parallelism::default()
    };
    let d = deploy(&m, par, ideal());
    let (batch, ctx) = (64.0, 1900.0);
    let line = d.decode_line(batch, batch * ctx);
    assert!(line.valid_steps <= 148.0, "{}", line.valid_steps);
    assert!(line.valid_steps >= 1.0, "{}", line.valid_steps);
    let n = line.valid_steps as u64;
    let mut sum = 0.0;
    for k in 0..n {
        sum += d.step(&StepLoad::decode(batch, ctx + k as f64)).time_s;
    }
    assert_close(line.total_s(n as f64), sum, 1e-9);
}

#[test]
fn latent_experts_exchange_latent_rows_and_add_two_projections() {
    // LatentMoE: the same 64 experts of width 2048 working in a 2048-wide latent instead of the
    // 8192-wide hidden size. Dispatch and combine carry latent rows, a quarter of the bytes; the
    // experts hold a quarter of the weights; every token passes a down- and an up-projection,
    // 2·8192·2048 = 33,554,432 parameters per layer.
    let plain = toy_moe(64, 8);
    let mut latent = plain.clone();
    if let servemath_model::Mlp::Moe { latent: l, .. } = &mut latent.groups[0].mlp {
        *l = 2048;
    }
    let d = 8192u64;
    let (p0, p1) = (
        plain.groups[0].mlp.params(d),
        latent.groups[0].mlp.params(d),
    );
    assert_eq!(p0.routed, 64 * 3 * 8192 * 2048);
    assert_eq!(p1.routed, 64 * 3 * 2048 * 2048);
    assert_eq!(p1.dense, 33_554_432);
    let par = Parallelism {
        dp_attn: 8,
        ep: 8,
        ..Parallelism::default()
    };
    let load = StepLoad::decode(256.0, 1000.0);
    let a = deploy(&plain, par, ideal()).step(&load);
    let b = deploy(&latent, par, ideal()).step(&load);
    assert!(a.comm_bytes > 0.0);
    assert_close(b.comm_bytes, a.comm_bytes / 4.0, 1e-9);
}

/// `with_params` resolves again what the parameters fix at construction: the result prices
/// exactly as a deployment built with those parameters from the start, and the old one is
/// untouched (fields are private, so nothing else can change a parameter).
#[test]
fn with_params_rebuilds_what_the_parameters_fix() {
    let model = llama70b();
    let tp4 = Parallelism {
        tp: 4,
        ..Parallelism::default()
    };
    let base = deploy(&model, tp4, ideal());
    let slower = CostParams {
        memory_efficiency: 0.5,
        ..ideal()
    };
    let rebuilt = base.with_params(slower).expect("in range");
    let fresh = deploy(&model, tp4, slower);
    let load = StepLoad::decode(1.0, 1024.0);
    assert_close(rebuilt.step(&load).time_s, fresh.step(&load).time_s, 1e-15);
    // Ideal roofline at batch 1: weight reads dominate, so halving the memory efficiency
    // about doubles the step (the attention and head reads halve in rate too).
    let ratio = rebuilt.step(&load).time_s / base.step(&load).time_s;
    assert!((1.8..=2.0).contains(&ratio), "{ratio}");
    assert_close(base.params().memory_efficiency, 1.0, 0.0);
    // A parameter out of range is refused, not applied.
    let bad = CostParams {
        memory_efficiency: 1.5,
        ..ideal()
    };
    assert!(base.with_params(bad).is_err());
}
