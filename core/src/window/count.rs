//! The count-based window: the last `N` calls.

use super::{Counts, Kind, Sample, Window};

/// The outcomes of the last `N` calls, one byte each.
///
/// Rejections are not calls in the ring; they are counted from the last
/// [`clear`](Window::clear) on. This window keeps no latency (use a
/// [`TimeWindow`](super::TimeWindow) for percentiles).
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct CountWindow<const N: usize> {
    slots: [u8; N],
    counts: Counts,
    next: u32,
}

const SLOW: u8 = 0x8;
const KIND: u8 = 0x7;

impl<const N: usize> CountWindow<N> {
    /// An empty window. `N` must be at least 1 (checked at compile time).
    pub const fn new() -> Self {
        const {
            assert!(
                N > 0 && N <= u32::MAX as usize,
                "CountWindow needs 1..=u32::MAX slots"
            )
        };
        Self {
            slots: [0; N],
            counts: Counts {
                successes: 0,
                failures: 0,
                timeouts: 0,
                slow: 0,
                ignored: 0,
                rejected: 0,
            },
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

impl<const N: usize> Default for CountWindow<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> Window for CountWindow<N> {
    fn record(&mut self, _now: u64, sample: Sample) {
        if sample.kind == Kind::Rejected {
            self.counts.rejected = self.counts.rejected.saturating_add(1);
            return;
        }
        let Some(slot) = self.slots.get_mut(self.next as usize) else {
            return;
        };
        if let Some(old) = Self::decode(*slot) {
            self.counts.uncount(old);
        }
        *slot = (sample.kind as u8 + 1) | if sample.slow { SLOW } else { 0 };
        self.counts.count(sample);
        self.next += 1;
        if self.next as usize >= N {
            self.next = 0;
        }
    }

    fn totals(&mut self, _now: u64) -> Counts {
        self.counts
    }

    fn clear(&mut self) {
        *self = Self::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(kind: Kind, slow: bool) -> Sample {
        Sample {
            kind,
            duration: 0,
            slow,
        }
    }

    #[test]
    fn keeps_only_the_last_n_calls() {
        let mut w = CountWindow::<3>::new();
        w.record(0, s(Kind::Failure, false));
        w.record(0, s(Kind::Timeout, true));
        w.record(0, s(Kind::Success, false));
        w.record(0, s(Kind::Rejected, false));
        let c = w.totals(0);
        assert_eq!(
            (c.failures, c.timeouts, c.successes, c.slow, c.rejected),
            (2, 1, 1, 1, 1)
        );
        w.record(0, s(Kind::Ignored, false)); // evicts the failure
        w.record(0, s(Kind::Success, false)); // evicts the slow timeout
        let c = w.totals(0);
        assert_eq!(
            (c.failures, c.timeouts, c.successes, c.slow, c.ignored),
            (0, 0, 2, 0, 1)
        );
        w.clear();
        assert_eq!(w.totals(0), Counts::default());
    }
}
