//! # fusewire: a resilience engine that never allocates, blocks or panics
//!
//! What this crate guarantees, on every target including bare metal:
//!
//! - **No allocation.** `#![no_std]` without `alloc`; every type has a size
//!   fixed at compile time (windows take their capacity as a const generic).
//! - **No clock, no sleep, no I/O.** Time comes in as a `now: u64` tick count
//!   on every call (see [`clock`] for the unit rule); the crate answers with
//!   decisions such as "retry after 250 ticks" and the host does the waiting.
//! - **No callbacks.** State changes come back in return values
//!   ([`Transition`]), so a host can emit events in its own way.
//! - **No panics.** Configs are validated once, at construction, into typed
//!   [`ConfigError`]s naming the field; after that, every input — including
//!   `now` going backwards or jumping to `u64::MAX` — has a defined answer.
//! - **Reproducible randomness.** Jitter comes from a seeded [`Rng`].
//!
//! ```
//! use fusewire::{Breaker, BreakerConfig, CountWindow, Outcome, TickUnit};
//!
//! // Open when half of the last 10 calls failed (at least 4 calls seen),
//! // stay open one second (1000 millisecond ticks), then let one probe through.
//! let config = BreakerConfig { min_calls: 4, ..BreakerConfig::new(TickUnit::MILLIS) };
//! let mut breaker: Breaker<CountWindow<10>> = Breaker::new(config).unwrap();
//!
//! let mut now = 0;
//! for _ in 0..4 {
//!     let permit = breaker.try_acquire(now).unwrap();
//!     breaker.record(permit, Outcome::Failure, 5, now);
//!     now += 10;
//! }
//! let rejected = breaker.try_acquire(now).unwrap_err();
//! assert_eq!(rejected.retry_after, 990);
//! assert!(breaker.try_acquire(now + 990).is_ok()); // the half-open probe
//! ```
#![cfg_attr(not(any(test, feature = "std")), no_std)]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod backoff;
pub mod breaker;
pub mod bucket;
pub mod budget;
pub mod bulkhead;
pub mod chaos;
pub mod clock;
mod div;
pub mod error;
pub mod histogram;
pub mod intact;
pub mod lite;
pub mod pool;
pub mod ratio;
pub mod retry;
pub mod rng;
#[cfg(any(
    target_has_atomic = "64",
    feature = "critical-section",
    portable_atomic_unsafe_assume_single_core,
    loom
))]
pub mod shared;
#[cfg(test)]
mod testing;
pub mod unit;
pub mod window;

pub use backoff::{Backoff, Jitter, Schedule};
pub use breaker::{
    Breaker, BreakerConfig, Comparison, DwellExpiry, HalfOpenRule, Outcome, Permit, RateBasis,
    Reason, Rejected, Rules, Snapshot, State, Transition,
};
pub use bucket::{Bucket, Denied, Rate, Refused};
pub use budget::{Budget, Throttled};
pub use bulkhead::{Bulkhead, Full, Priority, ReleaseError, Slot};
pub use chaos::{Chaos, ChaosConfig, ChaosOutcome, Injection};
pub use clock::{Clock, ManualClock, TickWidener};
pub use error::{ConfigError, ConfigResult, Field, Problem};
pub use histogram::Histogram;
pub use pool::{
    CallResult, EjectReason, EndpointStats, Pick, Pool, PoolConfig, PoolEvent, PoolEvents,
};
pub use ratio::Ratio;
pub use retry::{Decision, GiveUpReason, RemoteBudget, Retry, RetryBudget, RetryPolicy};
pub use rng::Rng;
#[cfg(any(
    target_has_atomic = "64",
    feature = "critical-section",
    portable_atomic_unsafe_assume_single_core,
    loom
))]
pub use shared::{
    SharedBreaker, SharedBreakerOver, SharedBucket, SharedBudget, SharedBulkhead, SharedChaos,
    SharedCountWindow, SharedTickWidener, SharedTimeBreaker, SharedTimeWindow, SharedWindow,
};
pub use unit::TickUnit;
pub use window::{
    BitWindow, CountRing, CountWindow, Counts, Plane, Rolling, Sliding, Tally, TimeCounts,
    TimeWindow, Window,
};
