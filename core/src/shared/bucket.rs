//! The shared token bucket: GCRA with its theoretical arrival time in one
//! atomic `u64`.

use core::num::NonZeroU32;

use super::atomic::{
    AtomicU64,
    Ordering::{AcqRel, Acquire},
};
use crate::bucket::{settled, take_from_debt, Denied, Rate, Refused};
use crate::error::{ConfigError, ConfigResult, Field, Problem};

/// The word of a bucket that never gave a token: full, whatever `now` is.
/// A real arrival time equal to it is stored one sub-tick later (a debt
/// one sub-tick larger: never an extra token).
const UNTOUCHED: u64 = u64::MAX;

const fn stored(tat: u64) -> u64 {
    if tat == UNTOUCHED {
        tat.wrapping_add(1)
    } else {
        tat
    }
}

/// A token bucket that many threads share through `&self`: the rule,
/// answers and exact fractional rates of [`Bucket`](crate::Bucket), with the
/// theoretical arrival time in one `AtomicU64`.
///
/// An admission is a compare-and-swap loop on that word; a refusal writes
/// nothing, so a flood of refused callers does not contend.
///
/// Why a `u64` is enough: the word holds the arrival time in sub-ticks
/// (`now * tokens`) modulo 2^64, and the debt is read as the wrapping
/// difference to `now`, which is exact while it lies within ±2^63
/// sub-ticks. The debt never exceeds `burst * period` (checked below 2^63
/// at construction), so every answer equals the single-owner form's as long
/// as `now` stays within `2^63 / tokens` ticks of the last admission — 292
/// years of nanoseconds at one token per tick or slower, 41 years at 7
/// tokens per tick. Beyond that, a long idle bucket may refuse where it
/// should admit; it never grants more than the burst. A bucket that has
/// never admitted is full at any `now`.
///
/// Layout: `#[repr(C)]`, pointer-free: the `u64` word, then the [`Rate`] and
/// the burst.
#[derive(Debug)]
#[repr(C)]
pub struct SharedBucket {
    tat: AtomicU64,
    rate: Rate,
    burst: NonZeroU32,
}

impl SharedBucket {
    /// A full bucket of `burst` tokens refilled at `rate`. Errors:
    /// `"burst"` (`OutOfRange`) when `burst * period` (in lowest terms) is
    /// 2^63 sub-ticks or more.
    pub fn new(burst: NonZeroU32, rate: Rate) -> ConfigResult<Self> {
        let cap = u128::from(burst.get()) * u128::from(rate.period());
        if cap >= 1 << 63 {
            return Err(ConfigError::of(Field::Burst, Problem::OutOfRange));
        }
        Ok(Self {
            tat: AtomicU64::new(UNTOUCHED),
            rate,
            burst,
        })
    }

    fn now_s(&self, now: u64) -> u64 {
        now.wrapping_mul(u64::from(self.rate.tokens()))
    }

    /// The debt in sub-ticks: how far the arrival time is ahead of `now_s`.
    fn debt(tat: u64, now_s: u64) -> u64 {
        if tat == UNTOUCHED {
            return 0;
        }
        let ahead = tat.wrapping_sub(now_s) as i64;
        ahead.max(0) as u64
    }

    /// Takes `n` tokens at `now`, all or none. `n == 0` always succeeds.
    pub fn try_acquire(&self, n: u32, now: u64) -> Result<(), Refused> {
        if n == 0 {
            return Ok(());
        }
        if n > self.burst.get() {
            return Err(Refused::ExceedsBurst {
                burst: self.burst.get(),
            });
        }
        self.take(n, now).map_err(Refused::Denied)
    }

    /// Takes one token at `now`.
    pub fn try_acquire_one(&self, now: u64) -> Result<(), Denied> {
        self.take(1, now)
    }

    fn take(&self, n: u32, now: u64) -> Result<(), Denied> {
        let now_s = self.now_s(now);
        let mut tat = self.tat.load(Acquire);
        loop {
            let before = Self::debt(tat, now_s);
            let next = match take_from_debt(u128::from(before), n, self.rate, self.burst) {
                // debt <= burst * period < 2^63.
                Ok(debt) => stored(now_s.wrapping_add(debt as u64)),
                Err(denied) => {
                    let cap = u64::from(self.burst.get()) * self.rate.period();
                    if u128::from(before) <= 2 * u128::from(cap) {
                        return Err(denied);
                    }
                    // The clock went back by more than a full refill:
                    // re-anchor to "empty now", as `Bucket` does, so the
                    // wait runs from this `now`.
                    let empty = stored(now_s.wrapping_add(cap));
                    match self.tat.compare_exchange_weak(tat, empty, AcqRel, Acquire) {
                        Ok(_) => return Err(denied),
                        Err(seen) => {
                            tat = seen;
                            continue;
                        }
                    }
                }
            };
            match self.tat.compare_exchange_weak(tat, next, AcqRel, Acquire) {
                Ok(_) => return Ok(()),
                Err(seen) => tat = seen,
            }
        }
    }

    /// Whole tokens available at `now`, `0..=burst`.
    pub fn available(&self, now: u64) -> u32 {
        let period = self.rate.period();
        let cap = u64::from(self.burst.get()) * period;
        let debt = Self::debt(self.tat.load(Acquire), self.now_s(now));
        let left = cap - debt.min(cap);
        u32::try_from(left / period).unwrap_or(self.burst.get())
    }

    /// Gives back `n` tokens at `now`; the bucket never holds more than
    /// `burst`.
    pub fn refund(&self, n: u32, now: u64) {
        let now_s = self.now_s(now);
        let back = u64::from(n).saturating_mul(self.rate.period());
        let cap = u64::from(self.burst.get()) * self.rate.period();
        let mut tat = self.tat.load(Acquire);
        loop {
            let debt = settled(u128::from(Self::debt(tat, now_s)), u128::from(cap)) as u64;
            if debt == 0 {
                return;
            }
            let next = stored(now_s.wrapping_add(debt.saturating_sub(back)));
            match self.tat.compare_exchange_weak(tat, next, AcqRel, Acquire) {
                Ok(_) => return,
                Err(seen) => tat = seen,
            }
        }
    }

    /// The capacity.
    pub const fn burst(&self) -> NonZeroU32 {
        self.burst
    }

    /// The refill rate, in lowest terms (fixed: a shared bucket has no
    /// `set_rate`, since rate and arrival time could not change together).
    pub const fn rate(&self) -> Rate {
        self.rate
    }
}

impl crate::intact::Intact for SharedBucket {
    /// The rate and the burst (`NonZeroU32`), which no method changes.
    #[inline(always)]
    fn intact(read: &impl Fn(usize) -> u8, at: usize) -> bool {
        use core::mem::offset_of;
        <Rate as crate::intact::Intact>::intact(read, at + offset_of!(Self, rate))
            && crate::intact::nonzero(read, at + offset_of!(Self, burst), 4)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nz(n: u32) -> NonZeroU32 {
        NonZeroU32::new(n).unwrap()
    }

    #[test]
    fn a_burst_too_large_for_the_word_is_refused() {
        let e = SharedBucket::new(nz(2), Rate::new(1, 1 << 62).unwrap()).unwrap_err();
        assert_eq!((e.field, e.problem), ("burst", Problem::OutOfRange));
        assert!(SharedBucket::new(nz(1), Rate::new(1, 1 << 62).unwrap()).is_ok());
    }

    #[test]
    fn a_clock_that_goes_back_gets_the_single_owner_answers() {
        let rate = Rate::new(1, 100).unwrap();
        let shared = SharedBucket::new(nz(3), rate).unwrap();
        let mut single = crate::Bucket::new(nz(3), rate);
        let steps = [
            (1000, 3),
            (1000, 1),
            (900, 1),
            (400, 1),
            (500, 1),
            (500, 1),
            (5, 2),
            (0, 1),
        ];
        for (now, n) in steps {
            assert_eq!(
                shared.try_acquire(n, now),
                single.try_acquire(n, now),
                "{now} {n}"
            );
            assert_eq!(shared.available(now), single.available(now));
        }
        shared.refund(1, 0);
        single.refund(1, 0);
        assert_eq!(shared.available(0), single.available(0));
    }

    #[test]
    fn the_end_of_time_wraps_exactly() {
        let b = SharedBucket::new(nz(2), Rate::new(3, 10).unwrap()).unwrap();
        assert!(b.try_acquire(2, u64::MAX - 1).is_ok());
        assert_eq!(b.try_acquire_one(u64::MAX), Err(Denied { retry_after: 3 }));
        assert_eq!(b.available(u64::MAX), 0);
        b.refund(5, u64::MAX);
        assert_eq!(b.available(u64::MAX), 2);
    }

    #[test]
    fn two_threads_never_take_more_than_the_burst() {
        let b = SharedBucket::new(nz(10), Rate::new(1, 1000).unwrap()).unwrap();
        let got = std::thread::scope(|s| {
            let hs: [_; 2] = core::array::from_fn(|_| {
                s.spawn(|| (0..8).filter(|_| b.try_acquire_one(5).is_ok()).count())
            });
            hs.map(|h| h.join().unwrap()).iter().sum::<usize>()
        });
        assert_eq!(got, 10);
    }
}
