//! The breaker's window, sized at run time.
//!
//! Both shapes are the core's: the count window is its `CountRing` over a
//! boxed slice sized once from `window_size`, the time window its
//! `TimeWindow`, whose bucket count is a run-time value up to `MAX_BUCKETS`.

use fusewire::window::Sample;
use fusewire::{CountRing, Counts, TimeWindow, Window};

/// The count window: the core's ring over a slice sized at run time.
pub type CountWindow = CountRing<Box<[u8]>>;

/// Most buckets a time window may have.
pub const MAX_BUCKETS: usize = 64;

pub enum AnyWindow {
    Count(CountWindow),
    Time(Box<TimeWindow<MAX_BUCKETS, 0>>),
}

impl Window for AnyWindow {
    fn record(&mut self, now: u64, sample: Sample) {
        match self {
            AnyWindow::Count(w) => w.record(now, sample),
            AnyWindow::Time(w) => w.record(now, sample),
        }
    }

    fn totals(&mut self, now: u64) -> Counts {
        match self {
            AnyWindow::Count(w) => w.totals(now),
            AnyWindow::Time(w) => w.totals(now),
        }
    }

    fn clear(&mut self) {
        match self {
            AnyWindow::Count(w) => w.clear(),
            AnyWindow::Time(w) => w.clear(),
        }
    }
}
