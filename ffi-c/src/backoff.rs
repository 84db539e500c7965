//! Backoff: the schedule config shared by breaker and retry, and a small
//! stateful delay sequence for firmware loops.

use fusewire::{Backoff, Jitter, Rng, Schedule};

use crate::boundary::{borrow_in, boundary, fits, install, invalid, object, put, slot, Object};
use crate::status::{
    fusewire_config_error, fusewire_field, fusewire_problem, fusewire_status, Invalid, Scope,
};

/// A `fusewire_schedule` value as it crosses the boundary: a 32-bit integer the
/// header names `fusewire_schedule` (so C++ sees the enum), checked where it is used.
pub type ScheduleCode = u32;

/// How the raw delay grows with the attempt number `n` (0 first).
#[repr(u32)]
#[allow(non_camel_case_types, dead_code)]
pub enum fusewire_schedule {
    /// `base` every time.
    Constant = 0,
    /// `base + step * n`.
    Linear = 1,
    /// `base * (factor_milli / 1000)^n`.
    Exponential = 2,
}

/// A `fusewire_jitter` value as it crosses the boundary: a 32-bit integer the
/// header names `fusewire_jitter` (so C++ sees the enum), checked where it is used.
pub type JitterCode = u32;

/// How a delay is randomised (AWS "Exponential Backoff And Jitter").
#[repr(u32)]
#[allow(non_camel_case_types, dead_code)]
pub enum fusewire_jitter {
    /// No randomness.
    None = 0,
    /// Uniform in `[0, c]`.
    Full = 1,
    /// `c/2 + [0, c - c/2]`.
    Equal = 2,
    /// `[base, 3 * previous]`.
    Decorrelated = 3,
    /// Within `±jitter_percent` of `c`.
    Proportional = 4,
}

/// A delay schedule: what `open_backoff` of a breaker and the backoff of a
/// retry are made of. Durations in the caller's ticks.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub struct fusewire_backoff_config {
    /// The first delay (the only one for `FUSEWIRE_SCHEDULE_CONSTANT`); not 0.
    pub base: u64,
    /// Added per attempt (`FUSEWIRE_SCHEDULE_LINEAR` only).
    pub step: u64,
    /// No delay is longer; at least `base`.
    pub cap: u64,
    /// A `fusewire_schedule` value.
    pub schedule: ScheduleCode,
    /// Growth per attempt in thousandths, at least 1000 (2000 doubles);
    /// `FUSEWIRE_SCHEDULE_EXPONENTIAL` only.
    pub factor_milli: u32,
    /// A `fusewire_jitter` value.
    pub jitter: JitterCode,
    /// Spread in percent, 1..=100 (`FUSEWIRE_JITTER_PROPORTIONAL` only).
    pub jitter_percent: u32,
}

impl fusewire_backoff_config {
    /// Validates into the core's `Backoff`; errors name the C field.
    pub(crate) fn validated(&self) -> Result<Backoff, Invalid> {
        let schedule = match self.schedule {
            0 => Schedule::Constant { delay: self.base },
            1 => Schedule::Linear {
                base: self.base,
                step: self.step,
            },
            2 => Schedule::Exponential {
                base: self.base,
                factor_milli: self.factor_milli,
            },
            _ => {
                return Err(Invalid::new(
                    fusewire_field::BackoffSchedule,
                    fusewire_problem::OutOfRange,
                ))
            }
        };
        let jitter = match self.jitter {
            0 => Jitter::None,
            1 => Jitter::Full,
            2 => Jitter::Equal,
            3 => Jitter::Decorrelated,
            // Above 255 becomes 255, which the core rejects as out of range.
            4 => Jitter::Proportional {
                percent: u8::try_from(self.jitter_percent).unwrap_or(u8::MAX),
            },
            _ => {
                return Err(Invalid::new(
                    fusewire_field::BackoffJitter,
                    fusewire_problem::OutOfRange,
                ))
            }
        };
        Backoff::new(schedule, jitter, self.cap).map_err(|e| Invalid::from_core(Scope::Backoff, e))
    }

    /// The C form of a core `Backoff`.
    pub(crate) fn from_core(b: Backoff) -> Self {
        let mut c = Self {
            base: b.schedule().base(),
            step: 0,
            cap: b.cap(),
            schedule: 0,
            factor_milli: 1000,
            jitter: 0,
            jitter_percent: 0,
        };
        match b.schedule() {
            Schedule::Constant { .. } => {}
            Schedule::Linear { step, .. } => {
                c.schedule = 1;
                c.step = step;
            }
            Schedule::Exponential { factor_milli, .. } => {
                c.schedule = 2;
                c.factor_milli = factor_milli;
            }
        }
        c.jitter = match b.jitter() {
            Jitter::None => 0,
            Jitter::Full => 1,
            Jitter::Equal => 2,
            Jitter::Decorrelated => 3,
            Jitter::Proportional { percent } => {
                c.jitter_percent = u32::from(percent);
                4
            }
        };
        c
    }
}

/// A delay sequence: a validated schedule, its jitter generator, the
/// attempt number and the previous delay. 56 bytes; declare it `static` or
/// on the stack and initialise it with `fusewire_backoff_init`.
#[repr(C, align(8))]
#[allow(non_camel_case_types)]
pub struct fusewire_backoff {
    _opaque: [u64; 7],
}

/// `sizeof(fusewire_backoff)`: 56 bytes (alignment `FUSEWIRE_OBJECT_ALIGN`).
pub const FUSEWIRE_BACKOFF_SIZE: usize = 56;
const _: () = assert!(core::mem::size_of::<fusewire_backoff>() == FUSEWIRE_BACKOFF_SIZE);
const _: () = assert!(core::mem::align_of::<fusewire_backoff>() == crate::FUSEWIRE_OBJECT_ALIGN);

#[repr(C)]
pub(crate) struct BackoffObj {
    tag: u32,
    attempt: u32,
    prev: u64,
    rng: Rng,
    backoff: Backoff,
}

// SAFETY: repr(C), tag first; size and alignment checked below.
unsafe impl Object for BackoffObj {
    type C = fusewire_backoff;
    const TAG: u32 = 0x4657_424F; // "FWBO"
    crate::boundary::intact_field!(backoff: Backoff);
}
const _: () = assert!(fits::<BackoffObj>());

/// Fills `*config` with a constant 1000-tick delay and no jitter (the
/// breaker's default open duration).
///
/// Writes `*config` on `FUSEWIRE_STATUS_OK`.
///
/// Thread/ISR safety: touches only `*config`; callable from any context.
///
/// Pointers:
/// `config` is NULL or points to writable memory for the struct.
#[no_mangle]
pub unsafe extern "C" fn fusewire_backoff_config_default(
    config: *mut fusewire_backoff_config,
) -> fusewire_status {
    boundary(|| {
        if config.is_null() {
            return Err(fusewire_status::NullArgument);
        }
        let d = fusewire::BreakerConfig::new(fusewire::TickUnit::MILLIS).open_backoff;
        // SAFETY: non-NULL; the caller's contract.
        unsafe { put(config, fusewire_backoff_config::from_core(d)) };
        Ok(fusewire_status::Ok)
    })
}

/// Initialises `*backoff` in place from `*config`, with jitter drawn from
/// a generator seeded with `seed`. The first `fusewire_backoff_next` gives
/// the delay of attempt 0.
///
/// Returns `FUSEWIRE_STATUS_INVALID_CONFIG` (writing `*error` if not NULL)
/// and leaves `*backoff` untouched if the config is bad.
///
/// Thread/ISR safety: writes `*backoff`; no other caller may use that
/// object meanwhile. Different objects are independent.
///
/// Pointers:
/// `backoff` and `config` are NULL or valid for the access; `error` is
/// NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fusewire_backoff_init(
    backoff: *mut fusewire_backoff,
    config: *const fusewire_backoff_config,
    seed: u64,
    error: *mut fusewire_config_error,
) -> fusewire_status {
    boundary(|| {
        let p = slot::<BackoffObj>(backoff)?;
        // SAFETY: the caller's contract for `config`.
        let c = unsafe { borrow_in(config) }?;
        let b = match c.validated() {
            Ok(b) => b,
            // SAFETY: the caller's contract for `error`.
            Err(e) => return unsafe { invalid(error, e) },
        };
        let o = BackoffObj {
            tag: BackoffObj::TAG,
            attempt: 0,
            prev: 0,
            rng: Rng::new(seed),
            backoff: b,
        };
        // SAFETY: `p` checked by `slot`; writable by contract.
        unsafe { install(p, o) };
        Ok(fusewire_status::Ok)
    })
}

/// The delay before the next attempt, in ticks, then moves to the attempt
/// after it. Writes `*delay` on `FUSEWIRE_STATUS_OK`.
///
/// Thread/ISR safety: mutates `*backoff` (single owner): one caller at a
/// time per object; guard it with a critical section if an ISR shares it.
///
/// Pointers:
/// `backoff` is NULL or points to a `fusewire_backoff` not used
/// concurrently; `delay` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fusewire_backoff_next(
    backoff: *mut fusewire_backoff,
    delay: *mut u64,
) -> fusewire_status {
    boundary(|| {
        // SAFETY: the caller's contract.
        let o = unsafe { object::<BackoffObj>(backoff) }?;
        if delay.is_null() {
            return Err(fusewire_status::NullArgument);
        }
        let d = o.backoff.delay(o.attempt, o.prev, &mut o.rng);
        o.prev = d;
        o.attempt = o.attempt.saturating_add(1);
        // SAFETY: non-NULL; the caller's contract.
        unsafe { put(delay, d) };
        Ok(fusewire_status::Ok)
    })
}

/// Starts the sequence over at attempt 0 (after a success). The jitter
/// generator keeps running, so the next sequence differs.
///
/// Thread/ISR safety: as `fusewire_backoff_next`.
///
/// Pointers:
/// As `fusewire_backoff_next`.
#[no_mangle]
pub unsafe extern "C" fn fusewire_backoff_reset(backoff: *mut fusewire_backoff) -> fusewire_status {
    boundary(|| {
        // SAFETY: the caller's contract.
        let o = unsafe { object::<BackoffObj>(backoff) }?;
        o.attempt = 0;
        o.prev = 0;
        Ok(fusewire_status::Ok)
    })
}

/// The attempt number the next `fusewire_backoff_next` will use (0 after
/// init or reset). Writes `*attempt` on `FUSEWIRE_STATUS_OK`.
///
/// Thread/ISR safety: reads `*backoff`; must not race a writer.
///
/// Pointers:
/// As `fusewire_backoff_next`.
#[no_mangle]
pub unsafe extern "C" fn fusewire_backoff_attempt(
    backoff: *const fusewire_backoff,
    attempt: *mut u32,
) -> fusewire_status {
    boundary(|| {
        // SAFETY: the caller's contract.
        let o = unsafe { crate::boundary::object_ref::<BackoffObj>(backoff) }?;
        if attempt.is_null() {
            return Err(fusewire_status::NullArgument);
        }
        // SAFETY: non-NULL; the caller's contract.
        unsafe { put(attempt, o.attempt) };
        Ok(fusewire_status::Ok)
    })
}

/// The un-jittered delay of attempt `attempt` (0 for the first), capped:
/// the schedule alone, for showing it or for callers that jitter
/// themselves. Writes `*delay` on `FUSEWIRE_STATUS_OK`; changes nothing.
///
/// Thread/ISR safety: reads `*backoff`; must not race a writer.
///
/// Pointers:
/// `backoff` is NULL or points to a `fusewire_backoff`; `delay` is NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn fusewire_backoff_raw(
    backoff: *const fusewire_backoff,
    attempt: u32,
    delay: *mut u64,
) -> fusewire_status {
    boundary(|| {
        // SAFETY: the caller's contract.
        let o = unsafe { crate::boundary::object_ref::<BackoffObj>(backoff) }?;
        if delay.is_null() {
            return Err(fusewire_status::NullArgument);
        }
        // SAFETY: non-NULL; the caller's contract.
        unsafe { put(delay, o.backoff.raw(attempt)) };
        Ok(fusewire_status::Ok)
    })
}

/// The jittered delay of attempt `attempt`, given the previous delay
/// `prev` (used by decorrelated jitter; 0 at the first attempt), drawn
/// from the object's generator: for callers that count attempts
/// themselves, for example one backoff serving several operations. Does
/// not move the sequence of `fusewire_backoff_next` (its attempt and
/// previous delay), only the generator. Writes `*delay` on
/// `FUSEWIRE_STATUS_OK`.
///
/// Thread/ISR safety: as `fusewire_backoff_next`.
///
/// Pointers:
/// As `fusewire_backoff_next`.
#[no_mangle]
pub unsafe extern "C" fn fusewire_backoff_delay(
    backoff: *mut fusewire_backoff,
    attempt: u32,
    prev: u64,
    delay: *mut u64,
) -> fusewire_status {
    boundary(|| {
        // SAFETY: the caller's contract.
        let o = unsafe { object::<BackoffObj>(backoff) }?;
        if delay.is_null() {
            return Err(fusewire_status::NullArgument);
        }
        let d = o.backoff.delay(attempt, prev, &mut o.rng);
        // SAFETY: non-NULL; the caller's contract.
        unsafe { put(delay, d) };
        Ok(fusewire_status::Ok)
    })
}
