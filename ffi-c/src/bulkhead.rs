//! Bulkhead: a concurrency limit with reserves for the traffic that matters.

use core::num::NonZeroU32;

use fusewire::{Bulkhead, ConfigResult, Full, Priority, ReleaseError, Slot, TickUnit};

use crate::boundary::{
    borrow_in, boundary, fits, install, invalid, object, object_ref, put, slot, Object, Outcome,
};
use crate::status::{
    fusewire_config_error, fusewire_field, fusewire_problem, fusewire_status, Invalid, Scope,
};
use crate::tick::fusewire_tick;

/// A `fusewire_priority` value as it crosses the boundary: a 32-bit integer the
/// header names `fusewire_priority` (so C++ sees the enum), checked where it is used.
pub type PriorityCode = u32;

/// How much a request matters when slots run short.
#[repr(u32)]
#[allow(non_camel_case_types, dead_code)]
pub enum fusewire_priority {
    /// May use every slot.
    Critical = 0,
    /// All but the critical reserve.
    Normal = 1,
    /// Only the unreserved slots.
    Sheddable = 2,
}

/// `limit` slots, the last `reserve_critical` for critical requests and
/// `reserve_normal` more for normal ones; the reserves must leave at least
/// one unreserved slot.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub struct fusewire_bulkhead_config {
    /// Slots in all; not 0.
    pub limit: u32,
    /// Slots only critical requests may take.
    pub reserve_critical: u32,
    /// Further slots only critical and normal requests may take.
    pub reserve_normal: u32,
    /// A slot never released (a lost task) is freed within `lease` ticks
    /// (after more than half of it): set it to at least twice the longest
    /// call. 0 is the default, 60000 ticks (a minute at 1 kHz).
    pub lease: u64,
}

/// A bulkhead slot: hand it back to `_release` (of the bulkhead that gave
/// it) exactly once. `raw` is opaque: keep it, never build one.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[allow(non_camel_case_types)]
pub struct fusewire_bulkhead_slot {
    /// The slot as the bulkhead encoded it (priority and epoch).
    pub raw: u64,
}

/// A bulkhead. Declare it `static` or on the stack; initialise with
/// `fusewire_bulkhead_init`.
#[repr(C, align(8))]
#[allow(non_camel_case_types)]
pub struct fusewire_bulkhead {
    _opaque: [u64; 12],
}

/// `sizeof(fusewire_bulkhead)`: 96 bytes (alignment `FUSEWIRE_OBJECT_ALIGN`).
pub const FUSEWIRE_BULKHEAD_SIZE: usize = 96;
const _: () = assert!(core::mem::size_of::<fusewire_bulkhead>() == FUSEWIRE_BULKHEAD_SIZE);
const _: () = assert!(core::mem::align_of::<fusewire_bulkhead>() == crate::FUSEWIRE_OBJECT_ALIGN);

#[repr(C)]
pub(crate) struct BulkheadObj {
    tag: u32,
    bulkhead: Bulkhead,
}

// SAFETY: repr(C), tag first; size and alignment checked below.
unsafe impl Object for BulkheadObj {
    type C = fusewire_bulkhead;
    const TAG: u32 = 0x4657_424B; // "FWBK"
    crate::boundary::intact_field!(bulkhead: Bulkhead);
}
const _: () = assert!(fits::<BulkheadObj>());

impl fusewire_bulkhead_config {
    /// Validates the config and builds a bulkhead with `new` (the
    /// single-owner or the shared form's constructor) from the limit and
    /// the two reserves; errors name the C field.
    #[inline(always)]
    pub(crate) fn build<T>(
        &self,
        new: impl FnOnce(NonZeroU32, u32, u32, TickUnit) -> ConfigResult<T>,
        with_lease: impl FnOnce(T, u64) -> ConfigResult<T>,
    ) -> Result<T, Invalid> {
        match NonZeroU32::new(self.limit) {
            None => Err(Invalid::new(
                fusewire_field::BulkheadLimit,
                fusewire_problem::Zero,
            )),
            Some(limit) => new(
                limit,
                self.reserve_critical,
                self.reserve_normal,
                TickUnit::MILLIS,
            )
            .and_then(|b| match self.lease {
                0 => Ok(b),
                lease => with_lease(b, lease),
            })
            .map_err(|e| Invalid::from_core(Scope::Bulkhead, e)),
        }
    }
}

/// An admission's answer for C: OK or BULKHEAD_FULL.
#[inline(always)]
pub(crate) fn admitted(r: Result<Slot, Full>, slot: *mut fusewire_bulkhead_slot) -> Outcome {
    match r {
        Ok(s) => {
            // SAFETY: checked non-NULL by the caller; writable by contract.
            unsafe { put(slot, fusewire_bulkhead_slot { raw: s.into_raw() }) };
            Ok(fusewire_status::Ok)
        }
        Err(_) => Err(fusewire_status::BulkheadFull),
    }
}

/// A release's answer for C: OK or NOT_HELD.
#[inline(always)]
pub(crate) fn released(r: Result<(), ReleaseError>) -> Outcome {
    match r {
        Ok(()) => Ok(fusewire_status::Ok),
        Err(ReleaseError::NotHeld) => Err(fusewire_status::NotHeld),
        Err(ReleaseError::Expired) => Err(fusewire_status::SlotExpired),
        Err(_) => Err(fusewire_status::NotHeld),
    }
}

/// A `fusewire_priority` value as the core's `Priority`; an unknown value
/// is `FUSEWIRE_STATUS_INVALID_ARGUMENT`.
#[inline(always)]
pub(crate) fn priority(p: u32) -> Result<Priority, fusewire_status> {
    match p {
        0 => Ok(Priority::Critical),
        1 => Ok(Priority::Normal),
        2 => Ok(Priority::Sheddable),
        _ => Err(fusewire_status::InvalidArgument),
    }
}

/// Initialises `*bulkhead` in place, empty, from `*config`.
///
/// Returns `FUSEWIRE_STATUS_INVALID_CONFIG` (writing `*error` if not NULL)
/// and leaves `*bulkhead` untouched if the config is bad.
///
/// Thread/ISR safety: writes `*bulkhead`; no other caller may use it meanwhile.
///
/// Pointers:
/// `bulkhead` and `config` are NULL or valid for the access; `error` is
/// NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fusewire_bulkhead_init(
    bulkhead: *mut fusewire_bulkhead,
    config: *const fusewire_bulkhead_config,
    error: *mut fusewire_config_error,
) -> fusewire_status {
    boundary(|| {
        let p = slot::<BulkheadObj>(bulkhead)?;
        // SAFETY: the caller's contract for `config`.
        let c = unsafe { borrow_in(config) }?;
        match c.build(Bulkhead::new, Bulkhead::with_lease) {
            // SAFETY: `p` checked by `slot`; writable by contract.
            Ok(b) => unsafe {
                install(
                    p,
                    BulkheadObj {
                        tag: BulkheadObj::TAG,
                        bulkhead: b,
                    },
                )
            },
            // SAFETY: the caller's contract for `error`.
            Err(e) => return unsafe { invalid(error, e) },
        }
        Ok(fusewire_status::Ok)
    })
}

/// Takes a slot at `now` for a request of `priority`:
/// `FUSEWIRE_STATUS_OK` writes `*slot`; give it back with
/// `fusewire_bulkhead_release`. `FUSEWIRE_STATUS_BULKHEAD_FULL` writes
/// nothing. Slots whose lease ran out are freed first.
///
/// Thread/ISR safety: mutates `*bulkhead` (single owner): one caller at a
/// time; guard with a critical section if an ISR shares it, or use
/// `fusewire_shared_bulkhead` (lock-free).
///
/// Pointers:
/// `bulkhead` is NULL or points to a `fusewire_bulkhead` not used
/// concurrently.
#[no_mangle]
pub unsafe extern "C" fn fusewire_bulkhead_acquire(
    bulkhead: *mut fusewire_bulkhead,
    now: fusewire_tick,
    priority: PriorityCode,
    slot: *mut fusewire_bulkhead_slot,
) -> fusewire_status {
    boundary(|| {
        // SAFETY: the caller's contract.
        let b = &mut unsafe { object::<BulkheadObj>(bulkhead) }?.bulkhead;
        let p = self::priority(priority)?;
        if slot.is_null() {
            return Err(fusewire_status::NullArgument);
        }
        admitted(b.try_acquire(p, now.ticks), slot)
    })
}

/// Gives back a slot at `now`: `FUSEWIRE_STATUS_OK`;
/// `FUSEWIRE_STATUS_NOT_HELD` (counted; nothing changes) for a slot given
/// back twice or made up; `FUSEWIRE_STATUS_SLOT_EXPIRED` (counted; nothing
/// changes) for a slot whose lease ran out, already freed.
///
/// Thread/ISR safety: as `fusewire_bulkhead_acquire`.
///
/// Pointers:
/// As `fusewire_bulkhead_acquire`.
#[no_mangle]
pub unsafe extern "C" fn fusewire_bulkhead_release(
    bulkhead: *mut fusewire_bulkhead,
    now: fusewire_tick,
    slot: fusewire_bulkhead_slot,
) -> fusewire_status {
    boundary(|| {
        // SAFETY: the caller's contract.
        let b = &mut unsafe { object::<BulkheadObj>(bulkhead) }?.bulkhead;
        released(b.release(Slot::from_raw(slot.raw), now.ticks))
    })
}

/// Slots held, and free slots a request of `priority` could take now.
/// Writes `*in_use` and `*available` (each if not NULL) on OK.
///
/// Thread/ISR safety: reads `*bulkhead`; must not race a writer.
///
/// Pointers:
/// `bulkhead` is NULL or points to a `fusewire_bulkhead`; the out-pointers
/// are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fusewire_bulkhead_usage(
    bulkhead: *const fusewire_bulkhead,
    priority: PriorityCode,
    in_use: *mut u32,
    available: *mut u32,
) -> fusewire_status {
    boundary(|| {
        // SAFETY: the caller's contract.
        let b = &unsafe { object_ref::<BulkheadObj>(bulkhead) }?.bulkhead;
        let p = self::priority(priority)?;
        // SAFETY: optional out-pointers; the caller's contract.
        unsafe {
            put(in_use, b.in_use());
            put(available, b.available_for(p));
        }
        Ok(fusewire_status::Ok)
    })
}

/// What a bulkhead counted so far, from `fusewire_bulkhead_counts`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[allow(non_camel_case_types)]
pub struct fusewire_bulkhead_counters {
    /// Releases refused as `FUSEWIRE_STATUS_NOT_HELD` (twice, or made up).
    pub extra_releases: u64,
    /// Releases refused as `FUSEWIRE_STATUS_SLOT_EXPIRED`.
    pub expired_releases: u64,
    /// Slots freed because their lease ran out.
    pub reclaimed: u64,
}

/// Frees the slots whose lease ran out by `now` (acquire and release do it
/// too) and writes how many to `*freed` (if not NULL) on OK.
///
/// Thread/ISR safety: as `fusewire_bulkhead_acquire`.
///
/// Pointers:
/// `bulkhead` as in `fusewire_bulkhead_acquire`; `freed` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fusewire_bulkhead_expire(
    bulkhead: *mut fusewire_bulkhead,
    now: fusewire_tick,
    freed: *mut u32,
) -> fusewire_status {
    boundary(|| {
        // SAFETY: the caller's contract.
        let b = &mut unsafe { object::<BulkheadObj>(bulkhead) }?.bulkhead;
        let n = b.expire(now.ticks);
        // SAFETY: optional out-pointer; the caller's contract.
        unsafe { put(freed, n) };
        Ok(fusewire_status::Ok)
    })
}

/// The refused releases and reclaimed slots so far. Writes `*counters` on
/// OK.
///
/// Thread/ISR safety: reads `*bulkhead`; must not race a writer.
///
/// Pointers:
/// `bulkhead` is NULL or points to a `fusewire_bulkhead`; `counters` is
/// NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fusewire_bulkhead_counts(
    bulkhead: *const fusewire_bulkhead,
    counters: *mut fusewire_bulkhead_counters,
) -> fusewire_status {
    boundary(|| {
        // SAFETY: the caller's contract.
        let b = &unsafe { object_ref::<BulkheadObj>(bulkhead) }?.bulkhead;
        if counters.is_null() {
            return Err(fusewire_status::NullArgument);
        }
        // SAFETY: non-NULL; the caller's contract.
        unsafe {
            put(
                counters,
                fusewire_bulkhead_counters {
                    extra_releases: b.extra_releases(),
                    expired_releases: b.expired_releases(),
                    reclaimed: b.reclaimed(),
                },
            )
        };
        Ok(fusewire_status::Ok)
    })
}
