//! The tick widener: firmware's wrapping 32-bit millisecond tick
//! (`HAL_GetTick`, a SysTick counter) as the 64-bit `fusewire_tick` every
//! other call takes. The rule is the core's (`fusewire::TickWidener`).

use fusewire::TickWidener;

use crate::boundary::{boundary, fits, install, object, put, slot, Object};
use crate::status::fusewire_status;
use crate::tick::fusewire_tick;

/// Turns a wrapping 32-bit tick into the 64-bit `fusewire_tick` the other
/// calls take. Call it at least once per wrap period (49.7 days at 1 kHz):
/// a reading ahead of the newest by less than 2^31 moves time forward, the
/// wrap included; any other reading (an older, stale tick) returns the
/// newest time. The first reading is taken as is. 16 bytes.
///
/// One widener per clock, shared by every object that reads that clock;
/// single owner (for an ISR and the main loop together, use
/// `fusewire_shared_tick_widener` from fusewire_shared.h).
#[repr(C, align(8))]
#[allow(non_camel_case_types)]
pub struct fusewire_tick_widener {
    _opaque: [u64; 2],
}

/// `sizeof(fusewire_tick_widener)`: 16 bytes (alignment `FUSEWIRE_OBJECT_ALIGN`).
pub const FUSEWIRE_TICK_WIDENER_SIZE: usize = 16;
const _: () = assert!(core::mem::size_of::<fusewire_tick_widener>() == FUSEWIRE_TICK_WIDENER_SIZE);
const _: () =
    assert!(core::mem::align_of::<fusewire_tick_widener>() == crate::FUSEWIRE_OBJECT_ALIGN);

#[repr(C)]
pub(crate) struct WidenerObj {
    tag: u32,
    widener: TickWidener,
}

// SAFETY: repr(C), tag first; size and alignment checked below.
unsafe impl Object for WidenerObj {
    type C = fusewire_tick_widener;
    const TAG: u32 = 0x4657_5457; // "FWTW"
    /// Plain integers only: every byte pattern is a widener.
    #[inline(always)]
    fn intact(_: &impl Fn(usize) -> u8) -> bool {
        true
    }
}
const _: () = assert!(fits::<WidenerObj>());

/// Initialises `*widener` in place, with no tick seen yet.
///
/// Thread/ISR safety: writes `*widener`; no other caller may use it meanwhile.
///
/// Pointers:
/// `widener` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fusewire_tick_widener_init(
    widener: *mut fusewire_tick_widener,
) -> fusewire_status {
    boundary(|| {
        let p = slot::<WidenerObj>(widener)?;
        // SAFETY: `p` checked by `slot`; writable by contract.
        unsafe {
            install(
                p,
                WidenerObj {
                    tag: WidenerObj::TAG,
                    widener: TickWidener::new(),
                },
            )
        };
        Ok(fusewire_status::Ok)
    })
}

/// Widens the raw 32-bit tick `raw` and writes the time to `*now` on
/// `FUSEWIRE_STATUS_OK`:
/// `fusewire_tick_widener_widen(&clock, HAL_GetTick(), &now)`.
///
/// Thread/ISR safety: mutates `*widener` (single owner).
///
/// Pointers:
/// `widener` is NULL or points to a `fusewire_tick_widener`; `now` is NULL
/// or writable.
#[no_mangle]
pub unsafe extern "C" fn fusewire_tick_widener_widen(
    widener: *mut fusewire_tick_widener,
    raw: u32,
    now: *mut fusewire_tick,
) -> fusewire_status {
    boundary(|| {
        // SAFETY: the caller's contract.
        let w = &mut unsafe { object::<WidenerObj>(widener) }?.widener;
        if now.is_null() {
            return Err(fusewire_status::NullArgument);
        }
        let ticks = w.widen(raw);
        // SAFETY: non-NULL; the caller's contract.
        unsafe { put(now, fusewire_tick { ticks }) };
        Ok(fusewire_status::Ok)
    })
}
