//! The minimal profile (`fusewire_lite_*`): the core's breaker, backoff and
//! token bucket in their smallest form (`fusewire::lite`), over wrapping
//! 32-bit ticks, for parts where every byte counts. Each object is at most
//! 32 bytes; the three together link under 1 KiB of code on Cortex-M4.

use fusewire::lite::{LiteBackoff, LiteBreaker, LiteBucket, LitePermit};
use fusewire::State;

use crate::boundary::{borrow_in, boundary, fits, install, object, object_ref, put, slot, Object};
use crate::breaker::{outcome, OutcomeCode, StateCode};
use crate::status::{fusewire_config_error, fusewire_field, fusewire_problem, fusewire_status};

/// The current time as a wrapping 32-bit tick (`HAL_GetTick()`, a SysTick
/// count), always the argument after the object. Build one with
/// `fusewire_tick32_of(HAL_GetTick())`. The lite objects compare ticks by
/// their difference, so the wrap (every 49.7 days at 1 kHz) is harmless
/// as long as each object is called at least every 2^31 ticks.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[allow(non_camel_case_types)]
pub struct fusewire_tick32 {
    /// The raw tick.
    pub ticks: u32,
}

/// A lite breaker permit: hand it to `fusewire_lite_breaker_record`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[allow(non_camel_case_types)]
pub struct fusewire_lite_permit {
    /// Opaque: bit 0 says a half-open probe.
    pub raw: u32,
}

/// Opens after `threshold` failures in a row, stays open `open_ticks`,
/// then lets one probe through (its success closes, its failure reopens; a
/// probe not reported within another `open_ticks` is given up).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub struct fusewire_lite_breaker_config {
    /// Failures (or timeouts) in a row that open it; 1..=65535.
    pub threshold: u32,
    /// Ticks it stays open; 1..2^31.
    pub open_ticks: u32,
}

/// Attempt `n` waits a uniform `[0, min(cap, base * 2^n)]` ticks
/// (exponential backoff with full jitter).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub struct fusewire_lite_backoff_config {
    /// The first delay's ceiling; not 0.
    pub base: u32,
    /// No delay is longer; at least `base`.
    pub cap: u32,
    /// Seed of the jitter (draw it from a hardware RNG or a device ID).
    pub seed: u32,
}

/// `burst` tokens, one more every `interval` ticks; starts full.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub struct fusewire_lite_bucket_config {
    /// Ticks per token; not 0.
    pub interval: u32,
    /// Tokens it holds at most; not 0, and `burst * interval` below 2^31.
    pub burst: u32,
}

/// The lite breaker: 24 bytes.
#[repr(C, align(8))]
#[allow(non_camel_case_types)]
pub struct fusewire_lite_breaker {
    _opaque: [u64; 3],
}

/// The lite backoff: 24 bytes.
#[repr(C, align(8))]
#[allow(non_camel_case_types)]
pub struct fusewire_lite_backoff {
    _opaque: [u64; 3],
}

/// The lite token bucket: 24 bytes.
#[repr(C, align(8))]
#[allow(non_camel_case_types)]
pub struct fusewire_lite_bucket {
    _opaque: [u64; 3],
}

/// `sizeof(fusewire_lite_breaker)`: 24 bytes.
pub const FUSEWIRE_LITE_BREAKER_SIZE: usize = 24;
/// `sizeof(fusewire_lite_backoff)`: 24 bytes.
pub const FUSEWIRE_LITE_BACKOFF_SIZE: usize = 24;
/// `sizeof(fusewire_lite_bucket)`: 24 bytes.
pub const FUSEWIRE_LITE_BUCKET_SIZE: usize = 24;
const _: () = assert!(core::mem::size_of::<fusewire_lite_breaker>() == FUSEWIRE_LITE_BREAKER_SIZE);
const _: () = assert!(core::mem::size_of::<fusewire_lite_backoff>() == FUSEWIRE_LITE_BACKOFF_SIZE);
const _: () = assert!(core::mem::size_of::<fusewire_lite_bucket>() == FUSEWIRE_LITE_BUCKET_SIZE);

#[repr(C)]
pub(crate) struct LiteBreakerObj {
    tag: u32,
    breaker: LiteBreaker,
}

#[repr(C)]
pub(crate) struct LiteBackoffObj {
    tag: u32,
    backoff: LiteBackoff,
}

#[repr(C)]
pub(crate) struct LiteBucketObj {
    tag: u32,
    bucket: LiteBucket,
}

// SAFETY (the three): repr(C), tag first; size and alignment checked below.
unsafe impl Object for LiteBreakerObj {
    const SMALL_CHECK: bool = true;
    type C = fusewire_lite_breaker;
    // A byte repeated: one `cmp` with an immediate on Thumb-2 (no literal
    // load), which on the minimal profile is 6 bytes a function.
    const TAG: u32 = 0x4C4C_4C4C; // "LLLL"
    crate::boundary::intact_field!(breaker: LiteBreaker);
}
unsafe impl Object for LiteBackoffObj {
    const SMALL_CHECK: bool = true;
    type C = fusewire_lite_backoff;
    const TAG: u32 = 0x4F4F_4F4F; // "OOOO"
    /// Integers only (no divisor, no enum): every byte pattern runs.
    #[inline(always)]
    fn intact(_: &impl Fn(usize) -> u8) -> bool {
        true
    }
}
unsafe impl Object for LiteBucketObj {
    const SMALL_CHECK: bool = true;
    type C = fusewire_lite_bucket;
    const TAG: u32 = 0x5555_5555; // "UUUU"
    /// Integers only (no divisor, no enum): every byte pattern runs.
    #[inline(always)]
    fn intact(_: &impl Fn(usize) -> u8) -> bool {
        true
    }
}
const _: () =
    assert!(fits::<LiteBreakerObj>() && fits::<LiteBackoffObj>() && fits::<LiteBucketObj>());

/// Writes a lite init's config error to `*error` and returns
/// `FUSEWIRE_STATUS_INVALID_CONFIG`. `fields` packs the two C fields the
/// init can name: the low byte when the core names `first_core`, else the
/// next byte (one argument, not two: every byte counts on this profile).
/// One copy for the three inits.
///
/// Pointers: `error` is NULL or writable.
#[inline(never)]
unsafe fn lite_invalid(
    error: *mut fusewire_config_error,
    e: fusewire::ConfigError,
    first_core: fusewire::Field,
    fields: u32,
) -> crate::boundary::Outcome {
    let field = if e.id == Some(first_core) {
        fields & 0xFF
    } else {
        fields >> 8
    };
    let problem = match e.problem {
        fusewire::Problem::Zero => fusewire_problem::Zero,
        fusewire::Problem::Inconsistent => fusewire_problem::Inconsistent,
        _ => fusewire_problem::OutOfRange,
    };
    // SAFETY: forwarded contract.
    unsafe {
        put(
            error,
            fusewire_config_error {
                field,
                problem: problem as u32,
            },
        )
    };
    Err(fusewire_status::InvalidConfig)
}

/// Two C field codes packed for `lite_invalid`.
const fn pack(first: fusewire_field, second: fusewire_field) -> u32 {
    first as u32 | (second as u32) << 8
}

/// Initialises `*breaker` in place, closed, from `*config`.
/// `FUSEWIRE_STATUS_INVALID_CONFIG` (writing `*error` if not NULL) leaves
/// it untouched.
///
/// Thread/ISR safety: writes `*breaker`; no other caller may use it meanwhile.
///
/// Pointers:
/// `breaker` and `config` are NULL or valid for the access; `error` is NULL
/// or writable.
#[no_mangle]
pub unsafe extern "C" fn fusewire_lite_breaker_init(
    breaker: *mut fusewire_lite_breaker,
    config: *const fusewire_lite_breaker_config,
    error: *mut fusewire_config_error,
) -> fusewire_status {
    boundary(|| {
        let p = slot::<LiteBreakerObj>(breaker)?;
        // SAFETY: the caller's contract for `config`.
        let c = unsafe { borrow_in(config) }?;
        match LiteBreaker::new(c.threshold, c.open_ticks) {
            // SAFETY: `p` checked by `slot`; writable by contract.
            Ok(b) => unsafe {
                install(
                    p,
                    LiteBreakerObj {
                        tag: LiteBreakerObj::TAG,
                        breaker: b,
                    },
                )
            },
            // SAFETY: the caller's contract for `error`.
            Err(e) => {
                return unsafe {
                    lite_invalid(
                        error,
                        e,
                        fusewire::Field::ConsecutiveFailures,
                        pack(
                            fusewire_field::LiteBreakerThreshold,
                            fusewire_field::LiteBreakerOpenTicks,
                        ),
                    )
                }
            }
        }
        Ok(fusewire_status::Ok)
    })
}

/// Asks to make a call at `now`: `FUSEWIRE_STATUS_OK` writes `*permit`;
/// `FUSEWIRE_STATUS_REJECTED` writes `*retry_after` (if not NULL), the
/// ticks until it may admit again.
///
/// Thread/ISR safety: mutates `*breaker` (single owner).
///
/// Pointers:
/// `breaker` is NULL or points to a `fusewire_lite_breaker` not used
/// concurrently; `permit` is NULL or writable; `retry_after` is NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn fusewire_lite_breaker_acquire(
    breaker: *mut fusewire_lite_breaker,
    now: fusewire_tick32,
    permit: *mut fusewire_lite_permit,
    retry_after: *mut u32,
) -> fusewire_status {
    boundary(|| {
        // SAFETY: the caller's contract.
        let b = &mut unsafe { object::<LiteBreakerObj>(breaker) }?.breaker;
        if permit.is_null() {
            return Err(fusewire_status::NullArgument);
        }
        match b.try_acquire(now.ticks) {
            Ok(p) => {
                // SAFETY: non-NULL; the caller's contract.
                unsafe { put(permit, fusewire_lite_permit { raw: p.0 }) };
                Ok(fusewire_status::Ok)
            }
            Err(wait) => {
                // SAFETY: optional out-pointer; the caller's contract.
                unsafe { put(retry_after, wait) };
                Err(fusewire_status::Rejected)
            }
        }
    })
}

/// Reports how a permitted call ended (`outcome`), at `now`, and writes the
/// state after it to `*state` (if not NULL) on `FUSEWIRE_STATUS_OK`. An
/// unknown outcome is `FUSEWIRE_STATUS_INVALID_ARGUMENT` and changes
/// nothing. Keep one report per permit: the lite breaker does not check it.
///
/// Thread/ISR safety: as `fusewire_lite_breaker_acquire`.
///
/// Pointers:
/// `breaker` as in `fusewire_lite_breaker_acquire`; `state` is NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn fusewire_lite_breaker_record(
    breaker: *mut fusewire_lite_breaker,
    now: fusewire_tick32,
    permit: fusewire_lite_permit,
    outcome: OutcomeCode,
    state: *mut StateCode,
) -> fusewire_status {
    boundary(|| {
        // SAFETY: the caller's contract.
        let b = &mut unsafe { object::<LiteBreakerObj>(breaker) }?.breaker;
        let o = self::outcome(outcome)?;
        b.record(LitePermit(permit.raw), o, now.ticks);
        // SAFETY: optional out-pointer; the caller's contract.
        unsafe { put(state, b.state() as u32) };
        Ok(fusewire_status::Ok)
    })
}

/// The state as of the last call (`FUSEWIRE_STATE_CLOSED`, `_OPEN` or
/// `_HALF_OPEN`). Writes `*state` on `FUSEWIRE_STATUS_OK`.
///
/// Thread/ISR safety: reads `*breaker`; must not race a writer.
///
/// Pointers:
/// `breaker` is NULL or points to a `fusewire_lite_breaker`; `state` is
/// NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fusewire_lite_breaker_state(
    breaker: *const fusewire_lite_breaker,
    state: *mut StateCode,
) -> fusewire_status {
    boundary(|| {
        // SAFETY: the caller's contract.
        let b = &unsafe { object_ref::<LiteBreakerObj>(breaker) }?.breaker;
        if state.is_null() {
            return Err(fusewire_status::NullArgument);
        }
        let s: State = b.state();
        // SAFETY: non-NULL; the caller's contract.
        unsafe { put(state, s as u32) };
        Ok(fusewire_status::Ok)
    })
}

/// Initialises `*backoff` in place at attempt 0 from `*config`.
///
/// Thread/ISR safety: writes `*backoff`; no other caller may use it meanwhile.
///
/// Pointers:
/// As `fusewire_lite_breaker_init`.
#[no_mangle]
pub unsafe extern "C" fn fusewire_lite_backoff_init(
    backoff: *mut fusewire_lite_backoff,
    config: *const fusewire_lite_backoff_config,
    error: *mut fusewire_config_error,
) -> fusewire_status {
    boundary(|| {
        let p = slot::<LiteBackoffObj>(backoff)?;
        // SAFETY: the caller's contract for `config`.
        let c = unsafe { borrow_in(config) }?;
        match LiteBackoff::new(c.base, c.cap, c.seed) {
            // SAFETY: `p` checked by `slot`; writable by contract.
            Ok(b) => unsafe {
                install(
                    p,
                    LiteBackoffObj {
                        tag: LiteBackoffObj::TAG,
                        backoff: b,
                    },
                )
            },
            // SAFETY: the caller's contract for `error`.
            Err(e) => {
                return unsafe {
                    lite_invalid(
                        error,
                        e,
                        fusewire::Field::ScheduleBase,
                        pack(
                            fusewire_field::LiteBackoffBase,
                            fusewire_field::LiteBackoffCap,
                        ),
                    )
                }
            }
        }
        Ok(fusewire_status::Ok)
    })
}

/// The delay before the next attempt, in ticks, then moves to the attempt
/// after it. Writes `*delay` on `FUSEWIRE_STATUS_OK`.
///
/// Thread/ISR safety: mutates `*backoff` (single owner).
///
/// Pointers:
/// `backoff` is NULL or points to a `fusewire_lite_backoff` not used
/// concurrently; `delay` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fusewire_lite_backoff_next(
    backoff: *mut fusewire_lite_backoff,
    delay: *mut u32,
) -> fusewire_status {
    boundary(|| {
        // SAFETY: the caller's contract.
        let b = &mut unsafe { object::<LiteBackoffObj>(backoff) }?.backoff;
        if delay.is_null() {
            return Err(fusewire_status::NullArgument);
        }
        let d = b.next_delay();
        // SAFETY: non-NULL; the caller's contract.
        unsafe { put(delay, d) };
        Ok(fusewire_status::Ok)
    })
}

/// Starts the sequence over at attempt 0 (after a success).
///
/// Thread/ISR safety: as `fusewire_lite_backoff_next`.
///
/// Pointers:
/// As `fusewire_lite_backoff_next`.
#[no_mangle]
pub unsafe extern "C" fn fusewire_lite_backoff_reset(
    backoff: *mut fusewire_lite_backoff,
) -> fusewire_status {
    boundary(|| {
        // SAFETY: the caller's contract.
        unsafe { object::<LiteBackoffObj>(backoff) }?
            .backoff
            .reset();
        Ok(fusewire_status::Ok)
    })
}

/// Initialises `*bucket` in place, full, from `*config`.
///
/// Thread/ISR safety: writes `*bucket`; no other caller may use it meanwhile.
///
/// Pointers:
/// As `fusewire_lite_breaker_init`.
#[no_mangle]
pub unsafe extern "C" fn fusewire_lite_bucket_init(
    bucket: *mut fusewire_lite_bucket,
    config: *const fusewire_lite_bucket_config,
    error: *mut fusewire_config_error,
) -> fusewire_status {
    boundary(|| {
        let p = slot::<LiteBucketObj>(bucket)?;
        // SAFETY: the caller's contract for `config`.
        let c = unsafe { borrow_in(config) }?;
        match LiteBucket::new(c.interval, c.burst) {
            // SAFETY: `p` checked by `slot`; writable by contract.
            Ok(b) => unsafe {
                install(
                    p,
                    LiteBucketObj {
                        tag: LiteBucketObj::TAG,
                        bucket: b,
                    },
                )
            },
            // SAFETY: the caller's contract for `error`.
            Err(e) => {
                return unsafe {
                    lite_invalid(
                        error,
                        e,
                        fusewire::Field::Period,
                        pack(
                            fusewire_field::LiteBucketInterval,
                            fusewire_field::LiteBucketBurst,
                        ),
                    )
                }
            }
        }
        Ok(fusewire_status::Ok)
    })
}

/// Takes `n` tokens at `now`, all or none. `FUSEWIRE_STATUS_RATE_LIMITED`
/// writes `*retry_after` (if not NULL): ticks until the same request would
/// succeed. More than the burst at once is `FUSEWIRE_STATUS_EXCEEDS_BURST`.
///
/// Thread/ISR safety: mutates `*bucket` (single owner).
///
/// Pointers:
/// `bucket` is NULL or points to a `fusewire_lite_bucket` not used
/// concurrently; `retry_after` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fusewire_lite_bucket_acquire(
    bucket: *mut fusewire_lite_bucket,
    now: fusewire_tick32,
    n: u32,
    retry_after: *mut u32,
) -> fusewire_status {
    boundary(|| {
        // SAFETY: the caller's contract.
        let b = &mut unsafe { object::<LiteBucketObj>(bucket) }?.bucket;
        match b.try_acquire(n, now.ticks) {
            Ok(()) => Ok(fusewire_status::Ok),
            Err(u32::MAX) => Err(fusewire_status::ExceedsBurst),
            Err(wait) => {
                // SAFETY: optional out-pointer; the caller's contract.
                unsafe { put(retry_after, wait) };
                Err(fusewire_status::RateLimited)
            }
        }
    })
}
