//! The two values that must never be swapped with a plain number: the
//! current tick (`now`) and a breaker permit. Each is a one-field struct,
//! so C passes it exactly as the `uint64_t` inside (same registers, same
//! stack slot on every ABI the door targets) but a compiler refuses a
//! duration, a count or a literal where one is expected.

/// The current time in the caller's ticks, as every call that reads time
/// takes it: always the argument right after the object. Build one with
/// `fusewire_tick_of(ticks)` (or `{ ticks }` in C). Durations (`duration`,
/// `retry_after`, config fields) stay plain `uint64_t` tick counts.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[allow(non_camel_case_types)]
pub struct fusewire_tick {
    /// Ticks since any origin the caller keeps fixed (boot, an epoch).
    pub ticks: u64,
}

/// Leave to make one call: hand it back exactly once, to the breaker's
/// `_record` or `_release`. `raw` is opaque: keep it, never build one.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[allow(non_camel_case_types)]
pub struct fusewire_permit {
    /// The permit as the breaker encoded it.
    pub raw: u64,
}

/// Short forms for the Rust tests, which call the functions as C does.
#[cfg(test)]
pub(crate) mod testing {
    use super::{fusewire_permit, fusewire_tick};

    /// `fusewire_tick_of`.
    pub(crate) fn tick(ticks: u64) -> fusewire_tick {
        fusewire_tick { ticks }
    }

    /// A permit from its raw value or itself.
    pub(crate) trait AsPermit {
        fn permit(self) -> fusewire_permit;
    }
    impl AsPermit for u64 {
        fn permit(self) -> fusewire_permit {
            fusewire_permit { raw: self }
        }
    }
    impl AsPermit for fusewire_permit {
        fn permit(self) -> fusewire_permit {
            self
        }
    }

    /// A permit argument.
    pub(crate) fn pm(p: impl AsPermit) -> fusewire_permit {
        p.permit()
    }

    /// A `u64` as the permit out-parameter (same layout: one `u64`).
    pub(crate) fn pout(p: &mut u64) -> *mut fusewire_permit {
        (p as *mut u64).cast()
    }
}
