//! The circuit breaker over a time window: the core's
//! `Breaker<TimeCounts<16>>` behind the same functions, statuses and outputs
//! as `fusewire_breaker`, each one call to the generic body in `breaker.rs`.

use fusewire::{Breaker, BreakerConfig, TimeCounts};

use crate::boundary::{fits, Object};
use crate::breaker::OutcomeCode;
use crate::breaker::StateCode;
use crate::breaker::{
    acquire, command, fusewire_breaker_config, fusewire_breaker_stats, fusewire_transition, init,
    record, release, snapshot, state, BreakerObj, Command,
};
use crate::status::{fusewire_config_error, fusewire_status, Invalid, Scope};
use crate::tick::{fusewire_permit, fusewire_tick};

/// Most buckets a `fusewire_timed_breaker`'s window can be split into (the
/// `buckets` argument of `fusewire_timed_breaker_init`).
pub const FUSEWIRE_TIMED_BREAKER_BUCKETS: u32 = 16;

/// The window of `fusewire_timed_breaker`: counts only (the core's
/// `TimeCounts`, a time window without latency, 24 bytes a bucket), so no
/// mean or percentiles are exposed in C.
type Time = TimeCounts<{ FUSEWIRE_TIMED_BREAKER_BUCKETS as usize }>;

/// A circuit breaker over a window of time: the last `span` ticks, in
/// `buckets` buckets (1..=`FUSEWIRE_TIMED_BREAKER_BUCKETS`) of
/// `span / buckets` ticks each, aligned to multiples of that length (the
/// span is rounded down to a multiple of `buckets`). As `now` moves on,
/// whole buckets leave the window, and their calls with them; rates are
/// judged over what remains once it holds `min_calls` calls.
///
/// The same rules, functions (`fusewire_timed_breaker_<verb>` for each
/// `fusewire_breaker_<verb>`), statuses and outputs as `fusewire_breaker`;
/// only the window differs. It keeps counts, not latency: no mean or
/// percentiles are exposed in C. There is no shared (lock-free) form.
///
/// Declare it `static` or on the stack; initialise with
/// `fusewire_timed_breaker_init`. Do not copy an initialised breaker while
/// another call may use it; a copy is a second, independent breaker.
#[repr(C, align(8))]
#[allow(non_camel_case_types)]
pub struct fusewire_timed_breaker {
    _opaque: [u64; 85],
}

/// `sizeof(fusewire_timed_breaker)`: 680 bytes (alignment `FUSEWIRE_OBJECT_ALIGN`).
pub const FUSEWIRE_TIMED_BREAKER_SIZE: usize = 680;
const _: () =
    assert!(core::mem::size_of::<fusewire_timed_breaker>() == FUSEWIRE_TIMED_BREAKER_SIZE);
const _: () =
    assert!(core::mem::align_of::<fusewire_timed_breaker>() == crate::FUSEWIRE_OBJECT_ALIGN);

// SAFETY: repr(C), tag first; size and alignment checked below.
unsafe impl Object for BreakerObj<Time> {
    type C = fusewire_timed_breaker;
    const TAG: u32 = 0x4657_5442; // "FWTB"
    crate::boundary::intact_field!(breaker: fusewire::Breaker<Time>);
}
const _: () = assert!(fits::<BreakerObj<Time>>());
// No spare words: the C struct is exactly the object, rounded up to 8
// (on 32-bit targets, where `u64` fields align to 4, the object is smaller).
#[cfg(target_pointer_width = "64")]
const _: () = assert!(
    core::mem::size_of::<fusewire_timed_breaker>() < core::mem::size_of::<BreakerObj<Time>>() + 8
);

/// Initialises `*breaker` in place, closed, from `*config` and a window of
/// `span` ticks in `buckets` buckets (1..=`FUSEWIRE_TIMED_BREAKER_BUCKETS`).
///
/// Returns `FUSEWIRE_STATUS_INVALID_CONFIG` (writing `*error` if not NULL)
/// and leaves `*breaker` untouched if the config or the window is bad. The
/// config is checked first, then the window: `buckets` 0 is
/// `FUSEWIRE_FIELD_BREAKER_BUCKETS`/`ZERO`, above the maximum `OUT_OF_RANGE`;
/// `span` 0 is `FUSEWIRE_FIELD_BREAKER_SPAN`/`ZERO`, shorter than `buckets`
/// ticks `INCONSISTENT`.
///
/// Thread/ISR safety: writes `*breaker`; no other caller may use it meanwhile.
///
/// Pointers:
/// `breaker` and `config` are NULL or valid for the access; `error` is NULL
/// or writable.
#[no_mangle]
pub unsafe extern "C" fn fusewire_timed_breaker_init(
    breaker: *mut fusewire_timed_breaker,
    config: *const fusewire_breaker_config,
    span: u64,
    buckets: u32,
    error: *mut fusewire_config_error,
) -> fusewire_status {
    // Beyond usize (16-bit targets) is out of range all the same.
    let buckets = usize::try_from(buckets).unwrap_or(usize::MAX);
    // SAFETY: forwarded contract.
    unsafe {
        init(breaker, config, error, |c| {
            // The config before the window, as the conformance vectors'
            // reference runner does.
            let rules = c.build(BreakerConfig::validate)?;
            let window = Time::counting(span, buckets)
                .map_err(|e| Invalid::from_core(Scope::BreakerWindow, e))?;
            Ok(Breaker::from_rules(rules, window))
        })
    }
}

/// Asks to make a call at `now`, as `fusewire_breaker_acquire`.
///
/// - `FUSEWIRE_STATUS_OK`: writes `*permit`; make the call, then hand the
///   permit to `fusewire_timed_breaker_record` (or `_release` if it never
///   ran).
/// - `FUSEWIRE_STATUS_REJECTED`: writes `*retry_after` (if not NULL): ticks
///   until it may admit again (`UINT64_MAX` while forced open).
///
/// On both, writes `*transition` (if not NULL) with any state change.
///
/// Thread/ISR safety: mutates `*breaker` (single owner): one caller at a
/// time per breaker; guard with a critical section if an ISR shares it
/// (there is no shared form of the timed breaker).
///
/// Pointers:
/// `breaker` is NULL or points to a `fusewire_timed_breaker` not used
/// concurrently; the out-pointers are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fusewire_timed_breaker_acquire(
    breaker: *mut fusewire_timed_breaker,
    now: fusewire_tick,
    permit: *mut fusewire_permit,
    retry_after: *mut u64,
    transition: *mut fusewire_transition,
) -> fusewire_status {
    let now = now.ticks;
    // SAFETY: forwarded contract.
    unsafe { acquire::<Time>(breaker, now, permit, retry_after, transition) }
}

/// Reports how a permitted call ended (`outcome`: a `fusewire_outcome`) and
/// how long it took (`duration` ticks), at `now`: the call counts in the
/// bucket holding `now`. Writes `*transition` (if not NULL) on
/// `FUSEWIRE_STATUS_OK`. An unknown outcome is
/// `FUSEWIRE_STATUS_INVALID_ARGUMENT` and changes nothing.
///
/// Thread/ISR safety: as `fusewire_timed_breaker_acquire`.
///
/// Pointers:
/// As `fusewire_timed_breaker_acquire`.
#[no_mangle]
pub unsafe extern "C" fn fusewire_timed_breaker_record(
    breaker: *mut fusewire_timed_breaker,
    now: fusewire_tick,
    permit: fusewire_permit,
    outcome: OutcomeCode,
    duration: u64,
    transition: *mut fusewire_transition,
) -> fusewire_status {
    let now = now.ticks;
    let permit = permit.raw;
    // SAFETY: forwarded contract.
    unsafe { record::<Time>(breaker, permit, outcome, duration, now, transition, false) }
}

/// As `fusewire_breaker_record_untripped`: counted, never trips a closed
/// breaker.
///
/// Thread/ISR safety: as `fusewire_timed_breaker_acquire`.
///
/// Pointers:
/// As `fusewire_timed_breaker_acquire`.
#[no_mangle]
pub unsafe extern "C" fn fusewire_timed_breaker_record_untripped(
    breaker: *mut fusewire_timed_breaker,
    now: fusewire_tick,
    permit: fusewire_permit,
    outcome: OutcomeCode,
    duration: u64,
    transition: *mut fusewire_transition,
) -> fusewire_status {
    let (now, permit) = (now.ticks, permit.raw);
    // SAFETY: forwarded contract.
    unsafe { record::<Time>(breaker, permit, outcome, duration, now, transition, true) }
}

/// Hands back a permit whose call never ran; nothing is recorded.
/// Writes `*transition` (if not NULL) on `FUSEWIRE_STATUS_OK`.
///
/// Thread/ISR safety: as `fusewire_timed_breaker_acquire`.
///
/// Pointers:
/// As `fusewire_timed_breaker_acquire`.
#[no_mangle]
pub unsafe extern "C" fn fusewire_timed_breaker_release(
    breaker: *mut fusewire_timed_breaker,
    now: fusewire_tick,
    permit: fusewire_permit,
    transition: *mut fusewire_transition,
) -> fusewire_status {
    let now = now.ticks;
    let permit = permit.raw;
    // SAFETY: forwarded contract.
    unsafe { release::<Time>(breaker, permit, now, transition) }
}

/// Applies the changes time alone causes (open → half-open, dwell expiry)
/// without making a call. Writes `*transition` (if not NULL) on OK.
///
/// Thread/ISR safety: as `fusewire_timed_breaker_acquire`.
///
/// Pointers:
/// As `fusewire_timed_breaker_acquire`.
#[no_mangle]
pub unsafe extern "C" fn fusewire_timed_breaker_poll(
    breaker: *mut fusewire_timed_breaker,
    now: fusewire_tick,
    transition: *mut fusewire_transition,
) -> fusewire_status {
    let now = now.ticks;
    // SAFETY: forwarded contract.
    unsafe { command::<Time>(breaker, now, transition, Command::Poll) }
}

/// Opens the breaker as a trip rule would (open duration from
/// `open_backoff`). Writes `*transition` (if not NULL) on OK.
///
/// Thread/ISR safety: as `fusewire_timed_breaker_acquire`.
///
/// Pointers:
/// As `fusewire_timed_breaker_acquire`.
#[no_mangle]
pub unsafe extern "C" fn fusewire_timed_breaker_trip(
    breaker: *mut fusewire_timed_breaker,
    now: fusewire_tick,
    transition: *mut fusewire_transition,
) -> fusewire_status {
    let now = now.ticks;
    // SAFETY: forwarded contract.
    unsafe { command::<Time>(breaker, now, transition, Command::Trip) }
}

/// Closes the breaker; counters restart as on any close. Writes
/// `*transition` (if not NULL) on OK.
///
/// Thread/ISR safety: as `fusewire_timed_breaker_acquire`.
///
/// Pointers:
/// As `fusewire_timed_breaker_acquire`.
#[no_mangle]
pub unsafe extern "C" fn fusewire_timed_breaker_close(
    breaker: *mut fusewire_timed_breaker,
    now: fusewire_tick,
    transition: *mut fusewire_transition,
) -> fusewire_status {
    let now = now.ticks;
    // SAFETY: forwarded contract.
    unsafe { command::<Time>(breaker, now, transition, Command::Close) }
}

/// Holds the breaker open until the host closes or disables it. Writes
/// `*transition` (if not NULL) on OK.
///
/// Thread/ISR safety: as `fusewire_timed_breaker_acquire`.
///
/// Pointers:
/// As `fusewire_timed_breaker_acquire`.
#[no_mangle]
pub unsafe extern "C" fn fusewire_timed_breaker_force_open(
    breaker: *mut fusewire_timed_breaker,
    now: fusewire_tick,
    transition: *mut fusewire_transition,
) -> fusewire_status {
    let now = now.ticks;
    // SAFETY: forwarded contract.
    unsafe { command::<Time>(breaker, now, transition, Command::ForceOpen) }
}

/// Turns the breaker off: every call passes, nothing is recorded. Writes
/// `*transition` (if not NULL) on OK.
///
/// Thread/ISR safety: as `fusewire_timed_breaker_acquire`.
///
/// Pointers:
/// As `fusewire_timed_breaker_acquire`.
#[no_mangle]
pub unsafe extern "C" fn fusewire_timed_breaker_disable(
    breaker: *mut fusewire_timed_breaker,
    now: fusewire_tick,
    transition: *mut fusewire_transition,
) -> fusewire_status {
    let now = now.ticks;
    // SAFETY: forwarded contract.
    unsafe { command::<Time>(breaker, now, transition, Command::Disable) }
}

/// Closes the breaker and forgets the window and every counter. Writes
/// `*transition` (if not NULL) on OK.
///
/// Thread/ISR safety: as `fusewire_timed_breaker_acquire`.
///
/// Pointers:
/// As `fusewire_timed_breaker_acquire`.
#[no_mangle]
pub unsafe extern "C" fn fusewire_timed_breaker_reset(
    breaker: *mut fusewire_timed_breaker,
    now: fusewire_tick,
    transition: *mut fusewire_transition,
) -> fusewire_status {
    let now = now.ticks;
    // SAFETY: forwarded contract.
    unsafe { command::<Time>(breaker, now, transition, Command::Reset) }
}

/// The state as of the last call (a `fusewire_state`), without advancing
/// time. Writes `*state` on `FUSEWIRE_STATUS_OK`.
///
/// Thread/ISR safety: reads `*breaker`; must not race a writer.
///
/// Pointers:
/// `breaker` is NULL or points to a `fusewire_timed_breaker`; `state` is
/// NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fusewire_timed_breaker_state(
    breaker: *const fusewire_timed_breaker,
    state: *mut StateCode,
) -> fusewire_status {
    // SAFETY: forwarded contract.
    unsafe { self::state::<Time>(breaker, state) }
}

/// Everything about the breaker as of `now`; the window's counts are those
/// of the buckets still in the span at `now` (older ones are evicted
/// first). It applies no other time-driven change (an open breaker past its
/// open duration still reads open): call `fusewire_timed_breaker_poll`
/// first for that. Writes `*snapshot` on OK.
///
/// Thread/ISR safety: as `fusewire_timed_breaker_acquire` (it writes the
/// window's rotation and the clock bookkeeping: the latest `now`,
/// regressions).
///
/// Pointers:
/// As `fusewire_timed_breaker_acquire`.
#[no_mangle]
pub unsafe extern "C" fn fusewire_timed_breaker_snapshot(
    breaker: *mut fusewire_timed_breaker,
    now: fusewire_tick,
    snapshot: *mut fusewire_breaker_stats,
) -> fusewire_status {
    let now = now.ticks;
    // SAFETY: forwarded contract.
    unsafe { self::snapshot::<Time>(breaker, now, snapshot) }
}
