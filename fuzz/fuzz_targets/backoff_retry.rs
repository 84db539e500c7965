//! Backoff schedules and retry: every delay within its jitter range and the
//! cap, one generator step per jittered delay, and a retry that counts its
//! attempts, honours hints up to its cap, gives up when an advertised wait is
//! longer than it may wait (WaitTooLong), never schedules past its deadline,
//! and under a budget records every failure and asks only to schedule.
#![no_main]

use arbitrary::Arbitrary;
use fusewire::{
    Backoff, Budget, Decision, GiveUpReason, Jitter, Problem, Retry, RetryPolicy, Rng, Schedule,
};
use fusewire_fuzz::{check_config, ArbBackoff, Num, Tick};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Op {
    Start(Tick),
    Next(Tick, Option<Num>),
    NextWithBudget(Tick, Option<Num>),
    Success,
}

#[derive(Arbitrary, Debug)]
struct Input {
    backoff: ArbBackoff,
    delays: Vec<(Num, Num, u64)>,
    max_attempts: Num,
    max_elapsed: Option<Num>,
    seed: u64,
    budget_tokens: u8,
    budget_ratio: u16,
    ops: Vec<Op>,
}

/// The raw schedule from the documented formula, computed step by step.
fn raw(b: &Backoff, n: u32) -> u64 {
    let cap = b.cap();
    match b.schedule() {
        Schedule::Constant { delay } => delay.min(cap),
        Schedule::Linear { base, step } => {
            (u128::from(base) + u128::from(step) * u128::from(n)).min(u128::from(cap)) as u64
        }
        Schedule::Exponential { base, factor_milli } => {
            let limit = u128::from(cap) << 16;
            let mut v = u128::from(base) << 16;
            for _ in 0..n {
                if v >= limit || factor_milli == 1000 {
                    break;
                }
                v = v * u128::from(factor_milli) / 1000;
            }
            if v >= limit {
                cap
            } else {
                (v >> 16) as u64
            }
        }
    }
}

fn check_delay(b: &Backoff, n: u32, prev: u64, rng: &mut Rng) -> u64 {
    let cap = b.cap();
    let c = b.raw(n);
    if n <= 4096 {
        assert_eq!(c, raw(b, n), "raw({n})");
    }
    assert!(c <= cap);
    if n < u32::MAX {
        assert!(b.raw(n + 1) >= c, "schedule shrank at {n}");
    }
    let mut stepped = *rng;
    let before = *rng;
    let d = b.delay(n, prev, rng);
    assert!(d <= cap, "delay {d} above cap {cap}");
    // The range drawn from, per the module docs: (lo, hi) inclusive.
    let (lo, hi) = match b.jitter() {
        Jitter::None => {
            assert_eq!(d, c);
            assert_eq!(*rng, before, "no jitter draws nothing");
            return d;
        }
        Jitter::Full => (0, c),
        Jitter::Equal => (c / 2, c),
        Jitter::Proportional { percent } => {
            let spread = (u128::from(c) * u128::from(percent) / 100) as u64;
            (c - spread, c.saturating_add(spread))
        }
        Jitter::Decorrelated => {
            let base = b.schedule().base();
            let p = if prev == 0 { base } else { prev };
            (base, p.saturating_mul(3).max(base))
        }
    };
    assert!(
        d >= lo.min(cap) && d <= hi,
        "{:?}: {d} outside [{lo}, {hi}]",
        b.jitter()
    );
    // One step per jittered delay, even from a one-value range
    // (regressions.md #1, fixed).
    stepped.next_u64();
    assert_eq!(
        *rng, stepped,
        "a jittered delay takes exactly one generator step"
    );
    d
}

fuzz_target!(|input: Input| {
    let Some(backoff) = input.backoff.build() else {
        return;
    };
    let mut rng = Rng::new(input.seed);
    for &(n, prev, _) in &input.delays {
        check_delay(&backoff, n.get32(), prev.get(), &mut rng);
    }
    // Same seed, same sequence.
    let (mut r1, mut r2) = (Rng::new(input.seed), Rng::new(input.seed));
    for &(n, prev, _) in input.delays.iter().take(8) {
        assert_eq!(
            backoff.delay(n.get32(), prev.get(), &mut r1),
            backoff.delay(n.get32(), prev.get(), &mut r2)
        );
    }

    let max_attempts = input.max_attempts.get32();
    let max_elapsed = input.max_elapsed.map(Num::get);
    let want = if max_attempts == 0 {
        Some(("max_attempts", Problem::Zero))
    } else if max_elapsed == Some(0) {
        Some(("max_elapsed", Problem::Zero))
    } else {
        None
    };
    let Some(policy) = check_config(
        RetryPolicy::new(backoff, max_attempts, max_elapsed, input.seed),
        want,
    ) else {
        return;
    };
    let deadline = max_elapsed.filter(|&e| e != u64::MAX);
    assert_eq!(policy.max_elapsed(), deadline);
    let mut retry = Retry::new(policy);
    // The budget and its model (gRPC's rule, budget.rs): tokens in thousandths.
    let max_tokens = u32::from(input.budget_tokens.max(1));
    let ratio = u32::from(input.budget_ratio.max(1)).min(max_tokens * 1000);
    let mut budget = Budget::new(max_tokens, ratio).unwrap();
    let (mut tokens, mut throttled) = (u64::from(max_tokens) * 1000, 0u64);
    // The model: attempts, start, previous backoff delay, generator.
    let (mut attempts, mut started, mut prev, mut rng) = (0u32, 0u64, 0u64, Rng::new(input.seed));
    let mut now = 0u64;
    for op in input.ops {
        let (tick, hint, with_budget) = match op {
            Op::Start(tick) => {
                now = tick.apply(now);
                retry.start(now);
                (attempts, started, prev) = (1, now, 0);
                continue;
            }
            Op::Success => {
                budget.record_success();
                tokens = (tokens + u64::from(ratio)).min(u64::from(max_tokens) * 1000);
                assert_eq!(budget.tokens_milli(), tokens);
                continue;
            }
            Op::Next(tick, hint) => (tick, hint, false),
            Op::NextWithBudget(tick, hint) => (tick, hint, true),
        };
        now = tick.apply(now);
        let hint = hint.map(Num::get);
        if attempts == 0 {
            (attempts, started, prev) = (1, now, 0);
        }
        let got = if with_budget {
            tokens = tokens.saturating_sub(1000);
            retry.next_with_budget(now, hint, &mut budget)
        } else {
            retry.next(now, hint)
        };
        if attempts >= max_attempts {
            assert_eq!(got, Decision::GiveUp(GiveUpReason::MaxAttempts));
        } else {
            let d = check_delay(&backoff, attempts - 1, prev, &mut rng);
            let past = |wait: u64| {
                deadline.is_some_and(|e| {
                    u128::from(now) + u128::from(wait) > u128::from(started) + u128::from(e)
                })
            };
            let h = hint.unwrap_or(0);
            if past(d) {
                assert_eq!(got, Decision::GiveUp(GiveUpReason::Deadline));
            } else if h > d && (h > backoff.cap() || past(h)) {
                assert_eq!(got, Decision::GiveUp(GiveUpReason::WaitTooLong));
            } else if with_budget && tokens * 2 <= u64::from(max_tokens) * 1000 {
                assert_eq!(got, Decision::GiveUp(GiveUpReason::Budget));
                throttled += 1;
            } else {
                let delay = d.max(h);
                assert_eq!(got, Decision::RetryAfter(delay));
                assert!(delay <= backoff.cap(), "slept longer than the cap");
                assert!(!past(delay), "scheduled past the deadline");
                attempts += 1;
                prev = d;
            }
        }
        assert_eq!(retry.attempts(), attempts);
        assert!(attempts <= max_attempts);
        assert_eq!(retry.started_at(), started);
        assert_eq!(budget.tokens_milli(), tokens);
        assert_eq!(budget.throttled(), throttled);
    }
});
