//! `simulate --plot`: CDFs of TTFT, TPOT and end-to-end latency over completed requests (log
//! time axis, SLOs marked), then the fleet's time series: queued and running requests, KV
//! occupancy and output throughput. SVG or PNG by the file's extension, with the estimate
//! plot's embedded font.

use crate::common::fmt;
use crate::common::plot::{Kind, FAMILY, FONT};
use anyhow::anyhow;
use plotters::coord::Shift;
use plotters::prelude::*;
use servemath_report::SimulateReport;
use servemath_sim::{Record, Sample};
use std::path::Path;

const SIZE: (u32, u32) = (1320, 860);
/// Points kept per CDF: enough for a smooth curve, few enough for a small SVG.
const CDF_POINTS: usize = 400;

const BLUE: RGBColor = RGBColor(31, 119, 180);
const RED: RGBColor = RGBColor(214, 39, 40);
const GREEN: RGBColor = RGBColor(44, 160, 44);
const ORANGE: RGBColor = RGBColor(255, 127, 14);
const GREY: RGBColor = RGBColor(90, 90, 90);

/// One latency's empirical CDF: (seconds, fraction at or below).
struct Cdf {
    title: &'static str,
    points: Vec<(f64, f64)>,
    slo: Option<f64>,
    color: RGBColor,
}

impl Cdf {
    fn new(title: &'static str, mut values: Vec<f64>, slo: Option<f64>, color: RGBColor) -> Cdf {
        values.retain(|v| v.is_finite() && *v > 0.0);
        values.sort_by(f64::total_cmp);
        let n = values.len();
        let step = n.div_ceil(CDF_POINTS).max(1);
        let points: Vec<(f64, f64)> = values
            .iter()
            .enumerate()
            .filter(|(i, _)| i % step == 0 || i + 1 == n)
            .map(|(i, &v)| (v, (i + 1) as f64 / n as f64))
            .collect();
        Cdf {
            title,
            points,
            slo,
            color,
        }
    }

    /// A log axis range around the data (and the SLO), never empty.
    fn range(&self) -> (f64, f64) {
        let mut lo = self.points.first().map_or(1e-3, |p| p.0);
        let mut hi = self.points.last().map_or(1.0, |p| p.0);
        if let Some(s) = self.slo.filter(|s| s.is_finite()) {
            lo = lo.min(s);
            hi = hi.max(s);
        }
        if hi <= lo * 1.5 {
            lo /= 1.5;
            hi *= 1.5;
        }
        (lo / 1.2, hi * 1.2)
    }
}

pub fn draw(
    path: &Path,
    kind: Kind,
    report: &SimulateReport,
    records: &[Record],
    series: &[Sample],
) -> anyhow::Result<()> {
    plotters::style::register_font(FAMILY, FontStyle::Normal, FONT)
        .map_err(|_| anyhow!("the embedded plot font is not a valid font"))?;
    let slo = report.slo;
    let cdfs = [
        Cdf::new(
            "TTFT",
            records.iter().map(Record::ttft_s).collect(),
            slo.and_then(|s| s.ttft_s),
            BLUE,
        ),
        Cdf::new(
            "TPOT",
            records
                .iter()
                .filter(|r| r.output_tokens > 1)
                .map(Record::tpot_s)
                .collect(),
            slo.and_then(|s| s.tpot_s),
            RED,
        ),
        Cdf::new(
            "end-to-end latency",
            records.iter().map(Record::e2e_s).collect(),
            None,
            GREEN,
        ),
    ];
    let title = title(report);
    let failed = |e: String| anyhow!("--plot {}: cannot draw: {e}", path.display());
    match kind {
        Kind::Svg => {
            let root = SVGBackend::new(path, SIZE).into_drawing_area();
            charts(&root, &title, &cdfs, series).map_err(|e| failed(e.to_string()))?;
            root.present().map_err(|e| failed(e.to_string()))
        }
        Kind::Png => {
            let root = BitMapBackend::new(path, SIZE).into_drawing_area();
            charts(&root, &title, &cdfs, series).map_err(|e| failed(e.to_string()))?;
            root.present().map_err(|e| failed(e.to_string()))
        }
    }
}

fn title(r: &SimulateReport) -> String {
    let pools: Vec<String> = r
        .pools
        .iter()
        .map(|p| {
            format!(
                "{} × {} on {} TP{}",
                p.replicas, p.model.name, p.hardware.id, p.layout.tp
            )
        })
        .collect();
    format!(
        "{}, {}: {} requests completed, {} req/s",
        pools.join(" + "),
        r.pools.first().map_or("", |p| p.scheduler.policy.name()),
        fmt::int(r.requests.completed as f64),
        fmt::num(r.throughput.requests_per_s)
    )
}

type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

fn charts<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    cdfs: &[Cdf],
    series: &[Sample],
) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    let body = root.titled(title, (FAMILY, 22))?;
    let (top, bottom) = body.split_vertically(SIZE.1 / 2 - 10);
    for (area, cdf) in top.split_evenly((1, 3)).iter().zip(cdfs) {
        cdf_chart(area, cdf)?;
    }
    let lower = bottom.split_evenly((1, 2));
    if let [left, right] = lower.as_slice() {
        counts_chart(left, series)?;
        kv_chart(right, series)?;
    }
    Ok(())
}

fn cdf_chart<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, c: &Cdf) -> DrawResult<DB> {
    let (lo, hi) = c.range();
    let mut chart = ChartBuilder::on(area)
        .caption(format!("{} CDF", c.title), (FAMILY, 17))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(
            (lo..hi).log_scale().with_key_points(ticks_125(lo, hi)),
            0.0..1.0,
        )?;
    chart
        .configure_mesh()
        .x_desc("seconds (log scale)")
        .y_desc("fraction of requests")
        .x_labels(12)
        .x_label_formatter(&|x| tick_seconds(*x))
        .y_label_formatter(&|y| format!("{:.0}%", y * 100.0))
        .label_style((FAMILY, 12))
        .axis_desc_style((FAMILY, 13))
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    if c.points.is_empty() {
        return Ok(());
    }
    // A step function: each sample raises the fraction at its value.
    let mut steps = Vec::with_capacity(2 * c.points.len());
    let mut prev = 0.0;
    for &(x, y) in &c.points {
        steps.push((x, prev));
        steps.push((x, y));
        prev = y;
    }
    chart.draw_series(LineSeries::new(steps, c.color.stroke_width(2)))?;
    if let Some(s) = c.slo.filter(|s| s.is_finite()) {
        chart
            .draw_series(LineSeries::new(
                vec![(s, 0.0), (s, 1.0)],
                GREY.stroke_width(2),
            ))?
            .label(format!("SLO {}", fmt::seconds(s)))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], GREY.stroke_width(2)));
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .label_font((FAMILY, 12))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.4))
            .draw()?;
    }
    Ok(())
}

/// Tick values 1, 2, 5 x 10^k inside `[lo, hi]` (thinned to at most about seven), so that a
/// log axis spanning less than a decade still carries several labels.
fn ticks_125(lo: f64, hi: f64) -> Vec<f64> {
    if !(lo > 0.0 && hi > lo && lo.is_finite() && hi.is_finite()) {
        return Vec::new();
    }
    let with = |mantissas: &[f64]| {
        let mut out = Vec::new();
        let mut decade = 10f64.powf(lo.log10().floor());
        while decade <= hi {
            for m in mantissas {
                let v = decade * m;
                if v >= lo && v <= hi {
                    out.push(v);
                }
            }
            decade *= 10.0;
        }
        out
    };
    // Over two or more decades 1-2-5 labels run into each other: 1-3 (evenly spaced, half a
    // decade apart), then decades alone.
    [&[1.0, 2.0, 5.0][..], &[1.0, 3.0][..]]
        .into_iter()
        .map(with)
        .find(|t| t.len() <= 7)
        .unwrap_or_else(|| with(&[1.0]))
}

/// A tick label in one style for every magnitude: `5 ms`, `20 ms`, `0.5 ms`, `2 s`, `100 s`.
fn tick_seconds(x: f64) -> String {
    let (v, unit) = if x < 1.0 { (x * 1e3, "ms") } else { (x, "s") };
    if v >= 1.0 {
        format!("{} {unit}", fmt::int(v.round()))
    } else {
        format!("{v} {unit}")
    }
}

fn time_range(series: &[Sample]) -> (f64, f64) {
    let hi = series.last().map_or(1.0, |s| s.time_s).max(1e-9);
    (0.0, hi)
}

fn counts_chart<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    series: &[Sample],
) -> DrawResult<DB> {
    let (t0, t1) = time_range(series);
    let top = series
        .iter()
        .map(|s| s.queued.max(s.running) as f64)
        .fold(1.0, f64::max)
        // Headroom above the data for the legend box.
        * 1.35;
    let mut chart = ChartBuilder::on(area)
        .caption("requests queued and running", (FAMILY, 17))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(t0..t1, 0.0..top)?;
    chart
        .configure_mesh()
        .x_desc("simulated time")
        .y_desc("requests, all replicas")
        .x_label_formatter(&|x| fmt::seconds(*x))
        .y_label_formatter(&|y| fmt::int(*y))
        .label_style((FAMILY, 12))
        .axis_desc_style((FAMILY, 13))
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    for (label, color, f) in [
        (
            "queued",
            ORANGE,
            (|s: &Sample| s.queued as f64) as fn(&Sample) -> f64,
        ),
        ("running (batch)", BLUE, |s: &Sample| s.running as f64),
    ] {
        chart
            .draw_series(LineSeries::new(
                series.iter().map(|s| (s.time_s, f(s))),
                color.stroke_width(2),
            ))?
            .label(label)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .label_font((FAMILY, 12))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .draw()
}

fn kv_chart<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    series: &[Sample],
) -> DrawResult<DB> {
    let (t0, t1) = time_range(series);
    let tok_top = series
        .iter()
        .map(|s| s.output_tokens_per_s)
        .fold(1.0, f64::max)
        * 1.35;
    let mut chart = ChartBuilder::on(area)
        .caption("KV occupancy and output throughput", (FAMILY, 17))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .right_y_label_area_size(70)
        // Headroom above 100 % (unlabelled) for the legend box, as on the throughput axis.
        .build_cartesian_2d(t0..t1, 0.0..1.3)?
        .set_secondary_coord(t0..t1, 0.0..tok_top);
    chart
        .configure_mesh()
        .x_desc("simulated time")
        .y_desc("KV blocks in use (mean over replicas)")
        .x_label_formatter(&|x| fmt::seconds(*x))
        .y_label_formatter(&|y| {
            if *y > 1.0 + 1e-9 {
                String::new()
            } else {
                format!("{:.0}%", y * 100.0)
            }
        })
        .label_style((FAMILY, 12))
        .axis_desc_style((FAMILY, 13))
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    chart
        .configure_secondary_axes()
        .y_desc("output tokens/s")
        .y_label_formatter(&|y| fmt::int(*y))
        .label_style((FAMILY, 12))
        .axis_desc_style((FAMILY, 13))
        .draw()?;
    chart
        .draw_series(LineSeries::new(
            series.iter().map(|s| (s.time_s, s.kv_fraction)),
            GREEN.stroke_width(2),
        ))?
        .label("KV occupancy (left)")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], GREEN.stroke_width(2)));
    chart
        .draw_secondary_series(LineSeries::new(
            series.iter().map(|s| (s.time_s, s.output_tokens_per_s)),
            RED.stroke_width(2),
        ))?
        .label("output tok/s (right)")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], RED.stroke_width(2)));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .label_font((FAMILY, 12))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .draw()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_ticks_are_one_two_five_and_thin_out_over_decades() {
        // A TPOT axis from 15 ms to 210 ms: 20, 50, 100, 200 ms (one label was all it had).
        assert_eq!(ticks_125(0.015, 0.21), vec![0.02, 0.05, 0.1, 0.2]);
        // Three decades: 1 and 3, half a decade apart.
        let t = ticks_125(0.015, 21.0);
        assert_eq!(t.len(), 6);
        for (a, b) in t.iter().zip([0.03, 0.1, 0.3, 1.0, 3.0, 10.0]) {
            assert!((a / b - 1.0).abs() < 1e-9, "{t:?}");
        }
        // Eight decades: decades alone.
        assert_eq!(ticks_125(1e-4, 2e3).len(), 8);
        assert_eq!(tick_seconds(0.05), "50 ms");
        assert_eq!(tick_seconds(2.0), "2 s");
        assert_eq!(tick_seconds(0.0005), "0.5 ms");
    }
}
