//! The native engine behind the npm package `fusewire`.
//!
//! The JavaScript layer (`lib/*.js`) keeps opossum's API; everything that
//! decides or counts lives here, on the core's [`Breaker`](fusewire::Breaker)
//! and [`Rolling`](fusewire::Rolling) window. Crossing into Rust costs about
//! as much as the rest of a call, so the two sides talk through one
//! `Float64Array` (`io`), shared by every breaker of the process:
//!
//! - JavaScript appends *records* (what happened, when, how long, in which
//!   permit slot) to `io[RECORDS..]` without calling into Rust. A successful
//!   call in the closed state is two records (its start and its outcome) and
//!   no crossing.
//! - Every method first drains those records in order (so the core sees every
//!   call start and outcome at the time it happened), then does its own work,
//!   and writes the state, generation and the transitions it caused into
//!   `io[..RECORDS]`. The layout is [`io_layout`], which JavaScript reads.
//!
//! Nothing here panics: bad numbers from JavaScript saturate, unknown record
//! codes are skipped, and configuration problems come back as JS errors.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod backoff;
mod cockatiel;
mod direct;
mod engine;
// The host tier (shared memory) is not in the WebAssembly build (issue #20).
#[cfg(not(target_family = "wasm"))]
mod host;
mod mesh;
mod policies;
mod redis;
mod ring;
mod store;
mod tally;
#[cfg(target_family = "wasm")]
mod wasm;

pub use direct::{core_backoff, core_breaker, core_budget, CoreBackoff, CoreBreaker, CoreBudget};
pub use engine::{io_layout, Engine};
pub use mesh::{
    core_chaos, core_pool, pool_capacity, pool_failover, pool_max_ejected, pool_pick, pool_poll,
    pool_record, pool_release, pool_stats, CoreChaos, CorePool,
};
pub use policies::{Bulkhead, RetrySchedule, TickWidener, TokenBucket};

use napi_derive::napi;

/// The crate version, checked against package.json by the tests.
#[napi]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

/// A JS number of milliseconds as ticks: negative and NaN become 0, huge values saturate.
pub(crate) fn ticks(v: f64) -> u64 {
    if v.is_nan() || v <= 0.0 {
        0
    } else if v >= u64::MAX as f64 {
        u64::MAX
    } else {
        v as u64
    }
}

pub(crate) fn config_error(what: &str, e: fusewire::ConfigError) -> napi::Error {
    napi::Error::new(
        napi::Status::InvalidArg,
        format!("fusewire: invalid {what}: `{}` {}", e.field, e.reason()),
    )
}
