//! The shared tick widener: [`TickWidener`](crate::TickWidener)'s rule on
//! one atomic `u64`, so an interrupt handler and the main loop can both
//! turn the raw `u32` tick into `now`.

use super::atomic::{AtomicU64, Ordering::AcqRel, Ordering::Acquire};
use crate::clock::{widen_from, UNSET};

/// A [`TickWidener`](crate::TickWidener) callable through `&self` from
/// several contexts at once (module docs of [`clock`](crate::clock): the
/// rule). The newest widened tick is one `AtomicU64` moved forward by
/// compare-and-swap, so answers never go backwards across callers: a
/// context that read the raw tick, was interrupted by one that widened a
/// newer tick, and then widens its own older reading gets the newer time
/// back, not a 49.7-day jump.
///
/// Layout: `#[repr(C)]`, one `u64`. `const`-constructible, for a `static`.
#[derive(Debug)]
#[repr(C)]
pub struct SharedTickWidener {
    last: AtomicU64,
}

impl SharedTickWidener {
    /// A widener that has seen no tick.
    #[cfg(not(loom))]
    pub const fn new() -> Self {
        Self {
            last: AtomicU64::new(UNSET),
        }
    }

    /// A widener that has seen no tick (loom's atomics are not `const`).
    #[cfg(loom)]
    pub fn new() -> Self {
        Self {
            last: AtomicU64::new(UNSET),
        }
    }

    /// The `u64` time for the raw tick `raw`; see
    /// [`TickWidener::widen`](crate::TickWidener::widen). A reading that
    /// is not ahead of the newest writes nothing.
    pub fn widen(&self, raw: u32) -> u64 {
        let mut last = self.last.load(Acquire);
        loop {
            let next = widen_from(last, raw);
            if next == last {
                return next;
            }
            match self.last.compare_exchange_weak(last, next, AcqRel, Acquire) {
                Ok(_) => return next,
                Err(seen) => last = seen,
            }
        }
    }

    /// The newest widened time, `None` before the first call.
    pub fn last(&self) -> Option<u64> {
        match self.last.load(Acquire) {
            UNSET => None,
            t => Some(t),
        }
    }
}

impl Default for SharedTickWidener {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TickWidener;

    #[test]
    fn same_answers_as_the_single_owner_form() {
        let shared = SharedTickWidener::new();
        let mut single = TickWidener::new();
        assert_eq!(shared.last(), None);
        for raw in [u32::MAX - 5, u32::MAX, 2, 1, 1 << 31, (1 << 31) + 7, 9, 3] {
            assert_eq!(shared.widen(raw), single.widen(raw), "{raw}");
        }
        assert_eq!(shared.last(), single.last());
    }

    #[test]
    fn threads_racing_never_see_time_go_back() {
        use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
        let n: u32 = if cfg!(miri) { 200 } else { 20_000 };
        let raw = AtomicU32::new(u32::MAX - n);
        let w = SharedTickWidener::new();
        std::thread::scope(|s| {
            for _ in 0..2 {
                s.spawn(|| {
                    let mut prev = 0;
                    for _ in 0..n {
                        // Read the raw tick, then widen it: another thread may
                        // widen a newer one in between.
                        let t = raw.fetch_add(1, SeqCst);
                        let now = w.widen(t);
                        assert!(now >= prev);
                        prev = now;
                    }
                });
            }
        });
        assert_eq!(
            w.last(),
            Some(u64::from(u32::MAX) - u64::from(n) + 2 * u64::from(n) - 1)
        );
    }
}
