//! Single-core parts without atomic compare-and-swap (Cortex-M0/M0+,
//! thumbv6m): the shared forms run each atomic operation with interrupts
//! masked, through two hooks the C firmware supplies:
//!
//! ```c
//! uint32_t fusewire_irq_save(void);           /* mask, return the mask before */
//! void fusewire_irq_restore(uint32_t state);  /* put that mask back */
//! ```
//!
//! They nest: `save` returns whether interrupts were already masked and
//! `restore` puts exactly that state back (it never unmasks
//! unconditionally), so a shared object used inside the firmware's own
//! critical section, or from an interrupt handler, keeps interrupts masked
//! until the outermost section ends. For Cortex-M (CMSIS):
//!
//! ```c
//! uint32_t fusewire_irq_save(void) { uint32_t m = __get_PRIMASK(); __disable_irq(); return m; }
//! void fusewire_irq_restore(uint32_t m) { __set_PRIMASK(m); }
//! ```
//!
//! `examples/cortex_m0_irq.c` is that pair without CMSIS, linked against
//! the thumbv6m library by `make embedded`.

extern "C" {
    /// Masks interrupts and returns the mask state before (the C firmware's).
    fn fusewire_irq_save() -> u32;
    /// Restores the mask state `fusewire_irq_save` returned.
    fn fusewire_irq_restore(state: u32);
}

/// critical-section's implementation over the C hooks.
struct CHooks;
critical_section::set_impl!(CHooks);

// SAFETY: the hooks mask and restore interrupts on a single-core part, so
// what runs between them is not preempted; `release` gets exactly the
// state `acquire` returned, which is what makes nesting sound.
unsafe impl critical_section::Impl for CHooks {
    unsafe fn acquire() -> u32 {
        // SAFETY: the firmware's hook, as documented above.
        unsafe { fusewire_irq_save() }
    }

    unsafe fn release(state: u32) {
        // SAFETY: as above; `state` came from `acquire`.
        unsafe { fusewire_irq_restore(state) }
    }
}
