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

mod boundary;

pub mod backoff;
pub mod breaker;
pub mod bucket;
pub mod budget;
pub mod bulkhead;
pub mod retry;
#[cfg(any(
    target_has_atomic = "64",
    feature = "critical-section",
    portable_atomic_unsafe_assume_single_core
))]
pub mod shared;
pub mod status;
pub mod timed_breaker;

pub use backoff::*;
pub use breaker::*;
pub use bucket::*;
pub use budget::*;
pub use bulkhead::*;
pub use retry::*;
#[cfg(any(
    target_has_atomic = "64",
    feature = "critical-section",
    portable_atomic_unsafe_assume_single_core
))]
pub use shared::*;
pub use status::*;
pub use timed_breaker::*;

/// Firmware builds: a panic cannot happen (see `boundary.rs`), and if it
/// did, trap at once. The handler ignores its argument, so no `core::fmt`
/// code is reachable from it and the linker drops all of it.
#[cfg(all(not(test), not(feature = "std"), feature = "panic-handler"))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    #[cfg(target_arch = "arm")]
    // SAFETY: `udf` raises a fault; it touches no memory.
    unsafe {
        core::arch::asm!("udf #0", options(noreturn))
    }
    #[cfg(not(target_arch = "arm"))]
    loop {
        core::hint::spin_loop();
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_corrupt;
#[cfg(all(test, target_has_atomic = "64"))]
mod tests_shared;
