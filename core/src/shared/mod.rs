//! Lock-free shared forms: the same policies, callable through `&self` from
//! many threads (or an interrupt and the main loop) at once.
//!
//! | single owner (`&mut self`) | shared (`&self`, `Sync`) | state that changes          |
//! |----------------------------|--------------------------|-----------------------------|
//! | [`Breaker`](crate::Breaker) over a [`CountWindow`](crate::CountWindow) | [`SharedBreaker`] | one state word + atomic counters |
//! | [`Bucket`](crate::Bucket)  | [`SharedBucket`]         | one `u64` (GCRA arrival time) |
//! | [`Budget`](crate::Budget)  | [`SharedBudget`]         | one `u64` token count         |
//! | [`Bulkhead`](crate::Bulkhead) | [`SharedBulkhead`]    | four `u32` slot counts        |
//! | [`TickWidener`](crate::TickWidener) | [`SharedTickWidener`] | one `u64` (the newest widened tick) |
//!
//! They take the same configs, return the same values ([`Permit`](crate::Permit),
//! [`Transition`](crate::Transition), [`Denied`](crate::Denied), ...) and follow
//! the same rules; `core/tests/shared_scenarios.rs` runs one set of scenarios
//! against both forms and requires identical answers.
//!
//! # What "lock-free" means here
//!
//! Atomics only: loads, adds and compare-and-swap loops that retry only
//! when another thread made progress. No mutex, no spin-lock, no
//! allocation, no `unsafe`. A refused request (a denied token, an open
//! breaker's rejection aside from its counter) writes nothing, and the
//! closed breaker's admission is a single load.
//!
//! # Targets without 64-bit atomics
//!
//! The state words are 64-bit. On targets with native 64-bit atomics
//! (x86-64, AArch64, RISC-V 64, ...) this module is always there. Without
//! them it is compiled only when portable-atomic can emulate them without
//! a lock, on single-core parts:
//!
//! - no atomic CAS at all (`thumbv6m-none-eabi`, `riscv32imc-unknown-none-elf`):
//!   the crate feature **`critical-section`**. Each atomic operation runs in
//!   a `critical_section::with` block (a few instructions with interrupts
//!   masked); the firmware links one critical-section implementation, for
//!   example the `cortex-m` crate's `critical-section-single-core` feature.
//! - 32-bit CAS but no 64-bit atomics (`thumbv7em-none-eabihf`):
//!   `RUSTFLAGS="--cfg portable_atomic_unsafe_assume_single_core"` with
//!   `--features portable-atomic/fallback` (interrupt masking, no extra crate). Do not use the `critical-section`
//!   feature there: portable-atomic would pick its seqlock fallback, which
//!   is a lock an interrupt handler could spin on.
//!
//! Both are correct only on single-core parts. `make embedded` builds both.
//!
//! # Layout guarantees (for memory shared between processes)
//!
//! Every shared type is `#[repr(C)]`, holds no pointers and no references,
//! and has a size fixed at compile time; each is valid to place in memory
//! that several processes map, **provided every process runs the same build**
//! (same fusewire version, compiler, target and features) and the memory is
//! initialised once by constructing the value there. Field order and sizes
//! are documented on each type but are not a stable ABI across versions.
//! The atomics are address-free (lock-free hardware instructions) on
//! targets with native 64-bit atomics; under the `critical-section`
//! fallback they are not, and sharing between processes is not supported.
//!
//! One more caveat for processes that can die mid-call: a breaker
//! transition is one compare-and-swap followed by a few stores (the open
//! deadline) and a publication. A process killed between the two leaves the
//! breaker in the new state without its deadline; automatic transitions then
//! wait. [`SharedBreaker::pending`] tells a caller which transition is half
//! made and [`SharedBreaker::repair`] completes it; a host call
//! ([`SharedBreaker::close`], [`SharedBreaker::reset`]) also moves on. The
//! host tier (`fusewire-store`) repairs a transition pending for a second.

mod breaker;
mod bucket;
mod budget;
mod bulkhead;
mod chaos;
mod tick;

pub use breaker::SharedBreaker;
pub use bucket::SharedBucket;
pub use budget::SharedBudget;
pub use bulkhead::SharedBulkhead;
pub use chaos::SharedChaos;
pub use tick::SharedTickWidener;

/// The atomic types, swapped for loom's under `cfg(loom)` so the model
/// checker sees every access.
mod atomic {
    #[cfg(loom)]
    pub(crate) use loom::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, Ordering};
    #[cfg(not(loom))]
    pub(crate) use portable_atomic::{AtomicU32, AtomicU64, AtomicU8, Ordering};
}
