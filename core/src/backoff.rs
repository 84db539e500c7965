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

use crate::div;
use crate::error::{ConfigError, ConfigResult, Field, Problem};
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
///
/// Stored flat rather than as a [`Schedule`] (whose 24 bytes hold a tag
/// padded to 8): every schedule is `base + step * n` with `step` 0 unless
/// linear, or a growth by `factor_milli`, 1000 unless exponential. So
/// [`raw`](Self::raw) has one path for constant, linear and a factor of
/// 1000, and the struct is 32 bytes, not 40. The fields not used by the
/// kind are always those neutral values, so the derived equality is the
/// equality of `(schedule, jitter, cap)`.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct Backoff {
    base: u64,
    step: u64,
    cap: u64,
    factor_milli: u32,
    jitter: Jitter,
    kind: Kind,
}

/// Which [`Schedule`] a [`Backoff`] was built from.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Kind {
    Constant,
    Linear,
    Exponential,
}

impl core::fmt::Debug for Backoff {
    /// As the derived form of `{ schedule, jitter, cap }` would print it.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Backoff")
            .field("schedule", &self.schedule())
            .field("jitter", &self.jitter)
            .field("cap", &self.cap)
            .finish()
    }
}

const FRACTION_BITS: u32 = 16;

/// One step of the documented loop, `v * factor_milli / 1000` (floor), with
/// `v = t * 2^16 + frac` (`frac < 2^16`) kept as its ticks and fraction, so
/// the loop compares `t` with the cap directly. `None` once the new `t`
/// would reach `2^64` (then it is past any cap).
///
/// With `c = floor(v * f / 2^16) = t * f + (frac * f >> 16)` (96 bits), the
/// new ticks are `c / 1000` and the new fraction is
/// `((c % 1000) << 16 | (frac * f) & 0xFFFF) / 1000`: dividing by `1000 *
/// 2^16` in two stages floors the same. `c / 1000` is long division in
/// 16-bit digits: the remainder stays below 1000, so every partial
/// dividend is below `2^26` and each digit is one 32-bit division (no
/// 64-bit division is linked).
fn grow(t: u64, frac: u32, factor_milli: u32) -> Option<(u64, u32)> {
    let f = u64::from(factor_milli);
    let b = u64::from(frac) * f; // < 2^48
    let lo = (t & 0xFFFF_FFFF) * f + (b >> FRACTION_BITS); // < 2^64
    let hi = (t >> 32) * f + (lo >> 32); // c = hi * 2^32 + lo % 2^32
    if hi >= 1000 << 32 {
        return None; // c >= 1000 * 2^64
    }
    // c's six digits, top first, shifted out of (hi, low).
    let (mut hi, mut low) = (hi, lo as u32);
    let (mut q, mut rem) = (0u64, 0u32);
    let mut k = 0;
    while k < 6 {
        let x = rem << 16 | (hi >> 48) as u32;
        q = q << 16 | u64::from(x / 1000);
        rem = x % 1000;
        hi = hi << 16 | u64::from(low >> 16);
        low <<= 16;
        k += 1;
    }
    Some((q, (rem << 16 | b as u32 & 0xFFFF) / 1000))
}

impl Backoff {
    /// Validates and builds a schedule. Errors name the field:
    /// `schedule.delay`/`schedule.base` zero, `schedule.factor_milli` below 1000,
    /// `cap` zero or below the first delay, `jitter.percent` outside `1..=100`.
    pub const fn new(schedule: Schedule, jitter: Jitter, cap: u64) -> ConfigResult<Self> {
        // Flattened first, so each rule below is one test for every kind
        // (the neutral step 0 and factor 1000 pass the rules they skip).
        let (kind, base, step, factor_milli) = match schedule {
            Schedule::Constant { delay } => (Kind::Constant, delay, 0, 1000),
            Schedule::Linear { base, step } => (Kind::Linear, base, step, 1000),
            Schedule::Exponential { base, factor_milli } => {
                (Kind::Exponential, base, 0, factor_milli)
            }
        };
        if base == 0 {
            let field = match kind {
                Kind::Constant => Field::ScheduleDelay,
                _ => Field::ScheduleBase,
            };
            return Err(ConfigError::of(field, Problem::Zero));
        }
        if factor_milli < 1000 {
            return Err(ConfigError::of(
                Field::ScheduleFactorMilli,
                Problem::OutOfRange,
            ));
        }
        if cap == 0 {
            return Err(ConfigError::of(Field::Cap, Problem::Zero));
        }
        if cap < base {
            return Err(ConfigError::of(Field::Cap, Problem::Inconsistent));
        }
        if let Jitter::Proportional { percent } = jitter {
            if percent == 0 || percent > 100 {
                return Err(ConfigError::of(Field::JitterPercent, Problem::OutOfRange));
            }
        }
        Ok(Self {
            base,
            step,
            cap,
            factor_milli,
            jitter,
            kind,
        })
    }

    /// A constant delay with no jitter.
    pub const fn constant(delay: u64) -> ConfigResult<Self> {
        Self::new(Schedule::Constant { delay }, Jitter::None, delay)
    }

    /// The schedule.
    pub const fn schedule(&self) -> Schedule {
        match self.kind {
            Kind::Constant => Schedule::Constant { delay: self.base },
            Kind::Linear => Schedule::Linear {
                base: self.base,
                step: self.step,
            },
            Kind::Exponential => Schedule::Exponential {
                base: self.base,
                factor_milli: self.factor_milli,
            },
        }
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
        let (base, cap, factor_milli) = (self.base, self.cap, self.factor_milli);
        if factor_milli == 1000 {
            // Constant (step 0), linear, or exponential by a factor of 1.
            return base
                .saturating_add(self.step.saturating_mul(u64::from(n)))
                .min(cap);
        }
        if factor_milli % 1000 == 0 {
            // An integral factor makes every step exact, so the loop
            // below equals base * k^n, capped; in u64, and done
            // within 64 steps as k >= 2.
            let k = u64::from(factor_milli / 1000);
            let mut d = base;
            let mut i = 0;
            while i < n && d < cap {
                d = d.saturating_mul(k);
                i += 1;
            }
            return d.min(cap);
        }
        // The documented 128-bit loop, as ticks and fraction in u64/u32
        // (no 128-bit arithmetic is linked): v < cap << 16 means t < cap.
        let (mut t, mut frac) = (base, 0);
        let mut i = 0;
        while i < n {
            match grow(t, frac, factor_milli) {
                Some((next, next_frac)) if next < cap => (t, frac) = (next, next_frac),
                _ => return cap,
            }
            i += 1;
        }
        t.min(cap)
    }

    /// The delay before attempt `n` (0 for the first), given the previous
    /// delay (used by decorrelated jitter; pass 0 at the first attempt).
    pub fn delay(&self, n: u32, prev: u64, rng: &mut Rng) -> u64 {
        let c = self.raw(n);
        // Each mode only picks the bounds: one draw site, so one copy of
        // the generator. `Equal` as `between(c/2, c)` is the documented
        // `c/2 + between(0, c - c/2)`: the same span, shifted.
        let (lo, hi) = match self.jitter {
            Jitter::None => return c.min(self.cap),
            Jitter::Full => (0, c),
            Jitter::Equal => (c / 2, c),
            Jitter::Proportional { percent } => {
                // c * p / 100 without a 128-bit product: p <= 100, so
                // (c / 100) * p <= c, and (c % 100) * p < 10_000 (a 32-bit
                // division); c / 100 in 32-bit digits (no 64-bit division).
                let p = u32::from(percent);
                let (q, r) = div::div_rem(c, 100);
                let spread = q * u64::from(p) + u64::from(r * p / 100);
                (c - spread, c.saturating_add(spread))
            }
            Jitter::Decorrelated => {
                let b = self.base;
                let prev = if prev == 0 { b } else { prev };
                (b, prev.saturating_mul(3).max(b))
            }
        };
        rng.between(lo, hi).min(self.cap)
    }
}

impl crate::intact::Intact for Backoff {
    /// The jitter's tag (and a proportional jitter's percent, `1..=100`),
    /// the schedule kind, and the base and factor `raw`'s loop needs to end.
    #[inline(always)]
    fn intact(read: &impl Fn(usize) -> u8, at: usize) -> bool {
        use crate::intact::{below, nonzero, u32_at, variants};
        let jitter = at + core::mem::offset_of!(Backoff, jitter);
        // `repr(C, u8)`: the tag, then the payload (`percent`, a byte).
        let jitter_ok = match read(jitter) {
            0..=3 => true,
            4 => matches!(read(jitter + 1), 1..=100),
            _ => false,
        };
        // `raw` loops until the delay reaches the cap: it ends within a
        // bounded number of steps only for a non-zero base growing by a
        // factor of at least 1 (as `new` validated them).
        let factor = u32_at(read, at + core::mem::offset_of!(Backoff, factor_milli));
        jitter_ok
            && factor >= 1000
            && nonzero(read, at + core::mem::offset_of!(Backoff, base), 8)
            && below(
                read,
                at + core::mem::offset_of!(Backoff, kind),
                variants!(Kind: Constant, Linear, Exponential),
            )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;
    use proptest::prelude::*;

    /// `raw` as first written: the documented 128-bit loop, kept as the
    /// reference the ticks-and-fraction arithmetic must equal.
    fn raw_reference(b: &Backoff, n: u32) -> u64 {
        let Schedule::Exponential { base, factor_milli } = b.schedule() else {
            return b.raw(n);
        };
        let cap = b.cap;
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

    /// `Backoff` as first laid out, for its derived `Debug` and equality.
    mod old {
        use super::{Jitter, Schedule};

        #[derive(Debug, PartialEq)]
        pub struct Backoff {
            pub schedule: Schedule,
            pub jitter: Jitter,
            pub cap: u64,
        }
    }

    fn old_layout(b: &Backoff) -> old::Backoff {
        old::Backoff {
            schedule: b.schedule(),
            jitter: b.jitter(),
            cap: b.cap(),
        }
    }

    /// `delay` as first written: `between` once per mode, `Equal` as
    /// `c/2 + between(0, c - c/2)`.
    fn delay_reference(b: &Backoff, n: u32, prev: u64, rng: &mut Rng) -> u64 {
        let c = b.raw(n);
        let d = match b.jitter() {
            Jitter::None => c,
            Jitter::Full => rng.between(0, c),
            Jitter::Equal => c / 2 + rng.between(0, c - c / 2),
            Jitter::Proportional { percent } => {
                let spread = spread_reference(c, percent);
                rng.between(c - spread, c.saturating_add(spread))
            }
            Jitter::Decorrelated => {
                let b = b.schedule().base();
                let prev = if prev == 0 { b } else { prev };
                rng.between(b, prev.saturating_mul(3).max(b))
            }
        };
        d.min(b.cap())
    }

    /// Any valid schedule, jitter and cap, extremes included.
    fn any_backoff() -> impl Strategy<Value = Backoff> {
        let schedule = prop_oneof![
            ticks().prop_map(|delay| Schedule::Constant { delay }),
            (ticks(), prop_oneof![Just(0u64), ticks(), Just(u64::MAX)])
                .prop_map(|(base, step)| Schedule::Linear { base, step }),
            (
                ticks(),
                prop_oneof![
                    Just(1000u32),
                    1000u32..3000,
                    (1u32..100).prop_map(|k| k * 1000),
                    1000u32..=u32::MAX
                ]
            )
                .prop_map(|(base, factor_milli)| Schedule::Exponential { base, factor_milli }),
        ];
        let jitter = prop_oneof![
            Just(Jitter::None),
            Just(Jitter::Full),
            Just(Jitter::Equal),
            Just(Jitter::Decorrelated),
            (1u8..=100).prop_map(|percent| Jitter::Proportional { percent }),
        ];
        (
            schedule,
            jitter,
            prop_oneof![Just(0u64), ticks(), Just(u64::MAX)],
        )
            .prop_map(|(schedule, jitter, extra)| {
                let cap = schedule.base().saturating_add(extra);
                Backoff::new(schedule, jitter, cap).unwrap()
            })
    }

    /// `Backoff::new`'s checks as first written, on the `Schedule` itself.
    fn new_reference(schedule: Schedule, jitter: Jitter, cap: u64) -> ConfigResult<()> {
        match schedule {
            Schedule::Constant { delay: 0 } => {
                return Err(ConfigError::of(Field::ScheduleDelay, Problem::Zero))
            }
            Schedule::Linear { base: 0, .. } | Schedule::Exponential { base: 0, .. } => {
                return Err(ConfigError::of(Field::ScheduleBase, Problem::Zero))
            }
            Schedule::Exponential { factor_milli, .. } if factor_milli < 1000 => {
                return Err(ConfigError::of(
                    Field::ScheduleFactorMilli,
                    Problem::OutOfRange,
                ))
            }
            _ => {}
        }
        if cap == 0 {
            return Err(ConfigError::of(Field::Cap, Problem::Zero));
        }
        if cap < schedule.base() {
            return Err(ConfigError::of(Field::Cap, Problem::Inconsistent));
        }
        if let Jitter::Proportional { percent } = jitter {
            if percent == 0 || percent > 100 {
                return Err(ConfigError::of(Field::JitterPercent, Problem::OutOfRange));
            }
        }
        Ok(())
    }

    /// The proportional spread as first written.
    fn spread_reference(c: u64, percent: u8) -> u64 {
        (u128::from(c) * u128::from(percent) / 100) as u64
    }

    /// Ticks from one up to `u64::MAX`, most of them small.
    fn ticks() -> impl Strategy<Value = u64> {
        prop_oneof![1u64..100, 1u64..1 << 20, 1u64..1 << 40, 1u64..=u64::MAX]
    }

    proptest! {
        #![proptest_config(crate::testing::proptest_config())]
        #[test]
        fn fractional_factor_equals_the_128_bit_loop(
            base in ticks(),
            extra in prop_oneof![Just(0u64), ticks(), Just(u64::MAX)],
            factor_milli in prop_oneof![1001u32..3000, 1000u32..=u32::MAX, Just(u32::MAX)],
            n in prop_oneof![0u32..64, 0u32..2000, Just(u32::MAX)]
                // A factor near 1 takes ~44_000 steps to reach 2^80: too slow for Miri.
                .prop_map(|n| if cfg!(miri) { n.min(2000) } else { n }),
        ) {
            let b = exp(base, factor_milli, Jitter::None, base.saturating_add(extra));
            prop_assert_eq!(b.raw(n), raw_reference(&b, n));
        }

        #[test]
        fn grow_equals_the_128_bit_step(
            t in prop_oneof![ticks(), Just(0u64), Just(u64::MAX)],
            frac in prop_oneof![0u32..1 << 16, Just(0xFFFF)],
            factor_milli in prop_oneof![1000u32..3000, 1000u32..=u32::MAX, Just(u32::MAX)],
        ) {
            let v = u128::from(t) << FRACTION_BITS | u128::from(frac);
            let next = v * u128::from(factor_milli) / 1000;
            let want = (next >> FRACTION_BITS <= u128::from(u64::MAX))
                .then_some(((next >> FRACTION_BITS) as u64, (next & 0xFFFF) as u32));
            prop_assert_eq!(grow(t, frac, factor_milli), want);
        }

        #[test]
        fn whole_factor_equals_the_saturating_pow(
            base in ticks(),
            extra in prop_oneof![Just(0u64), ticks(), Just(u64::MAX)],
            k in prop_oneof![2u32..5, 2u32..=u32::MAX / 1000],
            n in prop_oneof![0u32..80, Just(u32::MAX)],
        ) {
            let cap = base.saturating_add(extra);
            let b = exp(base, k * 1000, Jitter::None, cap);
            let want = base.saturating_mul(u64::from(k).saturating_pow(n)).min(cap);
            prop_assert_eq!(b.raw(n), want);
            prop_assert_eq!(b.raw(n), raw_reference(&b, n));
        }

        #[test]
        fn flat_layout_keeps_the_parts_debug_and_equality(a in any_backoff(), b in any_backoff()) {
            let again = Backoff::new(a.schedule(), a.jitter(), a.cap()).unwrap();
            prop_assert_eq!(again, a);
            prop_assert_eq!(format!("{a:?}"), format!("{:?}", old_layout(&a)));
            prop_assert_eq!(format!("{a:#?}"), format!("{:#?}", old_layout(&a)));
            prop_assert_eq!(a == b, old_layout(&a) == old_layout(&b));
        }

        #[test]
        fn flat_checks_give_the_same_errors(
            kind in 0u8..3,
            base in prop_oneof![Just(0u64), ticks(), Just(u64::MAX)],
            step in prop_oneof![Just(0u64), ticks()],
            factor_milli in prop_oneof![Just(0u32), 990u32..1010, any::<u32>()],
            jitter in prop_oneof![
                Just(Jitter::None),
                Just(Jitter::Full),
                Just(Jitter::Equal),
                Just(Jitter::Decorrelated),
                any::<u8>().prop_map(|percent| Jitter::Proportional { percent }),
            ],
            cap in prop_oneof![Just(0u64), ticks(), Just(u64::MAX)],
        ) {
            let schedule = match kind {
                0 => Schedule::Constant { delay: base },
                1 => Schedule::Linear { base, step },
                _ => Schedule::Exponential { base, factor_milli },
            };
            let got = Backoff::new(schedule, jitter, cap);
            prop_assert_eq!(got.map(|_| ()), new_reference(schedule, jitter, cap));
            if let Ok(b) = got {
                prop_assert_eq!((b.schedule(), b.jitter(), b.cap()), (schedule, jitter, cap));
            }
        }

        #[test]
        fn delay_equals_the_per_mode_draws(
            b in any_backoff(),
            seed in any::<u64>(),
            n in prop_oneof![0u32..70, Just(u32::MAX)]
                .prop_map(|n| if cfg!(miri) { n.min(200) } else { n }),
            prev in prop_oneof![Just(0u64), ticks(), Just(u64::MAX)],
        ) {
            let (mut r1, mut r2) = (Rng::new(seed), Rng::new(seed));
            prop_assert_eq!(b.delay(n, prev, &mut r1), delay_reference(&b, n, prev, &mut r2));
            prop_assert_eq!(r1, r2);
        }

        #[test]
        fn proportional_spread_equals_the_128_bit_product(
            c in prop_oneof![0u64..1000, any::<u64>(), Just(u64::MAX)],
            percent in 1u8..=100,
        ) {
            let p = u32::from(percent);
            let (q, r) = div::div_rem(c, 100);
            prop_assert_eq!(q * u64::from(p) + u64::from(r * p / 100), spread_reference(c, percent));
            let b = Backoff::new(
                Schedule::Constant { delay: c.max(1) },
                Jitter::Proportional { percent },
                c.max(1),
            )
            .unwrap();
            let (mut r1, mut r2) = (Rng::new(c), Rng::new(c));
            let c = c.max(1);
            let spread = spread_reference(c, percent);
            let want = r2.between(c - spread, c.saturating_add(spread)).min(c);
            prop_assert_eq!(b.delay(0, 0, &mut r1), want);
        }
    }

    #[test]
    fn fractional_factor_extremes_equal_the_128_bit_loop() {
        for (base, factor_milli, cap) in [
            (1, 1001, u64::MAX),
            (u64::MAX, 1001, u64::MAX),
            (u64::MAX / 2, 1999, u64::MAX),
            (1, u32::MAX, u64::MAX),
            (3, 1500, 1 << 48),
            (1 << 47, 1500, 1 << 48),
        ] {
            let b = exp(base, factor_milli, Jitter::None, cap);
            for n in [
                0,
                1,
                2,
                3,
                10,
                100,
                if cfg!(miri) { 200 } else { 50_000 },
                if cfg!(miri) { 2000 } else { u32::MAX },
            ] {
                assert_eq!(
                    b.raw(n),
                    raw_reference(&b, n),
                    "{base} {factor_milli} {cap} {n}"
                );
            }
        }
    }

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

    #[test]
    fn a_one_value_jitter_range_still_takes_one_generator_step() {
        // fuzz/regressions.md 1: a 0-tick spread used to skip the step.
        let b = Backoff::new(
            Schedule::Constant { delay: 10 },
            Jitter::Proportional { percent: 5 },
            10,
        )
        .unwrap();
        let mut rng = Rng::new(1);
        assert_eq!(b.delay(0, 0, &mut rng), 10);
        let mut want = Rng::new(1);
        want.next_u64();
        assert_eq!(rng, want, "one step per jittered delay");
    }
}
