//! When requests arrive: Poisson and Gamma renewal processes (`poisson:40`, `gamma:40,2.0`),
//! optionally shaped by a daily profile of 24 hourly rate multipliers, and the seeded
//! [`ArrivalClock`] that turns them into arrival times.
//!
//! The daily profile is applied by **time-rescaling**, not thinning. The base process runs in
//! "operational time" `u`; an arrival at `u` happens at real time `t = Λ⁻¹(u)`, where
//! `Λ(t) = ∫₀ᵗ m(s) ds` and `m` is the multiplier of the hour containing `s`. The intensity at
//! `t` is then `base rate × m(t)`. For a Poisson base this is exactly the inhomogeneous Poisson
//! process with that intensity; for a Gamma base, gaps inside an hour keep the base CV and
//! stretch with the rate. Unlike thinning it draws no discarded samples and needs no upper
//! bound on `m`. Hour 0 of the profile starts at t = 0 and the profile repeats every 24 h
//! (rotate the array to start a run at another hour).

use std::fmt;
use std::str::FromStr;

use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp, Gamma};

use super::error::{parse_f64, respell, split_spec, WorkloadError};
use super::rng::{stream_rng, ARRIVAL_STREAM};

/// The largest Gamma coefficient of variation accepted: beyond it the shape `1/cv²` is so
/// small that most samples underflow to zero and the realised mean drifts from `1/rate`.
pub const MAX_CV: f64 = 100.0;

/// The smallest rate accepted, requests per second (one request in 11.6 days); for a daily
/// profile, the smallest mean rate. Far below it the mean gap `1/rate`, and a Gamma gap's
/// scale `1/(rate·shape)` (up to `MAX_CV²/rate`), leave f64's range and arrival times become
/// infinite (`gamma:1e-308,10` did).
pub const MIN_RATE_PER_S: f64 = 1e-6;

const HOUR_S: f64 = 3600.0;
const DAY_S: f64 = 86_400.0;
const EXPECTED: &str = "poisson:RATE or gamma:RATE,CV (RATE in requests per second), optionally followed by +daily:M0,...,M23";

/// An arrival process. Rates are in requests per second.
#[derive(Debug, Clone, PartialEq)]
pub enum Arrivals {
    /// Exponential gaps with mean `1/rate_per_s`.
    Poisson {
        /// Mean arrivals per second (finite, above 0).
        rate_per_s: f64,
    },
    /// Gamma gaps with mean `1/rate_per_s` and coefficient of variation `cv`
    /// (shape `1/cv²`, scale `1/(rate·shape)`); `cv = 1` is Poisson, `cv > 1` is burstier.
    Gamma {
        /// Mean arrivals per second (finite, above 0).
        rate_per_s: f64,
        /// Standard deviation of the gaps over their mean (above 0, at most [`MAX_CV`]).
        cv: f64,
    },
    /// `base` with its rate multiplied hour by hour by `profile` (see the module docs).
    Daily {
        /// The process run in operational time (itself possibly another `Daily`).
        base: Box<Arrivals>,
        /// The hourly rate multipliers.
        profile: DailyProfile,
    },
}

impl Arrivals {
    /// Wraps `self` in a daily profile.
    pub fn with_daily(self, profile: DailyProfile) -> Self {
        Self::Daily {
            base: Box::new(self),
            profile,
        }
    }

    /// Positive finite rates, `0 < cv ≤ MAX_CV`; daily profiles are valid by construction.
    pub fn validate(&self) -> Result<(), WorkloadError> {
        let spec = self.to_string();
        match *self {
            Self::Poisson { rate_per_s } => check_rate(&spec, rate_per_s),
            Self::Gamma { rate_per_s, cv } => {
                check_rate(&spec, rate_per_s)?;
                if cv.is_finite() && cv > 0.0 && cv <= MAX_CV {
                    Ok(())
                } else {
                    Err(WorkloadError::invalid(
                        spec,
                        "cv",
                        cv,
                        format!("must be above 0 and at most {MAX_CV}"),
                    ))
                }
            }
            Self::Daily { ref base, .. } => {
                base.validate()?;
                // A valid rate and valid multipliers can still overflow, or underflow, together.
                let rate = self.mean_rate_per_s();
                if rate.is_finite() && rate >= MIN_RATE_PER_S {
                    Ok(())
                } else {
                    Err(WorkloadError::invalid(
                        spec,
                        "rate",
                        rate,
                        format!(
                            "the rate times the mean daily multiplier must be a finite number, \
                             at least {MIN_RATE_PER_S:e} requests per second"
                        ),
                    ))
                }
            }
        }
    }

    /// The long-run mean rate: the base rate times the mean of each profile's multipliers.
    pub fn mean_rate_per_s(&self) -> f64 {
        match self {
            Self::Poisson { rate_per_s } | Self::Gamma { rate_per_s, .. } => *rate_per_s,
            Self::Daily { base, profile } => base.mean_rate_per_s() * profile.mean(),
        }
    }

    /// A fresh clock at t = 0 drawing from stream [`ARRIVAL_STREAM`] of `seed`.
    pub fn clock(&self, seed: u64) -> Result<ArrivalClock, WorkloadError> {
        ArrivalClock::new(self, seed)
    }
}

fn check_rate(spec: &str, rate_per_s: f64) -> Result<(), WorkloadError> {
    if !(rate_per_s.is_finite() && rate_per_s > 0.0) {
        Err(WorkloadError::invalid(
            spec,
            "rate",
            rate_per_s,
            "must be a positive, finite number of requests per second",
        ))
    } else if rate_per_s < MIN_RATE_PER_S {
        Err(WorkloadError::invalid(
            spec,
            "rate",
            rate_per_s,
            format!(
                "must be at least {MIN_RATE_PER_S:e} requests per second (one request in 11.6 days)"
            ),
        ))
    } else {
        Ok(())
    }
}

impl FromStr for Arrivals {
    type Err = WorkloadError;

    /// `poisson:40`, `gamma:40,2.0`, either followed by `+daily:M0,...,M23`; validated.
    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let (base_spec, daily) = match modifier_start(spec) {
            Some(i) => (&spec[..i], Some(&spec[i + 1..])),
            None => (spec, None),
        };
        let (kind, values) = split_spec(base_spec);
        let arity = |kind, expected, found| WorkloadError::Arity {
            spec: spec.to_string(),
            kind,
            expected,
            found,
        };
        let mut arrivals = match (kind.as_str(), values.as_slice()) {
            ("poisson", [rate]) => Self::Poisson {
                rate_per_s: parse_f64(spec, "rate", rate)?,
            },
            ("poisson", v) => return Err(arity("poisson", "one value (RATE)", v.len())),
            ("gamma", [rate, cv]) => Self::Gamma {
                rate_per_s: parse_f64(spec, "rate", rate)?,
                cv: parse_f64(spec, "cv", cv)?,
            },
            ("gamma", v) => return Err(arity("gamma", "two values (RATE,CV)", v.len())),
            _ => {
                return Err(WorkloadError::UnknownKind {
                    spec: spec.to_string(),
                    what: "arrival process",
                    kind,
                    expected: EXPECTED,
                })
            }
        };
        let raw: Vec<(&'static str, &str)> = ["rate", "cv"]
            .into_iter()
            .zip(values.iter().copied())
            .collect();
        arrivals.validate().map_err(|e| respell(e, spec, &raw))?;
        if let Some(daily) = daily {
            let profile = match split_spec(daily) {
                (kind, _) if kind == "daily" => DailyProfile::parse_in(spec, daily)?,
                (kind, _) => {
                    return Err(WorkloadError::UnknownKind {
                        spec: spec.to_string(),
                        what: "arrival modifier",
                        kind,
                        expected: "+daily:M0,...,M23",
                    })
                }
            };
            arrivals = arrivals.with_daily(profile);
            arrivals.validate().map_err(|e| respell(e, spec, &[]))?;
        }
        Ok(arrivals)
    }
}

/// Where `+name:...` begins: a `+` followed by a letter and, later, a `:` (so that `1e+3` and
/// `+inf` stay numbers).
fn modifier_start(spec: &str) -> Option<usize> {
    spec.match_indices('+').map(|(i, _)| i).find(|&i| {
        let rest = &spec[i + 1..];
        rest.starts_with(|c: char| c.is_ascii_alphabetic()) && rest.contains(':')
    })
}

impl fmt::Display for Arrivals {
    /// The form [`FromStr`] reads back (a profile nested twice prints, but does not parse).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Poisson { rate_per_s } => write!(f, "poisson:{rate_per_s}"),
            Self::Gamma { rate_per_s, cv } => write!(f, "gamma:{rate_per_s},{cv}"),
            Self::Daily { base, profile } => write!(f, "{base}+{profile}"),
        }
    }
}

/// 24 hourly rate multipliers, each finite and ≥ 0, at least one > 0. Hour `h` covers
/// `[h, h+1)` hours after t = 0, modulo a day.
#[derive(Debug, Clone, PartialEq)]
pub struct DailyProfile {
    /// Boxed to keep [`Arrivals`] small.
    hourly: Box<[f64; 24]>,
    /// `cumulative_s[h]` = Λ at the start of hour `h` (operational seconds); `[24]` is a day's.
    cumulative_s: Box<[f64; 25]>,
}

impl DailyProfile {
    /// The profile of the 24 multipliers, hour 0 first. Fails with
    /// [`WorkloadError::InvalidParam`] on a multiplier that is negative or not finite, or
    /// when every one is 0.
    pub fn new(hourly: [f64; 24]) -> Result<Self, WorkloadError> {
        let spec = || Self::display(&hourly);
        for (h, &m) in hourly.iter().enumerate() {
            if !(m.is_finite() && m >= 0.0) {
                return Err(WorkloadError::invalid(
                    spec(),
                    HOUR_NAMES[h],
                    m,
                    "a multiplier must be finite and at least 0",
                ));
            }
        }
        if hourly.iter().all(|&m| m == 0.0) {
            return Err(WorkloadError::invalid(
                spec(),
                "multipliers",
                "all 0",
                "at least one hour needs a positive multiplier",
            ));
        }
        let mut cumulative_s = [0.0; 25];
        for h in 0..24 {
            cumulative_s[h + 1] = cumulative_s[h] + hourly[h] * HOUR_S;
        }
        // Each multiplier finite is not enough: near f64::MAX a day's operational seconds
        // overflow to infinity, and every arrival after the first would land at time 0.
        if !cumulative_s[24].is_finite() {
            let sum: f64 = hourly.iter().sum();
            return Err(WorkloadError::invalid(
                spec(),
                "multipliers",
                format!("sum {sum:e}"),
                format!(
                    "must sum to at most {:e}, so that a day's traffic is a finite number",
                    f64::MAX / HOUR_S
                ),
            ));
        }
        Ok(Self {
            hourly: Box::new(hourly),
            cumulative_s: Box::new(cumulative_s),
        })
    }

    /// The 24 hourly multipliers, hour 0 first.
    pub fn multipliers(&self) -> &[f64; 24] {
        &self.hourly
    }

    /// The mean multiplier over a day: the factor on the base process's long-run rate.
    pub fn mean(&self) -> f64 {
        self.hourly.iter().sum::<f64>() / 24.0
    }

    /// The multiplier in force at `t_s` seconds after the start.
    pub fn multiplier_at(&self, t_s: f64) -> f64 {
        let h = (t_s.rem_euclid(DAY_S) / HOUR_S).floor() as usize;
        self.hourly.get(h.min(23)).copied().unwrap_or(0.0)
    }

    /// Λ(t): operational seconds elapsed by real time `t_s` (≥ 0).
    pub fn to_operational_s(&self, t_s: f64) -> f64 {
        let days = (t_s / DAY_S).floor();
        let rem = t_s - days * DAY_S;
        let h = ((rem / HOUR_S).floor() as usize).min(23);
        days * self.cumulative_s[24]
            + self.cumulative_s[h]
            + self.hourly[h] * (rem - h as f64 * HOUR_S)
    }

    /// Λ⁻¹(u): the earliest real time at which `u` operational seconds have elapsed. Hours with
    /// multiplier 0 are jumped over, so no arrival ever lands in one.
    pub fn to_real_s(&self, operational_s: f64) -> f64 {
        let day_op = self.cumulative_s[24];
        let mut days = (operational_s / day_op).floor().max(0.0);
        let mut r = (operational_s - days * day_op).max(0.0);
        // First hour whose end lies beyond r; none (r rounded up to a whole day) means the
        // next day's first active hour.
        let mut h = self.cumulative_s[1..].partition_point(|&c| c <= r);
        if h >= 24 {
            days += 1.0;
            r = 0.0;
            h = self.cumulative_s[1..].partition_point(|&c| c <= r);
        }
        let h = h.min(23);
        let m = self.hourly[h];
        let within = if m > 0.0 {
            ((r - self.cumulative_s[h]) / m).clamp(0.0, HOUR_S)
        } else {
            0.0
        };
        days * DAY_S + h as f64 * HOUR_S + within
    }

    /// Parses `daily:M0,...,M23` inside the arrival specification `spec` (for error messages).
    fn parse_in(spec: &str, daily: &str) -> Result<Self, WorkloadError> {
        let (_, values) = split_spec(daily);
        if values.len() != 24 {
            return Err(WorkloadError::Arity {
                spec: spec.to_string(),
                kind: "daily",
                expected: "24 hourly multipliers",
                found: values.len(),
            });
        }
        let mut hourly = [0.0; 24];
        for (h, v) in values.iter().enumerate() {
            hourly[h] = parse_f64(spec, HOUR_NAMES[h], v)?;
        }
        Self::new(hourly).map_err(|e| respell(e, spec, &[]))
    }

    fn display(hourly: &[f64; 24]) -> String {
        let ms: Vec<String> = hourly.iter().map(f64::to_string).collect();
        format!("daily:{}", ms.join(","))
    }
}

impl FromStr for DailyProfile {
    type Err = WorkloadError;

    /// `daily:M0,...,M23` or just the 24 comma-separated multipliers.
    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let body = match spec.trim().split_once(':') {
            Some(_) => spec.to_string(),
            None => format!("daily:{spec}"),
        };
        match split_spec(&body) {
            (kind, _) if kind == "daily" => Self::parse_in(spec, &body),
            (kind, _) => Err(WorkloadError::UnknownKind {
                spec: spec.to_string(),
                what: "daily profile",
                kind,
                expected: "daily:M0,...,M23",
            }),
        }
    }
}

impl fmt::Display for DailyProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&Self::display(&self.hourly))
    }
}

/// Names of the 24 multipliers in error messages.
const HOUR_NAMES: [&str; 24] = [
    "hour 0", "hour 1", "hour 2", "hour 3", "hour 4", "hour 5", "hour 6", "hour 7", "hour 8",
    "hour 9", "hour 10", "hour 11", "hour 12", "hour 13", "hour 14", "hour 15", "hour 16",
    "hour 17", "hour 18", "hour 19", "hour 20", "hour 21", "hour 22", "hour 23",
];

#[derive(Debug, Clone)]
enum Gaps {
    Exp(Exp<f64>),
    Gamma(Gamma<f64>),
}

/// Arrival times of one validated [`Arrivals`], drawn lazily: constant memory however many are
/// drawn. Times are non-decreasing and start after t = 0 (the first gap is drawn too).
#[derive(Debug, Clone)]
pub struct ArrivalClock {
    gaps: Gaps,
    /// Innermost first: an arrival's operational time goes through each in turn.
    profiles: Vec<DailyProfile>,
    operational_s: f64,
    last_s: f64,
    rng: ChaCha8Rng,
}

impl ArrivalClock {
    /// A clock at t = 0 for `arrivals`, drawing gaps from stream
    /// [`ARRIVAL_STREAM`](super::rng::ARRIVAL_STREAM) of `seed`. Fails as
    /// [`Arrivals::validate`] does.
    pub fn new(arrivals: &Arrivals, seed: u64) -> Result<Self, WorkloadError> {
        arrivals.validate()?;
        let mut profiles = Vec::new();
        let mut base = arrivals;
        while let Arrivals::Daily {
            base: inner,
            profile,
        } = base
        {
            profiles.push(profile.clone());
            base = inner;
        }
        profiles.reverse();
        let spec = arrivals.to_string();
        let refused = |e: String| WorkloadError::invalid(spec.clone(), "parameters", &spec, e);
        let gaps = match *base {
            Arrivals::Poisson { rate_per_s } => {
                Gaps::Exp(Exp::new(rate_per_s).map_err(|e| refused(e.to_string()))?)
            }
            Arrivals::Gamma { rate_per_s, cv } => {
                let shape = 1.0 / (cv * cv);
                let scale = 1.0 / (rate_per_s * shape);
                Gaps::Gamma(Gamma::new(shape, scale).map_err(|e| refused(e.to_string()))?)
            }
            // The loop above unwrapped every profile.
            Arrivals::Daily { .. } => {
                return Err(WorkloadError::invalid(
                    spec.clone(),
                    "base",
                    &spec,
                    "no base process",
                ))
            }
        };
        Ok(Self {
            gaps,
            profiles,
            operational_s: 0.0,
            last_s: 0.0,
            rng: stream_rng(seed, ARRIVAL_STREAM),
        })
    }

    /// The next arrival time in seconds from the start.
    pub fn next_arrival_s(&mut self) -> f64 {
        let gap = match &self.gaps {
            Gaps::Exp(d) => d.sample(&mut self.rng),
            Gaps::Gamma(d) => d.sample(&mut self.rng),
        };
        self.operational_s += gap;
        let t = self
            .profiles
            .iter()
            .fold(self.operational_s, |u, p| p.to_real_s(u));
        // Rounding at day boundaries must never let time run backwards.
        self.last_s = self.last_s.max(t);
        self.last_s
    }
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;

    fn check_parse(spec: &str, expect: Result<Arrivals, &str>) {
        match (spec.parse::<Arrivals>(), expect) {
            (Ok(a), Ok(e)) => assert_eq!(a, e, "{spec}"),
            (Err(err), Err(fragment)) => {
                let msg = err.to_string();
                assert!(msg.contains(fragment), "{spec}: `{msg}` lacks `{fragment}`");
                assert!(msg.contains(spec), "{spec}: `{msg}` does not quote it");
            }
            (got, expect) => panic!("{spec}: got {got:?}, expected {expect:?}"),
        }
    }

    #[test]
    fn parses_and_refuses() {
        check_parse("poisson:40", Ok(Arrivals::Poisson { rate_per_s: 40.0 }));
        check_parse(
            "gamma:40,2.0",
            Ok(Arrivals::Gamma {
                rate_per_s: 40.0,
                cv: 2.0,
            }),
        );
        check_parse(
            "poisson:0",
            Err("rate = `0`: must be a positive, finite number"),
        );
        check_parse("poisson:-1", Err("rate = `-1`"));
        check_parse("poisson:inf", Err("rate = `inf`: must be a finite number"));
        check_parse("poisson:NaN", Err("rate = `NaN`"));
        check_parse("poisson:fast", Err("rate = `fast`: not a number"));
        check_parse("poisson:1e+3", Ok(Arrivals::Poisson { rate_per_s: 1000.0 }));
        check_parse("gamma:40,0", Err("cv = `0`: must be above 0"));
        check_parse("gamma:40,-2", Err("cv = `-2`"));
        check_parse(
            "gamma:40,1000",
            Err("cv = `1000`: must be above 0 and at most 100"),
        );
        check_parse("gamma:40", Err("gamma takes two values (RATE,CV), got 1"));
        check_parse("poisson:4,5", Err("poisson takes one value (RATE), got 2"));
        check_parse("poison:40", Err("unknown arrival process `poison`"));
        check_parse("40", Err("unknown arrival process ``"));
        check_parse(
            "poisson:40+daily:1,2",
            Err("daily takes 24 hourly multipliers, got 2"),
        );
        check_parse(
            "poisson:40+weekly:1",
            Err("unknown arrival modifier `weekly`"),
        );
        let zeros = vec!["0"; 24].join(",");
        check_parse(
            &format!("poisson:1+daily:{zeros}"),
            Err("at least one hour"),
        );
        let neg = format!("poisson:1+daily:-1,{}", vec!["1"; 23].join(","));
        check_parse(&neg, Err("hour 0 = `-1`: a multiplier must be finite"));
        // Found by the workload_spec fuzz target: each value finite, their sum (or its
        // product with the rate) not; the mean rate was infinite.
        let huge = format!("gamma:40,2+daily:1.51e308,{}", vec!["0.5"; 23].join(","));
        check_parse(
            &huge,
            Err("multipliers = `sum 1.51e308`: must sum to at most"),
        );
        let big = format!("poisson:1e300+daily:1e10,{}", vec!["0"; 23].join(","));
        check_parse(&big, Err("rate times the mean daily multiplier"));
        let tiny = format!("poisson:1e-5+daily:1e-3,{}", vec!["0"; 23].join(","));
        check_parse(&tiny, Err("rate times the mean daily multiplier"));
        // Found by the workload_spec fuzz target: a gap's scale 1/(rate·shape) overflowed and
        // the second arrival came at infinity.
        check_parse(
            "gamma:1e-308,10",
            Err("rate = `1e-308`: must be at least 1e-6 requests per second"),
        );
        check_parse("poisson:1e-6", Ok(Arrivals::Poisson { rate_per_s: 1e-6 }));
    }

    #[test]
    fn daily_profiles_parse() {
        let ones = vec!["1"; 24].join(",");
        let p: DailyProfile = ones.parse().unwrap();
        assert!(p.multipliers().iter().all(|&m| (m - 1.0).abs() < 1e-15));
        assert_eq!(format!("daily:{ones}").parse::<DailyProfile>().unwrap(), p);
        let err = "daily:1,2".parse::<DailyProfile>().unwrap_err().to_string();
        assert_eq!(
            err,
            "`daily:1,2`: daily takes 24 hourly multipliers, got 2 value(s)"
        );
        let err = "weekly:1".parse::<DailyProfile>().unwrap_err().to_string();
        assert!(err.contains("unknown daily profile `weekly`"), "{err}");
        let nan = format!("{},NaN", vec!["1"; 23].join(","));
        let err = nan.parse::<DailyProfile>().unwrap_err().to_string();
        assert!(
            err.ends_with("hour 23 = `NaN`: must be a finite number"),
            "{err}"
        );
        assert!((p.multiplier_at(25.5 * HOUR_S) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn display_round_trips() {
        let ramp: Vec<String> = (0..24).map(|h| (h as f64 / 4.0).to_string()).collect();
        for spec in [
            "poisson:40".to_string(),
            "gamma:2.5,0.5".to_string(),
            format!("gamma:3,2+daily:{}", ramp.join(",")),
        ] {
            let a: Arrivals = spec.parse().unwrap();
            assert_eq!(a.to_string(), spec);
        }
    }

    /// Mean and CV of `n` gaps.
    fn gap_stats(arrivals: &Arrivals, n: usize, seed: u64) -> (f64, f64) {
        let mut clock = arrivals.clock(seed).unwrap();
        let mut prev = 0.0;
        let (mut sum, mut sum2) = (0.0, 0.0);
        for _ in 0..n {
            let t = clock.next_arrival_s();
            let gap = t - prev;
            assert!(gap >= 0.0);
            prev = t;
            sum += gap;
            sum2 += gap * gap;
        }
        let m = sum / n as f64;
        (m, (sum2 / n as f64 - m * m).sqrt() / m)
    }

    #[test]
    fn renewal_gaps_have_the_stated_mean_and_cv() {
        // n = 400k gaps. Mean: se = cv/(rate·√n) (≤ 0.32 % of the mean at cv 2); allow 4.5 se.
        // CV: the estimate's sd is ≈ 0.4 % at cv 1 and ≈ 1 % at cv 2 (gamma shape 1/4, whose
        // fourth moment inflates it); allow 4 %.
        let n = 400_000;
        for (spec, cv) in [
            ("poisson:40", 1.0),
            ("gamma:40,2.0", 2.0),
            ("gamma:5,0.5", 0.5),
        ] {
            let a: Arrivals = spec.parse().unwrap();
            let rate = a.mean_rate_per_s();
            let (m, got_cv) = gap_stats(&a, n, 42);
            let se = cv / rate / (n as f64).sqrt();
            println!(
                "{spec}: mean gap {m:.6} (1/rate {:.6}), cv {got_cv:.4}",
                1.0 / rate
            );
            assert!((m - 1.0 / rate).abs() < 4.5 * se, "{spec}: mean gap {m}");
            assert!((got_cv / cv - 1.0).abs() < 0.04, "{spec}: cv {got_cv}");
        }
    }

    fn ramp_profile() -> DailyProfile {
        // Night hours 0-5 closed, then 1, 2, 3, 1, 2, 3, ...
        let mut hourly = [0.0; 24];
        for (h, m) in hourly.iter_mut().enumerate().skip(6) {
            *m = (h % 3 + 1) as f64;
        }
        DailyProfile::new(hourly).unwrap()
    }

    #[test]
    fn rescaling_inverts_the_cumulative_rate() {
        let p = ramp_profile();
        for t in [
            6.0 * HOUR_S,
            7.5 * HOUR_S,
            23.99 * HOUR_S,
            3.3 * DAY_S + 12_345.0,
        ] {
            let back = p.to_real_s(p.to_operational_s(t));
            assert!((back - t).abs() < 1e-6 * t.max(1.0), "{t} -> {back}");
        }
        // Operational time 0 is reached at the start of the first open hour.
        assert!((p.to_real_s(0.0) - 6.0 * HOUR_S).abs() < 1e-9);
        // A whole day of operational time ends at the next day's first open hour.
        let day = p.to_operational_s(DAY_S);
        assert!((p.to_real_s(day) - (DAY_S + 6.0 * HOUR_S)).abs() < 1e-6);
    }

    #[test]
    fn a_daily_profile_shapes_the_hourly_counts() {
        // Poisson at 0.5/s rescaled by the ramp over 4 days: the count in hour h is Poisson
        // with mean 4 days × 3600 s × 0.5/s × m[h]; closed hours get none. Allow 5 sd.
        let a = Arrivals::Poisson { rate_per_s: 0.5 }.with_daily(ramp_profile());
        let mut clock = a.clock(9).unwrap();
        let mut counts = [0u64; 24];
        loop {
            let t = clock.next_arrival_s();
            if t >= 4.0 * DAY_S {
                break;
            }
            counts[(t.rem_euclid(DAY_S) / HOUR_S) as usize] += 1;
        }
        let p = ramp_profile();
        for (h, (&count, &m)) in counts.iter().zip(p.multipliers()).enumerate() {
            let expect = 4.0 * HOUR_S * 0.5 * m;
            let got = count as f64;
            assert!(
                (got - expect).abs() <= 5.0 * expect.sqrt(),
                "hour {h}: {got} arrivals, expected {expect}"
            );
        }
        assert!((a.mean_rate_per_s() - 0.5 * 36.0 / 24.0).abs() < 1e-12);
    }

    #[test]
    fn clocks_are_reproducible() {
        let a: Arrivals = "gamma:10,3".parse().unwrap();
        let draw = |seed| {
            let mut c = a.clock(seed).unwrap();
            (0..1000)
                .map(|_| c.next_arrival_s().to_bits())
                .collect::<Vec<_>>()
        };
        assert_eq!(draw(1), draw(1));
        assert_ne!(draw(1), draw(2));
        let err = Arrivals::Poisson { rate_per_s: 0.0 }.clock(1).unwrap_err();
        assert_eq!(
            err.to_string(),
            "`poisson:0`: rate = `0`: must be a positive, finite number of requests per second"
        );
    }
}
