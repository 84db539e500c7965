//! The circuit breaker over a bit-packed window of the last 16 calls, and
//! the bodies every single-owner breaker shares: each `fusewire_breaker_*`
//! and `fusewire_timed_breaker_*` function is one call to a generic body
//! here, instantiated for its window.

use core::ptr::addr_of_mut;
use core::sync::atomic::{compiler_fence, Ordering};

use fusewire::{
    BitWindow, Breaker, BreakerConfig, Comparison, ConfigResult, DwellExpiry, HalfOpenRule,
    Outcome, Permit, RateBasis, Ratio, Reason, Rejected, Snapshot, State, Transition, Window,
};

use crate::backoff::fusewire_backoff_config;
use crate::boundary::{
    borrow_in, boundary, fits, install, invalid, object, object_ref, put, slot, Object,
    Outcome as Done,
};
use crate::status::{
    fusewire_config_error, fusewire_field, fusewire_problem, fusewire_status, Invalid, Scope,
};
use crate::tick::{fusewire_permit, fusewire_tick};

/// How many of the last calls `fusewire_breaker` judges (its count window).
pub const FUSEWIRE_BREAKER_WINDOW: u32 = 16;

/// A `fusewire_state` value as it crosses the boundary: a 32-bit integer the
/// header names `fusewire_state` (so C++ sees the enum), checked where it is used.
pub type StateCode = u32;

/// Where a breaker stands.
#[repr(u32)]
#[allow(non_camel_case_types, dead_code)]
pub enum fusewire_state {
    /// Calls pass; outcomes are judged.
    Closed = 0,
    /// Calls are rejected until the open duration has passed.
    Open = 1,
    /// A bounded number of probe calls pass.
    HalfOpen = 2,
    /// Opened by the host until it closes it.
    ForcedOpen = 3,
    /// Turned off by the host: every call passes, nothing is recorded.
    Disabled = 4,
}

/// Why a breaker changed state.
#[repr(u32)]
#[allow(non_camel_case_types, dead_code)]
pub enum fusewire_reason {
    /// The failure rate reached the threshold.
    FailureRate = 0,
    /// The slow-call rate reached the threshold.
    SlowCallRate = 1,
    /// Too many failures in a row.
    ConsecutiveFailures = 2,
    /// The open duration passed.
    OpenElapsed = 3,
    /// The half-open probes passed.
    ProbesPassed = 4,
    /// A probe failed (or the probes' rates tripped).
    ProbesFailed = 5,
    /// Half-open reached its maximum dwell.
    DwellExpired = 6,
    /// The host asked for it.
    Host = 7,
}

/// A `fusewire_outcome` value as it crosses the boundary: a 32-bit integer the
/// header names `fusewire_outcome` (so C++ sees the enum), checked where it is used.
pub type OutcomeCode = u32;

/// How a call ended.
#[repr(u32)]
#[allow(non_camel_case_types, dead_code)]
pub enum fusewire_outcome {
    /// It worked.
    Success = 0,
    /// It failed.
    Failure = 1,
    /// It took too long (a failure, also counted as a timeout).
    Timeout = 2,
    /// Count it as neither; a probe ending so gives its slot back.
    Ignored = 3,
}

/// A `fusewire_comparison` value as it crosses the boundary: a 32-bit integer the
/// header names `fusewire_comparison` (so C++ sees the enum), checked where it is used.
pub type ComparisonCode = u32;

/// How a rate meets its threshold.
#[repr(u32)]
#[allow(non_camel_case_types, dead_code)]
pub enum fusewire_comparison {
    /// Trip at or above (resilience4j).
    AtLeast = 0,
    /// Trip strictly above (opossum).
    Above = 1,
}

/// A `fusewire_rate_basis` value as it crosses the boundary: a 32-bit integer the
/// header names `fusewire_rate_basis` (so C++ sees the enum), checked where it is used.
pub type RateBasisCode = u32;

/// What the rates are a share of.
#[repr(u32)]
#[allow(non_camel_case_types, dead_code)]
pub enum fusewire_rate_basis {
    /// Successes and failures only.
    Outcomes = 0,
    /// Every call the window saw, ignored and rejected included.
    AllCalls = 1,
    /// Every started call, admitted or rejected, counted when it starts
    /// (opossum's `fires`); needs the time-window breaker.
    Started = 2,
}

/// A `fusewire_half_open_rule` value as it crosses the boundary: a 32-bit integer the
/// header names `fusewire_half_open_rule` (so C++ sees the enum), checked where it is used.
pub type HalfOpenRuleCode = u32;

/// When a half-open breaker closes.
#[repr(u32)]
#[allow(non_camel_case_types, dead_code)]
pub enum fusewire_half_open_rule {
    /// Every probe must succeed.
    AllSucceed = 0,
    /// The probes' rates must not trip the thresholds.
    Rates = 1,
}

/// A `fusewire_dwell_expiry` value as it crosses the boundary: a 32-bit integer the
/// header names `fusewire_dwell_expiry` (so C++ sees the enum), checked where it is used.
pub type DwellExpiryCode = u32;

/// What a half-open breaker does after `half_open_max_dwell`.
#[repr(u32)]
#[allow(non_camel_case_types, dead_code)]
pub enum fusewire_dwell_expiry {
    /// Reopen.
    Reopen = 0,
    /// Close.
    Close = 1,
}

/// A breaker's configuration (`fusewire_breaker_config_default` fills the
/// defaults). Durations in the caller's ticks; enum fields hold the values
/// of the enum named in their doc.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
#[allow(non_camel_case_types)]
pub struct fusewire_breaker_config {
    /// How long the breaker stays open; attempt `n` is the `n`-th opening
    /// without a close in between. Default: constant 1000 ticks.
    pub open_backoff: fusewire_backoff_config,
    /// A call taking at least this many ticks is slow (needed by the
    /// slow-call rule). Default 0.
    pub slow_call_duration: u64,
    /// Leave half-open after this many ticks even with probes out; 0 waits.
    pub half_open_max_dwell: u64,
    /// Seed of the open duration's jitter.
    pub seed: u64,
    /// Trip at this failure rate, in millionths (0..=1000000; 50% is
    /// 500000, `FUSEWIRE_PERCENT(50)`), when `use_failure_rate` is non-zero.
    /// Default 50% (on). Integers: no floating point on any target.
    pub failure_rate_ppm: u32,
    /// Trip at this share of slow calls, in millionths, when
    /// `use_slow_call_rate` is non-zero (needs `slow_call_duration`).
    /// Default off.
    pub slow_call_rate_ppm: u32,
    /// Trip after this many failures in a row; 0 (default) turns it off.
    pub consecutive_failures: u32,
    /// Rates are not judged before the window holds this many calls.
    /// Default 10 (`fusewire_breaker`'s window holds at most 16 outcomes).
    pub min_calls: u32,
    /// Probe permits per half-open period, 1..=65535. Default 1.
    pub half_open_probes: u32,
    /// A `fusewire_comparison`. Default AT_LEAST.
    pub comparison: ComparisonCode,
    /// A `fusewire_rate_basis`. Default OUTCOMES.
    pub rate_basis: RateBasisCode,
    /// A `fusewire_half_open_rule`. Default ALL_SUCCEED.
    pub half_open_rule: HalfOpenRuleCode,
    /// A `fusewire_dwell_expiry`. Default REOPEN.
    pub dwell_expiry: DwellExpiryCode,
    /// Non-zero turns the failure-rate rule on.
    pub use_failure_rate: u8,
    /// Non-zero turns the slow-call rule on.
    pub use_slow_call_rate: u8,
    /// Non-zero clears the window whenever the breaker closes. Default 1.
    pub reset_window_on_close: u8,
    /// Non-zero: no trip rule is needed, only the host opens the breaker
    /// (`fusewire_breaker_trip`, `_force_open`). Zero with every rule off is
    /// `FUSEWIRE_PROBLEM_NEVER_TRIPS` on `failure_rate_ppm`. Default 0.
    pub manual: u8,
}

impl fusewire_breaker_config {
    /// Validates the config and builds a breaker with `new` (the
    /// single-owner or the shared form's constructor); errors name the C
    /// field.
    #[inline(always)]
    pub(crate) fn build<T>(
        &self,
        new: impl FnOnce(BreakerConfig) -> ConfigResult<T>,
    ) -> Result<T, Invalid> {
        self.core_config()
            .and_then(|c| new(c).map_err(|e| Invalid::from_core(Scope::Breaker, e)))
    }

    // Always inlined: with two breakers' inits calling it, LLVM would
    // otherwise outline it and return the config through a `memcpy` (730
    // bytes on firmware, where only one init is linked).
    #[inline(always)]
    fn core_config(&self) -> Result<BreakerConfig, Invalid> {
        let bad = |f| Err(Invalid::new(f, fusewire_problem::OutOfRange));
        let comparison = match self.comparison {
            0 => Comparison::AtLeast,
            1 => Comparison::Above,
            _ => return bad(fusewire_field::BreakerComparison),
        };
        let rate_basis = match self.rate_basis {
            0 => RateBasis::Outcomes,
            1 => RateBasis::AllCalls,
            2 => RateBasis::Started,
            _ => return bad(fusewire_field::BreakerRateBasis),
        };
        let half_open_rule = match self.half_open_rule {
            0 => HalfOpenRule::AllSucceed,
            1 => HalfOpenRule::Rates,
            _ => return bad(fusewire_field::BreakerHalfOpenRule),
        };
        let dwell_expiry = match self.dwell_expiry {
            0 => DwellExpiry::Reopen,
            1 => DwellExpiry::Close,
            _ => return bad(fusewire_field::BreakerDwellExpiry),
        };
        Ok(BreakerConfig {
            failure_rate: (self.use_failure_rate != 0)
                .then_some(Ratio::from_ppm(self.failure_rate_ppm)),
            slow_call_rate: (self.use_slow_call_rate != 0)
                .then_some(Ratio::from_ppm(self.slow_call_rate_ppm)),
            slow_call_duration: self.slow_call_duration,
            consecutive_failures: (self.consecutive_failures != 0)
                .then_some(self.consecutive_failures),
            min_calls: self.min_calls,
            comparison,
            rate_basis,
            half_open_probes: self.half_open_probes,
            half_open_rule,
            half_open_max_dwell: self.half_open_max_dwell,
            dwell_expiry,
            open_backoff: self.open_backoff.validated()?,
            reset_window_on_close: self.reset_window_on_close != 0,
            manual: self.manual != 0,
            seed: self.seed,
        })
    }
}

/// A state change caused by a call. `moved` is 0 when nothing changed
/// (then the other fields are 0); `from`/`to` are `fusewire_state` values,
/// `reason` a `fusewire_reason`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[allow(non_camel_case_types)]
pub struct fusewire_transition {
    /// 1 if the breaker changed state during the call.
    pub moved: u8,
    /// The state before.
    pub from: u8,
    /// The state after.
    pub to: u8,
    /// Why.
    pub reason: u8,
}

impl fusewire_transition {
    pub(crate) fn of(t: Option<Transition>) -> Self {
        match t {
            None => Self::default(),
            Some(t) => Self {
                moved: 1,
                from: t.from as u8,
                to: t.to as u8,
                reason: reason_code(t.reason),
            },
        }
    }
}

fn reason_code(r: Reason) -> u8 {
    r as u8
}

/// Everything about a breaker in one read.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub struct fusewire_breaker_stats {
    /// When an open breaker lets a probe through (0 unless open).
    pub open_until: u64,
    /// Tick of the last transition (0 before any).
    pub since: u64,
    /// Where it stands.
    pub state: StateCode,
    /// Bumped by every transition.
    pub generation: u32,
    /// Window counts: successes.
    pub successes: u32,
    /// Window counts: failures (timeouts included).
    pub failures: u32,
    /// Window counts: of the failures, timeouts.
    pub timeouts: u32,
    /// Window counts: slow calls.
    pub slow: u32,
    /// Window counts: ignored outcomes.
    pub ignored: u32,
    /// Calls rejected while the window was filling.
    pub rejected: u32,
    /// Failures in a row.
    pub consecutive_failures: u32,
    /// Half-open probes out.
    pub probes_in_flight: u32,
    /// Openings since the last close.
    pub reopens: u32,
    /// Times `now` went backwards.
    pub clock_regressions: u32,
    /// Window counts: calls admitted (`RATE_BASIS_STARTED`'s numerator).
    pub admitted: u32,
    /// Permits refused by `_record`/`_release`: made up, or handed back a
    /// second time (the shared breaker refuses only made-up ones).
    pub refused_permits: u32,
    /// Permits handed out and not yet handed back (0 for the shared breaker).
    pub permits_out: u32,
}

impl fusewire_breaker_stats {
    /// The C form of a core `Snapshot`.
    #[inline(always)]
    pub(crate) fn of(s: Snapshot) -> Self {
        let c = s.counts;
        Self {
            open_until: s.open_until,
            since: s.since,
            state: s.state as u32,
            generation: s.generation,
            successes: c.successes,
            failures: c.failures,
            timeouts: c.timeouts,
            slow: c.slow,
            ignored: c.ignored,
            rejected: c.rejected,
            consecutive_failures: s.consecutive_failures,
            probes_in_flight: s.probes_in_flight,
            reopens: s.reopens,
            clock_regressions: s.clock_regressions,
            admitted: c.admitted,
            refused_permits: s.refused_permits,
            permits_out: s.permits_out,
        }
    }
}

/// A circuit breaker over the last 16 calls (`FUSEWIRE_BREAKER_WINDOW`).
/// Declare it `static` or on the stack; initialise with
/// `fusewire_breaker_init`. Do not copy an initialised breaker while
/// another call may use it; a copy is a second, independent breaker.
#[repr(C, align(8))]
#[allow(non_camel_case_types)]
pub struct fusewire_breaker {
    _opaque: [u64; 23],
}

/// `sizeof(fusewire_breaker)`: 184 bytes (alignment `FUSEWIRE_OBJECT_ALIGN`).
pub const FUSEWIRE_BREAKER_SIZE: usize = 184;
const _: () = assert!(core::mem::size_of::<fusewire_breaker>() == FUSEWIRE_BREAKER_SIZE);
const _: () = assert!(core::mem::align_of::<fusewire_breaker>() == crate::FUSEWIRE_OBJECT_ALIGN);

/// The window of `fusewire_breaker`.
type Count = BitWindow<u16>;

/// A single-owner breaker over window `W` inside its caller-owned C struct:
/// `fusewire_breaker` holds a `BreakerObj<BitWindow<u16>>`,
/// `fusewire_timed_breaker` a `BreakerObj<TimeWindow<16>>`. Each C struct
/// has its own tag, so one kind's pointer is NOT_INITIALIZED to the other's
/// functions.
#[repr(C)]
pub(crate) struct BreakerObj<W> {
    tag: u32,
    pub(crate) breaker: Breaker<W>,
}

/// The C struct holding a breaker over `W`.
pub(crate) type Holder<W> = <BreakerObj<W> as Object>::C;

// SAFETY: repr(C), tag first; size and alignment checked below.
unsafe impl Object for BreakerObj<Count> {
    type C = fusewire_breaker;
    const TAG: u32 = 0x4657_4252; // "FWBR"
    crate::boundary::intact_field!(breaker: Breaker<Count>);
}
const _: () = assert!(fits::<BreakerObj<Count>>());
const _: () = assert!(FUSEWIRE_BREAKER_WINDOW as usize == 16);

/// Fills `*config` with the defaults for MILLISECOND ticks (`now` from
/// `HAL_GetTick` or a 1 kHz SysTick): 50% failure rate over at least 10
/// calls, open one second (1000 ticks, constant), one half-open probe that
/// may take one open duration, window cleared on close, seed 0. With ticks
/// of another unit, set `open_backoff` in that unit. Writes `*config` on
/// `FUSEWIRE_STATUS_OK`.
///
/// Thread/ISR safety: touches only `*config`; callable from any context.
///
/// Pointers:
/// `config` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fusewire_breaker_config_default(
    config: *mut fusewire_breaker_config,
) -> fusewire_status {
    boundary(|| {
        if config.is_null() {
            return Err(fusewire_status::NullArgument);
        }
        let d = BreakerConfig::new(fusewire::TickUnit::MILLIS);
        // Field by field, with compiler fences (no instructions) between
        // groups: a store of the whole struct, or of more than four zero
        // words in a row, becomes a `memclr` call, which links 200 bytes
        // on firmware.
        // SAFETY: non-NULL; writable by the caller's contract; each field
        // lies inside `*config`.
        unsafe {
            let c = config;
            put(
                addr_of_mut!((*c).open_backoff),
                fusewire_backoff_config::from_core(d.open_backoff),
            );
            compiler_fence(Ordering::SeqCst);
            put(addr_of_mut!((*c).slow_call_duration), d.slow_call_duration);
            put(
                addr_of_mut!((*c).half_open_max_dwell),
                d.half_open_max_dwell,
            );
            compiler_fence(Ordering::SeqCst);
            put(addr_of_mut!((*c).seed), d.seed);
            put(
                addr_of_mut!((*c).failure_rate_ppm),
                d.failure_rate.map_or(0, Ratio::ppm),
            );
            put(
                addr_of_mut!((*c).slow_call_rate_ppm),
                d.slow_call_rate.map_or(0, Ratio::ppm),
            );
            put(
                addr_of_mut!((*c).consecutive_failures),
                d.consecutive_failures.unwrap_or(0),
            );
            compiler_fence(Ordering::SeqCst);
            put(addr_of_mut!((*c).min_calls), d.min_calls);
            put(addr_of_mut!((*c).half_open_probes), d.half_open_probes);
            put(addr_of_mut!((*c).comparison), d.comparison as u32);
            compiler_fence(Ordering::SeqCst);
            put(addr_of_mut!((*c).rate_basis), d.rate_basis as u32);
            put(addr_of_mut!((*c).half_open_rule), d.half_open_rule as u32);
            put(addr_of_mut!((*c).dwell_expiry), d.dwell_expiry as u32);
            put(
                addr_of_mut!((*c).use_failure_rate),
                u8::from(d.failure_rate.is_some()),
            );
            put(
                addr_of_mut!((*c).use_slow_call_rate),
                u8::from(d.slow_call_rate.is_some()),
            );
            put(
                addr_of_mut!((*c).reset_window_on_close),
                u8::from(d.reset_window_on_close),
            );
            put(addr_of_mut!((*c).manual), u8::from(d.manual));
        }
        Ok(fusewire_status::Ok)
    })
}

/// Initialises `*breaker` in place, closed, from `*config`.
///
/// Returns `FUSEWIRE_STATUS_INVALID_CONFIG` (writing `*error` if not NULL)
/// and leaves `*breaker` untouched if the config is bad.
///
/// Thread/ISR safety: writes `*breaker`; no other caller may use it meanwhile.
///
/// Pointers:
/// `breaker` and `config` are NULL or valid for the access; `error` is NULL
/// or writable.
#[no_mangle]
pub unsafe extern "C" fn fusewire_breaker_init(
    breaker: *mut fusewire_breaker,
    config: *const fusewire_breaker_config,
    error: *mut fusewire_config_error,
) -> fusewire_status {
    // SAFETY: forwarded contract.
    unsafe { init(breaker, config, error, |c| c.build(Breaker::<Count>::new)) }
}

/// Body of every single-owner breaker init: checks the pointers, builds
/// the breaker from the config with `build` (errors naming the C field),
/// and installs it.
///
/// Pointers:
/// As `fusewire_breaker_init`.
#[inline(always)]
pub(crate) unsafe fn init<W>(
    breaker: *mut Holder<W>,
    config: *const fusewire_breaker_config,
    error: *mut fusewire_config_error,
    build: impl FnOnce(&fusewire_breaker_config) -> Result<Breaker<W>, Invalid>,
) -> fusewire_status
where
    BreakerObj<W>: Object,
{
    boundary(|| {
        let p = slot::<BreakerObj<W>>(breaker)?;
        // SAFETY: the caller's contract for `config`.
        let c = unsafe { borrow_in(config) }?;
        let b = match build(c) {
            Ok(b) => b,
            // SAFETY: the caller's contract for `error`.
            Err(e) => return unsafe { invalid(error, e) },
        };
        // SAFETY: `p` checked by `slot`; writable by contract.
        unsafe {
            install(
                p,
                BreakerObj {
                    tag: BreakerObj::<W>::TAG,
                    breaker: b,
                },
            )
        };
        Ok(fusewire_status::Ok)
    })
}

/// The initialised breaker behind a C pointer.
///
/// Pointers:
/// As [`object`].
#[inline(always)]
unsafe fn breaker_mut<'a, W>(p: *mut Holder<W>) -> Result<&'a mut Breaker<W>, fusewire_status>
where
    BreakerObj<W>: Object,
{
    // SAFETY: forwarded contract.
    unsafe { object::<BreakerObj<W>>(p) }.map(|o| &mut o.breaker)
}

/// Asks to make a call at `now`.
///
/// - `FUSEWIRE_STATUS_OK`: writes `*permit`; make the call, then hand the
///   permit to `fusewire_breaker_record` (or `_release` if it never ran).
/// - `FUSEWIRE_STATUS_REJECTED`: writes `*retry_after` (if not NULL): ticks
///   until it may admit again (`UINT64_MAX` while forced open).
///
/// On both, writes `*transition` (if not NULL) with any state change.
///
/// Thread/ISR safety: mutates `*breaker` (single owner): one caller at a
/// time per breaker; guard with a critical section if an ISR shares it, or use
/// `fusewire_shared_breaker` (lock-free).
///
/// Pointers:
/// `breaker` is NULL or points to a `fusewire_breaker` not used
/// concurrently; the out-pointers are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fusewire_breaker_acquire(
    breaker: *mut fusewire_breaker,
    now: fusewire_tick,
    permit: *mut fusewire_permit,
    retry_after: *mut u64,
    transition: *mut fusewire_transition,
) -> fusewire_status {
    let now = now.ticks;
    // SAFETY: forwarded contract.
    unsafe { acquire::<Count>(breaker, now, permit, retry_after, transition) }
}

/// Body of `fusewire_<breaker>_acquire`.
///
/// Pointers:
/// As `fusewire_breaker_acquire`.
#[inline(always)]
pub(crate) unsafe fn acquire<W: Window>(
    breaker: *mut Holder<W>,
    now: u64,
    permit: *mut fusewire_permit,
    retry_after: *mut u64,
    transition: *mut fusewire_transition,
) -> fusewire_status
where
    BreakerObj<W>: Object,
{
    boundary(|| {
        // SAFETY: the caller's contract.
        let b = unsafe { breaker_mut::<W>(breaker) }?;
        if permit.is_null() {
            return Err(fusewire_status::NullArgument);
        }
        // SAFETY: the caller's contract for the out-pointers.
        let r = b.try_acquire(now);
        // SAFETY: the caller's contract for the out-pointers.
        unsafe { acquired(r, |p| b.permit_into_raw(p), permit, retry_after, transition) }
    })
}

/// Hands an admission's answer to C: `*permit` on OK, `*retry_after` on
/// REJECTED, `*transition` on both (the last two optional).
///
/// Pointers:
/// `permit` is non-NULL and writable; the others NULL or writable.
#[inline(always)]
pub(crate) unsafe fn acquired(
    r: Result<Permit, Rejected>,
    into_raw: impl FnOnce(Permit) -> u64,
    permit: *mut fusewire_permit,
    retry_after: *mut u64,
    transition: *mut fusewire_transition,
) -> Done {
    // SAFETY (both arms): the caller's contract.
    match r {
        Ok(p) => unsafe {
            put(transition, fusewire_transition::of(p.transition));
            put(permit, fusewire_permit { raw: into_raw(p) });
            Ok(fusewire_status::Ok)
        },
        Err(r) => unsafe {
            put(transition, fusewire_transition::of(r.transition));
            put(retry_after, r.retry_after);
            Err(fusewire_status::Rejected)
        },
    }
}

/// A `fusewire_outcome` value as the core's `Outcome`; an unknown value is
/// `FUSEWIRE_STATUS_INVALID_ARGUMENT`.
#[inline(always)]
pub(crate) fn outcome(o: u32) -> Result<Outcome, fusewire_status> {
    match o {
        0 => Ok(Outcome::Success),
        1 => Ok(Outcome::Failure),
        2 => Ok(Outcome::Timeout),
        3 => Ok(Outcome::Ignored),
        _ => Err(fusewire_status::InvalidArgument),
    }
}

/// Reports how a permitted call ended (`outcome`: a `fusewire_outcome`) and
/// how long it took (`duration` ticks), at `now`. Writes `*transition` (if
/// not NULL) on `FUSEWIRE_STATUS_OK`. An unknown outcome is
/// `FUSEWIRE_STATUS_INVALID_ARGUMENT` and changes nothing.
///
/// Thread/ISR safety: as `fusewire_breaker_acquire`.
///
/// Pointers:
/// As `fusewire_breaker_acquire`.
#[no_mangle]
pub unsafe extern "C" fn fusewire_breaker_record(
    breaker: *mut fusewire_breaker,
    now: fusewire_tick,
    permit: fusewire_permit,
    outcome: OutcomeCode,
    duration: u64,
    transition: *mut fusewire_transition,
) -> fusewire_status {
    let now = now.ticks;
    let permit = permit.raw;
    // SAFETY: forwarded contract.
    unsafe { record::<Count>(breaker, permit, outcome, duration, now, transition, false) }
}

/// As `fusewire_breaker_record`, but the outcome cannot trip a closed
/// breaker: it is counted, and judged by the next outcome that may trip
/// (a warm-up period, opossum's `allowWarmUp`). Half-open probes are judged
/// as usual.
///
/// Thread/ISR safety: as `fusewire_breaker_acquire`.
///
/// Pointers:
/// As `fusewire_breaker_acquire`.
#[no_mangle]
pub unsafe extern "C" fn fusewire_breaker_record_untripped(
    breaker: *mut fusewire_breaker,
    now: fusewire_tick,
    permit: fusewire_permit,
    outcome: OutcomeCode,
    duration: u64,
    transition: *mut fusewire_transition,
) -> fusewire_status {
    let (now, permit) = (now.ticks, permit.raw);
    // SAFETY: forwarded contract.
    unsafe { record::<Count>(breaker, permit, outcome, duration, now, transition, true) }
}

/// Body of `fusewire_<breaker>_record`.
///
/// Pointers:
/// As `fusewire_breaker_acquire`.
#[inline(always)]
pub(crate) unsafe fn record<W: Window>(
    breaker: *mut Holder<W>,
    permit: u64,
    outcome: u32,
    duration: u64,
    now: u64,
    transition: *mut fusewire_transition,
    untripped: bool,
) -> fusewire_status
where
    BreakerObj<W>: Object,
{
    boundary(|| {
        // SAFETY: the caller's contract.
        let b = unsafe { breaker_mut::<W>(breaker) }?;
        let outcome = self::outcome(outcome)?;
        let permit = Permit::from_raw(permit);
        let t = if untripped {
            b.record_untripped(permit, outcome, duration, now)
        } else {
            b.record(permit, outcome, duration, now)
        };
        // SAFETY: optional out-pointer; the caller's contract.
        unsafe { put(transition, fusewire_transition::of(t)) };
        Ok(fusewire_status::Ok)
    })
}

/// Hands back a permit whose call never ran; nothing is recorded.
/// Writes `*transition` (if not NULL) on `FUSEWIRE_STATUS_OK`.
///
/// Thread/ISR safety: as `fusewire_breaker_acquire`.
///
/// Pointers:
/// As `fusewire_breaker_acquire`.
#[no_mangle]
pub unsafe extern "C" fn fusewire_breaker_release(
    breaker: *mut fusewire_breaker,
    now: fusewire_tick,
    permit: fusewire_permit,
    transition: *mut fusewire_transition,
) -> fusewire_status {
    let now = now.ticks;
    let permit = permit.raw;
    // SAFETY: forwarded contract.
    unsafe { release::<Count>(breaker, permit, now, transition) }
}

/// Body of `fusewire_<breaker>_release`.
///
/// Pointers:
/// As `fusewire_breaker_acquire`.
#[inline(always)]
pub(crate) unsafe fn release<W: Window>(
    breaker: *mut Holder<W>,
    permit: u64,
    now: u64,
    transition: *mut fusewire_transition,
) -> fusewire_status
where
    BreakerObj<W>: Object,
{
    boundary(|| {
        // SAFETY: the caller's contract.
        let b = unsafe { breaker_mut::<W>(breaker) }?;
        let t = b.release(Permit::from_raw(permit), now);
        // SAFETY: optional out-pointer; the caller's contract.
        unsafe { put(transition, fusewire_transition::of(t)) };
        Ok(fusewire_status::Ok)
    })
}

/// A host command on a breaker: what each `fusewire_breaker_<verb>` and
/// `fusewire_shared_breaker_<verb>` does.
#[derive(Clone, Copy)]
pub(crate) enum Command {
    Poll,
    Trip,
    Close,
    ForceOpen,
    Disable,
    Reset,
}

/// Body of the host commands (`fusewire_<breaker>_poll`, `_trip`, ...):
/// one copy per window, shared by its six functions.
///
/// Pointers:
/// As `fusewire_breaker_acquire`.
pub(crate) unsafe fn command<W: Window>(
    breaker: *mut Holder<W>,
    now: u64,
    transition: *mut fusewire_transition,
    cmd: Command,
) -> fusewire_status
where
    BreakerObj<W>: Object,
{
    boundary(|| {
        // SAFETY: the caller's contract.
        let b = unsafe { breaker_mut::<W>(breaker) }?;
        let t = match cmd {
            Command::Poll => b.poll(now),
            Command::Trip => b.trip(now),
            Command::Close => b.close(now),
            Command::ForceOpen => b.force_open(now),
            Command::Disable => b.disable(now),
            Command::Reset => b.reset(now),
        };
        // SAFETY: optional out-pointer; the caller's contract.
        unsafe { put(transition, fusewire_transition::of(t)) };
        Ok(fusewire_status::Ok)
    })
}

/// Applies the changes time alone causes (open → half-open, dwell expiry)
/// without making a call. Writes `*transition` (if not NULL) on OK.
///
/// Thread/ISR safety: as `fusewire_breaker_acquire`.
///
/// Pointers:
/// As `fusewire_breaker_acquire`.
#[no_mangle]
pub unsafe extern "C" fn fusewire_breaker_poll(
    breaker: *mut fusewire_breaker,
    now: fusewire_tick,
    transition: *mut fusewire_transition,
) -> fusewire_status {
    let now = now.ticks;
    // SAFETY: forwarded contract.
    unsafe { command::<Count>(breaker, now, transition, Command::Poll) }
}

/// Opens the breaker as a trip rule would (open duration from
/// `open_backoff`). Writes `*transition` (if not NULL) on OK.
///
/// Thread/ISR safety: as `fusewire_breaker_acquire`.
///
/// Pointers:
/// As `fusewire_breaker_acquire`.
#[no_mangle]
pub unsafe extern "C" fn fusewire_breaker_trip(
    breaker: *mut fusewire_breaker,
    now: fusewire_tick,
    transition: *mut fusewire_transition,
) -> fusewire_status {
    let now = now.ticks;
    // SAFETY: forwarded contract.
    unsafe { command::<Count>(breaker, now, transition, Command::Trip) }
}

/// Closes the breaker; counters restart as on any close. Writes
/// `*transition` (if not NULL) on OK.
///
/// Thread/ISR safety: as `fusewire_breaker_acquire`.
///
/// Pointers:
/// As `fusewire_breaker_acquire`.
#[no_mangle]
pub unsafe extern "C" fn fusewire_breaker_close(
    breaker: *mut fusewire_breaker,
    now: fusewire_tick,
    transition: *mut fusewire_transition,
) -> fusewire_status {
    let now = now.ticks;
    // SAFETY: forwarded contract.
    unsafe { command::<Count>(breaker, now, transition, Command::Close) }
}

/// Holds the breaker open until the host closes or disables it. Writes
/// `*transition` (if not NULL) on OK.
///
/// Thread/ISR safety: as `fusewire_breaker_acquire`.
///
/// Pointers:
/// As `fusewire_breaker_acquire`.
#[no_mangle]
pub unsafe extern "C" fn fusewire_breaker_force_open(
    breaker: *mut fusewire_breaker,
    now: fusewire_tick,
    transition: *mut fusewire_transition,
) -> fusewire_status {
    let now = now.ticks;
    // SAFETY: forwarded contract.
    unsafe { command::<Count>(breaker, now, transition, Command::ForceOpen) }
}

/// Turns the breaker off: every call passes, nothing is recorded. Writes
/// `*transition` (if not NULL) on OK.
///
/// Thread/ISR safety: as `fusewire_breaker_acquire`.
///
/// Pointers:
/// As `fusewire_breaker_acquire`.
#[no_mangle]
pub unsafe extern "C" fn fusewire_breaker_disable(
    breaker: *mut fusewire_breaker,
    now: fusewire_tick,
    transition: *mut fusewire_transition,
) -> fusewire_status {
    let now = now.ticks;
    // SAFETY: forwarded contract.
    unsafe { command::<Count>(breaker, now, transition, Command::Disable) }
}

/// Closes the breaker and forgets the window and every counter. Writes
/// `*transition` (if not NULL) on OK.
///
/// Thread/ISR safety: as `fusewire_breaker_acquire`.
///
/// Pointers:
/// As `fusewire_breaker_acquire`.
#[no_mangle]
pub unsafe extern "C" fn fusewire_breaker_reset(
    breaker: *mut fusewire_breaker,
    now: fusewire_tick,
    transition: *mut fusewire_transition,
) -> fusewire_status {
    let now = now.ticks;
    // SAFETY: forwarded contract.
    unsafe { command::<Count>(breaker, now, transition, Command::Reset) }
}

/// The state as of the last call (a `fusewire_state`), without advancing
/// time. Writes `*state` on `FUSEWIRE_STATUS_OK`.
///
/// Thread/ISR safety: reads `*breaker`; must not race a writer.
///
/// Pointers:
/// `breaker` is NULL or points to a `fusewire_breaker`; `state` is NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn fusewire_breaker_state(
    breaker: *const fusewire_breaker,
    state: *mut StateCode,
) -> fusewire_status {
    // SAFETY: forwarded contract.
    unsafe { self::state::<Count>(breaker, state) }
}

/// Body of `fusewire_<breaker>_state`.
///
/// Pointers:
/// As `fusewire_breaker_state`.
#[inline(always)]
pub(crate) unsafe fn state<W: Window>(breaker: *const Holder<W>, state: *mut u32) -> fusewire_status
where
    BreakerObj<W>: Object,
{
    boundary(|| {
        // SAFETY: the caller's contract.
        let o = unsafe { object_ref::<BreakerObj<W>>(breaker) }?;
        if state.is_null() {
            return Err(fusewire_status::NullArgument);
        }
        let s: State = o.breaker.state();
        // SAFETY: non-NULL; the caller's contract.
        unsafe { put(state, s as u32) };
        Ok(fusewire_status::Ok)
    })
}

/// Everything about the breaker as of `now`. It applies no time-driven
/// change (an open breaker past its open duration still reads open): call
/// `fusewire_breaker_poll` first for that. Writes `*snapshot` on OK.
///
/// Thread/ISR safety: as `fusewire_breaker_acquire` (it writes the clock
/// bookkeeping: the latest `now`, regressions).
///
/// Pointers:
/// As `fusewire_breaker_acquire`.
#[no_mangle]
pub unsafe extern "C" fn fusewire_breaker_snapshot(
    breaker: *mut fusewire_breaker,
    now: fusewire_tick,
    snapshot: *mut fusewire_breaker_stats,
) -> fusewire_status {
    let now = now.ticks;
    // SAFETY: forwarded contract.
    unsafe { self::snapshot::<Count>(breaker, now, snapshot) }
}

/// Body of `fusewire_<breaker>_snapshot`.
///
/// Pointers:
/// As `fusewire_breaker_snapshot`.
#[inline(always)]
pub(crate) unsafe fn snapshot<W: Window>(
    breaker: *mut Holder<W>,
    now: u64,
    snapshot: *mut fusewire_breaker_stats,
) -> fusewire_status
where
    BreakerObj<W>: Object,
{
    boundary(|| {
        // SAFETY: the caller's contract.
        let b = unsafe { breaker_mut::<W>(breaker) }?;
        if snapshot.is_null() {
            return Err(fusewire_status::NullArgument);
        }
        let s = b.snapshot(now);
        // SAFETY: non-NULL; the caller's contract.
        unsafe { put(snapshot, fusewire_breaker_stats::of(s)) };
        Ok(fusewire_status::Ok)
    })
}
