//! `servemath.estimate/2`: a deployment priced at a list of batch sizes.

use crate::model::WeightPrecisionsReport;
use crate::{finite, Schema};
use serde::Serialize;
use servemath_cost::{BatchEstimate, Deployment, MemoryFit, StepCost};
use std::collections::BTreeMap;

/// Requests of `input_tokens` prompt and `output_tokens` generated tokens, served in batches of
/// each listed size on one replica.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EstimateReport {
    /// The model as deployed.
    pub model: ModelSummary,
    /// The accelerator and where its kernel efficiencies come from.
    pub hardware: HardwareSummary,
    /// One replica's parallel layout.
    pub layout: LayoutReport,
    /// Weight, KV, compute and activation formats.
    pub precisions: PrecisionsReport,
    /// Every cost parameter as used (calibration, then file, then `--param`).
    pub params: BTreeMap<String, f64>,
    /// Prompt tokens of each request.
    pub input_tokens: u64,
    /// Generated tokens of each request.
    pub output_tokens: u64,
    /// `input_tokens + output_tokens`: the context a sequence reaches, used for memory fit.
    pub context_tokens: u64,
    /// Weight bytes held by the busiest GPU.
    pub weight_bytes_per_gpu: f64,
    /// Latency floor in seconds: the weights a one-token step touches, read at achievable
    /// bandwidth; no batch makes a step faster.
    pub floor_s: f64,
    /// Balance batch B*: decode batch where matmul compute time equals weight-read time;
    /// `null` when no batch reaches it (beyond 10⁹).
    pub balance_batch: Option<f64>,
    /// Largest batch whose KV cache fits at `context_tokens` (0: not even one sequence).
    pub max_batch: u64,
    /// KV-cache bytes one sequence of `context_tokens` holds on the busiest GPU.
    pub kv_bytes_per_seq_per_gpu: f64,
    /// What a GPU-hour costs for the $/Mtok columns; `null` when the hardware has no price.
    pub token_cost: Option<TokenCostBasis>,
    /// One entry per distinct requested batch size, ascending.
    pub batches: Vec<BatchReport>,
}

/// The price a batch's token costs are computed at.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TokenCostBasis {
    /// `rental` or `owned`.
    pub mode: &'static str,
    /// Dollars per held GPU-hour at `utilization`.
    pub usd_per_gpu_hour: f64,
    /// Fraction of held hours doing useful work.
    pub utilization: f64,
    /// Where the GPU-hour price came from.
    pub source: String,
}

/// A batch's dollars per million tokens: input from prefill time per input token
/// (`ttft / (batch · input)`), output from decode time per output token (`tpot / batch`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BatchTokenCost {
    /// Dollars per million prompt tokens.
    pub input_usd_per_mtok: f64,
    /// Dollars per million output tokens.
    pub output_usd_per_mtok: f64,
    /// `output_usd_per_mtok / input_usd_per_mtok`.
    pub output_over_input: f64,
}

impl Schema for EstimateReport {
    const SCHEMA_VERSION: &'static str = "servemath.estimate/2";
}

/// The model of a deployment, in brief.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelSummary {
    /// Built-in short name or config file stem.
    pub name: String,
    /// Hugging Face `model_type` (the text model's).
    pub model_type: String,
    /// Decoder layers of the main stack.
    pub layers: u64,
    /// Parameters of the main stack, embeddings included.
    pub total_params: u64,
    /// Parameters one token touches (routed experts it does not pick left out).
    pub active_params: u64,
    /// Weight bytes of the whole model at the deployed weight formats.
    pub weight_bytes: f64,
}

/// The accelerator of a deployment, in brief.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HardwareSummary {
    /// Catalog id (`h100-sxm`).
    pub id: String,
    /// Marketing name from the catalog.
    pub name: String,
    /// Calibration family (`hopper`, `blackwell`, `cdna3`, ...).
    pub family: String,
    /// Dense peak at the deployment's compute precision, per GPU.
    pub peak_flop_per_s: f64,
    /// HBM capacity per GPU.
    pub hbm_bytes: f64,
    /// HBM bandwidth per GPU (datasheet peak).
    pub hbm_bytes_per_s: f64,
    /// How the kernel efficiencies were obtained: `measured` (fitted kernel tables of this
    /// accelerator), `derived` (a sibling's tables) or `datasheet` (calibrated fallbacks).
    pub confidence: &'static str,
    /// Where each kernel class's efficiency came from.
    pub kernel_rates: Vec<KernelRateReport>,
}

/// One kernel class's rates: the fitted curve (or fallback), its efficiencies and source.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KernelRateReport {
    /// The kernel class (`gemm`, `experts`, `decode_attention`, ...).
    pub class: &'static str,
    /// Fitted curve key (`gemm.fp8`), or `fallback` for the calibrated constants.
    pub curve: String,
    /// Effective fraction of peak FLOP/s, in [0, 1].
    pub compute_efficiency: f64,
    /// Effective fraction of HBM bandwidth, in [0, 1].
    pub memory_efficiency: f64,
    /// Fixed time per kernel launch.
    pub launch_s: f64,
    /// File and engine of the fitted table, or the calibration parameter used.
    pub source: String,
}

/// One replica's parallel layout; every degree is at least 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LayoutReport {
    /// Tensor-parallel degree.
    pub tp: u32,
    /// Pipeline-parallel stages.
    pub pp: u32,
    /// Expert-parallel degree (1 for dense models).
    pub ep: u32,
    /// Attention data-parallel ranks (DP attention).
    pub dp_attn: u32,
    /// Extra expert slots for load balancing (EPLB); 0: none.
    pub redundant_experts: u32,
    /// Two micro-batches per step, communication hidden behind the other's GEMMs.
    pub two_batch_overlap: bool,
    /// GPUs in one replica: `tp · dp_attn · pp`.
    pub gpus: u32,
}

/// The number formats a deployment stores and computes in (precision names as in
/// `docs/json-schema.md`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PrecisionsReport {
    /// Storage format of each part of the weights.
    pub weights: WeightPrecisionsReport,
    /// KV-cache format.
    pub kv: &'static str,
    /// Matmul rate class (selects the peak FLOP/s figure).
    pub compute: &'static str,
    /// Attention kernels' math rate class.
    pub attention: &'static str,
    /// Format of activations on the network.
    pub activations: &'static str,
}

/// One batch size: request-level figures, then the two steps they come from and the memory fit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BatchReport {
    /// Concurrent requests on the replica.
    pub batch: u64,
    /// Time to first token: prefill of every prompt of the batch in one step.
    pub ttft_s: f64,
    /// Time per output token: a decode step at the mean context `input + output/2`.
    pub tpot_s: f64,
    /// End-to-end latency: `ttft + (output − 1) · tpot`.
    pub e2e_s: f64,
    /// Generation speed one user sees: `1 / tpot`.
    pub tokens_per_s_per_user: f64,
    /// `batch · output / (e2e · GPUs)`, prefill time included.
    pub output_tokens_per_s_per_gpu: f64,
    /// The decode step's bound: the kernel class with the largest share (`gemm`, `experts`,
    /// `attention`, `elementwise`, `communication` or `overhead`).
    pub bound: &'static str,
    /// The decode step's model FLOP/s utilization, in [0, 1].
    pub mfu: f64,
    /// The decode step's memory-bandwidth utilization, in [0, 1].
    pub mbu: f64,
    /// KV cache the busiest GPU holds for the batch at `context_tokens`.
    pub kv_bytes_per_gpu: f64,
    /// Whether the batch fits in the busiest GPU's memory.
    pub fits: bool,
    /// Why the batch does not fit; `null` when it fits.
    pub reason: Option<String>,
    /// Dollars per million input and output tokens; `null` when the report has no
    /// `token_cost` basis.
    pub usd_per_mtok: Option<BatchTokenCost>,
    /// The prefill step behind `ttft_s`.
    pub prefill: StepReport,
    /// The decode step behind `tpot_s`.
    pub decode: StepReport,
    /// The busiest GPU's memory budget for the batch.
    pub memory: MemoryReport,
}

/// One priced step of the replica: times for the whole step, work of the busiest GPU.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepReport {
    /// Wall time of the step, fixed step cost and exposed host time included.
    pub time_s: f64,
    /// Sum over kernel classes of their compute sides.
    pub compute_s: f64,
    /// Sum over kernel classes of their memory sides.
    pub memory_s: f64,
    /// Communication not hidden behind compute, pipeline hand-offs included.
    pub comm_s: f64,
    /// Fixed step cost, per-layer extras and exposed host time.
    pub overhead_s: f64,
    /// Floating-point operations of the busiest GPU over the step (a count).
    pub flops: f64,
    /// HBM bytes the busiest GPU moves over the step, by kind.
    pub hbm_bytes: TrafficReport,
    /// Bytes the GPU sends over the network.
    pub comm_bytes: f64,
    /// The kernel class with the largest share: `gemm`, `experts`, `attention`,
    /// `elementwise`, `communication` or `overhead`.
    pub bound: &'static str,
    /// FLOPs over (time × dense peak at the compute precision), in [0, 1].
    pub mfu: f64,
    /// HBM bytes over (time × HBM bandwidth), in [0, 1].
    pub mbu: f64,
    /// GPU busy time (every class but the fixed step cost and host time).
    pub gpu_s: f64,
    /// Host time for the step's sequences; exposed only beyond `gpu_s` where the engine
    /// overlaps them (`host_overlap`).
    pub host_s: f64,
    /// The step's time by kernel class, each class's kernels on their own roofline.
    pub kernels: Vec<KernelClassReport>,
}

/// One kernel class's share of a step.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct KernelClassReport {
    /// `gemm`, `experts`, `decode_attention`, `prefill_attention`, `elementwise`,
    /// `communication` or `overhead`.
    pub class: &'static str,
    /// The class's time: launches plus, per kernel, the larger of its compute and memory sides.
    pub time_s: f64,
    /// Sum of the class's kernels' compute sides.
    pub compute_s: f64,
    /// Sum of the class's kernels' memory sides.
    pub memory_s: f64,
    /// Sum of the class's fixed launch times.
    pub launch_s: f64,
    /// `compute`, `memory` or `latency`: the side that dominates the class.
    pub limit: &'static str,
}

/// HBM traffic of the busiest GPU over a step, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TrafficReport {
    /// Weight bytes read.
    pub weights: f64,
    /// KV-cache bytes read by attention.
    pub kv_read: f64,
    /// KV-cache bytes written for the step's new tokens.
    pub kv_write: f64,
    /// Activation bytes read and written.
    pub activations: f64,
    /// Sum of the four.
    pub total: f64,
}

/// The busiest GPU's memory budget for the batch.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MemoryReport {
    /// HBM × `hbm_usable_fraction`.
    pub usable_bytes: f64,
    /// Weights the GPU holds.
    pub weight_bytes: f64,
    /// KV cache of the batch at `context_tokens`.
    pub kv_bytes: f64,
    /// Activation workspace for the step's token budget.
    pub activation_bytes: f64,
    /// Runtime reserve (`runtime_reserve_bytes`).
    pub reserve_bytes: f64,
    /// Usable bytes left for the KV cache after weights, activations and reserve (may be negative).
    pub kv_budget_bytes: f64,
    /// KV cache of one sequence at `context_tokens`, whole pages.
    pub kv_bytes_per_seq: f64,
    /// Largest batch whose KV cache fits the budget (0: none).
    pub max_batch: u64,
    /// Whether the budget is positive and the batch's KV cache fits it.
    pub fits: bool,
}

impl EstimateReport {
    /// Prices `batches` on `dep` for requests of `input` prompt and `output` generated tokens.
    pub fn new(dep: &Deployment, input: u64, output: u64, batches: &[u64]) -> EstimateReport {
        let context = input.saturating_add(output);
        let ctx = context as f64;
        EstimateReport {
            model: ModelSummary::of(dep),
            hardware: HardwareSummary::of(dep),
            layout: LayoutReport::of(dep),
            precisions: PrecisionsReport::of(dep),
            params: params_of(dep),
            input_tokens: input,
            output_tokens: output,
            context_tokens: context,
            weight_bytes_per_gpu: dep.weight_bytes_per_device(),
            floor_s: dep.floor_s(),
            balance_batch: finite(dep.balance_batch()),
            max_batch: dep.max_batch(ctx),
            kv_bytes_per_seq_per_gpu: dep.kv_bytes_per_seq_per_device(ctx),
            token_cost: None,
            batches: batches
                .iter()
                .map(|&b| BatchReport::new(b, &dep.estimate(b as f64, input as f64, output as f64)))
                .collect(),
        }
    }
}

impl EstimateReport {
    /// Adds input and output $/Mtok to every batch at `basis`.
    pub fn with_token_costs(mut self, basis: TokenCostBasis) -> EstimateReport {
        let gpus = f64::from(self.layout.gpus);
        let input = self.input_tokens as f64;
        for b in &mut self.batches {
            let batch = b.batch as f64;
            let t = servemath_econ::token_cost(
                basis.usd_per_gpu_hour,
                gpus,
                b.ttft_s / (batch * input),
                b.tpot_s / batch,
                basis.utilization,
            );
            b.usd_per_mtok = Some(BatchTokenCost {
                input_usd_per_mtok: t.input_usd_per_mtok,
                output_usd_per_mtok: t.output_usd_per_mtok,
                output_over_input: t.output_over_input,
            });
        }
        self.token_cost = Some(basis);
        self
    }
}

impl BatchReport {
    fn new(batch: u64, e: &BatchEstimate) -> BatchReport {
        BatchReport {
            batch,
            ttft_s: e.ttft_s,
            tpot_s: e.tpot_s,
            e2e_s: e.e2e_s,
            tokens_per_s_per_user: e.tokens_per_s_per_user,
            output_tokens_per_s_per_gpu: e.output_tokens_per_s_per_gpu,
            bound: e.decode.bound.name(),
            mfu: e.decode.mfu,
            mbu: e.decode.mbu,
            kv_bytes_per_gpu: e.memory.kv_bytes,
            fits: e.memory.fits,
            reason: e.memory.reason(),
            usd_per_mtok: None,
            prefill: StepReport::new(&e.prefill),
            decode: StepReport::new(&e.decode),
            memory: MemoryReport::new(&e.memory),
        }
    }
}

impl StepReport {
    /// The report of a priced step.
    pub fn new(s: &StepCost) -> StepReport {
        StepReport {
            time_s: s.time_s,
            compute_s: s.compute_s,
            memory_s: s.memory_s,
            comm_s: s.comm_s,
            overhead_s: s.overhead_s,
            flops: s.flops,
            hbm_bytes: TrafficReport {
                weights: s.bytes.weights,
                kv_read: s.bytes.kv_read,
                kv_write: s.bytes.kv_write,
                activations: s.bytes.activations,
                total: s.bytes.total(),
            },
            comm_bytes: s.comm_bytes,
            bound: s.bound.name(),
            mfu: s.mfu,
            mbu: s.mbu,
            gpu_s: s.gpu_s,
            host_s: s.host_s,
            kernels: s
                .kernels
                .named()
                .into_iter()
                .map(|(class, c)| KernelClassReport {
                    class,
                    time_s: c.time_s,
                    compute_s: c.compute_s,
                    memory_s: c.memory_s,
                    launch_s: c.launch_s,
                    limit: c.limit(),
                })
                .collect(),
        }
    }
}

impl MemoryReport {
    /// The report of a memory fit.
    pub fn new(m: &MemoryFit) -> MemoryReport {
        MemoryReport {
            usable_bytes: m.usable_bytes,
            weight_bytes: m.weight_bytes,
            kv_bytes: m.kv_bytes,
            activation_bytes: m.activation_bytes,
            reserve_bytes: m.reserve_bytes,
            kv_budget_bytes: m.kv_budget_bytes,
            kv_bytes_per_seq: m.kv_bytes_per_seq,
            max_batch: m.max_batch,
            fits: m.fits,
        }
    }
}

impl ModelSummary {
    /// The model of a deployment, at the deployment's weight precisions.
    pub fn of(dep: &Deployment) -> ModelSummary {
        let m = &dep.model();
        ModelSummary {
            name: m.name.clone(),
            model_type: m.model_type.clone(),
            layers: m.num_layers(),
            total_params: m.params().total(),
            active_params: m.active_params(),
            weight_bytes: m.weight_bytes(&dep.precisions().weights),
        }
    }
}

impl HardwareSummary {
    /// The hardware of a deployment, with the peak at its compute precision.
    pub fn of(dep: &Deployment) -> HardwareSummary {
        let hw = &dep.hardware();
        HardwareSummary {
            id: hw.id.clone(),
            name: hw.name.clone(),
            family: hw.family.clone(),
            peak_flop_per_s: dep.peak_flop_per_s(),
            hbm_bytes: hw.hbm_bytes,
            hbm_bytes_per_s: hw.hbm_bytes_per_s,
            confidence: dep.rate_sources().0.name(),
            kernel_rates: dep
                .rate_sources()
                .1
                .iter()
                .map(|r| KernelRateReport {
                    class: r.class,
                    curve: r.curve.clone(),
                    compute_efficiency: r.compute_efficiency,
                    memory_efficiency: r.memory_efficiency,
                    launch_s: r.launch_s,
                    source: r.source.clone(),
                })
                .collect(),
        }
    }
}

impl LayoutReport {
    /// The layout of a deployment.
    pub fn of(dep: &Deployment) -> LayoutReport {
        LayoutReport {
            tp: dep.parallelism().tp,
            pp: dep.parallelism().pp,
            ep: dep.parallelism().ep,
            dp_attn: dep.parallelism().dp_attn,
            redundant_experts: dep.parallelism().redundant_experts,
            two_batch_overlap: dep.parallelism().two_batch_overlap,
            gpus: dep.gpus(),
        }
    }
}

impl PrecisionsReport {
    /// The formats of a deployment.
    pub fn of(dep: &Deployment) -> PrecisionsReport {
        PrecisionsReport {
            weights: WeightPrecisionsReport::new(&dep.precisions().weights),
            kv: dep.precisions().kv.name(),
            compute: dep.precisions().compute.name(),
            attention: dep.precisions().attention.name(),
            activations: dep.precisions().activations.name(),
        }
    }
}

/// The deployment's cost parameters by name.
pub fn params_of(dep: &Deployment) -> BTreeMap<String, f64> {
    dep.params()
        .as_map()
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
}
