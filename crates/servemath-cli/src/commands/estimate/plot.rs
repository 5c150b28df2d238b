//! `estimate --plot`: TPOT and output tokens/s per GPU against batch (log x), with the floor,
//! B* and the largest batch that fits marked. SVG or PNG by the file's extension.

use crate::common::fmt;
use crate::common::plot::{Kind, FAMILY, FONT};
use anyhow::anyhow;
use plotters::coord::Shift;
use plotters::prelude::*;
use servemath::Estimated;
use std::path::Path;

const SIZE: (u32, u32) = (1000, 620);
/// Points on the swept curves.
const SWEEP_POINTS: usize = 96;

/// What the chart shows, computed before any drawing.
struct Data {
    title: String,
    x: (f64, f64),
    tpot_ms: Vec<(f64, f64)>,
    per_gpu: Vec<(f64, f64)>,
    /// Requested batches: (batch, TPOT ms, tok/s/GPU, fits).
    points: Vec<(f64, f64, f64, bool)>,
    floor_ms: f64,
    balance: Option<f64>,
    max_batch: Option<f64>,
}

impl Data {
    fn new(e: &Estimated) -> Data {
        let r = &e.report;
        let requested: Vec<f64> = r.batches.iter().map(|b| b.batch as f64).collect();
        let lo = requested
            .iter()
            .copied()
            .fold(f64::INFINITY, f64::min)
            .max(1.0);
        let mut hi = requested.iter().copied().fold(1.0, f64::max);
        // Show B* and the largest batch when they are near the requested range; never stretch
        // the axis past the memory limit for B* (DeepSeek-V3's B* of 2,077 against 245 that
        // fit left most of the plot to batches that do not fit).
        let limit = r.max_batch as f64;
        for mark in [r.balance_batch, Some(limit)].into_iter().flatten() {
            if mark > hi && mark < 64.0 * hi && (limit < 1.0 || mark <= limit) {
                hi = mark * 1.25;
            }
        }
        if hi <= lo {
            hi = lo * 10.0;
        }
        let (input, output) = (r.input_tokens as f64, r.output_tokens as f64);
        // The curves stop at the memory limit: beyond it no batch runs.
        let sweep = e.sweep(lo, hi, SWEEP_POINTS);
        let in_range = |v: f64| (v >= lo && v <= hi).then_some(v);
        Data {
            title: format!(
                "{} on {} ({}; weights {}, KV {}), {} in / {} out",
                r.model.name,
                r.hardware.id,
                fmt::layout(&r.layout),
                fmt::precisions(&r.precisions.weights),
                r.precisions.kv,
                fmt::int(input),
                fmt::int(output)
            ),
            x: (lo, hi),
            tpot_ms: sweep.iter().map(|s| (s.batch, s.tpot_s * 1e3)).collect(),
            per_gpu: sweep
                .iter()
                .map(|s| (s.batch, s.output_tokens_per_s_per_gpu))
                .collect(),
            points: r
                .batches
                .iter()
                .map(|b| {
                    (
                        b.batch as f64,
                        b.tpot_s * 1e3,
                        b.output_tokens_per_s_per_gpu,
                        b.fits,
                    )
                })
                .collect(),
            floor_ms: r.floor_s * 1e3,
            balance: r.balance_batch.and_then(in_range),
            max_batch: in_range(r.max_batch as f64),
        }
    }
}

/// Draws the chart for `r` to `path`.
pub fn draw(path: &Path, kind: Kind, e: &Estimated) -> anyhow::Result<()> {
    plotters::style::register_font(FAMILY, FontStyle::Normal, FONT)
        .map_err(|_| anyhow!("the embedded plot font is not a valid font"))?;
    let data = Data::new(e);
    let failed = |e: String| anyhow!("--plot {}: cannot draw: {e}", path.display());
    match kind {
        Kind::Svg => {
            let root = SVGBackend::new(path, SIZE).into_drawing_area();
            chart(&root, &data).map_err(|e| failed(e.to_string()))?;
            root.present().map_err(|e| failed(e.to_string()))
        }
        Kind::Png => {
            let root = BitMapBackend::new(path, SIZE).into_drawing_area();
            chart(&root, &data).map_err(|e| failed(e.to_string()))?;
            root.present().map_err(|e| failed(e.to_string()))
        }
    }
}

/// Tick labels: whole numbers without decimals, small ones with as few as they need.
fn axis_label(v: f64) -> String {
    if v == 0.0 || v.abs() >= 10.0 || (v - v.round()).abs() < 1e-9 {
        fmt::int(v)
    } else {
        format!("{}", (v * 100.0).round() / 100.0)
    }
}

const TPOT_COLOR: RGBColor = RGBColor(31, 119, 180);
const GPU_COLOR: RGBColor = RGBColor(214, 39, 40);
const MARK_COLOR: RGBColor = RGBColor(90, 90, 90);
const LIMIT_COLOR: RGBColor = RGBColor(44, 160, 44);

fn chart<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    d: &Data,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let max_of = |v: &[(f64, f64)]| v.iter().map(|p| p.1).fold(0.0, f64::max);
    let tpot_top = (max_of(&d.tpot_ms).max(d.floor_ms) * 1.12).max(1e-6);
    let gpu_top = (max_of(&d.per_gpu) * 1.12).max(1e-6);
    let (lo, hi) = d.x;

    let mut chart = ChartBuilder::on(root)
        .caption(&d.title, (FAMILY, 22))
        .margin(18)
        .x_label_area_size(48)
        .y_label_area_size(70)
        .right_y_label_area_size(80)
        .build_cartesian_2d((lo..hi).log_scale(), 0.0..tpot_top)?
        .set_secondary_coord((lo..hi).log_scale(), 0.0..gpu_top);

    chart
        .configure_mesh()
        .x_desc("batch (concurrent requests, log scale)")
        .y_desc("TPOT (ms per output token)")
        .x_label_formatter(&|x| axis_label(*x))
        .y_label_formatter(&|y| axis_label(*y))
        .label_style((FAMILY, 14))
        .axis_desc_style((FAMILY, 15))
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    chart
        .configure_secondary_axes()
        .y_desc("output tokens/s per GPU")
        .y_label_formatter(&|y| axis_label(*y))
        .label_style((FAMILY, 14))
        .axis_desc_style((FAMILY, 15))
        .draw()?;

    chart
        .draw_series(LineSeries::new(
            vec![(lo, d.floor_ms), (hi, d.floor_ms)],
            MARK_COLOR.stroke_width(1),
        ))?
        .label(format!("floor {}", fmt::seconds(d.floor_ms / 1e3)))
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], MARK_COLOR.stroke_width(1)));
    if let Some(b) = d.balance {
        chart
            .draw_series(LineSeries::new(
                vec![(b, 0.0), (b, tpot_top)],
                MARK_COLOR.stroke_width(2),
            ))?
            .label(format!("B* = {}", fmt::num(b)))
            .legend(|(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], MARK_COLOR.stroke_width(2))
            });
    }
    if let Some(m) = d.max_batch {
        chart
            .draw_series(LineSeries::new(
                vec![(m, 0.0), (m, tpot_top)],
                LIMIT_COLOR.stroke_width(2),
            ))?
            .label(format!("max batch {} (memory)", fmt::int(m)))
            .legend(|(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], LIMIT_COLOR.stroke_width(2))
            });
    }

    chart
        .draw_series(LineSeries::new(
            d.tpot_ms.clone(),
            TPOT_COLOR.stroke_width(3),
        ))?
        .label("TPOT (left axis)")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], TPOT_COLOR.stroke_width(3)));
    chart
        .draw_secondary_series(LineSeries::new(
            d.per_gpu.clone(),
            GPU_COLOR.stroke_width(3),
        ))?
        .label("output tok/s per GPU (right axis)")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], GPU_COLOR.stroke_width(3)));

    // The requested batches: filled where they fit, hollow where they do not.
    chart.draw_series(d.points.iter().map(|&(b, t, _, fits)| {
        let style = if fits {
            TPOT_COLOR.filled()
        } else {
            TPOT_COLOR.stroke_width(2)
        };
        Circle::new((b, t), 5, style)
    }))?;
    chart.draw_secondary_series(d.points.iter().map(|&(b, _, g, fits)| {
        let style = if fits {
            GPU_COLOR.filled()
        } else {
            GPU_COLOR.stroke_width(2)
        };
        Circle::new((b, g), 5, style)
    }))?;

    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .label_font((FAMILY, 14))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .draw()?;
    Ok(())
}
