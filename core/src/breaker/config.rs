//! What a breaker is told at construction, and its validation.

use crate::backoff::Backoff;
use crate::error::{ConfigError, ConfigResult, Field, Problem};
use crate::ratio::Ratio;
use crate::unit::TickUnit;

/// How a rate is compared with its threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Comparison {
    /// Trip when the rate is at least the threshold (resilience4j, Polly).
    AtLeast = 0,
    /// Trip when the rate is strictly above the threshold (opossum).
    Above = 1,
}

/// Which calls make up the denominator of the trip rates and `min_calls`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum RateBasis {
    /// Successes and failures only.
    Outcomes = 0,
    /// Every call the window saw: outcomes, ignored and rejected.
    AllCalls = 1,
    /// Every call started, counted when it starts (each `try_acquire`,
    /// admitted or rejected), as opossum's `fires`: calls still in flight
    /// count too. Needs a time window (a count window's slots hold
    /// outcomes, so it is a `rate_basis` error there).
    Started = 2,
}

/// When a half-open breaker closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum HalfOpenRule {
    /// Every probe must succeed; the first bad probe reopens at once.
    AllSucceed = 0,
    /// Once all probes have finished, close if their failure rate (and slow
    /// rate, if that rule is on) does not trip the thresholds; else reopen.
    Rates = 1,
}

/// What a half-open breaker does when it has waited `half_open_max_dwell`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum DwellExpiry {
    /// Reopen (the safe default).
    Reopen = 0,
    /// Close.
    Close = 1,
}

/// A breaker's configuration. All durations are in the host's ticks.
///
/// Start from [`BreakerConfig::new`] with the unit of the ticks you will
/// pass as `now` (or [`Clock::breaker_config`](crate::Clock::breaker_config),
/// which knows it), and override fields. There is no unitless default: an
/// open duration of "1000" would be a second in milliseconds and a
/// microsecond in nanoseconds.
///
/// ```compile_fail
/// // No unitless default: say what a tick is.
/// let config = fusewire::BreakerConfig::default();
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[repr(C)]
pub struct BreakerConfig {
    /// Trip when the failure rate over the window reaches this share (at
    /// most 100 %); `None` turns the rule off. Default 50 %.
    pub failure_rate: Option<Ratio>,
    /// Trip when the share of slow calls reaches this; `None` (the default)
    /// turns the rule off. Needs `slow_call_duration`.
    pub slow_call_rate: Option<Ratio>,
    /// A call taking at least this many ticks is slow. 0 (the default) means
    /// no call is slow; must be non-zero when `slow_call_rate` is set.
    pub slow_call_duration: u64,
    /// Trip after this many failures in a row, whatever the window says;
    /// `None` (the default) turns the rule off; `Some(0)` is an error.
    pub consecutive_failures: Option<u32>,
    /// The rates are not judged until the window holds this many calls
    /// (counted on `rate_basis`). Default 10.
    pub min_calls: u32,
    /// How rates meet thresholds. Default [`Comparison::AtLeast`].
    pub comparison: Comparison,
    /// What the rates are a share of. Default [`RateBasis::Outcomes`].
    pub rate_basis: RateBasis,
    /// Probe permits in each half-open period (`1..=65535`). Default 1.
    pub half_open_probes: u32,
    /// When half-open closes. Default [`HalfOpenRule::AllSucceed`].
    pub half_open_rule: HalfOpenRule,
    /// Leave half-open after this many ticks even if probes are still out,
    /// so a probe permit that is never recorded or released (an early
    /// return, a dropped task) costs one dwell, not the life of the process.
    /// 0 (the default) means one open duration: the one the breaker last
    /// drew from `open_backoff` (its first one after a host's
    /// [`half_open`](crate::Breaker::half_open)). `u64::MAX` waits for the
    /// probes forever (an explicit opt-in).
    pub half_open_max_dwell: u64,
    /// Where a half-open breaker goes when `half_open_max_dwell` passes.
    pub dwell_expiry: DwellExpiry,
    /// How long the breaker stays open, attempt `n` being the `n`-th
    /// consecutive opening without a close in between (0 first). Default: a
    /// constant 1000 ticks.
    pub open_backoff: Backoff,
    /// Clear the window when the breaker closes (resilience4j does; opossum
    /// does not). Default true.
    pub reset_window_on_close: bool,
    /// Seed for the jitter of `open_backoff`.
    pub seed: u64,
    /// Only the host opens this breaker: every trip rule must then be off.
    /// Without it, a config whose rules can never trip is an error
    /// (`Problem::NeverTrips`). Default false.
    pub manual: bool,
}

impl BreakerConfig {
    /// The defaults for ticks of `unit`: trip at a 50 % failure rate over
    /// at least 10 calls, stay open one second, then one half-open probe
    /// that may take one open duration.
    ///
    /// ```
    /// use fusewire::{BreakerConfig, TickUnit};
    /// let server = BreakerConfig::new(TickUnit::NANOS);
    /// assert_eq!(server.open_backoff.raw(0), 1_000_000_000);
    /// let firmware = BreakerConfig::new(TickUnit::MILLIS);
    /// assert_eq!(firmware.open_backoff.raw(0), 1000);
    /// ```
    pub const fn new(unit: TickUnit) -> Self {
        let open = match Backoff::constant(unit.ticks(core::time::Duration::from_secs(1))) {
            Ok(b) => b,
            // Unreachable: a constant backoff accepts every delay.
            Err(_) => Self::BASE.open_backoff,
        };
        Self {
            open_backoff: open,
            ..Self::BASE
        }
    }

    /// The defaults with the open duration in milliseconds: the base that
    /// [`new`](Self::new) scales (private: no unitless default is public).
    const BASE: Self = Self {
        failure_rate: Some(Ratio::percent(50)),
        slow_call_rate: None,
        slow_call_duration: 0,
        consecutive_failures: None,
        min_calls: 10,
        comparison: Comparison::AtLeast,
        rate_basis: RateBasis::Outcomes,
        half_open_probes: 1,
        half_open_rule: HalfOpenRule::AllSucceed,
        half_open_max_dwell: 0,
        dwell_expiry: DwellExpiry::Reopen,
        open_backoff: match Backoff::constant(1000) {
            Ok(b) => b,
            Err(_) => unreachable!(),
        },
        reset_window_on_close: true,
        seed: 0,
        manual: false,
    };

    /// Validates the config into the form the breaker runs on.
    ///
    /// Errors: `failure_rate` / `slow_call_rate` NaN or outside 0..=100;
    /// `slow_call_duration` zero while `slow_call_rate` is set;
    /// `consecutive_failures` of `Some(0)`; `half_open_probes` zero or above
    /// [`Rules::MAX_PROBES`].
    // Inline: built where it is used, the rules are not moved into the
    // breaker through a `memcpy` call (which links a 730-byte routine on
    // firmware). Always: with two callers in one library (the C door's
    // count and time-window breakers), a plain hint let LLVM outline it,
    // and firmware that links only one of them paid for the copy.
    #[inline(always)]
    pub const fn validate(self) -> ConfigResult<Rules> {
        let failure = match rate(Field::FailureRate, self.failure_rate, self.comparison) {
            Ok(v) => v,
            Err(e) => return Err(e),
        };
        let slow = match rate(Field::SlowCallRate, self.slow_call_rate, self.comparison) {
            Ok(v) => v,
            Err(e) => return Err(e),
        };
        if slow != OFF && self.slow_call_duration == 0 {
            return Err(ConfigError::of(Field::SlowCallDuration, Problem::Required));
        }
        let consecutive_failures = match self.consecutive_failures {
            Some(0) => return Err(ConfigError::of(Field::ConsecutiveFailures, Problem::Zero)),
            Some(n) => n,
            None => 0,
        };
        let any_rule = failure != OFF || slow != OFF || consecutive_failures != 0;
        if any_rule == self.manual {
            // Both on is a contradiction; both off is a breaker nothing opens.
            let problem = if self.manual {
                Problem::Inconsistent
            } else {
                Problem::NeverTrips
            };
            let field = if failure != OFF || !self.manual {
                Field::FailureRate
            } else if slow != OFF {
                Field::SlowCallRate
            } else {
                Field::ConsecutiveFailures
            };
            return Err(ConfigError::of(field, problem));
        }
        if self.half_open_probes == 0 {
            return Err(ConfigError::of(Field::HalfOpenProbes, Problem::Zero));
        }
        if self.half_open_probes > Rules::MAX_PROBES as u32 {
            return Err(ConfigError::of(Field::HalfOpenProbes, Problem::OutOfRange));
        }
        Ok(Rules {
            open_backoff: self.open_backoff,
            slow_call_duration: self.slow_call_duration,
            half_open_max_dwell: self.half_open_max_dwell,
            seed: self.seed,
            failure_micro: failure,
            slow_micro: slow,
            consecutive_failures,
            min_calls: self.min_calls,
            half_open_probes: self.half_open_probes as u16,
            comparison: self.comparison,
            rate_basis: self.rate_basis,
            half_open_rule: self.half_open_rule,
            dwell_expiry: self.dwell_expiry,
            reset_window_on_close: self.reset_window_on_close,
            manual: self.manual,
        })
    }
}

/// A rule that is off, in [`Rules`]' millionths.
const OFF: u32 = u32::MAX;

/// A rate threshold in millionths, [`OFF`] for `None`: at most 100 %, and
/// not 100 % compared with `Above` (no share is above all of it). A hint,
/// not `always`: forced, LLVM allocates registers worse in the firmware
/// breaker init.
#[inline]
const fn rate(field: Field, r: Option<Ratio>, comparison: Comparison) -> ConfigResult<u32> {
    match r {
        None => Ok(OFF),
        Some(v) if v.ppm() > Ratio::ONE_PPM => Err(ConfigError::of(field, Problem::OutOfRange)),
        Some(v) if v.ppm() == Ratio::ONE_PPM && matches!(comparison, Comparison::Above) => {
            Err(ConfigError::of(field, Problem::NeverTrips))
        }
        Some(v) => Ok(v.ppm()),
    }
}

/// A millionths threshold back as a ratio, `None` if [`OFF`].
const fn ratio_of(micro: u32) -> Option<Ratio> {
    if micro == OFF {
        None
    } else {
        Some(Ratio::from_ppm(micro))
    }
}

/// A validated [`BreakerConfig`] in the compact form a breaker keeps: the
/// percentages in millionths, the options as sentinels (a rule that is off
/// costs no `Option` tag), the probe count in 16 bits. [`Rules::config`]
/// gives the config back.
#[derive(Debug, Clone, Copy, PartialEq)]
#[repr(C)]
pub struct Rules {
    pub(crate) open_backoff: Backoff,
    pub(crate) slow_call_duration: u64,
    pub(crate) half_open_max_dwell: u64,
    pub(crate) seed: u64,
    failure_micro: u32,
    slow_micro: u32,
    /// 0: the rule is off.
    consecutive_failures: u32,
    pub(crate) min_calls: u32,
    pub(crate) half_open_probes: u16,
    pub(crate) comparison: Comparison,
    pub(crate) rate_basis: RateBasis,
    pub(crate) half_open_rule: HalfOpenRule,
    pub(crate) dwell_expiry: DwellExpiry,
    pub(crate) reset_window_on_close: bool,
    pub(crate) manual: bool,
}

impl Rules {
    /// The most half-open probes a breaker counts (`u16::MAX`).
    pub const MAX_PROBES: u16 = u16::MAX;

    /// The config these rules were validated from, with the percentages as
    /// kept: rounded to millionths (a ten-thousandth of a percent).
    pub fn config(&self) -> BreakerConfig {
        BreakerConfig {
            failure_rate: ratio_of(self.failure_micro),
            slow_call_rate: ratio_of(self.slow_micro),
            slow_call_duration: self.slow_call_duration,
            consecutive_failures: match self.consecutive_failures {
                0 => None,
                n => Some(n),
            },
            min_calls: self.min_calls,
            comparison: self.comparison,
            rate_basis: self.rate_basis,
            half_open_probes: self.half_open_probes as u32,
            half_open_rule: self.half_open_rule,
            half_open_max_dwell: self.half_open_max_dwell,
            dwell_expiry: self.dwell_expiry,
            open_backoff: self.open_backoff,
            reset_window_on_close: self.reset_window_on_close,
            seed: self.seed,
            manual: self.manual,
        }
    }

    /// Checks the rules against the window they will run over, given its
    /// capacity in calls (`None` for a time window, which has no limit):
    /// `min_calls` above a count window's size could never be reached
    /// (`min_calls`, [`Problem::ExceedsWindow`]), and
    /// [`RateBasis::Started`] needs a time window (`rate_basis`,
    /// [`Problem::Inconsistent`]). [`Breaker::new`](crate::Breaker::new)
    /// and `with_window` call it; call it yourself before
    /// [`Breaker::from_rules`](crate::Breaker::from_rules).
    pub const fn fits(&self, capacity: Option<u32>) -> ConfigResult<()> {
        let Some(capacity) = capacity else {
            return Ok(());
        };
        if matches!(self.rate_basis, RateBasis::Started) {
            return Err(ConfigError::of(Field::RateBasis, Problem::Inconsistent));
        }
        let rates_on = self.failure_micro != OFF || self.slow_micro != OFF;
        if rates_on && self.min_calls > capacity {
            return Err(ConfigError::of(Field::MinCalls, Problem::ExceedsWindow));
        }
        Ok(())
    }

    /// Whether `part` out of `whole` reaches a threshold in millionths.
    const fn trips(&self, part: u32, whole: u32, micro: u32) -> bool {
        if micro == OFF || whole == 0 {
            return false;
        }
        let lhs = part as u64 * 1_000_000;
        let rhs = micro as u64 * whole as u64;
        match self.comparison {
            Comparison::AtLeast => lhs >= rhs,
            Comparison::Above => lhs > rhs,
        }
    }

    /// Whether `failures` out of `whole` calls trips the failure-rate rule.
    pub const fn failure_rate_trips(&self, failures: u32, whole: u32) -> bool {
        self.trips(failures, whole, self.failure_micro)
    }

    /// Whether `slow` out of `whole` calls trips the slow-call rule.
    pub const fn slow_rate_trips(&self, slow: u32, whole: u32) -> bool {
        self.trips(slow, whole, self.slow_micro)
    }

    /// Whether `run` failures in a row trip the consecutive-failures rule.
    pub const fn consecutive_trips(&self, run: u32) -> bool {
        self.consecutive_failures != 0 && run >= self.consecutive_failures
    }

    /// Whether a call of `duration` ticks is slow.
    pub const fn is_slow(&self, duration: u64) -> bool {
        self.slow_micro != OFF && duration >= self.slow_call_duration
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(c: BreakerConfig) -> (&'static str, Problem) {
        let e = c.validate().unwrap_err();
        (e.field, e.problem)
    }

    #[test]
    fn every_bad_field_is_named() {
        let d = BreakerConfig::new(TickUnit::MILLIS);
        let cases: [(BreakerConfig, (&str, Problem)); 12] = [
            (
                BreakerConfig {
                    failure_rate: Some(Ratio::from_ppm(1_000_001)),
                    ..d
                },
                ("failure_rate", Problem::OutOfRange),
            ),
            (
                BreakerConfig {
                    slow_call_rate: Some(Ratio::percent(101)),
                    slow_call_duration: 5,
                    ..d
                },
                ("slow_call_rate", Problem::OutOfRange),
            ),
            (
                BreakerConfig {
                    slow_call_rate: Some(Ratio::percent(10)),
                    ..d
                },
                ("slow_call_duration", Problem::Required),
            ),
            (
                BreakerConfig {
                    consecutive_failures: Some(0),
                    ..d
                },
                ("consecutive_failures", Problem::Zero),
            ),
            (
                BreakerConfig {
                    half_open_probes: 0,
                    ..d
                },
                ("half_open_probes", Problem::Zero),
            ),
            (
                BreakerConfig {
                    half_open_probes: 65_536,
                    ..d
                },
                ("half_open_probes", Problem::OutOfRange),
            ),
            // Every rule off: nothing could ever open it.
            (
                BreakerConfig {
                    failure_rate: None,
                    ..d
                },
                ("failure_rate", Problem::NeverTrips),
            ),
            // No share of calls is above 100 %.
            (
                BreakerConfig {
                    failure_rate: Some(Ratio::ONE),
                    comparison: Comparison::Above,
                    ..d
                },
                ("failure_rate", Problem::NeverTrips),
            ),
            (
                BreakerConfig {
                    slow_call_rate: Some(Ratio::ONE),
                    slow_call_duration: 9,
                    comparison: Comparison::Above,
                    ..d
                },
                ("slow_call_rate", Problem::NeverTrips),
            ),
            // `manual` with a rule on is a contradiction, named by the rule.
            (
                BreakerConfig { manual: true, ..d },
                ("failure_rate", Problem::Inconsistent),
            ),
            (
                BreakerConfig {
                    manual: true,
                    failure_rate: None,
                    consecutive_failures: Some(3),
                    ..d
                },
                ("consecutive_failures", Problem::Inconsistent),
            ),
            (
                BreakerConfig {
                    manual: true,
                    failure_rate: None,
                    slow_call_rate: Some(Ratio::percent(5)),
                    slow_call_duration: 1,
                    ..d
                },
                ("slow_call_rate", Problem::Inconsistent),
            ),
        ];
        for (config, want) in cases {
            assert_eq!(err(config), want, "{config:?}");
        }
        // The explicit mode: only the host opens it.
        let manual = BreakerConfig {
            manual: true,
            failure_rate: None,
            ..d
        };
        assert!(manual.validate().is_ok());
        // 100 % compared with AtLeast can trip (every call failed).
        let all = BreakerConfig {
            failure_rate: Some(Ratio::ONE),
            ..d
        };
        assert!(all.validate().unwrap().failure_rate_trips(4, 4));
    }

    #[test]
    fn rules_must_fit_the_window() {
        let d = BreakerConfig::new(TickUnit::MILLIS);
        let rules = BreakerConfig { min_calls: 17, ..d }.validate().unwrap();
        let e = rules.fits(Some(16)).unwrap_err();
        assert_eq!((e.field, e.problem), ("min_calls", Problem::ExceedsWindow));
        assert!(rules.fits(Some(17)).is_ok());
        assert!(rules.fits(None).is_ok(), "a time window has no limit");
        // min_calls only matters to the rate rules.
        let run = BreakerConfig {
            min_calls: 17,
            failure_rate: None,
            consecutive_failures: Some(3),
            ..d
        };
        assert!(run.validate().unwrap().fits(Some(16)).is_ok());
        let started = BreakerConfig {
            rate_basis: RateBasis::Started,
            ..d
        }
        .validate()
        .unwrap();
        let e = started.fits(Some(100)).unwrap_err();
        assert_eq!((e.field, e.problem), ("rate_basis", Problem::Inconsistent));
        assert!(started.fits(None).is_ok());
    }

    #[test]
    fn the_config_comes_back_from_the_rules() {
        let c = BreakerConfig {
            failure_rate: Some(Ratio::from_ppm(332_500)),
            slow_call_rate: Some(Ratio::percent(12)),
            slow_call_duration: 300,
            consecutive_failures: Some(4),
            half_open_probes: 65_535,
            seed: 7,
            ..BreakerConfig::new(TickUnit::MILLIS)
        };
        assert_eq!(c.validate().unwrap().config(), c);
        let d = BreakerConfig::new(TickUnit::MILLIS);
        assert_eq!(d.validate().unwrap().config(), d);
    }

    #[test]
    fn comparisons_follow_the_mode() {
        let at_least = BreakerConfig::new(TickUnit::MILLIS).validate().unwrap();
        assert!(at_least.failure_rate_trips(1, 2));
        let above = BreakerConfig {
            comparison: Comparison::Above,
            ..BreakerConfig::new(TickUnit::MILLIS)
        }
        .validate()
        .unwrap();
        assert!(!above.failure_rate_trips(1, 2));
        assert!(above.failure_rate_trips(2, 3));
        assert!(!above.failure_rate_trips(0, 0));
        let off = BreakerConfig {
            failure_rate: None,
            manual: true,
            ..BreakerConfig::new(TickUnit::MILLIS)
        }
        .validate()
        .unwrap();
        assert!(!off.failure_rate_trips(10, 10));
    }
}
