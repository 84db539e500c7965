//! The shared bulkhead: `fusewire::SharedBulkhead` (per-priority
//! concurrency limits in atomic counts).

use core::cell::UnsafeCell;

use fusewire::{SharedBulkhead, Slot};

use crate::boundary::{borrow_in, boundary, fits, install, invalid, put, shared, slot, Object};
use crate::bulkhead::PriorityCode;
use crate::bulkhead::{
    admitted, fusewire_bulkhead_config, fusewire_bulkhead_slot, priority, released,
};
use crate::status::{fusewire_config_error, fusewire_status};
use crate::tick::fusewire_tick;

/// A bulkhead that several threads, or an interrupt and the main loop,
/// share without a lock: the admission rule, reserves and release checks
/// of `fusewire_bulkhead`, with the slot counts in atomics. Slots held
/// never exceed the limit (nor a priority's share) however many callers
/// race.
///
/// Declare it `static` (or in memory that outlives every user) and
/// initialise it with `fusewire_shared_bulkhead_init` before sharing it.
/// Every other `fusewire_shared_bulkhead_*` call is lock-free and may run
/// from any thread or interrupt handler at the same time as the others.
/// Targets without native 64-bit atomics have these functions only in a
/// single-core build (see the README). Do not copy an initialised bulkhead.
#[repr(C, align(8))]
#[allow(non_camel_case_types)]
pub struct fusewire_shared_bulkhead {
    _opaque: [UnsafeCell<u64>; 15],
}

/// `sizeof(fusewire_shared_bulkhead)`: 120 bytes (alignment `FUSEWIRE_OBJECT_ALIGN`).
pub const FUSEWIRE_SHARED_BULKHEAD_SIZE: usize = 120;
const _: () =
    assert!(core::mem::size_of::<fusewire_shared_bulkhead>() == FUSEWIRE_SHARED_BULKHEAD_SIZE);
const _: () =
    assert!(core::mem::align_of::<fusewire_shared_bulkhead>() == crate::FUSEWIRE_OBJECT_ALIGN);

#[repr(C)]
pub(crate) struct SharedBulkheadObj {
    tag: u32,
    bulkhead: SharedBulkhead,
}

// SAFETY: repr(C), tag first; size and alignment checked below.
unsafe impl Object for SharedBulkheadObj {
    type C = fusewire_shared_bulkhead;
    const TAG: u32 = 0x4657_534B; // "FWSK"
    crate::boundary::intact_field!(bulkhead: SharedBulkhead);
}
const _: () = assert!(fits::<SharedBulkheadObj>());

/// The initialised shared bulkhead behind a C pointer.
unsafe fn bulkhead<'a>(
    p: *const fusewire_shared_bulkhead,
) -> Result<&'a SharedBulkhead, fusewire_status> {
    // SAFETY: forwarded contract.
    unsafe { shared::<SharedBulkheadObj>(p) }.map(|o| &o.bulkhead)
}

/// Initialises `*bulkhead` in place, empty, from `*config`.
///
/// Returns `FUSEWIRE_STATUS_INVALID_CONFIG` (writing `*error` if not NULL)
/// and leaves `*bulkhead` untouched if the config is bad.
///
/// Thread/ISR safety: not concurrent. Writes `*bulkhead`; no other call on
/// it may run meanwhile, and init must happen-before every other call on it
/// (initialise before starting the threads or enabling the interrupt that
/// share it).
///
/// Pointers:
/// `bulkhead` and `config` are NULL or valid for the access; `error` is
/// NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fusewire_shared_bulkhead_init(
    bulkhead: *mut fusewire_shared_bulkhead,
    config: *const fusewire_bulkhead_config,
    error: *mut fusewire_config_error,
) -> fusewire_status {
    boundary(|| {
        let p = slot::<SharedBulkheadObj>(bulkhead)?;
        // SAFETY: the caller's contract for `config`.
        let c = unsafe { borrow_in(config) }?;
        match c.build(SharedBulkhead::new, SharedBulkhead::with_lease) {
            // SAFETY: `p` checked by `slot`; writable by contract.
            Ok(b) => unsafe {
                install(
                    p,
                    SharedBulkheadObj {
                        tag: SharedBulkheadObj::TAG,
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

/// Takes a slot at `now` for a request of `priority`: `FUSEWIRE_STATUS_OK`
/// writes `*slot`; `FUSEWIRE_STATUS_BULKHEAD_FULL` writes nothing. Give the
/// slot back with `fusewire_shared_bulkhead_release`, from any thread.
///
/// Thread/ISR safety: lock-free (one compare-and-swap loop); any thread or
/// interrupt handler, concurrently with any call on the same bulkhead
/// except its init.
///
/// Pointers:
/// `bulkhead` is NULL or points to a `fusewire_shared_bulkhead` initialised
/// before this call.
#[no_mangle]
pub unsafe extern "C" fn fusewire_shared_bulkhead_acquire(
    bulkhead: *const fusewire_shared_bulkhead,
    now: fusewire_tick,
    priority: PriorityCode,
    slot: *mut fusewire_bulkhead_slot,
) -> fusewire_status {
    boundary(|| {
        // SAFETY: the caller's contract.
        let b = unsafe { self::bulkhead(bulkhead) }?;
        let p = self::priority(priority)?;
        if slot.is_null() {
            return Err(fusewire_status::NullArgument);
        }
        admitted(b.try_acquire(p, now.ticks), slot)
    })
}

/// Gives back a slot at `now`, as `fusewire_bulkhead_release`:
/// `FUSEWIRE_STATUS_OK`, `FUSEWIRE_STATUS_NOT_HELD` (given back twice or
/// made up) or `FUSEWIRE_STATUS_SLOT_EXPIRED` (its lease ran out; already
/// freed); the last two are counted and change nothing.
///
/// Thread/ISR safety: lock-free (two compare-and-swap loops); any thread
/// or interrupt handler, concurrently with any call on the same bulkhead
/// except its init.
///
/// Pointers:
/// As `fusewire_shared_bulkhead_acquire`.
#[no_mangle]
pub unsafe extern "C" fn fusewire_shared_bulkhead_release(
    bulkhead: *const fusewire_shared_bulkhead,
    now: fusewire_tick,
    slot: fusewire_bulkhead_slot,
) -> fusewire_status {
    boundary(|| {
        // SAFETY: the caller's contract.
        let b = unsafe { self::bulkhead(bulkhead) }?;
        released(b.release(Slot::from_raw(slot.raw), now.ticks))
    })
}

/// Slots held, and free slots a request of `priority` could take now.
/// Writes `*in_use` and `*available` (each if not NULL) on OK.
///
/// Thread/ISR safety: lock-free (atomic loads); any thread or interrupt
/// handler, concurrently with any call on the same bulkhead except its
/// init. A racing call may change the counts the moment after.
///
/// Pointers:
/// `bulkhead` is NULL or points to a `fusewire_shared_bulkhead`
/// initialised before this call; the out-pointers are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fusewire_shared_bulkhead_usage(
    bulkhead: *const fusewire_shared_bulkhead,
    priority: PriorityCode,
    in_use: *mut u32,
    available: *mut u32,
) -> fusewire_status {
    boundary(|| {
        // SAFETY: the caller's contract.
        let b = unsafe { self::bulkhead(bulkhead) }?;
        let p = self::priority(priority)?;
        // SAFETY: optional out-pointers; the caller's contract.
        unsafe {
            put(in_use, b.in_use());
            put(available, b.available_for(p));
        }
        Ok(fusewire_status::Ok)
    })
}
