//! A window whose shape is chosen at run time.

use super::{Counts, Sample, Window};

/// A count-based or a time-based window, picked when the breaker is built
/// (a binding's keyword argument, a config file): the breaker's type stays
/// the same whichever the user asks for.
#[derive(Debug, Clone, Copy)]
pub enum Sliding<C, T> {
    /// The last calls ([`CountRing`](super::CountRing)).
    Count(C),
    /// Buckets over a span of ticks ([`TimeWindow`](super::TimeWindow)).
    Time(T),
}

impl<C: Window, T: Window> Window for Sliding<C, T> {
    const COUNTS_STARTS: bool = C::COUNTS_STARTS || T::COUNTS_STARTS;

    #[inline]
    fn record(&mut self, now: u64, sample: Sample) {
        match self {
            Sliding::Count(w) => w.record(now, sample),
            Sliding::Time(w) => w.record(now, sample),
        }
    }

    #[inline]
    fn totals(&mut self, now: u64) -> Counts {
        match self {
            Sliding::Count(w) => w.totals(now),
            Sliding::Time(w) => w.totals(now),
        }
    }

    fn clear(&mut self) {
        match self {
            Sliding::Count(w) => w.clear(),
            Sliding::Time(w) => w.clear(),
        }
    }

    fn capacity(&self) -> Option<u32> {
        match self {
            Sliding::Count(w) => w.capacity(),
            Sliding::Time(w) => w.capacity(),
        }
    }

    fn mean_latency(&mut self, now: u64) -> Option<u64> {
        match self {
            Sliding::Count(w) => w.mean_latency(now),
            Sliding::Time(w) => w.mean_latency(now),
        }
    }

    fn percentile(&mut self, now: u64, ppm: u32) -> Option<u64> {
        match self {
            Sliding::Count(w) => w.percentile(now, ppm),
            Sliding::Time(w) => w.percentile(now, ppm),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::window::{CountWindow, Kind, TimeWindow};

    #[test]
    fn either_shape_counts_through_the_same_type() {
        type W = Sliding<CountWindow<2>, TimeWindow<2, 8>>;
        let fail = Sample {
            kind: Kind::Failure,
            duration: 4,
            slow: false,
        };
        let mut count: W = Sliding::Count(CountWindow::new());
        let mut time: W = Sliding::Time(TimeWindow::new(100, 2).unwrap());
        for w in [&mut count, &mut time] {
            w.record(0, fail);
            w.record(0, fail);
            w.record(0, fail);
        }
        assert_eq!(count.totals(0).failures, 2, "the last two calls");
        assert_eq!(time.totals(0).failures, 3);
        assert_eq!(
            (count.mean_latency(0), time.mean_latency(0)),
            (None, Some(4))
        );
        assert_eq!(time.totals(200).failures, 0);
        time.clear();
        count.clear();
        assert_eq!(count.totals(0), Counts::default());
    }
}
