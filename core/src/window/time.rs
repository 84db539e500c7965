//! The time-based window: buckets of counts and latency over a span of ticks.

use super::{Counts, Kind, Rolling, Sample, Tally, Window};
use crate::error::ConfigResult;
use crate::histogram::Histogram;

/// One bucket (a frame) of a [`TimeWindow`]: counts and a latency histogram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct Frame<const H: usize> {
    /// Calls by kind.
    pub counts: Counts,
    /// Latency of successes and failures (timeouts included).
    pub latency: Histogram<H>,
}

impl<const H: usize> Frame<H> {
    const EMPTY: Self = Self {
        counts: Counts::ZERO,
        latency: Histogram::new(),
    };
}

impl<const H: usize> Default for Frame<H> {
    fn default() -> Self {
        Self::EMPTY
    }
}

impl<const H: usize> Tally for Frame<H> {
    fn add(&mut self, o: &Self) {
        self.counts.add(&o.counts);
        self.latency.add(&o.latency);
    }
    fn sub(&mut self, o: &Self) {
        self.counts.sub(&o.counts);
        self.latency.sub(&o.latency);
    }
}

/// Up to `B` buckets covering a span of ticks, each with counts and an
/// `H`-bin latency histogram (`H = 0` for none). Memory is fixed:
/// `B * (24 + 4*H + 12)` bytes or so, whatever the traffic.
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct TimeWindow<const B: usize, const H: usize = 0> {
    ring: Rolling<Frame<H>, B>,
}

impl<const B: usize, const H: usize> TimeWindow<B, H> {
    /// A window of `buckets` (1..=B) buckets covering `span` ticks.
    /// Errors name `"span"` or `"buckets"`.
    pub const fn new(span: u64, buckets: usize) -> ConfigResult<Self> {
        match Rolling::new(span, buckets, Frame::EMPTY) {
            Ok(ring) => Ok(Self { ring }),
            Err(e) => Err(e),
        }
    }

    /// The bucket ring, for hosts that show the window bucket by bucket.
    pub fn ring(&mut self, now: u64) -> &Rolling<Frame<H>, B> {
        self.ring.rotate(now);
        &self.ring
    }

    /// The whole window as one bucket (counts and latency) as of `now`.
    pub fn total(&mut self, now: u64) -> &Frame<H> {
        self.ring.total(now)
    }
}

impl<const B: usize, const H: usize> Window for TimeWindow<B, H> {
    fn record(&mut self, now: u64, sample: Sample) {
        let timed = matches!(sample.kind, Kind::Success | Kind::Failure | Kind::Timeout);
        self.ring.update(now, |b| {
            b.counts.count(sample);
            if timed {
                b.latency.record(sample.duration);
            }
        });
    }

    fn totals(&mut self, now: u64) -> Counts {
        self.ring.total(now).counts
    }

    fn clear(&mut self) {
        self.ring.clear();
    }

    fn mean_latency(&mut self, now: u64) -> Option<u64> {
        self.ring.total(now).latency.mean()
    }

    fn percentile(&mut self, now: u64, ppm: u32) -> Option<u64> {
        self.ring.total(now).latency.percentile(ppm)
    }
}

/// Counts alone over a span of ticks: what a [`TimeWindow<B, 0>`] counts,
/// without its per-bucket latency count and sum (28 bytes a bucket instead
/// of 56). For hosts that want no latency, such as the C door's timed
/// breaker on firmware. Build one with [`Rolling::counting`].
pub type TimeCounts<const B: usize> = Rolling<Counts, B>;

impl<const B: usize> Rolling<Counts, B> {
    /// A window of `buckets` (1..=B) buckets of counts covering `span`
    /// ticks. Errors name `"span"` or `"buckets"`, as [`TimeWindow::new`].
    pub const fn counting(span: u64, buckets: usize) -> ConfigResult<Self> {
        Rolling::new(span, buckets, Counts::ZERO)
    }
}

impl<const B: usize> Window for Rolling<Counts, B> {
    fn record(&mut self, now: u64, sample: Sample) {
        self.update(now, |c| c.count(sample));
    }

    fn totals(&mut self, now: u64) -> Counts {
        *self.total(now)
    }

    fn clear(&mut self) {
        Rolling::clear(self);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::proptest_config;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(proptest_config())]
        /// Same samples at the same times, same counts as a `TimeWindow`
        /// (which also keeps latency), rolling and clearing included.
        #[test]
        fn time_counts_count_what_a_time_window_counts(
            span in 1u64..5_000,
            buckets in 1usize..=8,
            steps in proptest::collection::vec((0u64..700, 0u8..6, any::<bool>()), 0..200),
        ) {
            let span = span.max(buckets as u64);
            let mut lean = TimeCounts::<8>::counting(span, buckets).unwrap();
            let mut full = TimeWindow::<8, 0>::new(span, buckets).unwrap();
            let mut now = 0u64;
            for (dt, code, slow) in steps {
                now += dt;
                if code == 5 {
                    lean.clear();
                    full.clear();
                } else {
                    let kind = [Kind::Success, Kind::Failure, Kind::Timeout, Kind::Ignored, Kind::Rejected][code as usize];
                    let s = Sample { kind, duration: dt, slow };
                    lean.record(now, s);
                    full.record(now, s);
                }
                prop_assert_eq!(lean.totals(now), full.totals(now));
            }
        }
    }

    #[test]
    fn time_counts_are_half_the_size() {
        assert_eq!(core::mem::size_of::<Frame<0>>(), 56);
        assert_eq!(core::mem::size_of::<Counts>(), 28);
        let e = TimeCounts::<4>::counting(3, 4).unwrap_err();
        assert_eq!(e.field, "span");
    }

    #[test]
    fn counts_and_latency_roll_out_together() {
        let mut w = TimeWindow::<4, 64>::new(1000, 4).unwrap();
        let ok = |d| Sample {
            kind: Kind::Success,
            duration: d,
            slow: false,
        };
        w.record(0, ok(10));
        w.record(300, ok(20));
        w.record(
            300,
            Sample {
                kind: Kind::Rejected,
                duration: 0,
                slow: false,
            },
        );
        assert_eq!(w.totals(999).successes, 2);
        assert_eq!(w.mean_latency(999), Some(15));
        assert_eq!(w.totals(1000).successes, 1);
        assert_eq!(w.mean_latency(1000), Some(20));
        assert_eq!(w.totals(1000).rejected, 1);
        assert_eq!(w.percentile(5000, 500_000), None);
    }

    #[test]
    fn mean_stays_exact_after_a_huge_bucket_rolls_out() {
        // fuzz/regressions.md 2: a saturated sum used to corrupt the total.
        let mut w = TimeWindow::<2, 8>::new(200, 2).unwrap();
        let ok = |d| Sample {
            kind: Kind::Success,
            duration: d,
            slow: false,
        };
        w.record(0, ok(u64::MAX));
        w.record(100, ok(10));
        assert_eq!(w.mean_latency(150), Some(u64::MAX / 2 + 5));
        assert_eq!(w.mean_latency(250), Some(10));
    }
}
