//! Where `now` comes from when the host does not pass it by hand.
//!
//! Every operation in fusewire takes `now` as a `u64` tick count. The unit is
//! the host's choice and the only rule is consistency: durations in a config
//! are in the same ticks as `now`. A firmware passes milliseconds from its
//! SysTick, a server nanoseconds from a monotonic clock. The crate never reads
//! a clock itself; [`Clock`] is a convenience for hosts that want one place to
//! read it from, and [`ManualClock`] is the clock tests drive by hand.
//!
//! # Firmware ticks that wrap
//!
//! Most firmware counts milliseconds in a `u32` (SysTick, `HAL_GetTick`),
//! which wraps to 0 every 2^32 ms (49.7 days). The core's `now` is a `u64`
//! that must not wrap, so firmware passes its raw tick through a
//! [`TickWidener`] (or, when an interrupt handler and the main loop both
//! read time, one shared [`SharedTickWidener`](crate::shared::SharedTickWidener))
//! and gives the policies the widened value:
//!
//! ```
//! use fusewire::TickWidener;
//!
//! let mut time = TickWidener::new();
//! assert_eq!(time.widen(u32::MAX - 1), u64::from(u32::MAX) - 1);
//! assert_eq!(time.widen(3), (1 << 32) + 3); // the raw tick wrapped
//! ```
//!
//! The rule is serial-number arithmetic (RFC 1982) on the low 32 bits:
//!
//! ```text
//! first call       widened = raw
//! d = raw - low32(widened)   (mod 2^32)
//! d <  2^31        forward:  widened += d       (a wrap is just a forward step)
//! d >= 2^31        behind:   widened unchanged  (a stale or regressed reading)
//! ```
//!
//! So the widened time never goes backwards, and a reading that is behind
//! the newest by less than half the range (2^31 ticks, 24.8 days at 1 kHz)
//! is taken as stale, not as a wrap: the case of an interrupt handler that
//! widened a newer tick between the main loop's read of the raw tick and
//! its call. The price of that choice: the widener must be called at least
//! once every 2^31 - 1 ticks (24.8 days at 1 kHz); a longer silence is
//! mistaken for a stale reading and the widened time stands still until
//! the raw tick passes the newest reading again. A device that can sleep
//! that long calls `widen` from a periodic timer (once a day is plenty).

use core::cell::Cell;

use crate::breaker::BreakerConfig;
use crate::unit::TickUnit;

/// A source of monotonic ticks that knows what one tick is.
pub trait Clock {
    /// The current tick count. Should not go backwards; if it does, the
    /// policies clamp it and count the anomaly.
    fn now(&self) -> u64;

    /// What one tick of [`now`](Self::now) is.
    fn unit(&self) -> TickUnit;

    /// The breaker defaults in this clock's ticks
    /// ([`BreakerConfig::new`] with [`unit`](Self::unit)): the way to get
    /// a config whose durations match the `now` you will pass.
    fn breaker_config(&self) -> BreakerConfig {
        BreakerConfig::new(self.unit())
    }
}

/// A clock that only moves when told to: the test clock.
#[derive(Debug, Clone)]
pub struct ManualClock {
    ticks: Cell<u64>,
    unit: TickUnit,
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new(0)
    }
}

impl ManualClock {
    /// A clock reading `start`, in millisecond ticks.
    pub const fn new(start: u64) -> Self {
        Self::with_unit(start, TickUnit::MILLIS)
    }

    /// A clock reading `start`, in ticks of `unit`.
    pub const fn with_unit(start: u64, unit: TickUnit) -> Self {
        Self {
            ticks: Cell::new(start),
            unit,
        }
    }

    /// Moves the clock forward by `by` ticks (saturating).
    pub fn advance(&self, by: u64) {
        self.ticks.set(self.ticks.get().saturating_add(by));
    }

    /// Sets the clock to `to`, even backwards (to test clock anomalies).
    pub fn set(&self, to: u64) {
        self.ticks.set(to);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> u64 {
        self.ticks.get()
    }

    fn unit(&self) -> TickUnit {
        self.unit
    }
}

/// Nanoseconds since the clock was made, from `std::time::Instant`.
#[cfg(feature = "std")]
#[derive(Debug, Clone, Copy)]
pub struct MonotonicClock {
    origin: std::time::Instant,
}

#[cfg(feature = "std")]
impl MonotonicClock {
    /// A clock reading 0 now.
    pub fn new() -> Self {
        Self {
            origin: std::time::Instant::now(),
        }
    }
}

#[cfg(feature = "std")]
impl Default for MonotonicClock {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(feature = "std")]
impl Clock for MonotonicClock {
    fn now(&self) -> u64 {
        u64::try_from(self.origin.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    fn unit(&self) -> TickUnit {
        TickUnit::NANOS
    }
}

/// Turns a wrapping `u32` tick into the core's `u64` `now` (module docs:
/// the rule, and how often it must be called).
///
/// 8 bytes; `const`-constructible, so a firmware can keep one in a
/// `static` behind its own mutex or a critical section, or use
/// [`SharedTickWidener`](crate::shared::SharedTickWidener) from several
/// contexts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct TickWidener {
    /// The newest widened time; [`UNSET`] before the first call.
    last: u64,
}

/// The widened value no call returns (2^64 - 1 ticks is 584 million years
/// of milliseconds): marks a widener that has seen no tick yet.
pub(crate) const UNSET: u64 = u64::MAX;

/// One step of the rule: the widened time after seeing `raw`, given the
/// newest widened time `last` ([`UNSET`] before the first reading).
#[inline]
pub(crate) const fn widen_from(last: u64, raw: u32) -> u64 {
    if last == UNSET {
        return raw as u64;
    }
    let d = raw.wrapping_sub(last as u32);
    if d < 1 << 31 {
        // Stops one below UNSET, so an answer never means "unset"
        // (2^64 ticks away: a limit, not a case that happens).
        let next = last.saturating_add(d as u64);
        if next == UNSET {
            UNSET - 1
        } else {
            next
        }
    } else {
        last
    }
}

impl TickWidener {
    /// A widener that has seen no tick: the first [`TickWidener::widen`]
    /// returns its raw tick unchanged.
    pub const fn new() -> Self {
        Self { last: UNSET }
    }

    /// A widener whose newest reading is `widened` (restoring a saved one:
    /// pass what [`TickWidener::last`] returned).
    pub const fn starting_at(widened: u64) -> Self {
        Self { last: widened }
    }

    /// The `u64` time for the raw tick `raw`: never less than the previous
    /// answer; a forward step (wrap included) of less than 2^31 ticks is
    /// added, a reading behind the newest returns the newest.
    #[inline]
    pub fn widen(&mut self, raw: u32) -> u64 {
        self.last = widen_from(self.last, raw);
        self.last
    }

    /// The newest widened time, `None` before the first call.
    pub const fn last(&self) -> Option<u64> {
        if self.last == UNSET {
            None
        } else {
            Some(self.last)
        }
    }
}

impl Default for TickWidener {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn widens_across_every_wrap() {
        let mut w = TickWidener::new();
        assert_eq!(w.last(), None);
        assert_eq!(w.widen(u32::MAX - 10), u64::from(u32::MAX) - 10);
        assert_eq!(w.widen(5), (1 << 32) + 5);
        // Half the range minus one is the longest forward step.
        assert_eq!(w.widen((1 << 31) + 4), (1 << 32) + (1 << 31) + 4);
        assert_eq!(w.widen(u32::MAX), (1 << 32) + u64::from(u32::MAX));
        assert_eq!(w.widen(0), 2 << 32);
        assert_eq!(w.last(), Some(2 << 32));
    }

    #[test]
    fn a_reading_behind_is_stale_not_a_wrap() {
        let mut w = TickWidener::new();
        assert_eq!(w.widen(1000), 1000);
        // An interrupt widened 1000 before the main loop passed the 990 it had read.
        assert_eq!(w.widen(990), 1000);
        // Behind by exactly half the range: still stale.
        assert_eq!(w.widen(1000u32.wrapping_add(1 << 31)), 1000);
        assert_eq!(w.widen(1001), 1001);
        // A reading from before the wrap, seen after it, is stale too.
        let mut w = TickWidener::new();
        w.widen(u32::MAX - 2);
        assert_eq!(w.widen(3), (1 << 32) + 3);
        assert_eq!(w.widen(u32::MAX - 1), (1 << 32) + 3);
    }

    #[test]
    fn first_reading_in_the_upper_half_is_taken_as_is() {
        let mut w = TickWidener::new();
        assert_eq!(w.widen(3_000_000_000), 3_000_000_000);
        assert_eq!(w.widen(3_000_000_001), 3_000_000_001);
        let w2 = TickWidener::starting_at(w.last().unwrap());
        assert_eq!(w2, w);
        assert_eq!(TickWidener::default(), TickWidener::new());
    }

    #[test]
    fn never_reaches_the_unset_marker() {
        let mut w = TickWidener::starting_at(u64::MAX - 3);
        assert_eq!(w.widen(96), u64::MAX - 1);
        assert_eq!(w.widen(196), u64::MAX - 1);
        assert_eq!(w.last(), Some(u64::MAX - 1));
    }

    proptest! {
        #![proptest_config(crate::testing::proptest_config())]
        /// Monotonic, and exact whenever every step is forward by less than
        /// half the range.
        #[test]
        fn monotonic_and_exact_for_forward_steps(
            start in any::<u32>(),
            steps in proptest::collection::vec(0u32..(1 << 31), 0..64),
            noise in proptest::collection::vec(any::<u32>(), 0..64),
        ) {
            let mut w = TickWidener::new();
            let mut truth = u64::from(start);
            prop_assert_eq!(w.widen(start), truth);
            for s in &steps {
                truth += u64::from(*s);
                prop_assert_eq!(w.widen(truth as u32), truth);
            }
            // Any readings at all: never backwards, never more than 2^31 - 1 per call.
            let mut prev = truth;
            for raw in noise {
                let now = w.widen(raw);
                prop_assert!(now >= prev && now - prev < 1 << 31);
                prev = now;
            }
        }
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let c = ManualClock::new(5);
        assert_eq!(c.now(), 5);
        c.advance(10);
        assert_eq!(c.now(), 15);
        c.advance(u64::MAX);
        assert_eq!(c.now(), u64::MAX);
        c.set(3);
        assert_eq!(c.now(), 3);
    }

    /// Issue 21: the crate's own nanosecond clock with the defaults used
    /// to give a breaker that reopened after one microsecond.
    #[cfg(feature = "std")]
    #[test]
    fn a_clock_builds_configs_in_its_own_ticks() {
        #[cfg(feature = "std")]
        assert_eq!(
            MonotonicClock::new().breaker_config().open_backoff.raw(0),
            1_000_000_000
        );
        assert_eq!(
            ManualClock::new(0).breaker_config().open_backoff.raw(0),
            1000
        );
        let rtc = ManualClock::with_unit(
            0,
            TickUnit::per_second(core::num::NonZeroU64::new(100).unwrap()),
        );
        assert_eq!(rtc.breaker_config().open_backoff.raw(0), 100);
    }
}
