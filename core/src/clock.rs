//! Where `now` comes from when the host does not pass it by hand.
//!
//! Every operation in fusewire takes `now` as a `u64` tick count. The unit is
//! the host's choice and the only rule is consistency: durations in a config
//! are in the same ticks as `now`. A firmware passes milliseconds from its
//! SysTick, a server nanoseconds from a monotonic clock. The crate never reads
//! a clock itself; [`Clock`] is a convenience for hosts that want one place to
//! read it from, and [`ManualClock`] is the clock tests drive by hand.

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

#[cfg(test)]
mod tests {
    use super::*;

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
        let nanos = MonotonicClock::new().breaker_config();
        assert_eq!(nanos.open_backoff.raw(0), 1_000_000_000);
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
