//! The core's lock-free shared forms (`fusewire::shared`) for C: one object
//! called from several threads, or from an interrupt and the main loop,
//! without a lock.
//!
//! Each form takes the single-owner form's config, returns the same status
//! codes and writes the same outputs; the C conversions (configs, outcomes,
//! transitions, stats) are the single-owner modules' own. The functions take
//! a `const` pointer: they go through the core's `&self`, whose state is
//! atomics.
//!
//! Thread/ISR rules, for every `fusewire_shared_*` function but init:
//! lock-free (atomic loads, adds and compare-and-swap loops that retry only
//! when another caller made progress; no lock, no spin-wait, no allocation),
//! so callable from any thread or interrupt handler concurrently with any
//! other call on the same object. Init is not: it must finish, and be
//! published (thread creation, a mutex, a release store, or enabling the
//! interrupt afterwards), before any other call on that object.
//!
//! Targets without native 64-bit atomics (Cortex-M, 32-bit RISC-V) build
//! these functions only for single-core parts, as `core/src/shared/mod.rs`
//! describes ("Targets without 64-bit atomics"): there each atomic
//! operation masks interrupts for a few instructions (thumbv7em:
//! `RUSTFLAGS="--cfg portable_atomic_unsafe_assume_single_core"` with this
//! crate's `single-core` feature; thumbv6m and riscv32imc: the
//! `critical-section` feature and one critical-section implementation
//! linked). Without either, the library has no `fusewire_shared_*` symbols.

mod breaker;
mod bucket;
mod budget;
mod bulkhead;
mod tick_widener;

pub use breaker::*;
pub use bucket::*;
pub use budget::*;
pub use bulkhead::*;
pub use tick_widener::*;
