//! What a breaker is told at construction, and its validation.

use crate::backoff::Backoff;
use crate::error::{ConfigError, ConfigResult, Field, Problem};

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
    /// Every call the window saw: outcomes, ignored and rejected (opossum's `fires`).
    AllCalls = 1,
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
/// Start from [`BreakerConfig::DEFAULT`] (or `Default`) and override fields.
#[derive(Debug, Clone, Copy, PartialEq)]
#[repr(C)]
pub struct BreakerConfig {
    /// Trip when the failure rate over the window reaches this percentage
    /// (`0.0..=100.0`); `None` turns the rule off. Default 50.
    pub failure_rate: Option<f32>,
    /// Trip when the share of slow calls reaches this percentage; `None`
    /// (the default) turns the rule off. Needs `slow_call_duration`.
    pub slow_call_rate: Option<f32>,
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
    /// Leave half-open after this many ticks even if probes are still out;
    /// 0 (the default) waits for the probes.
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
}

impl BreakerConfig {
    /// The defaults: 50% failure rate over at least 10 calls, open 1000
    /// ticks, one half-open probe.
    pub const DEFAULT: Self = Self {
        failure_rate: Some(50.0),
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
        let failure = match percent(Field::FailureRate, self.failure_rate) {
            Ok(v) => v,
            Err(e) => return Err(e),
        };
        let slow = match percent(Field::SlowCallRate, self.slow_call_rate) {
            Ok(v) => v,
            Err(e) => return Err(e),
        };
        if slow != OFF && self.slow_call_duration == 0 {
            return Err(ConfigError::of(Field::SlowCallDuration, Problem::Zero));
        }
        let consecutive_failures = match self.consecutive_failures {
            Some(0) => return Err(ConfigError::of(Field::ConsecutiveFailures, Problem::Zero)),
            Some(n) => n,
            None => 0,
        };
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
        })
    }
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// A rule that is off, in [`Rules`]' millionths.
const OFF: u32 = u32::MAX;

/// A percentage as millionths of one (50% is 500_000), for integer
/// compares; [`OFF`] for `None`. A hint, not `always`: forced, LLVM
/// allocates registers worse in the firmware breaker init (+28 bytes).
#[inline]
const fn percent(field: Field, p: Option<f32>) -> ConfigResult<u32> {
    match p {
        None => Ok(OFF),
        Some(v) if v.is_nan() => Err(ConfigError::of(field, Problem::NotANumber)),
        Some(v) if v < 0.0 || v > 100.0 => Err(ConfigError::of(field, Problem::OutOfRange)),
        Some(v) => Ok((v * 10_000.0 + 0.5) as u32),
    }
}

/// A millionths threshold back as a percentage, `None` if [`OFF`].
fn percent_of(micro: u32) -> Option<f32> {
    (micro != OFF).then(|| micro as f32 / 10_000.0)
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
}

impl Rules {
    /// The most half-open probes a breaker counts (`u16::MAX`).
    pub const MAX_PROBES: u16 = u16::MAX;

    /// The config these rules were validated from, with the percentages as
    /// kept: rounded to millionths (a ten-thousandth of a percent).
    pub fn config(&self) -> BreakerConfig {
        BreakerConfig {
            failure_rate: percent_of(self.failure_micro),
            slow_call_rate: percent_of(self.slow_micro),
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
        }
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
        let d = BreakerConfig::DEFAULT;
        let nan = BreakerConfig {
            failure_rate: Some(f32::NAN),
            ..d
        };
        assert_eq!(err(nan), ("failure_rate", Problem::NotANumber));
        let high = BreakerConfig {
            failure_rate: Some(100.5),
            ..d
        };
        assert_eq!(err(high), ("failure_rate", Problem::OutOfRange));
        let neg = BreakerConfig {
            slow_call_rate: Some(-1.0),
            ..d
        };
        assert_eq!(err(neg), ("slow_call_rate", Problem::OutOfRange));
        let no_limit = BreakerConfig {
            slow_call_rate: Some(10.0),
            ..d
        };
        assert_eq!(err(no_limit), ("slow_call_duration", Problem::Zero));
        let zero = BreakerConfig {
            consecutive_failures: Some(0),
            ..d
        };
        assert_eq!(err(zero), ("consecutive_failures", Problem::Zero));
        let probes = BreakerConfig {
            half_open_probes: 0,
            ..d
        };
        assert_eq!(err(probes), ("half_open_probes", Problem::Zero));
        let many = BreakerConfig {
            half_open_probes: 65_536,
            ..d
        };
        assert_eq!(err(many), ("half_open_probes", Problem::OutOfRange));
    }

    #[test]
    fn the_config_comes_back_from_the_rules() {
        let c = BreakerConfig {
            failure_rate: Some(33.25),
            slow_call_rate: Some(12.5),
            slow_call_duration: 300,
            consecutive_failures: Some(4),
            half_open_probes: 65_535,
            seed: 7,
            ..BreakerConfig::DEFAULT
        };
        assert_eq!(c.validate().unwrap().config(), c);
        let d = BreakerConfig::DEFAULT;
        assert_eq!(d.validate().unwrap().config(), d);
    }

    #[test]
    fn comparisons_follow_the_mode() {
        let at_least = BreakerConfig::DEFAULT.validate().unwrap();
        assert!(at_least.failure_rate_trips(1, 2));
        let above = BreakerConfig {
            comparison: Comparison::Above,
            ..BreakerConfig::DEFAULT
        }
        .validate()
        .unwrap();
        assert!(!above.failure_rate_trips(1, 2));
        assert!(above.failure_rate_trips(2, 3));
        assert!(!above.failure_rate_trips(0, 0));
        let off = BreakerConfig {
            failure_rate: None,
            ..BreakerConfig::DEFAULT
        }
        .validate()
        .unwrap();
        assert!(!off.failure_rate_trips(10, 10));
    }
}
