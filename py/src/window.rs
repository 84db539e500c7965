//! The breaker's window, sized at run time.
//!
//! The core's `CountWindow<N>` takes its size as a const generic, which a
//! Python keyword cannot choose, so the count window here is the same ring
//! (one byte per call, totals kept by add-on-record / subtract-on-evict) over
//! a boxed slice sized once at construction. The time window is the core's,
//! whose bucket count is already a run-time value up to `MAX_BUCKETS`.

use fusewire::window::{Kind, Sample};
use fusewire::{Counts, Tally, TimeWindow, Window};

/// Most buckets a time window may have.
pub const MAX_BUCKETS: usize = 64;

pub struct CountRing {
    slots: Box<[u8]>,
    counts: Counts,
    next: usize,
}

const SLOW: u8 = 0x8;
const KIND: u8 = 0x7;

impl CountRing {
    pub fn new(size: usize) -> Self {
        Self {
            slots: vec![0; size.max(1)].into_boxed_slice(),
            counts: Counts::default(),
            next: 0,
        }
    }

    fn decode(slot: u8) -> Option<Sample> {
        let kind = match slot & KIND {
            1 => Kind::Success,
            2 => Kind::Failure,
            3 => Kind::Timeout,
            4 => Kind::Ignored,
            _ => return None,
        };
        Some(Sample {
            kind,
            duration: 0,
            slow: slot & SLOW != 0,
        })
    }
}

impl Window for CountRing {
    fn record(&mut self, _now: u64, sample: Sample) {
        if sample.kind == Kind::Rejected {
            self.counts.rejected = self.counts.rejected.saturating_add(1);
            return;
        }
        let len = self.slots.len();
        let Some(slot) = self.slots.get_mut(self.next) else {
            return;
        };
        if let Some(old) = Self::decode(*slot) {
            let mut gone = Counts::default();
            gone.count(old);
            self.counts.sub(&gone);
        }
        *slot = (sample.kind as u8 + 1) | if sample.slow { SLOW } else { 0 };
        self.counts.count(sample);
        self.next = (self.next + 1) % len;
    }

    fn totals(&mut self, _now: u64) -> Counts {
        self.counts
    }

    fn clear(&mut self) {
        self.slots.fill(0);
        self.counts = Counts::default();
        self.next = 0;
    }
}

pub enum AnyWindow {
    Count(CountRing),
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
