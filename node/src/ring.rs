//! The core's bucket ring ([`Rolling`]) sized by the options at run time.
//!
//! The core sizes a ring with a const generic (no allocation), and opossum
//! takes any `rollingCountBuckets`. This picks the smallest size class that
//! holds the buckets asked for and boxes it, so a breaker holds what its
//! options need (opossum's default of 10 buckets is a class of its own)
//! rather than the largest ring any breaker could want. Rotation, eviction
//! and totals stay the core's: every method is one match that delegates.

use fusewire::window::{Counts, Sample, Tally, Window};
use fusewire::{Breaker, ConfigError, CountRing, Rolling, Sliding};

/// The one core breaker type of this door, behind both `CircuitBreaker`
/// (`engine.rs`) and the low-level `Breaker` (`direct.rs`): a count window
/// over the last calls, or a time window sized by the options.
pub type NodeBreaker = Breaker<NodeWindow>;

/// The window of a [`NodeBreaker`].
pub type NodeWindow = Sliding<CountRing<Box<[u8]>>, Ring<Counts>>;

/// Most buckets a window can have (`rollingCountBuckets`).
pub const MAX_BUCKETS: usize = 1024;

/// A [`Rolling`] ring of one of the size classes, boxed.
#[derive(Debug, Clone)]
pub enum Ring<T> {
    /// Up to 10 buckets.
    B10(Box<Rolling<T, 10>>),
    /// Up to 16 buckets.
    B16(Box<Rolling<T, 16>>),
    /// Up to 32 buckets.
    B32(Box<Rolling<T, 32>>),
    /// Up to 64 buckets.
    B64(Box<Rolling<T, 64>>),
    /// Up to 128 buckets.
    B128(Box<Rolling<T, 128>>),
    /// Up to 256 buckets.
    B256(Box<Rolling<T, 256>>),
    /// Up to 512 buckets.
    B512(Box<Rolling<T, 512>>),
    /// Up to 1024 buckets.
    B1024(Box<Rolling<T, 1024>>),
}

macro_rules! each {
    ($ring:expr, $r:ident => $body:expr) => {
        match $ring {
            Ring::B10($r) => $body,
            Ring::B16($r) => $body,
            Ring::B32($r) => $body,
            Ring::B64($r) => $body,
            Ring::B128($r) => $body,
            Ring::B256($r) => $body,
            Ring::B512($r) => $body,
            Ring::B1024($r) => $body,
        }
    };
}

impl<T: Tally> Ring<T> {
    /// A ring of `buckets` buckets covering `span` ticks, in the smallest
    /// class that holds them; errors are the core's (`"buckets"` above
    /// [`MAX_BUCKETS`], `"span"`).
    pub fn new(span: u64, buckets: usize, empty: T) -> Result<Self, ConfigError> {
        if buckets <= 10 {
            return Rolling::new(span, buckets, empty).map(|r| Ring::B10(Box::new(r)));
        }
        if buckets <= 16 {
            return Rolling::new(span, buckets, empty).map(|r| Ring::B16(Box::new(r)));
        }
        if buckets <= 32 {
            return Rolling::new(span, buckets, empty).map(|r| Ring::B32(Box::new(r)));
        }
        if buckets <= 64 {
            return Rolling::new(span, buckets, empty).map(|r| Ring::B64(Box::new(r)));
        }
        if buckets <= 128 {
            return Rolling::new(span, buckets, empty).map(|r| Ring::B128(Box::new(r)));
        }
        if buckets <= 256 {
            return Rolling::new(span, buckets, empty).map(|r| Ring::B256(Box::new(r)));
        }
        if buckets <= 512 {
            return Rolling::new(span, buckets, empty).map(|r| Ring::B512(Box::new(r)));
        }
        if buckets <= 1024 {
            return Rolling::new(span, buckets, empty).map(|r| Ring::B1024(Box::new(r)));
        }
        Rolling::<T, MAX_BUCKETS>::new(span, buckets, empty).map(|r| Ring::B1024(Box::new(r)))
    }

    /// Bytes this ring holds on the heap.
    pub fn heap_bytes(&self) -> usize {
        each!(self, r => core::mem::size_of_val(&**r))
    }

    /// Evicts the buckets `now` has moved past.
    pub fn rotate(&mut self, now: u64) {
        each!(self, r => r.rotate(now))
    }

    /// Applies `f` to the current bucket and the total, after rotating.
    pub fn update(&mut self, now: u64, f: impl Fn(&mut T)) {
        each!(self, r => r.update(now, f))
    }

    /// The sum of the buckets in the span at `now`.
    pub fn total(&mut self, now: u64) -> &T {
        each!(self, r => r.total(now))
    }

    /// When the newest bucket began (0 before the first call), and how many
    /// ticks each covers.
    pub fn head(&self) -> (u64, u64) {
        each!(self, r => (r.head_start(), r.bucket_len()))
    }

    /// The buckets, oldest first, as of the last rotation.
    pub fn buckets(&self) -> Vec<T> {
        each!(self, r => r.iter().copied().collect())
    }
}

impl Window for Ring<Counts> {
    // A time ring: it counts calls as they start (opossum's `fires`, the
    // core's `RateBasis::Started`), as the core's own `Rolling` does.
    const COUNTS_STARTS: bool = true;

    #[inline]
    fn record(&mut self, now: u64, sample: Sample) {
        each!(self, r => r.record(now, sample))
    }

    #[inline]
    fn totals(&mut self, now: u64) -> Counts {
        each!(self, r => Window::totals(&mut **r, now))
    }

    fn clear(&mut self) {
        each!(self, r => Rolling::clear(&mut **r))
    }
}
