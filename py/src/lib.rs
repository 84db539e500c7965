//! `fusewire._native`: the Python door of the fusewire core.
//!
//! Thin by design: every rule lives in the core crate; this module turns
//! seconds into nanosecond ticks, Python exceptions into outcomes and core
//! denials into Python exceptions (defined in `fusewire/_errors.py`). Each
//! core value sits in a `Mutex` held only for the core call itself, never
//! while Python code runs, so a user's function never runs under a lock.

mod backoff;
mod blocks;
mod breaker;
mod bucket;
mod bulkhead;
mod chaos;
mod clock;
mod deferred;
mod errors;
mod guarded;
mod host;
mod int;
mod matcher;
mod pool;
mod redis;
mod retry;
mod store;
mod window;

use pyo3::prelude::*;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    clock::init(m.py())?;
    m.add_class::<backoff::Backoff>()?;
    m.add_class::<breaker::Breaker>()?;
    m.add_class::<breaker::CallPermit>()?;
    m.add_class::<bucket::TokenBucket>()?;
    m.add_class::<bulkhead::Bulkhead>()?;
    m.add_class::<bulkhead::HeldSlot>()?;
    m.add_class::<retry::RetryBudget>()?;
    m.add_class::<retry::Retrying>()?;
    m.add_class::<retry::RetryRun>()?;
    m.add_class::<retry::RetryState>()?;
    m.add_class::<guarded::Guarded>()?;
    m.add_class::<chaos::Chaos>()?;
    m.add_class::<pool::Pool>()?;
    m.add_class::<pool::PoolPick>()?;
    m.add_class::<clock::TickWidener>()?;
    m.add_class::<host::HostStore>()?;
    m.add_class::<host::HostBucket>()?;
    m.add_class::<host::HostBulkhead>()?;
    m.add_class::<host::HostBudget>()?;
    m.add_class::<host::HostBreaker>()?;
    m.add_function(wrap_pyfunction!(clock::monotonic_ns, m)?)?;
    m.add_function(wrap_pyfunction!(redis::redis_scripts, m)?)?;
    m.add_function(wrap_pyfunction!(redis::redis_fingerprint, m)?)?;
    m.add_function(wrap_pyfunction!(redis::rng_next, m)?)?;
    Ok(())
}
