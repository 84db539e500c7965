//! Sliding windows over call outcomes, in memory that never grows with traffic.
//!
//! Two shapes (the last calls, or a span of time), one trait ([`Window`]):
//! - [`CountWindow`]: the last `N` calls.
//! - [`TimeWindow`]: `B` buckets covering a span of ticks, rotated lazily from
//!   `now` (no timers), each bucket pre-aggregated so the window total is kept
//!   up to date by adding on record and subtracting on eviction: reading it is
//!   O(1) and memory never grows with traffic. A time window also keeps a
//!   latency [`Histogram`](crate::histogram::Histogram) per bucket.
//! - [`BitWindow`]: the last 8, 16, 32 or 64 calls in one bit per call per
//!   plane; a count window for firmware, where RAM is counted in bytes.
//! - [`TimeCounts`]: a time window's counts without its latency, in half
//!   the memory.
//! - [`Sliding`]: a count or a time window, chosen at run time.
//!
//! [`Rolling`] is the bucket ring itself, generic over any [`Tally`], so a
//! host can roll its own counters on the same clock as the breaker's.

mod bits;
mod count;
mod counts;
mod rolling;
mod sliding;
mod time;

pub use bits::{BitWindow, Plane};
pub use count::{CountRing, CountWindow};
pub use counts::{Counts, Kind, Sample};
// The shared time window's shape rule (no shared forms on targets without
// 64-bit atomics or an emulation of them).
#[allow(unused_imports)]
pub(crate) use rolling::bucket_len;
pub use rolling::{Rolling, Tally};
pub use sliding::Sliding;
pub use time::{Frame, TimeCounts, TimeWindow};

/// What a breaker needs from a window.
pub trait Window {
    /// Whether the window can count calls as they start
    /// ([`RateBasis::Started`](crate::RateBasis::Started)). True unless a
    /// window says otherwise: the count windows do (their slots hold
    /// outcomes, and `Rules::fits` refuses `Started` over them), so a
    /// breaker over one does not even compile the admission count.
    const COUNTS_STARTS: bool = true;

    /// Adds one sample observed at `now`.
    fn record(&mut self, now: u64, sample: Sample);
    /// The counts over the window as of `now` (expired buckets evicted first).
    fn totals(&mut self, now: u64) -> Counts;
    /// Forgets everything.
    fn clear(&mut self);
    /// How many calls the window can hold: `Some(n)` for a count window,
    /// `None` for a time window (no limit). A breaker checks `min_calls`
    /// against it.
    fn capacity(&self) -> Option<u32> {
        None
    }
    /// Mean latency over the window, if this window keeps latency.
    fn mean_latency(&mut self, now: u64) -> Option<u64> {
        let _ = now;
        None
    }
    /// Latency at quantile `ppm` (millionths), if this window keeps latency.
    fn percentile(&mut self, now: u64, ppm: u32) -> Option<u64> {
        let _ = (now, ppm);
        None
    }
}
