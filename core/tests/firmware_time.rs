//! Firmware time: a `u32` millisecond tick that wraps every 49.7 days,
//! passed through a `TickWidener`, across the wrap, for every policy that
//! keeps time. And the stack the Python README shows: a retry over a breaker.

use std::num::NonZeroU32;

use fusewire::{
    Breaker, BreakerConfig, Bucket, Bulkhead, CountWindow, Decision, Denied, GiveUpReason, Jitter,
    Outcome, Priority, Rate, ReleaseError, Retry, RetryPolicy, Schedule, State, TickUnit,
    TickWidener, TimeWindow,
};

/// Raw ticks `ms` milliseconds after `start`, as the hardware counter shows them.
fn raw(start: u32, ms: u32) -> u32 {
    start.wrapping_add(ms)
}

const BEFORE_WRAP: u32 = u32::MAX - 499; // 500 ms before the counter wraps

#[test]
fn a_breaker_opened_just_before_the_wrap_lets_probes_through_after_it() {
    let mut time = TickWidener::new();
    let mut b: Breaker<CountWindow<16>> =
        Breaker::new(BreakerConfig::new(TickUnit::MILLIS)).unwrap();
    let now = time.widen(BEFORE_WRAP);
    assert!(b.trip(now).is_some());
    let rejected = b.try_acquire(time.widen(raw(BEFORE_WRAP, 10))).unwrap_err();
    // Open for the default 1000 ticks, from 500 ms before the wrap.
    assert_eq!(rejected.retry_after, 990);
    // 999 ms later the raw counter reads 499: still open, 1 ms to go.
    let after = time.widen(raw(BEFORE_WRAP, 999));
    assert!(raw(BEFORE_WRAP, 999) < BEFORE_WRAP, "the counter wrapped");
    assert_eq!(b.try_acquire(after).unwrap_err().retry_after, 1);
    let probe = b.try_acquire(time.widen(raw(BEFORE_WRAP, 1000))).unwrap();
    assert!(probe.is_probe());
    assert_eq!(b.state(), State::HalfOpen);
    b.record(
        probe,
        Outcome::Success,
        5,
        time.widen(raw(BEFORE_WRAP, 1005)),
    );
    assert_eq!(b.state(), State::Closed);
}

#[test]
fn a_drained_bucket_says_the_right_wait_across_the_wrap() {
    let mut time = TickWidener::new();
    // 2 tokens, one per second.
    let mut b = Bucket::new(NonZeroU32::new(2).unwrap(), Rate::new(1, 1000).unwrap());
    b.try_acquire(2, time.widen(BEFORE_WRAP)).unwrap();
    // 600 ms later the counter has wrapped: 400 ms to the next token, not 49.7 days.
    let now = time.widen(raw(BEFORE_WRAP, 600));
    assert_eq!(b.try_acquire_one(now), Err(Denied { retry_after: 400 }));
    assert!(b
        .try_acquire_one(time.widen(raw(BEFORE_WRAP, 1000)))
        .is_ok());
    assert_eq!(b.available(time.widen(raw(BEFORE_WRAP, 3000))), 2);
}

#[test]
fn a_time_window_forgets_failures_from_before_the_wrap() {
    let mut time = TickWidener::new();
    let config = BreakerConfig {
        min_calls: 100,
        ..BreakerConfig::new(TickUnit::MILLIS)
    };
    let w = TimeWindow::<64, 0>::new(1000, 10).unwrap();
    let mut b = Breaker::with_window(config, w).unwrap();
    for i in 0..5 {
        let now = time.widen(raw(BEFORE_WRAP, i * 50));
        let p = b.try_acquire(now).unwrap();
        b.record(p, Outcome::Failure, 1, now);
    }
    assert_eq!(
        b.snapshot(time.widen(raw(BEFORE_WRAP, 300)))
            .counts
            .failures,
        5
    );
    // A span after the last failure, well past the wrap: nothing left.
    let later = time.widen(raw(BEFORE_WRAP, 1300));
    assert_eq!(b.snapshot(later).counts.failures, 0);
    let p = b.try_acquire(later).unwrap();
    b.record(p, Outcome::Success, 1, later);
    assert_eq!(b.snapshot(later).counts.successes, 1);
}

#[test]
fn a_bulkhead_lease_runs_across_the_wrap() {
    let mut time = TickWidener::new();
    let mut b = Bulkhead::unreserved(NonZeroU32::new(1).unwrap(), TickUnit::MILLIS)
        .with_lease(1000)
        .unwrap();
    let lost = b
        .try_acquire(Priority::Normal, time.widen(BEFORE_WRAP))
        .unwrap();
    assert!(b
        .try_acquire(Priority::Normal, time.widen(raw(BEFORE_WRAP, 400)))
        .is_err());
    // At most one lease later (the counter wrapped meanwhile) it is free again.
    let now = time.widen(raw(BEFORE_WRAP, 1000));
    let fresh = b.try_acquire(Priority::Normal, now).unwrap();
    assert_eq!(b.release(lost, now), Err(ReleaseError::Expired));
    b.release(fresh, now).unwrap();
    assert_eq!((b.in_use(), b.reclaimed()), (0, 1));
}

#[test]
fn a_retry_over_an_open_breaker_gives_up_instead_of_sleeping_its_wait() {
    // Retry: cap 2 s, 3 attempts. Breaker: open for 30 s. Milliseconds.
    let config = BreakerConfig {
        open_backoff: fusewire::Backoff::constant(30_000).unwrap(),
        ..BreakerConfig::new(TickUnit::MILLIS)
    };
    let mut breaker: Breaker<CountWindow<16>> = Breaker::new(config).unwrap();
    let backoff = fusewire::Backoff::new(
        Schedule::Exponential {
            base: 100,
            factor_milli: 2000,
        },
        Jitter::Full,
        2_000,
    )
    .unwrap();
    let mut retry = Retry::new(RetryPolicy::new(backoff, 3, None, 1).unwrap());
    breaker.trip(0);
    let mut now = 0;
    retry.start(now);
    let mut slept = 0;
    let reason = loop {
        let hint = match breaker.try_acquire(now) {
            Ok(_) => unreachable!("the breaker is open"),
            Err(rejected) => rejected.retry_after,
        };
        match retry.next(now, Some(hint)) {
            Decision::RetryAfter(d) => {
                slept += d;
                now += d;
            }
            Decision::GiveUp(why) => break why,
        }
    };
    assert_eq!(
        (reason, slept, retry.attempts()),
        (GiveUpReason::WaitTooLong, 0, 1)
    );
}
