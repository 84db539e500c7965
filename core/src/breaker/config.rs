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
    /// Probe permits in each half-open period (at least 1). Default 1.
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
    /// `consecutive_failures` of `Some(0)`; `half_open_probes` zero.
    // Inline: built where it is used, the config is not moved into `Rules`
    // through a `memcpy` call (which links a 730-byte routine on firmware).
    #[inline]
    pub const fn validate(self) -> ConfigResult<Rules> {
        let failure = match percent(Field::FailureRate, self.failure_rate) {
            Ok(v) => v,
            Err(e) => return Err(e),
        };
        let slow = match percent(Field::SlowCallRate, self.slow_call_rate) {
            Ok(v) => v,
            Err(e) => return Err(e),
        };
        if slow.is_some() && self.slow_call_duration == 0 {
            return Err(ConfigError::of(Field::SlowCallDuration, Problem::Zero));
        }
        if let Some(0) = self.consecutive_failures {
            return Err(ConfigError::of(Field::ConsecutiveFailures, Problem::Zero));
        }
        if self.half_open_probes == 0 {
            return Err(ConfigError::of(Field::HalfOpenProbes, Problem::Zero));
        }
        Ok(Rules {
            config: self,
            failure_micro: failure,
            slow_micro: slow,
        })
    }
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// A percentage as millionths of one (50% is 500_000), for integer compares.
const fn percent(field: Field, p: Option<f32>) -> ConfigResult<Option<u32>> {
    match p {
        None => Ok(None),
        Some(v) if v.is_nan() => Err(ConfigError::of(field, Problem::NotANumber)),
        Some(v) if v < 0.0 || v > 100.0 => Err(ConfigError::of(field, Problem::OutOfRange)),
        Some(v) => Ok(Some((v * 10_000.0 + 0.5) as u32)),
    }
}

/// A validated [`BreakerConfig`], with its percentages in fixed point.
#[derive(Debug, Clone, Copy, PartialEq)]
#[repr(C)]
pub struct Rules {
    config: BreakerConfig,
    failure_micro: Option<u32>,
    slow_micro: Option<u32>,
}

impl Rules {
    /// The config these rules were validated from.
    pub const fn config(&self) -> &BreakerConfig {
        &self.config
    }

    /// Whether `part` out of `whole` reaches a threshold in millionths.
    const fn trips(&self, part: u32, whole: u32, micro: u32) -> bool {
        let lhs = part as u64 * 1_000_000;
        let rhs = micro as u64 * whole as u64;
        match self.config.comparison {
            Comparison::AtLeast => lhs >= rhs,
            Comparison::Above => lhs > rhs,
        }
    }

    /// Whether `failures` out of `whole` calls trips the failure-rate rule.
    pub const fn failure_rate_trips(&self, failures: u32, whole: u32) -> bool {
        match self.failure_micro {
            Some(m) if whole > 0 => self.trips(failures, whole, m),
            _ => false,
        }
    }

    /// Whether `slow` out of `whole` calls trips the slow-call rule.
    pub const fn slow_rate_trips(&self, slow: u32, whole: u32) -> bool {
        match self.slow_micro {
            Some(m) if whole > 0 => self.trips(slow, whole, m),
            _ => false,
        }
    }

    /// Whether a call of `duration` ticks is slow.
    pub const fn is_slow(&self, duration: u64) -> bool {
        self.slow_micro.is_some() && duration >= self.config.slow_call_duration
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
