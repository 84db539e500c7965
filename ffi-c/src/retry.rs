//! Retry: attempts left and the wait before each.

use fusewire::{Decision, GiveUpReason, Retry, RetryPolicy};

use crate::backoff::fusewire_backoff_config;
use crate::boundary::{
    borrow_in, boundary, fits, install, invalid, object, object_ref, put, slot, Object,
};
use crate::status::{fusewire_config_error, fusewire_status, Invalid, Scope};
use crate::tick::fusewire_tick;

/// A retry policy: the delay schedule and the limits.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub struct fusewire_retry_config {
    /// The delays between attempts.
    pub backoff: fusewire_backoff_config,
    /// Ticks from start after which no retry may begin; 0 means no deadline.
    pub max_elapsed: u64,
    /// Seed of the jitter generator.
    pub seed: u64,
    /// Attempts in all, the first included; not 0 (1 never retries).
    pub max_attempts: u32,
}

/// One operation's retry state. Declare it `static` or on the stack;
/// initialise with `fusewire_retry_init`.
#[repr(C, align(8))]
#[allow(non_camel_case_types)]
pub struct fusewire_retry {
    _opaque: [u64; 12],
}

/// `sizeof(fusewire_retry)`: 96 bytes (alignment `FUSEWIRE_OBJECT_ALIGN`).
pub const FUSEWIRE_RETRY_SIZE: usize = 96;
const _: () = assert!(core::mem::size_of::<fusewire_retry>() == FUSEWIRE_RETRY_SIZE);
const _: () = assert!(core::mem::align_of::<fusewire_retry>() == crate::FUSEWIRE_OBJECT_ALIGN);

#[repr(C)]
pub(crate) struct RetryObj {
    tag: u32,
    retry: Retry,
}

// SAFETY: repr(C), tag first; size and alignment checked below.
unsafe impl Object for RetryObj {
    type C = fusewire_retry;
    const TAG: u32 = 0x4657_5254; // "FWRT"
    crate::boundary::intact_field!(retry: Retry);
}
const _: () = assert!(fits::<RetryObj>());

/// Initialises `*retry` in place (not started) from `*config`.
///
/// Returns `FUSEWIRE_STATUS_INVALID_CONFIG` (writing `*error` if not NULL)
/// and leaves `*retry` untouched if the config is bad.
///
/// Thread/ISR safety: writes `*retry`; no other caller may use it meanwhile.
///
/// Pointers:
/// `retry` and `config` are NULL or valid for the access; `error` is NULL
/// or writable.
#[no_mangle]
pub unsafe extern "C" fn fusewire_retry_init(
    retry: *mut fusewire_retry,
    config: *const fusewire_retry_config,
    error: *mut fusewire_config_error,
) -> fusewire_status {
    boundary(|| {
        let p = slot::<RetryObj>(retry)?;
        // SAFETY: the caller's contract for `config`.
        let c = unsafe { borrow_in(config) }?;
        let policy = c.backoff.validated().and_then(|b| {
            let deadline = (c.max_elapsed != 0).then_some(c.max_elapsed);
            RetryPolicy::new(b, c.max_attempts, deadline, c.seed)
                .map_err(|e| Invalid::from_core(Scope::Retry, e))
        });
        match policy {
            // SAFETY: `p` checked by `slot`; writable by contract.
            Ok(policy) => unsafe {
                install(
                    p,
                    RetryObj {
                        tag: RetryObj::TAG,
                        retry: Retry::new(policy),
                    },
                )
            },
            // SAFETY: the caller's contract for `error`.
            Err(e) => return unsafe { invalid(error, e) },
        }
        Ok(fusewire_status::Ok)
    })
}

/// Begins an operation at `now` (the first attempt is being made): resets
/// the attempt count and the deadline, not the jitter generator.
///
/// Thread/ISR safety: mutates `*retry` (single owner): one caller at a time;
/// guard with a critical section if an ISR shares it.
///
/// Pointers:
/// `retry` is NULL or points to a `fusewire_retry` not used concurrently.
#[no_mangle]
pub unsafe extern "C" fn fusewire_retry_start(
    retry: *mut fusewire_retry,
    now: fusewire_tick,
) -> fusewire_status {
    let now = now.ticks;
    boundary(|| {
        // SAFETY: the caller's contract.
        unsafe { object::<RetryObj>(retry) }?.retry.start(now);
        Ok(fusewire_status::Ok)
    })
}

/// Decides after a failed attempt at `now`; `server_retry_after` is the
/// server's hint in ticks (0 for none; it lengthens a delay, never shortens).
///
/// - `FUSEWIRE_STATUS_OK`: writes `*delay`: wait that long, then retry.
/// - `FUSEWIRE_STATUS_GIVE_UP_MAX_ATTEMPTS` / `_GIVE_UP_DEADLINE`: stop.
///
/// Called before `fusewire_retry_start`, it starts the operation at `now`.
///
/// Thread/ISR safety: as `fusewire_retry_start`.
///
/// Pointers:
/// As `fusewire_retry_start`; `delay` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fusewire_retry_next(
    retry: *mut fusewire_retry,
    now: fusewire_tick,
    server_retry_after: u64,
    delay: *mut u64,
) -> fusewire_status {
    let now = now.ticks;
    boundary(|| {
        // SAFETY: the caller's contract.
        let r = &mut unsafe { object::<RetryObj>(retry) }?.retry;
        if delay.is_null() {
            return Err(fusewire_status::NullArgument);
        }
        let hint = (server_retry_after != 0).then_some(server_retry_after);
        // SAFETY: non-NULL; the caller's contract.
        unsafe { decided(r.next(now, hint), delay) }
    })
}

/// A retry decision for C: `*delay` and OK, or the give-up's status
/// (`THROTTLED` for the budget's).
///
/// Pointers: `delay` is non-NULL and writable.
#[inline(always)]
unsafe fn decided(d: Decision, delay: *mut u64) -> crate::boundary::Outcome {
    match d {
        Decision::RetryAfter(d) => {
            // SAFETY: the caller's contract.
            unsafe { put(delay, d) };
            Ok(fusewire_status::Ok)
        }
        Decision::GiveUp(GiveUpReason::MaxAttempts) => Err(fusewire_status::GiveUpMaxAttempts),
        Decision::GiveUp(GiveUpReason::Deadline) => Err(fusewire_status::GiveUpDeadline),
        Decision::GiveUp(GiveUpReason::WaitTooLong) => Err(fusewire_status::GiveUpWaitTooLong),
        Decision::GiveUp(_) => Err(fusewire_status::Throttled),
    }
}

/// As `fusewire_retry_next`, under the retry budget `*budget` (a
/// `fusewire_budget`): records the failure in the budget first, then
/// decides; a retry the budget does not allow is
/// `FUSEWIRE_STATUS_THROTTLED` (counted in the budget) and changes nothing
/// else. After a success call `fusewire_budget_record_success`.
///
/// Thread/ISR safety: mutates `*retry` and `*budget` (single owners).
///
/// Pointers:
/// `retry` as in `fusewire_retry_next`; `budget` is NULL or points to a
/// `fusewire_budget` not used concurrently; `delay` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fusewire_retry_next_with_budget(
    retry: *mut fusewire_retry,
    now: fusewire_tick,
    server_retry_after: u64,
    budget: *mut crate::budget::fusewire_budget,
    delay: *mut u64,
) -> fusewire_status {
    boundary(|| {
        // SAFETY: the caller's contract.
        let r = &mut unsafe { object::<RetryObj>(retry) }?.retry;
        // SAFETY: the caller's contract (a different object than `retry`).
        let b = &mut unsafe { object::<crate::budget::BudgetObj>(budget) }?.budget;
        if delay.is_null() {
            return Err(fusewire_status::NullArgument);
        }
        let hint = (server_retry_after != 0).then_some(server_retry_after);
        let d = r.next_with_budget(now.ticks, hint, b);
        // SAFETY: non-NULL; the caller's contract.
        unsafe { decided(d, delay) }
    })
}

/// Attempts made so far, the first included (0 before start). Writes
/// `*attempts` on OK.
///
/// Thread/ISR safety: reads `*retry`; must not race a writer.
///
/// Pointers:
/// `retry` is NULL or points to a `fusewire_retry`; `attempts` is NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn fusewire_retry_attempts(
    retry: *const fusewire_retry,
    attempts: *mut u32,
) -> fusewire_status {
    boundary(|| {
        // SAFETY: the caller's contract.
        let r = &unsafe { object_ref::<RetryObj>(retry) }?.retry;
        if attempts.is_null() {
            return Err(fusewire_status::NullArgument);
        }
        // SAFETY: non-NULL; the caller's contract.
        unsafe { put(attempts, r.attempts()) };
        Ok(fusewire_status::Ok)
    })
}
