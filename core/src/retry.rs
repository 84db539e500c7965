//! Retry: how many more attempts an operation gets, and how long to wait
//! before each one.
//!
//! A [`RetryPolicy`] is a [`Backoff`] plus two limits; a [`Retry`] is one
//! operation's progress through it. The host calls [`Retry::start`] before
//! the first attempt and [`Retry::next`] after each failed one:
//!
//! ```text
//! k        = attempts made so far (1 after start, counting the first)
//! n        = k - 1                         retries already scheduled: the backoff's attempt number
//! if k >= max_attempts                     -> GiveUp(MaxAttempts)
//! d        = backoff.delay(n, prev, rng)   prev = previous backoff delay, 0 before the first retry
//! delay    = max(d, server_retry_after)    a server's Retry-After is honoured, never shortened
//! if now + delay > started_at + max_elapsed (exact, 128-bit) -> GiveUp(Deadline)
//! else       k += 1, prev = d              -> RetryAfter(delay)
//! ```
//!
//! `prev` is the backoff's own delay, not the server-extended one, so a
//! server's long Retry-After does not inflate later decorrelated delays.
//! The [`Rng`] is seeded once from the policy and keeps running across
//! [`Retry::start`]s: the same seed and the same calls give the same
//! delays, while operations reusing one `Retry` still get different jitter.

use core::num::NonZeroU32;

use crate::backoff::Backoff;
use crate::error::{ConfigError, ConfigResult, Field, Problem};
use crate::rng::Rng;

/// A validated retry policy: the delay schedule and the limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct RetryPolicy {
    backoff: Backoff,
    seed: u64,
    /// `u64::MAX` when there is no deadline (the deadline then saturates).
    max_elapsed: u64,
    max_attempts: NonZeroU32,
}

impl RetryPolicy {
    /// Validates and builds a policy.
    ///
    /// - `max_attempts`: total attempts including the first; `1` never retries.
    ///   Errors with field `"max_attempts"` when zero.
    /// - `max_elapsed`: ticks from [`Retry::start`] after which no retry may be
    ///   scheduled to begin; `None` for no deadline. Errors with field
    ///   `"max_elapsed"` when `Some(0)`. `Some(u64::MAX)` means no deadline.
    /// - `seed`: the jitter generator's seed.
    pub const fn new(
        backoff: Backoff,
        max_attempts: u32,
        max_elapsed: Option<u64>,
        seed: u64,
    ) -> ConfigResult<Self> {
        let max_attempts = match NonZeroU32::new(max_attempts) {
            Some(m) => m,
            None => return Err(ConfigError::of(Field::MaxAttempts, Problem::Zero)),
        };
        let max_elapsed = match max_elapsed {
            None => u64::MAX,
            Some(0) => return Err(ConfigError::of(Field::MaxElapsed, Problem::Zero)),
            Some(t) => t,
        };
        Ok(Self {
            backoff,
            seed,
            max_elapsed,
            max_attempts,
        })
    }

    /// The delay schedule.
    pub const fn backoff(&self) -> Backoff {
        self.backoff
    }

    /// Total attempts allowed, the first included.
    pub const fn max_attempts(&self) -> NonZeroU32 {
        self.max_attempts
    }

    /// The deadline in ticks after start, if any.
    pub const fn max_elapsed(&self) -> Option<u64> {
        if self.max_elapsed == u64::MAX {
            None
        } else {
            Some(self.max_elapsed)
        }
    }

    /// The jitter seed.
    pub const fn seed(&self) -> u64 {
        self.seed
    }
}

/// Why a [`Retry`] stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum GiveUpReason {
    /// `max_attempts` attempts have been made.
    MaxAttempts = 0,
    /// The next attempt would begin after `started_at + max_elapsed`.
    Deadline = 1,
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(C, u8)]
pub enum Decision {
    /// Wait this many ticks, then make the next attempt.
    RetryAfter(u64),
    /// Stop: report the last failure.
    GiveUp(GiveUpReason),
}

/// One operation's retry state under a [`RetryPolicy`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct Retry {
    policy: RetryPolicy,
    rng: Rng,
    started_at: u64,
    prev_delay: u64,
    /// Attempts made so far, the first included; 0 before [`Retry::start`].
    attempts: u32,
}

impl Retry {
    /// A retry state for `policy`, not yet started.
    pub const fn new(policy: RetryPolicy) -> Self {
        Self {
            rng: Rng::new(policy.seed),
            policy,
            started_at: 0,
            prev_delay: 0,
            attempts: 0,
        }
    }

    /// Begins an operation at `now`: the first attempt is being made.
    /// Resets the attempt count and the deadline, not the generator.
    pub fn start(&mut self, now: u64) {
        self.started_at = now;
        self.prev_delay = 0;
        self.attempts = 1;
    }

    /// Decides after a failed attempt, at `now`, given the server's
    /// retry-after hint if it sent one. See the module docs for the rule.
    /// Calling it before [`Retry::start`] starts the operation at `now`.
    /// A `GiveUp` changes nothing but the generator, so the host may ask
    /// again later (a `Deadline` give-up with a long server hint may become
    /// a retry if the hint is dropped; `MaxAttempts` is final).
    pub fn next(&mut self, now: u64, server_retry_after: Option<u64>) -> Decision {
        if self.attempts == 0 {
            self.start(now);
        }
        if self.attempts >= self.policy.max_attempts.get() {
            return Decision::GiveUp(GiveUpReason::MaxAttempts);
        }
        let n = self.attempts - 1;
        let d = self.policy.backoff.delay(n, self.prev_delay, &mut self.rng);
        let delay = match server_retry_after {
            Some(s) if s > d => s,
            _ => d,
        };
        // In u128 so that neither side saturates into a false "in time".
        let deadline = u128::from(self.started_at) + u128::from(self.policy.max_elapsed);
        if self.policy.max_elapsed != u64::MAX && u128::from(now) + u128::from(delay) > deadline {
            return Decision::GiveUp(GiveUpReason::Deadline);
        }
        self.attempts += 1;
        self.prev_delay = d;
        Decision::RetryAfter(delay)
    }

    /// Attempts made so far, the first included (0 before start).
    pub const fn attempts(&self) -> u32 {
        self.attempts
    }

    /// When the operation started.
    pub const fn started_at(&self) -> u64 {
        self.started_at
    }

    /// The policy.
    pub const fn policy(&self) -> &RetryPolicy {
        &self.policy
    }
}

impl crate::intact::Intact for Retry {
    /// The policy's backoff and `max_attempts` (`NonZeroU32`).
    #[inline(always)]
    fn intact(read: &impl Fn(usize) -> u8, at: usize) -> bool {
        use crate::intact::nonzero;
        use core::mem::offset_of;
        let policy = at + offset_of!(Self, policy);
        Backoff::intact(read, policy + offset_of!(RetryPolicy, backoff))
            && nonzero(read, policy + offset_of!(RetryPolicy, max_attempts), 4)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backoff::{Jitter, Schedule};
    use proptest::prelude::*;

    fn exp(jitter: Jitter, cap: u64) -> Backoff {
        Backoff::new(
            Schedule::Exponential {
                base: 100,
                factor_milli: 2000,
            },
            jitter,
            cap,
        )
        .unwrap()
    }

    fn policy(max_attempts: u32, max_elapsed: Option<u64>) -> RetryPolicy {
        RetryPolicy::new(exp(Jitter::None, 10_000), max_attempts, max_elapsed, 7).unwrap()
    }

    #[test]
    fn config_errors_name_the_field() {
        let b = exp(Jitter::None, 1000);
        let e = RetryPolicy::new(b, 0, None, 0).unwrap_err();
        assert_eq!((e.field, e.problem), ("max_attempts", Problem::Zero));
        let e = RetryPolicy::new(b, 3, Some(0), 0).unwrap_err();
        assert_eq!((e.field, e.problem), ("max_elapsed", Problem::Zero));
        let p = RetryPolicy::new(b, 3, Some(5), 9).unwrap();
        assert_eq!(
            (p.max_attempts().get(), p.max_elapsed(), p.seed()),
            (3, Some(5), 9)
        );
        assert_eq!(RetryPolicy::new(b, 3, None, 9).unwrap().max_elapsed(), None);
    }

    #[test]
    fn backoff_attempt_number_is_retries_already_scheduled() {
        let mut r = Retry::new(policy(5, None));
        r.start(0);
        assert_eq!(r.attempts(), 1);
        let got: [Decision; 5] = core::array::from_fn(|_| r.next(0, None));
        assert_eq!(
            got,
            [
                Decision::RetryAfter(100),
                Decision::RetryAfter(200),
                Decision::RetryAfter(400),
                Decision::RetryAfter(800),
                Decision::GiveUp(GiveUpReason::MaxAttempts),
            ]
        );
        assert_eq!(r.attempts(), 5);
        // start resets the count.
        r.start(10);
        assert_eq!(r.next(10, None), Decision::RetryAfter(100));
    }

    #[test]
    fn one_attempt_never_retries() {
        let mut r = Retry::new(policy(1, None));
        r.start(0);
        assert_eq!(r.next(0, None), Decision::GiveUp(GiveUpReason::MaxAttempts));
    }

    #[test]
    fn next_before_start_starts_at_now() {
        let mut r = Retry::new(policy(3, Some(150)));
        assert_eq!(r.next(1000, None), Decision::RetryAfter(100));
        assert_eq!(r.started_at(), 1000);
        assert_eq!(r.attempts(), 2);
    }

    #[test]
    fn server_retry_after_extends_but_never_shortens() {
        let mut r = Retry::new(policy(5, None));
        r.start(0);
        assert_eq!(r.next(0, Some(50)), Decision::RetryAfter(100));
        assert_eq!(r.next(0, Some(5000)), Decision::RetryAfter(5000));
        // The schedule continues from the backoff's own delay (400, not from 5000).
        assert_eq!(r.next(0, None), Decision::RetryAfter(400));
    }

    #[test]
    fn deadline_caps_delay_and_server_hint() {
        let mut r = Retry::new(policy(10, Some(1000)));
        r.start(500);
        // 500 + 100 <= 1500
        assert_eq!(r.next(500, None), Decision::RetryAfter(100));
        // 1300 + 200 = 1500: exactly at the deadline is allowed.
        assert_eq!(r.next(1300, None), Decision::RetryAfter(200));
        // A server hint past the deadline gives up.
        assert_eq!(
            r.next(1000, Some(501)),
            Decision::GiveUp(GiveUpReason::Deadline)
        );
        assert_eq!(r.attempts(), 3);
        // Backoff alone past the deadline: 1200 + 400 > 1500.
        assert_eq!(r.next(1200, None), Decision::GiveUp(GiveUpReason::Deadline));
    }

    #[test]
    fn extreme_times_do_not_overflow() {
        let mut r = Retry::new(policy(4, Some(u64::MAX - 1)));
        r.start(u64::MAX);
        assert_eq!(
            r.next(u64::MAX, Some(u64::MAX)),
            Decision::GiveUp(GiveUpReason::Deadline)
        );
        assert_eq!(
            r.next(u64::MAX, Some(u64::MAX - 1)),
            Decision::RetryAfter(u64::MAX - 1)
        );
        // now before started_at (clock went back): still defined.
        assert_eq!(r.next(0, None), Decision::RetryAfter(200));
        let mut r = Retry::new(policy(4, Some(10)));
        r.start(u64::MAX - 5);
        assert_eq!(
            r.next(u64::MAX, None),
            Decision::GiveUp(GiveUpReason::Deadline)
        );
    }

    fn run(policy: RetryPolicy, hints: &[Option<u64>]) -> [Option<Decision>; 16] {
        let mut r = Retry::new(policy);
        r.start(0);
        let mut out = [None; 16];
        for (slot, hint) in out.iter_mut().zip(hints) {
            *slot = Some(r.next(0, *hint));
        }
        out
    }

    fn jitter() -> impl Strategy<Value = Jitter> {
        prop_oneof![
            Just(Jitter::None),
            Just(Jitter::Full),
            Just(Jitter::Equal),
            Just(Jitter::Decorrelated),
            (1u8..=100).prop_map(|percent| Jitter::Proportional { percent }),
        ]
    }

    proptest! {
        #![proptest_config(crate::testing::proptest_config())]
        #[test]
        fn delays_stay_under_cap_or_hint_and_count_is_bounded(
            base in 1u64..1000,
            extra in 0u64..1_000_000,
            factor in 1000u32..4000,
            jitter in jitter(),
            max_attempts in 1u32..20,
            seed: u64,
            hints in proptest::collection::vec(proptest::option::of(0u64..2_000_000), 16),
        ) {
            let cap = base + extra;
            let b = Backoff::new(Schedule::Exponential { base, factor_milli: factor }, jitter, cap).unwrap();
            let p = RetryPolicy::new(b, max_attempts, None, seed).unwrap();
            let out = run(p, &hints);
            let mut retries = 0;
            for (d, hint) in out.iter().zip(&hints) {
                match d {
                    Some(Decision::RetryAfter(d)) => {
                        retries += 1;
                        prop_assert!(*d <= cap.max(hint.unwrap_or(0)));
                        prop_assert!(*d >= hint.unwrap_or(0));
                    }
                    Some(Decision::GiveUp(reason)) => prop_assert_eq!(*reason, GiveUpReason::MaxAttempts),
                    None => {}
                }
            }
            prop_assert_eq!(retries, (max_attempts - 1).min(16));
            // Same seed, same sequence.
            prop_assert_eq!(out, run(p, &hints));
        }

        #[test]
        fn never_schedules_past_the_deadline(
            max_elapsed in 1u64..5000,
            start: u64,
            steps in proptest::collection::vec((0u64..2000, proptest::option::of(0u64..3000)), 1..16),
        ) {
            let b = exp(Jitter::Full, 3000);
            let mut r = Retry::new(RetryPolicy::new(b, 50, Some(max_elapsed), 1).unwrap());
            r.start(start);
            let mut now = start;
            for (wait, hint) in steps {
                now = now.saturating_add(wait);
                if let Decision::RetryAfter(d) = r.next(now, hint) {
                    prop_assert!(u128::from(now) + u128::from(d) <= u128::from(start) + u128::from(max_elapsed));
                }
            }
        }
    }
}
