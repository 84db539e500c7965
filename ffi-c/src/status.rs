//! The one status enum every function returns, the config-error report, and
//! the static text for each code.

use core::ffi::c_char;

use fusewire::{ConfigError, Field, Problem};

/// A `fusewire_status` value as it crosses the boundary: a 32-bit integer the
/// header names `fusewire_status` (so C++ sees the enum), checked where it is used.
pub type StatusCode = u32;

/// What a call did. Values are stable: new codes are only ever appended.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum fusewire_status {
    /// Done; every out-parameter the function documents was written.
    Ok = 0,
    /// A required pointer argument was NULL. Nothing was changed.
    NullArgument = 1,
    /// The config was rejected; the `fusewire_config_error` out-parameter
    /// (if not NULL) names the field and the problem. Nothing was built.
    InvalidConfig = 2,
    /// An argument is out of its range (an unknown enum value, or an object
    /// pointer not aligned to 8 bytes). Nothing was changed.
    InvalidArgument = 3,
    /// The object was never initialised, was initialised as another type,
    /// or its tag was overwritten. Nothing was changed.
    NotInitialized = 4,
    /// The breaker refused the call; `retry_after` (if not NULL) says when
    /// it may admit again.
    Rejected = 5,
    /// The token bucket has too few tokens now; `retry_after` (if not
    /// NULL) says when the same request would succeed.
    RateLimited = 6,
    /// More tokens than the bucket's burst were asked for at once: never
    /// possible, waiting does not help.
    ExceedsBurst = 7,
    /// The retry budget is at or below half: do not retry now.
    Throttled = 8,
    /// The bulkhead has no free slot for this priority.
    BulkheadFull = 9,
    /// A bulkhead slot of that priority was released but none was held.
    NotHeld = 10,
    /// Retry: `max_attempts` attempts were made; stop.
    GiveUpMaxAttempts = 11,
    /// Retry: the next attempt would start after the deadline; stop.
    GiveUpDeadline = 12,
    // 13 is retired: it was a caught panic, which the no_std libraries
    // cannot return (a panic aborts; none is reachable).
    /// The object's tag is right but a field that must hold one of a few
    /// values (a mode, a flag, a divisor, an index) does not: something
    /// wrote over it. Nothing was changed; initialise it again.
    Corrupt = 14,
    /// A bulkhead slot given back after its lease ran out: it was already
    /// freed (counted; nothing changed).
    SlotExpired = 15,
    /// Retry: the wait the server (or a breaker) asks for is longer than
    /// the retry may still wait (its cap or deadline); stop.
    GiveUpWaitTooLong = 16,
}

/// A `fusewire_field` value as it crosses the boundary: a 32-bit integer the
/// header names `fusewire_field` (so C++ sees the enum), checked where it is used.
pub type FieldCode = u32;

/// Which config field a `FUSEWIRE_STATUS_INVALID_CONFIG` is about.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum fusewire_field {
    /// No field (not a config error), or one this version cannot name.
    None = 0,
    /// `fusewire_breaker_config.failure_rate_ppm` (also: no trip rule at all).
    BreakerFailureRate = 1,
    /// `fusewire_breaker_config.slow_call_rate_ppm`.
    BreakerSlowCallRate = 2,
    /// `fusewire_breaker_config.slow_call_duration`.
    BreakerSlowCallDuration = 3,
    /// `fusewire_breaker_config.consecutive_failures`.
    BreakerConsecutiveFailures = 4,
    /// `fusewire_breaker_config.half_open_probes`.
    BreakerHalfOpenProbes = 5,
    /// `fusewire_breaker_config.comparison`.
    BreakerComparison = 6,
    /// `fusewire_breaker_config.rate_basis`.
    BreakerRateBasis = 7,
    /// `fusewire_breaker_config.half_open_rule`.
    BreakerHalfOpenRule = 8,
    /// `fusewire_breaker_config.dwell_expiry`.
    BreakerDwellExpiry = 9,
    /// `fusewire_backoff_config.schedule` (of whichever config holds it).
    BackoffSchedule = 10,
    /// `fusewire_backoff_config.base`.
    BackoffBase = 11,
    /// `fusewire_backoff_config.factor_milli`.
    BackoffFactorMilli = 12,
    /// `fusewire_backoff_config.cap`.
    BackoffCap = 13,
    /// `fusewire_backoff_config.jitter`.
    BackoffJitter = 14,
    /// `fusewire_backoff_config.jitter_percent`.
    BackoffJitterPercent = 15,
    /// `fusewire_retry_config.max_attempts`.
    RetryMaxAttempts = 16,
    /// `fusewire_retry_config.max_elapsed`.
    RetryMaxElapsed = 17,
    /// `fusewire_bucket_config.burst`.
    BucketBurst = 18,
    /// `fusewire_bucket_config.tokens` (or the `tokens` argument of set_rate).
    BucketTokens = 19,
    /// `fusewire_bucket_config.period` (or the `period` argument of set_rate).
    BucketPeriod = 20,
    /// `fusewire_budget_config.max_tokens`.
    BudgetMaxTokens = 21,
    /// `fusewire_budget_config.token_ratio_milli`.
    BudgetTokenRatioMilli = 22,
    /// `fusewire_bulkhead_config.limit`.
    BulkheadLimit = 23,
    /// `fusewire_bulkhead_config.reserve_critical`.
    BulkheadReserveCritical = 24,
    /// `fusewire_bulkhead_config.reserve_normal`.
    BulkheadReserveNormal = 25,
    /// The `span` argument of `fusewire_timed_breaker_init`.
    BreakerSpan = 26,
    /// The `buckets` argument of `fusewire_timed_breaker_init`.
    BreakerBuckets = 27,
    /// `fusewire_breaker_config.min_calls`.
    BreakerMinCalls = 28,
    /// `fusewire_bulkhead_config.lease`.
    BulkheadLease = 29,
    /// `fusewire_lite_breaker_config.threshold`.
    LiteBreakerThreshold = 30,
    /// `fusewire_lite_breaker_config.open_ticks`.
    LiteBreakerOpenTicks = 31,
    /// `fusewire_lite_backoff_config.base`.
    LiteBackoffBase = 32,
    /// `fusewire_lite_backoff_config.cap`.
    LiteBackoffCap = 33,
    /// `fusewire_lite_bucket_config.interval`.
    LiteBucketInterval = 34,
    /// `fusewire_lite_bucket_config.burst`.
    LiteBucketBurst = 35,
    /// `fusewire_chaos_config.fault_rate_ppm`.
    ChaosFaultRate = 36,
    /// `fusewire_chaos_config.latency_rate_ppm`.
    ChaosLatencyRate = 37,
    /// `fusewire_chaos_config.latency_max`.
    ChaosLatencyMax = 38,
    /// `fusewire_chaos_config.substitute_rate_ppm`.
    ChaosSubstituteRate = 39,
    /// `fusewire_chaos_config.behavior_rate_ppm`.
    ChaosBehaviorRate = 40,
    /// `fusewire_pool_config.interval`.
    PoolInterval = 41,
    /// `fusewire_pool_config.base_ejection_time`.
    PoolBaseEjectionTime = 42,
    /// `fusewire_pool_config.max_ejection_time`.
    PoolMaxEjectionTime = 43,
    /// `fusewire_pool_config.max_ejection_percent`.
    PoolMaxEjectionPercent = 44,
    /// The `endpoints` argument of `fusewire_pool4_init` / `fusewire_pool16_init`.
    PoolEndpoints = 45,
}

/// A `fusewire_problem` value as it crosses the boundary: a 32-bit integer the
/// header names `fusewire_problem` (so C++ sees the enum), checked where it is used.
pub type ProblemCode = u32;

/// What is wrong with the field.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum fusewire_problem {
    /// No problem (not a config error).
    None = 0,
    /// Must not be zero.
    Zero = 1,
    /// Outside its documented range (including unknown enum values).
    OutOfRange = 2,
    /// A float that is NaN.
    NotANumber = 3,
    /// Contradicts another field.
    Inconsistent = 4,
    /// With this config the breaker could never open: set a trip rule, or
    /// `manual` if only the host opens it (or a rate of 100% compared
    /// `ABOVE`).
    NeverTrips = 5,
    /// More than the breaker's window holds (`min_calls` above 16 for
    /// `fusewire_breaker`).
    ExceedsWindow = 6,
    /// Must be set because another field is (`slow_call_duration` for a
    /// slow-call rate).
    Required = 7,
}

/// Which field of a config was rejected, and why. Written only when a
/// function returns `FUSEWIRE_STATUS_INVALID_CONFIG`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub struct fusewire_config_error {
    /// Which field.
    pub field: FieldCode,
    /// What is wrong with it.
    pub problem: ProblemCode,
}

/// Which config a core error came from: the core names fields by their
/// Rust spelling, which is only unique within one constructor.
#[derive(Clone, Copy)]
pub(crate) enum Scope {
    Breaker,
    /// The window arguments of `fusewire_timed_breaker_init`.
    BreakerWindow,
    Backoff,
    Retry,
    Bucket,
    Budget,
    Bulkhead,
    Chaos,
    Pool,
}

/// A config error on the way out: the field as the C header names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Invalid {
    pub field: fusewire_field,
    pub problem: fusewire_problem,
}

impl Invalid {
    pub(crate) const fn new(field: fusewire_field, problem: fusewire_problem) -> Self {
        Self { field, problem }
    }

    /// Maps a core `ConfigError` (field named as a Rust string) to codes.
    /// Always inlined: each init keeps only the arms its scope can reach.
    #[inline(always)]
    pub(crate) fn from_core(scope: Scope, e: ConfigError) -> Self {
        use fusewire_field as F;
        use Field as C;
        // On the number, not the name: no string compares in firmware.
        let field = match (scope, e.id) {
            (Scope::Breaker, Some(C::FailureRate)) => F::BreakerFailureRate,
            (Scope::Breaker, Some(C::SlowCallRate)) => F::BreakerSlowCallRate,
            (Scope::Breaker, Some(C::SlowCallDuration)) => F::BreakerSlowCallDuration,
            (Scope::Breaker, Some(C::ConsecutiveFailures)) => F::BreakerConsecutiveFailures,
            (Scope::Breaker, Some(C::HalfOpenProbes)) => F::BreakerHalfOpenProbes,
            (Scope::Breaker, Some(C::MinCalls)) => F::BreakerMinCalls,
            (Scope::Breaker, Some(C::RateBasis)) => F::BreakerRateBasis,
            (Scope::BreakerWindow, Some(C::Span)) => F::BreakerSpan,
            (Scope::BreakerWindow, Some(C::Buckets)) => F::BreakerBuckets,
            (Scope::Backoff, Some(C::ScheduleDelay | C::ScheduleBase)) => F::BackoffBase,
            (Scope::Backoff, Some(C::ScheduleFactorMilli)) => F::BackoffFactorMilli,
            (Scope::Backoff, Some(C::Cap)) => F::BackoffCap,
            (Scope::Backoff, Some(C::JitterPercent)) => F::BackoffJitterPercent,
            (Scope::Retry, Some(C::MaxAttempts)) => F::RetryMaxAttempts,
            (Scope::Retry, Some(C::MaxElapsed)) => F::RetryMaxElapsed,
            (Scope::Bucket, Some(C::Tokens)) => F::BucketTokens,
            (Scope::Bucket, Some(C::Period)) => F::BucketPeriod,
            (Scope::Bucket, Some(C::Burst)) => F::BucketBurst,
            (Scope::Budget, Some(C::MaxTokens)) => F::BudgetMaxTokens,
            (Scope::Budget, Some(C::TokenRatioMilli)) => F::BudgetTokenRatioMilli,
            (Scope::Bulkhead, Some(C::ReserveCritical)) => F::BulkheadReserveCritical,
            (Scope::Bulkhead, Some(C::ReserveNormal)) => F::BulkheadReserveNormal,
            (Scope::Bulkhead, Some(C::Lease)) => F::BulkheadLease,
            (Scope::Chaos, Some(C::FaultRate)) => F::ChaosFaultRate,
            (Scope::Chaos, Some(C::LatencyRate)) => F::ChaosLatencyRate,
            (Scope::Chaos, Some(C::LatencyMax)) => F::ChaosLatencyMax,
            (Scope::Chaos, Some(C::SubstituteRate)) => F::ChaosSubstituteRate,
            (Scope::Chaos, Some(C::BehaviorRate)) => F::ChaosBehaviorRate,
            (Scope::Pool, Some(C::Interval)) => F::PoolInterval,
            (Scope::Pool, Some(C::BaseEjectionTime)) => F::PoolBaseEjectionTime,
            (Scope::Pool, Some(C::MaxEjectionTime)) => F::PoolMaxEjectionTime,
            (Scope::Pool, Some(C::MaxEjectionPercent)) => F::PoolMaxEjectionPercent,
            (Scope::Pool, Some(C::Endpoints)) => F::PoolEndpoints,
            _ => F::None,
        };
        let problem = match e.problem {
            Problem::Zero => fusewire_problem::Zero,
            Problem::NotANumber => fusewire_problem::NotANumber,
            Problem::Inconsistent => fusewire_problem::Inconsistent,
            Problem::NeverTrips => fusewire_problem::NeverTrips,
            Problem::ExceedsWindow => fusewire_problem::ExceedsWindow,
            Problem::Required => fusewire_problem::Required,
            _ => fusewire_problem::OutOfRange,
        };
        Self { field, problem }
    }
}

/// A NUL-terminated static string as a C pointer.
macro_rules! c_text {
    ($s:literal) => {
        concat!($s, "\0").as_ptr().cast::<c_char>()
    };
}

/// The text for a `fusewire_status` value: a static, NUL-terminated string,
/// never NULL ("unknown status" for values this version does not define).
///
/// Thread/ISR safety: pure; callable from any thread or interrupt.
#[no_mangle]
pub extern "C" fn fusewire_status_text(status: StatusCode) -> *const c_char {
    match status {
        0 => c_text!("ok"),
        1 => c_text!("a required pointer argument was NULL"),
        2 => c_text!("invalid config"),
        3 => c_text!("argument out of range"),
        4 => c_text!("object not initialised or corrupted"),
        5 => c_text!("rejected by the circuit breaker"),
        6 => c_text!("rate limited"),
        7 => c_text!("request exceeds the bucket's burst"),
        8 => c_text!("retry throttled by the retry budget"),
        9 => c_text!("bulkhead full"),
        10 => c_text!("released a bulkhead slot that was not held"),
        11 => c_text!("gave up: max attempts reached"),
        12 => c_text!("gave up: deadline reached"),
        14 => c_text!("object corrupted: initialise it again"),
        15 => c_text!("bulkhead slot given back after its lease ran out"),
        16 => c_text!("gave up: the wait asked for is longer than the retry may wait"),
        _ => c_text!("unknown status"),
    }
}

/// The config field's name as spelled in the C header (for example
/// "breaker.failure_rate"); "none" for `FUSEWIRE_FIELD_NONE` and unknown
/// values. Static, NUL-terminated, never NULL.
///
/// Thread/ISR safety: pure; callable from any thread or interrupt.
#[no_mangle]
pub extern "C" fn fusewire_field_text(field: FieldCode) -> *const c_char {
    match field {
        1 => c_text!("breaker.failure_rate_ppm"),
        2 => c_text!("breaker.slow_call_rate_ppm"),
        3 => c_text!("breaker.slow_call_duration"),
        4 => c_text!("breaker.consecutive_failures"),
        5 => c_text!("breaker.half_open_probes"),
        6 => c_text!("breaker.comparison"),
        7 => c_text!("breaker.rate_basis"),
        8 => c_text!("breaker.half_open_rule"),
        9 => c_text!("breaker.dwell_expiry"),
        10 => c_text!("backoff.schedule"),
        11 => c_text!("backoff.base"),
        12 => c_text!("backoff.factor_milli"),
        13 => c_text!("backoff.cap"),
        14 => c_text!("backoff.jitter"),
        15 => c_text!("backoff.jitter_percent"),
        16 => c_text!("retry.max_attempts"),
        17 => c_text!("retry.max_elapsed"),
        18 => c_text!("bucket.burst"),
        19 => c_text!("bucket.tokens"),
        20 => c_text!("bucket.period"),
        21 => c_text!("budget.max_tokens"),
        22 => c_text!("budget.token_ratio_milli"),
        23 => c_text!("bulkhead.limit"),
        24 => c_text!("bulkhead.reserve_critical"),
        25 => c_text!("bulkhead.reserve_normal"),
        26 => c_text!("breaker.span"),
        27 => c_text!("breaker.buckets"),
        28 => c_text!("breaker.min_calls"),
        29 => c_text!("bulkhead.lease"),
        30 => c_text!("lite_breaker.threshold"),
        31 => c_text!("lite_breaker.open_ticks"),
        32 => c_text!("lite_backoff.base"),
        33 => c_text!("lite_backoff.cap"),
        34 => c_text!("lite_bucket.interval"),
        35 => c_text!("lite_bucket.burst"),
        36 => c_text!("chaos.fault_rate_ppm"),
        37 => c_text!("chaos.latency_rate_ppm"),
        38 => c_text!("chaos.latency_max"),
        39 => c_text!("chaos.substitute_rate_ppm"),
        40 => c_text!("chaos.behavior_rate_ppm"),
        41 => c_text!("pool.interval"),
        42 => c_text!("pool.base_ejection_time"),
        43 => c_text!("pool.max_ejection_time"),
        44 => c_text!("pool.max_ejection_percent"),
        45 => c_text!("pool.endpoints"),
        _ => c_text!("none"),
    }
}

/// The text for a `fusewire_problem` value ("must not be zero", ...).
/// Static, NUL-terminated, never NULL.
///
/// Thread/ISR safety: pure; callable from any thread or interrupt.
#[no_mangle]
pub extern "C" fn fusewire_problem_text(problem: ProblemCode) -> *const c_char {
    match problem {
        1 => c_text!("must not be zero"),
        2 => c_text!("is out of range"),
        3 => c_text!("is NaN"),
        4 => c_text!("contradicts another field"),
        5 => c_text!("means the breaker can never open"),
        6 => c_text!("exceeds what the window holds"),
        7 => c_text!("is required by another field"),
        _ => c_text!("no problem"),
    }
}

/// The library version, "MAJOR.MINOR.PATCH". Static, never NULL.
///
/// Thread/ISR safety: pure; callable from any thread or interrupt.
#[no_mangle]
pub extern "C" fn fusewire_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0")
        .as_ptr()
        .cast::<c_char>()
}
