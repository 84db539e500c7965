//! Retry budget (gRPC retry throttling).

use fusewire::{Budget, ConfigResult, Throttled};

use crate::boundary::{
    borrow_in, boundary, fits, install, invalid, object, object_ref, put, slot, Object, Outcome,
};
use crate::status::{fusewire_config_error, fusewire_status, Invalid, Scope};

/// A retry budget: `max_tokens` when full; a success adds
/// `token_ratio_milli` thousandths of a token, a failure takes one.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub struct fusewire_budget_config {
    /// Tokens when full; not 0.
    pub max_tokens: u32,
    /// Thousandths of a token per success (gRPC's 0.1 is 100);
    /// `1..=max_tokens * 1000`.
    pub token_ratio_milli: u32,
}

impl fusewire_budget_config {
    /// Validates the config and builds a budget with `new` (the
    /// single-owner or the shared form's constructor); errors name the C
    /// field.
    #[inline(always)]
    pub(crate) fn build<T>(
        &self,
        new: impl FnOnce(u32, u32) -> ConfigResult<T>,
    ) -> Result<T, Invalid> {
        new(self.max_tokens, self.token_ratio_milli)
            .map_err(|e| Invalid::from_core(Scope::Budget, e))
    }
}

/// A retry request's answer for C: OK or THROTTLED.
#[inline(always)]
pub(crate) fn retried(r: Result<(), Throttled>) -> Outcome {
    match r {
        Ok(()) => Ok(fusewire_status::Ok),
        Err(_) => Err(fusewire_status::Throttled),
    }
}

/// A retry budget. Declare it `static` or on the stack; initialise with
/// `fusewire_budget_init`.
#[repr(C, align(8))]
#[allow(non_camel_case_types)]
pub struct fusewire_budget {
    _opaque: [u64; 5],
}

/// `sizeof(fusewire_budget)`: 40 bytes (alignment `FUSEWIRE_OBJECT_ALIGN`).
pub const FUSEWIRE_BUDGET_SIZE: usize = 40;
const _: () = assert!(core::mem::size_of::<fusewire_budget>() == FUSEWIRE_BUDGET_SIZE);
const _: () = assert!(core::mem::align_of::<fusewire_budget>() == crate::FUSEWIRE_OBJECT_ALIGN);

#[repr(C)]
pub(crate) struct BudgetObj {
    tag: u32,
    pub(crate) budget: Budget,
}

// SAFETY: repr(C), tag first; size and alignment checked below.
unsafe impl Object for BudgetObj {
    type C = fusewire_budget;
    const TAG: u32 = 0x4657_4247; // "FWBG"
    /// Plain integers only: every byte pattern is a budget.
    #[inline(always)]
    fn intact(_: &impl Fn(usize) -> u8) -> bool {
        true
    }
}
const _: () = assert!(fits::<BudgetObj>());

/// Initialises `*budget` in place, full, from `*config`.
///
/// Returns `FUSEWIRE_STATUS_INVALID_CONFIG` (writing `*error` if not NULL)
/// and leaves `*budget` untouched if the config is bad.
///
/// Thread/ISR safety: writes `*budget`; no other caller may use it meanwhile.
///
/// Pointers:
/// `budget` and `config` are NULL or valid for the access; `error` is NULL
/// or writable.
#[no_mangle]
pub unsafe extern "C" fn fusewire_budget_init(
    budget: *mut fusewire_budget,
    config: *const fusewire_budget_config,
    error: *mut fusewire_config_error,
) -> fusewire_status {
    boundary(|| {
        let p = slot::<BudgetObj>(budget)?;
        // SAFETY: the caller's contract for `config`.
        let c = unsafe { borrow_in(config) }?;
        match c.build(Budget::new) {
            // SAFETY: `p` checked by `slot`; writable by contract.
            Ok(b) => unsafe {
                install(
                    p,
                    BudgetObj {
                        tag: BudgetObj::TAG,
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
/// Thread/ISR safety: mutates `*budget` (single owner): one caller at a
/// time; guard with a critical section if an ISR shares it, or use
/// `fusewire_shared_budget` (lock-free).
///
/// Pointers:
/// `budget` is NULL or points to a `fusewire_budget` not used concurrently.
#[no_mangle]
pub unsafe extern "C" fn fusewire_budget_record_success(
    budget: *mut fusewire_budget,
) -> fusewire_status {
    boundary(|| {
        // SAFETY: the caller's contract.
        unsafe { object::<BudgetObj>(budget) }?
            .budget
            .record_success();
        Ok(fusewire_status::Ok)
    })
}

/// Records a failed call, first attempt or retry (takes one token).
///
/// Thread/ISR safety: as `fusewire_budget_record_success`.
///
/// Pointers:
/// As `fusewire_budget_record_success`.
#[no_mangle]
pub unsafe extern "C" fn fusewire_budget_record_failure(
    budget: *mut fusewire_budget,
) -> fusewire_status {
    boundary(|| {
        // SAFETY: the caller's contract.
        unsafe { object::<BudgetObj>(budget) }?
            .budget
            .record_failure();
        Ok(fusewire_status::Ok)
    })
}

/// Asks to retry: `FUSEWIRE_STATUS_OK` while more than half of
/// `max_tokens` is left, else `FUSEWIRE_STATUS_THROTTLED` (counted).
///
/// Thread/ISR safety: as `fusewire_budget_record_success`.
///
/// Pointers:
/// As `fusewire_budget_record_success`.
#[no_mangle]
pub unsafe extern "C" fn fusewire_budget_try_retry(
    budget: *mut fusewire_budget,
) -> fusewire_status {
    boundary(|| {
        // SAFETY: the caller's contract.
        retried(unsafe { object::<BudgetObj>(budget) }?.budget.try_retry())
    })
}

/// Tokens left in thousandths, and retries refused so far. Writes
/// `*tokens_milli` and `*throttled` (each if not NULL) on OK.
///
/// Thread/ISR safety: reads `*budget`; must not race a writer.
///
/// Pointers:
/// `budget` is NULL or points to a `fusewire_budget`; the out-pointers are
/// NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fusewire_budget_tokens(
    budget: *const fusewire_budget,
    tokens_milli: *mut u64,
    throttled: *mut u64,
) -> fusewire_status {
    boundary(|| {
        // SAFETY: the caller's contract.
        let b = &unsafe { object_ref::<BudgetObj>(budget) }?.budget;
        // SAFETY: optional out-pointers; the caller's contract.
        unsafe {
            put(tokens_milli, b.tokens_milli());
            put(throttled, b.throttled());
        }
        Ok(fusewire_status::Ok)
    })
}
