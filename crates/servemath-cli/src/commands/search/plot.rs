//! `search --plot`: each machine's Pareto front, output tokens/s per GPU (or $ per million
//! output tokens with `--front-cost`, log scale) against tokens/s per user, with the top
//! configurations marked by rank. SVG or PNG by the file's extension, with the estimate plot's
//! embedded font.

use crate::common::fmt;
use crate::common::plot::{Kind, FAMILY, FONT};
use anyhow::anyhow;
use plotters::coord::Shift;
use plotters::prelude::*;
use servemath_report::{SearchReport, SearchRow};
use std::path::Path;

const SIZE: (u32, u32) = (1100, 680);
const COLORS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

/// What the chart shows, computed before any drawing.
struct Data {
    title: String,
    y_desc: &'static str,
    /// (machine label, points by tokens/s per user).
    fronts: Vec<(String, Vec<(f64, f64)>)>,
    /// (rank, machine index, x, y) of the top configurations.
    top: Vec<(u32, usize, f64, f64)>,
}

/// A row's y on the fronts' scale: the analytic figure, as the front lines are drawn, so
/// that a top configuration sits on or under its own front (the simulated figure, a p99
/// re-score, is in the table).
fn y_of(r: &SearchRow, cost: bool) -> Option<f64> {
    if cost {
        r.analytic.usd_per_m_output_tokens
    } else {
        Some(r.analytic.output_tokens_per_s_per_gpu)
    }
}

impl Data {
    fn new(r: &SearchReport, cost: bool) -> Data {
        let rows = if cost { &r.pareto_cost } else { &r.pareto };
        let labels: Vec<String> = r.hardware.iter().map(|h| h.label.clone()).collect();
        let fronts = labels
            .iter()
            .map(|l| {
                let pts = rows
                    .iter()
                    .filter(|row| &row.hardware == l)
                    .filter_map(|row| Some((row.analytic.tokens_per_s_per_user, y_of(row, cost)?)))
                    .collect::<Vec<_>>();
                (l.clone(), pts)
            })
            // A machine with no point on this front gets no legend entry.
            .filter(|(_, pts)| !pts.is_empty())
            .collect();
        let top = r
            .top
            .iter()
            .filter_map(|row| {
                let h = labels.iter().position(|l| *l == row.hardware)?;
                Some((
                    row.rank?,
                    h,
                    row.analytic.tokens_per_s_per_user,
                    y_of(row, cost)?,
                ))
            })
            .collect();
        Data {
            title: format!(
                "{}: Pareto front{} ({} in / {} out tokens{})",
                r.model.name,
                if r.hardware.len() > 1 { "s" } else { "" },
                fmt::int(r.input_tokens),
                fmt::int(r.output_tokens),
                [
                    r.slo.ttft_s.map(|t| format!("TTFT ≤ {}", fmt::seconds(t))),
                    r.slo.tpot_s.map(|t| format!("TPOT ≤ {}", fmt::seconds(t))),
                ]
                .into_iter()
                .flatten()
                .map(|t| format!("; {t}"))
                .collect::<String>()
            ),
            y_desc: if cost {
                "$ per million output tokens (log)"
            } else {
                "output tokens/s per GPU (log)"
            },
            fronts,
            top,
        }
    }

    /// Axis ranges around every point (padded for a log scale), never empty.
    fn ranges(&self) -> ((f64, f64), (f64, f64)) {
        let pts = self
            .fronts
            .iter()
            .flat_map(|f| f.1.iter().copied())
            .chain(self.top.iter().map(|t| (t.2, t.3)))
            .filter(|p| p.0 > 0.0 && p.1 > 0.0 && p.0.is_finite() && p.1.is_finite());
        let (mut x, mut y) = ((f64::INFINITY, 0.0f64), (f64::INFINITY, 0.0f64));
        for (a, b) in pts {
            x = (x.0.min(a), x.1.max(a));
            y = (y.0.min(b), y.1.max(b));
        }
        let pad = |r: (f64, f64)| {
            if r.0.is_finite() && r.1 > r.0 {
                (r.0 / 1.3, r.1 * 1.3)
            } else if r.0.is_finite() {
                (r.0 / 2.0, r.0 * 2.0)
            } else {
                (1.0, 10.0)
            }
        };
        // x is linear: a margin of a tenth of the span each side, not from zero.
        let x = if x.0.is_finite() && x.1 > x.0 {
            let m = 0.1 * (x.1 - x.0);
            ((x.0 - m).max(0.0), x.1 + m)
        } else {
            pad(x)
        };
        (x, pad(y))
    }
}

/// Draws the fronts of `r` to `path`.
pub fn draw(path: &Path, kind: Kind, r: &SearchReport, cost: bool) -> anyhow::Result<()> {
    plotters::style::register_font(FAMILY, FontStyle::Normal, FONT)
        .map_err(|_| anyhow!("the embedded plot font is not a valid font"))?;
    let data = Data::new(r, cost);
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

fn label(v: f64) -> String {
    if v >= 10.0 {
        fmt::int(v)
    } else {
        format!("{}", (v * 100.0).round() / 100.0)
    }
}

fn chart<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    d: &Data,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let ((x0, x1), (y0, y1)) = d.ranges();
    let mut chart = ChartBuilder::on(root)
        .caption(&d.title, (FAMILY, 22))
        .margin(18)
        .x_label_area_size(48)
        .y_label_area_size(80)
        .build_cartesian_2d(x0..x1, (y0..y1).log_scale())?;
    chart
        .configure_mesh()
        .x_desc("tokens/s per user (1 / TPOT)")
        .y_desc(d.y_desc)
        .x_label_formatter(&|x| label(*x))
        .y_label_formatter(&|y| label(*y))
        .label_style((FAMILY, 14))
        .axis_desc_style((FAMILY, 15))
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    for (i, (name, pts)) in d.fronts.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        chart
            .draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))?
            .label(name.clone())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
        chart.draw_series(
            pts.iter()
                .map(|&p| Circle::new(p, 3, color.stroke_width(1))),
        )?;
    }
    // Every top configuration gets its marker; then a rank label beside it, only where it
    // does not land on one already drawn (best ranks first), so ties at one tokens/s/user
    // stay readable. Labels go last so that no marker covers them.
    for &(_, h, x, y) in &d.top {
        let color = COLORS[h % COLORS.len()];
        chart.draw_series(std::iter::once(Circle::new((x, y), 6, color.filled())))?;
    }
    let mut labelled: Vec<(i32, i32)> = Vec::new();
    for &(rank, _, x, y) in &d.top {
        let (px, py) = chart.backend_coord(&(x, y));
        if labelled
            .iter()
            .any(|&(lx, ly)| (lx - px).abs() < 28 && (ly - py).abs() < 16)
        {
            continue;
        }
        labelled.push((px, py));
        chart.draw_series(std::iter::once(
            EmptyElement::at((x, y))
                + Text::new(
                    format!("#{rank}"),
                    (8, -16),
                    (FAMILY, 13).into_font().color(&BLACK),
                ),
        ))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .label_font((FAMILY, 14))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .draw()?;
    Ok(())
}
