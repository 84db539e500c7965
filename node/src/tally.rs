//! opossum's per-bucket counters (`status.window[i]`), rolled on the core's
//! [`Rolling`](fusewire::Rolling) ring so their memory is fixed.
//!
//! The core window counts what the breaker decides on; opossum reports more
//! (fallbacks, cache and coalesce hits, semaphore rejections, and `fires`,
//! which the core has no notion of), so the binding keeps this second tally
//! on the same clock. It only counts: no rule reads it.

use fusewire::{Histogram, Tally};

/// Latency bins: quarter-octave bins up to 2^17 ms (131 s); longer calls
/// land in the last bin.
pub const LATENCY_BINS: usize = 64;

/// The counters, in opossum's key order (`Status` bucket objects).
pub const COUNTERS: usize = 11;
pub const FAILURES: usize = 0;
pub const FALLBACKS: usize = 1;
pub const SUCCESSES: usize = 2;
pub const REJECTS: usize = 3;
pub const FIRES: usize = 4;
pub const TIMEOUTS: usize = 5;
pub const CACHE_HITS: usize = 6;
pub const CACHE_MISSES: usize = 7;
pub const COALESCE_HITS: usize = 8;
pub const COALESCE_MISSES: usize = 9;
pub const SEMAPHORE_REJECTIONS: usize = 10;

/// `isCircuitBreakerOpen` of a bucket: opossum sets it only when the
/// breaker opens or closes during that bucket.
pub const FLAG_UNSET: u8 = 0;
pub const FLAG_CLOSED: u8 = 1;
pub const FLAG_OPEN: u8 = 2;

#[derive(Debug, Clone, Copy)]
pub struct OpBucket {
    pub counters: [u32; COUNTERS],
    /// Latency samples: exact count and sum (opossum's exact mean), bins
    /// for the percentiles and `stats.latencyTimes`.
    pub latency: Histogram<LATENCY_BINS>,
    pub open_flag: u8,
}

impl Default for OpBucket {
    fn default() -> Self {
        Self {
            counters: [0; COUNTERS],
            latency: Histogram::new(),
            open_flag: FLAG_UNSET,
        }
    }
}

impl OpBucket {
    pub fn bump(&mut self, counter: usize) {
        if let Some(c) = self.counters.get_mut(counter) {
            *c = c.saturating_add(1);
        }
    }

    pub fn sample(&mut self, latency: u64) {
        self.latency.record(latency);
    }
}

impl Tally for OpBucket {
    fn add(&mut self, o: &Self) {
        self.counters.add(&o.counters);
        self.latency.add(&o.latency);
    }

    fn sub(&mut self, o: &Self) {
        self.counters.sub(&o.counters);
        self.latency.sub(&o.latency);
    }
}
