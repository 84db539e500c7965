//! A fixed log-linear latency histogram: mean and percentiles without
//! allocation or sorting.
//!
//! Values are binned with four linear sub-bins per power of two:
//!
//! ```text
//! v < 4:   bin = v                                   (exact)
//! v >= 4:  e = floor(log2 v);  bin = 4 + 4*(e-2) + ((v >> (e-2)) & 3)
//! ```
//!
//! so a bin spans a quarter of an octave and a percentile read back from a bin
//! (its midpoint) is within 12.5% of the true value. `H` bins cover values up
//! to the start of bin `H`; larger values land in the last bin. 128 bins reach
//! 2^33 ticks (8.6 s of nanoseconds, 2.4 h of microseconds); 252 bins cover
//! every `u64`. `H = 0` keeps no latency at all.

use crate::window::Tally;

/// Bins needed to cover every `u64` value exactly to the quarter octave.
pub const FULL_RANGE_BINS: usize = 252;

/// A latency histogram of `H` log-linear bins plus an exact sum for the mean.
///
/// The sum is kept 8-aligned (a private `Sum`), so a histogram, every
/// [`TimeWindow`](crate::TimeWindow) and a breaker over one are 8-aligned
/// and the same size on every target: `4 * H + 4`, rounded up to 8, plus 16.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct Histogram<const H: usize> {
    bins: [u32; H],
    count: u32,
    /// Exact: 2^32 samples of at most 2^64 - 1 fit in 128 bits, so adding
    /// and subtracting buckets never loses the sum.
    sum: Sum,
}

/// A `u128` capped at 8-byte alignment, as [`Bucket`](crate::Bucket) does:
/// a `u128` is 16-aligned on x86-64 but 8-aligned on 32-bit targets, and a
/// caller-owned C struct (which only promises 8) must hold a time window
/// and be updated in place. Read and written by value only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C, packed(8))]
struct Sum(u128);

impl Sum {
    const fn get(self) -> u128 {
        self.0
    }
    const fn plus(self, v: u128) -> Self {
        Self(self.get().wrapping_add(v))
    }
    const fn minus(self, v: u128) -> Self {
        Self(self.get().wrapping_sub(v))
    }
}

impl<const H: usize> Default for Histogram<H> {
    fn default() -> Self {
        Self::new()
    }
}

/// The bin a value falls in (before clamping to the histogram's size).
pub const fn bin_of(v: u64) -> usize {
    if v < 4 {
        return v as usize;
    }
    let e = 63 - v.leading_zeros();
    4 + 4 * (e as usize - 2) + ((v >> (e - 2)) & 3) as usize
}

/// The smallest value of a bin.
pub const fn bin_floor(bin: usize) -> u64 {
    if bin < 4 {
        return bin as u64;
    }
    let e = (bin - 4) / 4 + 2;
    if e > 63 {
        return u64::MAX;
    }
    let sub = ((bin - 4) % 4) as u64;
    (4 + sub) << (e - 2)
}

/// The value reported for a bin: its midpoint (exact for bins 0..4).
pub const fn bin_value(bin: usize) -> u64 {
    let lo = bin_floor(bin);
    let hi = bin_floor(bin + 1);
    if hi <= lo {
        return lo;
    }
    lo + (hi - lo - 1) / 2
}

impl<const H: usize> Histogram<H> {
    /// An empty histogram.
    pub const fn new() -> Self {
        Self {
            bins: [0; H],
            count: 0,
            sum: Sum(0),
        }
    }

    /// Adds one sample.
    pub fn record(&mut self, v: u64) {
        if H == 0 {
            return;
        }
        let b = bin_of(v).min(H - 1);
        if let Some(slot) = self.bins.get_mut(b) {
            *slot = slot.saturating_add(1);
        }
        self.count = self.count.saturating_add(1);
        self.sum = self.sum.plus(u128::from(v));
    }

    /// Samples held.
    pub const fn count(&self) -> u32 {
        self.count
    }

    /// The exact sum of the samples.
    pub const fn sum(&self) -> u128 {
        self.sum.get()
    }

    /// Samples per bin; bin `i` holds values from [`bin_floor`]`(i)` up to
    /// `bin_floor(i + 1)` (the last bin also holds everything larger).
    pub const fn bins(&self) -> &[u32; H] {
        &self.bins
    }

    /// The mean of the samples (exact, rounded down), `None` when empty.
    pub const fn mean(&self) -> Option<u64> {
        if self.count == 0 {
            None
        } else {
            let mean = self.sum.get() / self.count as u128;
            Some(if mean > u64::MAX as u128 {
                u64::MAX
            } else {
                mean as u64
            })
        }
    }

    /// The value at quantile `ppm` (millionths: 500_000 is the median,
    /// 990_000 p99, 1_000_000 the maximum bin), `None` when empty.
    /// The answer is the midpoint of the bin holding the sample of rank
    /// `ceil(count * ppm / 1e6)` (at least 1); `ppm` above 1e6 reads as 1e6.
    pub fn percentile(&self, ppm: u32) -> Option<u64> {
        if self.count == 0 {
            return None;
        }
        let ppm = u64::from(ppm.min(1_000_000));
        let rank = (u64::from(self.count) * ppm).div_ceil(1_000_000).max(1);
        let mut seen = 0u64;
        for (i, n) in self.bins.iter().enumerate() {
            seen += u64::from(*n);
            if seen >= rank {
                return Some(bin_value(i));
            }
        }
        Some(bin_value(H.saturating_sub(1)))
    }
}

impl<const H: usize> Tally for Histogram<H> {
    fn add(&mut self, other: &Self) {
        for (a, b) in self.bins.iter_mut().zip(other.bins.iter()) {
            *a = a.saturating_add(*b);
        }
        self.count = self.count.saturating_add(other.count);
        self.sum = self.sum.plus(other.sum.get());
    }

    fn sub(&mut self, other: &Self) {
        for (a, b) in self.bins.iter_mut().zip(other.bins.iter()) {
            *a = a.saturating_sub(*b);
        }
        self.count = self.count.saturating_sub(other.count);
        self.sum = self.sum.minus(other.sum.get());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_are_quarter_octaves() {
        let firsts: [u64; 10] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 10];
        for (i, v) in firsts.iter().enumerate() {
            assert_eq!(bin_of(*v), i, "value {v}");
            assert_eq!(bin_floor(i), *v);
        }
        assert_eq!(bin_of(9), 8);
        assert_eq!(bin_of(u64::MAX), FULL_RANGE_BINS - 1);
        for b in 0..FULL_RANGE_BINS {
            assert_eq!(bin_of(bin_floor(b)), b);
        }
    }

    #[test]
    fn percentiles_within_an_eighth() {
        let mut h = Histogram::<128>::new();
        for v in 1..=1000u64 {
            h.record(v);
        }
        assert_eq!(h.mean(), Some(500));
        for (ppm, exact) in [(500_000u32, 500u64), (900_000, 900), (990_000, 990)] {
            let got = h.percentile(ppm).unwrap();
            let err = got.abs_diff(exact) as f64 / exact as f64;
            assert!(err <= 0.125, "p{ppm}: {got} vs {exact}");
        }
        assert_eq!(h.percentile(0), Some(1));
    }

    #[test]
    fn huge_values_land_in_the_last_bin_and_subtract_cleanly() {
        let mut a = Histogram::<16>::new();
        a.record(u64::MAX);
        a.record(3);
        assert_eq!(a.percentile(1_000_000), Some(bin_value(15)));
        let mut t = Histogram::<16>::new();
        Tally::add(&mut t, &a);
        Tally::add(&mut t, &a);
        Tally::sub(&mut t, &a);
        assert_eq!(t, a);
        // (2^64 - 1 + 3) / 2: the sum never saturates
        assert_eq!(t.mean(), Some(u64::MAX / 2 + 2));
        Tally::sub(&mut t, &a);
        assert_eq!(t.mean(), None);
        let empty = Histogram::<0>::new();
        assert_eq!(empty.percentile(500_000), None);
    }

    #[test]
    fn layout_is_8_aligned_on_every_target() {
        assert_eq!(core::mem::align_of::<Histogram<0>>(), 8);
        assert_eq!(core::mem::size_of::<Histogram<0>>(), 24);
        assert_eq!(core::mem::size_of::<Histogram<3>>(), 32);
        assert_eq!(core::mem::align_of::<crate::TimeWindow<16, 0>>(), 8);
    }
}
