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
    Problem, RateBasis, Schedule,
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

/// A percentage for a breaker rate: mostly whole percents, sometimes any `f32`.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum ArbPercent {
    /// `0..=255` percent (above 100 is invalid).
    Whole(u8),
    /// Any float: NaN, negative, infinite, fractional.
    Raw(f32),
}

impl ArbPercent {
    fn get(self) -> f32 {
        match self {
            ArbPercent::Whole(v) => f32::from(v),
            ArbPercent::Raw(v) => v,
        }
    }
}

/// A breaker config, valid or not.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub struct ArbBreakerConfig {
    failure_rate: Option<ArbPercent>,
    slow_call_rate: Option<ArbPercent>,
    slow_call_duration: Num,
    consecutive_failures: Option<Num>,
    min_calls: Num,
    above: bool,
    all_calls: bool,
    half_open_probes: Num,
    rates_rule: bool,
    half_open_max_dwell: Option<Num>,
    dwell_close: bool,
    open_backoff: ArbBackoff,
    keep_window_on_close: bool,
    seed: u64,
}

impl ArbBreakerConfig {
    /// The config, or `None` when invalid (after checking the error).
    pub fn build(&self) -> Option<BreakerConfig> {
        let open_backoff = self.open_backoff.build()?;
        let config = BreakerConfig {
            failure_rate: self.failure_rate.map(ArbPercent::get),
            slow_call_rate: self.slow_call_rate.map(ArbPercent::get),
            slow_call_duration: self.slow_call_duration.get(),
            consecutive_failures: self.consecutive_failures.map(Num::get32),
            min_calls: self.min_calls.get32(),
            comparison: if self.above {
                Comparison::Above
            } else {
                Comparison::AtLeast
            },
            rate_basis: if self.all_calls {
                RateBasis::AllCalls
            } else {
                RateBasis::Outcomes
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
        };
        let bad_percent = |field: &'static str, p: Option<f32>| match p {
            Some(v) if v.is_nan() => Some((field, Problem::NotANumber)),
            Some(v) if !(0.0..=100.0).contains(&v) => Some((field, Problem::OutOfRange)),
            _ => None,
        };
        let want = bad_percent("failure_rate", config.failure_rate)
            .or_else(|| bad_percent("slow_call_rate", config.slow_call_rate))
            .or_else(|| {
                (config.slow_call_rate.is_some() && config.slow_call_duration == 0)
                    .then_some(("slow_call_duration", Problem::Zero))
            })
            .or_else(|| {
                (config.consecutive_failures == Some(0))
                    .then_some(("consecutive_failures", Problem::Zero))
            })
            .or_else(|| match config.half_open_probes {
                0 => Some(("half_open_probes", Problem::Zero)),
                n if n > u32::from(u16::MAX) => Some(("half_open_probes", Problem::OutOfRange)),
                _ => None,
            });
        check_config(config.validate(), want)?;
        Some(config)
    }
}

/// The shadow of a breaker window: what the window should total.
pub trait Shadow {
    /// One sample at (clamped, so monotonic) `now`.
    fn record(&mut self, now: u64, kind: Kind, slow: bool, duration: u64);
    /// The expected counts at `now`.
    fn totals(&mut self, now: u64) -> Counts;
    /// Forget everything.
    fn clear(&mut self);
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
    }
    if slow && matches!(kind, Kind::Success | Kind::Failure | Kind::Timeout) {
        c.slow += 1;
    }
}

/// The last `n` calls; rejections counted since the last clear.
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
        if kind == Kind::Rejected {
            self.rejected += 1;
            return;
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
    fn mean(&mut self, now: u64) -> Option<Option<u64>> {
        let timed = self
            .live(now)
            .filter(|e| matches!(e.1, Kind::Success | Kind::Failure | Kind::Timeout));
        let (n, sum) = timed.fold((0u128, 0u128), |(n, s), e| (n + 1, s + u128::from(e.3)));
        Some((n > 0).then(|| (sum / n).min(u128::from(u64::MAX)) as u64))
    }
}

pub mod breaker_model;
