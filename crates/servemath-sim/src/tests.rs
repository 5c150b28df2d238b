//! Checks of the engine: conservation, agreement with the step-by-step reference, the
//! low-load limit, trains, overload.

use crate::workload::Request;
use crate::*;
use proptest::prelude::*;
use servemath_cost::{Calibration, Deployment, Parallelism, Precisions, StepLoad};
use servemath_hardware::Catalog;
use std::sync::Arc;

fn deployment(model: &str, tp: u32) -> Arc<Deployment> {
    let model = servemath_model::builtin(model).unwrap_or_else(|e| panic!("{e}"));
    let catalog = Catalog::builtin();
    let hw = catalog.get("h100-sxm").unwrap_or_else(|e| panic!("{e}"));
    let prec = Precisions::defaults_for(&model, |p| hw.peak_flop_per_s(p).is_ok());
    let params = Calibration::builtin().for_family(&hw.family);
    let par = Parallelism {
        tp,
        ..Parallelism::default()
    };
    Arc::new(Deployment::new(&model, hw, par, prec, params).unwrap_or_else(|e| panic!("{e}")))
}

fn config(dep: &Arc<Deployment>, policy: Policy, replicas: usize, leap: bool) -> SimConfig {
    let spec = ReplicaSpec {
        deployment: dep.clone(),
        scheduler: SchedulerConfig::vllm(policy),
        pool: Pool::Unified,
    };
    SimConfig::new(vec![spec; replicas], Router::LeastOutstanding)
        .leap(leap)
        .keep_records(true)
}

/// The engine on a configuration every test here means to be valid.
fn simulate(cfg: SimConfig, workload: Workload) -> SimReport {
    crate::simulate(cfg, workload).unwrap_or_else(|e| panic!("{e}"))
}

fn open(reqs: Vec<Request>) -> Workload {
    Workload::Open(Box::new(reqs.into_iter()))
}

fn poisson(n: usize, rate: f64, input: u32, output: u32, seed: u64) -> Vec<Request> {
    // A tiny LCG keeps the test independent of the workload module.
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut t = 0.0;
    (0..n)
        .map(|i| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let u = ((x >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
            t += -u.ln() / rate;
            Request {
                arrival_s: t,
                input_tokens: input + (i as u32 * 37) % 200,
                output_tokens: output + (i as u32 * 13) % 50,
                prefix: None,
            }
        })
        .collect()
}

#[test]
fn every_request_is_accounted_for() {
    let dep = deployment("llama-3.1-8b", 1);
    for policy in [
        Policy::Continuous,
        Policy::Chunked,
        Policy::Static {
            batch: 8,
            timeout_s: 0.5,
        },
        Policy::Train { period_s: 0.02 },
    ] {
        let reqs = poisson(300, 20.0, 500, 100, 1);
        let r = simulate(config(&dep, policy, 2, true), open(reqs));
        assert_eq!(r.arrived, 300, "{policy:?}");
        assert_eq!(
            r.completed + r.running + r.queued + r.rejected + r.dropped,
            r.arrived,
            "{policy:?}"
        );
        assert_eq!(r.completed, 300, "{policy:?}");
        let mut ids: Vec<u64> = r.records.iter().map(|x| x.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 300, "no request counted twice");
    }
    // With a horizon, unfinished requests are running or queued.
    let mut cfg = config(&dep, Policy::Chunked, 1, true);
    cfg.horizon_s = Some(5.0);
    let r = simulate(cfg, open(poisson(2000, 200.0, 500, 300, 2)));
    assert_eq!(
        r.completed + r.running + r.queued + r.rejected + r.dropped,
        r.arrived
    );
    assert!(r.running + r.queued > 0);
}

#[test]
fn at_very_low_load_latency_is_the_cost_model_step() {
    // One request alone: TTFT = the prefill step; TPOT = the mean of its decode steps.
    let dep = deployment("llama-3.1-8b", 1);
    let req = Request {
        arrival_s: 1.0,
        input_tokens: 1000,
        output_tokens: 11,
        prefix: None,
    };
    let r = simulate(config(&dep, Policy::Continuous, 1, true), open(vec![req]));
    let rec = r.records[0];
    let prefill = dep.step(&StepLoad::prefill(1.0, 1000.0, 0.0)).time_s;
    assert!(
        (rec.ttft_s() - prefill).abs() < 1e-12 * prefill.max(1.0),
        "{} vs {prefill}",
        rec.ttft_s()
    );
    let decode: f64 = (0..10)
        .map(|k| dep.step(&StepLoad::decode(1.0, 1000.0 + k as f64)).time_s)
        .sum();
    assert!((rec.completion_s - rec.first_token_s - decode).abs() < 1e-9 * decode);
}

#[test]
fn trains_wait_at_most_a_period_and_finish_the_first_step_within_two() {
    // Seed claim 6: with period T, a request waits < T to board and its first step ends < 2T
    // after arrival (when a step fits in the period).
    let dep = deployment("llama-3.1-8b", 1);
    let period = 0.05;
    let reqs = poisson(200, 5.0, 200, 5, 3);
    let r = simulate(
        config(&dep, Policy::Train { period_s: period }, 1, true),
        open(reqs),
    );
    assert_eq!(r.train_overruns, 0);
    let worst_wait = r.records.iter().map(|x| x.queue_s()).fold(0.0, f64::max);
    let worst_first = r.records.iter().map(|x| x.ttft_s()).fold(0.0, f64::max);
    assert!(worst_wait < period + 1e-12, "{worst_wait}");
    assert!(
        worst_wait > 0.8 * period,
        "approaches one period: {worst_wait}"
    );
    assert!(
        worst_first < 2.0 * period + 1e-12 && worst_first > period,
        "{worst_first}"
    );
}

#[test]
fn past_capacity_throughput_saturates_and_the_report_says_overloaded() {
    let dep = deployment("llama-3.1-8b", 1);
    let light = simulate(
        config(&dep, Policy::Chunked, 1, true),
        open(poisson(400, 2.0, 1000, 200, 4)),
    );
    let heavy = simulate(
        config(&dep, Policy::Chunked, 1, true),
        open(poisson(4000, 400.0, 1000, 200, 4)),
    );
    let heavier = simulate(
        config(&dep, Policy::Chunked, 1, true),
        open(poisson(4000, 800.0, 1000, 200, 4)),
    );
    assert!(!light.overloaded);
    assert!(heavy.overloaded && heavier.overloaded);
    // Throughput saturates: doubling the offered rate changes it by < 10 %.
    let ratio = heavier.output_tokens_per_s / heavy.output_tokens_per_s;
    assert!((0.9..1.1).contains(&ratio), "{ratio}");
    assert!(heavy.queue.p99 > 10.0 * light.queue.p99.max(1e-3));
}

fn policy() -> impl Strategy<Value = Policy> {
    prop_oneof![
        Just(Policy::Continuous),
        Just(Policy::Chunked),
        (1u32..16, 0.01f64..1.0).prop_map(|(batch, timeout_s)| Policy::Static { batch, timeout_s }),
        (0.005f64..0.1).prop_map(|period_s| Policy::Train { period_s }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]
    #[test]
    fn event_leaping_matches_the_step_by_step_reference(
        policy in policy(),
        n in 1usize..120,
        rate in 1.0f64..200.0,
        input in 1u32..3000,
        output in 1u32..400,
        seed in 0u64..1000,
        replicas in 1usize..3,
        small_kv in any::<bool>(),
        shared_prefixes in any::<bool>(),
    ) {
        let dep = deployment(if small_kv { "qwen3-32b" } else { "llama-3.1-8b" }, 1);
        let mut reqs = poisson(n, rate, input, output, seed);
        if shared_prefixes {
            // Prompts built from a few shared 512-token blocks, so the prefix cache is exercised.
            for (i, r) in reqs.iter_mut().enumerate() {
                let blocks = r.input_tokens.div_ceil(512) as u64;
                r.prefix = Some(crate::workload::Prefix {
                    block_tokens: 512,
                    hashes: (0..blocks).map(|b| if b < 2 { (i as u64 % 3) * 100 + b } else { 10_000 + i as u64 * 100 + b }).collect(),
                });
            }
        }
        let fast = simulate(config(&dep, policy, replicas, true), open(reqs.clone()));
        let slow = simulate(config(&dep, policy, replicas, false), open(reqs));
        // Nothing lost, nothing counted twice.
        prop_assert_eq!(fast.completed, n as u64);
        prop_assert_eq!(fast.completed, slow.completed);
        prop_assert_eq!(fast.prefix_hit_rate, slow.prefix_hit_rate);
        prop_assert_eq!(fast.preemptions, slow.preemptions);
        let mut a = fast.records.clone();
        let mut b = slow.records.clone();
        a.sort_by_key(|r| r.id);
        b.sort_by_key(|r| r.id);
        for (x, y) in a.iter().zip(&b) {
            for (p, q) in [(x.first_token_s, y.first_token_s), (x.completion_s, y.completion_s), (x.admitted_s, y.admitted_s)] {
                prop_assert!((p - q).abs() <= 1e-9 * q.abs().max(1e-9), "request {}: {} vs {}", x.id, p, q);
            }
            prop_assert_eq!(x.replica, y.replica);
        }
        prop_assert_eq!(fast.steps, slow.steps);
    }
}

#[test]
fn disaggregated_pools_hand_prefilled_sequences_to_decode() {
    // 1 prefill + 2 decode replicas: every request completes; its first token comes from the
    // prefill replica and the rest from a decode replica after the KV transfer.
    let dep = deployment("llama-3.1-8b", 1);
    let spec = |pool| ReplicaSpec {
        deployment: dep.clone(),
        scheduler: SchedulerConfig::vllm(Policy::Chunked),
        pool,
    };
    let link = KvTransfer {
        bytes_per_s: 50e9,
        latency_s: 1e-3,
    };
    let mk = |leap| {
        let replicas = vec![spec(Pool::Prefill), spec(Pool::Decode), spec(Pool::Decode)];
        SimConfig::new(replicas, Router::LeastOutstanding)
            .leap(leap)
            .keep_records(true)
            .kv_transfer(link)
    };
    let reqs = poisson(200, 20.0, 1000, 100, 5);
    let r = simulate(mk(true), open(reqs.clone()));
    assert_eq!(r.completed, 200);
    assert!(
        r.records.iter().all(|x| x.replica != 0),
        "completions happen in the decode pool"
    );
    // Alone, a request's second token waits for the transfer: 1000 tokens x 131,072 B / 50 GB/s + 1 ms.
    let one = simulate(
        mk(true),
        open(vec![Request {
            arrival_s: 0.0,
            input_tokens: 1000,
            output_tokens: 2,
            prefix: None,
        }]),
    );
    let rec = one.records[0];
    let transfer = 1000.0 * 131_072.0 / 50e9 + 1e-3;
    let decode = dep.step(&StepLoad::decode(1.0, 1000.0)).time_s;
    assert!(((rec.completion_s - rec.first_token_s) - (transfer + decode)).abs() < 1e-9);
    let slow = simulate(mk(false), open(reqs));
    let (mut a, mut b) = (r.records.clone(), slow.records.clone());
    a.sort_by_key(|x| x.id);
    b.sort_by_key(|x| x.id);
    for (x, y) in a.iter().zip(&b) {
        assert!((x.completion_s - y.completion_s).abs() <= 1e-9 * y.completion_s);
    }
}

#[test]
fn same_seed_same_output() {
    let dep = deployment("llama-3.1-8b", 1);
    let a = simulate(
        config(&dep, Policy::Chunked, 3, true),
        open(poisson(500, 50.0, 800, 150, 9)),
    );
    let b = simulate(
        config(&dep, Policy::Chunked, 3, true),
        open(poisson(500, 50.0, 800, 150, 9)),
    );
    assert_eq!(format!("{:?}", a), format!("{:?}", b));
}

#[test]
fn prefix_caching_reuses_shared_prompt_blocks() {
    // 100 requests one second apart, each 8 shared 512-token blocks plus one of its own:
    // every request after the first finds 4,096 of its 4,608 tokens cached:
    // hit rate = 99 * 4096 / (100 * 4608) = 0.88.
    let reqs: Vec<Request> = (0..100u64)
        .map(|i| Request {
            arrival_s: i as f64,
            input_tokens: 4608,
            output_tokens: 20,
            prefix: Some(crate::workload::Prefix {
                block_tokens: 512,
                hashes: (0..8).chain(std::iter::once(1000 + i)).collect(),
            }),
        })
        .collect();
    let dep = deployment("llama-3.1-8b", 1);
    let run = |reqs: Vec<Request>, caching: bool| {
        let mut cfg = config(&dep, Policy::Chunked, 1, true);
        cfg.replicas[0].scheduler.prefix_caching = caching;
        simulate(cfg, open(reqs))
    };
    let (on, off) = (run(reqs.clone(), true), run(reqs, false));
    assert_eq!(on.completed, 100);
    assert_eq!(off.prefix_hit_rate, None);
    let hit = on.prefix_hit_rate.unwrap_or(0.0);
    assert!(
        (hit - 99.0 * 4096.0 / (100.0 * 4608.0)).abs() < 1e-12,
        "hit rate {hit}"
    );
    assert!(
        on.ttft.mean < 0.3 * off.ttft.mean,
        "{} vs {}",
        on.ttft.mean,
        off.ttft.mean
    );

    // Mooncake's conversation trace, first 400 requests: the infinite-cache bound is 13.7 %
    // of input tokens (computed from the hashes); a finite, timed cache gets some of it.
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/traces/mooncake_conversation_trace.jsonl"
    );
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let trace =
        crate::workload::trace::read_mooncake(&text, path).unwrap_or_else(|e| panic!("{e}"));
    let reqs: Vec<Request> = trace.requests.into_iter().take(400).collect();
    let r = run(reqs, true);
    let hit = r.prefix_hit_rate.unwrap_or(0.0);
    assert!(hit > 0.02 && hit <= 0.137, "hit rate {hit}");
}

#[test]
fn littles_law_holds_on_the_queue() {
    // L = lambda * W: the time-averaged number waiting equals the arrival rate times the mean
    // wait, within sampling error, on a loaded but stable replica.
    let dep = deployment("llama-3.1-8b", 1);
    let mut cfg = config(&dep, Policy::Continuous, 1, true);
    cfg.timeseries_interval_s = Some(0.05);
    cfg.replicas[0].scheduler.max_seqs = 32;
    // 75 % of the replica's capacity at 32 sequences (prefill of 500 tokens plus 100 decode
    // steps at the mean context, 32 at a time), whatever the calibration makes a step cost.
    let decode = dep
        .step(&servemath_cost::StepLoad::decode(32.0, 550.0))
        .time_s;
    let prefill = dep
        .step(&servemath_cost::StepLoad::prefill(1.0, 500.0, 0.0))
        .time_s;
    let rate = 0.75 / (prefill + 100.0 * decode / 32.0);
    let reqs = poisson(6000, rate, 500, 100, 11);
    let span = reqs.last().map_or(1.0, |r| r.arrival_s);
    let r = simulate(cfg, open(reqs));
    assert!(!r.overloaded, "queue p99 {}", r.queue.p99);
    let samples: Vec<_> = r.timeseries.iter().filter(|s| s.time_s <= span).collect();
    let l = samples.iter().map(|s| s.queued as f64).sum::<f64>() / samples.len() as f64;
    let w = r.queue.mean;
    assert!(l > 0.5, "the queue must be exercised: L = {l}");
    let lw = 6000.0 / span * w;
    assert!((l / lw - 1.0).abs() < 0.1, "L = {l}, lambda W = {lw}");
}

#[test]
fn inter_token_latency_is_the_decode_step_alone_and_includes_stalls_under_load() {
    // Alone: every gap is one decode step, so ITL mean equals TPOT.
    let dep = deployment("llama-3.1-8b", 1);
    let one = simulate(
        config(&dep, Policy::Continuous, 1, true),
        open(vec![Request {
            arrival_s: 0.0,
            input_tokens: 500,
            output_tokens: 50,
            prefix: None,
        }]),
    );
    assert!((one.itl.mean - one.tpot.mean).abs() < 1e-9 * one.tpot.mean);
    assert!(one.itl.max > 0.0);
    // Under continuous batching, a prefill-only step stalls every decoder: the worst gap
    // exceeds the worst decode step by at least a prefill.
    let busy = simulate(
        config(&dep, Policy::Continuous, 1, true),
        open(poisson(300, 20.0, 2000, 100, 3)),
    );
    assert!(busy.itl.max > 1.5 * busy.itl.p50, "{:?}", busy.itl);
    // Leaping and stepping agree on ITL.
    let slow = simulate(
        config(&dep, Policy::Continuous, 1, false),
        open(poisson(300, 20.0, 2000, 100, 3)),
    );
    assert!((busy.itl.mean - slow.itl.mean).abs() < 1e-9 * slow.itl.mean);
    assert_eq!(busy.itl.p99.to_bits(), slow.itl.p99.to_bits());
}

#[test]
fn prefix_affinity_routing_keeps_shared_prefixes_together() {
    // 120 requests in 3 groups sharing an 8-block prefix, over 4 replicas: round-robin warms
    // every group on every replica (12 cold starts), affinity on one replica each (3).
    let reqs: Vec<Request> = (0..120u64)
        .map(|i| Request {
            arrival_s: i as f64 * 0.5,
            input_tokens: 4608,
            output_tokens: 10,
            prefix: Some(crate::workload::Prefix {
                block_tokens: 512,
                hashes: (0..8)
                    .map(|b| (i % 3) * 100 + b)
                    .chain(std::iter::once(1000 + i))
                    .collect(),
            }),
        })
        .collect();
    let dep = deployment("llama-3.1-8b", 1);
    let run = |router| {
        let mut cfg = config(&dep, Policy::Chunked, 4, true);
        cfg.router = router;
        simulate(cfg, open(reqs.clone()))
    };
    let rr = run(Router::RoundRobin).prefix_hit_rate.unwrap_or(0.0);
    let affinity = run(Router::PrefixAffinity).prefix_hit_rate.unwrap_or(0.0);
    // Hit tokens: 4,096 per warm request of 4,608: RR (120-12)/120, affinity (120-3)/120.
    let per = 4096.0 / 4608.0;
    assert!((rr - per * 108.0 / 120.0).abs() < 1e-9, "{rr}");
    assert!((affinity - per * 117.0 / 120.0).abs() < 1e-9, "{affinity}");
}

/// `cfg` is refused with `expect`, by `validate` and by `simulate` (an error, not a panic).
fn check_refused(cfg: SimConfig, expect: &SimError) {
    assert_eq!(cfg.validate().as_ref(), Err(expect));
    match crate::simulate(cfg, open(Vec::new())) {
        Err(e) => assert_eq!(&e, expect),
        Ok(_) => panic!("simulated a configuration that should be refused: {expect}"),
    }
}

fn invalid(quantity: &str, value: f64, expected: &'static str) -> SimError {
    SimError::Invalid {
        quantity: quantity.into(),
        value,
        expected,
    }
}

#[test]
fn configurations_the_engine_cannot_run_are_refused_by_name() {
    let dep = deployment("llama-3.1-8b", 1);
    let spec = |pool, scheduler| ReplicaSpec {
        deployment: dep.clone(),
        scheduler,
        pool,
    };
    let unified = |scheduler| spec(Pool::Unified, scheduler);
    let chunked = SchedulerConfig::vllm(Policy::Chunked);
    let one = |scheduler| SimConfig::new(vec![unified(scheduler)], Router::RoundRobin);
    let link = KvTransfer {
        bytes_per_s: 50e9,
        latency_s: 1e-3,
    };
    let pools = || {
        let replicas = vec![spec(Pool::Prefill, chunked), spec(Pool::Decode, chunked)];
        SimConfig::new(replicas, Router::RoundRobin)
    };

    check_refused(
        SimConfig::new(Vec::new(), Router::RoundRobin),
        &SimError::NoReplicas,
    );
    let prefill_only = vec![unified(chunked), spec(Pool::Prefill, chunked)];
    check_refused(
        SimConfig::new(prefill_only, Router::RoundRobin).kv_transfer(link),
        &SimError::NoDecodePool { replica: 1 },
    );
    let decode_only = vec![unified(chunked), spec(Pool::Decode, chunked)];
    check_refused(
        SimConfig::new(decode_only, Router::RoundRobin),
        &SimError::NoPrefillPool { replica: 1 },
    );
    check_refused(pools(), &SimError::NoKvTransfer);

    let limits = [
        (
            "max_seqs",
            SchedulerConfig {
                max_seqs: 0,
                ..chunked
            },
        ),
        (
            "max_batched_tokens",
            SchedulerConfig {
                max_batched_tokens: 0,
                ..chunked
            },
        ),
        (
            "block_tokens",
            SchedulerConfig {
                block_tokens: 0,
                ..chunked
            },
        ),
        (
            "max_waiting",
            SchedulerConfig {
                max_waiting: 0,
                ..chunked
            },
        ),
    ];
    for (name, scheduler) in limits {
        let quantity = format!("replicas[0].scheduler.{name}");
        check_refused(one(scheduler), &invalid(&quantity, 0.0, "at least 1"));
    }
    let policy = |policy| SchedulerConfig::vllm(policy);
    let finite_above = "a finite number above zero";
    let finite_at_least = "a finite number, zero or more";
    for period_s in [0.0, -1.0, f64::INFINITY] {
        check_refused(
            one(policy(Policy::Train { period_s })),
            &invalid(
                "replicas[0].scheduler.policy.period_s",
                period_s,
                finite_above,
            ),
        );
    }
    check_refused(
        one(policy(Policy::Static {
            batch: 0,
            timeout_s: 1.0,
        })),
        &invalid("replicas[0].scheduler.policy.batch", 0.0, "at least 1"),
    );
    check_refused(
        one(policy(Policy::Static {
            batch: 8,
            timeout_s: -1.0,
        })),
        &invalid(
            "replicas[0].scheduler.policy.timeout_s",
            -1.0,
            finite_at_least,
        ),
    );

    let no_target = "zero or more (infinity for no target)";
    let slo = |ttft_s, tpot_s| Slo { ttft_s, tpot_s };
    check_refused(
        one(chunked).slo(slo(-1.0, 0.1)),
        &invalid("slo.ttft_s", -1.0, no_target),
    );
    check_refused(
        one(chunked).horizon_s(-5.0),
        &invalid("horizon_s", -5.0, finite_at_least),
    );
    check_refused(
        one(chunked).timeseries_interval_s(0.0),
        &invalid("timeseries_interval_s", 0.0, finite_above),
    );
    check_refused(
        pools().kv_transfer(KvTransfer {
            bytes_per_s: 0.0,
            ..link
        }),
        &invalid(
            "kv_transfer.bytes_per_s",
            0.0,
            "above zero (infinity for an instant link)",
        ),
    );
    check_refused(
        pools().kv_transfer(KvTransfer {
            latency_s: f64::INFINITY,
            ..link
        }),
        &invalid("kv_transfer.latency_s", f64::INFINITY, finite_at_least),
    );

    // NaN fails every rule; it cannot be compared with assert_eq, so match on the name.
    let cfg = one(chunked).slo(slo(1.0, f64::NAN));
    assert!(
        matches!(cfg.validate(), Err(SimError::Invalid { ref quantity, value, .. })
            if quantity == "slo.tpot_s" && value.is_nan()),
        "{:?}",
        cfg.validate()
    );
    // The message names the quantity, its value and the rule.
    let e = invalid("replicas[0].scheduler.block_tokens", 0.0, "at least 1");
    assert_eq!(
        e.to_string(),
        "`replicas[0].scheduler.block_tokens` = 0: must be at least 1"
    );

    // The limits a search and an open SLO use are accepted: infinite link, no targets.
    let open_ended = pools()
        .kv_transfer(KvTransfer {
            bytes_per_s: f64::INFINITY,
            latency_s: 0.0,
        })
        .slo(slo(f64::INFINITY, f64::INFINITY));
    assert_eq!(open_ended.validate(), Ok(()));
}

#[test]
fn a_raised_cancel_flag_stops_the_run_early() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let dep = deployment("llama-3.1-8b", 1);
    let reqs = poisson(20_000, 30.0, 200, 50, 11);

    // Raised before the start: nothing runs.
    let flag = Arc::new(AtomicBool::new(true));
    let cfg = config(&dep, Policy::Chunked, 1, true).cancel(flag);
    assert_eq!(
        crate::simulate(cfg, open(reqs.clone())).err(),
        Some(SimError::Cancelled {
            completed: 0,
            simulated_s: 0.0
        })
    );

    // Raised by the first progress report (as a server's cancel button would be, from any
    // thread): the run stops at that poll, long before the workload ends.
    let flag = Arc::new(AtomicBool::new(false));
    let raise = flag.clone();
    let cfg = config(&dep, Policy::Chunked, 1, true)
        .cancel(flag)
        .progress(move |_, _| raise.store(true, Ordering::Relaxed));
    match crate::simulate(cfg, open(reqs.clone())) {
        Err(SimError::Cancelled {
            completed,
            simulated_s,
        }) => {
            assert!(completed < 20_000, "{completed}");
            assert!(simulated_s > 0.0 && simulated_s < reqs[19_999].arrival_s);
        }
        other => panic!("expected a cancelled run, got {other:?}"),
    }

    // Never raised: the whole workload runs.
    let flag = Arc::new(AtomicBool::new(false));
    let cfg = config(&dep, Policy::Chunked, 1, true).cancel(flag);
    assert_eq!(simulate(cfg, open(reqs)).completed, 20_000);
}

#[test]
fn simulator_inputs_move_to_worker_threads() {
    // Compile-time: a server can hand configurations and workloads to worker threads and
    // share deployments between them.
    fn assert_send<T: Send>() {}
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send::<SimConfig>();
    assert_send::<Workload>();
    assert_send::<SimError>();
    assert_send_sync::<ReplicaSpec>();
    assert_send_sync::<Deployment>();

    // And at run time: two threads simulate with one shared deployment.
    let dep = deployment("llama-3.1-8b", 1);
    let handles: Vec<_> = [Policy::Continuous, Policy::Chunked]
        .into_iter()
        .map(|policy| {
            let cfg = config(&dep, policy, 1, true);
            let work = open(poisson(200, 5.0, 300, 40, 3));
            std::thread::spawn(move || crate::simulate(cfg, work).map(|r| r.completed))
        })
        .collect();
    for h in handles {
        let done = h.join().unwrap_or_else(|_| panic!("worker panicked"));
        assert_eq!(done, Ok(200));
    }
}

/// A replica holds at most `max_waiting` requests waiting: an arrival beyond that is dropped
/// and counted, the run is overloaded, and every other request still completes. 50 requests
/// arrive together on one replica that runs one at a time and queues 5: the first is admitted,
/// 5 wait, and each later arrival finds the queue full (the step admitting the first ends
/// long after the burst), so at least 40 are dropped.
#[test]
fn arrivals_beyond_the_queue_limit_are_dropped_and_counted() {
    let dep = deployment("llama-3.1-8b", 1);
    let mut cfg = config(&dep, Policy::Chunked, 1, true);
    cfg.replicas[0].scheduler.max_seqs = 1;
    cfg.replicas[0].scheduler.max_waiting = 5;
    let burst: Vec<Request> = (0..50).map(|_| Request::new(0.0, 500, 100)).collect();
    let r = simulate(cfg, open(burst));
    assert_eq!(r.arrived, 50);
    assert!(r.dropped >= 40, "{}", r.dropped);
    assert_eq!(r.completed + r.dropped, 50);
    assert_eq!(
        r.completed + r.running + r.queued + r.rejected + r.dropped,
        r.arrived
    );
    assert!(r.overloaded);
    // Without the limit nothing is dropped.
    let cfg = config(&dep, Policy::Chunked, 1, true);
    let burst: Vec<Request> = (0..50).map(|_| Request::new(0.0, 500, 100)).collect();
    let r = simulate(cfg, open(burst));
    assert_eq!((r.dropped, r.completed), (0, 50));
}
