//! The count-based window: the last `N` calls.

use super::{Counts, Kind, Sample, Window};
use crate::error::{ConfigError, ConfigResult, Field, Problem};

/// The outcomes of the last calls, one byte each, over any byte storage:
/// an inline array ([`CountWindow<N>`], sized at compile time), a caller's
/// `&mut [u8]` (C firmware) or a boxed slice (bindings that size it at run
/// time).
///
/// Rejections are not calls in the ring; they are counted from the last
/// [`clear`](Window::clear) on. This window keeps no latency (use a
/// [`TimeWindow`](super::TimeWindow) for percentiles).
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct CountRing<S> {
    counts: Counts,
    next: u32,
    slots: S,
}

/// The last `N` calls, stored inline: the window for firmware and statics.
pub type CountWindow<const N: usize> = CountRing<[u8; N]>;

impl<const N: usize> CountRing<[u8; N]> {
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
            counts: Counts::ZERO,
            next: 0,
        }
    }
}

impl<S: AsRef<[u8]> + AsMut<[u8]>> CountRing<S> {
    /// A window of `slots.len()` calls over the given storage, which is
    /// cleared. Errors (`"slots"`): empty, or longer than `u32::MAX`.
    pub fn over(mut slots: S) -> ConfigResult<Self> {
        let len = slots.as_ref().len();
        if len == 0 {
            return Err(ConfigError::of(Field::Slots, Problem::Zero));
        }
        if len > u32::MAX as usize {
            return Err(ConfigError::of(Field::Slots, Problem::OutOfRange));
        }
        slots.as_mut().fill(0);
        Ok(Self {
            slots,
            counts: Counts::ZERO,
            next: 0,
        })
    }

    /// How many calls the window holds.
    pub fn len(&self) -> usize {
        self.slots.as_ref().len()
    }

    /// Whether the window holds no call yet.
    pub fn is_empty(&self) -> bool {
        self.counts.all() == self.counts.rejected
    }

    /// The kind of call in slot `i`, in slot order (not call order: once
    /// the ring has wrapped, the oldest is at [`cursor`](Self::cursor));
    /// `None` for a slot not used since the last clear, or past the end.
    /// For hosts that show or save the ring as it is.
    pub fn slot(&self, i: usize) -> Option<Kind> {
        let byte = *self.slots.as_ref().get(i)?;
        Sample::from_slot(byte).map(|s| s.kind)
    }

    /// The slot the next call goes into.
    pub fn cursor(&self) -> usize {
        self.next as usize
    }

    /// Empties the ring, as [`Window::clear`], with the next call going
    /// into slot `cursor` (modulo the length): for a host restoring a ring
    /// it saved slot by slot (record the calls oldest first after it).
    pub fn clear_at(&mut self, cursor: usize) {
        self.clear();
        // The length fits u32 (`over`, `new`), and so does the remainder.
        self.next = (cursor % self.slots.as_ref().len()) as u32;
    }
}

impl<const N: usize> Default for CountRing<[u8; N]> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S: AsRef<[u8]> + AsMut<[u8]>> Window for CountRing<S> {
    const COUNTS_STARTS: bool = false;

    fn record(&mut self, _now: u64, sample: Sample) {
        if matches!(sample.kind, Kind::Rejected | Kind::Admitted) {
            // Not calls in the ring: counted from the last clear.
            self.counts.count(sample);
            return;
        }
        let slots = self.slots.as_mut();
        let len = slots.len();
        let Some(slot) = slots.get_mut(self.next as usize) else {
            return;
        };
        if let Some(old) = Sample::from_slot(*slot) {
            self.counts.uncount(old);
        }
        *slot = sample.to_slot();
        self.counts.count(sample);
        self.next += 1;
        if self.next as usize >= len {
            self.next = 0;
        }
    }

    fn totals(&mut self, _now: u64) -> Counts {
        self.counts
    }

    fn clear(&mut self) {
        self.slots.as_mut().fill(0);
        self.counts = Counts::ZERO;
        self.next = 0;
    }

    fn capacity(&self) -> Option<u32> {
        // `over` and `new` keep the length within u32.
        Some(self.slots.as_ref().len() as u32)
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
    fn slots_read_in_slot_order_and_a_ring_restores_where_it_was() {
        let mut w = CountWindow::<5>::new();
        let kinds = [Kind::Failure, Kind::Success, Kind::Success];
        for (i, k) in kinds.iter().cycle().take(9).enumerate() {
            w.record(i as u64, s(*k, false));
        }
        // calls 5..9 overwrote slots 0..4: F S S F | slot 4 still call 4 (S)
        let slots: [Option<Kind>; 5] = core::array::from_fn(|i| w.slot(i));
        let (f, o) = (Some(Kind::Failure), Some(Kind::Success));
        assert_eq!(slots, [o, f, o, o, o]);
        assert_eq!((w.cursor(), w.slot(5)), (4, None));
        // restored slot by slot: clear at the oldest, record oldest first
        let mut r = CountWindow::<5>::new();
        r.clear_at(w.cursor() + 5);
        for i in 0..5 {
            let k = w.slot((w.cursor() + i) % 5).unwrap();
            r.record(0, s(k, false));
        }
        assert_eq!(core::array::from_fn::<_, 5, _>(|i| r.slot(i)), slots);
        assert_eq!(r.cursor(), 4);
        assert_eq!(r.totals(0), w.totals(0));
        r.clear_at(2);
        assert_eq!(
            (r.cursor(), r.slot(0), r.totals(0).outcomes()),
            (2, None, 0)
        );
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

    #[test]
    fn runs_over_borrowed_storage() {
        let mut storage = [0xFFu8; 2];
        let mut w = CountRing::over(&mut storage[..]).unwrap();
        assert_eq!(w.len(), 2);
        assert!(w.is_empty());
        for k in [Kind::Failure, Kind::Failure, Kind::Success] {
            w.record(0, s(k, false));
        }
        assert_eq!((w.totals(0).failures, w.totals(0).successes), (1, 1));
        let e = CountRing::over(&mut [][..]).unwrap_err();
        assert_eq!((e.field, e.problem), ("slots", Problem::Zero));
    }
}
