//! Token bucket as GCRA: the whole mutable state is one theoretical arrival
//! time, so a lock-free form can compare-and-swap it.
//!
//! A [`Rate`] of `tokens` per `period` ticks is reduced to lowest terms
//! `N / P` (`g = gcd(tokens, period)`, `N = tokens / g`, `P = period / g`).
//! Time is then counted in *sub-ticks* of `1/N` tick, in which the emission
//! interval is exactly `P`: no rounding, whether the rate is 1 per 3_600_000
//! ms, 1 per tick, or 1_000 per tick. With `B = burst`:
//!
//! ```text
//! now_s     = now * N                      (sub-ticks; < 2^96)
//! debt      = tat - min(tat, now_s)        (time the bucket needs to be full again)
//! cap       = B * P
//! available = (cap - min(debt, cap)) / P
//! acquire n n == 0: Ok, nothing changes;  n > B: ExceedsBurst
//!           debt + n*P <= cap: Ok, tat = max(tat, now_s) + n*P
//!           else Denied { retry_after = ceil((debt + n*P - cap) / N) ticks }
//! refund n  if tat > now_s: tat = max(tat - n*P, now_s)   (never above full)
//! ```
//!
//! `retry_after` is exact: at `now + retry_after` the same request succeeds
//! if nothing else happened. Every intermediate fits in `u128` (`tat` stays
//! below `2^97`), so no input overflows, `now = u64::MAX` included.
//!
//! **A clock that goes backwards.** An earlier `now` makes the debt look
//! larger by the regression, so it can refuse tokens but never grant extra
//! ones. Under a monotonic clock the debt never exceeds `cap` (a grant
//! leaves it at most `cap`). Two cases:
//!
//! - `debt <= 2 * cap`: the reading is at most one full refill time
//!   (`cap / N` ticks) behind: taken as a stale reading (a thread that read
//!   the clock before another one took a token), answered as is. It only
//!   delays, by at most its own lag, and gives nothing away, however often
//!   threads interleave.
//! - `debt > 2 * cap`: the clock really went back by more than a full
//!   refill time (a reset clock, a 32-bit tick passed raw across its wrap).
//!   The bucket re-anchors to "empty at this `now`" (`tat = now_s + cap`)
//!   before answering (or refunding, or changing rate), so the wait runs
//!   from the new `now`: a `retry_after` given before the regression is
//!   honoured (exactly when the bucket was empty, the usual denial), not
//!   stretched by the regression ("retry after 49.7 days"). The price: up
//!   to one burst granted early per such regression.
//!
//! So no wait is ever longer than `ceil((cap + n * P) / N)` ticks (refilling
//! the burst plus the tokens asked for), whatever the clock did.
//!
//! Why the state is a `u128` and not a `u64`: an exact fractional interval
//! needs sub-tick resolution, and `now * N` at `now = u64::MAX` needs up to
//! 96 bits. A lock-free host CASes it with a 128-bit atomic
//! (`portable-atomic`'s `AtomicU128`, lock-free on x86-64 and AArch64); on
//! 32-bit microcontrollers even a `u64` CAS needs a critical section.

use core::fmt;
use core::num::NonZeroU32;

use crate::div;
use crate::error::{ConfigError, ConfigResult, Field, Problem};

/// A refill rate: `tokens` per `period` ticks, kept in lowest terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(C)]
pub struct Rate {
    period: u64,
    tokens: u32,
}

/// `gcd(a, b)` for `a != 0`: one 64-by-32 step (`gcd(a, b) = gcd(a, b mod a)`),
/// then Euclid on 32 bits, so no 64-bit division routine is linked.
const fn gcd(a: u32, b: u64) -> u32 {
    let (mut a, mut b) = (a, div::div_rem(b, a).1);
    while b != 0 {
        let t = a % b;
        a = b;
        b = t;
    }
    a
}

impl Rate {
    /// `tokens` per `period` ticks. Errors name `"tokens"` or `"period"`
    /// when zero. Stored reduced: `Rate::new(10, 1000)` equals `Rate::new(1, 100)`.
    pub const fn new(tokens: u32, period: u64) -> ConfigResult<Self> {
        if tokens == 0 {
            return Err(ConfigError::of(Field::Tokens, Problem::Zero));
        }
        if period == 0 {
            return Err(ConfigError::of(Field::Period, Problem::Zero));
        }
        let g = gcd(tokens, period);
        Ok(Self {
            tokens: tokens / g,
            period: div::div_rem(period, g).0,
        })
    }

    /// Tokens per [`Rate::period`], in lowest terms.
    pub const fn tokens(&self) -> u32 {
        self.tokens
    }

    /// Ticks per [`Rate::tokens`] tokens, in lowest terms.
    pub const fn period(&self) -> u64 {
        self.period
    }

    /// Sub-ticks to whole ticks, rounding up, saturating. Integral rates
    /// (`N == 1`) divide by nothing; others divide by `N < 2^32` in 32-bit
    /// digits (no 128- or 64-bit division routine): the deny path is a hot
    /// path too.
    #[inline]
    fn ticks_for(&self, sub_ticks: u128) -> u64 {
        let n = self.tokens;
        let (hi, lo) = ((sub_ticks >> 64) as u64, sub_ticks as u64);
        if hi >= u64::from(n) {
            // The quotient is at least 2^64.
            return u64::MAX;
        }
        if n == 1 {
            // hi == 0 here.
            return lo;
        }
        // Long division of hi:lo by N; hi < N is the first remainder.
        let (q1, r) = div::step(hi as u32, (lo >> 32) as u32, n);
        let (q0, r) = div::step(r, lo as u32, n);
        (u64::from(q1) << 32 | u64::from(q0)).saturating_add(u64::from(r != 0))
    }
}

/// GCRA's rule on a bucket's debt (sub-ticks until it is full again), as
/// the shared form runs it: taking `n` tokens costs `n * P` and is allowed
/// while the debt stays within `burst * P`. Returns the debt after taking,
/// or the exact wait. [`Bucket`] runs the same rule on its arrival time
/// directly (cheaper on 32-bit targets); tests check the two agree.
#[cfg_attr(
    not(any(
        target_has_atomic = "64",
        feature = "critical-section",
        portable_atomic_unsafe_assume_single_core,
        loom
    )),
    allow(dead_code, reason = "only `shared` runs it, and it is not built here")
)]
#[inline]
pub(crate) fn take_from_debt(
    debt: u128,
    n: u32,
    rate: Rate,
    burst: NonZeroU32,
) -> Result<u128, Denied> {
    let period = u128::from(rate.period);
    let cap = u128::from(burst.get()) * period;
    let after = settled(debt, cap) + u128::from(n) * period;
    if after <= cap {
        Ok(after)
    } else {
        Err(Denied {
            retry_after: rate.ticks_for(after - cap),
        })
    }
}

/// The debt to answer with: as is, unless the clock went back by more than
/// a full refill time (`debt > 2 * cap`), then "empty now" (module docs).
#[inline]
pub(crate) const fn settled(debt: u128, cap: u128) -> u128 {
    if debt > 2 * cap {
        cap
    } else {
        debt
    }
}

/// Not enough tokens now; the request succeeds `retry_after` ticks later.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(C)]
pub struct Denied {
    /// Ticks to wait (saturating at `u64::MAX`).
    pub retry_after: u64,
}

impl fmt::Display for Denied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "rate limited: retry after {} ticks", self.retry_after)
    }
}

impl core::error::Error for Denied {}

/// Why [`Bucket::try_acquire`] refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(C, u8)]
pub enum Refused {
    /// Not now: wait and try again.
    Denied(Denied),
    /// Never: more tokens than the bucket holds were asked for at once.
    ExceedsBurst {
        /// The bucket's capacity.
        burst: u32,
    },
}

impl Refused {
    /// The wait, when waiting can help.
    pub const fn retry_after(&self) -> Option<u64> {
        match *self {
            Refused::Denied(d) => Some(d.retry_after),
            Refused::ExceedsBurst { .. } => None,
        }
    }
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refused::Denied(d) => d.fmt(f),
            Refused::ExceedsBurst { burst } => {
                write!(f, "request exceeds the bucket's burst of {burst}")
            }
        }
    }
}

impl core::error::Error for Refused {}

/// A token bucket (GCRA): `burst` tokens, refilled at a [`Rate`]; starts full.
///
/// `packed(8)`: a `u128` is 16-aligned on x86-64 but 8-aligned on 32-bit
/// targets; capping the bucket at 8 everywhere lets a caller-owned C struct
/// (which only promises 8) hold it and be updated in place. The rate is kept
/// as its two fields, so the burst fills what would be the [`Rate`]'s
/// padding: 32 bytes on every target.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(C, packed(8))]
pub struct Bucket {
    /// Theoretical arrival time in sub-ticks; the only state that changes
    /// outside `set_rate`.
    tat: u128,
    /// The rate's fields, in lowest terms.
    period: u64,
    tokens: u32,
    burst: NonZeroU32,
}

impl fmt::Debug for Bucket {
    /// As it printed when the rate was one field.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (tat, burst) = (self.tat, self.burst);
        f.debug_struct("Bucket")
            .field("tat", &tat)
            .field("rate", &self.rate())
            .field("burst", &burst)
            .finish()
    }
}

impl Bucket {
    /// A full bucket of `burst` tokens refilled at `rate`.
    pub const fn new(burst: NonZeroU32, rate: Rate) -> Self {
        Self {
            tat: 0,
            period: rate.period,
            tokens: rate.tokens,
            burst,
        }
    }

    const fn now_s(&self, now: u64) -> u128 {
        now as u128 * self.tokens as u128
    }

    const fn cap(&self) -> u128 {
        self.burst.get() as u128 * self.period as u128
    }

    fn debt(&self, now: u64) -> u128 {
        self.tat.saturating_sub(self.now_s(now))
    }

    /// Takes `n` tokens at `now`, all or none. `n == 0` always succeeds.
    #[inline]
    pub fn try_acquire(&mut self, n: u32, now: u64) -> Result<(), Refused> {
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

    /// Takes one token at `now`: [`Bucket::try_acquire`] for the common case,
    /// which cannot exceed the burst.
    #[inline]
    pub fn try_acquire_one(&mut self, now: u64) -> Result<(), Denied> {
        self.take(1, now)
    }

    /// [`take_from_debt`]'s rule on `tat` itself, for `n <= burst` (the
    /// callers check): an idle bucket (`tat < now_s`) always grants, else
    /// `debt + n*P <= cap` is `debt <= (burst - n)*P`, the room left for
    /// debt. Nothing saturates (the debt after a grant is at most the cap),
    /// so neither the cap nor a saturating 128-bit add is computed.
    #[inline]
    fn take(&mut self, n: u32, now: u64) -> Result<(), Denied> {
        let now_s = self.now_s(now);
        let period = u128::from(self.period);
        let tat = self.tat;
        // One subtraction both compares and gives the debt; `tat == now_s`
        // takes the first branch, with no debt, to the same `now_s + n*P`.
        let (debt, idle) = tat.overflowing_sub(now_s);
        let base = if !idle {
            let room = u128::from(self.burst.get() - n) * period;
            if debt > room {
                let over = debt - room;
                // `debt > 2 * cap` (`settled`) is `over > cap + n*P`: only a
                // clock that went back by more than a full refill gets there.
                let most = u128::from(u64::from(self.burst.get()) + u64::from(n)) * period;
                if over > most {
                    return self.reanchor(now_s, n);
                }
                return Err(Denied {
                    retry_after: self.rate().ticks_for(over),
                });
            }
            tat
        } else {
            now_s
        };
        self.tat = base + u128::from(n) * period;
        Ok(())
    }

    /// The clock went back by more than a full refill: empty at `now_s`
    /// (module docs), then the wait for `n` tokens from there.
    #[cold]
    fn reanchor(&mut self, now_s: u128, n: u32) -> Result<(), Denied> {
        self.tat = now_s + self.cap();
        Err(Denied {
            retry_after: self
                .rate()
                .ticks_for(u128::from(n) * u128::from(self.period)),
        })
    }

    /// Whole tokens available at `now`, `0..=burst`.
    pub fn available(&self, now: u64) -> u32 {
        let cap = self.cap();
        let left = cap - self.debt(now).min(cap);
        // left <= burst * period, so the quotient is at most burst.
        u32::try_from(left / u128::from(self.period)).unwrap_or(self.burst.get())
    }

    /// Gives back `n` tokens at `now` (an operation that took them did not
    /// happen). The bucket never holds more than `burst`.
    pub fn refund(&mut self, n: u32, now: u64) {
        let now_s = self.now_s(now);
        if self.tat > now_s {
            let back = u128::from(n) * u128::from(self.period);
            let tat = now_s + settled(self.tat - now_s, self.cap());
            self.tat = tat.saturating_sub(back).max(now_s);
        }
    }

    /// Changes the rate at `now`, keeping the fill level: the debt is
    /// converted to the new rate as `q * P' + ceil(r * P' / P)` where
    /// `debt = q * P + r`, rounding towards fewer tokens. Errors as
    /// [`Rate::new`]; on error nothing changes.
    pub fn set_rate(&mut self, tokens: u32, period: u64, now: u64) -> ConfigResult<()> {
        let new = Rate::new(tokens, period)?;
        let old_p = u128::from(self.period);
        let new_p = u128::from(new.period);
        let debt = settled(self.debt(now), self.cap());
        // r < old_p < 2^64 and new_p < 2^64, so r * new_p < 2^128.
        let (q, r) = (debt / old_p, debt % old_p);
        let new_debt = q
            .saturating_mul(new_p)
            .saturating_add(r.saturating_mul(new_p).div_ceil(old_p));
        (self.period, self.tokens) = (new.period, new.tokens);
        self.tat = self.now_s(now).saturating_add(new_debt);
        Ok(())
    }

    /// The capacity.
    pub const fn burst(&self) -> NonZeroU32 {
        self.burst
    }

    /// The refill rate, in lowest terms.
    pub const fn rate(&self) -> Rate {
        Rate {
            period: self.period,
            tokens: self.tokens,
        }
    }
}

impl crate::intact::Intact for Bucket {
    /// The rate's period and tokens (divisors) and the burst (`NonZeroU32`).
    #[inline(always)]
    fn intact(read: &impl Fn(usize) -> u8, at: usize) -> bool {
        use crate::intact::nonzero;
        use core::mem::offset_of;
        nonzero(read, at + offset_of!(Self, period), 8)
            && nonzero(read, at + offset_of!(Self, tokens), 4)
            && nonzero(read, at + offset_of!(Self, burst), 4)
    }
}

impl crate::intact::Intact for Rate {
    /// The period and tokens (divisors).
    #[inline(always)]
    fn intact(read: &impl Fn(usize) -> u8, at: usize) -> bool {
        use crate::intact::nonzero;
        use core::mem::offset_of;
        nonzero(read, at + offset_of!(Self, period), 8)
            && nonzero(read, at + offset_of!(Self, tokens), 4)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn nz(n: u32) -> NonZeroU32 {
        NonZeroU32::new(n).unwrap()
    }

    fn bucket(burst: u32, tokens: u32, period: u64) -> Bucket {
        Bucket::new(nz(burst), Rate::new(tokens, period).unwrap())
    }

    #[test]
    fn config_errors_name_the_field() {
        let e = Rate::new(0, 1).unwrap_err();
        assert_eq!((e.field, e.problem), ("tokens", Problem::Zero));
        let e = Rate::new(1, 0).unwrap_err();
        assert_eq!((e.field, e.problem), ("period", Problem::Zero));
        assert_eq!(Rate::new(10, 1000).unwrap(), Rate::new(1, 100).unwrap());
        let mut b = bucket(2, 1, 1);
        assert_eq!(b.set_rate(0, 5, 0).unwrap_err().field, "tokens");
        assert_eq!(b.rate(), Rate::new(1, 1).unwrap());
    }

    #[test]
    fn layout_and_debug_text() {
        assert_eq!(core::mem::size_of::<Bucket>(), 32);
        assert_eq!(core::mem::align_of::<Bucket>(), 8);
        // The text the derive printed when the rate was one field.
        assert_eq!(
            format!("{:?}", bucket(3, 10, 1000)),
            "Bucket { tat: 0, rate: Rate { period: 100, tokens: 1 }, burst: 3 }"
        );
    }

    #[test]
    fn starts_full_drains_and_says_when() {
        let mut b = bucket(3, 1, 100);
        assert_eq!(b.available(0), 3);
        for _ in 0..3 {
            b.try_acquire_one(0).unwrap();
        }
        assert_eq!(b.try_acquire_one(0), Err(Denied { retry_after: 100 }));
        assert_eq!(b.try_acquire_one(99), Err(Denied { retry_after: 1 }));
        assert!(b.try_acquire_one(100).is_ok());
        assert_eq!(b.available(100), 0);
        assert_eq!(b.available(400), 3);
    }

    #[test]
    fn a_wait_given_before_the_clock_went_back_is_honoured() {
        let mut b = bucket(3, 1, 100);
        for _ in 0..3 {
            b.try_acquire_one(1000).unwrap();
        }
        assert_eq!(b.try_acquire_one(1000), Err(Denied { retry_after: 100 }));
        // Back 100 ticks (less than the 300 of a full refill): a stale
        // reading, it only delays, by its own lag.
        assert_eq!(b.try_acquire_one(900), Err(Denied { retry_after: 200 }));
        // The clock goes back 600 ticks; the host waits the 100 it was told.
        assert_eq!(b.available(400), 0);
        assert_eq!(b.try_acquire_one(400), Err(Denied { retry_after: 100 }));
        assert!(b.try_acquire_one(500).is_ok());
        // And the bucket goes on from the new timeline.
        assert_eq!(b.try_acquire_one(500), Err(Denied { retry_after: 100 }));
        assert_eq!(b.available(800), 3);
    }

    #[test]
    fn a_raw_32_bit_tick_passed_across_its_wrap_is_not_a_49_day_wait() {
        // (Firmware passes its tick through a TickWidener and never gets
        // here; this is the bucket's own guard.)
        // A host that forgot the TickWidener: time "goes back" by 2^32.
        let mut b = bucket(2, 1, 1000);
        let before_wrap = u64::from(u32::MAX) - 10;
        b.try_acquire(2, before_wrap).unwrap();
        assert_eq!(b.try_acquire_one(5), Err(Denied { retry_after: 1000 }));
        assert!(b.try_acquire_one(1005).is_ok());
        // refund and set_rate after a regression stay within one burst.
        let mut b = bucket(2, 1, 1000);
        b.try_acquire(2, before_wrap).unwrap();
        b.refund(1, 5);
        assert_eq!(b.available(5), 1);
        let mut b = bucket(2, 1, 1000);
        b.try_acquire(2, before_wrap).unwrap();
        b.set_rate(1, 10, 5).unwrap();
        assert_eq!(b.available(25), 2);
    }

    #[test]
    fn zero_is_free_and_more_than_burst_is_never() {
        let mut b = bucket(5, 1, 10);
        assert_eq!(b.try_acquire(0, 0), Ok(()));
        assert_eq!(b.try_acquire(6, 0), Err(Refused::ExceedsBurst { burst: 5 }));
        assert_eq!(Refused::ExceedsBurst { burst: 5 }.retry_after(), None);
        assert_eq!(b.available(0), 5);
        assert_eq!(b.try_acquire(5, 0), Ok(()));
        assert_eq!(
            b.try_acquire(2, 0),
            Err(Refused::Denied(Denied { retry_after: 20 }))
        );
    }

    #[test]
    fn fractional_interval_is_exact() {
        // 3 tokens per 10 ticks: an emission interval of 3.33 ticks. With a
        // burst of 2 no fraction overflows a full bucket, so polling every
        // tick gets exactly the burst plus 0.3 per tick.
        let mut b = bucket(2, 3, 10);
        let mut granted = 0;
        for now in 0..=1000 {
            if b.try_acquire_one(now).is_ok() {
                granted += 1;
            }
        }
        assert_eq!(granted, 2 + 300);
        // Many tokens per tick.
        let mut b = bucket(1000, 1000, 1);
        assert_eq!(b.try_acquire(1000, 0), Ok(()));
        assert_eq!(b.available(0), 0);
        assert_eq!(b.available(1), 1000);
    }

    #[test]
    fn slow_and_fast_rates_both_work() {
        let mut hourly = bucket(1, 1, 3_600_000);
        hourly.try_acquire_one(5).unwrap();
        assert_eq!(
            hourly.try_acquire_one(6),
            Err(Denied {
                retry_after: 3_599_999
            })
        );
        let mut per_tick = bucket(1, 1, 1);
        for now in 0..100 {
            assert!(per_tick.try_acquire_one(now).is_ok());
            assert!(per_tick.try_acquire_one(now).is_err());
        }
    }

    #[test]
    fn extremes_do_not_overflow() {
        let mut b = bucket(u32::MAX, 1, u64::MAX);
        assert_eq!(b.try_acquire(u32::MAX, u64::MAX), Ok(()));
        let d = b.try_acquire_one(u64::MAX).unwrap_err();
        assert_eq!(
            d,
            Denied {
                retry_after: u64::MAX
            }
        );
        assert_eq!(b.available(u64::MAX), 0);
        b.refund(u32::MAX, u64::MAX);
        assert_eq!(b.available(u64::MAX), u32::MAX);
        b.set_rate(u32::MAX, 1, u64::MAX).unwrap();
        assert_eq!(b.available(0), 0);

        // A full bucket at the end of time still grants its burst, once.
        let mut b = bucket(2, u32::MAX, 1);
        assert!(b.try_acquire(2, u64::MAX).is_ok());
        assert!(b.try_acquire_one(u64::MAX).is_err());
        assert_eq!(b.available(u64::MAX), 0);
    }

    #[test]
    fn time_going_back_grants_at_most_what_it_went_back() {
        let mut b = bucket(2, 1, 10);
        b.try_acquire(2, 1000).unwrap();
        assert_eq!(b.available(5), 0);
        // Asking is what re-anchors; looking does not.
        assert!(b.try_acquire_one(1009).is_err());
        // A reading 5 ticks behind the newest, with the debt within the cap:
        // only a denial, no re-anchoring.
        b.try_acquire_one(1015).unwrap();
        assert_eq!(b.try_acquire_one(1010), Err(Denied { retry_after: 10 }));
        assert!(b.try_acquire_one(1019).is_err());
        assert!(b.try_acquire_one(1020).is_ok());
        // Back to 0: empty at 0, so by 1020 the bucket is full again.
        assert!(b.try_acquire_one(0).is_err());
        assert_eq!(b.available(1020), 2);
    }

    #[test]
    fn refund_never_overfills() {
        let mut b = bucket(4, 1, 10);
        b.try_acquire(3, 0).unwrap();
        b.refund(2, 0);
        assert_eq!(b.available(0), 3);
        b.refund(100, 0);
        assert_eq!(b.available(0), 4);
        b.refund(1, 0);
        assert_eq!(b.available(0), 4);
        assert!(b.try_acquire(4, 0).is_ok());
        assert!(b.try_acquire_one(0).is_err());
    }

    #[test]
    fn set_rate_keeps_the_fill_level() {
        let mut b = bucket(10, 1, 100);
        b.try_acquire(6, 0).unwrap();
        assert_eq!(b.available(0), 4);
        b.set_rate(1, 10, 0).unwrap();
        assert_eq!(b.available(0), 4);
        assert_eq!(b.available(10), 5);
        // Half a token of progress is kept as half a token at the new rate.
        let mut b = bucket(1, 1, 100);
        b.try_acquire_one(0).unwrap();
        b.set_rate(1, 1000, 50).unwrap();
        assert_eq!(b.try_acquire_one(50), Err(Denied { retry_after: 500 }));
    }

    /// `ticks_for` as first written: a 128-bit `div_ceil`.
    fn ticks_for_reference(rate: Rate, sub_ticks: u128) -> u64 {
        let n = rate.tokens;
        match u64::try_from(sub_ticks) {
            Ok(s) if n == 1 => s,
            Ok(s) => s.div_ceil(u64::from(n)),
            Err(_) => u64::try_from(sub_ticks.div_ceil(u128::from(n))).unwrap_or(u64::MAX),
        }
    }

    #[test]
    fn ticks_for_extremes_equal_the_128_bit_division() {
        for tokens in [1, 2, 3, 7, 1000, u32::MAX - 1, u32::MAX] {
            let rate = Rate { tokens, period: 1 };
            let n = u128::from(tokens);
            for s in [
                0,
                1,
                u128::from(u64::MAX),
                u128::from(u64::MAX) + 1,
                n << 64,
                (n << 64) - 1,
                (n << 64) + 1,
                ((n - 1) << 64) | u128::from(u64::MAX),
                u128::MAX,
                1 << 97,
            ] {
                assert_eq!(
                    rate.ticks_for(s),
                    ticks_for_reference(rate, s),
                    "{tokens} {s}"
                );
            }
        }
    }

    /// `Bucket::take` as first written: the debt through `take_from_debt`,
    /// with its saturating 128-bit add and the cap.
    fn take_reference(b: &mut Bucket, n: u32, now: u64) -> Result<(), Denied> {
        let now_s = b.now_s(now);
        let debt = b.tat.saturating_sub(now_s);
        let after = take_from_debt(debt, n, b.rate(), b.burst).inspect_err(|_| {
            if debt > 2 * b.cap() {
                b.tat = now_s + b.cap();
            }
        })?;
        b.tat = now_s.saturating_add(after);
        Ok(())
    }

    #[test]
    fn take_extremes_equal_the_take_from_debt_form() {
        let edges64 = [0, 1, 2, 1000, u64::from(u32::MAX), u64::MAX - 1, u64::MAX];
        let edges32 = [1, 2, 3, 1000, u32::MAX - 1, u32::MAX];
        for burst in edges32 {
            for tokens in edges32 {
                for period in edges64.into_iter().filter(|&p| p != 0) {
                    let rate = Rate::new(tokens, period).unwrap();
                    for now in edges64 {
                        let now_s = u128::from(now) * u128::from(rate.tokens);
                        let cap = u128::from(burst) * u128::from(rate.period);
                        for tat in [
                            0,
                            1,
                            now_s,
                            now_s + 1,
                            now_s + cap,
                            now_s + cap + 1,
                            u128::MAX,
                        ] {
                            for n in [1, burst / 2 + 1, burst] {
                                let mut got = Bucket {
                                    tat,
                                    ..Bucket::new(nz(burst), rate)
                                };
                                let mut want = got;
                                assert_eq!(
                                    got.take(n, now),
                                    take_reference(&mut want, n, now),
                                    "{burst} {tokens} {period} {now} {tat} {n}"
                                );
                                assert_eq!(got, want);
                            }
                        }
                    }
                }
            }
        }
    }

    /// `Rate::new` as first written: Euclid on `u64`.
    fn rate_reference(tokens: u32, period: u64) -> Rate {
        let (mut a, mut b) = (u64::from(tokens), period);
        while b != 0 {
            let t = a % b;
            a = b;
            b = t;
        }
        Rate {
            tokens: (u64::from(tokens) / a) as u32,
            period: period / a,
        }
    }

    #[test]
    fn rate_extremes_equal_the_64_bit_euclid() {
        let big = [1, 2, 3, 1000, 1 << 31, u32::MAX - 1, u32::MAX];
        for tokens in big {
            for period in [
                1,
                2,
                1000,
                u64::from(tokens),
                u64::from(tokens) * u64::from(u32::MAX),
                u64::from(u32::MAX) + 1,
                1 << 63,
                u64::MAX - 1,
                u64::MAX,
            ] {
                let got = Rate::new(tokens, period).unwrap();
                assert_eq!(got, rate_reference(tokens, period), "{tokens} {period}");
            }
        }
    }

    /// The leaky-bucket reading of the same rule, in units of
    /// 1/period token, with monotone time: tokens arrive at `tokens` per tick.
    struct Model {
        level: u128,
        cap: u128,
        tokens: u128,
        period: u128,
        last: u64,
    }

    impl Model {
        fn advance(&mut self, now: u64) {
            let dt = u128::from(now - self.last);
            self.level = (self.level + dt * self.tokens).min(self.cap);
            self.last = now;
        }
        fn acquire(&mut self, n: u32, now: u64) -> Result<(), u64> {
            self.advance(now);
            let need = u128::from(n) * self.period;
            if need <= self.level {
                self.level -= need;
                Ok(())
            } else {
                Err(((need - self.level).div_ceil(self.tokens)) as u64)
            }
        }
    }

    proptest! {
        #![proptest_config(crate::testing::proptest_config())]
        /// Whatever the clock does, no wait is longer than refilling the
        /// burst plus the tokens asked for, and a wait is exact when the
        /// clock is monotonic from the denial on.
        #[test]
        fn a_regression_never_makes_a_wait_longer_than_a_refill(
            burst in 1u32..8,
            tokens in 1u32..5,
            period in 1u64..500,
            steps in proptest::collection::vec((any::<u64>(), 1u32..8), 1..40),
        ) {
            let mut b = bucket(burst, tokens, period);
            for (now, n) in steps {
                let n = n.min(burst);
                if let Err(Refused::Denied(d)) = b.try_acquire(n, now) {
                    let refill = (u128::from(burst + n) * u128::from(period)).div_ceil(u128::from(tokens));
                    prop_assert!(u128::from(d.retry_after) <= refill);
                    let mut later = b;
                    prop_assert!(later.try_acquire(n, now.saturating_add(d.retry_after)).is_ok() || now.checked_add(d.retry_after).is_none());
                }
            }
        }
    }

    proptest! {
        #![proptest_config(crate::testing::proptest_config())]
        #[test]
        fn matches_the_model_and_never_exceeds_burst_plus_rate(
            burst in 1u32..20,
            tokens in 1u32..50,
            period in 1u64..500,
            start in 0u64..1_000_000,
            steps in proptest::collection::vec((0u64..200, 0u32..25), 1..64),
        ) {
            let mut b = bucket(burst, tokens, period);
            let mut m = Model {
                level: u128::from(burst) * u128::from(period),
                cap: u128::from(burst) * u128::from(period),
                tokens: u128::from(tokens),
                period: u128::from(period),
                last: start,
            };
            let mut now = start;
            let mut grants: [(u64, u32); 64] = [(0, 0); 64];
            for (i, (dt, n)) in steps.iter().enumerate() {
                now += dt;
                let got = b.try_acquire(*n, now);
                if *n > burst {
                    prop_assert_eq!(got, Err(Refused::ExceedsBurst { burst }));
                    continue;
                }
                let want = m.acquire(*n, now);
                prop_assert_eq!(got.map_err(|r| r.retry_after().unwrap()), want);
                if got.is_ok() {
                    grants[i] = (now, *n);
                }
                prop_assert!(b.available(now) <= burst);
                prop_assert_eq!(u128::from(b.available(now)), m.level / m.period);
            }
            // Over every window [t_i, t_j]: granted * period <= burst * period + elapsed * tokens.
            let grants = &grants[..steps.len()];
            for (i, &(ti, _)) in grants.iter().enumerate() {
                let mut sum = 0u128;
                for &(tj, n) in &grants[i..] {
                    sum += u128::from(n);
                    if n > 0 {
                        let budget = u128::from(burst) * u128::from(period)
                            + u128::from(tj - ti) * u128::from(tokens);
                        prop_assert!(sum * u128::from(period) <= budget);
                    }
                }
            }
        }

        #[test]
        fn ticks_for_equals_the_128_bit_division(
            tokens in prop_oneof![1u32..4, 1u32..=u32::MAX, Just(u32::MAX)],
            hi in prop_oneof![Just(0u64), 0u64..1 << 33, any::<u64>()],
            lo in any::<u64>(),
        ) {
            let rate = Rate { tokens, period: 1 };
            let s = u128::from(hi) << 64 | u128::from(lo);
            prop_assert_eq!(rate.ticks_for(s), ticks_for_reference(rate, s));
            // Just below and at a multiple of N, where the rounding flips.
            let m = s - s % u128::from(tokens);
            prop_assert_eq!(rate.ticks_for(m), ticks_for_reference(rate, m));
        }

        #[test]
        fn take_equals_the_take_from_debt_form(
            burst in prop_oneof![1u32..4, 1u32..=u32::MAX, Just(u32::MAX)],
            tokens in prop_oneof![1u32..4, 1u32..=u32::MAX, Just(u32::MAX)],
            period in prop_oneof![1u64..10_000, 1u64..=u64::MAX, Just(u64::MAX)],
            now in prop_oneof![0u64..1_000_000, any::<u64>(), Just(u64::MAX)],
            n_frac in any::<u32>(),
            // Any state a bucket can reach, `u128::MAX` included (`set_rate`
            // with `now` going back saturates there), and states around
            // `now * N` and around the grant/deny edge.
            kind in 0u8..7,
            raw in any::<u128>(),
            off in prop_oneof![0u128..16, 0u128..1 << 70],
        ) {
            let mut b = bucket(burst, tokens, period);
            let n = ((u64::from(n_frac) * u64::from(burst)) >> 32) as u32 + 1;
            let now_s = b.now_s(now);
            let edge = now_s + u128::from(burst - n) * u128::from(b.period);
            b.tat = match kind {
                0 => 0,
                1 => u128::MAX,
                2 => raw,
                3 => raw >> 31,
                4 => now_s.saturating_add(off),
                5 => now_s.saturating_sub(off),
                _ => (edge + off).saturating_sub(8),
            };
            let mut want = b;
            prop_assert_eq!(b.take(n, now), take_reference(&mut want, n, now));
            prop_assert_eq!(b, want);
        }

        #[test]
        fn rate_equals_the_64_bit_euclid(
            tokens in prop_oneof![1u32..100, 1u32..=u32::MAX, Just(u32::MAX)],
            period in prop_oneof![1u64..10_000, 1u64..=u64::MAX, Just(u64::MAX)],
            // A period sharing a large factor with the tokens, where the
            // gcd is far from 1.
            shared in prop_oneof![Just(None), (1u32..=u32::MAX, 1u64..1 << 32).prop_map(Some)],
        ) {
            let (tokens, period) = match shared {
                Some((g, k)) => (tokens.max(1) / g.max(1) * g, u64::from(g) * k),
                None => (tokens, period),
            };
            let tokens = tokens.max(1);
            prop_assert_eq!(Rate::new(tokens, period).unwrap(), rate_reference(tokens, period));
        }

        #[test]
        fn any_input_is_defined(
            burst in 1u32..=u32::MAX,
            tokens in 1u32..=u32::MAX,
            period in 1u64..=u64::MAX,
            ops in proptest::collection::vec((0u8..4, any::<u32>(), any::<u64>()), 1..32),
        ) {
            let mut b = bucket(burst, tokens, period);
            for (op, n, now) in ops {
                match op {
                    0 => { let _ = b.try_acquire(n, now); }
                    1 => b.refund(n, now),
                    2 => { let _ = b.set_rate(n, now, now); }
                    _ => { let _ = b.try_acquire_one(now); }
                }
                prop_assert!(b.available(now) <= burst);
            }
        }
    }
}
