//! The replicas of a request: the scheduler and router by name, unified or prefill/decode pools,
//! each pool's deployment (the smallest tensor-parallel degree that fits when none is given)
//! and the one rule for the KV link between pools.

use super::{count, duration, SchedulerRequest, SimulateRequest};
use crate::units::{parse_duration_s, parse_positive_duration_s};
use crate::{DeploymentRequest, Diagnostic, Invalid, Spelling};
use anyhow::{anyhow, Context};
use servemath_cost::Deployment;
use servemath_report::{human, LayoutReport, PoolReport};
use servemath_sim::{KvTransfer, Policy, Pool, ReplicaSpec, Router, SchedulerConfig};
use std::sync::Arc;

/// Static batching's defaults: a batch of 32, or whatever arrived 500 ms after the first.
const DEFAULT_STATIC_BATCH: u32 = 32;
const DEFAULT_STATIC_TIMEOUT_S: f64 = 0.5;

/// Most replicas one simulation holds: 65,536 (half a million GPUs at TP8), beyond which the
/// replica table alone would take gigabytes. Size larger fleets analytically (`fleet`).
pub const MAX_REPLICAS: u32 = 1 << 16;

/// Largest KV block accepted: 2^16 tokens, far above any engine's (16 to 256).
pub const MAX_BLOCK_TOKENS: u32 = 1 << 16;

/// The KV link between pools, with which network it is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Link {
    /// Bandwidth (bytes/s) and latency (s) of a KV transfer between the pools.
    pub link: KvTransfer,
    /// `scale_up` or `scale_out`.
    pub name: &'static str,
}

pub(super) struct Fleet {
    pub replicas: Vec<ReplicaSpec>,
    pub pools: Vec<PoolReport>,
    pub router: Router,
    pub link: Option<Link>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SchedulerKind {
    Static,
    Continuous,
    Chunked,
    Train,
    Disagg,
}

const SCHEDULERS: [(&str, SchedulerKind); 5] = [
    ("static", SchedulerKind::Static),
    ("continuous", SchedulerKind::Continuous),
    ("chunked", SchedulerKind::Chunked),
    ("train", SchedulerKind::Train),
    ("disagg", SchedulerKind::Disagg),
];

const ROUTERS: [(&str, Router); 4] = [
    ("round-robin", Router::RoundRobin),
    ("least-outstanding", Router::LeastOutstanding),
    ("least-kv", Router::LeastKv),
    ("prefix-affinity", Router::PrefixAffinity),
];

fn invalid(message: String) -> anyhow::Error {
    Invalid(message).into()
}

/// `value` among `names`, case-insensitively with `_` for `-`; else an error with the nearest.
fn pick<T: Copy>(
    value: &str,
    names: &[(&str, T)],
    key: &'static str,
    spelling: &dyn Spelling,
) -> anyhow::Result<T> {
    let v = value.trim().to_ascii_lowercase().replace('_', "-");
    if let Some((_, t)) = names.iter().find(|(n, _)| *n == v) {
        return Ok(*t);
    }
    let all: Vec<&str> = names.iter().map(|(n, _)| *n).collect();
    let hint = servemath_model::nearest(&v, &all)
        .map(|n| format!(" (did you mean `{n}`?)"))
        .unwrap_or_default();
    Err(invalid(format!(
        "{}: unknown value `{value}`{hint}; known: {}",
        spelling.name(key),
        all.join(", ")
    )))
}

/// A replica count (1 by default), at most [`MAX_REPLICAS`].
fn replica_count(
    v: Option<i64>,
    key: &'static str,
    spelling: &dyn Spelling,
) -> anyhow::Result<u32> {
    let n = count(v, key, spelling)?.unwrap_or(1);
    if n > MAX_REPLICAS {
        return Err(invalid(format!(
            "{} = {n}: at most {} replicas in one simulation",
            spelling.name(key),
            human::int(f64::from(MAX_REPLICAS))
        )));
    }
    Ok(n)
}

pub(super) fn resolve(
    request: &SimulateRequest,
    spelling: &dyn Spelling,
    context: f64,
    diagnostics: &mut Vec<Diagnostic>,
) -> anyhow::Result<Fleet> {
    let name = |key: &'static str| spelling.name(key);
    let s = &request.scheduler;
    let f = &request.fleet;
    let kind = match &s.kind {
        Some(t) => pick(t, &SCHEDULERS, "scheduler.kind", spelling)?,
        None => SchedulerKind::Chunked,
    };
    let router = match &f.router {
        Some(t) => pick(t, &ROUTERS, "fleet.router", spelling)?,
        None => Router::LeastOutstanding,
    };
    // Settings that the chosen scheduler does not use are reported, not silently dropped.
    let mut unused = |set: bool, key: &'static str, applies: String| {
        if set {
            diagnostics.push(Diagnostic::Warning(format!(
                "{} is ignored: it applies to {applies}",
                name(key)
            )));
        }
    };
    let scheduler_named = |kind: &str| format!("{} {kind}", name("scheduler.kind"));
    let static_only = kind != SchedulerKind::Static;
    unused(
        static_only && s.static_batch.is_some(),
        "scheduler.static_batch",
        scheduler_named("static"),
    );
    unused(
        static_only && s.static_timeout.is_some(),
        "scheduler.static_timeout",
        scheduler_named("static"),
    );
    unused(
        kind != SchedulerKind::Train && s.period.is_some(),
        "scheduler.period",
        scheduler_named("train"),
    );
    let unified = kind != SchedulerKind::Disagg;
    for (set, key) in [
        (f.prefill_replicas.is_some(), "fleet.prefill_replicas"),
        (f.decode_replicas.is_some(), "fleet.decode_replicas"),
        (f.prefill_tp.is_some(), "fleet.prefill_tp"),
        (f.decode_tp.is_some(), "fleet.decode_tp"),
        (f.prefill_hardware.is_some(), "fleet.prefill_hardware"),
        (f.decode_hardware.is_some(), "fleet.decode_hardware"),
    ] {
        unused(unified && set, key, scheduler_named("disagg"));
    }
    unused(
        !unified && f.replicas.is_some(),
        "fleet.replicas",
        format!(
            "unified pools; with {} give {} and {}",
            scheduler_named("disagg"),
            name("fleet.prefill_replicas"),
            name("fleet.decode_replicas")
        ),
    );

    // The scheduler's limits are the cost model's too: the token budget sizes the activation
    // workspace the memory fit reserves (vLLM profiles activations at max_num_batched_tokens)
    // and the block size rounds each sequence's KV cache. One value each, set on both.
    let max_batched_tokens = count(
        s.max_batched_tokens,
        "scheduler.max_batched_tokens",
        spelling,
    )?;
    let block_size = count(s.block_size, "scheduler.block_size", spelling)?;
    let with_budget = |d: &DeploymentRequest| -> anyhow::Result<DeploymentRequest> {
        let mut d = d.clone();
        if let Some(n) = max_batched_tokens {
            d.params.set(
                "max_batched_tokens",
                f64::from(n),
                &name("scheduler.max_batched_tokens"),
            )?;
        }
        // Larger blocks are refused with the scheduler's own limit (below).
        if let Some(n) = block_size.filter(|&n| n <= MAX_BLOCK_TOKENS) {
            d.params.set(
                "kv_block_tokens",
                f64::from(n),
                &name("scheduler.block_size"),
            )?;
        }
        Ok(d)
    };
    let base = with_budget(&request.deployment)?;
    if unified {
        let replicas = replica_count(f.replicas, "fleet.replicas", spelling)?;
        let dep = deploy(&base, "deployment.tp", context, "", spelling, diagnostics)?;
        let policy = policy(kind, s, spelling, &dep)?;
        let scheduler = scheduler(policy, s, spelling)?;
        let dep = Arc::new(dep);
        let spec = ReplicaSpec {
            deployment: dep.clone(),
            scheduler,
            pool: Pool::Unified,
        };
        return Ok(Fleet {
            replicas: vec![spec; replicas as usize],
            pools: vec![PoolReport::new(Pool::Unified, replicas, &dep, scheduler)],
            router,
            link: None,
        });
    }

    let prefill_n = replica_count(f.prefill_replicas, "fleet.prefill_replicas", spelling)?;
    let decode_n = replica_count(f.decode_replicas, "fleet.decode_replicas", spelling)?;
    let pool = |tp: Option<i64>,
                tp_key: &'static str,
                own: &Option<DeploymentRequest>|
     -> anyhow::Result<DeploymentRequest> {
        let mut d = match own {
            Some(d) => with_budget(d)?,
            None => base.clone(),
        };
        if let Some(tp) = count(tp, tp_key, spelling)? {
            d.tp = Some(tp);
        }
        Ok(d)
    };
    let pa = pool(f.prefill_tp, "fleet.prefill_tp", &f.prefill_hardware)?;
    let da = pool(f.decode_tp, "fleet.decode_tp", &f.decode_hardware)?;
    let prefill = Arc::new(deploy(
        &pa,
        "fleet.prefill_tp",
        context,
        "prefill ",
        spelling,
        diagnostics,
    )?);
    let decode = Arc::new(deploy(
        &da,
        "fleet.decode_tp",
        context,
        "decode ",
        spelling,
        diagnostics,
    )?);
    let scheduler = scheduler(Policy::Chunked, s, spelling)?;
    let link = kv_link(&prefill, prefill_n, &decode, decode_n)?;
    let spec = |dep: &Arc<Deployment>, pool| ReplicaSpec {
        deployment: dep.clone(),
        scheduler,
        pool,
    };
    let mut replicas = vec![spec(&prefill, Pool::Prefill); prefill_n as usize];
    replicas.extend(vec![spec(&decode, Pool::Decode); decode_n as usize]);
    Ok(Fleet {
        replicas,
        pools: vec![
            PoolReport::new(Pool::Prefill, prefill_n, &prefill, scheduler),
            PoolReport::new(Pool::Decode, decode_n, &decode, scheduler),
        ],
        router,
        link: Some(link),
    })
}

fn policy(
    kind: SchedulerKind,
    s: &SchedulerRequest,
    spelling: &dyn Spelling,
    dep: &Deployment,
) -> anyhow::Result<Policy> {
    Ok(match kind {
        SchedulerKind::Static => Policy::Static {
            batch: count(s.static_batch, "scheduler.static_batch", spelling)?
                .unwrap_or(DEFAULT_STATIC_BATCH),
            timeout_s: duration(
                &s.static_timeout,
                "scheduler.static_timeout",
                spelling,
                parse_duration_s,
            )?
            .unwrap_or(DEFAULT_STATIC_TIMEOUT_S),
        },
        SchedulerKind::Continuous => Policy::Continuous,
        SchedulerKind::Chunked | SchedulerKind::Disagg => Policy::Chunked,
        SchedulerKind::Train => Policy::Train {
            period_s: match s.period.as_deref().map(str::trim) {
                None | Some("hbm") => dep.hardware().hbm_read_s(),
                Some(p) => parse_positive_duration_s(p).map_err(|e| {
                    invalid(format!(
                        "{}: {e}, or `hbm`",
                        spelling.name("scheduler.period")
                    ))
                })?,
            },
        },
    })
}

fn scheduler(
    policy: Policy,
    s: &SchedulerRequest,
    spelling: &dyn Spelling,
) -> anyhow::Result<SchedulerConfig> {
    let mut c = SchedulerConfig::vllm(policy);
    if let Some(n) = count(s.max_seqs, "scheduler.max_seqs", spelling)? {
        c.max_seqs = n;
    }
    if let Some(n) = count(
        s.max_batched_tokens,
        "scheduler.max_batched_tokens",
        spelling,
    )? {
        c.max_batched_tokens = n;
    }
    if let Some(n) = count(s.block_size, "scheduler.block_size", spelling)? {
        // Engines use 16 to 256 tokens; a block larger than any model's context is a typo.
        if n > MAX_BLOCK_TOKENS {
            return Err(invalid(format!(
                "{} = {n}: at most {MAX_BLOCK_TOKENS} tokens per KV block (engines use 16 to 256)",
                spelling.name("scheduler.block_size")
            )));
        }
        c.block_tokens = n;
    }
    c.prefix_caching = !s.no_prefix_caching;
    if let Some(n) = count(s.max_waiting, "scheduler.max_waiting", spelling)? {
        c.max_waiting = n;
    }
    Ok(c)
}

/// A pool's deployment; without a tensor-parallel degree, the smallest power of two (within
/// the scale-up domain) at which a request of the mean context fits. `tp_key` names the pool's
/// own degree (`deployment.tp`, `fleet.prefill_tp`, `fleet.decode_tp`).
fn deploy(
    request: &DeploymentRequest,
    tp_key: &'static str,
    context: f64,
    pool: &str,
    spelling: &dyn Spelling,
    diagnostics: &mut Vec<Diagnostic>,
) -> anyhow::Result<Deployment> {
    let name = |key: &'static str| spelling.name(key);
    let domain = request.hardware.scale_up_domain;
    if request.layout.dp_attn.max(1) > domain.max(1) {
        return Err(anyhow!(
            "{} on {}: {} {} exceeds the scale-up domain of {domain}",
            request.model.name,
            request.hardware.id,
            name("deployment.dp_attn"),
            request.layout.dp_attn
        ));
    }
    let fits = |d: &Deployment| d.max_batch(context) > 0;
    if let Some(tp) = request.tp {
        let dep = request.deploy_at(tp)?;
        if fits(&dep) {
            return Ok(dep);
        }
        let hint = request
            .smallest_fitting_tp(context, tp)
            .map(|(tp, _)| format!("; {} {tp} would fit", name(tp_key)))
            .unwrap_or_default();
        return Err(does_not_fit(&dep, context, pool, &hint));
    }
    if let Some((tp, dep)) = request.smallest_fitting_tp(context, 0) {
        diagnostics.push(Diagnostic::Note(format!(
            "{pool}{} {tp}: the smallest tensor-parallel degree at which {} fits on {} (give {} to choose)",
            name("deployment.tp"),
            request.model.name,
            dep.hardware().id,
            name(tp_key)
        )));
        return Ok(dep);
    }
    // Nothing fits: say why at TP1 (or why TP1 cannot be built).
    let dep = request.deploy_at(1)?;
    Err(does_not_fit(
        &dep,
        context,
        pool,
        &format!(
            "; no {} up to the scale-up domain of {domain} fits: add pipeline stages ({}) or choose larger {}",
            name(tp_key),
            name("deployment.pp"),
            name("deployment.hardware")
        ),
    ))
}

/// The deployment of a request for requests of `context` tokens: at its tensor-parallel degree
/// when one is given (refused, naming the smallest that would fit, when one request does not),
/// else at the smallest power of two that fits (with a note).
pub fn fitting_deployment(
    request: &DeploymentRequest,
    context: f64,
    spelling: &dyn Spelling,
    diagnostics: &mut Vec<Diagnostic>,
) -> anyhow::Result<Deployment> {
    deploy(request, "deployment.tp", context, "", spelling, diagnostics)
}

fn does_not_fit(dep: &Deployment, context: f64, pool: &str, hint: &str) -> anyhow::Error {
    let mem = dep.memory(1.0, context);
    let reason = mem
        .reason()
        .unwrap_or_else(|| "no memory left for the KV cache".to_string());
    anyhow!(
        "{} on {} ({}{}): one request of the mean context, {} tokens, does not fit: {reason}{hint}",
        dep.model().name,
        dep.hardware().id,
        pool,
        human::layout(&LayoutReport::of(dep)),
        human::int(context)
    )
}

/// The KV link between a simulation's pools, by the one rule ([`servemath_cost::kv_link`]):
/// scale-up inside one domain of the same hardware, else scale-out (refused when the hardware
/// publishes none).
pub fn kv_link(
    prefill: &Deployment,
    prefill_n: u32,
    decode: &Deployment,
    decode_n: u32,
) -> anyhow::Result<Link> {
    let total = u64::from(prefill_n) * u64::from(prefill.gpus())
        + u64::from(decode_n) * u64::from(decode.gpus());
    let link = servemath_cost::kv_link(
        prefill.hardware(),
        decode.hardware(),
        prefill.gpus(),
        total,
    )
    .with_context(|| {
        format!("the KV transfer from the prefill pool ({total} GPUs in all, more than one scale-up domain) needs it")
    })?;
    Ok(Link {
        link: KvTransfer {
            bytes_per_s: link.bytes_per_s,
            latency_s: link.latency_s,
        },
        name: link.kind.name(),
    })
}
