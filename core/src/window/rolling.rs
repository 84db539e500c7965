//! The bucket ring behind every time window.

use crate::error::{ConfigError, ConfigResult, Field, Problem};

/// A value that can be summed and un-summed: a bucket's contents.
pub trait Tally: Copy + Default {
    /// Adds `other` into `self` (saturating).
    fn add(&mut self, other: &Self);
    /// Takes `other` out of `self` (saturating at zero).
    fn sub(&mut self, other: &Self);
}

impl<const K: usize> Tally for [u32; K]
where
    [u32; K]: Default,
{
    fn add(&mut self, other: &Self) {
        for (a, b) in self.iter_mut().zip(other) {
            *a = a.saturating_add(*b);
        }
    }
    fn sub(&mut self, other: &Self) {
        for (a, b) in self.iter_mut().zip(other) {
            *a = a.saturating_sub(*b);
        }
    }
}

/// `buckets` buckets of `bucket_len` ticks each (up to `B`, chosen at run
/// time), plus their running total.
///
/// Buckets are aligned to multiples of `bucket_len` (`now / bucket_len` picks
/// the bucket), so two instances given the same `now` values always agree.
/// Rotation is lazy: every call that passes `now` first evicts the buckets
/// that have fallen out of the span, subtracting them from the total. A `now`
/// earlier than the current bucket is counted in the current bucket.
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct Rolling<T, const B: usize> {
    buckets: [T; B],
    total: T,
    bucket_len: u64,
    head_start: u64,
    used: u32,
    head: u32,
    started: bool,
}

impl<T: Tally, const B: usize> Rolling<T, B> {
    /// A ring of `buckets` buckets covering `span` ticks; `empty` is the
    /// zero value of a bucket. The span is rounded down to a multiple of
    /// `buckets`. Errors: `buckets` is 0 or above `B` (`"buckets"`), `span`
    /// is 0 or shorter than `buckets` ticks (`"span"`).
    pub const fn new(span: u64, buckets: usize, empty: T) -> ConfigResult<Self> {
        if buckets == 0 {
            return Err(ConfigError::of(Field::Buckets, Problem::Zero));
        }
        if buckets > B || buckets > u32::MAX as usize {
            return Err(ConfigError::of(Field::Buckets, Problem::OutOfRange));
        }
        if span == 0 {
            return Err(ConfigError::of(Field::Span, Problem::Zero));
        }
        if span < buckets as u64 {
            return Err(ConfigError::of(Field::Span, Problem::Inconsistent));
        }
        Ok(Self {
            buckets: [empty; B],
            total: empty,
            bucket_len: span / buckets as u64,
            head_start: 0,
            used: buckets as u32,
            head: 0,
            started: false,
        })
    }

    /// Ticks per bucket.
    pub const fn bucket_len(&self) -> u64 {
        self.bucket_len
    }

    /// Buckets in use.
    pub const fn buckets(&self) -> usize {
        self.used as usize
    }

    /// Start tick of the current bucket (0 before the first `now`).
    pub const fn head_start(&self) -> u64 {
        self.head_start
    }

    /// Evicts the buckets that `now` has moved past.
    pub fn rotate(&mut self, now: u64) {
        let aligned = now - now % self.bucket_len;
        if !self.started {
            self.started = true;
            self.head_start = aligned;
            return;
        }
        if now < self.head_start {
            return;
        }
        let steps = (now - self.head_start) / self.bucket_len;
        if steps == 0 {
            return;
        }
        if steps >= u64::from(self.used) {
            self.clear();
            self.started = true;
            self.head_start = aligned;
            return;
        }
        for _ in 0..steps {
            self.head = (self.head + 1) % self.used;
            if let Some(b) = self.buckets.get_mut(self.head as usize) {
                self.total.sub(b);
                *b = T::default();
            }
        }
        self.head_start = aligned;
    }

    /// Applies `f` to the current bucket and to the total, after rotating.
    pub fn update(&mut self, now: u64, f: impl Fn(&mut T)) {
        self.rotate(now);
        if let Some(b) = self.buckets.get_mut(self.head as usize) {
            f(b);
            f(&mut self.total);
        }
    }

    /// The sum of the buckets still in the span at `now`.
    pub fn total(&mut self, now: u64) -> &T {
        self.rotate(now);
        &self.total
    }

    /// The buckets from oldest to newest as of the last rotation, for hosts
    /// that show the window bucket by bucket. Call `rotate(now)` first.
    pub fn iter(&self) -> impl Iterator<Item = &T> + '_ {
        let used = self.used as usize;
        let head = self.head as usize;
        (1..=used).filter_map(move |i| self.buckets.get((head + i) % used))
    }

    /// Forgets every bucket.
    pub fn clear(&mut self) {
        for b in self.buckets.iter_mut() {
            *b = T::default();
        }
        self.total = T::default();
        self.head = 0;
        self.started = false;
    }
}

impl<T: Tally, const B: usize> crate::intact::Intact for Rolling<T, B> {
    /// The bucket length (a divisor), the buckets in use (`1..=B`), the head
    /// (below them) and `started`. The tallies are plain counts.
    #[inline(always)]
    fn intact(read: &impl Fn(usize) -> u8, at: usize) -> bool {
        use crate::intact::{below, nonzero, u32_at};
        use core::mem::offset_of;
        let used = u32_at(read, at + offset_of!(Self, used));
        nonzero(read, at + offset_of!(Self, bucket_len), 8)
            && used != 0
            && used as usize <= B
            && u32_at(read, at + offset_of!(Self, head)) < used
            && below(read, at + offset_of!(Self, started), 2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_whole_buckets_and_keeps_the_total() {
        let mut r = Rolling::<[u32; 1], 4>::new(400, 4, [0]).unwrap();
        for t in [0u64, 50, 150, 250, 350] {
            r.update(t, |b| b[0] += 1);
        }
        assert_eq!(r.total(399)[0], 5);
        assert_eq!(r.total(400)[0], 3); // bucket [0,100) gone
        assert_eq!(r.total(650)[0], 1); // only [300,400) remains
        assert_eq!(r.total(10_000)[0], 0);
        assert_eq!(r.iter().count(), 4);
    }

    #[test]
    fn the_newest_bucket_says_when_it_began() {
        let mut r = Rolling::<[u32; 1], 4>::new(400, 4, [0]).unwrap();
        assert_eq!((r.head_start(), r.bucket_len()), (0, 100));
        r.update(1234, |b| b[0] += 1);
        assert_eq!(r.head_start(), 1200);
        r.update(1550, |b| b[0] += 1);
        assert_eq!(r.head_start(), 1500);
    }

    #[test]
    fn backwards_now_counts_in_the_current_bucket() {
        let mut r = Rolling::<[u32; 1], 2>::new(20, 2, [0]).unwrap();
        r.update(100, |b| b[0] += 1);
        r.update(5, |b| b[0] += 1);
        assert_eq!(r.total(105)[0], 2);
        r.update(u64::MAX, |b| b[0] += 1);
        assert_eq!(r.total(u64::MAX)[0], 1);
    }

    #[test]
    fn rejects_bad_shapes() {
        let e = Rolling::<[u32; 1], 2>::new(10, 3, [0]).unwrap_err();
        assert_eq!(e.field, "buckets");
        let e = Rolling::<[u32; 1], 2>::new(1, 2, [0]).unwrap_err();
        assert_eq!(e.field, "span");
        let e = Rolling::<[u32; 1], 2>::new(0, 2, [0]).unwrap_err();
        assert_eq!((e.field, e.problem), ("span", Problem::Zero));
    }
}
