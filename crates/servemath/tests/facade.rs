//! The application layer called as a library, as the web page and the Python package will:
//! typed requests in, reports and diagnostics out.

use servemath::{DeploymentRequest, Diagnostic, Invalid, PricesRequest};
use servemath_cost::Calibration;
use servemath_econ::PriceList;
use servemath_hardware::Catalog;

fn deployment(model: &str, hardware: &str, tp: Option<u32>) -> DeploymentRequest {
    let model = servemath_model::builtin(model).expect("built-in model");
    let hardware = Catalog::builtin().get(hardware).expect("entry").clone();
    DeploymentRequest {
        tp,
        ..DeploymentRequest::with_defaults(model, hardware)
    }
}

fn prices_request(tp: Option<u32>) -> PricesRequest {
    let deployment = deployment("llama-3.1-70b", "h100-sxm", tp);
    let costs = servemath_econ::cost_inputs_for(&deployment.hardware).expect("sourced costs");
    PricesRequest {
        deployment,
        costs,
        prices: PriceList::builtin().expect("built-in price list"),
        provider: None,
        batch: 64,
        input: 2048,
        output: 256,
        cached_fraction: 0.5,
        utilization: 0.7,
    }
}

#[test]
fn prices_chooses_the_smallest_fitting_layout_and_says_so() {
    // 70B in BF16 (141 GB) does not fit one 80 GB H100: the request leaves TP open, so the
    // smallest power of two that fits (TP4) is priced, with a note, not an error.
    let (report, diagnostics) = servemath::prices(&prices_request(None)).expect("prices");
    assert_eq!(report.model.gpus, 4);
    assert!(
        diagnostics
            .iter()
            .any(|d| matches!(d, Diagnostic::Note(n) if n.contains("priced at TP4"))),
        "{diagnostics:?}"
    );
    assert!(!report.prices.is_empty());
    // Decode reads the weights per token of the batch, prefill shares them over the prompt:
    // an output token costs more than an input token.
    assert!(report.model.output_over_input > 1.0);
    assert!(
        report.model.readings.len() >= 3,
        "{:?}",
        report.model.readings
    );
}

#[test]
fn prices_keeps_a_tensor_parallel_degree_given() {
    let err = servemath::prices(&prices_request(Some(1))).expect_err("TP1 cannot hold 70B");
    assert!(err.to_string().contains("TP4 would"), "{err}");
    assert!(
        !err.chain().any(|c| c.is::<Invalid>()),
        "not the caller's syntax: {err}"
    );
}

#[test]
fn a_malformed_request_value_is_an_invalid_error() {
    let mut request = prices_request(Some(4));
    request.cached_fraction = 1.0;
    let err = servemath::prices(&request).expect_err("cached fraction 1 leaves no new tokens");
    assert!(err.chain().any(|c| c.is::<Invalid>()), "{err}");
    assert!(err.to_string().contains("cached fraction = 1"), "{err}");
}

#[test]
fn claims_and_validate_answer_without_a_front_end() {
    let claims = servemath::claims().expect("claims");
    assert!(claims.claims.len() >= 14, "{}", claims.claims.len());
    let report = servemath::validate(&servemath::ValidateRequest::default()).expect("validate");
    let all = report
        .groups
        .iter()
        .find(|g| g.group == "all")
        .expect("the all-cases group");
    assert!(all.cases >= 50, "{}", all.cases);
    // The recorded accuracy (docs/validation.md): a median |error| near 6 %.
    assert!(all.median_abs_error < 0.10, "{}", all.median_abs_error);
}

#[test]
fn fleet_sizes_a_small_demand_without_a_front_end() {
    use servemath::fleet::{DayShape, Demand, FleetRequest};
    use servemath::simulate::{SloRequest, WorkloadRequest};
    let deployment = deployment("llama-3.1-8b", "h100-sxm", Some(1));
    let costs = servemath_econ::cost_inputs_for(&deployment.hardware).ok();
    let request = FleetRequest {
        deployment,
        demand: "1e7tok/day".parse::<Demand>().expect("demand"),
        demand_text: "1e7tok/day".into(),
        shape: "flat".parse::<DayShape>().expect("flat"),
        workload: WorkloadRequest {
            duration: Some("2m".into()),
            ..WorkloadRequest::default()
        },
        slo: SloRequest {
            ttft: Some("2s".into()),
            tpot: Some("100ms".into()),
        },
        utilization_targets: vec![0.8],
        max_seqs: 256,
        max_replicas: 64,
        costs,
        costs_given: false,
    };
    let (report, _) = servemath::fleet(&request, &servemath::Keys).expect("fleet");
    // 1e7 tokens a day over mean 2,000 + 300 tokens (the default lengths' means, about
    // 2,300) is about 4,350 requests a day, 0.05 requests/s flat: one 8B replica on one H100
    // carries it.
    assert!(report.feasible);
    assert!((report.demand.peak_rate_per_s - report.demand.mean_rate_per_s).abs() < 1e-12);
    assert_eq!(report.fleet.as_ref().map(|f| f.replicas), Some(1));
    // A zero sequence limit is the caller's mistake, named by its request key.
    let err = servemath::fleet(
        &FleetRequest {
            max_seqs: 0,
            ..request
        },
        &servemath::Keys,
    )
    .expect_err("max_seqs 0");
    assert!(err.chain().any(|c| c.is::<Invalid>()), "{err}");
    assert!(err.to_string().contains("fleet.max_seqs = 0"), "{err}");
}

#[test]
fn estimate_prices_batches_and_names_the_layout_that_would_fit() {
    use servemath::EstimateRequest;
    let request = |model: &str, batches: Vec<u64>| EstimateRequest {
        deployment: deployment(model, "h100-sxm", Some(1)),
        input: 2048,
        output: 256,
        batches,
        utilization: 0.7,
        costs: None,
    };
    let e = servemath::estimate(&request("llama-3.1-8b", vec![8, 1, 8])).expect("estimate");
    assert!(e.fits());
    // Sorted and deduplicated; a larger batch reads the same weights for more tokens, so its
    // step is no shorter.
    let batches: Vec<u64> = e.report.batches.iter().map(|b| b.batch).collect();
    assert_eq!(batches, vec![1, 8]);
    assert!(e.report.batches[1].tpot_s >= e.report.batches[0].tpot_s);
    assert!(e.larger_tp.is_none());
    // 70B in BF16 on one 80 GB H100: nothing fits, and TP4 is the smallest that would.
    let e = servemath::estimate(&request("llama-3.1-70b", vec![1])).expect("estimate");
    assert!(!e.fits());
    assert_eq!(e.larger_tp, Some(4));
}

fn simulate_request(requests: i64) -> servemath::simulate::SimulateRequest {
    use servemath::simulate::{
        FleetRequest, SchedulerRequest, SimulateRequest, SloRequest, WorkloadRequest,
    };
    SimulateRequest {
        deployment: deployment("llama-3.1-8b", "h100-sxm", Some(1)),
        fleet: FleetRequest {
            replicas: Some(2),
            ..FleetRequest::default()
        },
        scheduler: SchedulerRequest::default(),
        workload: WorkloadRequest {
            rate: Some(5.0),
            requests: Some(requests),
            ..WorkloadRequest::default()
        },
        slo: SloRequest::default(),
        leap: true,
    }
}

#[test]
fn simulate_plans_and_runs_without_a_front_end() {
    use servemath::simulate::{plan, run, FleetCosts, RunOptions};
    let plan = plan(&simulate_request(50), &servemath::Keys).expect("plan");
    assert_eq!(plan.replicas.len(), 2);
    assert_eq!(plan.expected.requests, Some(50));
    let done = run(plan, RunOptions::default(), &FleetCosts::default()).expect("run");
    // Every request that arrived is accounted for, and a light load completes them all.
    let r = &done.report.requests;
    assert_eq!(r.arrived, 50);
    assert_eq!(
        r.completed + r.running + r.queued + r.rejected + r.dropped,
        r.arrived
    );
    assert_eq!(r.completed, 50);
    // No cost inputs: no $ figures, rather than a made-up price.
    assert!(done.report.cost.is_none());
}

#[test]
fn a_simulation_can_be_cancelled_from_another_thread() {
    use servemath::simulate::{plan, run, FleetCosts, RunOptions};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let cancel = Arc::new(AtomicBool::new(false));
    // The plan is Send: a server runs it on a worker thread. The flag is raised before the run
    // starts, so the run stops at its first check whatever the machine's speed.
    let plan = plan(&simulate_request(5_000), &servemath::Keys).expect("plan");
    cancel.store(true, Ordering::Relaxed);
    let flag = cancel.clone();
    let worker = std::thread::spawn(move || {
        run(
            plan,
            RunOptions {
                cancel: Some(flag),
                ..RunOptions::default()
            },
            &FleetCosts::default(),
        )
        .map(|_| ())
    });
    let err = worker
        .join()
        .expect("the worker does not panic")
        .expect_err("a cancelled run returns an error");
    assert!(
        matches!(
            err.downcast_ref::<servemath_sim::SimError>(),
            Some(servemath_sim::SimError::Cancelled { .. })
        ),
        "{err}"
    );
}

#[test]
fn a_bad_simulation_value_is_named_by_its_request_key() {
    let mut request = simulate_request(10);
    request.scheduler.kind = Some("fifo".into());
    let err = servemath::simulate::plan(&request, &servemath::Keys)
        .err()
        .expect("fifo is no scheduler");
    assert!(err.chain().any(|c| c.is::<Invalid>()), "{err}");
    assert!(
        err.to_string()
            .starts_with("scheduler.kind: unknown value `fifo`"),
        "{err}"
    );
}

#[test]
fn search_ranks_configurations_held_to_a_format() {
    use servemath::search::{Machine, SearchRequest};
    use servemath::simulate::{SloRequest, WorkloadRequest};
    use servemath_model::Precision;
    let model = servemath_model::builtin("llama-3.1-8b").expect("model");
    let hardware = Catalog::builtin().get("h100-sxm").expect("entry").clone();
    let request = SearchRequest {
        model,
        machines: vec![Machine {
            params: Calibration::builtin().for_family(&hardware.family),
            costs: servemath_econ::cost_inputs_for(&hardware).ok(),
            hardware,
        }],
        scale_up: Vec::new(),
        max_gpus: Some(8),
        min_tokens_per_s_per_user: None,
        slo: SloRequest {
            ttft: Some("2s".into()),
            tpot: Some("50ms".into()),
        },
        workload: WorkloadRequest::default(),
        top: 5,
        load: 0.8,
        measured_requests: 1000,
        simulate: false,
        disaggregation: false,
        restrict: servemath_search::Restrict {
            weights: vec![Precision::Bf16],
            ..Default::default()
        },
        objective: None,
    };
    let (report, diagnostics) =
        servemath::search::search(&request, &servemath::Keys).expect("search");
    assert!(report.feasible);
    assert_eq!(report.top.len(), 5);
    assert_eq!(report.top[0].rank, Some(1));
    // Held to BF16 weights, every row is BF16; the analytic pass says what it did.
    assert!(
        report.top.iter().all(|r| r.weights == "bf16"),
        "{:?}",
        report.top
    );
    assert!(diagnostics
        .iter()
        .any(|d| matches!(d, Diagnostic::Note(n) if n.starts_with("analytic pass"))));
    // A load outside (0, 1.5] is the caller's mistake, named by its key.
    let err = servemath::search::search(
        &SearchRequest {
            load: 2.0,
            ..request
        },
        &servemath::Keys,
    )
    .expect_err("load 2");
    assert!(err.chain().any(|c| c.is::<Invalid>()), "{err}");
    assert!(err.to_string().starts_with("search.load 2"), "{err}");
}
