//! # fusewire-ffi: the C door of fusewire
//!
//! `libfusewire.a` / `libfusewire.so` and `include/fusewire.h`. Every object
//! is a caller-owned struct of known size (an array of `uint64_t`, so
//! 8-byte aligned) initialised in place from a config struct; nothing
//! allocates. Every function returns a [`fusewire_status`]; `now` is the
//! caller's tick count and one `now` serves every object.
//!
//! `fusewire_<noun>` objects are the core's single-owner forms: one caller
//! at a time per object. `fusewire_shared_<noun>` objects ([`shared`]) are
//! its lock-free shared forms: any thread or interrupt, concurrently. Each
//! function's doc states what it reads and writes, and so whether it may
//! run from an interrupt. See `README.md` for the conventions.
#![cfg_attr(not(any(test, feature = "std")), no_std)]
#![deny(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]
// The exported functions' docs are the C header's: their pointer contract
// is a "Pointers:" paragraph written for C readers, not a Rust "Safety"
// heading (internal unsafe helpers keep theirs).
#![allow(clippy::missing_safety_doc)]

mod boundary;
#[cfg(feature = "critical-section")]
mod irq;

/// The alignment of every object struct (`fusewire_breaker`, ...): 8 bytes
/// on every target, 32-bit ones included.
pub const FUSEWIRE_OBJECT_ALIGN: usize = 8;

pub mod backoff;
pub mod breaker;
pub mod bucket;
pub mod budget;
pub mod bulkhead;
pub mod chaos;
pub mod lite;
pub mod pool;
pub mod retry;
#[cfg(any(
    target_has_atomic = "64",
    feature = "critical-section",
    portable_atomic_unsafe_assume_single_core
))]
pub mod shared;
pub mod status;
pub mod tick;
pub mod tick_widener;
pub mod timed_breaker;

pub use backoff::*;
pub use breaker::*;
pub use bucket::*;
pub use budget::*;
pub use bulkhead::*;
pub use chaos::*;
pub use lite::*;
pub use pool::*;
pub use retry::*;
#[cfg(any(
    target_has_atomic = "64",
    feature = "critical-section",
    portable_atomic_unsafe_assume_single_core
))]
pub use shared::*;
pub use status::*;
#[cfg(test)]
pub(crate) use tick::testing::*;
pub use tick::*;
pub use tick_widener::*;
pub use timed_breaker::*;

/// The shipped libraries (host and firmware) are `no_std`: a panic cannot
/// happen (see `boundary.rs`), and if it did, the process stops at once:
/// `abort()` from the C library on hosts, a `udf` trap (HardFault) on Arm.
/// The handler ignores its argument, so no `core::fmt` code is reachable
/// from it and the linker drops all of it.
#[cfg(all(not(test), not(feature = "std"), feature = "panic-handler"))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    #[cfg(target_arch = "arm")]
    // SAFETY: `udf` raises a fault; it touches no memory.
    unsafe {
        core::arch::asm!("udf #0", options(noreturn))
    }
    #[cfg(all(not(target_arch = "arm"), target_os = "none"))]
    loop {
        core::hint::spin_loop();
    }
    #[cfg(all(not(target_arch = "arm"), not(target_os = "none")))]
    {
        extern "C" {
            fn abort() -> !;
        }
        // SAFETY: C's abort() takes nothing and never returns.
        unsafe { abort() }
    }
}

/// The host shared library is `no_std` with `panic = "abort"`, but the
/// precompiled `core` it links still names the unwinding personality
/// routine; nothing unwinds, so an empty one satisfies the linker (the
/// static library keeps only the `fusewire_*` symbols global).
#[cfg(all(
    not(test),
    not(feature = "std"),
    feature = "panic-handler",
    not(target_os = "none")
))]
#[no_mangle]
extern "C" fn rust_eh_personality() {}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_corrupt;
#[cfg(test)]
mod tests_mesh;
#[cfg(all(test, target_has_atomic = "64"))]
mod tests_shared;
