//! The progress bar on stderr (only when stderr is a terminal, not with `--quiet`, and only
//! once a run has taken a second) and the `--bench` figures. The wall clock is read here, in
//! the CLI: the simulator itself never looks at it.

use crate::common::fmt;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use servemath::simulate::Expected;
use servemath_sim::SimReport;
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// Runs shorter than this show no bar at all.
const SHOW_AFTER: Duration = Duration::from_secs(1);

pub struct Progress {
    bar: Option<ProgressBar>,
    expected: Expected,
}

impl Progress {
    pub fn new(quiet: bool, expected: Expected) -> Progress {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
            if let Some(n) = expected.requests {
                bar.set_length(n);
            } else if let Some(s) = expected.span_s {
                bar.set_length(s.ceil() as u64);
            }
            let template = match (expected.requests, expected.span_s) {
                (Some(_), _) => {
                    "{spinner} simulating {bar:25} {human_pos}/{human_len} requests, {msg}"
                }
                (None, Some(_)) => "{spinner} simulating {bar:25} {human_pos}/{human_len} s, {msg}",
                (None, None) => "{spinner} simulating: {msg}",
            };
            if let Ok(style) = ProgressStyle::with_template(template) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar
        });
        Progress { bar, expected }
    }

    /// The simulator's callback: (completed requests, simulated seconds).
    pub fn callback(&self) -> Box<dyn FnMut(u64, f64) + Send> {
        let Some(bar) = self.bar.clone() else {
            return Box::new(|_, _| {});
        };
        let start = Instant::now();
        let mut shown = false;
        let by_requests = self.expected.requests.is_some();
        Box::new(move |completed, sim_s| {
            if !shown {
                if start.elapsed() < SHOW_AFTER {
                    return;
                }
                bar.set_draw_target(ProgressDrawTarget::stderr());
                bar.enable_steady_tick(Duration::from_millis(200));
                shown = true;
            }
            if by_requests {
                bar.set_position(completed);
                bar.set_message(format!("t = {}", fmt::seconds(sim_s)));
            } else {
                bar.set_position(sim_s as u64);
                bar.set_message(format!("{} requests", fmt::int(completed as f64)));
            }
        })
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// `--bench`: simulated work per wall-clock second and peak memory, on stderr.
pub fn bench(sim: &SimReport, wall_s: f64) {
    let wall = wall_s.max(1e-9);
    let rss = peak_rss_bytes()
        .map(|b| format!("; peak RSS {}", fmt::bytes(b)))
        .unwrap_or_default();
    crate::note(&format!(
        "bench: {} requests and {} steps in {} wall: {} requests/s, {} steps/s{rss}",
        fmt::int(sim.completed as f64),
        fmt::int(sim.steps as f64),
        fmt::seconds(wall_s),
        fmt::int(sim.completed as f64 / wall),
        fmt::int(sim.steps as f64 / wall),
    ));
}

/// The process's peak resident set (`VmHWM` in /proc/self/status), where the system has one.
fn peak_rss_bytes() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line
        .trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024.0)
}
