//! The one native call `fusewire/cockatiel`'s breakers make per outcome
//! (`lib/cockatiel.js`): cockatiel's `IBreaker` asks "count this
//! success or failure; did it trip?", so admission, the permit and the
//! record are one crossing here instead of three through `tryAcquire` /
//! `record` (an object and a string each way), and the successes of one
//! millisecond are one crossing. The decision is the core's
//! [`Breaker`](fusewire::Breaker) as configured by `coreBreaker`.

use fusewire::Outcome;
use napi_derive::napi;

use crate::direct::CoreBreaker;
use crate::ticks;

/// [`CoreBreaker::count`]'s answer: counted, the breaker stayed closed.
const COUNTED: u32 = 0;
/// Counted, and the breaker opened on it.
const TRIPPED: u32 = 1;
/// Not counted: the breaker was not closed (the caller resets it first).
const NOT_CLOSED: u32 = 2;

#[napi]
impl CoreBreaker {
    /// Counts one call's outcome at `now` (ms): a failure when `failure`,
    /// else a success; `untripped` counts it without letting it trip (a
    /// restored state). Returns 0 (counted), 1 (counted and tripped) or 2
    /// (the breaker was not closed, nothing counted).
    #[napi]
    pub fn count(&mut self, failure: bool, untripped: bool, now: f64) -> u32 {
        let now = ticks(now);
        let Ok(permit) = self.inner.try_acquire(now) else {
            return NOT_CLOSED;
        };
        if permit.is_probe() {
            // Half-open on its own clock: hand the probe back, count nothing.
            let _ = self.inner.release(permit, now);
            return NOT_CLOSED;
        }
        let outcome = if failure {
            Outcome::Failure
        } else {
            Outcome::Success
        };
        let moved = if untripped {
            self.inner.record_untripped(permit, outcome, 0, now)
        } else {
            self.inner.record(permit, outcome, 0, now)
        };
        if moved.is_some() {
            TRIPPED
        } else {
            COUNTED
        }
    }

    /// Counts `n` successes at `now` (ms): the successes cockatiel's
    /// breakers batch within one millisecond (a success never trips, so
    /// they wait for the next failure or the next millisecond). Returns 0,
    /// or 2 when the breaker was not closed (the rest are not counted; the
    /// caller resets it and counts again).
    #[napi]
    pub fn count_successes(&mut self, n: u32, now: f64) -> u32 {
        let now = ticks(now);
        for _ in 0..n {
            let Ok(permit) = self.inner.try_acquire(now) else {
                return NOT_CLOSED;
            };
            if permit.is_probe() {
                let _ = self.inner.release(permit, now);
                return NOT_CLOSED;
            }
            let _ = self.inner.record(permit, Outcome::Success, 0, now);
        }
        COUNTED
    }
}
