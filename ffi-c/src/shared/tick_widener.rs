//! The lock-free tick widener.

use core::cell::UnsafeCell;

use fusewire::SharedTickWidener;

use crate::boundary::{boundary, fits, install, put, shared, slot, Object};
use crate::status::fusewire_status;
use crate::tick::fusewire_tick;

/// `fusewire_tick_widener` for a clock read from several threads, or from
/// an interrupt and the main loop: the same rule, lock-free (one
/// compare-and-swap loop), and never moving time backwards for anyone.
#[repr(C, align(8))]
#[allow(non_camel_case_types)]
pub struct fusewire_shared_tick_widener {
    _opaque: [UnsafeCell<u64>; 2],
}

/// `sizeof(fusewire_shared_tick_widener)`: 16 bytes (alignment `FUSEWIRE_OBJECT_ALIGN`).
pub const FUSEWIRE_SHARED_TICK_WIDENER_SIZE: usize = 16;
const _: () = assert!(
    core::mem::size_of::<fusewire_shared_tick_widener>() == FUSEWIRE_SHARED_TICK_WIDENER_SIZE
);
const _: () =
    assert!(core::mem::align_of::<fusewire_shared_tick_widener>() == crate::FUSEWIRE_OBJECT_ALIGN);

#[repr(C)]
pub(crate) struct SharedWidenerObj {
    tag: u32,
    widener: SharedTickWidener,
}

// SAFETY: repr(C), tag first; size and alignment checked below.
unsafe impl Object for SharedWidenerObj {
    type C = fusewire_shared_tick_widener;
    const TAG: u32 = 0x4657_5357; // "FWSW"
    /// One atomic integer: every byte pattern is a widener.
    #[inline(always)]
    fn intact(_: &impl Fn(usize) -> u8) -> bool {
        true
    }
}
const _: () = assert!(fits::<SharedWidenerObj>());

/// Initialises `*widener` in place, with no tick seen yet.
///
/// Thread/ISR safety: writes `*widener`; must happen-before every other
/// call on it.
///
/// Pointers:
/// `widener` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fusewire_shared_tick_widener_init(
    widener: *mut fusewire_shared_tick_widener,
) -> fusewire_status {
    boundary(|| {
        let p = slot::<SharedWidenerObj>(widener)?;
        // SAFETY: `p` checked by `slot`; writable by contract.
        unsafe {
            install(
                p,
                SharedWidenerObj {
                    tag: SharedWidenerObj::TAG,
                    widener: SharedTickWidener::new(),
                },
            )
        };
        Ok(fusewire_status::Ok)
    })
}

/// As `fusewire_tick_widener_widen`, from any thread or interrupt.
///
/// Thread/ISR safety: lock-free; any thread or interrupt handler,
/// concurrently with any call on the same widener except its init.
///
/// Pointers:
/// `widener` is NULL or points to an initialised
/// `fusewire_shared_tick_widener`; `now` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fusewire_shared_tick_widener_widen(
    widener: *const fusewire_shared_tick_widener,
    raw: u32,
    now: *mut fusewire_tick,
) -> fusewire_status {
    boundary(|| {
        // SAFETY: the caller's contract.
        let w = &unsafe { shared::<SharedWidenerObj>(widener) }?.widener;
        if now.is_null() {
            return Err(fusewire_status::NullArgument);
        }
        let ticks = w.widen(raw);
        // SAFETY: non-NULL; the caller's contract.
        unsafe { put(now, fusewire_tick { ticks }) };
        Ok(fusewire_status::Ok)
    })
}
