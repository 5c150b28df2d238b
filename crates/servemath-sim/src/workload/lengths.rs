//! Prompt and output lengths: parametric distributions (`fixed:128`, `uniform:100,900`,
//! `lognormal:2000,1.0`), joint (input, output) pairs resampled from a lengths-only trace, and
//! the seeded [`LengthSampler`] that draws both for each new request.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use super::error::{parse_f64, respell, split_spec, WorkloadError};
use super::rng::{stream_rng, LENGTH_STREAM};

/// The longest prompt or output, in tokens, that a distribution may produce or a trace may hold.
///
/// A million tokens is beyond every shipped model's context; anything larger is far more likely
/// a unit mistake than a workload, and the bound keeps `input + output` sums well inside `u32`.
pub const MAX_TOKENS: u32 = 1_000_000;

/// The largest log-normal `sigma` accepted. At `sigma = 4` the 99th percentile is already
/// ~10⁴ times the median; beyond it clamping to `[1, MAX_TOKENS]` moves the realised mean far
/// from the stated one, so the stated mean would be a fiction.
pub const MAX_SIGMA: f64 = 4.0;

const EXPECTED: &str = "fixed:N, uniform:LO,HI, lognormal:MEAN,SIGMA or a bare N";

/// A distribution of one token count (prompt or output), always sampled into `[1, MAX_TOKENS]`.
#[derive(Debug, Clone, PartialEq)]
pub enum LengthDist {
    /// Always `n` tokens.
    Fixed(u32),
    /// Uniform over the integers `lo..=hi`.
    Uniform {
        /// Fewest tokens, in `[1, MAX_TOKENS]`.
        lo: u32,
        /// Most tokens, in `[lo, MAX_TOKENS]`.
        hi: u32,
    },
    /// Log-normal with the given mean in tokens and `sigma` of the underlying normal:
    /// `mu = ln(mean) − sigma²/2`, so that `E[X] = mean`. Samples are rounded to the nearest
    /// integer and clamped to `[1, MAX_TOKENS]` (which moves the mean negligibly for the
    /// accepted `sigma ≤ MAX_SIGMA` and realistic means). `sigma = 0` is allowed and gives
    /// `Fixed(round(mean))`.
    LogNormal {
        /// Mean in tokens, in `[1, MAX_TOKENS]`.
        mean: f64,
        /// Standard deviation of the underlying normal, in `[0, MAX_SIGMA]`.
        sigma: f64,
    },
}

impl LengthDist {
    /// Checks the ranges documented on each variant and on [`MAX_TOKENS`] / [`MAX_SIGMA`].
    pub fn validate(&self) -> Result<(), WorkloadError> {
        let spec = self.to_string();
        match *self {
            Self::Fixed(n) => check_tokens(&spec, "n", n),
            Self::Uniform { lo, hi } => {
                check_tokens(&spec, "lo", lo)?;
                check_tokens(&spec, "hi", hi)?;
                if lo > hi {
                    return Err(WorkloadError::invalid(
                        spec,
                        "lo",
                        lo,
                        format!("must not exceed hi = {hi}"),
                    ));
                }
                Ok(())
            }
            Self::LogNormal { mean, sigma } => {
                if !(mean.is_finite() && mean >= 1.0 && mean <= f64::from(MAX_TOKENS)) {
                    return Err(WorkloadError::invalid(
                        spec,
                        "mean",
                        mean,
                        format!("must be between 1 and {MAX_TOKENS} tokens"),
                    ));
                }
                if !(sigma.is_finite() && (0.0..=MAX_SIGMA).contains(&sigma)) {
                    return Err(WorkloadError::invalid(
                        spec,
                        "sigma",
                        sigma,
                        format!("must be between 0 and {MAX_SIGMA}"),
                    ));
                }
                Ok(())
            }
        }
    }

    /// The distribution's mean in tokens, before rounding and clamping.
    pub fn mean(&self) -> f64 {
        match *self {
            Self::Fixed(n) => f64::from(n),
            Self::Uniform { lo, hi } => (f64::from(lo) + f64::from(hi)) / 2.0,
            Self::LogNormal { mean, .. } => mean,
        }
    }

    /// One token count in `[1, MAX_TOKENS]`. Total even on an unvalidated value (a reversed
    /// uniform range is read as its sorted form, a NaN as 1), so the engine never panics.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> u32 {
        match *self {
            Self::Fixed(n) => n.clamp(1, MAX_TOKENS),
            Self::Uniform { lo, hi } => {
                let (lo, hi) = (lo.min(hi), lo.max(hi));
                rng.random_range(lo..=hi).clamp(1, MAX_TOKENS)
            }
            Self::LogNormal { mean, sigma } => {
                let mu = mean.ln() - sigma * sigma / 2.0;
                let z: f64 = StandardNormal.sample(rng);
                round_tokens((mu + sigma * z).exp())
            }
        }
    }
}

/// Rounds to the nearest integer and clamps to `[1, MAX_TOKENS]`; NaN becomes 1.
fn round_tokens(x: f64) -> u32 {
    let max = f64::from(MAX_TOKENS);
    if x.is_nan() {
        return 1;
    }
    // In range after the clamp, so the cast neither truncates nor saturates.
    x.round().clamp(1.0, max) as u32
}

fn check_tokens(spec: &str, param: &'static str, n: u32) -> Result<(), WorkloadError> {
    if (1..=MAX_TOKENS).contains(&n) {
        Ok(())
    } else {
        Err(WorkloadError::invalid(
            spec,
            param,
            n,
            format!("must be between 1 and {MAX_TOKENS} tokens"),
        ))
    }
}

/// Parses a whole token count in `[1, MAX_TOKENS]`, saying why a value is refused.
pub(crate) fn parse_tokens(
    spec: &str,
    param: &'static str,
    value: &str,
) -> Result<u32, WorkloadError> {
    tokens_or_reason(value).map_err(|reason| WorkloadError::invalid(spec, param, value, reason))
}

/// A whole token count in `[1, MAX_TOKENS]`, or why `value` is not one (lowercase reason).
pub(crate) fn tokens_or_reason(value: &str) -> Result<u32, String> {
    Err(match value.parse::<u64>() {
        Ok(0) => "must be at least 1 token".to_string(),
        Ok(n) => match u32::try_from(n) {
            Ok(n) if n <= MAX_TOKENS => return Ok(n),
            _ => format!("more than {MAX_TOKENS} tokens"),
        },
        Err(_) => match value.parse::<f64>() {
            Ok(x) if x.is_nan() => "not a number".to_string(),
            Ok(x) if x <= 0.0 => "must be positive".to_string(),
            Ok(x) if x > f64::from(MAX_TOKENS) => format!("more than {MAX_TOKENS} tokens"),
            Ok(_) => "must be a whole number of tokens".to_string(),
            Err(_) => "not a number".to_string(),
        },
    })
}

fn arity(spec: &str, kind: &'static str, expected: &'static str, found: usize) -> WorkloadError {
    WorkloadError::Arity {
        spec: spec.to_string(),
        kind,
        expected,
        found,
    }
}

impl FromStr for LengthDist {
    type Err = WorkloadError;

    /// `fixed:128`, `128`, `uniform:100,900`, `lognormal:2000,1.0`; validated.
    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let (kind, values) = split_spec(spec);
        // The parsed value, and each parameter's text for error messages.
        let (dist, raw): (Self, Vec<(&'static str, &str)>) =
            match (kind.as_str(), values.as_slice()) {
                ("" | "fixed", [n]) => (Self::Fixed(parse_tokens(spec, "n", n)?), vec![("n", n)]),
                ("fixed", v) => return Err(arity(spec, "fixed", "one value (N)", v.len())),
                ("uniform", [lo, hi]) => (
                    Self::Uniform {
                        lo: parse_tokens(spec, "lo", lo)?,
                        hi: parse_tokens(spec, "hi", hi)?,
                    },
                    vec![("lo", lo), ("hi", hi)],
                ),
                ("uniform", v) => {
                    return Err(arity(spec, "uniform", "two values (LO,HI)", v.len()))
                }
                ("lognormal", [mean, sigma]) => (
                    Self::LogNormal {
                        mean: parse_f64(spec, "mean", mean)?,
                        sigma: parse_f64(spec, "sigma", sigma)?,
                    },
                    vec![("mean", mean), ("sigma", sigma)],
                ),
                ("lognormal", v) => {
                    return Err(arity(spec, "lognormal", "two values (MEAN,SIGMA)", v.len()))
                }
                _ => {
                    return Err(WorkloadError::UnknownKind {
                        spec: spec.to_string(),
                        what: "length distribution",
                        kind,
                        expected: EXPECTED,
                    })
                }
            };
        dist.validate().map_err(|e| respell(e, spec, &raw))?;
        Ok(dist)
    }
}

impl fmt::Display for LengthDist {
    /// The form [`FromStr`] reads back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Fixed(n) => write!(f, "fixed:{n}"),
            Self::Uniform { lo, hi } => write!(f, "uniform:{lo},{hi}"),
            Self::LogNormal { mean, sigma } => write!(f, "lognormal:{mean},{sigma}"),
        }
    }
}

/// One request's token counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LengthPair {
    /// Prompt tokens.
    pub input_tokens: u32,
    /// Output tokens, the first included.
    pub output_tokens: u32,
}

/// Joint (input, output) pairs from a lengths-only trace, resampled uniformly with replacement
/// so that the correlation between prompt and response lengths is kept. Cheap to clone.
#[derive(Debug, Clone, PartialEq)]
pub struct Empirical {
    pairs: Arc<[LengthPair]>,
}

impl Empirical {
    /// Refuses an empty table and any count outside `[1, MAX_TOKENS]` (naming its row, 1-based).
    pub fn new(pairs: Vec<LengthPair>) -> Result<Self, WorkloadError> {
        if pairs.is_empty() {
            return Err(WorkloadError::invalid(
                "empirical",
                "pairs",
                "[]",
                "needs at least one (input, output) pair",
            ));
        }
        for (i, p) in pairs.iter().enumerate() {
            let spec = format!("empirical row {}", i + 1);
            check_tokens(&spec, "input_tokens", p.input_tokens)?;
            check_tokens(&spec, "output_tokens", p.output_tokens)?;
        }
        Ok(Self {
            pairs: pairs.into(),
        })
    }

    /// The table's pairs in the order given.
    pub fn pairs(&self) -> &[LengthPair] {
        &self.pairs
    }

    /// Pairs in the table (at least 1).
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// Always false for a constructed table; here for clippy's `len_without_is_empty`.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// Mean prompt tokens over the table: the mean a uniform resample converges to.
    pub fn mean_input_tokens(&self) -> f64 {
        mean(self.pairs.iter().map(|p| p.input_tokens))
    }

    /// Mean output tokens over the table.
    pub fn mean_output_tokens(&self) -> f64 {
        mean(self.pairs.iter().map(|p| p.output_tokens))
    }

    /// One pair, uniformly at random.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> LengthPair {
        let fallback = LengthPair {
            input_tokens: 1,
            output_tokens: 1,
        };
        if self.pairs.is_empty() {
            return fallback;
        }
        let i = rng.random_range(0..self.pairs.len());
        self.pairs.get(i).copied().unwrap_or(fallback)
    }
}

fn mean(xs: impl ExactSizeIterator<Item = u32>) -> f64 {
    let n = xs.len();
    let sum: u64 = xs.map(u64::from).sum();
    if n == 0 {
        0.0
    } else {
        sum as f64 / n as f64
    }
}

/// Where a request's lengths come from: two independent distributions, or joint pairs.
#[derive(Debug, Clone, PartialEq)]
pub enum Lengths {
    /// Prompt and output lengths drawn independently (`--input`, `--output`).
    Independent {
        /// Prompt tokens.
        input: LengthDist,
        /// Output tokens.
        output: LengthDist,
    },
    /// (input, output) pairs resampled together from a table (`--lengths-from`).
    Empirical(Empirical),
}

impl Lengths {
    /// Checks each distribution as [`LengthDist::validate`] does (an [`Empirical`] table was
    /// checked when built).
    pub fn validate(&self) -> Result<(), WorkloadError> {
        match self {
            Self::Independent { input, output } => {
                input.validate()?;
                output.validate()
            }
            // Checked by `Empirical::new`, the only way to build one.
            Self::Empirical(_) => Ok(()),
        }
    }

    /// Mean prompt tokens: the distribution's (before rounding and clamping) or the table's.
    pub fn mean_input_tokens(&self) -> f64 {
        match self {
            Self::Independent { input, .. } => input.mean(),
            Self::Empirical(e) => e.mean_input_tokens(),
        }
    }

    /// Mean output tokens: the distribution's (before rounding and clamping) or the table's.
    pub fn mean_output_tokens(&self) -> f64 {
        match self {
            Self::Independent { output, .. } => output.mean(),
            Self::Empirical(e) => e.mean_output_tokens(),
        }
    }

    /// Input first, then output, from the same RNG.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> LengthPair {
        match self {
            Self::Independent { input, output } => LengthPair {
                input_tokens: input.sample(rng),
                output_tokens: output.sample(rng),
            },
            Self::Empirical(e) => e.sample(rng),
        }
    }
}

/// Validated [`Lengths`] with their own seeded RNG: what the engine calls to draw the next
/// request's lengths (closed-loop clients) and what [`super::Synthetic`] uses inside.
///
/// Its RNG is stream [`LENGTH_STREAM`] of `ChaCha8Rng::seed_from_u64(seed)`, separate from the
/// arrival stream, so changing the length distribution never moves an arrival time.
#[derive(Debug, Clone)]
pub struct LengthSampler {
    lengths: Lengths,
    rng: ChaCha8Rng,
}

impl LengthSampler {
    /// A sampler of `lengths` on stream [`LENGTH_STREAM`] of `seed`; fails as
    /// [`Lengths::validate`] does.
    pub fn new(lengths: Lengths, seed: u64) -> Result<Self, WorkloadError> {
        lengths.validate()?;
        Ok(Self {
            lengths,
            rng: stream_rng(seed, LENGTH_STREAM),
        })
    }

    /// What it samples.
    pub fn lengths(&self) -> &Lengths {
        &self.lengths
    }

    /// The next request's (input, output) token counts.
    pub fn next_pair(&mut self) -> LengthPair {
        self.lengths.sample(&mut self.rng)
    }
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;

    fn check_parse(spec: &str, expect: Result<LengthDist, &str>) {
        let got = spec.parse::<LengthDist>();
        match (got, expect) {
            (Ok(d), Ok(e)) => assert_eq!(d, e, "{spec}"),
            (Err(err), Err(fragment)) => {
                let msg = err.to_string();
                assert!(msg.contains(fragment), "{spec}: `{msg}` lacks `{fragment}`");
                assert!(
                    msg.contains(spec.trim()),
                    "{spec}: `{msg}` does not quote it"
                );
            }
            (got, expect) => panic!("{spec}: got {got:?}, expected {expect:?}"),
        }
    }

    #[test]
    fn parses_every_kind() {
        use LengthDist::*;
        check_parse("fixed:128", Ok(Fixed(128)));
        check_parse("128", Ok(Fixed(128)));
        check_parse(" fixed : 128 ", Ok(Fixed(128)));
        check_parse("uniform:100,900", Ok(Uniform { lo: 100, hi: 900 }));
        check_parse("uniform:5,5", Ok(Uniform { lo: 5, hi: 5 }));
        check_parse(
            "lognormal:2000,1.0",
            Ok(LogNormal {
                mean: 2000.0,
                sigma: 1.0,
            }),
        );
        check_parse(
            "LogNormal:300,0",
            Ok(LogNormal {
                mean: 300.0,
                sigma: 0.0,
            }),
        );
    }

    #[test]
    fn refuses_bad_values_naming_them() {
        check_parse("fixed:0", Err("n = `0`: must be at least 1 token"));
        check_parse("0", Err("n = `0`: must be at least 1 token"));
        check_parse("fixed:-5", Err("n = `-5`: must be positive"));
        check_parse("fixed:12.5", Err("n = `12.5`: must be a whole number"));
        check_parse("fixed:abc", Err("n = `abc`: not a number"));
        check_parse("fixed:NaN", Err("n = `NaN`: not a number"));
        check_parse(
            "fixed:2000000",
            Err("n = `2000000`: more than 1000000 tokens"),
        );
        check_parse("fixed:1e7", Err("more than 1000000 tokens"));
        check_parse(
            "uniform:900,100",
            Err("lo = `900`: must not exceed hi = 100"),
        );
        check_parse(
            "uniform:100",
            Err("uniform takes two values (LO,HI), got 1"),
        );
        check_parse("lognormal:2000", Err("lognormal takes two values"));
        check_parse("lognormal:0,1", Err("mean = `0`: must be between 1 and"));
        check_parse("lognormal:-3,1", Err("mean = `-3`"));
        check_parse(
            "lognormal:NaN,1",
            Err("mean = `NaN`: must be a finite number"),
        );
        check_parse("lognormal:2e6,1", Err("mean = `2e6`"));
        check_parse(
            "lognormal:2000,-1",
            Err("sigma = `-1`: must be between 0 and 4"),
        );
        check_parse(
            "lognormal:2000,inf",
            Err("sigma = `inf`: must be a finite number"),
        );
        check_parse(
            "lognorm:2000,1",
            Err("unknown length distribution `lognorm`"),
        );
        check_parse("", Err("n = ``: not a number"));
    }

    proptest::proptest! {
        /// Any text either parses to a distribution whose samples are in range and whose
        /// display parses back to it, or is refused with a message quoting it.
        #[test]
        fn parsing_never_panics_and_round_trips(spec in "(fixed|uniform|lognormal|x)?:?[-0-9.,eNaif ]{0,16}") {
            match spec.parse::<LengthDist>() {
                Ok(d) => {
                    let mut rng = stream_rng(0, LENGTH_STREAM);
                    let x = d.sample(&mut rng);
                    proptest::prop_assert!((1..=MAX_TOKENS).contains(&x));
                    proptest::prop_assert_eq!(d.to_string().parse::<LengthDist>().unwrap(), d);
                }
                Err(e) => {
                    let quoted = format!("`{}`", spec);
                    proptest::prop_assert!(e.to_string().contains(&quoted), "{}", e);
                }
            }
        }
    }

    #[test]
    fn display_round_trips() {
        for spec in [
            "fixed:7",
            "uniform:1,9",
            "lognormal:2000,1",
            "lognormal:300.5,0.25",
        ] {
            let d: LengthDist = spec.parse().unwrap();
            assert_eq!(d.to_string(), spec);
            assert_eq!(d.to_string().parse::<LengthDist>().unwrap(), d);
        }
    }

    /// Sample mean and its standard error.
    fn sample_stats(dist: &LengthDist, n: usize, seed: u64) -> (f64, f64, u32, u32) {
        let mut rng = stream_rng(seed, LENGTH_STREAM);
        let (mut sum, mut sum2, mut lo, mut hi) = (0.0, 0.0, u32::MAX, 0);
        for _ in 0..n {
            let x = dist.sample(&mut rng);
            lo = lo.min(x);
            hi = hi.max(x);
            sum += f64::from(x);
            sum2 += f64::from(x) * f64::from(x);
        }
        let m = sum / n as f64;
        let var = sum2 / n as f64 - m * m;
        (m, (var / n as f64).sqrt(), lo, hi)
    }

    #[test]
    fn sample_means_match_the_stated_means() {
        // Each mean lies within 4.5 standard errors of the stated one (a seeded run; the
        // chance of a fluke at 4.5 se is below 1e-5). Rounding to integers adds no bias for
        // the log-normal (symmetric rounding) and clamping at 1e6 is ~10⁻⁹ probable here.
        let cases = [
            ("uniform:100,900", 500.0),
            ("lognormal:2000,1.0", 2000.0),
            ("lognormal:300,0.8", 300.0),
            ("lognormal:50,0.3", 50.0),
        ];
        for (spec, mean) in cases {
            let d: LengthDist = spec.parse().unwrap();
            let (m, se, lo, hi) = sample_stats(&d, 200_000, 7);
            println!("{spec}: mean {m:.2} ± {se:.2} (stated {mean}), range {lo}..={hi}");
            assert!(
                (m - mean).abs() < 4.5 * se,
                "{spec}: mean {m} vs {mean}, se {se}"
            );
            assert!(lo >= 1 && hi <= MAX_TOKENS);
        }
        let (m, se, lo, hi) = sample_stats(&LengthDist::Fixed(128), 1000, 1);
        assert_eq!((m, se, lo, hi), (128.0, 0.0, 128, 128));
        let (.., lo, hi) = sample_stats(&"uniform:100,900".parse().unwrap(), 100_000, 3);
        assert_eq!((lo, hi), (100, 900), "both ends are reachable");
    }

    #[test]
    fn lognormal_sigma_is_the_spread_of_the_log() {
        // ln X ~ N(mu, sigma²): the sample sd of ln X estimates sigma (rounding is negligible
        // at a mean of 2000).
        let d = LengthDist::LogNormal {
            mean: 2000.0,
            sigma: 1.0,
        };
        let mut rng = stream_rng(11, LENGTH_STREAM);
        let logs: Vec<f64> = (0..100_000)
            .map(|_| f64::from(d.sample(&mut rng)).ln())
            .collect();
        let m = logs.iter().sum::<f64>() / logs.len() as f64;
        let sd = (logs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / logs.len() as f64).sqrt();
        let mu = 2000f64.ln() - 0.5;
        assert!((m - mu).abs() < 0.01, "mean of ln X {m} vs mu {mu}");
        assert!((sd - 1.0).abs() < 0.01, "sd of ln X {sd}");
    }

    #[test]
    fn sampling_is_total_on_unvalidated_values() {
        let mut rng = stream_rng(1, LENGTH_STREAM);
        let odd = [
            LengthDist::Fixed(0),
            LengthDist::Fixed(u32::MAX),
            LengthDist::Uniform { lo: 9, hi: 3 },
            LengthDist::LogNormal {
                mean: f64::NAN,
                sigma: 1.0,
            },
            LengthDist::LogNormal {
                mean: 1e300,
                sigma: 50.0,
            },
            LengthDist::LogNormal {
                mean: -1.0,
                sigma: 1.0,
            },
        ];
        for d in odd {
            for _ in 0..100 {
                let x = d.sample(&mut rng);
                assert!((1..=MAX_TOKENS).contains(&x), "{d:?} gave {x}");
            }
        }
    }

    #[test]
    fn empirical_keeps_pairs_together() {
        let pairs = vec![
            LengthPair {
                input_tokens: 10,
                output_tokens: 1,
            },
            LengthPair {
                input_tokens: 1000,
                output_tokens: 100,
            },
        ];
        let e = Empirical::new(pairs.clone()).unwrap();
        assert!((e.mean_input_tokens() - 505.0).abs() < 1e-12);
        let mut rng = stream_rng(5, LENGTH_STREAM);
        let mut seen = [0usize; 2];
        for _ in 0..10_000 {
            let p = e.sample(&mut rng);
            let i = pairs.iter().position(|q| *q == p).unwrap();
            seen[i] += 1;
        }
        // Binomial(10000, 1/2): sd 50.
        assert!(seen[0].abs_diff(5000) < 250, "{seen:?}");
        let err = Empirical::new(vec![]).unwrap_err().to_string();
        assert!(err.contains("at least one"), "{err}");
        let bad = vec![LengthPair {
            input_tokens: 0,
            output_tokens: 3,
        }];
        let err = Empirical::new(bad).unwrap_err().to_string();
        assert!(
            err.contains("empirical row 1") && err.contains("input_tokens = `0`"),
            "{err}"
        );
    }

    #[test]
    fn the_sampler_is_reproducible_and_validates() {
        let lengths = Lengths::Independent {
            input: "lognormal:2000,1".parse().unwrap(),
            output: "uniform:1,100".parse().unwrap(),
        };
        let draw = |seed| {
            let mut s = LengthSampler::new(lengths.clone(), seed).unwrap();
            (0..100).map(|_| s.next_pair()).collect::<Vec<_>>()
        };
        assert_eq!(draw(3), draw(3));
        assert_ne!(draw(3), draw(4));
        let bad = Lengths::Independent {
            input: LengthDist::Fixed(0),
            output: LengthDist::Fixed(1),
        };
        let err = LengthSampler::new(bad, 0).unwrap_err().to_string();
        assert_eq!(
            err,
            "`fixed:0`: n = `0`: must be between 1 and 1000000 tokens"
        );
    }
}
