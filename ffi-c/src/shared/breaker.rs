//! The shared circuit breaker: `fusewire::SharedBreaker` over the same
//! 16-call window as `fusewire_breaker`.

use core::cell::UnsafeCell;

use fusewire::SharedBreaker;

use crate::boundary::{borrow_in, boundary, fits, install, invalid, put, shared, slot, Object};
use crate::breaker::OutcomeCode;
use crate::breaker::StateCode;
use crate::breaker::{
    acquired, fusewire_breaker_config, fusewire_breaker_stats, fusewire_transition, outcome,
    Command, FUSEWIRE_BREAKER_WINDOW,
};
use crate::status::{fusewire_config_error, fusewire_status};
use crate::tick::{fusewire_permit, fusewire_tick};

/// A circuit breaker that several threads, or an interrupt and the main
/// loop, share without a lock: the rules, transitions, counters and answers
/// of `fusewire_breaker` over the same 16-call window
/// (`FUSEWIRE_BREAKER_WINDOW`), kept in atomics. Configured by a
/// `fusewire_breaker_config` whose `half_open_probes` is at most 127.
///
/// Declare it `static` (or in memory that outlives every user) and
/// initialise it with `fusewire_shared_breaker_init` before sharing it.
/// Every other `fusewire_shared_breaker_*` call is lock-free and may run
/// from any thread or interrupt handler at the same time as the others.
/// Targets without native 64-bit atomics have these functions only in a
/// single-core build (see the README). Do not copy an initialised breaker.
///
/// Under races only, it differs from `fusewire_breaker`: a transition is published a few stores after
/// it is decided (other callers make no automatic move meanwhile), and
/// outcomes recorded while a close clears the window may be kept or
/// dropped.
#[repr(C, align(8))]
#[allow(non_camel_case_types)]
pub struct fusewire_shared_breaker {
    _opaque: [UnsafeCell<u64>; 25],
}

/// `sizeof(fusewire_shared_breaker)`: 200 bytes (alignment `FUSEWIRE_OBJECT_ALIGN`).
pub const FUSEWIRE_SHARED_BREAKER_SIZE: usize = 200;
const _: () =
    assert!(core::mem::size_of::<fusewire_shared_breaker>() == FUSEWIRE_SHARED_BREAKER_SIZE);
const _: () =
    assert!(core::mem::align_of::<fusewire_shared_breaker>() == crate::FUSEWIRE_OBJECT_ALIGN);

type Inner = SharedBreaker<{ FUSEWIRE_BREAKER_WINDOW as usize }>;

#[repr(C)]
pub(crate) struct SharedBreakerObj {
    tag: u32,
    breaker: Inner,
}

// SAFETY: repr(C), tag first; size and alignment checked below.
unsafe impl Object for SharedBreakerObj {
    type C = fusewire_shared_breaker;
    const TAG: u32 = 0x4657_5342; // "FWSB"
    crate::boundary::intact_field!(breaker: Inner);
}
const _: () = assert!(fits::<SharedBreakerObj>());

/// The initialised shared breaker behind a C pointer.
unsafe fn breaker<'a>(p: *const fusewire_shared_breaker) -> Result<&'a Inner, fusewire_status> {
    // SAFETY: forwarded contract.
    unsafe { shared::<SharedBreakerObj>(p) }.map(|o| &o.breaker)
}

/// Initialises `*breaker` in place, closed, from `*config` (fill it with
/// `fusewire_breaker_config_default`). `half_open_probes` above 127 is
/// `FUSEWIRE_STATUS_INVALID_CONFIG` on `FUSEWIRE_FIELD_BREAKER_HALF_OPEN_PROBES`.
///
/// Returns `FUSEWIRE_STATUS_INVALID_CONFIG` (writing `*error` if not NULL)
/// and leaves `*breaker` untouched if the config is bad.
///
/// Thread/ISR safety: not concurrent. Writes `*breaker`; no other call on
/// it may run meanwhile, and init must happen-before every other call on
/// it (initialise before starting the threads or enabling the interrupt
/// that share it).
///
/// Pointers:
/// `breaker` and `config` are NULL or valid for the access; `error` is NULL
/// or writable.
#[no_mangle]
pub unsafe extern "C" fn fusewire_shared_breaker_init(
    breaker: *mut fusewire_shared_breaker,
    config: *const fusewire_breaker_config,
    error: *mut fusewire_config_error,
) -> fusewire_status {
    boundary(|| {
        let p = slot::<SharedBreakerObj>(breaker)?;
        // SAFETY: the caller's contract for `config`.
        let c = unsafe { borrow_in(config) }?;
        let b = match c.build(Inner::new) {
            Ok(b) => b,
            // SAFETY: the caller's contract for `error`.
            Err(e) => return unsafe { invalid(error, e) },
        };
        // SAFETY: `p` checked by `slot`; writable by contract.
        unsafe {
            install(
                p,
                SharedBreakerObj {
                    tag: SharedBreakerObj::TAG,
                    breaker: b,
                },
            )
        };
        Ok(fusewire_status::Ok)
    })
}

/// Asks to make a call at `now`, as `fusewire_breaker_acquire`.
///
/// - `FUSEWIRE_STATUS_OK`: writes `*permit`; make the call, then hand the
///   permit to `fusewire_shared_breaker_record` (or `_release` if it never
///   ran), from any thread.
/// - `FUSEWIRE_STATUS_REJECTED`: writes `*retry_after` (if not NULL): ticks
///   until it may admit again (`UINT64_MAX` while forced open).
///
/// On both, writes `*transition` (if not NULL) with any state change; each
/// transition is reported to exactly one caller. In half-open, at most
/// `half_open_probes` callers get a probe permit, however many race.
///
/// Thread/ISR safety: lock-free (closed or disabled: one atomic load); any
/// thread or interrupt handler, concurrently with any call on the same
/// breaker except its init.
///
/// Pointers:
/// `breaker` is NULL or points to a `fusewire_shared_breaker` initialised
/// before this call; the out-pointers are NULL or writable and not shared
/// with a concurrent call.
#[no_mangle]
pub unsafe extern "C" fn fusewire_shared_breaker_acquire(
    breaker: *const fusewire_shared_breaker,
    now: fusewire_tick,
    permit: *mut fusewire_permit,
    retry_after: *mut u64,
    transition: *mut fusewire_transition,
) -> fusewire_status {
    let now = now.ticks;
    boundary(|| {
        // SAFETY: the caller's contract.
        let b = unsafe { self::breaker(breaker) }?;
        if permit.is_null() {
            return Err(fusewire_status::NullArgument);
        }
        // SAFETY: the caller's contract for the out-pointers.
        unsafe {
            acquired(
                b.try_acquire(now),
                |p| b.permit_into_raw(p),
                permit,
                retry_after,
                transition,
            )
        }
    })
}

/// Reports how a permitted call ended (`outcome`: a `fusewire_outcome`) and
/// how long it took (`duration` ticks), at `now`. Writes `*transition` (if
/// not NULL) on `FUSEWIRE_STATUS_OK`. An unknown outcome is
/// `FUSEWIRE_STATUS_INVALID_ARGUMENT` and changes nothing.
///
/// Thread/ISR safety: lock-free; any thread or interrupt handler,
/// concurrently with any call on the same breaker except its init.
///
/// Pointers:
/// As `fusewire_shared_breaker_acquire`.
#[no_mangle]
pub unsafe extern "C" fn fusewire_shared_breaker_record(
    breaker: *const fusewire_shared_breaker,
    now: fusewire_tick,
    permit: fusewire_permit,
    outcome: OutcomeCode,
    duration: u64,
    transition: *mut fusewire_transition,
) -> fusewire_status {
    let now = now.ticks;
    let permit = permit.raw;
    boundary(|| {
        // SAFETY: the caller's contract.
        let b = unsafe { self::breaker(breaker) }?;
        let outcome = self::outcome(outcome)?;
        let t = b.record(fusewire::Permit::from_raw(permit), outcome, duration, now);
        // SAFETY: optional out-pointer; the caller's contract.
        unsafe { put(transition, fusewire_transition::of(t)) };
        Ok(fusewire_status::Ok)
    })
}

/// Hands back a permit whose call never ran; nothing is recorded (a
/// probe's slot goes back to its half-open period). Writes `*transition`
/// (if not NULL) on `FUSEWIRE_STATUS_OK`.
///
/// Thread/ISR safety: lock-free; any thread or interrupt handler,
/// concurrently with any call on the same breaker except its init.
///
/// Pointers:
/// As `fusewire_shared_breaker_acquire`.
#[no_mangle]
pub unsafe extern "C" fn fusewire_shared_breaker_release(
    breaker: *const fusewire_shared_breaker,
    now: fusewire_tick,
    permit: fusewire_permit,
    transition: *mut fusewire_transition,
) -> fusewire_status {
    let now = now.ticks;
    let permit = permit.raw;
    boundary(|| {
        // SAFETY: the caller's contract.
        let b = unsafe { self::breaker(breaker) }?;
        let t = b.release(fusewire::Permit::from_raw(permit), now);
        // SAFETY: optional out-pointer; the caller's contract.
        unsafe { put(transition, fusewire_transition::of(t)) };
        Ok(fusewire_status::Ok)
    })
}

unsafe fn command(
    breaker: *const fusewire_shared_breaker,
    now: u64,
    transition: *mut fusewire_transition,
    cmd: Command,
) -> fusewire_status {
    boundary(|| {
        // SAFETY: the caller's contract.
        let b = unsafe { self::breaker(breaker) }?;
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
/// Thread/ISR safety: lock-free; any thread or interrupt handler,
/// concurrently with any call on the same breaker except its init.
///
/// Pointers:
/// As `fusewire_shared_breaker_acquire`.
#[no_mangle]
pub unsafe extern "C" fn fusewire_shared_breaker_poll(
    breaker: *const fusewire_shared_breaker,
    now: fusewire_tick,
    transition: *mut fusewire_transition,
) -> fusewire_status {
    let now = now.ticks;
    // SAFETY: forwarded contract.
    unsafe { command(breaker, now, transition, Command::Poll) }
}

/// Opens the breaker as a trip rule would (open duration from
/// `open_backoff`). Writes `*transition` (if not NULL) on OK.
///
/// Thread/ISR safety: lock-free; any thread or interrupt handler,
/// concurrently with any call on the same breaker except its init.
///
/// Pointers:
/// As `fusewire_shared_breaker_acquire`.
#[no_mangle]
pub unsafe extern "C" fn fusewire_shared_breaker_trip(
    breaker: *const fusewire_shared_breaker,
    now: fusewire_tick,
    transition: *mut fusewire_transition,
) -> fusewire_status {
    let now = now.ticks;
    // SAFETY: forwarded contract.
    unsafe { command(breaker, now, transition, Command::Trip) }
}

/// Closes the breaker; counters restart as on any close. Writes
/// `*transition` (if not NULL) on OK.
///
/// Thread/ISR safety: lock-free; any thread or interrupt handler,
/// concurrently with any call on the same breaker except its init.
///
/// Pointers:
/// As `fusewire_shared_breaker_acquire`.
#[no_mangle]
pub unsafe extern "C" fn fusewire_shared_breaker_close(
    breaker: *const fusewire_shared_breaker,
    now: fusewire_tick,
    transition: *mut fusewire_transition,
) -> fusewire_status {
    let now = now.ticks;
    // SAFETY: forwarded contract.
    unsafe { command(breaker, now, transition, Command::Close) }
}

/// Holds the breaker open until the host closes or disables it. Writes
/// `*transition` (if not NULL) on OK.
///
/// Thread/ISR safety: lock-free; any thread or interrupt handler,
/// concurrently with any call on the same breaker except its init.
///
/// Pointers:
/// As `fusewire_shared_breaker_acquire`.
#[no_mangle]
pub unsafe extern "C" fn fusewire_shared_breaker_force_open(
    breaker: *const fusewire_shared_breaker,
    now: fusewire_tick,
    transition: *mut fusewire_transition,
) -> fusewire_status {
    let now = now.ticks;
    // SAFETY: forwarded contract.
    unsafe { command(breaker, now, transition, Command::ForceOpen) }
}

/// Turns the breaker off: every call passes, nothing is recorded. Writes
/// `*transition` (if not NULL) on OK.
///
/// Thread/ISR safety: lock-free; any thread or interrupt handler,
/// concurrently with any call on the same breaker except its init.
///
/// Pointers:
/// As `fusewire_shared_breaker_acquire`.
#[no_mangle]
pub unsafe extern "C" fn fusewire_shared_breaker_disable(
    breaker: *const fusewire_shared_breaker,
    now: fusewire_tick,
    transition: *mut fusewire_transition,
) -> fusewire_status {
    let now = now.ticks;
    // SAFETY: forwarded contract.
    unsafe { command(breaker, now, transition, Command::Disable) }
}

/// Closes the breaker and forgets the window and every counter. Writes
/// `*transition` (if not NULL) on OK.
///
/// Thread/ISR safety: lock-free; any thread or interrupt handler,
/// concurrently with any call on the same breaker except its init
/// (outcomes recorded during the reset may be kept or dropped).
///
/// Pointers:
/// As `fusewire_shared_breaker_acquire`.
#[no_mangle]
pub unsafe extern "C" fn fusewire_shared_breaker_reset(
    breaker: *const fusewire_shared_breaker,
    now: fusewire_tick,
    transition: *mut fusewire_transition,
) -> fusewire_status {
    let now = now.ticks;
    // SAFETY: forwarded contract.
    unsafe { command(breaker, now, transition, Command::Reset) }
}

/// The state as of the last call that moved it (a `fusewire_state`),
/// without advancing time. Writes `*state` on `FUSEWIRE_STATUS_OK`.
///
/// Thread/ISR safety: lock-free (one atomic load); any thread or interrupt
/// handler, concurrently with any call on the same breaker except its init.
///
/// Pointers:
/// `breaker` is NULL or points to a `fusewire_shared_breaker` initialised
/// before this call; `state` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fusewire_shared_breaker_state(
    breaker: *const fusewire_shared_breaker,
    state: *mut StateCode,
) -> fusewire_status {
    boundary(|| {
        // SAFETY: the caller's contract.
        let b = unsafe { self::breaker(breaker) }?;
        if state.is_null() {
            return Err(fusewire_status::NullArgument);
        }
        // SAFETY: non-NULL; the caller's contract.
        unsafe { put(state, b.state() as u32) };
        Ok(fusewire_status::Ok)
    })
}

/// Everything about the breaker as of `now`, as `fusewire_breaker_snapshot`
/// (no time-driven transition is applied: call `_poll` first for that).
/// Writes `*snapshot` on `FUSEWIRE_STATUS_OK`.
///
/// Thread/ISR safety: lock-free; any thread or interrupt handler,
/// concurrently with any call on the same breaker except its init. Each
/// field is read atomically, but racing calls can make fields disagree
/// slightly.
///
/// Pointers:
/// As `fusewire_shared_breaker_acquire`.
#[no_mangle]
pub unsafe extern "C" fn fusewire_shared_breaker_snapshot(
    breaker: *const fusewire_shared_breaker,
    now: fusewire_tick,
    snapshot: *mut fusewire_breaker_stats,
) -> fusewire_status {
    let now = now.ticks;
    boundary(|| {
        // SAFETY: the caller's contract.
        let b = unsafe { self::breaker(breaker) }?;
        if snapshot.is_null() {
            return Err(fusewire_status::NullArgument);
        }
        // SAFETY: non-NULL; the caller's contract.
        unsafe { put(snapshot, fusewire_breaker_stats::of(b.snapshot(now))) };
        Ok(fusewire_status::Ok)
    })
}

/// Whether a transition is half made: decided (its compare-and-swap done)
/// but not yet published (its open deadline and start time not yet
/// stored). Writes `*pending` (1 if one is, else 0) and, when one is,
/// `*generation` (if not NULL): the generation to hand to
/// `fusewire_shared_breaker_repair`.
///
/// A live transition publishes within a few instructions. One that stays
/// pending was left by a process killed between its compare-and-swap and
/// its publication; until it is repaired (or a host call such as
/// `fusewire_shared_breaker_close` moves the breaker) the breaker makes no
/// automatic move. Check now and then (for example on each call, or from a
/// timer); repair a generation only once it has been pending for far longer
/// than a transition takes (the Python and Node host tier waits one
/// second).
///
/// Thread/ISR safety: lock-free (two atomic loads); any thread or interrupt
/// handler, concurrently with any call on the same breaker except its init.
///
/// Pointers:
/// `breaker` is NULL or points to a `fusewire_shared_breaker` initialised
/// before this call; `pending` is NULL or writable; `generation` is NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn fusewire_shared_breaker_pending(
    breaker: *const fusewire_shared_breaker,
    pending: *mut u32,
    generation: *mut u32,
) -> fusewire_status {
    boundary(|| {
        // SAFETY: the caller's contract.
        let b = unsafe { self::breaker(breaker) }?;
        if pending.is_null() {
            return Err(fusewire_status::NullArgument);
        }
        let g = b.pending();
        // SAFETY: non-NULL / optional out-pointers; the caller's contract.
        unsafe {
            put(pending, u32::from(g.is_some()));
            if let Some(g) = g {
                put(generation, g);
            }
        }
        Ok(fusewire_status::Ok)
    })
}

/// Completes the transition to `generation` if it is still pending (see
/// `fusewire_shared_breaker_pending`): makes its stores as of `now` (an
/// open breaker's deadline drawn from `open_backoff`, the time the state
/// began) and publishes it, so automatic moves resume. Writes `*repaired`
/// (if not NULL): 1 if it repaired, 0 if that generation is not pending
/// (repaired already, by another process too, or never half made).
///
/// Call it only once `generation` has been pending for far longer than a
/// live transition takes: a live one racing the repair (a process paused
/// mid-transition) can at worst leave one extra backoff step and a deadline
/// drawn at either `now`.
///
/// Thread/ISR safety: lock-free; any thread or interrupt handler,
/// concurrently with any call on the same breaker except its init.
///
/// Pointers:
/// `breaker` is NULL or points to a `fusewire_shared_breaker` initialised
/// before this call; `repaired` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fusewire_shared_breaker_repair(
    breaker: *const fusewire_shared_breaker,
    now: fusewire_tick,
    generation: u32,
    repaired: *mut u32,
) -> fusewire_status {
    let now = now.ticks;
    boundary(|| {
        // SAFETY: the caller's contract.
        let b = unsafe { self::breaker(breaker) }?;
        let done = b.repair(generation, now);
        // SAFETY: optional out-pointer; the caller's contract.
        unsafe { put(repaired, u32::from(done)) };
        Ok(fusewire_status::Ok)
    })
}
