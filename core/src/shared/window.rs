//! The windows a [`SharedBreakerOver`](super::SharedBreakerOver) counts
//! over, as atomics: the last `N` calls ([`SharedCountWindow`]) or a span
//! of time ([`SharedTimeWindow`]).

use super::atomic::{AtomicU32, AtomicU64, AtomicU8, Ordering::AcqRel, Ordering::Relaxed};
use crate::error::ConfigResult;
use crate::window::{bucket_len, Counts, Kind, Sample};

mod sealed {
    /// Only this crate's shared windows are shared windows.
    pub trait Sealed {}
}

/// What a [`SharedBreakerOver`](super::SharedBreakerOver) needs from its
/// window: [`Window`](crate::Window)'s operations through `&self`, safe
/// for many threads (or processes) at once. Implemented by
/// [`SharedCountWindow`] and [`SharedTimeWindow`] only.
pub trait SharedWindow: Sync + sealed::Sealed {
    /// Whether the window counts calls as they start
    /// ([`RateBasis::Started`](crate::RateBasis::Started)), as
    /// [`Window::COUNTS_STARTS`](crate::Window::COUNTS_STARTS): a breaker
    /// over a window that does not never writes on a closed admission.
    const COUNTS_STARTS: bool;

    /// Adds one sample observed at `now`.
    fn record(&self, now: u64, sample: Sample);
    /// Counts one refused call at `now`.
    fn reject(&self, now: u64);
    /// The counts over the window as of `now`.
    fn totals(&self, now: u64) -> Counts;
    /// Forgets everything (samples recorded meanwhile may be kept or
    /// dropped).
    fn clear(&self);
    /// How many calls the window can hold (`None` for a time window), as
    /// [`Window::capacity`](crate::Window::capacity).
    fn capacity(&self) -> Option<u32>;
}

/// Adds 1 to `v` unless it is at `u32::MAX`; returns the new value.
pub(super) fn saturating_inc(v: &AtomicU32) -> u32 {
    match v.fetch_update(Relaxed, Relaxed, |x| x.checked_add(1)) {
        Ok(prev) => prev + 1,
        Err(max) => max,
    }
}

/// What one sample adds to each counter, as [`Counts::count`] defines it,
/// in the order successes, failures, timeouts, slow, ignored, rejected,
/// admitted.
fn delta(s: Sample) -> [u32; 7] {
    let mut c = Counts::default();
    c.count(s);
    [
        c.successes,
        c.failures,
        c.timeouts,
        c.slow,
        c.ignored,
        c.rejected,
        c.admitted,
    ]
}

/// [`delta`] without `admitted`, which count windows never hold.
fn delta6(s: Sample) -> [u32; 6] {
    let mut c = Counts::default();
    c.count(s);
    [
        c.successes,
        c.failures,
        c.timeouts,
        c.slow,
        c.ignored,
        c.rejected,
    ]
}

fn counts_of(c: [u32; 7]) -> Counts {
    let [successes, failures, timeouts, slow, ignored, rejected, admitted] = c;
    Counts {
        successes,
        failures,
        timeouts,
        slow,
        ignored,
        rejected,
        admitted,
    }
}

/// The last `N` outcomes as atomics ([`CountWindow<N>`](crate::CountWindow)'s
/// rules): one byte a call and the counters of [`Counts`], kept up to date
/// by atomic adds. Rejections are counted apart from the ring, from the
/// last clear on. `N` in `1..=i32::MAX`; `24 + N` bytes (rounded up).
#[repr(C)]
pub struct SharedCountWindow<const N: usize> {
    /// successes, failures, timeouts, slow, ignored, rejected.
    counts: [AtomicU32; 6],
    next: AtomicU32,
    slots: [AtomicU8; N],
}

impl<const N: usize> Default for SharedCountWindow<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> SharedCountWindow<N> {
    /// An empty window. `N` must be in `1..=i32::MAX` (checked at compile
    /// time).
    pub fn new() -> Self {
        const {
            assert!(
                N > 0 && N <= i32::MAX as usize,
                "SharedBreaker needs 1..=i32::MAX slots"
            )
        };
        Self {
            counts: core::array::from_fn(|_| AtomicU32::new(0)),
            next: AtomicU32::new(0),
            slots: core::array::from_fn(|_| AtomicU8::new(0)),
        }
    }
}

impl<const N: usize> sealed::Sealed for SharedCountWindow<N> {}

impl<const N: usize> SharedWindow for SharedCountWindow<N> {
    // Slots hold outcomes; `Rules::fits` refuses `Started` over them.
    const COUNTS_STARTS: bool = false;

    fn reject(&self, _now: u64) {
        if let Some(c) = self.counts.get(5) {
            saturating_inc(c);
        }
    }

    fn record(&self, _now: u64, sample: Sample) {
        // Count the new sample before publishing it in its slot (Release),
        // so whoever evicts it (Acquire) subtracts after this add.
        for (c, d) in self.counts.iter().zip(delta6(sample)) {
            if d != 0 {
                c.fetch_add(d, Relaxed);
            }
        }
        let i = self.next.fetch_add(1, Relaxed) as usize % N;
        let Some(slot) = self.slots.get(i) else {
            return;
        };
        if let Some(old) = Sample::from_slot(slot.swap(sample.to_slot(), AcqRel)) {
            for (c, d) in self.counts.iter().zip(delta6(old)) {
                if d != 0 {
                    c.fetch_sub(d, Relaxed);
                }
            }
        }
    }

    fn totals(&self, _now: u64) -> Counts {
        // A counter read as negative was cleared between an add and the
        // eviction that undoes it: it is empty.
        let c = |i: usize| {
            self.counts
                .get(i)
                .map_or(0, |c| (c.load(Relaxed) as i32).max(0) as u32)
        };
        counts_of([c(0), c(1), c(2), c(3), c(4), c(5), 0])
    }

    fn clear(&self) {
        for s in &self.slots {
            s.store(0, Relaxed);
        }
        self.next.store(0, Relaxed);
        for c in &self.counts {
            c.store(0, Relaxed);
        }
    }

    fn capacity(&self) -> Option<u32> {
        Some(N as u32)
    }
}

/// The counters of one bucket of a [`SharedTimeWindow`], one word each.
const COUNTERS: usize = 7;

/// Up to `B` buckets covering a span of ticks, as atomics: the rules of
/// [`TimeCounts<B>`](crate::TimeCounts) (the core's time window without
/// latency) through `&self`.
///
/// - The same shape and answers: `buckets` buckets of `span / buckets`
///   ticks, aligned to multiples of that length (`now / bucket_len` picks
///   the bucket, so every process given the same `now` agrees); a whole
///   bucket leaves the window at once; the totals are the sum of the
///   buckets still in the span at `now`. Errors as
///   [`TimeWindow::new`](crate::TimeWindow::new) (`"span"`, `"buckets"`).
/// - No lock and no sweeper. Each counter of each bucket is one atomic
///   word: the count in its low 32 bits, tagged in its high 32 bits with
///   the lap of the window it belongs to (`(now / bucket_len) / buckets`).
///   A record adds to its word by compare-and-swap; a word tagged with an
///   older lap is stale, and the same compare-and-swap replaces it (the
///   reset and the first count of the new lap in one step, so two
///   processes moving time on at once lose nothing). A read sums the words
///   whose tag is their bucket's current lap: a bucket time has moved past
///   reads as empty without anyone writing it.
/// - Under races only: a sample recorded with a `now` a whole lap behind
///   another caller's (a caller paused between reading the clock and
///   recording) is counted in the newer bucket, as the single-owner window
///   counts a late `now` in its current bucket.
/// - A counter word left untouched for 2^31 laps of the window (2^31 ×
///   span ticks: 680 years for a 10 s span in nanoseconds) could be read
///   as current again; the breaker's clamp keeps `now` monotonic.
///
/// Layout: `#[repr(C)]`, pointer-free, `16 + 56 × B` bytes.
#[repr(C)]
pub struct SharedTimeWindow<const B: usize> {
    bucket_len: u64,
    used: u32,
    _pad: u32,
    cells: [[AtomicU64; COUNTERS]; B],
}

const COUNT_MASK: u64 = u32::MAX as u64;

impl<const B: usize> SharedTimeWindow<B> {
    /// A window of `buckets` (1..=B) buckets covering `span` ticks.
    /// Errors name `"span"` or `"buckets"`, as
    /// [`TimeWindow::new`](crate::TimeWindow::new).
    pub fn new(span: u64, buckets: usize) -> ConfigResult<Self> {
        let bucket_len = bucket_len(span, buckets, B)?;
        Ok(Self {
            bucket_len,
            used: buckets as u32,
            _pad: 0,
            cells: core::array::from_fn(|_| core::array::from_fn(|_| AtomicU64::new(0))),
        })
    }

    /// Ticks per bucket.
    pub fn bucket_len(&self) -> u64 {
        self.bucket_len.max(1)
    }

    /// Buckets in use.
    pub fn buckets(&self) -> usize {
        self.used()
    }

    /// The buckets in use, `1..=B` whatever the memory holds.
    fn used(&self) -> usize {
        (self.used as usize).clamp(1, B.max(1))
    }

    /// The bucket `now` falls in and its lap.
    fn place(&self, now: u64) -> (usize, u32) {
        let epoch = now / self.bucket_len();
        let used = self.used() as u64;
        ((epoch % used) as usize, (epoch / used) as u32)
    }

    /// The counts of bucket `at` if they belong to `lap`.
    fn bucket(&self, at: usize, lap: u32) -> [u32; COUNTERS] {
        let mut out = [0; COUNTERS];
        if let Some(cells) = self.cells.get(at) {
            for (o, cell) in out.iter_mut().zip(cells) {
                let w = cell.load(Relaxed);
                if (w >> 32) as u32 == lap {
                    *o = (w & COUNT_MASK) as u32;
                }
            }
        }
        out
    }
}

impl<const B: usize> sealed::Sealed for SharedTimeWindow<B> {}

impl<const B: usize> SharedWindow for SharedTimeWindow<B> {
    const COUNTS_STARTS: bool = true;

    fn record(&self, now: u64, sample: Sample) {
        let (at, lap) = self.place(now);
        let Some(cells) = self.cells.get(at) else {
            return;
        };
        for (cell, d) in cells.iter().zip(delta(sample)) {
            if d == 0 {
                continue;
            }
            let mut w = cell.load(Relaxed);
            loop {
                let (tag, count) = ((w >> 32) as u32, (w & COUNT_MASK) as u32);
                let ahead = tag.wrapping_sub(lap);
                let next = if ahead == 0 || (count != 0 && (ahead as i32) > 0) {
                    // This lap's word, or (a late `now`) a newer lap's:
                    // counted there.
                    w & !COUNT_MASK | u64::from(count.saturating_add(d))
                } else {
                    // A stale lap's (or an empty) word: reset and counted.
                    u64::from(lap) << 32 | u64::from(d)
                };
                match cell.compare_exchange_weak(w, next, Relaxed, Relaxed) {
                    Ok(_) => break,
                    Err(seen) => w = seen,
                }
            }
        }
    }

    fn reject(&self, now: u64) {
        self.record(now, Sample::of(Kind::Rejected));
    }

    fn totals(&self, now: u64) -> Counts {
        let (mut at, mut lap) = self.place(now);
        let used = self.used();
        let mut sum = [0u32; COUNTERS];
        // The current bucket, then back one bucket at a time (a lap back
        // when the ring wraps), as many as the window holds; none before
        // tick 0.
        let epoch = now / self.bucket_len();
        for _ in 0..(used as u64).min(epoch.saturating_add(1)) {
            for (s, c) in sum.iter_mut().zip(self.bucket(at, lap)) {
                *s = s.saturating_add(c);
            }
            if at == 0 {
                at = used - 1;
                lap = lap.wrapping_sub(1);
            } else {
                at -= 1;
            }
        }
        counts_of(sum)
    }

    fn clear(&self) {
        for cells in &self.cells {
            for c in cells {
                c.store(0, Relaxed);
            }
        }
    }

    fn capacity(&self) -> Option<u32> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::proptest_config;
    use crate::window::{TimeCounts, Window};
    use proptest::prelude::*;

    fn s(kind: Kind, slow: bool) -> Sample {
        Sample {
            kind,
            duration: 0,
            slow,
        }
    }

    #[test]
    fn count_window_evicts_like_the_count_window() {
        let r = SharedCountWindow::<2>::new();
        r.record(0, s(Kind::Timeout, true));
        r.record(0, s(Kind::Success, false));
        r.reject(0);
        r.record(0, s(Kind::Ignored, false));
        let c = r.totals(0);
        assert_eq!(
            (
                c.failures,
                c.timeouts,
                c.slow,
                c.successes,
                c.ignored,
                c.rejected
            ),
            (0, 0, 0, 1, 1, 1)
        );
        r.clear();
        assert_eq!(r.totals(0), Counts::default());
    }

    #[test]
    fn time_window_ages_whole_buckets() {
        let w = SharedTimeWindow::<4>::new(400, 4).unwrap();
        assert_eq!((w.bucket_len(), w.buckets(), w.capacity()), (100, 4, None));
        for t in [0u64, 50, 150, 250, 350] {
            w.record(t, s(Kind::Failure, false));
        }
        assert_eq!(w.totals(399).failures, 5);
        assert_eq!(w.totals(400).failures, 3, "bucket [0, 100) gone");
        assert_eq!(w.totals(650).failures, 1, "only [300, 400) left");
        assert_eq!(w.totals(10_000).failures, 0);
        // A new lap of the same bucket starts from zero, not from the old
        // count.
        w.record(10_050, s(Kind::Failure, false));
        assert_eq!(w.totals(10_050).failures, 1);
        w.reject(10_060);
        assert_eq!(w.totals(10_099).rejected, 1);
        w.clear();
        assert_eq!(w.totals(10_099), Counts::default());
    }

    #[test]
    fn bad_shapes_are_the_time_windows_errors() {
        let e = SharedTimeWindow::<2>::new(10, 3).err().unwrap();
        assert_eq!(e.field, "buckets");
        let e = SharedTimeWindow::<2>::new(1, 2).err().unwrap();
        assert_eq!(e.field, "span");
        let e = SharedTimeWindow::<2>::new(0, 2).err().unwrap();
        assert_eq!(e.field, "span");
        let e = SharedTimeWindow::<2>::new(10, 0).err().unwrap();
        assert_eq!(e.field, "buckets");
    }

    #[test]
    fn a_late_now_counts_in_the_newer_bucket() {
        let w = SharedTimeWindow::<2>::new(20, 2).unwrap();
        w.record(25, s(Kind::Success, false));
        w.record(5, s(Kind::Success, false));
        assert_eq!(w.totals(25).successes, 2);
    }

    #[test]
    fn laps_far_from_zero_count_like_any_other() {
        // A fresh window first used 2^31 laps in: empty words are stale.
        let w = SharedTimeWindow::<2>::new(2, 2).unwrap();
        let now = 3u64 << 31;
        w.record(now, s(Kind::Failure, false));
        assert_eq!(w.totals(now).failures, 1);
    }

    #[test]
    fn garbage_shape_never_panics() {
        let mut w = SharedTimeWindow::<2>::new(20, 2).unwrap();
        w.bucket_len = 0;
        w.used = 0;
        w.record(7, s(Kind::Success, false));
        assert_eq!(w.totals(7).successes, 1);
        w.used = u32::MAX;
        w.record(u64::MAX, s(Kind::Success, false));
        let _ = w.totals(u64::MAX);
    }

    proptest! {
        #![proptest_config(proptest_config())]
        /// Same samples at the same (non-decreasing) times, same counts as
        /// the single-owner time window, rolling and clearing included.
        #[test]
        fn counts_what_the_single_owner_window_counts(
            span in 1u64..5_000,
            buckets in 1usize..=8,
            start in prop_oneof![Just(0u64), 0u64..1 << 40],
            steps in proptest::collection::vec((0u64..700, 0u8..7, any::<bool>()), 0..if cfg!(miri) { 40 } else { 200 }),
        ) {
            let span = span.max(buckets as u64);
            let mut single = TimeCounts::<8>::counting(span, buckets).unwrap();
            let shared = SharedTimeWindow::<8>::new(span, buckets).unwrap();
            let mut now = start;
            for (dt, code, slow) in steps {
                now += dt;
                if code == 6 {
                    single.clear();
                    shared.clear();
                } else {
                    let kind = [Kind::Success, Kind::Failure, Kind::Timeout, Kind::Ignored, Kind::Rejected, Kind::Admitted][code as usize];
                    let s = Sample { kind, duration: dt, slow };
                    single.record(now, s);
                    shared.record(now, s);
                }
                prop_assert_eq!(single.totals(now), shared.totals(now));
            }
        }
    }
}
