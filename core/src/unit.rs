//! What one tick is: the unit that turns durations into the core's ticks,
//! so a default means the same time whatever clock the host reads.
//!
//! Every duration in a config is in ticks of the host's clock. A default
//! given in bare ticks ("open for 1000") is one second on a millisecond
//! SysTick and one microsecond on a nanosecond `Instant`; so the core has no
//! such default: configs with durations are built from a [`TickUnit`]
//! ([`BreakerConfig::new`](crate::BreakerConfig::new)), or from the clock
//! that carries one ([`Clock::breaker_config`](crate::Clock::breaker_config)).

use core::num::NonZeroU64;
use core::time::Duration;

/// How many ticks make a second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TickUnit {
    per_second: NonZeroU64,
}

impl TickUnit {
    /// Nanosecond ticks (`std::time::Instant`, [`MonotonicClock`](crate::clock::MonotonicClock)).
    pub const NANOS: Self = Self::per_second(NonZeroU64::new(1_000_000_000).unwrap());
    /// Microsecond ticks.
    pub const MICROS: Self = Self::per_second(NonZeroU64::new(1_000_000).unwrap());
    /// Millisecond ticks (`HAL_GetTick`, SysTick at 1 kHz, JavaScript's `Date.now`).
    pub const MILLIS: Self = Self::per_second(NonZeroU64::new(1_000).unwrap());
    /// Second ticks.
    pub const SECONDS: Self = Self::per_second(NonZeroU64::new(1).unwrap());

    /// `n` ticks a second (a 32 768 Hz RTC, a 100 Hz RTOS tick).
    pub const fn per_second(n: NonZeroU64) -> Self {
        Self { per_second: n }
    }

    /// Ticks in one second.
    pub const fn ticks_per_second(self) -> u64 {
        self.per_second.get()
    }

    /// `d` in ticks, rounded down, saturating at `u64::MAX`.
    pub const fn ticks(self, d: Duration) -> u64 {
        let per = self.per_second.get() as u128;
        let t = d.as_secs() as u128 * per + d.subsec_nanos() as u128 * per / 1_000_000_000;
        if t > u64::MAX as u128 {
            u64::MAX
        } else {
            t as u64
        }
    }

    /// `ms` milliseconds in ticks (rounded down, saturating).
    pub const fn millis(self, ms: u64) -> u64 {
        self.ticks(Duration::from_millis(ms))
    }

    /// `ticks` as a duration (saturating at `Duration::MAX`'s seconds).
    pub const fn duration(self, ticks: u64) -> Duration {
        let per = self.per_second.get();
        let secs = ticks / per;
        let rest = (ticks % per) as u128 * 1_000_000_000 / per as u128;
        Duration::new(secs, rest as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_become_ticks_in_each_unit() {
        let s = Duration::from_secs(1);
        assert_eq!(TickUnit::NANOS.ticks(s), 1_000_000_000);
        assert_eq!(TickUnit::MILLIS.ticks(s), 1000);
        assert_eq!(TickUnit::MILLIS.ticks(Duration::from_micros(1500)), 1);
        assert_eq!(TickUnit::SECONDS.millis(2500), 2);
        assert_eq!(TickUnit::NANOS.ticks(Duration::MAX), u64::MAX);
        let rtc = TickUnit::per_second(NonZeroU64::new(32_768).unwrap());
        assert_eq!(rtc.millis(1000), 32_768);
        assert_eq!(rtc.duration(16_384), Duration::from_millis(500));
        assert_eq!(
            TickUnit::NANOS.duration(1_500_000_000),
            Duration::from_millis(1500)
        );
    }
}
