//! The one error every constructor returns: which field of a config is bad, and how.

use core::fmt;

/// What is wrong with a config field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Problem {
    /// The field must not be zero.
    Zero,
    /// The field is outside its documented range.
    OutOfRange,
    /// The field is a floating-point NaN.
    NotANumber,
    /// The field contradicts another field (named in the docs of the field).
    Inconsistent,
    /// The config could never do its job with this value: a breaker whose
    /// rules can never trip (every rule off, or a 100 % threshold compared
    /// with `Above`).
    NeverTrips,
    /// The value is larger than the window can ever hold (`min_calls` above
    /// a count window's size).
    ExceedsWindow,
    /// The field must be set because another one is (`slow_call_duration`
    /// for `slow_call_rate`).
    Required,
}

/// Every config field a core constructor can reject, as a number: a host
/// that maps fields to its own names matches on this instead of comparing
/// strings (the C door does, where string compares cost flash).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
#[repr(u8)]
pub enum Field {
    /// `"failure_rate"`.
    FailureRate,
    /// `"slow_call_rate"`.
    SlowCallRate,
    /// `"slow_call_duration"`.
    SlowCallDuration,
    /// `"consecutive_failures"`.
    ConsecutiveFailures,
    /// `"half_open_probes"`.
    HalfOpenProbes,
    /// `"schedule.delay"`.
    ScheduleDelay,
    /// `"schedule.base"`.
    ScheduleBase,
    /// `"schedule.factor_milli"`.
    ScheduleFactorMilli,
    /// `"cap"`.
    Cap,
    /// `"jitter.percent"`.
    JitterPercent,
    /// `"max_attempts"`.
    MaxAttempts,
    /// `"max_elapsed"`.
    MaxElapsed,
    /// `"tokens"`.
    Tokens,
    /// `"period"`.
    Period,
    /// `"max_tokens"`.
    MaxTokens,
    /// `"token_ratio_milli"`.
    TokenRatioMilli,
    /// `"reserve_critical"`.
    ReserveCritical,
    /// `"reserve_normal"`.
    ReserveNormal,
    /// `"slots"`.
    Slots,
    /// `"buckets"`.
    Buckets,
    /// `"span"`.
    Span,
    /// `"burst"`.
    Burst,
    /// `"min_calls"`.
    MinCalls,
    /// `"rate_basis"`.
    RateBasis,
    /// `"lease"`.
    Lease,
    /// `"fault_rate"`.
    FaultRate,
    /// `"latency_rate"`.
    LatencyRate,
    /// `"latency_max"`.
    LatencyMax,
    /// `"substitute_rate"`.
    SubstituteRate,
    /// `"behavior_rate"`.
    BehaviorRate,
    /// `"interval"`.
    Interval,
    /// `"base_ejection_time"`.
    BaseEjectionTime,
    /// `"max_ejection_time"`.
    MaxEjectionTime,
    /// `"max_ejection_percent"`.
    MaxEjectionPercent,
    /// `"endpoints"`.
    Endpoints,
}

impl Field {
    const ALL: [Field; 35] = [
        Field::FailureRate,
        Field::SlowCallRate,
        Field::SlowCallDuration,
        Field::ConsecutiveFailures,
        Field::HalfOpenProbes,
        Field::ScheduleDelay,
        Field::ScheduleBase,
        Field::ScheduleFactorMilli,
        Field::Cap,
        Field::JitterPercent,
        Field::MaxAttempts,
        Field::MaxElapsed,
        Field::Tokens,
        Field::Period,
        Field::MaxTokens,
        Field::TokenRatioMilli,
        Field::ReserveCritical,
        Field::ReserveNormal,
        Field::Slots,
        Field::Buckets,
        Field::Span,
        Field::Burst,
        Field::MinCalls,
        Field::RateBasis,
        Field::Lease,
        Field::FaultRate,
        Field::LatencyRate,
        Field::LatencyMax,
        Field::SubstituteRate,
        Field::BehaviorRate,
        Field::Interval,
        Field::BaseEjectionTime,
        Field::MaxEjectionTime,
        Field::MaxEjectionPercent,
        Field::Endpoints,
    ];

    /// The field's name as spelled in the Rust config struct.
    pub const fn name(self) -> &'static str {
        match self {
            Field::FailureRate => "failure_rate",
            Field::SlowCallRate => "slow_call_rate",
            Field::SlowCallDuration => "slow_call_duration",
            Field::ConsecutiveFailures => "consecutive_failures",
            Field::HalfOpenProbes => "half_open_probes",
            Field::ScheduleDelay => "schedule.delay",
            Field::ScheduleBase => "schedule.base",
            Field::ScheduleFactorMilli => "schedule.factor_milli",
            Field::Cap => "cap",
            Field::JitterPercent => "jitter.percent",
            Field::MaxAttempts => "max_attempts",
            Field::MaxElapsed => "max_elapsed",
            Field::Tokens => "tokens",
            Field::Period => "period",
            Field::MaxTokens => "max_tokens",
            Field::TokenRatioMilli => "token_ratio_milli",
            Field::ReserveCritical => "reserve_critical",
            Field::ReserveNormal => "reserve_normal",
            Field::Slots => "slots",
            Field::Buckets => "buckets",
            Field::Span => "span",
            Field::Burst => "burst",
            Field::MinCalls => "min_calls",
            Field::RateBasis => "rate_basis",
            Field::Lease => "lease",
            Field::FaultRate => "fault_rate",
            Field::LatencyRate => "latency_rate",
            Field::LatencyMax => "latency_max",
            Field::SubstituteRate => "substitute_rate",
            Field::BehaviorRate => "behavior_rate",
            Field::Interval => "interval",
            Field::BaseEjectionTime => "base_ejection_time",
            Field::MaxEjectionTime => "max_ejection_time",
            Field::MaxEjectionPercent => "max_ejection_percent",
            Field::Endpoints => "endpoints",
        }
    }

    /// The field named `name`, if the core has one of that name.
    pub const fn from_name(name: &str) -> Option<Field> {
        let mut i = 0;
        while i < Self::ALL.len() {
            if eq(Self::ALL[i].name().as_bytes(), name.as_bytes()) {
                return Some(Self::ALL[i]);
            }
            i += 1;
        }
        None
    }
}

const fn eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// A config was rejected at construction; nothing was built.
///
/// `field` is the Rust name of the config field (`"failure_rate"`,
/// `"open_backoff.cap"`), stable so bindings can map it to their own names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct ConfigError {
    /// The config field at fault, as spelled in the Rust config struct.
    pub field: &'static str,
    /// What is wrong with it.
    pub problem: Problem,
    /// The same field as a [`Field`]; `None` only for an error a host built
    /// with [`ConfigError::new`] under a name the core does not use.
    pub id: Option<Field>,
}

impl ConfigError {
    /// An error for `field` with `problem`.
    pub const fn new(field: &'static str, problem: Problem) -> Self {
        Self {
            field,
            problem,
            id: Field::from_name(field),
        }
    }

    /// An error for a core field with `problem` (what the core's own
    /// constructors return: no string is looked at).
    pub const fn of(field: Field, problem: Problem) -> Self {
        Self {
            field: field.name(),
            problem,
            id: Some(field),
        }
    }

    /// A short static description of the problem, for hosts without `core::fmt`.
    pub const fn reason(&self) -> &'static str {
        match self.problem {
            Problem::Zero => "must not be zero",
            Problem::OutOfRange => "is out of range",
            Problem::NotANumber => "is NaN",
            Problem::Inconsistent => "contradicts another field",
            Problem::NeverTrips => "means the breaker can never open",
            Problem::ExceedsWindow => "is more calls than the window holds",
            Problem::Required => "must be set when the rule that needs it is on",
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid config: `{}` {}", self.field, self.reason())
    }
}

impl core::error::Error for ConfigError {}

/// Shorthand for constructor results.
pub type ConfigResult<T> = Result<T, ConfigError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_round_trips_through_its_name() {
        for f in Field::ALL {
            assert_eq!(Field::from_name(f.name()), Some(f));
            assert_eq!(
                ConfigError::new(f.name(), Problem::Zero),
                ConfigError::of(f, Problem::Zero)
            );
        }
        assert_eq!(Field::from_name("open_backoff.cap"), None);
        assert_eq!(Field::from_name("ca"), None);
    }
}
