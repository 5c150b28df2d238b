//! The seed claims (shared/reference/seed-claims.md, items 1–14)
//! reproduced from the cost model and the catalog, never from constants.
//!
//! Each claim is computed from a built-in model and a catalog entry; "ideal" claims use peak
//! figures (efficiency 1, no overheads) because the claim itself is stated in peak figures,
//! the others use the calibrated parameters.

use anyhow::anyhow;
use servemath_cost::{
    Calibration, CostParams, Deployment, Network, Parallelism, Precisions, StepLoad,
};
use servemath_hardware::{Catalog, Hardware};
use servemath_model::{Mlp, ModelSpec, Precision};
use servemath_report::{Claim, ClaimsReport};

struct Ctx {
    catalog: Catalog,
    calibration: Calibration,
}

/// Peak figures: every rate at its datasheet peak, no fixed costs (used with no kernel curves).
fn ideal(mut p: CostParams) -> CostParams {
    p.compute_efficiency = 1.0;
    p.memory_efficiency = 1.0;
    p.attention_efficiency = 1.0;
    p.moe_load_imbalance = 1.0;
    p.kernel_launch_s = 0.0;
    p.elementwise_kernel_s = 0.0;
    p.comm_efficiency = 1.0;
    p.step_overhead_s = 0.0;
    p.layer_overhead_s = 0.0;
    p.seq_overhead_s = 0.0;
    p.activation_io_per_layer = 0.0;
    p.kv_block_tokens = 1.0;
    p
}

fn model(name: &str) -> anyhow::Result<ModelSpec> {
    servemath_model::builtin(name).map_err(|e| anyhow!("{e}"))
}

impl Ctx {
    fn hw(&self, id: &str) -> anyhow::Result<Hardware> {
        Ok(self.catalog.get(id).map_err(|e| anyhow!("{e}"))?.clone())
    }

    /// A deployment at the checkpoint's precisions (or `weights` for the linear layers).
    fn deploy(
        &self,
        model: &ModelSpec,
        hw: &Hardware,
        par: Parallelism,
        weights: Option<Precision>,
        peak_figures: bool,
    ) -> anyhow::Result<Deployment> {
        let has = |p| hw.peak_flop_per_s(p).is_ok();
        let mut prec = Precisions::defaults_for(model, has);
        if let Some(w) = weights {
            prec = prec.with_linear_weights(w, has);
        }
        let params = self.calibration.for_family(&hw.family);
        if peak_figures {
            // Datasheet peaks: no measured kernel curves either.
            return Deployment::with_curves(model, hw, None, par, prec, ideal(params))
                .map_err(|e| anyhow!("{e}"));
        }
        Deployment::new(model, hw, par, prec, params).map_err(|e| anyhow!("{e}"))
    }
}

fn tp(n: u32) -> Parallelism {
    Parallelism {
        tp: n,
        ..Parallelism::default()
    }
}

fn ms(s: f64) -> String {
    if s < 1e-3 {
        format!("{:.1} us", s * 1e6)
    } else {
        format!("{:.1} ms", s * 1e3)
    }
}

/// Every seed claim, in order, reproduced from the built-in models, catalog and calibration.
pub fn claims() -> anyhow::Result<ClaimsReport> {
    Ok(ClaimsReport {
        claims: all_claims()?,
    })
}

/// Every claim, in order.
fn all_claims() -> anyhow::Result<Vec<Claim>> {
    let ctx = Ctx {
        catalog: Catalog::builtin(),
        calibration: Calibration::builtin(),
    };
    let mut out = Vec::new();
    out.extend(batching(&ctx)?);
    out.extend(balance(&ctx)?);
    out.extend(trains(&ctx)?);
    out.extend(racks(&ctx)?);
    out.extend(prices(&ctx)?);
    Ok(out)
}

/// Items 1–3: batch 1 against a well-chosen batch, the roofline terms, the floor.
fn batching(ctx: &Ctx) -> anyhow::Result<Vec<Claim>> {
    let m = model("llama-3.1-70b")?;
    let hw = ctx.hw("h100-sxm")?;
    let d = ctx.deploy(&m, &hw, tp(4), None, false)?;
    let context = 2048.0;
    let cost_per_token = |b: f64| d.step(&StepLoad::decode(b, context)).time_s / b;
    let best = d.max_batch(context) as f64;
    let ratio = cost_per_token(1.0) / cost_per_token(best);

    let moe = model("deepseek-v3")?;
    let gb = ctx.hw("gb200-nvl72")?;
    let dm = ctx.deploy(
        &moe,
        &gb,
        Parallelism {
            tp: 1,
            dp_attn: 64,
            ep: 64,
            pp: 1,
            redundant_experts: 0,
            two_batch_overlap: false,
        },
        None,
        false,
    )?;
    let moe_best = (dm.max_batch(context) as f64).min(16384.0);
    let moe_ratio = (dm.step(&StepLoad::decode(1.0, context)).time_s)
        / (dm.step(&StepLoad::decode(moe_best, context)).time_s / moe_best);

    let s1 = d.step(&StepLoad::decode(1.0, context));
    let s256 = d.step(&StepLoad::decode(256.0, context));
    let kv_per_seq_s = (s256.memory_s - s1.memory_s) / 255.0;
    let weights_s = s1.memory_s - kv_per_seq_s;
    let compute_per_seq_s = (s256.compute_s - s1.compute_s) / 255.0;
    let floor = d.floor_s();
    let t1 = d.step(&StepLoad::decode(1.0, 0.0)).time_s;

    Ok(vec![
        Claim {
            id: "1a".into(),
            title: "batch 1 costs about a hundred times more per token".into(),
            inputs: format!("llama-3.1-70b, h100-sxm TP4, bf16, context 2,048; batch 1 vs {best:.0} (largest that fits)"),
            value: ratio,
            unit: "ratio".into(),
            display: format!("{ratio:.0}x"),
            explanation: "at batch 1 every step reads all 141 GB of weights for one token; a full batch shares that read across every sequence".into(),
        },
        Claim {
            id: "1b".into(),
            title: "and thousands of times for a sparse model on a rack".into(),
            inputs: format!("deepseek-v3, gb200-nvl72 attention-DP 64 / EP 64, fp8, context 2,048; batch 1 vs {moe_best:.0}"),
            value: moe_ratio,
            unit: "ratio".into(),
            display: format!("{moe_ratio:.0}x"),
            explanation: "a mixture of experts needs an even larger batch before every expert it reads is shared by many tokens".into(),
        },
        Claim {
            id: "2".into(),
            title: "step time = max(compute, weights + KV)".into(),
            inputs: "llama-3.1-70b, h100-sxm TP4, bf16, context 2,048".into(),
            value: weights_s,
            unit: "s".into(),
            display: format!(
                "memory {} + {:.3} ms per sequence; compute {:.3} ms per sequence",
                ms(weights_s),
                kv_per_seq_s * 1e3,
                compute_per_seq_s * 1e3
            ),
            explanation: "compute grows linearly with batch; memory time is a constant for the weights plus a KV-cache term linear in batch".into(),
        },
        Claim {
            id: "3".into(),
            title: "hard latency floor".into(),
            inputs: "llama-3.1-70b, h100-sxm TP4, bf16".into(),
            value: floor,
            unit: "s".into(),
            display: format!("{} (batch-1 step {})", ms(floor), ms(t1)),
            explanation: "no batch makes a step faster than reading the weights it touches from HBM: 141 GB / (4 x 3.35 TB/s x efficiency)".into(),
        },
    ])
}

/// Items 4–5: balance batch for dense, 32-of-256 and DeepSeek-V3's 8-of-256, and expert coverage.
fn balance(ctx: &Ctx) -> anyhow::Result<Vec<Claim>> {
    let hw = ctx.hw("h100-sxm")?;
    let dense = model("llama-3.1-70b")?;
    let b_dense = ctx.deploy(&dense, &hw, tp(8), None, true)?.balance_batch();

    let ds = model("deepseek-v3")?;
    let mut ds32 = ds.clone();
    for g in &mut ds32.groups {
        if let Mlp::Moe { top_k, .. } = &mut g.mlp {
            *top_k = 32;
        }
    }
    let ep = Parallelism {
        tp: 1,
        dp_attn: 8,
        ep: 8,
        pp: 1,
        redundant_experts: 0,
        two_batch_overlap: false,
    };
    let bf16 = Some(Precision::Bf16);
    let b32 = ctx.deploy(&ds32, &hw, ep, bf16, true)?.balance_batch();
    let b8 = ctx.deploy(&ds, &hw, ep, bf16, true)?.balance_batch();
    let ratio = hw
        .peak_flop_per_s(servemath_model::MathPrecision::Bf16)
        .map_err(|e| anyhow!("{e}"))?
        / hw.hbm_bytes_per_s;
    let sparsity32 = ds32.params().total() as f64 / ds32.active_params() as f64;
    let sparsity8 = ds.params().total() as f64 / ds.active_params() as f64;

    let (e, k) = (256.0f64, 8.0f64);
    let coverage = |t: f64| 1.0 - (1.0 - k / e).powf(t);
    Ok(vec![
        Claim {
            id: "4a".into(),
            title: "balance batch B* for a dense model".into(),
            inputs: "llama-3.1-70b, h100-sxm, bf16 weights and math, peak figures".into(),
            value: b_dense,
            unit: "tokens".into(),
            display: format!("B* = {b_dense:.0} (FLOP/s / bytes/s = {ratio:.0})"),
            explanation: "compute equals weight-fetch time when each weight byte read is used by FLOP/s / bytes/s x (bytes per param / 2) tokens".into(),
        },
        Claim {
            id: "4b".into(),
            title: "balance batch at 32-of-256 sparsity".into(),
            inputs: format!("deepseek-v3 with 32 of 256 experts per token (total/active {sparsity32:.1}), h100-sxm, bf16, peak figures"),
            value: b32,
            unit: "tokens".into(),
            display: format!("B* = {b32:.0}"),
            explanation: "the sparsity factor multiplies B* by total/active (not active/total): all experts are read but each token computes with a few".into(),
        },
        Claim {
            id: "4c".into(),
            title: "balance batch at DeepSeek-V3's real 8-of-256 routing".into(),
            inputs: format!("deepseek-v3 (total/active {sparsity8:.1}), h100-sxm, bf16, peak figures"),
            value: b8,
            unit: "tokens".into(),
            display: format!("B* = {b8:.0}"),
            explanation: "with 37 B of 671 B active per token the weights are only amortised at several thousand tokens per step".into(),
        },
        Claim {
            id: "5".into(),
            title: "sparsity is a win for compute, not for memory".into(),
            inputs: "8 of 256 experts, tokens routed uniformly".into(),
            value: coverage(64.0),
            unit: "fraction".into(),
            display: format!(
                "experts touched per layer: batch 1 {:.1}%, 16 {:.0}%, 64 {:.0}%, 256 {:.0}%",
                coverage(1.0) * 100.0,
                coverage(16.0) * 100.0,
                coverage(64.0) * 100.0,
                coverage(256.0) * 100.0
            ),
            explanation: "E(1-(1-k/E)^T) distinct experts: by batch 64 nearly every expert is read each step, while HBM must hold all of them regardless".into(),
        },
    ])
}

/// Items 6–7: the train period from one HBM read, and its worst case.
fn trains(ctx: &Ctx) -> anyhow::Result<Vec<Claim>> {
    let rubin = ctx.hw("rubin-nvl72")?;
    let period = rubin.hbm_read_s();
    let (wait, first) = simulated_train(ctx, 0.020)?;
    Ok(vec![
        Claim {
            id: "6".into(),
            title: "a fixed-period train doubles the worst-case step latency".into(),
            inputs: "period 20 ms; simulated: llama-3.1-8b on h100-sxm, trains every 20 ms, 2,000 requests 35.4 ms apart (every phase of the period), 200-token prompts".into(),
            value: 2.0 * 0.020,
            unit: "s".into(),
            display: format!(
                "worst case 40.0 ms = 20 ms wait + 20 ms ride; simulated worst wait {}, worst end of first step {}",
                ms(wait),
                ms(first)
            ),
            explanation: "a request that just misses a departure waits one period, then rides a step of up to one period".into(),
        },
        Claim {
            id: "7".into(),
            title: "the period is one read of the whole HBM".into(),
            inputs: format!(
                "{}: {:.0} GB at {:.1} TB/s",
                rubin.id,
                rubin.hbm_bytes / 1e9,
                rubin.hbm_bytes_per_s / 1e12
            ),
            value: period,
            unit: "s".into(),
            display: format!("{} per read; worst case {}", ms(period), ms(2.0 * period)),
            explanation: "weights plus the KV cache that fills the rest of HBM are read once per step, so the step cannot be shorter".into(),
        },
    ])
}

/// Worst wait before boarding and worst time to the end of the first step, simulated.
fn simulated_train(ctx: &Ctx, period_s: f64) -> anyhow::Result<(f64, f64)> {
    use servemath_sim::workload::Request;
    use servemath_sim::{
        simulate, Policy, Pool, ReplicaSpec, Router, SchedulerConfig, SimConfig, Workload,
    };
    let m = model("llama-3.1-8b")?;
    let hw = ctx.hw("h100-sxm")?;
    let dep = std::sync::Arc::new(ctx.deploy(&m, &hw, tp(1), None, false)?);
    // Evenly spread arrivals at an irrational spacing cover every phase of the period.
    let requests = (0..2000u32).map(|i| {
        Request::new(
            f64::from(i) * 0.05 * std::f64::consts::FRAC_1_SQRT_2,
            200,
            4,
        )
    });
    let replica = ReplicaSpec {
        deployment: dep,
        scheduler: SchedulerConfig::vllm(Policy::Train { period_s }),
        pool: Pool::Unified,
    };
    let cfg = SimConfig::new(vec![replica], Router::RoundRobin).keep_records(true);
    let r = simulate(cfg, Workload::Open(Box::new(requests)))?;
    let worst = |f: fn(&servemath_sim::Record) -> f64| r.records.iter().map(f).fold(0.0, f64::max);
    Ok((worst(|x| x.queue_s()), worst(|x| x.ttft_s())))
}

/// Items 8–12: scale-up vs scale-out, EP across racks, PP across racks, KV share, big domains.
fn racks(ctx: &Ctx) -> anyhow::Result<Vec<Claim>> {
    let gb = ctx.hw("gb200-nvl72")?;
    let out = gb.scale_out().map_err(|e| anyhow!("{e}"))?;
    let ratio = gb.scale_up_bytes_per_s / out;
    let params = Calibration::builtin().for_family(&gb.family);
    let net = Network {
        domain: gb.scale_up_domain,
        up_bytes_per_s: gb.scale_up_bytes_per_s,
        up_latency_s: gb.scale_up_latency_s,
        out_bytes_per_s: out,
        out_latency_s: gb.scale_out_latency_s,
        all_reduce_latency_s: params.allreduce_latency_s,
        all_to_all_latency_s: params.all_to_all_latency_s,
        all_reduce_table: Vec::new(),
        all_to_all_table: Vec::new(),
    };
    // DeepSeek-V3 decode, 64 tokens per GPU: dispatch of 64·8 copies of 7168 fp8 activations.
    let ds = model("deepseek-v3")?;
    let tokens_per_gpu = 64.0;
    let bytes = tokens_per_gpu * 8.0 * ds.hidden_size as f64;
    let inside = net.all_to_all(72, bytes);
    let across = net.all_to_all(144, bytes);
    // Pipeline hand-off of the same tokens' hidden states (d · 2 bytes each) across racks.
    let p2p = net.p2p(tokens_per_gpu * ds.hidden_size as f64 * 2.0, true);

    // Item 10: Llama-3.1-405B on NVL72 racks, pipeline over racks, 16 sequences per micro-batch per GPU at 32k.
    let big = model("llama-3.1-405b")?;
    let mut shares = Vec::new();
    for pp in [1u32, 2, 4] {
        let d = ctx.deploy(
            &big,
            &gb,
            Parallelism {
                tp: 8,
                pp,
                ..Parallelism::default()
            },
            Some(Precision::Fp8),
            false,
        )?;
        let batch = 16.0 * f64::from(pp);
        let m = d.memory(batch, 32768.0);
        shares.push((
            pp,
            m.kv_bytes / (m.kv_bytes + m.weight_bytes),
            m.weight_bytes,
            m.kv_bytes,
        ));
    }

    // Item 11: DeepSeek-V3 floor on 8 GPUs vs 72.
    let small = ctx.deploy(
        &ds,
        &gb,
        Parallelism {
            tp: 1,
            dp_attn: 8,
            ep: 8,
            pp: 1,
            redundant_experts: 0,
            two_batch_overlap: false,
        },
        None,
        false,
    )?;
    let rack = ctx.deploy(
        &ds,
        &gb,
        Parallelism {
            tp: 1,
            dp_attn: 64,
            ep: 64,
            pp: 1,
            redundant_experts: 0,
            two_batch_overlap: false,
        },
        None,
        false,
    )?;
    let f8 = small.step(&StepLoad::decode(256.0, 4096.0)).time_s;
    let f72 = rack.step(&StepLoad::decode(256.0, 4096.0)).time_s;

    // Item 12: the same 144-GPU expert group with a 72- and a 144-GPU domain.
    let mut big_domain = net;
    big_domain.domain = 144;
    let across_big = big_domain.all_to_all(144, bytes);

    let share_text = shares
        .iter()
        .map(|(pp, s, w, kv)| {
            format!(
                "PP{pp}: KV {:.0}% ({:.0} of {:.0} GB)",
                s * 100.0,
                kv / 1e9,
                (w + kv) / 1e9
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    Ok(vec![
        Claim {
            id: "8a".into(),
            title: "scale-out is several times slower than scale-up per GPU".into(),
            inputs: format!("{}: NVLink {:.0} GB/s vs NIC {:.0} GB/s per GPU per direction", gb.id, gb.scale_up_bytes_per_s / 1e9, out / 1e9),
            value: ratio,
            unit: "ratio".into(),
            display: format!("{ratio:.0}x"),
            explanation: "an NVLink domain gives each GPU several times the bandwidth of its network card".into(),
        },
        Claim {
            id: "8b".into(),
            title: "an expert-parallel step that crosses racks".into(),
            inputs: format!("deepseek-v3 dispatch all-to-all, {tokens_per_gpu:.0} tokens per GPU, fp8: EP72 in one rack vs EP144 over two"),
            value: across / inside,
            unit: "ratio".into(),
            display: format!("{} vs {} ({:.0}x slower)", ms(inside), ms(across), across / inside),
            explanation: "half of every GPU's all-to-all traffic must leave the rack, and it leaves at NIC speed".into(),
        },
        Claim {
            id: "9".into(),
            title: "pipeline parallelism suits crossing racks".into(),
            inputs: format!("deepseek-v3, {tokens_per_gpu:.0} tokens per GPU: pipeline hand-off vs EP144 all-to-all across racks"),
            value: p2p / across,
            unit: "ratio".into(),
            display: format!("hand-off {} vs all-to-all {}", ms(p2p), ms(across)),
            explanation: "a stage boundary sends each token's hidden state once, point to point, instead of k copies to everywhere".into(),
        },
        Claim {
            id: "10".into(),
            title: "pipelining divides weights per rack but not the KV cache".into(),
            inputs: "llama-3.1-405b fp8 on gb200-nvl72, TP8, 16 sequences per micro-batch at 32k context, micro-batches = stages".into(),
            value: shares.last().map_or(0.0, |s| s.1),
            unit: "fraction".into(),
            display: share_text,
            explanation: "each stage keeps 1/PP of the weights but, to keep PP micro-batches in flight, the KV cache of PP times as many sequences".into(),
        },
        Claim {
            id: "11".into(),
            title: "a large scale-up domain is valuable for its bandwidth".into(),
            inputs: format!("deepseek-v3 on gb200-nvl72, decode batch 256 at 4k: 8 GPUs vs {} GPUs", rack.gpus()),
            value: f8 / f72,
            unit: "ratio".into(),
            display: format!("step {} on 8 GPUs vs {} on {}", ms(f8), ms(f72), rack.gpus()),
            explanation: "spreading the weights over more HBM stacks reads them in parallel: more aggregate bandwidth, lower latency, room for longer contexts".into(),
        },
        Claim {
            id: "12".into(),
            title: "the rack size is a design variable".into(),
            inputs: "deepseek-v3 EP144 dispatch: 72-GPU vs 144-GPU scale-up domain".into(),
            value: across / across_big,
            unit: "ratio".into(),
            display: format!("{} with 72 per domain vs {} with 144", ms(across), ms(across_big)),
            explanation: "doubling the domain keeps the whole expert group on NVLink; cable density, weight and cooling are what stop it".into(),
        },
    ])
}

/// Items 13–14: output/input cost ratio and the long-context crossover.
fn prices(ctx: &Ctx) -> anyhow::Result<Vec<Claim>> {
    let m = model("llama-3.1-70b")?;
    let hw = ctx.hw("h100-sxm")?;
    let d = ctx.deploy(&m, &hw, tp(4), Some(Precision::Fp8), false)?;
    let batch = 64.0;
    let decode = d.step(&StepLoad::decode(batch, 2048.0));
    let chunk = 8192.0;
    let prefill = d.step(&StepLoad::prefill(4.0, chunk / 4.0, 0.0));
    let out_cost = decode.time_s / batch;
    let in_cost = prefill.time_s / chunk;
    let ratio = out_cost / in_cost;

    // KV reads per sequence overtake that sequence's share of the weight reads at
    // c* = W_touched / (B · kv_bytes_per_token), with fp8 weights and KV at batch 64.
    let mut crossovers = Vec::new();
    for name in ["llama-3.1-70b", "qwen3-235b-a22b", "deepseek-v3"] {
        let spec = model(name)?;
        let mut w = spec.checkpoint;
        w.attention = Precision::Fp8;
        w.dense_mlp = Precision::Fp8;
        w.experts = Precision::Fp8;
        // Distinct weights one step reads: everything but the routed experts nobody picked.
        let routed = spec.params().routed_experts as f64 * Precision::Fp8.bytes_per_element();
        let coverage = spec
            .groups
            .iter()
            .find_map(|g| g.mlp.routing())
            .map_or(1.0, |(e, k)| 1.0 - (1.0 - k as f64 / e as f64).powf(batch));
        let touched = spec.weight_bytes(&w) - routed * (1.0 - coverage);
        crossovers.push((
            name,
            touched / (batch * spec.kv_bytes_per_token(Precision::Fp8)),
        ));
    }
    let crossover = crossovers.last().map_or(0.0, |c| c.1);
    Ok(vec![
        Claim {
            id: "13".into(),
            title: "output tokens cost several times input tokens".into(),
            inputs: "llama-3.1-70b fp8, h100-sxm TP4: decode batch 64 at 2k vs an 8,192-token prefill step".into(),
            value: ratio,
            unit: "ratio".into(),
            display: format!("{ratio:.1}x ({:.2} ms vs {:.3} ms per token per replica)", out_cost * 1e3, in_cost * 1e3),
            explanation: "decode is bound by reading weights and KV for one token per sequence; prefill shares each read across thousands of prompt tokens and runs at the compute roof".into(),
        },
        Claim {
            id: "14".into(),
            title: "a long-context price step marks the KV crossover".into(),
            inputs: format!("fp8 weights and KV, batch {batch:.0}, weights a step touches vs KV per token"),
            value: crossover,
            unit: "tokens".into(),
            display: crossovers
                .iter()
                .map(|(n, c)| format!("{n} {:.0}K", c / 1e3))
                .collect::<Vec<_>>()
                .join(", "),
            explanation: "beyond this context a sequence's own KV-cache reads cost more per step than its share of the weight reads, so longer prompts deserve a higher price".into(),
        },
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim(claims: &[Claim], id: &str) -> f64 {
        claims
            .iter()
            .find(|c| c.id == id)
            .map(|c| c.value)
            .unwrap_or_else(|| panic!("claim {id} missing"))
    }

    #[track_caller]
    fn near(actual: f64, golden: f64, rel: f64) {
        let diff = (actual - golden) / golden;
        assert!(
            diff.abs() <= rel,
            "golden {golden}, actual {actual}, difference {diff:+.3e}"
        );
    }

    #[test]
    fn golden_figures() {
        let c = all_claims().unwrap_or_else(|e| panic!("{e:#}"));
        // 4a: 989.4e12 / 3.35e12 = 295.3 tokens (bf16: bytes/param / 2 = 1); attention at context 0 and the
        // embedding rows pull it down by < 0.5 %.
        near(claim(&c, "4a"), 295.3, 5e-3);
        // 4b: DeepSeek-V3 with 32 of 256 experts: 295.3 x total/active = 295.3 x 6.8 = 2,008 by
        // the formula; the bisection gives 2,327 because MLA's absorbed-form attention FLOPs per
        // token are smaller than its weights suggest (as in 4c), with uniform routing at peak
        // (the busiest of 8 expert ranks carries 1.01x the mean at this batch). Before the
        // per-kernel model it was 2,025: a fixed 1.2 load imbalance was applied at peak too.
        near(claim(&c, "4b"), 2327.0, 0.02);
        assert!((2000.0..3000.0).contains(&claim(&c, "4b")));
        // 4c: real 8-of-256: 295.3 x 671/37 = 5,355 by the formula; the bisection gives 6,233
        // (5,683 with the old fixed 1.2 imbalance) for the same reason.
        near(claim(&c, "4c"), 6233.0, 0.02);
        // 5: 1 - (1 - 8/256)^64 = 0.8688.
        near(claim(&c, "5"), 1.0 - (1.0f64 - 8.0 / 256.0).powi(64), 1e-12);
        // 6: 2 x 20 ms; the simulated worst wait approaches one period and the first step
        // ends within two.
        near(claim(&c, "6"), 0.040, 1e-12);
        let (wait, first) = simulated_train(
            &Ctx {
                catalog: Catalog::builtin(),
                calibration: Calibration::builtin(),
            },
            0.020,
        )
        .unwrap_or_else(|e| panic!("{e:#}"));
        assert!(wait > 0.019 && wait <= 0.020 + 1e-12, "{wait}");
        assert!(first > 0.020 && first < 0.040, "{first}");
        // 7: 288e9 B / 20e12 B/s = 14.4 ms.
        near(claim(&c, "7"), 0.0144, 1e-12);
        // 8a: GB200 NVL72: 900 GB/s NVLink / 50 GB/s NIC = 18.
        near(claim(&c, "8a"), 18.0, 1e-12);
        // 8b: half the EP144 traffic crosses racks at 1/18 the bandwidth: 61.7 us against 24.0 us,
        // 2.6x. Both pay the dispatch kernel's fixed latency (all_to_all_latency_s, 20 us, DeepEP's
        // tens of us), so the 18x bandwidth gap shows as 2-3x at 64 tokens per GPU (it was 4.5x
        // with a 2-5 us latency).
        assert!((2.0..4.0).contains(&claim(&c, "8b")), "{}", claim(&c, "8b"));
        // 9: a pipeline hand-off is cheaper than the all-to-all across racks.
        assert!(claim(&c, "9") < 1.0);
        // 10: KV share with 4 pipeline stages ~ 72 %.
        near(claim(&c, "10"), 0.72, 0.03);
        // 1a/1b: about a hundred, thousands. 1a was 114x with the fitted 8 ms step overhead,
        // which inflated the batch-1 step (cost-model-review.md: "exaggerated by about 1.3x");
        // the per-kernel model gives 92x.
        assert!(
            (80.0..1000.0).contains(&claim(&c, "1a")),
            "{}",
            claim(&c, "1a")
        );
        assert!(claim(&c, "1b") > 1000.0, "{}", claim(&c, "1b"));
        // 3: 141.1 GB / (4 x 3.35e12 x 0.7942) = 13.3 ms: the weights stream at the H100 BF16
        // GEMM curve's memory efficiency (kernels.toml, fitted from TensorRT-LLM's measured GEMM
        // table), no longer the old fitted 0.9.
        near(claim(&c, "3"), 141.1e9 / (4.0 * 3.35e12 * 0.7942), 0.02);
        // 11: 8x the GPUs cut the step by about half at this batch.
        assert!(claim(&c, "11") > 1.5);
        // 13: output/input cost ratio in the 5-10x band of public price lists.
        assert!(
            (4.0..12.0).contains(&claim(&c, "13")),
            "{}",
            claim(&c, "13")
        );
        // 14: DeepSeek-V3 (MLA, 35,136 B/token in fp8) crosses near 200K: 261K tokens.
        near(claim(&c, "14"), 261_000.0, 0.03);
    }
}
