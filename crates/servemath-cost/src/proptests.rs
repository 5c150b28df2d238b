//! Named invariants of the step model, checked over random models, loads and machines.

use crate::testkit::*;
use crate::{CostParams, Deployment, Parallelism, Precisions, StepLoad};
use proptest::prelude::*;
use servemath_hardware::Hardware;
use servemath_model::{Mlp, ModelSpec};

/// A random dense or MoE model around Llama's shape.
fn model() -> impl Strategy<Value = ModelSpec> {
    (1u64..=8, 1u64..=4, prop::option::of((2u64..=64, 1u64..=8))).prop_map(|(width, depth, moe)| {
        let mut m = llama70b();
        m.hidden_size = 1024 * width;
        m.groups[0].count = 8 * depth;
        if let Some((e, k)) = moe {
            m.groups[0].mlp = Mlp::Moe {
                experts: e,
                top_k: k.min(e),
                expert_intermediate: 512 * width,
                shared_intermediate: 0,
                gated: true,
                bias: false,
                latent: 0,
            };
        }
        m
    })
}

fn load() -> impl Strategy<Value = StepLoad> {
    (
        0.0f64..512.0,
        0.0f64..32768.0,
        0.0f64..4.0,
        0.0f64..4096.0,
        0.0f64..8192.0,
    )
        .prop_map(|(b, c, s, t, p)| {
            StepLoad::decode(b.floor() + 1.0, c) + StepLoad::prefill(s.floor(), t, p)
        })
}

fn layout() -> impl Strategy<Value = Parallelism> {
    (0u32..=3, 0u32..=2).prop_map(|(t, p)| Parallelism {
        tp: 1 << t,
        pp: 1 << p,
        ..Parallelism::default()
    })
}

fn params() -> impl Strategy<Value = CostParams> {
    (0.3f64..1.0, 0.3f64..1.0, 0.0f64..1e-3, 0.0f64..1e-5).prop_map(|(c, m, so, lo)| CostParams {
        compute_efficiency: c,
        memory_efficiency: m,
        step_overhead_s: so,
        layer_overhead_s: lo,
        activation_io_per_layer: 8.0,
        ..ideal()
    })
}

fn on(model: &ModelSpec, hw: &Hardware, par: Parallelism, params: CostParams) -> Deployment {
    let prec = Precisions::defaults_for(model, |p| hw.peak_flop_per_s(p).is_ok());
    match Deployment::new(model, hw, par, prec, params) {
        Ok(d) => d,
        Err(e) => panic!("deployment failed: {e}"),
    }
}

const SLACK: f64 = 1.0 + 1e-12;

/// The same, priced with H100's measured kernel curves (the catalog's fitted tables).
fn on_measured(
    model: &ModelSpec,
    hw: &Hardware,
    par: Parallelism,
    params: CostParams,
) -> Deployment {
    let prec = Precisions::defaults_for(model, |p| hw.peak_flop_per_s(p).is_ok());
    let curves = servemath_hardware::kernels::builtin_curves("h100-sxm");
    assert!(curves.is_some());
    match Deployment::with_curves(model, hw, curves, par, prec, params) {
        Ok(d) => d,
        Err(e) => panic!("deployment failed: {e}"),
    }
}

proptest! {
    #[test]
    fn more_bandwidth_is_never_slower(m in model(), l in load(), par in layout(), p in params(), f in 1.0f64..4.0) {
        let hw = h100();
        let mut fast = h100();
        fast.hbm_bytes_per_s *= f;
        fast.scale_up_bytes_per_s *= f;
        fast.scale_out_bytes_per_s = fast.scale_out_bytes_per_s.map(|b| b * f);
        let slow = on(&m, &hw, par, p).step(&l).time_s;
        let quick = on(&m, &fast, par, p).step(&l).time_s;
        prop_assert!(quick <= slow * SLACK, "{quick} > {slow}");
    }

    #[test]
    fn more_flops_is_never_slower(m in model(), l in load(), par in layout(), p in params(), f in 1.0f64..4.0) {
        let hw = h100();
        let mut fast = h100();
        fast.peak.bf16 = fast.peak.bf16.map(|x| x * f);
        let slow = on(&m, &hw, par, p).step(&l).time_s;
        let quick = on(&m, &fast, par, p).step(&l).time_s;
        prop_assert!(quick <= slow * SLACK);
    }

    #[test]
    fn step_time_never_decreases_with_batch_or_context(m in model(), par in layout(), p in params(),
            b in 1.0f64..1024.0, db in 0.0f64..1024.0, c in 0.0f64..65536.0, dc in 0.0f64..65536.0) {
        let d = on(&m, &h100(), par, p);
        let t = d.step(&StepLoad::decode(b, c)).time_s;
        prop_assert!(d.step(&StepLoad::decode(b + db, c)).time_s * SLACK >= t);
        prop_assert!(d.step(&StepLoad::decode(b, c + dc)).time_s * SLACK >= t);
    }

    #[test]
    fn step_time_never_decreases_with_parameters(m in model(), l in load(), par in layout(), p in params(), grow in 1u64..4) {
        let mut big = m.clone();
        big.groups[0].count *= grow;
        match &mut big.groups[0].mlp {
            Mlp::Dense { intermediate, .. } => *intermediate *= grow,
            Mlp::Moe { expert_intermediate, .. } => *expert_intermediate *= grow,
            Mlp::None => {}
        }
        let small_t = on(&m, &h100(), par, p).step(&l).time_s;
        let big_t = on(&big, &h100(), par, p).step(&l).time_s;
        prop_assert!(big_t * SLACK >= small_t);
    }

    #[test]
    fn throughput_per_gpu_never_falls_with_batch_until_memory_runs_out(m in model(), par in layout(), p in params(),
            c in 0.0f64..8192.0) {
        let d = on(&m, &h100(), par, p);
        let max = d.max_batch(c).min(4096);
        let mut last = 0.0;
        let mut b = 1.0;
        while b <= max as f64 {
            let thr = b / d.step(&StepLoad::decode(b, c)).time_s;
            prop_assert!(thr * SLACK >= last, "batch {b}: {thr} < {last}");
            last = thr;
            b *= 1.5;
            b = b.ceil();
        }
    }

    #[test]
    fn measured_curves_more_bandwidth_is_never_slower(m in model(), l in load(), par in layout(), p in params(), f in 1.0f64..4.0) {
        let hw = h100();
        let mut fast = h100();
        fast.hbm_bytes_per_s *= f;
        fast.scale_up_bytes_per_s *= f;
        fast.scale_out_bytes_per_s = fast.scale_out_bytes_per_s.map(|b| b * f);
        let slow = on_measured(&m, &hw, par, p).step(&l).time_s;
        let quick = on_measured(&m, &fast, par, p).step(&l).time_s;
        prop_assert!(quick <= slow * SLACK, "{quick} > {slow}");
    }

    #[test]
    fn measured_curves_step_time_never_decreases_with_batch_or_context(m in model(), par in layout(), p in params(),
            b in 1.0f64..1024.0, db in 0.0f64..1024.0, c in 0.0f64..65536.0, dc in 0.0f64..65536.0) {
        let d = on_measured(&m, &h100(), par, p);
        let t = d.step(&StepLoad::decode(b, c)).time_s;
        prop_assert!(d.step(&StepLoad::decode(b + db, c)).time_s * SLACK >= t);
        prop_assert!(d.step(&StepLoad::decode(b, c + dc)).time_s * SLACK >= t);
    }

    #[test]
    fn measured_curves_kernel_classes_add_up_to_the_step(m in model(), l in load(), par in layout(), p in params()) {
        let s = on_measured(&m, &h100(), par, p).step(&l);
        let sum: f64 = s.kernels.named().iter().map(|(_, c)| c.time_s).sum();
        prop_assert!((sum - s.time_s).abs() <= 1e-9 * s.time_s, "{sum} vs {}", s.time_s);
    }
}
