//! Retry: how many more attempts an operation gets, and how long to wait
//! before each one.
//!
//! A [`RetryPolicy`] is a [`Backoff`] plus two limits; a [`Retry`] is one
//! operation's progress through it. The host calls [`Retry::start`] before
//! the first attempt and [`Retry::next`] (or [`Retry::next_with_budget`])
//! after each failed one, then sleeps for the answer itself:
//!
//! ```text
//! k        = attempts made so far (1 after start, counting the first)
//! n        = k - 1                         retries already scheduled: the backoff's attempt number
//! if k >= max_attempts                     -> GiveUp(MaxAttempts)
//! d        = backoff.delay(n, prev, rng)   prev = previous backoff delay, 0 before the first retry
//! deadline = started_at + max_elapsed      (exact, 128-bit; none when max_elapsed is None)
//! if now + d > deadline                    -> GiveUp(Deadline)      the schedule's own delay is too late
//! if hint > cap or now + hint > deadline   -> GiveUp(WaitTooLong)   the advertised wait is longer than
//!                                                                   this retry may wait
//! delay    = max(d, hint)                  a hint is honoured, never shortened
//! [with a budget: failure recorded first; if !budget.try_retry() -> GiveUp(Budget)]
//! else       k += 1, prev = d              -> RetryAfter(delay)
//! ```
//!
//! `hint` is the wait someone else advertised: a server's `Retry-After`, or
//! a breaker's or bucket's `retry_after` when the retry is stacked over one.
//! `cap` is the backoff's cap, the longest this retry would ever sleep on its
//! own account.
//!
//! **WaitTooLong versus Deadline.** `Deadline` says the retry's *own*
//! schedule has run out of time: its next backoff delay would start the
//! attempt after the deadline. `WaitTooLong` says the schedule still had
//! room but *someone else* asked for a longer wait than this retry may make:
//! longer than its cap, or past its deadline. A retry with a 2 s cap over a
//! breaker that answers "retry after 30 s" gives up at once (WaitTooLong)
//! instead of sleeping 30 s per attempt; the caller sees the breaker's
//! rejection as the last failure, with its 30 s, and decides.
//!
//! `prev` is the backoff's own delay, not the hint-extended one, so a long
//! hint does not inflate later decorrelated delays.
//!
//! **Seeds.** The [`Rng`] is seeded from the policy and keeps running across
//! [`Retry::start`]s: the same seed and calls give the same delays. The core
//! cannot read entropy, so a door gives **each operation its own seed drawn
//! from the host's entropy** by default ([`RetryPolicy::with_seed`] per
//! operation, or one host-seeded [`Rng`] whose [`Rng::split`] seeds each
//! operation); an explicit fixed seed is for tests only. One seed shared by
//! every client would give every client the same "jittered" delays: the
//! thundering herd jitter exists to prevent.
//!
//! **Budget.** [`Retry::next_with_budget`] is the one decision a door calls
//! after each failed attempt when a retry budget ([`Budget`], or
//! [`SharedBudget`](crate::SharedBudget) through `&mut &shared`) guards the
//! backend; after a success the door calls the budget's `record_success`.
//! The rule is gRPC's (see `budget.rs`): every failed attempt takes a token,
//! first attempts and retries alike, and a retry is allowed while more than
//! half the tokens are left. The budget is asked (and a refusal counted in
//! its `throttled`) only when the retry would otherwise be scheduled, so a
//! `MaxAttempts`, `Deadline` or `WaitTooLong` give-up neither asks it nor
//! counts as throttled, and a `Budget` give-up leaves the attempt count
//! unchanged.

use core::num::NonZeroU32;

use crate::backoff::Backoff;
use crate::budget::Budget;
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

    /// The same policy with another jitter seed: what a door uses to give
    /// each operation its own seed from the host's entropy.
    #[must_use]
    pub const fn with_seed(self, seed: u64) -> Self {
        Self { seed, ..self }
    }
}

/// What a retry budget must answer for [`Retry::next_with_budget`]:
/// implemented by [`Budget`] and by `&`[`SharedBudget`](crate::SharedBudget).
pub trait RetryBudget {
    /// A failed attempt (first or retry) is counted.
    fn record_failure(&mut self);
    /// Whether a retry may be scheduled now; a refusal is counted as throttled.
    fn try_retry(&mut self) -> bool;
}

impl RetryBudget for Budget {
    fn record_failure(&mut self) {
        Budget::record_failure(self);
    }
    fn try_retry(&mut self) -> bool {
        Budget::try_retry(self).is_ok()
    }
}

/// A retry budget kept elsewhere (a server: `fusewire-store`'s Redis
/// script), whose answer a door fetches in one round trip before the core
/// decides. The door first runs the decision on a copy of its [`Retry`]
/// with `RemoteBudget::answering(true)` to learn whether the budget is
/// asked at all ([`RemoteBudget::asked`]); it then sends the failure (and,
/// when asked, the retry request) to the store and decides for real with
/// the store's answer. `record_failure` does nothing here: the store
/// counted it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemoteBudget {
    answer: bool,
    asked: bool,
}

impl RemoteBudget {
    /// A budget whose `try_retry` answers `answer`.
    pub const fn answering(answer: bool) -> Self {
        Self {
            answer,
            asked: false,
        }
    }

    /// Whether the decision asked `try_retry`.
    pub const fn asked(&self) -> bool {
        self.asked
    }
}

impl RetryBudget for RemoteBudget {
    fn record_failure(&mut self) {}

    fn try_retry(&mut self) -> bool {
        self.asked = true;
        self.answer
    }
}

/// Why a [`Retry`] stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum GiveUpReason {
    /// `max_attempts` attempts have been made.
    MaxAttempts = 0,
    /// The backoff's own next delay would begin the attempt after
    /// `started_at + max_elapsed`.
    Deadline = 1,
    /// The advertised wait (a server's or breaker's retry-after hint) is
    /// longer than this retry may wait: above the backoff's cap, or
    /// reaching past the deadline. The wait is the hint's owner's to
    /// report; this retry stops instead of sleeping it.
    WaitTooLong = 2,
    /// The retry budget refused: too many recent attempts failed.
    Budget = 3,
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

    /// Decides after a failed attempt, at `now`, given the advertised wait
    /// `hint` if there is one (a server's retry-after, a breaker's
    /// `retry_after`). See the module docs for the rule. Calling it before
    /// [`Retry::start`] starts the operation at `now`. A `GiveUp` changes
    /// nothing but the generator, so the host may ask again later (a
    /// `WaitTooLong` give-up may become a retry with a shorter hint;
    /// `MaxAttempts` is final).
    pub fn next(&mut self, now: u64, hint: Option<u64>) -> Decision {
        match self.decide(now, hint) {
            Ok((delay, d)) => self.commit(delay, d),
            Err(why) => Decision::GiveUp(why),
        }
    }

    /// [`Retry::next`] under a retry budget: the one decision every door
    /// calls after each failed attempt when a budget guards the backend.
    /// Records the failure in `budget`, then decides as `next`; a retry that
    /// would be scheduled is first allowed by `budget.try_retry()`, else
    /// `GiveUp(Budget)` with nothing else changed. After a success the
    /// door calls the budget's `record_success`.
    pub fn next_with_budget<B: RetryBudget + ?Sized>(
        &mut self,
        now: u64,
        hint: Option<u64>,
        budget: &mut B,
    ) -> Decision {
        budget.record_failure();
        match self.decide(now, hint) {
            Ok((delay, d)) => {
                if budget.try_retry() {
                    self.commit(delay, d)
                } else {
                    Decision::GiveUp(GiveUpReason::Budget)
                }
            }
            Err(why) => Decision::GiveUp(why),
        }
    }

    /// The rule up to the budget: `Ok((delay, backoff delay))` or why not.
    #[inline]
    fn decide(&mut self, now: u64, hint: Option<u64>) -> Result<(u64, u64), GiveUpReason> {
        if self.attempts == 0 {
            self.start(now);
        }
        if self.attempts >= self.policy.max_attempts.get() {
            return Err(GiveUpReason::MaxAttempts);
        }
        let n = self.attempts - 1;
        let d = self.policy.backoff.delay(n, self.prev_delay, &mut self.rng);
        // In u128 so that neither side saturates into a false "in time".
        let deadline = u128::from(self.started_at) + u128::from(self.policy.max_elapsed);
        let bounded = self.policy.max_elapsed != u64::MAX;
        if bounded && u128::from(now) + u128::from(d) > deadline {
            return Err(GiveUpReason::Deadline);
        }
        match hint {
            Some(h) if h > d => {
                if h > self.policy.backoff.cap()
                    || (bounded && u128::from(now) + u128::from(h) > deadline)
                {
                    return Err(GiveUpReason::WaitTooLong);
                }
                Ok((h, d))
            }
            _ => Ok((d, d)),
        }
    }

    fn commit(&mut self, delay: u64, d: u64) -> Decision {
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
        // A server hint past the deadline: the wait is too long, not the schedule.
        assert_eq!(
            r.next(1000, Some(501)),
            Decision::GiveUp(GiveUpReason::WaitTooLong)
        );
        assert_eq!(r.attempts(), 3);
        // Backoff alone past the deadline: 1200 + 400 > 1500.
        assert_eq!(r.next(1200, None), Decision::GiveUp(GiveUpReason::Deadline));
    }

    #[test]
    fn extreme_times_do_not_overflow() {
        let b = exp(Jitter::None, u64::MAX);
        let mut r = Retry::new(RetryPolicy::new(b, 4, Some(u64::MAX - 1), 7).unwrap());
        r.start(u64::MAX);
        assert_eq!(
            r.next(u64::MAX, Some(u64::MAX)),
            Decision::GiveUp(GiveUpReason::WaitTooLong)
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

    #[test]
    fn a_hint_longer_than_the_cap_gives_up_at_once() {
        // cap 2 s, 3 attempts, over a breaker that says "retry after 30 s":
        // no 90 s of sleeping, the first decision gives up.
        let b = Backoff::new(
            Schedule::Exponential {
                base: 100,
                factor_milli: 2000,
            },
            Jitter::Full,
            2_000,
        )
        .unwrap();
        let mut r = Retry::new(RetryPolicy::new(b, 3, None, 1).unwrap());
        r.start(0);
        let before = r;
        assert_eq!(
            r.next(0, Some(30_000)),
            Decision::GiveUp(GiveUpReason::WaitTooLong)
        );
        assert_eq!(r.attempts(), 1);
        // A hint at the cap is honoured; the schedule was not advanced by the give-up.
        assert_eq!(r.next(0, Some(2_000)), Decision::RetryAfter(2_000));
        assert_eq!((r.attempts(), r.prev_delay <= 100), (2, true));
        assert_ne!(r.rng, before.rng);
    }

    #[test]
    fn deadline_is_the_schedule_wait_too_long_is_the_hint() {
        let mut r = Retry::new(policy(10, Some(1000)));
        r.start(0);
        // Own delay 100 fits (900 + 100 = 1000); the hint 150 does not.
        assert_eq!(
            r.next(900, Some(150)),
            Decision::GiveUp(GiveUpReason::WaitTooLong)
        );
        // Own delay 100 does not fit at 901, whatever the hint.
        assert_eq!(
            r.next(901, Some(150)),
            Decision::GiveUp(GiveUpReason::Deadline)
        );
        assert_eq!(r.next(901, None), Decision::GiveUp(GiveUpReason::Deadline));
    }

    #[test]
    fn with_budget_records_every_failure_and_asks_only_to_schedule() {
        let mut budget = Budget::new(4, 1000).unwrap(); // retry while tokens > 2
        let mut r = Retry::new(policy(3, None));
        r.start(0);
        // Failure 1: 3 tokens left, retry allowed.
        assert_eq!(
            r.next_with_budget(0, None, &mut budget),
            Decision::RetryAfter(100)
        );
        assert_eq!(budget.tokens_milli(), 3000);
        // Failure 2: 2 tokens left, a retry is not allowed: budget, not counted as an attempt.
        assert_eq!(
            r.next_with_budget(0, None, &mut budget),
            Decision::GiveUp(GiveUpReason::Budget)
        );
        assert_eq!(
            (budget.tokens_milli(), budget.throttled(), r.attempts()),
            (2000, 1, 2)
        );
        // Successes refill it; the same operation may go on.
        budget.record_success();
        budget.record_success();
        assert_eq!(
            r.next_with_budget(0, None, &mut budget),
            Decision::RetryAfter(200)
        );
        // MaxAttempts (and the other give-ups) record the failure but do not ask.
        assert_eq!(
            r.next_with_budget(0, None, &mut budget),
            Decision::GiveUp(GiveUpReason::MaxAttempts)
        );
        assert_eq!((budget.tokens_milli(), budget.throttled()), (2000, 1));
        let mut r = Retry::new(policy(3, None));
        assert_eq!(
            r.next_with_budget(0, Some(1_000_000), &mut budget),
            Decision::GiveUp(GiveUpReason::WaitTooLong)
        );
        assert_eq!((budget.tokens_milli(), budget.throttled()), (1000, 1));
    }

    #[test]
    fn a_remote_budget_planned_on_a_copy_decides_as_a_local_one() {
        // What a door with its budget in a store does: plan on a copy, ask
        // the store (failure counted, retry asked only when the plan asked),
        // decide with the answer. Same decisions and counts as in-process.
        let mut local = Budget::new(4, 1000).unwrap();
        let mut store = Budget::new(4, 1000).unwrap();
        let (mut a, mut b) = (Retry::new(policy(4, None)), Retry::new(policy(4, None)));
        a.start(0);
        b.start(0);
        for (now, hint) in [
            (0, None),
            (5, None),
            (6, Some(1_000_000)),
            (7, None),
            (8, None),
        ] {
            let want = a.next_with_budget(now, hint, &mut local);
            let mut plan = RemoteBudget::answering(true);
            let mut copy = b;
            let _ = copy.next_with_budget(now, hint, &mut plan);
            store.record_failure();
            let answer = plan.asked() && store.try_retry().is_ok();
            let mut fixed = RemoteBudget::answering(answer);
            assert_eq!(b.next_with_budget(now, hint, &mut fixed), want);
            assert_eq!(fixed.asked(), plan.asked());
            assert_eq!(a, b);
            assert_eq!(
                (store.tokens_milli(), store.throttled()),
                (local.tokens_milli(), local.throttled())
            );
        }
        // the run went through a throttled refusal and a give-up that did not ask
        assert_eq!((local.throttled(), local.tokens_milli()), (3, 0));
    }

    #[test]
    fn with_budget_equals_next_while_the_budget_allows() {
        let mut plenty = Budget::new(1000, 1000).unwrap();
        let (mut a, mut b) = (
            Retry::new(policy(6, Some(5000))),
            Retry::new(policy(6, Some(5000))),
        );
        for (now, hint) in [
            (0, None),
            (10, Some(300)),
            (20, Some(20_000)),
            (30, None),
            (40, None),
        ] {
            assert_eq!(
                a.next_with_budget(now, hint, &mut plenty),
                b.next(now, hint)
            );
            assert_eq!(a, b);
        }
    }

    #[test]
    fn with_seed_gives_each_operation_its_own_jitter() {
        let p = RetryPolicy::new(exp(Jitter::Full, 10_000), 5, None, 0).unwrap();
        let mut host = crate::rng::Rng::new(0xE17_7209);
        let first = |p: RetryPolicy| Retry::new(p).next(0, None);
        let (a, b) = (p.with_seed(host.next_u64()), p.with_seed(host.next_u64()));
        assert_eq!((a.seed(), a.max_attempts()), (a.seed(), p.max_attempts()));
        assert_ne!(first(a), first(b));
        assert_eq!(first(a), first(a));
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
                        prop_assert!(*d <= cap);
                        prop_assert!(*d >= hint.unwrap_or(0));
                    }
                    Some(Decision::GiveUp(GiveUpReason::WaitTooLong)) => {
                        prop_assert!(hint.unwrap_or(0) > cap);
                    }
                    Some(Decision::GiveUp(reason)) => prop_assert_eq!(*reason, GiveUpReason::MaxAttempts),
                    None => {}
                }
            }
            let too_long = hints
                .iter()
                .take((max_attempts - 1 + 16) as usize)
                .filter(|h| h.unwrap_or(0) > cap)
                .count();
            // Every hint above the cap is a give-up that schedules nothing.
            prop_assert!(retries <= (max_attempts - 1).min(16));
            if too_long == 0 {
                prop_assert_eq!(retries, (max_attempts - 1).min(16));
            }
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
