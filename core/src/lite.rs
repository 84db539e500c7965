//! The minimal profile: the breaker, backoff and token bucket for the
//! smallest firmware, over wrapping `u32` ticks, each in at most 20 bytes
//! with its rules fixed at compile time.
//!
//! The full types choose every rule at run time (rates, windows, jitter
//! modes, reserves), so a firmware linking them carries all of them. These
//! three keep one rule each, the one the full type runs under that config,
//! and take the same vocabulary ([`State`], [`Outcome`], [`ConfigError`]):
//!
//! | type | rule | the full type it answers like |
//! |---|---|---|
//! | [`LiteBreaker`] | open after `threshold` failures in a row, stay open `open_ticks`, then one probe; a lost probe is given up after another `open_ticks` | [`Breaker`](crate::Breaker) with `consecutive_failures`, no rates, one probe, a constant open backoff, the default dwell |
//! | [`LiteBackoff`] | `base * 2^n` capped at `cap`, full jitter | [`Backoff`](crate::Backoff) exponential by 2000‰ with [`Jitter::Full`](crate::Jitter::Full) |
//! | [`LiteBucket`] | one token per `interval` ticks, `burst` at most (GCRA) | [`Bucket`](crate::Bucket) with a rate of 1 per `interval` |
//!
//! The tests hold each to its full type (same answers for the same calls).
//!
//! **Time** is a `u32` tick that wraps (a 1 kHz SysTick wraps every 49.7
//! days): every comparison is of a difference, `now - then`, read as
//! signed, so it is right across the wrap as long as the two ticks are
//! less than 2^31 apart and the object is used at least that often. No
//! 64-bit arithmetic but the generator's, no division, no floating point.

use crate::breaker::{Outcome, State};
use crate::error::{ConfigError, ConfigResult, Field, Problem};

/// `now` is at or after `then` (wrapping ticks less than 2^31 apart).
#[inline(always)]
const fn reached(now: u32, then: u32) -> bool {
    (now.wrapping_sub(then) as i32) >= 0
}

/// A circuit breaker that opens after `threshold` failures in a row:
/// [`Breaker`](crate::Breaker)'s consecutive-failure rule with one
/// half-open probe, in 16 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct LiteBreaker {
    /// When it last opened or went half-open (ticks).
    since: u32,
    /// How long it stays open, and how long a probe may stay out.
    open_ticks: u32,
    /// Failures in a row that open it (at least 1).
    threshold: u16,
    /// Failures in a row so far.
    run: u16,
    /// Bumped by every transition; a probe permit carries it.
    generation: u8,
    /// Closed, Open or HalfOpen.
    state: State,
    /// A half-open probe is out.
    probe_out: bool,
}

/// A [`LiteBreaker`] permit: hand it back to [`LiteBreaker::record`].
/// Bit 0: a probe; bits 1..9: the generation it was issued in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LitePermit(pub u32);

impl LitePermit {
    /// Whether it is the half-open probe.
    pub const fn is_probe(self) -> bool {
        self.0 & 1 != 0
    }
}

impl LiteBreaker {
    /// A closed breaker. Errors: `threshold` 0 or above 65535 (field
    /// `consecutive_failures`),
    /// `open_ticks` 0 or at least 2^31 (field `schedule.delay`, the open
    /// backoff's constant delay: a wait that long cannot be told from the
    /// past on wrapping ticks).
    pub const fn new(threshold: u32, open_ticks: u32) -> ConfigResult<Self> {
        if threshold == 0 {
            return Err(ConfigError::of(Field::ConsecutiveFailures, Problem::Zero));
        }
        if threshold > u16::MAX as u32 {
            return Err(ConfigError::of(
                Field::ConsecutiveFailures,
                Problem::OutOfRange,
            ));
        }
        if open_ticks == 0 {
            return Err(ConfigError::of(Field::ScheduleDelay, Problem::Zero));
        }
        if open_ticks >= 1 << 31 {
            return Err(ConfigError::of(Field::ScheduleDelay, Problem::OutOfRange));
        }
        Ok(Self {
            since: 0,
            open_ticks,
            threshold: threshold as u16,
            run: 0,
            generation: 0,
            state: State::Closed,
            probe_out: false,
        })
    }

    /// The move time alone makes, if any (every call applies it first).
    /// Not inlined: acquire and record share one copy (firmware size).
    #[inline(never)]
    fn advance(&mut self, now: u32) {
        let until = self.since.wrapping_add(self.open_ticks);
        match self.state {
            State::Open if reached(now, until) => self.move_to(State::HalfOpen, now),
            State::HalfOpen if reached(now, until) => self.move_to(State::Open, now),
            _ => {}
        }
    }

    fn move_to(&mut self, state: State, now: u32) {
        self.state = state;
        self.since = now;
        self.generation = self.generation.wrapping_add(1);
        self.probe_out = false;
    }

    /// Asks to make a call at `now`: a permit, or the ticks until it may
    /// admit again. At most one time-driven move per call: open to
    /// half-open after `open_ticks`, half-open back to open after another
    /// `open_ticks` (a lost probe, the full breaker's default dwell).
    #[inline]
    pub fn try_acquire(&mut self, now: u32) -> Result<LitePermit, u32> {
        self.advance(now);
        let until = self.since.wrapping_add(self.open_ticks);
        match self.state {
            State::HalfOpen if !self.probe_out => {
                self.probe_out = true;
                Ok(LitePermit(u32::from(self.generation) << 1 | 1))
            }
            State::Open | State::HalfOpen => Err(until.wrapping_sub(now)),
            _ => Ok(LitePermit(u32::from(self.generation) << 1)),
        }
    }

    /// Reports how a permitted call ended, at `now`. A probe's success
    /// closes the breaker, its failure (or timeout) opens it again, an
    /// ignored probe gives its place back; a permit from an earlier state
    /// counts for nothing.
    #[inline]
    pub fn record(&mut self, permit: LitePermit, outcome: Outcome, now: u32) {
        self.advance(now);
        if (permit.0 >> 1) as u8 != self.generation {
            return;
        }
        let failed = matches!(outcome, Outcome::Failure | Outcome::Timeout);
        if permit.is_probe() {
            if self.state != State::HalfOpen {
                return;
            }
            match outcome {
                Outcome::Success => {
                    self.move_to(State::Closed, now);
                    self.run = 0;
                }
                Outcome::Ignored => self.probe_out = false,
                _ => self.move_to(State::Open, now),
            }
        } else if self.state == State::Closed && outcome != Outcome::Ignored {
            self.run = if failed {
                self.run.saturating_add(1)
            } else {
                0
            };
            if self.run >= self.threshold {
                self.move_to(State::Open, now);
                self.run = 0;
            }
        }
    }

    /// Where it stands as of the last call.
    pub const fn state(&self) -> State {
        self.state
    }
}

/// Exponential backoff with full jitter: attempt `n` waits a uniform
/// `[0, min(cap, base * 2^n)]` ticks. 16 bytes.
///
/// The jitter comes from a 32-bit xorshift, not the full types' 64-bit
/// [`Rng`](crate::Rng): on Cortex-M4 that generator's two 64-bit multiplies and
/// constants cost 130 bytes of the 1 KiB budget, and full jitter needs
/// only 32 random bits per delay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct LiteBackoff {
    /// xorshift32 state, never 0.
    rng: u32,
    base: u32,
    cap: u32,
    attempt: u32,
}

impl LiteBackoff {
    /// Errors: `base` 0 (field `schedule.base`), `cap` below `base` (field
    /// `cap`).
    pub const fn new(base: u32, cap: u32, seed: u32) -> ConfigResult<Self> {
        if base == 0 {
            return Err(ConfigError::of(Field::ScheduleBase, Problem::Zero));
        }
        if cap < base {
            return Err(ConfigError::of(Field::Cap, Problem::Inconsistent));
        }
        Ok(Self {
            // xorshift32 stays at 0 forever: seed 0 starts elsewhere.
            rng: if seed == 0 { 0x9E37_79B9 } else { seed },
            base,
            cap,
            attempt: 0,
        })
    }

    /// The un-jittered delay of attempt `n`: `min(cap, base * 2^n)`.
    #[inline]
    pub const fn raw(&self, n: u32) -> u32 {
        let room = self
            .base
            .leading_zeros()
            .saturating_sub(self.cap.leading_zeros());
        if n > room {
            return self.cap;
        }
        let d = self.base << n;
        if d > self.cap {
            self.cap
        } else {
            d
        }
    }

    /// The next delay, then moves to the next attempt.
    #[inline]
    pub fn next_delay(&mut self) -> u32 {
        let c = self.raw(self.attempt);
        self.attempt = self.attempt.saturating_add(1);
        // xorshift32 (Marsaglia 2003), then uniform in [0, c]: the 32
        // random bits scaled by c + 1 (no division).
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.rng = x;
        // `x * c + x` is `x * (c + 1)` with no 33-bit `c + 1`.
        ((u64::from(x) * u64::from(c) + u64::from(x)) >> 32) as u32
    }

    /// Starts over at attempt 0 (after a success).
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

/// A token bucket of `burst` tokens refilled one per `interval` ticks
/// (GCRA), starting full. 16 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct LiteBucket {
    /// Theoretical arrival time: when the tokens taken so far would all
    /// be refilled (ticks).
    tat: u32,
    interval: u32,
    burst: u32,
    /// 0 until the first grant: `tat` means nothing before it.
    started: u8,
}

impl LiteBucket {
    /// Errors: `interval` 0 (field `period`), `burst` 0 (field `burst`),
    /// `burst * interval` at or above 2^31 (field `burst`, out of range: a
    /// full bucket's horizon must be told from the past on wrapping ticks).
    pub const fn new(interval: u32, burst: u32) -> ConfigResult<Self> {
        if interval == 0 {
            return Err(ConfigError::of(Field::Period, Problem::Zero));
        }
        if burst == 0 {
            return Err(ConfigError::of(Field::Burst, Problem::Zero));
        }
        match interval.checked_mul(burst) {
            Some(h) if h < 1 << 31 => {}
            _ => return Err(ConfigError::of(Field::Burst, Problem::OutOfRange)),
        }
        Ok(Self {
            tat: 0,
            interval,
            burst,
            started: 0,
        })
    }

    /// Takes `n` tokens at `now`, all or none: `Ok`, or the ticks until the
    /// same request would succeed (`u32::MAX` for more than the burst).
    /// The first call fills the bucket at its `now`.
    #[inline]
    pub fn try_acquire(&mut self, n: u32, now: u32) -> Result<(), u32> {
        if n > self.burst {
            return Err(u32::MAX);
        }
        let horizon = self.interval * self.burst;
        // GCRA: start from the theoretical arrival time if it is ahead of
        // `now` (by at most the horizon: anything further is a tick from
        // before a long silence), else from `now` (a full bucket).
        let ahead = self.tat.wrapping_sub(now);
        let base = if self.started != 0 && ahead as i32 > 0 && ahead <= horizon {
            self.tat
        } else {
            now
        };
        let next = base.wrapping_add(n * self.interval);
        let over = next.wrapping_sub(now).wrapping_sub(horizon);
        if (over as i32) > 0 {
            return Err(over);
        }
        self.tat = next;
        self.started = 1;
        Ok(())
    }
}

impl crate::intact::Intact for LiteBreaker {
    /// The state (closed, open or half-open) and the probe flag.
    #[inline(always)]
    fn intact(read: &impl Fn(usize) -> u8, at: usize) -> bool {
        use core::mem::offset_of;
        crate::intact::below(
            read,
            at + offset_of!(Self, state),
            State::HalfOpen as u8 + 1,
        ) && crate::intact::below(read, at + offset_of!(Self, probe_out), 2)
    }
}

// The C door's static initialisers (FUSEWIRE_LITE_*_INIT in fusewire.h)
// write these objects as words: their repr(C) layout is part of the door.
const _: () = {
    use core::mem::{offset_of, size_of};
    assert!(offset_of!(LiteBreaker, since) == 0 && offset_of!(LiteBreaker, open_ticks) == 4);
    assert!(offset_of!(LiteBreaker, threshold) == 8 && offset_of!(LiteBreaker, run) == 10);
    assert!(offset_of!(LiteBreaker, generation) == 12 && offset_of!(LiteBreaker, state) == 13);
    assert!(offset_of!(LiteBreaker, probe_out) == 14 && size_of::<LiteBreaker>() == 16);
    assert!(offset_of!(LiteBackoff, rng) == 0 && offset_of!(LiteBackoff, base) == 4);
    assert!(offset_of!(LiteBackoff, cap) == 8 && offset_of!(LiteBackoff, attempt) == 12);
    assert!(offset_of!(LiteBucket, tat) == 0 && offset_of!(LiteBucket, interval) == 4);
    assert!(offset_of!(LiteBucket, burst) == 8 && offset_of!(LiteBucket, started) == 12);
};

#[cfg(test)]
mod tests {
    //! Each lite type against the full type it answers like.
    use super::*;
    use crate::{
        Backoff, BitWindow, Breaker, BreakerConfig, Bucket, Jitter, Rate, Refused, Schedule,
    };
    use core::num::NonZeroU32;
    use proptest::prelude::*;

    /// Lite ticks start here, so the wrap falls inside most runs.
    const WRAP: u32 = 0xFFFF_F000;

    proptest! {
        #[test]
        fn breaker_answers_as_the_full_breaker(
            threshold in 1u32..4,
            open in 1u32..50,
            ops in prop::collection::vec((0u8..4, 0u8..4, 0u32..60), 1..120),
        ) {
            let mut lite = LiteBreaker::new(threshold, open).unwrap();
            let config = BreakerConfig {
                failure_rate: None,
                slow_call_rate: None,
                consecutive_failures: Some(threshold),
                half_open_probes: 1,
                open_backoff: Backoff::constant(u64::from(open)).unwrap(),
                ..BreakerConfig::new(crate::TickUnit::MILLIS)
            };
            let mut full: Breaker<BitWindow<u16>> = Breaker::new(config).unwrap();
            let mut held = Vec::new();
            let mut now = 0u64;
            for (op, pick, dt) in ops {
                now += u64::from(dt);
                let t = (now as u32).wrapping_add(WRAP);
                if op < 2 || held.is_empty() {
                    let (a, b) = (lite.try_acquire(t), full.try_acquire(now));
                    match (a, b) {
                        (Ok(p), Ok(q)) => {
                            prop_assert_eq!(p.is_probe(), q.is_probe());
                            let raw = full.permit_into_raw(q);
                            held.push((p, raw));
                        }
                        (Err(w), Err(r)) => prop_assert_eq!(u64::from(w), r.retry_after),
                        (a, b) => prop_assert!(false, "lite {:?}, full {:?}", a, b.map(|_| ())),
                    }
                } else {
                    let (p, raw) = held.swap_remove(usize::from(pick) % held.len());
                    let outcome = [Outcome::Success, Outcome::Failure, Outcome::Timeout, Outcome::Ignored]
                        [usize::from(op + pick) % 4];
                    lite.record(p, outcome, t);
                    full.record(crate::Permit::from_raw(raw), outcome, 1, now);
                }
                prop_assert_eq!(lite.state(), full.state());
            }
        }

        #[test]
        fn bucket_answers_as_the_full_bucket(
            interval in 1u32..20,
            burst in 1u32..6,
            ops in prop::collection::vec((0u32..8, 0u32..30), 1..100),
        ) {
            let mut lite = LiteBucket::new(interval, burst).unwrap();
            let mut full = Bucket::new(NonZeroU32::new(burst).unwrap(), Rate::new(1, u64::from(interval)).unwrap());
            let mut now = 0u64;
            for (n, dt) in ops {
                now += u64::from(dt);
                let t = (now as u32).wrapping_add(WRAP);
                match (lite.try_acquire(n, t), full.try_acquire(n, now)) {
                    (Ok(()), Ok(())) => {}
                    (Err(w), Err(Refused::Denied(d))) => prop_assert_eq!(u64::from(w), d.retry_after),
                    (Err(u32::MAX), Err(Refused::ExceedsBurst { .. })) => {}
                    (a, b) => prop_assert!(false, "n {} at {}: lite {:?}, full {:?}", n, now, a, b),
                }
            }
        }

        #[test]
        fn backoff_caps_as_the_full_backoff(base in 1u32..1000, extra in 0u32..100_000, n in 0u32..40) {
            let cap = base + extra;
            let lite = LiteBackoff::new(base, cap, 1).unwrap();
            let full = Backoff::new(
                Schedule::Exponential { base: u64::from(base), factor_milli: 2000 },
                Jitter::Full,
                u64::from(cap),
            )
            .unwrap();
            prop_assert_eq!(u64::from(lite.raw(n)), full.raw(n));
        }

        #[test]
        fn backoff_delays_stay_within_the_raw_delay(base in 1u32..1000, seed: u32) {
            let mut b = LiteBackoff::new(base, base * 8, seed).unwrap();
            for n in 0..6 {
                let raw = b.raw(n);
                prop_assert!(b.next_delay() <= raw);
            }
            b.reset();
            prop_assert_eq!(b.attempt, 0);
        }
    }

    #[test]
    fn configs_that_cannot_work_are_errors() {
        assert!(LiteBreaker::new(0, 10).is_err());
        assert!(LiteBreaker::new(1, 0).is_err());
        assert!(LiteBreaker::new(1, 1 << 31).is_err());
        assert!(LiteBackoff::new(0, 10, 0).is_err());
        assert!(LiteBackoff::new(10, 9, 0).is_err());
        assert!(LiteBucket::new(0, 1).is_err());
        assert!(LiteBucket::new(1, 0).is_err());
        assert!(LiteBucket::new(1 << 16, 1 << 15).is_err());
    }
}
