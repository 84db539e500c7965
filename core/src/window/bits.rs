//! The bit-packed count window: the last 8, 16, 32 or 64 calls, one bit per
//! call in each of five planes.

use super::{Counts, Kind, Sample, Window};

/// An unsigned integer used as one bit per call: `u8`, `u16`, `u32` or
/// `u64` (the window length is its width). Sealed.
pub trait Plane: Copy + private::Sealed {
    /// Calls one plane holds: its width in bits.
    const CALLS: u8;
    /// The plane with no call marked.
    const EMPTY: Self;
    /// The plane with bit `i` set to `on` (`i < CALLS`).
    fn with(self, i: u8, on: bool) -> Self;
    /// Calls marked.
    fn marked(self) -> u32;
}

mod private {
    pub trait Sealed {}
}

macro_rules! plane {
    ($($t:ty => |$x:ident| $marked:expr),*) => {$(
        impl private::Sealed for $t {}
        impl Plane for $t {
            const CALLS: u8 = <$t>::BITS as u8;
            const EMPTY: Self = 0;
            #[inline]
            fn with(self, i: u8, on: bool) -> Self {
                let bit: $t = 1 << (i & (Self::CALLS - 1));
                (self & !bit) | if on { bit } else { 0 }
            }
            #[inline]
            fn marked(self) -> u32 {
                let $x = self;
                $marked
            }
        }
    )*};
}
plane!(
    u8 => |x| ones(x.into()),
    u16 => |x| ones(x.into()),
    u32 => |x| ones(x),
    u64 => |x| ones(x as u32) + ones((x >> 32) as u32)
);

/// Set bits of `x`, out of line: an MCU without a population-count
/// instruction expands each `count_ones` to a dozen instructions, and a
/// window reads five planes.
#[inline(never)]
fn ones(x: u32) -> u32 {
    x.count_ones()
}

/// The last `P::CALLS` calls (8, 16, 32 or 64), one bit per call in each of
/// five planes (succeeded, failed, timed out, slow, ignored): the count
/// window for firmware, where RAM is counted in bytes.
///
/// It counts exactly what a [`CountWindow`](super::CountWindow) of the same
/// length counts (a property test holds them together), in less memory:
/// `BitWindow<u16>` is 16 bytes where `CountWindow<16>` is 44. The counts
/// are not kept apart but read off the planes (five population counts).
/// Rejections are counted from the last [`clear`](Window::clear), as in
/// every count window; no latency is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct BitWindow<P> {
    rejected: u32,
    succeeded: P,
    failed: P,
    timed_out: P,
    slow: P,
    ignored: P,
    /// The slot the next call takes. 16 bits, so `BitWindow<u16>` has no
    /// padding byte (which made building one a `memcpy` on firmware).
    next: u16,
}

impl<P: Plane> BitWindow<P> {
    /// An empty window.
    pub const fn new() -> Self {
        Self {
            rejected: 0,
            succeeded: P::EMPTY,
            failed: P::EMPTY,
            timed_out: P::EMPTY,
            slow: P::EMPTY,
            ignored: P::EMPTY,
            next: 0,
        }
    }

    /// How many calls the window holds (`P`'s width).
    pub const fn len(&self) -> usize {
        P::CALLS as usize
    }

    /// Whether the window holds no call yet (rejections aside).
    pub fn is_empty(&self) -> bool {
        let c = self.counts();
        c.all() == c.rejected
    }

    /// The counts over the window (a count window needs no `now`).
    pub fn counts(&self) -> Counts {
        Counts {
            successes: self.succeeded.marked(),
            failures: self.failed.marked(),
            timeouts: self.timed_out.marked(),
            slow: self.slow.marked(),
            ignored: self.ignored.marked(),
            rejected: self.rejected,
            admitted: 0,
        }
    }
}

impl<P: Plane> Default for BitWindow<P> {
    fn default() -> Self {
        Self::new()
    }
}

impl<P: Plane> Window for BitWindow<P> {
    const COUNTS_STARTS: bool = false;

    fn record(&mut self, _now: u64, sample: Sample) {
        let kind = sample.kind;
        if matches!(kind, Kind::Rejected | Kind::Admitted) {
            // A bit window has no admitted counter: `RateBasis::Started`
            // needs a time window (`Rules::fits`), so only rejections count.
            if kind == Kind::Rejected {
                self.rejected = self.rejected.saturating_add(1);
            }
            return;
        }
        let i = self.next as u8;
        let failed = matches!(kind, Kind::Failure | Kind::Timeout);
        self.succeeded = self.succeeded.with(i, kind == Kind::Success);
        self.failed = self.failed.with(i, failed);
        self.timed_out = self.timed_out.with(i, kind == Kind::Timeout);
        self.slow = self.slow.with(i, sample.slow && kind != Kind::Ignored);
        self.ignored = self.ignored.with(i, kind == Kind::Ignored);
        self.next = if i + 1 >= P::CALLS {
            0
        } else {
            u16::from(i) + 1
        };
    }

    fn totals(&mut self, _now: u64) -> Counts {
        self.counts()
    }

    fn clear(&mut self) {
        *self = Self::new();
    }

    fn capacity(&self) -> Option<u32> {
        Some(u32::from(P::CALLS))
    }
}

impl<P: Plane> crate::intact::Intact for BitWindow<P> {
    /// `next`, a bit index below the plane's width.
    #[inline(always)]
    fn intact(read: &impl Fn(usize) -> u8, at: usize) -> bool {
        crate::intact::u16_at(read, at + core::mem::offset_of!(Self, next)) < u16::from(P::CALLS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::proptest_config;
    use crate::window::CountWindow;
    use proptest::prelude::*;

    fn sample(code: u8) -> Sample {
        let kind = match code % 5 {
            0 => Kind::Success,
            1 => Kind::Failure,
            2 => Kind::Timeout,
            3 => Kind::Ignored,
            _ => Kind::Rejected,
        };
        Sample {
            kind,
            duration: 0,
            slow: code & 0x80 != 0,
        }
    }

    /// Feeds both windows the same samples (255: clear) and compares.
    fn same<P: Plane, const N: usize>(codes: &[u8]) -> Result<(), TestCaseError> {
        let mut bits = BitWindow::<P>::new();
        let mut bytes = CountWindow::<N>::new();
        for &c in codes {
            if c == 255 {
                bits.clear();
                bytes.clear();
            } else {
                bits.record(0, sample(c));
                bytes.record(0, sample(c));
            }
            prop_assert_eq!(bits.counts(), bytes.totals(0));
            prop_assert_eq!(bits.is_empty(), bytes.is_empty());
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(proptest_config())]
        #[test]
        fn counts_what_a_count_window_of_its_length_counts(
            codes in proptest::collection::vec(any::<u8>(), 0..300)
        ) {
            same::<u8, 8>(&codes)?;
            same::<u16, 16>(&codes)?;
            same::<u32, 32>(&codes)?;
            same::<u64, 64>(&codes)?;
        }
    }

    #[test]
    fn the_sixteen_call_window_is_sixteen_bytes() {
        assert_eq!(core::mem::size_of::<BitWindow<u16>>(), 16);
        assert_eq!(BitWindow::<u16>::new().len(), 16);
    }

    #[test]
    fn evicts_the_oldest_call() {
        let mut w = BitWindow::<u8>::new();
        w.record(0, sample(1)); // a failure
        for _ in 0..7 {
            w.record(0, sample(0));
        }
        assert_eq!((w.counts().failures, w.counts().successes), (1, 7));
        w.record(0, sample(0)); // evicts the failure
        assert_eq!((w.counts().failures, w.counts().successes), (0, 8));
        w.record(0, sample(4));
        assert_eq!(w.counts().rejected, 1);
    }
}
