//! The shared retry budget: `fusewire::SharedBudget` (gRPC retry
//! throttling, one atomic token count).

use core::cell::UnsafeCell;

use fusewire::SharedBudget;

use crate::boundary::{borrow_in, boundary, fits, install, invalid, put, shared, slot, Object};
use crate::budget::{fusewire_budget_config, retried};
use crate::status::{fusewire_config_error, fusewire_status};

/// A retry budget that several threads, or an interrupt and the main loop,
/// share without a lock: the rule and answers of `fusewire_budget`, with
/// the token count in one atomic `uint64_t`, so no outcome is lost.
///
/// Declare it `static` (or in memory that outlives every user) and
/// initialise it with `fusewire_shared_budget_init` before sharing it.
/// Every other `fusewire_shared_budget_*` call is lock-free and may run
/// from any thread or interrupt handler at the same time as the others.
/// Targets without native 64-bit atomics have these functions only in a
/// single-core build (see the README). Do not copy an initialised budget.
#[repr(C, align(8))]
#[allow(non_camel_case_types)]
pub struct fusewire_shared_budget {
    _opaque: [UnsafeCell<u64>; 5],
}

/// `sizeof(fusewire_shared_budget)`: 40 bytes (alignment `FUSEWIRE_OBJECT_ALIGN`).
pub const FUSEWIRE_SHARED_BUDGET_SIZE: usize = 40;
const _: () =
    assert!(core::mem::size_of::<fusewire_shared_budget>() == FUSEWIRE_SHARED_BUDGET_SIZE);
const _: () =
    assert!(core::mem::align_of::<fusewire_shared_budget>() == crate::FUSEWIRE_OBJECT_ALIGN);

#[repr(C)]
pub(crate) struct SharedBudgetObj {
    tag: u32,
    budget: SharedBudget,
}

// SAFETY: repr(C), tag first; size and alignment checked below.
unsafe impl Object for SharedBudgetObj {
    type C = fusewire_shared_budget;
    const TAG: u32 = 0x4657_5347; // "FWSG"
    /// Plain integers only: every byte pattern is a budget.
    #[inline(always)]
    fn intact(_: &impl Fn(usize) -> u8) -> bool {
        true
    }
}
const _: () = assert!(fits::<SharedBudgetObj>());

/// The initialised shared budget behind a C pointer.
unsafe fn budget<'a>(
    p: *const fusewire_shared_budget,
) -> Result<&'a SharedBudget, fusewire_status> {
    // SAFETY: forwarded contract.
    unsafe { shared::<SharedBudgetObj>(p) }.map(|o| &o.budget)
}

/// Initialises `*budget` in place, full, from `*config`.
///
/// Returns `FUSEWIRE_STATUS_INVALID_CONFIG` (writing `*error` if not NULL)
/// and leaves `*budget` untouched if the config is bad.
///
/// Thread/ISR safety: not concurrent. Writes `*budget`; no other call on it
/// may run meanwhile, and init must happen-before every other call on it
/// (initialise before starting the threads or enabling the interrupt that
/// share it).
///
/// Pointers:
/// `budget` and `config` are NULL or valid for the access; `error` is NULL
/// or writable.
#[no_mangle]
pub unsafe extern "C" fn fusewire_shared_budget_init(
    budget: *mut fusewire_shared_budget,
    config: *const fusewire_budget_config,
    error: *mut fusewire_config_error,
) -> fusewire_status {
    boundary(|| {
        let p = slot::<SharedBudgetObj>(budget)?;
        // SAFETY: the caller's contract for `config`.
        let c = unsafe { borrow_in(config) }?;
        match c.build(SharedBudget::new) {
            // SAFETY: `p` checked by `slot`; writable by contract.
            Ok(b) => unsafe {
                install(
                    p,
                    SharedBudgetObj {
                        tag: SharedBudgetObj::TAG,
                        budget: b,
                    },
                )
            },
            // SAFETY: the caller's contract for `error`.
            Err(e) => return unsafe { invalid(error, e) },
        }
        Ok(fusewire_status::Ok)
    })
}

/// Records a successful call (adds `token_ratio_milli`, up to full).
///
/// Thread/ISR safety: lock-free (one compare-and-swap loop; none when
/// full); any thread or interrupt handler, concurrently with any call on
/// the same budget except its init.
///
/// Pointers:
/// `budget` is NULL or points to a `fusewire_shared_budget` initialised
/// before this call.
#[no_mangle]
pub unsafe extern "C" fn fusewire_shared_budget_record_success(
    budget: *const fusewire_shared_budget,
) -> fusewire_status {
    boundary(|| {
        // SAFETY: the caller's contract.
        unsafe { self::budget(budget) }?.record_success();
        Ok(fusewire_status::Ok)
    })
}

/// Records a failed call, first attempt or retry (takes one token).
///
/// Thread/ISR safety: lock-free (one compare-and-swap loop; none when
/// empty); any thread or interrupt handler, concurrently with any call on
/// the same budget except its init.
///
/// Pointers:
/// As `fusewire_shared_budget_record_success`.
#[no_mangle]
pub unsafe extern "C" fn fusewire_shared_budget_record_failure(
    budget: *const fusewire_shared_budget,
) -> fusewire_status {
    boundary(|| {
        // SAFETY: the caller's contract.
        unsafe { self::budget(budget) }?.record_failure();
        Ok(fusewire_status::Ok)
    })
}

/// Asks to retry: `FUSEWIRE_STATUS_OK` while more than half of
/// `max_tokens` is left, else `FUSEWIRE_STATUS_THROTTLED` (counted).
///
/// Thread/ISR safety: lock-free (a load; a refusal adds to its counter);
/// any thread or interrupt handler, concurrently with any call on the same
/// budget except its init.
///
/// Pointers:
/// As `fusewire_shared_budget_record_success`.
#[no_mangle]
pub unsafe extern "C" fn fusewire_shared_budget_try_retry(
    budget: *const fusewire_shared_budget,
) -> fusewire_status {
    boundary(|| {
        // SAFETY: the caller's contract.
        retried(unsafe { self::budget(budget) }?.try_retry())
    })
}

/// Tokens left in thousandths, and retries refused so far. Writes
/// `*tokens_milli` and `*throttled` (each if not NULL) on OK.
///
/// Thread/ISR safety: lock-free (two atomic loads, each exact, not one
/// snapshot); any thread or interrupt handler, concurrently with any call
/// on the same budget except its init.
///
/// Pointers:
/// `budget` is NULL or points to a `fusewire_shared_budget` initialised
/// before this call; the out-pointers are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fusewire_shared_budget_tokens(
    budget: *const fusewire_shared_budget,
    tokens_milli: *mut u64,
    throttled: *mut u64,
) -> fusewire_status {
    boundary(|| {
        // SAFETY: the caller's contract.
        let b = unsafe { self::budget(budget) }?;
        // SAFETY: optional out-pointers; the caller's contract.
        unsafe {
            put(tokens_milli, b.tokens_milli());
            put(throttled, b.throttled());
        }
        Ok(fusewire_status::Ok)
    })
}
