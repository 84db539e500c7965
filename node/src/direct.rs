//! The core's types as they are, for hosts that drive them directly
//! (`lib/core.js`: `Breaker`, `Backoff`, `RetryBudget`): time comes in as
//! `now`, a permit crosses as the number [`Permit::into_raw`] gives (it fits
//! a double exactly: generation in bits 0..32, probe flag in bit 32), and a
//! config the core rejects comes back as a [`ConfigProblem`] naming the
//! core's field, which the JS layer turns into a TypeError with its own name.

use fusewire::window::Counts;
use fusewire::{
    Backoff, Breaker, BreakerConfig, Budget, Comparison, ConfigError, CountRing, DwellExpiry,
    Field, HalfOpenRule, Outcome, Permit, Problem, RateBasis, Ratio, Reason, Rng, Sliding, State,
    TickUnit, Transition,
};
use napi::bindgen_prelude::Either;
use napi::{Error, Result, Status};
use napi_derive::napi;

use crate::backoff::{backoff_checked, BackoffSpec};
use crate::ring::{NodeBreaker, NodeWindow, Ring};
use crate::ticks;

/// Largest count window (one byte of native memory per call).
const MAX_COUNT: f64 = (1u32 << 20) as f64;

/// A config the core rejected: its field (the Rust name, e.g.
/// `open_backoff.cap`) and the problem (`zero`, `out_of_range`,
/// `not_a_number`, `inconsistent`).
#[napi(object)]
pub struct ConfigProblem {
    /// The core's name of the field at fault.
    pub field: String,
    /// What is wrong with it.
    pub problem: String,
}

/// A percentage as the core's integer rate: NaN and values outside 0..=100
/// are the core's own problems for `field`.
pub(crate) fn ratio_of(percent: f64, field: Field) -> std::result::Result<Ratio, ConfigError> {
    if percent.is_nan() {
        return Err(ConfigError::of(field, Problem::NotANumber));
    }
    Ratio::from_percent(percent).ok_or(ConfigError::of(field, Problem::OutOfRange))
}

pub(crate) fn problem_of(e: ConfigError, prefix: &str) -> ConfigProblem {
    ConfigProblem {
        field: format!("{prefix}{}", e.field),
        problem: match e.problem {
            Problem::Zero => "zero",
            Problem::OutOfRange => "out_of_range",
            Problem::NotANumber => "not_a_number",
            Problem::Inconsistent => "inconsistent",
            Problem::NeverTrips => "never_trips",
            Problem::ExceedsWindow => "exceeds_window",
            Problem::Required => "required",
            _ => "invalid",
        }
        .into(),
    }
}

/// Ticks out to JavaScript: `u64::MAX`, the core's "never" (a forced-open
/// breaker's wait, a saturated delay), is `Infinity`; the rest are numbers,
/// exact up to 2^53.
pub(crate) fn ms_out(v: u64) -> f64 {
    if v == u64::MAX {
        f64::INFINITY
    } else {
        v as f64
    }
}

fn invalid(msg: String) -> Error {
    Error::new(Status::InvalidArg, msg)
}

pub(crate) fn state_name(s: State) -> &'static str {
    match s {
        State::Closed => "closed",
        State::Open => "open",
        State::HalfOpen => "halfOpen",
        State::ForcedOpen => "forcedOpen",
        State::Disabled => "disabled",
    }
}

pub(crate) fn reason_name(r: Reason) -> &'static str {
    match r {
        Reason::FailureRate => "failureRate",
        Reason::SlowCallRate => "slowCallRate",
        Reason::ConsecutiveFailures => "consecutiveFailures",
        Reason::OpenElapsed => "openElapsed",
        Reason::ProbesPassed => "probesPassed",
        Reason::ProbesFailed => "probesFailed",
        Reason::DwellExpired => "dwellExpired",
        Reason::Host => "host",
    }
}

/// A state change: `from`, `to`, and why.
#[napi(object)]
pub struct StateChange {
    /// The state before.
    pub from: String,
    /// The state after.
    pub to: String,
    /// `failureRate`, `slowCallRate`, `consecutiveFailures`, `openElapsed`,
    /// `probesPassed`, `probesFailed`, `dwellExpired` or `host`.
    pub reason: String,
}

pub(crate) fn change(t: Option<Transition>) -> Option<StateChange> {
    t.map(|t| StateChange {
        from: state_name(t.from).into(),
        to: state_name(t.to).into(),
        reason: reason_name(t.reason).into(),
    })
}

/// The breaker options, type-checked by `lib/core.js`; absent fields take
/// the core's defaults.
#[napi(object)]
pub struct BreakerOptions {
    /// Percent; absent: the core's default (50).
    pub failure_rate: Option<f64>,
    /// The failure-rate rule is off (`failureRate: null`).
    pub failure_rate_off: bool,
    /// Percent; absent: off.
    pub slow_call_rate: Option<f64>,
    /// Ticks from which a call is slow.
    pub slow_call_duration: Option<f64>,
    /// Trip after this many failures in a row; absent: off.
    pub consecutive_failures: Option<u32>,
    /// Calls the window must hold before the rates are judged.
    pub min_calls: Option<u32>,
    /// `atLeast` or `above`.
    pub comparison: Option<String>,
    /// `outcomes`, `allCalls` or `started`.
    pub rate_basis: Option<String>,
    /// Only the host opens it: no trip rule is required.
    pub manual: Option<bool>,
    /// Probes per half-open period.
    pub half_open_probes: Option<u32>,
    /// `allSucceed` or `rates`.
    pub half_open_rule: Option<String>,
    /// Ticks a half-open period may last; 0 waits for the probes.
    pub half_open_max_dwell: Option<f64>,
    /// `reopen` or `close`.
    pub dwell_expiry: Option<String>,
    /// How long the breaker stays open.
    pub open_backoff: Option<BackoffSpec>,
    /// Clear the window on close.
    pub reset_window_on_close: Option<bool>,
    /// Seed of the open duration's jitter.
    pub seed: Option<f64>,
    /// A count window of this many calls (when `span` is absent).
    pub count: Option<f64>,
    /// A time window over this many ticks...
    pub span: Option<f64>,
    /// ...in this many buckets (1..=64).
    pub buckets: Option<f64>,
}

fn pick<T>(name: &str, v: Option<&str>, default: T, table: &[(&str, T)]) -> Result<T>
where
    T: Copy,
{
    let Some(v) = v else { return Ok(default) };
    table
        .iter()
        .find(|(k, _)| *k == v)
        .map(|&(_, t)| t)
        .ok_or_else(|| invalid(format!("fusewire: Breaker {name} '{v}' is not known")))
}

pub(crate) fn config_of(
    o: &BreakerOptions,
) -> Result<std::result::Result<BreakerConfig, ConfigProblem>> {
    let d = BreakerConfig::new(TickUnit::MILLIS);
    let open_backoff = match &o.open_backoff {
        None => d.open_backoff,
        Some(spec) => match backoff_checked(spec)? {
            Ok(b) => b,
            Err(e) => return Ok(Err(problem_of(e, "open_backoff."))),
        },
    };
    let failure_rate = match (o.failure_rate_off, o.failure_rate) {
        (true, _) => None,
        (false, None) => d.failure_rate,
        (false, Some(p)) => match ratio_of(p, Field::FailureRate) {
            Ok(r) => Some(r),
            Err(e) => return Ok(Err(problem_of(e, ""))),
        },
    };
    let slow_call_rate = match o.slow_call_rate.map(|p| ratio_of(p, Field::SlowCallRate)) {
        None => None,
        Some(Ok(r)) => Some(r),
        Some(Err(e)) => return Ok(Err(problem_of(e, ""))),
    };
    Ok(Ok(BreakerConfig {
        failure_rate,
        slow_call_rate,
        manual: o.manual.unwrap_or(false),
        slow_call_duration: o.slow_call_duration.map(ticks).unwrap_or(0),
        consecutive_failures: o.consecutive_failures,
        min_calls: o.min_calls.unwrap_or(d.min_calls),
        comparison: pick(
            "comparison",
            o.comparison.as_deref(),
            d.comparison,
            &[
                ("atLeast", Comparison::AtLeast),
                ("above", Comparison::Above),
            ],
        )?,
        rate_basis: pick(
            "rateBasis",
            o.rate_basis.as_deref(),
            d.rate_basis,
            &[
                ("outcomes", RateBasis::Outcomes),
                ("allCalls", RateBasis::AllCalls),
                ("started", RateBasis::Started),
            ],
        )?,
        half_open_probes: o.half_open_probes.unwrap_or(d.half_open_probes),
        half_open_rule: pick(
            "halfOpenRule",
            o.half_open_rule.as_deref(),
            d.half_open_rule,
            &[
                ("allSucceed", HalfOpenRule::AllSucceed),
                ("rates", HalfOpenRule::Rates),
            ],
        )?,
        half_open_max_dwell: o.half_open_max_dwell.map(ticks).unwrap_or(0),
        dwell_expiry: pick(
            "dwellExpiry",
            o.dwell_expiry.as_deref(),
            d.dwell_expiry,
            &[
                ("reopen", DwellExpiry::Reopen),
                ("close", DwellExpiry::Close),
            ],
        )?,
        open_backoff,
        reset_window_on_close: o.reset_window_on_close.unwrap_or(d.reset_window_on_close),
        seed: o.seed.map(ticks).unwrap_or(0),
    }))
}

pub(crate) fn window_of(o: &BreakerOptions) -> std::result::Result<NodeWindow, ConfigProblem> {
    match o.span {
        Some(span) => {
            let buckets = o.buckets.unwrap_or(10.0).clamp(0.0, usize::MAX as f64) as usize;
            Ring::new(ticks(span), buckets, Counts::ZERO)
                .map(Sliding::Time)
                .map_err(|e| problem_of(e, ""))
        }
        None => {
            let n = o.count.unwrap_or(100.0).clamp(0.0, MAX_COUNT) as usize;
            CountRing::over(vec![0; n].into_boxed_slice())
                .map(Sliding::Count)
                .map_err(|e| problem_of(e, ""))
        }
    }
}

/// The core breaker with the caller's clock (`lib/core.js` wraps it as `Breaker`).
#[napi]
pub struct CoreBreaker {
    pub(crate) inner: NodeBreaker,
}

/// A call let through: hand `permit` back to `record` or `release`.
#[napi(object, use_nullable = true)]
pub struct Admitted {
    /// Always true.
    pub admitted: bool,
    /// The permit as a number (`Permit::into_raw`).
    pub permit: f64,
    /// Whether it holds a half-open probe slot.
    pub probe: bool,
    /// The state change admitting it made, if any.
    pub transition: Option<StateChange>,
}

/// A call refused.
#[napi(object, use_nullable = true)]
pub struct Refused {
    /// Always false.
    pub admitted: bool,
    /// Ticks until the breaker may admit again.
    pub retry_after: f64,
    /// The state that refused.
    pub state: String,
    /// The state change refusing it made, if any.
    pub transition: Option<StateChange>,
}

/// What the window holds now.
#[napi(object)]
pub struct WindowCounts {
    /// Successes.
    pub successes: u32,
    /// Failures (timeouts included).
    pub failures: u32,
    /// Timeouts.
    pub timeouts: u32,
    /// Slow calls.
    pub slow: u32,
    /// Ignored outcomes.
    pub ignored: u32,
    /// Rejected calls.
    pub rejected: u32,
    /// Calls admitted, counted when they start (`rateBasis: 'started'`).
    pub admitted: u32,
}

pub(crate) fn counts(c: Counts) -> WindowCounts {
    WindowCounts {
        successes: c.successes,
        failures: c.failures,
        timeouts: c.timeouts,
        slow: c.slow,
        ignored: c.ignored,
        rejected: c.rejected,
        admitted: c.admitted,
    }
}

/// The breaker at a moment.
#[napi(object)]
pub struct BreakerSnapshot {
    /// The state.
    pub state: String,
    /// Bumped on every state change; permits of older generations cannot move the breaker.
    pub generation: u32,
    /// The window's counts.
    pub counts: WindowCounts,
    /// Failures in a row.
    pub consecutive_failures: u32,
    /// Half-open probes out.
    pub probes_in_flight: u32,
    /// When the open period ends (ticks).
    pub open_until: f64,
    /// Consecutive openings without a close.
    pub reopens: u32,
    /// Calls whose `now` went backwards (clamped).
    pub clock_regressions: u32,
    /// When the state began (ticks).
    pub since: f64,
    /// Permits handed back that were not out (twice, or made up): refused.
    pub refused_permits: u32,
    /// Raw permits handed out and not yet handed back.
    pub permits_out: u32,
}

pub(crate) fn outcome_of(s: &str) -> Result<Outcome> {
    Ok(match s {
        "success" => Outcome::Success,
        "failure" => Outcome::Failure,
        "timeout" => Outcome::Timeout,
        "ignored" => Outcome::Ignored,
        other => {
            return Err(invalid(format!(
            "fusewire: outcome must be 'success', 'failure', 'timeout' or 'ignored', got '{other}'"
        )))
        }
    })
}

/// A permit number back into a permit; the JS layer checks it is an integer
/// from 0 to 2^53 - 1, and `as` saturates anything else.
pub(crate) fn permit_of(raw: f64) -> Permit {
    Permit::from_raw(raw as u64)
}

/// Builds a breaker, or says which field the core rejected.
#[napi]
pub fn core_breaker(options: BreakerOptions) -> Result<Either<CoreBreaker, ConfigProblem>> {
    let config = match config_of(&options)? {
        Ok(c) => c,
        Err(p) => return Ok(Either::B(p)),
    };
    let window = match window_of(&options) {
        Ok(w) => w,
        Err(p) => return Ok(Either::B(p)),
    };
    Ok(match Breaker::with_window(config, window) {
        Ok(inner) => Either::A(CoreBreaker { inner }),
        Err(e) => Either::B(problem_of(e, "")),
    })
}

#[napi]
impl CoreBreaker {
    /// Asks to make a call at `now`.
    #[napi]
    pub fn try_acquire(&mut self, now: f64) -> Either<Admitted, Refused> {
        match self.inner.try_acquire(ticks(now)) {
            Ok(p) => {
                let transition = change(p.transition);
                let probe = p.is_probe();
                Either::A(Admitted {
                    admitted: true,
                    permit: self.inner.permit_into_raw(p) as f64,
                    probe,
                    transition,
                })
            }
            Err(r) => Either::B(Refused {
                admitted: false,
                retry_after: ms_out(r.retry_after),
                state: state_name(r.state).into(),
                transition: change(r.transition),
            }),
        }
    }

    /// Reports how the call under `permit` ended, taking `duration` ticks.
    #[napi]
    pub fn record(
        &mut self,
        permit: f64,
        outcome: String,
        duration: f64,
        now: f64,
    ) -> Result<Option<StateChange>> {
        let o = outcome_of(&outcome)?;
        Ok(change(self.inner.record(
            permit_of(permit),
            o,
            ticks(duration),
            ticks(now),
        )))
    }

    /// As `record`, but the outcome cannot trip a closed breaker (a
    /// warm-up period): counted, and judged by the next outcome that may.
    #[napi]
    pub fn record_untripped(
        &mut self,
        permit: f64,
        outcome: String,
        duration: f64,
        now: f64,
    ) -> Result<Option<StateChange>> {
        let o = outcome_of(&outcome)?;
        Ok(change(self.inner.record_untripped(
            permit_of(permit),
            o,
            ticks(duration),
            ticks(now),
        )))
    }

    /// Gives back a permit whose call never ran.
    #[napi]
    pub fn release(&mut self, permit: f64, now: f64) -> Option<StateChange> {
        change(self.inner.release(permit_of(permit), ticks(now)))
    }

    /// Lets time pass: an open period may end, a half-open dwell expire.
    #[napi]
    pub fn poll(&mut self, now: f64) -> Option<StateChange> {
        change(self.inner.poll(ticks(now)))
    }

    /// Opens now (host).
    #[napi]
    pub fn trip(&mut self, now: f64) -> Option<StateChange> {
        change(self.inner.trip(ticks(now)))
    }

    /// Closes now (host).
    #[napi]
    pub fn close(&mut self, now: f64) -> Option<StateChange> {
        change(self.inner.close(ticks(now)))
    }

    /// Goes half-open now (host).
    #[napi]
    pub fn half_open(&mut self, now: f64) -> Option<StateChange> {
        change(self.inner.half_open(ticks(now)))
    }

    /// Refuses every call until `close` or `reset`.
    #[napi]
    pub fn force_open(&mut self, now: f64) -> Option<StateChange> {
        change(self.inner.force_open(ticks(now)))
    }

    /// Admits every call, judging nothing, until `close` or `reset`.
    #[napi]
    pub fn disable(&mut self, now: f64) -> Option<StateChange> {
        change(self.inner.disable(ticks(now)))
    }

    /// Closed with an empty window.
    #[napi]
    pub fn reset(&mut self, now: f64) -> Option<StateChange> {
        change(self.inner.reset(ticks(now)))
    }

    /// The breaker at `now`.
    #[napi]
    pub fn snapshot(&mut self, now: f64) -> BreakerSnapshot {
        let s = self.inner.snapshot(ticks(now));
        BreakerSnapshot {
            state: state_name(s.state).into(),
            generation: s.generation,
            counts: counts(s.counts),
            consecutive_failures: s.consecutive_failures,
            probes_in_flight: s.probes_in_flight,
            open_until: ms_out(s.open_until),
            reopens: s.reopens,
            clock_regressions: s.clock_regressions,
            since: ms_out(s.since),
            refused_permits: s.refused_permits,
            permits_out: s.permits_out,
        }
    }

    /// The state, as of the last call.
    #[napi(getter)]
    pub fn state(&self) -> &'static str {
        state_name(self.inner.state())
    }

    /// The generation, as of the last call.
    #[napi(getter)]
    pub fn generation(&self) -> u32 {
        self.inner.generation()
    }
}

/// A backoff schedule with its own seeded random numbers (`Backoff` in JS).
#[napi]
pub struct CoreBackoff {
    inner: Backoff,
    rng: Rng,
}

/// Builds a backoff, or says which field the core rejected.
#[napi]
pub fn core_backoff(
    spec: BackoffSpec,
    seed: Option<f64>,
) -> Result<Either<CoreBackoff, ConfigProblem>> {
    Ok(match backoff_checked(&spec)? {
        Ok(inner) => Either::A(CoreBackoff {
            inner,
            rng: Rng::new(seed.map(ticks).unwrap_or(0)),
        }),
        Err(e) => Either::B(problem_of(e, "")),
    })
}

#[napi]
impl CoreBackoff {
    /// The un-jittered delay before attempt `n` (0 for the first), capped.
    #[napi]
    pub fn raw(&self, n: u32) -> f64 {
        ms_out(self.inner.raw(n))
    }

    /// The jittered delay before attempt `n`, given the previous delay;
    /// draws from this backoff's random numbers.
    #[napi]
    pub fn delay(&mut self, n: u32, prev: f64) -> f64 {
        ms_out(self.inner.delay(n, ticks(prev), &mut self.rng))
    }

    /// No delay is longer.
    #[napi(getter)]
    pub fn cap(&self) -> f64 {
        ms_out(self.inner.cap())
    }
}

/// A retry budget (the core's [`Budget`]; `RetryBudget` in JS).
#[napi]
pub struct CoreBudget {
    inner: Budget,
}

/// Builds a retry budget, or says which field the core rejected.
#[napi]
pub fn core_budget(max_tokens: u32, token_ratio_milli: u32) -> Either<CoreBudget, ConfigProblem> {
    match Budget::new(max_tokens, token_ratio_milli) {
        Ok(inner) => Either::A(CoreBudget { inner }),
        Err(e) => Either::B(problem_of(e, "")),
    }
}

impl CoreBudget {
    /// The core budget, for a retry that spends it.
    pub(crate) fn core_mut(&mut self) -> &mut Budget {
        &mut self.inner
    }
}

#[napi]
impl CoreBudget {
    /// A call succeeded: earns `tokenRatio` of a token.
    #[napi]
    pub fn record_success(&mut self) {
        self.inner.record_success();
    }

    /// A call failed: costs a token.
    #[napi]
    pub fn record_failure(&mut self) {
        self.inner.record_failure();
    }

    /// Whether a retry may be made now (more than half the tokens left).
    #[napi(getter)]
    pub fn can_retry(&self) -> bool {
        self.inner.can_retry()
    }

    /// `canRetry`, counting a refusal in `throttled`.
    #[napi]
    pub fn try_retry(&mut self) -> bool {
        self.inner.try_retry().is_ok()
    }

    /// Whole tokens left.
    #[napi(getter)]
    pub fn tokens(&self) -> u32 {
        self.inner.tokens()
    }

    /// Tokens left, in thousandths.
    #[napi(getter)]
    pub fn tokens_milli(&self) -> f64 {
        self.inner.tokens_milli() as f64
    }

    /// The most tokens.
    #[napi(getter)]
    pub fn max_tokens(&self) -> u32 {
        self.inner.max_tokens()
    }

    /// Retries refused by `tryRetry` so far.
    #[napi(getter)]
    pub fn throttled(&self) -> f64 {
        self.inner.throttled() as f64
    }
}
