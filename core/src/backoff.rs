//! Delay schedules with jitter: one engine for retry delays and for the
//! breaker's open duration.
//!
//! A [`Backoff`] is a [`Schedule`] (how the raw delay grows with the attempt
//! number), a `cap`, and a [`Jitter`] mode. All arithmetic is integer and
//! documented here exactly, so C, Python and Node produce the same delays
//! for the same seed:
//!
//! ```text
//! raw(n)   Constant     = delay
//!          Linear       = base + step * n                        (saturating)
//!          Exponential  = v_n >> 16 where v_0 = base << 16 and
//!                         v_{i+1} = v_i * factor_milli / 1000    (128-bit, stops once >= cap)
//!                         (for a whole factor k = factor_milli / 1000 this is
//!                         exactly base * k^n, computed by saturating pow)
//! c        = min(raw(n), cap)
//! delay(n) None         = c
//!          Full         = between(0, c)
//!          Equal        = c/2 + between(0, c - c/2)
//!          Proportional = between(c - c*p/100, c + c*p/100)
//!          Decorrelated = between(b, max(b, prev * 3))         (b = base, prev = previous delay, b at first)
//!          then min(., cap): jitter comes before the final cap, so no delay exceeds it.
//! ```
//!
//! `between(lo, hi)` draws from [`Rng::between`] (inclusive bounds), one
//! generator step per jittered delay; `None` draws nothing.
//! Jitter modes follow the AWS Architecture Blog post "Exponential Backoff
//! And Jitter" (Brooker, 2015).

use crate::error::{ConfigError, ConfigResult, Problem};
use crate::rng::Rng;

/// How the raw delay grows with the attempt number `n` (0 for the first delay).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C, u8)]
pub enum Schedule {
    /// The same delay every time.
    Constant {
        /// The delay, in ticks.
        delay: u64,
    },
    /// `base + step * n`.
    Linear {
        /// The first delay, in ticks.
        base: u64,
        /// Added per attempt, in ticks.
        step: u64,
    },
    /// `base * (factor_milli / 1000)^n`.
    Exponential {
        /// The first delay, in ticks.
        base: u64,
        /// The growth factor in thousandths: 2000 doubles, 1500 grows by half.
        /// Must be at least 1000.
        factor_milli: u32,
    },
}

impl Schedule {
    /// The first delay of the schedule (the `b` of decorrelated jitter).
    pub const fn base(&self) -> u64 {
        match *self {
            Schedule::Constant { delay } => delay,
            Schedule::Linear { base, .. } | Schedule::Exponential { base, .. } => base,
        }
    }
}

/// How a raw delay is randomised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C, u8)]
pub enum Jitter {
    /// No randomness: the capped raw delay.
    None,
    /// Uniform in `[0, c]`.
    Full,
    /// Half fixed, half random: `c/2 + [0, c - c/2]`.
    Equal,
    /// `[base, 3 * previous]`, kept from one delay to the next.
    Decorrelated,
    /// Uniform within `±percent` of `c`.
    Proportional {
        /// Spread in percent, `1..=100`.
        percent: u8,
    },
}

/// A validated delay schedule: schedule, cap and jitter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct Backoff {
    schedule: Schedule,
    jitter: Jitter,
    cap: u64,
}

const FRACTION_BITS: u32 = 16;

impl Backoff {
    /// Validates and builds a schedule. Errors name the field:
    /// `schedule.delay`/`schedule.base` zero, `schedule.factor_milli` below 1000,
    /// `cap` zero or below the first delay, `jitter.percent` outside `1..=100`.
    pub const fn new(schedule: Schedule, jitter: Jitter, cap: u64) -> ConfigResult<Self> {
        match schedule {
            Schedule::Constant { delay: 0 } => {
                return Err(ConfigError::new("schedule.delay", Problem::Zero))
            }
            Schedule::Linear { base: 0, .. } | Schedule::Exponential { base: 0, .. } => {
                return Err(ConfigError::new("schedule.base", Problem::Zero))
            }
            Schedule::Exponential { factor_milli, .. } if factor_milli < 1000 => {
                return Err(ConfigError::new(
                    "schedule.factor_milli",
                    Problem::OutOfRange,
                ))
            }
            _ => {}
        }
        if cap == 0 {
            return Err(ConfigError::new("cap", Problem::Zero));
        }
        if cap < schedule.base() {
            return Err(ConfigError::new("cap", Problem::Inconsistent));
        }
        if let Jitter::Proportional { percent } = jitter {
            if percent == 0 || percent > 100 {
                return Err(ConfigError::new("jitter.percent", Problem::OutOfRange));
            }
        }
        Ok(Self {
            schedule,
            jitter,
            cap,
        })
    }

    /// A constant delay with no jitter.
    pub const fn constant(delay: u64) -> ConfigResult<Self> {
        Self::new(Schedule::Constant { delay }, Jitter::None, delay)
    }

    /// The schedule.
    pub const fn schedule(&self) -> Schedule {
        self.schedule
    }

    /// The jitter mode.
    pub const fn jitter(&self) -> Jitter {
        self.jitter
    }

    /// The cap: no delay is ever longer.
    pub const fn cap(&self) -> u64 {
        self.cap
    }

    /// The un-jittered delay for attempt `n`, capped.
    pub fn raw(&self, n: u32) -> u64 {
        let cap = self.cap;
        match self.schedule {
            Schedule::Constant { delay } => delay.min(cap),
            Schedule::Linear { base, step } => base
                .saturating_add(step.saturating_mul(u64::from(n)))
                .min(cap),
            Schedule::Exponential { base, factor_milli } => {
                if factor_milli == 1000 {
                    return base.min(cap);
                }
                if factor_milli % 1000 == 0 {
                    // An integral factor makes every step exact, so the loop
                    // below equals base * k^n, capped: O(log n) instead of O(n).
                    let k = u64::from(factor_milli / 1000);
                    return base.saturating_mul(k.saturating_pow(n)).min(cap);
                }
                let limit = u128::from(cap) << FRACTION_BITS;
                let mut v = u128::from(base) << FRACTION_BITS;
                let mut i = 0;
                while i < n && v < limit {
                    v = v * u128::from(factor_milli) / 1000;
                    i += 1;
                }
                if v >= limit {
                    cap
                } else {
                    (v >> FRACTION_BITS) as u64
                }
            }
        }
    }

    /// The delay before attempt `n` (0 for the first), given the previous
    /// delay (used by decorrelated jitter; pass 0 at the first attempt).
    pub fn delay(&self, n: u32, prev: u64, rng: &mut Rng) -> u64 {
        let c = self.raw(n);
        let d = match self.jitter {
            Jitter::None => c,
            Jitter::Full => rng.between(0, c),
            Jitter::Equal => c / 2 + rng.between(0, c - c / 2),
            Jitter::Proportional { percent } => {
                let spread = (u128::from(c) * u128::from(percent) / 100) as u64;
                rng.between(c - spread, c.saturating_add(spread))
            }
            Jitter::Decorrelated => {
                let b = self.schedule.base();
                let prev = if prev == 0 { b } else { prev };
                rng.between(b, prev.saturating_mul(3).max(b))
            }
        };
        d.min(self.cap)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exp(base: u64, factor_milli: u32, jitter: Jitter, cap: u64) -> Backoff {
        Backoff::new(Schedule::Exponential { base, factor_milli }, jitter, cap).unwrap()
    }

    #[test]
    fn exponential_doubles_then_caps() {
        let b = exp(100, 2000, Jitter::None, 1000);
        let got: [u64; 6] = core::array::from_fn(|n| b.raw(n as u32));
        assert_eq!(got, [100, 200, 400, 800, 1000, 1000]);
        assert_eq!(b.raw(u32::MAX), 1000);
    }

    #[test]
    fn exponential_grows_from_one_tick_with_fractional_factor() {
        let b = exp(1, 1500, Jitter::None, 1_000_000);
        let got: [u64; 5] = core::array::from_fn(|n| b.raw(n as u32));
        assert_eq!(got, [1, 1, 2, 3, 5]);
    }

    #[test]
    fn whole_factor_shortcut_equals_the_fixed_point_loop() {
        for factor_milli in [2000u32, 3000, 10_000] {
            let fast = exp(3, factor_milli, Jitter::None, u64::MAX / 2);
            let mut v = 3u128 << FRACTION_BITS;
            for n in 0..70u32 {
                let want = ((v >> FRACTION_BITS) as u64).min(u64::MAX / 2);
                assert_eq!(fast.raw(n), want, "factor {factor_milli} n {n}");
                v = (v * u128::from(factor_milli) / 1000)
                    .min(u128::from(u64::MAX) << FRACTION_BITS);
            }
        }
    }

    #[test]
    fn linear_and_constant() {
        let l = Backoff::new(Schedule::Linear { base: 10, step: 5 }, Jitter::None, 30).unwrap();
        assert_eq!([l.raw(0), l.raw(1), l.raw(4), l.raw(5)], [10, 15, 30, 30]);
        let c = Backoff::constant(7).unwrap();
        assert_eq!(c.delay(9, 0, &mut Rng::new(1)), 7);
    }

    #[test]
    fn config_errors_name_the_field() {
        let e = Backoff::new(Schedule::Constant { delay: 0 }, Jitter::None, 1).unwrap_err();
        assert_eq!((e.field, e.problem), ("schedule.delay", Problem::Zero));
        let e = Backoff::new(
            Schedule::Exponential {
                base: 1,
                factor_milli: 999,
            },
            Jitter::None,
            1,
        )
        .unwrap_err();
        assert_eq!(e.field, "schedule.factor_milli");
        let e = Backoff::new(Schedule::Constant { delay: 5 }, Jitter::None, 4).unwrap_err();
        assert_eq!((e.field, e.problem), ("cap", Problem::Inconsistent));
        let e = Backoff::new(
            Schedule::Constant { delay: 5 },
            Jitter::Proportional { percent: 101 },
            5,
        )
        .unwrap_err();
        assert_eq!(e.field, "jitter.percent");
    }

    #[test]
    fn jitter_modes_stay_in_their_ranges() {
        let mut rng = Rng::new(42);
        let full = exp(100, 2000, Jitter::Full, 5000);
        let equal = exp(100, 2000, Jitter::Equal, 5000);
        let prop = exp(100, 2000, Jitter::Proportional { percent: 20 }, 5000);
        let deco = exp(100, 2000, Jitter::Decorrelated, 5000);
        let mut prev = 0;
        for n in 0..40 {
            let c = full.raw(n);
            assert!(full.delay(n, 0, &mut rng) <= c);
            let e = equal.delay(n, 0, &mut rng);
            assert!(e >= c / 2 && e <= c);
            let p = prop.delay(n, 0, &mut rng);
            assert!(p >= c - c / 5 && p <= 5000);
            let d = deco.delay(n, prev, &mut rng);
            assert!((100..=5000).contains(&d) && d <= prev.max(100) * 3);
            prev = d;
        }
    }

    #[test]
    fn same_seed_same_sequence() {
        let b = exp(10, 2000, Jitter::Decorrelated, 100_000);
        let run = |seed| {
            let mut rng = Rng::new(seed);
            let mut prev = 0;
            let mut out = [0u64; 16];
            for (n, slot) in out.iter_mut().enumerate() {
                prev = b.delay(n as u32, prev, &mut rng);
                *slot = prev;
            }
            out
        };
        assert_eq!(run(9), run(9));
        assert_ne!(run(9), run(10));
    }
}
