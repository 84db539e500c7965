//! What the fuzz targets share: arbitrary inputs that reach both valid and
//! invalid configs, a clock that jumps, and the shadow models a target keeps
//! next to the core so that every counter can be checked, not just "no crash".
//!
//! The models are written from the documented rules (module docs of each core
//! type), in plain `std` code with `Vec`s and `u128`s, so they share no
//! arithmetic shortcuts with the core.

use arbitrary::Arbitrary;
use fusewire::window::Kind;
use fusewire::{
    Backoff, BreakerConfig, Comparison, ConfigError, Counts, DwellExpiry, HalfOpenRule, Jitter,
    Problem, RateBasis, Ratio, Schedule,
};

/// A number biased towards the small values where rules meet, but able to
/// reach any `u64`.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Num {
    /// 0..=255
    Small(u8),
    /// 0..=65535
    Mid(u16),
    /// anything
    Any(u64),
    /// `u64::MAX`
    Max,
}

impl Num {
    /// The value.
    pub fn get(self) -> u64 {
        match self {
            Num::Small(v) => v.into(),
            Num::Mid(v) => v.into(),
            Num::Any(v) => v,
            Num::Max => u64::MAX,
        }
    }

    /// The value, saturated into a `u32`.
    pub fn get32(self) -> u32 {
        u32::try_from(self.get()).unwrap_or(u32::MAX)
    }
}

/// How the next `now` follows the previous one: forward, backwards, huge jumps.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Tick {
    /// The same instant.
    Same,
    /// A small step forward.
    Forward(u16),
    /// A small step backwards (the clock regressed).
    Back(u16),
    /// Anywhere.
    Jump(u64),
    /// The end of time.
    Max,
    /// The beginning of time.
    Zero,
}

impl Tick {
    /// The next `now`.
    pub fn apply(self, now: u64) -> u64 {
        match self {
            Tick::Same => now,
            Tick::Forward(d) => now.saturating_add(d.into()),
            Tick::Back(d) => now.saturating_sub(d.into()),
            Tick::Jump(v) => v,
            Tick::Max => u64::MAX,
            Tick::Zero => 0,
        }
    }
}

/// A backoff schedule, valid or not.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum ArbSchedule {
    /// `Schedule::Constant`.
    Constant(Num),
    /// `Schedule::Linear`.
    Linear(Num, Num),
    /// `Schedule::Exponential`; the factor is `1000 + delta` or a raw `u32`.
    Exponential(Num, u16, Option<u32>),
}

/// A jitter mode, valid or not.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum ArbJitter {
    /// `Jitter::None`.
    None,
    /// `Jitter::Full`.
    Full,
    /// `Jitter::Equal`.
    Equal,
    /// `Jitter::Decorrelated`.
    Decorrelated,
    /// `Jitter::Proportional` with any `u8` percent.
    Proportional(u8),
}

/// A backoff config, valid or not.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub struct ArbBackoff {
    /// The schedule.
    pub schedule: ArbSchedule,
    /// The jitter.
    pub jitter: ArbJitter,
    /// The cap, as a number or as `base + extra`.
    pub cap: Result<Num, Num>,
}

impl ArbBackoff {
    /// The core's values.
    pub fn parts(&self) -> (Schedule, Jitter, u64) {
        let schedule = match self.schedule {
            ArbSchedule::Constant(d) => Schedule::Constant { delay: d.get() },
            ArbSchedule::Linear(b, s) => Schedule::Linear {
                base: b.get(),
                step: s.get(),
            },
            ArbSchedule::Exponential(b, delta, raw) => Schedule::Exponential {
                base: b.get(),
                factor_milli: raw.unwrap_or(1000 + u32::from(delta)),
            },
        };
        let jitter = match self.jitter {
            ArbJitter::None => Jitter::None,
            ArbJitter::Full => Jitter::Full,
            ArbJitter::Equal => Jitter::Equal,
            ArbJitter::Decorrelated => Jitter::Decorrelated,
            ArbJitter::Proportional(percent) => Jitter::Proportional { percent },
        };
        let cap = match self.cap {
            Ok(c) => c.get(),
            Err(extra) => schedule.base().saturating_add(extra.get()),
        };
        (schedule, jitter, cap)
    }

    /// Builds it, asserting the core accepts exactly the configs the
    /// documented rules accept and names the documented field otherwise.
    pub fn build(&self) -> Option<Backoff> {
        let (schedule, jitter, cap) = self.parts();
        let got = Backoff::new(schedule, jitter, cap);
        let base = match schedule {
            Schedule::Constant { delay } => delay,
            Schedule::Linear { base, .. } | Schedule::Exponential { base, .. } => base,
        };
        let want: Option<(&str, Problem)> = match schedule {
            Schedule::Constant { delay: 0 } => Some(("schedule.delay", Problem::Zero)),
            Schedule::Linear { base: 0, .. } | Schedule::Exponential { base: 0, .. } => {
                Some(("schedule.base", Problem::Zero))
            }
            Schedule::Exponential { factor_milli, .. } if factor_milli < 1000 => {
                Some(("schedule.factor_milli", Problem::OutOfRange))
            }
            _ if cap == 0 => Some(("cap", Problem::Zero)),
            _ if cap < base => Some(("cap", Problem::Inconsistent)),
            _ => match jitter {
                Jitter::Proportional { percent } if percent == 0 || percent > 100 => {
                    Some(("jitter.percent", Problem::OutOfRange))
                }
                _ => None,
            },
        };
        check_config(got, want)
    }
}

/// Asserts a constructor result against the expected error (or success).
pub fn check_config<T>(got: Result<T, ConfigError>, want: Option<(&str, Problem)>) -> Option<T> {
    match (got, want) {
        (Ok(v), None) => Some(v),
        (Err(e), Some((field, problem))) => {
            assert_eq!((e.field, e.problem), (field, problem), "wrong config error");
            None
        }
        (Ok(_), Some(w)) => panic!("config accepted, expected error {w:?}"),
        (Err(e), None) => panic!("valid config rejected: {e:?}"),
    }
}

/// A breaker rate, valid or not: whole percents, any millionths, values
/// around 100 %, or a host's floating-point percentage.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum ArbRatio {
    /// `Ratio::percent` of `0..=255` (above 100 is invalid).
    Whole(u8),
    /// `Ratio::from_ppm` of any `u32`.
    Ppm(u32),
    /// 100 % plus or minus a little (`Above` with exactly 100 % never trips).
    NearOne(i8),
    /// `Ratio::from_percent` of any `f64`: NaN, negative, infinite, fractional.
    Float(f64),
}

impl ArbRatio {
    /// The ratio, or `None` when `Ratio::from_percent` refuses the float
    /// (checked: only NaN and values outside `0..=100` are refused, and an
    /// accepted one is the nearest millionth).
    fn get(self) -> Option<Ratio> {
        Some(match self {
            ArbRatio::Whole(v) => {
                let r = Ratio::percent(v.into());
                assert_eq!(u64::from(r.ppm()), u64::from(v) * 10_000);
                r
            }
            ArbRatio::Ppm(v) => Ratio::from_ppm(v),
            ArbRatio::NearOne(d) => Ratio::from_ppm(1_000_000u32.wrapping_add_signed(d.into())),
            ArbRatio::Float(v) => {
                let got = Ratio::from_percent(v);
                if v.is_nan() || !(0.0..=100.0).contains(&v) {
                    assert_eq!(got, None, "from_percent({v}) accepted");
                    return None;
                }
                let r = got.unwrap_or_else(|| panic!("from_percent({v}) refused"));
                let exact = v * 10_000.0;
                assert!(
                    (f64::from(r.ppm()) - exact).abs() <= 0.5 + 1e-9 * exact,
                    "from_percent({v}) = {} ppm, not the nearest",
                    r.ppm()
                );
                assert!(r.ppm() <= Ratio::ONE_PPM);
                r
            }
        })
    }
}

/// A breaker config, valid or not.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub struct ArbBreakerConfig {
    failure_rate: Option<ArbRatio>,
    slow_call_rate: Option<ArbRatio>,
    slow_call_duration: Num,
    consecutive_failures: Option<Num>,
    min_calls: Num,
    above: bool,
    /// `% 3`: outcomes, all calls, started.
    basis: u8,
    half_open_probes: Num,
    rates_rule: bool,
    half_open_max_dwell: Option<Num>,
    dwell_close: bool,
    open_backoff: ArbBackoff,
    keep_window_on_close: bool,
    seed: u64,
    manual: bool,
}

/// The problem the documented rules find in a rate threshold, if any.
fn bad_rate(
    field: &'static str,
    r: Option<Ratio>,
    comparison: Comparison,
) -> Option<(&'static str, Problem)> {
    let ppm = r?.ppm();
    if ppm > 1_000_000 {
        Some((field, Problem::OutOfRange))
    } else if ppm == 1_000_000 && comparison == Comparison::Above {
        // No share of calls is above all of them.
        Some((field, Problem::NeverTrips))
    } else {
        None
    }
}

impl ArbBreakerConfig {
    /// The config, or `None` when invalid (after checking the error).
    pub fn build(&self) -> Option<BreakerConfig> {
        let open_backoff = self.open_backoff.build()?;
        let rate = |r: Option<ArbRatio>| match r {
            None => Some(None),
            Some(r) => r.get().map(Some),
        };
        let config = BreakerConfig {
            failure_rate: rate(self.failure_rate)?,
            slow_call_rate: rate(self.slow_call_rate)?,
            slow_call_duration: self.slow_call_duration.get(),
            consecutive_failures: self.consecutive_failures.map(Num::get32),
            min_calls: self.min_calls.get32(),
            comparison: if self.above {
                Comparison::Above
            } else {
                Comparison::AtLeast
            },
            rate_basis: match self.basis % 3 {
                0 => RateBasis::Outcomes,
                1 => RateBasis::AllCalls,
                _ => RateBasis::Started,
            },
            half_open_probes: self.half_open_probes.get32(),
            half_open_rule: if self.rates_rule {
                HalfOpenRule::Rates
            } else {
                HalfOpenRule::AllSucceed
            },
            half_open_max_dwell: self.half_open_max_dwell.map_or(0, Num::get),
            dwell_expiry: if self.dwell_close {
                DwellExpiry::Close
            } else {
                DwellExpiry::Reopen
            },
            open_backoff,
            reset_window_on_close: !self.keep_window_on_close,
            seed: self.seed,
            manual: self.manual,
        };
        let c = &config;
        let failure_on = c.failure_rate.is_some();
        let slow_on = c.slow_call_rate.is_some();
        let run_on = matches!(c.consecutive_failures, Some(n) if n > 0);
        let want = bad_rate("failure_rate", c.failure_rate, c.comparison)
            .or_else(|| bad_rate("slow_call_rate", c.slow_call_rate, c.comparison))
            .or_else(|| {
                (slow_on && c.slow_call_duration == 0)
                    .then_some(("slow_call_duration", Problem::Required))
            })
            .or_else(|| {
                (c.consecutive_failures == Some(0))
                    .then_some(("consecutive_failures", Problem::Zero))
            })
            .or_else(|| {
                // A breaker no rule can open is an error unless the host
                // said so (`manual`); `manual` with a rule on contradicts
                // itself, and the first rule on is named.
                let any = failure_on || slow_on || run_on;
                match (c.manual, any) {
                    (false, false) => Some(("failure_rate", Problem::NeverTrips)),
                    (true, true) if failure_on => Some(("failure_rate", Problem::Inconsistent)),
                    (true, true) if slow_on => Some(("slow_call_rate", Problem::Inconsistent)),
                    (true, true) => Some(("consecutive_failures", Problem::Inconsistent)),
                    _ => None,
                }
            })
            .or_else(|| match c.half_open_probes {
                0 => Some(("half_open_probes", Problem::Zero)),
                n if n > u32::from(u16::MAX) => Some(("half_open_probes", Problem::OutOfRange)),
                _ => None,
            });
        let rules = check_config(config.validate(), want)?;
        assert_eq!(rules.config(), config, "the rules give the config back");
        Some(config)
    }
}

/// The error a valid `config` must get over a window holding `capacity`
/// calls (`None`: a time window, no limit), if any: the `Started` basis
/// needs a time window, and `min_calls` above a count window's size is
/// never reached (it only matters while a rate rule is on).
pub fn window_problem(
    config: &BreakerConfig,
    capacity: Option<u32>,
) -> Option<(&'static str, Problem)> {
    let n = capacity?;
    if config.rate_basis == RateBasis::Started {
        return Some(("rate_basis", Problem::Inconsistent));
    }
    let rates_on = config.failure_rate.is_some() || config.slow_call_rate.is_some();
    (rates_on && config.min_calls > n).then_some(("min_calls", Problem::ExceedsWindow))
}

/// The shadow of a breaker window: what the window should total.
pub trait Shadow {
    /// One sample at (clamped, so monotonic) `now`.
    fn record(&mut self, now: u64, kind: Kind, slow: bool, duration: u64);
    /// The expected counts at `now`.
    fn totals(&mut self, now: u64) -> Counts;
    /// Forget everything.
    fn clear(&mut self);
    /// How many calls the window holds: `Some(n)` for a count window.
    fn capacity(&self) -> Option<u32>;
    /// The expected mean latency, `None` when the shadow cannot say
    /// (count windows keep no latency: the core must answer `None`).
    fn mean(&mut self, now: u64) -> Option<Option<u64>>;
}

fn tally(c: &mut Counts, kind: Kind, slow: bool) {
    match kind {
        Kind::Success => c.successes += 1,
        Kind::Failure => c.failures += 1,
        Kind::Timeout => {
            c.failures += 1;
            c.timeouts += 1;
        }
        Kind::Ignored => c.ignored += 1,
        Kind::Rejected => c.rejected += 1,
        Kind::Admitted => c.admitted += 1,
    }
    if slow && matches!(kind, Kind::Success | Kind::Failure | Kind::Timeout) {
        c.slow += 1;
    }
}

/// The last `n` calls; rejections counted since the last clear (a count
/// window never counts admissions: `Started` needs a time window).
pub struct CountShadow {
    n: usize,
    ring: std::collections::VecDeque<(Kind, bool)>,
    rejected: u32,
}

impl CountShadow {
    /// A shadow of `CountWindow<n>`.
    pub fn new(n: usize) -> Self {
        Self {
            n,
            ring: Default::default(),
            rejected: 0,
        }
    }
}

impl Shadow for CountShadow {
    fn record(&mut self, _now: u64, kind: Kind, slow: bool, _duration: u64) {
        match kind {
            Kind::Rejected => {
                self.rejected += 1;
                return;
            }
            Kind::Admitted => unreachable!("a count window refuses the Started basis"),
            _ => {}
        }
        if self.ring.len() == self.n {
            self.ring.pop_front();
        }
        self.ring.push_back((kind, slow));
    }
    fn totals(&mut self, _now: u64) -> Counts {
        let mut c = Counts {
            rejected: self.rejected,
            ..Counts::default()
        };
        for &(k, s) in &self.ring {
            tally(&mut c, k, s);
        }
        c
    }
    fn clear(&mut self) {
        self.ring.clear();
        self.rejected = 0;
    }
    fn capacity(&self) -> Option<u32> {
        u32::try_from(self.n).ok()
    }
    fn mean(&mut self, _now: u64) -> Option<Option<u64>> {
        Some(None)
    }
}

/// Every sample since the last clear with its tick; a sample at `e` is in
/// the window at `t` while `t / len - e / len < buckets` (aligned buckets).
pub struct TimeShadow {
    len: u64,
    buckets: u64,
    events: Vec<(u64, Kind, bool, u64)>,
}

impl TimeShadow {
    /// A shadow of `TimeWindow::new(span, buckets)`.
    pub fn new(span: u64, buckets: usize) -> Self {
        Self {
            len: span / buckets as u64,
            buckets: buckets as u64,
            events: Vec::new(),
        }
    }

    fn live(&self, now: u64) -> impl Iterator<Item = &(u64, Kind, bool, u64)> {
        let (len, buckets) = (self.len, self.buckets);
        self.events
            .iter()
            .filter(move |e| now / len - e.0 / len < buckets)
    }
}

impl Shadow for TimeShadow {
    fn record(&mut self, now: u64, kind: Kind, slow: bool, duration: u64) {
        let (len, buckets) = (self.len, self.buckets);
        self.events.retain(|e| now / len - e.0 / len < buckets);
        self.events.push((now, kind, slow, duration));
    }
    fn totals(&mut self, now: u64) -> Counts {
        let mut c = Counts::default();
        for &(_, k, s, _) in self.live(now) {
            tally(&mut c, k, s);
        }
        c
    }
    fn clear(&mut self) {
        self.events.clear();
    }
    fn capacity(&self) -> Option<u32> {
        None
    }
    fn mean(&mut self, now: u64) -> Option<Option<u64>> {
        let timed = self
            .live(now)
            .filter(|e| matches!(e.1, Kind::Success | Kind::Failure | Kind::Timeout));
        let (n, sum) = timed.fold((0u128, 0u128), |(n, s), e| (n + 1, s + u128::from(e.3)));
        Some((n > 0).then(|| (sum / n).min(u128::from(u64::MAX)) as u64))
    }
}

pub mod breaker_model;
